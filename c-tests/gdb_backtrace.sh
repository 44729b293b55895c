#!/bin/sh
# Backtraces under gdb, checked:
#   running    break inside a coroutine: `bt` must show the coroutine's frames
#              and end at the entry trampoline;
#   suspended  break in main while the coroutine is suspended: `cem-bt &co_ctx`
#              (share/gdb/cem_ctx.py) must show the suspended coroutine's
#              frames down to the trampoline, then `bt` must show main again
#              and the program must finish normally (registers put back);
#   two_suspended  (two_coroutines_target.c) break in main while two
#              coroutines are suspended in different waiting functions:
#              `cem-bt` on each context must show exactly that coroutine's
#              chain (waiting function, its callers, root, trampoline) and
#              none of the other's frames; then as in `suspended`.
# No unknown frames ("??") and no "corrupt stack" complaints in either.
#   gdb_backtrace.sh MODE GDB PROGRAM                      (native)
#   gdb_backtrace.sh MODE GDB PROGRAM SYSROOT EMULATOR...  (cross: qemu-user gdb stub)
set -u
mode=$1
gdb=$2
program=$3
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "$gdb" ] || ! command -v "$gdb" >/dev/null 2>&1; then
    echo "gdb not found ('$gdb'): this test needs it (apt-get install gdb gdb-multiarch)"
    exit 1
fi
case $mode in
running) commands="-ex 'break deep_frame' -ex continue -ex bt" ;;
suspended)
    commands="-ex 'source $here/../share/gdb/cem_ctx.py' -ex 'break inspect_suspended' -ex continue"
    commands="$commands -ex 'echo ==== cem-bt\n' -ex 'cem-bt &co_ctx' -ex 'echo ==== bt\n' -ex bt -ex continue"
    ;;
two_suspended)
    commands="-ex 'source $here/../share/gdb/cem_ctx.py' -ex 'break inspect_both' -ex continue"
    commands="$commands -ex 'echo ==== reader\n' -ex 'cem-bt -full &reader_ctx'"
    commands="$commands -ex 'echo ==== writer\n' -ex 'cem-bt -full writer_ctx'"
    commands="$commands -ex 'echo ==== bt\n' -ex bt -ex continue"
    ;;
*) echo "unknown mode $mode"; exit 1 ;;
esac
if [ $# -ge 5 ]; then
    sysroot=$4
    shift 4
    port=$((20000 + $$ % 20000))
    "$@" -g "$port" "$program" &
    emu=$!
    sleep 0.3
    out=$(eval timeout 120 "$gdb" -nx -batch -ex "'set sysroot $sysroot'" -ex "'target remote :$port'" \
        "$commands" "$program" 2>&1)
    kill "$emu" 2>/dev/null
    wait "$emu" 2>/dev/null
else
    # `run` first, then the same commands (their `continue` starts nothing new).
    out=$(eval timeout 120 "$gdb" -nx -batch -ex "'starti'" "$commands" "$program" 2>&1)
fi
echo "$out"
fail() {
    echo "FAIL: $*"
    exit 1
}
# check_coroutine_frames FRAMES INNERMOST: the frames of a coroutine backtrace.
check_coroutine_frames() {
    [ "$(echo "$1" | wc -l)" -ge 4 ] || fail "expected at least 4 frames"
    echo "$1" | head -n 1 | grep -q "$2" || fail "innermost frame is not $2"
    for f in middle_frame coroutine_root; do
        echo "$1" | grep -q "$f" || fail "frame $f missing"
    done
    echo "$1" | tail -n 1 | grep -qE 'cem_ctx_(x86_64_sysv|aarch64_aapcs64|riscv_psabi)_start' ||
        fail "backtrace does not end at the coroutine root trampoline"
    # (Only frame lines are checked for "??": when attaching to qemu, gdb first
    # reports the dynamic loader's entry point, which is not part of the backtrace.)
    if echo "$1" | grep -qF '??'; then
        fail "unknown frames in the backtrace"
    fi
}
if echo "$out" | grep -qE 'corrupt stack|Backtrace stopped'; then
    fail "the unwinder complained"
fi
# check_chain WHAT FRAMES FUNCTION...: FRAMES (gdb's `#N ...` lines) are
# exactly FUNCTION... from the innermost frame outwards, then the entry
# trampoline, and nothing else.
check_chain() {
    what=$1
    chain=$2
    shift 2
    n=0
    for f in "$@"; do
        echo "$chain" | grep -E "^#$n " | grep -qE "[ .]$f \\(" ||
            fail "$what: frame #$n is not $f: $(echo "$chain" | grep -E "^#$n ")"
        n=$((n + 1))
    done
    echo "$chain" | grep -E "^#$n " | grep -qE 'cem_ctx_(x86_64_sysv|aarch64_aapcs64|riscv_psabi)_start' ||
        fail "$what: frame #$n is not the entry trampoline"
    [ "$(echo "$chain" | wc -l)" -eq $((n + 1)) ] || fail "$what: frames beyond the entry trampoline"
    if echo "$chain" | grep -qF '??'; then
        fail "$what: unknown frames in the backtrace"
    fi
}
if [ "$mode" = running ]; then
    frames=$(echo "$out" | grep -E '^#[0-9]+ ')
    check_coroutine_frames "$frames" deep_frame
    echo "ok: backtrace ends at $(echo "$frames" | tail -n 1)"
    exit 0
fi
if [ "$mode" = two_suspended ]; then
    reader=$(echo "$out" | sed -n '/^==== reader/,/^==== writer/p' | grep -E '^#[0-9]+ ')
    writer=$(echo "$out" | sed -n '/^==== writer/,/^==== bt/p' | grep -E '^#[0-9]+ ')
    check_chain reader "$reader" wait_for_writer reader_loop reader_root
    check_chain writer "$writer" wait_for_reader writer_loop writer_root
    # seen, tag and n are live in callee-saved registers at the suspension
    # (see two_coroutines_target.c): gdb reads them back only from correctly
    # loaded registers and stack pointer.
    echo "$out" | sed -n '/^==== reader/,/^==== writer/p' | grep -qE '^ +seen = 10$' || fail "wait_for_writer's seen is not 10"
    echo "$out" | sed -n '/^==== writer/,/^==== bt/p' | grep -qE '^ +seen = 20$' || fail "wait_for_reader's seen is not 20"
    echo "$reader" | grep -qE ' wait_for_writer \(tag=(tag@entry=)?11\)' || fail "wait_for_writer's tag is not 11"
    echo "$writer" | grep -qE ' wait_for_reader \(tag=(tag@entry=)?21\)' || fail "wait_for_reader's tag is not 21"
    echo "$reader" | grep -qE ' reader_loop \(n=(n@entry=)?10\)' || fail "reader_loop's n is not 10"
    echo "$writer" | grep -qE ' writer_loop \(n=(n@entry=)?20\)' || fail "writer_loop's n is not 20"
    after=$(echo "$out" | sed -n '/^==== bt/,$p' | grep -E '^#[0-9]+ ')
    echo "$after" | head -n 1 | grep -q inspect_both || fail "registers not restored: bt after cem-bt is not in inspect_both"
    echo "$after" | grep -q 'main' || fail "registers not restored: main missing after cem-bt"
    echo "$out" | grep -qE 'exited normally|exited with code 00' || fail "the program did not finish normally after cem-bt"
    echo "ok: each suspended coroutine's backtrace is its own chain; program finished"
    exit 0
fi
frames=$(echo "$out" | sed -n '/^==== cem-bt/,/^==== bt/p' | grep -E '^#[0-9]+ ')
check_coroutine_frames "$frames" suspend_here
after=$(echo "$out" | sed -n '/^==== bt/,$p' | grep -E '^#[0-9]+ ')
echo "$after" | head -n 1 | grep -q inspect_suspended || fail "registers not restored: bt after cem-bt is not in inspect_suspended"
echo "$after" | grep -q 'main' || fail "registers not restored: main missing after cem-bt"
echo "$out" | grep -qE 'exited normally|exited with code 00' || fail "the program did not finish normally after cem-bt"
echo "ok: suspended coroutine's backtrace ends at $(echo "$frames" | tail -n 1); program finished"
