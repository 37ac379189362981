#!/usr/bin/env python3
"""Proxy selection of the awsxray exporter: proxy_address, else the proxy environment
variables (libcurl's handling: http_proxy for http:// endpoints, HTTPS_PROXY for
https://), honouring NO_PROXY.

A loopback "X-Ray" and a loopback forward "proxy" both answer PutTraceSegments and
record what reaches them; each scenario starts xraybridge, posts one OTLP/JSON
request, waits for its 2 documents and checks which server got them.

usage: run_proxy.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
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

DEADLINE_S = 30


def make_server(name):
    class Handler(http.server.BaseHTTPRequestHandler):
        documents = 0
        paths = []

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            type(self).documents += len(json.loads(body)["TraceSegmentDocuments"])
            type(self).paths.append(self.path)
            out = b'{"UnprocessedTraceSegments":[]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    Handler.__name__ = name
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, Handler


def run_case(binary, example, tmp, xray_port, proxy_cfg, env_extra):
    cfg = os.path.join(tmp, "xb.yaml")
    with open(cfg, "w") as f:
        f.write(f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{xray_port}"
    batch: {{timeout: 20ms}}
{"    proxy_address: " + proxy_cfg if proxy_cfg else ""}
service:
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{metrics: {{address: ""}}}}
""")
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update(AWS_ACCESS_KEY_ID="AKIDPROXY", AWS_SECRET_ACCESS_KEY="secret")
    env.update(env_extra)
    log_path = os.path.join(tmp, "stderr.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "--config", cfg], stderr=log, env=env)
    try:
        end = time.monotonic() + DEADLINE_S
        while "xraybridge ready" not in open(log_path).read():
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError("xraybridge did not start:\n" + open(log_path).read())
            time.sleep(0.02)
        port = int(open(log_path).read().split("otlp http receiver listening on 127.0.0.1:")[1].split()[0])
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/v1/traces", open(example, "rb").read(),
                  {"Content-Type": "application/json"})
        status = c.getresponse().status
        c.close()
        if status != 200:
            raise RuntimeError(f"export answered {status}")
        proc.send_signal(signal.SIGTERM)  # drains: documents are sent before exit
        rc = proc.wait(timeout=DEADLINE_S)
        if rc != 0:
            raise RuntimeError(f"exit code {rc}:\n" + open(log_path).read())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    binary, example = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="xb-proxy-")
    xray, XRay = make_server("XRay")
    proxy, Proxy = make_server("Proxy")
    proxy_url = f"http://127.0.0.1:{proxy.server_port}"
    cases = [
        # (name, proxy_address, env, expect documents at proxy?)
        ("no proxy configured: direct", None, {}, False),
        ("http_proxy env: via proxy", None, {"http_proxy": proxy_url}, True),
        ("http_proxy + NO_PROXY=127.0.0.1: direct", None,
         {"http_proxy": proxy_url, "NO_PROXY": "127.0.0.1"}, False),
        ("proxy_address in config: via proxy", proxy_url, {}, True),
        ("proxy_address + NO_PROXY=127.0.0.1: direct", proxy_url, {"NO_PROXY": "127.0.0.1"}, False),
    ]
    passed = failed = 0
    for name, pcfg, env, via_proxy in cases:
        x0, p0 = XRay.documents, Proxy.documents
        try:
            run_case(binary, example, tmp, xray.server_port, pcfg, env)
            got_x, got_p = XRay.documents - x0, Proxy.documents - p0
            want = (0, 2) if via_proxy else (2, 0)
            ok = (got_x, got_p) == want
            # A forward proxy is sent the absolute URI of the X-Ray endpoint.
            if ok and via_proxy:
                ok = Proxy.paths[-1] == f"http://127.0.0.1:{xray.server_port}/TraceSegments"
            detail = f"xray={got_x} proxy={got_p}"
        except Exception as e:  # noqa: BLE001 - reported as a failed case
            ok, detail = False, str(e)
        print(("PASS" if ok else "FAIL") + f": {name} ({detail})")
        passed += ok
        failed += not ok
    xray.shutdown()
    proxy.shutdown()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
