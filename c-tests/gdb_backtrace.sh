#!/bin/sh
# Breaks inside a coroutine under gdb and checks the backtrace: it must show
# the coroutine's frames and end at the entry trampoline, with no unknown
# frames ("??") and no "corrupt stack" complaints.
#   gdb_backtrace.sh GDB PROGRAM                      (native)
#   gdb_backtrace.sh GDB PROGRAM SYSROOT EMULATOR...  (cross: qemu-user gdb stub)
set -u
gdb=$1
program=$2
if [ -z "$gdb" ] || ! command -v "$gdb" >/dev/null 2>&1; then
    echo "gdb not found ('$gdb'): this test needs it (apt-get install gdb gdb-multiarch)"
    exit 1
fi
if [ $# -ge 4 ]; then
    sysroot=$3
    shift 3
    port=$((20000 + $$ % 20000))
    "$@" -g "$port" "$program" &
    emu=$!
    sleep 0.3
    out=$(timeout 120 "$gdb" -nx -batch -ex "set sysroot $sysroot" -ex "target remote :$port" \
        -ex "break deep_frame" -ex continue -ex bt -ex kill "$program" 2>&1)
    kill "$emu" 2>/dev/null
    wait "$emu" 2>/dev/null
else
    out=$(timeout 120 "$gdb" -nx -batch -ex "break deep_frame" -ex run -ex bt "$program" 2>&1)
fi
echo "$out"
frames=$(echo "$out" | grep -E '^#[0-9]+ ')
fail() {
    echo "FAIL: $*"
    exit 1
}
[ "$(echo "$frames" | wc -l)" -ge 4 ] || fail "expected at least 4 frames"
echo "$frames" | head -n 1 | grep -q deep_frame || fail "innermost frame is not deep_frame"
for f in middle_frame coroutine_root; do
    echo "$frames" | grep -q "$f" || fail "frame $f missing"
done
echo "$frames" | tail -n 1 | grep -qE 'cem_ctx_(x86_64_sysv|aarch64_aapcs64|riscv_psabi)_start' ||
    fail "backtrace does not end at the coroutine root trampoline"
# (Only frame lines are checked for "??": when attaching to qemu, gdb first
# reports the dynamic loader's entry point, which is not part of the backtrace.)
if echo "$frames" | grep -qF '??'; then
    fail "unknown frames in the backtrace"
fi
if echo "$out" | grep -qE 'corrupt stack|Backtrace stopped'; then
    fail "the unwinder complained"
fi
echo "ok: backtrace ends at $(echo "$frames" | tail -n 1)"
