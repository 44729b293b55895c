//! Round robin over many live contexts: a scheduler context resumes each of K
//! contexts in turn; each switches straight back. Stacks are STACK_SIZE bytes,
//! carved from one anonymous mapping (MAP_NORESERVE: only touched pages cost
//! memory).

use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, Ordering::SeqCst};
use std::time::Instant;

use cem_ctx::Context;

/// Bytes of stack per context in the scale runs.
pub const STACK_SIZE: usize = 4096;

pub struct ScaleResult {
    pub contexts: usize,
    /// Plain round robin.
    pub ns_per_switch: f64,
    /// The same scheduler issuing `prefetch_context` 16 and `prefetch_stack`
    /// 8 contexts ahead.
    pub ns_per_switch_prefetch: f64,
    /// Stack plus `Context`.
    pub bytes_per_context: usize,
    /// Resident memory added per context once every stack has run.
    pub rss_per_context: f64,
    /// Peak resident set of the whole process so far, MiB.
    pub peak_rss_mib: f64,
}

struct Sched {
    main: Context,
    ctxs: Vec<Context>,
}

static SCHED: AtomicPtr<Sched> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn worker(arg: *mut c_void) {
    let i = arg as usize;
    let s = SCHED.load(SeqCst);
    loop {
        // SAFETY: the scheduler outlives every switch into its contexts.
        unsafe { cem_ctx::swap_context(&mut (&mut (*s).ctxs)[i], &(*s).main) };
    }
}

fn rss_bytes() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64
}

pub fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage fills the struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_maxrss as f64 / 1024.0
}

/// Runs `k` contexts round robin for about `target_switches` timed switches
/// (at least two full rounds), after one untimed round that touches every stack.
pub fn run(k: usize, target_switches: u64) -> ScaleResult {
    let rss_before = rss_bytes();
    let len = k * STACK_SIZE;
    // SAFETY: a fresh anonymous mapping; checked below.
    let region = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    assert!(
        region != libc::MAP_FAILED,
        "mmap of {len} bytes for {k} stacks failed"
    );
    let sched = Box::into_raw(Box::new(Sched {
        main: Context::default(),
        ctxs: vec![Context::default(); k],
    }));
    SCHED.store(sched, SeqCst);
    // The contexts inherit the FP control state of the harness: clean MXCSR
    // first (its f64 arithmetic sets PE); nothing below computes in floating
    // point before the timed rounds, which reload it anyway.
    crate::fp::set_mxcsr(crate::fp::CLEAN);
    // SAFETY: each context gets its own STACK_SIZE slice of the mapping.
    unsafe {
        for i in 0..k {
            let base = (region as *mut u8).add(i * STACK_SIZE);
            cem_ctx::make_context_with_arg(
                &mut (&mut (*sched).ctxs)[i],
                base.cast(),
                STACK_SIZE,
                Some(worker),
                i as *mut c_void,
                None,
            )
            .expect("make_context_with_arg");
        }
    }
    let round = |s: *mut Sched, prefetch: bool| {
        // SAFETY: context i is suspended in worker; prefetching is a hint.
        unsafe {
            let ctxs = (*s).ctxs.as_ptr();
            for i in 0..k {
                if prefetch {
                    if i + 16 < k {
                        cem_ctx::prefetch_context(ctxs.add(i + 16));
                    }
                    if i + 8 < k {
                        cem_ctx::prefetch_stack(ctxs.add(i + 8));
                    }
                }
                cem_ctx::swap_context(&mut (*s).main, ctxs.add(i));
            }
        }
    };
    round(sched, false);
    let rss_after = rss_bytes();
    let rounds = (target_switches / (2 * k as u64)).max(2);
    let timed = |prefetch: bool| {
        crate::fp::set_mxcsr(crate::fp::CLEAN);
        let start = Instant::now();
        for _ in 0..rounds {
            round(sched, prefetch);
        }
        start.elapsed().as_nanos() as f64 / (2 * k as u64 * rounds) as f64
    };
    let ns_per_switch = timed(false);
    let ns_per_switch_prefetch = timed(true);
    let result = ScaleResult {
        contexts: k,
        ns_per_switch,
        ns_per_switch_prefetch,
        bytes_per_context: STACK_SIZE + std::mem::size_of::<Context>(),
        rss_per_context: (rss_after - rss_before) / k as f64,
        peak_rss_mib: peak_rss_mib(),
    };
    // The workers are suspended forever; nothing on their stacks needs dropping.
    // SAFETY: no context is resumed after this.
    unsafe {
        SCHED.store(std::ptr::null_mut(), SeqCst);
        drop(Box::from_raw(sched));
        libc::munmap(region, len);
    }
    result
}
