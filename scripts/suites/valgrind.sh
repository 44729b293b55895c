# shellcheck shell=bash
# Valgrind suite: sourced by scripts/test.sh, which calls each function
# through `step`. Every program runs under scripts/valgrind-memcheck.sh
# (memcheck, --error-exitcode=1, and a "client switching stacks?" warning
# counts as a failure). Tests that cannot run under valgrind are skipped by
# name, with the reason printed; a missing valgrind fails the step
# ("SKIPPED: why"): a run that did not happen never counts as passed.
#
# Needs: Debian valgrind (x86-64 host; the requests for AArch64 are built and
# run natively under qemu by the aarch64 job, where they are no-ops).

VALGRIND_MEMCHECK="$ROOT/scripts/valgrind-memcheck.sh"

valgrind_need() {
    command -v valgrind >/dev/null 2>&1 && return 0
    echo "SKIPPED: valgrind not installed (apt-get install valgrind)"
    return 1
}

# valgrind_logs_clean DIR EXPECTED_RUNS: every kept log says "0 errors" and
# none warns about switching stacks, and at least EXPECTED_RUNS programs ran
# under memcheck (so a wrapper that was bypassed cannot pass).
valgrind_logs_clean() {
    local dir=$1 want=$2 runs errors warnings
    runs=$(cat "$dir"/memcheck.* 2>/dev/null | grep -c "ERROR SUMMARY")
    errors=$(cat "$dir"/memcheck.* 2>/dev/null | grep "ERROR SUMMARY" | grep -vc "ERROR SUMMARY: 0 errors")
    warnings=$(cat "$dir"/memcheck.* 2>/dev/null | grep -c "client switching stacks")
    echo "-- memcheck: $runs processes ran, $errors with errors, $warnings 'client switching stacks?' warnings"
    [ "$runs" -ge "$want" ] && [ "$errors" -eq 0 ] && [ "$warnings" -eq 0 ]
}

# The C suite (c-tests, CTest) with every test program run by memcheck:
# CMAKE_CROSSCOMPILING_EMULATOR prefixes each test whose command is a target.
valgrind_c_suite() {
    valgrind_need || return 1
    local build=build/c-valgrind logs=$ROOT/target/valgrind-logs/c-suite ntests
    rm -rf "$build" "$logs"
    cmake -S c-tests -B "$build" -DCMAKE_CROSSCOMPILING_EMULATOR="$VALGRIND_MEMCHECK" >/dev/null &&
        cmake --build "$build" -j "$(nproc)" || return 1
    echo "SKIPPED under valgrind: gdb_backtrace_running, gdb_backtrace_suspended" \
        "(gdb runs the program itself under ptrace; the native C suite runs them)"
    ntests=$(ctest --test-dir "$build" -N -E '^gdb_backtrace_' | sed -n 's/^Total Tests: //p')
    CEM_VALGRIND_LOG_DIR=$logs ctest --test-dir "$build" -E '^gdb_backtrace_' --output-on-failure &&
        valgrind_logs_clean "$logs" "$ntests"
}

# README command 1's program, built as scripts/run-example.sh builds it
# (-O2 against target/release/libcem_ctx.a), with a small workload: both of
# its backends (cem-ctx and glibc ucontext) run on the same stacks.
valgrind_main_job() {
    valgrind_need || return 1
    local logs=$ROOT/target/valgrind-logs/main-job
    rm -rf "$logs"
    cargo build --release -p cem-ctx-capi || return 1
    mkdir -p target/example
    cc -O2 -g -Wall -Wextra -Werror -Iinclude examples/c/scheduler.c target/release/libcem_ctx.a \
        -o target/example/scheduler-valgrind || return 1
    CEM_VALGRIND_LOG_DIR=$logs "$VALGRIND_MEMCHECK" target/example/scheduler-valgrind 2000 20 &&
        valgrind_logs_clean "$logs" 1
}

# Tests of the Rust suites that cannot run under valgrind, and why.
VALGRIND_RUST_SKIPS=(
    # Valgrind's VEX keeps only the rounding-mode bits of MXCSR and of the x87
    # control word, so canaries in the other control bits read back changed;
    # the native runs check them.
    callee_saved_register_canaries fast_path_canaries_fp_control_kept
    fast_path_canaries_fp_control_shared
    # A deliberate crash of a forked child (ud2 trap): under valgrind the
    # child reports valgrind's own fault handling. (The guard-page overflow
    # tests live in tests/overflow.rs, which this job does not run.)
    drop_suspended_traps_without_unwinding
)

# The Rust switch (C-shaped API: 10,000 contexts, thread migration) and
# coroutine suites (Coroutine, on_stack, GuardPageStack, unwinding drops),
# debug and release, without and with `std`, each binary under memcheck.
valgrind_rust_suites() {
    valgrind_need || return 1
    local logs=$ROOT/target/valgrind-logs/rust profile features suite bin skip args=() runs=0
    rm -rf "$logs"
    for skip in "${VALGRIND_RUST_SKIPS[@]}"; do args+=(--skip "$skip"); done
    echo "SKIPPED under valgrind: ${VALGRIND_RUST_SKIPS[*]} (reasons in scripts/suites/valgrind.sh; the native runs cover them)"
    for profile in "" --release; do
        for features in "" "--features std"; do
            for suite in switch coroutine; do
                # shellcheck disable=SC2086
                bin=$(cargo test -p cem-ctx $profile $features --test "$suite" --no-run --message-format=json |
                    jq -r 'select(.executable != null) | .executable') || return 1
                [ -x "$bin" ] || { echo "no test binary for $suite $profile $features"; return 1; }
                echo "-- memcheck: $suite suite, $([ -n "$profile" ] && echo release || echo debug) $features"
                # The suites leak their stacks on purpose (Coroutine::new wants
                # 'static stacks: vec![..].leak()), so leaks are reported, not errors.
                CEM_VALGRIND_LOG_DIR=$logs CEM_VALGRIND_LEAK_CHECK=summary \
                    "$VALGRIND_MEMCHECK" "$bin" --test-threads 1 "${args[@]}" || return 1
                runs=$((runs + 1))
            done
        done
    done
    valgrind_logs_clean "$logs" "$runs"
}

# Negative control: the same programs with the requests compiled out
# (RUSTFLAGS=--cfg cem_valgrind_off, own target dir) must fail under the same
# wrapper: context_to_context (three 64 KiB static stacks side by side) with
# "use of uninitialised value" errors, and a Coroutine program with the
# "switching stacks" warning. Shows the suite above can go red.
valgrind_negative_control() {
    valgrind_need || return 1
    local dir=target/valgrind-off logs=$ROOT/target/valgrind-logs/off bin errs warns
    rm -rf "$logs"
    RUSTFLAGS="--cfg cem_valgrind_off" cargo build --release -p cem-ctx-capi --target-dir "$dir" || return 1
    cc -O2 -g -Wall -Wextra -Werror -Iinclude -Ic-tests c-tests/test_context.c "$dir/release/libcem_ctx.a" \
        -o "$dir/test_context" || return 1
    if CEM_VALGRIND_LOG_DIR=$logs/c "$VALGRIND_MEMCHECK" "$dir/test_context" context_to_context; then
        echo "context_to_context passed memcheck without stack registration: the check cannot fail"
        return 1
    fi
    errs=$(cat "$logs"/c/memcheck.* | grep -c "uninitialised value")
    warns=$(cat "$logs"/c/memcheck.* | grep -c "client switching stacks")
    echo "-- without registration: context_to_context: $errs 'uninitialised value' errors, $warns 'switching stacks' warnings"
    [ "$errs" -gt 0 ] && [ "$warns" -gt 0 ] || return 1
    bin=$(RUSTFLAGS="--cfg cem_valgrind_off" cargo test -p cem-ctx --release --test coroutine --no-run \
        --target-dir "$dir" --message-format=json | jq -r 'select(.executable != null) | .executable') || return 1
    if CEM_VALGRIND_LOG_DIR=$logs/rust CEM_VALGRIND_LEAK_CHECK=summary "$VALGRIND_MEMCHECK" "$bin" \
        round_robin_1000_coroutines; then
        echo "the Coroutine tests passed memcheck without stack registration: the check cannot fail"
        return 1
    fi
    warns=$(cat "$logs"/rust/memcheck.* | grep -c "client switching stacks")
    echo "-- without registration: round_robin_1000_coroutines: $warns 'switching stacks' warnings"
    [ "$warns" -gt 0 ]
}
