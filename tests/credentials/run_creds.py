#!/usr/bin/env python3
"""End to end through the AWS credential chain: xraybridge gets temporary credentials
from a container-credentials endpoint (the EKS Pod Identity / ECS mechanism,
AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN), and the fake
X-Ray endpoint (tests/integration/fake_xray.py) verifies every PutTraceSegments
signature against exactly those credentials, session token included, with botocore.

Scenarios:
1. credentials valid for an hour: documents arrive, signatures verify, the endpoint is
   asked once and gets the authorization token;
2. credentials that expire in 4 minutes (inside the 5-minute refresh margin): documents
   still arrive, and the endpoint is not hammered (bounded number of fetches).

usage: run_creds.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import datetime
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
HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_XRAY = os.path.join(HERE, "..", "integration", "fake_xray.py")
AKID, SECRET, TOKEN, AUTH = "ASIAPODIDENTITY", "pod-secret/abc+def", "pod-session-token", "eks-pod-token"


class Creds(http.server.BaseHTTPRequestHandler):
    lifetime_s = 3600
    fetches = 0
    bad_auth = 0

    def do_GET(self):
        Creds.fetches += 1
        if self.headers.get("Authorization") != AUTH:
            Creds.bad_auth += 1
        exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=Creds.lifetime_s)
        out = json.dumps({"AccessKeyId": AKID, "SecretAccessKey": SECRET, "Token": TOKEN,
                          "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def get_json(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return json.loads(body)


def wait_for(cond, what):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def scenario(binary, example, tmp, creds_port, lifetime_s, requests):
    Creds.lifetime_s, Creds.fetches, Creds.bad_auth = lifetime_s, 0, 0
    docs = os.path.join(tmp, f"docs-{lifetime_s}.jsonl")
    fake = subprocess.Popen(["/usr/bin/python3", FAKE_XRAY, "--docs-out", docs,
                             "--access-key", AKID, "--secret-key", SECRET,
                             "--session-token", TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    proc = None
    try:
        xport = int(fake.stdout.readline())
        cfg = os.path.join(tmp, "xb.yaml")
        with open(cfg, "w") as f:
            f.write(f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{xport}"
    batch: {{max_documents: 2, timeout: 20ms}}
service:
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{metrics: {{address: ""}}}}
""")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_") and "proxy" not in k.lower()}
        env.update(HOME=tmp, AWS_EC2_METADATA_DISABLED="true",
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "none"),
                   AWS_CONFIG_FILE=os.path.join(tmp, "none"),
                   AWS_CONTAINER_CREDENTIALS_FULL_URI=f"http://127.0.0.1:{creds_port}/creds",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN=AUTH)
        log_path = os.path.join(tmp, "stderr.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([binary, "--config", cfg], stderr=log, env=env)
        wait_for(lambda: "xraybridge ready" in open(log_path).read() or proc.poll() is not None,
                 "start-up")
        hport = int(open(log_path).read().split("otlp http receiver listening on 127.0.0.1:")[1].split()[0])
        body = open(example, "rb").read()
        for _ in range(requests):
            c = http.client.HTTPConnection("127.0.0.1", hport, timeout=10)
            c.request("POST", "/v1/traces", body, {"Content-Type": "application/json"})
            if c.getresponse().status != 200:
                raise RuntimeError("export refused")
            c.close()
            wait_for(lambda: get_json(xport, "/_stats")["requests"] >= 1, "a first call")
        wait_for(lambda: get_json(xport, "/_stats")["accepted_docs"] >= 2 * requests,
                 f"{2 * requests} documents")
        stats = get_json(xport, "/_stats")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=DEADLINE_S)
        log = open(log_path).read()
        return stats, rc, log
    finally:
        for p in (proc, fake):
            if p and p.poll() is None:
                p.kill()
                p.wait()


def main():
    binary, example = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="xb-creds-")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Creds)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print(("PASS" if ok else "FAIL") + ": " + what)
        passed += bool(ok)
        failed += not ok

    try:
        stats, rc, log = scenario(binary, example, tmp, srv.server_port, 3600, 3)
        check(stats["accepted_docs"] == 6 and stats["sig_failures"] == 0,
              f"1h credentials: 6 documents signed with them (accepted={stats['accepted_docs']}, "
              f"sig_failures={stats['sig_failures']})")
        check(Creds.fetches == 1 and Creds.bad_auth == 0,
              f"1h credentials: fetched once with the authorization token (fetches={Creds.fetches})")
        check("AWS credentials from container" in log, "log names the credential source")
        check(SECRET not in log and TOKEN not in log, "no secret or token in the log")
        check(rc == 0, f"clean exit (rc={rc})")

        stats, rc, log = scenario(binary, example, tmp, srv.server_port, 240, 5)
        check(stats["accepted_docs"] == 10 and stats["sig_failures"] == 0,
              f"4-minute credentials: 10 documents delivered (accepted={stats['accepted_docs']})")
        check(1 <= Creds.fetches <= 3,
              f"4-minute credentials: endpoint not hammered (fetches={Creds.fetches})")
        check(rc == 0, f"clean exit (rc={rc})")
    except Exception as e:  # noqa: BLE001 - reported as a failure
        check(False, f"scenario error: {e}")
    srv.shutdown()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
