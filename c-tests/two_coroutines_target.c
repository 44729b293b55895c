/* Program for the gdb test `gdb_backtrace_two_suspended`: two coroutines,
 * each suspended in its own waiting function three frames below its root
 * (reader: reader_root -> reader_loop -> wait_for_reader; writer:
 * writer_root -> writer_loop -> wait_for_writer). The test breaks in
 * inspect_both, while both are suspended, and runs share/gdb/cem_ctx.py's
 * `cem-bt` on each context: each backtrace must show that coroutine's own
 * chain down to the entry trampoline and none of the other's frames. The
 * contexts lie in different stacks and suspend in different functions, so
 * a command that read the wrong context, the wrong saved stack pointer or a
 * stale register would print the other chain or garbage. The values of
 * `seen` (in a callee-saved register of the waiting function) and `n` (saved
 * by the waiting function's prologue) check the loaded registers and stack
 * pointer. Afterwards both coroutines are resumed to their ends: the
 * command must have left every register as it found it. */
#include <stdio.h>

#include "cem_ctx.h"

static cem_context_t main_ctx, reader_ctx, writer_ctx;
static _Alignas(16) unsigned char reader_stack[64 * 1024];
static _Alignas(16) unsigned char writer_stack[64 * 1024];
static volatile int bytes_read, bytes_written;

/* The waiting functions: each suspends its coroutine until main resumes it.
 * `seen` and `tag` stay in callee-saved registers across the switch; `seen`
 * is a value no entry value describes, so gdb can only read it from the
 * register the command loaded from the context. */
/* Out of line, so that `seen` and `tag` reach it as two separate values
 * (the compiler cannot add them before the switch). */
__attribute__((noinline)) void account(volatile int *counter, int seen, int tag) {
    *counter = seen + tag;
}

__attribute__((noinline)) void wait_for_reader(int tag) {
    int seen = bytes_written;
    cem_swapcontext(&writer_ctx, &main_ctx);
    account(&bytes_written, seen, tag);
}

__attribute__((noinline)) void wait_for_writer(int tag) {
    int seen = bytes_read;
    cem_swapcontext(&reader_ctx, &main_ctx);
    account(&bytes_read, seen, tag);
}

__attribute__((noinline)) void reader_loop(int n) {
    bytes_read = n;
    wait_for_writer(n + 1);
    bytes_read += n; /* n stays in a callee-saved register across the suspension */
}

__attribute__((noinline)) void writer_loop(int n) {
    bytes_written = n;
    wait_for_reader(n + 1);
    bytes_written += n; /* n stays in a callee-saved register across the suspension */
}

__attribute__((noinline)) void reader_root(void) {
    reader_loop(10);
    cem_swapcontext(&reader_ctx, &main_ctx);
}

__attribute__((noinline)) void writer_root(void) {
    writer_loop(20);
    cem_swapcontext(&writer_ctx, &main_ctx);
}

__attribute__((noinline)) void inspect_both(void) {
    bytes_read += 0; /* the test breaks here: both coroutines are suspended */
}

int main(void) {
    if (cem_makecontext_checked(&reader_ctx, reader_stack, sizeof reader_stack, reader_root, NULL) != CEM_OK ||
        cem_makecontext_checked(&writer_ctx, writer_stack, sizeof writer_stack, writer_root, NULL) != CEM_OK)
        return 1;
    cem_swapcontext(&main_ctx, &reader_ctx); /* runs until wait_for_writer */
    cem_swapcontext(&main_ctx, &writer_ctx); /* runs until wait_for_reader */
    inspect_both();
    cem_swapcontext(&main_ctx, &reader_ctx); /* finishes reader_loop */
    cem_swapcontext(&main_ctx, &writer_ctx); /* finishes writer_loop */
    printf("read %d, written %d\n", bytes_read, bytes_written);
    return bytes_read == 31 && bytes_written == 61 ? 0 : 1;
}
