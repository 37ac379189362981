#!/usr/bin/python3
"""fake_xray_sampling.py: a stand-in for X-Ray's sampling API, for the proxy tests.

    /usr/bin/python3 fake_xray_sampling.py --rules rules.json [--region us-west-2]
        [--access-key AKID --secret-key SECRET]

Listens on 127.0.0.1 on an ephemeral port and prints the port as the first line of
stdout. Every X-Ray call's SigV4 signature (service "xray") is recomputed with botocore
by tests/integration/fake_xray.py's expected_authorization() and must match byte for
byte, else 403. Endpoints:

* POST /GetSamplingRules: answers {"SamplingRuleRecords": [...]} from --rules plus an
  unknown top-level field ("XbFutureField"), so that pass-through can be checked.
* POST /SamplingTargets: one SamplingTargetDocument per statistics document received,
  with the rule's FixedRate, ReservoirQuota = the rule's ReservoirSize, Interval 10.
* A body containing "XbSlow" is answered after 2.5 s (to reach the proxy's timeout).
* GET /_stats: counters by path, signature failures, the Host headers and raw request
  bodies seen (base64-free: latin-1 strings) and the exact bytes of the last answer
  to each path.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from fake_xray import add_credential_args, expected_authorization, serve  # noqa: E402
from xbtest import reply_json  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.calls = {}
        self.sig_failures = 0
        self.errors = []
        self.hosts = []
        self.bodies = {}
        self.answers = {}
        with open(args.rules, encoding="utf-8") as f:
            self.rules = json.load(f)

    def stats(self):
        with self.lock:
            return {"calls": dict(self.calls), "sig_failures": self.sig_failures,
                    "errors": list(self.errors), "hosts": sorted(set(self.hosts)),
                    "bodies": {k: list(v) for k, v in self.bodies.items()},
                    "answers": dict(self.answers)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path == "/_stats":
            reply_json(self, 200, json.dumps(self.server.state.stats()).encode())
        else:
            reply_json(self, 404, b'{"message":"not found"}')

    def do_POST(self):
        st = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        host = self.headers.get("Host") or ""
        creds = Credentials(st.args.access_key, st.args.secret_key, None)
        want, why = expected_authorization("POST", host, self.path, list(self.headers.items()),
                                           body, creds, st.args.region)
        if why is None and want != self.headers.get("Authorization"):
            why = "signature mismatch"
        with st.lock:
            st.calls[self.path] = st.calls.get(self.path, 0) + 1
            st.hosts.append(host)
            st.bodies.setdefault(self.path, []).append(body.decode("latin-1"))
            if why is not None:
                st.sig_failures += 1
                st.errors.append(f"{self.path}: {why}")
        if why is not None:
            reply_json(self, 403, json.dumps({"__type": "InvalidSignatureException", "message": why}).encode())
            return
        if b"XbSlow" in body:
            time.sleep(2.5)
        if self.path == "/GetSamplingRules":
            answer = {"SamplingRuleRecords": [
                {"SamplingRule": r, "CreatedAt": 1.7e9, "ModifiedAt": 1.7e9} for r in st.rules],
                "XbFutureField": {"kept": True}}
        elif self.path == "/SamplingTargets":
            req = json.loads(body or b"{}")
            by_name = {r["RuleName"]: r for r in st.rules}
            docs = []
            for d in req.get("SamplingStatisticsDocuments", []):
                r = by_name.get(d.get("RuleName"))
                if r is not None:
                    docs.append({"RuleName": r["RuleName"], "FixedRate": r["FixedRate"],
                                 "ReservoirQuota": r["ReservoirSize"],
                                 "ReservoirQuotaTTL": time.time() + 60, "Interval": 10})
            answer = {"SamplingTargetDocuments": docs, "LastRuleModification": 1.7e9,
                      "UnprocessedStatistics": []}
        else:
            answer = {}
        raw = json.dumps(answer, separators=(",", ":")).encode()
        with st.lock:
            st.answers[self.path] = raw.decode()
        reply_json(self, 200, raw)


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--rules", required=True)
    add_credential_args(p)
    args = p.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return serve(server, State(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
