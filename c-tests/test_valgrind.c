/* Stack memory after a context is made again on it, as memcheck sees it.
 *
 * Natively these cases only check values; their point is the valgrind job,
 * which runs them under memcheck with --error-exitcode=1. While a context
 * runs, memcheck treats its registered stack like any stack: bytes below the
 * stack pointer are inaccessible (dead frames). cem_makecontext* retires the
 * registration of every earlier stack the new one overlaps and hands that
 * range back as plain defined memory (src/valgrind.rs), so the owner may read
 * or reuse it. Without that, each read below marks an "Invalid read". */
#include <stdint.h>

#include "cem_ctx.h"
#include "check.h"

#define STACK_SIZE (64 * 1024)
#define PAINT 0xc5

static cem_context_t main_ctx, ctx;
static _Alignas(16) unsigned char stack[STACK_SIZE];

/* Recursion that leaves about 16 KiB of dead frames below the point where
 * the context suspends. */
static unsigned deep(unsigned n) {
    volatile unsigned char pad[256];
    pad[0] = (unsigned char)n;
    return n == 0 ? pad[0] : deep(n - 1) + pad[0];
}
static unsigned result;
static void deep_body(void) {
    result = deep(64);
    for (;;) cem_swapcontext(&ctx, &main_ctx);
}
static void idle_body(void) {
    for (;;) cem_swapcontext(&ctx, &main_ctx);
}

/* Bytes of a painted stack written since painting, counted from the top
 * (what a C program does to size its stacks). Reads every byte. */
static size_t high_water_mark(const unsigned char *s, size_t size) {
    size_t i = 0;
    while (i < size && s[i] == PAINT) i++;
    return size - i;
}

/* A context ran deep frames on the stack and suspended; a new context is
 * made on an overlapping, different range (8 bytes up), which ends the old
 * one. The whole stack is then read, as plain memory. */
static void remade_overlapping_stack_is_plain_memory(void) {
    memset(stack, PAINT, sizeof stack);
    CHECK(cem_makecontext_checked(&ctx, stack, STACK_SIZE, deep_body, NULL) == CEM_OK);
    cem_swapcontext(&main_ctx, &ctx);
    CHECK_EQ_LL(result, 64 * 65 / 2);
    CHECK(cem_makecontext_checked(&ctx, stack + 8, STACK_SIZE - 8, idle_body, NULL) == CEM_OK);
    size_t used = high_water_mark(stack, STACK_SIZE);
    CHECK(used > 64 * 256 && used < STACK_SIZE);
    /* The new context runs on the same memory. */
    cem_swapcontext(&main_ctx, &ctx);
    cem_swapcontext(&main_ctx, &ctx);
}

int main(int argc, char **argv) {
    static const struct test_case cases[] = {
        {"remade_overlapping_stack_is_plain_memory", remade_overlapping_stack_is_plain_memory},
    };
    return run_named_case(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
