#!/usr/bin/env python3
"""TLS options of the awsxray exporter against an https:// endpoint on loopback that
serves a self-signed certificate for 127.0.0.1:

- default (system CA store): the handshake fails, nothing is delivered, and the
  documents are reported as undelivered at shutdown;
- certificate_file_path = that certificate: delivered;
- no_verify_ssl: true: delivered.

usage: run_tls.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import http.client
import http.server
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE_S = 30


class XRay(http.server.BaseHTTPRequestHandler):
    documents = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        XRay.documents += len(json.loads(body)["TraceSegmentDocuments"])
        out = b'{"UnprocessedTraceSegments":[]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def run_case(binary, example, tmp, port, tls_yaml):
    cfg = os.path.join(tmp, "xb.yaml")
    with open(cfg, "w") as f:
        f.write(f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "https://127.0.0.1:{port}"
    batch: {{timeout: 20ms}}
    retry_on_failure: {{initial_interval: 50ms, max_interval: 200ms}}
{tls_yaml}
service:
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{metrics: {{address: ""}}}}
  shutdown_timeout: 2s
""")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(AWS_ACCESS_KEY_ID="AKIDTLS", AWS_SECRET_ACCESS_KEY="secret")
    log_path = os.path.join(tmp, "stderr.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "--config", cfg], stderr=log, env=env)
    try:
        end = time.monotonic() + DEADLINE_S
        while "xraybridge ready" not in open(log_path).read():
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError("xraybridge did not start:\n" + open(log_path).read())
            time.sleep(0.02)
        hport = int(open(log_path).read().split("otlp http receiver listening on 127.0.0.1:")[1].split()[0])
        c = http.client.HTTPConnection("127.0.0.1", hport, timeout=10)
        c.request("POST", "/v1/traces", open(example, "rb").read(),
                  {"Content-Type": "application/json"})
        if c.getresponse().status != 200:
            raise RuntimeError("export was not accepted")
        c.close()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=DEADLINE_S)
        if rc != 0:
            raise RuntimeError(f"exit code {rc}")
        return open(log_path).read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    binary, example = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="xb-tls-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), XRay)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    cases = [
        ("default CA store refuses the self-signed endpoint", "", 0,
         "2 documents could not be delivered"),
        ("certificate_file_path trusts it", f"    certificate_file_path: {cert}", 2, None),
        ("no_verify_ssl skips verification", "    no_verify_ssl: true", 2, None),
    ]
    passed = failed = 0
    for name, yaml, want, log_needle in cases:
        before = XRay.documents
        try:
            log = run_case(binary, example, tmp, srv.server_port, yaml)
            got = XRay.documents - before
            ok = got == want and (log_needle is None or log_needle in log)
            detail = f"delivered={got}"
        except Exception as e:  # noqa: BLE001 - reported as a failed case
            ok, detail = False, str(e)
        print(("PASS" if ok else "FAIL") + f": {name} ({detail})")
        passed += ok
        failed += not ok
    srv.shutdown()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
