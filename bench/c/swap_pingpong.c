/*
 * Per-switch cost of cem_swapcontext, for comparing two builds of
 * libcem_ctx.a (for example with and without the AddressSanitizer run-time
 * detection, src/sanitizer.rs) in one sitting:
 *
 *   cc -O2 -Iinclude bench/c/swap_pingpong.c A/libcem_ctx.a -o pp-a
 *   cc -O2 -Iinclude bench/c/swap_pingpong.c B/libcem_ctx.a -o pp-b
 *   for i in $(seq 40); do echo "$(./pp-a 1000000) $(./pp-b 1000000)"; done
 *
 * Prints the median over 9 runs of ITERATIONS round trips (main -> coroutine
 * -> main), in ns per switch. Alternate the two programs: on a shared machine
 * the load changes faster than a whole series of one program takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "cem_ctx.h"
static cem_context_t main_ctx, co_ctx;
static _Alignas(16) char stack[64 * 1024];
static volatile unsigned long n;
static void body(void) {
    for (;;) { n++; cem_swapcontext(&co_ctx, &main_ctx); }
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 20000000;
    cem_makecontext(&co_ctx, stack, sizeof stack, body, NULL);
    double r[9];
    for (int k = 0; k < 9; k++) {
        double t0 = now();
        for (long i = 0; i < iters; i++) cem_swapcontext(&main_ctx, &co_ctx);
        r[k] = (now() - t0) / (2.0 * iters) * 1e9;
    }
    qsort(r, 9, sizeof r[0], cmp);
    printf("%.3f\n", r[4]);
    return 0;
}
