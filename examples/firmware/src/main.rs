//! Firmware-style user of cem-ctx: no std, no allocator, its own panic
//! handler, statically allocated coroutine stacks.
//!
//! It boots under QEMU and runs the verified work of `work.rs` and the
//! register canaries of `canary.rs`, then exits with a status the test step
//! reads:
//! - `aarch64-unknown-none`, `aarch64-unknown-none-softfloat`: the AArch64
//!   `virt` machine (`aarch64_virt.rs`, `link-aarch64-virt.ld`), output and
//!   exit status through Arm semihosting (0: every check passed);
//! - `x86_64-unknown-none`: a PC entered through the PVH boot note
//!   (`x86_64_pvh.rs`, `link-x86_64-pvh.ld`), output on the debug console,
//!   status through `isa-debug-exit` (QEMU exits with 33: every check passed).
#![no_std]
#![no_main]

mod canary;
mod work;

#[cfg(target_arch = "aarch64")]
#[path = "aarch64_virt.rs"]
mod arch;
#[cfg(target_arch = "x86_64")]
#[path = "x86_64_pvh.rs"]
mod arch;

/// Runs the work and the canaries once; true when every check passed.
fn run_all(out: &mut dyn core::fmt::Write) -> bool {
    static mut RAN: bool = false;
    // SAFETY: the boot code calls this once, from the only thread; RAN keeps
    // a second call from taking the static stacks again.
    unsafe {
        if core::ptr::addr_of!(RAN).read() {
            return false;
        }
        RAN = true;
        work::run(out) & canary::run(out)
    }
}

/// The firmware's own panic handler: cem-ctx does not define one.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    arch::panic_exit(info)
}
