"""System test of the connection balance across ingest workers (service.workers: 2,
app/balance.h, app/workers.c), against the real binary on 127.0.0.1:

- plaintext gRPC: 8 long-lived connections, each carrying one Export, are open at once
  and the per-worker gauge xraybridge_worker_grpc_connections differs by at most 1
  between the workers; then 40 connections; then 15 of them close and 15 new ones open
  and the split is even again (new connections refill the worker that lost them); then
  every connection closes and 8 connect at once from 8 threads (the burst after an
  agent restart) and split 4:4;
  connections were handed over (xraybridge_worker_grpc_connections_handed_over_total:
  with 40 connections the kernel's own split is even at every step with probability
  2^-20), every call answered OK, every span written, and both workers served calls;
- TLS gRPC (ALPN h2): the same with 8 connections;
- OTLP/HTTP keep-alive: HTTP connections stay where the kernel placed them. 8 clients
  connect and the per-worker gauge xraybridge_worker_http_connections counts all 8 over
  both workers; each posts 3 times on its connection, every post answered 200 without
  Connection: close and every span written; 3 clients close and the gauge drops to 5;
- SIGTERM with every connection still open: exit 0, the stop summary logged, no error.

usage: run_balance.py XRAYBRIDGE_BINARY
"""
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "receiver"))
from h2raw import (PREFACE, SETTINGS, H2Conn, export_request, frame,  # noqa: E402
                   grpc_headers, grpc_message)
from xbtest import Bridge, Report, clean_env, poll_until, metrics_text  # noqa: E402

WORKERS = 2
SPANS = 3
GAUGE = "xraybridge_worker_grpc_connections"
HANDED = "xraybridge_worker_grpc_connections_handed_over_total"
HTTP_GAUGE = "xraybridge_worker_http_connections"


class TlsH2Conn(H2Conn):
    """H2Conn over TLS with ALPN h2, trusting |cafile|."""

    def __init__(self, port, cafile, timeout=5.0):
        ctx = ssl.create_default_context(cafile=cafile)
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.sock.settimeout(timeout)
        self.buf = b""
        self.frames = []
        self.closed = False
        self.next_id = 1
        self.preface_sent = True
        self.send(PREFACE + frame(SETTINGS, 0, 0))


def call(conn):
    """One Export on the open connection |conn|; True when answered OK."""
    sid = conn.new_stream()
    conn.headers(sid, grpc_headers())
    conn.data(sid, grpc_message(export_request(SPANS, "balance")), end_stream=True)
    conn.wait(lambda c: c.stream_ended(sid), 10)
    return conn.call_ok(sid)


def by_worker(text, name):
    """{worker: value} of the samples of |name|."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            head, value = line.rsplit(" ", 1)
            out[head.split('worker="')[1].split('"')[0]] = int(float(value))
    return out


def lines(path):
    try:
        with open(path) as f:
            return sum(1 for ln in f if ln.strip())
    except FileNotFoundError:
        return 0


def config(out, grpc_tls=""):
    tls = f", tls: {grpc_tls}" if grpc_tls else ""
    return f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0"{tls}}}
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
  file: {{path: "{out}", batch: {{timeout: 20ms}}}}
service:
  workers: {WORKERS}
  shutdown_timeout: 5s
  pipelines: {{traces: {{receivers: [otlp], exporters: [file]}}}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


class Run:
    """Opens connections to one bridge and checks the per-worker gauge."""

    def __init__(self, report, br, out, connect):
        self.report, self.br, self.out, self.connect = report, br, out, connect
        self.mport = br.port("metrics endpoint")
        self.conns, self.calls, self.ok = [], 0, 0

    def open(self, n):
        for _ in range(n):
            c = self.connect()
            self.conns.append(c)
            self.calls += 1
            self.ok += call(c)  # answered: the connection is served by now

    def burst(self, n):
        """|n| connections opened (and one call made on each) by |n| threads at once."""
        got, lock = [], threading.Lock()

        def one():
            c = self.connect()
            ok = call(c)
            with lock:
                got.append((c, ok))

        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.conns += [c for c, _ in got]
        self.calls += n
        self.ok += sum(ok for _, ok in got)

    def close(self, n):
        for c in self.conns[:n]:
            c.close()
        self.conns = self.conns[n:]

    def gauge(self):
        return by_worker(metrics_text(self.mport), GAUGE)

    def check_split(self, what, balanced=True):
        want = len(self.conns)
        poll_until(lambda: sum(self.gauge().values()) == want)
        g = self.gauge()
        vals = list(g.values())
        self.report.check(len(vals) == WORKERS and sum(vals) == want,
                          f"{what}: gauge counts the {want} open connections ({g})")
        if balanced:
            self.report.check(vals and max(vals) - min(vals) <= 1,
                              f"{what}: open connections differ by at most 1 ({g})")

    def check_flow(self, what):
        self.report.check(self.ok == self.calls, f"{what}: {self.ok}/{self.calls} calls OK")
        want = self.calls * SPANS
        poll_until(lambda: lines(self.out) >= want)
        self.report.check(lines(self.out) == want,
                          f"{what}: every span written ({lines(self.out)}/{want})")

    def check_stop(self, what):
        rc = self.br.stop()
        log = self.br.log()
        self.report.check(rc == 0, f"{what}: SIGTERM with connections open exits 0 ({rc})")
        self.report.check("xraybridge stopped" in log, f"{what}: stop summary logged")
        self.report.check("ERROR" not in log, f"{what}: no error logged")
        for c in self.conns:
            c.close()


def otlp_json(n):
    """OTLP/JSON request number |n| with SPANS spans."""
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": f"{n:032x}", "spanId": f"{n * 100 + i + 1:016x}", "name": "balance",
        "kind": 2, "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000100000000"} for i in range(SPANS)]}]}]}).encode()


def http_keepalive(report, binary):
    with tempfile.TemporaryDirectory(prefix="xb-balance-http-") as tmp:
        out = os.path.join(tmp, "out.jsonl")
        with Bridge(binary, tmp, config(out), clean_env()) as br:
            port, mport = br.port("otlp http receiver"), br.port("metrics endpoint")
            clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                       for _ in range(8)]
            for c in clients:
                c.connect()
            poll_until(lambda: sum(by_worker(metrics_text(mport), HTTP_GAUGE).values()) == 8)
            g = by_worker(metrics_text(mport), HTTP_GAUGE)
            report.check(len(g) == WORKERS and sum(g.values()) == 8,
                         f"HTTP: gauge counts the 8 connections the kernel placed ({g})")
            posts, ok, closes = 0, 0, 0
            for _ in range(3):
                for c in clients:
                    posts += 1
                    c.request("POST", "/v1/traces", otlp_json(posts),
                              {"Content-Type": "application/json"})
                    r = c.getresponse()
                    r.read()
                    ok += r.status == 200
                    closes += (r.getheader("Connection") or "").lower() == "close"
            report.check(ok == posts, f"HTTP: {ok}/{posts} posts answered 200")
            report.check(closes == 0, f"HTTP: no response asked to reconnect ({closes})")
            m = metrics_text(mport)
            g2 = by_worker(m, HTTP_GAUGE)
            report.check(g2 == g, f"HTTP: every connection kept where it was ({g} -> {g2})")
            report.check("connections_shed" not in m, "HTTP: no shedding metric exported")
            for c in clients[:3]:
                c.close()
            poll_until(lambda: sum(by_worker(metrics_text(mport), HTTP_GAUGE).values()) == 5)
            g3 = by_worker(metrics_text(mport), HTTP_GAUGE)
            report.check(sum(g3.values()) == 5, f"HTTP: gauge drops to 5 after 3 closed ({g3})")
            want = posts * SPANS
            poll_until(lambda: lines(out) >= want)
            report.check(lines(out) == want, f"HTTP: every span written ({lines(out)}/{want})")
            rc = br.stop()
            report.check(rc == 0, f"HTTP: SIGTERM with connections open exits 0 ({rc})")
            report.check("ERROR" not in br.log(), "HTTP: no error logged")
            for c in clients:
                c.close()


def plaintext(report, binary):
    with tempfile.TemporaryDirectory(prefix="xb-balance-") as tmp:
        out = os.path.join(tmp, "out.jsonl")
        with Bridge(binary, tmp, config(out), clean_env()) as br:
            port = br.port("otlp grpc receiver")
            r = Run(report, br, out, lambda: H2Conn(port, timeout=10))
            r.open(8)
            r.check_split("8 connections")
            r.open(32)
            r.check_split("40 connections")
            r.close(15)
            r.check_split("15 closed", balanced=False)  # closes may unbalance
            r.open(15)
            r.check_split("15 reopened")
            r.close(len(r.conns))
            r.check_split("all closed")
            r.burst(8)
            r.check_split("8 at once")
            m = metrics_text(r.mport)
            handed = by_worker(m, HANDED)
            report.check(sum(handed.values()) > 0, f"connections were handed over ({handed})")
            served = by_worker(m, "xraybridge_worker_requests_total")
            report.check(len(served) == WORKERS and min(served.values()) > 0,
                         f"every worker served calls ({served})")
            r.check_flow("plaintext")
            r.check_stop("plaintext")


def tls(report, binary):
    with tempfile.TemporaryDirectory(prefix="xb-balance-tls-") as tmp:
        p = lambda n: os.path.join(tmp, n)  # noqa: E731
        with open(p("ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        for args in (["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-days", "2", "-subj", "/CN=xraybridge balance ca",
                      "-keyout", p("ca.key"), "-out", p("ca.pem")],
                     ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-subj", "/CN=server", "-keyout", p("srv.key"), "-out", p("srv.csr")],
                     ["x509", "-req", "-in", p("srv.csr"), "-CA", p("ca.pem"), "-CAkey",
                      p("ca.key"), "-set_serial", "7", "-days", "2", "-extfile", p("ext"),
                      "-out", p("srv.pem")]):
            subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)
        out = p("out.jsonl")
        cfg = config(out, f'{{cert_file: "{p("srv.pem")}", key_file: "{p("srv.key")}"}}')
        with Bridge(binary, tmp, cfg, clean_env()) as br:
            port = br.port("otlp grpc receiver")
            r = Run(report, br, out, lambda: TlsH2Conn(port, p("ca.pem"), timeout=10))
            r.open(8)
            r.check_split("TLS, 8 connections")
            r.check_flow("TLS")
            r.check_stop("TLS")


def main(binary):
    report = Report()
    report.run([("plaintext", lambda: plaintext(report, binary)),
                ("tls", lambda: tls(report, binary)),
                ("http", lambda: http_keepalive(report, binary))])
    return report.finish()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
