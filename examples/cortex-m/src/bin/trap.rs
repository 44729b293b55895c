//! A context whose function returns with no `return_func` must stop at the
//! documented trap: the `udf` in `cem_context_trap`. UsageFault is left
//! disabled, so the undefined instruction escalates to HardFault on every
//! core (ARMv6-M has no UsageFault), whose handler compares the faulting pc
//! with `cem_context_trap` and exits with status 5 (`common::EXIT_TRAP`).
//! Any other ending is a failure.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use core::ptr::{addr_of, addr_of_mut};

use cem_ctx::{make_context, swap_context, Context};
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;

static mut MAIN: Context = unsafe { core::mem::zeroed() };
static mut CTX: Context = unsafe { core::mem::zeroed() };
/// Thread mode runs on MSP here, so the HardFault handler (semihosting
/// formatting, a debug build's frames, the FP exception frame) runs on this
/// stack too: 4 KiB, not the 512 bytes the context itself needs.
static mut STACK: [u64; 512] = [0; 512];

extern "C" fn returns() {}

#[entry]
fn main() -> ! {
    hprintln!(
        "a context returns with return_func NULL; cem_context_trap is at {:#010x}",
        cem_ctx::ffi::cem_context_trap as *const () as usize & !1
    );
    // SAFETY: statics of this single-core program.
    unsafe {
        let stack = addr_of_mut!(STACK);
        if make_context(addr_of_mut!(CTX), stack.cast(), 4096, Some(returns), None).is_err() {
            common::exit(common::EXIT_CHECK)
        }
        swap_context(addr_of_mut!(MAIN), addr_of!(CTX));
    }
    hprintln!("the context came back instead of trapping");
    common::exit(common::EXIT_CHECK)
}
