"""Helpers shared by the system tests under tests/ (proxy, TLS, credentials, valgrind):
run the real xraybridge binary on loopback ports, post OTLP to it, and stand in for
X-Ray with a loopback PutTraceSegments sink. Everything binds 127.0.0.1; callers
stop what they start (Bridge.stop / Sink.stop, or the context managers).
"""
import gzip as gzip_mod
import http.client
import http.server
import json
import os
import signal
import subprocess
import threading
import time

DEADLINE_S = 30


def wait_for(cond, what, deadline_s=DEADLINE_S):
    """Polls |cond| every 20 ms until it is true; raises after |deadline_s|."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def poll_until(cond, deadline_s=DEADLINE_S):
    """Polls |cond| like wait_for but never raises: returns whether it became true, for
    callers whose next check reports what is missing."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def post_trace(port, body, content_type="application/json", gzip=False):
    """POSTs one OTLP/HTTP export request; returns the HTTP status."""
    headers = {"Content-Type": content_type}
    if gzip:
        body = gzip_mod.compress(body)
        headers["Content-Encoding"] = "gzip"
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", "/v1/traces", body, headers)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def metrics_text(port, timeout=10):
    """The telemetry endpoint's /metrics page on 127.0.0.1:|port|, as text. Raises
    RuntimeError when it answers anything but 200, so that an error page never reads
    as a page without samples."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", "/metrics")
        r = c.getresponse()
        text = r.read().decode()
        if r.status != 200:
            raise RuntimeError(f"GET /metrics answered {r.status}")
        return text
    finally:
        c.close()


def metric_samples(text):
    """Every sample of a /metrics page |text| as {series: float value}, the series being
    the line up to its value, e.g. 'otelcol_exporter_sent_spans_total{exporter="file"}';
    blank and # lines are skipped."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def metric_family(text, name):
    """The samples of family |name| on a /metrics page |text|: (their sum as an int, {label
    text such as '{end="drained"}' or '': int value})."""
    total, by = 0, {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            head, value = line.rsplit(" ", 1)
            total += int(float(value))
            by[head[len(name):]] = int(float(value))
    return total, by


def clean_env(**extra):
    """The test's environment without AWS_*, OTEL_* and proxy variables, plus |extra|."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "OTEL_")) and "proxy" not in k.lower()}
    env.update(extra)
    return env


class Bridge:
    """xraybridge started with |config| (YAML text) in |tmp|; stderr goes to a log file.
    |prefix| runs it under another program (e.g. valgrind)."""

    def __init__(self, binary, tmp, config, env, prefix=()):
        self.cfg_path = os.path.join(tmp, "xraybridge.yaml")
        self.log_path = os.path.join(tmp, "xraybridge.stderr")
        with open(self.cfg_path, "w") as f:
            f.write(config)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([*prefix, binary, "--config", self.cfg_path],
                                         stderr=log, env=env)
        try:
            wait_for(lambda: "xraybridge ready" in self.log() or self.proc.poll() is not None,
                     "xraybridge start-up", deadline_s=120 if prefix else DEADLINE_S)
        except BaseException:
            self.__exit__()  # __init__ failed, so no `with` block will kill it
            raise
        if self.proc.poll() is not None:
            raise RuntimeError("xraybridge exited at start-up:\n" + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def port(self, what):
        """Bound port of "otlp http receiver", "otlp grpc receiver", "metrics endpoint"..."""
        return int(self.log().split(f"{what} listening on 127.0.0.1:")[1].split()[0])

    def stop(self, deadline_s=DEADLINE_S):
        """SIGTERM and wait; returns the exit code (kills it if it does not stop)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self):
        """SIGKILL (a crash: nothing is flushed) and reap it."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def self_signed_cert(tmp):
    """Writes a self-signed certificate for 127.0.0.1 (and its key) into |tmp| with the
    openssl command; returns (certfile, keyfile). Callers check that openssl exists."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def serve_loopback(handler, tls=None):
    """A ThreadingHTTPServer for the request handler class |handler| on 127.0.0.1 (an
    ephemeral port: .server_port), serving on a daemon thread; |tls| = (certfile,
    keyfile) serves https. The caller stops it (shutdown(), then server_close())."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def reply_json(handler, status, body):
    """Answers the request |handler| is serving with |status| and the JSON bytes |body|."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class Sink:
    """Loopback PutTraceSegments stand-in: answers 200 with no unprocessed segments,
    counts documents and request paths and keeps every document string (snapshot()).
    |tls| = (certfile, keyfile) serves https."""

    def __init__(self, tls=None):
        state = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                docs = json.loads(body)["TraceSegmentDocuments"]
                with state.lock:
                    state.documents += len(docs)
                    state.docs.extend(docs)
                    state.paths.append(self.path)
                reply_json(self, 200, b'{"UnprocessedTraceSegments":[]}')

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.documents = 0
        self.docs = []
        self.paths = []
        self.server = serve_loopback(Handler, tls)
        self.port = self.server.server_port

    def snapshot(self):
        """A copy of the document strings received so far, in arrival order."""
        with self.lock:
            return list(self.docs)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class FakeXray:
    """tests/integration/fake_xray.py as a child process on 127.0.0.1 (it verifies every
    SigV4 signature with botocore); accepted documents are read back with docs().
    |script| runs another fake taking the same arguments, with |extra_args| put first,
    e.g. tests/awsxray/fake_xray_raw.py. Stopped by stop()."""

    def __init__(self, tmp, access_key, secret_key, region="us-west-2", script=None,
                 extra_args=()):
        here = os.path.dirname(os.path.abspath(__file__))
        script = script or os.path.join(here, "..", "integration", "fake_xray.py")
        self.docs_path = os.path.join(tmp, "xray_docs.jsonl")
        self.log = open(os.path.join(tmp, "fake_xray.stderr"), "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", script, *extra_args,
             "--docs-out", self.docs_path, "--region", region, "--access-key", access_key,
             "--secret-key", secret_key],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = [None]
        t = threading.Thread(target=lambda: line.__setitem__(0, self.proc.stdout.readline()),
                             daemon=True)
        t.start()
        t.join(10)
        if not line[0] or not line[0].strip().isdigit():
            self.stop()
            raise RuntimeError(f"{os.path.basename(script)} did not print its port "
                               f"(got {line[0]!r})")
        self.port = int(line[0])

    def docs(self):
        """Every accepted document so far, parsed, in arrival order."""
        try:
            with open(self.docs_path, encoding="utf-8") as f:
                return [json.loads(x) for x in f if x.strip()]
        except FileNotFoundError:
            return []

    def stats(self):
        """The fake's GET /_stats counters (sig_failures, duplicate_docs, ...)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", "/_stats")
            return json.loads(c.getresponse().read())
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


class Report:
    """PASS/FAIL lines and the closing "N passed, N failed" line CI reads."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what):
        print(("PASS" if ok else "FAIL") + ": " + what, flush=True)
        self.passed += bool(ok)
        self.failed += not ok

    def run(self, scenarios):
        """Runs each (name, callable) in turn; an exception is one FAIL line naming the
        scenario, and the next scenario still runs."""
        for name, run in scenarios:
            try:
                run()
            except Exception as e:  # noqa: BLE001 - reported as a failure
                self.check(False, f"{name}: {e!r}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 and self.passed > 0 else 1
