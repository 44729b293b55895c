/* Behaviour of cem_makecontext / cem_swapcontext from C. */
#include <stdint.h>

#include "cem_ctx.h"
#include "check.h"

#define STACK_SIZE (64 * 1024)

static cem_context_t main_ctx, ctx_a, ctx_b, ctx_c;
static _Alignas(16) unsigned char stack_a[STACK_SIZE], stack_b[STACK_SIZE], stack_c[STACK_SIZE];
static int trace[64];
static int trace_len;

static void record(int v) {
    if (trace_len < 64) trace[trace_len++] = v;
}

static void make(cem_context_t *ctx, unsigned char *stack, void (*fn)(void)) {
    CHECK(cem_makecontext_checked(ctx, stack, STACK_SIZE, fn, NULL) == CEM_OK);
}

/* ---- single switch: main -> a -> main ---- */
static void single_body(void) {
    record(1);
    cem_swapcontext(&ctx_a, &main_ctx);
}
static void single_switch(void) {
    make(&ctx_a, stack_a, single_body);
    record(0);
    cem_swapcontext(&main_ctx, &ctx_a);
    record(2);
    CHECK_EQ_LL(trace_len, 3);
    CHECK(trace[0] == 0 && trace[1] == 1 && trace[2] == 2);
}

/* ---- repeated switches: a counter advanced on both sides ---- */
static volatile long counter;
static void repeated_body(void) {
    for (;;) {
        counter += 2;
        cem_swapcontext(&ctx_a, &main_ctx);
    }
}
static void repeated_switches(void) {
    make(&ctx_a, stack_a, repeated_body);
    for (long i = 0; i < 100000; i++) {
        counter -= 1;
        cem_swapcontext(&main_ctx, &ctx_a);
    }
    CHECK_EQ_LL(counter, 100000);
}

/* ---- context to context: main -> a -> b -> c -> a -> main ---- */
static void c2c_a(void) {
    record(1);
    cem_swapcontext(&ctx_a, &ctx_b);
    record(4);
    cem_swapcontext(&ctx_a, &main_ctx);
}
static void c2c_b(void) {
    record(2);
    cem_swapcontext(&ctx_b, &ctx_c);
}
static void c2c_c(void) {
    record(3);
    cem_swapcontext(&ctx_c, &ctx_a);
}
static void context_to_context(void) {
    make(&ctx_a, stack_a, c2c_a);
    make(&ctx_b, stack_b, c2c_b);
    make(&ctx_c, stack_c, c2c_c);
    cem_swapcontext(&main_ctx, &ctx_a);
    CHECK_EQ_LL(trace_len, 4);
    for (int i = 0; i < 4; i++) CHECK_EQ_LL(trace[i], i + 1);
}

/* ---- stack contents survive suspension ---- */
static int stack_ok;
static void stack_body(void) {
    volatile uint32_t local[1024];
    for (uint32_t i = 0; i < 1024; i++) local[i] = i * 2654435761u;
    for (int round = 0; round < 100; round++) {
        cem_swapcontext(&ctx_a, &main_ctx);
    }
    int ok = 1;
    for (uint32_t i = 0; i < 1024; i++) ok &= local[i] == i * 2654435761u;
    stack_ok = ok;
    cem_swapcontext(&ctx_a, &main_ctx);
}
static void stack_contents_preserved(void) {
    make(&ctx_a, stack_a, stack_body);
    for (int round = 0; round <= 100; round++) {
        /* Scribble over main's own stack region between resumes. */
        volatile unsigned char noise[4096];
        memset((void *)noise, round, sizeof noise);
        cem_swapcontext(&main_ctx, &ctx_a);
    }
    CHECK(stack_ok == 1);
}

/* ---- FP values live across switches (d8-d15 on AArch64) ---- */
static double fp_result;
static void fp_body(void) {
    double a = 1.5, b = 2.25, c = -3.125, d = 1e10, e = 1.0 / 3.0, f = 2.718281828;
    for (int i = 0; i < 50; i++) {
        cem_swapcontext(&ctx_a, &main_ctx);
        a += 1.0; b *= 1.0001; c -= 0.5; d /= 1.5; e += e * 1e-3; f = f * 0.999 + 0.01;
    }
    fp_result = a + b + c + d + e + f;
    cem_swapcontext(&ctx_a, &main_ctx);
}
static double fp_reference(void) {
    double a = 1.5, b = 2.25, c = -3.125, d = 1e10, e = 1.0 / 3.0, f = 2.718281828;
    for (int i = 0; i < 50; i++) {
        a += 1.0; b *= 1.0001; c -= 0.5; d /= 1.5; e += e * 1e-3; f = f * 0.999 + 0.01;
    }
    return a + b + c + d + e + f;
}
static void fp_values_preserved(void) {
    double x = 0.1, y = 0.7, z = 123.456;
    make(&ctx_a, stack_a, fp_body);
    for (int i = 0; i <= 50; i++) {
        cem_swapcontext(&main_ctx, &ctx_a);
        x = x * 1.01 + y;
        y = y - z * 1e-4;
    }
    CHECK(fp_result == fp_reference());
    double rx = 0.1, ry = 0.7, rz = 123.456;
    for (int i = 0; i <= 50; i++) {
        rx = rx * 1.01 + ry;
        ry = ry - rz * 1e-4;
    }
    CHECK(x == rx && y == ry && z == rz);
}

/* ---- return_func runs on the same stack when func returns ---- */
static uintptr_t ret_sp;
static void returning_body(void) {
    record(1);
}
static void after_return(void) {
    volatile int here = 0;
    ret_sp = (uintptr_t)&here;
    record(2);
    cem_swapcontext(&ctx_a, &main_ctx);
}
static void return_func(void) {
    CHECK(cem_makecontext_checked(&ctx_a, stack_a, STACK_SIZE, returning_body, after_return) == CEM_OK);
    cem_swapcontext(&main_ctx, &ctx_a);
    CHECK_EQ_LL(trace_len, 2);
    CHECK(trace[0] == 1 && trace[1] == 2);
    CHECK(ret_sp > (uintptr_t)stack_a && ret_sp < (uintptr_t)stack_a + STACK_SIZE);
}

/* ---- printf with doubles needs the ABI's stack alignment ---- */
static char printed[128];
static void printf_body(void) {
    snprintf(printed, sizeof printed, "%.3f %g %e", 3.14159265, 2.5e-8, 6.02214076e23);
    printf("from coroutine: %s\n", printed);
    fflush(stdout);
    cem_swapcontext(&ctx_a, &main_ctx);
}
static void printf_doubles_in_coroutine(void) {
    make(&ctx_a, stack_a, printf_body);
    cem_swapcontext(&main_ctx, &ctx_a);
    CHECK(strcmp(printed, "3.142 2.5e-08 6.022141e+23") == 0);
}

/* ---- CEM_CONTEXT_GET_SP points into the suspended context's stack ---- */
static void get_sp_body(void) {
    /* Work after the switch keeps it from being a tail call, so the
     * suspended sp lies strictly below the fresh one. */
    volatile int after = 0;
    cem_swapcontext(&ctx_a, &main_ctx);
    after = 1;
    (void)after;
}
static void get_sp_macro(void) {
    make(&ctx_a, stack_a, get_sp_body);
    uintptr_t fresh = CEM_CONTEXT_GET_SP(&ctx_a);
    CHECK(fresh > (uintptr_t)stack_a && fresh <= (uintptr_t)stack_a + STACK_SIZE);
    cem_swapcontext(&main_ctx, &ctx_a);
    uintptr_t suspended = CEM_CONTEXT_GET_SP(&ctx_a);
    CHECK(suspended > (uintptr_t)stack_a && suspended < fresh);
}

/* ---- save == restore returns at once ---- */
static void save_equals_restore(void) {
    long sum = 0;
    for (long i = 0; i < 1000; i++) {
        cem_swapcontext(&main_ctx, &main_ctx);
        sum += i;
    }
    CHECK_EQ_LL(sum, 499500);
}

/* ---- any stack base alignment works; the library aligns the top ---- */
static void any_alignment_body(void) {
    char buf[64];
    snprintf(buf, sizeof buf, "%f", 1.0 / 7.0);
    record(strcmp(buf, "0.142857") == 0);
    cem_swapcontext(&ctx_a, &main_ctx);
}
static void makecontext_accepts_any_base_alignment(void) {
    for (int off = 0; off < 16; off++) {
        for (int cut = 0; cut < 16; cut += 5) {
            cem_makecontext(&ctx_a, stack_a + off, STACK_SIZE - 16 - cut, any_alignment_body, NULL);
            cem_swapcontext(&main_ctx, &ctx_a);
        }
    }
    CHECK_EQ_LL(trace_len, 64);
    for (int i = 0; i < 64; i++) CHECK(trace[i] == 1);
}

/* ---- values through the switch, and an entry function with an argument ---- */
struct pipe_state {
    long received_sum;
    int rounds;
};
static void value_body(void *arg) {
    struct pipe_state *st = arg;
    /* The first resume's value is the makecontext argument. */
    long v = 1;
    for (int i = 0; i < st->rounds; i++) {
        void *in = cem_swapcontext_value(&ctx_a, &main_ctx, (void *)(intptr_t)(v * 10));
        v = (long)(intptr_t)in;
        st->received_sum += v;
    }
    cem_swapcontext_value(&ctx_a, &main_ctx, (void *)(intptr_t)-1);
}
static void swapcontext_value_and_arg(void) {
    struct pipe_state st = {0, 5};
    CHECK(cem_makecontext_with_arg(&ctx_a, stack_a, STACK_SIZE, value_body, &st, NULL) == CEM_OK);
    long got_sum = 0;
    void *out = cem_swapcontext_value(&main_ctx, &ctx_a, NULL);
    for (long i = 2; i <= 6; i++) {
        got_sum += (long)(intptr_t)out;
        out = cem_swapcontext_value(&main_ctx, &ctx_a, (void *)(intptr_t)i);
    }
    CHECK_EQ_LL((long)(intptr_t)out, -1);
    CHECK_EQ_LL(st.received_sum, 2 + 3 + 4 + 5 + 6);
    CHECK_EQ_LL(got_sum, 10 + 20 + 30 + 40 + 50);
    CHECK_EQ_LL(cem_makecontext_with_arg(&ctx_a, stack_a, STACK_SIZE, NULL, &st, NULL), CEM_ERR_NULL_FUNCTION);
}

int main(int argc, char **argv) {
    static const struct test_case cases[] = {
        {"single_switch", single_switch},
        {"repeated_switches", repeated_switches},
        {"context_to_context", context_to_context},
        {"stack_contents_preserved", stack_contents_preserved},
        {"fp_values_preserved", fp_values_preserved},
        {"return_func", return_func},
        {"printf_doubles_in_coroutine", printf_doubles_in_coroutine},
        {"get_sp_macro", get_sp_macro},
        {"save_equals_restore", save_equals_restore},
        {"makecontext_accepts_any_base_alignment", makecontext_accepts_any_base_alignment},
        {"swapcontext_value_and_arg", swapcontext_value_and_arg},
    };
    return run_named_case(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
