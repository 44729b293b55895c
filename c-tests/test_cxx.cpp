// C++ on a coroutine stack: the generated header compiles as C++, an
// exception is thrown and caught entirely on a coroutine stack (on Windows
// this needs the TEB stack fields and ExceptionList switched: the dispatcher
// rejects frames outside [StackLimit, StackBase)), and a function with a frame
// larger than a page runs there (stack probe: __chkstk / ___chkstk_ms on
// Windows, which consult or touch the stack page by page).
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cem_ctx.h"

#if defined(CEM_ARCH_X86_64) && defined(_WIN32)
static_assert(sizeof(cem_context_t) == 288, "sizeof(cem_context_t)");
static_assert(offsetof(cem_context_t, xmm6) == 128, "offset of xmm6");
#elif defined(CEM_ARCH_X86_64)
static_assert(sizeof(cem_context_t) == 64, "sizeof(cem_context_t)");
static_assert(offsetof(cem_context_t, rsp) == 48, "offset of rsp");
#elif defined(CEM_ARCH_ARM64)
static_assert(sizeof(cem_context_t) == 168, "sizeof(cem_context_t)");
static_assert(offsetof(cem_context_t, sp) == 96, "offset of sp");
#endif

static cem_context_t main_ctx, co_ctx;
alignas(16) static unsigned char stack[256 * 1024];
static int result = 0;

static void fail(const char *what) {
    std::fprintf(stderr, "FAIL: %s\n", what);
    std::exit(1);
}

static void run(void (*body)()) {
    result = 0;
    if (cem_makecontext_checked(&co_ctx, stack, sizeof stack, body, nullptr) != CEM_OK) fail("makecontext");
    cem_swapcontext(&main_ctx, &co_ctx);
}

// ---- the header works from C++ ----
static void plain_body() {
    result = 1;
    cem_swapcontext(&co_ctx, &main_ctx);
}
static void header_from_cxx() {
    run(plain_body);
    if (result != 1) fail("coroutine did not run");
}

// ---- throw and catch on the coroutine stack ----
struct Tracked {
    int *counter;
    explicit Tracked(int *c) : counter(c) {}
    ~Tracked() { ++*counter; }
};

__attribute__((noinline)) static void thrower(int depth, int *destructors) {
    Tracked t(destructors);
    if (depth == 0) throw std::runtime_error("thrown on a coroutine stack");
    thrower(depth - 1, destructors);
}

static void exception_body() {
    int destructors = 0;
    std::string message;
    for (int round = 0; round < 3; round++) {
        try {
            thrower(5, &destructors);
        } catch (const std::runtime_error &e) {
            message = e.what();
        }
        // Suspend between throws: the next throw happens after a round trip.
        cem_swapcontext(&co_ctx, &main_ctx);
    }
    result = (message == "thrown on a coroutine stack" && destructors == 18) ? 1 : 2;
    cem_swapcontext(&co_ctx, &main_ctx);
}
static void exception_on_coroutine_stack() {
    run(exception_body);
    for (int i = 0; i < 3; i++) cem_swapcontext(&main_ctx, &co_ctx);
    if (result != 1) fail("exception not caught correctly on the coroutine stack");
}

// ---- a frame larger than a page (stack probe) ----
__attribute__((noinline)) static unsigned large_frame(unsigned seed) {
    volatile unsigned char buf[64 * 1024];
    for (std::size_t i = 0; i < sizeof buf; i += 512) buf[i] = (unsigned char)(seed + i / 512);
    unsigned sum = 0;
    for (std::size_t i = 0; i < sizeof buf; i += 512) sum += buf[i];
    return sum;
}
static void large_frame_body() {
    unsigned expected = 0;
    for (unsigned i = 0; i < 128; i++) expected += (unsigned char)(7 + i);
    result = large_frame(7) == expected ? 1 : 2;
    cem_swapcontext(&co_ctx, &main_ctx);
}
static void large_frame_stack_probe() {
    run(large_frame_body);
    if (result != 1) fail("large frame computed a wrong sum");
}

int main(int argc, char **argv) {
    struct {
        const char *name;
        void (*fn)();
    } cases[] = {
        {"header_from_cxx", header_from_cxx},
        {"exception_on_coroutine_stack", exception_on_coroutine_stack},
        {"large_frame_stack_probe", large_frame_stack_probe},
    };
    if (argc != 2) return 2;
    for (auto &c : cases) {
        if (std::strcmp(c.name, argv[1]) == 0) {
            c.fn();
            std::printf("%s: ok\n", c.name);
            return 0;
        }
    }
    std::fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
