#!/usr/bin/env python3
"""One trace, two SDKs, one xraybridge (tests/integration/two_sdks.mjs on 127.0.0.1):

service A (OpenTelemetry JS SDK, X-Ray id generator and propagator, OTLP/HTTP) calls
service B (AWS X-Ray SDK for Node, UDP to the daemon protocol receiver) with an
X-Amzn-Trace-Id header, and B calls A back. xraybridge exports to the fake X-Ray
(tests/integration/fake_xray.py, which verifies every SigV4 signature). The documents
it receives must form one connected trace:

- every document has A's trace id (in X-Ray form), B's segment included;
- B's segment's parent_id is the id of A's CLIENT span's subsegment, whose parent is
  A's root segment;
- A's /leaf segment's parent_id is the id of the subsegment B opened for the call;
- B's segment arrives byte-for-byte as the SDK wrote it (no re-translation), and
  every document arrives exactly once.

usage: run_two_sdks.py XRAYBRIDGE_BINARY NODE
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
AKID, SECRET, REGION = "AKIDTWOSDKS", "two-sdks-secret", "us-west-2"


def config(fake_port, tmp):
    return f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
  awsxray: {{endpoint: "127.0.0.1:0"}}
exporters:
  awsxray:
    region: {REGION}
    endpoint: "http://127.0.0.1:{fake_port}"
    batch: {{max_documents: 50, timeout: 100ms}}
  file: {{path: "{tmp}/out.jsonl"}}
service:
  pipelines: {{traces: {{receivers: [otlp, awsxray], exporters: [awsxray, file]}}}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


def xray_trace_id(otel_hex):
    return f"1-{otel_hex[:8]}-{otel_hex[8:]}"


def main():
    binary, node = sys.argv[1], sys.argv[2]
    rep = Report()
    tmp = tempfile.mkdtemp(prefix="xb-two-sdks-")
    fake = None
    try:
        fake = FakeXray(tmp, AKID, SECRET, REGION)
        env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET)
        with Bridge(binary, tmp, config(fake.port, tmp), env) as b:
            udp = int(re.search(r"listening on udp \S+ \(port (\d+)\)", b.log()).group(1))
            http = re.search(r"otlp http receiver listening on (\S+)", b.log()).group(1)
            r = subprocess.run(
                [node, os.path.join(INTEGRATION, "two_sdks.mjs"), "--otlp", f"http://{http}"],
                capture_output=True, timeout=30, cwd=INTEGRATION,
                env=clean_env(AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{udp}"))
            rep.check(r.returncode == 0, f"services exit code {r.returncode} "
                      f"{r.stderr.decode()[-400:]}")
            ids = json.loads(r.stdout.decode().strip().splitlines()[-1])
            tid = xray_trace_id(ids["a_trace"])
            rep.check(ids["b_status"] == 200, "B answered A's call with 200")
            rep.check(ids["b_header"] == f"Root={tid};Parent={ids['a_client_span']};Sampled=1",
                      f"A sent X-Amzn-Trace-Id {ids['b_header']}")
            rep.check(ids["b_trace"] == tid, "B's X-Ray SDK continued A's trace id")

            # A: root segment, client subsegment, leaf segment; B: one segment
            wait_for(lambda: len(fake.docs()) >= 4, "4 documents at the fake X-Ray", 20)
            docs = fake.docs()
            by_id = {d["id"]: d for d in docs}
            rep.check(len(docs) == 4 and len(by_id) == 4,
                      f"4 documents, each once (got {len(docs)}: "
                      f"{[(d.get('name'), d['id']) for d in docs]})")
            rep.check(all(d["trace_id"] == tid for d in docs),
                      f"every document carries trace id {tid}")
            a_root = by_id.get(ids["a_root_span"], {})
            a_client = by_id.get(ids["a_client_span"], {})
            a_leaf = by_id.get(ids["a_leaf_span"], {})
            b_seg = by_id.get(ids["b_segment"], {})
            rep.check(a_root.get("name") == "service-a" and "parent_id" not in a_root,
                      "A's root span is a segment without parent")
            rep.check(a_client.get("type") == "subsegment" and
                      a_client.get("parent_id") == ids["a_root_span"],
                      "A's CLIENT span is a subsegment of A's root segment")
            rep.check(b_seg.get("name") == "service-b" and
                      b_seg.get("parent_id") == ids["a_client_span"],
                      f"B's segment's parent_id is A's client subsegment "
                      f"({b_seg.get('parent_id')} == {ids['a_client_span']})")
            subs = [s["id"] for s in b_seg.get("subsegments", [])]
            rep.check(subs == [ids["b_subsegment"]], "B's segment holds its call subsegment")
            rep.check(a_leaf.get("name") == "service-a" and
                      a_leaf.get("parent_id") == ids["b_subsegment"],
                      f"A's /leaf segment's parent_id is B's subsegment "
                      f"({a_leaf.get('parent_id')} == {ids['b_subsegment']})")

            # B's document is forwarded unchanged: the file exporter has the SDK's bytes
            sent = [base64.b64decode(x) for x in ids["udp_payloads"]]
            rep.check(len(sent) == 1 and ids["udp_datagrams"] == 1,
                      f"the X-Ray SDK sent one datagram (got {len(sent)})")
            b_doc = sent[0].split(b"\n", 1)[1] if sent else b""

            def lines():
                with open(os.path.join(tmp, "out.jsonl"), "rb") as f:
                    return f.read().split(b"\n")[:-1]
            wait_for(lambda: len(lines()) >= 4, "4 documents in the file exporter's output", 10)
            rep.check(lines().count(b_doc) == 1,
                      "B's segment was exported byte-for-byte as the SDK sent it, once")
            rep.check(json.loads(b_doc) == b_seg,
                      "the fake X-Ray received B's segment with the SDK's content")
            rep.check(b.stop() == 0, "clean exit on SIGTERM")
    finally:
        if fake:
            fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
