//! Bare-metal RISC-V firmware on cem-ctx, for QEMU's `virt` board
//! (`riscv64gc-unknown-none-elf` and `riscv32imac-unknown-none-elf`).
//!
//! Machine mode, one hart, no OS, no allocator. Coroutines on static stacks
//! do work whose result is checked against the same computation done
//! without coroutines; a C-shaped context runs a ticker; a register canary
//! check loads every callee-saved register (s0–s11, and fs0–fs11 on rv64gc)
//! with distinct values, switches to a context that clobbers them all, and
//! checks each one after the switch back. The verdict leaves through the
//! SiFive test finisher: QEMU exits 0 on success and with the failure code
//! otherwise, and the last UART line names the result.
#![no_std]
#![no_main]

use core::fmt::Write;
use core::ptr::{addr_of, addr_of_mut};

use cem_ctx::stack::{high_water_mark, paint};
use cem_ctx::{make_context, swap_context, Context, Coroutine, CoroutineResult, Yielder};

// ------------------------------------------------------------------ boot

// Reset lands here (0x8000_0000, see link.x) in machine mode with a0 = hart
// id. Traps go to `_trap`, so a stray exception (an FP instruction with the
// FPU off, the library's `unimp` trap, a bad access) fails the run instead
// of hanging it.
core::arch::global_asm!(
    ".section .text.init, \"ax\"",
    ".globl _start",
    "_start:",
    ".option push",
    ".option norelax",
    "la sp, __stack_top",
    ".option pop",
    "la t0, _trap",
    "csrw mtvec, t0",
    // mstatus.FS = Initial: on rv64gc the compiler and the switch use FP
    // registers, which trap while FS is Off. FS is WARL: a hart without F
    // keeps it at zero, so this is harmless on riscv32imac code.
    "li t0, 0x2000",
    "csrs mstatus, t0",
    // Zero .bss (4-byte steps work for RV32 and RV64; link.x aligns to 16).
    "la t0, __bss_start",
    "la t1, __bss_end",
    "1:",
    "bgeu t0, t1, 2f",
    "sw zero, 0(t0)",
    "addi t0, t0, 4",
    "j 1b",
    "2:",
    // s0 = 0 and ra = 0: backtraces end here.
    "li s0, 0",
    "li ra, 0",
    "call {main}",
    "3:",
    "j 3b",
    ".text",
    ".p2align 2",
    ".globl _trap",
    "_trap:",
    "csrr a0, mcause",
    "csrr a1, mepc",
    "csrr a2, mtval",
    "call {trap}",
    main = sym firmware_main,
    trap = sym trap_handler,
);

// ------------------------------------------------------------ board I/O

/// ns16550a UART of `virt`: transmit holding register and line status.
const UART: usize = 0x1000_0000;
/// SiFive test finisher of `virt`: 0x5555 = pass, (code << 16) | 0x3333 = fail.
const FINISHER: usize = 0x10_0000;

struct Uart;
impl Write for Uart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            // SAFETY: MMIO registers of the virt board's UART.
            unsafe {
                while core::ptr::read_volatile((UART + 5) as *const u8) & 0x20 == 0 {}
                core::ptr::write_volatile(UART as *mut u8, b);
            }
        }
        Ok(())
    }
}

macro_rules! println {
    ($($arg:tt)*) => {{ let _ = writeln!(Uart, $($arg)*); }};
}

fn exit(code: u32) -> ! {
    let word = if code == 0 {
        0x5555
    } else {
        (code << 16) | 0x3333
    };
    // SAFETY: MMIO register of the virt board's test device; QEMU exits.
    unsafe { core::ptr::write_volatile(FINISHER as *mut u32, word) };
    loop {
        core::hint::spin_loop();
    }
}

extern "C" fn trap_handler(mcause: usize, mepc: usize, mtval: usize) -> ! {
    println!("riscv-virt: FAIL: trap mcause={mcause:#x} mepc={mepc:#x} mtval={mtval:#x}");
    exit(3)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("riscv-virt: FAIL: panic: {info}");
    exit(2)
}

// ----------------------------------------------------------- the work

const STACK_SIZE: usize = 8192;
static mut FIB_STACK: [u8; STACK_SIZE] = [0; STACK_SIZE];
static mut PRODUCER_STACK: [u8; STACK_SIZE] = [0; STACK_SIZE];
static mut FILTER_STACK: [u8; STACK_SIZE] = [0; STACK_SIZE];
static mut TICK_STACK: [u128; STACK_SIZE / 16] = [0; STACK_SIZE / 16];
static mut CANARY_STACK: [u128; STACK_SIZE / 16] = [0; STACK_SIZE / 16];
static mut MAIN: Context = unsafe { core::mem::zeroed() };
static mut TICK: Context = unsafe { core::mem::zeroed() };
static mut TICKS: u32 = 0;

/// Takes a `'static` stack out of a static, painted for the high-water mark.
///
/// # Safety
/// Called once per stack.
unsafe fn take(stack: *mut [u8; STACK_SIZE]) -> &'static mut [u8] {
    let stack = unsafe { &mut *stack };
    paint(stack);
    stack
}

fn lcg(x: u32) -> u32 {
    x.wrapping_mul(1_103_515_245).wrapping_add(12_345)
}

/// Exponential moving average step, in floating point (hardware D on
/// rv64gc, soft-float on riscv32imac).
fn ema(avg: f64, sample: u32) -> f64 {
    avg * 0.75 + (sample % 1000) as f64 * 0.25
}

extern "C" fn ticker() {
    loop {
        // SAFETY: single hart; one side runs at a time.
        unsafe {
            TICKS += 1;
            swap_context(addr_of_mut!(TICK), addr_of!(MAIN));
        }
    }
}

fn check(what: &str, ok: bool) -> u32 {
    println!("riscv-virt: {what}: {}", if ok { "ok" } else { "FAIL" });
    u32::from(!ok)
}

// ------------------------------------------------------ register canaries

/// What `canary_swap` loads and finds: s0–s11, then fs0–fs11 (rv64gc only).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Debug)]
struct Regs {
    s: [usize; 12],
    f: [u64; 12],
}

/// FP register width the canaries cover (build.rs, from the target's ISA
/// string: rv64gc 8, rv32imafc 4, rv32imac 0).
#[cfg(canary_flen = "8")]
const FLEN: usize = 8;
#[cfg(canary_flen = "4")]
const FLEN: usize = 4;
#[cfg(canary_flen = "0")]
const FLEN: usize = 0;

#[cfg(target_arch = "riscv64")]
macro_rules! xlen_flags {
    () => {
        ".set XB, 8\n.set FRAME, 208\n"
    };
}
#[cfg(target_arch = "riscv32")]
macro_rules! xlen_flags {
    () => {
        ".set XB, 4\n.set FRAME, 160\n"
    };
}

// canary_swap(save a0, restore a1, input a2, output a3): keeps the caller's
// s0-s11/fs0-fs11/ra in a FRAME-byte frame, loads `input`, calls
// cem_swapcontext, stores what the registers hold when resumed in `output`.
core::arch::global_asm!(
    xlen_flags!(),
    ".set CANARY_FLEN, {flen}",
    ".macro SX reg, off, base",
    ".if XB == 8",
    "sd \\reg, \\off(\\base)",
    ".else",
    "sw \\reg, \\off(\\base)",
    ".endif",
    ".endm",
    ".macro LX reg, off, base",
    ".if XB == 8",
    "ld \\reg, \\off(\\base)",
    ".else",
    "lw \\reg, \\off(\\base)",
    ".endif",
    ".endm",
    ".macro SF reg, off, base",
    ".if CANARY_FLEN == 8",
    "fsd \\reg, \\off(\\base)",
    ".else",
    "fsw \\reg, \\off(\\base)",
    ".endif",
    ".endm",
    ".macro LF reg, off, base",
    ".if CANARY_FLEN == 8",
    "fld \\reg, \\off(\\base)",
    ".else",
    "flw \\reg, \\off(\\base)",
    ".endif",
    ".endm",
    ".option push",
    // Module-level asm does not get the target's F/D from LLVM in every
    // build; name them (only when the target has them).
    ".if CANARY_FLEN == 8",
    ".option arch, +d",
    ".endif",
    ".if CANARY_FLEN == 4",
    ".option arch, +f",
    ".endif",
    ".text",
    ".globl canary_swap",
    ".p2align 2",
    "canary_swap:",
    "addi sp, sp, -FRAME",
    "SX s0, 0*XB, sp",
    "SX s1, 1*XB, sp",
    "SX s2, 2*XB, sp",
    "SX s3, 3*XB, sp",
    "SX s4, 4*XB, sp",
    "SX s5, 5*XB, sp",
    "SX s6, 6*XB, sp",
    "SX s7, 7*XB, sp",
    "SX s8, 8*XB, sp",
    "SX s9, 9*XB, sp",
    "SX s10, 10*XB, sp",
    "SX s11, 11*XB, sp",
    ".if CANARY_FLEN",
    "SF fs0, 12*XB+0, sp",
    "SF fs1, 12*XB+8, sp",
    "SF fs2, 12*XB+16, sp",
    "SF fs3, 12*XB+24, sp",
    "SF fs4, 12*XB+32, sp",
    "SF fs5, 12*XB+40, sp",
    "SF fs6, 12*XB+48, sp",
    "SF fs7, 12*XB+56, sp",
    "SF fs8, 12*XB+64, sp",
    "SF fs9, 12*XB+72, sp",
    "SF fs10, 12*XB+80, sp",
    "SF fs11, 12*XB+88, sp",
    ".endif",
    "SX ra, 12*XB+96, sp",
    "SX a3, 13*XB+96, sp",
    "LX s0, 0*XB, a2",
    "LX s1, 1*XB, a2",
    "LX s2, 2*XB, a2",
    "LX s3, 3*XB, a2",
    "LX s4, 4*XB, a2",
    "LX s5, 5*XB, a2",
    "LX s6, 6*XB, a2",
    "LX s7, 7*XB, a2",
    "LX s8, 8*XB, a2",
    "LX s9, 9*XB, a2",
    "LX s10, 10*XB, a2",
    "LX s11, 11*XB, a2",
    ".if CANARY_FLEN",
    "LF fs0, 12*XB+0, a2",
    "LF fs1, 12*XB+8, a2",
    "LF fs2, 12*XB+16, a2",
    "LF fs3, 12*XB+24, a2",
    "LF fs4, 12*XB+32, a2",
    "LF fs5, 12*XB+40, a2",
    "LF fs6, 12*XB+48, a2",
    "LF fs7, 12*XB+56, a2",
    "LF fs8, 12*XB+64, a2",
    "LF fs9, 12*XB+72, a2",
    "LF fs10, 12*XB+80, a2",
    "LF fs11, 12*XB+88, a2",
    ".endif",
    "call {swap}",
    "LX a3, 13*XB+96, sp",
    "SX s0, 0*XB, a3",
    "SX s1, 1*XB, a3",
    "SX s2, 2*XB, a3",
    "SX s3, 3*XB, a3",
    "SX s4, 4*XB, a3",
    "SX s5, 5*XB, a3",
    "SX s6, 6*XB, a3",
    "SX s7, 7*XB, a3",
    "SX s8, 8*XB, a3",
    "SX s9, 9*XB, a3",
    "SX s10, 10*XB, a3",
    "SX s11, 11*XB, a3",
    ".if CANARY_FLEN",
    "SF fs0, 12*XB+0, a3",
    "SF fs1, 12*XB+8, a3",
    "SF fs2, 12*XB+16, a3",
    "SF fs3, 12*XB+24, a3",
    "SF fs4, 12*XB+32, a3",
    "SF fs5, 12*XB+40, a3",
    "SF fs6, 12*XB+48, a3",
    "SF fs7, 12*XB+56, a3",
    "SF fs8, 12*XB+64, a3",
    "SF fs9, 12*XB+72, a3",
    "SF fs10, 12*XB+80, a3",
    "SF fs11, 12*XB+88, a3",
    ".endif",
    "LX s0, 0*XB, sp",
    "LX s1, 1*XB, sp",
    "LX s2, 2*XB, sp",
    "LX s3, 3*XB, sp",
    "LX s4, 4*XB, sp",
    "LX s5, 5*XB, sp",
    "LX s6, 6*XB, sp",
    "LX s7, 7*XB, sp",
    "LX s8, 8*XB, sp",
    "LX s9, 9*XB, sp",
    "LX s10, 10*XB, sp",
    "LX s11, 11*XB, sp",
    ".if CANARY_FLEN",
    "LF fs0, 12*XB+0, sp",
    "LF fs1, 12*XB+8, sp",
    "LF fs2, 12*XB+16, sp",
    "LF fs3, 12*XB+24, sp",
    "LF fs4, 12*XB+32, sp",
    "LF fs5, 12*XB+40, sp",
    "LF fs6, 12*XB+48, sp",
    "LF fs7, 12*XB+56, sp",
    "LF fs8, 12*XB+64, sp",
    "LF fs9, 12*XB+72, sp",
    "LF fs10, 12*XB+80, sp",
    "LF fs11, 12*XB+88, sp",
    ".endif",
    "LX ra, 12*XB+96, sp",
    "addi sp, sp, FRAME",
    "ret",
    ".option pop",
    ".purgem SX",
    ".purgem LX",
    ".purgem SF",
    ".purgem LF",
    swap = sym cem_ctx::ffi::cem_swapcontext,
    flen = const FLEN,
);

extern "C" {
    fn canary_swap(
        save: *mut Context,
        restore: *const Context,
        input: *const Regs,
        output: *mut Regs,
    );
}

static mut CANARY_MAIN: Context = unsafe { core::mem::zeroed() };
static mut CANARY_CO: Context = unsafe { core::mem::zeroed() };
static mut CO_FOUND: Regs = Regs {
    s: [0; 12],
    f: [0; 12],
};

fn canaries(base: usize) -> Regs {
    let mut r = Regs {
        s: [0; 12],
        f: [0; 12],
    };
    for i in 0..12 {
        r.s[i] = base.wrapping_mul(0x0101_0101).wrapping_add(i * 0x1111 + 1);
        // Distinct in both halves: with F only the low 32 bits are compared.
        r.f[i] = (0x4000_0000_0000_0000u64 | (base as u64) << 32)
            | (0x3f80_0000 | (base as u64) << 12)
            | i as u64;
    }
    r
}

extern "C" fn canary_coroutine() {
    // SAFETY: single hart; the statics are handed over through the switch.
    unsafe {
        let mine = canaries(0xc0);
        canary_swap(
            addr_of_mut!(CANARY_CO),
            addr_of!(CANARY_MAIN),
            &mine,
            addr_of_mut!(CO_FOUND),
        );
        swap_context(addr_of_mut!(CANARY_CO), addr_of!(CANARY_MAIN));
    }
}

/// Number of registers that came back wrong, each one printed.
fn compare(side: &str, want: &Regs, got: &Regs) -> u32 {
    // FLEN bits of each FP slot are meaningful (none without F).
    let mask = if FLEN == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * FLEN)) - 1
    };
    let mut bad = 0;
    for i in 0..12 {
        if want.s[i] != got.s[i] {
            println!(
                "riscv-virt: {side}: s{i} = {:#x}, expected {:#x}",
                got.s[i], want.s[i]
            );
            bad += 1;
        }
        if want.f[i] & mask != got.f[i] & mask {
            println!(
                "riscv-virt: {side}: fs{i} = {:#x}, expected {:#x}",
                got.f[i] & mask,
                want.f[i] & mask
            );
            bad += 1;
        }
    }
    bad
}

fn canary_check() -> u32 {
    // SAFETY: single hart; the stack is a static used only here.
    unsafe {
        make_context(
            addr_of_mut!(CANARY_CO),
            addr_of_mut!(CANARY_STACK).cast(),
            STACK_SIZE,
            Some(canary_coroutine),
            None,
        )
        .expect("canary context");
        let main = canaries(0x5a);
        let mut found = Regs {
            s: [0; 12],
            f: [0; 12],
        };
        canary_swap(
            addr_of_mut!(CANARY_MAIN),
            addr_of!(CANARY_CO),
            &main,
            &mut found,
        );
        let mut bad = compare("main side", &main, &found);
        canary_swap(
            addr_of_mut!(CANARY_MAIN),
            addr_of!(CANARY_CO),
            &main,
            &mut found,
        );
        bad += compare("main side, second trip", &main, &found);
        bad += compare("coroutine side", &canaries(0xc0), &*addr_of!(CO_FOUND));
        bad
    }
}

// ------------------------------------------------------------------ main

extern "C" fn firmware_main() -> ! {
    let isa = match (cfg!(target_arch = "riscv64"), FLEN) {
        (true, 8) => "rv64gc (fs0-fs11 switched, 64 bits)",
        (false, 4) => "rv32imafc (fs0-fs11 switched, 32 bits)",
        (false, 0) => "rv32imac (no FP registers)",
        _ => "unexpected ISA",
    };
    println!("riscv-virt: cem-ctx on {isa}");
    let mut failures = 0;

    // 1. A generator: Fibonacci numbers below a limit, summed by main.
    // SAFETY: each static stack is taken once.
    let mut fib = Coroutine::new(
        unsafe { take(addr_of_mut!(FIB_STACK)) },
        |limit: u32, y: &Yielder<u32, u32>| {
            let (mut a, mut b, mut n) = (0u32, 1u32, 0u32);
            while a < limit {
                y.suspend(a);
                (a, b) = (b, a + b);
                n += 1;
            }
            n
        },
    )
    .expect("fib stack");
    let (mut sum, mut count) = (0u32, 0u32);
    let n = loop {
        match fib.resume(1_000_000) {
            CoroutineResult::Yield(v) => {
                sum += v;
                count += 1;
            }
            CoroutineResult::Complete(n) => break n,
        }
    };
    let (mut a, mut b, mut want_sum, mut want_n) = (0u32, 1u32, 0u32, 0u32);
    while a < 1_000_000 {
        want_sum += a;
        (a, b) = (b, a + b);
        want_n += 1;
    }
    println!("riscv-virt: fibonacci below 1e6: {count} terms, sum {sum}");
    failures += check(
        "generator",
        sum == want_sum && count == want_n && n == want_n,
    );

    // 2. A pipeline of two coroutines: a producer of samples and a filter
    // with floating-point state kept across suspensions, driven round robin.
    // Both run to completion: without unwinding (no std), dropping a
    // suspended coroutine would stop at cem_context_trap.
    const SAMPLES: u32 = 200;
    let mut producer = Coroutine::new(
        unsafe { take(addr_of_mut!(PRODUCER_STACK)) },
        |seed: u32, y: &Yielder<u32, u32>| {
            let mut x = seed;
            for _ in 0..SAMPLES {
                x = lcg(x);
                y.suspend(x);
            }
            x
        },
    )
    .expect("producer stack");
    let mut filter = Coroutine::new(
        unsafe { take(addr_of_mut!(FILTER_STACK)) },
        |first: u32, y: &Yielder<u32, f64>| {
            let mut avg = 0.0f64;
            let mut sample = first;
            for _ in 1..SAMPLES {
                avg = ema(avg, sample);
                sample = y.suspend(avg);
            }
            ema(avg, sample)
        },
    )
    .expect("filter stack");
    let (mut x, mut want) = (7u32, 0.0f64);
    let mut got = 0.0f64;
    let mut completed = 0;
    for _ in 0..SAMPLES {
        let CoroutineResult::Yield(s) = producer.resume(7) else {
            panic!("producer ended early")
        };
        match filter.resume(s) {
            CoroutineResult::Yield(avg) => got = avg,
            CoroutineResult::Complete(avg) => {
                got = avg;
                completed += 1;
            }
        }
        x = lcg(x);
        want = ema(want, x);
    }
    if let CoroutineResult::Complete(last) = producer.resume(0) {
        completed += u32::from(last == x);
    }
    println!("riscv-virt: pipeline 200 samples: average {got:.6}");
    failures += check(
        "pipeline",
        got.to_bits() == want.to_bits() && completed == 2,
    );

    // 3. A C-shaped context: cem_makecontext/cem_swapcontext.
    // SAFETY: single hart; TICK_STACK is used by this context only.
    unsafe {
        make_context(
            addr_of_mut!(TICK),
            addr_of_mut!(TICK_STACK).cast(),
            STACK_SIZE,
            Some(ticker),
            None,
        )
        .expect("ticker context");
        for _ in 0..1000 {
            swap_context(addr_of_mut!(MAIN), addr_of!(TICK));
        }
    }
    let ticks = unsafe { TICKS };
    println!("riscv-virt: ticker: {ticks} switches back");
    failures += check("c-shaped context", ticks == 1000);

    // 4. Every callee-saved register survives the switch, both ways.
    let bad = canary_check();
    failures += check("register canaries", bad == 0);

    // Stack use, from the painted stacks.
    for (name, co) in [
        ("fib", fib.into_stack()),
        ("producer", producer.into_stack()),
        ("filter", filter.into_stack()),
    ] {
        println!(
            "riscv-virt: {name} stack high-water mark: {} of {STACK_SIZE} bytes",
            high_water_mark(co)
        );
    }

    if failures == 0 {
        println!("riscv-virt: all checks passed");
        exit(0)
    }
    println!("riscv-virt: FAIL: {failures} check(s) failed");
    exit(1)
}
