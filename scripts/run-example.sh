#!/usr/bin/env bash
# README command 1: build libcem_ctx.a and run the main job, a C round-robin
# scheduler over 10,000 coroutines timed against glibc swapcontext.
#   scripts/run-example.sh [COROUTINES [NUMBERS_PER_COROUTINE]]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cc >/dev/null 2>&1; then
    echo "run-example: installing a C compiler (gcc, libc6-dev)"
    SUDO=$([ "$(id -u)" = 0 ] && echo || echo sudo)
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
fi

cargo build --release -p cem-ctx-capi
mkdir -p target/example
cc -O2 -Wall -Wextra -Werror -Iinclude examples/c/scheduler.c target/release/libcem_ctx.a \
    -o target/example/scheduler
exec target/example/scheduler "$@"
