#!/usr/bin/env python3
"""The AWS X-Ray SDK for Node (aws-xray-sdk-core, pinned in
tests/integration/package.json) sends to xraybridge's X-Ray daemon protocol receiver on
127.0.0.1 (AWS_XRAY_DAEMON_ADDRESS), through the awsxray exporter to a fake X-Ray
(fake_xray_raw.py: tests/integration/fake_xray.py, which verifies every SigV4
signature, plus a byte-exact record of the documents it accepted) and to the file
exporter. tests/integration/xray_sdk_send.mjs sends: a segment with subsegments,
annotations, metadata, http and a fault with an exception; an in-progress segment;
with the SDK's streaming threshold lowered to 0, two completed subsegments streamed as
separate "subsegment" documents before their segment; the in-progress segment's
completed version. Every datagram the SDK sent reaches the fake X-Ray, and the file,
exactly once and byte-identical; nothing else does.

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
from xbtest import Bridge, FakeXray, Report, clean_env, wait_for  # noqa: E402

INTEGRATION = os.path.join(HERE, "..", "integration")
AKID, SECRET, TOKEN, REGION = "AKIDSDKSTREAM", "sdk-stream-secret", "sdk-stream-token", "us-west-2"
HEADER = b'{"format":"json","version":1}\n'


class RawFakeXray(FakeXray):
    """fake_xray_raw.py (fake_xray.py that also keeps each document's exact bytes) on
    127.0.0.1; stopped by stop()."""

    def __init__(self, tmp):
        self.raw_path = os.path.join(tmp, "xray_raw.jsonl")
        super().__init__(tmp, AKID, SECRET, REGION, script=os.path.join(HERE, "fake_xray_raw.py"),
                         extra_args=("--raw-docs-out", self.raw_path, "--session-token", TOKEN))

    def raw(self):
        """The accepted documents as bytes, in arrival order."""
        try:
            with open(self.raw_path, encoding="utf-8") as f:
                return [json.loads(x).encode("utf-8") for x in f if x.strip()]
        except FileNotFoundError:
            return []

    def parsed(self):
        return self.docs()


def config(tmp, fake_port):
    return f"""receivers:
  awsxray: {{endpoint: "127.0.0.1:0"}}
exporters:
  awsxray:
    region: {REGION}
    endpoint: "http://127.0.0.1:{fake_port}"
    batch: {{timeout: 50ms}}
  file: {{path: "{tmp}/out.jsonl"}}
service:
  pipelines: {{traces: {{receivers: [awsxray], exporters: [awsxray, file]}}}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


def lines(tmp):
    try:
        with open(os.path.join(tmp, "out.jsonl"), "rb") as f:
            return f.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return []


def check_sdk_side(rep, docs):
    """What the SDK emitted: the shapes the rest of the test relies on."""
    parsed = [json.loads(d) for d in docs]
    names = [p.get("name") for p in parsed]
    rep.check(names == ["checkout-service", "long-job", "parse", "sqs-receive",
                        "order-worker", "long-job"], f"the SDK's documents in order: {names}")
    if len(parsed) != 6:
        return
    seg, open_seg, parse, sqs, worker, closed = parsed
    rep.check(len(seg.get("subsegments", [])) == 2 and seg.get("fault") is True
              and "exceptions" in seg["subsegments"][1].get("cause", {})
              and seg.get("annotations", {}).get("customer_tier") == "gold"
              and seg.get("metadata", {}).get("shop", {}).get("cart", {}).get("note")
              == "é ünïcode"
              and seg.get("http", {}).get("response", {}).get("status") == 500,
              "the segment carries subsegments, annotations, metadata, http and the fault")
    rep.check(open_seg.get("in_progress") is True and "end_time" not in open_seg
              and "in_progress" not in closed and "end_time" in closed
              and open_seg.get("id") == closed.get("id"),
              "in-progress segment, then its completed version with the same id")
    s3 = worker.get("subsegments", [{}])
    rep.check([s.get("name") for s in s3] == ["s3-get"] and "subsegments" not in s3[0]
              and s3[0].get("fault") is True,
              "the parent segment holds only the subsegment still open when the others "
              "closed (s3-get, fault); the streamed ones are not repeated in it")
    tid = worker.get("trace_id")
    for sub, parent, pname in ((parse, s3[0], "s3-get"), (sqs, worker, "order-worker")):
        rep.check(sub.get("type") == "subsegment" and sub.get("trace_id") == tid
                  and sub.get("parent_id") == parent.get("id") and "end_time" in sub,
                  f"streamed subsegment {sub.get('name')}: type subsegment, trace_id {tid}, "
                  f"parent_id = {pname} ({sub.get('parent_id')})")


def main():
    binary, node = sys.argv[1], sys.argv[2]
    rep = Report()
    tmp = tempfile.mkdtemp(prefix="xb-sdk-")
    fake = None
    try:
        fake = RawFakeXray(tmp)
        env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
                        AWS_SESSION_TOKEN=TOKEN)
        with Bridge(binary, tmp, config(tmp, fake.port), env) as b:
            port = int(re.search(r"listening on udp \S+ \(port (\d+)\)", b.log()).group(1))
            script = os.path.join(INTEGRATION, "xray_sdk_send.mjs")
            r = subprocess.run([node, script], capture_output=True, timeout=30, cwd=INTEGRATION,
                               env=clean_env(AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{port}"))
            rep.check(r.returncode == 0, f"SDK script exit code {r.returncode} "
                      f"{r.stderr.decode()[-300:]}")
            sent = [base64.b64decode(x) for x in r.stdout.split()]
            rep.check(len(sent) == 6 and all(d.startswith(HEADER) for d in sent),
                      f"the SDK sent 6 datagrams, each with the daemon header (got {len(sent)})")
            docs = [d.split(b"\n", 1)[1] for d in sent if b"\n" in d]
            check_sdk_side(rep, docs)

            wait_for(lambda: len(fake.raw()) >= len(docs) and len(lines(tmp)) >= len(docs),
                     "documents at the fake X-Ray and in the file", 20)
            rep.check(b.stop() == 0, "clean exit on SIGTERM")

        # after the exit (and its final flush): exactly these documents, each once
        got = fake.raw()
        for d in docs:
            p = json.loads(d)
            name, label = p.get("name"), " (in progress)" if p.get("in_progress") else ""
            rep.check(got.count(d) == 1, f"X-Ray got {name}{label} once, byte-identical "
                      f"({got.count(d)} copies)")
        rep.check(len(got) == len(docs), f"nothing else reached X-Ray ({len(got)} documents)")
        content = sorted(json.dumps(p, sort_keys=True) for p in fake.parsed())
        rep.check(content == sorted(json.dumps(json.loads(d), sort_keys=True) for d in docs),
                  "X-Ray's parsed documents have the SDK's JSON content")
        st = fake.stats()
        rep.check(st["sig_failures"] == 0 and st["protocol_violations"] == 0
                  and st["unprocessed_docs"] == 0 and st["accepted_docs"] == len(docs),
                  f"every call SigV4-valid, no document refused ({st['requests']} calls, "
                  f"{st['sig_failures']} bad signatures, {st['unprocessed_docs']} unprocessed)")
        out = lines(tmp)
        rep.check(all(out.count(d) == 1 for d in docs) and len(out) == len(docs),
                  f"the file exporter has the same {len(docs)} documents once each, "
                  f"byte-identical ({len(out)} lines)")
    finally:
        if fake:
            fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
