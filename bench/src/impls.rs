//! One ping-pong per implementation and scenario: the main side switches to a
//! partner context and the partner switches straight back, `round_trips` times
//! (2 switches per round trip). Every partner runs forever; the benchmark
//! process exits without tearing them down.
//!
//! Every partner is generic over `const MIXED: bool` (the scenario, see
//! `fp.rs`): it loads its MXCSR when it starts and, when `MIXED`, sets PE again
//! before each of its switches. The main side's MXCSR is set by the harness.

use std::ffi::c_void;
use std::hint::black_box;

use std::sync::atomic::{AtomicPtr, Ordering::Relaxed};

use cem_ctx::{Context, Coroutine, CoroutineResult, Options, Yielder};

use crate::fp::{partner_before_switch, partner_start, Scenario};

/// Input that makes every coroutine partner return: ScopedCoroutine must
/// complete before its scope ends (a suspended one would be unwound, which
/// is not what we measure). Every coroutine closure checks for it, so they
/// all run the same loop.
pub const STOP: u64 = u64::MAX;

/// A prepared ping-pong.
pub trait PingPong {
    fn run(&mut self, round_trips: u64);
}

/// An implementation under test.
pub struct Impl {
    /// Command-line key (`--only KEY`).
    pub key: &'static str,
    /// Name in tables and plots.
    pub name: &'static str,
    pub make: fn(Scenario) -> Box<dyn PingPong>,
}

/// Instantiates `$f::<MIXED>` for the scenario (partners are generic over it).
macro_rules! by_scenario {
    ($s:expr, $f:ident $(, $arg:expr)*) => {
        match $s {
            Scenario::Clean => $f::<false>($($arg),*),
            Scenario::Mixed => $f::<true>($($arg),*),
        }
    };
}

pub const ALL: &[Impl] = &[
    Impl {
        key: "cem-c",
        name: "cem_swapcontext (C ABI)",
        make: |s| by_scenario!(s, cem_c),
    },
    Impl {
        key: "cem-coroutine",
        name: "cem-ctx Coroutine",
        make: |s| by_scenario!(s, cem_coroutine, true),
    },
    Impl {
        key: "cem-coroutine-shared-fp",
        name: "cem-ctx Coroutine, fp_control: false",
        make: |s| by_scenario!(s, cem_coroutine, false),
    },
    Impl {
        key: "boost",
        name: "Boost jump_fcontext",
        make: |s| by_scenario!(s, boost),
    },
    Impl {
        key: "glibc",
        name: "glibc swapcontext",
        make: |s| by_scenario!(s, glibc),
    },
    Impl {
        key: "corosensei",
        name: "corosensei Coroutine",
        make: |s| by_scenario!(s, corosensei_coroutine),
    },
    Impl {
        key: "corosensei-scoped",
        name: "corosensei ScopedCoroutine",
        make: |s| by_scenario!(s, corosensei_scoped),
    },
    Impl {
        key: "context-rs",
        name: "context-rs",
        make: |s| by_scenario!(s, context_rs),
    },
];

const STACK: usize = 64 * 1024;

fn leaked_stack() -> &'static mut [u8] {
    vec![0u8; STACK].leak()
}

// ---------------------------------------------------------------- cem-ctx

struct CemPair {
    main: Context,
    co: Context,
}

extern "C" fn cem_partner<const MIXED: bool>(arg: *mut c_void) {
    let pair = arg as *mut CemPair;
    partner_start::<MIXED>();
    loop {
        partner_before_switch::<MIXED>();
        // SAFETY: the pair outlives the process; one side runs at a time.
        unsafe { cem_ctx::swap_context(&mut (*pair).co, &(*pair).main) };
    }
}

impl PingPong for Box<CemPair> {
    fn run(&mut self, round_trips: u64) {
        for _ in 0..round_trips {
            // SAFETY: as in cem_partner.
            unsafe { cem_ctx::swap_context(&mut self.main, &self.co) };
        }
    }
}

fn cem_c<const MIXED: bool>() -> Box<dyn PingPong> {
    let mut pair = Box::new(CemPair {
        main: Context::default(),
        co: Context::default(),
    });
    let stack = leaked_stack();
    let p: *mut CemPair = &mut *pair;
    // SAFETY: the leaked stack and the boxed pair live as long as the process.
    unsafe {
        cem_ctx::make_context_with_arg(
            &mut (*p).co,
            stack.as_mut_ptr().cast(),
            STACK,
            Some(cem_partner::<MIXED>),
            p.cast(),
            None,
        )
        .expect("make_context_with_arg");
    }
    Box::new(pair)
}

type Pinger = Coroutine<'static, u64, u64, (), &'static mut [u8]>;

impl PingPong for Pinger {
    fn run(&mut self, round_trips: u64) {
        for i in 0..round_trips {
            if let CoroutineResult::Yield(v) = self.resume(i) {
                black_box(v);
            }
        }
    }
}

fn cem_coroutine<const MIXED: bool>(fp_control: bool) -> Box<dyn PingPong> {
    let co: Pinger = Coroutine::with_options(
        leaked_stack(),
        Options { fp_control },
        |mut v: u64, y: &Yielder<u64, u64>| {
            partner_start::<MIXED>();
            while v != STOP {
                partner_before_switch::<MIXED>();
                v = y.suspend(v);
            }
        },
    )
    .expect("Coroutine::new");
    Box::new(co)
}

// -------------------------------------------------------------- Boost

#[repr(C)]
struct Transfer {
    fctx: *mut c_void,
    data: *mut c_void,
}

extern "C" {
    fn cem_bench_boost_make_fcontext(
        sp: *mut c_void,
        size: usize,
        f: extern "C" fn(Transfer) -> !,
    ) -> *mut c_void;
    fn cem_bench_boost_jump_fcontext(to: *mut c_void, vp: *mut c_void) -> Transfer;
}

extern "C" fn boost_partner<const MIXED: bool>(mut t: Transfer) -> ! {
    partner_start::<MIXED>();
    loop {
        partner_before_switch::<MIXED>();
        // SAFETY: t.fctx is the suspended main side.
        t = unsafe { cem_bench_boost_jump_fcontext(t.fctx, t.data) };
    }
}

struct Boost(*mut c_void);

impl PingPong for Boost {
    fn run(&mut self, round_trips: u64) {
        for _ in 0..round_trips {
            // SAFETY: self.0 is the suspended partner.
            let t = unsafe { cem_bench_boost_jump_fcontext(self.0, std::ptr::null_mut()) };
            self.0 = t.fctx;
        }
    }
}

fn boost<const MIXED: bool>() -> Box<dyn PingPong> {
    let stack = leaked_stack();
    // make_fcontext takes the top (high end) of the stack.
    // SAFETY: a leaked, 64 KiB stack.
    let top = unsafe { stack.as_mut_ptr().add(STACK) };
    let ctx = unsafe { cem_bench_boost_make_fcontext(top.cast(), STACK, boost_partner::<MIXED>) };
    Box::new(Boost(ctx))
}

// -------------------------------------------------------------- glibc

struct GlibcPair {
    main: libc::ucontext_t,
    co: libc::ucontext_t,
}

/// makecontext passes only `int` arguments: each scenario's partner finds its
/// pair here.
static GLIBC_PAIRS: [AtomicPtr<GlibcPair>; 2] = [
    AtomicPtr::new(std::ptr::null_mut()),
    AtomicPtr::new(std::ptr::null_mut()),
];

extern "C" fn glibc_partner<const MIXED: bool>() {
    let p = GLIBC_PAIRS[MIXED as usize].load(Relaxed);
    partner_start::<MIXED>();
    loop {
        partner_before_switch::<MIXED>();
        // SAFETY: the pair is set before the first switch and never freed.
        unsafe { libc::swapcontext(&mut (*p).co, &(*p).main) };
    }
}

struct Glibc(*mut GlibcPair);

impl PingPong for Glibc {
    fn run(&mut self, round_trips: u64) {
        for _ in 0..round_trips {
            // SAFETY: as in glibc_partner.
            unsafe { libc::swapcontext(&mut (*self.0).main, &(*self.0).co) };
        }
    }
}

fn glibc<const MIXED: bool>() -> Box<dyn PingPong> {
    // SAFETY: zeroed ucontext_t is a valid input to getcontext.
    let pair = Box::into_raw(Box::new(unsafe { std::mem::zeroed::<GlibcPair>() }));
    let stack = leaked_stack();
    // SAFETY: standard getcontext/makecontext set-up on a leaked stack.
    unsafe {
        GLIBC_PAIRS[MIXED as usize].store(pair, Relaxed);
        libc::getcontext(&mut (*pair).co);
        (*pair).co.uc_stack.ss_sp = stack.as_mut_ptr().cast();
        (*pair).co.uc_stack.ss_size = STACK;
        (*pair).co.uc_link = std::ptr::null_mut();
        libc::makecontext(&mut (*pair).co, glibc_partner::<MIXED>, 0);
    }
    Box::new(Glibc(pair))
}

// ---------------------------------------------------------- corosensei

impl PingPong for corosensei::Coroutine<u64, u64, ()> {
    fn run(&mut self, round_trips: u64) {
        for i in 0..round_trips {
            if let corosensei::CoroutineResult::Yield(v) = self.resume(i) {
                black_box(v);
            }
        }
    }
}

fn corosensei_coroutine<const MIXED: bool>() -> Box<dyn PingPong> {
    Box::new(corosensei::Coroutine::new(
        |y: &corosensei::Yielder<u64, u64>, mut v: u64| {
            partner_start::<MIXED>();
            while v != STOP {
                partner_before_switch::<MIXED>();
                v = y.suspend(v);
            }
        },
    ))
}

/// ScopedCoroutine is resumable only inside `scope`, which consumes it: each
/// run builds one and resumes it `round_trips` times in its scope. Creating
/// it (and unwinding it at the end of the scope) is outside the loop and
/// negligible against a million round trips.
struct CorosenseiScoped<const MIXED: bool>;

impl<const MIXED: bool> PingPong for CorosenseiScoped<MIXED> {
    fn run(&mut self, round_trips: u64) {
        let co =
            corosensei::ScopedCoroutine::new(|y: &corosensei::Yielder<u64, u64>, mut v: u64| {
                partner_start::<MIXED>();
                while v != STOP {
                    partner_before_switch::<MIXED>();
                    v = y.suspend(v);
                }
            });
        co.scope(|mut co| {
            for i in 0..round_trips {
                if let corosensei::CoroutineResult::Yield(v) = co.as_mut().resume(i) {
                    black_box(v);
                }
            }
            co.resume(STOP);
        });
    }
}

fn corosensei_scoped<const MIXED: bool>() -> Box<dyn PingPong> {
    Box::new(CorosenseiScoped::<MIXED>)
}

// ---------------------------------------------------------- context-rs

extern "C" fn context_rs_partner<const MIXED: bool>(mut t: context::context::Transfer) -> ! {
    partner_start::<MIXED>();
    loop {
        partner_before_switch::<MIXED>();
        // SAFETY: t.context is the suspended main side.
        t = unsafe { t.context.resume(t.data) };
    }
}

struct ContextRs(Option<context::context::Context>);

impl PingPong for ContextRs {
    fn run(&mut self, round_trips: u64) {
        for _ in 0..round_trips {
            let ctx = self.0.take().expect("partner context");
            // SAFETY: ctx is the suspended partner.
            let t = unsafe { ctx.resume(0) };
            self.0 = Some(t.context);
        }
    }
}

fn context_rs<const MIXED: bool>() -> Box<dyn PingPong> {
    let stack: &'static context::stack::ProtectedFixedSizeStack = Box::leak(Box::new(
        context::stack::ProtectedFixedSizeStack::new(STACK).expect("stack"),
    ));
    // SAFETY: the stack is leaked, so it outlives the context.
    let ctx = unsafe { context::context::Context::new(stack, context_rs_partner::<MIXED>) };
    Box::new(ContextRs(Some(ctx)))
}
