//! Program for the gdb test of `cem-bt` on Rust coroutines
//! (`scripts/suites/gdb.sh`): two [`Coroutine`]s, each suspended in its own
//! waiting function two frames below its closure (reader: `reader_loop` ->
//! `wait_for_writer`; writer: `writer_loop` -> `wait_for_reader`). The test
//! breaks in `inspect_both` while both are suspended and runs
//! `cem-bt reader` / `cem-bt writer` (share/gdb/cem_ctx.py): each backtrace
//! must name that coroutine's own waiting function and callers, down to the
//! coroutine start trampoline, and none of the other's. Both coroutines are
//! then resumed to completion, so the command must have left every register
//! as it found it. Exits 0 when both completed with the expected values.
//!
//! `cargo run --example gdb_coroutines` runs it without gdb.

use std::hint::black_box;

use cem_ctx::{Coroutine, CoroutineResult, Yielder};

type Co = Coroutine<'static, u32, u32, u32, &'static mut [u8]>;

/// A 64 KiB stack that lives as long as the program.
fn stack() -> &'static mut [u8] {
    Box::leak(vec![0u8; 64 * 1024].into_boxed_slice())
}

#[inline(never)]
fn wait_for_writer(yielder: &Yielder<u32, u32>, n: u32) -> u32 {
    black_box(yielder.suspend(n)) + 1
}

#[inline(never)]
fn wait_for_reader(yielder: &Yielder<u32, u32>, n: u32) -> u32 {
    black_box(yielder.suspend(n)) + 1
}

#[inline(never)]
fn reader_loop(yielder: &Yielder<u32, u32>, n: u32) -> u32 {
    black_box(wait_for_writer(yielder, n + 1)) + 1
}

#[inline(never)]
fn writer_loop(yielder: &Yielder<u32, u32>, n: u32) -> u32 {
    black_box(wait_for_reader(yielder, n + 1)) + 1
}

/// The test's breakpoint: both coroutines are suspended here.
#[inline(never)]
fn inspect_both(reader: &Co, writer: &Co) {
    black_box((reader, writer));
}

fn main() {
    let mut reader: Co = Coroutine::new(stack(), |n, y: &Yielder<u32, u32>| reader_loop(y, n))
        .expect("reader coroutine");
    let mut writer: Co = Coroutine::new(stack(), |n, y: &Yielder<u32, u32>| writer_loop(y, n))
        .expect("writer coroutine");
    assert_eq!(reader.resume(10), CoroutineResult::Yield(11));
    assert_eq!(writer.resume(20), CoroutineResult::Yield(21));
    inspect_both(&reader, &writer);
    assert_eq!(reader.resume(100), CoroutineResult::Complete(102));
    assert_eq!(writer.resume(200), CoroutineResult::Complete(202));
    println!("gdb_coroutines: both coroutines completed");
}
