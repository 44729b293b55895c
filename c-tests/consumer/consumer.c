/* Built against an installed cem-ctx (CMake package or pkg-config): checks
 * that header, library and package agree on the version, then runs a
 * coroutine that hands values back and forth. Prints "consumer ok". */
#include <stdint.h>
#include <stdio.h>

#include "context.h" /* the Cem compatibility name must be installed too */
#include "cem_ctx.h"

static cem_context_t main_ctx, co_ctx;
static _Alignas(16) unsigned char stack[64 * 1024];

static void doubler(void *arg) {
    uintptr_t v = (uintptr_t)arg;
    for (;;) {
        v = (uintptr_t)cem_swapcontext_value(&co_ctx, &main_ctx, (void *)(v * 2));
    }
}

int main(void) {
    uint32_t lib = cem_ctx_version();
    if (lib != CEM_CTX_VERSION) {
        fprintf(stderr, "library version %#x, header %#x\n", (unsigned)lib, (unsigned)CEM_CTX_VERSION);
        return 1;
    }
#if defined(EXPECTED_MAJOR)
    if (CEM_CTX_VERSION_MAJOR != EXPECTED_MAJOR || CEM_CTX_VERSION_MINOR != EXPECTED_MINOR ||
        CEM_CTX_VERSION_PATCH != EXPECTED_PATCH) {
        fprintf(stderr, "header %d.%d.%d, package %d.%d.%d\n", CEM_CTX_VERSION_MAJOR,
                CEM_CTX_VERSION_MINOR, CEM_CTX_VERSION_PATCH, EXPECTED_MAJOR, EXPECTED_MINOR,
                EXPECTED_PATCH);
        return 1;
    }
#endif
    int rc = cem_makecontext_with_arg(&co_ctx, stack, sizeof stack, doubler, (void *)(uintptr_t)1, NULL);
    if (rc != CEM_OK) {
        fprintf(stderr, "cem_makecontext_with_arg: %s\n", cem_strerror(rc));
        return 1;
    }
    uintptr_t got = (uintptr_t)cem_swapcontext_value(&main_ctx, &co_ctx, NULL);
    for (uintptr_t i = 2; i < 100; i++) {
        if (got != 2 * (i - 1)) {
            fprintf(stderr, "round %u: got %u\n", (unsigned)i, (unsigned)got);
            return 1;
        }
        got = (uintptr_t)cem_swapcontext_value(&main_ctx, &co_ctx, (void *)i);
    }
    printf("consumer ok: cem-ctx %d.%d.%d\n", CEM_CTX_VERSION_MAJOR, CEM_CTX_VERSION_MINOR,
           CEM_CTX_VERSION_PATCH);
    return 0;
}
