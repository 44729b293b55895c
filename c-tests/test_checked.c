/* Each invalid argument to cem_makecontext_checked gets its own error code
 * and leaves the context untouched. */
#include <stdint.h>

#include "cem_ctx.h"
#include "check.h"

static _Alignas(16) unsigned char stack[8192];
static void never_runs(void) {}

static cem_context_t ctx;
static const unsigned char sentinel = 0xa5;

static void expect(int got, int want) {
    CHECK_EQ_LL(got, want);
    const unsigned char *bytes = (const unsigned char *)&ctx;
    for (size_t i = 0; i < sizeof ctx; i++) CHECK(bytes[i] == sentinel);
}

static void reset(void) {
    memset(&ctx, sentinel, sizeof ctx);
}

static void null_context(void) {
    reset();
    expect(cem_makecontext_checked(NULL, stack, sizeof stack, never_runs, NULL), CEM_ERR_NULL_CONTEXT);
}
static void misaligned_context(void) {
    static _Alignas(16) unsigned char raw[sizeof(cem_context_t) + 16];
    reset();
    expect(cem_makecontext_checked((cem_context_t *)(void *)(raw + 4), stack, sizeof stack, never_runs, NULL),
           CEM_ERR_MISALIGNED_CONTEXT);
}
static void null_function(void) {
    reset();
    expect(cem_makecontext_checked(&ctx, stack, sizeof stack, NULL, NULL), CEM_ERR_NULL_FUNCTION);
}
static void null_stack(void) {
    reset();
    expect(cem_makecontext_checked(&ctx, NULL, sizeof stack, never_runs, NULL), CEM_ERR_NULL_STACK);
}
static void stack_overflow(void) {
    reset();
    expect(cem_makecontext_checked(&ctx, (void *)(UINTPTR_MAX - 100), 4096, never_runs, NULL),
           CEM_ERR_STACK_OVERFLOW);
}
static void stack_too_small(void) {
    reset();
    expect(cem_makecontext_checked(&ctx, stack, CEM_CTX_MIN_STACK_SIZE - 1, never_runs, NULL),
           CEM_ERR_STACK_TOO_SMALL);
    expect(cem_makecontext_checked(&ctx, stack, 0, never_runs, NULL), CEM_ERR_STACK_TOO_SMALL);
    /* Misaligned base: alignment eats into the size. */
    expect(cem_makecontext_checked(&ctx, stack + 1, CEM_CTX_MIN_STACK_SIZE, never_runs, NULL),
           CEM_ERR_STACK_TOO_SMALL);
}
static void minimum_accepted(void) {
    reset();
    CHECK_EQ_LL(cem_makecontext_checked(&ctx, stack, CEM_CTX_MIN_STACK_SIZE, never_runs, NULL), CEM_OK);
    CHECK(CEM_CONTEXT_GET_SP(&ctx) > (uintptr_t)stack);
}
static void strerror_distinct(void) {
    const int codes[] = {CEM_OK, CEM_ERR_NULL_CONTEXT, CEM_ERR_MISALIGNED_CONTEXT, CEM_ERR_NULL_FUNCTION,
                         CEM_ERR_NULL_STACK, CEM_ERR_STACK_OVERFLOW, CEM_ERR_STACK_TOO_SMALL, 12345};
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *a = cem_strerror(codes[i]);
        CHECK(a != NULL && a[0] != '\0');
        for (size_t j = 0; j < i; j++) CHECK(strcmp(a, cem_strerror(codes[j])) != 0);
        printf("%d: %s\n", codes[i], a);
    }
}

int main(int argc, char **argv) {
    static const struct test_case cases[] = {
        {"null_context", null_context},       {"misaligned_context", misaligned_context},
        {"null_function", null_function},     {"null_stack", null_stack},
        {"stack_overflow", stack_overflow},   {"stack_too_small", stack_too_small},
        {"minimum_accepted", minimum_accepted}, {"strerror_distinct", strerror_distinct},
    };
    return run_named_case(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
