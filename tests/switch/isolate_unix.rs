//! Child processes for the trap tests on Unix: fork, so that no exec is
//! needed (under qemu-user a foreign binary cannot exec itself).

use super::{child, in_trap, Stack, FAULT_ELSEWHERE, TRAPPED};

extern "C" fn on_fatal_signal(
    _sig: libc::c_int,
    info: *mut libc::siginfo_t,
    _uc: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    exit_now(if in_trap(addr) {
        TRAPPED
    } else {
        FAULT_ELSEWHERE
    });
}

/// Makes SIGILL/SIGTRAP/SIGSEGV/SIGBUS exit with TRAPPED when the faulting
/// address is inside `cem_context_trap`, FAULT_ELSEWHERE otherwise.
pub fn install_trap_observer() {
    // SAFETY: a zeroed sigaction with a valid SA_SIGINFO handler.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = on_fatal_signal as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        for sig in [libc::SIGILL, libc::SIGTRAP, libc::SIGSEGV, libc::SIGBUS] {
            libc::sigaction(sig, &sa, core::ptr::null_mut());
        }
    }
}

/// Ends the process at once, without running atexit handlers of the parent.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and ends the process.
    unsafe { libc::_exit(code) }
}

/// Nothing to do: children are forked, not started from `main`.
pub fn run_if_child() {}

/// Forks; the child runs `child(scenario)`. Returns the child's exit code.
/// The stack is allocated before the fork so that the child never needs the
/// allocator (another test thread may hold its lock at the fork).
pub fn run_child(scenario: &str) -> Result<i32, String> {
    let mut stack = Stack::new(16 * 1024);
    // SAFETY: the child only runs our own code and async-signal-safe calls.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("fork failed".into());
    }
    if pid == 0 {
        child(scenario, &mut stack);
    }
    let mut status = 0;
    // SAFETY: pid is our child.
    if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        return Err("waitpid failed".into());
    }
    if libc::WIFEXITED(status) {
        Ok(libc::WEXITSTATUS(status))
    } else {
        Err(format!("child ended without exiting (status {status:#x})"))
    }
}
