//! Child processes for the trap tests on Windows: the test binary re-runs
//! itself with `CEM_CTX_CHILD=<scenario>`, and a vectored exception handler
//! reports where the child faulted.

use std::process::Command;

use windows_sys::Win32::System::Diagnostics::Debug::{
    AddVectoredExceptionHandler, EXCEPTION_POINTERS,
};
use windows_sys::Win32::System::Threading::ExitProcess;

use super::{child, in_trap, Stack, FAULT_ELSEWHERE, TRAPPED};

const CHILD_VAR: &str = "CEM_CTX_CHILD";

unsafe extern "system" fn on_exception(info: *mut EXCEPTION_POINTERS) -> i32 {
    // SAFETY: the system passes valid exception pointers to a handler.
    let addr = unsafe { (*(*info).ExceptionRecord).ExceptionAddress } as usize;
    exit_now(if in_trap(addr) {
        TRAPPED
    } else {
        FAULT_ELSEWHERE
    })
}

/// Makes any exception exit with TRAPPED when it was raised inside
/// `cem_context_trap`, FAULT_ELSEWHERE otherwise.
pub fn install_trap_observer() {
    // SAFETY: registers a handler that never returns.
    unsafe { AddVectoredExceptionHandler(1, Some(on_exception)) };
}

/// Ends the process at once.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: ends the process; ExitProcess never returns.
    unsafe { ExitProcess(code as u32) }
}

/// In a child (started by `run_child`), runs the scenario and never returns.
pub fn run_if_child() {
    if let Ok(scenario) = std::env::var(CHILD_VAR) {
        let mut stack = Stack::new(16 * 1024);
        child(&scenario, &mut stack);
    }
}

/// Re-runs this binary as a child for `scenario`; returns its exit code.
pub fn run_child(scenario: &str) -> Result<i32, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let status = Command::new(&exe)
        .env(CHILD_VAR, scenario)
        .status()
        .map_err(|e| format!("starting {}: {e}", exe.display()))?;
    status
        .code()
        .ok_or_else(|| format!("child ended without an exit code: {status}"))
}
