#!/usr/bin/env bash
# Runs the benchmark suite (x86-64 Linux) after README's set-up, and writes
# bench/results/BENCHMARKS.md, switch.png and scale.png: every implementation
# in two ping-pong scenarios, clean FP status (both sides MXCSR 0x1f80) and
# mixed FP status (the partner has PE set, 0x1fa0). Installs what it needs:
# Boost.Context (static library), valgrind (instruction counts) and a font for
# the plots. Takes about a minute on an idle machine; needs ~5 GiB of free
# memory for the 1,000,000-context run. Arguments go to the binary, e.g. a
# quick check that leaves the committed results alone:
#   scripts/bench.sh --out /tmp/bench --reps 3 --round-trips 200000 --no-callgrind --no-scale
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=$([ "$(id -u)" = 0 ] && echo || echo sudo)
missing=()
for p in libboost-context-dev fonts-dejavu-core valgrind binutils gcc; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release --manifest-path bench/Cargo.toml --target-dir target/bench
exec target/bench/release/cem-ctx-bench --out bench/results "$@"
