# shellcheck shell=bash
# Firmware examples booted and run under qemu-system (issue 11), sourced by
# scripts/test.sh from the repository root. Each function builds what it
# checks, runs it bounded by `timeout`, and fails unless the run exited with
# the expected status and printed every expected check; a missing tool prints
# "SKIPPED: <why>" and fails the step.
#
# Debian packages: qemu-system-arm (qemu-system-aarch64), qemu-system-x86,
# ovmf; rustup targets: aarch64-unknown-none, aarch64-unknown-none-softfloat,
# x86_64-unknown-none, x86_64-unknown-uefi; rustup component llvm-tools.

# Checks that every named command exists.
fwboot_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || {
            echo "SKIPPED: $tool not found (Debian packages qemu-system-arm, qemu-system-x86, ovmf)"
            return 1
        }
    done
}

# A run's log must hold the closing line, exactly $2 "ok" checks and no FAIL.
fwboot_check_log() {
    local log=$1 oks=$2 closing=$3 n
    n=$(grep -c '^ok ' "$log")
    if grep -q 'FAIL' "$log"; then echo "failed checks in $log"; return 1; fi
    [ "$n" = "$oks" ] || { echo "$log: $n checks passed, expected $oks"; return 1; }
    grep -q "^$closing\$" "$log" || { echo "$log: no '$closing' line"; return 1; }
    echo "$n checks passed: $closing"
}

# firmware_boot_aarch64 TARGET PROFILE: the firmware example on QEMU's
# AArch64 `virt` board (EL1, semihosting). Exit status 0 = every check passed
# (1 check failed, 2 wrong exception level, 3 exception taken, 4 panic).
firmware_boot_aarch64() {
    local target=$1 profile=${2:-debug} flag=() log status banner regs
    fwboot_need qemu-system-aarch64 timeout || return 1
    [ "$profile" = release ] && flag=(--release)
    cargo build "${flag[@]}" --manifest-path examples/firmware/Cargo.toml --target "$target" \
        --target-dir target/firmware || return 1
    log=target/firmware/$target/$profile/qemu-virt.log
    # Semihosting output goes to stderr; -nographic keeps QEMU headless.
    timeout 60 qemu-system-aarch64 -M virt -cpu cortex-a53 -nographic \
        -semihosting-config enable=on,target=native \
        -kernel "target/firmware/$target/$profile/cem-ctx-firmware-example" \
        </dev/null >"$log" 2>&1
    status=$?
    cat "$log"
    [ "$status" = 0 ] || { echo "qemu-system-aarch64 exited with $status (expected 0; 124 = timeout)"; return 1; }
    # The softfloat build runs with FP/SIMD trapping, so a single FP register
    # access by cem-ctx would have ended the run through the exception report.
    case $target in
    *softfloat) banner="EL1, softfloat, FP/SIMD trapping" regs=11 ;;
    *) banner="EL1, FP/SIMD on" regs=19 ;;
    esac
    grep -q "$banner" "$log" || { echo "banner '$banner' missing"; return 1; }
    grep -q "cem_swapcontext: $regs callee-saved registers survive" "$log" ||
        { echo "expected the $regs-register canary"; return 1; }
    fwboot_check_log "$log" 9 "firmware: all checks passed"
}

# firmware_boot_x86_64 PROFILE: the firmware example (x86_64-unknown-none) on
# a QEMU PC through its PVH entry note, in long mode without SSE/x87 enabled.
# Output on the debug console; isa-debug-exit makes QEMU exit with
# (value << 1) | 1: 33 = passed, 35 = check failed, 37 = panic. A fault has
# no handler: the triple fault ends QEMU (-no-reboot) without status 33.
firmware_boot_x86_64() {
    local profile=${1:-debug} flag=() dir status
    fwboot_need qemu-system-x86_64 timeout || return 1
    [ "$profile" = release ] && flag=(--release)
    cargo build "${flag[@]}" --manifest-path examples/firmware/Cargo.toml --target x86_64-unknown-none \
        --target-dir target/firmware || return 1
    dir=target/firmware/x86_64-unknown-none/$profile
    rm -f "$dir/debugcon.log"
    timeout 60 qemu-system-x86_64 -nographic -no-reboot -net none \
        -kernel "$dir/cem-ctx-firmware-example" \
        -debugcon "file:$dir/debugcon.log" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        </dev/null >"$dir/console.log" 2>&1
    status=$?
    cat "$dir/debugcon.log" 2>/dev/null
    [ "$status" = 33 ] || {
        echo "qemu-system-x86_64 exited with $status (expected 33; 35 = check failed, 37 = panic, 124 = timeout, 0 = triple fault)"
        tail -c 2000 "$dir/console.log"
        return 1
    }
    grep -q "cem_swapcontext: 6 callee-saved registers survive" "$dir/debugcon.log" ||
        { echo "expected the 6-register canary"; return 1; }
    fwboot_check_log "$dir/debugcon.log" 9 "firmware: all checks passed"
}

# firmware_boot_uefi PROFILE: the UEFI example (x86_64-unknown-uefi) from a
# FAT directory under OVMF. Output: ConOut (serial) and the debug console;
# isa-debug-exit makes QEMU exit with (value << 1) | 1: 33 = passed.
firmware_boot_uefi() {
    local profile=${1:-debug} flag=() dir status ovmf=/usr/share/ovmf/OVMF.fd objdump gs
    fwboot_need qemu-system-x86_64 timeout || return 1
    [ -f "$ovmf" ] || { echo "SKIPPED: $ovmf missing (Debian package ovmf)"; return 1; }
    [ "$profile" = release ] && flag=(--release)
    cargo build "${flag[@]}" --manifest-path examples/uefi/Cargo.toml --target x86_64-unknown-uefi \
        --target-dir target/uefi || return 1
    dir=target/uefi/run-$profile
    rm -rf "$dir" && mkdir -p "$dir/esp/EFI/BOOT" || return 1
    cp "target/uefi/x86_64-unknown-uefi/$profile/cem-ctx-uefi-example.efi" "$dir/esp/EFI/BOOT/BOOTX64.EFI" || return 1
    timeout 120 qemu-system-x86_64 -nographic -bios "$ovmf" -net none \
        -drive "format=raw,file=fat:rw:$dir/esp" \
        -debugcon "file:$dir/debugcon.log" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        </dev/null >"$dir/console.log" 2>&1
    status=$?
    cat "$dir/debugcon.log" 2>/dev/null
    [ "$status" = 33 ] || {
        echo "qemu-system-x86_64 exited with $status (expected 33; 35 = check failed, 37 = panic, 124 = timeout)"
        tail -c 2000 "$dir/console.log"
        return 1
    }
    grep -q "cem_swapcontext: 28 callee-saved registers survive" "$dir/debugcon.log" ||
        { echo "expected the 28-register canary"; return 1; }
    fwboot_check_log "$dir/debugcon.log" 10 "uefi: all checks passed" || return 1
    # ConOut reached the console too (OVMF mirrors it to the serial port).
    tr -d '\r' <"$dir/console.log" | grep -q "uefi: all checks passed" ||
        { echo "ConOut output missing from the serial console"; return 1; }
    echo "ConOut: closing line seen on the serial console"
    # No TEB on UEFI: the image must not touch gs at all (CEM_TEB = 0).
    objdump=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-objdump 2>/dev/null | head -n 1)
    [ -n "$objdump" ] || { echo "SKIPPED: llvm-objdump (rustup component llvm-tools) missing"; return 1; }
    "$objdump" -d "$dir/esp/EFI/BOOT/BOOTX64.EFI" >"$dir/image.dis" || return 1
    [ "$(wc -l <"$dir/image.dis")" -gt 1000 ] || { echo "no disassembly of the UEFI image"; return 1; }
    gs=$(grep -c '%gs' "$dir/image.dis") || true
    [ "$gs" = 0 ] || { echo "UEFI image accesses gs: $gs instructions"; return 1; }
    echo "UEFI image: no gs-relative access (no TEB fields switched)"
}

# rustfmt and clippy (-D warnings) for the core on x86_64-unknown-uefi and for
# both firmware example packages on every target they build for.
firmware_examples_lint() {
    local t
    cargo clippy -p cem-ctx --target x86_64-unknown-uefi -- -D warnings || return 1
    cargo fmt --manifest-path examples/firmware/Cargo.toml -- --check || return 1
    cargo fmt --manifest-path examples/uefi/Cargo.toml -- --check || return 1
    for t in aarch64-unknown-none aarch64-unknown-none-softfloat x86_64-unknown-none; do
        cargo clippy --manifest-path examples/firmware/Cargo.toml --target "$t" \
            --target-dir target/firmware -- -D warnings || return 1
    done
    cargo clippy --manifest-path examples/uefi/Cargo.toml --target x86_64-unknown-uefi \
        --target-dir target/uefi -- -D warnings
}
