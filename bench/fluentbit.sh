#!/usr/bin/env bash
# Side by side with Fluent Bit, in one run: the same 100-span OTLP/gRPC request posted
# by the same load generator (h2load) to Fluent Bit's opentelemetry input -> null output
# (ingest only: no translation, no export) and to xraybridge end to end (awsxray
# exporter, SigV4, -> bench/xray_sink, every span delivered), in alternating rounds.
# Prints spans/s, CPU-microseconds per span and peak RSS of each process and the ratios
# xraybridge/fluent-bit (bench/e2e.py --fluent-bit; bench/README.md).
#
# usage: bench/fluentbit.sh FLUENT_BIT_BINARY [BUILD_DIR] [SECONDS] [e2e.py options]
#        FLUENT_BIT=/path/to/fluent-bit bench/fluentbit.sh [BUILD_DIR] [SECONDS] [...]
# Defaults: build 10, 3 rounds, gRPC, h2load -c 8 -m 1. Skips (exit 0) without a binary.
# Building Fluent Bit v5.1.1 from source: docs/performance.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FB=${FLUENT_BIT:-}
if [ -z "$FB" ] && [ $# -ge 1 ] && [ -x "$1" ] && [ ! -d "$1" ]; then
    FB=$1
    shift
fi
if [ -z "$FB" ]; then
    echo "fluentbit.sh: skipped: no Fluent Bit binary given (argument or FLUENT_BIT=...)"
    exit 0
fi
[ -x "$FB" ] || { echo "fluentbit.sh: $FB is not executable" >&2; exit 1; }
BUILD=${1:-build}
SECS=${2:-10}
shift $(($# < 2 ? $# : 2))
exec python3 "$ROOT/bench/e2e.py" "$ROOT/$BUILD" "$SECS" --fluent-bit "$FB" \
    --protocols grpc --streams 1 "$@"
