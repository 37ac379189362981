#!/usr/bin/env bash
# Tail sampling's cost next to the plain pipeline: the same steady load of distinct
# traces (100-span requests = 20 traces of 5 spans, every one with an ERROR span in
# the bench request, so the policy below keeps every trace and exports everything in
# both runs) goes to xraybridge without and with processors.tail_sampling
# (decision_wait 30s). Prints CPU seconds per million spans and RSS for both, and the
# processor's charged bytes per held span (the memory rule of thumb in
# docs/sampling.md).
#
# usage: bench/tail_sampling.sh [BUILD_DIR] [SECONDS] [REQUESTS_PER_SECOND]
#        (defaults: build 45 50, i.e. 1,000 traces/s = 5,000 spans/s)
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-45}
RPS=${3:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/app/xraybridge
for t in "$BIN" "$ROOT/$BUILD/bench/gen_request" "$ROOT/$BUILD/bench/xray_sink"; do
    [ -x "$t" ] || { echo "missing $t: build first (make build)" >&2; exit 1; }
done

TMP=$(mktemp -d)
SINK_PID=""; XB_PID=""
cleanup() {
    [ -n "$XB_PID" ] && kill "$XB_PID" 2>/dev/null || true
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

N=$((SECS * RPS))
NOW=$(date +%s)000000000
echo "generating $N distinct 100-span requests..."
mkdir -p "$TMP/req"
for i in $(seq 1 "$N"); do
    "$ROOT/$BUILD/bench/gen_request" -n 100 -s "$i" -t "$NOW" -o "$TMP/req/$i" >/dev/null
    rm -f "$TMP/req/$i.grpc"
done

"$ROOT/$BUILD/bench/xray_sink" "$TMP/sink.port" > "$TMP/sink.out" &
SINK_PID=$!
for _ in $(seq 100); do [ -s "$TMP/sink.port" ] && break; sleep 0.05; done
[ -s "$TMP/sink.port" ] || { echo "xray_sink did not start within 5 s" >&2; exit 1; }
SINK_PORT=$(cat "$TMP/sink.port")

config() { # $1 = with tail_sampling (1/0)
    cat <<YAML
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:0"}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:$SINK_PORT"
    batch: {max_documents: 50, timeout: 50ms}
YAML
    if [ "$1" = 1 ]; then
        cat <<YAML
processors:
  tail_sampling:
    decision_wait: 30s
    num_traces: 200000
    max_bytes: 1GiB
    policies:
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: share, type: probabilistic, probabilistic: {sampling_percentage: 5}}
service:
  pipelines:
    traces: {receivers: [otlp], processors: [tail_sampling], exporters: [awsxray]}
YAML
    else
        echo "service:"
        echo "  pipelines:"
        echo "    traces: {receivers: [otlp], exporters: [awsxray]}"
    fi
    echo '  telemetry: {metrics: {address: "127.0.0.1:0"}}'
}

run() { # $1 = label, $2 = tail_sampling 1/0
    config "$2" > "$TMP/xb.yaml"
    AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench "$BIN" --config "$TMP/xb.yaml" \
        2> "$TMP/xb.err" &
    XB_PID=$!
    for _ in $(seq 100); do grep -q "xraybridge ready" "$TMP/xb.err" 2>/dev/null && break; sleep 0.05; done
    grep -q "xraybridge ready" "$TMP/xb.err" || { cat "$TMP/xb.err" >&2; exit 1; }
    python3 - "$1" "$XB_PID" "$TMP" "$N" "$RPS" "$(getconf CLK_TCK)" <<'PY'
import http.client, os, re, sys, time, urllib.request
label, pid, tmp, n, rps, hz = sys.argv[1:]
n, rps, hz = int(n), int(rps), int(hz)
log = open(f"{tmp}/xb.err").read()
http_port = int(re.search(r"otlp http receiver listening on 127.0.0.1:(\d+)", log).group(1))
metrics_port = int(re.search(r"metrics endpoint listening on 127.0.0.1:(\d+)", log).group(1))
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
def status(key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
def metric(name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics").read().decode()
    m = re.search(r"^" + re.escape(name) + r" (\d+)", text, re.M)
    return int(m.group(1)) if m else None
c = http.client.HTTPConnection("127.0.0.1", http_port)
rss0, cpu0, t0 = status("VmRSS:"), cpu(), time.monotonic()
ok = 0
for i in range(1, n + 1):
    body = open(f"{tmp}/req/{i}.pb", "rb").read()
    c.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
    r = c.getresponse(); r.read()
    ok += r.status == 200
    delay = t0 + i / rps - time.monotonic()
    if delay > 0:
        time.sleep(delay)
wall = time.monotonic() - t0
spans = ok * 100
held = metric("xraybridge_processor_tail_sampling_spans_held")
charged = metric("xraybridge_processor_tail_sampling_bytes")
rss = status("VmRSS:")
# CPU until every span is through: the held traces are decided and exported after the
# load stops, so wait for them (and give the plain pipeline's queue 2 s to empty)
end = time.monotonic() + 60
while held is not None and time.monotonic() < end:
    if metric("xraybridge_processor_tail_sampling_spans_held") == 0:
        break
    time.sleep(0.2)
time.sleep(2)
used = cpu() - cpu0
line = (f"{label}: {spans} spans in {wall:.1f} s ({spans / wall:,.0f} spans/s, "
        f"{spans / wall / 5:,.0f} traces/s); CPU until all exported {used:.2f} s = "
        f"{used / spans * 1e6:.2f} CPU-s per million spans; RSS at the end of the load "
        f"{rss0:.1f} -> {rss:.1f} MiB (peak {status('VmHWM:'):.1f})")
if held:
    line += (f"; {held} spans held, {charged / 2**20:.1f} MiB charged = "
             f"{charged / held:.0f} bytes per held span")
print(line, flush=True)
PY
    kill -TERM "$XB_PID"; wait "$XB_PID" || true; XB_PID=""
}

echo "tail sampling bench: $RPS requests/s of 100 spans for $SECS s, $(nproc) cores"
run "plain pipeline     " 0
run "tail_sampling (30s)" 1
