#!/usr/bin/env python3
"""Runs xraybridge's X-Ray daemon protocol receiver (receivers.awsxray, UDP) under
valgrind and fails on any memory error or definite/indirect leak.

Traffic, all on 127.0.0.1: valid datagrams (a segment, an in-progress segment and its
completed version, a streamed subsegment, a 60,000-byte document) and malformed ones
(no header, header only, bad JSON, truncated JSON, binary junk, a missing id /
trace_id / start_time), exported to the file exporter and through the awsxray
exporter to a loopback PutTraceSegments sink; then a burst of 400 datagrams that must
all be accounted for (delivered + counted drops == sent); then 200 more sent right
before SIGTERM, so that the shutdown finds datagrams in the socket and documents in
the queues.

usage: run_valgrind_awsxray.py XRAYBRIDGE_BINARY
"""
import json
import os
import shutil
import socket
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import Bridge, Report, Sink, clean_env, wait_for  # noqa: E402
from xbvalgrind import VALGRIND, check_clean_exit  # noqa: E402
from xbdaemon import HDR, TRACE, doc, dropped, lines, udp_port  # noqa: E402
import xbdaemon  # noqa: E402

REASONS = ("bad_header", "bad_json", "missing_field", "too_large", "queue_full",
           "kernel_overflow")
BURST, LAST = 400, 200


def metrics(port):
    """The receiver's counters; a long timeout, for the scrape runs under valgrind."""
    return xbdaemon.metrics(port, timeout=30)


def config(out, sink_port):
    return f"""receivers:
  awsxray: {{endpoint: "127.0.0.1:0", transport: udp}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{sink_port}"
    batch: {{timeout: 50ms}}
  file:
    path: {out}
    batch: {{timeout: 50ms}}
service:
  pipelines: {{traces: {{receivers: [awsxray], exporters: [awsxray, file]}}}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


def main():
    binary = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="xb-valgrind-udp-")
    out = os.path.join(tmp, "segments.jsonl")
    sink = Sink()
    rep = Report()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    env = clean_env(AWS_ACCESS_KEY_ID="AKIDVALGRIND", AWS_SECRET_ACCESS_KEY="secret")
    try:
        with Bridge(binary, tmp, config(out, sink.port), env, prefix=VALGRIND) as b:
            port = udp_port(b.log())
            mport = b.port("metrics endpoint")
            dst = ("127.0.0.1", port)

            pad = doc(9, end_time=1700000001.0, annotations={"pad": ""})
            valid = [
                doc(1, end_time=1700000001.0, http={"response": {"status": 500}}, fault=True),
                doc(2, in_progress=True),
                doc(2, end_time=1700000002.25),
                doc(3, type="subsegment", parent_id=f"{2:016x}", start_time=1700000000.6,
                    end_time=1700000000.7, namespace="remote"),
                doc(9, end_time=1700000001.0, annotations={"pad": "x" * (60000 - len(pad))}),
            ]
            good = doc(4, end_time=1700000001.0)
            malformed = {
                "bad_header": [good, b"\x00\x01\x02\xff" * 10],
                "bad_json": [HDR, HDR + b"{not json", HDR + good[:-7], HDR + b"\xff\xfe"],
                "missing_field": [
                    HDR + json.dumps({"name": "a", "trace_id": TRACE, "start_time": 1}).encode(),
                    HDR + json.dumps({"name": "a", "id": "00000000000000aa",
                                      "start_time": 1}).encode(),
                    HDR + json.dumps({"name": "a", "id": "00000000000000ab",
                                      "trace_id": TRACE}).encode(),
                ],
            }
            for d in valid:
                s.sendto(HDR + d, dst)
            for group in malformed.values():
                for d in group:
                    s.sendto(d, dst)
            n_bad = sum(len(g) for g in malformed.values())
            wait_for(lambda: len(lines(out)) >= len(valid) and sink.documents >= len(valid),
                     "valid documents exported", deadline_s=120)
            wait_for(lambda: sum(dropped(metrics(mport), r) for r in malformed) >= n_bad,
                     "malformed datagrams counted", deadline_s=120)
            m = metrics(mport)
            rep.check(lines(out) == valid and sink.documents == len(valid),
                      f"{len(valid)} valid documents in the file (byte-identical, in order) "
                      f"and at the sink ({sink.documents})")
            for reason, group in malformed.items():
                rep.check(dropped(m, reason) == len(group),
                          f"{reason}: {dropped(m, reason)} counted, {len(group)} sent")

            # burst: every datagram delivered or counted as dropped
            base = sum(dropped(m, r) for r in REASONS)
            for i in range(BURST):
                s.sendto(HDR + doc(0x100000 + i, end_time=1700000001.0), dst)

            def settled():
                drops = sum(dropped(metrics(mport), r) for r in REASONS) - base
                return len(lines(out)) - len(valid) + drops >= BURST

            wait_for(settled, "burst delivered or counted", deadline_s=180)
            drops = sum(dropped(metrics(mport), r) for r in REASONS) - base
            delivered = len(lines(out)) - len(valid)
            print(f"burst under valgrind: {BURST} sent, {delivered} delivered, {drops} dropped")
            rep.check(delivered + drops == BURST and delivered > 0,
                      f"burst: delivered {delivered} + counted drops {drops} == sent {BURST}")
            wait_for(lambda: sink.documents == len(lines(out)), "the sink caught up",
                     deadline_s=120)
            rep.check(b.proc.poll() is None, "process alive after malformed datagrams and burst")

            # SIGTERM with datagrams still arriving
            for i in range(LAST):
                s.sendto(HDR + doc(0x200000 + i, end_time=1700000001.0), dst)
            rc = b.stop(deadline_s=120)
            log = b.log()
        check_clean_exit(rep, rc, log)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        rep.check(False, str(e))
    finally:
        s.close()
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
