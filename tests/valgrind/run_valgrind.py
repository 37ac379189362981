#!/usr/bin/env python3
"""Runs xraybridge under valgrind for a normal run + SIGTERM and fails on any memory
error or definite/indirect leak.

Traffic: OTLP/JSON and gzip'd OTLP/JSON over HTTP, exported both to the file exporter
and to a loopback PutTraceSegments stand-in served by this script. Everything binds
127.0.0.1 and is stopped here.

usage: run_valgrind.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import gzip
import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE_S = 120


class Sink(http.server.BaseHTTPRequestHandler):
    documents = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Sink.documents += len(json.loads(body)["TraceSegmentDocuments"])
        out = b'{"UnprocessedTraceSegments":[]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def wait_for(cond, what):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit(f"FAIL: timed out waiting for {what}")


def post(port, body, gz):
    headers = {"Content-Type": "application/json"}
    if gz:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/v1/traces", body, headers)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def main():
    binary, example = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="xb-valgrind-")
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    out_file = os.path.join(tmp, "segments.jsonl")
    cfg = os.path.join(tmp, "xb.yaml")
    with open(cfg, "w") as f:
        f.write(f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0"}}
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{sink.server_port}"
    batch: {{timeout: 50ms}}
  file:
    path: {out_file}
    batch: {{timeout: 50ms}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [awsxray, file]}}
  extensions: [health_check]
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
extensions:
  health_check: {{endpoint: "127.0.0.1:0"}}
""")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDVALGRIND", AWS_SECRET_ACCESS_KEY="secret",
               AWS_SESSION_TOKEN="token")
    log_path = os.path.join(tmp, "stderr.log")
    vg = ["valgrind", "--error-exitcode=99", "--leak-check=full",
          "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
          binary, "--config", cfg]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(vg, stderr=log, env=env)
    try:
        wait_for(lambda: "xraybridge ready" in open(log_path).read(), "start-up")
        port = int(open(log_path).read().split("otlp http receiver listening on 127.0.0.1:")[1].split()[0])
        body = open(example, "rb").read()
        statuses = [post(port, body, gz=False), post(port, body, gz=True),
                    post(port, b"{not json", gz=False)]
        if statuses != [200, 200, 400]:
            raise SystemExit(f"FAIL: unexpected statuses {statuses}")
        wait_for(lambda: os.path.exists(out_file) and
                 sum(1 for _ in open(out_file)) == 4 and Sink.documents == 4,
                 "4 documents in the file and at the sink")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=DEADLINE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sink.shutdown()
    log = open(log_path).read()
    summary = [l for l in log.splitlines() if "ERROR SUMMARY" in l or "definitely lost" in l
               or "indirectly lost" in l]
    print("\n".join(summary))
    if rc != 0:
        print(log[-6000:])
        print(f"0 passed, 1 failed (valgrind/xraybridge exit code {rc})")
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
