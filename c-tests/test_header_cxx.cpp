// The generated header compiles as C++ (extern "C" linkage, same layout).
#include <cstddef>
#include <cstdio>

#include "cem_ctx.h"

#if defined(CEM_ARCH_X86_64)
static_assert(sizeof(cem_context_t) == 64, "sizeof(cem_context_t)");
static_assert(offsetof(cem_context_t, rsp) == 48, "offset of rsp");
#elif defined(CEM_ARCH_ARM64)
static_assert(sizeof(cem_context_t) == 168, "sizeof(cem_context_t)");
static_assert(offsetof(cem_context_t, sp) == 96, "offset of sp");
#endif

static cem_context_t main_ctx, co_ctx;
static int ran = 0;

static void body() {
    ran = 1;
    cem_swapcontext(&co_ctx, &main_ctx);
}

int main() {
    alignas(16) static unsigned char stack[16 * 1024];
    if (cem_makecontext_checked(&co_ctx, stack, sizeof stack, body, nullptr) != CEM_OK) return 1;
    cem_swapcontext(&main_ctx, &co_ctx);
    std::printf("C++ caller: coroutine ran = %d\n", ran);
    return ran == 1 ? 0 : 1;
}
