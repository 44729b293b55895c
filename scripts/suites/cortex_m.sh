# shellcheck shell=bash
# Cortex-M suite: sourced by scripts/test.sh, which calls each function through
# `step`. Every step builds what it checks, and fails (printing "SKIPPED: why")
# when a tool is missing: a run that did not happen never counts as passed.
#
# Needs: Debian qemu-system-arm (machines microbit, mps2-an385, mps2-an386,
# mps2-an505), gcc-arm-none-eabi + libnewlib-arm-none-eabi (C layout check,
# objdump), rustup targets thumbv6m-none-eabi thumbv7m-none-eabi
# thumbv7em-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabi
# thumbv8m.main-none-eabihf.

CORTEX_M_MANIFEST=examples/cortex-m/Cargo.toml
CORTEX_M_TARGET_DIR=target/cortex-m

cortex_m_need() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "SKIPPED: $tool not installed (apt-get install qemu-system-arm gcc-arm-none-eabi)"
            return 1
        fi
    done
}

# cortex_m_build TARGET [debug|release] (default release)
cortex_m_build() {
    local target=$1 profile=${2:-release}
    local flags=()
    [ "$profile" = release ] && flags=(--release)
    cargo build "${flags[@]}" --manifest-path "$CORTEX_M_MANIFEST" --target "$target" \
        --target-dir "$CORTEX_M_TARGET_DIR"
}

# cortex_m_run TARGET MACHINE BINARY EXPECTED_STATUS PATTERN...
# Builds the example in debug and in release, boots BINARY on the qemu MACHINE
# with semihosting, and requires the exit status and every PATTERN (grep -E)
# in the output of both.
cortex_m_run() {
    local target=$1 machine=$2 bin=$3 want=$4
    shift 4
    cortex_m_need qemu-system-arm || return 1
    local profile elf out status pattern
    for profile in debug release; do
        cortex_m_build "$target" "$profile" || return 1
        elf="$CORTEX_M_TARGET_DIR/$target/$profile/$bin"
        [ -f "$elf" ] || { echo "$elf was not built"; return 1; }
        out=$(timeout 120 qemu-system-arm -M "$machine" -nographic \
            -semihosting-config enable=on,target=native -kernel "$elf" </dev/null 2>&1)
        status=$?
        echo "$out"
        echo "-- qemu-system-arm -M $machine $bin ($profile): exit status $status (expected $want)"
        [ "$status" -eq "$want" ] || return 1
        for pattern in "$@"; do
            grep -qE "$pattern" <<<"$out" || { echo "missing in the output: $pattern"; return 1; }
        done
    done
}

cortex_m0_microbit() {
    cortex_m_run thumbv6m-none-eabi microbit cem-ctx-cortex-m-example 0 \
        '^cem-ctx on microbit \(Cortex-M0\)' 'survive a switch \(main\): 8 registers' \
        '^ok   entry: sp is the 16-byte aligned top' '^all checks passed$'
}

cortex_m3_an385() {
    cortex_m_run thumbv7m-none-eabi mps2-an385 cem-ctx-cortex-m-example 0 \
        '^cem-ctx on mps2-an385 \(Cortex-M3\)' 'survive a switch \(main\): 8 registers' '^all checks passed$'
}

# s16-s31 canaries: 24 registers (r4-r11 + s16-s31) compared on both sides.
cortex_m4f_an386() {
    cortex_m_run thumbv7em-none-eabihf mps2-an386 cem-ctx-cortex-m-example 0 \
        '^cem-ctx on mps2-an386 \(Cortex-M4F\)' 'survive a switch \(main\): 24 registers' \
        'survive a switch \(context\): 24 registers' '^all checks passed$'
}

cortex_m33_an505() {
    cortex_m_run thumbv8m.main-none-eabihf mps2-an505 cem-ctx-cortex-m-example 0 \
        '^cem-ctx on mps2-an505 \(Cortex-M33\)' 'ok   ARMv8-M: coroutine runs with MSPLIM' \
        'survive a switch \(main\): 24 registers' '^all checks passed$'
}

# The overflow must end in the STKOF UsageFault (status 3), with the memory
# below the stack untouched; any other ending fails.
cortex_m33_stkof() {
    cortex_m_run thumbv8m.main-none-eabihf mps2-an505 stkof 3 \
        '^UsageFault: STKOF' '^memory below the stack intact: true$'
}

# ARMv8-M Mainline without the FPU ABI (thumbv8m.main-none-eabi): the stack
# limit still follows the switch; no FP state is saved.
cortex_m33_softfloat() {
    cortex_m_run thumbv8m.main-none-eabi mps2-an505 cem-ctx-cortex-m-example 0 \
        '^cem-ctx on mps2-an505 \(Cortex-M33\) \(saves r4-r11, sp, lr\)$' \
        'ok   ARMv8-M: coroutine runs with MSPLIM' '^all checks passed$' &&
        cortex_m_run thumbv8m.main-none-eabi mps2-an505 stkof 3 '^UsageFault: STKOF'
}

# A context that returns with no return_func stops at the udf in
# cem_context_trap (HardFault handler compares the pc; status 5), on each core.
cortex_m_trap() {
    cortex_m_run thumbv6m-none-eabi microbit trap 5 '^stopped at the udf in cem_context_trap$' &&
        cortex_m_run thumbv7m-none-eabi mps2-an385 trap 5 '^stopped at the udf in cem_context_trap$' &&
        cortex_m_run thumbv7em-none-eabihf mps2-an386 trap 5 '^stopped at the udf in cem_context_trap$' &&
        cortex_m_run thumbv8m.main-none-eabihf mps2-an505 trap 5 '^stopped at the udf in cem_context_trap$'
}

# The thumbv7em-none-eabi (soft-float, no FPU) build assembles and links too.
cortex_m4_softfloat_build() {
    cortex_m_need arm-none-eabi-objdump || return 1
    cortex_m_build thumbv7em-none-eabi || return 1
    cortex_m_no_fp_in_switch thumbv7em-none-eabi
}

# Builds without an FPU must not touch s/d registers in the switch; ARMv6-M
# must not use Thumb-2 encodings (objdump shows them as 32-bit .w forms).
cortex_m_no_fp_in_switch() {
    local target=$1 dis
    dis=$(arm-none-eabi-objdump -d --no-show-raw-insn \
        "$CORTEX_M_TARGET_DIR/$target/release/cem-ctx-cortex-m-example" |
        awk '/<cem_swapcontext>:/,/^$/')
    [ -n "$dis" ] || { echo "cem_swapcontext not found"; return 1; }
    if grep -qE '\b[sd][0-9]+\b' <<<"$dis"; then echo "FP register used without an FPU:"; echo "$dis"; return 1; fi
    echo "$target: cem_swapcontext touches no FP register"
}

cortex_m_switch_discipline() {
    cortex_m_need arm-none-eabi-objdump || return 1
    cortex_m_build thumbv6m-none-eabi && cortex_m_build thumbv7m-none-eabi || return 1
    cortex_m_no_fp_in_switch thumbv6m-none-eabi && cortex_m_no_fp_in_switch thumbv7m-none-eabi || return 1
    local dis
    dis=$(arm-none-eabi-objdump -d "$CORTEX_M_TARGET_DIR/thumbv6m-none-eabi/release/cem-ctx-cortex-m-example" |
        awk '/<cem_(swapcontext|ctx_arm_aapcs32_m_[a-z_]+|context_trap)>:/,/^$/')
    if grep -E '^\s+[0-9a-f]+:\s+[0-9a-f]{4} [0-9a-f]{4}\s' <<<"$dis" | grep -v '\bbl\b'; then
        echo "32-bit (Thumb-2) instruction in the ARMv6-M switch"
        return 1
    fi
    echo "thumbv6m: switch, trampolines and trap use 16-bit Thumb-1 encodings only (bl aside)"
}

# cem_context_t as C sees it, for each core and float ABI.
cortex_m_c_layout() {
    cortex_m_need arm-none-eabi-gcc || return 1
    local flags
    for flags in "-mcpu=cortex-m0" "-mcpu=cortex-m3" \
        "-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16" \
        "-mcpu=cortex-m7 -mfloat-abi=softfp -mfpu=fpv5-d16" \
        "-mcpu=cortex-m33 -mfloat-abi=hard -mfpu=fpv5-sp-d16"; do
        # shellcheck disable=SC2086
        arm-none-eabi-gcc $flags -mthumb -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude \
            -c c-tests/arm_m_layout.c -o /dev/null || { echo "layout check failed: $flags"; return 1; }
        echo "cem_context_t layout ok: $flags"
    done
}

# cortex_m_c_run RUST_TARGET MACHINE GCC_FLAGS...: libcem_ctx.a for the target,
# the C scheduler test (c-tests/cortex-m) linked against it with
# arm-none-eabi-gcc, booted under qemu; status 0 and "all checks passed".
cortex_m_c_run() {
    local target=$1 machine=$2
    shift 2
    cortex_m_need arm-none-eabi-gcc qemu-system-arm || return 1
    cargo build --release -p cem-ctx-capi --target "$target" || return 1
    local elf="$CORTEX_M_TARGET_DIR/c-scheduler-$target.elf" out status
    mkdir -p "$CORTEX_M_TARGET_DIR"
    arm-none-eabi-gcc "$@" -mthumb -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -g \
        -ffreestanding -nostdlib -Iinclude -Ic-tests/cortex-m -T c-tests/cortex-m/mps2.ld \
        -Wl,--gc-sections -Wl,-z,noexecstack c-tests/cortex-m/startup.c c-tests/cortex-m/scheduler.c \
        "target/$target/release/libcem_ctx.a" -lgcc -o "$elf" || return 1
    out=$(timeout 60 qemu-system-arm -M "$machine" -nographic \
        -semihosting-config enable=on,target=native -kernel "$elf" </dev/null 2>&1)
    status=$?
    echo "$out"
    echo "-- qemu-system-arm -M $machine C scheduler: exit status $status (expected 0)"
    [ "$status" -eq 0 ] && grep -q '^all checks passed$' <<<"$out"
}

# C programs (arm-none-eabi-gcc) on libcem_ctx.a: Cortex-M3 soft-float and
# Cortex-M4F hard-float (the task keeps a float in s16/s17 across switches).
cortex_m_c_scheduler() {
    cortex_m_c_run thumbv7m-none-eabi mps2-an385 -mcpu=cortex-m3 &&
        cortex_m_c_run thumbv7em-none-eabihf mps2-an386 -mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16
}

# clippy and fmt for the core crate on every Cortex-M target, and the example.
cortex_m_lint() {
    local t
    for t in thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabi \
        thumbv8m.main-none-eabihf; do
        cargo clippy -p cem-ctx --target "$t" -- -D warnings || return 1
        cargo clippy --manifest-path "$CORTEX_M_MANIFEST" --target "$t" \
            --target-dir "$CORTEX_M_TARGET_DIR" -- -D warnings || return 1
    done
    cargo fmt --manifest-path "$CORTEX_M_MANIFEST" -- --check
}
