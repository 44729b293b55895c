//! Child processes on Unix: fork, so that no exec is needed (under qemu-user
//! a foreign binary cannot exec itself).

use super::{classify, ScratchStack};

extern "C" fn on_fatal_signal(
    _sig: libc::c_int,
    info: *mut libc::siginfo_t,
    _uc: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    exit_now(classify(addr));
}

/// Signal stack for the observer: a stack overflow leaves no room on the
/// faulting stack to run a handler.
static mut ALT_STACK: [u8; 64 * 1024] = [0; 64 * 1024];

/// Makes SIGILL/SIGTRAP/SIGSEGV/SIGBUS exit with `classify(fault address)`.
pub fn install_trap_observer() {
    // SAFETY: the alternate stack is a static used only by this handler; a
    // zeroed sigaction with a valid SA_SIGINFO handler.
    unsafe {
        let ss = libc::stack_t {
            ss_sp: core::ptr::addr_of_mut!(ALT_STACK).cast(),
            ss_flags: 0,
            ss_size: 64 * 1024,
        };
        libc::sigaltstack(&ss, core::ptr::null_mut());
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = on_fatal_signal as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        for sig in [libc::SIGILL, libc::SIGTRAP, libc::SIGSEGV, libc::SIGBUS] {
            libc::sigaction(sig, &sa, core::ptr::null_mut());
        }
    }
}

/// Ends the process at once, without running the parent's atexit handlers.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and ends the process.
    unsafe { libc::_exit(code) }
}

/// Nothing to do: children are forked, not started from `main`.
pub fn run_if_child() {}

/// Forks; the child runs `crate::child(scenario)`. Returns the child's exit
/// code. The scratch stack is allocated before the fork so that the child
/// need not use the allocator (another test thread may hold its lock).
pub fn run_child(scenario: &str) -> Result<i32, String> {
    let mut stack = ScratchStack::new(64 * 1024);
    // SAFETY: the child runs our own code and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("fork failed".into());
    }
    if pid == 0 {
        crate::child(scenario, &mut stack);
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
