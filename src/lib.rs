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
//! | RISC-V psABI, RV64 and RV32 (Linux, bare metal) | `asm/riscv_psabi.s` | s0–s11, sp, ra; fs0–fs11 when the target has F/D (not on `riscv32imac`); never gp/tp; fcsr has thread storage duration per the psABI and is not switched |
//! | Arm AAPCS32, M-profile (Cortex-M0/M3/M4/M7/M33, bare metal) | `asm/arm_aapcs32_m.s` | r4–r11, sp, lr; s16–s31 with an FPU (`thumbv7em-none-eabihf`, `thumbv8m.main-none-eabihf`); on ARMv8-M Mainline the stack limit (PSPLIM/MSPLIM follow the stack, so an overflow faults); FPSCR is global state per AAPCS32 and is not switched |
//!
//! On x86-64 the MXCSR control bits and the x87 control word belong to each
//! context (loaded only when they differ), while the MXCSR status flags
//! (caller-saved, psABI §3.2.1) follow the running thread, as across a call.
//! `Options { fp_control: false }` lets a [`Coroutine`] share the control
//! state with its resumer instead of keeping its own (a few ns faster; see
//! [`Options`]).
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---------|---------|--------------|
//! | `std` | off | a panic inside a coroutine propagates to the resumer; dropping a suspended coroutine unwinds its stack (destructors run); `GuardPageStack` (mmap / VirtualAlloc with a guard page; an overflow into it prints which stack overflowed and aborts); `Box<[u8]>` as a stack |
//! | `asan` | off | [`Coroutine`] resumes and suspends are announced to AddressSanitizer (`__sanitizer_start_switch_fiber`/`__sanitizer_finish_switch_fiber`), for `-Zsanitizer=address`; the runtime is found at run time (weak references, ELF Linux x86-64/AArch64), so without ASan it costs a load and a branch per switch. `swap_context` (the C ABI) detects ASan without any feature. README "Debugging" |
//! | `tsan` | off | each [`Coroutine`] is a ThreadSanitizer fiber (`__tsan_create_fiber`/`__tsan_switch_to_fiber`), for `-Zsanitizer=thread`; found at run time like `asan` |
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
pub mod context;
pub mod coroutine;
pub mod ffi;
#[cfg(all(feature = "std", any(unix, windows)))]
mod overflow;
mod sanitizer;
pub mod stack;
mod valgrind;

pub use context::{
    make_context, make_context_with_arg, prefetch_context, prefetch_stack, saved_stack_pointer,
    swap_context, swap_context_value, trap, EntryFn, EntryFnWithArg, MakeContextError,
};
pub use coroutine::{on_stack, Coroutine, CoroutineResult, Options, Yielder};
#[cfg(all(feature = "std", any(unix, windows)))]
pub use stack::GuardPageStack;
pub use stack::Stack;

pub use arch::native::{Context, MIN_STACK_SIZE, STACK_ALIGN};
