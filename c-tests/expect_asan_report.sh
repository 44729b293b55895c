#!/bin/sh
# expect_asan_report.sh PROGRAM PATTERN...: PROGRAM must fail (exit status
# other than 0) and its output must match every grep -E PATTERN. Used for
# the deliberate ASan error (asan_overflow.c): a test that only accepted a
# failure would also pass if the program crashed for another reason.
prog=$1
shift
out=$("$prog" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -eq 0 ]; then
    echo "FAIL: $prog exited with 0, expected an ASan report"
    exit 1
fi
for pat in "$@"; do
    if ! printf '%s\n' "$out" | grep -Eq -- "$pat"; then
        echo "FAIL: output does not match: $pat"
        exit 1
    fi
    echo "ok: output matches: $pat"
done
