//! Firmware-style user of cem-ctx: no std, no allocator, its own panic
//! handler, statically allocated coroutine stacks.
//!
//! Two producer coroutines feed a consumer loop in `_start` (the "main
//! task"); the stacks are painted first so the firmware can size them from
//! the high-water mark afterwards. A raw C-shaped context runs a third task.
#![no_std]
#![no_main]

use core::ptr::{addr_of, addr_of_mut};

use cem_ctx::stack::{high_water_mark, paint};
use cem_ctx::{make_context, swap_context, Context, Coroutine, CoroutineResult, Yielder};

const STACK_SIZE: usize = 4096;

static mut SENSOR_STACK: [u8; STACK_SIZE] = [0; STACK_SIZE];
static mut FILTER_STACK: [u8; STACK_SIZE] = [0; STACK_SIZE];
static mut RAW_STACK: [u128; STACK_SIZE / 16] = [0; STACK_SIZE / 16];
static mut MAIN: Context = unsafe { core::mem::zeroed() };
static mut RAW: Context = unsafe { core::mem::zeroed() };
static mut RAW_TICKS: u32 = 0;

/// Results the firmware would report over its debug channel.
#[no_mangle]
pub static mut REPORT: [usize; 4] = [0; 4];

/// A "sensor": yields readings, receives the sample period.
fn sensor(mut period: u32, y: &Yielder<u32, u32>) -> u32 {
    let mut reading = 100u32;
    for _ in 0..16 {
        reading = reading.wrapping_mul(1103515245).wrapping_add(period) % 1000;
        period = y.suspend(reading);
    }
    reading
}

/// Takes `'static` stacks out of the statics, exactly once each.
///
/// # Safety
/// Called once per stack.
unsafe fn take(stack: *mut [u8; STACK_SIZE]) -> &'static mut [u8] {
    let stack = unsafe { &mut *stack };
    paint(stack);
    stack
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

/// Entry point for the bare-metal target (the boot code jumps here).
#[no_mangle]
pub extern "C" fn _start() -> ! {
    // SAFETY: each static stack is taken once and used by one coroutine.
    let (s1, s2) = unsafe { (take(addr_of_mut!(SENSOR_STACK)), take(addr_of_mut!(FILTER_STACK))) };
    let mut a = Coroutine::new(s1, sensor).unwrap_or_else(|_| halt());
    let mut b = Coroutine::new(s2, sensor).unwrap_or_else(|_| halt());
    let mut sum = 0usize;
    loop {
        let ra = a.resume(10);
        let rb = b.resume(20);
        match (ra, rb) {
            (CoroutineResult::Yield(x), CoroutineResult::Yield(y)) => sum += (x + y) as usize,
            _ => break,
        }
    }
    // Stacks back, measured: the numbers a firmware engineer sizes stacks by.
    let used_a = high_water_mark(a.into_stack());
    let used_b = high_water_mark(b.into_stack());

    // SAFETY: the raw stack is a static used only by RAW.
    unsafe {
        let raw = addr_of_mut!(RAW_STACK);
        if make_context(addr_of_mut!(RAW), raw.cast(), STACK_SIZE, Some(raw_task), None).is_err() {
            halt();
        }
        for _ in 0..10 {
            swap_context(addr_of_mut!(MAIN), addr_of!(RAW));
        }
        REPORT = [sum, used_a, used_b, RAW_TICKS as usize];
    }
    halt()
}

fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// The firmware's own panic handler: cem-ctx does not define one.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    halt()
}
