#!/usr/bin/env python3
"""The AWS X-Ray SDK for Node (aws-xray-sdk-core, pinned in
tests/integration/package.json) sends to xraybridge's X-Ray daemon protocol receiver on
127.0.0.1 (AWS_XRAY_DAEMON_ADDRESS): a segment with subsegments, annotations, metadata,
http and a fault with an exception, and an in-progress segment. Every datagram the SDK
sent arrives exactly once in the file exporter's output, byte-identical (so with the
same JSON content).

usage: run_xray_sdk.py XRAYBRIDGE_BINARY NODE
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from xbtest import Bridge, Report, clean_env, wait_for  # noqa: E402


def config(tmp):
    return f"""receivers:
  awsxray: {{endpoint: "127.0.0.1:0"}}
exporters:
  file: {{path: "{tmp}/out.jsonl"}}
service:
  pipelines: {{traces: {{receivers: [awsxray], exporters: [file]}}}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


def lines(tmp):
    try:
        with open(os.path.join(tmp, "out.jsonl"), "rb") as f:
            return f.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return []


def main():
    binary, node = sys.argv[1], sys.argv[2]
    rep = Report()
    tmp = tempfile.mkdtemp(prefix="xb-sdk-")
    try:
        with Bridge(binary, tmp, config(tmp), clean_env()) as b:
            port = int(re.search(r"listening on udp \S+ \(port (\d+)\)", b.log()).group(1))
            script = os.path.join(HERE, "..", "integration", "xray_sdk_send.mjs")
            r = subprocess.run([node, script], capture_output=True, timeout=30,
                               env=clean_env(AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{port}"))
            rep.check(r.returncode == 0, f"SDK script exit code {r.returncode} "
                      f"{r.stderr.decode()[-300:]}")
            sent = [base64.b64decode(x) for x in r.stdout.split()]
            docs = [d.split(b"\n", 1)[1] for d in sent]
            rep.check(len(sent) == 2, f"the SDK sent 2 datagrams (got {len(sent)})")
            rep.check(all(d.startswith(b'{"format":"json","version":1}\n') for d in sent),
                      "every datagram starts with the daemon header")
            wait_for(lambda: len(lines(tmp)) >= len(docs), "documents exported", 10)
            got = lines(tmp)
            for d in docs:
                rep.check(got.count(d) == 1, f"document {json.loads(d)['name']} arrived once, "
                          "byte-identical")
            rep.check(len(got) == len(docs), f"nothing else exported ({len(got)} lines)")
            seg = json.loads(docs[0]) if docs else {}
            rep.check(len(seg.get("subsegments", [])) == 2 and seg.get("fault") is True
                      and "exceptions" in seg["subsegments"][1].get("cause", {})
                      and seg.get("annotations", {}).get("customer_tier") == "gold"
                      and seg.get("http", {}).get("response", {}).get("status") == 500,
                      "the segment carries subsegments, annotations, http and the fault")
            rep.check(len(docs) > 1 and json.loads(docs[1]).get("in_progress") is True,
                      "the in-progress segment arrived")
            rep.check(b.stop() == 0, "clean exit on SIGTERM")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
