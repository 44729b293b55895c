# gdb suites (issue 10): `cem-bt` (share/gdb/cem_ctx.py) on Rust coroutines.
# Sourced by scripts/test.sh from the repository root; each function is one
# `step`, builds what it checks, and fails with "SKIPPED: <why>" when a tool
# is missing (nothing passes silently). The C side (cem_context_t) is covered
# by the CTests gdb_backtrace_* of every C suite run.
#   Debian packages: gdb gdb-multiarch qemu-user gcc-aarch64-linux-gnu
#     libc6-dev-arm64-cross gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
#   rustup targets: aarch64-unknown-linux-gnu riscv64gc-unknown-linux-gnu

gdb_need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIPPED: $t not found (see scripts/suites/gdb.sh for the packages)"; return 1; }
    done
}

# gdb_check_chain WHAT OUTPUT MARKER NEXT_MARKER PATTERN...: the `#N` frame
# lines of OUTPUT between the lines "==== MARKER" and "==== NEXT_MARKER"
# contain each PATTERN (fixed strings) in this order, in frames numbered
# upwards; the last frame is the coroutine start trampoline; no unknown
# frames, and none of the other coroutine's functions (FORBID, a regex).
gdb_check_chain() {
    local what=$1 out=$2 from=$3 to=$4 forbid=$5
    shift 5
    local frames n=-1 p m
    frames=$(sed -n "/^==== $from\$/,/^==== $to\$/p" <<<"$out" | grep -E '^#[0-9]+ ')
    [ -n "$frames" ] || { echo "FAIL $what: no backtrace printed"; return 1; }
    for p in "$@"; do
        m=$(grep -nF -- "$p" <<<"$frames" | head -n 1 | cut -d: -f1)
        [ -n "$m" ] || { echo "FAIL $what: no frame $p"; return 1; }
        [ "$m" -gt "$n" ] || { echo "FAIL $what: frame $p out of order"; return 1; }
        n=$m
    done
    tail -n 1 <<<"$frames" | grep -qE 'cem_ctx_(x86_64_sysv|aarch64_aapcs64|riscv_psabi)_coroutine_start' ||
        { echo "FAIL $what: the backtrace does not end at the coroutine start trampoline"; return 1; }
    if grep -qE "$forbid" <<<"$frames"; then echo "FAIL $what: the other coroutine's frames"; return 1; fi
    if grep -qF '??' <<<"$frames"; then echo "FAIL $what: unknown frames"; return 1; fi
    echo "ok $what: $(wc -l <<<"$frames") frames, $* ... $(tail -n 1 <<<"$frames" | grep -oE 'cem_ctx_[a-z0-9_]+')"
}

# gdb_check_args WHAT OUTPUT MARKER NEXT_MARKER VALUE: in that backtrace,
# Yielder::suspend's arguments read back as the waiting function passed them
# (self = its `yielder`, value = VALUE). Argument locations are sp- or
# frame-pointer-relative, so a wrong sp or frame pointer in the innermost
# frame shows here even where the walk itself survives it (AArch64 debug
# builds compute every CFA from x29).
gdb_check_args() {
    local what=$1 out=$2 from=$3 to=$4 value=$5 frames yielder
    frames=$(sed -n "/^==== $from\$/,/^==== $to\$/p" <<<"$out" | grep -E '^#[0-9]+ ')
    yielder=$(grep -E '::wait_for_(reader|writer) \(' <<<"$frames" | grep -oE 'yielder=0x[0-9a-f]+' | cut -d= -f2)
    [ -n "$yielder" ] || { echo "FAIL $what: no yielder argument in the waiting function's frame"; return 1; }
    grep -qF "::suspend<u32, u32> (self=$yielder, value=$value)" <<<"$frames" ||
        { echo "FAIL $what: Yielder::suspend's arguments are not (self=$yielder, value=$value)"; return 1; }
    echo "ok $what: Yielder::suspend (self=$yielder, value=$value)"
}

# gdb_rust_coroutines [TARGET]: examples/gdb_coroutines.rs, debug builds,
# stopped in inspect_both with two suspended coroutines: `cem-bt` on each, with
# the frame decoded from DWARF and from the script's table (-table), must show
# that coroutine's waiting function and callers down to the start trampoline;
# afterwards `bt` is main's again and the program completes. Two builds: the
# default one, whose frames' CFA is sp-based (a wrong sp breaks the walk), and
# one with frame pointers, whose CFA is rbp/x29/s0-based (a wrong frame-pointer
# slot breaks it). TARGET (a Rust triple) runs the example under qemu-user and
# attaches gdb-multiarch to its gdb stub; without it, native gdb.
gdb_rust_coroutines() {
    local fp
    for fp in no yes; do
        echo "-- force-frame-pointers=$fp"
        gdb_rust_coroutines_once "$fp" "${1:-}" || return 1
    done
}

gdb_rust_coroutines_once() {
    local fp=$1 target=$2 out emu port
    local dir=target/gdb-fp-$fp
    local build=(env RUSTFLAGS="-C force-frame-pointers=$fp" cargo build --example gdb_coroutines --target-dir "$dir")
    local exe=$dir/debug/examples/gdb_coroutines
    local cmds=(-ex "source share/gdb/cem_ctx.py" -ex "break gdb_coroutines::inspect_both" -ex continue
        -ex "echo ==== reader\n" -ex "cem-bt reader"
        -ex "echo ==== reader-table\n" -ex "cem-bt -table &reader"
        -ex "echo ==== writer\n" -ex "cem-bt *writer"
        -ex "echo ==== writer-table\n" -ex "cem-bt -table writer"
        -ex "echo ==== bt\n" -ex bt -ex continue)
    if [ -n "$target" ]; then
        local arch=${target%%-*}
        arch=${arch%gc}
        gdb_need gdb-multiarch "qemu-$arch" || return 1
        "${build[@]}" --target "$target" || return 1
        exe=$dir/$target/debug/examples/gdb_coroutines
        port=$((20000 + $$ % 20000))
        # The program's own output goes to qemu's stdout, not through gdb.
        "qemu-$arch" -L "/usr/$arch-linux-gnu" -g "$port" "$exe" >"$dir/qemu.out" 2>&1 &
        emu=$!
        sleep 0.5
        out=$(timeout 300 gdb-multiarch -nx -batch -ex "set sysroot /usr/$arch-linux-gnu" \
            -ex "target remote :$port" "${cmds[@]}" "$exe" 2>&1)
        kill "$emu" 2>/dev/null
        wait "$emu" 2>/dev/null
        out="$out
$(cat "$dir/qemu.out")"
    else
        gdb_need gdb || return 1
        "${build[@]}" || return 1
        out=$(timeout 300 gdb -nx -batch -ex starti "${cmds[@]}" "$exe" 2>&1)
    fi
    echo "$out" | grep -vE '^\s*$'
    if grep -qE 'corrupt stack|Backtrace stopped|Python Exception|^Error' <<<"$out"; then
        echo "FAIL: gdb or the script complained"
        return 1
    fi
    grep -q 'frame layout: DWARF' <<<"$out" && echo "(reader/writer decoded from DWARF CoroutineFrame)"
    local r='Yielder<u32, u32>::suspend' other_r='wait_for_reader|writer_loop|closure#1'
    local other_w='wait_for_writer|reader_loop|closure#0'
    gdb_check_chain reader "$out" reader reader-table "$other_r" \
        "$r" 'wait_for_writer (' 'reader_loop (' 'main::{closure#0}' || return 1
    gdb_check_chain reader-table "$out" reader-table writer "$other_r" \
        "$r" 'wait_for_writer (' 'reader_loop (' 'main::{closure#0}' || return 1
    gdb_check_chain writer "$out" writer writer-table "$other_w" \
        "$r" 'wait_for_reader (' 'writer_loop (' 'main::{closure#1}' || return 1
    gdb_check_chain writer-table "$out" writer-table bt "$other_w" \
        "$r" 'wait_for_reader (' 'writer_loop (' 'main::{closure#1}' || return 1
    gdb_check_args reader "$out" reader reader-table 11 &&
        gdb_check_args reader-table "$out" reader-table writer 11 &&
        gdb_check_args writer "$out" writer writer-table 21 &&
        gdb_check_args writer-table "$out" writer-table bt 21 || return 1
    local after
    after=$(sed -n '/^==== bt$/,$p' <<<"$out" | grep -E '^#[0-9]+ ')
    head -n 1 <<<"$after" | grep -q 'inspect_both' || { echo "FAIL: registers not restored (bt after cem-bt)"; return 1; }
    grep -q 'gdb_coroutines::main ' <<<"$after" || { echo "FAIL: registers not restored (main missing)"; return 1; }
    grep -q 'gdb_coroutines: both coroutines completed' <<<"$out" &&
        grep -qE 'exited normally|exited with code 00' <<<"$out" ||
        { echo "FAIL: the program did not complete after cem-bt"; return 1; }
    echo "ok: both coroutines' backtraces are their own; program completed"
}
