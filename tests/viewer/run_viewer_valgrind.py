"""The viewer under valgrind: no memory error and no definite/indirect leak.

xraybridge runs with the viewer on a small store (so that traces are evicted), receives
the example trace, many generated traces and a malformed request, and answers every page
and API endpoint (list, filtered list, bad filter, one trace, map, stats, static assets,
405), then gets SIGTERM. Everything binds 127.0.0.1 and is stopped here.

usage: run_viewer_valgrind.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import http.client
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import Bridge, Report, clean_env, post_trace, wait_for  # noqa: E402
from xbvalgrind import VALGRIND, check_clean_exit  # noqa: E402


def config(tmp):
    return f"""receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
  file: {{path: "{tmp}/out.jsonl", batch: {{timeout: 50ms}}}}
extensions:
  viewer: {{endpoint: "127.0.0.1:0", max_traces: 20, max_bytes: 256KiB}}
service:
  extensions: [viewer]
  pipelines:
    traces: {{receivers: [otlp], exporters: [file]}}
  telemetry: {{metrics: {{address: ""}}}}
"""


def generated(i):
    """An OTLP/JSON request of one trace: a server span and a failing client span."""
    tid = f"{i:032x}"
    spans = [
        {"traceId": tid, "spanId": f"{i:08x}00000001", "name": "GET /x", "kind": 2,
         "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000",
         "attributes": [{"key": "http.response.status_code", "value": {"intValue": "200"}}]},
        {"traceId": tid, "spanId": f"{i:08x}00000002", "parentSpanId": f"{i:08x}00000001",
         "name": "call", "kind": 3, "startTimeUnixNano": "1700000000010000000",
         "endTimeUnixNano": "1700000000050000000",
         "attributes": [{"key": "http.response.status_code", "value": {"intValue": "503"}}]},
    ]
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": f"svc-{i % 3}"}}]},
        "scopeSpans": [{"spans": spans}]}]}).encode()


def get(port, path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request(method, path, headers={"Host": f"localhost:{port}"})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def main():
    binary, example = sys.argv[1], sys.argv[2]
    rep = Report()
    tmp = tempfile.mkdtemp(prefix="xb-viewer-valgrind-")
    try:
        with Bridge(binary, tmp, config(tmp), clean_env(), prefix=VALGRIND) as b:
            hport = b.port("otlp http receiver")
            vport = int(re.search(r"viewer listening on http://localhost:(\d+)/", b.log()).group(1))
            rep.check(post_trace(hport, open(example, "rb").read()) == 200, "example trace")
            for i in range(1, 61):
                post_trace(hport, generated(i))
            rep.check(post_trace(hport, b"{not json") == 400, "malformed request refused")
            st = json.loads(get(vport, "/api/stats")[1])
            rep.check(st["traces"] <= 20 and st["bytes"] <= 256 * 1024
                      and st["evicted_traces"] > 0, f"store within its caps: {st}")
            code, body = get(vport, "/api/traces")
            rows = json.loads(body)["traces"]
            rep.check(code == 200 and len(rows) == st["traces"], "trace list")
            code, body = get(vport, "/api/traces?filter=fault%20AND%20service(%22svc-1%22)")
            rep.check(code == 200 and json.loads(body)["matched"] > 0, "filtered list")
            rep.check(get(vport, "/api/traces?filter=bogus")[0] == 400, "bad filter")
            code, body = get(vport, "/api/traces/" + rows[0]["trace_id"])
            rep.check(code == 200 and len(json.loads(body)["documents"]) == 2, "one trace")
            code, body = get(vport, "/api/map")
            rep.check(code == 200 and json.loads(body)["map"]["edges"], "map")
            for path in ("/", "/map", "/trace/" + rows[0]["trace_id"], "/assets/viewer.js",
                         "/assets/viewer.css"):
                rep.check(get(vport, path)[0] == 200, f"GET {path}")
            rep.check(get(vport, "/", method="POST")[0] == 405, "POST -> 405")
            rc = b.stop(deadline_s=120)
            log = b.log()
        check_clean_exit(rep, rc, log)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        rep.check(False, str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
