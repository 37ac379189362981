#!/usr/bin/env python3
"""Runs xraybridge under valgrind with durable queues (extensions.file_storage) and fails
on any memory error or definite/indirect leak.

Run 1: X-Ray unreachable (a closed loopback port), the file exporter healthy, both queues
on disk; three requests acknowledged; SIGTERM with a 500 ms shutdown_timeout leaves the
awsxray documents on disk. Run 2: a loopback PutTraceSegments sink; the recovered
documents are read back from disk and delivered; SIGTERM. Both runs must be clean.

usage: run_valgrind_durable.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import os
import socket
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import Bridge, Report, Sink, clean_env, post_trace, wait_for  # noqa: E402
from xbvalgrind import VALGRIND, leak_summary as summary  # noqa: E402


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(xray_port, tmp):
    return f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{xray_port}"
    batch: {{timeout: 50ms}}
    retry_on_failure: {{initial_interval: 100ms, max_interval: 200ms}}
    sending_queue: {{storage: file_storage}}
  file:
    path: {os.path.join(tmp, "segments.jsonl")}
    batch: {{timeout: 50ms}}
    sending_queue: {{storage: file_storage}}
extensions:
  file_storage: {{directory: {os.path.join(tmp, "queue")}, create_directory: true}}
service:
  extensions: [file_storage]
  shutdown_timeout: 500ms
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray, file]}}}}
  telemetry: {{metrics: {{address: ""}}}}
"""


def main():
    binary, example = sys.argv[1], sys.argv[2]
    body = open(example, "rb").read()
    tmp = tempfile.mkdtemp(prefix="xb-valgrind-durable-")
    out_file = os.path.join(tmp, "segments.jsonl")
    env = clean_env(AWS_ACCESS_KEY_ID="AKIDVALGRIND", AWS_SECRET_ACCESS_KEY="secret")
    report = Report()
    sink = Sink()
    try:
        with Bridge(binary, tmp, config(closed_port(), tmp), env, prefix=VALGRIND) as bridge:
            port = bridge.port("otlp http receiver")
            statuses = [post_trace(port, body) for _ in range(3)]
            report.check(statuses == [200] * 3, f"run 1: answers {statuses}")
            wait_for(lambda: os.path.exists(out_file) and sum(1 for _ in open(out_file)) == 6,
                     "6 documents in the file", deadline_s=120)
            rc = bridge.stop(deadline_s=120)
            log = bridge.log()
        print(summary(log))
        report.check(rc == 0 and "6 undelivered documents kept on disk" in log,
                     f"run 1 (X-Ray down, SIGTERM): exit code {rc} (99 = memory error or leak), "
                     "awsxray documents kept on disk")
        with Bridge(binary, tmp, config(sink.port, tmp), env, prefix=VALGRIND) as bridge:
            wait_for(lambda: sink.documents == 6, "6 recovered documents at the sink",
                     deadline_s=120)
            rc = bridge.stop(deadline_s=120)
            log = bridge.log()
        print(summary(log))
        report.check(rc == 0 and "6 undelivered documents recovered" in log,
                     f"run 2 (recovery, delivery, SIGTERM): exit code {rc}")
    except Exception as e:  # noqa: BLE001 - reported as a failure
        report.check(False, str(e))
    finally:
        sink.stop()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
