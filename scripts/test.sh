#!/usr/bin/env bash
# README command 2: installs what the suites need on a Debian machine with a
# rustup toolchain, then runs every suite. Exits non-zero if anything failed
# or could not run; nothing is skipped silently.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SUDO=$([ "$(id -u)" = 0 ] && echo || echo sudo)
APT_PACKAGES=(gcc g++ libc6-dev cmake gdb binutils
    qemu-user gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross
    binutils-aarch64-linux-gnu gdb-multiarch
    gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64 wine
    libboost-context-dev fonts-dejavu-core valgrind
    qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi)
RUST_TARGETS=(x86_64-unknown-none x86_64-apple-darwin
    aarch64-unknown-linux-gnu aarch64-apple-darwin aarch64-unknown-none aarch64-unknown-none-softfloat
    x86_64-pc-windows-gnu x86_64-pc-windows-msvc
    thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabi thumbv7em-none-eabihf
    thumbv8m.main-none-eabi thumbv8m.main-none-eabihf)

# ---------------------------------------------------------------- set-up
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq || exit 1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || exit 1
fi
echo "== rustup targets and components"
rustup target add "${RUST_TARGETS[@]}" >/dev/null 2>&1 || { echo "rustup target add failed"; exit 1; }
rustup component add clippy rustfmt llvm-tools >/dev/null 2>&1 || { echo "rustup component add failed"; exit 1; }
LLVM_NM=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-nm 2>/dev/null | head -n 1)
# shellcheck source=scripts/wine-env.sh
source "$ROOT/scripts/wine-env.sh"
trap wine_stop EXIT

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

# The named symbols must be defined (T) in an archive.
has_symbols() {
    local nm=$1 archive=$2
    shift 2
    local out sym
    out=$("$nm" "$archive" 2>/dev/null) || { echo "cannot read $archive"; return 1; }
    for sym in "$@"; do
        if ! grep -qE " T $sym\$" <<<"$out"; then
            echo "$archive: $sym not defined"
            return 1
        fi
        echo "$archive: $sym defined"
    done
}

c_suite() {
    local build=$1
    shift
    rm -rf "$build"
    cmake -S c-tests -B "$build" "$@" >/dev/null &&
        cmake --build "$build" -j "$(nproc)" &&
        ctest --test-dir "$build" --output-on-failure
}

msvc_build() {
    cargo build --release -p cem-ctx-capi --target x86_64-pc-windows-msvc &&
        [ -n "$LLVM_NM" ] &&
        has_symbols "$LLVM_NM" target/x86_64-pc-windows-msvc/release/cem_ctx.lib \
            cem_swapcontext cem_makecontext cem_makecontext_checked cem_context_trap
}

apple_build() {
    local target=$1
    cargo build --release -p cem-ctx-capi --target "$target" &&
        [ -n "$LLVM_NM" ] &&
        has_symbols "$LLVM_NM" "target/$target/release/libcem_ctx.a" \
            _cem_swapcontext _cem_makecontext _cem_makecontext_checked _cem_context_trap
}

# Each ELF archive carries the GNU property note for its ABI's branch
# protection (IBT / BTI), so a protected link does not lose it because of us.
property_notes() {
    readelf -n target/release/libcem_ctx.a | grep "x86 feature: IBT" >/dev/null &&
        echo "x86-64: IBT property note present" &&
        cargo build --release -p cem-ctx-capi --target aarch64-unknown-linux-gnu &&
        readelf -n target/aarch64-unknown-linux-gnu/release/libcem_ctx.a | grep "AArch64 feature: BTI" >/dev/null &&
        echo "aarch64: BTI property note present"
}

# The AArch64 switch code must never touch x18 (the platform register), and
# the softfloat build must not touch FP/SIMD registers.
aarch64_register_discipline() {
    local dis
    dis=$(aarch64-linux-gnu-objdump -d --no-show-raw-insn target/aarch64-unknown-linux-gnu/release/libcem_ctx.a |
        awk '/<cem_(swapcontext|ctx_aarch64_aapcs64_start|context_trap)>:/,/^$/') || return 1
    [ -n "$dis" ] || { echo "switch code not found in the archive"; return 1; }
    if grep -qE '\b[xw]18\b' <<<"$dis"; then echo "x18 used:"; echo "$dis"; return 1; fi
    echo "x18: untouched by the switch, trampoline and trap"
    firmware_build aarch64-unknown-none-softfloat || return 1
    dis=$(aarch64-linux-gnu-objdump -d --no-show-raw-insn \
        target/firmware/aarch64-unknown-none-softfloat/debug/cem-ctx-firmware-example |
        awk '/<cem_swapcontext>:/,/^$/')
    [ -n "$dis" ] || { echo "cem_swapcontext not found in the softfloat binary"; return 1; }
    if grep -qE '\b[dqvs][0-9]+\b' <<<"$dis"; then echo "FP register used on softfloat:"; echo "$dis"; return 1; fi
    echo "softfloat: cem_swapcontext touches no FP/SIMD register"
}

# The firmware example (no_std, no_main, its own panic handler) for a
# bare-metal target; linked with rust-lld.
firmware_build() {
    cargo build --manifest-path examples/firmware/Cargo.toml --target "$1" --target-dir target/firmware
}

# Both feature sets of the Rust suites: without `std` (the firmware
# semantics) and with it. Cross runs use --tests: doc examples run natively.
rust_suite() {
    cargo test -p cem-ctx "$@" && cargo test -p cem-ctx --features std "$@"
}

# shellcheck source=scripts/suites/cortex_m.sh
source "$ROOT/scripts/suites/cortex_m.sh"

# ---------------------------------------------------------------- suites
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
step "rust suites + doc examples, x86_64-unknown-linux-gnu" rust_suite
step "rust suites, aarch64-unknown-linux-gnu (qemu-aarch64)" rust_suite --tests --target aarch64-unknown-linux-gnu
step "header drift (cbindgen)" cargo test -p cem-ctx-header
# Timings are not tests: the benchmark suite only has to build, so it cannot rot.
step "benchmark suite builds, clippy-clean (scripts/bench.sh runs it)" bash -c \
    'cargo build --release --manifest-path bench/Cargo.toml --target-dir target/bench &&
     cargo clippy --manifest-path bench/Cargo.toml --target-dir target/bench -- -D warnings &&
     cargo fmt --manifest-path bench/Cargo.toml -- --check' 
step "wine prefix" wine_start
step "rust suites, x86_64-pc-windows-gnu (wine)" rust_suite --tests --target x86_64-pc-windows-gnu
step "c suite, x86_64-linux-gnu (ctest)" c_suite build/c-x86_64
step "c suite, aarch64-linux-gnu (ctest under qemu-aarch64)" c_suite build/c-aarch64 \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/c-tests/toolchains/aarch64-linux-gnu.cmake"
step "libcem_ctx.a symbols (nm)" has_symbols nm target/release/libcem_ctx.a \
    cem_swapcontext cem_makecontext cem_makecontext_checked cem_context_trap
step "c suite, x86_64-w64-mingw32 (ctest under wine)" c_suite build/c-windows \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/c-tests/toolchains/x86_64-w64-mingw32.cmake"
step "GNU property notes (IBT, BTI)" property_notes
step "aarch64: x18 untouched, softfloat touches no FP" aarch64_register_discipline
step "build check, x86_64-apple-darwin" apple_build x86_64-apple-darwin
step "build check, aarch64-apple-darwin" apple_build aarch64-apple-darwin
step "build check, x86_64-pc-windows-msvc (cem_ctx.lib)" msvc_build
step "firmware example (no_std, own panic handler), x86_64-unknown-none" firmware_build x86_64-unknown-none
step "firmware example (no_std, own panic handler), aarch64-unknown-none" firmware_build aarch64-unknown-none
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

# ---------------------------------------------------------------- summary
echo
echo "==================== summary"
for s in "${passed[@]}"; do echo "passed: $s"; done
for s in "${failed[@]}"; do echo "FAILED: $s"; done
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
