#!/bin/sh
# Training workload of the profile-guided build (docs/performance.md "Profile-guided
# build"; `make release` runs it): runs the instrumented programs of BUILD_DIR, a tree
# configured with -DXB_PGO=generate, on the work xraybridge does at full rate, so that the
# counts written to its XB_PGO_DIR describe the hot paths.
#   1. bench_translate: decode + translate of the standard 100-span request, with plain
#      and with embedded documents (the awsxray exporter's form).
#   2. bench/e2e.py, when h2load and python3 are present: the real binary with 2 workers
#      over OTLP/gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON into the loopback sink
#      (receive, admission, queue, batching, SigV4, libcurl glue on the main thread).
#   3. bench/udp_bench.py for 1 s per fixed rate, then flat out, when python3 is present:
#      X-Ray SDK segments over UDP (the awsxray receiver) through the same exporter.
# Old counts are removed first, so the profile is the one of these sources.
# With --check, BUILD_DIR is the optimised tree (-DXB_PGO=use) and one short OTLP/gRPC
# run of bench/e2e.py shows that its binary delivers every span (skipped without h2load).
# usage: bench/pgo_train.sh [--check] BUILD_DIR [SECONDS]  (SECONDS per e2e protocol, 3)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Runs a bench script, prints its lines starting with $1, fails when the script fails.
run() {
    want=$1
    shift
    out=$("$@") || { printf '%s\n' "$out" >&2; echo "pgo_train: failed: $*" >&2; exit 1; }
    printf '%s\n' "$out" | grep "^$want"
}
# Whether the OTLP load generator and the bench scripts' interpreter are installed.
have_load_tools() {
    command -v h2load >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1
}
if [ "${1:-}" = "--check" ]; then
    BUILD=$(cd "${2:?usage: pgo_train.sh --check BUILD_DIR}" && pwd)
    if have_load_tools; then
        run RESULT python3 "$ROOT/bench/e2e.py" "$BUILD" 1 --protocols grpc --rounds 1
    else
        echo "pgo_train: h2load or python3 missing: $BUILD not checked end to end" >&2
    fi
    exit 0
fi
BUILD=$(cd "${1:?usage: pgo_train.sh BUILD_DIR [SECONDS]}" && pwd)
SECS=${2:-3}
PGO=$(sed -n 's/^XB_PGO:STRING=//p' "$BUILD/CMakeCache.txt")
DIR=$(sed -n 's/^XB_PGO_DIR:PATH=//p' "$BUILD/CMakeCache.txt")
if [ "$PGO" != "generate" ] || [ -z "$DIR" ]; then
    echo "pgo_train: $BUILD is not configured with -DXB_PGO=generate" >&2
    exit 2
fi
for t in app/xraybridge bench/bench_translate bench/xray_sink bench/gen_request bench/udp_send; do
    [ -x "$BUILD/$t" ] || { echo "pgo_train: missing $BUILD/$t (build it first)" >&2; exit 2; }
done
rm -rf "$DIR"
run RESULT "$BUILD/bench/bench_translate" -d 1
run RESULT "$BUILD/bench/bench_translate" -d 1 -e
if have_load_tools; then
    run RESULT python3 "$ROOT/bench/e2e.py" "$BUILD" "$SECS" --protocols grpc,http,json \
        --workers 2 --rounds 1
else
    echo "pgo_train: h2load or python3 missing: no OTLP end-to-end run in the profile" >&2
fi
if command -v python3 >/dev/null 2>&1; then
    run UDP python3 "$ROOT/bench/udp_bench.py" "$BUILD" 1
fi
n=$(find "$DIR" -name '*.gcda' | wc -l)
[ "$n" -gt 0 ] || { echo "pgo_train: no profile counts written under $DIR" >&2; exit 1; }
echo "pgo_train: $n profile files under $DIR"
