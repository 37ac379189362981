#!/usr/bin/env python3
"""Instructions per span of the send path, counted by callgrind (bench/README.md).

End-to-end CPU figures (bench/e2e.py) drift by 10-20% between runs on a shared machine,
which hides changes of a few percent. This runs the same set-up as e2e.py (standard
100-span request over OTLP/gRPC, awsxray exporter -> bench/xray_sink on loopback) with
xraybridge under valgrind's callgrind, posts a fixed number of requests, and prints
the instructions per span of the whole process and, inclusive, of the parts of the
path from ingest to the wire:

  ingest      xb_ingest_export (decode, translate, queue documents)
  flush       the exporter's flush: pop documents, build the body, sign, build the call
  body        the body's escaping (xb_jsonw_embed, or xb_jsonw_escape before it)
  sign        xb_sigv4_sign or, for a body of pieces, xb_sigv4_sign_pieces (payload
              hash, canonical request, signature)
  curl        curl_multi_socket_action (libcurl sending and receiving)
  finish      the exporter's finish (outcome of a call, documents freed)

usage: send_callgrind.py BUILD_DIR [OTHER_XRAYBRIDGE ...] [--requests N] [--keep] [--syscalls] [--session-token-bytes N]
  BUILD_DIR's bench tools are used; every binary given (BUILD_DIR's xraybridge first)
  is measured once with the same requests; --keep keeps the callgrind files for
  callgrind_annotate; --session-token-bytes signs with a session token of N characters,
  as temporary credentials carry (bench/e2e.py). --syscalls instead runs each binary
  natively (2 workers, h2load 8 connections x 16 streams) with `strace -c` attached to
  its main thread and prints the main thread's system calls per PutTraceSegments call
  (as counted by the sink), the ones the send path makes; callgrind does not see the
  kernel. Needs valgrind (or strace) and h2load. valgrind's CPU has no SHA extensions,
  so OpenSSL hashes without SHA-NI there: "sign" counts far more instructions than it
  costs on a CPU with them (bench/e2e.py and perf show that).
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402  (the e2e bench's set-up: sink, config, metrics)

PARTS = [
    ("ingest", ["xb_ingest_export"]),
    ("flush", ["flush"]),
    ("body", ["xb_jsonw_embed", "xb_jsonw_escape"]),
    ("sign", ["xb_sigv4_sign", "xb_sigv4_sign_pieces"]),
    ("curl", ["curl_multi_socket_action"]),
    ("finish", ["finish"]),
]


def inclusive_counts(out_file):
    """Function name -> inclusive Ir, from callgrind_annotate."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out_file],
                          capture_output=True, text=True, check=True).stdout
    counts = {}
    total = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+.*PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
            continue
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+\S*:(\S+?)(?:'\d+)? ", line + " ")
        if m:
            name = m.group(2)
            counts[name] = max(counts.get(name, 0), int(m.group(1).replace(",", "")))
    return total, counts


def measure(binary, build, tmp, tag, reqfile, requests, token_bytes=0):
    out_file = os.path.join(tmp, f"cg-{tag}.out")
    wrapper = os.path.join(tmp, f"run-{tag}.sh")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file={out_file} "
                f"'{binary}' \"$@\"\n")
    os.chmod(wrapper, 0o755)
    x = e2e.Xraybridge(wrapper, build, tmp, tag)
    x.token_bytes = token_bytes
    x.start()
    ok, _ = e2e.h2load("grpc", x.addr["grpc"], reqfile, requests, 1, 4)
    if ok != requests:
        e2e.fail(f"{tag}: {ok} of {requests} requests succeeded")
    sent = x.settle(requests * e2e.SPANS)
    x.stop(sent)
    total, counts = inclusive_counts(out_file)
    return sent, total, counts


SYSCALLS = ["sendto", "recvfrom", "poll", "epoll_ctl", "epoll_wait", "socket", "connect", "close"]


def syscalls(binary, build, tmp, tag, reqfile, requests):
    """System calls of |binary|'s main thread per PutTraceSegments call under load."""
    x = e2e.Xraybridge(binary, build, tmp, tag, workers=2)
    pid = x.start()
    summary = os.path.join(tmp, f"strace-{tag}.txt")
    st = subprocess.Popen(["strace", "-c", "-o", summary, "-p", str(pid)],
                          stderr=subprocess.PIPE, text=True)
    # strace says "attached" on stderr once it traces the thread.
    if "attached" not in st.stderr.readline():
        e2e.fail(f"{tag}: strace did not attach")
    ok, _ = e2e.h2load("grpc", x.addr["grpc"], reqfile, requests, 8, 16)
    if ok != requests:
        e2e.fail(f"{tag}: {ok} of {requests} requests succeeded")
    sent = x.settle(requests * e2e.SPANS)
    st.send_signal(signal.SIGINT)
    st.wait(30)
    x.stop(sent)
    # The calls the sink answered (batches are not all full at max_documents).
    calls = int(re.search(r"\brequests=(\d+)", e2e.read_file(x.sink_out)).group(1))
    counts = {}
    with open(summary) as f:
        for line in f:
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
            if m:
                counts[m.group(2)] = int(m.group(1))
    return calls, counts


def main_syscalls(build, binaries, tmp, reqfile, requests):
    print(f"main thread's system calls per PutTraceSegments call (strace -c), {requests} "
          f"OTLP/gRPC requests of {e2e.SPANS} spans, 2 workers:")
    print(f"  {'binary':<40} " + " ".join(f"{n:>10}" for n in SYSCALLS))
    for i, b in enumerate(binaries):
        calls, counts = syscalls(b, build, tmp, f"s{i}", reqfile, requests)
        print(f"  {b[-40:]:<40} " + " ".join(f"{counts.get(n, 0) / calls:>10.2f}" for n in SYSCALLS),
              flush=True)


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("usage: ")[1].split("\n")[0])
    ap.add_argument("build")
    ap.add_argument("others", nargs="*")
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--keep", action="store_true", help="keep the callgrind output files")
    ap.add_argument("--syscalls", action="store_true",
                    help="count the main thread's system calls per call (strace) instead")
    ap.add_argument("--session-token-bytes", dest="token_bytes", type=int, default=0,
                    help="sign with a session token of N characters (bench/e2e.py)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    binaries = [os.path.join(build, "app", "xraybridge")] + [os.path.abspath(b) for b in args.others]
    tmp = tempfile.mkdtemp(prefix="xb-cg-")
    try:
        subprocess.run([os.path.join(build, "bench", "gen_request"), "-n", str(e2e.SPANS),
                        "-o", os.path.join(tmp, "req")], check=True, capture_output=True)
        reqfile = os.path.join(tmp, "req.grpc")
        if args.syscalls:
            main_syscalls(build, binaries, tmp, reqfile, args.requests)
            return
        print(f"send-path instructions (callgrind), {args.requests} OTLP/gRPC requests of "
              f"{e2e.SPANS} spans, per span:")
        print(f"  {'binary':<40} {'total':>9} " + " ".join(f"{p:>8}" for p, _ in PARTS))
        for i, b in enumerate(binaries):
            sent, total, counts = measure(b, build, tmp, f"b{i}", reqfile, args.requests,
                                          args.token_bytes)
            cols = []
            for _, names in PARTS:
                ir = sum(counts.get(n, 0) for n in names)
                cols.append(f"{ir / sent:>8,.0f}")
            print(f"  {b[-40:]:<40} {total / sent:>9,.0f} " + " ".join(cols), flush=True)
    finally:
        for p in e2e.PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        if args.keep:
            print(f"callgrind files kept in {tmp} (callgrind_annotate cg-b0.out)")
        else:
            subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
