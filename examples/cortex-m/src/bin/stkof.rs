//! ARMv8-M stack-limit check (Cortex-M33, qemu `-M mps2-an505`): a coroutine
//! recurses without bound on a 4 KiB static stack. cem-ctx loads the
//! coroutine's limit into PSPLIM (Thread mode runs on PSP here, so the fault
//! handler has MSP to itself), so the overflow takes a UsageFault with
//! UFSR.STKOF; the handler reports it and exits with status 3
//! (`common::EXIT_STKOF`). Memory just below the stack is checked to be
//! untouched. Any other ending is a failure. On cores without stack limits
//! this program says so and exits 1.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;

#[cfg(example_v8m)]
mod overflow {
    use core::hint::black_box;
    use core::ptr::addr_of_mut;

    use cem_ctx::{Coroutine, CoroutineResult, Yielder};
    use cortex_m_semihosting::hprintln;

    use super::common;

    const GUARD: u32 = 0xA5A5_A5A5;

    /// A guard area directly below the coroutine stack: a stack that grows
    /// past its base would write here first.
    #[repr(C, align(8))]
    pub struct Guarded {
        below: [u32; 64],
        stack: [u8; 4096],
    }

    pub static mut AREA: Guarded = Guarded {
        below: [GUARD; 64],
        stack: [0; 4096],
    };
    static mut THREAD_STACK: [u64; 1024] = [0; 1024];

    /// Checks the guard area; called from the fault handler's report.
    pub fn guard_intact() -> bool {
        // SAFETY: read after the coroutine stopped (we are in its fault).
        unsafe { (*addr_of_mut!(AREA)).below.iter().all(|&w| w == GUARD) }
    }

    #[inline(never)]
    #[allow(unconditional_recursion)] // the point: it ends in the STKOF fault
    fn deep(n: u32, y: &Yielder<(), u32>) -> u32 {
        let frame = [n; 32];
        black_box(&frame);
        if n.is_multiple_of(4) {
            y.suspend(n);
        }
        deep(n + 1, y).wrapping_add(frame[7])
    }

    extern "C" fn thread_main() -> ! {
        // SAFETY: the stack is taken once.
        let stack: &'static mut [u8] = unsafe { &mut (*addr_of_mut!(AREA)).stack };
        let base = stack.as_ptr() as usize;
        hprintln!(
            "coroutine stack {:#010x}..{:#010x}",
            base,
            base + stack.len()
        );
        let mut co = Coroutine::new(stack, |(), y: &Yielder<(), u32>| deep(0, y)).unwrap();
        loop {
            match co.resume(()) {
                CoroutineResult::Yield(depth) => {
                    let limit: u32;
                    // SAFETY: reading PSPLIM has no side effects.
                    unsafe { core::arch::asm!("mrs {0}, PSPLIM", out(reg) limit) };
                    hprintln!("depth {}: resumer's PSPLIM {:#010x}", depth, limit);
                    if limit != 0 {
                        common::exit(common::EXIT_CHECK)
                    }
                }
                CoroutineResult::Complete(_) => {
                    hprintln!("unbounded recursion completed?");
                    common::exit(common::EXIT_CHECK)
                }
            }
        }
    }

    /// Moves Thread mode onto PSP (a static stack of its own) and runs
    /// `thread_main` there; exceptions keep using MSP.
    pub fn run() -> ! {
        // SAFETY: the thread stack is used by nothing else; `thread_main`
        // never returns, so the MSP frames of the caller stay valid.
        unsafe {
            let top = addr_of_mut!(THREAD_STACK) as usize + core::mem::size_of::<[u64; 1024]>();
            core::arch::asm!(
                // Never returns, so r2 needs no clobber declaration.
                "msr PSP, r0",
                "mrs r2, CONTROL",
                "orr r2, r2, #2",
                "msr CONTROL, r2",
                "isb",
                "bx r1",
                in("r0") top,
                in("r1") thread_main as *const () as usize,
                options(noreturn),
            );
        }
    }
}

#[entry]
fn main() -> ! {
    #[cfg(example_v8m)]
    {
        // UsageFault enabled, so STKOF arrives there rather than escalated.
        let mut p = cortex_m::Peripherals::take().unwrap();
        p.SCB
            .enable(cortex_m::peripheral::scb::Exception::UsageFault);
        common::set_stkof_report(overflow::guard_intact);
        hprintln!("ARMv8-M: overflowing a coroutine stack with PSPLIM set by cem-ctx");
        overflow::run()
    }
    #[cfg(not(example_v8m))]
    {
        hprintln!("this core has no stack-limit registers (ARMv8-M only)");
        common::exit(common::EXIT_CHECK)
    }
}
