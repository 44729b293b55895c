//! Prints nanoseconds per switch for a ping-pong between the main context and
//! one coroutine, through the C-shaped symmetric switch (`swap_context`) and
//! through the asymmetric Rust fast path (`Coroutine::resume` +
//! `Yielder::suspend`). Median of 7 interleaved runs of 2,000,000 switches.
//! Each in two x86-64 FP scenarios: "clean" (both sides MXCSR 0x1f80) and
//! "mixed" (the coroutine side has the inexact flag PE set, as after one
//! floating-point division): a switch that restored whole MXCSR values would
//! load a different value on every switch there. MXCSR is set explicitly on
//! the main side before each timed run (the harness itself computes in
//! floating point). A quick check, not the benchmark suite:
//! `cargo run --release --example ns_per_switch`.

use std::hint::black_box;
use std::time::Instant;

use cem_ctx::{make_context, swap_context, Context, Coroutine, CoroutineResult, Options, Yielder};

const ROUND_TRIPS: u64 = 1_000_000;
const RUNS: usize = 7;

static mut MAIN: Context = unsafe { core::mem::zeroed() };
static mut CO: Context = unsafe { core::mem::zeroed() };
static mut MIXED_CO: Context = unsafe { core::mem::zeroed() };

/// MXCSR defaults (all exceptions masked, round to nearest), no status flag.
const CLEAN: u32 = 0x1f80;
/// The same with PE (inexact) set.
const WITH_PE: u32 = 0x1fa0;

/// Sets MXCSR on x86-64 (the scenarios are about its status flags); a no-op
/// elsewhere.
fn set_mxcsr(v: u32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: loads a valid MXCSR value.
    unsafe {
        core::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack))
    };
    let _ = v;
}

extern "C" fn ping_mixed() {
    set_mxcsr(WITH_PE);
    loop {
        // SAFETY: only this thread touches MAIN and MIXED_CO, one side at a time.
        unsafe { swap_context(&raw mut MIXED_CO, &raw const MAIN) };
        set_mxcsr(WITH_PE);
    }
}

extern "C" fn ping() {
    loop {
        // SAFETY: only this thread touches MAIN and CO, one side at a time.
        unsafe { swap_context(&raw mut CO, &raw const MAIN) };
    }
}

fn symmetric_run(other: *const Context) -> f64 {
    set_mxcsr(CLEAN);
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        // SAFETY: see ping.
        unsafe { swap_context(&raw mut MAIN, other) };
    }
    start.elapsed().as_nanos() as f64 / (2 * ROUND_TRIPS) as f64
}

type Pinger = Coroutine<'static, u64, u64, (), &'static mut [u8]>;

fn asymmetric_run(co: &mut Pinger) -> f64 {
    set_mxcsr(CLEAN);
    let start = Instant::now();
    for i in 0..ROUND_TRIPS {
        match co.resume(i) {
            CoroutineResult::Yield(v) => {
                black_box(v);
            }
            CoroutineResult::Complete(()) => unreachable!(),
        }
    }
    start.elapsed().as_nanos() as f64 / (2 * ROUND_TRIPS) as f64
}

/// One timed run of a scenario: returns ns per switch.
type TimedRun = Box<dyn FnMut() -> f64>;

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let mut stack = vec![0u128; 4096];
    let mut mixed_stack = vec![0u128; 4096];
    // SAFETY: the stacks live until the end of main; the contexts never return.
    unsafe {
        make_context(
            &raw mut CO,
            stack.as_mut_ptr().cast(),
            stack.len() * 16,
            Some(ping),
            None,
        )
        .expect("make_context");
        make_context(
            &raw mut MIXED_CO,
            mixed_stack.as_mut_ptr().cast(),
            mixed_stack.len() * 16,
            Some(ping_mixed),
            None,
        )
        .expect("make_context");
    }
    // Both coroutines loop forever; their 'static stacks (leaked Vecs) and
    // the coroutines are leaked at exit, which is sound for 'static stacks.
    let pinger = |options, mixed: bool| -> Pinger {
        let stack: &'static mut [u8] = vec![0u8; 64 * 1024].leak();
        Coroutine::with_options(stack, options, move |mut v: u64, y: &Yielder<u64, u64>| {
            loop {
                if mixed {
                    set_mxcsr(WITH_PE);
                }
                v = y.suspend(v + 1);
            }
        })
        .expect("Coroutine::new")
    };
    let mut runs: Vec<(&str, TimedRun, Vec<f64>)> = Vec::new();
    for (scenario, mixed) in [("clean", false), ("mixed", true)] {
        let other: *const Context = if mixed {
            &raw const MIXED_CO
        } else {
            &raw const CO
        };
        let mut keeps_fp = pinger(Options::default(), mixed);
        let mut shares_fp = pinger(Options { fp_control: false }, mixed);
        let name = |what: &str| -> &'static str { format!("{what}, {scenario}").leak() };
        runs.push((
            name("swap_context (C ABI, symmetric)"),
            Box::new(move || symmetric_run(other)),
            vec![],
        ));
        runs.push((
            name("Coroutine resume+suspend"),
            Box::new(move || asymmetric_run(&mut keeps_fp)),
            vec![],
        ));
        runs.push((
            name("  same, fp_control: false"),
            Box::new(move || asymmetric_run(&mut shares_fp)),
            vec![],
        ));
    }
    for _ in 0..RUNS {
        for (_, run, results) in runs.iter_mut() {
            results.push(run());
        }
    }
    for (name, run, results) in runs {
        // The coroutines never complete; without `std` dropping a suspended
        // one stops at the trap, and their stacks are 'static, so leak them.
        std::mem::forget(run);
        let (m, lo, hi) = median(results);
        println!("{name:<48} {m:6.2} ns/switch (median of {RUNS}; min {lo:.2}, max {hi:.2})");
    }
}
