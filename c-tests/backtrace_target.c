/* Program for the gdb test: stops in a function two frames deep inside a
 * coroutine, so the backtrace must walk up to the coroutine root and stop
 * there cleanly (CFI of the entry trampoline marks the return address undefined). */
#include <stdio.h>

#include "cem_ctx.h"

static cem_context_t main_ctx, co_ctx;
static _Alignas(16) unsigned char stack[64 * 1024];
static volatile int sink;

__attribute__((noinline)) void deep_frame(int x) {
    sink = x; /* gdb breaks here */
}

__attribute__((noinline)) void middle_frame(int x) {
    deep_frame(x + 1);
    sink += 1;
}

__attribute__((noinline)) void coroutine_root(void) {
    middle_frame(41);
    cem_swapcontext(&co_ctx, &main_ctx);
}

int main(void) {
    if (cem_makecontext_checked(&co_ctx, stack, sizeof stack, coroutine_root, NULL) != CEM_OK) return 1;
    cem_swapcontext(&main_ctx, &co_ctx);
    printf("sink = %d\n", sink);
    return sink == 43 ? 0 : 1;
}
