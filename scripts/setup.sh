#!/usr/bin/env bash
# Installs what the test jobs need on a Debian machine with a rustup toolchain:
# Debian packages (compilers, emulators, Wine, debuggers) and rustup targets and
# components. Idempotent: installs only what is missing. scripts/test.sh runs it
# first; run it alone to prepare a machine.
set -uo pipefail
cd "$(dirname "$0")/.."

SUDO=$([ "$(id -u)" = 0 ] && echo || echo sudo)

APT_PACKAGES=(
    # native job: C suite, gdb backtrace, mutation check
    gcc g++ libc6-dev cmake gdb binutils python3
    # aarch64 job: cross toolchain, qemu user mode, gdb through qemu's stub
    qemu-user gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross
    binutils-aarch64-linux-gnu gdb-multiarch
    # windows job: MinGW-w64 and Wine
    gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 wine64 wine
    # riscv job: cross toolchain (qemu-user and gdb-multiarch are above)
    gcc-riscv64-linux-gnu g++-riscv64-linux-gnu libc6-dev-riscv64-cross binutils-riscv64-linux-gnu
    # cortex-m job: arm-none-eabi C compiler and newlib for the C layout check and scheduler
    gcc-arm-none-eabi libnewlib-arm-none-eabi
    # packaging job: pkg-config consumers, JSON from cargo metadata
    pkg-config jq
    # benchmark suite (built by the test command, run by scripts/bench.sh)
    libboost-context-dev fonts-dejavu-core
    # valgrind job (memcheck over the C and Rust suites) and scripts/bench.sh;
    # it also needs jq (packaging line above)
    valgrind
)
# Installed without their Recommends (qemu-system-* would pull in GTK front ends).
APT_PACKAGES_LEAN=(
    # firmware job: bare-metal builds booted under qemu-system, UEFI under OVMF
    qemu-system-arm qemu-system-x86 ovmf
    # riscv job: bare-metal RISC-V booted on qemu-system-riscv32/64 -M virt
    qemu-system-misc
    # packaging job: clang brings the LLVMgold plugin the archive-merge test needs
    clang
    # sanitizers job: clang's ASan/UBSan runtimes (gcc's come with gcc)
    libclang-rt-14-dev
)
RUST_TARGETS=(
    x86_64-unknown-none x86_64-apple-darwin x86_64-pc-windows-gnu x86_64-pc-windows-msvc
    aarch64-unknown-linux-gnu aarch64-apple-darwin aarch64-unknown-none aarch64-unknown-none-softfloat
    x86_64-unknown-uefi
    riscv64gc-unknown-linux-gnu riscv64gc-unknown-none-elf riscv32imac-unknown-none-elf
    riscv32imafc-unknown-none-elf
    thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabi thumbv7em-none-eabihf
    thumbv8m.main-none-eabi thumbv8m.main-none-eabihf
)
RUST_COMPONENTS=(clippy rustfmt llvm-tools)

updated=
# apt_install [APT-GET OPTIONS] -- PACKAGES: installs those not installed yet.
apt_install() {
    local opts=() missing=() p
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "== installing Debian packages: ${missing[*]}"
    if [ -z "$updated" ]; then
        $SUDO apt-get update -qq || return 1
        updated=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${opts[@]}" "${missing[@]}" >/dev/null
}
apt_install -- "${APT_PACKAGES[@]}" || exit 1
apt_install --no-install-recommends -- "${APT_PACKAGES_LEAN[@]}" || exit 1
echo "== rustup targets and components"
rustup target add "${RUST_TARGETS[@]}" >/dev/null 2>&1 || { echo "rustup target add failed"; exit 1; }
rustup component add "${RUST_COMPONENTS[@]}" >/dev/null 2>&1 || { echo "rustup component add failed"; exit 1; }
