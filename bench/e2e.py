#!/usr/bin/env python3
"""End-to-end CPU per span (bench/run.sh calls it; see bench/README.md).

The standard 100-span request (bench/gen_request) is posted by h2load to xraybridge,
which decodes, translates, batches, signs (SigV4) and sends every span with the awsxray
exporter to bench/xray_sink, a loopback PutTraceSegments stand-in. Protocols:

  grpc   OTLP/gRPC (HTTP/2, gRPC-framed protobuf)       h2load -c CONNS -m STREAMS
  http   OTLP/HTTP protobuf (HTTP/1.1)                    h2load --h1 -c CONNS
  json   OTLP/HTTP JSON (HTTP/1.1, same request as JSON)  h2load --h1 -c CONNS

Each measurement starts a fresh sink and a fresh xraybridge, posts a fixed number of
requests (h2load -n, sized from a short calibration run so that one measurement takes
about SECONDS), and ends when xraybridge has sent every accepted span. Over that window
it prints spans/s, xraybridge's CPU-microseconds per span (utime + stime from
/proc/PID/stat) and its peak RSS (VmHWM). It fails unless every request succeeded, no
span was refused, and the sink's document count equals the spans sent.

usage: e2e.py BUILD_DIR [SECONDS [OTHER_XRAYBRIDGE]] [options]
  OTHER_XRAYBRIDGE  a second binary (B; A is BUILD_DIR's): rounds alternate (A B, then
                    B A, ...) and the summary prints medians and the ratios B/A.
  --rounds N        measurements per binary and protocol (default 1, or 3 with OTHER)
  --protocols LIST  comma-separated subset of grpc,http,json (default all three)
  --conns N, --streams N   h2load connections (default 8) and gRPC streams per
                    connection (default 16)
  --fluent-bit PATH instead of OTHER_XRAYBRIDGE: Fluent Bit with its opentelemetry
                    input and null output (ingest only; bench/fluentbit.sh); the
                    ratios are xraybridge/fluent-bit.
  --workers N[,M]   service.workers written into xraybridge's config (default: not
                    written, so the machine's cores). Two values instead of
                    OTHER_XRAYBRIDGE: the same binary with N and with M workers,
                    alternating; the ratios are M/N.
  --load-cpus LIST  run h2load (and the sink) under taskset -c LIST, e.g. to keep the
                    load generator off the CPUs xraybridge's workers use
  --send-workers N[,M]  exporters.awsxray.num_workers (concurrent PutTraceSegments
                    calls; default 8); with OTHER_XRAYBRIDGE, M is B's (give the same
                    binary twice to compare the counts alone)
  --session-token-bytes N[,M]  give xraybridge an AWS_SESSION_TOKEN of N characters
                    (default 0: none), as the temporary credentials of an EKS pod
                    (IRSA, Pod Identity) or an instance role carry one of about 1,000;
                    it goes into every PutTraceSegments call's headers and signature.
                    With OTHER_XRAYBRIDGE, M is B's (give the same binary twice to
                    compare with and without a token)
  --tls on|off[,on|off]  whether the sink speaks HTTPS, as X-Ray's endpoints do, with
                    a self-signed certificate made for the run by the openssl command
                    (tests/lib/xbtest.py self_signed_cert) and trusted through the
                    exporter's certificate_file_path: xraybridge's CPU then includes
                    its TLS work (the sink decrypts on the same cores). Default off.
                    With OTHER_XRAYBRIDGE the second value is B's (the same binary
                    twice compares plain HTTP with HTTPS)
  --spans N         spans per request (default 100, the standard request)
  --rps R           a fixed load instead of as fast as it goes: each connection posts R
                    requests per second (h2load --rps) for SECONDS; spans/s is then the
                    offered rate and CPU per span what a node pays at that rate
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from xbtest import self_signed_cert  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
TASKSET = []  # ["taskset", "-c", LIST] for the load generator and the sink (--load-cpus)
PROCS = []  # every process started, killed on exit if still running
SPANS = 100
GRPC_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
PROTOCOLS = {
    # name: (label, request file suffix, content type, path, HTTP/2?)
    "grpc": ("OTLP/gRPC", "grpc", "application/grpc", GRPC_PATH, True),
    "http": ("OTLP/HTTP protobuf", "pb", "application/x-protobuf", "/v1/traces", False),
    "json": ("OTLP/HTTP JSON", "json", "application/json", "/v1/traces", False),
}


def fail(msg):
    print(f"e2e bench: {msg}", file=sys.stderr)
    sys.exit(1)


def wait_for(pred, what, deadline_s=10.0, step=0.02):
    """Polls |pred| until it returns a true value (returned) or the deadline passes."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    fail(f"{what}: not within {deadline_s:.0f} s")


def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def thread_cpu_s(pid):
    """CPU seconds (utime + stime) of |pid|'s threads by role: the main thread, the
    ingest workers (named xb-worker-N, app/workers.c) and any other thread; and the
    main thread's minor page faults (main_faults); each worker's own seconds under
    "w:xb-worker-N" (how evenly the connections spread over them)."""
    out = {"main": 0.0, "workers": 0.0, "other": 0.0, "main_faults": 0}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        secs = (int(fields[11]) + int(fields[12])) / HZ
        role = ("main" if tid == str(pid) else
                "workers" if comm.startswith("xb-worker") else "other")
        out[role] += secs
        if role == "workers":
            out["w:" + comm] = out.get("w:" + comm, 0.0) + secs
        if role == "main":
            out["main_faults"] = int(fields[7])
    return out


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def h2load(proto, addr, reqfile, n, conns, streams, duration=None, rps=None):
    """Runs h2load; returns (succeeded requests, wall seconds measured by h2load)."""
    _, _, ctype, path, h2 = PROTOCOLS[proto]
    cmd = ["h2load", "-t", "1", "-c", str(conns), "-H", f"content-type: {ctype}", "-d", reqfile]
    cmd = TASKSET + cmd
    if h2:
        cmd += ["-m", str(streams), "-H", "te: trailers"]
    else:
        cmd += ["--h1", "-m", "1"]
    cmd += ["-D", str(duration)] if duration else ["-n", str(n)]
    if rps:
        cmd += [f"--rps={rps}"]
    cmd.append(f"http://{addr}{path}")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored", r.stdout, re.M)
    if r.returncode != 0 or not m:
        fail(f"h2load failed ({' '.join(cmd)}):\n{r.stdout}{r.stderr}")
    status = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", r.stdout)
    if status and int(status.group(3)):
        fail(f"{proto}: error responses: {status.group(0)}")
    t = re.search(r"^finished in ([\d.]+)(ms|s),", r.stdout, re.M)
    secs = float(t.group(1)) / (1000 if t.group(2) == "ms" else 1)
    return int(m.group(4)), secs


class Xraybridge:
    """One xraybridge process (awsxray exporter -> a fresh xray_sink) for one measurement."""

    name = "xraybridge"

    def __init__(self, binary, build, tmp, tag, workers=None):
        self.binary, self.build, self.tmp, self.tag = binary, build, tmp, tag
        self.workers = workers  # service.workers, None = not written
        self.send_workers = 8  # exporters.awsxray.num_workers
        self.token_bytes = 0  # length of AWS_SESSION_TOKEN; 0 = none
        self.tls = None  # (CERT, KEY): the sink speaks HTTPS with them; None = plain HTTP
        self.sink = self.proc = None

    def start(self):
        port_file = os.path.join(self.tmp, f"sink-{self.tag}.port")
        self.sink_out = os.path.join(self.tmp, f"sink-{self.tag}.out")
        for p in (port_file, self.sink_out):
            if os.path.exists(p):
                os.unlink(p)
        self.sink = subprocess.Popen(TASKSET + [os.path.join(self.build, "bench", "xray_sink"),
                                                port_file] + list(self.tls or ()),
                                     stdout=open(self.sink_out, "w"))
        PROCS.append(self.sink)
        sport = int(wait_for(lambda: re.match(r"(\d+)\n", read_file(port_file)), "xray_sink")
                    .group(1))
        cfg = os.path.join(self.tmp, f"xb-{self.tag}.yaml")
        trust = f'    certificate_file_path: "{self.tls[0]}"\n' if self.tls else ""
        with open(cfg, "w") as f:
            f.write(f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0", max_concurrent_streams: 128}}
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "{'https' if self.tls else 'http'}://127.0.0.1:{sport}"
    num_workers: {self.send_workers}
    batch: {{max_documents: 50, timeout: 50ms}}
{trust}service:
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{logs: {{level: info}}, metrics: {{address: "127.0.0.1:0"}}}}
""")
            if self.workers:
                f.write(f"  workers: {self.workers}\n")
        self.log = os.path.join(self.tmp, f"xb-{self.tag}.err")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="bench")
        env.pop("AWS_SESSION_TOKEN", None)
        if self.token_bytes:
            # base64-like characters, as STS tokens are; the sink checks no signature
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            env["AWS_SESSION_TOKEN"] = "".join(alphabet[(i * 37 + 11) % 64]
                                               for i in range(self.token_bytes))
        self.proc = subprocess.Popen([self.binary, "--config", cfg],
                                     stderr=open(self.log, "w"), env=env)
        PROCS.append(self.proc)
        wait_for(lambda: "xraybridge ready" in read_file(self.log) or self.proc.poll() is not None,
                 "xraybridge start")
        if self.proc.poll() is not None:
            fail(f"xraybridge exited:\n{read_file(self.log)}")
        text = read_file(self.log)
        self.addr = {
            "grpc": re.search(r"otlp grpc receiver listening on (\S+)", text).group(1),
            "http": re.search(r"otlp http receiver listening on (\S+)", text).group(1),
        }
        self.addr["json"] = self.addr["http"]
        self.maddr = re.search(r"metrics endpoint listening on (\S+)", text).group(1)
        return self.proc.pid

    def metrics(self):
        with urllib.request.urlopen(f"http://{self.maddr}/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {"accepted": 0, "refused": 0, "sent": 0, "failed": 0}
        for line in text.splitlines():
            if line.startswith("#") or " " not in line:
                continue
            name, value = line.rsplit(" ", 1)
            if name.startswith("otelcol_receiver_accepted_spans_total{receiver=\"otlp\""):
                out["accepted"] += int(float(value))
            elif name.startswith("otelcol_receiver_refused_spans_total{receiver=\"otlp\""):
                out["refused"] += int(float(value))
            elif name.startswith("otelcol_exporter_sent_spans_total{exporter=\"awsxray\""):
                out["sent"] += int(float(value))
            elif name.startswith("otelcol_exporter_send_failed_spans_total{exporter=\"awsxray\""):
                out["failed"] += int(float(value))
        return out

    def settle(self, spans):
        """Waits until every accepted span was sent (or failed); returns the spans sent.
        Called when the load generator has had every answer, and xraybridge answers a
        request only once its spans are accepted or refused, so the accepted count is
        final by then."""
        def done():
            m = self.metrics()
            return m if m["sent"] + m["failed"] >= m["accepted"] else None
        m = wait_for(done, f"{self.tag}: export of {spans} spans", 120.0, 0.01)
        if m["failed"]:
            fail(f"{self.tag}: {m['failed']} spans failed to send")
        return m["sent"]

    def stop(self, sent):
        self.proc.terminate()
        self.proc.wait(30)
        self.sink.terminate()
        self.sink.wait(10)
        out = read_file(self.sink_out)
        docs = int(re.search(r"documents=(\d+)", out).group(1))
        if sent is not None and docs != sent:
            fail(f"{self.tag}: the sink got {docs} documents, xraybridge sent {sent} spans")
        return docs


class FluentBit:
    """Fluent Bit: opentelemetry input -> null output (ingest only)."""

    name = "fluent-bit"

    def __init__(self, binary, tmp, tag):
        self.binary, self.tmp, self.tag = binary, tmp, tag
        self.proc = None

    def start(self):
        port = free_port()
        cfg = os.path.join(self.tmp, f"fb-{self.tag}.conf")
        with open(cfg, "w") as f:
            f.write(f"""[SERVICE]
    Flush     1
    Log_Level info

[INPUT]
    Name   opentelemetry
    Listen 127.0.0.1
    Port   {port}

[OUTPUT]
    Name  null
    Match *
""")
        self.log = os.path.join(self.tmp, f"fb-{self.tag}.log")
        self.proc = subprocess.Popen([self.binary, "-c", cfg], stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT)
        PROCS.append(self.proc)

        def ready():
            if self.proc.poll() is not None:
                return True
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0
        wait_for(ready, "fluent-bit start")
        if self.proc.poll() is not None:
            fail(f"fluent-bit exited:\n{read_file(self.log)}")
        self.addr = {p: f"127.0.0.1:{port}" for p in PROTOCOLS}
        return self.proc.pid

    def settle(self, spans):
        """Ingest only: waits until its CPU time stops growing (the last flush to null);
        returns |spans|, those of the requests h2load saw succeed."""
        last = [cpu_s(self.proc.pid), time.monotonic()]

        def idle():
            now = cpu_s(self.proc.pid)
            if now != last[0]:
                last[0], last[1] = now, time.monotonic()
            return time.monotonic() - last[1] >= 0.5
        wait_for(idle, "fluent-bit settle", 30.0, 0.05)
        return spans

    def stop(self, sent):
        self.proc.terminate()
        self.proc.wait(30)
        errs = [l for l in read_file(self.log).splitlines() if "[error]" in l]
        if errs:
            fail(f"fluent-bit logged errors:\n" + "\n".join(errs[:5]))
        return sent


def measure(target, proto, reqfile, n, args):
    pid = target.start()
    c0, t0 = cpu_s(pid), time.monotonic()
    th0 = thread_cpu_s(pid)
    ok, load_s = h2load(proto, target.addr[proto], reqfile, n, args.conns, args.streams,
                        rps=args.rps)
    t_load = time.monotonic()
    sent = target.settle(ok * SPANS)
    t1 = time.monotonic()
    cpu, rss = cpu_s(pid) - c0, peak_rss_mib(pid)
    th1 = thread_cpu_s(pid)
    target.stop(sent)
    # Fluent Bit does no export: its rate is over the load alone, its CPU over the load
    # and the flush after it. xraybridge's window ends when the last span was sent.
    # Spans refused with a retryable error (exporter queue full: HTTP 503, gRPC
    # UNAVAILABLE), or for Fluent Bit requests h2load did not see succeed, are not
    # delivered; figures are per delivered (for Fluent Bit: ingested) span.
    wall = (t_load - t0) if isinstance(target, FluentBit) else (t1 - t0)
    spans = sent
    refused = n * SPANS - sent
    r = {"spans_s": spans / wall, "us_span": cpu / spans * 1e6, "rss": rss}
    split = {k: (th1[k] - th0.get(k, 0.0)) / spans * 1e6 for k in th1} if spans else {}
    per_worker = sorted(((k[len("w:xb-worker-"):], th1[k] - th0.get(k, 0.0)) for k in th1
                         if k.startswith("w:")), key=lambda p: int(p[0]))
    note = f"; not accepted {refused:,} ({refused / (n * SPANS):.1%})" if refused else ""
    print(f"  {target.tag:<12} {PROTOCOLS[proto][0]:<19} {spans:>9,} spans in {wall:5.2f} s = "
          f"{r['spans_s']:>9,.0f} spans/s; CPU {cpu:6.2f} s = {r['us_span']:6.2f} CPU-us/span; "
          f"peak RSS {rss:6.1f} MiB{note}", flush=True)
    if split.get("workers"):
        r["main"], r["workers"] = split["main"], split["workers"]
        r["faults"] = split["main_faults"] / 1000  # per 1,000 spans
        # where the CPU went: the main loop (admission, exporters) and the ingest workers
        print(f"  {'':<12} {'':<19} threads: main {split['main']:5.2f}, workers "
              f"{split['workers']:5.2f}, other {split['other']:5.2f} CPU-us/span; main "
              f"thread {r['faults']:.1f} minor page faults per 1,000 spans", flush=True)
        if per_worker:
            print(f"  {'':<12} {'':<19} CPU s per worker: "
                  + ", ".join(f"{w} {s:.2f}" for w, s in per_worker), flush=True)
    return r


def calibrate(target, proto, reqfile, secs, args):
    """Requests for about |secs| seconds at this target's rate (a 1 s h2load -D run), or
    at the fixed rate of --rps."""
    if args.rps:
        return max(args.conns, int(args.conns * args.rps * secs))
    target.start()
    ok, load_s = h2load(proto, target.addr[proto], reqfile, 0, args.conns, args.streams, 1)
    # Requests still in flight when h2load stopped may be sent later: no count check here.
    target.settle(ok * SPANS)
    target.stop(None)
    return max(args.conns * 4, int(ok / max(load_s, 0.1) * secs))


def per_binary(args, opt, takes, text, parse, ok):
    """The values of an option that takes one value for both binaries, or two (A's, then
    B's) with OTHER_XRAYBRIDGE: a list of one or two parsed values, [] when |text| is
    None. Fails with a usage message on anything else."""
    if text is None:
        return []
    try:
        vals = [parse(v) for v in text.split(",")]
    except (ValueError, KeyError):
        vals = []
    if not vals or len(vals) > 2 or not all(ok(v) for v in vals) or (len(vals) == 2 and
                                                                     not args.other):
        fail(f"{opt} takes {takes}, or two of them with OTHER_XRAYBRIDGE")
    return vals


def paired(num, den, num_tag, den_tag):
    """The two sides of each round side by side: in how many rounds |num| used less CPU
    per span than |den| (both measured in the same round, one after the other), and the
    per-round ratios. On a shared machine whose load drifts over minutes, this tells a
    steady difference from a median that moved with the noise."""
    r = [n["us_span"] / d["us_span"] for n, d in zip(num, den) if d["us_span"] > 0]
    if not r:
        return "no rounds to pair"
    less = sum(1 for x in r if x < 1)
    return (f"CPU-us/span {num_tag}/{den_tag} round by round: {num_tag} lower in {less} of "
            f"{len(r)}, ratios {min(r):.2f}-{max(r):.2f}, mean {statistics.mean(r):.2f}")


def main():
    global SPANS
    ap = argparse.ArgumentParser(usage=__doc__.split("usage: ")[1].split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("seconds", nargs="?", type=float, default=10)
    ap.add_argument("other", nargs="?")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--protocols", default="grpc,http,json")
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--fluent-bit", dest="fluent_bit")
    ap.add_argument("--workers")
    ap.add_argument("--load-cpus", dest="load_cpus")
    ap.add_argument("--send-workers", dest="send_workers")
    ap.add_argument("--session-token-bytes", dest="token_bytes")
    ap.add_argument("--tls")
    ap.add_argument("--spans", type=int, default=SPANS)
    ap.add_argument("--rps", type=float)
    args = ap.parse_args()
    if not 1 <= args.spans <= 100000:
        fail("--spans takes 1..100000")
    if args.rps is not None and not args.rps > 0:
        fail("--rps takes a positive rate")
    SPANS = args.spans
    workers = [int(w) for w in args.workers.split(",")] if args.workers else [None]
    if len(workers) > 2 or any(w is not None and not 1 <= w <= 64 for w in workers):
        fail("--workers takes one or two counts of 1..64")
    if len(workers) == 2 and (args.other or args.fluent_bit):
        fail("--workers N,M compares worker counts: no OTHER_XRAYBRIDGE or --fluent-bit")
    if args.load_cpus:
        TASKSET[:] = ["taskset", "-c", args.load_cpus]
    build = os.path.abspath(args.build)
    protos = args.protocols.split(",")
    for p in protos:
        if p not in PROTOCOLS:
            fail(f"unknown protocol {p} (grpc, http, json)")
    for t in ("app/xraybridge", "bench/gen_request", "bench/xray_sink"):
        if not os.access(os.path.join(build, t), os.X_OK):
            fail(f"missing {build}/{t}: build first")
    if subprocess.run(["sh", "-c", "command -v h2load"], capture_output=True).returncode:
        fail("h2load missing: apt-get install nghttp2-client")
    send_workers = per_binary(args, "--send-workers", "N (1..256)", args.send_workers, int,
                              lambda w: 1 <= w <= 256)
    token_bytes = per_binary(args, "--session-token-bytes", "N (0..8192)", args.token_bytes,
                             int, lambda t: 0 <= t <= 8192)
    tls = per_binary(args, "--tls", "on or off", args.tls, {"on": True, "off": False}.__getitem__,
                     lambda t: True)
    two = args.other or args.fluent_bit or len(workers) == 2
    rounds = args.rounds or (3 if two else 1)
    tmp = tempfile.mkdtemp(prefix="xb-e2e-")
    try:
        cert = None
        if any(tls):
            try:
                cert = self_signed_cert(tmp)
            except (OSError, subprocess.CalledProcessError) as e:
                fail(f"--tls needs the openssl command to make a certificate: {e}")
        tls = [cert if on else None for on in tls]  # each binary's (CERT, KEY) or None
        subprocess.run([os.path.join(build, "bench", "gen_request"), "-n", str(SPANS),
                        "-o", os.path.join(tmp, "req")], check=True, capture_output=True)
        a = Xraybridge(os.path.join(build, "app", "xraybridge"), build, tmp, "xraybridge",
                       workers[0])
        if len(workers) == 2:
            a.tag = f"w{workers[0]}"
            b = Xraybridge(a.binary, build, tmp, f"w{workers[1]}", workers[1])
        elif args.fluent_bit:
            b = FluentBit(args.fluent_bit, tmp, "fluent-bit")
        elif args.other:
            a.tag = "A"
            b = Xraybridge(os.path.abspath(args.other), build, tmp, "B", workers[0])
        else:
            b = None
        for attr, vals in (("send_workers", send_workers), ("token_bytes", token_bytes),
                           ("tls", tls)):
            if vals:  # A's value, and B's (the same unless two were given)
                setattr(a, attr, vals[0])
                if isinstance(b, Xraybridge):
                    setattr(b, attr, vals[-1])
        print(f"end-to-end bench: {SPANS}-span request (protobuf "
              f"{os.path.getsize(os.path.join(tmp, 'req.pb')):,} B, JSON "
              f"{os.path.getsize(os.path.join(tmp, 'req.json')):,} B), h2load -c {args.conns} "
              f"(gRPC -m {args.streams})"
              + (f" at {args.rps:g} requests/s each" if args.rps else "")
              + f", ~{args.seconds:g} s per measurement, {rounds} "
              f"round(s), {os.cpu_count()} cores"
              + (f", load generator on CPUs {args.load_cpus}" if args.load_cpus else "")
              + (f", session token of {args.token_bytes} characters" if args.token_bytes
                 else "")
              + (f", HTTPS to the sink: {args.tls}" if any(tls) else ""))
        if args.other:
            print(f"  A = {a.binary}\n  B = {b.binary}")
        if args.fluent_bit:
            print(f"  fluent-bit = {args.fluent_bit} (opentelemetry input -> null output)")
        summary = []
        for proto in protos:
            reqfile = os.path.join(tmp, "req." + PROTOCOLS[proto][1])
            n = calibrate(a, proto, reqfile, args.seconds, args)
            print(f"{PROTOCOLS[proto][0]}: {n:,} requests per measurement")
            res = {a.tag: [], b.tag: []} if b else {a.tag: []}
            for i in range(rounds):
                order = [a, b] if (b is None or i % 2 == 0) else [b, a]
                for t in order:
                    if t is not None:
                        res[t.tag].append(measure(t, proto, reqfile, n, args))
            summary.append((proto, res))
        print("summary (medians over rounds):")
        for proto, res in summary:
            med = {k: {f: statistics.median(x[f] for x in v if f in x) for f in v[0]}
                   for k, v in res.items()}
            for k, m in med.items():
                print(f"  {PROTOCOLS[proto][0]:<19} {k:<12} {m['spans_s']:>9,.0f} spans/s "
                      f"{m['us_span']:6.2f} CPU-us/span  peak RSS {m['rss']:6.1f} MiB"
                      + (f"  (main {m['main']:.2f}, workers {m['workers']:.2f}; main thread "
                         f"{m['faults']:.1f} faults/1k spans)"
                         if "main" in m else ""))
            if b:
                # xraybridge against Fluent Bit; otherwise the second binary against the first
                num, den = (a, b) if args.fluent_bit else (b, a)
                x, y = med[den.tag], med[num.tag]
                print(f"  {PROTOCOLS[proto][0]:<19} ratio {num.tag}/{den.tag}: spans/s "
                      f"{y['spans_s'] / x['spans_s']:.2f}, CPU-us/span "
                      f"{y['us_span'] / x['us_span']:.2f}, peak RSS {y['rss'] / x['rss']:.2f}"
                      + (f", main thread CPU-us/span {y['main'] / x['main']:.2f}"
                         if "main" in x and "main" in y else ""))
                print(f"  {PROTOCOLS[proto][0]:<19} " + paired(res[num.tag], res[den.tag],
                                                              num.tag, den.tag))
            fields = []
            for k, m in med.items():
                k = k.replace("-", "_")
                fields += [f"{k}_spans_per_s={m['spans_s']:.0f}",
                           f"{k}_cpu_us_per_span={m['us_span']:.2f}",
                           f"{k}_peak_rss_mib={m['rss']:.1f}"]
            print(f"RESULT protocol={proto} " + " ".join(fields))
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
