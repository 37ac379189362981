#!/usr/bin/python3
"""run_e2e.py: end-to-end tests of the xraybridge binary (CTest driver).

Run with Debian's interpreter (/usr/bin/python3; fake_xray.py needs its botocore):

    /usr/bin/python3 run_e2e.py --binary build/app/xraybridge --mode e2e \
        --protocol grpc|http/protobuf|http/json [--gzip] [--no-session-token]
        [--inject-failures]
    /usr/bin/python3 run_e2e.py --binary ... --mode bad_input
    /usr/bin/python3 run_e2e.py --binary ... --mode sigterm_flush
    /usr/bin/python3 run_e2e.py --mode fake_selftest        (no binary needed)

Every mode starts its own fake X-Ray (fake_xray.py) and, except fake_selftest,
its own xraybridge with a generated config whose listeners use port 0; the
real ports are read from the binary's stderr. Everything binds 127.0.0.1,
lives in a temporary directory (kept with --keep), and every child process is
killed on the way out. Waiting is done by polling a condition against a
deadline, never by fixed sleeps. The last stdout line is
"N passed, N failed"; the exit status is 0 only when at least one check
passed and none failed.
"""

import argparse
import gzip
import http.client
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from pbwire import ld as _ld, tag as _tag, varint as _varint  # noqa: E402
from xbtest import clean_env, metrics_text  # noqa: E402

PY = "/usr/bin/python3"
AKID = "AKIDINTEGRATIONTEST"
SECRET = "integration/test+secret/key0123456789abcd"
TOKEN = "FwoGZXIvYXdzEXAMPLE//session+token="
REGION = "us-west-2"
TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
GRPC_OK, GRPC_INVALID_ARGUMENT, GRPC_RESOURCE_EXHAUSTED, GRPC_UNIMPLEMENTED = 0, 3, 8, 12

STARTUP_TIMEOUT_S = 20.0
DELIVERY_TIMEOUT_S = 20.0
EXIT_TIMEOUT_S = 30.0
WORKERS = 0  # service.workers written into the bridge's config (--workers); 0 = default


class Failures:
    """Collects check results; a check failing does not stop the others."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed.append(what)
            print(f"FAIL: {what}", flush=True)
        return cond

    def equal(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")


class Fatal(Exception):
    """A step the rest of the test depends on went wrong."""


def wait_until(pred, timeout, what, interval=0.05):
    """Poll pred() until it returns a truthy value; raise Fatal at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Fatal(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def read_jsonl(path):
    docs = []
    if not os.path.exists(path):
        return docs
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break  # the last line is still being written
            line = line.strip()
            if line:
                docs.append(json.loads(line))
    return docs


def count_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


# ---------------------------------------------------------------- processes

class FakeXray:
    """fake_xray.py as a child process."""

    def __init__(self, tmp, extra=()):
        self.docs_path = os.path.join(tmp, "xray_docs.jsonl")
        self.log_path = os.path.join(tmp, "fake_xray.stderr")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [PY, os.path.join(HERE, "fake_xray.py"), "--docs-out", self.docs_path,
             "--region", REGION, "--access-key", AKID, "--secret-key", SECRET, *extra],
            stdout=subprocess.PIPE, stderr=self._log, text=True)
        line = [None]
        reader = threading.Thread(target=lambda: line.__setitem__(0, self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT_S)
        if not line[0] or not line[0].strip().isdigit():
            self.stop()  # not in the caller's list yet: nobody else would kill it
            raise Fatal(f"fake_xray did not print its port (got {line[0]!r}); see {self.log_path}")
        self.port = int(line[0])

    def stats(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/_stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def control(self, **kw):
        """POST /_control (see fake_xray.py); returns the resulting control state."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("POST", "/_control", body=json.dumps(kw), headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            body = json.loads(r.read())
            if r.status != 200:
                raise Fatal(f"fake_xray /_control {kw}: {r.status} {body}")
            return body
        finally:
            conn.close()

    def docs(self):
        return read_jsonl(self.docs_path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()


class Bridge:
    """The xraybridge binary under test, with its stderr captured line by line."""

    def __init__(self, binary, tmp, fake_port, session_token=True, http_limit=4194304,
                 shutdown_timeout="10s", max_documents=50, awsxray_extra=(), health_threshold=None):
        """awsxray_extra: YAML lines ("key: value") added under exporters.awsxray;
        health_threshold: a duration turns the health_check extension on with that
        exporter_failure_threshold (its port is in .health_port)."""
        self.file_out = os.path.join(tmp, "file_exporter.jsonl")
        self.config_path = os.path.join(tmp, "xraybridge.yaml")
        self.log_path = os.path.join(tmp, "xraybridge.stderr")
        xray_extra = "".join(f"    {line}\n" for line in awsxray_extra)
        workers_yaml = f"  workers: {WORKERS}\n" if WORKERS else ""
        health_yaml = health_ext = ""
        if health_threshold is not None:
            health_yaml = ("extensions:\n  health_check: {endpoint: \"127.0.0.1:0\", "
                           f"exporter_failure_threshold: {health_threshold}}}\n")
            health_ext = "  extensions: [health_check]\n"
        with open(self.config_path, "w") as f:
            f.write(f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0"}}
      http: {{endpoint: "127.0.0.1:0", max_request_body_size: {http_limit}}}
exporters:
  awsxray:
    region: {REGION}
    endpoint: "http://127.0.0.1:{fake_port}"
    batch: {{max_documents: {max_documents}, timeout: 100ms}}
{xray_extra}  file:
    path: {self.file_out}
{health_yaml}service:
{health_ext}  pipelines:
    traces: {{receivers: [otlp], exporters: [awsxray, file]}}
  telemetry: {{logs: {{level: info}}, metrics: {{address: "127.0.0.1:0"}}}}
  shutdown_timeout: {shutdown_timeout}
{workers_yaml}""")
        env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET)
        if session_token:
            env["AWS_SESSION_TOKEN"] = TOKEN
        self.lines = []
        self.cond = threading.Condition()
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "--config", self.config_path], env=env,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.grpc_port = self._listen_port("otlp grpc receiver")
            self.http_port = self._listen_port("otlp http receiver")
            self.metrics_port = self._listen_port("metrics endpoint")
            self.health_port = None if health_threshold is None else self._listen_port("health endpoint")
            self.wait_log(r"xraybridge ready")
        except BaseException:
            self.stop()  # not in the caller's list yet: nobody else would kill it
            raise

    def _listen_port(self, what):
        return int(self.wait_log(rf"{what} listening on 127\.0\.0\.1:(\d+)").group(1))

    def _read(self):
        for line in self.proc.stderr:
            self._log.write(line)
            self._log.flush()
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of stream
            self.cond.notify_all()

    def wait_log(self, pattern, timeout=STARTUP_TIMEOUT_S):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            seen = 0
            while True:
                while seen < len(self.lines):
                    line = self.lines[seen]
                    seen += 1
                    if line is None:
                        raise Fatal(f"xraybridge stderr closed (exit {self.proc.poll()}) before /{pattern}/")
                    m = rx.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fatal(f"timed out waiting for /{pattern}/ on xraybridge stderr")
                self.cond.wait(left)

    def terminate(self, timeout=EXIT_TIMEOUT_S):
        """SIGTERM, then wait for the exit; returns the exit code (None on timeout)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stderr_tail(self, n=40):
        with self.cond:
            lines = [x for x in self.lines if x is not None]
        return "\n".join(lines[-n:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(5)
        self._log.close()


def node_bin():
    node = shutil.which("node")
    if not node:
        raise Fatal("node is not on PATH")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "@opentelemetry")):
        raise Fatal(f"{HERE}/node_modules is missing: run `npm ci` there (CTest fixture npm_ci does it)")
    return node


def node_env():
    """No OTEL_* (the SDK reads them) and no proxy variables (grpc-js honours them)."""
    return clean_env()


def grpc_call(port, method, payload, tmp, gzip_it=False):
    """One raw unary call through grpc-js; returns {"code": int, "details": str}."""
    path = os.path.join(tmp, f"grpc_req_{random.getrandbits(32):08x}.bin")
    with open(path, "wb") as f:
        f.write(payload)
    cmd = [node_bin(), os.path.join(HERE, "grpc_call.mjs"), "--target", f"127.0.0.1:{port}",
           "--method", method, "--file", path]
    if gzip_it:
        cmd.append("--gzip")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=node_env(), cwd=HERE)
    if r.returncode != 0 or not r.stdout.strip():
        raise Fatal(f"grpc_call.mjs failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- OTLP encoding (tests/lib/pbwire.py)

def _any_value(v):
    if isinstance(v, bool):
        return _tag(2, 0) + _varint(int(v))
    if isinstance(v, int):
        return _tag(3, 0) + _varint(v)
    if isinstance(v, float):
        return _tag(4, 1) + struct.pack("<d", v)
    if isinstance(v, (list, tuple)):
        return _ld(5, b"".join(_ld(1, _any_value(x)) for x in v))
    return _ld(1, str(v).encode())


def _key_value(k, v):
    return _ld(1, k.encode()) + _ld(2, _any_value(v))


KIND_NUM = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}


def make_span(name, kind="SERVER", parent=b"", trace_id=None, attrs=None, dur_ns=1_500_000):
    start = time.time_ns() - 2_000_000
    return {"trace_id": trace_id or os.urandom(16), "span_id": os.urandom(8), "parent": parent,
            "name": name, "kind": kind, "start": start, "end": start + dur_ns, "attrs": attrs or {}}


def encode_span(s):
    out = _ld(1, s["trace_id"]) + _ld(2, s["span_id"])
    if s["parent"]:
        out += _ld(4, s["parent"])
    out += _ld(5, s["name"].encode()) + _tag(6, 0) + _varint(KIND_NUM[s["kind"]])
    out += _tag(7, 1) + struct.pack("<Q", s["start"]) + _tag(8, 1) + struct.pack("<Q", s["end"])
    for k, v in s["attrs"].items():
        out += _ld(9, _key_value(k, v))
    for link_trace, link_span in s.get("links", ()):
        out += _ld(13, _ld(1, link_trace) + _ld(2, link_span))  # Span.links: Link{trace_id, span_id}
    return out


def encode_request(spans, service="raw-client"):
    """ExportTraceServiceRequest with one resource and one scope holding spans."""
    resource = _ld(1, _key_value("service.name", service))
    scope = _ld(1, _ld(1, b"run_e2e"))
    scope_spans = scope + b"".join(_ld(2, encode_span(s)) for s in spans)
    return _ld(1, _ld(1, resource) + _ld(2, scope_spans))


def make_requests(n_req, spans_per_req, tag, links=False, traces=None):
    """n_req OTLP/HTTP protobuf bodies, one trace each: [(span id hexes, body)]. |links|:
    every span also links to a span of another, random trace. |traces|: a dict filled with
    span id hex -> the X-Ray trace id of its own trace."""
    reqs = []
    for i in range(n_req):
        tid = os.urandom(16)
        spans = [make_span(f"{tag}-{i}-{k}", trace_id=tid) for k in range(spans_per_req)]
        for s in spans:
            if links:
                s["links"] = [(os.urandom(16), os.urandom(8))]
            if traces is not None:
                traces[s["span_id"].hex()] = f"1-{tid[:4].hex()}-{tid[4:].hex()}"
        reqs.append(([s["span_id"].hex() for s in spans], encode_request(spans, f"{tag}-svc")))
    return reqs


def encode_request_json(spans, service="raw-client"):
    def attr(k, v):
        if isinstance(v, bool):
            val = {"boolValue": v}
        elif isinstance(v, int):
            val = {"intValue": str(v)}
        elif isinstance(v, float):
            val = {"doubleValue": v}
        else:
            val = {"stringValue": str(v)}
        return {"key": k, "value": val}

    out = []
    for s in spans:
        j = {"traceId": s["trace_id"].hex(), "spanId": s["span_id"].hex(), "name": s["name"],
             "kind": KIND_NUM[s["kind"]], "startTimeUnixNano": str(s["start"]),
             "endTimeUnixNano": str(s["end"]), "attributes": [attr(k, v) for k, v in s["attrs"].items()]}
        if s["parent"]:
            j["parentSpanId"] = s["parent"].hex()
        out.append(j)
    body = {"resourceSpans": [{"resource": {"attributes": [attr("service.name", service)]},
                               "scopeSpans": [{"scope": {"name": "run_e2e"}, "spans": out}]}]}
    return json.dumps(body).encode()


def http_post(port, path, body, ctype, encoding=None, method="POST", timeout=15):
    """One HTTP/1.1 request to the OTLP/HTTP receiver; returns (status, content-type, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": ctype} if ctype else {}
        if encoding:
            headers["Content-Encoding"] = encoding
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, (r.getheader("Content-Type") or ""), r.read()
    finally:
        conn.close()


def http_try(port, path, body, ctype, encoding=None, method="POST", timeout=15):
    """http_post, but a connection failure comes back as the status "connection error ..."
    (so the check on the status fails and the mode goes on)."""
    try:
        return http_post(port, path, body, ctype, encoding, method, timeout)
    except (OSError, http.client.HTTPException) as e:
        return f"connection error {e!r}", "", b""


# ---------------------------------------------------------------- expected translation

def xray_trace_id(otlp_hex):
    return f"1-{otlp_hex[:8]}-{otlp_hex[8:]}"


def sanitize_name(name):
    keep = []
    for ch in name:
        if ch == " " or "0" <= ch <= "9" or unicodedata.category(ch).startswith("L") or ch in "_.:/%&#=+-@":
            keep.append(ch)
    raw = "".join(keep).encode("utf-8")[:200].decode("utf-8", "ignore")
    return raw or "span"


def expected_name(span, resource):
    """Segment name per docs/translation.md, Fields: name (the rules our trace exercises)."""
    a, kind = span["attributes"], span["kind"]
    if kind == "SERVER" and a.get("aws.local.service"):
        return a["aws.local.service"]
    if kind in ("CLIENT", "PRODUCER", "CONSUMER") and a.get("aws.remote.service"):
        return a["aws.remote.service"]
    for key in ("peer.service", "aws.service"):
        if a.get(key):
            return a[key]
    if a.get("db.name"):
        return a["db.name"]
    if kind == "SERVER" and resource.get("service.name"):
        return resource["service.name"]
    for key in ("rpc.service", "http.host", "net.peer.name"):
        if a.get(key):
            return a[key]
    return sanitize_name(span["name"])


def expected_flags(span):
    """(error, fault, throttle) per docs/translation.md, Fields: error / fault / throttle."""
    a = span["attributes"]
    code = a.get("http.status_code", a.get("http.response.status_code"))
    if not isinstance(code, int) or isinstance(code, bool):
        code = 0
    if 400 <= code <= 499:
        return True, False, code == 429
    if 500 <= code <= 599:
        return False, True, False
    return False, span["status"]["code"] == "ERROR", False


def strip_cause_ids(doc):
    """Copy of doc without the random exception ids, for comparing two sinks."""
    d = json.loads(json.dumps(doc))
    for e in (d.get("cause") or {}).get("exceptions", []) if isinstance(d.get("cause"), dict) else []:
        e.pop("id", None)
        e.pop("cause", None)
    return d


# Span attributes our trace uses that the http (section 10) and sql (section 12)
# blocks consume; every other span attribute must land in metadata.default.
CONSUMED_ATTRS = {"http.request.method", "url.path", "url.scheme", "url.full", "server.address",
                  "server.port", "http.response.status_code", "user_agent.original",
                  "db.system", "db.name", "db.statement"}


def check_span_doc(fx, span, doc, resource, sink):
    sid = span["spanId"]
    p = f"[{sink}] span {span['name']!r} ({sid})"
    fx.equal(doc.get("trace_id"), xray_trace_id(span["traceId"]), f"{p} trace_id")
    fx.equal(doc.get("id"), sid, f"{p} id")
    is_sub = span["kind"] != "SERVER" and bool(span["parentSpanId"])
    fx.equal(doc.get("type"), "subsegment" if is_sub else None, f"{p} type")
    fx.equal(doc.get("parent_id"), span["parentSpanId"] or None, f"{p} parent_id")
    fx.equal(doc.get("name"), expected_name(span, resource), f"{p} name")
    for key, ns_key in (("start_time", "startNs"), ("end_time", "endNs")):
        want = int(span[ns_key]) / 1e9
        got = doc.get(key)
        fx.check(isinstance(got, (int, float)) and abs(got - want) <= 1e-6,
                 f"{p} {key}: got {got!r}, want {want:.9f} (+-1e-6)")
    err, fault, throttle = expected_flags(span)
    fx.equal(doc.get("error"), err, f"{p} error")
    fx.equal(doc.get("fault"), fault, f"{p} fault")
    fx.equal(doc.get("throttle"), throttle, f"{p} throttle")
    fx.equal(doc.get("namespace"), "remote" if span["kind"] == "CLIENT" else None, f"{p} namespace")
    fx.equal(doc.get("service"), {"version": resource.get("service.version")}, f"{p} service")
    xray = (doc.get("aws") or {}).get("xray") or {}
    fx.equal(xray.get("sdk"), f"{resource['telemetry.sdk.name']} for {resource['telemetry.sdk.language']}",
             f"{p} aws.xray.sdk")
    fx.equal(xray.get("sdk_version"), resource.get("telemetry.sdk.version"), f"{p} aws.xray.sdk_version")
    fx.equal(xray.get("auto_instrumentation"), False, f"{p} aws.xray.auto_instrumentation")

    exc_events = [e for e in span["events"] if e["name"] == "exception"]
    cause = doc.get("cause")
    if exc_events:
        ex = ((cause or {}).get("exceptions") or [{}])[0]
        fx.equal(ex.get("message"), exc_events[0]["attributes"].get("exception.message"), f"{p} cause message")
        fx.equal(ex.get("type"), exc_events[0]["attributes"].get("exception.type"), f"{p} cause type")
        fx.equal(ex.get("remote"), span["kind"] in ("CLIENT", "PRODUCER"), f"{p} cause remote")
        fx.check(isinstance(ex.get("id"), str) and re.fullmatch(r"[0-9a-f]{16}", ex.get("id") or "") is not None,
                 f"{p} cause exception id {ex.get('id')!r} is not 16 hex digits")
    elif span["status"]["code"] == "ERROR" and span["status"]["message"]:
        ex = ((cause or {}).get("exceptions") or [{}])[0]
        fx.equal(ex.get("message"), span["status"]["message"], f"{p} cause message (status)")
    else:
        fx.equal(cause, None, f"{p} cause")

    a = span["attributes"]
    meta = ((doc.get("metadata") or {}).get("default")) or {}
    res_keys = sorted(k for k in meta if k.startswith("otel.resource."))
    if is_sub:
        fx.equal(res_keys, [], f"{p} resource attributes in a subsegment's metadata")
    else:
        fx.equal(meta.get("otel.resource.service.name"), resource["service.name"],
                 f"{p} metadata otel.resource.service.name")
        fx.equal(meta.get("otel.resource.deployment.environment.name"),
                 resource["deployment.environment.name"], f"{p} metadata otel.resource.deployment.environment.name")
    for k, v in a.items():
        if k in CONSUMED_ATTRS:
            fx.check(k not in meta, f"{p} {k} is consumed by the http/sql block, yet in metadata")
        else:
            got = meta.get(k)
            fx.check(got == v and type(got) is type(v), f"{p} metadata {k}: got {got!r}, want {v!r}")

    http_block = doc.get("http")
    if span["kind"] == "SERVER" and "http.request.method" in a:
        req = (http_block or {}).get("request") or {}
        resp = (http_block or {}).get("response") or {}
        fx.equal(req.get("method"), a["http.request.method"], f"{p} http.request.method")
        fx.equal(req.get("user_agent"), a.get("user_agent.original"), f"{p} http.request.user_agent")
        fx.equal(req.get("url"), f"{a['url.scheme']}://{a['server.address']}:{a['server.port']}{a['url.path']}",
                 f"{p} http.request.url")
        fx.equal(resp.get("status"), a["http.response.status_code"], f"{p} http.response.status")
    elif "url.full" in a:
        req = (http_block or {}).get("request") or {}
        resp = (http_block or {}).get("response") or {}
        fx.equal(req.get("url"), a["url.full"], f"{p} http.request.url")
        fx.equal(req.get("method"), a.get("http.request.method"), f"{p} http.request.method")
        fx.equal(resp.get("status"), a["http.response.status_code"], f"{p} http.response.status")
    else:
        fx.equal(http_block, None, f"{p} http block")

    if "db.system" in a:
        sql = doc.get("sql") or {}
        fx.equal(sql.get("url"), span["name"], f"{p} sql.url")
        fx.equal(sql.get("database_type"), a["db.system"], f"{p} sql.database_type")
        fx.equal(sql.get("sanitized_query"), a["db.statement"], f"{p} sql.sanitized_query")
        fx.equal(sql.get("connection_string"), f"localhost/{a['db.name']}", f"{p} sql.connection_string")
        fx.check("db.statement" not in meta, f"{p} db.statement must be consumed, not left in metadata")
    else:
        fx.equal(doc.get("sql"), None, f"{p} sql block")


def check_delivery(fx, spans, docs, sink):
    """Every span exactly once, nothing else; returns {span id: doc}."""
    by_id = {}
    for d in docs:
        by_id.setdefault(d.get("id"), []).append(d)
    want_ids = {s["spanId"] for s in spans}
    for s in spans:
        fx.equal(len(by_id.get(s["spanId"], [])), 1, f"[{sink}] copies of span {s['name']!r} ({s['spanId']})")
    extra = sorted(set(by_id) - want_ids)
    fx.equal(extra, [], f"[{sink}] documents for unknown span ids")
    return {k: v[0] for k, v in by_id.items() if k in want_ids}


# ---------------------------------------------------------------- modes

def mode_e2e(args, tmp, fx, procs):
    fake_args = ["--session-token", TOKEN] if args.session_token else []
    if args.inject_failures:
        fake_args += ["--fail-first", "1", "--throttle-first", "1"]
    fake = FakeXray(tmp, fake_args)
    procs.append(fake)
    bridge = Bridge(args.binary, tmp, fake.port, session_token=args.session_token)
    procs.append(bridge)
    print(f"xraybridge up: grpc={bridge.grpc_port} http={bridge.http_port}; fake X-Ray on {fake.port}", flush=True)
    if WORKERS > 1:
        with open(bridge.log_path) as f:
            fx.check(f"{WORKERS} ingest workers" in f.read(), f"{WORKERS} ingest workers started")

    ids_path = os.path.join(tmp, "ids.json")
    endpoint = (f"http://127.0.0.1:{bridge.grpc_port}" if args.protocol == "grpc"
                else f"http://127.0.0.1:{bridge.http_port}/v1/traces")
    cmd = [node_bin(), os.path.join(HERE, "send_trace.mjs"), "--protocol", args.protocol,
           "--endpoint", endpoint, "--out", ids_path]
    if args.gzip:
        cmd.append("--gzip")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=node_env(), cwd=HERE)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    if not fx.equal(r.returncode, 0, f"send_trace.mjs exit status ({args.protocol}, gzip={args.gzip})"):
        raise Fatal("the OpenTelemetry SDK could not export to xraybridge")
    with open(ids_path) as f:
        truth = json.load(f)
    spans, resource = truth["spans"], truth["resource"]
    fx.equal(len(spans), 4, "spans reported by send_trace.mjs")

    wait_until(lambda: count_lines(fake.docs_path) >= len(spans), DELIVERY_TIMEOUT_S,
               f"{len(spans)} documents at the fake X-Ray")
    wait_until(lambda: count_lines(bridge.file_out) >= len(spans), DELIVERY_TIMEOUT_S,
               f"{len(spans)} documents in the file exporter output")
    rc = bridge.terminate()
    fx.equal(rc, 0, "xraybridge exit status after SIGTERM")

    xdocs = check_delivery(fx, spans, fake.docs(), "xray")
    fdocs = check_delivery(fx, spans, read_jsonl(bridge.file_out), "file")
    for s in spans:
        if s["spanId"] in xdocs:
            check_span_doc(fx, s, xdocs[s["spanId"]], resource, "xray")
        if s["spanId"] in xdocs and s["spanId"] in fdocs:
            fx.equal(strip_cause_ids(fdocs[s["spanId"]]), strip_cause_ids(xdocs[s["spanId"]]),
                     f"file and X-Ray documents of span {s['name']!r} agree")
    st = fake.stats()
    fx.equal(st["sig_failures"], 0, "SigV4 failures at the fake X-Ray")
    fx.equal(st["protocol_violations"], 0, f"API violations at the fake X-Ray {st['errors']}")
    fx.check(st["accepted_requests"] >= 1, "at least one PutTraceSegments call")
    if args.inject_failures:
        fx.equal(st["injected_failures"], 2, "calls answered 500 then 429 by the fake (retried by xraybridge)")


def mode_bad_input(args, tmp, fx, procs):
    limit = 65536
    fake = FakeXray(tmp, ["--session-token", TOKEN])
    procs.append(fake)
    bridge = Bridge(args.binary, tmp, fake.port, http_limit=limit)
    procs.append(bridge)
    hp, gp = bridge.http_port, bridge.grpc_port
    print(f"xraybridge up: grpc={gp} http={hp}; fake X-Ray on {fake.port}", flush=True)
    sent_ok = []  # spans acknowledged by the receiver

    def still_serving(after):
        """One valid HTTP and one valid gRPC export must succeed; Fatal if the server hangs."""
        s = make_span(f"probe after {after}")
        status, _, _ = http_try(hp, "/v1/traces", encode_request([s]), "application/x-protobuf", timeout=10)
        if fx.equal(status, 200, f"valid OTLP/HTTP request after {after}"):
            sent_ok.append(s)
        g = make_span(f"grpc probe after {after}")
        res = grpc_call(gp, TRACE_METHOD, encode_request([g]), tmp)
        if fx.equal(res["code"], GRPC_OK, f"valid gRPC request after {after} ({res.get('details')})"):
            sent_ok.append(g)
        if status != 200 and res["code"] != GRPC_OK:
            raise Fatal(f"xraybridge stopped serving after {after}")

    good = encode_request([make_span("bad-input baseline")])
    truncated = good[:len(good) - 7]

    # --- OTLP/HTTP
    s = make_span("http protobuf ok")
    status, ctype, _ = http_post(hp, "/v1/traces", encode_request([s]), "application/x-protobuf")
    if fx.equal(status, 200, "valid application/x-protobuf request"):
        sent_ok.append(s)
    fx.equal(ctype.split(";")[0], "application/x-protobuf", "response content type for protobuf")
    s = make_span("http json ok")
    status, ctype, body = http_post(hp, "/v1/traces", encode_request_json([s]), "application/json")
    if fx.equal(status, 200, "valid application/json request"):
        sent_ok.append(s)
    fx.equal(ctype.split(";")[0], "application/json", "response content type for JSON")
    try:
        fx.check(isinstance(json.loads(body or b"null"), dict), f"JSON response body is an object: {body[:100]!r}")
    except ValueError:
        fx.check(False, f"JSON response body parses: {body[:100]!r}")
    s = make_span("http gzip ok")
    status, _, _ = http_post(hp, "/v1/traces", gzip.compress(encode_request([s])), "application/x-protobuf", "gzip")
    if fx.equal(status, 200, "valid gzip protobuf request"):
        sent_ok.append(s)

    cases = [
        ("truncated protobuf", "POST", "/v1/traces", truncated, "application/x-protobuf", None, 400),
        ("invalid JSON", "POST", "/v1/traces", b'{"resourceSpans": [', "application/json", None, 400),
        ("wrong content type", "POST", "/v1/traces", good, "text/plain", None, 415),
        ("GET /v1/traces", "GET", "/v1/traces", None, None, None, 405),
        ("unknown path", "POST", "/v1/unknown", good, "application/x-protobuf", None, 404),
        ("unsupported Content-Encoding", "POST", "/v1/traces", good, "application/x-protobuf", "br", 415),
        ("body over the limit", "POST", "/v1/traces", b"\x0a" + b"\x00" * (limit * 2),
         "application/x-protobuf", None, 413),
        ("corrupt gzip", "POST", "/v1/traces", b"\x1f\x8b\x08\x00garbage-not-deflate",
         "application/x-protobuf", "gzip", 400),
    ]
    for what, method, path, body, ctype, enc, want in cases:
        status, _, rbody = http_try(hp, path, body, ctype, enc, method)
        fx.equal(status, want, f"OTLP/HTTP {what}")
        if want == 400 and status == 400:
            fx.check(len(rbody) > 0, f"OTLP/HTTP {what}: 400 carries a google.rpc.Status body")
        still_serving(what)

    # --- gRPC
    res = grpc_call(gp, TRACE_METHOD, truncated, tmp)
    fx.equal(res["code"], GRPC_INVALID_ARGUMENT, f"gRPC truncated protobuf ({res.get('details')})")
    still_serving("gRPC truncated protobuf")
    res = grpc_call(gp, TRACE_METHOD, b"\x0a" + b"\x00" * (5 * 1024 * 1024), tmp)
    fx.equal(res["code"], GRPC_RESOURCE_EXHAUSTED, f"gRPC 5 MiB message ({res.get('details')})")
    still_serving("gRPC oversize message")
    res = grpc_call(gp, "/opentelemetry.proto.collector.trace.v1.TraceService/Frobnicate", good, tmp)
    fx.equal(res["code"], GRPC_UNIMPLEMENTED, f"gRPC unknown method ({res.get('details')})")
    res = grpc_call(gp, "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", good, tmp)
    fx.equal(res["code"], GRPC_UNIMPLEMENTED, f"gRPC unknown service ({res.get('details')})")
    still_serving("gRPC unknown method")
    g = make_span("grpc gzip ok")
    res = grpc_call(gp, TRACE_METHOD, encode_request([g]), tmp, gzip_it=True)
    if fx.equal(res["code"], GRPC_OK, f"gRPC gzip request ({res.get('details')})"):
        sent_ok.append(g)

    # --- decompression bombs last: a hang here must not hide the results above
    bomb = gzip.compress(b"\x00" * (4 * 1024 * 1024), 9)
    status, _, _ = http_try(hp, "/v1/traces", bomb, "application/x-protobuf", "gzip", timeout=10)
    fx.equal(status, 413, "OTLP/HTTP gzip bomb (4 KiB expanding to 4 MiB)")
    still_serving("OTLP/HTTP gzip bomb")
    res = grpc_call(gp, TRACE_METHOD, b"\x0a" + b"\x00" * (8 * 1024 * 1024), tmp, gzip_it=True)
    fx.equal(res["code"], GRPC_RESOURCE_EXHAUSTED, f"gRPC gzip message expanding to 8 MiB ({res.get('details')})")
    still_serving("gRPC gzip bomb")

    fx.check(bridge.proc.poll() is None, "xraybridge still running after all bad input")
    want = {s["span_id"].hex() for s in sent_ok}
    wait_until(lambda: {d.get("id") for d in fake.docs()} >= want, DELIVERY_TIMEOUT_S,
               f"{len(want)} acknowledged spans at the fake X-Ray")
    rc = bridge.terminate()
    fx.equal(rc, 0, "xraybridge exit status after SIGTERM")
    ids = [d.get("id") for d in fake.docs()]
    fx.equal(len(ids), len(set(ids)), "no duplicate documents")
    fx.equal(set(ids), want, "exactly the acknowledged spans were delivered")
    st = fake.stats()
    fx.equal(st["sig_failures"], 0, "SigV4 failures at the fake X-Ray")
    fx.equal(st["protocol_violations"], 0, f"API violations at the fake X-Ray {st['errors']}")


def mode_sigterm_flush(args, tmp, fx, procs):
    workers, per_worker, spans_per_req, trigger = 20, 5, 100, 10
    fake = FakeXray(tmp, ["--session-token", TOKEN, "--delay-ms", "10"])
    procs.append(fake)
    bridge = Bridge(args.binary, tmp, fake.port, shutdown_timeout="25s")
    procs.append(bridge)
    print(f"xraybridge up: http={bridge.http_port}; fake X-Ray on {fake.port}", flush=True)

    bodies = [make_requests(per_worker, spans_per_req, f"load-{w}") for w in range(workers)]
    sent = {sid for reqs in bodies for ids, _ in reqs for sid in ids}
    lock = threading.Lock()
    acked, outcomes = set(), {}
    enough = threading.Event()

    def worker(reqs):
        for ids, body in reqs:
            try:
                status, _, _ = http_post(bridge.http_port, "/v1/traces", body, "application/x-protobuf", timeout=30)
            except (OSError, http.client.HTTPException) as e:
                status = type(e).__name__
            with lock:
                outcomes[status] = outcomes.get(status, 0) + 1
                if status == 200:
                    acked.update(ids)
                    if len(acked) >= trigger * spans_per_req:
                        enough.set()
            if status != 200:
                return

    threads = [threading.Thread(target=worker, args=(b,), daemon=True) for b in bodies]
    for t in threads:
        t.start()
    if not enough.wait(60):
        raise Fatal(f"fewer than {trigger} requests acknowledged within 60s: {outcomes}")
    rc = bridge.terminate()
    for t in threads:
        t.join(30)
    fx.equal(rc, 0, "xraybridge exit status after SIGTERM under load")
    with lock:
        acked_now = set(acked)
        print(f"request outcomes: {outcomes}; acknowledged spans: {len(acked_now)} of {len(sent)}", flush=True)
    fx.check(len(acked_now) < len(sent), "SIGTERM arrived while requests were still in flight")

    for sink, docs in (("xray", fake.docs()), ("file", read_jsonl(bridge.file_out))):
        ids = [d.get("id") for d in docs]
        got = set(ids)
        fx.equal(len(ids) - len(got), 0, f"[{sink}] duplicate documents")
        missing = acked_now - got
        fx.check(not missing, f"[{sink}] {len(missing)} acknowledged spans lost, e.g. {sorted(missing)[:3]}")
        fx.equal(sorted(got - sent)[:3], [], f"[{sink}] documents for spans never sent")
    st = fake.stats()
    fx.equal(st["sig_failures"], 0, "SigV4 failures at the fake X-Ray")
    fx.equal(st["protocol_violations"], 0, f"API violations at the fake X-Ray {st['errors']}")
    print(f"shutdown log: {bridge.stderr_tail(3)}", flush=True)


def mode_fake_selftest(args, tmp, fx, procs):
    """Proves the fake X-Ray accepts correct SigV4 and rejects wrong ones."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    fake = FakeXray(tmp, ["--session-token", TOKEN])
    procs.append(fake)
    doc = {"name": "selftest", "id": "0123456789abcdef", "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
           "start_time": 1.5, "end_time": 2.5}

    def put(docs, secret=SECRET, token=TOKEN, tamper=False, sign=True):
        body = json.dumps({"TraceSegmentDocuments": [json.dumps(d) for d in docs]}).encode()
        req = AWSRequest(method="POST", url=f"http://127.0.0.1:{fake.port}/TraceSegments", data=body,
                         headers={"Content-Type": "application/json"})
        if sign:
            SigV4Auth(Credentials(AKID, secret, token), "xray", REGION).add_auth(req)
        if tamper:
            body = body.replace(b"selftest", b"selfTEST")
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
        try:
            conn.request("POST", "/TraceSegments", body=body, headers=dict(req.headers.items()))
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"{}")
        finally:
            conn.close()

    status, body = put([doc])
    fx.equal((status, body), (200, {"UnprocessedTraceSegments": []}), "correctly signed request accepted")
    fx.equal(put([doc], tamper=True)[0], 403, "body changed after signing rejected")
    fx.equal(put([doc], secret=SECRET + "x")[0], 403, "wrong secret key rejected")
    fx.equal(put([doc], token=None)[0], 403, "missing session token rejected")
    fx.equal(put([doc], sign=False)[0], 403, "unsigned request rejected")
    fx.equal(put([doc] * 51)[0], 400, "51 documents in one call rejected")
    big = dict(doc, metadata={"default": {"pad": "x" * 70000}})
    status, body = put([big])
    fx.equal((status, len(body.get("UnprocessedTraceSegments", []))), (200, 1), "document over 64000 bytes unprocessed")
    st = fake.stats()
    fx.equal(st["sig_failures"], 4, "signature failures counted")
    fx.equal(st["accepted_docs"], 1, "documents recorded")
    fx.equal([d["id"] for d in fake.docs()], [doc["id"]], "recorded document ids")


# ---------------------------------------------------------------- fault injection (AWS-grade export)

FAST_RETRY = "retry_on_failure: {initial_interval: 50ms, max_interval: 500ms}"
_METRIC_RX = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL_RX = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(port):
    """GET /metrics -> list of (name, {label: value}, float)."""
    try:
        text = metrics_text(port)
    except RuntimeError as e:
        raise Fatal(str(e))
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC_RX.match(line)
        if m:
            out.append((m.group(1), dict(_LABEL_RX.findall(m.group(2) or "")), float(m.group(3))))
    return out


def mval(samples, name, **labels):
    """Sum of the samples of metric name whose labels include labels (0 when absent)."""
    return sum(v for n, lab, v in samples
               if n == name and all(lab.get(k) == want for k, want in labels.items()))


def check_invariant(fx, samples, where):
    """Per exporter: documents built == sent + send_failed + queue_size; accepted spans == built."""
    built = mval(samples, "xraybridge_translator_documents_total")
    for exp in ("awsxray", "file"):
        sent = mval(samples, "otelcol_exporter_sent_spans_total", exporter=exp)
        failed = mval(samples, "otelcol_exporter_send_failed_spans_total", exporter=exp)
        queued = mval(samples, "otelcol_exporter_queue_size", exporter=exp)
        fx.check(built == sent + failed + queued,
                 f"{where}: [{exp}] documents built {built:.0f} == sent {sent:.0f} + send_failed "
                 f"{failed:.0f} + queue_size {queued:.0f}")
    accepted = mval(samples, "otelcol_receiver_accepted_spans_total")
    refused = mval(samples, "otelcol_receiver_refused_spans_total")
    fx.equal(accepted, built, f"{where}: accepted spans == documents built (no local-root spans sent; "
             f"refused spans {refused:.0f})")


def post_all(fx, port, reqs, what):
    """Sends every request once; each must be acknowledged with 200. Returns the acked ids."""
    acked = set()
    for ids, body in reqs:
        status, _, rbody = http_post(port, "/v1/traces", body, "application/x-protobuf")
        if fx.equal(status, 200, f"{what}: OTLP/HTTP export acknowledged"):
            acked.update(ids)
        else:
            print(f"  response body: {rbody[:200]!r}", flush=True)
    return acked


def fault_setup(args, tmp, procs, awsxray_extra=(), **kw):
    fake = FakeXray(tmp, ["--session-token", TOKEN])
    procs.append(fake)
    bridge = Bridge(args.binary, tmp, fake.port, awsxray_extra=(FAST_RETRY, *awsxray_extra), **kw)
    procs.append(bridge)
    print(f"xraybridge up: grpc={bridge.grpc_port} http={bridge.http_port} metrics={bridge.metrics_port}"
          f" health={bridge.health_port}; fake X-Ray on {fake.port}", flush=True)
    return fake, bridge


def metrics_if_drained(bridge):
    """The /metrics samples when both exporter queues are empty, else None."""
    m = scrape(bridge.metrics_port)
    return m if mval(m, "otelcol_exporter_queue_size") == 0 else None


def wait_drained(fake, bridge, want_ids, timeout=DELIVERY_TIMEOUT_S):
    """Waits until want_ids are at the fake and both exporter queues are empty; returns the metrics."""
    def done():
        got = {d.get("id") for d in fake.docs()}
        return metrics_if_drained(bridge) if got >= want_ids else None
    try:
        return wait_until(done, timeout, f"{len(want_ids)} documents at the fake X-Ray and empty queues")
    except Fatal:
        got = {d.get("id") for d in fake.docs()}
        m = scrape(bridge.metrics_port)
        print(f"drain timed out: {len(want_ids - got)} of {len(want_ids)} documents missing at the fake; "
              + ", ".join(f"{n}{lab}={v:.0f}" for n, lab, v in m if n.startswith(
                  ("otelcol_exporter", "xraybridge_exporter_queue", "xraybridge_translator_documents"))),
              flush=True)
        raise


def final_checks(fx, fake, bridge, sent_ids, m, absent=frozenset()):
    """Exactly-once delivery of sent_ids - absent, invariant, clean SigV4, exit 0."""
    check_invariant(fx, m, "after the drain")
    ids = [d.get("id") for d in fake.docs()]
    got = set(ids)
    st = fake.stats()
    fx.equal(len(ids) - len(got), 0, "duplicate documents at the fake X-Ray (JSONL)")
    fx.equal(st["duplicate_docs"], 0, f"duplicates counted by the fake {st['duplicate_ids'][:3]}")
    missing = (sent_ids - absent) - got
    fx.check(not missing, f"{len(missing)} spans never delivered, e.g. {sorted(missing)[:3]}")
    fx.equal(sorted(got - sent_ids)[:3], [], "documents for spans never sent")
    fx.equal(sorted(got & absent)[:3], [], "documents that should have been dropped were delivered")
    fx.equal(st["sig_failures"], 0, "SigV4 failures at the fake X-Ray")
    fx.equal(st["protocol_violations"], 0, f"API violations at the fake X-Ray {st['errors']}")
    fdocs = [d.get("id") for d in read_jsonl(bridge.file_out)]
    fx.equal((len(fdocs), set(fdocs)), (len(sent_ids), sent_ids), "file exporter: every span exactly once")
    rc = bridge.terminate()
    fx.equal(rc, 0, "xraybridge exit status after SIGTERM")
    return st


def exporter_counters(m):
    return {k: mval(m, n, exporter="awsxray") for k, n in (
        ("requests", "xraybridge_exporter_requests_total"),
        ("request_errors", "xraybridge_exporter_request_errors_total"),
        ("retries", "xraybridge_exporter_retries_total"),
        ("throttled", "xraybridge_exporter_throttled_total"))}


def mode_fault_throttle(args, tmp, fx, procs):
    fake, bridge = fault_setup(args, tmp, procs)
    fake.control(mode="throttle", duration_s=2.0)
    t0 = time.monotonic()
    acked = post_all(fx, bridge.http_port, make_requests(4, 50, "throttle"), "throttle")
    m = wait_drained(fake, bridge, acked, timeout=30)
    c = exporter_counters(m)
    st = fake.stats()
    print(f"throttle: delivered after {time.monotonic() - t0:.2f}s; fake calls {st['requests']}, "
          f"injected {st['injected']}; exporter {c}", flush=True)
    n429 = st["injected"].get("http_429", 0)
    fx.check(n429 > 0, "the fake answered some calls 429")
    fx.equal(c["throttled"], n429, "xraybridge_exporter_throttled_total == 429 answers")
    fx.check(c["retries"] > 0, f"xraybridge_exporter_retries_total > 0 ({c['retries']})")
    fx.check(c["request_errors"] >= n429, "request_errors_total counts the 429 answers")
    # Back-off: 2 s of throttling with 50ms..500ms jittered back-off is at most a few
    # dozen calls, not a tight loop.
    fx.check(n429 <= 60, f"back-off honoured: {n429} throttled calls in 2 s")
    final_checks(fx, fake, bridge, acked, m)


def mode_fault_5xx_and_resets(args, tmp, fx, procs):
    fake, bridge = fault_setup(args, tmp, procs)
    script = ["500", "reset", "503", "reset", "502", "reset", "500", "reset"]
    fake.control(script=script)
    acked = post_all(fx, bridge.http_port, make_requests(4, 50, "5xx"), "5xx/resets")
    m = wait_drained(fake, bridge, acked, timeout=30)
    c = exporter_counters(m)
    st = fake.stats()
    print(f"5xx/resets: fake calls {st['requests']}, injected {st['injected']}; exporter {c}", flush=True)
    fx.equal(st["control"]["script"], [], "every scripted failure was used")
    fx.equal(st["injected"].get("reset", 0), 4, "connections reset without an answer")
    fx.equal(sum(v for k, v in st["injected"].items() if k.startswith("http_5")), 4, "5xx answers")
    # libcurl itself re-sends a request once when a reused connection dies before any
    # response byte, so a reset may never reach xraybridge as an error.
    fx.check(c["request_errors"] >= 5, f"request_errors_total counts the 5xx answers and resets "
             f"({c['request_errors']} of 8 injected)")
    fx.check(c["retries"] >= c["request_errors"] / 2 and c["retries"] > 0,
             f"failed calls were retried ({c['retries']} retries)")
    fx.equal(c["throttled"], 0, "no throttling counted for 5xx/resets")
    fx.equal(mval(m, "otelcol_exporter_send_failed_spans_total", exporter="awsxray"), 0,
             "nothing given up")
    final_checks(fx, fake, bridge, acked, m)


def mode_fault_unprocessed(args, tmp, fx, procs):
    fake, bridge = fault_setup(args, tmp, procs)
    # Phase 1: retryable codes; every document bounced once must still arrive.
    fake.control(unprocessed={"k": 5, "code": "ThrottledException", "once_per_doc": True})
    acked = post_all(fx, bridge.http_port, make_requests(3, 50, "unp-retry"), "unprocessed retryable")
    wait_drained(fake, bridge, acked, timeout=30)
    fake.control(unprocessed={"k": 3, "code": "InternalFailure", "once_per_doc": True})
    acked2 = post_all(fx, bridge.http_port, make_requests(2, 50, "unp-internal"), "unprocessed internal")
    acked |= acked2
    wait_drained(fake, bridge, acked, timeout=30)
    st = fake.stats()
    thr = st["unprocessed_ids"].get("ThrottledException", [])
    internal = st["unprocessed_ids"].get("InternalFailure", [])
    fx.check(len(thr) >= 5 and len(internal) >= 3, f"the fake bounced documents ({len(thr)} + {len(internal)})")
    got = {d.get("id") for d in fake.docs()}
    fx.check(set(thr) | set(internal) <= got, "documents bounced with a retryable code arrived later")

    # Phase 2: a non-retryable code; those documents are dropped, counted and logged. Each
    # span links to another trace, whose id comes first in the document's text: the drop
    # log must still name the document's own trace.
    fake.control(unprocessed={"k": 4, "code": "InvalidSegment", "once_per_doc": True})
    own_trace = {}
    reqs = make_requests(2, 50, "unp-invalid", links=True, traces=own_trace)
    acked3 = post_all(fx, bridge.http_port, reqs, "unprocessed non-retryable")
    all_sent = acked | acked3

    def dropped_ids():
        return set(fake.stats()["unprocessed_ids"].get("InvalidSegment", []))

    wait_until(lambda: {d.get("id") for d in fake.docs()} | dropped_ids() >= all_sent, 30,
               "every document delivered or bounced as InvalidSegment")
    m = wait_until(lambda: metrics_if_drained(bridge), 30, "empty queues")
    fake.control(unprocessed=None)
    invalid = dropped_ids()
    print(f"unprocessed: bounced ThrottledException {len(thr)}, InternalFailure {len(internal)}, "
          f"InvalidSegment {len(invalid)}; exporter {exporter_counters(m)}", flush=True)
    fx.check(len(invalid) >= 4, f"the fake answered InvalidSegment for some documents ({len(invalid)})")
    fx.equal(mval(m, "xraybridge_exporter_rejected_documents_total", reason="unprocessed_non_retryable"),
             len(invalid), "rejected_documents_total{reason=unprocessed_non_retryable}")
    fx.equal(mval(m, "otelcol_exporter_send_failed_spans_total", exporter="awsxray"), len(invalid),
             "send_failed_spans_total{exporter=awsxray} == dropped documents")
    for code, ids in (("ThrottledException", thr), ("InvalidSegment", invalid)):
        fx.equal(mval(m, "xraybridge_exporter_unprocessed_documents_total", error_code=code), len(ids),
                 f"unprocessed_documents_total{{error_code={code}}}")
    fx.equal(mval(m, "xraybridge_exporter_unprocessed_documents_total"), len(thr) + len(internal) + len(invalid),
             "unprocessed_documents_total summed over error_code == documents the fake listed")
    fx.equal(mval(m, "xraybridge_exporter_unprocessed_documents_total", error_code="other"), len(internal),
             "unprocessed_documents_total{error_code=other} (InternalFailure)")
    fx.check(mval(m, "xraybridge_exporter_throttled_total") >= len(thr),
             "ThrottledException entries count as throttling")

    def logged():
        # The log is read from the process's stderr by another thread: its last lines can
        # arrive after the metrics already count the drops, so poll (bounded) for them.
        log = "\n".join(x for x in bridge.lines if x)
        return [i for i in invalid if f"dropping segment {i} of trace {own_trace.get(i)} " in log]

    try:
        wait_until(lambda: len(logged()) == len(invalid), 10, "every drop logged")
    except Fatal:
        pass  # reported by the check below
    fx.equal(len(logged()), len(invalid), "every dropped document logged with its segment and its own trace id "
             "(spans with links to other traces)")
    final_checks(fx, fake, bridge, all_sent, m, absent=frozenset(invalid))


def mode_fault_latency(args, tmp, fx, procs):
    fake, bridge = fault_setup(args, tmp, procs, max_documents=10,
                               awsxray_extra=("num_workers: 4", "request_timeout_seconds: 15"))
    fake.control(latency_ms=1500)
    t0 = time.monotonic()
    acked = post_all(fx, bridge.http_port, make_requests(4, 50, "latency"), "latency")
    m = wait_drained(fake, bridge, acked, timeout=60)
    took = time.monotonic() - t0
    st = fake.stats()
    c = exporter_counters(m)
    print(f"latency: 200 documents in 10-document calls at 1.5 s each took {took:.1f}s; "
          f"max concurrent calls at the fake {st['max_in_flight']}; exporter {c}", flush=True)
    fx.check(st["max_in_flight"] > 1, f"calls in flight concurrently ({st['max_in_flight']})")
    fx.check(st["max_in_flight"] <= 4, f"no more than num_workers=4 calls in flight ({st['max_in_flight']})")
    fx.equal(c["retries"], 0, "no retries: 1.5 s is well inside request_timeout_seconds")
    fx.check(took < 20 * 1.5, f"calls overlapped: {took:.1f}s < serial {20 * 1.5:.0f}s")
    final_checks(fx, fake, bridge, acked, m)


def _proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


def _rpc_status_code(body):
    """The code (field 1) of a google.rpc.Status protobuf, or None."""
    if len(body) >= 2 and body[0] == 0x08:
        code, shift = 0, 0
        for b in body[1:6]:
            code |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return code
    return None


def mode_fault_outage(args, tmp, fx, procs):
    max_bytes = 256 * 1024
    fake, bridge = fault_setup(args, tmp, procs, awsxray_extra=(f"sending_queue: {{max_bytes: {max_bytes}}}",),
                               shutdown_timeout="10s")
    pid = bridge.proc.pid
    warm = post_all(fx, bridge.http_port, make_requests(1, 20, "warmup"), "warm-up")
    wait_drained(fake, bridge, warm)
    base = _proc_status(pid)
    m0 = scrape(bridge.metrics_port)
    fx.equal(mval(m0, "xraybridge_exporter_queue_capacity_bytes", exporter="awsxray"), max_bytes,
             "queue byte capacity from sending_queue.max_bytes")
    cap_docs = mval(m0, "otelcol_exporter_queue_capacity", exporter="awsxray")

    # The senders: 4 OTLP/HTTP threads (Python) and 2 gRPC streams (grpc-js), each
    # with its own list of 50-span requests, retrying refused ones as told.
    http_workers, grpc_conc, per_worker, spans = 4, 2, 20, 50
    http_reqs = [make_requests(per_worker, spans, f"out-h{w}") for w in range(http_workers)]
    grpc_reqs = make_requests(grpc_conc * per_worker, spans, "out-g")
    sent = {i for reqs in http_reqs for ids, _ in reqs for i in ids} | {i for ids, _ in grpc_reqs for i in ids}
    lock = threading.Lock()
    acked, unknown = set(), set()
    tally = {"http_503": 0, "http_503_retry_after": 0, "http_503_status_body": 0, "http_other": {},
             "grpc_unavailable": 0, "grpc_retry_info": 0, "grpc_other": {}, "refused_spans": 0,
             "retry_after_values": set(), "grpc_delays": set()}
    stop_at = time.monotonic() + 120

    def http_worker(reqs):
        for ids, body in reqs:
            while time.monotonic() < stop_at:
                conn = http.client.HTTPConnection("127.0.0.1", bridge.http_port, timeout=15)
                try:
                    conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
                    r = conn.getresponse()
                    rbody, status, ra = r.read(), r.status, r.getheader("Retry-After")
                except (OSError, http.client.HTTPException) as e:
                    status, rbody, ra = type(e).__name__, b"", None
                finally:
                    conn.close()
                with lock:
                    if status == 200:
                        acked.update(ids)
                        break
                    if status != 503:
                        tally["http_other"][str(status)] = tally["http_other"].get(str(status), 0) + 1
                        unknown.update(ids)
                        break
                    tally["http_503"] += 1
                    tally["refused_spans"] += len(ids)
                    if ra is not None and ra.strip().isdigit():
                        tally["http_503_retry_after"] += 1
                        tally["retry_after_values"].add(ra.strip())
                    if _rpc_status_code(rbody):
                        tally["http_503_status_body"] += 1
                time.sleep(min(int(ra) if ra and ra.strip().isdigit() else 1, 5))

    bin_path = os.path.join(tmp, "grpc_requests.bin")
    with open(bin_path, "wb") as f:
        for _, body in grpc_reqs:
            f.write(struct.pack(">I", len(body)) + body)
    grpc_err_path = os.path.join(tmp, "otlp_load.stderr")
    with open(grpc_err_path, "w") as grpc_err:  # a file, not a pipe nobody reads until the end
        grpc_proc = subprocess.Popen([node_bin(), os.path.join(HERE, "otlp_load.mjs"), "--target",
                                      f"127.0.0.1:{bridge.grpc_port}", "--file", bin_path, "--concurrency",
                                      str(grpc_conc), "--deadline-ms", "110000"],
                                     stdout=subprocess.PIPE, stderr=grpc_err, text=True, env=node_env(), cwd=HERE)

    class _Node:  # so the finally block in main() kills it
        def stop(self):
            if grpc_proc.poll() is None:
                grpc_proc.kill()
            grpc_proc.wait()
    procs.append(_Node())
    grpc_done = threading.Event()

    def grpc_reader():
        for line in grpc_proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with lock:
                e = ev.get("event")
                if e == "ok":
                    acked.update(grpc_reqs[ev["req"]][0])
                elif e == "unavailable":
                    tally["grpc_unavailable"] += 1
                    tally["refused_spans"] += len(grpc_reqs[ev["req"]][0])
                    if ev.get("retry_info"):
                        tally["grpc_retry_info"] += 1
                        tally["grpc_delays"].add(ev.get("retry_delay_ms"))
                elif e in ("error", "gave_up"):
                    key = str(ev.get("code", e))
                    tally["grpc_other"][key] = tally["grpc_other"].get(key, 0) + 1
                    unknown.update(grpc_reqs[ev["req"]][0])
                elif e == "done":
                    grpc_done.set()
        grpc_done.set()

    samples = {"queue_docs": 0.0, "queue_bytes": 0.0, "rss": 0, "hwm": 0, "n": 0}
    sampling = threading.Event()

    def sampler():
        while not sampling.is_set():
            try:
                mm = scrape(bridge.metrics_port)
                samples["queue_docs"] = max(samples["queue_docs"], mval(mm, "otelcol_exporter_queue_size", exporter="awsxray"))
                samples["queue_bytes"] = max(samples["queue_bytes"], mval(mm, "xraybridge_exporter_queue_bytes", exporter="awsxray"))
                samples["n"] += 1
            except (OSError, http.client.HTTPException, Fatal):
                pass
            ps = _proc_status(pid)
            samples["rss"] = max(samples["rss"], ps.get("VmRSS", 0))
            samples["hwm"] = max(samples["hwm"], ps.get("VmHWM", 0))
            sampling.wait(0.05)

    # Outage: every call 503 until both transports saw backpressure, then connection
    # resets for a while, then recovery.
    fake.control(mode="error", status=503)
    t_out = time.monotonic()
    threads = [threading.Thread(target=http_worker, args=(r,), daemon=True) for r in http_reqs]
    threads += [threading.Thread(target=grpc_reader, daemon=True), threading.Thread(target=sampler, daemon=True)]
    for t in threads:
        t.start()

    def refused_both():
        with lock:
            return (tally["http_503"] >= 4 and tally["grpc_unavailable"] >= 2
                    and time.monotonic() - t_out >= 2.5)
    wait_until(refused_both, 30, "retryable backpressure on both OTLP/HTTP and gRPC during the outage")
    t_full = time.monotonic()
    fake.control(mode="reset")
    wait_until(lambda: fake.stats()["injected"].get("reset", 0) >= 3 and time.monotonic() - t_full >= 2.5,
               30, "connection resets during the outage")
    with lock:
        acked_in_outage = len(acked)
    outage_s = time.monotonic() - t_out
    fake.control(mode="healthy")
    t_rec = time.monotonic()
    for t in threads[:http_workers]:
        t.join(max(1.0, stop_at - time.monotonic()))
    grpc_done.wait(max(1.0, stop_at - time.monotonic()))
    t_senders = time.monotonic()
    m = wait_drained(fake, bridge, set(acked), timeout=60)
    t_drained = time.monotonic()
    sampling.set()
    threads[-1].join(5)
    grpc_proc.wait(10)
    with open(grpc_err_path, errors="replace") as f:
        err_tail = f.read()[-500:]

    st = fake.stats()
    with lock:
        acked_f = set(acked)
        t = dict(tally)
    mib = 1024 * 1024
    print("outage figures:", flush=True)
    print(f"  outage length {outage_s:.1f}s ({t_full - t_out:.1f}s of 503 until both transports had been "
          f"refused, then resets); spans acknowledged during the outage {acked_in_outage}", flush=True)
    print(f"  spans sent {len(sent)}, acknowledged {len(acked_f)}, outcome unknown {len(unknown)}", flush=True)
    print(f"  refused responses: OTLP/HTTP 503 {t['http_503']} (with Retry-After {t['http_503_retry_after']}, "
          f"values {sorted(t['retry_after_values'])}; google.rpc.Status body {t['http_503_status_body']}), "
          f"gRPC UNAVAILABLE {t['grpc_unavailable']} (with RetryInfo {t['grpc_retry_info']}, "
          f"delays ms {sorted(x for x in t['grpc_delays'] if x is not None)}); other HTTP {t['http_other']}, "
          f"other gRPC {t['grpc_other']}", flush=True)
    print(f"  peak queue (awsxray): {samples['queue_docs']:.0f} documents (capacity {cap_docs:.0f}), "
          f"{samples['queue_bytes']:.0f} bytes (cap {max_bytes}); {samples['n']} /metrics samples", flush=True)
    print(f"  RSS: baseline {base.get('VmRSS', 0) / mib:.1f} MiB, peak sampled {samples['rss'] / mib:.1f} MiB, "
          f"VmHWM {samples['hwm'] / mib:.1f} MiB", flush=True)
    print(f"  fake X-Ray: {st['requests']} calls, injected {st['injected']}", flush=True)
    print(f"  senders finished {t_senders - t_rec:.1f}s after recovery; queue drained "
          f"{t_drained - t_rec:.1f}s after recovery", flush=True)
    if err_tail.strip():
        print(f"  otlp_load.mjs stderr: {err_tail}", flush=True)

    fx.check(t["http_503"] > 0, "OTLP/HTTP clients were refused with 503 during the outage")
    fx.equal(t["http_503_retry_after"], t["http_503"], "every 503 carried a Retry-After header (seconds)")
    fx.equal(t["http_503_status_body"], t["http_503"], "every 503 carried a google.rpc.Status body")
    fx.check(t["grpc_unavailable"] > 0, "gRPC clients were refused with UNAVAILABLE during the outage")
    fx.equal(t["grpc_retry_info"], t["grpc_unavailable"], "every UNAVAILABLE carried google.rpc.RetryInfo")
    fx.equal(t["http_other"], {}, "no other OTLP/HTTP outcome than 200/503")
    fx.equal(t["grpc_other"], {}, "no other gRPC outcome than OK/UNAVAILABLE")
    fx.check(samples["n"] > 10, f"/metrics was sampled during the run ({samples['n']})")
    fx.check(samples["queue_bytes"] <= max_bytes, f"queue bytes never exceeded the cap ({samples['queue_bytes']:.0f})")
    fx.check(samples["queue_docs"] <= cap_docs, "queue documents never exceeded the capacity")
    fx.check(samples["queue_bytes"] >= max_bytes / 2, "the outage filled the queue (peak >= half the cap)")
    bound = base.get("VmRSS", 0) + 64 * mib
    fx.check(0 < samples["hwm"] <= bound, f"VmHWM {samples['hwm'] / mib:.1f} MiB <= baseline + 64 MiB")
    fx.equal(len(acked_f), len(sent), "every span was eventually acknowledged after recovery")
    fx.equal(mval(m, "otelcol_receiver_refused_spans_total"), t["refused_spans"],
             "otelcol_receiver_refused_spans_total == spans in refused requests")
    fx.equal(mval(m, "xraybridge_receiver_queue_full_requests_total"), t["http_503"] + t["grpc_unavailable"],
             "xraybridge_receiver_queue_full_requests_total == refused requests")
    fx.equal(mval(m, "otelcol_receiver_accepted_spans_total"), len(acked_f) + len(warm),
             "accepted spans == acknowledged spans (nothing partially enqueued)")
    fx.equal(mval(m, "otelcol_exporter_send_failed_spans_total", exporter="awsxray"), 0, "nothing given up")
    final_checks(fx, fake, bridge, acked_f | warm, m)


def _health_is(port, want):
    """(status, body) of GET /health when the status is |want|, else None."""
    r = _health(port)
    return r if r[0] == want else None


def _health(port, path="/health"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        try:
            return r.status, json.loads(body)
        except ValueError:
            return r.status, {"unparsed": body[:200].decode(errors="replace")}
    finally:
        conn.close()


def mode_health(args, tmp, fx, procs):
    fake, bridge = fault_setup(args, tmp, procs, health_threshold="1s")
    hp = bridge.health_port
    for path in ("/", "/health"):
        status, body = _health(hp, path)
        fx.equal((status, body.get("status")), (200, "Server available"), f"GET {path} at start-up")
    sent = post_all(fx, bridge.http_port, make_requests(1, 10, "health-ok"), "healthy")
    wait_drained(fake, bridge, sent)
    fx.equal(_health(hp)[0], 200, "healthy after a delivery")

    fake.control(mode="error", status=503)
    t0 = time.monotonic()
    sent |= post_all(fx, bridge.http_port, make_requests(1, 10, "health-outage"), "during the outage")
    status, body = wait_until(lambda: _health_is(hp, 503), 15,
                              "the health endpoint to answer 503 during the outage")
    took = time.monotonic() - t0
    print(f"health: 503 after {took:.2f}s of outage: {body}", flush=True)
    fx.check(took >= 0.9, f"not unhealthy before the 1s threshold ({took:.2f}s)")
    fx.equal(body.get("status"), "Server not available", "503 body status")
    fx.check("exporter" in str(body.get("reason", "")), f"503 reason names the exporter: {body.get('reason')!r}")
    fx.equal(_health(hp, "/")[0], 503, "GET / agrees with /health")

    fake.control(mode="healthy")
    t1 = time.monotonic()
    status, body = wait_until(lambda: _health_is(hp, 200), 15,
                              "the health endpoint to answer 200 after recovery")
    print(f"health: 200 again {time.monotonic() - t1:.2f}s after recovery: {body}", flush=True)
    fx.equal(body.get("status"), "Server available", "200 body status after recovery")
    m = wait_drained(fake, bridge, sent)
    final_checks(fx, fake, bridge, sent, m)


MODES = {"e2e": mode_e2e, "bad_input": mode_bad_input, "sigterm_flush": mode_sigterm_flush,
         "fake_selftest": mode_fake_selftest, "fault_throttle": mode_fault_throttle,
         "fault_5xx_and_resets": mode_fault_5xx_and_resets, "fault_unprocessed": mode_fault_unprocessed,
         "fault_latency": mode_fault_latency, "fault_outage": mode_fault_outage, "health": mode_health}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", help="path to the xraybridge executable")
    p.add_argument("--mode", required=True, choices=sorted(MODES))
    p.add_argument("--protocol", default="grpc", choices=["grpc", "http/protobuf", "http/json"])
    p.add_argument("--gzip", action="store_true", help="compress the export requests")
    p.add_argument("--no-session-token", dest="session_token", action="store_false",
                   help="run without AWS_SESSION_TOKEN (no X-Amz-Security-Token header expected)")
    p.add_argument("--inject-failures", action="store_true",
                   help="e2e: the fake X-Ray answers the first call 500 and the second 429")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--workers", type=int, default=0,
                   help="service.workers for the bridge (0: leave the default)")
    args = p.parse_args(argv)
    global WORKERS
    WORKERS = args.workers
    if args.mode != "fake_selftest":
        if not args.binary or not os.access(args.binary, os.X_OK):
            p.error(f"--binary must name an executable (got {args.binary!r})")
        args.binary = os.path.abspath(args.binary)

    tmp = tempfile.mkdtemp(prefix="xb-e2e-")
    fx, procs = Failures(), []
    try:
        MODES[args.mode](args, tmp, fx, procs)
    except Fatal as e:
        fx.check(False, f"fatal: {e}")
    except Exception as e:  # report, never hang: the finally below cleans up
        fx.check(False, f"unexpected {type(e).__name__}: {e}")
        import traceback
        traceback.print_exc()
    finally:
        for proc in reversed(procs):
            try:
                proc.stop()
            except Exception as e:  # keep cleaning the others
                print(f"cleanup: {e}", file=sys.stderr)
        if fx.failed:  # the logs are complete: every child has been stopped
            for name in ("xraybridge.stderr", "fake_xray.stderr"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        tail = "".join(f.readlines()[-40:])
                    if tail:
                        print(f"--- {name} (last lines; full log {path}):\n{tail}")
        if args.keep or fx.failed:
            print(f"artifacts kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{fx.passed} passed, {len(fx.failed)} failed")
    return 0 if fx.passed > 0 and not fx.failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
