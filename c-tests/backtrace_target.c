/* Program for the gdb tests. A coroutine stops in a function two frames deep
 * (the "running" test breaks there: the backtrace must walk up to the
 * coroutine root and stop cleanly, because the CFI of the entry trampoline
 * marks the return address undefined), then suspends itself one frame deep
 * (the "suspended" test breaks in main and prints that coroutine's backtrace
 * with share/gdb/cem_ctx.py's cem-bt, then lets the program finish: the
 * command must leave every register as it found it). */
#include <stdio.h>

#include "cem_ctx.h"

static cem_context_t main_ctx, co_ctx;
static _Alignas(16) unsigned char stack[64 * 1024];
static volatile int sink;

__attribute__((noinline)) void deep_frame(int x) {
    sink = x; /* the running test breaks here */
}

__attribute__((noinline)) void suspend_here(void) {
    cem_swapcontext(&co_ctx, &main_ctx);
    sink += 1;
}

__attribute__((noinline)) void middle_frame(int x) {
    deep_frame(x + 1);
    suspend_here();
    sink += 1;
}

__attribute__((noinline)) void coroutine_root(void) {
    middle_frame(41);
    cem_swapcontext(&co_ctx, &main_ctx);
}

__attribute__((noinline)) void inspect_suspended(void) {
    sink += 0; /* the suspended test breaks here, with co_ctx in suspend_here */
}

int main(void) {
    if (cem_makecontext_checked(&co_ctx, stack, sizeof stack, coroutine_root, NULL) != CEM_OK) return 1;
    cem_swapcontext(&main_ctx, &co_ctx); /* runs until suspend_here */
    inspect_suspended();
    cem_swapcontext(&main_ctx, &co_ctx); /* finishes middle_frame */
    printf("sink = %d\n", sink);
    return sink == 44 ? 0 : 1;
}
