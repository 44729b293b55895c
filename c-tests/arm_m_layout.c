/* cem_context_t on Arm M-profile (Cortex-M): cem-ctx's own layout, checked at
 * compile time against the offsets the Rust side asserts (src/arch/arm_aapcs32_m.rs)
 * and the switch uses. Compiled, not run, by scripts/suites/cortex_m.sh with
 * arm-none-eabi-gcc -std=c11 -Wall -Wextra -Wpedantic -Werror for each core
 * (-mcpu=cortex-m0, cortex-m3, cortex-m4 with the hard-float FPU, cortex-m33):
 * the layout must not depend on the core or the float ABI. */
#include <stdalign.h>
#include <stddef.h>

#include "cem_ctx.h"

#if !defined(CEM_ARCH_ARM_M)
#error "expected an Arm M-profile compiler (CEM_ARCH_ARM_M)"
#endif

#define STATIC_OFFSET(f, off) _Static_assert(offsetof(cem_context_t, f) == (off), "offset of " #f)

STATIC_OFFSET(r4, 0);
STATIC_OFFSET(r5, 4);
STATIC_OFFSET(r6, 8);
STATIC_OFFSET(r7, 12);
STATIC_OFFSET(r8, 16);
STATIC_OFFSET(r9, 20);
STATIC_OFFSET(r10, 24);
STATIC_OFFSET(r11, 28);
STATIC_OFFSET(sp, 32);
STATIC_OFFSET(lr, 36);
STATIC_OFFSET(stack_limit, 40);
STATIC_OFFSET(reserved, 44);
STATIC_OFFSET(d8, 48);
STATIC_OFFSET(d9, 56);
STATIC_OFFSET(d10, 64);
STATIC_OFFSET(d11, 72);
STATIC_OFFSET(d12, 80);
STATIC_OFFSET(d13, 88);
STATIC_OFFSET(d14, 96);
STATIC_OFFSET(d15, 104);
_Static_assert(sizeof(cem_context_t) == 112, "sizeof(cem_context_t)");
_Static_assert(alignof(cem_context_t) == 8, "alignof(cem_context_t)");
_Static_assert(CEM_CTX_MIN_STACK_SIZE == 256, "CEM_CTX_MIN_STACK_SIZE");

/* The declarations compile as C sees them, and the SP macro works. */
uintptr_t cem_layout_saved_sp(const cem_context_t *ctx);
uintptr_t cem_layout_saved_sp(const cem_context_t *ctx) { return CEM_CONTEXT_GET_SP(ctx); }
