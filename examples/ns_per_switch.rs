//! Prints nanoseconds per switch for a ping-pong between the main context and
//! one coroutine, through the C-shaped symmetric switch (`swap_context`) and
//! through the asymmetric Rust fast path (`Coroutine::resume` +
//! `Yielder::suspend`). Median of 7 interleaved runs of 2,000,000 switches.
//! A quick check, not the benchmark suite:
//! `cargo run --release --example ns_per_switch`.

use std::hint::black_box;
use std::time::Instant;

use cem_ctx::{make_context, swap_context, Context, Coroutine, CoroutineResult, Options, Yielder};

const ROUND_TRIPS: u64 = 1_000_000;
const RUNS: usize = 7;

static mut MAIN: Context = unsafe { core::mem::zeroed() };
static mut CO: Context = unsafe { core::mem::zeroed() };

extern "C" fn ping() {
    loop {
        // SAFETY: only this thread touches MAIN and CO, one side at a time.
        unsafe { swap_context(&raw mut CO, &raw const MAIN) };
    }
}

fn symmetric_run() -> f64 {
    let start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        // SAFETY: see ping.
        unsafe { swap_context(&raw mut MAIN, &raw const CO) };
    }
    start.elapsed().as_nanos() as f64 / (2 * ROUND_TRIPS) as f64
}

type Pinger = Coroutine<'static, u64, u64, (), &'static mut [u8]>;

fn asymmetric_run(co: &mut Pinger) -> f64 {
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

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let mut stack = vec![0u128; 4096];
    // SAFETY: the stack lives until the end of main; the coroutine never returns.
    unsafe {
        make_context(
            &raw mut CO,
            stack.as_mut_ptr().cast(),
            stack.len() * 16,
            Some(ping),
            None,
        )
        .expect("make_context");
    }
    // Both coroutines loop forever; their 'static stacks (leaked Vecs) and
    // the coroutines are leaked at exit, which is sound for 'static stacks.
    let pinger = |options| -> Pinger {
        let stack: &'static mut [u8] = vec![0u8; 64 * 1024].leak();
        Coroutine::with_options(stack, options, |mut v: u64, y: &Yielder<u64, u64>| loop {
            v = y.suspend(v + 1);
        })
        .expect("Coroutine::new")
    };
    let mut keeps_fp = pinger(Options::default());
    let mut shares_fp = pinger(Options { fp_control: false });

    let (mut sym, mut asym, mut asym_shared) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        sym.push(symmetric_run());
        asym.push(asymmetric_run(&mut keeps_fp));
        asym_shared.push(asymmetric_run(&mut shares_fp));
    }
    std::mem::forget((keeps_fp, shares_fp));
    let (m, lo, hi) = median(sym);
    println!("swap_context (C ABI, symmetric):     {m:.2} ns/switch (median of {RUNS}; min {lo:.2}, max {hi:.2})");
    let (m, lo, hi) = median(asym);
    println!("Coroutine resume+suspend (asymmetric): {m:.2} ns/switch (median of {RUNS}; min {lo:.2}, max {hi:.2})");
    let (m, lo, hi) = median(asym_shared);
    println!("  same, fp_control: false (opt-in):     {m:.2} ns/switch (median of {RUNS}; min {lo:.2}, max {hi:.2})");
}
