/*
 * A deliberate stack-buffer-overflow inside a coroutine, for the sanitizers
 * suite (scripts/suites/sanitizers.sh, CTest asan_reports_overflow_in_coroutine):
 * built with -fsanitize=address against the ordinary libcem_ctx.a, it must
 * stop with an ASan report that names "stack-buffer-overflow" and the
 * coroutine's own frames (overflow_in_coroutine, fill_and_read, coroutine_body). Without the
 * library's fiber annotations ASan would still think the main stack is the
 * current one.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cem_ctx.h"

static cem_context_t main_ctx, co_ctx;
static _Alignas(16) char co_stack[64 * 1024];
static volatile int index_past_end = 16;

/* noinline so that the report's top frame has this name. UBSan's bounds and
 * object-size checks must not stop first (they know buf's size inside the
 * function that declares it), hence the pointer parameter: this read is for
 * ASan, which must report it as a stack-buffer-overflow of buf. */
__attribute__((noinline)) static int overflow_in_coroutine(volatile char *p, int i) {
    return p[i];
}

__attribute__((noinline)) static int fill_and_read(void) {
    volatile char buf[16];
    for (int i = 0; i < 16; i++) {
        buf[i] = (char)i;
    }
    return overflow_in_coroutine(buf, index_past_end); /* one past the end */
}

__attribute__((noinline)) static void coroutine_body(void) {
    printf("value %d\n", fill_and_read());
    cem_swapcontext(&co_ctx, &main_ctx);
}

int main(void) {
    if (cem_makecontext_checked(&co_ctx, co_stack, sizeof co_stack, coroutine_body, NULL) !=
        CEM_OK) {
        return 2;
    }
    cem_swapcontext(&main_ctx, &co_ctx);
    puts("not reported: the overflow went unnoticed");
    return 0;
}
