#!/usr/bin/python3
"""run_otlphttp.py: system tests of the otlphttp exporter with sigv4auth.

    /usr/bin/python3 run_otlphttp.py BINARY MODE [PROTOCOL]

Modes (each starts its own xraybridge on 127.0.0.1 and stops it):
  sdk PROTOCOL      the OTel JS SDK (tests/integration/send_trace.mjs --links) over
                    PROTOCOL (grpc, http/protobuf, http/json) -> xraybridge -> the fake
                    OTLP endpoint (tests/otlphttp/fake_otlp.py, SigV4 checked with
                    botocore): every span arrives exactly once with ids, parent, name,
                    kind, times, status, attributes, events, links, resource and scope.
  sdk_plain PROTOCOL  the same with compression: none and a gzip-compressing client.
  faults            the endpoint answers 429, 503, 503, 429 (Retry-After: 1) first:
                    retried, nothing lost, nothing twice.
  both              exporters [awsxray, otlphttp]: the fake X-Ray gets a document per
                    span and the fake OTLP endpoint every span.
  partial           a partial_success answer: its rejected spans are counted as failed.
  split             12,000 spans in one request (over X-Ray's 10,000 per request) and a
                    span over 200 KB: requests within the limits, every other span once.
Prints PASS/FAIL lines and "N passed, N failed"; exit 0 only when all passed.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
IT = os.path.join(HERE, "..", "integration")
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

import pbwire  # noqa: E402
from fake_otlp import FakeOtlp  # noqa: E402
from xbtest import (Bridge, Report, clean_env, metric_samples, metrics_text, poll_until,  # noqa: E402
                    post_trace, wait_for)

AKID = "AKIDOTLPTEST"
SECRET = "otlp/test+secret/key0123456789abcdef"
TOKEN = "FwoGZXIvYXdzOTLP//session+token="
REGION = "us-west-2"
KINDS = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


def config(otlp_port, compression="gzip", xray_port=None, retry="100ms"):
    exporters = "[awsxray, otlphttp]" if xray_port else "[otlphttp]"
    xray = (f"  awsxray:\n    region: {REGION}\n    endpoint: http://127.0.0.1:{xray_port}\n"
            f"    batch: {{timeout: 50ms}}\n") if xray_port else ""
    return f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0"}}
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
{xray}  otlphttp:
    traces_endpoint: http://127.0.0.1:{otlp_port}/v1/traces
    compression: {compression}
    headers: {{x-test-run: otlphttp}}
    auth: {{authenticator: sigv4auth}}
    batch: {{timeout: 50ms}}
    retry_on_failure: {{initial_interval: {retry}, max_interval: 2s}}
extensions:
  sigv4auth: {{region: {REGION}}}
service:
  extensions: [sigv4auth]
  pipelines:
    traces: {{receivers: [otlp], exporters: {exporters}}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


def env():
    return clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
                     AWS_SESSION_TOKEN=TOKEN, AWS_EC2_METADATA_DISABLED="true")


def metrics(port):
    return metric_samples(metrics_text(port))


def send_sdk(tmp, bridge, protocol, gzip_client):
    endpoint = (f"http://127.0.0.1:{bridge.port('otlp grpc receiver')}" if protocol == "grpc"
                else f"http://127.0.0.1:{bridge.port('otlp http receiver')}/v1/traces")
    out = os.path.join(tmp, "sent.json")
    cmd = ["node", os.path.join(IT, "send_trace.mjs"), "--protocol", protocol, "--endpoint",
           endpoint, "--out", out, "--links"] + (["--gzip"] if gzip_client else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=clean_env(), cwd=IT)
    if r.returncode != 0:
        raise RuntimeError(f"send_trace.mjs failed: {r.stderr}")
    with open(out) as f:
        return json.load(f)


def check_spans(rep, sent, got, what):
    """Every sent span arrived once, with every field intact."""
    by_id = {}
    for s in got:
        by_id.setdefault(s["spanId"], []).append(s)
    rep.check(len(got) == len(sent["spans"]), f"{what}: {len(got)} spans arrived, {len(sent['spans'])} sent")
    for s in sent["spans"]:
        arrived = by_id.get(s["spanId"], [])
        rep.check(len(arrived) == 1, f"{what}: span {s['name']!r} arrived exactly once ({len(arrived)})")
        if len(arrived) != 1:
            continue
        a = arrived[0]
        same = (a["traceId"] == s["traceId"] and a["parentSpanId"] == s["parentSpanId"]
                and a["name"] == s["name"] and a["kind"] == KINDS[s["kind"]]
                and a["startNs"] == int(s["startNs"]) and a["endNs"] == int(s["endNs"])
                and a["status"]["code"] == STATUS[s["status"]["code"]]
                and a["status"]["message"] == s["status"]["message"])
        rep.check(same, f"{what}: {s['name']!r} ids, parent, name, kind, times, status")
        rep.check(a["attributes"] == s["attributes"], f"{what}: {s['name']!r} attributes {a['attributes']}")
        ev = [{"name": e["name"], "timeNs": int(e["timeNs"]), "attributes": e["attributes"]} for e in s["events"]]
        rep.check(a["events"] == ev, f"{what}: {s['name']!r} events")
        rep.check(a["links"] == s["links"], f"{what}: {s['name']!r} links {a['links']}")
        rep.check(a["resource"] == sent["resource"], f"{what}: {s['name']!r} resource")
        rep.check(a["scope"] == {"name": "xraybridge-integration", "version": "1.0.0"},
                  f"{what}: {s['name']!r} scope")
    rep.check(any(s["links"] for s in sent["spans"]), f"{what}: the trace has a link to check")


def common_checks(rep, fake, bridge, sent_spans):
    port = bridge.port("metrics endpoint")
    # The fake records a request's spans before its answer reaches the exporter, which
    # counts them when the call completes: poll (bounded) for the counter to catch up.
    poll_until(lambda: metrics(port).get('otelcol_exporter_sent_spans_total{exporter="otlphttp"}')
               == sent_spans, deadline_s=10)
    m = metrics(port)
    rep.check(fake.sig_failures == 0, f"SigV4 verified on every request ({fake.sig_failures} failures)")
    rep.check(not fake.violations, f"no protocol violations {fake.violations[:3]}")
    rep.check(m.get('otelcol_exporter_sent_spans_total{exporter="otlphttp"}') == sent_spans,
              f"otelcol_exporter_sent_spans_total{{otlphttp}} = {sent_spans}")
    rep.check(m.get('otelcol_exporter_send_failed_spans_total{exporter="otlphttp"}') == 0,
              "no spans failed")
    return m


def mode_sdk(rep, tmp, binary, protocol, plain):
    fake = FakeOtlp(REGION, AKID, SECRET, TOKEN)
    try:
        with Bridge(binary, tmp, config(fake.port, "none" if plain else "gzip"), env()) as b:
            sent = send_sdk(tmp, b, protocol, gzip_client=plain)
            wait_for(lambda: len(fake.spans) >= 4, "4 spans at the fake OTLP endpoint")
            check_spans(rep, sent, fake.spans, protocol)
            common_checks(rep, fake, b, 4)
            rep.check((fake.gzip_requests > 0) != plain,
                      f"bodies {'uncompressed' if plain else 'gzip'} ({fake.gzip_requests} gzip)")
            rep.check(b.stop() == 0, "exit 0 on SIGTERM")
    finally:
        fake.stop()


def mode_faults(rep, tmp, binary):
    fake = FakeOtlp(REGION, AKID, SECRET, TOKEN)
    fake.script = ["429", "503", "503", "429"]
    try:
        with Bridge(binary, tmp, config(fake.port), env()) as b:
            sent = send_sdk(tmp, b, "http/protobuf", False)
            wait_for(lambda: len(fake.spans) >= 4, "4 spans after the faults", deadline_s=40)
            rep.check(fake.injected == 4, f"4 faults answered ({fake.injected})")
            check_spans(rep, sent, fake.spans, "after 429/503")
            m = common_checks(rep, fake, b, 4)
            rep.check(m.get('xraybridge_exporter_throttled_total{exporter="otlphttp"}', 0) >= 2,
                      "429 and 503+Retry-After counted as throttled")
            rep.check(m.get('xraybridge_exporter_retries_total{exporter="otlphttp"}', 0) >= 1,
                      "retries counted")
            rep.check(b.stop() == 0, "exit 0 on SIGTERM")
    finally:
        fake.stop()


def mode_both(rep, tmp, binary):
    fake = FakeOtlp(REGION, AKID, SECRET, TOKEN)
    docs = os.path.join(tmp, "xray_docs.jsonl")
    xray = subprocess.Popen(["/usr/bin/python3", os.path.join(IT, "fake_xray.py"), "--docs-out", docs,
                             "--region", REGION, "--access-key", AKID, "--secret-key", SECRET,
                             "--session-token", TOKEN], stdout=subprocess.PIPE, text=True)
    try:
        xport = int(xray.stdout.readline())
        with Bridge(binary, tmp, config(fake.port, xray_port=xport), env()) as b:
            sent = send_sdk(tmp, b, "grpc", False)
            wait_for(lambda: len(fake.spans) >= 4, "4 spans at the fake OTLP endpoint")

            def xray_ids():
                if not os.path.exists(docs):
                    return set()
                with open(docs) as f:
                    # whole lines only: the fake X-Ray may be writing the last one
                    return {json.loads(line)["id"] for line in f
                            if line.endswith("\n") and line.strip()}
            want = {s["spanId"] for s in sent["spans"]}
            wait_for(lambda: want <= xray_ids(), "a document per span at the fake X-Ray")
            rep.check(want <= xray_ids(), "awsxray: every span became a segment document")
            check_spans(rep, sent, fake.spans, "otlphttp beside awsxray")
            # the fake X-Ray writes documents before its answer reaches the exporter
            poll_until(lambda: metrics(b.port("metrics endpoint")).get(
                'otelcol_exporter_sent_spans_total{exporter="awsxray"}', 0) >= 4, deadline_s=10)
            m = common_checks(rep, fake, b, 4)
            rep.check(m.get('otelcol_exporter_sent_spans_total{exporter="awsxray"}', 0) >= 4,
                      "awsxray sent its documents")
            rep.check(b.stop() == 0, "exit 0 on SIGTERM")
    finally:
        fake.stop()
        xray.send_signal(signal.SIGTERM)
        xray.wait(10)


def mode_partial(rep, tmp, binary):
    fake = FakeOtlp(REGION, AKID, SECRET, TOKEN)
    fake.script = ["partial:1"]
    try:
        with Bridge(binary, tmp, config(fake.port), env()) as b:
            mport = b.port("metrics endpoint")
            body = request([span_msg(i) for i in range(3)])
            rep.check(post_trace(b.port("otlp http receiver"), body, "application/x-protobuf") == 200,
                      "request accepted")
            wait_for(lambda: metrics(mport).get('otelcol_exporter_send_failed_spans_total{exporter="otlphttp"}') == 1,
                     "the rejected span counted as failed")
            m = metrics(mport)
            rep.check(m.get('otelcol_exporter_sent_spans_total{exporter="otlphttp"}') == 2,
                      "the other 2 spans counted as sent")
            rep.check(m.get('xraybridge_exporter_partial_success_rejected_spans_total{exporter="otlphttp"}') == 1,
                      "partial_success rejected spans counted")
            rep.check("partial success: 1 of 3 spans rejected: injected rejection" in b.log(),
                      "partial success logged with the endpoint's message")
            rep.check(fake.accepted_requests == 1, "not retried (the spec forbids it)")
            rep.check(b.stop() == 0, "exit 0 on SIGTERM")
    finally:
        fake.stop()


def span_msg(i, pad=0):
    tid = (0x5b8efff798038103d269b633813f0000 + i // 100).to_bytes(16, "big")
    sid = (0x1000000000000000 + i).to_bytes(8, "big")
    attrs = pbwire.ld(9, pbwire.ld(1, b"pad") + pbwire.ld(2, pbwire.ld(1, b"x" * pad))) if pad else b""
    return (pbwire.ld(1, tid) + pbwire.ld(2, sid) + pbwire.ld(5, f"span-{i}".encode())
            + pbwire.vfield(6, 2) + pbwire.tag(7, 1) + (1700000000000000000 + i).to_bytes(8, "little")
            + pbwire.tag(8, 1) + (1700000000001000000 + i).to_bytes(8, "little") + attrs)


def request(spans):
    resource = pbwire.ld(1, pbwire.ld(1, pbwire.ld(1, b"service.name") + pbwire.ld(2, pbwire.ld(1, b"split"))))
    scope = pbwire.ld(1, pbwire.ld(1, b"gen"))
    return pbwire.ld(1, resource + pbwire.ld(2, scope + b"".join(pbwire.ld(2, s) for s in spans)))


def mode_split(rep, tmp, binary):
    fake = FakeOtlp(REGION, AKID, SECRET, TOKEN)
    n = 12000
    big = 5000  # this one is over 200 KB
    try:
        with Bridge(binary, tmp, config(fake.port), env()) as b:
            spans = [span_msg(i, 210000 if i == big else 0) for i in range(n)]
            body = request(spans)
            rep.check(post_trace(b.port("otlp http receiver"), body, "application/x-protobuf") == 200,
                      f"one request of {n} spans ({len(body)} bytes) accepted")
            wait_for(lambda: len(fake.spans) >= n - 1, f"{n - 1} spans at the fake OTLP endpoint")
            names = [s["name"] for s in fake.spans]
            rep.check(len(names) == n - 1 and len(set(names)) == n - 1,
                      f"every span but the oversize one arrived once ({len(names)})")
            rep.check(f"span-{big}" not in names, "the span over 200 KB was not sent")
            rep.check(fake.accepted_requests >= 2, f"split into {fake.accepted_requests} requests")
            rep.check(all(s["resource"] == {"service.name": "split"} and s["scope"]["name"] == "gen"
                          for s in fake.spans), "resource and scope repeated in every part")
            m = metrics(b.port("metrics endpoint"))
            rep.check(m.get('xraybridge_exporter_otlp_oversize_spans_total{exporter="otlphttp"}') == 1,
                      "the oversize span counted")
            rep.check(not fake.violations, f"no request over the endpoint's limits {fake.violations[:3]}")
            rep.check(b.stop() == 0, "exit 0 on SIGTERM")
    finally:
        fake.stop()


def main(argv):
    binary, mode = argv[1], argv[2]
    rep = Report()
    with tempfile.TemporaryDirectory(prefix="xb_otlphttp_") as tmp:
        try:
            if mode in ("sdk", "sdk_plain"):
                mode_sdk(rep, tmp, binary, argv[3], mode == "sdk_plain")
            else:
                {"faults": mode_faults, "both": mode_both, "partial": mode_partial,
                 "split": mode_split}[mode](rep, tmp, binary)
        except Exception as e:  # a failed wait or a crashed helper is a failed test
            rep.check(False, f"{mode}: {e}")
            log = os.path.join(tmp, "xraybridge.stderr")
            if os.path.exists(log):
                with open(log) as f:
                    sys.stdout.write(f.read()[-3000:])
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
