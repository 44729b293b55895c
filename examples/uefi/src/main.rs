//! UEFI application on cem-ctx: the firmware example's verified work
//! (`examples/firmware/src/work.rs`) and register canaries
//! (`examples/firmware/src/canary.rs`) under OVMF in `qemu-system-x86_64`.
//!
//! `x86_64-unknown-uefi` uses the Microsoft x64 calling convention (UEFI spec
//! §2.3.4.2) but there is no Windows TEB behind `gs`: cem-ctx assembles its TEB
//! code out there (`CEM_TEB` in `asm/x86_64_win64.s`). While the work runs,
//! `gs` points at a fake TEB filled with a pattern, checked from inside a
//! coroutine, a raw context and afterwards. Output goes to the
//! console (ConOut) and to QEMU's debug console (port 0xE9, `-debugcon`); the
//! result leaves through QEMU's `isa-debug-exit` device (port 0xF4), which makes
//! QEMU exit with status `(value << 1) | 1`: 33 when every check passed.
#![no_std]
#![no_main]

use core::ffi::c_void;
use core::fmt::{self, Write};
use core::ptr::{addr_of, addr_of_mut};

use cem_ctx::{make_context, swap_context, Context, Coroutine, CoroutineResult, Yielder};

#[path = "../../firmware/src/work.rs"]
mod work;

#[path = "../../firmware/src/canary.rs"]
mod canary;

#[path = "x86_64_win64.rs"]
mod arch;

/// `EFI_TABLE_HEADER` (UEFI spec §4.2), 24 bytes.
#[repr(C)]
struct TableHeader {
    signature: u64,
    revision: u32,
    header_size: u32,
    crc32: u32,
    reserved: u32,
}

/// `EFI_SYSTEM_TABLE` (UEFI spec §4.3) up to `ConOut`, the one field used.
#[repr(C)]
struct SystemTable {
    hdr: TableHeader,
    firmware_vendor: *const u16,
    firmware_revision: u32,
    console_in_handle: *mut c_void,
    con_in: *mut c_void,
    console_out_handle: *mut c_void,
    con_out: *mut TextOutput,
}

/// `EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL` (UEFI spec §12.4) up to `OutputString`.
#[repr(C)]
struct TextOutput {
    reset: unsafe extern "efiapi" fn(*mut TextOutput, bool) -> usize,
    output_string: unsafe extern "efiapi" fn(*mut TextOutput, *const u16) -> usize,
}

/// Status values for `isa-debug-exit`: QEMU exits with `(value << 1) | 1`.
const EXIT_PASSED: u32 = 0x10; // QEMU status 33
const EXIT_FAILED: u32 = 0x11; // 35
const EXIT_PANIC: u32 = 0x12; // 37

/// QEMU's debug console (`-debugcon`) and isa-debug-exit I/O ports.
const DEBUGCON_PORT: u16 = 0xe9;
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Writes to ConOut (as UCS-2, `\n` as CR LF) and to the debug console.
struct Console(*mut TextOutput);

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut buf = [0u16; 130];
        let mut n = 0;
        for b in s.bytes() {
            // SAFETY: an I/O port write; QEMU's debugcon ignores it if absent.
            unsafe {
                core::arch::asm!("out dx, al", in("dx") DEBUGCON_PORT, in("al") b, options(nomem, nostack))
            };
            if b == b'\n' {
                buf[n] = u16::from(b'\r');
                n += 1;
            }
            // The report is ASCII; anything else is shown as '?'.
            buf[n] = if b.is_ascii() {
                u16::from(b)
            } else {
                u16::from(b'?')
            };
            n += 1;
            if n >= 128 {
                self.flush(&mut buf, &mut n);
            }
        }
        self.flush(&mut buf, &mut n);
        Ok(())
    }
}

impl Console {
    fn flush(&mut self, buf: &mut [u16; 130], n: &mut usize) {
        if *n == 0 || self.0.is_null() {
            *n = 0;
            return;
        }
        buf[*n] = 0;
        // SAFETY: ConOut is valid while boot services run; buf is NUL-terminated.
        unsafe { ((*self.0).output_string)(self.0, buf.as_ptr()) };
        *n = 0;
    }
}

/// Leaves QEMU through isa-debug-exit; spins if the device is missing, so the
/// test step's timeout (not a false pass) ends the run.
fn exit(value: u32) -> ! {
    // SAFETY: an I/O port write to QEMU's isa-debug-exit device.
    unsafe {
        core::arch::asm!("out dx, eax", in("dx") DEBUG_EXIT_PORT, in("eax") value, options(nomem, nostack))
    };
    loop {
        core::hint::spin_loop();
    }
}

static mut CON_OUT: *mut TextOutput = core::ptr::null_mut();

/// IA32_GS_BASE: the base address of `gs:` in 64-bit mode (Intel SDM vol. 4).
const IA32_GS_BASE: u32 = 0xc000_0101;
/// Bytes of a Windows TEB up to and including GuaranteedStackBytes (0x1748).
const TEB_SPAN: usize = 0x1750;
const SENTINEL: u64 = 0x5e17_1e15_5e17_1e15;

/// A fake TEB that `gs` points at while the work runs: filled with a pattern,
/// its NT_TIB.Self (0x30) pointing at itself. A switch that touched TEB fields
/// would read that self pointer and write into this block, where the check
/// sees it, instead of into whatever memory the firmware's `gs` points at.
#[repr(C, align(16))]
struct GsSentinel([u64; TEB_SPAN / 8]);
static mut GS_SENTINEL: GsSentinel = GsSentinel([SENTINEL; TEB_SPAN / 8]);

fn gs_base() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: rdmsr of an architectural MSR at CPL 0 (UEFI boot services).
    unsafe {
        core::arch::asm!("rdmsr", in("ecx") IA32_GS_BASE, out("eax") lo, out("edx") hi, options(nomem, nostack))
    };
    u64::from(lo) | (u64::from(hi) << 32)
}

/// # Safety
/// Nothing running may depend on the old GS base until it is restored.
unsafe fn set_gs_base(base: u64) {
    // SAFETY: wrmsr of an architectural MSR at CPL 0; the caller's contract.
    unsafe {
        core::arch::asm!("wrmsr", in("ecx") IA32_GS_BASE, in("eax") base as u32, in("edx") (base >> 32) as u32, options(nostack))
    };
}

/// Points `gs` at the sentinel; returns the firmware's GS base.
///
/// # Safety
/// As [`set_gs_base`]; called once.
unsafe fn gs_sentinel_install() -> u64 {
    let old = gs_base();
    // SAFETY: the sentinel is only used here and in gs_sentinel_intact.
    unsafe {
        let s = &mut *core::ptr::addr_of_mut!(GS_SENTINEL);
        s.0[0x30 / 8] = s.0.as_ptr() as u64;
        set_gs_base(s.0.as_ptr() as u64);
    }
    old
}

static mut PROBE_STACK: work::StaticStack = work::StaticStack([0; work::STACK_SIZE]);
static mut PROBE_RAW_STACK: work::StaticStack = work::StaticStack([0; work::STACK_SIZE]);
static mut PROBE_MAIN: Context = unsafe { core::mem::zeroed() };
static mut PROBE_RAW: Context = unsafe { core::mem::zeroed() };
static mut PROBE_RAW_SAW: bool = false;

extern "C" fn probe_raw() {
    // SAFETY: single core; the statics are this probe's own.
    unsafe {
        PROBE_RAW_SAW = gs_sentinel_intact();
        swap_context(addr_of_mut!(PROBE_RAW), addr_of!(PROBE_MAIN));
    }
    cem_ctx::trap()
}

/// Checks the sentinel while running on other stacks: a switch that loaded
/// TEB fields would have written that stack's bounds into it by then (the
/// symmetric save on the way back would hide it afterwards).
///
/// # Safety
/// Called once, with `gs` on the sentinel.
unsafe fn sentinel_inside_contexts() -> bool {
    // SAFETY: each probe stack is used once, here.
    unsafe {
        let stack: &'static mut [u8] = &mut (*addr_of_mut!(PROBE_STACK)).0;
        let Ok(mut co) = Coroutine::new(stack, |(), y: &Yielder<(), bool>| {
            y.suspend(gs_sentinel_intact());
            gs_sentinel_intact()
        }) else {
            return false;
        };
        let first = matches!(co.resume(()), CoroutineResult::Yield(true));
        let second = matches!(co.resume(()), CoroutineResult::Complete(true));
        let raw = addr_of_mut!(PROBE_RAW_STACK);
        if make_context(
            addr_of_mut!(PROBE_RAW),
            raw.cast(),
            work::STACK_SIZE,
            Some(probe_raw),
            None,
        )
        .is_err()
        {
            return false;
        }
        swap_context(addr_of_mut!(PROBE_MAIN), addr_of!(PROBE_RAW));
        first && second && PROBE_RAW_SAW
    }
}

fn gs_sentinel_intact() -> bool {
    // SAFETY: read after gs points elsewhere again.
    let s = unsafe { &*core::ptr::addr_of!(GS_SENTINEL) };
    let own = s.0.as_ptr() as u64;
    s.0.iter()
        .enumerate()
        .all(|(i, &v)| v == if i == 0x30 / 8 { own } else { SENTINEL })
}

/// The UEFI entry point (the name the `x86_64-unknown-uefi` target links as
/// the image entry).
#[no_mangle]
extern "efiapi" fn efi_main(_image: *mut c_void, system_table: *const SystemTable) -> usize {
    // SAFETY: the firmware passes a valid system table; ConOut stays valid
    // until ExitBootServices, which this application never calls.
    let con_out = unsafe { (*system_table).con_out };
    // SAFETY: written once, before anything reads it.
    unsafe { CON_OUT = con_out };
    let out = &mut Console(con_out);
    let _ = writeln!(out, "cem-ctx UEFI application (Microsoft x64, no TEB)");
    // SAFETY: run once each, on the boot processor; the GS base is the
    // firmware's again before anything else runs.
    let ok = unsafe {
        let firmware_gs = gs_sentinel_install();
        let ran = work::run(out) & canary::run(out);
        let inside = sentinel_inside_contexts();
        set_gs_base(firmware_gs);
        ran & work::check(
            out,
            "no TEB field written through gs (sentinel intact inside a Coroutine, a raw context, and after)",
            inside && gs_sentinel_intact(),
        )
    };
    if ok {
        let _ = writeln!(out, "uefi: all checks passed");
        exit(EXIT_PASSED)
    }
    let _ = writeln!(out, "uefi: checks FAILED");
    exit(EXIT_FAILED)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: CON_OUT was set at entry (or is null, which Console skips).
    let _ = writeln!(Console(unsafe { CON_OUT }), "FAIL panic: {info}");
    exit(EXIT_PANIC)
}
