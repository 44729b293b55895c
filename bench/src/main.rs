//! cem-ctx benchmark suite (x86-64 Linux). `scripts/bench.sh` runs it:
//!
//! 1. Ping-pong, ns per single switch (time / 2N), for every implementation in
//!    `impls::ALL`, pinned to one CPU, REPS repetitions interleaved across
//!    implementations; median, min and max.
//! 2. Instructions per switch from `valgrind --tool=callgrind`: the same
//!    binary re-run for two round-trip counts, difference / (2 * delta), so
//!    start-up and set-up cancel out.
//! 3. Scale: round robin over 2 .. 1,000,000 live contexts.
//!
//! Writes `BENCHMARKS.md`, `switch.png` and `scale.png` into `--out DIR`.

mod impls;
mod report;
mod scale;

use std::process::Command;
use std::time::Instant;

/// Interleaved repetitions per implementation.
const REPS: usize = 9;
/// Round trips per timed repetition (2 switches each); glibc gets a tenth.
const ROUND_TRIPS: u64 = 1_000_000;
/// Round-trip counts for the two callgrind runs.
const CALLGRIND_N: (u64, u64) = (20_000, 120_000);
/// Live-context counts for the scale runs.
pub const SCALE: &[usize] = &[2, 1_000, 100_000, 1_000_000];

pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    fn of(mut v: Vec<f64>) -> Stats {
        v.sort_by(f64::total_cmp);
        Stats {
            median: v[v.len() / 2],
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

pub struct Measured {
    pub name: &'static str,
    pub key: &'static str,
    pub ns: Stats,
    /// Instructions per switch, or why it was not measured.
    pub instructions: Result<f64, String>,
}

fn pin_to_last_cpu() -> Option<usize> {
    // SAFETY: plain libc calls on a zeroed cpu_set_t.
    unsafe {
        let n = libc::sysconf(libc::_SC_NPROCESSORS_ONLN);
        let cpu = (n.max(1) - 1) as usize;
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        (libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0)
            .then_some(cpu)
    }
}

fn round_trips_for(key: &str) -> u64 {
    if key == "glibc" {
        ROUND_TRIPS / 10
    } else {
        ROUND_TRIPS
    }
}

/// Total instructions callgrind counts for `--only key --round-trips n`.
fn callgrind_total(key: &str, n: u64) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(&exe)
        .args(["--only", key, "--round-trips", &n.to_string()])
        .output()
        .map_err(|e| format!("valgrind not runnable: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("valgrind exited with {}", out.status));
    }
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| "no 'Collected' line in callgrind's output".to_string())
}

fn instructions_per_switch(key: &str) -> Result<f64, String> {
    let (n1, n2) = CALLGRIND_N;
    let (i1, i2) = (callgrind_total(key, n1)?, callgrind_total(key, n2)?);
    Ok((i2 as f64 - i1 as f64) / (2.0 * (n2 - n1) as f64))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };

    // Child mode for callgrind: one implementation, one run, nothing else.
    if let Some(key) = arg("--only") {
        let n: u64 = arg("--round-trips")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let imp = impls::ALL
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("unknown implementation {key}"));
        let mut bench = (imp.make)();
        bench.run(n);
        // The partner is still suspended: leak it (see below).
        std::mem::forget(bench);
        return;
    }

    let out_dir = std::path::PathBuf::from(arg("--out").unwrap_or_else(|| "bench/results".into()));
    std::fs::create_dir_all(&out_dir).expect("creating the output directory");
    let cpu = pin_to_last_cpu();
    println!(
        "pinned to CPU {}",
        cpu.map_or("(failed)".into(), |c| c.to_string())
    );

    // 1. ping-pong, interleaved
    let mut benches: Vec<_> = impls::ALL
        .iter()
        .map(|i| ((i.make)(), Vec::new()))
        .collect();
    for (b, _) in &mut benches {
        b.run(10_000); // warm-up: page in stacks, train predictors
    }
    for rep in 0..REPS {
        for (imp, (b, samples)) in impls::ALL.iter().zip(&mut benches) {
            let n = round_trips_for(imp.key);
            let start = Instant::now();
            b.run(n);
            samples.push(start.elapsed().as_nanos() as f64 / (2 * n) as f64);
        }
        println!("repetition {}/{REPS} done", rep + 1);
    }

    // 2. instruction counts
    let mut measured = Vec::new();
    for (imp, (bench, samples)) in impls::ALL.iter().zip(benches) {
        // Partners stay suspended; leak them rather than unwind them at exit.
        // Their stacks are leaked too.
        std::mem::forget(bench);
        let instructions = instructions_per_switch(imp.key);
        match &instructions {
            Ok(i) => println!("{:40} {:6.1} instructions/switch", imp.name, i),
            Err(e) => println!("{:40} instructions not measured: {e}", imp.name),
        }
        measured.push(Measured {
            name: imp.name,
            key: imp.key,
            ns: Stats::of(samples),
            instructions,
        });
    }

    // 3. scale
    let mut scaled = Vec::new();
    for &k in SCALE {
        let r = scale::run(k, 4_000_000);
        println!(
            "{k:>9} contexts: {:.2} ns/switch ({:.2} with prefetch hints), {:.0} B resident per context, peak RSS {:.0} MiB",
            r.ns_per_switch, r.ns_per_switch_prefetch, r.rss_per_context, r.peak_rss_mib
        );
        scaled.push(r);
    }

    report::write(&out_dir, &measured, &scaled, cpu).expect("writing the report");
    println!("wrote {}", out_dir.join("BENCHMARKS.md").display());
}
