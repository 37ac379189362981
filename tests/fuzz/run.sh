#!/bin/sh
# Builds the decoder fuzz targets with clang (ASan + UBSan + coverage on every library)
# and runs each for SECONDS with inputs up to 64 KB (fuzz_double: 512 bytes; docs/fuzzing.md).
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]   (default 60 s each; targets:
#        fuzz_pb fuzz_json fuzz_json_diff fuzz_diff fuzz_wire fuzz_xray fuzz_wal fuzz_double)
# Env:   XB_FUZZ_BUILD_DIR  build directory (default <repo>/build-fuzz)
#        XB_FUZZ_FLAGS      extra libFuzzer flags (e.g. -jobs=2 -workers=2)
#        XB_FUZZ_SEED       libFuzzer -seed (make test: 1, so a run is repeatable)
#        XB_FUZZ_RUNS       stop each target after this many inputs (-runs), SECONDS
#                           still caps it (make test: a fixed count, see docs/fuzzing.md)
# Findings are written to $XB_FUZZ_BUILD_DIR/fuzz-artifacts/<target>/ (crash-*, leak-*,
# timeout-*, oom-*); new interesting inputs to $XB_FUZZ_BUILD_DIR/fuzz-corpus/<target>/.
# Exit status is non-zero when any target reports a finding.
set -eu

secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_pb fuzz_json fuzz_json_diff fuzz_diff fuzz_wire fuzz_xray fuzz_wal}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${XB_FUZZ_BUILD_DIR:-$root/build-fuzz}

CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DXB_FUZZ=ON \
    -DXB_SANITIZE=address,undefined -DXB_WERROR=OFF -DXB_BUILD_BENCH=OFF \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" --target $targets -j2 >/dev/null

det=""
[ -n "${XB_FUZZ_SEED:-}" ] && det="$det -seed=$XB_FUZZ_SEED"
[ -n "${XB_FUZZ_RUNS:-}" ] && det="$det -runs=$XB_FUZZ_RUNS"

status=0
for t in $targets; do
    maxlen=65536
    case $t in
    fuzz_json | fuzz_json_diff) seeds=$root/tests/fuzz/corpus/json ;;
    fuzz_xray) seeds=$root/tests/fuzz/corpus-xray ;;
    fuzz_wal) seeds=$root/tests/fuzz/corpus-wal ;;
    fuzz_double) # every 8 bytes are checked against an exhaustive search: short inputs
        seeds=$root/tests/fuzz/corpus-double maxlen=512 ;;
    *) seeds=$root/tests/fuzz/corpus/pb ;;
    esac
    mkdir -p "$build/fuzz-corpus/$t" "$build/fuzz-artifacts/$t"
    echo "== $t: ${secs}s, -max_len=$maxlen, seeds $seeds"
    # shellcheck disable=SC2086
    "$build/tests/fuzz/$t" -max_total_time="$secs" -max_len="$maxlen" -len_control=0 \
        -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz-artifacts/$t/" $det ${XB_FUZZ_FLAGS:-} \
        "$build/fuzz-corpus/$t" "$seeds" || status=1
done
exit $status
