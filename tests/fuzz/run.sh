#!/bin/sh
# Builds the libFuzzer target with clang (ASan + UBSan + coverage on every library) and
# fuzzes decode + translate for a number of seconds.
#
# Usage: tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]     (default 60 s)
# Env:   XB_FUZZ_BUILD_DIR  build directory (default <repo>/build-fuzz)
# Findings are written to $XB_FUZZ_BUILD_DIR/fuzz-artifacts/ (crash-*, leak-*, timeout-*);
# new interesting inputs to $XB_FUZZ_BUILD_DIR/fuzz-corpus/. See docs/fuzzing.md.
set -eu

secs=${1:-60}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${XB_FUZZ_BUILD_DIR:-$root/build-fuzz}

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DXB_FUZZ=ON \
    -DXB_SANITIZE=address,undefined -DXB_WERROR=OFF -DXB_BUILD_BENCH=OFF \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
cmake --build "$build" --target fuzz_translate fuzz_translate_replay -j2 >/dev/null

mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts"
exec "$build/tests/fuzz/fuzz_translate" -max_total_time="$secs" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/" \
    "$build/fuzz-corpus" "$root/tests/fuzz/corpus" "$@"
