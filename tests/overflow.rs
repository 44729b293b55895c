//! The `GuardPageStack` overflow report (`std`): an overflow inside a
//! coroutine prints which stack overflowed and aborts; any other fault in a
//! coroutine still ends the way it did before the handler existed.
//!
//! Each scenario runs in a child process (forked on Unix, so that no exec is
//! needed under qemu-user; on Windows the binary re-runs itself) whose stderr
//! and end (exit code or signal) the parent checks. The child first writes
//! the ranges it expects in the report to stderr, as an `expect` line, from
//! `GuardPageStack::guard_range` and `len`.

use std::hint::black_box;

use cem_ctx::{Coroutine, GuardPageStack, Yielder};
use libtest_mimic::{Arguments, Failed, Trial};

/// Recursion that needs far more than 64 KiB: 512 bytes of frame per level
/// that the optimiser cannot drop (black_box) and no tail call.
fn recurse(n: u64) -> u64 {
    let pad = black_box([n; 64]);
    if n == 0 {
        0
    } else {
        recurse(n - 1) + pad[63]
    }
}

/// Writes to stderr without std's lock: the forked child of a multi-threaded
/// test process must not wait on a lock another thread held at the fork.
fn say(s: &str) {
    #[cfg(unix)]
    // SAFETY: a plain write of our own buffer to fd 2.
    unsafe {
        libc::write(2, s.as_ptr().cast(), s.len());
    }
    #[cfg(windows)]
    eprint!("{s}");
}

/// A 64 KiB guard-page stack; its ranges go to stderr as the `expect` line.
fn announced_stack() -> GuardPageStack {
    let stack = GuardPageStack::new(64 * 1024).expect("GuardPageStack::new");
    let (lo, hi) = stack.guard_range();
    say(&format!("expect {lo:#x} {hi:#x} {:#x}\n", hi + stack.len()));
    stack
}

/// Runs `body` in a coroutine on `stack`.
fn in_coroutine(stack: GuardPageStack, body: fn()) {
    let mut co =
        Coroutine::new(stack, move |(), _: &Yielder<(), ()>| body()).expect("Coroutine::new");
    black_box(co.resume(()));
}

fn overflow() {
    black_box(recurse(black_box(1_000_000)));
}

fn null_write() {
    // Not address 0: ptr::write_volatile checks for null in debug builds and
    // would panic instead of faulting. Page 0 is never mapped (Linux:
    // vm.mmap_min_addr; Windows: the first 64 KiB are reserved).
    // SAFETY: none; this is the fault under test.
    unsafe { core::ptr::write_volatile(black_box(0x10usize) as *mut u64, 1) };
}

/// Runs one scenario in the child; ends the process (a clean exit means the
/// fault did not happen). It runs on the thread the parent named (see
/// `run_named`).
fn child(scenario: &str) -> ! {
    match scenario {
        // The overflow on a thread that has the alternate signal stack Rust's
        // runtime gave it.
        "overflow" => in_coroutine(announced_stack(), overflow),
        // The same among many live stacks, after others were dropped and
        // their registry entries reused: the report must name the one that
        // overflowed, not another live or dead one.
        "overflow-among-many" => {
            let mut live: Vec<GuardPageStack> = (0..64)
                .map(|_| GuardPageStack::new(16 * 1024).expect("GuardPageStack::new"))
                .collect();
            for i in (0..64).step_by(2).rev() {
                drop(live.swap_remove(i));
            }
            live.extend((0..16).map(|_| GuardPageStack::new(32 * 1024).expect("new")));
            let victim = announced_stack();
            live.extend((0..16).map(|_| GuardPageStack::new(8 * 1024).expect("new")));
            black_box(&live);
            in_coroutine(victim, overflow)
        }
        // A thread with no alternate signal stack: GuardPageStack::new must
        // give it one, or the kernel cannot run the handler on the overflowed
        // stack and the process dies with a bare SIGSEGV.
        #[cfg(unix)]
        "overflow-no-altstack" => {
            // SAFETY: disabling this thread's alternate stack while not on it.
            unsafe {
                let off = libc::stack_t {
                    ss_sp: core::ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                assert_eq!(libc::sigaltstack(&off, core::ptr::null_mut()), 0);
            }
            in_coroutine(announced_stack(), overflow)
        }
        // A fault that is not an overflow, with the handler installed (by
        // GuardPageStack::new): must reach the previous handler.
        "null-write" => in_coroutine(announced_stack(), null_write),
        // The same with a program's own SA_SIGINFO handler installed before
        // the first GuardPageStack: it must be the one that runs.
        #[cfg(unix)]
        "null-write-own-handler" => {
            extern "C" fn own(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
                // SAFETY: _exit is async-signal-safe.
                unsafe { libc::_exit(OWN_HANDLER) }
            }
            // SAFETY: a zeroed sigaction with a valid SA_SIGINFO handler.
            unsafe {
                let mut sa: libc::sigaction = core::mem::zeroed();
                sa.sa_sigaction = own as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigaction(libc::SIGSEGV, &sa, core::ptr::null_mut());
            }
            in_coroutine(announced_stack(), null_write)
        }
        // An overflow of the thread's own stack, with the handler installed:
        // Rust's own report must still come out (chained to).
        "thread-overflow" => {
            drop(announced_stack());
            overflow()
        }
        _ => {}
    }
    say("child came back\n");
    std::process::exit(CAME_BACK)
}

const CAME_BACK: i32 = 7;
#[cfg(unix)]
const OWN_HANDLER: i32 = 45;

/// Runs `scenario` in a child process, on a thread named `thread`. On Unix
/// the parent forks from a thread of that name (the child's only thread is
/// its copy, with the same std name and alternate signal stack): a thread
/// created in a forked child trips qemu-user's assertions. On Windows the
/// child starts the thread itself.
fn run_named(thread: &str, scenario: &str) -> Result<(End, String), Failed> {
    let scenario = scenario.to_owned();
    let t = thread.to_owned();
    std::thread::Builder::new()
        .name(thread.into())
        .spawn(move || isolate::run(&scenario, &t))
        .map_err(|e| format!("spawn: {e}"))?
        .join()
        .map_err(|_| "the thread running the child panicked")?
        .map_err(Failed::from)
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    Exit(i32),
    #[cfg(unix)]
    Signal(i32),
}

/// The ranges the child announced: guard start, guard end (= stack start),
/// stack end.
fn expected(stderr: &str) -> Result<[usize; 3], Failed> {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("expect "))
        .ok_or_else(|| format!("no expect line in the child's stderr:\n{stderr}"))?;
    let v: Vec<usize> = line
        .split(' ')
        .map(|s| usize::from_str_radix(s.trim_start_matches("0x"), 16))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad expect line {line:?}: {e}"))?;
    Ok([v[0], v[1], v[2]])
}

/// The report for a stack, as the handler writes it (fixed-width hex).
fn report(r: [usize; 3], thread: &str) -> String {
    let w = 2 + 2 * core::mem::size_of::<usize>();
    format!(
        "cem-ctx: coroutine stack {:#0w$x}-{:#0w$x} (guard page {:#0w$x}-{:#0w$x}) \
         overflowed in thread '{thread}'; aborting\n",
        r[1], r[2], r[0], r[1]
    )
}

/// How the report ends the process: `abort()`, SIGABRT, on Unix; on
/// Windows the exit status of an overflowed thread stack,
/// STATUS_STACK_OVERFLOW.
fn aborted() -> End {
    #[cfg(unix)]
    return End::Signal(libc::SIGABRT);
    #[cfg(windows)]
    return End::Exit(0xC000_00FD_u32 as i32);
}

fn expect_overflow_report(scenario: &str, thread: &str) -> Result<(), Failed> {
    let (end, stderr) = run_named(thread, scenario)?;
    let want = report(expected(&stderr)?, thread);
    if !stderr.contains(&want) {
        return Err(format!("{scenario}: stderr lacks\n  {want}got:\n{stderr}").into());
    }
    if end != aborted() {
        return Err(format!(
            "{scenario}: child ended with {end:?}, expected {:?}",
            aborted()
        )
        .into());
    }
    Ok(())
}

fn null_write_is_not_reported() -> Result<(), Failed> {
    let (end, stderr) = run_named("victim", "null-write")?;
    expected(&stderr)?;
    if stderr.contains("cem-ctx") {
        return Err(format!("a fault that is no overflow was reported:\n{stderr}").into());
    }
    #[cfg(unix)]
    let want = End::Signal(libc::SIGSEGV);
    // Windows: a fault no handler takes ends the process with the exception
    // code, but Wine 8 ends only the faulting thread when the exception's SEH
    // walk ends at a coroutine root (its main thread then sees the join fail
    // and exits 101), so there any failing exit without a report counts, as
    // in thread_overflow_still_reported_by_rust.
    #[cfg(windows)]
    let want = if matches!(end, End::Exit(code) if code != 0) {
        end
    } else {
        End::Exit(0xC000_0005_u32 as i32)
    };
    if end != want {
        return Err(format!(
            "null-write: child ended with {end:?}, expected {want:?}; stderr:\n{stderr}"
        )
        .into());
    }
    Ok(())
}

/// A handler the program installed before the first GuardPageStack still
/// gets the faults that are not overflows.
#[cfg(unix)]
fn own_handler_still_runs() -> Result<(), Failed> {
    let (end, stderr) = run_named("victim", "null-write-own-handler")?;
    if end != End::Exit(OWN_HANDLER) || stderr.contains("cem-ctx") {
        return Err(format!(
            "child ended with {end:?}, expected Exit({OWN_HANDLER}) and no report:\n{stderr}"
        )
        .into());
    }
    Ok(())
}

/// An overflow of a thread's own stack still gets Rust's report.
fn thread_overflow_still_reported_by_rust() -> Result<(), Failed> {
    let (end, stderr) = run_named("victim", "thread-overflow")?;
    // "thread 'victim' has overflowed its stack"; newer Rust puts the
    // thread id after the name.
    let rust_report = stderr
        .lines()
        .any(|l| l.starts_with("thread 'victim'") && l.ends_with("has overflowed its stack"));
    if !rust_report || stderr.contains("cem-ctx") {
        return Err(format!("no Rust overflow report (or a cem-ctx one):\n{stderr}").into());
    }
    #[cfg(unix)]
    if end != End::Signal(libc::SIGABRT) {
        return Err(format!("child ended with {end:?}, expected SIGABRT").into());
    }
    // How the process ends is Windows' business once Rust's handler has
    // passed the exception on: 0xC00000FD on Windows, while Wine 8 ends only
    // the overflowed thread (the joining thread then panics, exit 101).
    #[cfg(windows)]
    if end == End::Exit(0) || end == End::Exit(CAME_BACK) {
        return Err(format!("child ended with {end:?}, expected a failure").into());
    }
    Ok(())
}

#[cfg(unix)]
mod isolate {
    use super::End;

    /// Forks; the child runs `scenario` with stderr into a pipe. Returns how
    /// the child ended and what it wrote to stderr. An alarm ends a child
    /// that hangs (a handler that returns without handing the fault on would
    /// fault again forever).
    pub fn run(scenario: &str, _thread: &str) -> Result<(End, String), String> {
        let mut fds = [0; 2];
        // SAFETY: a pipe into our array.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err("pipe failed".into());
        }
        // SAFETY: the child runs our own code and never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err("fork failed".into());
        }
        if pid == 0 {
            // SAFETY: fd plumbing in the child.
            unsafe {
                libc::dup2(fds[1], 2);
                libc::close(fds[0]);
                libc::close(fds[1]);
                libc::alarm(10);
            }
            super::child(scenario);
        }
        // SAFETY: our write end; the child has its own copy.
        unsafe { libc::close(fds[1]) };
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reading into our buffer.
            let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            out.extend_from_slice(&buf[..n as usize]);
        }
        // SAFETY: our read end.
        unsafe { libc::close(fds[0]) };
        let mut status = 0;
        // SAFETY: pid is our child.
        if unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
            return Err("waitpid failed".into());
        }
        let end = if libc::WIFSIGNALED(status) {
            End::Signal(libc::WTERMSIG(status))
        } else {
            End::Exit(libc::WEXITSTATUS(status))
        };
        Ok((end, String::from_utf8_lossy(&out).into_owned()))
    }

    pub fn run_if_child() {}
}

#[cfg(windows)]
mod isolate {
    use super::End;
    use std::process::Command;

    const CHILD_VAR: &str = "CEM_CTX_OVERFLOW_CHILD";
    const THREAD_VAR: &str = "CEM_CTX_OVERFLOW_THREAD";

    /// Re-runs this binary for `scenario` on a thread named `thread`;
    /// returns its exit code and stderr.
    pub fn run(scenario: &str, thread: &str) -> Result<(End, String), String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let out = Command::new(&exe)
            .env(CHILD_VAR, scenario)
            .env(THREAD_VAR, thread)
            .output()
            .map_err(|e| format!("starting {}: {e}", exe.display()))?;
        let code = out
            .status
            .code()
            .ok_or_else(|| format!("no exit code: {}", out.status))?;
        Ok((
            End::Exit(code),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    pub fn run_if_child() {
        if let Ok(scenario) = std::env::var(CHILD_VAR) {
            let thread = std::env::var(THREAD_VAR).unwrap_or_default();
            std::thread::Builder::new()
                .name(thread)
                .spawn(move || super::child(&scenario))
                .expect("spawn")
                .join()
                .ok();
            std::process::exit(super::CAME_BACK);
        }
    }
}

fn main() {
    isolate::run_if_child();
    let mut args = Arguments::from_args();
    // One test at a time: each forks (Unix), and a fork while another test
    // thread is starting a thread copies std's stack-overflow bookkeeping
    // lock in its held state, so std's own SIGSEGV handler in the child then
    // reports "deadlock in SIGSEGV handler" (seen under qemu-aarch64 in CI).
    args.test_threads = Some(1);
    let mut tests = vec![
        Trial::test("overflow_in_coroutine_is_reported_and_aborts", || {
            expect_overflow_report("overflow", "victim")
        }),
        Trial::test("overflow_among_many_stacks_names_the_right_one", || {
            expect_overflow_report("overflow-among-many", "victim")
        }),
        Trial::test(
            "other_fault_in_coroutine_goes_to_previous_handler",
            null_write_is_not_reported,
        ),
    ];
    tests.push(Trial::test(
        "thread_stack_overflow_still_reported_by_rust",
        thread_overflow_still_reported_by_rust,
    ));
    #[cfg(unix)]
    tests.extend([
        Trial::test("overflow_on_thread_without_altstack_is_reported", || {
            expect_overflow_report("overflow-no-altstack", "no-altstack")
        }),
        Trial::test(
            "other_fault_goes_to_programs_own_handler",
            own_handler_still_runs,
        ),
    ]);
    libtest_mimic::run(&args, tests).exit();
}
