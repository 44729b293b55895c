//! The firmware's verified work, shared by every target of the firmware
//! examples (`examples/firmware` on bare metal, `examples/uefi` under UEFI):
//! coroutines and a raw context on statically allocated stacks, each result
//! compared with a value computed independently of cem-ctx.
//!
//! The expected constants were computed on the host with a plain sequential
//! model of the same arithmetic (Python integers masked to 32/64 bits, IEEE
//! doubles in the same order); the sequential references below recompute them
//! on the target without any switch, so a wrong constant and a wrong switch are
//! told apart in the report.

use core::fmt::Write;
use core::ptr::{addr_of, addr_of_mut};

use cem_ctx::stack::{high_water_mark, paint};
use cem_ctx::{make_context, swap_context, Context, Coroutine, CoroutineResult, Yielder};

/// Bytes per coroutine stack (16-byte aligned: every ABI's stack alignment).
pub const STACK_SIZE: usize = 8192;

/// A statically allocated stack, aligned for every ABI cem-ctx supports.
#[repr(C, align(16))]
pub struct StaticStack(pub [u8; STACK_SIZE]);

static mut SENSOR_A_STACK: StaticStack = StaticStack([0; STACK_SIZE]);
static mut SENSOR_B_STACK: StaticStack = StaticStack([0; STACK_SIZE]);
static mut FIB_STACK: StaticStack = StaticStack([0; STACK_SIZE]);
static mut SERIES_STACK: StaticStack = StaticStack([0; STACK_SIZE]);
static mut RAW_STACK: StaticStack = StaticStack([0; STACK_SIZE]);
static mut MAIN: Context = unsafe { core::mem::zeroed() };
static mut RAW: Context = unsafe { core::mem::zeroed() };
static mut RAW_TICKS: u32 = 0;

/// Sum of both sensors' 16 readings (periods 10 and 20), and their last readings.
const SENSOR_SUM: usize = 14832;
const SENSOR_A_LAST: u32 = 940;
const SENSOR_B_LAST: u32 = 76;
/// F(90), and F(1) + … + F(90) = F(92) − 1.
const FIB_90: u64 = 2_880_067_194_370_816_120;
const FIB_SUM_90: u64 = 7_540_113_804_746_346_428;
/// Σ 1/k² for k = 1..=1000, summed in order: the bit pattern of the f64.
const SERIES_BITS: u64 = 0x3ffa_4d8e_550a_946e;
/// Switches into the raw context.
const RAW_ROUNDS: u32 = 10;

/// Takes a `'static` stack out of its static, painted for the high-water mark.
///
/// # Safety
/// Called once per stack; nothing else uses that static afterwards.
unsafe fn take(stack: *mut StaticStack) -> &'static mut [u8] {
    // SAFETY: the caller hands each static over exactly once.
    let stack = unsafe { &mut (*stack).0 };
    paint(stack);
    stack
}

/// A "sensor": yields readings, receives the sample period.
fn sensor(mut period: u32, y: &Yielder<u32, u32>) -> u32 {
    let mut reading = 100u32;
    for _ in 0..16 {
        reading = reading.wrapping_mul(1103515245).wrapping_add(period) % 1000;
        period = y.suspend(reading);
    }
    reading
}

/// The sensor arithmetic without coroutines: (sum of readings, last reading).
fn sensor_reference(period: u32) -> (usize, u32) {
    let (mut reading, mut sum) = (100u32, 0usize);
    for _ in 0..16 {
        reading = reading.wrapping_mul(1103515245).wrapping_add(period) % 1000;
        sum += reading as usize;
    }
    (sum, reading)
}

/// Σ 1/k² in blocks of 100 terms, yielding the partial sum after each block:
/// floating-point values live in callee-saved FP registers across switches.
fn series(_: (), y: &Yielder<(), f64>) -> f64 {
    let mut sum = 0.0f64;
    for block in 0..10u32 {
        for k in block * 100 + 1..=block * 100 + 100 {
            let k = f64::from(k);
            sum += 1.0 / (k * k);
        }
        y.suspend(sum);
    }
    sum
}

extern "C" fn raw_task() {
    loop {
        // SAFETY: single core; one side runs at a time.
        unsafe {
            RAW_TICKS += 1;
            swap_context(addr_of_mut!(RAW), addr_of!(MAIN));
        }
    }
}

/// One check: prints `ok`/`FAIL`, returns whether it passed.
pub fn check(out: &mut dyn Write, what: impl core::fmt::Display, ok: bool) -> bool {
    let _ = writeln!(out, "{} {what}", if ok { "ok  " } else { "FAIL" });
    ok
}

/// Runs the work and prints one line per check; true when every check passed.
///
/// # Safety
/// Called once: it takes the static stacks.
pub unsafe fn run(out: &mut dyn Write) -> bool {
    let mut all = true;
    // SAFETY: each static stack is taken once (the caller runs this once).
    let (sa, sb, sf, ss) = unsafe {
        (
            take(addr_of_mut!(SENSOR_A_STACK)),
            take(addr_of_mut!(SENSOR_B_STACK)),
            take(addr_of_mut!(FIB_STACK)),
            take(addr_of_mut!(SERIES_STACK)),
        )
    };

    // Two sensors interleaved: values flow both ways on every switch.
    let (Ok(mut a), Ok(mut b)) = (Coroutine::new(sa, sensor), Coroutine::new(sb, sensor)) else {
        return check(out, "sensor coroutines created", false);
    };
    let (mut sum, mut rounds) = (0usize, 0u32);
    let (last_a, last_b) = loop {
        match (a.resume(10), b.resume(20)) {
            (CoroutineResult::Yield(x), CoroutineResult::Yield(y)) => {
                sum += (x + y) as usize;
                rounds += 1;
            }
            (CoroutineResult::Complete(x), CoroutineResult::Complete(y)) => break (x, y),
            _ => break (u32::MAX, u32::MAX),
        }
    };
    let (ref_a, ref_b) = (sensor_reference(10), sensor_reference(20));
    let _ = writeln!(
        out,
        "sensors: {rounds} rounds, sum {sum}, last {last_a} {last_b}"
    );
    all &= check(
        out,
        "sensors: constants match the sequential model",
        ref_a.0 + ref_b.0 == SENSOR_SUM && (ref_a.1, ref_b.1) == (SENSOR_A_LAST, SENSOR_B_LAST),
    );
    all &= check(
        out,
        "sensors: 16 rounds, sum and completion values",
        rounds == 16 && sum == SENSOR_SUM && (last_a, last_b) == (SENSOR_A_LAST, SENSOR_B_LAST),
    );
    let used_a = high_water_mark(a.into_stack());
    let used_b = high_water_mark(b.into_stack());

    // A generator of 64-bit values; it must run to completion, because
    // without `std` a suspended coroutine cannot be unwound (dropping one traps).
    let Ok(mut fib) = Coroutine::new(sf, |n: u32, y: &Yielder<u32, u64>| {
        let (mut x, mut next) = (0u64, 1u64);
        for _ in 0..n {
            (x, next) = (next, x.wrapping_add(next));
            y.suspend(x);
        }
        x
    }) else {
        return check(out, "fibonacci coroutine created", false);
    };
    let (mut fsum, mut count) = (0u64, 0u32);
    let f90 = loop {
        match fib.resume(90) {
            CoroutineResult::Yield(v) => {
                fsum = fsum.wrapping_add(v);
                count += 1;
            }
            CoroutineResult::Complete(last) => break last,
        }
    };
    let _ = writeln!(out, "fibonacci: {count} values, F(90) = {f90}, sum {fsum}");
    all &= check(
        out,
        "fibonacci: 90 values, F(90) and F(1)+..+F(90)",
        count == 90 && f90 == FIB_90 && fsum == FIB_SUM_90,
    );
    let used_f = high_water_mark(fib.into_stack());

    // Floating point on both sides of the switch.
    let Ok(mut ser) = Coroutine::new(ss, series) else {
        return check(out, "series coroutine created", false);
    };
    let (mut partials, mut last) = (0u32, 0.0f64);
    let mut main_side = 0.0f64;
    let total = loop {
        match ser.resume(()) {
            CoroutineResult::Yield(p) => {
                partials += 1;
                // Keep a live f64 on the resumer's side too.
                main_side += p - last;
                last = p;
            }
            CoroutineResult::Complete(t) => break t,
        }
    };
    let mut reference = 0.0f64;
    for k in 1..=1000u32 {
        let k = f64::from(k);
        reference += 1.0 / (k * k);
    }
    let _ = writeln!(
        out,
        "series: {partials} partial sums, total bits {:#018x}",
        total.to_bits()
    );
    all &= check(
        out,
        "series: constant matches the sequential model",
        reference.to_bits() == SERIES_BITS,
    );
    all &= check(
        out,
        "series: 10 partial sums and total, bit-exact",
        partials == 10 && total.to_bits() == SERIES_BITS && (main_side - total).abs() < 1e-12,
    );
    let used_s = high_water_mark(ser.into_stack());

    // The C-shaped API on a raw context.
    // SAFETY: RAW_STACK is used only by RAW; MAIN and RAW are only touched here
    // and by raw_task, one side at a time.
    let ticks = unsafe {
        let raw = addr_of_mut!(RAW_STACK);
        if make_context(
            addr_of_mut!(RAW),
            raw.cast(),
            STACK_SIZE,
            Some(raw_task),
            None,
        )
        .is_err()
        {
            return check(out, "make_context", false);
        }
        for _ in 0..RAW_ROUNDS {
            swap_context(addr_of_mut!(MAIN), addr_of!(RAW));
        }
        RAW_TICKS
    };
    let _ = writeln!(out, "raw context: {ticks} ticks");
    all &= check(
        out,
        "raw context: one tick per swap_context",
        ticks == RAW_ROUNDS,
    );

    let _ = writeln!(out, "stack high-water marks (bytes of {STACK_SIZE}): sensors {used_a} {used_b}, fibonacci {used_f}, series {used_s}");
    let sane = |u: usize| u > 0 && u < STACK_SIZE;
    all &= check(
        out,
        "high-water marks measured, inside the stacks",
        sane(used_a) && sane(used_b) && sane(used_f) && sane(used_s),
    );
    all
}
