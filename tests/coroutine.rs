//! The safe Rust API: `Coroutine`, `Yielder`, `on_stack`, stack painting,
//! `GuardPageStack`. Run twice by the test command: without features (the
//! `no_std` semantics: dropping a suspended coroutine traps) and with
//! `--features std` (panics propagate, drops unwind).

#[cfg(feature = "std")]
use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;

use cem_ctx::stack::{high_water_mark, paint};
use cem_ctx::{on_stack, Coroutine, CoroutineResult, MakeContextError, Options, Yielder};
use libtest_mimic::{Arguments, Failed, Trial};

mod support;
use support::{canary, ensure, isolate, ScratchStack, CAME_BACK, UNKNOWN_SCENARIO};

#[path = "coroutine/backtrace.rs"]
mod backtrace;
#[path = "coroutine/canaries.rs"]
mod canaries;

/// A fresh `'static` stack (leaked: the safe constructors want stacks whose
/// memory outlives a leaked coroutine).
fn static_stack(bytes: usize) -> &'static mut [u8] {
    vec![0u8; bytes].leak()
}

type Co<I, Y, R> = Coroutine<'static, I, Y, R, &'static mut [u8]>;

/// Values go both ways, typed, and the closure's return value arrives once.
fn values_both_ways() -> Result<(), Failed> {
    let mut co: Co<u32, String, Vec<u32>> = Coroutine::new(
        static_stack(64 * 1024),
        |first, y: &Yielder<u32, String>| {
            let mut seen = vec![first];
            for i in 0..3 {
                let next = y.suspend(format!("yield {i} after {}", seen.last().unwrap()));
                seen.push(next);
            }
            seen
        },
    )
    .map_err(|e| e.to_string())?;
    ensure(!co.started(), "started before the first resume")?;
    let mut got = Vec::new();
    for input in [10, 20, 30] {
        match co.resume(input) {
            CoroutineResult::Yield(s) => got.push(s),
            CoroutineResult::Complete(_) => return Err("completed early".into()),
        }
    }
    ensure(
        got == ["yield 0 after 10", "yield 1 after 20", "yield 2 after 30"],
        format!("yields {got:?}"),
    )?;
    match co.resume(40) {
        CoroutineResult::Complete(v) => {
            ensure(v == [10, 20, 30, 40], format!("return value {v:?}"))?
        }
        CoroutineResult::Yield(s) => {
            return Err(format!("yielded {s} instead of completing").into())
        }
    }
    ensure(co.is_complete() && co.started(), "state after completion")
}

/// Code in a coroutine runs with the ABI's stack alignment from its first
/// frame on: a function it calls finds sp aligned as at any call (the
/// coroutine's initial frame leaves the start trampoline's sp aligned).
fn stack_alignment_inside() -> Result<(), Failed> {
    for fp_control in [true, false] {
        let mut co: Co<(), u64, u64> = Coroutine::with_options(
            static_stack(64 * 1024),
            Options { fp_control },
            |(), y: &Yielder<(), u64>| {
                // SAFETY: sp_at_entry reads sp and returns.
                y.suspend(unsafe { canary::sp_at_entry() });
                // SAFETY: as above.
                unsafe { canary::sp_at_entry() }
            },
        )
        .map_err(|e| e.to_string())?;
        let first = match co.resume(()) {
            CoroutineResult::Yield(sp) => sp,
            CoroutineResult::Complete(_) => return Err("completed early".into()),
        };
        let second = match co.resume(()) {
            CoroutineResult::Complete(sp) => sp,
            CoroutineResult::Yield(_) => return Err("yielded twice".into()),
        };
        for (when, sp) in [("first run", first), ("after a resume", second)] {
            ensure(
                canary::entry_sp_ok(sp),
                format!("fp_control {fp_control}, {when}: a call inside the coroutine found sp {sp:#x}, misaligned"),
            )?;
        }
    }
    Ok(())
}

/// Resuming a completed coroutine panics in the resumer (it is a bug).
fn resume_after_completion_panics() -> Result<(), Failed> {
    let mut co: Co<(), (), u8> =
        Coroutine::new(static_stack(16 * 1024), |(), _: &Yielder<(), ()>| 7)
            .map_err(|e| e.to_string())?;
    ensure(
        co.resume(()) == CoroutineResult::Complete(7),
        "first resume",
    )?;
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| co.resume(())));
    ensure(
        again.is_err(),
        "resuming a completed coroutine did not panic",
    )
}

/// Dropping a coroutine that never ran drops its closure (and what it owns).
fn drop_unstarted_drops_closure() -> Result<(), Failed> {
    let witness = Rc::new(());
    let held = Rc::clone(&witness);
    let co: Co<(), (), ()> =
        Coroutine::new(static_stack(16 * 1024), move |(), _: &Yielder<(), ()>| {
            drop(held)
        })
        .map_err(|e| e.to_string())?;
    ensure(Rc::strong_count(&witness) == 2, "closure not stored")?;
    drop(co);
    ensure(
        Rc::strong_count(&witness) == 1,
        "closure of an unstarted coroutine was not dropped",
    )
}

/// State on the coroutine stack survives many suspensions; floating-point
/// values live in callee-saved FP registers across them (d8–d15 on AArch64,
/// xmm6–xmm15 on Windows).
fn stack_and_fp_state_survive() -> Result<(), Failed> {
    let mut co: Co<f64, f64, f64> =
        Coroutine::new(static_stack(64 * 1024), |x: f64, y: &Yielder<f64, f64>| {
            let mut local = [0u64; 64];
            let (mut a, mut b, mut c) = (x, x * 0.5, x + 3.25);
            for i in 0..100u64 {
                local[(i % 64) as usize] =
                    local[(i % 64) as usize].wrapping_mul(31).wrapping_add(i);
                let input = y.suspend(a + b + c);
                a = a * 1.0001 + input;
                b -= input * 0.5;
                c += a / 7.0;
            }
            a + b + c + local.iter().sum::<u64>() as f64
        })
        .map_err(|e| e.to_string())?;
    // The same computation without a coroutine.
    let reference = {
        let mut local = [0u64; 64];
        let x = 1.5;
        let (mut a, mut b, mut c) = (x, x * 0.5, x + 3.25);
        for i in 0..100u64 {
            local[(i % 64) as usize] = local[(i % 64) as usize].wrapping_mul(31).wrapping_add(i);
            let input = i as f64 * 0.25;
            a = a * 1.0001 + input;
            b -= input * 0.5;
            c += a / 7.0;
        }
        a + b + c + local.iter().sum::<u64>() as f64
    };
    let mut result = co.resume(1.5);
    for i in 0..100u64 {
        let (p, q, r) = (black_box(2.5f64), black_box(-1.25f64), black_box(9.0f64));
        result = co.resume(i as f64 * 0.25);
        ensure(p * q + r == 5.875, "the resumer's FP values changed")?;
    }
    match result {
        CoroutineResult::Complete(v) => {
            ensure(v == reference, format!("got {v}, expected {reference}"))
        }
        CoroutineResult::Yield(_) => Err("did not complete".into()),
    }
}

/// Many coroutines, resumed round robin, each with its own state.
fn round_robin_1000() -> Result<(), Failed> {
    let mut cos: Vec<Co<u64, u64, u64>> = (0..1000u64)
        .map(|id| {
            Coroutine::new(
                static_stack(16 * 1024),
                move |mut input: u64, y: &Yielder<u64, u64>| {
                    let mut acc = id;
                    for _ in 0..10 {
                        acc = acc.wrapping_mul(6364136223846793005).wrapping_add(input);
                        input = y.suspend(acc);
                    }
                    acc
                },
            )
            .expect("Coroutine::new")
        })
        .collect();
    let mut last = vec![0u64; cos.len()];
    for round in 0..=10u64 {
        for (id, co) in cos.iter_mut().enumerate() {
            last[id] = match co.resume(round) {
                CoroutineResult::Yield(v) | CoroutineResult::Complete(v) => v,
            };
        }
    }
    let expected = |id: u64| {
        (0..10u64).fold(id, |acc, r| {
            acc.wrapping_mul(6364136223846793005).wrapping_add(r)
        })
    };
    let bad = (0..1000)
        .filter(|&id| last[id] != expected(id as u64))
        .count();
    ensure(
        bad == 0 && cos.iter().all(|c| c.is_complete()),
        format!("{bad} wrong results"),
    )
}

/// `on_stack` runs the function on the given stack and returns its result;
/// deep recursion that would not fit a small thread stack works on a big one.
fn on_stack_runs_there() -> Result<(), Failed> {
    let mut stack = vec![0u8; 8 * 1024 * 1024];
    let (lo, hi) = (
        stack.as_ptr() as usize,
        stack.as_ptr() as usize + stack.len(),
    );
    let where_ = on_stack(&mut stack[..], || {
        let local = 0u8;
        black_box(&local) as *const u8 as usize
    })
    .map_err(|e| e.to_string())?;
    ensure(
        where_ > lo && where_ < hi,
        "the function did not run on the given stack",
    )?;
    fn depth(n: u64) -> u64 {
        let pad = black_box([n; 16]);
        if n == 0 {
            pad[0]
        } else {
            depth(n - 1) + pad[15] - n + 1
        }
    }
    let got = on_stack(&mut stack[..], || depth(20_000)).map_err(|e| e.to_string())?;
    ensure(got == 20_000, format!("deep recursion returned {got}"))?;
    let tiny = on_stack(&mut [0u8; 64][..], || ());
    ensure(
        tiny == Err(MakeContextError::StackTooSmall),
        format!("64-byte stack: {tiny:?}"),
    )?;
    let empty = on_stack(&mut [0u8; 0][..], || ());
    ensure(
        empty == Err(MakeContextError::NullStack),
        format!("empty stack: {empty:?}"),
    )
}

/// Painting plus the high-water mark measures what a coroutine used.
fn high_water_mark_accuracy() -> Result<(), Failed> {
    const USE: usize = 8 * 1024;
    #[inline(never)]
    fn use_stack() -> u8 {
        let mut buf = [0u8; USE];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8) ^ 0x5a;
        }
        black_box(&mut buf);
        buf[USE - 1]
    }
    let stack = static_stack(64 * 1024);
    paint(stack);
    let mut co: Co<(), (), u8> =
        Coroutine::new(stack, |(), _: &Yielder<(), ()>| use_stack()).map_err(|e| e.to_string())?;
    ensure(
        matches!(co.resume(()), CoroutineResult::Complete(_)),
        "did not complete",
    )?;
    let stack = co.into_stack();
    let used = high_water_mark(stack);
    ensure(
        (USE..=USE + 2048).contains(&used),
        format!("high-water mark {used} for a {USE}-byte frame"),
    )?;

    // The smallest footprint: a coroutine that only returns.
    let stack = static_stack(16 * 1024);
    paint(stack);
    let mut co: Co<(), (), ()> =
        Coroutine::new(stack, |(), _: &Yielder<(), ()>| ()).map_err(|e| e.to_string())?;
    co.resume(());
    let minimal = high_water_mark(co.into_stack());
    println!(
        "    measured stack use of an empty coroutine ({}): {minimal} bytes",
        std::env::consts::ARCH
    );
    ensure(
        minimal > 0 && minimal <= cem_ctx::coroutine::COROUTINE_RESERVE,
        format!("empty coroutine used {minimal} bytes, more than COROUTINE_RESERVE"),
    )
}

/// FP control state: by default each side keeps its own (a rounding-mode
/// change inside the coroutine does not leak out, and survives suspension);
/// with `fp_control: false` it is shared, as with a plain function call.
#[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
fn fp_control_state() -> Result<(), Failed> {
    use cem_ctx::Options;
    fn mxcsr() -> u32 {
        let mut v = 0u32;
        unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &mut v) };
        v & 0xffc0
    }
    fn set_mxcsr(v: u32) {
        unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &v) };
    }
    fn fcw() -> u16 {
        let mut v = 0u16;
        unsafe { core::arch::asm!("fnstcw [{}]", in(reg) &mut v) };
        v
    }
    fn set_fcw(v: u16) {
        unsafe { core::arch::asm!("fldcw [{}]", in(reg) &v) };
    }
    let round_down = 0x3f80;
    for keep in [true, false] {
        let outer = mxcsr();
        let outer_fcw = fcw();
        // A coroutine starts with the FP control state of its creator when
        // it keeps its own (as a context made by cem_makecontext does), and
        // with its first resumer's when it shares it. The first resume goes
        // through the start trampoline, not a suspend site's landing.
        let (round_up, x87_round_up) = (0x5f80, (outer_fcw & !0x0c00) | 0x0800);
        set_mxcsr(round_up);
        set_fcw(x87_round_up);
        let mut fresh: Co<(), (u32, u16), ()> = Coroutine::with_options(
            static_stack(16 * 1024),
            Options { fp_control: keep },
            |(), y: &Yielder<(), (u32, u16)>| {
                y.suspend((mxcsr(), fcw()));
            },
        )
        .map_err(|e| e.to_string())?;
        set_mxcsr(outer);
        set_fcw(outer_fcw);
        let first = fresh.resume(());
        let after = (mxcsr(), fcw());
        set_mxcsr(outer);
        set_fcw(outer_fcw);
        let _ = fresh.resume(());
        let expected = if keep {
            (round_up, x87_round_up)
        } else {
            (outer, outer_fcw)
        };
        ensure(
            first == CoroutineResult::Yield(expected),
            format!(
                "fp_control: {keep}: a fresh coroutine started with {first:x?}, not {expected:x?}"
            ),
        )?;
        ensure(
            !keep || after == (outer, outer_fcw),
            format!("fp_control: true: the first switch back left {after:x?}"),
        )?;

        let mut co: Co<(), u32, u32> = Coroutine::with_options(
            static_stack(16 * 1024),
            Options { fp_control: keep },
            move |(), y: &Yielder<(), u32>| {
                set_mxcsr(round_down);
                y.suspend(mxcsr());
                mxcsr()
            },
        )
        .map_err(|e| e.to_string())?;
        let inside = co.resume(());
        let after_first = mxcsr();
        set_mxcsr(outer);
        let at_end = co.resume(());
        let after_second = mxcsr();
        set_mxcsr(outer);
        ensure(
            inside == CoroutineResult::Yield(round_down),
            format!("coroutine saw {inside:?}"),
        )?;
        if keep {
            ensure(
                after_first == outer,
                format!("fp_control: true leaked MXCSR {after_first:#x} to the resumer"),
            )?;
            ensure(
                at_end == CoroutineResult::Complete(round_down),
                format!("the coroutine's MXCSR was lost: {at_end:?}"),
            )?;
            ensure(after_second == outer, "MXCSR after completion")?;
        } else {
            ensure(
                after_first == round_down,
                format!("fp_control: false should share MXCSR, got {after_first:#x}"),
            )?;
            ensure(
                at_end == CoroutineResult::Complete(outer),
                format!("shared MXCSR not seen inside: {at_end:?}"),
            )?;
        }
    }
    Ok(())
}

/// `Coroutine` and `Yielder` cannot cross threads (thread-local storage
/// referenced across a suspension would point at the wrong thread).
fn not_send_or_sync() -> Result<(), Failed> {
    static_assertions::assert_not_impl_any!(Co<(), (), ()>: Send, Sync);
    static_assertions::assert_not_impl_any!(Yielder<(), ()>: Send, Sync);
    Ok(())
}

// ------------------------------------------------------------- std only

/// A panic inside the coroutine reaches the resumer, with its payload.
#[cfg(feature = "std")]
fn panic_propagates() -> Result<(), Failed> {
    let mut co: Co<(), (), ()> =
        Coroutine::new(static_stack(64 * 1024), |(), y: &Yielder<(), ()>| {
            y.suspend(());
            panic!("boom from the coroutine");
        })
        .map_err(|e| e.to_string())?;
    co.resume(());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| co.resume(())));
    let payload = caught.err().ok_or("the panic did not propagate")?;
    let msg = payload.downcast_ref::<&str>().copied().unwrap_or("");
    ensure(msg == "boom from the coroutine", format!("payload {msg:?}"))?;
    ensure(
        co.is_complete(),
        "a panicked coroutine must count as complete",
    )
}

/// Dropping a suspended coroutine unwinds its stack: destructors run.
#[cfg(feature = "std")]
fn drop_suspended_unwinds() -> Result<(), Failed> {
    struct Guard(Rc<Cell<u32>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let drops = Rc::new(Cell::new(0));
    let d = Rc::clone(&drops);
    let mut co: Co<(), (), ()> =
        Coroutine::new(static_stack(64 * 1024), move |(), y: &Yielder<(), ()>| {
            let _a = Guard(Rc::clone(&d));
            let _b = Guard(d);
            loop {
                y.suspend(());
            }
        })
        .map_err(|e| e.to_string())?;
    co.resume(());
    co.resume(());
    ensure(drops.get() == 0, "guards dropped while suspended")?;
    drop(co);
    ensure(
        drops.get() == 2,
        format!(
            "{} of 2 destructors ran when the suspended coroutine was dropped",
            drops.get()
        ),
    )
}

// --------------------------------------------------- child processes

/// Runs one scenario in the child process (see `support`).
fn child(scenario: &str, _scratch: &mut ScratchStack) -> ! {
    // The register canaries install their own observer (see run_in_child).
    if let "fast-path-kept" | "fast-path-shared" = scenario {
        canaries::run_in_child(cem_ctx::Options {
            fp_control: scenario == "fast-path-kept",
        })
    }
    isolate::install_trap_observer();
    match scenario {
        // Without unwinding, dropping a suspended coroutine must stop at
        // the trap rather than leave values on its stack undropped.
        "drop-suspended" => {
            let mut co: Co<(), (), ()> =
                Coroutine::new(static_stack(16 * 1024), |(), y: &Yielder<(), ()>| loop {
                    y.suspend(());
                })
                .expect("Coroutine::new");
            co.resume(());
            drop(co);
        }
        _ => isolate::exit_now(UNKNOWN_SCENARIO),
    }
    isolate::exit_now(CAME_BACK)
}

/// Silences the panic messages that tests provoke on purpose.
fn quiet_expected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
        if !(msg.contains("resumed a completed coroutine")
            || msg.contains("boom from the coroutine")
            || msg.contains("canary unwind test"))
        {
            default(info);
        }
    }));
}

fn main() {
    // First, so that a child started by run_child (Windows) is quiet too.
    quiet_expected_panics();
    isolate::run_if_child();
    let args = Arguments::from_args();
    let mut tests = vec![
        Trial::test("values_both_ways", values_both_ways),
        Trial::test("stack_alignment_inside_coroutine", stack_alignment_inside),
        Trial::test(
            "resume_after_completion_panics",
            resume_after_completion_panics,
        ),
        Trial::test("drop_unstarted_drops_closure", drop_unstarted_drops_closure),
        Trial::test(
            "stack_and_fp_state_survive_suspension",
            stack_and_fp_state_survive,
        ),
        Trial::test("round_robin_1000_coroutines", round_robin_1000),
        Trial::test("on_stack_runs_there", on_stack_runs_there),
        Trial::test("high_water_mark_accuracy", high_water_mark_accuracy),
        Trial::test("not_send_or_sync", not_send_or_sync),
        Trial::test("fast_path_canaries_fp_control_kept", || {
            canaries::expect_child_passes("fast-path-kept")
        }),
        Trial::test("fast_path_canaries_fp_control_shared", || {
            canaries::expect_child_passes("fast-path-shared")
        }),
    ];
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    tests.push(Trial::test("fp_control_kept_or_shared", fp_control_state));
    tests.extend(backtrace::trials());
    #[cfg(feature = "std")]
    tests.extend([
        Trial::test("panic_propagates_to_resumer", panic_propagates),
        Trial::test("drop_suspended_unwinds_its_stack", drop_suspended_unwinds),
    ]);
    #[cfg(not(feature = "std"))]
    tests.push(Trial::test(
        "drop_suspended_traps_without_unwinding",
        || support::expect_child("drop-suspended", &[support::TRAPPED]),
    ));
    libtest_mimic::run(&args, tests).exit();
}
