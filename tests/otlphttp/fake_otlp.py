"""fake_otlp.py: a loopback stand-in for X-Ray's OTLP endpoint (POST /v1/traces,
OTLP/HTTP protobuf, SigV4 service "xray"), run in the test's own process.

Every request's SigV4 signature is recomputed with botocore (the same check as
tests/integration/fake_xray.py, imported from there) and must match byte for byte, else
403. The body (gunzipped when Content-Encoding is gzip) must be application/x-protobuf,
at most 5 MB uncompressed and 10,000 spans (X-Ray's documented limits), else 400. The
spans are decoded with tests/otlphttp/otlp_decode.py and recorded. A script of per-call
actions injects faults before the request is recorded: "429" and "503" (with
Retry-After: 1), "500", "400", or "partial:N" (accept, but answer partial_success with
rejected_spans N). Binds 127.0.0.1 only; stop() shuts it down.
"""
import gzip
import http.server
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

from botocore.credentials import Credentials  # noqa: E402  (Debian python3-botocore)

import otlp_decode  # noqa: E402
from fake_xray import expected_authorization  # noqa: E402

MAX_BYTES = 5 * 1000 * 1000
MAX_SPANS = 10000


class FakeOtlp:
    def __init__(self, region, akid, secret, token=None):
        self.lock = threading.Lock()
        self.spans = []          # every accepted span, in arrival order
        self.requests = 0
        self.accepted_requests = 0
        self.sig_failures = 0
        self.violations = []
        self.injected = 0
        self.gzip_requests = 0
        self.script = []
        self.creds = Credentials(akid, secret, token)
        self.region = region
        self.token = token
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, code, body=b"", ctype="application/x-protobuf", extra=()):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.handle(self, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def violation(self, why):
        with self.lock:
            self.violations.append(why)

    def handle(self, h, body):
        with self.lock:
            self.requests += 1
        if h.path != "/v1/traces":
            self.violation(f"path {h.path}")
            h.reply(404)
            return
        headers = list(h.headers.items())
        want, why = expected_authorization("POST", h.headers.get("Host") or "", h.path, headers,
                                           body, self.creds, self.region)
        if why is None and want != h.headers.get("Authorization"):
            why = "signature mismatch"
        if why is None and self.token and h.headers.get("X-Amz-Security-Token") != self.token:
            why = "session token differs"
        if why is not None:
            with self.lock:
                self.sig_failures += 1
            print(f"fake_otlp: sigv4: {why}", file=sys.stderr, flush=True)
            h.reply(403, b"signature", "text/plain")
            return
        if (h.headers.get("Content-Type") or "") != "application/x-protobuf":
            self.violation(f"content type {h.headers.get('Content-Type')}")
            h.reply(415)
            return
        raw = body
        if (h.headers.get("Content-Encoding") or "").lower() == "gzip":
            raw = gzip.decompress(body)
            with self.lock:
                self.gzip_requests += 1
        if len(raw) > MAX_BYTES:
            self.violation(f"request of {len(raw)} bytes")
            h.reply(400)
            return
        try:
            spans = otlp_decode.decode_request(raw)
        except ValueError as e:
            self.violation(f"undecodable request: {e}")
            h.reply(400)
            return
        if len(spans) > MAX_SPANS:
            self.violation(f"{len(spans)} spans in one request")
            h.reply(400)
            return
        with self.lock:
            action = self.script.pop(0) if self.script else "ok"
            if action != "ok":
                self.injected += 1
        if action in ("429", "503"):
            h.reply(int(action), b"", "text/plain", [("Retry-After", "1")])
            return
        if action in ("500", "400"):
            h.reply(int(action), b"injected", "text/plain")
            return
        with self.lock:
            self.accepted_requests += 1
            self.spans.extend(spans)
        if action.startswith("partial:"):
            h.reply(200, otlp_decode.encode_partial_success(int(action[8:]), "injected rejection"))
        else:
            h.reply(200)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
