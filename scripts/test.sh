#!/usr/bin/env bash
# README command 2: installs what the suites need (scripts/setup.sh), then runs
# the test jobs and ends with "suites: N passed, M failed". Exits non-zero if
# any step failed or could not run; nothing is skipped silently.
#
#   scripts/test.sh              every job
#   scripts/test.sh JOB...       only these jobs (scripts/test.sh --list names them)
#
# Every step builds what it checks, so a job runs on its own on a fresh clone.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

JOBS=(lint native mutation aarch64 windows firmware riscv cortex_m packaging builds gdb valgrind sanitizers)

usage() {
    echo "usage: scripts/test.sh [JOB...]; jobs: ${JOBS[*]}"
}
if [ "${1:-}" = --list ]; then
    usage
    exit 0
fi
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${JOBS[@]}")
for job in "${selected[@]}"; do
    [[ " ${JOBS[*]} " == *" $job "* ]] || { usage; echo "unknown job: $job"; exit 2; }
done

bash scripts/setup.sh || { echo "set-up failed"; exit 1; }
LLVM_NM=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-nm 2>/dev/null | head -n 1)
# The documented C exports, one per line: the same list the capi crate's docs show.
mapfile -t EXPORTS < <(grep -v '^#' capi/exports.txt | grep .)

# ---------------------------------------------------------------- runner
passed=()
failed=()
step() {
    local name=$1
    shift
    echo
    echo "==================== $name"
    if "$@"; then
        passed+=("$name")
    else
        echo "!!!! FAILED: $name"
        failed+=("$name")
    fi
}

# Every documented export is defined (T) in the archive; PREFIX is "_" on Mach-O.
has_exports() {
    local nm=$1 archive=$2 prefix=${3:-}
    local out sym
    [ -n "$nm" ] || { echo "no nm to read $archive"; return 1; }
    out=$("$nm" "$archive" 2>/dev/null) || { echo "cannot read $archive"; return 1; }
    for sym in "${EXPORTS[@]}"; do
        if ! grep -qE " T $prefix$sym\$" <<<"$out"; then
            echo "$archive: $prefix$sym not defined"
            return 1
        fi
    done
    echo "$archive: all ${#EXPORTS[@]} documented exports defined (${EXPORTS[*]})"
}

c_suite() {
    local build=$1
    shift
    rm -rf "$build"
    cmake -S c-tests -B "$build" "$@" >/dev/null &&
        cmake --build "$build" -j "$(nproc)" &&
        ctest --test-dir "$build" --output-on-failure
}

# Both feature sets of the Rust suites (without `std`: the firmware semantics;
# with it), each in a debug and a release build: the fast path's inline asm
# meets different register allocation in each. Cross runs use --tests: doc
# examples run natively.
rust_suite() {
    local profile features
    for profile in "" --release; do
        for features in "" "--features std"; do
            echo "-- cargo test -p cem-ctx $profile $features $*"
            # shellcheck disable=SC2086
            cargo test -p cem-ctx $profile $features "$@" || return 1
        done
    done
}

# The coroutine suite with every frame built with frame pointers, so that
# backtrace_frame_pointers_reach_resumer can walk the rbp chain from inside a
# coroutine into its resumer (it is reported as ignored in the other runs).
frame_pointer_suite() {
    local profile
    for profile in "" --release; do
        echo "-- cargo test $profile --features std --test coroutine $* (frame pointers)"
        # shellcheck disable=SC2086
        RUSTFLAGS="-C force-frame-pointers=yes --cfg cem_frame_pointers" \
            cargo test -p cem-ctx $profile --features std --test coroutine "$@" \
            --target-dir target/frame-pointers -- --include-ignored backtrace_ ||
            return 1
    done
}

native_archive() {
    cargo build --release -p cem-ctx-capi && has_exports nm target/release/libcem_ctx.a
}

# Each ELF archive carries the GNU property note for its ABI's branch
# protection (IBT / BTI), so a protected link does not lose it because of us.
property_notes() {
    cargo build --release -p cem-ctx-capi &&
        readelf -n target/release/libcem_ctx.a | grep "x86 feature: IBT" >/dev/null &&
        echo "x86-64: IBT property note present" &&
        cargo build --release -p cem-ctx-capi --target aarch64-unknown-linux-gnu &&
        readelf -n target/aarch64-unknown-linux-gnu/release/libcem_ctx.a | grep "AArch64 feature: BTI" >/dev/null &&
        echo "aarch64: BTI property note present"
}

# The AArch64 switch code must never touch x18 (the platform register): every
# routine of the asm source is checked (cem_swapcontext, cem_context_trap and
# each cem_ctx_aarch64_* routine), and their number must match the source's.
# The softfloat build must not touch FP/SIMD registers.
aarch64_register_discipline() {
    local dis routines expected
    cargo build --release -p cem-ctx-capi --target aarch64-unknown-linux-gnu || return 1
    # FUNC_ENTRY names a second label at the same address, which objdump
    # prints under the first one: count the FUNC_BEGIN routines.
    expected=$(cat asm/aarch64_aapcs64.s asm/aarch64_aapcs64_asan.s | grep -cE '^FUNC_BEGIN ')
    dis=$(aarch64-linux-gnu-objdump -d --no-show-raw-insn target/aarch64-unknown-linux-gnu/release/libcem_ctx.a |
        awk '/^[0-9a-f]+ <(cem_swapcontext|cem_swapcontext_value|cem_context_trap|cem_ctx_aarch64_[a-z0-9_]+)>:/,/^$/') || return 1
    routines=$(grep -cE '^[0-9a-f]+ <' <<<"$dis")
    if [ "$routines" -ne "$expected" ]; then
        echo "found $routines routines in the archive, the source defines $expected"
        return 1
    fi
    if grep -qE '\b[xw]18\b' <<<"$dis"; then echo "x18 used:"; echo "$dis"; return 1; fi
    echo "x18: untouched by all $routines routines of asm/aarch64_aapcs64{,_asan}.s"
    # The Coroutine fast path is inline asm expanded into the caller's code:
    # check its templates (the operands are fixed registers, x18 never among them).
    if grep -vE '^\s*//' asm/aarch64_aapcs64_resume.s asm/aarch64_aapcs64_suspend.s |
        grep -qE '\b[xw]18\b'; then
        echo "x18 used in a fast-path template"
        return 1
    fi
    echo "x18: untouched by the fast-path templates (asm/aarch64_aapcs64_{resume,suspend}.s)"
    firmware_build aarch64-unknown-none-softfloat || return 1
    dis=$(aarch64-linux-gnu-objdump -d --no-show-raw-insn \
        target/firmware/aarch64-unknown-none-softfloat/debug/cem-ctx-firmware-example |
        awk '/<cem_swapcontext>:/,/^$/')
    [ -n "$dis" ] || { echo "cem_swapcontext not found in the softfloat binary"; return 1; }
    if grep -qE '\b[dqvs][0-9]+\b' <<<"$dis"; then echo "FP register used on softfloat:"; echo "$dis"; return 1; fi
    echo "softfloat: cem_swapcontext touches no FP/SIMD register"
}

# Archives for targets CI cannot run: built, every export present.
cross_archive() {
    local target=$1 archive=$2 prefix=${3:-}
    cargo build --release -p cem-ctx-capi --target "$target" &&
        has_exports "$LLVM_NM" "target/$target/release/$archive" "$prefix"
}

# The firmware example (no_std, no_main, its own panic handler) for a
# bare-metal target; linked with rust-lld.
firmware_build() {
    cargo build --manifest-path examples/firmware/Cargo.toml --target "$1" --target-dir target/firmware
}

# ---------------------------------------------------------------- jobs
job_lint() {
    step "cargo fmt --check" cargo fmt --all -- --check
    step "cargo clippy -D warnings" cargo clippy --workspace --all-targets -- -D warnings
    step "cargo clippy -D warnings, std feature, aarch64 + windows code" bash -c \
        'cargo clippy -p cem-ctx --all-targets --features std -- -D warnings &&
         for t in aarch64-unknown-linux-gnu x86_64-pc-windows-gnu; do
           cargo clippy -p cem-ctx --all-targets --target $t -- -D warnings &&
           cargo clippy -p cem-ctx --all-targets --features std --target $t -- -D warnings || exit 1
         done'
    step "cargo doc --no-deps (no warnings, with and without std)" bash -c \
        'RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p cem-ctx &&
         RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p cem-ctx --features std'
    step "header drift (cbindgen)" cargo test -p cem-ctx-header
}

job_native() {
    step "rust suites + doc examples, x86_64-unknown-linux-gnu (debug, release)" rust_suite
    step "c suite, x86_64-linux-gnu (ctest)" c_suite build/c-x86_64
    step "coroutine backtraces through frame pointers (perf --call-graph=fp), debug and release" \
        frame_pointer_suite
    step "libcem_ctx.a exports (nm)" native_archive
    step "GNU property notes (IBT, BTI)" property_notes
    # Timings are not tests: the benchmark suite only has to build, so it cannot rot.
    step "benchmark suite builds, clippy-clean (scripts/bench.sh runs it)" bash -c \
        'cargo build --release --manifest-path bench/Cargo.toml --target-dir target/bench &&
         cargo clippy --manifest-path bench/Cargo.toml --target-dir target/bench -- -D warnings &&
         cargo fmt --manifest-path bench/Cargo.toml -- --check'
}

job_mutation() {
    step "mutation check, x86-64 System V (every mutant must be caught)" \
        python3 scripts/mutate.py x86_64_sysv
}

job_aarch64() {
    step "rust suites, aarch64-unknown-linux-gnu (qemu-aarch64; debug, release)" \
        rust_suite --tests --target aarch64-unknown-linux-gnu
    step "c suite, aarch64-linux-gnu (ctest under qemu-aarch64)" c_suite build/c-aarch64 \
        -DCMAKE_TOOLCHAIN_FILE="$ROOT/c-tests/toolchains/aarch64-linux-gnu.cmake"
    step "aarch64: coroutine backtraces through frame pointers (qemu-aarch64; debug, release)" \
        frame_pointer_suite --target aarch64-unknown-linux-gnu
    step "aarch64: x18 untouched, softfloat touches no FP" aarch64_register_discipline
}

job_windows() {
    # shellcheck source=scripts/wine-env.sh
    source "$ROOT/scripts/wine-env.sh"
    trap wine_stop EXIT
    step "wine prefix" wine_start
    step "rust suites, x86_64-pc-windows-gnu (wine; debug, release)" \
        rust_suite --tests --target x86_64-pc-windows-gnu
    step "c suite, x86_64-w64-mingw32 (ctest under wine)" c_suite build/c-windows \
        -DCMAKE_TOOLCHAIN_FILE="$ROOT/c-tests/toolchains/x86_64-w64-mingw32.cmake"
}

# Bare-metal builds that really run: booted under qemu-system (AArch64 virt,
# x86-64 PVH) and a UEFI application under OVMF.
job_firmware() {
    # shellcheck source=scripts/suites/firmware_boot.sh
    source "$ROOT/scripts/suites/firmware_boot.sh"
    local t p
    for t in aarch64-unknown-none aarch64-unknown-none-softfloat; do
        for p in debug release; do
            step "firmware boot, $t (qemu virt, $p)" firmware_boot_aarch64 "$t" "$p"
        done
    done
    for p in debug release; do
        step "firmware boot, x86_64-unknown-none (qemu PVH, $p)" firmware_boot_x86_64 "$p"
        step "UEFI application, x86_64-unknown-uefi (OVMF, $p)" firmware_boot_uefi "$p"
    done
    step "firmware examples: fmt + clippy, core on x86_64-unknown-uefi" firmware_examples_lint
}

# RISC-V: rv64 Linux under qemu-riscv64, bare metal rv32/rv64 under qemu-system.
job_riscv() {
    # shellcheck source=scripts/suites/riscv.sh
    source "$ROOT/scripts/suites/riscv.sh"
    step "riscv: clippy -D warnings (rv64 linux, rv64/rv32 bare metal, riscv-virt example), example fmt" riscv_lint
    step "rust suites, riscv64gc-unknown-linux-gnu (qemu-riscv64; debug, release)" riscv_rust_suites
    step "c suite, riscv64-linux-gnu (ctest under qemu-riscv64, gdb-multiarch)" riscv_c_suite
    step "riscv: header layout, freestanding C for rv32imac/rv32imafc/rv64gc (-Wpedantic)" riscv_header_freestanding
    step "riscv: coroutine backtraces through frame pointers (qemu-riscv64; debug, release)" \
        frame_pointer_suite --target riscv64gc-unknown-linux-gnu
    step "riscv: switch disassembly (no gp/tp; fs0-fs11 on rv64gc and rv32imafc; no FP on rv32imac)" riscv_disassembly
    local t
    for t in "64 riscv64gc-unknown-none-elf" "32 riscv32imac-unknown-none-elf" "32 riscv32imafc-unknown-none-elf"; do
        # shellcheck disable=SC2086
        step "riscv-virt firmware, ${t#* } (qemu-system-riscv${t%% *} -M virt)" riscv_bare_metal $t
    done
}

# Cortex-M (AAPCS32, M-profile): the example on four qemu-system-arm boards.
job_cortex_m() {
    # shellcheck source=scripts/suites/cortex_m.sh
    source "$ROOT/scripts/suites/cortex_m.sh"
    step "cortex-m: clippy -D warnings + fmt, core and example, every thumb target" cortex_m_lint
    step "cortex-m: cem_context_t layout in C (arm-none-eabi-gcc, M0/M3/M4F/M7/M33)" cortex_m_c_layout
    step "cortex-m: C scheduler on libcem_ctx.a under qemu (M3, M4F hard-float)" cortex_m_c_scheduler
    step "cortex-m: M0 example under qemu-system-arm -M microbit" cortex_m0_microbit
    step "cortex-m: M3 example under qemu-system-arm -M mps2-an385" cortex_m3_an385
    step "cortex-m: M4F example (r4-r11, s16-s31 canaries) under -M mps2-an386" cortex_m4f_an386
    step "cortex-m: M33 example (stack limit follows the switch) under -M mps2-an505" cortex_m33_an505
    step "cortex-m: M33 coroutine stack overflow takes STKOF (-M mps2-an505)" cortex_m33_stkof
    step "cortex-m: M33 soft-float (thumbv8m.main-none-eabi): example + STKOF" cortex_m33_softfloat
    step "cortex-m: context without return_func stops at the udf trap (4 boards)" cortex_m_trap
    step "cortex-m: thumbv7em-none-eabi (soft-float) builds, switch touches no FP" cortex_m4_softfloat_build
    step "cortex-m: M0 switch is Thumb-1 only, no FP in M0/M3 switches (objdump)" cortex_m_switch_discipline
}

# gdb's cem-bt (share/gdb/cem_ctx.py) on two suspended Rust coroutines; the C
# side runs as the CTests gdb_backtrace_* in every C suite.
job_gdb() {
    # shellcheck source=scripts/suites/gdb.sh
    source "$ROOT/scripts/suites/gdb.sh"
    step "gdb: cem-bt on two suspended Rust coroutines, x86_64 (debug, with/without frame pointers)" gdb_rust_coroutines
    step "gdb: cem-bt on two suspended Rust coroutines, aarch64 (qemu-aarch64 gdb stub)" \
        gdb_rust_coroutines aarch64-unknown-linux-gnu
    step "gdb: cem-bt on two suspended Rust coroutines, riscv64 (qemu-riscv64 gdb stub)" \
        gdb_rust_coroutines riscv64gc-unknown-linux-gnu
}

# Install, pkg-config, CMake package, archive hygiene, the crate, the echo server.
job_packaging() {
    # shellcheck source=scripts/suites/packaging.sh
    source "$ROOT/scripts/suites/packaging.sh"
    # shellcheck source=scripts/wine-env.sh
    source "$ROOT/scripts/wine-env.sh"
    trap wine_stop EXIT
    step "packaging: install to a prefix with CMake (layout, DESTDIR)" pkg_install_native
    step "packaging: only the documented exports global (nm, nm -D), one object, no bitcode" pkg_exports_native
    step "packaging: archive merged with GNU ar while LLVMgold is installed" pkg_ar_merge_with_llvmgold
    step "packaging: CMake find_package + pkg-config README snippet, static and shared" pkg_consumers_native
    step "packaging: aarch64 install (toolchain file), exports" pkg_install_aarch64
    step "packaging: aarch64 consumers under qemu-aarch64" pkg_consumers_aarch64
    step "packaging: riscv64 install (toolchain file), exports" pkg_install_riscv64
    step "packaging: riscv64 consumers under qemu-riscv64" pkg_consumers_riscv64
    step "wine prefix (packaging)" wine_start
    step "packaging: MinGW install, DLL exports, consumers under Wine" pkg_mingw
    step "echo server load run, cem-ctx vs glibc ucontext (every byte verified)" pkg_echo_load
    step "cargo publish --dry-run; the packaged crate's tests on their own" pkg_crate_publish_dry_run
    step "docs.rs targets document without warnings" pkg_docs_rs_targets
    step "every Cargo feature in the crate docs' feature table" pkg_feature_table
}

# ASan/UBSan (C, gcc and clang, the ordinary archive), ASan and TSan (Rust).
job_sanitizers() {
    # shellcheck source=scripts/suites/sanitizers.sh
    source "$ROOT/scripts/suites/sanitizers.sh"
    step "sanitizers: c suite, gcc -fsanitize=address,undefined (+ overflow in a coroutine reported)" san_c_suite gcc g++
    step "sanitizers: c suite, clang -fsanitize=address,undefined (+ overflow in a coroutine reported)" san_c_suite clang clang++
    step "sanitizers: c suite (switch cases), aarch64 gcc ASan+UBSan under qemu-aarch64" san_c_suite_aarch64
    step "sanitizers: main job (scheduler, 10,000 coroutines), gcc ASan+UBSan" san_main_job gcc
    step "sanitizers: main job (scheduler, 10,000 coroutines), clang ASan+UBSan" san_main_job clang
    step "sanitizers: rust suites, -Zsanitizer=address, feature asan (debug, release)" san_rust_asan
    step "sanitizers: rust suites, -Zsanitizer=thread, feature tsan (debug, release)" san_rust_tsan
}

job_builds() {
    step "build check, x86_64-apple-darwin" cross_archive x86_64-apple-darwin libcem_ctx.a _
    step "build check, aarch64-apple-darwin" cross_archive aarch64-apple-darwin libcem_ctx.a _
    step "build check, x86_64-pc-windows-msvc (cem_ctx.lib)" cross_archive x86_64-pc-windows-msvc cem_ctx.lib
}

# Memcheck over the C suite, the main job's program and the Rust suites, with
# every context stack registered (src/valgrind.rs), and a negative control.
job_valgrind() {
    # shellcheck source=scripts/suites/valgrind.sh
    source "$ROOT/scripts/suites/valgrind.sh"
    step "valgrind: c suite under memcheck (ctest; 0 errors, no stack-switch warning)" valgrind_c_suite
    step "valgrind: main job (scheduler.c, both backends) under memcheck" valgrind_main_job
    step "valgrind: rust switch + coroutine suites under memcheck (debug, release; with and without std)" valgrind_rust_suites
    step "valgrind: without stack registration the same runs fail (negative control)" valgrind_negative_control
}

for job in "${selected[@]}"; do
    echo
    echo "#################### job: $job"
    "job_$job"
done

# ---------------------------------------------------------------- summary
echo
echo "==================== summary"
for s in "${passed[@]}"; do echo "passed: $s"; done
for s in "${failed[@]}"; do echo "FAILED: $s"; done
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
