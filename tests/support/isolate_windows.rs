//! Child processes on Windows: the test binary re-runs itself with
//! `CEM_CTX_CHILD=<scenario>`, and a vectored exception handler reports
//! where the child faulted.

use std::process::Command;

use windows_sys::Win32::Foundation::{EXCEPTION_ACCESS_VIOLATION, STATUS_GUARD_PAGE_VIOLATION};
use windows_sys::Win32::System::Diagnostics::Debug::{
    AddVectoredExceptionHandler, EXCEPTION_POINTERS,
};
use windows_sys::Win32::System::Threading::ExitProcess;

use super::{classify, ScratchStack};

const CHILD_VAR: &str = "CEM_CTX_CHILD";

unsafe extern "system" fn on_exception(info: *mut EXCEPTION_POINTERS) -> i32 {
    // SAFETY: the system passes valid exception pointers to a handler.
    let record = unsafe { &*(*info).ExceptionRecord };
    // For an access or guard-page violation the faulting data address is the
    // second parameter; otherwise classify the instruction address.
    let data_fault = record.ExceptionCode == EXCEPTION_ACCESS_VIOLATION
        || record.ExceptionCode == STATUS_GUARD_PAGE_VIOLATION;
    let addr = if data_fault && record.NumberParameters >= 2 {
        record.ExceptionInformation[1]
    } else {
        record.ExceptionAddress as usize
    };
    exit_now(classify(addr))
}

/// Makes any exception exit with `classify(address)`.
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
        let mut stack = ScratchStack::new(64 * 1024);
        crate::child(&scenario, &mut stack);
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
