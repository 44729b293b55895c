//! The C ABI: what `include/cem_ctx.h` declares (generated from this file by
//! cbindgen). Source-compatible with the Cem runtime's `runtime/context.h`:
//! same type, field names, layout, macros and the two functions, plus a
//! checked variant of `cem_makecontext` with error codes.

use core::ffi::{c_char, c_int, c_void};

use crate::Context;

/// Cem's initial strand stack size, in bytes (1 MiB). Kept for source
/// compatibility; cem-ctx does not use it. See `CEM_CTX_MIN_STACK_SIZE`.
pub const CEM_INITIAL_STACK_SIZE: usize = 1024 * 1024;

/// Cem's legacy minimum stack size, in bytes (equal to
/// `CEM_INITIAL_STACK_SIZE`). Kept for source compatibility; not enforced.
pub const CEM_MIN_STACK_SIZE: usize = CEM_INITIAL_STACK_SIZE;

/// Cem's maximum stack size, in bytes (1 MiB). Kept for source
/// compatibility; not enforced.
pub const CEM_MAX_STACK_SIZE: usize = 1024 * 1024;

/// The smallest `stack_size` cem-ctx accepts, in bytes, after the top is
/// rounded down to a 16-byte boundary. Covers only the library's own initial
/// frame and a trivial entry function; add what your function needs (and
/// signal frames, if signals may arrive on this stack).
pub const CEM_CTX_MIN_STACK_SIZE: usize = 256;

static_assertions::const_assert_eq!(CEM_CTX_MIN_STACK_SIZE, crate::MIN_STACK_SIZE);

/// `cem_makecontext_checked` succeeded.
pub const CEM_OK: c_int = 0;
/// `ctx` is NULL.
pub const CEM_ERR_NULL_CONTEXT: c_int = -1;
/// `ctx` is not 8-byte aligned (the alignment of `cem_context_t`).
pub const CEM_ERR_MISALIGNED_CONTEXT: c_int = -2;
/// `func` is NULL.
pub const CEM_ERR_NULL_FUNCTION: c_int = -3;
/// `stack_base` is NULL.
pub const CEM_ERR_NULL_STACK: c_int = -4;
/// `stack_base + stack_size` wraps around the address space.
pub const CEM_ERR_STACK_OVERFLOW: c_int = -5;
/// Less than `CEM_CTX_MIN_STACK_SIZE` bytes remain once the top is aligned.
pub const CEM_ERR_STACK_TOO_SMALL: c_int = -6;

extern "C" {
    /// Saves the calling context's callee-saved state into `save_ctx` and
    /// resumes `restore_ctx`; returns when another switch resumes `save_ctx`.
    ///
    /// Saved state is the platform ABI's callee-saved set (see
    /// `cem_context_t`), including the FP control state the ABI makes
    /// callee-saved (MXCSR and x87 control word on x86-64). `save_ctx ==
    /// restore_ctx` is allowed and returns at once.
    ///
    /// Unchecked (this is the hot path): both pointers must be valid and
    /// 8-byte aligned, and `restore_ctx` must come from `cem_makecontext` or
    /// a switch away from a context still suspended, whose stack is alive. A
    /// context runs on at most one thread at a time. Implemented in assembly
    /// (`asm/`).
    pub fn cem_swapcontext(save_ctx: *mut Context, restore_ctx: *const Context);

    /// `cem_swapcontext` that also hands `value` to the resumed side and
    /// returns the value handed back by whoever resumes `save_ctx` later
    /// (Boost.Context's transfer). The resumed side sees `value` as the return
    /// value of its own suspended `cem_swapcontext_value` call; a side
    /// suspended in plain `cem_swapcontext` does not see it. Same contract and
    /// cost as `cem_swapcontext` (one extra register move).
    pub fn cem_swapcontext_value(
        save_ctx: *mut Context,
        restore_ctx: *const Context,
        value: *mut c_void,
    ) -> *mut c_void;

    /// The named trap where a context stops when both its entry function and
    /// its `return_func` have returned (or `return_func` was NULL), and where
    /// `cem_makecontext` stops on invalid arguments. Executes `ud2` (x86-64:
    /// SIGILL, or EXCEPTION_ILLEGAL_INSTRUCTION on Windows), `brk #0xc0de`
    /// (AArch64, SIGTRAP) or `udf #0xc0` (Cortex-M: UsageFault UNDEFINSTR, or
    /// HardFault when UsageFault is disabled); never returns.
    pub fn cem_context_trap() -> !;
}

/// Checks the arguments, then initialises `ctx` so that the first
/// `cem_swapcontext` into it runs `func` on the given stack.
///
/// - `ctx`: written completely; 8-byte aligned. The caller owns it.
/// - `stack_base`: the LOW address of the stack memory (stacks grow down from
///   `stack_base + stack_size`, rounded down to 16 bytes). Any alignment. The
///   caller owns the memory and must keep it alive and otherwise unused while
///   the context can run.
/// - `stack_size`: at least `CEM_CTX_MIN_STACK_SIZE` bytes after alignment.
/// - `func`: runs first with the ABI entry alignment (x86-64:
///   `(rsp + 8) % 16 == 0`; AArch64 and Cortex-M: `sp % 16 == 0`), a zero frame pointer,
///   and unwind info that ends a debugger backtrace at the coroutine root.
/// - `return_func`: runs on the same stack when `func` returns; when NULL, or
///   when it returns, the process stops in `cem_context_trap`.
///
/// The new context inherits the calling thread's FP control state.
///
/// Returns `CEM_OK`, or a negative `CEM_ERR_*` code, in which case nothing
/// was written.
///
/// # Safety
/// What the library cannot check: `ctx` must be writable, and the stack must
/// be writable memory of the given size that nothing else uses while the
/// context can run (Rust: `cem_ctx::make_context`).
#[no_mangle]
pub unsafe extern "C" fn cem_makecontext_checked(
    ctx: *mut Context,
    stack_base: *mut c_void,
    stack_size: usize,
    func: Option<unsafe extern "C" fn()>,
    return_func: Option<unsafe extern "C" fn()>,
) -> c_int {
    // SAFETY: forwarded to the caller.
    match unsafe { crate::make_context(ctx, stack_base, stack_size, func, return_func) } {
        Ok(()) => CEM_OK,
        Err(e) => e.code(),
    }
}

/// `cem_makecontext_checked` for an entry function that takes a pointer:
/// `func(arg)` runs first. Same checks, codes and contract; `arg` is passed
/// through untouched and is owned by the caller.
///
/// # Safety
/// As for `cem_makecontext_checked`.
#[no_mangle]
pub unsafe extern "C" fn cem_makecontext_with_arg(
    ctx: *mut Context,
    stack_base: *mut c_void,
    stack_size: usize,
    func: Option<unsafe extern "C" fn(*mut c_void)>,
    arg: *mut c_void,
    return_func: Option<unsafe extern "C" fn()>,
) -> c_int {
    // SAFETY: forwarded to the caller.
    match unsafe {
        crate::make_context_with_arg(ctx, stack_base, stack_size, func, arg, return_func)
    } {
        Ok(()) => CEM_OK,
        Err(e) => e.code(),
    }
}

/// Cem's `cem_makecontext`: like `cem_makecontext_checked`, but with no way
/// to report an error, invalid arguments (those `cem_makecontext_checked`
/// rejects) stop the process in `cem_context_trap` instead of corrupting
/// memory later. Unlike Cem, `return_func` is honoured.
///
/// # Safety
/// As for `cem_makecontext_checked`.
#[no_mangle]
pub unsafe extern "C" fn cem_makecontext(
    ctx: *mut Context,
    stack_base: *mut c_void,
    stack_size: usize,
    func: Option<unsafe extern "C" fn()>,
    return_func: Option<unsafe extern "C" fn()>,
) {
    // SAFETY: forwarded to the caller.
    if unsafe { cem_makecontext_checked(ctx, stack_base, stack_size, func, return_func) } != CEM_OK
    {
        crate::trap();
    }
}

/// A static, NUL-terminated English description of a `cem_makecontext_checked`
/// status code ("unknown status" for codes it never returns). Never NULL;
/// the caller must not free it.
#[no_mangle]
pub extern "C" fn cem_strerror(status: c_int) -> *const c_char {
    let msg = match crate::MakeContextError::from_code(status) {
        Some(e) => e.message(),
        None if status == CEM_OK => c"success",
        None => c"unknown status",
    };
    msg.as_ptr()
}
