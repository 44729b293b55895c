//! The register canary probe shared by the test binaries: one assembly probe
//! per ABI, `canary_call`, and the comparison of what it found.
//!
//! `canary_call(f, a0, a1, input, output)` saves the caller's callee-saved
//! state, loads `input` into every callee-saved register of the ABI (and, on
//! Windows, into the TEB stack fields), calls `f(a0, a1)`, stores what those
//! registers hold when `f` returns into `output`, and restores the caller's
//! state. `f` is either the switch itself (`cem_swapcontext`, called directly
//! so that no compiler-generated frame can save a register on its behalf) or
//! a small Rust shim around `Coroutine::resume` / `Yielder::suspend`. Either
//! way `f` returns on the side that called it only after the other side ran
//! with its own canaries loaded, so every slot of `output` that differs from
//! `input` is a register the switch failed to preserve.
//!
//! Each ABI module provides the same items: `Regs`, `NAMES`, `MASKS`,
//! `FP_CONTROL`, `MAIN`, `COROUTINE`, and the assembly of `canary_call`.
//! `sp_at_entry` and `entry_sp_ok`, which differ by architecture only, are
//! here.
#![allow(dead_code)]

use core::ffi::c_void;

use libtest_mimic::Failed;

#[cfg(all(target_arch = "x86_64", not(windows)))]
#[path = "x86_64_sysv.rs"]
mod arch;
#[cfg(all(target_arch = "x86_64", windows))]
#[path = "x86_64_win64.rs"]
mod arch;
#[cfg(target_arch = "aarch64")]
#[path = "aarch64_aapcs64.rs"]
mod arch;
#[cfg(target_arch = "riscv64")]
#[path = "riscv_psabi.rs"]
mod arch;

pub use arch::*;

/// The instruction that puts sp into the return register.
#[cfg(target_arch = "x86_64")]
macro_rules! sp_to_return_register {
    () => {
        "mov rax, rsp"
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! sp_to_return_register {
    () => {
        "mov x0, sp"
    };
}
#[cfg(target_arch = "riscv64")]
macro_rules! sp_to_return_register {
    () => {
        "mv a0, sp"
    };
}

// `sp_at_entry()`: the stack pointer at its first instruction.
core::arch::global_asm!(
    ".text",
    ".globl sp_at_entry",
    ".p2align 4",
    "sp_at_entry:",
    sp_to_return_register!(),
    "ret"
);

/// Whether `sp`, as a function finds it at its first instruction, has the
/// ABI's alignment: on x86-64 (psABI §3.2.2, and the Microsoft convention) rsp
/// is 16-byte aligned before the `call`, so `(rsp + 8) % 16 == 0`; AArch64
/// (AAPCS64 §6.4.5.1) and RISC-V (psABI "Integer Calling Convention") keep
/// sp 16-byte aligned at every call.
pub fn entry_sp_ok(sp: u64) -> bool {
    if cfg!(target_arch = "x86_64") {
        (sp + 8).is_multiple_of(16)
    } else {
        sp.is_multiple_of(16)
    }
}

/// What `canary_call` calls: two pointer arguments in the first two argument
/// registers of the C convention.
pub type Callee = unsafe extern "C" fn(*mut c_void, *mut c_void);

extern "C" {
    /// The caller's stack pointer as a function finds it at its first
    /// instruction (check it with `entry_sp_ok`).
    pub fn sp_at_entry() -> u64;

    /// See the module docs. `input` and `output` point at one `Regs` each.
    pub fn canary_call(
        f: Callee,
        a0: *mut c_void,
        a1: *mut c_void,
        input: *const Regs,
        output: *mut Regs,
    );
}

/// A fresh output buffer.
pub const fn zeroed() -> Regs {
    [0; NAMES.len()]
}

/// `base` with `round` folded into every slot except the FP control words
/// (which must stay valid control values), so that each round trip of a test
/// loads values no earlier round left behind.
pub fn variant(base: &Regs, round: u64) -> Regs {
    let mut r = *base;
    for (i, v) in r.iter_mut().enumerate() {
        if !FP_CONTROL.contains(&i) {
            *v ^= round << 12;
        }
    }
    r
}

/// Compares what a side found after being resumed with what it loaded, slot
/// by slot under `MASKS`; slots listed in `skip` are not compared. One message
/// per slot that differs, naming the register.
pub fn diff_regs(side: &str, expected: &Regs, found: &Regs, skip: &[usize]) -> Vec<String> {
    (0..expected.len())
        .filter(|i| !skip.contains(i))
        .filter(|&i| expected[i] & MASKS[i] != found[i] & MASKS[i])
        .map(|i| {
            format!(
                "{side}: {} was {:#x}, expected {:#x}",
                NAMES[i],
                found[i] & MASKS[i],
                expected[i] & MASKS[i]
            )
        })
        .collect()
}

/// [`diff_regs`] as a test result.
pub fn check_regs(side: &str, expected: &Regs, found: &Regs, skip: &[usize]) -> Result<(), Failed> {
    let errors = diff_regs(side, expected, found, skip);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; ").into())
    }
}
