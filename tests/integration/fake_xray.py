#!/usr/bin/python3
"""fake_xray.py: a stand-in for the AWS X-Ray PutTraceSegments API, for tests.

Run with Debian's interpreter (/usr/bin/python3), which can import python3-botocore:

    /usr/bin/python3 fake_xray.py --docs-out docs.jsonl [--region us-west-2]
        [--access-key AKID --secret-key SECRET [--session-token TOKEN]]
        [--fail-first N] [--throttle-first N] [--delay-ms MS]

It listens on 127.0.0.1 on an ephemeral port and prints "PORT" as the first
line of stdout. Endpoints:

* POST /TraceSegments: the X-Ray API call. Every request's SigV4 signature is
  recomputed with botocore (SigV4Auth, service "xray", the configured region
  and credentials, the request's own X-Amz-Date as signing time, exactly the
  headers the client listed in SignedHeaders) and the Authorization header
  must match byte for byte, else 403 InvalidSignatureException. The body must
  be JSON {"TraceSegmentDocuments": [1..50 strings]}, else 400. Each document
  must be a JSON object of at most 64000 bytes with name/id/trace_id/
  start_time, else it is returned in UnprocessedTraceSegments (as X-Ray
  does). Accepted documents are appended, parsed, one per line, to --docs-out.
* GET /_stats: JSON counters (requests, accepted_docs, unique_ids,
  duplicate_docs, max_in_flight, sig_failures, protocol_violations,
  injected_failures and a per-kind "injected" map, "unprocessed_ids" by error
  code, the current "control") plus the last error messages.
* POST /_control: switch the fault mode while running (not signed; tests only).
  The body is a JSON object; every key is optional and only the keys given are
  changed; the answer is the resulting control state:
    "mode":        "healthy" | "error" (answer "status") | "reset" (close the
                   connection without answering, with a TCP RST) | "throttle"
                   (429 ThrottlingException)
    "status":      HTTP status for mode "error" (default 503)
    "duration_s":  the mode reverts to "healthy" after this many seconds
                   (null: stays until changed)
    "latency_ms":  wait this long before answering every call
    "unprocessed": {"k": K, "code": "ThrottledException", "once_per_doc": true}
                   answer 200 but list the first K documents of each call in
                   UnprocessedTraceSegments with that ErrorCode (once_per_doc:
                   a document is bounced at most once, so a retry gets through);
                   null turns it off
    "script":      a list of per-call actions used before the mode, one per
                   call: "ok", "reset", "throttle" or an HTTP status such as 500
    "fail_next":   N, with "fail_status" S (an HTTP status, "reset" or
                   "throttle"; default 500): append N copies of S to the script
  SigV4 is verified on every call before any fault is applied, so a fault
  never hides a signing bug.

Fault injection at start-up (all off by default): --fail-first N answers the
first N PutTraceSegments calls with 500, --throttle-first N answers the next N
with 429 ThrottlingException, --delay-ms waits before answering every call.
"""

import argparse
import hashlib
import json
import socket
import struct
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MAX_DOCS_PER_REQUEST = 50
MAX_DOC_BYTES = 64000
SIGV4_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW_S = 300


class _FixedTimeSigV4(SigV4Auth):
    """botocore's SigV4 signer, but signing at a given time instead of now."""

    def __init__(self, credentials, service, region, amz_date):
        super().__init__(credentials, service, region)
        self._amz_date = amz_date

    def add_auth(self, request):
        request.context["timestamp"] = self._amz_date
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical)
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)


def expected_authorization(method, host, path, headers, body, creds, region):
    """Recompute the Authorization header the client should have sent.

    headers: list of (name, value) as received. Only the headers named in the
    received SignedHeaders list are given to botocore, so the comparison is
    exact whatever extra headers the HTTP client added. Returns (value, error).
    """
    auth = headers_get(headers, "authorization")
    if not auth:
        return None, "missing Authorization header"
    amz_date = headers_get(headers, "x-amz-date")
    if not amz_date:
        return None, "missing X-Amz-Date header"
    try:
        signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].strip().split(";")
    except IndexError:
        return None, "Authorization has no SignedHeaders"
    for required in ("host", "x-amz-date"):
        if required not in signed:
            return None, f"SignedHeaders lacks {required}"
    req_headers = []
    for name in signed:
        if name == "host":
            continue  # botocore derives it from the URL below
        values = [v for (k, v) in headers if k.lower() == name]
        if not values:
            return None, f"signed header {name} not sent"
        for v in values:
            req_headers.append((name, v))
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body)
    for name, value in req_headers:
        if name == "x-amz-date" or name == "x-amz-security-token":
            continue  # the signer re-adds both itself
        request.headers.add_header(name, value)
    if "x-amz-security-token" not in signed and creds.token:
        return None, "X-Amz-Security-Token is not signed"
    if "x-amz-security-token" in signed and not creds.token:
        return None, "X-Amz-Security-Token signed but no session token configured"
    signer = _FixedTimeSigV4(creds, "xray", region, amz_date)
    signer.add_auth(request)
    return request.headers["Authorization"], None


def headers_get(headers, name):
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


MODES = ("healthy", "error", "reset", "throttle")


def _action_ok(a):
    """True when a is a valid per-call action for "script"/"fail_status"."""
    if a in ("ok", "reset", "throttle"):
        return True
    try:
        return 200 <= int(a) <= 599
    except (TypeError, ValueError):
        return False


class State:
    """Counters, recorded documents and the fault controls, shared by the handler threads."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.requests = 0
        self.accepted_requests = 0
        self.accepted_docs = 0
        self.unprocessed_docs = 0
        self.sig_failures = 0
        self.protocol_violations = 0
        self.injected_failures = 0
        self.injected = {}          # kind ("http_503", "reset", "unprocessed_X", ...) -> count
        self.doc_counts = {}        # accepted document id -> times accepted
        self.duplicate_docs = 0
        self.unprocessed_ids = {}   # injected ErrorCode -> [document ids listed]
        self.bounced = set()        # ids already listed as unprocessed (once_per_doc)
        self.in_flight = 0
        self.max_in_flight = 0
        self.errors = []
        self.control = {"mode": "healthy", "status": 503, "until": None, "latency_ms": 0,
                        "unprocessed": None, "script": []}
        self.docs_file = open(args.docs_out, "a", encoding="utf-8")

    def note_error(self, kind, msg):
        # caller holds self.lock
        if len(self.errors) < 50:
            self.errors.append(f"{kind}: {msg}")
        print(f"fake_xray: {kind}: {msg}", file=sys.stderr, flush=True)

    def note_injected(self, kind, n=1):
        # caller holds self.lock
        self.injected[kind] = self.injected.get(kind, 0) + n

    def control_view(self):
        # caller holds self.lock
        c = dict(self.control)
        until = c.pop("until")
        c["script"] = list(c["script"])
        c["remaining_s"] = None if until is None else max(0.0, until - time.monotonic())
        return c

    def set_control(self, req):
        """Apply a /_control request; returns (control view, None) or (None, error)."""
        if not isinstance(req, dict):
            return None, "body must be a JSON object"
        known = {"mode", "status", "duration_s", "latency_ms", "unprocessed", "script",
                 "fail_next", "fail_status"}
        unknown = set(req) - known
        if unknown:
            return None, f"unknown keys {sorted(unknown)}"
        if "mode" in req and req["mode"] not in MODES:
            return None, f"mode must be one of {MODES}"
        if "status" in req and not (isinstance(req["status"], int) and 200 <= req["status"] <= 599):
            return None, "status must be an HTTP status"
        script = req.get("script", [])
        if not isinstance(script, list) or not all(_action_ok(a) for a in script):
            return None, "script must be a list of actions (ok, reset, throttle or an HTTP status)"
        fail_status = req.get("fail_status", 500)
        if not _action_ok(fail_status):
            return None, "fail_status must be an HTTP status, reset or throttle"
        unp = req.get("unprocessed")
        if unp is not None and not (isinstance(unp, dict) and isinstance(unp.get("k"), int)
                                    and isinstance(unp.get("code"), str)):
            return None, 'unprocessed must be null or {"k": int, "code": str[, "once_per_doc": bool]}'
        with self.lock:
            c = self.control
            if "mode" in req:
                c["mode"] = req["mode"]
                c["until"] = None
            if "status" in req:
                c["status"] = req["status"]
            if req.get("duration_s") is not None:
                c["until"] = time.monotonic() + float(req["duration_s"])
            if "latency_ms" in req:
                c["latency_ms"] = int(req["latency_ms"])
            if "unprocessed" in req:
                c["unprocessed"] = None if unp is None else {
                    "k": unp["k"], "code": unp["code"], "once_per_doc": bool(unp.get("once_per_doc", True))}
            if "script" in req:
                c["script"] = [str(a) for a in script]
            c["script"].extend([str(fail_status)] * int(req.get("fail_next", 0)))
            return self.control_view(), None

    def next_action(self, nreq):
        """The fault (or "ok") for PutTraceSegments call number nreq. Caller holds self.lock."""
        args, c = self.args, self.control
        if c["script"]:
            return c["script"].pop(0)
        if nreq <= args.fail_first:
            return "500"
        if nreq <= args.fail_first + args.throttle_first:
            return "throttle"
        if c["until"] is not None and time.monotonic() >= c["until"]:
            c["mode"], c["until"] = "healthy", None
        mode = c["mode"]
        if mode == "healthy":
            return "ok"
        if mode == "error":
            return str(c["status"])
        return mode

    def stats(self):
        with self.lock:
            return {
                "requests": self.requests,
                "accepted_requests": self.accepted_requests,
                "accepted_docs": self.accepted_docs,
                "unique_ids": len(self.doc_counts),
                "duplicate_docs": self.duplicate_docs,
                "duplicate_ids": sorted(k for k, v in self.doc_counts.items() if v > 1)[:20],
                "unprocessed_docs": self.unprocessed_docs,
                "unprocessed_ids": {k: list(v) for k, v in self.unprocessed_ids.items()},
                "sig_failures": self.sig_failures,
                "protocol_violations": self.protocol_violations,
                "injected_failures": self.injected_failures,
                "injected": dict(self.injected),
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "control": self.control_view(),
                "errors": list(self.errors),
            }


def check_document(raw):
    """Return (parsed, None) for an acceptable segment document, else (None, why)."""
    if not isinstance(raw, str):
        return None, "document is not a string"
    if len(raw.encode("utf-8")) > MAX_DOC_BYTES:
        return None, f"document larger than {MAX_DOC_BYTES} bytes"
    try:
        doc = json.loads(raw)
    except ValueError as e:
        return None, f"document is not JSON: {e}"
    if not isinstance(doc, dict):
        return None, "document is not a JSON object"
    for key in ("name", "id", "trace_id", "start_time"):
        if key not in doc:
            return None, f"document lacks {key}"
    return doc, None


class Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that can drop a connection with a TCP RST (mode "reset")."""

    daemon_threads = True

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.reset_socks = set()
        self.reset_lock = threading.Lock()

    def shutdown_request(self, request):
        with self.reset_lock:
            reset = request in self.reset_socks
            self.reset_socks.discard(request)
        if reset:
            self.close_request(request)  # no FIN first: SO_LINGER 0 turns the close into a RST
        else:
            super().shutdown_request(request)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-xray/1"

    def log_message(self, fmt, *args):  # keep stderr for real problems
        pass

    def _reply(self, code, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _reset(self):
        """Close the connection without an answer, with a TCP RST."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with self.server.reset_lock:
            self.server.reset_socks.add(self.connection)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        st = self.server.state
        if self.path == "/_stats":
            self._reply(200, st.stats())
        else:
            self._reply(404, {"message": "not found"})

    def do_POST(self):
        st = self.server.state
        body = self._read_body()
        if self.path == "/_control":
            try:
                req = json.loads(body or b"{}")
            except ValueError as e:
                self._reply(400, {"message": f"not JSON: {e}"})
                return
            view, why = st.set_control(req)
            if why is not None:
                self._reply(400, {"message": why})
            else:
                print(f"fake_xray: control {json.dumps(req)}", file=sys.stderr, flush=True)
                self._reply(200, view)
            return
        if self.path != "/TraceSegments":
            with st.lock:
                st.protocol_violations += 1
                st.note_error("protocol", f"POST to unexpected path {self.path}")
            self._reply(404, {"message": "unknown operation"})
            return
        with st.lock:
            st.requests += 1
            nreq = st.requests
            st.in_flight += 1
            st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            self._put_trace_segments(st, nreq, body)
        finally:
            with st.lock:
                st.in_flight -= 1

    def _put_trace_segments(self, st, nreq, body):
        args = st.args
        with st.lock:
            latency_ms = args.delay_ms + st.control["latency_ms"]
        if latency_ms > 0:
            time.sleep(latency_ms / 1000.0)

        headers = list(self.headers.items())
        creds = Credentials(args.access_key, args.secret_key, args.session_token or None)
        host = self.headers.get("Host") or ""
        want, why = expected_authorization("POST", host, self.path, headers, body, creds, args.region)
        got = self.headers.get("Authorization")
        if why is None and want != got:
            why = f"signature mismatch: got {got!r}, want {want!r}"
        if why is None and args.session_token and self.headers.get("X-Amz-Security-Token") != args.session_token:
            why = "X-Amz-Security-Token differs from the configured session token"
        if why is None:
            try:
                signed_at = datetime.strptime(self.headers["X-Amz-Date"], SIGV4_TIME_FORMAT).replace(tzinfo=timezone.utc)
                skew = abs((datetime.now(timezone.utc) - signed_at).total_seconds())
                if skew > MAX_CLOCK_SKEW_S:
                    why = f"X-Amz-Date {self.headers['X-Amz-Date']} is {skew:.0f}s away from now"
            except ValueError:
                why = f"bad X-Amz-Date {self.headers['X-Amz-Date']!r}"
        if why is None:
            sha = self.headers.get("X-Amz-Content-Sha256")
            if sha is not None and sha != hashlib.sha256(body).hexdigest():
                why = "X-Amz-Content-Sha256 does not match the body"
        if why is not None:
            with st.lock:
                st.sig_failures += 1
                st.note_error("sigv4", why)
            self._reply(403, {"__type": "InvalidSignatureException", "message": why})
            return

        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            with st.lock:
                st.protocol_violations += 1
                st.note_error("protocol", f"Content-Type {ctype!r}, want application/json")
            self._reply(400, {"__type": "InvalidRequestException", "message": "bad content type"})
            return

        with st.lock:
            action = st.next_action(nreq)
            if action != "ok":
                st.injected_failures += 1
                st.note_injected("reset" if action == "reset" else
                                 "http_429" if action == "throttle" else f"http_{action}")
        if action == "reset":
            self._reset()
            return
        if action == "throttle":
            self._reply(429, {"__type": "ThrottlingException", "message": "Rate exceeded"})
            return
        if action != "ok":
            code = int(action)
            kind = ("ServiceUnavailableException" if code == 503 else
                    "InternalFailure" if code >= 500 else "InvalidRequestException")
            self._reply(code, {"__type": kind, "message": f"injected HTTP {code}"})
            return

        try:
            payload = json.loads(body)
            docs = payload["TraceSegmentDocuments"]
            if not isinstance(docs, list) or not 1 <= len(docs) <= MAX_DOCS_PER_REQUEST:
                raise ValueError(f"TraceSegmentDocuments must hold 1..{MAX_DOCS_PER_REQUEST} documents")
        except (ValueError, KeyError, TypeError) as e:
            with st.lock:
                st.protocol_violations += 1
                st.note_error("protocol", f"bad request body: {e}")
            self._reply(400, {"__type": "InvalidRequestException", "message": str(e)})
            return

        unprocessed = []
        accepted = []  # (id, line)
        with st.lock:
            unp = st.control["unprocessed"]
            bounce_left = unp["k"] if unp else 0
            for raw in docs:
                doc, why = check_document(raw)
                if why is not None:
                    unprocessed.append({"Id": "", "ErrorCode": "InvalidDocument", "Message": why})
                    st.protocol_violations += 1
                    st.note_error("document", why)
                    continue
                did = str(doc.get("id"))
                if bounce_left > 0 and not (unp["once_per_doc"] and did in st.bounced):
                    bounce_left -= 1
                    st.bounced.add(did)
                    unprocessed.append({"Id": did, "ErrorCode": unp["code"], "Message": "injected"})
                    st.unprocessed_ids.setdefault(unp["code"], []).append(did)
                    st.note_injected(f"unprocessed_{unp['code']}")
                    continue
                accepted.append((did, json.dumps(doc, sort_keys=True)))
            st.accepted_requests += 1
            st.accepted_docs += len(accepted)
            st.unprocessed_docs += len(unprocessed)
            for did, _ in accepted:
                n = st.doc_counts.get(did, 0)
                if n:
                    st.duplicate_docs += 1
                st.doc_counts[did] = n + 1
            if accepted:
                st.docs_file.write("\n".join(line for _, line in accepted) + "\n")
                st.docs_file.flush()
        self._reply(200, {"UnprocessedTraceSegments": unprocessed})


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fake AWS X-Ray PutTraceSegments endpoint with SigV4 checking")
    p.add_argument("--docs-out", required=True, help="JSONL file receiving every accepted document")
    add_credential_args(p)
    p.add_argument("--session-token", default="")
    p.add_argument("--fail-first", type=int, default=0, help="answer the first N calls with 500")
    p.add_argument("--throttle-first", type=int, default=0, help="then answer N calls with 429")
    p.add_argument("--delay-ms", type=int, default=0, help="wait this long before answering each call")
    return p.parse_args(argv)


def add_credential_args(p):
    """The --region, --access-key and --secret-key options every fake X-Ray endpoint
    takes to verify SigV4 signatures (defaults: the AWS documentation's example key)."""
    p.add_argument("--region", default="us-west-2")
    p.add_argument("--access-key", default="AKIDEXAMPLE")
    p.add_argument("--secret-key", default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def serve(server, state):
    """Serves |server| (bound to 127.0.0.1:0) with |state| as server.state after printing
    its port as the first line of stdout, until interrupted; returns the exit code."""
    server.state = state
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv):
    args = parse_args(argv)
    return serve(Server(("127.0.0.1", 0), Handler), State(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
