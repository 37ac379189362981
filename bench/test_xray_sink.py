#!/usr/bin/env python3
"""bench/xray_sink counts the documents of PutTraceSegments bodies exactly, whatever
pieces they arrive in (bench/e2e.py's delivery check rests on that count).

usage: test_xray_sink.py XRAY_SINK

Bodies whose documents hold escaped quotes and backslashes, brackets and commas inside
strings, and a body of over 300 KB, each sent once whole and once in 7-byte pieces
(many evbuffer chunks, escapes split across them); the count printed at SIGTERM must
equal the documents sent. Exit 0 on success, 1 on a failed check.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
from xbtest import Report, poll_until  # noqa: E402


def body_of(docs):
    # The exporter's form: compact JSON, each document a JSON string.
    return json.dumps({"TraceSegmentDocuments": docs}, separators=(",", ":")).encode()


def bodies():
    tricky = [json.dumps({"name": 'q"b\\', "k": '[","]', "n": i}, separators=(",", ":"))
              for i in range(37)]
    ending = [json.dumps({"v": "\\" * (i % 4)}, separators=(",", ":")) for i in range(11)]
    large = [json.dumps({"x": "abcdefghijklmnopqrstuvwxyz\"\\" * (i + 1)}, separators=(",", ":"))
             for i in range(150)]
    return [(body_of(d), len(d)) for d in (tricky, ending, large)]


def post(port, body, step):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /TraceSegments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        for i in range(0, len(body), step):
            s.sendall(body[i:i + step])
        answer = b""
        while b"UnprocessedTraceSegments" not in answer:
            more = s.recv(4096)
            if not more:
                break
            answer += more
    return answer.startswith(b"HTTP/1.1 200")


def read_port(port_file):
    try:
        with open(port_file) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def main():
    sink = sys.argv[1]
    report = Report()
    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        proc = subprocess.Popen([sink, port_file], stdout=subprocess.PIPE, text=True)
        sent = 0
        try:
            started = poll_until(lambda: read_port(port_file) is not None, 5)
            report.check(started, "the sink writes its port")
            if started:
                port = read_port(port_file)
                for body, n in bodies():
                    for step in (len(body), 7):
                        report.check(post(port, body, step),
                                     "200 for %d bytes in %d-byte pieces" % (len(body), step))
                        sent += n
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=10)
    want = "documents=%d requests=6 otlp_requests=0" % sent
    report.check(want in out, "the sink counted %r (printed %r)" % (want, out.strip()))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
