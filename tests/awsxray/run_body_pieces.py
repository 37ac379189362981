#!/usr/bin/env python3
"""The awsxray exporter's PutTraceSegments bodies, byte for byte, against the real binary
on 127.0.0.1 with a loopback sink that keeps every raw request:

- a 50-document call (body well over libcurl's 64 KiB upload buffer: sent as pieces
  pointing into the documents, which are in embedded form since awsxray is the only
  exporter) and a 1-document call (under 64 KiB: copied into one buffer) arrive
  byte-identical to the bodies the same input gives when the documents are plain (a
  file exporter in the pipeline as well: build_body() escapes each document);
- every body carries a Content-Length equal to its size, no chunked encoding and no
  Expect: 100-continue;
- a call the sink answers 500, then drops unanswered on the kept connection (libcurl
  rewinds the body and sends it again on a new connection, without the exporter seeing
  a failure), is delivered, and every sending of it is the same bytes;
- the 50-document call, sent as pieces to tests/integration/fake_xray.py, passes its
  botocore SigV4 check (the payload hash taken over the pieces);
- over https the same calls arrive byte-identical (the first dropped once).

With --valgrind the build that sends pieces runs under valgrind's memcheck, which must
report no memory error and no definite or indirect leak.

usage: run_body_pieces.py XRAYBRIDGE_BINARY [--valgrind]
"""
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import (Bridge, FakeXray, Report, clean_env, post_trace, reply_json,  # noqa: E402
                    self_signed_cert, serve_loopback, wait_for)
from xbvalgrind import VALGRIND, check_clean_exit  # noqa: E402

TRACE = "5b8efff798038103d269b633813fc60c"
# Characters the embedded form escapes, and some it keeps.
PAD = 'quote " backslash \\ newline \n tab \t ctrl \x01 slash / e\u0301 \u00e9 \u4e2d \U0001f600 '


def span(i, pad_len):
    return {"traceId": TRACE, "spanId": f"{i + 1:016x}", "name": f"op-{i}", "kind": 2,
            "startTimeUnixNano": str(1700000000000000000 + i * 1000),
            "endTimeUnixNano": str(1700000000500000000 + i * 1000),
            "attributes": [{"key": "pad", "value": {"stringValue": (PAD * 80)[:pad_len]}},
                           {"key": "http.method", "value": {"stringValue": "GET"}}],
            "status": {}}


def request(first, n, pad_len):
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": "pieces"}}]},
        "scopeSpans": [{"scope": {"name": "t"},
                        "spans": [span(first + i, pad_len) for i in range(n)]}]}]}).encode()


class RawSink:
    """PutTraceSegments stand-in keeping each request's raw body and headers. |script|
    says what to do with the first requests in turn ("500", "drop": read it, close the
    connection without an answer); later ones are answered 200."""

    def __init__(self, script=(), tls=None):
        state = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "-1"))
                body = self.rfile.read(n) if n >= 0 else b""
                with state.lock:
                    what = state.script.pop(0) if state.script else "200"
                    state.requests.append((what, dict(self.headers), body))
                if what == "drop":
                    self.close_connection = True
                    return
                reply_json(self, int(what), b'{"UnprocessedTraceSegments":[]}')

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.script = list(script)
        self.requests = []
        self.server = serve_loopback(Handler, tls)
        self.port = self.server.server_port

    def delivered(self):
        """Bodies answered 200, in arrival order."""
        with self.lock:
            return [b for what, _, b in self.requests if what == "200"]

    def all(self):
        with self.lock:
            return list(self.requests)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def config(tmp, port, with_file, cert=None):
    exporters = "[awsxray, file]" if with_file else "[awsxray]"
    scheme = "https" if cert else "http"
    ca = f"\n    certificate_file_path: {cert}" if cert else ""
    return f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "{scheme}://127.0.0.1:{port}"{ca}
    num_workers: 1
    batch: {{timeout: 20ms}}
    retry_on_failure: {{initial_interval: 20ms, max_interval: 100ms}}
  file: {{path: "{tmp}/out.jsonl"}}
service:
  pipelines: {{traces: {{receivers: [otlp], exporters: {exporters}}}}}
  telemetry: {{metrics: {{address: ""}}}}
"""


def run(binary, tmp, with_file, script=(), prefix=(), tls=None):
    """Posts the 50-span request, waits for its call, then the 1-span one; returns the
    sink's requests, the bridge's log and its exit code. |prefix| as for Bridge; |tls| =
    (certfile, keyfile): the sink serves https and the bridge trusts certfile."""
    sink = RawSink(script, tls)
    deadline = 120 if prefix else 30
    env = clean_env(AWS_ACCESS_KEY_ID="AKIDPIECES", AWS_SECRET_ACCESS_KEY="secret")
    try:
        yaml = config(tmp, sink.port, with_file, tls[0] if tls else None)
        with Bridge(binary, tmp, yaml, env, prefix) as b:
            port = b.port("otlp http receiver")
            if post_trace(port, request(0, 50, 2400)) != 200:
                raise RuntimeError("the 50-span request was refused")
            wait_for(lambda: len(sink.delivered()) >= 1, "the 50-document call", deadline)
            if post_trace(port, request(50, 1, 300)) != 200:
                raise RuntimeError("the 1-span request was refused")
            wait_for(lambda: len(sink.delivered()) >= 2, "the 1-document call", deadline)
            rc = b.stop(deadline)
            log = b.log()
        return sink.all(), log, rc
    finally:
        sink.stop()


def signed_by_botocore(binary, tmp, rep):
    """The 50-span request through fake_xray.py, which recomputes every signature."""
    key, secret = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    fake = FakeXray(tmp, key, secret)
    env = clean_env(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    try:
        with Bridge(binary, tmp, config(tmp, fake.port, False), env) as b:
            if post_trace(b.port("otlp http receiver"), request(0, 50, 2400)) != 200:
                raise RuntimeError("the 50-span request was refused")
            wait_for(lambda: len(fake.docs()) >= 50, "50 documents at fake_xray")
            stats = fake.stats()
            b.stop()
        rep.check(len(fake.docs()) == 50 and stats.get("sig_failures") == 0,
                  f"fake_xray (botocore) accepted the 50-document call's signature "
                  f"({len(fake.docs())} documents, {stats.get('sig_failures')} signature "
                  f"failures)")
    finally:
        fake.stop()


def over_tls(binary, tmp, rep, want):
    """The same calls over https (libcurl's read callback feeding OpenSSL)."""
    if not shutil.which("openssl"):
        print("skipped: over https (no openssl command)")
        return
    cert, key = self_signed_cert(tmp)
    reqs, _, _ = run(binary, tmp, False, ["drop"], tls=(cert, key))
    got = [b for what, _, b in reqs if what == "200"]
    rep.check(got == want and [w for w, _, _ in reqs][:2] == ["drop", "200"],
              "over https: the calls (the first dropped once) arrive byte-identical")


def framing_ok(body, n_docs):
    """The body is exactly {"TraceSegmentDocuments":[...]} with |n_docs| strings."""
    try:
        docs = json.loads(body)["TraceSegmentDocuments"]
    except (ValueError, KeyError):
        return False
    return (body.startswith(b'{"TraceSegmentDocuments":["') and body.endswith(b'"]}')
            and len(docs) == n_docs and all(json.loads(d)["trace_id"] for d in docs))


def headers_ok(headers, body):
    h = {k.lower(): v for k, v in headers.items()}
    return (h.get("content-length") == str(len(body)) and "transfer-encoding" not in h
            and "100-continue" not in h.get("expect", "").lower())


def main():
    binary = sys.argv[1]
    prefix = VALGRIND if "--valgrind" in sys.argv[2:] else ()
    rep = Report()
    tmp = tempfile.mkdtemp(prefix="xb-pieces-")
    try:
        plain, _, _ = run(binary, tmp, True)
        pieces, log, rc = run(binary, tmp, False, ["500", "drop"], prefix)
        if prefix:
            check_clean_exit(rep, rc, log)

        want = [b for what, _, b in plain if what == "200"]
        got = [b for what, _, b in pieces if what == "200"]
        rep.check(len(want) == 2 and len(got) == 2,
                  f"two calls delivered each way (plain {len(want)}, pieces {len(got)})")
        if len(want) == 2 and len(got) == 2:
            rep.check(len(got[0]) > 65536,
                      f"the 50-document body is over 64 KiB ({len(got[0])} bytes)")
            rep.check(framing_ok(got[0], 50) and framing_ok(got[1], 1),
                      "the bodies hold 50 and 1 documents in PutTraceSegments framing")
            rep.check(got[0] == want[0],
                      "50-document body sent from the documents == the body built by escaping")
            rep.check(got[1] == want[1],
                      "1-document body sent from the documents == the body built by escaping")
        rep.check(all(headers_ok(h, b) for _, h, b in pieces + plain),
                  "every request: Content-Length = body size, not chunked, no 100-continue")
        whats = [what for what, _, _ in pieces]
        rep.check(whats[:3] == ["500", "drop", "200"],
                  f"the 50-document call was answered 500, dropped, then delivered ({whats})")
        rep.check(len({b for _, _, b in pieces[:3]}) == 1,
                  "its three sendings carry the same bytes")
        # The drop is on the connection kept from the 500: libcurl sends the request
        # again itself (rewinding the body); the exporter sees no failure.
        rep.check("PutTraceSegments answered HTTP 500" in log
                  and "PutTraceSegments failed" not in log,
                  "the dropped sending was sent again by libcurl, not failed to the exporter")
        if not prefix:
            signed_by_botocore(binary, tmp, rep)
            over_tls(binary, tmp, rep, want)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        rep.check(False, repr(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
