#!/bin/sh
# expect_asan_report.sh PATTERN... -- COMMAND...: COMMAND (a program, maybe
# behind an emulator such as qemu-aarch64) must fail (exit status other than
# 0) and its output must match every grep -E PATTERN. Used for the deliberate
# ASan error (asan_overflow.c): a test that only accepted a failure would also
# pass if the program crashed for another reason.
n=0
for a in "$@"; do
    [ "$a" = -- ] && break
    n=$((n + 1))
done
[ "$n" -lt "$#" ] || { echo "usage: $0 PATTERN... -- COMMAND..."; exit 2; }
i=0
pats=""
for a in "$@"; do
    i=$((i + 1))
    [ "$i" -le "$n" ] || break
    pats="$pats$a
"
done
shift $((n + 1))
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -eq 0 ]; then
    echo "FAIL: $* exited with 0, expected an ASan report"
    exit 1
fi
printf '%s' "$pats" | while IFS= read -r pat; do
    if ! printf '%s\n' "$out" | grep -Eq -- "$pat"; then
        echo "FAIL: output does not match: $pat"
        exit 1
    fi
    echo "ok: output matches: $pat"
done
