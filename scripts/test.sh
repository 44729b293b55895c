#!/usr/bin/env bash
# README command 2: installs what the suites need on a Debian machine with a
# rustup toolchain, then runs every suite. Exits non-zero if anything failed
# or could not run; nothing is skipped silently.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SUDO=$([ "$(id -u)" = 0 ] && echo || echo sudo)
APT_PACKAGES=(gcc g++ libc6-dev cmake gdb binutils)
RUST_TARGETS=(x86_64-unknown-none x86_64-apple-darwin)

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

apple_build() {
    cargo build --release -p cem-ctx-capi --target x86_64-apple-darwin &&
        [ -n "$LLVM_NM" ] &&
        has_symbols "$LLVM_NM" target/x86_64-apple-darwin/release/libcem_ctx.a \
            _cem_swapcontext _cem_makecontext _cem_makecontext_checked _cem_context_trap
}

firmware_build() {
    cargo build --manifest-path tests/firmware-dependent/Cargo.toml --target "$1" \
        --target-dir target/firmware-dependent
}

# ---------------------------------------------------------------- suites
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy -D warnings" cargo clippy --workspace --all-targets -- -D warnings
step "cargo doc (no warnings)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p cem-ctx
step "rust suite, x86_64-unknown-linux-gnu" cargo test -p cem-ctx
step "header drift (cbindgen)" cargo test -p cem-ctx-header
step "c suite, x86_64-linux-gnu (ctest)" c_suite build/c-x86_64
step "libcem_ctx.a symbols (nm)" has_symbols nm target/release/libcem_ctx.a \
    cem_swapcontext cem_makecontext cem_makecontext_checked cem_context_trap
step "build check, x86_64-apple-darwin" apple_build
step "no_std dependent with own panic handler, x86_64-unknown-none" firmware_build x86_64-unknown-none

# ---------------------------------------------------------------- summary
echo
echo "==================== summary"
for s in "${passed[@]}"; do echo "passed: $s"; done
for s in "${failed[@]}"; do echo "FAILED: $s"; done
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
