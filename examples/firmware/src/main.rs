//! Firmware-style user of cem-ctx: no std, no allocator, its own panic
//! handler, statically allocated coroutine stacks.
//!
//! On `aarch64-unknown-none` and `aarch64-unknown-none-softfloat` it boots on
//! QEMU's `virt` machine (`aarch64_virt.rs`, `link-aarch64-virt.ld`), runs the
//! verified work of `work.rs` and the register canaries of `canary.rs`, prints
//! the results through semihosting and exits with a status the test step
//! reads (0: every check passed). On `x86_64-unknown-none` it is only linked:
//! there is no boot path for it in the test command.
#![no_std]
#![no_main]

mod work;

#[cfg(target_arch = "aarch64")]
#[path = "aarch64_virt.rs"]
mod arch;
#[cfg(target_arch = "aarch64")]
mod canary;

/// Entered from the boot code in `aarch64_virt.rs` with the exception level
/// it runs at.
#[cfg(target_arch = "aarch64")]
extern "C" fn firmware_main(el: u64) -> ! {
    use core::fmt::Write;
    let out = &mut arch::Semihosting;
    let fp = if cfg!(target_feature = "neon") {
        "FP/SIMD on"
    } else {
        "softfloat, FP/SIMD trapping"
    };
    let _ = writeln!(out, "cem-ctx firmware on qemu virt: EL{el}, {fp}");
    if el != 1 {
        let _ = writeln!(out, "FAIL written for EL1, entered at EL{el}");
        arch::exit(arch::EXIT_WRONG_EL);
    }
    // SAFETY: run once each, from the only thread.
    let ok = unsafe { work::run(out) & canary::run(out) };
    if ok {
        let _ = writeln!(out, "firmware: all checks passed");
        arch::exit(arch::EXIT_OK)
    }
    let _ = writeln!(out, "firmware: checks FAILED");
    arch::exit(arch::EXIT_CHECK_FAILED)
}

/// Entry point of the link-only x86-64 build.
#[cfg(not(target_arch = "aarch64"))]
#[no_mangle]
pub extern "C" fn _start() -> ! {
    /// Discards the report: no console without a boot path.
    struct Sink;
    impl core::fmt::Write for Sink {
        fn write_str(&mut self, _: &str) -> core::fmt::Result {
            Ok(())
        }
    }
    // SAFETY: run once, from the only thread.
    let _ = unsafe { work::run(&mut Sink) };
    loop {
        core::hint::spin_loop();
    }
}

/// The firmware's own panic handler: cem-ctx does not define one.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    #[cfg(target_arch = "aarch64")]
    {
        use core::fmt::Write;
        let _ = writeln!(arch::Semihosting, "FAIL panic: {info}");
        arch::exit(arch::EXIT_PANIC)
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        let _ = info;
        loop {
            core::hint::spin_loop();
        }
    }
}
