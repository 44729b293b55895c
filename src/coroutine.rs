//! Safe stackful coroutines over a caller-supplied stack, with no allocation.
//!
//! The closure and everything it keeps live on the coroutine stack; the
//! [`Coroutine`] value itself holds only pointers and the stack handle.
//! Values travel both ways: [`Coroutine::resume`] sends an `Input` and gets a
//! [`CoroutineResult`] back; inside, [`Yielder::suspend`] sends a `Yield` and
//! gets the next `Input`.
//!
//! The switch is the asymmetric fast path of each ABI's `asm/` source: resume
//! is a `call` (`bl`) and suspend ends in the matching `ret`, so the CPU's
//! return-address predictor stays balanced. It preserves the same state as
//! `cem_swapcontext` (callee-saved registers, MXCSR/x87 control word where the
//! target has them, the TEB stack fields on Windows), but saves only the
//! callee-saved registers that are live at the call site.
//!
//! # Memory layout on the stack
//!
//! From the 16-byte aligned top `T` of the stack down:
//!
//! | where | size | what |
//! |-------|-----:|------|
//! | `T - 32` | 32 | link block: the resumer's sp while the coroutine runs, the coroutine's sp while it is suspended, the FP-control flag |
//! | below | `size_of::<Data<F>>()`, 16-byte aligned | the entry function and the closure `F` |
//! | below | 32 bytes (88 on Windows) | the initial frame; then the coroutine's own frames |
//!
//! # Dropping
//!
//! | state when dropped | what happens |
//! |--------------------|--------------|
//! | never resumed | the closure is dropped in place |
//! | completed | nothing left to do |
//! | suspended, `std` feature with `panic = "unwind"` | the coroutine stack is unwound: `suspend` panics with a private payload, destructors run, the payload is caught at the coroutine root |
//! | suspended, otherwise | the process stops at `cem_context_trap`: without unwinding the values on the stack cannot be dropped, and silently forgetting them could break `Pin` guarantees of values pinned there once the stack memory is reused |
//!
//! A coroutine whose code catches the forced unwind and suspends again also
//! stops at the trap.
//!
//! # Threads
//!
//! `Coroutine` is neither `Send` nor `Sync`: code in a coroutine may hold a
//! reference into thread-local storage across a suspension, and resuming on
//! another thread would leave it pointing at the old thread's storage. The
//! C-shaped API ([`crate::swap_context`]) allows migration under the caller's
//! responsibility.

use core::marker::PhantomData;
use core::mem::{align_of, size_of, ManuallyDrop};
use core::ptr;

use crate::arch::native;
use crate::context::aligned_stack_top;
use crate::sanitizer::FiberState;
use crate::{MakeContextError, Stack};

/// What [`Coroutine::resume`] returns: the coroutine suspended with a value,
/// or finished with its closure's return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoroutineResult<Y, R> {
    /// The coroutine called [`Yielder::suspend`] with this value.
    Yield(Y),
    /// The coroutine's closure returned this value; it cannot be resumed again.
    Complete(R),
}

impl<Y, R> CoroutineResult<Y, R> {
    /// The yielded value, if any.
    pub fn as_yield(&self) -> Option<&Y> {
        match self {
            Self::Yield(y) => Some(y),
            Self::Complete(_) => None,
        }
    }

    /// The return value, if the coroutine completed.
    pub fn as_complete(&self) -> Option<&R> {
        match self {
            Self::Yield(_) => None,
            Self::Complete(r) => Some(r),
        }
    }
}

/// The link block at the top of the coroutine stack (resumer sp, coroutine sp,
/// FP-control flag; see `arch::CoroutineLink`).
type Link = crate::arch::CoroutineLink;

/// Start of the stack's data block, the same for every closure type: the
/// entry function first (the start trampoline calls through it), the link
/// block's address, and `done`, which the coroutine sets before its final
/// suspension so that the resumer knows which message it receives.
#[repr(C)]
struct Header {
    entry: usize,
    link: *mut Link,
    done: bool,
    /// Sanitizer fiber state (features `asan`/`tsan`; 0 bytes otherwise).
    san: FiberState,
}

/// The data block: header, then the closure.
#[repr(C)]
struct Data<F> {
    header: Header,
    closure: ManuallyDrop<F>,
}

/// What the final suspension hands to the resumer (a plain suspension hands
/// a pointer to the yielded `Y`). Written on the coroutine stack and moved out
/// by the resumer with `ptr::read`.
enum Final<R> {
    Complete(R),
    #[cfg(all(feature = "std", panic = "unwind"))]
    Panicked(std::boxed::Box<dyn core::any::Any + Send + 'static>),
    #[cfg(all(feature = "std", panic = "unwind"))]
    Unwound,
}

/// Makes a type neither `Send` nor `Sync` (see "Threads" in the module docs).
type NotSendSync = PhantomData<*mut ()>;

/// Payload of the panic that unwinds a suspended coroutine being dropped.
#[cfg(all(feature = "std", panic = "unwind"))]
struct ForcedUnwind;

/// Settings for [`Coroutine::with_options`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Whether the coroutine keeps its own FP control state: the MXCSR
    /// control bits (6–15) and the x87 control word on x86-64, which the
    /// psABI (§3.2.1) and the Microsoft convention make callee-saved. Default
    /// `true`, the same state `cem_swapcontext` preserves. Either way the
    /// MXCSR status flags (0–5, caller-saved) follow the running thread: after
    /// a switch a side sees the flags the other side had set.
    ///
    /// `false` skips reading and comparing them on every switch (`stmxcsr`
    /// and `fnstcw` cost a few ns per round trip; the registers are only
    /// loaded when the control state differs). The coroutine and its resumer
    /// then share one FP control state, as a function and its caller do: a
    /// rounding-mode change on one side is seen on the other. No effect on
    /// AArch64 (FPCR is global there) or on targets without SSE.
    pub fp_control: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { fp_control: true }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Fresh,
    Suspended,
    Complete,
}

/// Handle passed to the coroutine's closure for suspending itself.
///
/// Only usable on the coroutine's own stack, through the reference the closure
/// receives; it cannot be moved out of the closure call.
pub struct Yielder<I, Y> {
    link: *mut Link,
    #[cfg(any(feature = "asan", feature = "tsan"))]
    san: *mut FiberState,
    _marker: PhantomData<fn(Y) -> I>,
    _not_send: NotSendSync,
}

impl<I, Y> Yielder<I, Y> {
    /// Suspends the coroutine, handing `value` to the caller of
    /// [`Coroutine::resume`] as [`CoroutineResult::Yield`]; returns the input
    /// of the next `resume`.
    pub fn suspend(&self, value: Y) -> I {
        // The resumer moves the value out with ptr::read, hence ManuallyDrop.
        let mut value = ManuallyDrop::new(value);
        // SAFETY: we run on the coroutine that owns `link` (a Yielder only
        // exists inside its closure call).
        let input = unsafe {
            #[cfg(any(feature = "asan", feature = "tsan"))]
            FiberState::before_suspend(self.san, false);
            let input = native::coroutine_suspend(self.link, &mut *value as *mut Y as usize);
            #[cfg(any(feature = "asan", feature = "tsan"))]
            FiberState::after_suspend(self.san);
            input
        };
        take_input::<I>(input)
    }
}

/// Moves the input out of the resumer's slot; a null slot asks the coroutine
/// to unwind (the coroutine is being dropped).
fn take_input<I>(slot: usize) -> I {
    if slot == 0 {
        #[cfg(all(feature = "std", panic = "unwind"))]
        std::panic::resume_unwind(std::boxed::Box::new(ForcedUnwind));
        #[cfg(not(all(feature = "std", panic = "unwind")))]
        crate::trap();
    }
    // SAFETY: the resumer passes a pointer to a `Option<I>` that is `Some`
    // and stays alive until it is resumed again, after we took the value.
    unsafe { (*(slot as *mut Option<I>)).take().unwrap_unchecked() }
}

/// A stackful coroutine running a closure on the stack `S`.
///
/// - `I`: what [`resume`](Self::resume) sends in (the closure receives the
///   first one as its argument, [`Yielder::suspend`] returns the later ones);
/// - `Y`: what [`Yielder::suspend`] sends out;
/// - `R`: what the closure returns;
/// - `S`: the stack, e.g. `&'static mut [u8]` or, with `std`, `GuardPageStack`.
///
/// Size: a few words; the closure lives on the coroutine stack. See the
/// [module docs](self) for the layout, drop semantics and thread rules.
pub struct Coroutine<'f, I, Y, R, S: Stack> {
    stack: ManuallyDrop<S>,
    link: *mut Link,
    data: *mut Header,
    drop_closure: unsafe fn(*mut Header),
    state: State,
    /// Valgrind's id for the stack (src/valgrind.rs), ended when the stack is
    /// given up.
    valgrind: crate::valgrind::StackRegistration,
    _closure_lifetime: PhantomData<&'f mut ()>,
    _values: PhantomData<fn(I) -> (Y, R)>,
    _not_send: NotSendSync,
}

unsafe fn drop_closure<F>(data: *mut Header) {
    // SAFETY: called once, for a coroutine that never started.
    unsafe { ManuallyDrop::drop(&mut (*(data as *mut Data<F>)).closure) }
}

/// Bytes [`Coroutine::new`] keeps free below the closure for the library's
/// own frames: the initial frame, the coroutine root (with `std`, its
/// `catch_unwind` frames) and the final suspension. Your closure's own frames
/// come on top.
///
/// Measured with `stack::high_water_mark` on an empty coroutine in debug
/// builds (release uses less; x86-64 release: 144 / 176 bytes):
///
/// | ABI | without `std` | with `std` |
/// |-----|--------------:|-----------:|
/// | x86-64 System V | 360 | 808 |
/// | AArch64 AAPCS64 | 480 | 1024 |
/// | Windows x64 | 680 | 1304 |
/// | Arm M-profile (Cortex-M0/M3/M4F/M33) | 152–156 (release: 64) | — (no `std`) |
///
/// The test suite checks the measurement stays within this reserve.
pub const COROUTINE_RESERVE: usize = if cfg!(feature = "std") { 2048 } else { 1024 };

/// The coroutine's root: takes the closure, runs it, reports how it ended and
/// never returns.
unsafe extern "C" fn entry<I, Y, R, F>(input: usize, data: *mut Data<F>) -> !
where
    F: FnOnce(I, &Yielder<I, Y>) -> R,
{
    // SAFETY: `data` is the block Coroutine::new wrote; the closure is taken
    // exactly once, here.
    let (link, closure) = unsafe {
        (
            (*data).header.link,
            ManuallyDrop::take(&mut (*data).closure),
        )
    };
    // SAFETY: the header outlives the coroutine's run; first code on its stack.
    #[cfg(any(feature = "asan", feature = "tsan"))]
    let san = unsafe {
        let san = core::ptr::addr_of_mut!((*data).header.san);
        FiberState::on_entry(san);
        san
    };
    let yielder = Yielder {
        link,
        #[cfg(any(feature = "asan", feature = "tsan"))]
        san,
        _marker: PhantomData,
        _not_send: PhantomData,
    };
    let mut msg = ManuallyDrop::new(run(closure, input, &yielder));
    // SAFETY: final suspension; nobody resumes a completed coroutine.
    unsafe {
        (*data).header.done = true;
        // Last switch away: ASan may drop this stack's fake frames.
        #[cfg(any(feature = "asan", feature = "tsan"))]
        FiberState::before_suspend(san, true);
        native::coroutine_suspend(link, &mut *msg as *mut Final<R> as usize);
    }
    crate::trap()
}

#[cfg(all(feature = "std", panic = "unwind"))]
fn run<I, Y, R, F>(closure: F, input: usize, yielder: &Yielder<I, Y>) -> Final<R>
where
    F: FnOnce(I, &Yielder<I, Y>) -> R,
{
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let input = take_input::<I>(input);
        closure(input, yielder)
    }));
    match result {
        Ok(r) => Final::Complete(r),
        Err(payload) if payload.is::<ForcedUnwind>() => Final::Unwound,
        Err(payload) => Final::Panicked(payload),
    }
}

#[cfg(not(all(feature = "std", panic = "unwind")))]
fn run<I, Y, R, F>(closure: F, input: usize, yielder: &Yielder<I, Y>) -> Final<R>
where
    F: FnOnce(I, &Yielder<I, Y>) -> R,
{
    Final::Complete(closure(take_input::<I>(input), yielder))
}

impl<'f, I, Y, R, S: Stack> Coroutine<'f, I, Y, R, S> {
    /// Places `f` on `stack` and prepares the coroutine; nothing runs until
    /// the first [`resume`](Self::resume), whose input becomes `f`'s first
    /// argument. Keeps its own FP control state ([`Options::default`]).
    ///
    /// The stack must be `'static` (`&'static mut [u8]`, `Box<[u8]>`,
    /// `GuardPageStack` with `std`): a coroutine leaked with `mem::forget` while
    /// suspended then leaks its stack memory too, so values pinned on it are
    /// never overwritten. For a stack borrowed for less, see
    /// [`new_unchecked`](Self::new_unchecked) or [`on_stack`].
    ///
    /// # Errors
    /// [`MakeContextError::NullStack`] for an empty stack, and
    /// [`MakeContextError::StackTooSmall`] when the stack cannot hold the link
    /// block, the closure and [`COROUTINE_RESERVE`] bytes besides.
    pub fn new<F>(stack: S, f: F) -> Result<Self, MakeContextError>
    where
        S: 'static,
        F: FnOnce(I, &Yielder<I, Y>) -> R + 'f,
    {
        Self::with_options(stack, Options::default(), f)
    }

    /// [`new`](Self::new) with explicit [`Options`].
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn with_options<F>(stack: S, options: Options, f: F) -> Result<Self, MakeContextError>
    where
        S: 'static,
        F: FnOnce(I, &Yielder<I, Y>) -> R + 'f,
    {
        // SAFETY: a 'static stack is never handed back while the coroutine is
        // leaked, which is the contract of new_unchecked.
        unsafe { Self::new_unchecked(stack, options, f) }
    }

    /// [`with_options`](Self::with_options) for any stack, including one
    /// borrowed for less than `'static`.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    ///
    /// # Safety
    /// The coroutine must not be leaked (`mem::forget`, a reference cycle)
    /// while it is suspended: leaking ends the stack's borrow without running
    /// the coroutine's destructors, and reusing that memory would break the
    /// guarantees of values pinned on it.
    pub unsafe fn new_unchecked<F>(
        mut stack: S,
        options: Options,
        f: F,
    ) -> Result<Self, MakeContextError>
    where
        F: FnOnce(I, &Yielder<I, Y>) -> R + 'f,
    {
        let (base, size) = stack.region();
        if size == 0 {
            return Err(MakeContextError::NullStack);
        }
        let base = base as usize;
        let top = aligned_stack_top(base, size)?;
        let align = align_of::<Data<F>>().max(16);
        let data_size = size_of::<Data<F>>();
        let data = top
            .checked_sub(size_of::<Link>() + data_size)
            .map(|d| d & !(align - 1))
            .filter(|&d| d >= base && d - base >= COROUTINE_RESERVE)
            .ok_or(MakeContextError::StackTooSmall)?;
        let link = (top - size_of::<Link>()) as *mut Link;
        // SAFETY: `Stack` promises the region is ours and writable; all three
        // writes lie inside it (checked above).
        unsafe {
            (data as *mut Data<F>).write(Data {
                header: Header {
                    entry: entry::<I, Y, R, F> as *const () as usize,
                    link,
                    done: false,
                    san: FiberState::new(base, size),
                },
                closure: ManuallyDrop::new(f),
            });
            let sp = native::init_coroutine(base, top, data, data);
            link.write(Link {
                parent_sp: 0,
                root_pc: native::coroutine_root_pc(),
                coroutine_sp: sp,
                fp_control: options.fp_control,
            });
        }
        Ok(Coroutine {
            stack: ManuallyDrop::new(stack),
            link,
            data: data as *mut Header,
            drop_closure: drop_closure::<F>,
            state: State::Fresh,
            valgrind: crate::valgrind::StackRegistration::new(base, top),
            _closure_lifetime: PhantomData,
            _values: PhantomData,
            _not_send: PhantomData,
        })
    }

    /// Runs the coroutine until it suspends or completes, handing it `input`.
    ///
    /// # Panics
    /// If the coroutine already completed. With the `std` feature, a panic
    /// inside the coroutine is caught at its root and resumed here.
    pub fn resume(&mut self, input: I) -> CoroutineResult<Y, R> {
        assert!(
            self.state != State::Complete,
            "resumed a completed coroutine"
        );
        let mut slot = Some(input);
        // SAFETY: the coroutine is fresh or suspended, its stack alive (we own
        // it), and `slot` outlives the switch.
        let msg = unsafe { self.switch_in(&mut slot as *mut _ as usize) };
        // SAFETY: the coroutine handed us a pointer to a value it will not
        // touch again (ManuallyDrop on its side): a `Y` while it lives, a
        // `Final<R>` once `done` is set. We move it out.
        unsafe {
            if !(*self.data).done {
                self.state = State::Suspended;
                return CoroutineResult::Yield(ptr::read(msg as *const Y));
            }
            self.state = State::Complete;
            match ptr::read(msg as *const Final<R>) {
                Final::Complete(r) => CoroutineResult::Complete(r),
                #[cfg(all(feature = "std", panic = "unwind"))]
                Final::Panicked(payload) => std::panic::resume_unwind(payload),
                #[cfg(all(feature = "std", panic = "unwind"))]
                Final::Unwound => unreachable!("forced unwind outside of drop"),
            }
        }
    }

    /// `native::coroutine_resume` with the sanitizer annotations around it
    /// (nothing extra without the `asan`/`tsan` features).
    ///
    /// # Safety
    /// As for `native::coroutine_resume`.
    #[inline(always)]
    unsafe fn switch_in(&mut self, value: usize) -> usize {
        // SAFETY: the header lives on our stack, which we own.
        unsafe {
            let san = core::ptr::addr_of_mut!((*self.data).san);
            FiberState::before_resume(san);
            let msg = native::coroutine_resume(self.link, value);
            FiberState::after_resume(san);
            msg
        }
    }

    /// True once the closure has returned (or panicked).
    pub fn is_complete(&self) -> bool {
        self.state == State::Complete
    }

    /// True after the first resume.
    pub fn started(&self) -> bool {
        self.state != State::Fresh
    }

    /// Ends the coroutine as [`Drop`] does (see the module docs) and hands the
    /// stack back, e.g. to measure its high-water mark or reuse it.
    pub fn into_stack(self) -> S {
        let mut this = ManuallyDrop::new(self);
        this.finish();
        this.valgrind.end();
        // SAFETY: `this` is never used or dropped again.
        unsafe { ManuallyDrop::take(&mut this.stack) }
    }

    /// Leaves the coroutine's stack free of live values.
    fn finish(&mut self) {
        match self.state {
            // SAFETY: the closure was never taken.
            State::Fresh => unsafe { (self.drop_closure)(self.data) },
            State::Complete => {}
            State::Suspended => self.unwind(),
        }
        // SAFETY: the coroutine no longer runs (or never ran).
        unsafe { FiberState::destroy(core::ptr::addr_of_mut!((*self.data).san)) };
        self.state = State::Complete;
    }

    #[cfg(all(feature = "std", panic = "unwind"))]
    fn unwind(&mut self) {
        // SAFETY: a null input makes the coroutine's suspend panic with
        // ForcedUnwind; the root catches it and reports Unwound.
        let msg = unsafe { self.switch_in(0) };
        // SAFETY: as in resume. A coroutine that is not done caught the
        // unwind and yielded again: its stack still holds values we cannot
        // drop. Any final message (normally Unwound) means the stack is empty.
        unsafe {
            if !(*self.data).done {
                crate::trap();
            }
            drop(ptr::read(msg as *const Final<R>));
        }
    }

    #[cfg(not(all(feature = "std", panic = "unwind")))]
    fn unwind(&mut self) {
        crate::trap()
    }
}

impl<I, Y, R, S: Stack> Drop for Coroutine<'_, I, Y, R, S> {
    fn drop(&mut self) {
        self.finish();
        self.valgrind.end();
        // SAFETY: dropped once, here.
        unsafe { ManuallyDrop::drop(&mut self.stack) }
    }
}

/// Runs `f` on `stack` and returns its result: Go's `systemstack`, for deep
/// recursion on a big stack or running on a known-good one.
///
/// # Errors
/// As [`Coroutine::new`], when the stack is too small to start on.
///
/// # Panics
/// With `std`, a panic in `f` propagates to the caller.
pub fn on_stack<S: Stack, R>(stack: S, f: impl FnOnce() -> R) -> Result<R, MakeContextError> {
    // SAFETY: the coroutine is local and complete (or unwound by a panic)
    // before this function returns; it is never leaked.
    let mut co: Coroutine<'_, (), (), R, S> = unsafe {
        Coroutine::new_unchecked(stack, Options::default(), move |(), _: &Yielder<(), ()>| {
            f()
        })?
    };
    match co.resume(()) {
        CoroutineResult::Complete(r) => Ok(r),
        CoroutineResult::Yield(()) => unreachable!("the closure cannot suspend"),
    }
}
