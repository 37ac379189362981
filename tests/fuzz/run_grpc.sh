#!/bin/sh
# Builds the fuzz_grpc libFuzzer target with clang (ASan + UBSan) and fuzzes the OTLP/gRPC
# server session (HTTP/2 frames, HPACK, gRPC framing, deadlines) for a number of seconds.
#
# Usage: tests/fuzz/run_grpc.sh [SECONDS] [extra libFuzzer flags...]     (default 60 s)
# Env:   XB_FUZZ_BUILD_DIR  build directory (default <repo>/build-fuzz)
#        XB_FUZZ_SEED, XB_FUZZ_RUNS  as in tests/fuzz/run.sh (a repeatable run)
# Findings go to $XB_FUZZ_BUILD_DIR/fuzz-grpc-artifacts/, new inputs to
# $XB_FUZZ_BUILD_DIR/fuzz-grpc-corpus/. See docs/fuzzing.md.
set -eu

secs=${1:-60}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${XB_FUZZ_BUILD_DIR:-$root/build-fuzz}

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DXB_FUZZ=ON \
    -DXB_SANITIZE=address,undefined -DXB_WERROR=OFF -DXB_BUILD_BENCH=OFF \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
cmake --build "$build" --target fuzz_grpc fuzz_grpc_replay -j2 >/dev/null

det=""
[ -n "${XB_FUZZ_SEED:-}" ] && det="$det -seed=$XB_FUZZ_SEED"
[ -n "${XB_FUZZ_RUNS:-}" ] && det="$det -runs=$XB_FUZZ_RUNS"

mkdir -p "$build/fuzz-grpc-corpus" "$build/fuzz-grpc-artifacts"
# shellcheck disable=SC2086
exec "$build/tests/fuzz/fuzz_grpc" -max_total_time="$secs" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-grpc-artifacts/" $det \
    "$build/fuzz-grpc-corpus" "$root/tests/fuzz/corpus-grpc" "$@"
