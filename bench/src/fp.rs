//! MXCSR control for the two ping-pong scenarios.
//!
//! Bits 0-5 of MXCSR are sticky exception *status* flags (caller-saved, psABI
//! §3.2.1); almost any inexact division sets PE (bit 5, 0x20). An `ldmxcsr`
//! that changes the register's value is slow (~50 ns on the Intel and AMD cores
//! measured, ~1 ns when it loads the value already there), so a switch that
//! restores the whole register makes every switch between a context with PE
//! set and one without pay that. The "mixed FP status" scenario measures
//! exactly this; the "clean" one keeps both sides at the same value.
//!
//! The harness controls MXCSR explicitly on both sides: the main side loads
//! [`CLEAN`] right before each timed loop (it computes medians in `f64`, which
//! sets PE, between loops) and runs no floating point inside it; the partner
//! loads its scenario's value when it starts and, in the mixed scenario, again
//! before each of its switches, as the partner of a real program would after a
//! division.

/// MXCSR power-on default: all exceptions masked, round to nearest, no DAZ or
/// FTZ, no status flag.
pub const CLEAN: u32 = 0x1f80;
/// [`CLEAN`] with PE (precision / inexact, bit 5) set, as after one inexact
/// division.
pub const WITH_PE: u32 = 0x1fa0;

/// Loads MXCSR.
#[inline(always)]
pub fn set_mxcsr(v: u32) {
    // SAFETY: loads a valid MXCSR value (reserved bits 16-31 are zero), which
    // only changes status flags and FP control state of this thread. Not
    // `readonly`: as a memory clobber it stays ordered after the stores of
    // the harness's f64 results, so their arithmetic cannot sink past it.
    unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack)) };
}

/// Reads MXCSR.
#[inline(always)]
pub fn mxcsr() -> u32 {
    let mut v = 0u32;
    // SAFETY: stores 4 bytes into `v`.
    unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack)) };
    v
}

/// One ping-pong scenario.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scenario {
    /// Both sides at [`CLEAN`].
    Clean,
    /// The partner has PE set ([`WITH_PE`]), the main side is [`CLEAN`].
    Mixed,
}

impl Scenario {
    pub const ALL: [Scenario; 2] = [Scenario::Clean, Scenario::Mixed];

    /// Command-line key (`--scenario KEY`).
    pub fn key(self) -> &'static str {
        match self {
            Scenario::Clean => "clean",
            Scenario::Mixed => "mixed",
        }
    }

    /// Title in tables and plots.
    pub fn title(self) -> &'static str {
        match self {
            Scenario::Clean => "clean FP status",
            Scenario::Mixed => "mixed FP status",
        }
    }

    pub fn from_key(key: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The MXCSR value the partner loads.
    pub fn partner_mxcsr(self) -> u32 {
        match self {
            Scenario::Clean => CLEAN,
            Scenario::Mixed => WITH_PE,
        }
    }
}

/// Called by every partner once when it starts: `MIXED` selects the scenario
/// at compile time, so the clean partners' loops carry no extra instruction.
#[inline(always)]
pub fn partner_start<const MIXED: bool>() {
    set_mxcsr(if MIXED { WITH_PE } else { CLEAN });
}

/// Called by every partner before each of its switches back to the main side:
/// in the mixed scenario it sets PE again (the main side's switch may have
/// cleared it, when the switch restores whole MXCSR values); in the clean one
/// it is empty (nothing in the loop computes in floating point).
#[inline(always)]
pub fn partner_before_switch<const MIXED: bool>() {
    if MIXED {
        set_mxcsr(WITH_PE);
    }
}

/// What MXCSR accesses cost on this CPU: the facts the FP scenarios and the
/// FP-control rows hinge on.
pub struct FpCost {
    /// ns per `ldmxcsr` loading the value already in MXCSR.
    pub ldmxcsr_unchanged: f64,
    /// ns per `ldmxcsr` loading a value that differs in PE only (alternating
    /// [`CLEAN`] and [`WITH_PE`], as a whole-MXCSR switch in the mixed
    /// scenario does).
    pub ldmxcsr_status_change: f64,
    /// ns per `stmxcsr` (back to back, throughput).
    pub stmxcsr: f64,
    /// ns per `stmxcsr` followed by a load of the 4 bytes it stored, as a
    /// switch that compares the stored value does.
    pub stmxcsr_read_back: f64,
    /// ns per complete FP-control switch, both correct ones and Boost's; see
    /// [`Sequence`].
    pub sequences: [(Sequence, f64); 3],
    /// CPUID vendor string ("AuthenticAMD", "GenuineIntel", ...).
    pub vendor: String,
    /// Operations (pairs for ldmxcsr) per run.
    pub n: u64,
    pub reps: usize,
}

/// ns per `ldmxcsr` over `pairs` back-to-back pairs loading `a` then `b`.
fn ldmxcsr_ns(a: u32, b: u32, pairs: u64) -> f64 {
    set_mxcsr(CLEAN);
    let start = std::time::Instant::now();
    for _ in 0..pairs {
        set_mxcsr(std::hint::black_box(a));
        set_mxcsr(std::hint::black_box(b));
    }
    let elapsed = start.elapsed();
    set_mxcsr(CLEAN);
    elapsed.as_nanos() as f64 / (2 * pairs) as f64
}

/// ns per `stmxcsr`, with or without loading what it stored right after.
fn stmxcsr_ns<const READ_BACK: bool>(n: u64) -> f64 {
    let mut slot = 0u32;
    let mut acc = 0u32;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let p: *mut u32 = &mut slot;
        // SAFETY: stores 4 bytes into `slot` (and reads them back).
        unsafe {
            if READ_BACK {
                core::arch::asm!("stmxcsr [{p}]", "add {acc:e}, dword ptr [{p}]", p = in(reg) p, acc = inout(reg) acc, options(nostack));
            } else {
                core::arch::asm!("stmxcsr [{p}]", p = in(reg) p, options(nostack));
            }
        }
    }
    let elapsed = start.elapsed();
    std::hint::black_box(acc);
    elapsed.as_nanos() as f64 / n as f64
}

/// The FP-control part of one switch, as a sequence of instructions: what a
/// run-time choice by CPU vendor (CPUID) would choose between. The
/// incoming side's control state equals the current one in the timed loop
/// (the common case: real programs rarely differ).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sequence {
    /// cem-ctx: store MXCSR and the x87 CW, compare the control bits with the
    /// incoming side's after reading the stores back, skip both loads when
    /// equal (loads the incoming control bits merged with the current status
    /// flags otherwise).
    CompareSkip,
    /// The other correct sequence: store, read back, merge the incoming
    /// control bits with the current status flags, load both registers
    /// unconditionally (no branch; the loaded MXCSR equals the current one).
    MergeLoad,
    /// Boost.Context's: store both registers, load the incoming side's whole
    /// saved values, no read-back. Not correct by the psABI (it carries the
    /// status flags with the context); shown for its cost.
    WholeRegisters,
}

impl Sequence {
    pub const ALL: [Sequence; 3] = [
        Sequence::CompareSkip,
        Sequence::MergeLoad,
        Sequence::WholeRegisters,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Sequence::CompareSkip => "cem-ctx: store, read back, compare control bits, skip the loads when equal",
            Sequence::MergeLoad => "store, read back, merge incoming control with current status, load unconditionally",
            Sequence::WholeRegisters => "Boost: store whole registers, load the other side's whole registers (carries status flags)",
        }
    }
}

/// ns per FP-control switch with `seq`, over `n` iterations.
fn sequence_ns(seq: Sequence, n: u64) -> f64 {
    set_mxcsr(CLEAN);
    // The current side's slots and the incoming side's (same control state).
    let mut cur = [0u32; 2];
    let mut new = [CLEAN, 0];
    // SAFETY: stores and reloads the current x87 control word.
    unsafe { core::arch::asm!("fnstcw [{}]", in(reg) &mut new[1], options(nostack)) };
    let (c, w) = (cur.as_mut_ptr(), new.as_mut_ptr());
    let start = std::time::Instant::now();
    for _ in 0..n {
        // SAFETY: each sequence stores into `cur`, reads `cur`/`new` and loads
        // MXCSR/x87 CW values equal to the current ones (control bits CLEAN's,
        // status flags as they are).
        unsafe {
            match seq {
                Sequence::CompareSkip => core::arch::asm!(
                    "stmxcsr [{c}]",
                    "fnstcw [{c} + 4]",
                    "mov {a:e}, [{w}]",
                    "xor {a:e}, [{c}]",
                    "and {a:e}, 0xffc0",
                    "movzx {b:e}, word ptr [{w} + 4]",
                    "movzx {d:e}, word ptr [{c} + 4]",
                    "xor {b:e}, {d:e}",
                    "shl {b:e}, 16",
                    "or {a:e}, {b:e}",
                    "jz 2f",
                    "and {a:e}, 0xffc0",
                    "xor {a:e}, [{c}]",
                    "mov [{w}], {a:e}",
                    "ldmxcsr [{w}]",
                    "fldcw [{w} + 4]",
                    "2:",
                    c = in(reg) c, w = in(reg) w,
                    a = out(reg) _, b = out(reg) _, d = out(reg) _,
                    options(nostack)
                ),
                Sequence::MergeLoad => core::arch::asm!(
                    "stmxcsr [{c}]",
                    "fnstcw [{c} + 4]",
                    "mov {a:e}, [{w}]",
                    "xor {a:e}, [{c}]",
                    "and {a:e}, 0xffc0",
                    "xor {a:e}, [{c}]",
                    "mov [{c}], {a:e}",
                    "ldmxcsr [{c}]",
                    "fldcw [{w} + 4]",
                    c = in(reg) c, w = in(reg) w,
                    a = out(reg) _,
                    options(nostack)
                ),
                Sequence::WholeRegisters => core::arch::asm!(
                    "stmxcsr [{c}]",
                    "fnstcw [{c} + 4]",
                    "ldmxcsr [{w}]",
                    "fldcw [{w} + 4]",
                    c = in(reg) c, w = in(reg) w,
                    options(nostack)
                ),
            }
        }
    }
    let elapsed = start.elapsed();
    std::hint::black_box(&mut cur);
    set_mxcsr(CLEAN);
    elapsed.as_nanos() as f64 / n as f64
}

/// The CPUID vendor string.
fn vendor() -> String {
    let r = core::arch::x86_64::__cpuid(0);
    let bytes: Vec<u8> = [r.ebx, r.edx, r.ecx]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Medians of `reps` interleaved runs of each kind.
pub fn fp_cost(n: u64, reps: usize) -> FpCost {
    let mut v: [Vec<f64>; 7] = Default::default();
    for _ in 0..reps {
        v[0].push(ldmxcsr_ns(CLEAN, CLEAN, n));
        v[1].push(ldmxcsr_ns(CLEAN, WITH_PE, n));
        v[2].push(stmxcsr_ns::<false>(n));
        v[3].push(stmxcsr_ns::<true>(n));
        for (k, seq) in Sequence::ALL.into_iter().enumerate() {
            v[4 + k].push(sequence_ns(seq, n));
        }
    }
    let [a, b, c, d, e, f, g] = v.map(|mut v| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    });
    FpCost {
        ldmxcsr_unchanged: a,
        ldmxcsr_status_change: b,
        stmxcsr: c,
        stmxcsr_read_back: d,
        sequences: [
            (Sequence::CompareSkip, e),
            (Sequence::MergeLoad, f),
            (Sequence::WholeRegisters, g),
        ],
        vendor: vendor(),
        n,
        reps,
    }
}
