"""System test of the workers' pause while the exporter is behind (core/pace.h,
docs/architecture.md "Pacing").

xraybridge with 2 workers sends to a loopback PutTraceSegments stand-in in Python with
one call in flight (num_workers: 1): a few ten thousand documents per second leave,
fewer than the workers take in. h2load posts 300 OTLP/JSON requests of 100 spans over
OTLP/HTTP from 6 connections, which puts far more than 512 documents in the queue while
the exporter keeps popping. Checked:

- every request is answered 2xx, no span is refused, and the stand-in receives every
  span 300 times (h2load posts one body: the same 100 spans each time);
- the workers paused (xraybridge_worker_pauses_total > 0, time paused > 0) and handed
  nothing to the main loop (xraybridge_worker_handoffs_total 0: memory queue);
- SIGTERM exits 0.

usage: run_pacing.py XRAYBRIDGE_BINARY
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import (Bridge, Report, Sink, clean_env, metric_family,  # noqa: E402
                    metrics_text, poll_until)

REQUESTS = 300
SPANS = 100


def body(trace_no):
    """OTLP/JSON with SPANS spans of one trace."""
    tid = f"{trace_no:032x}"
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": "pacing-test"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": tid, "spanId": f"{i + 1:016x}", "name": f"op{i}", "kind": 2,
            "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000100000000",
            "attributes": [{"key": "http.method", "value": {"stringValue": "GET"}}],
        } for i in range(SPANS)]}]}]}).encode()


def main(binary):
    report = Report()
    if not shutil.which("h2load"):
        print("SKIP: h2load not installed (nghttp2-client)")
        return 0
    sink = Sink()
    try:
        with tempfile.TemporaryDirectory(prefix="xb-pacing-") as tmp:
            cfg = f"""receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{sink.port}"
    num_workers: 1
service:
  workers: 2
  pipelines:
    traces: {{receivers: [otlp], exporters: [awsxray]}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""
            env = clean_env(AWS_ACCESS_KEY_ID="AKIDPACINGTEST", AWS_SECRET_ACCESS_KEY="secret",
                            AWS_REGION="us-west-2")
            with Bridge(binary, tmp, cfg, env) as br:
                port = br.port("otlp http receiver")
                mport = br.port("metrics endpoint")
                # One body per request would need 300 files; h2load posts one file, so
                # the same 100 spans go 300 times: 30,000 documents, 100 distinct
                # (trace id, id) pairs.
                path = os.path.join(tmp, "req.json")
                with open(path, "wb") as f:
                    f.write(body(1))
                r = subprocess.run(["h2load", "--h1", "-n", str(REQUESTS), "-c", "6",
                                    "-d", path, "-H", "content-type: application/json",
                                    f"http://127.0.0.1:{port}/v1/traces"],
                                   capture_output=True, text=True, timeout=120)
                ok = [ln for ln in r.stdout.splitlines() if ln.startswith("status codes:")]
                report.check(ok and ok[0].split()[2] == str(REQUESTS),
                             f"{REQUESTS} requests answered 2xx ({ok})")
                want = REQUESTS * SPANS
                poll_until(lambda: sink.documents >= want)
                docs = [json.loads(d) for d in sink.snapshot()]
                total, distinct = len(docs), len({(d["trace_id"], d["id"]) for d in docs})
                report.check(distinct == SPANS and total == want,
                             f"every span delivered ({total} documents, {distinct} distinct, "
                             f"want {want})")
                m = metrics_text(mport)
                paused, by = metric_family(m, "xraybridge_worker_pauses_total")
                paused_us, _ = metric_family(m, "xraybridge_worker_pause_microseconds_total")
                handoffs, _ = metric_family(m, "xraybridge_worker_handoffs_total")
                refused, _ = metric_family(m, "otelcol_receiver_refused_spans_total")
                report.check(paused > 0 and paused_us > 0,
                             f"workers paused ({paused}: {by}; {paused_us} µs)")
                report.check(handoffs == 0, f"no admission handed to the main loop ({handoffs})")
                report.check(refused == 0, f"no span refused ({refused})")
                report.check(br.stop() == 0, "SIGTERM exits 0")
    finally:
        sink.stop()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
