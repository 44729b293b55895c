//! Firmware-style user of cem-ctx: no std, no allocator, its own panic
//! handler, a statically allocated coroutine stack.
#![no_std]
#![no_main]

use core::ptr::{addr_of, addr_of_mut};

use cem_ctx::{make_context, swap_context, Context};

static mut MAIN: Context = unsafe { core::mem::zeroed() };
static mut TASK: Context = unsafe { core::mem::zeroed() };
static mut STACK: [u128; 1024] = [0; 1024];
static mut TICKS: u32 = 0;

extern "C" fn task() {
    loop {
        // SAFETY: single core, one side runs at a time.
        unsafe {
            TICKS += 1;
            swap_context(addr_of_mut!(TASK), addr_of!(MAIN));
        }
    }
}

/// Entry point for the bare-metal target (the boot code jumps here).
#[no_mangle]
pub extern "C" fn _start() -> ! {
    // SAFETY: the stack is a static, used only by TASK.
    unsafe {
        let stack = addr_of_mut!(STACK);
        if make_context(addr_of_mut!(TASK), stack.cast(), core::mem::size_of_val(&*stack), Some(task), None).is_err() {
            panic!("make_context failed");
        }
        for _ in 0..10 {
            swap_context(addr_of_mut!(MAIN), addr_of!(TASK));
        }
    }
    loop {
        core::hint::spin_loop();
    }
}

/// The firmware's own panic handler: cem-ctx does not define one.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
