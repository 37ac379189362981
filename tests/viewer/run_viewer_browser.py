"""The viewer end to end, in a real browser (docs/viewer.md, docs/testing.md).

Starts xraybridge on 127.0.0.1 with the OTLP/HTTP and X-Ray daemon (UDP) receivers, the
file exporter and the viewer; sends the test traces with the OpenTelemetry JS SDK
(send_viewer_trace.mjs) and a daemon-protocol trace whose segment is named like an HTML
image tag; checks the server's answers (read-only, headers, JSON API); then runs
browser_test.mjs, which drives Debian's headless Chromium through the three pages and
saves screenshots into SHOTS_DIR. Fails (never skips) when node, the npm packages or
Chromium are missing.

usage: run_viewer_browser.py XRAYBRIDGE_BINARY NODE SHOTS_DIR
"""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from xbtest import Bridge, Report, clean_env, metrics_text, wait_for  # noqa: E402

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_VALUE = "</script><script>alert(2)</script>"
LEGACY_TRACE = "1-5f84c7a1-0123456789abcdef01234567"
LEGACY_SEG = "00000000000000a1"
LEGACY_SUB = "00000000000000a2"
HDR = b'{"format": "json", "version": 1}\n'


def config(tmp):
    return f"""receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
  awsxray:
    endpoint: 127.0.0.1:0
    transport: udp
exporters:
  file:
    path: {tmp}/out.jsonl
    indexed_attributes: [parcel_id, xss_note]
extensions:
  viewer:
    endpoint: 127.0.0.1:0
service:
  extensions: [viewer]
  pipelines:
    traces:
      receivers: [otlp, awsxray]
      exporters: [file]
  telemetry:
    metrics:
      address: 127.0.0.1:0
"""


def get(port, path, method="GET", host=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, headers={"Host": host or f"localhost:{port}"})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def legacy_docs(now):
    seg = {"name": XSS_NAME, "id": LEGACY_SEG, "trace_id": LEGACY_TRACE,
           "start_time": now - 2.0, "end_time": now - 1.0,
           "annotations": {"note": XSS_VALUE},
           "metadata": {"default": {"html": "<b>bold</b>", "script": XSS_VALUE}},
           "subsegments": [{"name": "DynamoDB", "id": "00000000000000a3", "namespace": "aws",
                            "start_time": now - 1.9, "end_time": now - 1.85,
                            "aws": {"operation": "GetItem", "table_name": "parcels"}}]}
    sub = {"name": "slow-call", "id": LEGACY_SUB, "trace_id": LEGACY_TRACE,
           "type": "subsegment", "parent_id": LEGACY_SEG, "namespace": "remote",
           "start_time": now - 1.8, "in_progress": True}
    return [json.dumps(d).encode() for d in (seg, sub)]


def main():
    binary, node, shots = sys.argv[1], sys.argv[2], sys.argv[3]
    rep = Report()
    tmp = tempfile.mkdtemp(prefix="xb-viewer-")
    try:
        with Bridge(binary, tmp, config(tmp), clean_env()) as b:
            log = b.log()
            vport = int(re.search(r"viewer listening on http://localhost:(\d+)/", log).group(1))
            hport = b.port("otlp http receiver")
            uport = int(re.search(r"listening on udp \S+ \(port (\d+)\)", log).group(1))
            rep.check(f"see them at http://localhost:{vport}/" in log,
                      "start-up log prints the viewer URL next to where documents go")

            ids_path = os.path.join(tmp, "ids.json")
            r = subprocess.run([node, os.path.join(HERE, "send_viewer_trace.mjs"), "--endpoint",
                                f"http://127.0.0.1:{hport}", "--out", ids_path],
                               capture_output=True, text=True, timeout=60)
            rep.check(r.returncode == 0, "the OTel SDK exported the test traces " + r.stderr[-500:])
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for d in legacy_docs(time.time()):
                s.sendto(HDR + d, ("127.0.0.1", uport))
            s.close()

            def stats():
                return json.loads(get(vport, "/api/stats")[2])
            wait_for(lambda: stats()["documents"] >= 8, "8 documents in the viewer store")
            st = stats()
            rep.check(st["traces"] == 3 and st["documents"] == 8, f"store holds 3 traces: {st}")

            with open(ids_path) as f:
                ids = json.load(f)
            ids.update(legacy=LEGACY_TRACE, legacy_in_progress=LEGACY_SUB)
            with open(ids_path, "w") as f:
                json.dump(ids, f)

            # The server: read-only, locked-down headers, JSON API.
            code, h, body = get(vport, "/")
            rep.check(code == 200 and h["content-type"].startswith("text/html"), "GET / is HTML")
            csp = h.get("content-security-policy", "")
            rep.check("default-src 'self'" in csp and "script-src 'self'" in csp
                      and "style-src 'self'" in csp, f"Content-Security-Policy: {csp}")
            rep.check(h.get("x-content-type-options") == "nosniff", "X-Content-Type-Options")
            rep.check(b'<script src="/assets/viewer.js"' in body and b"http://" not in body
                      and b"https://" not in body, "the page loads only its own script, nothing remote")
            for m in ("POST", "PUT", "DELETE"):
                code, h, _ = get(vport, "/api/traces", method=m)
                rep.check(code == 405 and h.get("allow") == "GET, HEAD", f"{m} -> 405")
            code, h, body = get(vport, "/api/traces/" + ids["parcel"])
            doc = json.loads(body)
            rep.check(code == 200 and h["content-type"] == "application/json"
                      and len(doc["documents"]) == 5, "GET /api/traces/<id>: 5 documents, JSON")
            def exported():
                try:
                    with open(os.path.join(tmp, "out.jsonl"), "rb") as f:
                        return [line for line in f.read().split(b"\n") if line]
                except FileNotFoundError:
                    return []
            wait_for(lambda: len(exported()) >= 8, "8 documents written by the file exporter")
            sent = set(exported())
            raw = body.decode()
            mine = [line for line in sent if ids["parcel"].encode() in line]
            rep.check(len(mine) == 5 and all(line.decode() in raw for line in mine),
                      "the API serves each document byte for byte as the exporter got it")
            code, _, body = get(vport, "/api/traces?filter=" + "fault%20OR%20x")
            rep.check(code == 400 and b"expected AND" in body, "bad filter -> 400 with reason")
            code, _, body = get(vport, "/api/traces?filter=annotation.note%20%3D%20%22"
                                + "%3C%2Fscript%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E%22")
            rep.check(code == 200 and json.loads(body)["matched"] == 1,
                      "annotation filter on the daemon-protocol trace")
            code, _, body = get(vport, "/api/traces/1-00000000-000000000000000000000000")
            rep.check(code == 404, "unknown trace -> 404")
            code, _, _ = get(vport, "/nope")
            rep.check(code == 404, "unknown path -> 404")
            code, _, _ = get(vport, "/api/stats", host="attacker.example:%d" % vport)
            rep.check(code == 403, "a foreign Host header is refused (DNS rebinding)")
            mtext = metrics_text(b.port("metrics endpoint"))
            rep.check("xraybridge_viewer_traces 3\n" in mtext
                      and f"xraybridge_viewer_bytes {st['bytes']}\n" in mtext
                      and "xraybridge_viewer_refused_documents_total 0\n" in mtext,
                      "/metrics has the viewer's store gauges and counters")
            code, h, body = get(vport, "/api/map")
            m = json.loads(body)["map"]
            rep.check(code == 200 and any(n["name"] == "POST carrier" and n["health"] == "fault"
                                          for n in m["nodes"]), "GET /api/map")

            r = subprocess.run([node, os.path.join(HERE, "browser_test.mjs"), "--url",
                                f"http://localhost:{vport}/", "--ids", ids_path, "--shots", shots],
                               capture_output=True, text=True, timeout=120, cwd=HERE)
            sys.stdout.write(r.stdout)
            sys.stderr.write(r.stderr[-3000:])
            rep.check(r.returncode == 0, "browser test (headless Chromium) passed")
            for name in ("list.png", "trace.png", "map.png", "xss.png"):
                p = os.path.join(shots, name)
                rep.check(os.path.exists(p) and os.path.getsize(p) > 10000, f"screenshot {p}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
