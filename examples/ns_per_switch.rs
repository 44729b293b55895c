//! Prints nanoseconds per `swap_context` for a ping-pong between the main
//! context and one coroutine (median of 7 runs of 2,000,000 switches each).
//! A quick check, not the benchmark suite: `cargo run --release --example ns_per_switch`.

use std::time::Instant;

use cem_ctx::{make_context, swap_context, Context};

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
    let mut results: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..ROUND_TRIPS {
                // SAFETY: see above.
                unsafe { swap_context(&raw mut MAIN, &raw const CO) };
            }
            start.elapsed().as_nanos() as f64 / (2 * ROUND_TRIPS) as f64
        })
        .collect();
    results.sort_by(f64::total_cmp);
    println!(
        "cem-ctx swap_context: {:.2} ns/switch (median of {RUNS} runs; min {:.2}, max {:.2})",
        results[RUNS / 2],
        results[0],
        results[RUNS - 1]
    );
}
