/*
 * The main job: a round-robin scheduler running many coroutines on
 * libcem_ctx.a, each doing real work between yields and verifying it, timed
 * against the same scheduler on the platform's own switcher in the same run:
 * glibc's makecontext/swapcontext, or fibers (SwitchToFiber) on Windows.
 *
 *   scheduler [COROUTINES [NUMBERS_PER_COROUTINE]]     (defaults: 10000 100)
 *
 * Coroutine i tests the numbers [i*N, (i+1)*N) for primality by trial
 * division, yielding after each number; its count is checked against a sieve.
 * The same work is also timed without coroutines, so the switch overhead can
 * be reported on its own. Each variant runs RUNS times, interleaved; medians
 * are printed. Exit status 0 only if every count is right on both backends.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cem_ctx.h"

#define STACK_SIZE (16 * 1024)
#define RUNS 3

/* ---- the platform's own switcher: the baseline ---- */
#ifdef _WIN32
#include <malloc.h>
#include <windows.h>
#define BASELINE "Windows fibers"
typedef void *baseline_ctx;
#else
#include <time.h>
#include <ucontext.h>
#define BASELINE "glibc swapcontext"
typedef ucontext_t baseline_ctx;
#endif

enum backend { CEM, BASE };

struct task {
    union {
        cem_context_t cem;
        baseline_ctx base;
    } ctx;
    uint32_t first, count;
    uint32_t primes;
    int done;
};

static enum backend backend;
static struct task *tasks;
static struct task *current;
static cem_context_t sched_cem;
static baseline_ctx sched_base;
static uint64_t switches;

static void task_main(void);

#ifdef _WIN32
static void base_yield(void) { SwitchToFiber(sched_base); }
static void base_resume(struct task *t) { SwitchToFiber(t->ctx.base); }
static void WINAPI fiber_entry(void *arg) {
    (void)arg;
    task_main();
}
static void make_base_context(struct task *t, unsigned char *stack) {
    (void)stack; /* fibers allocate their own stacks */
    t->ctx.base = CreateFiberEx(STACK_SIZE, STACK_SIZE, 0, fiber_entry, NULL);
    if (!t->ctx.base) {
        fprintf(stderr, "CreateFiberEx failed\n");
        exit(1);
    }
}
static void free_base_context(struct task *t) { DeleteFiber(t->ctx.base); }
static void base_init(void) {
    sched_base = ConvertThreadToFiber(NULL);
    if (!sched_base) {
        fprintf(stderr, "ConvertThreadToFiber failed\n");
        exit(1);
    }
}
static double now_ns(void) {
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e9 / (double)f.QuadPart;
}
static void *alloc_stacks(size_t bytes) { return _aligned_malloc(bytes, 16); }
static void free_stacks(void *p) { _aligned_free(p); }
#else
static void base_yield(void) { swapcontext(&current->ctx.base, &sched_base); }
static void base_resume(struct task *t) { swapcontext(&sched_base, &t->ctx.base); }
/* getcontext returns twice, so it gets a function of its own: no local of
 * the scheduler loop can be clobbered by the second return. */
static void make_base_context(struct task *t, unsigned char *stack) {
    getcontext(&t->ctx.base);
    t->ctx.base.uc_stack.ss_sp = stack;
    t->ctx.base.uc_stack.ss_size = STACK_SIZE;
    t->ctx.base.uc_link = NULL;
    makecontext(&t->ctx.base, task_main, 0);
}
static void free_base_context(struct task *t) { (void)t; }
static void base_init(void) {}
static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
static void *alloc_stacks(size_t bytes) { return aligned_alloc(16, bytes); }
static void free_stacks(void *p) { free(p); }
#endif

static void yield(void) {
    if (backend == CEM)
        cem_swapcontext(&current->ctx.cem, &sched_cem);
    else
        base_yield();
}

static int is_prime(uint32_t n) {
    if (n < 2) return 0;
    for (uint32_t d = 2; d * d <= n; d++)
        if (n % d == 0) return 0;
    return 1;
}

/* Entry point of every task: reads which task it is from the scheduler. */
static void task_main(void) {
    struct task *self = current;
    for (uint32_t k = 0; k < self->count; k++) {
        self->primes += (uint32_t)is_prime(self->first + k);
        yield();
    }
    self->done = 1;
    for (;;) yield(); /* never resumed again */
}

/* The same work in a plain loop: total ns, or -1 on a wrong count. */
static double run_direct(uint32_t ntasks, uint32_t per_task, const uint32_t *expected) {
    double start = now_ns();
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < ntasks; i++) {
        uint32_t primes = 0;
        for (uint32_t k = 0; k < per_task; k++) primes += (uint32_t)is_prime(i * per_task + k);
        wrong += primes != expected[i];
    }
    double elapsed = now_ns() - start;
    return wrong ? -1 : elapsed;
}

/* Runs all tasks to completion on one backend; total ns, or -1 on a wrong count. */
static double run(enum backend which, unsigned char *stacks, uint32_t ntasks, uint32_t per_task,
                  const uint32_t *expected) {
    backend = which;
    switches = 0;
    for (uint32_t i = 0; i < ntasks; i++) {
        struct task *t = &tasks[i];
        memset(t, 0, sizeof *t);
        t->first = i * per_task;
        t->count = per_task;
        unsigned char *stack = stacks + (size_t)i * STACK_SIZE;
        if (which == CEM) {
            int rc = cem_makecontext_checked(&t->ctx.cem, stack, STACK_SIZE, task_main, NULL);
            if (rc != CEM_OK) {
                fprintf(stderr, "cem_makecontext_checked: %s\n", cem_strerror(rc));
                exit(1);
            }
        } else {
            make_base_context(t, stack);
        }
    }
    double start = now_ns();
    uint32_t live = ntasks;
    while (live > 0) {
        live = 0;
        for (uint32_t i = 0; i < ntasks; i++) {
            struct task *t = &tasks[i];
            if (t->done) continue;
            current = t;
            if (which == CEM)
                cem_swapcontext(&sched_cem, &t->ctx.cem);
            else
                base_resume(t);
            switches += 2;
            live += !t->done;
        }
    }
    double elapsed = now_ns() - start;
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < ntasks; i++) {
        wrong += tasks[i].primes != expected[i];
        if (which == BASE) free_base_context(&tasks[i]);
    }
    if (wrong) {
        fprintf(stderr, "%s: %u of %u coroutines computed a wrong prime count\n",
                which == CEM ? "cem-ctx" : BASELINE, wrong, ntasks);
        return -1;
    }
    return elapsed;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv) {
    uint32_t ntasks = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 10000;
    uint32_t per_task = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 100;
    if (ntasks == 0 || per_task == 0 || (uint64_t)ntasks * per_task > UINT32_MAX / 2) {
        fprintf(stderr, "usage: %s [COROUTINES [NUMBERS_PER_COROUTINE]]\n", argv[0]);
        return 2;
    }
    uint32_t limit = ntasks * per_task;

    /* Reference answer from a sieve, computed without coroutines. */
    unsigned char *composite = calloc(limit + 1, 1);
    uint32_t *expected = calloc(ntasks, sizeof *expected);
    tasks = calloc(ntasks, sizeof *tasks);
    unsigned char *stacks = alloc_stacks((size_t)ntasks * STACK_SIZE);
    if (!composite || !expected || !tasks || !stacks) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    composite[0] = composite[1] = 1;
    for (uint64_t p = 2; p * p <= limit; p++)
        if (!composite[p])
            for (uint64_t m = p * p; m <= limit; m += p) composite[m] = 1;
    uint64_t total_primes = 0;
    for (uint32_t n = 0; n < limit; n++) {
        expected[n / per_task] += !composite[n];
        total_primes += !composite[n];
    }
    base_init();

    double direct[RUNS], cem[RUNS], base[RUNS];
    for (int r = 0; r < RUNS; r++) {
        direct[r] = run_direct(ntasks, per_task, expected);
        cem[r] = run(CEM, stacks, ntasks, per_task, expected);
        base[r] = run(BASE, stacks, ntasks, per_task, expected);
        if (direct[r] < 0 || cem[r] < 0 || base[r] < 0) return 1;
    }
    double n = (double)switches; /* identical for both backends: 2 per resume */
    double direct_ns = median(direct, RUNS), cem_ns = median(cem, RUNS), base_ns = median(base, RUNS);
    double cem_over = (cem_ns - direct_ns) / n, base_over = (base_ns - direct_ns) / n;

    printf("coroutines:        %u (stacks of %d KiB, caller-supplied), round robin\n", ntasks,
           STACK_SIZE / 1024);
    printf("work:              primality of %u numbers, %llu primes, every count verified\n", limit,
           (unsigned long long)total_primes);
    printf("switches:          %llu per run (median of %d runs)\n", (unsigned long long)switches, RUNS);
    printf("cem-ctx:           %8.2f ns per switch with work, %8.2f ns switch overhead\n", cem_ns / n,
           cem_over);
    printf("%-18s %8.2f ns per switch with work, %8.2f ns switch overhead (same run)\n", BASELINE ":",
           base_ns / n, base_over);
    printf("work alone:        %8.2f ns per step\n", direct_ns / n);
    printf("ratio:             %.1fx less switch overhead than %s\n",
           cem_over > 0 ? base_over / cem_over : 0.0, BASELINE);

    free_stacks(stacks);
    free(tasks);
    free(expected);
    free(composite);
    return 0;
}
