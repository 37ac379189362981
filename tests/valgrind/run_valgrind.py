#!/usr/bin/env python3
"""Runs xraybridge under valgrind for a normal run + SIGTERM and fails on any memory
error or definite/indirect leak.

Traffic: OTLP/JSON, gzip'd OTLP/JSON and one invalid body over HTTP, exported both to
the file exporter and to a loopback PutTraceSegments sink, with metrics and health
endpoints on; and a gRPC client that disconnects with two streams mid-upload (their
memory must be freed with the connection). Everything binds 127.0.0.1 and is stopped here.

usage: run_valgrind.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import http.client
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "receiver"))
from xbtest import Bridge, Report, Sink, clean_env, metrics_text, post_trace, wait_for  # noqa: E402
from xbvalgrind import VALGRIND, check_clean_exit  # noqa: E402
import h2raw  # noqa: E402


def grpc_metric(bridge, name):
    """Value of |name|{...transport="grpc"} from the metrics endpoint."""
    for line in metrics_text(bridge.port("metrics endpoint")).splitlines():
        if line.startswith(name + "{") and 'transport="grpc"' in line:
            return int(line.rsplit(" ", 1)[1])
    return -1


def grpc_disconnect_mid_upload(bridge, report):
    """Opens two Export streams, uploads part of each, and closes the socket."""
    c = h2raw.H2Conn(bridge.port("otlp grpc receiver"), timeout=30)
    for _ in range(2):
        sid = c.new_stream()
        c.headers(sid, h2raw.grpc_headers())
        c.data(sid, h2raw.grpc_message(b"\x0a" * 70000, declared_len=200000))
    wait_for(lambda: grpc_metric(bridge, "xraybridge_receiver_inflight_bytes") >= 140000,
             "both partial uploads held", deadline_s=60)
    c.close()
    wait_for(lambda: grpc_metric(bridge, "xraybridge_receiver_connections") == 0 and
             grpc_metric(bridge, "xraybridge_receiver_inflight_bytes") == 0,
             "the gRPC connection and its streams freed", deadline_s=60)
    report.check(True, "gRPC client disconnected with 2 streams open; in-flight bytes back to 0")


def proxy_calls(bridge, sink, report):
    """One call forwarded through the sampling proxy (extensions.awsproxy) to the sink,
    one the sink fails (502), one refused (404)."""
    port = bridge.port("awsproxy")
    doc = '{"name":"v","id":"0123456789abcdef","trace_id":"1-5759e988-bd862e3fe1be46a994272793",' \
          '"start_time":1,"end_time":2}'
    answers = []
    for path, body in (("/TraceSegments", '{"TraceSegmentDocuments":[%s]}' % json.dumps(doc)),
                       ("/GetSamplingRules", "{}"), ("/Nope", "{}")):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", path, body.encode(), {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        answers.append(r.status)
    report.check(answers == [200, 502, 404] and sink.documents == 5,
                 f"sampling proxy answers {answers}, sink documents {sink.documents}")


def main():
    binary, example = sys.argv[1], sys.argv[2]
    body = open(example, "rb").read()
    tmp = tempfile.mkdtemp(prefix="xb-valgrind-")
    out_file = os.path.join(tmp, "segments.jsonl")
    sink = Sink()
    report = Report()
    config = f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0"}}
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{sink.port}"
    batch: {{timeout: 50ms}}
  file:
    path: {out_file}
    batch: {{timeout: 50ms}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [awsxray, file]}}
  extensions: [health_check, awsproxy]
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
extensions:
  health_check: {{endpoint: "127.0.0.1:0"}}
  awsproxy: {{endpoint: "127.0.0.1:0", region: us-west-2, aws_endpoint: "http://127.0.0.1:{sink.port}"}}
"""
    env = clean_env(AWS_ACCESS_KEY_ID="AKIDVALGRIND", AWS_SECRET_ACCESS_KEY="secret",
                    AWS_SESSION_TOKEN="token")
    try:
        with Bridge(binary, tmp, config, env, prefix=VALGRIND) as bridge:
            port = bridge.port("otlp http receiver")
            statuses = [post_trace(port, body), post_trace(port, body, gzip=True),
                        post_trace(port, b"{not json")]
            report.check(statuses == [200, 200, 400], f"answers {statuses}")
            wait_for(lambda: os.path.exists(out_file) and
                     sum(1 for _ in open(out_file)) == 4 and sink.documents == 4,
                     "4 documents in the file and at the sink", deadline_s=120)
            grpc_disconnect_mid_upload(bridge, report)
            proxy_calls(bridge, sink, report)
            rc = bridge.stop(deadline_s=120)
            log = bridge.log()
        check_clean_exit(report, rc, log)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        report.check(False, str(e))
    finally:
        sink.stop()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
