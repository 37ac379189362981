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
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from xbtest import Bridge, Report, clean_env, post_trace, reply_json, wait_for  # noqa: E402

FAKE_XRAY = os.path.join(HERE, "..", "integration", "fake_xray.py")
AKID, SECRET, TOKEN, AUTH = "ASIAPODIDENTITY", "pod-secret/abc+def", "pod-session-token", "eks-pod-token"
# userinfo in the configured URLs: must never reach the log
URL_PW, PROXY_PW = "xray-url-pw", "proxy-url-pw"


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
        reply_json(self, 200, out)

    def log_message(self, *args):
        pass


def get_json(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return json.loads(body)


def scenario(binary, example, tmp, creds_port, lifetime_s, requests):
    Creds.lifetime_s, Creds.fetches, Creds.bad_auth = lifetime_s, 0, 0
    docs = os.path.join(tmp, f"docs-{lifetime_s}.jsonl")
    fake = subprocess.Popen(["/usr/bin/python3", FAKE_XRAY, "--docs-out", docs,
                             "--access-key", AKID, "--secret-key", SECRET,
                             "--session-token", TOKEN],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        xport = int(fake.stdout.readline())
        config = f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://xbuser:{URL_PW}@127.0.0.1:{xport}"
    proxy_address: "http://pxuser:{PROXY_PW}@127.0.0.1:9"
    batch: {{max_documents: 2, timeout: 20ms}}
service:
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{metrics: {{address: ""}}}}
"""
        env = clean_env(HOME=tmp, AWS_EC2_METADATA_DISABLED="true",
                        AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "none"),
                        AWS_CONFIG_FILE=os.path.join(tmp, "none"),
                        AWS_CONTAINER_CREDENTIALS_FULL_URI=f"http://127.0.0.1:{creds_port}/creds",
                        AWS_CONTAINER_AUTHORIZATION_TOKEN=AUTH,
                        NO_PROXY="127.0.0.1")  # the proxy is only there to be logged
        body = open(example, "rb").read()
        with Bridge(binary, tmp, config, env) as bridge:
            hport = bridge.port("otlp http receiver")
            for _ in range(requests):
                if post_trace(hport, body) != 200:
                    raise RuntimeError("export refused")
                wait_for(lambda: get_json(xport, "/_stats")["requests"] >= 1, "a first call")
            wait_for(lambda: get_json(xport, "/_stats")["accepted_docs"] >= 2 * requests,
                     f"{2 * requests} documents")
            stats = get_json(xport, "/_stats")
            rc = bridge.stop()
            return stats, rc, bridge.log()
    finally:
        if fake.poll() is None:
            fake.kill()
            fake.wait()


def main():
    binary, example = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="xb-creds-")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Creds)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    report = Report()
    check = report.check

    try:
        stats, rc, log = scenario(binary, example, tmp, srv.server_port, 3600, 3)
        check(stats["accepted_docs"] == 6 and stats["sig_failures"] == 0,
              f"1h credentials: 6 documents signed with them (accepted={stats['accepted_docs']}, "
              f"sig_failures={stats['sig_failures']})")
        check(Creds.fetches == 1 and Creds.bad_auth == 0,
              f"1h credentials: fetched once with the authorization token (fetches={Creds.fetches})")
        check("AWS credentials from container" in log, "log names the credential source")
        check(SECRET not in log and TOKEN not in log, "no secret or token in the log")
        check(URL_PW not in log and PROXY_PW not in log and "pxuser" not in log,
              "no endpoint or proxy_address user:password in the log")
        check("sending to http://***@127.0.0.1:" in log and "proxy http://***@127.0.0.1:9" in log,
              "endpoint and proxy logged with userinfo redacted")
        check("clear text" not in log, "no clear-text warning for a loopback http:// endpoint")
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
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
