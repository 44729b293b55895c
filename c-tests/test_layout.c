/* cem_context_t has exactly the Cem runtime's size, alignment and offsets.
 * Checked at compile time (the build fails on a mismatch) and printed. */
#include <stdalign.h>
#include <stddef.h>

#include "context.h" /* the drop-in name Cem code includes */
#include "check.h"

#if defined(CEM_ARCH_X86_64) && defined(_WIN32)
#define FIELDS(X) X(rbx, 0) X(rbp, 8) X(rdi, 16) X(rsi, 24) X(r12, 32) X(r13, 40) X(r14, 48) X(r15, 56)   \
    X(rsp, 64) X(mxcsr, 72) X(fpu_cw, 76) X(stack_base, 80) X(stack_limit, 88) X(deallocation_stack, 96) \
    X(exception_list, 104) X(guaranteed_stack_bytes, 112) X(xmm6, 128) X(xmm7, 144) X(xmm8, 160)       \
    X(xmm9, 176) X(xmm10, 192) X(xmm11, 208) X(xmm12, 224) X(xmm13, 240) X(xmm14, 256) X(xmm15, 272)
#define EXPECTED_SIZE 288
#elif defined(CEM_ARCH_X86_64)
#define FIELDS(X) X(rbx, 0) X(rbp, 8) X(r12, 16) X(r13, 24) X(r14, 32) X(r15, 40) X(rsp, 48) X(mxcsr, 56) X(_padding, 60)
#define EXPECTED_SIZE 64
#elif defined(CEM_ARCH_ARM64)
#define FIELDS(X) X(x19, 0) X(x20, 8) X(x21, 16) X(x22, 24) X(x23, 32) X(x24, 40) X(x25, 48) X(x26, 56) \
    X(x27, 64) X(x28, 72) X(x29, 80) X(x30, 88) X(sp, 96) X(d8, 104) X(d9, 112) X(d10, 120)            \
    X(d11, 128) X(d12, 136) X(d13, 144) X(d14, 152) X(d15, 160)
#define EXPECTED_SIZE 168
#elif defined(CEM_ARCH_RISCV64) || defined(CEM_ARCH_RISCV32)
/* cem-ctx's own RISC-V layout: XLEN-sized s0-s11, sp, ra, then 8-byte fs0-fs11. */
#if defined(CEM_ARCH_RISCV64)
#define X 8
#else
#define X 4
#endif
#define FIELDS(X_) X_(s0, 0) X_(s1, 1 * X) X_(s2, 2 * X) X_(s3, 3 * X) X_(s4, 4 * X) X_(s5, 5 * X) \
    X_(s6, 6 * X) X_(s7, 7 * X) X_(s8, 8 * X) X_(s9, 9 * X) X_(s10, 10 * X) X_(s11, 11 * X)         \
    X_(sp, 12 * X) X_(ra, 13 * X) X_(fs0, 14 * X) X_(fs1, 14 * X + 8) X_(fs2, 14 * X + 16)          \
    X_(fs3, 14 * X + 24) X_(fs4, 14 * X + 32) X_(fs5, 14 * X + 40) X_(fs6, 14 * X + 48)             \
    X_(fs7, 14 * X + 56) X_(fs8, 14 * X + 64) X_(fs9, 14 * X + 72) X_(fs10, 14 * X + 80)            \
    X_(fs11, 14 * X + 88)
#define EXPECTED_SIZE (14 * X + 96)
#if defined(CEM_ARCH_RISCV64)
_Static_assert(offsetof(cem_context_t, sp) == 96 && offsetof(cem_context_t, fs0) == 112, "rv64 layout");
_Static_assert(sizeof(cem_context_t) == 208, "rv64 size");
#else
_Static_assert(offsetof(cem_context_t, sp) == 48 && offsetof(cem_context_t, fs0) == 56, "rv32 layout");
_Static_assert(sizeof(cem_context_t) == 152, "rv32 size");
#endif
#endif

#define STATIC_OFFSET(f, off) _Static_assert(offsetof(cem_context_t, f) == (off), "offset of " #f);
FIELDS(STATIC_OFFSET)
_Static_assert(sizeof(cem_context_t) == EXPECTED_SIZE, "sizeof(cem_context_t)");
_Static_assert(alignof(cem_context_t) == 8, "alignof(cem_context_t)");
_Static_assert(CEM_CTX_MIN_STACK_SIZE >= 16, "minimum stack");
_Static_assert(CEM_MAX_STACK_SIZE == 1024 * 1024, "Cem's CEM_MAX_STACK_SIZE");
_Static_assert(CEM_MIN_STACK_SIZE == CEM_INITIAL_STACK_SIZE, "Cem's CEM_MIN_STACK_SIZE alias");

#define PRINT_OFFSET(f, off)                                                \
    printf("  %-22s offset %3u (expected %3d)\n", #f, (unsigned)offsetof(cem_context_t, f), off); \
    CHECK(offsetof(cem_context_t, f) == (off));

int main(void) {
#if defined(CEM_OS_LINUX)
    const char *os = "linux";
#elif defined(CEM_OS_WINDOWS)
    const char *os = "windows";
#elif defined(CEM_OS_MACOS)
    const char *os = "macos";
#else
    const char *os = "none";
#endif
    printf("cem_context_t: %u bytes, %u-byte aligned (%s)\n", (unsigned)sizeof(cem_context_t),
           (unsigned)alignof(cem_context_t), os);
    FIELDS(PRINT_OFFSET)
    CHECK(sizeof(cem_context_t) == EXPECTED_SIZE);
    return 0;
}
