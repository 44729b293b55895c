//! cem-ctx benchmark suite (x86-64 Linux). `scripts/bench.sh` runs it:
//!
//! 1. Ping-pong, ns per single switch (time / 2N), for every implementation in
//!    `impls::ALL` in both FP scenarios of `fp::Scenario` (clean: both sides
//!    MXCSR 0x1f80; mixed: the partner has PE set, 0x1fa0), pinned to one CPU,
//!    REPS repetitions interleaved across implementations and scenarios;
//!    median, min and max.
//! 2. Instructions per switch from `valgrind --tool=callgrind`: the same
//!    binary re-run for two round-trip counts, difference / (2 * delta), so
//!    start-up and set-up cancel out.
//! 3. Scale: round robin over 2 .. 1,000,000 live contexts.
//!
//! Writes `BENCHMARKS.md`, `switch.png` and `scale.png` into `--out DIR`.
//!
//! Options (for quick checks; `scripts/bench.sh` passes its arguments on):
//! `--reps N`, `--round-trips N` (per repetition; glibc runs a tenth),
//! `--no-callgrind`, `--no-scale`, `--scale-max N` (only the scale runs with
//! at most N contexts; the 1,000,000-context run needs ~4 GiB). Child mode for callgrind: `--only KEY --scenario clean|mixed
//! --round-trips N`.

mod fp;
mod impls;
mod report;
mod scale;

use std::process::Command;
use std::time::Instant;

use fp::Scenario;

/// Interleaved repetitions per implementation and scenario.
const REPS: usize = 9;
/// Round trips per timed repetition (2 switches each); glibc gets a tenth.
const ROUND_TRIPS: u64 = 1_000_000;
/// Untimed round trips before the first repetition.
const WARM_UP: u64 = 10_000;
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
    pub scenario: Scenario,
    pub ns: Stats,
    /// Instructions per switch, or why it was not measured.
    pub instructions: Result<f64, String>,
    /// Distinct MXCSR values the main side read right after its timed loops
    /// (before any floating point): shows whether the switch carried the
    /// partner's status flags over or restored the main side's MXCSR.
    pub main_mxcsr_after: Vec<u32>,
}

/// How the ping-pong was run (the report states it).
pub struct Config {
    pub reps: usize,
    pub round_trips: u64,
    pub fp_cost: fp::FpCost,
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

pub fn round_trips_for(key: &str, round_trips: u64) -> u64 {
    if key == "glibc" {
        (round_trips / 10).max(1)
    } else {
        round_trips
    }
}

/// Total instructions callgrind counts for `--only key --scenario s
/// --round-trips n`.
fn callgrind_total(key: &str, scenario: Scenario, n: u64) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(&exe)
        .args(["--only", key, "--scenario", scenario.key()])
        .args(["--round-trips", &n.to_string()])
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

fn instructions_per_switch(key: &str, scenario: Scenario) -> Result<f64, String> {
    let (n1, n2) = CALLGRIND_N;
    let i1 = callgrind_total(key, scenario, n1)?;
    let i2 = callgrind_total(key, scenario, n2)?;
    Ok((i2 as f64 - i1 as f64) / (2.0 * (n2 - n1) as f64))
}

/// One timed repetition: ns per switch and the main side's MXCSR after it.
fn timed(bench: &mut dyn impls::PingPong, n: u64) -> (f64, u32) {
    // The main side's MXCSR, explicitly: the f64 arithmetic of the previous
    // repetition may have set PE. Nothing between here and `mxcsr()` below
    // computes in floating point (Instant is integer arithmetic).
    fp::set_mxcsr(fp::CLEAN);
    let start = Instant::now();
    bench.run(n);
    let elapsed = start.elapsed();
    let after = fp::mxcsr();
    (elapsed.as_nanos() as f64 / (2 * n) as f64, after)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            // The last one wins: scripts/bench.sh passes a default --out first.
            .rposition(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };

    let number = |name: &str, default: u64| -> u64 {
        arg(name).map_or(default, |v| {
            v.parse()
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| panic!("{name} takes a positive integer, not {v}"))
        })
    };
    let flag = |name: &str| args.iter().any(|a| a == name);

    // Child mode for callgrind: one implementation, one run, nothing else.
    if let Some(key) = arg("--only") {
        let n = number("--round-trips", 1000);
        let scenario = arg("--scenario").map_or(Scenario::Clean, |s| {
            Scenario::from_key(&s).unwrap_or_else(|| panic!("unknown scenario {s}"))
        });
        let imp = impls::ALL
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("unknown implementation {key}"));
        let mut bench = (imp.make)(scenario);
        fp::set_mxcsr(fp::CLEAN);
        bench.run(n);
        // The partner is still suspended: leak it (see below).
        std::mem::forget(bench);
        return;
    }
    let reps = number("--reps", REPS as u64) as usize;
    let round_trips = number("--round-trips", ROUND_TRIPS);

    let out_dir = std::path::PathBuf::from(arg("--out").unwrap_or_else(|| "bench/results".into()));
    std::fs::create_dir_all(&out_dir).expect("creating the output directory");
    let cpu = pin_to_last_cpu();
    println!(
        "pinned to CPU {}",
        cpu.map_or("(failed)".into(), |c| c.to_string())
    );

    // 0. what MXCSR accesses cost here: decides what the scenarios can show
    let fp_cost = fp::fp_cost(round_trips, reps.max(3));
    println!(
        "ldmxcsr: {:.2} ns loading the same value, {:.2} ns loading one that differs in PE; \
         stmxcsr: {:.2} ns, {:.2} ns with a read-back",
        fp_cost.ldmxcsr_unchanged,
        fp_cost.ldmxcsr_status_change,
        fp_cost.stmxcsr,
        fp_cost.stmxcsr_read_back
    );
    let config = Config {
        reps,
        round_trips,
        fp_cost,
    };

    // 1. ping-pong, interleaved across implementations and scenarios
    struct Run {
        imp: &'static impls::Impl,
        scenario: Scenario,
        bench: Box<dyn impls::PingPong>,
        samples: Vec<f64>,
        mxcsr_after: Vec<u32>,
    }
    let mut runs: Vec<Run> = Scenario::ALL
        .into_iter()
        .flat_map(|scenario| {
            impls::ALL.iter().map(move |imp| Run {
                imp,
                scenario,
                bench: (imp.make)(scenario),
                samples: Vec::new(),
                mxcsr_after: Vec::new(),
            })
        })
        .collect();
    for r in &mut runs {
        // warm-up: page in stacks, train predictors
        timed(&mut *r.bench, WARM_UP.min(config.round_trips));
    }
    for rep in 0..config.reps {
        for r in &mut runs {
            let n = round_trips_for(r.imp.key, config.round_trips);
            let (ns, after) = timed(&mut *r.bench, n);
            r.samples.push(ns);
            if !r.mxcsr_after.contains(&after) {
                r.mxcsr_after.push(after);
            }
        }
        println!("repetition {}/{} done", rep + 1, config.reps);
    }

    // 2. instruction counts
    let mut measured = Vec::new();
    for r in runs {
        // Partners stay suspended; leak them rather than unwind them at exit.
        // Their stacks are leaked too.
        std::mem::forget(r.bench);
        let label = format!("{}, {}", r.imp.name, r.scenario.key());
        let instructions = if flag("--no-callgrind") {
            Err("--no-callgrind".to_string())
        } else {
            instructions_per_switch(r.imp.key, r.scenario)
        };
        let ns = Stats::of(r.samples);
        match &instructions {
            Ok(i) => println!(
                "{label:48} {:8.2} ns {i:6.1} instructions/switch",
                ns.median
            ),
            Err(e) => println!(
                "{label:48} {:8.2} ns, instructions not measured: {e}",
                ns.median
            ),
        }
        measured.push(Measured {
            name: r.imp.name,
            key: r.imp.key,
            scenario: r.scenario,
            ns,
            instructions,
            main_mxcsr_after: r.mxcsr_after,
        });
    }

    // 3. scale
    let mut scaled = Vec::new();
    let scale_max = if flag("--no-scale") {
        0
    } else {
        number("--scale-max", u64::MAX)
    };
    for &k in SCALE.iter().filter(|&&k| k as u64 <= scale_max) {
        let r = scale::run(k, 4_000_000);
        println!(
            "{k:>9} contexts: {:.2} ns/switch ({:.2} with prefetch hints), {:.0} B resident per context, peak RSS {:.0} MiB",
            r.ns_per_switch, r.ns_per_switch_prefetch, r.rss_per_context, r.peak_rss_mib
        );
        scaled.push(r);
    }

    report::write(&out_dir, &config, &measured, &scaled, cpu).expect("writing the report");
    println!("wrote {}", out_dir.join("BENCHMARKS.md").display());
}
