//! Stacks for [`crate::Coroutine`]: the [`Stack`] trait, stack painting and
//! a high-water-mark query for sizing stacks, and (with `std`) a stack with a
//! no-access guard page.

/// Memory a coroutine may use as its stack.
///
/// # Safety
/// `region` must return memory that is valid for reads and writes for as long
/// as the implementor lives (and is not moved out of, if it owns it), and that
/// nothing else accesses while a coroutine runs on it. Stacks grow down from
/// the end of the region; the start needs no particular alignment.
pub unsafe trait Stack {
    /// Start (lowest address) and length in bytes of the usable region.
    /// Called once, when a coroutine is created.
    fn region(&mut self) -> (*mut u8, usize);
}

// SAFETY: the exclusive borrow gives us the memory for the borrow's lifetime.
unsafe impl Stack for &mut [u8] {
    fn region(&mut self) -> (*mut u8, usize) {
        (self.as_mut_ptr(), self.len())
    }
}

// SAFETY: as for `&mut [u8]`; uninitialised bytes are fine, the coroutine
// writes before it reads.
unsafe impl Stack for &mut [core::mem::MaybeUninit<u8>] {
    fn region(&mut self) -> (*mut u8, usize) {
        (self.as_mut_ptr().cast(), self.len())
    }
}

// SAFETY: the box owns the memory; leaking the box leaks the memory.
#[cfg(feature = "std")]
unsafe impl Stack for std::boxed::Box<[u8]> {
    fn region(&mut self) -> (*mut u8, usize) {
        (self.as_mut_ptr(), self.len())
    }
}

/// The byte [`paint`] fills a stack with.
pub const PAINT: u8 = 0xc5;

/// Fills `stack` with [`PAINT`], so that [`high_water_mark`] can later tell
/// how much of it was used. Paint before creating the coroutine.
pub fn paint(stack: &mut [u8]) {
    stack.fill(PAINT);
}

/// Bytes of a painted `stack` that were written since [`paint`]: the distance
/// from the top to the lowest byte that no longer holds [`PAINT`]. Stacks grow
/// down, so this is the peak depth reached. A value written that happens to
/// equal [`PAINT`] at the very edge can make it read low by a few bytes; add
/// margin.
pub fn high_water_mark(stack: &[u8]) -> usize {
    stack
        .iter()
        .position(|&b| b != PAINT)
        .map_or(0, |first_used| stack.len() - first_used)
}

#[cfg(all(feature = "std", any(unix, windows)))]
pub use guard::GuardPageStack;

/// Windows only: bytes of committed memory a [`GuardPageStack`] keeps below
/// its guard page, so that the exception dispatcher and the overflow
/// handler, which run on the overflowed stack, stay inside the mapping
/// (16 KiB, rounded up to whole pages; a no-access page lies below it).
#[cfg(all(feature = "std", windows))]
pub const WINDOWS_OVERFLOW_RESERVE: usize = 16 * 1024;

#[cfg(all(feature = "std", any(unix, windows)))]
mod guard {
    use super::Stack;

    /// An owned stack from the OS allocator (`mmap` / `VirtualAlloc`) with a
    /// guard page below it, so that overflowing the stack faults instead of
    /// corrupting memory. Unmapped on drop.
    ///
    /// - Unix: the guard page is `PROT_NONE`; an overflow raises SIGSEGV
    ///   (SIGBUS on macOS).
    /// - Windows: the guard page is `PAGE_GUARD`, as on Windows thread stacks:
    ///   the first touch raises `STATUS_GUARD_PAGE_VIOLATION` and makes the
    ///   page accessible, which gives the exception dispatcher room to run on
    ///   the overflowed stack (a no-access page would leave it none). Below it
    ///   lie `stack::WINDOWS_OVERFLOW_RESERVE` bytes of committed memory and then a
    ///   `PAGE_NOACCESS` page: one page is not enough for the dispatcher and
    ///   the vectored handler (like `SetThreadStackGuarantee` for threads), and
    ///   without the reserve they would write below the mapping. The guard
    ///   range is then the whole region below the usable stack.
    ///   Continuing past that exception is not supported.
    ///
    /// An overflow into the guard page prints which stack overflowed to
    /// stderr and ends the process, like Rust's message for a thread stack
    /// (README, "Stack overflow"): `cem-ctx: coroutine stack 0x…-0x… (guard
    /// page 0x…-0x…) overflowed in thread 'main'; aborting`, then `abort()`
    /// (SIGABRT) on Unix, exit status `STATUS_STACK_OVERFLOW` on Windows.
    /// Faults anywhere else go to the handler installed before (Rust's, the
    /// program's own, or the default action). `new` installs the handler
    /// once per process (a SIGSEGV/SIGBUS handler on an alternate signal
    /// stack, which it gives the thread if it has none, 64 KiB; on Windows a
    /// vectored exception handler) and enters the stack in its registry;
    /// drop removes it.
    pub struct GuardPageStack {
        mapping: *mut u8,
        mapping_len: usize,
        /// Bytes below the usable stack: the guard page (Windows: with the
        /// overflow reserve and a no-access page).
        guard_len: usize,
        /// Entry in the overflow handler's registry; removed before unmapping.
        registration: Option<crate::overflow::Registration>,
    }

    impl GuardPageStack {
        /// Maps `size` usable bytes (rounded up to whole pages) plus the guard
        /// page.
        ///
        /// # Errors
        /// The OS error when mapping or protecting fails.
        pub fn new(size: usize) -> std::io::Result<Self> {
            let page = page_size();
            let usable = size.div_ceil(page).max(1) * page;
            let guard_len = os::guard_len(page);
            let mapping_len = usable + guard_len;
            let mapping = os::map(mapping_len, guard_len, page)?;
            let lo = mapping as usize;
            let registration = Some(crate::overflow::register(
                lo,
                lo + guard_len,
                lo + mapping_len,
            ));
            Ok(GuardPageStack {
                mapping,
                mapping_len,
                guard_len,
                registration,
            })
        }

        /// Usable bytes (above the guard page).
        pub fn len(&self) -> usize {
            self.mapping_len - self.guard_len
        }

        /// Always false: a guard-page stack has at least one usable page.
        pub fn is_empty(&self) -> bool {
            false
        }

        /// Address range of the guard page (Windows: the guard region, see
        /// above): `[start, end)`; the usable stack starts at `end`.
        pub fn guard_range(&self) -> (usize, usize) {
            (
                self.mapping as usize,
                self.mapping as usize + self.guard_len,
            )
        }
    }

    impl Drop for GuardPageStack {
        fn drop(&mut self) {
            // Out of the registry first, so that a fault in a mapping placed
            // here later is never reported as this stack's.
            drop(self.registration.take());
            os::unmap(self.mapping, self.mapping_len);
        }
    }

    // SAFETY: the mapping is owned, readable and writable above the guard
    // page, and lives until drop.
    unsafe impl Stack for GuardPageStack {
        fn region(&mut self) -> (*mut u8, usize) {
            // SAFETY: the guard page is inside the mapping.
            (unsafe { self.mapping.add(self.guard_len) }, self.len())
        }
    }

    #[cfg(unix)]
    fn page_size() -> usize {
        // SAFETY: sysconf has no preconditions.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if p > 0 {
            p as usize
        } else {
            4096
        }
    }

    #[cfg(windows)]
    fn page_size() -> usize {
        use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};
        // SAFETY: GetSystemInfo fills the struct.
        let mut info: SYSTEM_INFO = unsafe { core::mem::zeroed() };
        unsafe { GetSystemInfo(&mut info) };
        info.dwPageSize as usize
    }

    #[cfg(unix)]
    mod os {
        use std::io::Error;

        pub fn guard_len(page: usize) -> usize {
            page
        }

        pub fn map(len: usize, guard: usize, _page: usize) -> std::io::Result<*mut u8> {
            // SAFETY: an anonymous private mapping; checked below.
            let p = unsafe {
                libc::mmap(
                    core::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(Error::last_os_error());
            }
            // SAFETY: the first page of our own mapping.
            if unsafe { libc::mprotect(p, guard, libc::PROT_NONE) } != 0 {
                let e = Error::last_os_error();
                unmap(p.cast(), len);
                return Err(e);
            }
            Ok(p.cast())
        }

        pub fn unmap(p: *mut u8, len: usize) {
            // SAFETY: our own mapping, unmapped once.
            unsafe { libc::munmap(p.cast(), len) };
        }
    }

    #[cfg(windows)]
    mod os {
        use std::io::Error;
        use windows_sys::Win32::System::Memory::{
            VirtualAlloc, VirtualFree, VirtualProtect, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE,
            PAGE_GUARD, PAGE_NOACCESS, PAGE_READWRITE,
        };

        /// No-access page, overflow reserve, guard page.
        pub fn guard_len(page: usize) -> usize {
            page + super::super::WINDOWS_OVERFLOW_RESERVE.div_ceil(page) * page + page
        }

        pub fn map(len: usize, guard: usize, page: usize) -> std::io::Result<*mut u8> {
            // SAFETY: a fresh allocation; checked below.
            let p = unsafe {
                VirtualAlloc(
                    core::ptr::null(),
                    len,
                    MEM_RESERVE | MEM_COMMIT,
                    PAGE_READWRITE,
                )
            };
            if p.is_null() {
                return Err(Error::last_os_error());
            }
            let mut old = 0;
            // SAFETY: the lowest page and the page just below the usable
            // stack, both inside our own allocation.
            let ok = unsafe {
                VirtualProtect(p, page, PAGE_NOACCESS, &mut old) != 0
                    && VirtualProtect(
                        p.cast::<u8>().add(guard - page).cast(),
                        page,
                        PAGE_READWRITE | PAGE_GUARD,
                        &mut old,
                    ) != 0
            };
            if !ok {
                let e = Error::last_os_error();
                unmap(p.cast(), len);
                return Err(e);
            }
            Ok(p.cast())
        }

        pub fn unmap(p: *mut u8, _len: usize) {
            // SAFETY: our own allocation, released once.
            unsafe { VirtualFree(p.cast(), 0, MEM_RELEASE) };
        }
    }
}
