/* The RISC-V cem_context_t as a freestanding C compiler sees it, for the
 * bare-metal ABIs no hosted C suite runs on (rv32: ilp32, ilp32f; rv64:
 * lp64d). Compile-time only, with -Wpedantic:
 *   riscv64-linux-gnu-gcc -march=rv32imac -mabi=ilp32 -ffreestanding -std=c11 \
 *     -Wall -Wextra -Wpedantic -Werror -fsyntax-only -Iinclude c-tests/riscv_layout_freestanding.c
 * (scripts/suites/riscv.sh runs it for rv32imac, rv32imafc and rv64gc). */
#include <stddef.h>

#include "cem_ctx.h"

#if !defined(CEM_ARCH_RISCV64) && !defined(CEM_ARCH_RISCV32)
#error "compile this for a RISC-V target"
#endif

#if defined(CEM_ARCH_RISCV64)
#define XB 8
#define SIZE 208
#else
#define XB 4
#define SIZE 152
#endif

_Static_assert(sizeof(void *) == XB, "CEM_ARCH_RISCV64/32 follows __riscv_xlen");
_Static_assert(sizeof(cem_context_t) == SIZE, "sizeof(cem_context_t)");
_Static_assert(_Alignof(cem_context_t) == 8, "alignof(cem_context_t)");
_Static_assert(offsetof(cem_context_t, s0) == 0, "s0");
_Static_assert(offsetof(cem_context_t, s1) == 1 * XB, "s1");
_Static_assert(offsetof(cem_context_t, s11) == 11 * XB, "s11");
_Static_assert(offsetof(cem_context_t, sp) == 12 * XB, "sp");
_Static_assert(offsetof(cem_context_t, ra) == 13 * XB, "ra");
_Static_assert(offsetof(cem_context_t, fs0) == 14 * XB, "fs0");
_Static_assert(offsetof(cem_context_t, fs11) == 14 * XB + 88, "fs11");
_Static_assert(sizeof(((cem_context_t *)0)->s5) == XB, "s registers are XLEN wide");
_Static_assert(sizeof(((cem_context_t *)0)->fs5) == 8, "fs slots are 8 bytes");
