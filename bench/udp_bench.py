#!/usr/bin/env python3
"""The X-Ray daemon protocol part of the benchmark (bench/run.sh calls it; see
bench/README.md): bench/udp_send sends ~1 KB segment documents to xraybridge's
awsxray receiver over UDP on 127.0.0.1, xraybridge exports them with SigV4 to
bench/xray_sink, and this prints, per run, the datagrams/s delivered, xraybridge's CPU
microseconds per segment and share of one core (utime + stime from /proc/PID/stat),
kernel drops (SO_RXQ_OVFL metric, and the socket's drops column in /proc/net/udp) and
peak RSS (VmHWM).

Runs: fixed rates of 5,000/s (the rate of ADOT's published figure) and 20,000/s for
SECONDS each, then flat out (N = 200,000 datagrams in sendmmsg batches).

usage: udp_bench.py BUILD_DIR [SECONDS [XRAYBRIDGE]]
  XRAYBRIDGE: another xraybridge binary to measure with BUILD_DIR's udp_send and
  xray_sink (to compare two builds alternately in one session).
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HZ = os.sysconf("SC_CLK_TCK")
REASONS = ("bad_header", "bad_json", "missing_field", "too_large", "queue_full",
           "kernel_overflow")


def fail(msg):
    print(f"udp bench: {msg}", file=sys.stderr)
    sys.exit(1)


def wait_file(path, pattern, what, deadline_s=5):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with open(path) as f:
                m = re.search(pattern, f.read())
            if m:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    fail(f"{what} did not start within {deadline_s} s")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


def proc_udp_drops(port):
    """The drops column of the receiving socket in /proc/net/udp (kernel's own count)."""
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if int(cols[1].split(":")[1], 16) == port:
                return int(cols[-1])
    return 0


def metrics(addr):
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {"accepted": 0, "sent": 0, "drops": 0, "kernel": 0}
    for line in text.splitlines():
        if line.startswith("otelcol_receiver_accepted_spans_total{receiver=\"awsxray\""):
            out["accepted"] = int(line.rsplit(" ", 1)[1])
        elif line.startswith("otelcol_exporter_sent_spans_total{exporter=\"awsxray\"}"):
            out["sent"] = int(line.rsplit(" ", 1)[1])
        elif line.startswith("xraybridge_receiver_udp_dropped_total{"):
            v = int(line.rsplit(" ", 1)[1])
            out["drops"] += v
            if 'reason="kernel_overflow"' in line:
                out["kernel"] = v
    return out


def one_run(label, build, pid, udp_port, maddr, n, rate):
    m0, c0, k0 = metrics(maddr), cpu_s(pid), proc_udp_drops(udp_port)
    t0 = time.monotonic()
    r = subprocess.run([os.path.join(build, "bench", "udp_send"), "-p", str(udp_port),
                        "-n", str(n), "-r", str(rate)], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        fail(f"udp_send failed: {r.stderr}")
    res = dict(kv.split("=") for kv in r.stdout.split()[1:])
    # settled: every datagram accepted or dropped per the kernel, and exported
    end = time.monotonic() + 60
    while True:
        m, kdrops = metrics(maddr), proc_udp_drops(udp_port) - k0
        got = m["accepted"] - m0["accepted"]
        other = (m["drops"] - m["kernel"]) - (m0["drops"] - m0["kernel"])
        if got + other + kdrops >= n and m["sent"] - m0["sent"] >= got:
            break
        if time.monotonic() > end:
            fail(f"{label}: not settled after 60 s ({got} accepted, {kdrops} kernel drops)")
        time.sleep(0.02)
    t1 = time.monotonic()
    cpu = cpu_s(pid) - c0
    wall = t1 - t0
    print(f"{label}: sent {n} x {res['bytes']} B in {float(res['seconds']):.2f} s "
          f"({float(res['rate']):,.0f}/s); delivered {got} ({got / wall:,.0f}/s over "
          f"{wall:.2f} s); kernel drops {kdrops} (SO_RXQ_OVFL metric "
          f"{m['kernel'] - m0['kernel']}); other drops {other}; xraybridge CPU {cpu:.2f} s = "
          f"{cpu / got * 1e6 if got else 0:.1f} us/segment, {cpu / wall * 100:.1f}% of one "
          f"core; peak RSS {peak_rss_mib(pid):.1f} MiB")
    return got


def main():
    build = os.path.abspath(sys.argv[1])
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    binary = sys.argv[3] if len(sys.argv) > 3 else os.path.join(build, "app", "xraybridge")
    tmp = tempfile.mkdtemp(prefix="xb-udp-bench-")
    sink = xb = None
    try:
        sink = subprocess.Popen([os.path.join(build, "bench", "xray_sink"),
                                 os.path.join(tmp, "sink.port")],
                                stdout=open(os.path.join(tmp, "sink.out"), "w"))
        sport = int(wait_file(os.path.join(tmp, "sink.port"), r"(\d+)", "xray_sink").group(1))
        with open(os.path.join(tmp, "xb.yaml"), "w") as f:
            f.write(f"""receivers:
  awsxray: {{endpoint: "127.0.0.1:0"}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{sport}"
    num_workers: 8
    batch: {{max_documents: 50, timeout: 50ms}}
service:
  pipelines: {{traces: {{receivers: [awsxray], exporters: [awsxray]}}}}
  telemetry: {{logs: {{level: info}}, metrics: {{address: "127.0.0.1:0"}}}}
""")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDBENCH", AWS_SECRET_ACCESS_KEY="bench")
        xb = subprocess.Popen([binary, "--config",
                               os.path.join(tmp, "xb.yaml")],
                              stderr=open(os.path.join(tmp, "xb.err"), "w"), env=env)
        log = os.path.join(tmp, "xb.err")
        wait_file(log, r"xraybridge ready", "xraybridge")
        with open(log) as f:
            text = f.read()
        udp_port = int(re.search(r"listening on udp \S+ \(port (\d+)\)", text).group(1))
        maddr = re.search(r"metrics endpoint listening on (\S+)", text).group(1)
        sockbuf = re.search(r"socket buffer (\d+) bytes", text).group(1)
        print(f"xraybridge bench, X-Ray daemon protocol (UDP): {binary}, socket buffer "
              f"{sockbuf} bytes, {os.cpu_count()} cores")
        total = 0
        total += one_run("UDP 5,000/s", build, xb.pid, udp_port, maddr, 5000 * secs, 5000)
        total += one_run("UDP 20,000/s", build, xb.pid, udp_port, maddr, 20000 * secs, 20000)
        total += one_run("UDP flat out", build, xb.pid, udp_port, maddr, 200000, 0)
        xb.terminate()
        xb.wait(10)
        sink.terminate()
        sink.wait(10)
        with open(os.path.join(tmp, "sink.out")) as f:
            out = f.read().strip()
        docs = int(re.search(r"documents=(\d+)", out).group(1))
        print(f"sink: {out} (xraybridge delivered {total})")
        if docs != total:
            fail(f"the sink got {docs} documents, xraybridge delivered {total}")
    finally:
        for p in (xb, sink):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
