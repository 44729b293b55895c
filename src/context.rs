//! The C-shaped API: [`make_context`] / [`swap_context`] over a [`Context`],
//! the Rust face of what `libcem_ctx.a` exports to C (`src/ffi.rs` is a thin
//! layer over this module), and the argument checks that
//! [`Coroutine`](crate::Coroutine)'s constructors share.

use core::ffi::c_void;

use crate::arch::{self, native};
use crate::{Context, MIN_STACK_SIZE, STACK_ALIGN};

/// Why [`make_context`] refused its arguments. Each variant has a distinct C
/// status code (see [`MakeContextError::code`] and the `CEM_ERR_*` constants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum MakeContextError {
    /// `ctx` is NULL (`CEM_ERR_NULL_CONTEXT`).
    NullContext = -1,
    /// `ctx` is not aligned to `align_of::<Context>()` (8 bytes) (`CEM_ERR_MISALIGNED_CONTEXT`).
    MisalignedContext = -2,
    /// `func` is NULL (`CEM_ERR_NULL_FUNCTION`).
    NullFunction = -3,
    /// `stack_base` is NULL (`CEM_ERR_NULL_STACK`).
    NullStack = -4,
    /// `stack_base + stack_size` does not fit in the address space (`CEM_ERR_STACK_OVERFLOW`).
    StackOverflowsAddressSpace = -5,
    /// Fewer than [`MIN_STACK_SIZE`] bytes remain after aligning the top
    /// down to [`STACK_ALIGN`] (`CEM_ERR_STACK_TOO_SMALL`).
    StackTooSmall = -6,
}

impl MakeContextError {
    /// Every error, for looking one up by its code.
    const ALL: [Self; 6] = [
        Self::NullContext,
        Self::MisalignedContext,
        Self::NullFunction,
        Self::NullStack,
        Self::StackOverflowsAddressSpace,
        Self::StackTooSmall,
    ];

    /// The C status code `cem_makecontext_checked` returns for this error
    /// (a negative `CEM_ERR_*` value; `src/ffi.rs` asserts they agree).
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The error for a C status code, if it is one of the `CEM_ERR_*` codes.
    pub const fn from_code(code: i32) -> Option<Self> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if Self::ALL[i].code() == code {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
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
/// (`ud2` on x86-64, `brk #0xc0de` on AArch64, `unimp` on RISC-V, `udf #0xc0`
/// on Cortex-M), with that symbol on top of the
/// backtrace. Used for a context whose entry and return functions both
/// returned, and for invalid arguments to `cem_makecontext`.
pub fn trap() -> ! {
    // SAFETY: the trap takes no arguments and never returns.
    unsafe { arch::cem_context_trap() }
}

/// The checks every constructor of a context shares (the C-shaped API and
/// [`Coroutine`](crate::Coroutine)): `base` is not NULL and `base + size`
/// does not wrap. Returns the end of the stack rounded down to
/// [`STACK_ALIGN`], which may lie below `base` for a tiny stack (callers
/// compare it against their own minimum).
pub(crate) fn aligned_stack_top(base: usize, size: usize) -> Result<usize, MakeContextError> {
    if base == 0 {
        return Err(MakeContextError::NullStack);
    }
    let end = base
        .checked_add(size)
        .ok_or(MakeContextError::StackOverflowsAddressSpace)?;
    Ok(end & !(STACK_ALIGN - 1))
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
    let base = stack_base as usize;
    let top = aligned_stack_top(base, stack_size)?;
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
    let trap_fn: unsafe extern "C" fn() -> ! = arch::cem_context_trap;
    // A NULL return_func goes straight to the trap: a defined stop, never a
    // jump to address 0.
    // SAFETY: `unsafe extern "C" fn() -> !` and `fn()` share the C ABI; the
    // trampoline only calls it.
    let ret = return_func.unwrap_or(unsafe {
        core::mem::transmute::<unsafe extern "C" fn() -> !, EntryFn>(trap_fn)
    });
    // Under Valgrind the range becomes a known stack, and earlier stacks it
    // overlaps are retired first, so that init's writes land in accessible
    // memory (src/valgrind.rs). Natively one no-op request.
    crate::valgrind::register_context_stack(stack_base as usize, top);
    // SAFETY: check_args proved top - MIN_STACK_SIZE .. top lies inside the
    // caller's stack; the caller promised it is writable.
    ctx.write(unsafe { native::init(stack_base as usize, top, func, arg, ret, trap_fn) });
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
    unsafe { arch::cem_swapcontext(save, restore) }
}

/// Hints the CPU to fetch `ctx` itself into the cache, ahead of a switch to
/// it. For schedulers that know the next contexts: round robin over many
/// contexts is bound by cache and TLB misses on the contexts and their
/// stacks, and a few iterations of lead hide them. Does nothing where the
/// architecture has no prefetch hint; never faults.
#[inline(always)]
pub fn prefetch_context(ctx: *const Context) {
    native::prefetch(ctx as usize);
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
    native::prefetch(saved_stack_pointer(unsafe { &*ctx }));
}

/// The saved stack pointer of a suspended context, on every ABI (x86-64
/// `rsp`, AArch64, RISC-V and Cortex-M `sp`): what `CEM_CONTEXT_GET_SP` gives C. Points into the
/// context's stack (for a fresh context: at or just below its aligned top).
#[inline(always)]
pub fn saved_stack_pointer(ctx: &Context) -> usize {
    native::saved_sp(ctx)
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
    unsafe { arch::cem_swapcontext_value(save, restore, value) }
}
