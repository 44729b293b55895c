//! Shared by the example binaries: semihosting exit with a status, and fault
//! handlers that report instead of hanging.
#![allow(dead_code)]

use cortex_m_rt::{exception, ExceptionFrame};
use cortex_m_semihosting::hprintln;

/// Exit statuses the test step reads (qemu exits with them).
pub const EXIT_OK: u32 = 0;
/// A check failed.
pub const EXIT_CHECK: u32 = 1;
/// HardFault or panic.
pub const EXIT_FAULT: u32 = 2;
/// UsageFault with UFSR.STKOF: a stack-limit violation (ARMv8-M).
pub const EXIT_STKOF: u32 = 3;
/// Another UsageFault.
pub const EXIT_USAGE: u32 = 4;
/// HardFault at the `udf` in `cem_context_trap`: a context ran off its end.
pub const EXIT_TRAP: u32 = 5;

/// Ends the program with `code` as qemu's exit status: semihosting
/// SYS_EXIT_EXTENDED (0x20) with ADP_Stopped_ApplicationExit (0x20026) and
/// the status as subcode (plain SYS_EXIT on AArch32 carries no status).
pub fn exit(code: u32) -> ! {
    let block = [0x20026usize, code as usize];
    // SAFETY: a semihosting call with a valid two-word parameter block.
    unsafe {
        cortex_m_semihosting::syscall(0x20, &block);
    }
    loop {
        cortex_m::asm::bkpt();
    }
}

/// Prints `ok`/`FAIL` for a named check and counts failures.
pub struct Checks {
    /// Failed checks so far.
    pub failed: u32,
}

impl Checks {
    /// Records one check.
    pub fn check(&mut self, name: &str, ok: bool) {
        if ok {
            hprintln!("ok   {}", name);
        } else {
            hprintln!("FAIL {}", name);
            self.failed += 1;
        }
    }

    /// Exits with EXIT_OK or EXIT_CHECK.
    pub fn finish(self) -> ! {
        if self.failed == 0 {
            hprintln!("all checks passed");
            exit(EXIT_OK)
        }
        hprintln!("{} check(s) FAILED", self.failed);
        exit(EXIT_CHECK)
    }
}

static mut STKOF_REPORT: Option<fn() -> bool> = None;

/// Registers a check the STKOF report runs (memory below the stack intact).
#[allow(dead_code)]
pub fn set_stkof_report(check: fn() -> bool) {
    // SAFETY: single core, called before any fault is possible.
    unsafe { STKOF_REPORT = Some(check) };
}

const CFSR: *const u32 = 0xE000_ED28 as *const u32;

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    // SAFETY: CFSR is a readable System Control Block register.
    let cfsr = unsafe { CFSR.read_volatile() };
    hprintln!("HardFault at pc {:#010x}, CFSR {:#010x}", frame.pc(), cfsr);
    let trap = cem_ctx::ffi::cem_context_trap as *const () as u32 & !1;
    if frame.pc() == trap {
        hprintln!("stopped at the udf in cem_context_trap");
        exit(EXIT_TRAP)
    }
    exit(EXIT_FAULT)
}

#[cfg(not(example_thumb1))]
#[exception]
fn UsageFault() {
    // SAFETY: CFSR is a readable System Control Block register.
    let cfsr = unsafe { CFSR.read_volatile() };
    // UFSR is CFSR[31:16]; STKOF is UFSR bit 4 (ARMv8-M).
    if cfsr & (1 << 20) != 0 {
        hprintln!(
            "UsageFault: STKOF (stack limit violation), CFSR {:#010x}",
            cfsr
        );
        #[cfg(example_v8m)]
        {
            let (psp, psplim): (u32, u32);
            // SAFETY: reading special registers has no side effects.
            unsafe {
                core::arch::asm!("mrs {0}, PSP", "mrs {1}, PSPLIM", out(reg) psp, out(reg) psplim)
            };
            hprintln!("PSP {:#010x}, PSPLIM {:#010x}", psp, psplim);
        }
        // SAFETY: written once before the fault could happen.
        let intact = unsafe { STKOF_REPORT }.is_none_or(|check| check());
        hprintln!("memory below the stack intact: {}", intact);
        exit(if intact { EXIT_STKOF } else { EXIT_CHECK })
    }
    hprintln!("UsageFault, CFSR {:#010x}", cfsr);
    exit(EXIT_USAGE)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("panic: {}", info);
    exit(EXIT_FAULT)
}
