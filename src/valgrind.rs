//! Valgrind stack registration: tells Valgrind which memory is a stack, so
//! that memcheck recognises a context switch as a change of stacks.
//!
//! # Why
//!
//! Memcheck follows the stack pointer. When `rsp`/`sp` moves by less than
//! `--max-stackframe` (2 MB by default) it takes the move for stack growth or
//! shrinkage and marks the bytes in between undefined (or inaccessible); a
//! larger move prints "Warning: client switching stacks?". A switch between two
//! stacks that lie close together (e.g. static arrays side by side) is then
//! read as a huge push, and the other stack's saved frames become
//! "uninitialised" (false errors at `cem_swapcontext`'s loads). A stack
//! registered with `VALGRIND_STACK_REGISTER` is known to Valgrind: a stack
//! pointer that lands in another registered stack is a switch, and nothing is
//! marked.
//!
//! # What is registered, and when
//!
//! | who | registered at | deregistered at |
//! |-----|---------------|-----------------|
//! | [`Coroutine`](crate::Coroutine) (and [`on_stack`](crate::on_stack)) | `new*`, after its checks pass: `[base, aligned top]` of the stack's region | `Drop` and `into_stack`, after the coroutine's stack is left free of live values; the range is then marked defined again (memcheck keeps bytes below a stack pointer inaccessible), so its owner may read or reuse it |
//! | C-shaped contexts (`cem_makecontext*`, [`make_context`](crate::make_context)) | every successful make: `[stack_base, aligned top]` | when a later make's stack overlaps it (the make contract says the old context can no longer run); the old range is marked defined again first |
//!
//! The C-shaped API has no "destroy" call, and `cem_context_t` keeps Cem's
//! layout, so the library keeps the ids of C-shaped registrations in a table
//! of `imp::TABLE_SLOTS` (256) entries (only touched under Valgrind). A make with the
//! same `[stack_base, top]` as a tracked one keeps that registration; a make
//! whose stack overlaps tracked ones deregisters them and registers anew.
//! Beyond 256 live stacks (or when another thread holds the table
//! at that instant) a make registers its stack untracked: it stays registered
//! until the process exits.
//!
//! The registered end is the aligned top, the highest value the stack
//! pointer takes on that stack: Valgrind compares the stack pointer against
//! both ends inclusively (valgrind.h: "end is the highest addressable stack
//! byte"; `m_stacks.c` accepts `start <= sp <= end`).
//!
//! # Cost
//!
//! The requests run at make and drop only, never per switch. Outside
//! Valgrind each request is Valgrind's "special instruction" preamble, which
//! a CPU executes as a no-op (four rotates of one register that add up to a
//! full turn, then an exchange / or of a register with itself): a few cycles.
//! The C-shaped make first asks `RUNNING_ON_VALGRIND` and returns when it is
//! 0, so the table is never touched natively.
//!
//! # Where
//!
//! The request sequence is the one `valgrind.h` (3.19) defines for:
//! - x86-64 Linux, Android and FreeBSD (`PLAT_amd64_linux`,
//!   `PLAT_amd64_freebsd`): `rol $3,%rdi; rol $13,%rdi; rol $61,%rdi;
//!   rol $51,%rdi; xchg %rbx,%rbx`, request block address in rax, default and
//!   result in rdx;
//! - AArch64 Linux and Android (`PLAT_arm64_linux`): `ror x12,x12,#3; #13;
//!   #51; #61; orr x10,x10,x10`, block in x4, default and result in x3.
//!
//! Every other target (Windows, macOS, bare metal, RISC-V, Cortex-M) compiles
//! the requests to nothing: Valgrind does not run there (or, for RISC-V, only
//! from 3.25 on, which this crate does not yet support). `build.rs` sets
//! `cfg(cem_valgrind)` for the targets above; `--cfg cem_valgrind_off` in
//! `RUSTFLAGS` withholds it on every target: the test command uses that as
//! the negative control that shows the Valgrind suite fails without
//! registration.
//!
//! No crate dependency: the maintained bindings (`crabgrind`,
//! `valgrind-requests`) need Valgrind's headers (and `cc` or `bindgen`) at
//! build time, which a `no_std` library built for firmware must not.

pub(crate) use imp::{register_context_stack, StackRegistration};

/// The requests, on the targets valgrind.h defines them for.
#[cfg(cem_valgrind)]
mod imp {
    /// Client request codes (valgrind.h, `enum Vg_ClientRequest`; the core
    /// requests are `VG_USERREQ_TOOL_BASE('\0','\0')`-relative, stable since
    /// Valgrind 3.0).
    mod code {
        /// `VG_USERREQ__RUNNING_ON_VALGRIND`: returns 0 natively, the nesting
        /// depth (>= 1) under Valgrind.
        pub(super) const RUNNING_ON_VALGRIND: usize = 0x1001;
        /// `VG_USERREQ__STACK_REGISTER(start, end)`: returns the new stack's id
        /// (ids count up from 0, so 0 is a valid id under Valgrind).
        pub(super) const STACK_REGISTER: usize = 0x1501;
        /// `VG_USERREQ__STACK_DEREGISTER(id)`: forgets a registered stack.
        pub(super) const STACK_DEREGISTER: usize = 0x1502;
        /// Memcheck's `VG_USERREQ__MAKE_MEM_DEFINED(addr, len)` (memcheck.h:
        /// `VG_USERREQ_TOOL_BASE('M','C') + 2`); other tools ignore it.
        pub(super) const MAKE_MEM_DEFINED: usize = 0x4d43_0002;
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn request(default: usize, block: &[usize; 6]) -> usize {
        let result;
        // SAFETY: the preamble rotates rdi by 3+13+61+51 = 128 bits (a whole
        // number of turns: rdi is unchanged) and `xchg rbx, rbx` changes nothing,
        // so natively this is a no-op apart from the flags the rotates set (no
        // `preserves_flags`). Under Valgrind the sequence is the client request
        // "rdx = request(*rax)": Valgrind reads the 6-word block and writes only
        // rdx.
        unsafe {
            core::arch::asm!(
                "rol rdi, 3",
                "rol rdi, 13",
                "rol rdi, 61",
                "rol rdi, 51",
                "xchg rbx, rbx",
                in("rax") block.as_ptr(),
                inout("rdx") default => result,
                options(nostack),
            );
        }
        result
    }

    #[cfg(target_arch = "aarch64")]
    #[inline(always)]
    fn request(default: usize, block: &[usize; 6]) -> usize {
        let result;
        // SAFETY: the preamble rotates x12 by 3+13+51+61 = 128 bits (unchanged)
        // and `orr x10, x10, x10` changes nothing; neither sets flags. Under
        // Valgrind the sequence is "x3 = request(*x4)", which writes only x3.
        unsafe {
            core::arch::asm!(
                "ror x12, x12, #3",
                "ror x12, x12, #13",
                "ror x12, x12, #51",
                "ror x12, x12, #61",
                "orr x10, x10, x10",
                in("x4") block.as_ptr(),
                inout("x3") default => result,
                options(nostack, preserves_flags),
            );
        }
        result
    }

    /// True when the process runs under Valgrind (any tool).
    #[inline]
    fn running_on_valgrind() -> bool {
        request(0, &[code::RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0]) != 0
    }

    #[inline]
    fn stack_register(start: usize, end: usize) -> usize {
        request(0, &[code::STACK_REGISTER, start, end, 0, 0, 0])
    }

    #[inline]
    fn stack_deregister(id: usize) {
        request(0, &[code::STACK_DEREGISTER, id, 0, 0, 0, 0]);
    }

    /// Deregisters stack `id` covering `[base, top]` and hands its memory back
    /// as plain, defined memory. While the stack was registered, memcheck
    /// treated the bytes below the stack pointer as inaccessible (dead frames);
    /// once the stack is given up its owner may read them (e.g.
    /// `stack::high_water_mark`) or reuse them for other data, as natively.
    #[inline]
    fn stack_retire(id: usize, base: usize, top: usize) {
        stack_deregister(id);
        request(0, &[code::MAKE_MEM_DEFINED, base, top - base, 0, 0, 0]);
    }

    /// A [`Coroutine`](crate::Coroutine)'s registration: made in `new*`, ended
    /// by [`end`](Self::end) when the coroutine gives its stack up. Three words.
    pub(crate) struct StackRegistration {
        id: usize,
        base: usize,
        top: usize,
    }

    impl StackRegistration {
        /// Registers `[base, top]`; `top` is the highest stack-pointer value the
        /// stack takes (its aligned top). Natively the request returns 0.
        #[inline]
        pub(crate) fn new(base: usize, top: usize) -> Self {
            StackRegistration {
                id: stack_register(base, top),
                base,
                top,
            }
        }

        /// Deregisters the stack and makes its memory plain defined memory again.
        /// Call once, when no frame is live on it any more.
        #[inline]
        pub(crate) fn end(&mut self) {
            stack_retire(self.id, self.base, self.top);
        }
    }

    // ------------------------------------------------------------ C-shaped table

    use core::cell::UnsafeCell;
    use core::sync::atomic::{AtomicBool, Ordering};

    /// How many C-shaped stacks the library tracks for deregistration (24 bytes
    /// each in `.bss`, on the targets where the requests exist).
    pub(crate) const TABLE_SLOTS: usize = 256;

    #[derive(Clone, Copy)]
    struct Entry {
        /// Lowest address; 0 for a free slot (make rejects a NULL stack).
        base: usize,
        /// Aligned top (registered end).
        top: usize,
        id: usize,
    }

    struct Table {
        busy: AtomicBool,
        entries: UnsafeCell<[Entry; TABLE_SLOTS]>,
    }

    // SAFETY: `entries` is only accessed by the thread that set `busy` (an
    // acquire/release try-lock).
    unsafe impl Sync for Table {}

    static TABLE: Table = Table {
        busy: AtomicBool::new(false),
        entries: UnsafeCell::new(
            [Entry {
                base: 0,
                top: 0,
                id: 0,
            }; TABLE_SLOTS],
        ),
    };

    /// Registers the stack `[base, top]` of a C-shaped context being made (see
    /// the module docs for reuse and deregistration). Natively: one no-op
    /// request. Never blocks: if another thread holds the table, the stack is
    /// registered untracked.
    pub(crate) fn register_context_stack(base: usize, top: usize) {
        if !running_on_valgrind() {
            return;
        }
        if TABLE
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            stack_register(base, top);
            return;
        }
        // SAFETY: we hold `busy`, so no other thread touches the entries.
        let entries = unsafe { &mut *TABLE.entries.get() };
        let mut free = None;
        let mut keep = false;
        for (i, e) in entries.iter_mut().enumerate() {
            if e.base == 0 {
                free.get_or_insert(i);
            } else if e.base == base && e.top == top {
                // The same stack made again: its registration still describes it.
                // Tracked entries never overlap (each make removes the ones it
                // overlaps), so no other entry can overlap this one.
                keep = true;
                break;
            } else if e.base < top && base < e.top {
                // Memory of an earlier context's stack is this context's stack
                // now, so by make's contract that context can no longer run.
                stack_retire(e.id, e.base, e.top);
                e.base = 0;
                free.get_or_insert(i);
            }
        }
        if !keep {
            let id = stack_register(base, top);
            if let Some(i) = free {
                entries[i] = Entry { base, top, id };
            }
        }
        TABLE.busy.store(false, Ordering::Release);
    }
}

/// Every other target: nothing to register, no table, no code.
#[cfg(not(cem_valgrind))]
mod imp {
    /// Empty: there is no Valgrind to tell.
    pub(crate) struct StackRegistration;

    impl StackRegistration {
        #[inline(always)]
        pub(crate) fn new(_base: usize, _top: usize) -> Self {
            StackRegistration
        }

        #[inline(always)]
        pub(crate) fn end(&mut self) {}
    }

    #[inline(always)]
    pub(crate) fn register_context_stack(_base: usize, _top: usize) {}
}
