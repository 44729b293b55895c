//! # cem-ctx
//!
//! Stackful context switching (coroutines, fibers, green threads) in
//! hand-written assembly, over stacks the caller supplies. `no_std`, no
//! allocation, no OS calls: a switch saves the callee-saved registers of the
//! platform ABI and loads another context's.
//!
//! Two APIs share the same assembly (`asm/`, one file per ABI):
//!
//! - **[`Coroutine`]**: safe, typed coroutines. The closure and its state
//!   live on the coroutine's stack; [`Coroutine::resume`] sends a value in and
//!   gets a [`CoroutineResult`] back, [`Yielder::suspend`] sends one out. The
//!   switch is asymmetric (resume is a `call`, suspend the matching `ret`), so
//!   the return-address predictor stays balanced. [`on_stack`] runs one
//!   function on another stack and comes back.
//! - **The C-shaped API**: [`make_context`] / [`swap_context`] over a
//!   [`Context`], the same functions C programs get from `libcem_ctx.a`
//!   (`include/cem_ctx.h`, source-compatible with the Cem runtime's
//!   `runtime/context.h`). Symmetric: any context may switch to any other.
//!
//! ```
//! use cem_ctx::{Coroutine, CoroutineResult, Yielder};
//!
//! // A 'static stack: here leaked heap memory; in firmware, a `static mut` array.
//! let stack: &'static mut [u8] = vec![0u8; 64 * 1024].leak();
//! let mut fib = Coroutine::new(stack, |limit: u64, y: &Yielder<u64, u64>| {
//!     let (mut a, mut b) = (0u64, 1u64);
//!     while a < limit {
//!         y.suspend(a);
//!         (a, b) = (b, a + b);
//!     }
//!     "done"
//! })
//! .expect("stack large enough");
//!
//! let mut seen = Vec::new();
//! while let CoroutineResult::Yield(v) = fib.resume(50) {
//!     seen.push(v);
//! }
//! assert_eq!(seen, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
//! ```
//!
//! Running deep recursion on a big stack:
//!
//! ```
//! fn depth(n: u32) -> u32 { if n == 0 { 0 } else { 1 + depth(n - 1) } }
//! let mut big = vec![0u8; 16 << 20];
//! assert_eq!(cem_ctx::on_stack(&mut big[..], || depth(100_000)), Ok(100_000));
//! ```
//!
//! ## Supported ABIs and the state each build preserves
//!
//! | ABI | assembly | saved state |
//! |-----|----------|-------------|
//! | x86-64 System V (Linux, macOS, bare metal) | `asm/x86_64_sysv.s` | rbx, rbp, r12–r15, rsp; MXCSR control bits and x87 control word when the target has SSE (not on `x86_64-unknown-none`, where those instructions fault until the kernel enables the FPU) |
//! | Microsoft x64 (Windows) | `asm/x86_64_win64.s` | rbx, rbp, rdi, rsi, r12–r15, rsp, xmm6–xmm15, MXCSR control bits, x87 control word, TEB stack fields |
//! | AArch64 AAPCS64 (Linux, macOS, bare metal) | `asm/aarch64_aapcs64.s` | x19–x28, x29, x30, sp; d8–d15 when the target has FP (not on `aarch64-unknown-none-softfloat`); never x18; FPCR is global state per AAPCS64 and is not switched |
//! | Arm AAPCS32, M-profile (Cortex-M0/M3/M4/M7/M33, bare metal) | `asm/arm_aapcs32_m.s` | r4–r11, sp, lr; s16–s31 with an FPU (`thumbv7em-none-eabihf`, `thumbv8m.main-none-eabihf`); on ARMv8-M Mainline the stack limit (PSPLIM/MSPLIM follow the stack, so an overflow faults); FPSCR is global state per AAPCS32 and is not switched |
//!
//! `Options { fp_control: false }` lets a [`Coroutine`] share the MXCSR/x87
//! control word with its resumer instead of keeping its own (faster on CPUs
//! where reading MXCSR is slow; see [`Options`]).
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---------|---------|--------------|
//! | `std` | off | a panic inside a coroutine propagates to the resumer; dropping a suspended coroutine unwinds its stack (destructors run); `GuardPageStack` (mmap / VirtualAlloc with a guard page); `Box<[u8]>` as a stack |
//!
//! Without `std` the crate needs no allocator and no OS. A firmware crate
//! depends on it and defines its own `#[panic_handler]`; see
//! `examples/firmware`. Stack sizing: [`stack::paint`] a stack, run the
//! workload, take it back with [`Coroutine::into_stack`], and read
//! [`stack::high_water_mark`].
//!
//! ## Safety
//!
//! - [`Coroutine`] and [`on_stack`] are safe. [`Coroutine::new`] wants a
//!   `'static` stack, because a coroutine leaked with `mem::forget` while
//!   suspended must not hand its stack memory back (values may be pinned on
//!   it); [`Coroutine::new_unchecked`] takes any stack under that contract.
//! - Without unwinding (`std` off, or `panic = "abort"`), dropping a
//!   *suspended* coroutine stops the process at `cem_context_trap`, since its
//!   stack's values could be neither dropped nor safely forgotten. Let
//!   coroutines complete, or enable `std`.
//! - `Coroutine` is neither `Send` nor `Sync`: code may hold a reference into
//!   thread-local storage across a suspension.
//! - The C-shaped functions are `unsafe`; each documents what it cannot check.
//!   [`make_context`] checks everything a pointer and a size can tell it and
//!   returns a [`MakeContextError`].
//! - Code that runs on a coroutine stack must not cache the address of a
//!   thread-local across a switch if the context may resume on another thread
//!   (possible with the C-shaped API only).
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

#[macro_use]
pub mod arch;
pub mod coroutine;
pub mod ffi;
pub mod stack;

pub use coroutine::{on_stack, Coroutine, CoroutineResult, Options, Yielder};
#[cfg(all(feature = "std", any(unix, windows)))]
pub use stack::GuardPageStack;
pub use stack::Stack;

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
/// (`ud2` on x86-64, `brk #0xc0de` on AArch64, `udf #0xc0` on Cortex-M), with that symbol on top of the
/// backtrace. Used for a context whose entry and return functions both
/// returned, and for invalid arguments to `cem_makecontext`.
pub fn trap() -> ! {
    // SAFETY: the trap takes no arguments and never returns.
    unsafe { ffi::cem_context_trap() }
}

/// Checks the arguments of [`make_context`] and returns the 16-byte aligned
/// stack top on success. Touches no memory.
fn check_args(
    ctx: *const Context,
    stack_base: *const c_void,
    stack_size: usize,
    has_func: bool,
) -> Result<usize, MakeContextError> {
    if ctx.is_null() {
        return Err(MakeContextError::NullContext);
    }
    if !(ctx as usize).is_multiple_of(core::mem::align_of::<Context>()) {
        return Err(MakeContextError::MisalignedContext);
    }
    if !has_func {
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

/// Shared body of [`make_context`] and [`make_context_with_arg`]: `func` is
/// the entry address (0 for NULL), `arg` what it receives in its first
/// argument register.
unsafe fn make_context_raw(
    ctx: *mut Context,
    stack_base: *mut c_void,
    stack_size: usize,
    func: usize,
    arg: usize,
    return_func: Option<EntryFn>,
) -> Result<(), MakeContextError> {
    let top = check_args(ctx, stack_base, stack_size, func != 0)?;
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
    ctx.write(unsafe { arch::native::init(stack_base as usize, top, func, arg, ret, trap_fn) });
    Ok(())
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
    let func = func.map_or(0, |f| f as usize);
    // SAFETY: forwarded to the caller.
    unsafe { make_context_raw(ctx, stack_base, stack_size, func, 0, return_func) }
}

/// An entry function that receives a pointer: `void (*)(void *)`.
pub type EntryFnWithArg = unsafe extern "C" fn(*mut c_void);

/// Like [`make_context`], but `func` receives `arg` as its argument (as a
/// thread start routine does).
///
/// # Errors
/// As [`make_context`].
///
/// # Safety
/// As [`make_context`]; `arg` must be valid for whatever `func` does with it.
pub unsafe fn make_context_with_arg(
    ctx: *mut Context,
    stack_base: *mut c_void,
    stack_size: usize,
    func: Option<EntryFnWithArg>,
    arg: *mut c_void,
    return_func: Option<EntryFn>,
) -> Result<(), MakeContextError> {
    let func = func.map_or(0, |f| f as usize);
    // SAFETY: forwarded to the caller.
    unsafe { make_context_raw(ctx, stack_base, stack_size, func, arg as usize, return_func) }
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

/// Hints the CPU to fetch `ctx` itself into the cache, ahead of a switch to
/// it. For schedulers that know the next contexts: round robin over many
/// contexts is bound by cache and TLB misses on the contexts and their
/// stacks, and a few iterations of lead hide them. Does nothing where the
/// architecture has no prefetch hint; never faults.
#[inline(always)]
pub fn prefetch_context(ctx: *const Context) {
    arch::native::prefetch(ctx as usize);
}

/// Hints the CPU to fetch the top of `ctx`'s saved stack (what the switch
/// reads first when resuming it). Reads `ctx`'s saved stack pointer, so issue
/// [`prefetch_context`] for it a few iterations earlier.
///
/// # Safety
/// `ctx` must be valid for reads (a prefetch of any address never faults, but
/// reading the saved stack pointer does).
#[inline(always)]
pub unsafe fn prefetch_stack(ctx: *const Context) {
    // SAFETY: forwarded to the caller.
    arch::native::prefetch(saved_stack_pointer(unsafe { &*ctx }));
}

/// The saved stack pointer of a suspended context, on every ABI (x86-64
/// `rsp`, AArch64 `sp`): what `CEM_CONTEXT_GET_SP` gives C. Points into the
/// context's stack (for a fresh context: at or just below its aligned top).
#[inline(always)]
pub fn saved_stack_pointer(ctx: &Context) -> usize {
    #[cfg(target_arch = "x86_64")]
    let sp = ctx.rsp;
    #[cfg(target_arch = "aarch64")]
    let sp = ctx.sp;
    #[cfg(target_arch = "arm")]
    let sp = ctx.sp;
    sp as usize
}

/// Like [`swap_context`], and hands `value` to the other side: the
/// `swap_context_value` call the resumed context is suspended in returns it
/// (a context suspended in plain [`swap_context`] does not see it). Returns
/// the value passed by whoever resumes `save` later (Boost.Context's
/// "transfer").
///
/// # Safety
/// As [`swap_context`].
#[inline(always)]
pub unsafe fn swap_context_value(
    save: *mut Context,
    restore: *const Context,
    value: *mut c_void,
) -> *mut c_void {
    // SAFETY: forwarded to the caller.
    unsafe { ffi::cem_swapcontext_value(save, restore, value) }
}
