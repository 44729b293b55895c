//! The stack-overflow report for [`crate::GuardPageStack`] (`std`).
//!
//! An overflow into a guard page is a memory fault on a stack the OS does not
//! know as a thread stack, so Rust's own "thread '…' has overflowed its
//! stack" handler does not recognise it and the process used to die with a
//! bare SIGSEGV. Each live `GuardPageStack` is entered in a registry of guard
//! ranges; a fault handler looks the faulting address up there, and on a hit
//! writes which stack overflowed to stderr and aborts, as Rust's handler does
//! for thread stacks. Any other fault goes to the handler that was installed
//! before ours (Rust's, a program's own, or the default action), so it
//! behaves as before.
//!
//! - Unix: a SIGSEGV/SIGBUS handler (SA_SIGINFO | SA_ONSTACK) on an alternate
//!   signal stack, because the overflowed stack has no room left to run it.
//!   Rust's runtime gives the main thread and the threads it spawns one when
//!   it installs its own overflow handler; a thread without one gets one
//!   here on its first `GuardPageStack` (freed when the thread exits).
//! - Windows: a vectored exception handler, which runs before any frame-based
//!   handler (and before Rust's own, which only knows the thread's stack);
//!   it ends the process with STATUS_STACK_OVERFLOW, the status an
//!   overflowed thread stack ends with.
//!
//! The registry is read from a signal handler, so the reader takes no lock,
//! allocates nothing and calls only async-signal-safe functions (POSIX.1-2017
//! §2.4.3: `write`, `abort`, `sigaction`, `raise`): a lock-free, push-only
//! list of nodes that are never freed but reused.

use core::ptr;
use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering::*};
use std::boxed::Box;

/// One registry entry. `guard_lo` is the key and is published last (Release)
/// and cleared first, so a reader that sees a non-zero key (Acquire) also sees
/// the other fields of that registration.
struct Node {
    /// Set while a registration owns this node.
    claimed: AtomicBool,
    /// Guard page `[guard_lo, guard_hi)`, usable stack `[guard_hi, top)`.
    guard_lo: AtomicUsize,
    guard_hi: AtomicUsize,
    top: AtomicUsize,
    /// Name of the thread that created the stack: a `GuardPageStack` is not
    /// `Send`, so that is the thread that runs on it.
    name: AtomicPtr<u8>,
    name_len: AtomicUsize,
    /// Next older node; written once, before the node is published.
    next: *const Node,
}

// SAFETY: every field but `next` is atomic, and `next` is immutable once the
// node is reachable from HEAD.
unsafe impl Sync for Node {}

static HEAD: AtomicPtr<Node> = AtomicPtr::new(ptr::null_mut());

/// A stack's entry in the registry; dropping it removes the entry. Owns the
/// thread name the entry points to.
pub(crate) struct Registration {
    node: &'static Node,
    _name: Box<str>,
}

/// Enters `[guard_lo, guard_hi)` (guard page) and `[guard_hi, top)` (usable
/// stack) and makes sure this thread can run the fault handler.
pub(crate) fn register(guard_lo: usize, guard_hi: usize, top: usize) -> Registration {
    os::install_once();
    os::ensure_alt_stack();
    let name: Box<str> = std::thread::current().name().unwrap_or("<unnamed>").into();
    let node = claim_node();
    // Seqlock-style (the key is the sequence): the key's clear by the last
    // owner happens-before this fence, so a reader that sees a field written
    // below and then fences (find) sees the key cleared or replaced.
    fence(Release);
    node.guard_hi.store(guard_hi, Relaxed);
    node.top.store(top, Relaxed);
    node.name.store(name.as_ptr().cast_mut(), Relaxed);
    node.name_len.store(name.len(), Relaxed);
    node.guard_lo.store(guard_lo, Release);
    Registration { node, _name: name }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.node.guard_lo.store(0, Release);
        self.node.claimed.store(false, Release);
    }
}

/// A free node from the list, or a new one pushed onto it. Nodes are leaked:
/// the list only grows to the largest number of stacks alive at once.
fn claim_node() -> &'static Node {
    let mut p = HEAD.load(Acquire);
    while !p.is_null() {
        // SAFETY: nodes on the list are leaked boxes, never freed.
        let node = unsafe { &*p };
        if node
            .claimed
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_ok()
        {
            return node;
        }
        p = node.next.cast_mut();
    }
    let node = Box::leak(Box::new(Node {
        claimed: AtomicBool::new(true),
        guard_lo: AtomicUsize::new(0),
        guard_hi: AtomicUsize::new(0),
        top: AtomicUsize::new(0),
        name: AtomicPtr::new(ptr::null_mut()),
        name_len: AtomicUsize::new(0),
        next: ptr::null(),
    }));
    let mut head = HEAD.load(Relaxed);
    loop {
        node.next = head;
        match HEAD.compare_exchange_weak(head, node, Release, Relaxed) {
            Ok(_) => return node,
            Err(h) => head = h,
        }
    }
}

/// What the handler reports about a hit.
struct Hit {
    guard_lo: usize,
    guard_hi: usize,
    top: usize,
    name: *const u8,
    name_len: usize,
}

/// The registered stack whose range `[lo, hi)` (from `range(guard_lo,
/// guard_hi, top)`) holds `addr`. Async-signal-safe: atomic loads only. The
/// key is read again after the fields, so an entry replaced meanwhile (by
/// another thread) is not reported with a mix of two registrations' fields.
fn find(addr: usize, range: impl Fn(usize, usize, usize) -> (usize, usize)) -> Option<Hit> {
    let mut p = HEAD.load(Acquire);
    while !p.is_null() {
        // SAFETY: nodes on the list are never freed.
        let node = unsafe { &*p };
        let guard_lo = node.guard_lo.load(Acquire);
        if guard_lo != 0 {
            let guard_hi = node.guard_hi.load(Relaxed);
            let top = node.top.load(Relaxed);
            let (lo, hi) = range(guard_lo, guard_hi, top);
            if addr >= lo && addr < hi {
                let hit = Hit {
                    guard_lo,
                    guard_hi,
                    top,
                    name: node.name.load(Relaxed),
                    name_len: node.name_len.load(Relaxed),
                };
                fence(Acquire);
                if node.guard_lo.load(Relaxed) == guard_lo {
                    return Some(hit);
                }
            }
        }
        p = node.next.cast_mut();
    }
    None
}

/// A fault address on a guard page.
#[cfg(unix)]
fn guard_page_hit(addr: usize) -> Option<Hit> {
    find(addr, |lo, hi, _| (lo, hi))
}

/// Formats the report without allocating, into a fixed buffer:
/// `cem-ctx: coroutine stack 0x…-0x… (guard page 0x…-0x…) overflowed in
/// thread '…'; aborting`.
struct Report {
    buf: [u8; 320],
    len: usize,
}

impl Report {
    fn new(hit: &Hit) -> Report {
        let mut r = Report {
            buf: [0; 320],
            len: 0,
        };
        r.push(b"cem-ctx: coroutine stack ");
        r.hex(hit.guard_hi);
        r.push(b"-");
        r.hex(hit.top);
        r.push(b" (guard page ");
        r.hex(hit.guard_lo);
        r.push(b"-");
        r.hex(hit.guard_hi);
        r.push(b") overflowed in thread '");
        // SAFETY: the name is owned by the Registration of a stack that is
        // alive: the faulting thread is running on it.
        let name = unsafe { core::slice::from_raw_parts(hit.name, hit.name_len) };
        // Leave room for the tail; a longer name is cut.
        r.push(&name[..name.len().min(r.buf.len() - r.len - 16)]);
        r.push(b"'; aborting\n");
        r
    }

    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn hex(&mut self, v: usize) {
        let mut digits = [0u8; 2 + 2 * core::mem::size_of::<usize>()];
        digits[0] = b'0';
        digits[1] = b'x';
        let nibbles = 2 * core::mem::size_of::<usize>();
        for i in 0..nibbles {
            let d = (v >> (4 * (nibbles - 1 - i))) & 0xf;
            digits[2 + i] = b"0123456789abcdef"[d];
        }
        self.push(&digits);
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[cfg(unix)]
mod os {
    use super::{guard_page_hit, Report};
    use core::cell::UnsafeCell;
    use core::mem::MaybeUninit;
    use core::ptr;
    use std::sync::Once;

    /// Faults an access to a PROT_NONE page can raise: SIGSEGV on Linux,
    /// SIGBUS on macOS.
    const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

    /// The actions installed before ours, one per entry of SIGNALS. Written
    /// once inside INSTALL before our handler is installed, read-only after.
    struct Previous(UnsafeCell<[MaybeUninit<libc::sigaction>; 2]>);
    // SAFETY: written only inside INSTALL.call_once, before any reader exists.
    unsafe impl Sync for Previous {}
    static PREVIOUS: Previous = Previous(UnsafeCell::new([MaybeUninit::uninit(); 2]));
    static INSTALL: Once = Once::new();

    pub(super) fn install_once() {
        INSTALL.call_once(|| {
            for (i, &sig) in SIGNALS.iter().enumerate() {
                // SAFETY: PREVIOUS is ours to write inside call_once; a zeroed
                // sigaction with an SA_SIGINFO handler is a valid action.
                unsafe {
                    let prev = (*PREVIOUS.0.get())[i].as_mut_ptr();
                    libc::sigaction(sig, ptr::null(), prev);
                    let mut sa: libc::sigaction = core::mem::zeroed();
                    sa.sa_sigaction = on_fault as *const () as usize;
                    sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                    libc::sigemptyset(&mut sa.sa_mask);
                    libc::sigaction(sig, &sa, ptr::null_mut());
                }
            }
        });
    }

    extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
        let addr = unsafe { (*info).si_addr() } as usize;
        if let Some(hit) = guard_page_hit(addr) {
            let report = Report::new(&hit);
            let b = report.bytes();
            // SAFETY: write and abort are async-signal-safe. Abort, as
            // Rust's thread-overflow handler does: the stack is gone, and
            // unwinding from a signal handler is not possible.
            unsafe {
                libc::write(2, b.as_ptr().cast(), b.len());
                libc::abort();
            }
        }
        // SAFETY: PREVIOUS was filled before this handler was installed.
        unsafe { chain(sig, info, ctx) }
    }

    /// Hands a fault that is not ours to the action installed before ours.
    unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        let i = SIGNALS.iter().position(|&s| s == sig).unwrap_or(0);
        // SAFETY: filled in install_once before our handler could run.
        let prev = unsafe { (*PREVIOUS.0.get())[i].assume_init_ref() };
        let handler = prev.sa_sigaction;
        if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
            // The default action (a synchronous SIGSEGV cannot be ignored):
            // restore it and let the fault happen again, as Rust's own
            // handler does; a signal sent with kill/raise (si_code <= 0)
            // would not recur, so send it again (it stays pending until this
            // handler returns).
            // SAFETY: sigaction and raise are async-signal-safe.
            unsafe {
                let mut sa: libc::sigaction = core::mem::zeroed();
                sa.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &sa, ptr::null_mut());
                if (*info).si_code <= 0 {
                    libc::raise(sig);
                }
            }
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: an SA_SIGINFO action holds a three-argument handler.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { core::mem::transmute(handler) };
            f(sig, info, ctx);
        } else {
            // SAFETY: without SA_SIGINFO the action holds a one-argument handler.
            let f: extern "C" fn(libc::c_int) = unsafe { core::mem::transmute(handler) };
            f(sig);
        }
    }

    /// Size of an alternate signal stack we install: the handler needs well
    /// under 1 KiB, but the chained handler may be Rust's or the program's.
    const ALT_STACK_SIZE: usize = 64 * 1024;

    /// An alternate signal stack this module installed for the current
    /// thread; disabled and unmapped when the thread exits.
    struct AltStack(*mut libc::c_void);

    impl Drop for AltStack {
        fn drop(&mut self) {
            // SAFETY: our own mapping; disable it as the alternate stack
            // first (only if it still is: the program may have replaced it).
            unsafe {
                let mut cur: libc::stack_t = core::mem::zeroed();
                libc::sigaltstack(ptr::null(), &mut cur);
                if cur.ss_sp == self.0 {
                    let off = libc::stack_t {
                        ss_sp: ptr::null_mut(),
                        ss_flags: libc::SS_DISABLE,
                        ss_size: ALT_STACK_SIZE,
                    };
                    libc::sigaltstack(&off, ptr::null_mut());
                }
                libc::munmap(self.0, ALT_STACK_SIZE);
            }
        }
    }

    std::thread_local! {
        static OWN_ALT_STACK: core::cell::RefCell<Option<AltStack>> =
            const { core::cell::RefCell::new(None) };
    }

    /// Gives the current thread an alternate signal stack if it has none.
    pub(super) fn ensure_alt_stack() {
        // SAFETY: querying the current alternate stack.
        let mut cur: libc::stack_t = unsafe { core::mem::zeroed() };
        unsafe { libc::sigaltstack(ptr::null(), &mut cur) };
        if cur.ss_flags & libc::SS_DISABLE == 0 {
            return;
        }
        // SAFETY: a fresh anonymous mapping, checked below.
        let sp = unsafe {
            libc::mmap(
                ptr::null_mut(),
                ALT_STACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if sp == libc::MAP_FAILED {
            // No report for this thread then; the fault stays a SIGSEGV.
            return;
        }
        let ss = libc::stack_t {
            ss_sp: sp,
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        // SAFETY: our mapping, kept until the thread exits (below).
        unsafe { libc::sigaltstack(&ss, ptr::null_mut()) };
        // If thread-locals are being torn down this fails, and the mapping
        // stays in place rather than be freed while it is the live alternate
        // stack.
        let _ = OWN_ALT_STACK.try_with(|slot| *slot.borrow_mut() = Some(AltStack(sp)));
    }
}

#[cfg(windows)]
mod os {
    use super::{find, Report};
    use std::sync::Once;
    use windows_sys::Win32::Foundation::{
        EXCEPTION_ACCESS_VIOLATION, EXCEPTION_GUARD_PAGE, EXCEPTION_STACK_OVERFLOW,
        STATUS_STACK_OVERFLOW,
    };
    use windows_sys::Win32::Storage::FileSystem::WriteFile;
    use windows_sys::Win32::System::Console::{GetStdHandle, STD_ERROR_HANDLE};
    use windows_sys::Win32::System::Diagnostics::Debug::{
        AddVectoredExceptionHandler, EXCEPTION_CONTINUE_EXECUTION, EXCEPTION_CONTINUE_SEARCH,
        EXCEPTION_POINTERS,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, TerminateProcess};

    static INSTALL: Once = Once::new();

    pub(super) fn install_once() {
        // SAFETY: registers a handler that lives for the whole program.
        INSTALL.call_once(|| unsafe {
            AddVectoredExceptionHandler(1, Some(on_exception));
        });
    }

    /// Windows runs vectored handlers on the faulting thread's stack; the
    /// guard page, made accessible by the `STATUS_GUARD_PAGE_VIOLATION` that
    /// its first touch raises, is the room the dispatcher and this handler
    /// run in. Nothing to install per thread.
    pub(super) fn ensure_alt_stack() {}

    unsafe extern "system" fn on_exception(info: *mut EXCEPTION_POINTERS) -> i32 {
        // SAFETY: the dispatcher passes valid exception and context records.
        let (rec, ctx) = unsafe { (&*(*info).ExceptionRecord, &*(*info).ContextRecord) };
        let hit = match rec.ExceptionCode {
            // ExceptionInformation[1] is the address accessed (Microsoft
            // docs, EXCEPTION_RECORD): the guard page itself.
            EXCEPTION_ACCESS_VIOLATION | EXCEPTION_GUARD_PAGE if rec.NumberParameters >= 2 => {
                find(rec.ExceptionInformation[1], |lo, hi, _| (lo, hi))
            }
            // Raised instead when the guard page lies in the thread's stack
            // limits (the switch keeps the TEB's on the running stack): no
            // address, so match the stack pointer against the whole stack.
            EXCEPTION_STACK_OVERFLOW => find(stack_pointer(ctx), |lo, _, top| (lo, top)),
            _ => None,
        };
        let Some(hit) = hit else {
            return EXCEPTION_CONTINUE_SEARCH;
        };
        // The handler runs on what is left of the overflowed stack (the
        // guard page, made accessible by the violation). Writing and ending
        // the process from there is not reliable (under Wine 8 the process
        // then ends with status 0), so resume on a stack of our own in
        // `report_and_exit`, with the report formatted here.
        let report = Report::new(&hit);
        // SAFETY: only the first overflow gets past CLAIMED; the process
        // ends in report_and_exit. A second one at the same time (another
        // thread) waits here for that end, so two reports never mix.
        unsafe {
            if CLAIMED.swap(true, core::sync::atomic::Ordering::AcqRel) {
                loop {
                    core::hint::spin_loop();
                }
            }
            *REPORT.0.get() = Some(report);
            redirect(&mut *(*info).ContextRecord);
        }
        EXCEPTION_CONTINUE_EXECUTION
    }

    static CLAIMED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

    struct Slot<T>(core::cell::UnsafeCell<T>);
    // SAFETY: written once by the thread that set CLAIMED, then read only by
    // that thread in report_and_exit.
    unsafe impl<T> Sync for Slot<T> {}
    static REPORT: Slot<Option<Report>> = Slot(core::cell::UnsafeCell::new(None));

    /// The stack `report_and_exit` runs on: WriteFile and TerminateProcess
    /// need a few KiB.
    #[repr(align(16))]
    struct EmergencyStack(#[allow(dead_code)] [u8; EMERGENCY_SIZE]);
    const EMERGENCY_SIZE: usize = 64 * 1024;
    static EMERGENCY: Slot<EmergencyStack> = Slot(core::cell::UnsafeCell::new(EmergencyStack(
        [0; EMERGENCY_SIZE],
    )));

    /// Makes the faulting thread continue in `report_and_exit` on EMERGENCY
    /// once the handler returns EXCEPTION_CONTINUE_EXECUTION.
    #[cfg(target_arch = "x86_64")]
    unsafe fn redirect(ctx: &mut windows_sys::Win32::System::Diagnostics::Debug::CONTEXT) {
        let top = EMERGENCY.0.get() as usize + EMERGENCY_SIZE;
        // As if `report_and_exit` had been called: rsp + 8 is 16-byte
        // aligned at entry, with the 32 bytes of home space above the return
        // address (Microsoft x64 calling convention, "Stack allocation").
        ctx.Rsp = (top - 32 - 8) as u64;
        ctx.Rip = report_and_exit as *const () as u64;
    }

    /// Elsewhere (AArch64 Windows, untested here): report from the handler.
    #[cfg(not(target_arch = "x86_64"))]
    unsafe fn redirect(_: &mut windows_sys::Win32::System::Diagnostics::Debug::CONTEXT) {
        report_and_exit()
    }

    extern "system" fn report_and_exit() -> ! {
        // SAFETY: set by on_exception before it redirected this thread here.
        if let Some(report) = unsafe { (*REPORT.0.get()).as_ref() } {
            let b = report.bytes();
            let mut written = 0;
            // SAFETY: a plain write to the standard error handle.
            unsafe {
                WriteFile(
                    GetStdHandle(STD_ERROR_HANDLE),
                    b.as_ptr(),
                    b.len() as u32,
                    &mut written,
                    core::ptr::null_mut(),
                )
            };
        }
        // End as an unhandled overflow of a thread stack ends (and as Rust's
        // own handler lets it): exit status STATUS_STACK_OVERFLOW.
        // SAFETY: ends this process.
        unsafe { TerminateProcess(GetCurrentProcess(), STATUS_STACK_OVERFLOW as u32) };
        loop {
            core::hint::spin_loop();
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn stack_pointer(ctx: &windows_sys::Win32::System::Diagnostics::Debug::CONTEXT) -> usize {
        ctx.Rsp as usize
    }

    #[cfg(target_arch = "aarch64")]
    fn stack_pointer(ctx: &windows_sys::Win32::System::Diagnostics::Debug::CONTEXT) -> usize {
        ctx.Sp as usize
    }

    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    fn stack_pointer(_: &windows_sys::Win32::System::Diagnostics::Debug::CONTEXT) -> usize {
        0
    }
}
