//! Helpers shared by the test binaries: caller-owned scratch stacks, and
//! child processes for tests that must watch the process stop (at the trap,
//! or on a guard page). Each test binary defines
//! `fn child(scenario: &str, stack: &mut ScratchStack) -> !` at its root;
//! `isolate::run_child` runs it in a second process and returns its exit code.
#![allow(dead_code)]

use libtest_mimic::Failed;

pub mod canary;
#[cfg(unix)]
#[path = "isolate_unix.rs"]
pub mod isolate;
#[cfg(windows)]
#[path = "isolate_windows.rs"]
pub mod isolate;

/// A caller-owned stack for the raw API: 16-byte aligned heap memory.
pub struct ScratchStack(Vec<u128>);

impl ScratchStack {
    pub fn new(bytes: usize) -> Self {
        ScratchStack(vec![0u128; bytes.div_ceil(16)])
    }
    pub fn base(&mut self) -> *mut core::ffi::c_void {
        self.0.as_mut_ptr().cast()
    }
    pub fn size(&self) -> usize {
        self.0.len() * 16
    }
}

/// Child exit codes.
pub const TRAPPED: i32 = 42;
pub const FAULT_ELSEWHERE: i32 = 43;
pub const CAME_BACK: i32 = 7;
pub const UNKNOWN_SCENARIO: i32 = 9;

/// What a fault at `addr` means: inside `cem_context_trap`, or anywhere else.
pub fn classify(addr: usize) -> i32 {
    let trap = cem_ctx::ffi::cem_context_trap as *const () as usize;
    if addr >= trap && addr < trap + 16 {
        TRAPPED
    } else {
        FAULT_ELSEWHERE
    }
}

/// Names a child exit code for failure messages.
pub fn describe(code: i32) -> String {
    let what = match code {
        TRAPPED => "stopped in cem_context_trap",
        FAULT_ELSEWHERE => "faulted elsewhere",
        CAME_BACK => "the context came back",
        UNKNOWN_SCENARIO => "unknown scenario",
        _ => "other",
    };
    format!("{code} ({what})")
}

/// Runs `scenario` in a child process and checks its exit code is one of `want`.
pub fn expect_child(scenario: &str, want: &[i32]) -> Result<(), Failed> {
    let code = isolate::run_child(scenario)?;
    if want.contains(&code) {
        Ok(())
    } else {
        let wanted: Vec<String> = want.iter().map(|&c| describe(c)).collect();
        Err(format!(
            "{scenario}: child exited with {}, expected {}",
            describe(code),
            wanted.join(" or ")
        )
        .into())
    }
}

pub fn ensure(cond: bool, msg: impl Into<String>) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(msg.into().into())
    }
}
