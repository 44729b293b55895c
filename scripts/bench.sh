#!/usr/bin/env bash
# Runs the benchmark suite (x86-64 Linux) after README's set-up, and writes
# bench/results/BENCHMARKS.md, switch.png and scale.png. Installs what it
# needs: Boost.Context (static library), valgrind (instruction counts) and a
# font for the plots. Takes about half a minute; needs ~5 GiB of free memory
# for the 1,000,000-context run.
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
