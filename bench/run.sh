#!/usr/bin/env bash
# End-to-end throughput benchmark: h2load (OTLP/gRPC) and wrk (OTLP/HTTP protobuf)
# post a prebuilt 100-span request to xraybridge, which translates, signs and sends
# to a loopback X-Ray sink. Prints spans/s, CPU seconds per million spans and peak
# RSS of the xraybridge process for each protocol; then OTLP/HTTP again with the durable
# queue (extensions.file_storage) on, fsync per request and by interval.
#
# First bench/bench_translate (decode and translate in process, ns per span), then
# bench/e2e.py: OTLP/gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON end to end (every
# span delivered to the sink), with CPU-microseconds per span and peak RSS.
#
# usage: bench/run.sh [BUILD_DIR] [SECONDS]     (defaults: build 10)
#        bench/run.sh BUILD_DIR SECONDS OTHER_XRAYBRIDGE
#            only the end-to-end figures, alternating rounds of BUILD_DIR's xraybridge (A)
#            and OTHER_XRAYBRIDGE (B), with the ratios B/A (bench/e2e.py)
# XB_BENCH_VIEWER=1 also runs the viewer extension (docs/viewer.md) and prints its
# store's size against its caps at the end.
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-10}
SPANS=100
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 3 ]; then
    exec python3 "$ROOT/bench/e2e.py" "$ROOT/$BUILD" "$SECS" "$3"
fi
BIN=$ROOT/$BUILD/app/xraybridge
for t in "$BIN" "$ROOT/$BUILD/bench/bench_translate" "$ROOT/$BUILD/bench/gen_request" "$ROOT/$BUILD/bench/xray_sink" "$ROOT/$BUILD/bench/udp_send"; do
    [ -x "$t" ] || { echo "missing $t: build first (make build)" >&2; exit 1; }
done
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }

# In process first: decode and decode+translate on one thread (bench_translate).
"$ROOT/$BUILD/bench/bench_translate" -d 2

python3 "$ROOT/bench/e2e.py" "$ROOT/$BUILD" "$SECS"

TMP=$(mktemp -d)
SINK_PID=""; XB_PID=""
cleanup() {
    [ -n "$XB_PID" ] && kill "$XB_PID" 2>/dev/null || true
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

"$ROOT/$BUILD/bench/gen_request" -n $SPANS -o "$TMP/req" >/dev/null
"$ROOT/$BUILD/bench/xray_sink" "$TMP/sink.port" > "$TMP/sink.out" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$TMP/sink.port" ] && break; sleep 0.05; done
[ -s "$TMP/sink.port" ] || { echo "xray_sink did not start within 5 s" >&2; exit 1; }
SINK_PORT=$(cat "$TMP/sink.port")

cat > "$TMP/xb.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0", max_concurrent_streams: 128}
      http: {endpoint: "127.0.0.1:0"}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:$SINK_PORT"
    num_workers: 8
    batch: {max_documents: 50, timeout: 50ms}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [awsxray]}
  telemetry: {logs: {level: info}, metrics: {address: "127.0.0.1:0"}}
YAML
if [ "${XB_BENCH_VIEWER:-0}" = 1 ]; then
    printf 'extensions: {viewer: {endpoint: "127.0.0.1:0"}}\n' >> "$TMP/xb.yaml"
    sed -i 's/^service:$/service:\n  extensions: [viewer]/' "$TMP/xb.yaml"
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

run_one() { # $1 = label, $2 = command that prints requests/s-derivable output
    local label=$1; shift
    local t0 c0 t1 c1 out reqs
    c0=$(cpu_ticks "$XB_PID"); t0=$(date +%s.%N)
    out=$("$@" 2>&1) || { printf '%s failed:\n%s\n' "$label" "$out" >&2; exit 1; }
    t1=$(date +%s.%N); c1=$(cpu_ticks "$XB_PID")
    # Successful requests only: h2load "requests: T total, S started, D done, OK succeeded, ...";
    # wrk "N requests in ..." minus "Non-2xx or 3xx responses: B".
    reqs=$(printf '%s\n' "$out" | awk '/^requests:/ {ok = $8} /^[ ]*[0-9]+ requests in/ {ok = $1}
        /Non-2xx or 3xx responses:/ {bad = $NF} END {if (ok != "") print ok - bad}')
    [ -n "$reqs" ] || { printf '%s: no request count in:\n%s\n' "$label" "$out" >&2; exit 1; }
    python3 - "$label" "$reqs" "$t0" "$t1" "$c0" "$c1" "$(getconf CLK_TCK)" "$SPANS" "$(peak_rss_kib "$XB_PID")" <<'PY'
import sys
label, reqs, t0, t1, c0, c1, hz, spans, rss = sys.argv[1:]
reqs = int(reqs); wall = float(t1) - float(t0); cpu = (int(c1) - int(c0)) / int(hz)
n = reqs * int(spans)
print(f"{label}: {n} spans in {wall:.1f} s = {n / wall:,.0f} spans/s; "
      f"xraybridge CPU {cpu:.2f} s = {cpu / n * 1e6 if n else 0:.2f} CPU-s per million spans; "
      f"peak RSS {int(rss) / 1024:.1f} MiB")
PY
}

XB_ENV="AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench"
env $XB_ENV "$BIN" --config "$TMP/xb.yaml" 2> "$TMP/xb.err" &
XB_PID=$!
for _ in $(seq 100); do grep -q "xraybridge ready" "$TMP/xb.err" 2>/dev/null && break; sleep 0.05; done
grep -q "xraybridge ready" "$TMP/xb.err" || { echo "xraybridge did not start within 5 s:" >&2; cat "$TMP/xb.err" >&2; exit 1; }
GRPC=$(sed -n 's/.*otlp grpc receiver listening on \(.*\)/\1/p' "$TMP/xb.err")
HTTP=$(sed -n 's/.*otlp http receiver listening on \(.*\)/\1/p' "$TMP/xb.err")

echo "xraybridge bench: ${SPANS}-span requests ($(stat -c %s "$TMP/req.pb") bytes), ${SECS}s per protocol, $(nproc) cores"
run_one "OTLP/gRPC (h2load -c4 -m16)" h2load -D "$SECS" -c 4 -m 16 -t 1 \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$TMP/req.grpc" \
    "http://$GRPC/opentelemetry.proto.collector.trace.v1.TraceService/Export"

cat > "$TMP/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-protobuf"
local f = io.open("$TMP/req.pb", "rb"); wrk.body = f:read("*a"); f:close()
LUA
run_one "OTLP/HTTP protobuf (wrk -c8)" wrk -t 1 -c 8 -d "${SECS}s" -s "$TMP/post.lua" "http://$HTTP/v1/traces"

VIEWER=$(sed -n 's|.*viewer listening on \(http://[^ ]*\) .*|\1|p' "$TMP/xb.err")
[ -n "$VIEWER" ] && echo "viewer store: $(curl -s "${VIEWER}api/stats")"
kill -TERM "$XB_PID"; wait "$XB_PID" || true; XB_PID=""
grep -E "stopped" "$TMP/xb.err" | sed 's/^.*app: /xraybridge: /'

# The durable queue's cost: the same OTLP/HTTP load with sending_queue.storage on, with
# fsync per request (the default) and by interval (fsync: false), each against a fresh
# queue directory in $TMP (the disk under /tmp). Compare with the OTLP/HTTP line above.
for mode in true false; do
    rm -rf "$TMP/queue"; mkdir "$TMP/queue"
    sed -e 's/^    batch: {max_documents: 50, timeout: 50ms}$/&\n    sending_queue: {storage: file_storage}/' \
        -e "s|^service:\$|extensions:\n  file_storage: {directory: $TMP/queue, fsync: $mode}\nservice:\n  extensions: [file_storage]|" \
        "$TMP/xb.yaml" > "$TMP/xb-durable.yaml"
    env $XB_ENV "$BIN" --config "$TMP/xb-durable.yaml" 2> "$TMP/xb.err" &
    XB_PID=$!
    for _ in $(seq 100); do grep -q "xraybridge ready" "$TMP/xb.err" 2>/dev/null && break; sleep 0.05; done
    grep -q "xraybridge ready" "$TMP/xb.err" || { echo "durable xraybridge did not start:" >&2; cat "$TMP/xb.err" >&2; exit 1; }
    HTTP=$(sed -n 's/.*otlp http receiver listening on \(.*\)/\1/p' "$TMP/xb.err")
    run_one "OTLP/HTTP protobuf, durable queue fsync: $mode (wrk -c8)" wrk -t 1 -c 8 -d "${SECS}s" \
        -s "$TMP/post.lua" "http://$HTTP/v1/traces"
    kill -TERM "$XB_PID"; wait "$XB_PID" || true; XB_PID=""
    grep -E "stopped" "$TMP/xb.err" | sed 's/^.*app: /xraybridge: /'
done
kill -TERM "$SINK_PID"; wait "$SINK_PID" || true; SINK_PID=""
echo "sink: $(cat "$TMP/sink.out")"

# ---- the otlphttp exporter: OTLP re-encoded, gzip, SigV4-signed, to the same sink ----
"$ROOT/$BUILD/bench/xray_sink" "$TMP/sink2.port" > "$TMP/sink2.out" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$TMP/sink2.port" ] && break; sleep 0.05; done
SINK_PORT=$(cat "$TMP/sink2.port")
cat > "$TMP/xb-otlp.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0", max_concurrent_streams: 128}
      http: {endpoint: "127.0.0.1:0"}
exporters:
  otlphttp:
    traces_endpoint: "http://127.0.0.1:$SINK_PORT/v1/traces"
    auth: {authenticator: sigv4auth}
    batch: {max_documents: 50, timeout: 50ms}
extensions:
  sigv4auth: {region: us-west-2}
service:
  extensions: [sigv4auth]
  pipelines:
    traces: {receivers: [otlp], exporters: [otlphttp]}
  telemetry: {logs: {level: info}, metrics: {address: "127.0.0.1:0"}}
YAML
env $XB_ENV "$BIN" --config "$TMP/xb-otlp.yaml" 2> "$TMP/xb-otlp.err" &
XB_PID=$!
for _ in $(seq 100); do grep -q "xraybridge ready" "$TMP/xb-otlp.err" 2>/dev/null && break; sleep 0.05; done
grep -q "xraybridge ready" "$TMP/xb-otlp.err" || { cat "$TMP/xb-otlp.err" >&2; exit 1; }
GRPC=$(sed -n 's/.*otlp grpc receiver listening on \(.*\)/\1/p' "$TMP/xb-otlp.err")
HTTP=$(sed -n 's/.*otlp http receiver listening on \(.*\)/\1/p' "$TMP/xb-otlp.err")
run_one "otlphttp exporter, OTLP/gRPC in (h2load -c4 -m16)" h2load -D "$SECS" -c 4 -m 16 -t 1 \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$TMP/req.grpc" \
    "http://$GRPC/opentelemetry.proto.collector.trace.v1.TraceService/Export"
run_one "otlphttp exporter, OTLP/HTTP in (wrk -c8)" wrk -t 1 -c 8 -d "${SECS}s" -s "$TMP/post.lua" "http://$HTTP/v1/traces"
kill -TERM "$XB_PID"; wait "$XB_PID" || true; XB_PID=""
grep -E "stopped" "$TMP/xb-otlp.err" | sed 's/^.*app: /xraybridge (otlphttp): /'
kill -TERM "$SINK_PID"; wait "$SINK_PID" || true; SINK_PID=""
echo "sink (otlphttp): $(cat "$TMP/sink2.out")"

# The X-Ray daemon protocol (UDP) receiver: bench/udp_bench.py, its own xraybridge.
python3 "$ROOT/bench/udp_bench.py" "$ROOT/$BUILD" "$SECS"
