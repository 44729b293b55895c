# Sanitizer suites (issue 10): the C suite and the main job built with gcc and
# clang -fsanitize=address,undefined against the ordinary libcem_ctx.a (the
# library detects ASan at run time, see src/sanitizer.rs), and the Rust suites
# under -Zsanitizer=address (feature `asan`) and -Zsanitizer=thread (feature
# `tsan`). Sourced by scripts/test.sh from the repository root; each function
# is one `step` and fails with "SKIPPED: <why>" when a tool is missing.
#   Debian packages: gcc g++ clang libclang-rt-14-dev cmake
#   Rust: RUSTC_BOOTSTRAP=1 for -Zsanitizer on the stable toolchain.

SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
# What a sanitizer prints when it found something (an error, not a warning).
SAN_REPORT='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer|ASan is ignoring requested'

san_need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIPPED: $t not found (see scripts/suites/sanitizers.sh)"; return 1; }
    done
}

# san_no_reports LOG: fails when LOG holds a sanitizer report.
san_no_reports() {
    if grep -E "$SAN_REPORT" "$1"; then
        echo "sanitizer reports in $1 (above)"
        return 1
    fi
    echo "no sanitizer reports"
}

# san_c_suite CC CXX: the C suite (c-tests) with ASan + UBSan, plus the
# deliberate stack-buffer-overflow test (CEM_CTX_ASAN_TESTS), run on its own
# because its report is expected. Two scanned passes: ASan's defaults, and
# detect_stack_use_after_return=1 (frames on ASan's fake stacks, which the
# switch hands over with fake_stack_save). Temporarily zeroing the weak table
# in src/sanitizer.rs makes makecontext_accepts_any_base_alignment,
# cxx_exception_on_coroutine_stack and the overflow test fail here.
# Not run under the sanitizers:
# - gdb_backtrace_*: LeakSanitizer aborts under ptrace, and a context
#   suspended through the ASan slow path shows the slow path as frame #0.
# - return_func in the fake-stack pass only: it checks that a local lies
#   inside the context's stack, and with fake stacks locals live elsewhere.
# - valgrind_*: they measure how deep frames reach on a context's stack (for
#   the valgrind job), which ASan's redzones and fake stacks change (clang's
#   runtime puts the frames on fake stacks).
san_c_suite() {
    local cc=$1 cxx=$2 b=build/san-$1 log
    san_need "$cc" "$cxx" cmake || return 1
    rm -rf "$b"
    mkdir -p "$b"
    log="$b/ctest.log"
    cmake -S c-tests -B "$b" -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
        -DCMAKE_C_FLAGS="$SAN_FLAGS" -DCMAKE_CXX_FLAGS="$SAN_FLAGS" \
        -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCEM_CTX_ASAN_TESTS=ON >/dev/null &&
        cmake --build "$b" -j "$(nproc)" || return 1
    # -V: every test's output goes to the log, so a warning or report that
    # did not change a test's exit status is still found by the scan.
    echo "-- ctest -V, ASan defaults (gdb_backtrace_*, valgrind_* excluded, see above)"
    ctest --test-dir "$b" -V -E '^gdb_backtrace_|^asan_|^valgrind_' >"$log" 2>&1
    local rc=$?
    grep -E "Test +#|tests passed" "$log"
    [ "$rc" -eq 0 ] || { tail -n 80 "$log"; return 1; }
    san_no_reports "$log" || return 1
    echo "-- ctest, the deliberate overflow (its report is expected)"
    ctest --test-dir "$b" --output-on-failure -R '^asan_' || return 1
    echo "-- ctest -V, ASAN_OPTIONS=detect_stack_use_after_return=1 (return_func excluded, see above)"
    ASAN_OPTIONS=detect_stack_use_after_return=1 \
        ctest --test-dir "$b" -V -E '^gdb_backtrace_|^return_func$|^asan_|^valgrind_' >"$log" 2>&1
    rc=$?
    grep -E "Test +#|tests passed" "$log"
    [ "$rc" -eq 0 ] || { tail -n 80 "$log"; return 1; }
    san_no_reports "$log"
}

# The AArch64 slow path, run: the C suite built with aarch64-linux-gnu-gcc
# ASan + UBSan under qemu-aarch64 (ASan works under qemu-user; LeakSanitizer
# does not, hence detect_leaks=0). Only the cases that switch stacks in
# interesting ways (about 10 s each under qemu with ASan): contexts switching
# to each other, save == restore, a reused stack, values both ways, a C++
# exception on a coroutine stack, the scheduler, and the deliberate overflow.
san_c_suite_aarch64() {
    local b=build/san-aarch64
    san_need aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ qemu-aarch64 cmake || return 1
    rm -rf "$b"
    cmake -S c-tests -B "$b" -DCMAKE_TOOLCHAIN_FILE="$ROOT/c-tests/toolchains/aarch64-linux-gnu.cmake" \
        -DCMAKE_C_FLAGS="$SAN_FLAGS" -DCMAKE_CXX_FLAGS="$SAN_FLAGS" \
        -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCEM_CTX_ASAN_TESTS=ON >/dev/null &&
        cmake --build "$b" -j "$(nproc)" || return 1
    ASAN_OPTIONS=detect_leaks=0 ctest --test-dir "$b" -V \
        -R '^(context_to_context|save_equals_restore|makecontext_accepts_any_base_alignment|swapcontext_value_and_arg|return_func|cxx_exception_on_coroutine_stack|scheduler_example)$' \
        >"$b/ctest.log" 2>&1
    local rc=$?
    grep -E "Test +#|tests passed" "$b/ctest.log"
    [ "$rc" -eq 0 ] || { tail -n 80 "$b/ctest.log"; return 1; }
    grep -q "100% tests passed, 0 tests failed out of 7" "$b/ctest.log" ||
        { echo "expected 7 tests"; return 1; }
    san_no_reports "$b/ctest.log" || return 1
    echo "-- the deliberate overflow (its report is expected)"
    ASAN_OPTIONS=detect_leaks=0 ctest --test-dir "$b" --output-on-failure -R '^asan_'
}

# san_main_job CC: README command 1's program (examples/c/scheduler.c, 10,000
# coroutines) with ASan + UBSan against target/release/libcem_ctx.a. Its
# glibc-swapcontext baseline makes ASan print one "doesn't fully support
# makecontext/swapcontext" warning (ASan's own swapcontext interceptor, not
# cem-ctx); any report fails.
san_main_job() {
    local cc=$1 exe=target/example/scheduler-san-$1 log
    san_need "$cc" || return 1
    log=$exe.log
    mkdir -p target/example
    cargo build --release -p cem-ctx-capi &&
        "$cc" -O2 -Wall -Wextra -Werror $SAN_FLAGS -Iinclude examples/c/scheduler.c \
            target/release/libcem_ctx.a -o "$exe" || return 1
    "$exe" 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    san_no_reports "$log"
}

SAN_RUST_TARGET=x86_64-unknown-linux-gnu
# The Rust suites that run under the sanitizers: tests/overflow.rs is not
# among them, because it checks which SIGSEGV handler sees a fault (cem-ctx's
# guard-page report, Rust's thread-overflow report, a program's own handler),
# and the sanitizer runtimes install their own SIGSEGV handler in front of
# all of them (ASan reports the overflow itself).
SAN_RUST_SUITES=(--test switch --test coroutine --test fp_control)

# The Rust suites (tests/, both feature sets, debug and release) under
# -Zsanitizer=address with the `asan` feature; the C-shaped switch tests use
# the run-time detection. ASAN_OPTIONS: detect_leaks=0, because the tests leak
# their 'static stacks on purpose (Box::leak). Two tests are skipped here,
# because ASan's instrumentation changes what they measure, not because of a
# report: on_stack_runs_there (20,000 recursive frames sized for an 8 MiB
# stack overflow it with ASan's redzones; with fake stacks its locals are not
# on the given stack) and high_water_mark_accuracy (redzones make the frame
# larger than the test's 2 KiB slack). Run once with ASan's defaults and once
# without fake stacks.
san_rust_asan() {
    local profile features uar
    for profile in "" --release; do
        for features in asan std,asan; do
            for uar in 1 0; do
                echo "-- -Zsanitizer=address cargo test $profile --features $features (detect_stack_use_after_return=$uar)"
                # shellcheck disable=SC2086
                RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Zsanitizer=address CARGO_TARGET_DIR=target/san-asan \
                    ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=$uar \
                    cargo test -p cem-ctx "${SAN_RUST_SUITES[@]}" --target "$SAN_RUST_TARGET" $profile --features "$features" \
                    -- --skip on_stack_runs_there --skip high_water_mark_accuracy \
                    >target/san-asan.log 2>&1
                local rc=$?
                grep -E "^test result|Running" target/san-asan.log
                [ "$rc" -eq 0 ] || { tail -n 60 target/san-asan.log; return 1; }
                san_no_reports target/san-asan.log || return 1
            done
        done
    done
}

# The Rust suites under -Zsanitizer=thread with the `tsan` feature (each
# Coroutine a TSan fiber). std is not rebuilt with TSan (that needs the
# rust-src component and -Zbuild-std), hence -Cunsafe-allow-abi-mismatch;
# uninstrumented std then hides its own locks from TSan, and libtest-mimic's
# worker threads writing to stdout are reported as races. --test-threads=1
# keeps the harness on one thread, so any report left is about our code.
san_rust_tsan() {
    local profile features
    for profile in "" --release; do
        for features in tsan std,tsan; do
            echo "-- -Zsanitizer=thread cargo test $profile --features $features -- --test-threads=1"
            # shellcheck disable=SC2086
            RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer" \
                CARGO_TARGET_DIR=target/san-tsan \
                cargo test -p cem-ctx "${SAN_RUST_SUITES[@]}" --target "$SAN_RUST_TARGET" $profile --features "$features" \
                -- --test-threads=1 >target/san-tsan.log 2>&1
            local rc=$?
            grep -E "^test result|Running" target/san-tsan.log
            [ "$rc" -eq 0 ] || { tail -n 60 target/san-tsan.log; return 1; }
            san_no_reports target/san-tsan.log || return 1
        done
    done
}
