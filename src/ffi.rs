//! The C ABI: what `include/cem_ctx.h` declares (generated from this file by
//! cbindgen). Source-compatible with the Cem runtime's `runtime/context.h`:
//! same type, field names, layout, macros and the two functions, plus a
//! checked variant of `cem_makecontext` with error codes.
//!
//! A leaf over [`crate::context`]: the checks and the work happen there, this
//! file only turns them into C functions, status codes and constants.

use core::ffi::{c_char, c_int, c_void};

use crate::context::{make_context, make_context_with_arg, trap, MakeContextError};
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

// The MakeContextError discriminants are these codes; both must agree.
static_assertions::const_assert_eq!(CEM_ERR_NULL_CONTEXT, MakeContextError::NullContext.code());
static_assertions::const_assert_eq!(
    CEM_ERR_MISALIGNED_CONTEXT,
    MakeContextError::MisalignedContext.code()
);
static_assertions::const_assert_eq!(CEM_ERR_NULL_FUNCTION, MakeContextError::NullFunction.code());
static_assertions::const_assert_eq!(CEM_ERR_NULL_STACK, MakeContextError::NullStack.code());
static_assertions::const_assert_eq!(
    CEM_ERR_STACK_OVERFLOW,
    MakeContextError::StackOverflowsAddressSpace.code()
);
static_assertions::const_assert_eq!(
    CEM_ERR_STACK_TOO_SMALL,
    MakeContextError::StackTooSmall.code()
);

/// The switch itself and the trap, defined by each ABI's `asm/` source and
/// declared (with their contracts) in `src/arch/mod.rs`.
pub use crate::arch::{cem_context_trap, cem_swapcontext, cem_swapcontext_value};

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
    match unsafe { make_context(ctx, stack_base, stack_size, func, return_func) } {
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
    match unsafe { make_context_with_arg(ctx, stack_base, stack_size, func, arg, return_func) } {
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
        trap();
    }
}

/// A static, NUL-terminated English description of a `cem_makecontext_checked`
/// status code ("unknown status" for codes it never returns). Never NULL;
/// the caller must not free it.
#[no_mangle]
pub extern "C" fn cem_strerror(status: c_int) -> *const c_char {
    let msg = match MakeContextError::from_code(status) {
        Some(e) => e.message(),
        None if status == CEM_OK => c"success",
        None => c"unknown status",
    };
    msg.as_ptr()
}

/// Major version of cem-ctx (SemVer, equal to the Cargo package version; a
/// build fails if they differ). With the major version 0, a new minor version
/// may break the C ABI, so the shared library's soname carries MAJOR.MINOR.
pub const CEM_CTX_VERSION_MAJOR: u32 = 0;
/// Minor version of cem-ctx (SemVer, equal to the Cargo package version).
pub const CEM_CTX_VERSION_MINOR: u32 = 1;
/// Patch version of cem-ctx (SemVer, equal to the Cargo package version).
pub const CEM_CTX_VERSION_PATCH: u32 = 0;
/// The version of this header as one number, `(MAJOR << 16) | (MINOR << 8) |
/// PATCH` (each part below 256), comparable with `cem_ctx_version()`.
pub const CEM_CTX_VERSION: u32 =
    (CEM_CTX_VERSION_MAJOR << 16) | (CEM_CTX_VERSION_MINOR << 8) | CEM_CTX_VERSION_PATCH;

/// Parses one decimal component of `CARGO_PKG_VERSION_*` at compile time.
const fn version_part(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0u32;
    while i < b.len() {
        assert!(
            b[i].is_ascii_digit(),
            "version part is not a decimal number"
        );
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

// The header's version constants are literals (cbindgen copies literals, not
// `env!`), so the build itself checks them against Cargo.toml's version.
static_assertions::const_assert_eq!(
    CEM_CTX_VERSION_MAJOR,
    version_part(env!("CARGO_PKG_VERSION_MAJOR"))
);
static_assertions::const_assert_eq!(
    CEM_CTX_VERSION_MINOR,
    version_part(env!("CARGO_PKG_VERSION_MINOR"))
);
static_assertions::const_assert_eq!(
    CEM_CTX_VERSION_PATCH,
    version_part(env!("CARGO_PKG_VERSION_PATCH"))
);
static_assertions::const_assert!(
    CEM_CTX_VERSION_MAJOR < 256 && CEM_CTX_VERSION_MINOR < 256 && CEM_CTX_VERSION_PATCH < 256
);

/// The version of the linked library, encoded like `CEM_CTX_VERSION`. A
/// program compares it with the `CEM_CTX_VERSION` it was compiled against to
/// detect a header/library mismatch (for example an older `libcem_ctx.so`
/// found at run time); the ABI is the same when MAJOR.MINOR are equal (or,
/// with MAJOR 0, when MINOR is). Never fails.
#[no_mangle]
pub extern "C" fn cem_ctx_version() -> u32 {
    CEM_CTX_VERSION
}
