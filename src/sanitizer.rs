//! Sanitizer fiber annotations: AddressSanitizer (C ABI and `Coroutine`) and
//! ThreadSanitizer (`Coroutine`, feature `tsan`).
//!
//! # Run-time detection without a special build
//!
//! A C program compiled with `-fsanitize=address` links the ordinary
//! `libcem_ctx.a`; nothing in the library is compiled with ASan. It finds the
//! sanitizer runtime through *weak* references (ELF `.weak`): the table
//! `cem_ctx_sanitizer_fns` below holds the addresses of the runtime's fiber
//! functions, which the linker or the dynamic loader fills in when the
//! runtime is part of the program (clang links it statically, gcc loads
//! `libasan.so`), and leaves at 0 otherwise. The table lives in
//! `.data.rel.ro`: written once by relocation, read-only afterwards (RELRO).
//!
//! - `cem_swapcontext` tests the table's first word (one RIP/PC-relative load
//!   and a predicted-not-taken branch) and, when ASan is present, takes a
//!   slow path that calls `__sanitizer_start_switch_fiber` /
//!   `__sanitizer_finish_switch_fiber` around the switch (asm/*_asan.s).
//! - `cem_makecontext*` unpoisons the whole stack
//!   (`__asan_unpoison_memory_region`): redzones that an earlier context left
//!   on the same memory are stale, and would give false reports.
//!
//! Only ELF Linux targets with a slow path (x86-64 System V, AArch64) have the
//! table; elsewhere (Windows, macOS, RISC-V, bare metal) every hook is a
//! constant "absent" and the switch is unchanged.
//!
//! # Where ASan's stack bounds come from (C ABI)
//!
//! `__sanitizer_start_switch_fiber` needs the bounds of the stack being
//! switched *to*, and the Cem `cem_context_t` has no field for them. They are
//! kept on the stacks themselves, at a fixed offset from the saved stack
//! pointer (each ABI's `AsanFrame`):
//!
//! - a fresh context (made while ASan is present) gets an initial frame that
//!   holds its stack's base and size;
//! - a context suspended by the slow path leaves a frame with two empty bound
//!   slots and passes their address across the switch; the resumed side's
//!   `__sanitizer_finish_switch_fiber` fills them with the bounds of the
//!   stack it came from (which ASan knows: the thread's own stack for the
//!   main context, or the bounds given when that stack was entered). So the
//!   main thread's stack, never made by `cem_makecontext`, is described too.
//! - the same frame holds the suspended side's `fake_stack_save` (ASan's
//!   detect_stack_use_after_return keeps frames on a per-fiber "fake stack").
//!
//! Limits: a C context that finishes and is never resumed again cannot be
//! told apart from a suspended one, so its fake stack (only allocated with
//! `detect_stack_use_after_return=1`) is not freed early. The Rust
//! `Coroutine` knows when it completes and passes NULL then, as ASan asks.

use core::ffi::c_void;

/// `__sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size)`.
pub(crate) type StartSwitchFiber = unsafe extern "C" fn(*mut *mut c_void, *const c_void, usize);
/// `__sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old)`.
pub(crate) type FinishSwitchFiber =
    unsafe extern "C" fn(*mut c_void, *mut *const c_void, *mut usize);
/// `__asan_unpoison_memory_region(const volatile void *addr, size_t size)`.
pub(crate) type UnpoisonMemoryRegion = unsafe extern "C" fn(*const c_void, usize);

/// The sanitizer runtime's entry points as the loader resolved them: `None`
/// where the program has no such runtime. 56 bytes, 8-byte aligned; the
/// assembly reads `start_switch_fiber` (offset 0) and
/// `finish_switch_fiber` (offset 8) by the names `SAN_START`/`SAN_FINISH`.
#[repr(C)]
pub(crate) struct SanitizerFns {
    /// ASan: `__sanitizer_start_switch_fiber`, offset 0.
    pub start_switch_fiber: Option<StartSwitchFiber>,
    /// ASan: `__sanitizer_finish_switch_fiber`, offset 8.
    pub finish_switch_fiber: Option<FinishSwitchFiber>,
    /// ASan: `__asan_unpoison_memory_region`, offset 16.
    pub unpoison_memory_region: Option<UnpoisonMemoryRegion>,
    /// TSan: `void *__tsan_get_current_fiber(void)`, offset 24.
    pub tsan_get_current_fiber: Option<unsafe extern "C" fn() -> *mut c_void>,
    /// TSan: `void *__tsan_create_fiber(unsigned flags)`, offset 32.
    pub tsan_create_fiber: Option<unsafe extern "C" fn(u32) -> *mut c_void>,
    /// TSan: `void __tsan_destroy_fiber(void *fiber)`, offset 40.
    pub tsan_destroy_fiber: Option<unsafe extern "C" fn(*mut c_void)>,
    /// TSan: `void __tsan_switch_to_fiber(void *fiber, unsigned flags)`, offset 48.
    pub tsan_switch_to_fiber: Option<unsafe extern "C" fn(*mut c_void, u32)>,
}

/// Whether this target has the weak-reference table (and the switch its
/// ASan slow path): ELF Linux on x86-64 and AArch64. Read by the System V and
/// AAPCS64 modules as the assembler flag `CEM_ASAN` (unused by other ABIs).
#[allow(dead_code)]
pub(crate) const HOOKS: bool = cfg!(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
));

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
core::arch::global_asm!(
    // "aw" + a .data.rel.ro name: the linker puts it under RELRO, so the
    // words are read-only once the loader has relocated them.
    ".pushsection .data.rel.ro.cem_ctx_sanitizer_fns, \"aw\", %progbits",
    ".p2align 3",
    ".globl cem_ctx_sanitizer_fns",
    ".hidden cem_ctx_sanitizer_fns",
    ".type cem_ctx_sanitizer_fns, %object",
    "cem_ctx_sanitizer_fns:",
    // Weak: an absent runtime resolves to 0 instead of failing the link.
    ".weak __sanitizer_start_switch_fiber",
    ".weak __sanitizer_finish_switch_fiber",
    ".weak __asan_unpoison_memory_region",
    ".weak __tsan_get_current_fiber",
    ".weak __tsan_create_fiber",
    ".weak __tsan_destroy_fiber",
    ".weak __tsan_switch_to_fiber",
    ".quad __sanitizer_start_switch_fiber",
    ".quad __sanitizer_finish_switch_fiber",
    ".quad __asan_unpoison_memory_region",
    ".quad __tsan_get_current_fiber",
    ".quad __tsan_create_fiber",
    ".quad __tsan_destroy_fiber",
    ".quad __tsan_switch_to_fiber",
    ".size cem_ctx_sanitizer_fns, . - cem_ctx_sanitizer_fns",
    ".popsection",
);

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
extern "C" {
    static cem_ctx_sanitizer_fns: SanitizerFns;
}

/// The resolved table, or `None` on targets without one.
#[inline(always)]
pub(crate) fn fns() -> Option<&'static SanitizerFns> {
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    {
        // SAFETY: defined above, written only by the loader's relocation.
        Some(unsafe { &*core::ptr::addr_of!(cem_ctx_sanitizer_fns) })
    }
    #[cfg(not(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )))]
    {
        None
    }
}

/// The ASan fiber functions when the program runs under ASan.
#[inline(always)]
#[allow(dead_code)]
pub(crate) fn asan() -> Option<(StartSwitchFiber, FinishSwitchFiber)> {
    let f = fns()?;
    Some((f.start_switch_fiber?, f.finish_switch_fiber?))
}

/// Called by `cem_makecontext*` (each ABI's `init`) before it writes a fresh
/// stack: under ASan, unpoisons `[base, top)` (stale redzones of an earlier
/// context on the same memory would otherwise give false reports) and
/// returns true, so that the caller writes the ASan initial frame that holds
/// the stack's bounds. Without ASan: false, nothing done.
#[inline]
#[allow(dead_code)]
pub(crate) fn asan_prepare_stack(base: usize, top: usize) -> bool {
    match fns() {
        Some(SanitizerFns {
            start_switch_fiber: Some(_),
            finish_switch_fiber: Some(_),
            unpoison_memory_region: Some(unpoison),
            ..
        }) => {
            // SAFETY: the caller owns [base, top) (make_context's contract).
            unsafe { unpoison(base as *const c_void, top - base) };
            true
        }
        _ => false,
    }
}

// ------------------------------------------------ Rust Coroutine annotations

/// Sanitizer state of one Rust `Coroutine`, kept in its header on the
/// coroutine stack. Empty (0 bytes) unless the `asan` or `tsan` feature is
/// on, and every method is then a no-op the compiler removes.
///
/// ASan protocol (AddressSanitizer's `common_interface_defs.h`): before each
/// switch `__sanitizer_start_switch_fiber(&save, dest_bottom, dest_size)`,
/// with `save` = NULL when the side switching away will never run again
/// (the coroutine's final suspend); right after each switch, on the new
/// stack, `__sanitizer_finish_switch_fiber(save, &old_bottom, &old_size)`
/// with the `save` this side stored when it left (NULL on first entry).
///
/// TSan protocol (`tsan_interface.h`): one fiber per coroutine
/// (`__tsan_create_fiber` in `new`, `__tsan_destroy_fiber` in drop),
/// `__tsan_switch_to_fiber` before each switch, to the coroutine on resume
/// and back to the resumer's fiber (`__tsan_get_current_fiber` at resume)
/// on suspend.
pub(crate) struct FiberState {
    #[cfg(feature = "asan")]
    co_bottom: usize,
    #[cfg(feature = "asan")]
    co_size: usize,
    /// The resumer's stack, learnt by the coroutine when it is entered.
    #[cfg(feature = "asan")]
    parent_bottom: *const c_void,
    #[cfg(feature = "asan")]
    parent_size: usize,
    /// The coroutine's fake stack while it is suspended.
    #[cfg(feature = "asan")]
    co_fake: *mut c_void,
    /// The resumer's fake stack while the coroutine runs.
    #[cfg(feature = "asan")]
    parent_fake: *mut c_void,
    #[cfg(feature = "tsan")]
    fiber: *mut c_void,
    #[cfg(feature = "tsan")]
    parent_fiber: *mut c_void,
}

#[allow(unused_variables, dead_code)]
impl FiberState {
    /// State for a coroutine on `[base, base + size)`. Creates the TSan fiber.
    #[inline(always)]
    pub(crate) fn new(base: usize, size: usize) -> Self {
        FiberState {
            #[cfg(feature = "asan")]
            co_bottom: base,
            #[cfg(feature = "asan")]
            co_size: size,
            #[cfg(feature = "asan")]
            parent_bottom: core::ptr::null(),
            #[cfg(feature = "asan")]
            parent_size: 0,
            #[cfg(feature = "asan")]
            co_fake: core::ptr::null_mut(),
            #[cfg(feature = "asan")]
            parent_fake: core::ptr::null_mut(),
            #[cfg(feature = "tsan")]
            fiber: match fns().and_then(|f| f.tsan_create_fiber) {
                // SAFETY: plain TSan runtime call; flags 0.
                Some(create) => unsafe { create(0) },
                None => core::ptr::null_mut(),
            },
            #[cfg(feature = "tsan")]
            parent_fiber: core::ptr::null_mut(),
        }
    }

    /// Resumer side, right before the switch into the coroutine.
    #[inline(always)]
    pub(crate) unsafe fn before_resume(this: *mut Self) {
        #[cfg(feature = "tsan")]
        if let Some(f) = fns() {
            if let (Some(current), Some(switch), false) = (
                f.tsan_get_current_fiber,
                f.tsan_switch_to_fiber,
                (*this).fiber.is_null(),
            ) {
                (*this).parent_fiber = current();
                switch((*this).fiber, 0);
            }
        }
        #[cfg(feature = "asan")]
        if let Some((start, _)) = asan() {
            start(
                &mut (*this).parent_fake,
                (*this).co_bottom as *const c_void,
                (*this).co_size,
            );
        }
    }

    /// Resumer side, right after the coroutine suspended back to it.
    #[inline(always)]
    pub(crate) unsafe fn after_resume(this: *mut Self) {
        #[cfg(feature = "asan")]
        if let Some((_, finish)) = asan() {
            finish(
                (*this).parent_fake,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
            );
        }
    }

    /// Coroutine side, first thing on entry (its first resume).
    #[inline(always)]
    pub(crate) unsafe fn on_entry(this: *mut Self) {
        #[cfg(feature = "asan")]
        if let Some((_, finish)) = asan() {
            finish(
                core::ptr::null_mut(),
                &mut (*this).parent_bottom,
                &mut (*this).parent_size,
            );
        }
    }

    /// Coroutine side, right before it suspends; `last`: it will never run
    /// again (completed), so ASan may free its fake stack.
    #[inline(always)]
    pub(crate) unsafe fn before_suspend(this: *mut Self, last: bool) {
        #[cfg(feature = "asan")]
        if let Some((start, _)) = asan() {
            let save = if last {
                core::ptr::null_mut()
            } else {
                &mut (*this).co_fake as *mut *mut c_void
            };
            start(save, (*this).parent_bottom, (*this).parent_size);
        }
        #[cfg(feature = "tsan")]
        if let Some(f) = fns() {
            if let (Some(switch), false) = (f.tsan_switch_to_fiber, (*this).fiber.is_null()) {
                switch((*this).parent_fiber, 0);
            }
        }
    }

    /// Coroutine side, right after a suspend returned (it was resumed). The
    /// resumer may be another stack than last time (a coroutine resumed from
    /// inside another one), so the bounds are learnt again.
    #[inline(always)]
    pub(crate) unsafe fn after_suspend(this: *mut Self) {
        #[cfg(feature = "asan")]
        if let Some((_, finish)) = asan() {
            finish(
                (*this).co_fake,
                &mut (*this).parent_bottom,
                &mut (*this).parent_size,
            );
        }
    }

    /// When the coroutine is dropped: frees the TSan fiber. Must not run on
    /// the fiber itself.
    #[inline(always)]
    pub(crate) unsafe fn destroy(this: *mut Self) {
        #[cfg(feature = "tsan")]
        if let Some(f) = fns() {
            if let (Some(destroy), false) = (f.tsan_destroy_fiber, (*this).fiber.is_null()) {
                destroy((*this).fiber);
                (*this).fiber = core::ptr::null_mut();
            }
        }
    }
}
