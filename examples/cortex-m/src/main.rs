//! cem-ctx on Cortex-M, run under qemu-system-arm: coroutines on static
//! stacks doing work that is checked against a direct computation, the
//! C-shaped switch in a ring of contexts, and a register-canary test of
//! `cem_swapcontext` (r4–r11, plus s16–s31 on cores with an FPU). Prints over
//! semihosting and exits with status 0 only when every check passed.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::ptr::{addr_of, addr_of_mut};

use cem_ctx::stack::{high_water_mark, paint};
use cem_ctx::{
    make_context, make_context_with_arg, swap_context, swap_context_value, Context, Coroutine,
    CoroutineResult, Yielder,
};
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;

mod common;
use common::Checks;

/// Coroutine stack size. The microbit's nRF51 has 16 KiB of RAM in all, and
/// the main stack (what the statics leave) must hold a debug build's frames:
/// the coroutines get less there. `Coroutine::new` needs
/// `COROUTINE_RESERVE` (1 KiB) plus the closure and the 16-byte link block.
const STACK: usize = if cfg!(example_thumb1) { 1280 } else { 2048 };

static mut PRIMES_STACK: [u8; STACK] = [0; STACK];
static mut FIB_STACK: [u8; STACK] = [0; STACK];
static mut CRC_STACK: [u8; STACK] = [0; STACK];
static mut FLOAT_STACK: [u8; STACK] = [0; STACK];

/// Hands out a static stack, painted for the high-water mark.
///
/// # Safety
/// Once per stack.
unsafe fn take(stack: *mut [u8; STACK]) -> &'static mut [u8] {
    let stack = unsafe { &mut *stack };
    paint(stack);
    stack
}

// ------------------------------------------------------------ the work

/// Yields the first `n` primes (trial division).
fn primes(n: u32, y: &Yielder<(), u32>) -> u32 {
    let mut found = 0;
    let mut candidate = 2u32;
    while found < n {
        if (2..candidate)
            .take_while(|d| d * d <= candidate)
            .all(|d| !candidate.is_multiple_of(d))
        {
            y.suspend(candidate);
            found += 1;
        }
        candidate += 1;
    }
    found
}

/// Yields Fibonacci numbers mod 2^32, `n` of them.
fn fibonacci(n: u32, y: &Yielder<(), u32>) -> u32 {
    let (mut a, mut b) = (0u32, 1u32);
    for _ in 0..n {
        y.suspend(a);
        (a, b) = (b, a.wrapping_add(b));
    }
    a
}

/// CRC-32 (IEEE, bitwise) of one byte into `crc`.
fn crc32_byte(mut crc: u32, byte: u8) -> u32 {
    crc ^= u32::from(byte);
    for _ in 0..8 {
        crc = if crc & 1 != 0 {
            (crc >> 1) ^ 0xEDB8_8320
        } else {
            crc >> 1
        };
    }
    crc
}

/// A consumer: receives bytes (None ends), yields the running CRC.
fn crc_consumer(first: Option<u8>, y: &Yielder<Option<u8>, u32>) -> u32 {
    let mut crc = !0u32;
    let mut next = first;
    while let Some(b) = next {
        crc = crc32_byte(crc, b);
        next = y.suspend(!crc);
    }
    !crc
}

/// Partial sums of the Leibniz series in f32: keeps floats live across
/// suspensions, in s16–s31 where the compiler likes (FPU builds).
fn leibniz(terms: u32, y: &Yielder<(), f32>) -> f32 {
    let (mut sum, mut sign, mut denom) = (0.0f32, 1.0f32, 1.0f32);
    for _ in 0..terms {
        sum += sign / denom;
        sign = -sign;
        denom += 2.0;
        y.suspend(sum);
    }
    sum
}

fn coroutine_work(c: &mut Checks) {
    // SAFETY: each static stack is taken once.
    let (s1, s2, s3, s4) = unsafe {
        (
            take(addr_of_mut!(PRIMES_STACK)),
            take(addr_of_mut!(FIB_STACK)),
            take(addr_of_mut!(CRC_STACK)),
            take(addr_of_mut!(FLOAT_STACK)),
        )
    };
    let mut p = Coroutine::new(s1, |(), y: &Yielder<(), u32>| primes(50, y)).unwrap();
    let mut f = Coroutine::new(s2, |(), y: &Yielder<(), u32>| fibonacci(60, y)).unwrap();
    let mut crc = Coroutine::new(s3, crc_consumer).unwrap();
    let mut pi = Coroutine::new(s4, |(), y: &Yielder<(), f32>| leibniz(100, y)).unwrap();

    let data = b"cem-ctx runs coroutines on Cortex-M under qemu";
    let (mut prime_sum, mut primes_seen) = (0u32, 0u32);
    let (mut fib_ok, mut fib_seen, mut fa, mut fb) = (true, 0u32, 0u32, 1u32);
    let (mut crc_ok, mut crc_direct, mut fed) = (true, !0u32, 0usize);
    let (mut pi_ok, mut pi_sum, mut pi_sign, mut pi_denom, mut pi_seen) =
        (true, 0.0f32, 1.0f32, 1.0f32, 0u32);
    let mut crc_result = 0;
    let mut switches = 0u32;
    // Round robin until all four have completed.
    loop {
        let mut live = false;
        if !p.is_complete() {
            live = true;
            switches += 1;
            if let CoroutineResult::Yield(v) = p.resume(()) {
                prime_sum += v;
                primes_seen += 1;
            }
        }
        if !f.is_complete() {
            live = true;
            switches += 1;
            if let CoroutineResult::Yield(v) = f.resume(()) {
                fib_ok &= v == fa;
                (fa, fb) = (fb, fa.wrapping_add(fb));
                fib_seen += 1;
            }
        }
        if !crc.is_complete() {
            live = true;
            switches += 1;
            let input = data.get(fed).copied();
            match crc.resume(input) {
                CoroutineResult::Yield(v) => {
                    crc_direct = crc32_byte(crc_direct, data[fed]);
                    crc_ok &= v == !crc_direct;
                    fed += 1;
                }
                CoroutineResult::Complete(r) => crc_result = r,
            }
        }
        if !pi.is_complete() {
            live = true;
            switches += 1;
            if let CoroutineResult::Yield(v) = pi.resume(()) {
                pi_sum += pi_sign / pi_denom;
                pi_sign = -pi_sign;
                pi_denom += 2.0;
                pi_ok &= v.to_bits() == black_box(pi_sum).to_bits();
                pi_seen += 1;
            }
        }
        if !live {
            break;
        }
    }
    hprintln!(
        "coroutines: {} resumes; sum of 50 primes {}, crc32 {:#010x}, pi/4 ~ {}",
        switches,
        prime_sum,
        crc_result,
        pi_sum
    );
    c.check(
        "primes: 50 yielded, sum 5117",
        primes_seen == 50 && prime_sum == 5117,
    );
    c.check("fibonacci: 60 values match", fib_ok && fib_seen == 60);
    c.check(
        "crc32 consumer matches the direct computation",
        crc_ok && fed == data.len() && crc_result == !crc_direct,
    );
    c.check(
        "leibniz f32 partial sums bit-identical",
        pi_ok && pi_seen == 100,
    );

    // Stack sizing, as a firmware engineer would do it.
    let used = [
        high_water_mark(p.into_stack()),
        high_water_mark(f.into_stack()),
        high_water_mark(crc.into_stack()),
        high_water_mark(pi.into_stack()),
    ];
    hprintln!(
        "high-water marks (bytes of {}): primes {}, fibonacci {}, crc {}, leibniz {}",
        STACK,
        used[0],
        used[1],
        used[2],
        used[3]
    );
    c.check(
        "high-water marks measured, within the stacks",
        used.iter().all(|&u| u > 0 && u < STACK),
    );

    // ARMv8-M: while a coroutine runs, MSPLIM (Thread mode is on MSP here)
    // is its stack's base; the resumer gets its own limit (0) back.
    #[cfg(example_v8m)]
    {
        // SAFETY: reuses FIB_STACK, whose coroutine is gone.
        let s = unsafe { take(addr_of_mut!(FIB_STACK)) };
        let base = s.as_ptr() as u32;
        let mut probe = Coroutine::new(s, |(), y: &Yielder<(), u32>| loop {
            let limit: u32;
            // SAFETY: reading MSPLIM has no side effects.
            unsafe { core::arch::asm!("mrs {0}, MSPLIM", out(reg) limit) };
            y.suspend(limit);
        })
        .unwrap();
        let inside = probe.resume(());
        let outside: u32;
        // SAFETY: as above.
        unsafe { core::arch::asm!("mrs {0}, MSPLIM", out(reg) outside) };
        hprintln!(
            "MSPLIM inside a coroutine {:?}, stack base {:#010x}, outside {:#010x}",
            inside,
            base,
            outside
        );
        c.check(
            "ARMv8-M: coroutine runs with MSPLIM = its stack base",
            inside == CoroutineResult::Yield((base + 7) & !7) && outside == 0,
        );
        // Leave it suspended forever: without unwinding, drop would trap.
        core::mem::forget(probe);
    }

    hprintln!(
        "RAM: Coroutine handle {} bytes, cem_context_t {} bytes",
        core::mem::size_of::<Coroutine<'static, (), u32, u32, &'static mut [u8]>>(),
        core::mem::size_of::<Context>()
    );

    // The smallest coroutine: what the library itself needs.
    // SAFETY: reuses PRIMES_STACK, whose coroutine is gone.
    let s = unsafe { take(addr_of_mut!(PRIMES_STACK)) };
    let mut empty = Coroutine::new(s, |(), _: &Yielder<(), ()>| ()).unwrap();
    let _ = empty.resume(());
    let min = high_water_mark(empty.into_stack());
    hprintln!(
        "empty coroutine high-water mark: {} bytes (COROUTINE_RESERVE {})",
        min,
        cem_ctx::coroutine::COROUTINE_RESERVE
    );
    c.check(
        "empty coroutine fits COROUTINE_RESERVE",
        min > 0 && min <= cem_ctx::coroutine::COROUTINE_RESERVE,
    );
}

// ------------------------------------------------ C-shaped ring of contexts

const RING: usize = 4;
const ROUNDS: usize = 100;
static mut RING_MAIN: Context = unsafe { core::mem::zeroed() };
static mut RING_CTX: [Context; RING] = unsafe { core::mem::zeroed() };
static mut RING_STACKS: [[u64; 64]; RING] = [[0; 64]; RING];

/// Each context adds its id + 1 to the token and passes it on; the last
/// one hands it back to main.
extern "C" fn ring_member(arg: *mut core::ffi::c_void) {
    let id = arg as usize;
    // SAFETY: single core; one context runs at a time, the ring's contexts
    // are statics that outlive every switch.
    unsafe {
        let mut token = swap_context_value(
            addr_of_mut!(RING_CTX[id]),
            addr_of!(RING_MAIN),
            core::ptr::null_mut(),
        ) as usize;
        loop {
            token += id + 1;
            let next: *const Context = if id + 1 == RING {
                addr_of!(RING_MAIN)
            } else {
                addr_of!(RING_CTX[id + 1])
            };
            token = swap_context_value(addr_of_mut!(RING_CTX[id]), next, token as *mut _) as usize;
        }
    }
}

fn context_ring(c: &mut Checks) {
    // SAFETY: statics used by this single-core program only; each context
    // gets its own stack.
    unsafe {
        for id in 0..RING {
            let stack = addr_of_mut!(RING_STACKS[id]);
            let ok = make_context_with_arg(
                addr_of_mut!(RING_CTX[id]),
                stack.cast(),
                core::mem::size_of::<[u64; 64]>(),
                Some(ring_member),
                id as *mut _,
                None,
            );
            c.check("make_context_with_arg", ok.is_ok());
            // Start each member up to its first suspension.
            swap_context(addr_of_mut!(RING_MAIN), addr_of!(RING_CTX[id]));
        }
        let mut token = 0usize;
        for _ in 0..ROUNDS {
            token = swap_context_value(
                addr_of_mut!(RING_MAIN),
                addr_of!(RING_CTX[0]),
                token as *mut _,
            ) as usize;
        }
        let expected = ROUNDS * (1..=RING).sum::<usize>();
        hprintln!(
            "context ring: {} contexts x {} rounds, token {} (expected {})",
            RING,
            ROUNDS,
            token,
            expected
        );
        c.check("swap_context_value ring token", token == expected);
        let sp = cem_ctx::saved_stack_pointer(&*addr_of!(RING_CTX[0]));
        let base = addr_of!(RING_STACKS[0]) as usize;
        c.check(
            "saved sp inside its stack, 8-byte aligned",
            sp > base && sp < base + 512 && sp.is_multiple_of(8),
        );
    }
}

// ---------------------------------------------- register canaries (asm)

/// r4–r11, then (FPU builds) d8–d15 as 16 words.
#[cfg(example_fpu)]
type Regs = [u32; 24];
#[cfg(not(example_fpu))]
type Regs = [u32; 8];

const NAMES: [&str; 24] = [
    "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "s16", "s17", "s18", "s19", "s20", "s21",
    "s22", "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31",
];

extern "C" {
    /// Loads `input` into r4–r11 (and d8–d15), calls
    /// `cem_swapcontext(save, restore)`, and when resumed stores what those
    /// registers hold into `output`; restores the caller's registers.
    fn canary_swap(
        save: *mut Context,
        restore: *const Context,
        input: *const Regs,
        output: *mut Regs,
    );
    /// The same around `f(arg)` instead of a switch.
    fn canary_call(
        arg: *mut core::ffi::c_void,
        f: extern "C" fn(*mut core::ffi::c_void),
        input: *const Regs,
        output: *mut Regs,
    );
}

// Thumb-1 code (runs on every M-profile core) plus the FPU part where the
// build has one. Frame: r3 (output), r4-r7, lr; r8-r11; d8-d15: 40 or 104
// bytes, a multiple of 8 so sp stays aligned across the call.
#[cfg(example_fpu)]
macro_rules! fpu {
    ($($s:literal),*) => { concat!($($s, "\n"),*) };
}
#[cfg(not(example_fpu))]
macro_rules! fpu {
    ($($s:literal),*) => {
        ""
    };
}
#[cfg(example_fpu)]
const OUT_OFFSET: usize = 16 + 64;
#[cfg(not(example_fpu))]
const OUT_OFFSET: usize = 16;

// canary_fn!(name, call, operands): one canary routine around `call`.
macro_rules! canary_fn {
    ($name:literal, $call:literal $(, $($operands:tt)*)?) => {
        core::arch::global_asm!(
            ".syntax unified",
            ".thumb",
            fpu!(".fpu fpv4-sp-d16"),
            ".text",
            concat!(".globl ", $name),
            concat!(".type ", $name, ", %function"),
            ".p2align 2",
            ".thumb_func",
            concat!($name, ":"),
            "push {{r3, r4, r5, r6, r7, lr}}",
            "mov r4, r8",
            "mov r5, r9",
            "mov r6, r10",
            "mov r7, r11",
            "push {{r4, r5, r6, r7}}",
            fpu!("vpush {{d8-d15}}"),
            "ldr r4, [r2, #16]",
            "mov r8, r4",
            "ldr r4, [r2, #20]",
            "mov r9, r4",
            "ldr r4, [r2, #24]",
            "mov r10, r4",
            "ldr r4, [r2, #28]",
            "mov r11, r4",
            fpu!("mov r3, r2", "adds r3, #32", "vldmia r3, {{d8-d15}}"),
            "ldmia r2!, {{r4-r7}}",
            $call,
            "ldr r3, [sp, #{out}]",
            "stmia r3!, {{r4-r7}}",
            "mov r4, r8",
            "mov r5, r9",
            "mov r6, r10",
            "mov r7, r11",
            "stmia r3!, {{r4-r7}}",
            fpu!("vstmia r3, {{d8-d15}}", "vpop {{d8-d15}}"),
            "pop {{r4, r5, r6, r7}}",
            "mov r8, r4",
            "mov r9, r5",
            "mov r10, r6",
            "mov r11, r7",
            "pop {{r3, r4, r5, r6, r7, pc}}",
            concat!(".size ", $name, ", . - ", $name),
            out = const OUT_OFFSET,
            $($($operands)*)?
        );
    };
}

canary_fn!("canary_swap", "bl {swap}", swap = sym cem_ctx::ffi::cem_swapcontext);
// Same frame and registers around `blx r1`: r1 is not touched before the call.
canary_fn!("canary_call", "blx r1");

fn canaries(seed: u32) -> Regs {
    let mut r: Regs = [0; core::mem::size_of::<Regs>() / 4];
    for (i, v) in r.iter_mut().enumerate() {
        // Distinct per register and per side; also distinct as floats.
        *v = seed ^ (0x0101_0101u32.wrapping_mul(i as u32 + 1)) ^ ((i as u32) << 24);
    }
    r
}

static mut CANARY_MAIN: Context = unsafe { core::mem::zeroed() };
static mut CANARY_CO: Context = unsafe { core::mem::zeroed() };
static mut CANARY_STACK: [u64; 128] = [0; 128];
static mut CO_FOUND: Regs = [0; core::mem::size_of::<Regs>() / 4];
const MAIN_SEED: u32 = 0x5A00_0000;
const CO_SEED: u32 = 0xC300_0000;

/// The other side: loads its own canaries, switches back, and on resumption
/// records what it finds.
extern "C" fn canary_coroutine() {
    let mine = canaries(CO_SEED);
    // SAFETY: the contexts are statics; one side runs at a time.
    unsafe {
        canary_swap(
            addr_of_mut!(CANARY_CO),
            addr_of!(CANARY_MAIN),
            &mine,
            addr_of_mut!(CO_FOUND),
        );
        swap_context(addr_of_mut!(CANARY_CO), addr_of!(CANARY_MAIN));
    }
    cem_ctx::trap()
}

fn compare(c: &mut Checks, side: &str, expected: &Regs, found: &Regs) {
    let mut all = true;
    for i in 0..expected.len() {
        if expected[i] != found[i] {
            hprintln!(
                "  {}: {} = {:#010x}, expected {:#010x}",
                side,
                NAMES[i],
                found[i],
                expected[i]
            );
            all = false;
        }
    }
    hprintln!("  {}: {} registers compared", side, expected.len());
    c.check(side, all);
}

fn register_canaries(c: &mut Checks) {
    let mine = canaries(MAIN_SEED);
    let mut found: Regs = [0; core::mem::size_of::<Regs>() / 4];
    // SAFETY: statics of this single-core program; the stack is the
    // coroutine's alone.
    unsafe {
        let stack = addr_of_mut!(CANARY_STACK);
        let ok = make_context(
            addr_of_mut!(CANARY_CO),
            stack.cast(),
            core::mem::size_of::<[u64; 128]>(),
            Some(canary_coroutine),
            None,
        );
        c.check("make_context", ok.is_ok());
        canary_swap(
            addr_of_mut!(CANARY_MAIN),
            addr_of!(CANARY_CO),
            &mine,
            &mut found,
        );
        compare(
            c,
            "callee-saved registers survive a switch (main)",
            &mine,
            &found,
        );
        canary_swap(
            addr_of_mut!(CANARY_MAIN),
            addr_of!(CANARY_CO),
            &mine,
            &mut found,
        );
        compare(
            c,
            "callee-saved registers survive a switch (context)",
            &canaries(CO_SEED),
            &*addr_of!(CO_FOUND),
        );
    }
}

/// Calls the `&mut dyn FnMut()` that `f` points to (for `canary_call`).
extern "C" fn call_closure(f: *mut core::ffi::c_void) {
    // SAFETY: canary_call passes the pointer fast_path_canaries gave it.
    let f = unsafe { &mut *(f as *mut &mut dyn FnMut()) };
    f();
}

/// Runs `f` with the canaries of `seed` in r4–r11 (and s16–s31); returns
/// what those registers hold when it returns.
fn with_canaries(seed: u32, mut f: impl FnMut()) -> Regs {
    let mine = canaries(seed);
    let mut found: Regs = [0; core::mem::size_of::<Regs>() / 4];
    let mut f: &mut dyn FnMut() = &mut f;
    // SAFETY: canary_call restores every register it loads.
    unsafe {
        canary_call(
            &mut f as *mut &mut dyn FnMut() as *mut core::ffi::c_void,
            call_closure,
            &mine,
            &mut found,
        )
    };
    found
}

static mut CO_FAST_FOUND: Regs = [0; core::mem::size_of::<Regs>() / 4];

/// The same canaries around the `Coroutine` fast path (inline asm at the
/// resume and suspend sites, which saves r6/r7/lr itself and declares the
/// other callee-saved registers clobbered): each side holds its own canaries
/// across a resume and a suspend and must find them again.
fn fast_path_canaries(c: &mut Checks) {
    // SAFETY: coroutine_work's coroutine on CRC_STACK is gone.
    let stack = unsafe { take(addr_of_mut!(CRC_STACK)) };
    let mut co = Coroutine::new(stack, |(), y: &Yielder<(), u32>| {
        let found = with_canaries(CO_SEED, || {
            y.suspend(1);
        });
        // SAFETY: one side runs at a time.
        unsafe { *addr_of_mut!(CO_FAST_FOUND) = found };
        2
    })
    .unwrap();
    let found = with_canaries(MAIN_SEED, || {
        let _ = co.resume(());
    });
    compare(
        c,
        "callee-saved registers survive Coroutine::resume (main)",
        &canaries(MAIN_SEED),
        &found,
    );
    let found = with_canaries(MAIN_SEED, || {
        let _ = co.resume(());
    });
    compare(
        c,
        "callee-saved registers survive a second resume (main)",
        &canaries(MAIN_SEED),
        &found,
    );
    compare(
        c,
        "callee-saved registers survive Yielder::suspend (coroutine)",
        &canaries(CO_SEED),
        // SAFETY: the coroutine has completed.
        unsafe { &*addr_of!(CO_FAST_FOUND) },
    );
}

// ------------------------------------------- entry state of a fresh context

static mut PROBE_MAIN: Context = unsafe { core::mem::zeroed() };
static mut PROBE_CTX: Context = unsafe { core::mem::zeroed() };
static mut PROBE_STACK: [u8; 1024 + 12] = [0; 1024 + 12];
/// sp and r7 (the Thumb frame pointer) at the first instruction of the
/// entry function, written by `entry_probe`.
#[no_mangle]
static mut ENTRY_STATE: [u32; 2] = [1, 1];

extern "C" {
    /// Entry function that records sp and r7 before any prologue runs, then
    /// continues in `entry_probe_body` with the same lr.
    fn entry_probe();
}

core::arch::global_asm!(
    ".syntax unified",
    ".thumb",
    ".text",
    ".globl entry_probe",
    ".type entry_probe, %function",
    ".p2align 2",
    ".thumb_func",
    "entry_probe:",
    "ldr r0, =ENTRY_STATE",
    "mov r1, sp",
    "str r1, [r0]",
    "mov r1, r7",
    "str r1, [r0, #4]",
    "ldr r0, ={body}",
    "bx r0",
    ".ltorg",
    ".size entry_probe, . - entry_probe",
    body = sym entry_probe_body,
);

extern "C" fn entry_probe_body() {
    // SAFETY: statics of this single-core program.
    unsafe { swap_context(addr_of_mut!(PROBE_CTX), addr_of!(PROBE_MAIN)) };
    cem_ctx::trap()
}

fn entry_state(c: &mut Checks) {
    // SAFETY: statics of this single-core program. The stack deliberately
    // starts at an odd address and has a length that is no multiple of 8.
    unsafe {
        let base = (addr_of_mut!(PROBE_STACK) as usize + 1) as *mut core::ffi::c_void;
        let len = 1024 + 11 - 1;
        let ok = make_context(addr_of_mut!(PROBE_CTX), base, len, Some(entry_probe), None);
        c.check("make_context on an unaligned stack", ok.is_ok());
        swap_context(addr_of_mut!(PROBE_MAIN), addr_of!(PROBE_CTX));
        let [sp, r7] = *addr_of!(ENTRY_STATE);
        let top = (base as usize + len) & !15;
        hprintln!(
            "entry: sp {:#010x} (stack top {:#010x}), r7 {:#x}",
            sp,
            top,
            r7
        );
        c.check(
            "entry: sp is the 16-byte aligned top (AAPCS32 needs 8)",
            sp as usize == top && sp % 8 == 0,
        );
        c.check("entry: frame pointer r7 is 0", r7 == 0);
    }
}

// ------------------------------------------------------ return_func

static mut RET_MAIN: Context = unsafe { core::mem::zeroed() };
static mut RET_CTX: Context = unsafe { core::mem::zeroed() };
static mut RET_STACK: [u64; 64] = [0; 64];
static mut RET_LOG: [u8; 2] = [0; 2];

extern "C" fn returns_at_once() {
    // SAFETY: single core; main reads it after switching back.
    unsafe { RET_LOG[0] = 1 };
}

extern "C" fn return_func() {
    // SAFETY: as above.
    unsafe {
        RET_LOG[1] = 1;
        swap_context(addr_of_mut!(RET_CTX), addr_of!(RET_MAIN));
    }
    cem_ctx::trap()
}

fn return_func_runs(c: &mut Checks) {
    // SAFETY: statics of this single-core program.
    unsafe {
        let stack = addr_of_mut!(RET_STACK);
        let ok = make_context(
            addr_of_mut!(RET_CTX),
            stack.cast(),
            core::mem::size_of::<[u64; 64]>(),
            Some(returns_at_once),
            Some(return_func),
        );
        c.check("make_context with return_func", ok.is_ok());
        swap_context(addr_of_mut!(RET_MAIN), addr_of!(RET_CTX));
        c.check(
            "func ran, then return_func on the same stack",
            *addr_of!(RET_LOG) == [1, 1],
        );
    }
}

#[entry]
fn main() -> ! {
    hprintln!(
        "cem-ctx on {} ({})",
        env!("CEM_EXAMPLE_BOARD"),
        if cfg!(example_fpu) {
            "saves r4-r11, sp, lr, s16-s31"
        } else {
            "saves r4-r11, sp, lr"
        }
    );
    let mut c = Checks { failed: 0 };
    c.check(
        "code addresses carry the Thumb bit",
        (cem_ctx::ffi::cem_swapcontext as *const () as usize) & 1 == 1,
    );
    coroutine_work(&mut c);
    context_ring(&mut c);
    register_canaries(&mut c);
    fast_path_canaries(&mut c);
    entry_state(&mut c);
    return_func_runs(&mut c);
    #[cfg(example_v8m)]
    {
        let limit: u32;
        // SAFETY: reading MSPLIM has no side effects.
        unsafe { core::arch::asm!("mrs {0}, MSPLIM", out(reg) limit) };
        hprintln!("MSPLIM back in main: {:#010x}", limit);
        c.check("main's stack limit restored after the switches", limit == 0);
    }
    c.finish()
}
