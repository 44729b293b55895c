//! # cem-ctx
//!
//! Stackful context switching (coroutines, fibers, green threads) in
//! hand-written assembly, over stacks the caller supplies. `no_std`, no
//! allocation, no OS calls: a switch saves the callee-saved registers of the
//! platform ABI into one [`Context`] and loads them from another.
//!
//! The same functions are exported to C (`src/ffi.rs`, header
//! `include/cem_ctx.h`), source-compatible with the Cem runtime's
//! `runtime/context.h`.
//!
//! | ABI | assembly | saved state |
//! |-----|----------|-------------|
//! | x86-64 System V | `asm/x86_64_sysv.s` | rbx, rbp, r12–r15, rsp, MXCSR control bits, x87 control word (the last two only with SSE) |
//! | Microsoft x64 (Windows) | `asm/x86_64_win64.s` | rbx, rbp, rdi, rsi, r12–r15, rsp, xmm6–xmm15, MXCSR control bits, x87 control word, TEB stack fields |
//! | AArch64 AAPCS64 | `asm/aarch64_aapcs64.s` | x19–x28, x29, x30, sp, d8–d15 (with FP) |
//!
//! ## Safety model
//! The library checks everything a pointer and a size can tell it
//! ([`make_context`] returns [`MakeContextError`]); what it cannot check is
//! listed on each `unsafe fn`.
#![no_std]
#![warn(missing_docs)]

#[macro_use]
pub mod arch;
pub mod ffi;

use core::ffi::c_void;

pub use arch::native::{Context, MIN_STACK_SIZE, STACK_ALIGN};

/// Why [`make_context`] refused its arguments. Each variant has a distinct C
/// status code (see [`MakeContextError::code`] and the `CEM_ERR_*` constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MakeContextError {
    /// `ctx` is NULL (`CEM_ERR_NULL_CONTEXT`).
    NullContext,
    /// `ctx` is not aligned to `align_of::<Context>()` (8 bytes) (`CEM_ERR_MISALIGNED_CONTEXT`).
    MisalignedContext,
    /// `func` is NULL (`CEM_ERR_NULL_FUNCTION`).
    NullFunction,
    /// `stack_base` is NULL (`CEM_ERR_NULL_STACK`).
    NullStack,
    /// `stack_base + stack_size` does not fit in the address space (`CEM_ERR_STACK_OVERFLOW`).
    StackOverflowsAddressSpace,
    /// Fewer than [`MIN_STACK_SIZE`] bytes remain after aligning the top
    /// down to [`STACK_ALIGN`] (`CEM_ERR_STACK_TOO_SMALL`).
    StackTooSmall,
}

impl MakeContextError {
    /// The C status code `cem_makecontext_checked` returns for this error
    /// (a negative `CEM_ERR_*` value).
    pub const fn code(self) -> i32 {
        match self {
            Self::NullContext => ffi::CEM_ERR_NULL_CONTEXT,
            Self::MisalignedContext => ffi::CEM_ERR_MISALIGNED_CONTEXT,
            Self::NullFunction => ffi::CEM_ERR_NULL_FUNCTION,
            Self::NullStack => ffi::CEM_ERR_NULL_STACK,
            Self::StackOverflowsAddressSpace => ffi::CEM_ERR_STACK_OVERFLOW,
            Self::StackTooSmall => ffi::CEM_ERR_STACK_TOO_SMALL,
        }
    }

    /// The error for a C status code, if it is one of the `CEM_ERR_*` codes.
    pub const fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            ffi::CEM_ERR_NULL_CONTEXT => Self::NullContext,
            ffi::CEM_ERR_MISALIGNED_CONTEXT => Self::MisalignedContext,
            ffi::CEM_ERR_NULL_FUNCTION => Self::NullFunction,
            ffi::CEM_ERR_NULL_STACK => Self::NullStack,
            ffi::CEM_ERR_STACK_OVERFLOW => Self::StackOverflowsAddressSpace,
            ffi::CEM_ERR_STACK_TOO_SMALL => Self::StackTooSmall,
            _ => return None,
        })
    }

    /// A short English description, NUL-terminated so that `cem_strerror`
    /// can hand it to C as is.
    pub const fn message(self) -> &'static core::ffi::CStr {
        match self {
            Self::NullContext => c"context pointer is NULL",
            Self::MisalignedContext => c"context pointer is not 8-byte aligned",
            Self::NullFunction => c"entry function is NULL",
            Self::NullStack => c"stack_base is NULL",
            Self::StackOverflowsAddressSpace => {
                c"stack_base + stack_size overflows the address space"
            }
            Self::StackTooSmall => c"stack is smaller than CEM_CTX_MIN_STACK_SIZE after alignment",
        }
    }
}

impl core::fmt::Display for MakeContextError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message().to_str().unwrap_or("invalid arguments"))
    }
}

/// An entry or return function as C sees it: `void (*)(void)`.
pub type EntryFn = unsafe extern "C" fn();

/// Stops the process at the documented trap instruction in `cem_context_trap`
/// (`ud2` on x86-64, `brk #0xc0de` on AArch64), with that symbol on top of the
/// backtrace. Used for a context whose entry and return functions both
/// returned, and for invalid arguments to `cem_makecontext`.
pub fn trap() -> ! {
    // SAFETY: the trap takes no arguments and never returns.
    unsafe { ffi::cem_context_trap() }
}

/// Checks the arguments of [`make_context`] and returns the 16-byte aligned
/// stack top on success. Touches no memory.
pub fn check_args(
    ctx: *const Context,
    stack_base: *const c_void,
    stack_size: usize,
    func: Option<EntryFn>,
) -> Result<usize, MakeContextError> {
    if ctx.is_null() {
        return Err(MakeContextError::NullContext);
    }
    if !(ctx as usize).is_multiple_of(core::mem::align_of::<Context>()) {
        return Err(MakeContextError::MisalignedContext);
    }
    if func.is_none() {
        return Err(MakeContextError::NullFunction);
    }
    if stack_base.is_null() {
        return Err(MakeContextError::NullStack);
    }
    let base = stack_base as usize;
    let end = base
        .checked_add(stack_size)
        .ok_or(MakeContextError::StackOverflowsAddressSpace)?;
    let top = end & !(STACK_ALIGN - 1);
    if top < base || top - base < MIN_STACK_SIZE {
        return Err(MakeContextError::StackTooSmall);
    }
    Ok(top)
}

/// Prepares `ctx` so that the first switch into it runs `func` on the stack
/// `[stack_base, stack_base + stack_size)`, which grows down from its high end
/// (rounded down to [`STACK_ALIGN`]). When `func` returns, `return_func` runs
/// on the same stack; if `return_func` is `None` or returns, the process stops
/// in [`trap`]. `func` starts with the ABI's entry alignment, a zero frame
/// pointer and unwind info that ends backtraces at the coroutine root. The new
/// context inherits the caller's FP control state (MXCSR/x87 CW on x86-64).
///
/// `stack_base` may have any alignment; `stack_size` must leave at least
/// [`MIN_STACK_SIZE`] bytes after the top is aligned.
///
/// # Errors
/// Returns [`MakeContextError`] without writing anything when an argument is
/// NULL, `ctx` is misaligned, the range overflows, or the stack is too small.
///
/// # Safety
/// Not checkable here, so the caller guarantees:
/// - `ctx` is valid for writes of a [`Context`];
/// - the stack range is writable memory that nothing else uses while the
///   context can run, and outlives every switch into the context;
/// - `func` and `return_func` are functions safe to call with no arguments on
///   that stack, and the stack is large enough for everything they do.
pub unsafe fn make_context(
    ctx: *mut Context,
    stack_base: *mut c_void,
    stack_size: usize,
    func: Option<EntryFn>,
    return_func: Option<EntryFn>,
) -> Result<(), MakeContextError> {
    let top = check_args(ctx, stack_base, stack_size, func)?;
    let func = func.ok_or(MakeContextError::NullFunction)?;
    let trap_fn: unsafe extern "C" fn() -> ! = ffi::cem_context_trap;
    // A NULL return_func goes straight to the trap: a defined stop, never a
    // jump to address 0.
    // SAFETY: `unsafe extern "C" fn() -> !` and `fn()` share the C ABI; the
    // trampoline only calls it.
    let ret = return_func.unwrap_or(unsafe {
        core::mem::transmute::<unsafe extern "C" fn() -> !, EntryFn>(trap_fn)
    });
    // SAFETY: check_args proved top - MIN_STACK_SIZE .. top lies inside the
    // caller's stack; the caller promised it is writable.
    ctx.write(unsafe { arch::native::init(stack_base as usize, top, func, ret, trap_fn) });
    Ok(())
}

/// Saves the callee-saved state into `save` and resumes the context in
/// `restore`. Returns when some other switch resumes `save`.
/// `save == restore` is allowed and returns at once.
///
/// # Safety
/// - `save` is valid for writes and `restore` for reads of a [`Context`];
/// - `restore` was filled by [`make_context`] or by a switch away from a
///   context that is still suspended there, and its stack is still alive;
/// - a context runs on at most one thread at a time.
#[inline(always)]
pub unsafe fn swap_context(save: *mut Context, restore: *const Context) {
    // SAFETY: forwarded to the caller.
    unsafe { ffi::cem_swapcontext(save, restore) }
}
