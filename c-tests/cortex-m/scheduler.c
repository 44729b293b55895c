/* cem-ctx from C on a Cortex-M under qemu: a round-robin scheduler over
 * contexts made with cem_makecontext_with_arg, each doing verified work and
 * handing values back through cem_swapcontext_value; the checked maker's
 * error codes; and FP values live across switches on hard-float builds.
 * Exit status 0 only if every check passed. */
#include <stdint.h>

#include "cem_ctx.h"
#include "semihost.h"

#define TASKS 6
#define ROUNDS 50

static cem_context_t sched_ctx, task_ctx[TASKS];
static _Alignas(16) unsigned char stacks[TASKS][1024];
static unsigned failures;

static void check(const char *what, int ok) {
    sh_puts(ok ? "ok   " : "FAIL ");
    sh_puts(what);
    sh_puts("\n");
    if (!ok) failures++;
}

/* Task i yields i*1000 + k for k = 0.. (a value the scheduler can verify),
 * accumulating a float sum that must survive every switch. */
static void task(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    float fsum = 0.0f; /* kept in s16-s31 across the switch at -O2 (callee-saved) */
    for (uintptr_t k = 0;; k++) {
        fsum += 0.5f;
        uintptr_t reply = (uintptr_t)cem_swapcontext_value(&task_ctx[id], &sched_ctx,
                                                           (void *)(id * 1000 + k));
        if (reply != k + 1 || fsum != 0.5f * (float)(k + 1)) {
            sh_puts("task saw a wrong reply or lost its float\n");
            sh_exit(1);
        }
    }
}

int main(void) {
    sh_puts("cem-ctx from C (arm-none-eabi-gcc), Cortex-M\n");
    int rc = cem_makecontext_checked(&task_ctx[0], stacks[0], 16, (void (*)(void))0, 0);
    check("NULL func -> CEM_ERR_NULL_FUNCTION", rc == CEM_ERR_NULL_FUNCTION);
    rc = cem_makecontext_with_arg(&task_ctx[0], stacks[0], 64, task, 0, 0);
    check("64-byte stack -> CEM_ERR_STACK_TOO_SMALL", rc == CEM_ERR_STACK_TOO_SMALL);
    int made = 1;
    for (uintptr_t i = 0; i < TASKS; i++)
        made &= cem_makecontext_with_arg(&task_ctx[i], stacks[i], sizeof stacks[i], task,
                                         (void *)i, 0) == CEM_OK;
    check("cem_makecontext_with_arg for every task", made);

    unsigned long switches = 0;
    int values_ok = 1;
    for (uintptr_t k = 0; k < ROUNDS; k++) {
        for (uintptr_t i = 0; i < TASKS; i++) {
            /* First resume starts the task (value ignored); later ones answer k. */
            uintptr_t v = (uintptr_t)cem_swapcontext_value(&sched_ctx, &task_ctx[i], (void *)k);
            values_ok &= v == i * 1000 + k;
            switches += 2;
        }
    }
    sh_puts("switches: ");
    sh_putu(switches);
    sh_puts("\n");
    check("every task yielded the expected values", values_ok);
    uintptr_t sp = CEM_CONTEXT_GET_SP(&task_ctx[3]);
    check("CEM_CONTEXT_GET_SP inside the task's stack",
          sp > (uintptr_t)stacks[3] && sp < (uintptr_t)stacks[3] + sizeof stacks[3]);
    if (failures == 0) sh_puts("all checks passed\n");
    return failures == 0 ? 0 : 1;
}
