#!/usr/bin/env bash
# Builds the benchmark guests and prints every benchmark LegoEmu reports in its README.
# usage: tests/bench/run.sh [latency|compare|sweep|trace|split|all]   (needs a Release build; qemu-user for the comparison)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
legoemu="$root/cluster/bin/Release/net10.0/legoemu"
out="${BENCH_OUT:-/tmp/legoemu-bench}"
mkdir -p "$out"
for src in "$here"/*.c; do
    name=$(basename "$src" .c)
    gcc -static -O2 -pthread -o "$out/$name" "$src"
done
what="${1:-all}"
if [[ $what == latency || $what == all ]]; then "$legoemu" bench latency; echo; fi
if [[ $what == compare || $what == all ]]; then "$legoemu" bench compare "$out/intloop" "$out/memloop" "$out/sseloop" "$out/bytecode"; echo; fi
if [[ $what == sweep || $what == all ]]; then
    "$legoemu" bench sweep "$out/memtouch" random 256 1000000; echo
    "$legoemu" bench sweep "$out/memtouch" seq 256 2; echo
    "$legoemu" bench sweep --fractions 25%,100% --repeat 3 "$out/wcstream"
fi
if [[ $what == trace || $what == all ]]; then
    echo
    gcc -static -O2 -o "$out/math64" "$here/../guests/math64.c"
    "$legoemu" bench trace --excache 256K "$out/math64"; echo
    "$legoemu" bench trace --repeat 1 "$out/memloop"
fi
if [[ $what == split || $what == all ]]; then
    echo
    "$legoemu" bench split "$out/splitcpu" "$out/falseshare"
fi
