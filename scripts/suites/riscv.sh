# RISC-V suites (issue 12). Sourced by scripts/test.sh from the repository
# root; each function is one `step`, builds what it checks, and fails with
# "SKIPPED: <why>" when a tool is missing (nothing passes silently).
#   Debian packages: gcc-riscv64-linux-gnu g++-riscv64-linux-gnu
#     libc6-dev-riscv64-cross binutils-riscv64-linux-gnu qemu-user
#     qemu-system-misc gdb-multiarch cmake
#   rustup targets: riscv64gc-unknown-linux-gnu riscv64gc-unknown-none-elf
#     riscv32imac-unknown-none-elf riscv32imafc-unknown-none-elf

RISCV_LINUX=riscv64gc-unknown-linux-gnu

# riscv_need TOOL...: every tool must be on PATH.
riscv_need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIPPED: $t not found (see scripts/suites/riscv.sh for the packages)"; return 1; }
    done
}

# The whole Rust suites on rv64gc Linux under qemu-riscv64 (.cargo/config.toml
# sets the linker and runner): debug and release, with and without `std`.
riscv_rust_suites() {
    riscv_need riscv64-linux-gnu-gcc qemu-riscv64 || return 1
    local profile features
    for profile in "" --release; do
        for features in "" "--features std"; do
            echo "-- cargo test -p cem-ctx --tests --target $RISCV_LINUX $profile $features"
            # shellcheck disable=SC2086
            cargo test -p cem-ctx --tests --target "$RISCV_LINUX" $profile $features || return 1
        done
    done
}

# clippy -D warnings for every RISC-V target (lib, tests with and without
# std on Linux; the bare-metal targets' lib and the firmware example), and
# rustfmt for the example, which the workspace's `cargo fmt --all` skips.
riscv_lint() {
    cargo clippy -p cem-ctx --all-targets --target "$RISCV_LINUX" -- -D warnings &&
        cargo clippy -p cem-ctx --all-targets --features std --target "$RISCV_LINUX" -- -D warnings &&
        cargo clippy -p cem-ctx --target riscv64gc-unknown-none-elf -- -D warnings &&
        cargo clippy -p cem-ctx --target riscv32imac-unknown-none-elf -- -D warnings &&
        cargo clippy -p cem-ctx --target riscv32imafc-unknown-none-elf -- -D warnings &&
        cargo clippy --manifest-path examples/riscv-virt/Cargo.toml --target-dir target/riscv-virt \
            --target riscv64gc-unknown-none-elf -- -D warnings &&
        cargo clippy --manifest-path examples/riscv-virt/Cargo.toml --target-dir target/riscv-virt \
            --target riscv32imac-unknown-none-elf -- -D warnings &&
        cargo clippy --manifest-path examples/riscv-virt/Cargo.toml --target-dir target/riscv-virt \
            --target riscv32imafc-unknown-none-elf -- -D warnings &&
        cargo fmt --manifest-path examples/riscv-virt/Cargo.toml -- --check
}

# The C suite (CTest) cross-built for rv64gc Linux, every test under
# qemu-riscv64, including the gdb-multiarch backtrace through qemu's gdb stub.
riscv_c_suite() {
    riscv_need cmake ctest riscv64-linux-gnu-gcc riscv64-linux-gnu-g++ qemu-riscv64 gdb-multiarch || return 1
    local build=build/c-riscv64
    rm -rf "$build"
    cmake -S c-tests -B "$build" -DCMAKE_TOOLCHAIN_FILE="$PWD/c-tests/toolchains/riscv64-linux-gnu.cmake" >/dev/null &&
        cmake --build "$build" -j "$(nproc)" &&
        ctest --test-dir "$build" --output-on-failure
}

# The switch code's register discipline, from the disassembly: never gp or
# tp; no FP register on riscv32imac; fs0-fs11 all saved and loaded on rv64gc
# (fsd/fld) and on rv32imafc (fsw/flw).
# Prints the instruction count of cem_swapcontext on rv64gc.
riscv_disassembly() {
    riscv_need riscv64-linux-gnu-objdump || return 1
    cargo build --release -p cem-ctx-capi --target "$RISCV_LINUX" || return 1
    local dis fn n
    dis=$(riscv64-linux-gnu-objdump -d --no-show-raw-insn "target/$RISCV_LINUX/release/libcem_ctx.a" |
        awk '/<cem_(swapcontext|ctx_riscv_psabi_[a-z_]+|context_trap)>:/,/^$/') || return 1
    [ -n "$dis" ] || { echo "switch code not found in the archive"; return 1; }
    if grep -qE '\b(gp|tp|x3|x4)\b' <<<"$dis"; then echo "gp/tp used:"; echo "$dis"; return 1; fi
    echo "rv64gc: gp and tp untouched by the switch, trampolines and trap"
    # The Coroutine fast path is inline asm expanded into the caller's code:
    # check its templates (their operands are fixed registers, gp/tp never among them).
    if grep -vE '^\s*//' asm/riscv_psabi_resume.s asm/riscv_psabi_suspend.s |
        grep -qE '\b(gp|tp|x3|x4)\b'; then
        echo "gp/tp used in a fast-path template"
        return 1
    fi
    echo "gp and tp untouched by the fast-path templates (asm/riscv_psabi_{resume,suspend}.s)"
    for fn in fsd fld; do
        n=$(awk '/<cem_swapcontext>:/,/^$/' <<<"$dis" | grep -cE "\s$fn\s+fs([0-9]|1[01]),")
        [ "$n" = 12 ] || { echo "cem_swapcontext: $n $fn of fs0-fs11, expected 12"; return 1; }
    done
    n=$(awk '/<cem_swapcontext>:/,/^$/' <<<"$dis" | grep -E '^\s+[0-9a-f]+:\s' | grep -cvE '\snop$')
    echo "rv64gc: cem_swapcontext is $n instructions (fs0-fs11 saved and loaded)"
    riscv_firmware_build riscv32imac-unknown-none-elf || return 1
    dis=$(riscv64-linux-gnu-objdump -d --no-show-raw-insn \
        target/riscv-virt/riscv32imac-unknown-none-elf/release/cem-ctx-riscv-virt-example |
        awk '/<cem_swapcontext>:/,/^$/')
    [ -n "$dis" ] || { echo "cem_swapcontext not found in the rv32imac firmware"; return 1; }
    if grep -qE '\bf[a-z]*[0-9]+\b|\bf(ld|sd|lw|sw)\b' <<<"$dis"; then echo "FP register used on rv32imac:"; echo "$dis"; return 1; fi
    echo "rv32imac: cem_swapcontext touches no FP register"
    # F without D (ilp32f): fs0-fs11 saved and loaded 32 bits wide.
    riscv_firmware_build riscv32imafc-unknown-none-elf || return 1
    dis=$(riscv64-linux-gnu-objdump -d --no-show-raw-insn \
        target/riscv-virt/riscv32imafc-unknown-none-elf/release/cem-ctx-riscv-virt-example |
        awk '/<cem_swapcontext>:/,/^$/')
    for fn in fsw flw; do
        n=$(grep -cE "\s$fn\s+fs([0-9]|1[01])," <<<"$dis")
        [ "$n" = 12 ] || { echo "rv32imafc cem_swapcontext: $n $fn of fs0-fs11, expected 12"; return 1; }
    done
    echo "rv32imafc: cem_swapcontext saves and loads fs0-fs11 with fsw/flw"
}

riscv_firmware_build() {
    cargo build --release --manifest-path examples/riscv-virt/Cargo.toml --target "$1" --target-dir target/riscv-virt
}

# Boots the firmware example on qemu-system-riscv{32,64} -M virt and checks
# both QEMU's exit status (the test finisher: 0 = pass) and the UART text.
#   riscv_bare_metal 64 riscv64gc-unknown-none-elf
riscv_bare_metal() {
    local bits=$1 target=$2 profile out status line
    riscv_need "qemu-system-riscv$bits" || return 1
    for profile in debug release; do
        if [ $profile = release ]; then
            riscv_firmware_build "$target" || return 1
        else
            cargo build --manifest-path examples/riscv-virt/Cargo.toml --target "$target" --target-dir target/riscv-virt || return 1
        fi
        echo "-- qemu-system-riscv$bits -M virt ($profile)"
        out=$(timeout 120 "qemu-system-riscv$bits" -M virt -bios none -nographic -monitor none \
            -kernel "target/riscv-virt/$target/$profile/cem-ctx-riscv-virt-example" </dev/null 2>&1)
        status=$?
        echo "$out"
        [ $status = 0 ] || { echo "QEMU exited with $status (test finisher: failure or timeout)"; return 1; }
        for line in "fibonacci below 1e6: 31 terms, sum 2178308" "generator: ok" \
            "pipeline 200 samples: average 379.815831" "pipeline: ok" "ticker: 1000 switches back" \
            "c-shaped context: ok" "register canaries: ok" "all checks passed"; do
            grep -qxF "riscv-virt: $line" <<<"$out" || { echo "missing UART line: riscv-virt: $line"; return 1; }
        done
    done
}

# The header's RISC-V layout as freestanding C compilers see it for the
# bare-metal ABIs (no hosted C suite runs there), with -Wpedantic.
riscv_header_freestanding() {
    riscv_need riscv64-linux-gnu-gcc || return 1
    local m
    for m in "rv32imac ilp32" "rv32imafc ilp32f" "rv64gc lp64d"; do
        set -- $m
        riscv64-linux-gnu-gcc -march="$1" -mabi="$2" -ffreestanding -std=c11 -Wall -Wextra -Wpedantic \
            -Werror -fsyntax-only -Iinclude c-tests/riscv_layout_freestanding.c || return 1
        echo "$1 ($2): cem_context_t layout as asserted"
    done
}
