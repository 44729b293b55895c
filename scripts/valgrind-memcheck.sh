#!/bin/sh
# Runs PROGRAM [ARGS...] under memcheck and fails (exit 1) on any memcheck
# error or any "client switching stacks?" warning, which means a context
# stack was not registered (src/valgrind.rs). Prints valgrind's log.
#
#   scripts/valgrind-memcheck.sh PROGRAM [ARGS...]
#
# The C suite uses it as CMAKE_CROSSCOMPILING_EMULATOR, so CTest runs every
# test program through it. With CEM_VALGRIND_LOG_DIR set, each run's log is
# also kept there (one file per run; forked children log into their
# parent's), so a caller can count the runs.
dir=${CEM_VALGRIND_LOG_DIR:-}
if [ -n "$dir" ]; then
    mkdir -p "$dir" || exit 1
    log=$(mktemp "$dir/memcheck.XXXXXX") || exit 1
    keep=1
else
    log=$(mktemp) || exit 1
    keep=
fi
# --leak-check=full (default): definite and possible leaks count as errors
# too; CEM_VALGRIND_LEAK_CHECK=summary only reports them. --max-stackframe
# stays at its default, so an unregistered switch warns.
valgrind --tool=memcheck --error-exitcode=1 --leak-check="${CEM_VALGRIND_LEAK_CHECK:-full}" \
    --log-file="$log" "$@"
rc=$?
cat "$log" >&2
if grep -q "client switching stacks" "$log"; then
    echo "valgrind-memcheck: memcheck saw a stack switch it could not attribute (unregistered stack)" >&2
    rc=1
fi
[ -n "$keep" ] || rm -f "$log"
exit $rc
