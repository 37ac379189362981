#!/usr/bin/env python3
"""ADOT / collector configuration shapes against the real binary on 127.0.0.1:

- examples/config-adot-eks.yaml passes --validate-config and warns that pprof and zpages
  do nothing;
- the same file, with only its listen addresses and the X-Ray endpoint pointed at
  loopback, starts and carries OTLP/HTTP spans and UDP daemon datagrams to a fake X-Ray;
  resourcedetection (env + eks + ec2, against a fake instance metadata service) turns the
  OTLP document's origin into AWS::EKS::Container with aws.eks.cluster_name and
  aws.ec2.instance_id, and leaves the UDP document byte-identical;
- ec2 alone gives origin AWS::EC2::Instance; an unreachable metadata service is a
  warning and start-up goes on;
- memory_limiter with a 1 MiB limit refuses with 503 + Retry-After, counted with reason
  memory_limited;
- unknown components (processors: [transform], exporters: kafka, a connector) fail
  start-up with their name, FILE:LINE:COL and docs/migration.md.

usage: run_adot.py XRAYBRIDGE_BINARY SOURCE_DIR
"""
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import Bridge, Report, Sink, clean_env, metrics_text, wait_for  # noqa: E402

AKID, SECRET = "AKIDADOTTEST", "adot-test-secret"
INSTANCE = "i-0abc1234def567890"
IDENTITY = {
    "accountId": "123456789012", "architecture": "x86_64", "availabilityZone": "us-west-2c",
    "billingProducts": None, "devpayProductCodes": None, "marketplaceProductCodes": None,
    "imageId": "ami-0fedcba9876543210", "instanceId": INSTANCE, "instanceType": "m6i.large",
    "kernelId": None, "pendingTime": "2026-12-01T08:00:00Z", "privateIp": "10.1.2.3",
    "ramdiskId": None, "region": "us-west-2", "version": "2017-09-30",
}
HDR = b'{"format": "json", "version": 1}\n'


class FakeImds:
    """IMDSv2 on 127.0.0.1: token PUT, then token-checked GETs of a few paths."""

    def __init__(self):
        state = self
        paths = {
            "/latest/dynamic/instance-identity/document": json.dumps(IDENTITY, indent=2),
            "/latest/meta-data/hostname": "ip-10-1-2-3.us-west-2.compute.internal",
            "/latest/meta-data/placement/region": "us-west-2",
            "/latest/meta-data/tags/instance/eks:cluster-name": "demo-cluster",
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, code, body=b""):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                if self.path == "/latest/api/token":
                    self.answer(200, b"fake-imds-token")
                else:
                    self.answer(404)

            def do_GET(self):
                with state.lock:
                    state.gets.append(self.path)
                if self.headers.get("X-aws-ec2-metadata-token") != "fake-imds-token":
                    self.answer(401)
                elif self.path in paths:
                    self.answer(200, paths[self.path].encode())
                else:
                    self.answer(404)

            def log_message(self, *args):
                pass

        self.lock = threading.Lock()
        self.gets = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def otlp_json(trace_hex, span_hex, resource=None):
    attrs = [{"key": "service.name", "value": {"stringValue": "checkout"}}]
    for k, v in (resource or {}).items():
        attrs.append({"key": k, "value": {"stringValue": v}})
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": attrs},
        "scopeSpans": [{"spans": [{
            "traceId": trace_hex, "spanId": span_hex, "name": "GET /cart", "kind": 2,
            "startTimeUnixNano": "1764576000000000000",
            "endTimeUnixNano": "1764576000100000000"}]}]}]}).encode()


def post(port, body):
    """POST /v1/traces; returns (status, headers)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", "/v1/traces", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status, dict(r.getheaders())
    finally:
        c.close()


def loopback(text, sink_port):
    """The example with its listen addresses on loopback port 0 and X-Ray at |sink_port|."""
    text = re.sub(r"0\.0\.0\.0:\d+", "127.0.0.1:0", text)
    text = text.replace("exporters:\n  awsxray:\n",
                        "exporters:\n  awsxray:\n"
                        f"    endpoint: http://127.0.0.1:{sink_port}\n"
                        "    region: us-west-2\n", 1)
    return text + "  telemetry: {metrics: {address: \"127.0.0.1:0\"}}\n"


def find(docs, pred):
    for d in docs:
        j = json.loads(d)
        if pred(j):
            return d, j
    return None, None


def udp_port(bridge):
    return int(re.search(r"listening on udp \S+ \(port (\d+)\)", bridge.log()).group(1))


def run_eks(r, binary, example, tmp):
    imds, sink = FakeImds(), Sink()
    try:
        env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
                        AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url,
                        KUBERNETES_SERVICE_HOST="10.100.0.1",
                        OTEL_RESOURCE_ATTRIBUTES="deployment.environment=staging")
        env.pop("K8S_CLUSTER_NAME", None)
        with Bridge(binary, tmp, loopback(example, sink.port), env) as b:
            log = b.log()
            r.check("pprof" in log and "zpages" in log and "does nothing" in log,
                    "started from the ADOT example; pprof/zpages warn that they do nothing")
            r.check("k8s.cluster.name=demo-cluster" in log and f"host.id={INSTANCE}" in log,
                    "resourcedetection logged the detected attributes")
            status, _ = post(b.port("otlp http receiver"),
                             otlp_json("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"))
            r.check(status == 200, f"OTLP/HTTP export accepted (HTTP {status})")
            seg = {"name": "legacy-svc", "id": "a1b2c3d4e5f60718",
                   "trace_id": "1-5f84c7a1-0123456789abcdef01234567",
                   "start_time": 1764576000.5, "end_time": 1764576000.75,
                   "annotations": {"tier": "gold"}}
            raw = json.dumps(seg, separators=(",", ":"))
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(HDR + raw.encode(), ("127.0.0.1", udp_port(b)))
            s.close()
            wait_for(lambda: len(sink.snapshot()) >= 2, "both documents at the fake X-Ray")
            docs = sink.snapshot()
            r.check(len(docs) == 2, f"exactly 2 documents reached X-Ray ({len(docs)})")
            _, otlp = find(docs, lambda j: j.get("name") == "checkout")
            r.check(otlp is not None and otlp.get("origin") == "AWS::EKS::Container",
                    f"OTLP document origin AWS::EKS::Container ({otlp and otlp.get('origin')})")
            aws = (otlp or {}).get("aws", {})
            r.check(aws.get("eks", {}).get("cluster_name") == "demo-cluster",
                    f"aws.eks.cluster_name from the instance tag ({aws.get('eks')})")
            r.check(aws.get("ec2", {}).get("instance_id") == INSTANCE
                    and aws.get("ec2", {}).get("availability_zone") == "us-west-2c",
                    f"aws.ec2 block from the identity document ({aws.get('ec2')})")
            r.check(aws.get("account_id") == "123456789012",
                    f"aws.account_id from the identity document ({aws.get('account_id')})")
            ann = (otlp or {}).get("annotations", {})
            r.check(ann.get("otel_resource_deployment_environment") == "staging"
                    or ann.get("otel.resource.deployment.environment") == "staging",
                    f"env detector: OTEL_RESOURCE_ATTRIBUTES indexed as configured ({ann})")
            r.check(raw in docs, "UDP document forwarded byte-identical (no resource added)")
            code = b.stop()
            r.check(code == 0, f"clean shutdown (exit {code})")
    finally:
        imds.stop()
        sink.stop()


def single_run(binary, tmp, processors, pipeline, env, sink):
    cfg = f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}, grpc: {{endpoint: "127.0.0.1:0"}}}}}}
processors:
{processors}
exporters:
  awsxray: {{endpoint: "http://127.0.0.1:{sink.port}", region: us-west-2}}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: {pipeline}
      exporters: [awsxray]
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""
    return Bridge(binary, tmp, cfg, env)


def run_ec2_and_unreachable(r, binary, tmp):
    imds, sink = FakeImds(), Sink()
    try:
        env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
                        AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
        with single_run(binary, tmp, "  resourcedetection/ec2:\n    detectors: [ec2]\n",
                        "[resourcedetection/ec2]", env, sink) as b:
            post(b.port("otlp http receiver"),
                 otlp_json("5759e988bd862e3fe1be46a994272794", "53995c3f42cd8ad9"))
            wait_for(lambda: len(sink.snapshot()) >= 1, "the ec2 document")
            j = json.loads(sink.snapshot()[0])
            r.check(j.get("origin") == "AWS::EC2::Instance"
                    and j.get("aws", {}).get("ec2", {}).get("instance_size") == "m6i.large",
                    f"ec2 detector: origin AWS::EC2::Instance, instance_size ({j.get('origin')})")
            code = b.stop()
            r.check(code == 0, f"clean shutdown (exit {code})")
        # Nothing listens on this port: the detector warns and start-up goes on.
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]
        closed.close()
        env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = f"http://127.0.0.1:{dead}"
        with single_run(binary, tmp, "  resourcedetection:\n    detectors: [ec2]\n"
                        "    timeout: 1s\n", "[resourcedetection]", env, sink) as b:
            log = b.log()
            r.check("instance metadata service" in log and "not usable" in log,
                    "unreachable metadata service: warning, start-up continues")
            before = len(sink.snapshot())
            post(b.port("otlp http receiver"),
                 otlp_json("5759e988bd862e3fe1be46a994272795", "53995c3f42cd8ada"))
            wait_for(lambda: len(sink.snapshot()) > before, "the document without detection")
            j = json.loads(sink.snapshot()[-1])
            r.check("origin" not in j, "no origin without detected attributes")
            code = b.stop()
            r.check(code == 0, f"clean shutdown (exit {code})")
    finally:
        imds.stop()
        sink.stop()


def run_memory_limiter(r, binary, tmp):
    sink = Sink()
    try:
        env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET)
        with single_run(binary, tmp, "  memory_limiter:\n    check_interval: 100ms\n"
                        "    limit_mib: 1\n", "[memory_limiter]", env, sink) as b:
            status, headers = post(b.port("otlp http receiver"),
                                   otlp_json("5759e988bd862e3fe1be46a994272796",
                                             "53995c3f42cd8adb"))
            r.check(status == 503 and "Retry-After" in headers,
                    f"memory_limiter over its limit: HTTP {status}, Retry-After "
                    f"{headers.get('Retry-After')}")
            text = metrics_text(b.port("metrics endpoint"))
            line = [x for x in text.splitlines() if 'reason="memory_limited"' in x
                    and 'transport="http"' in x and x.startswith(
                        "xraybridge_receiver_refused_requests_total")]
            r.check(line and int(line[0].rsplit(" ", 1)[1]) >= 1,
                    f"refusal counted with reason memory_limited ({line})")
            grpc_code = grpc_export_code(b.port("otlp grpc receiver"), tmp)
            if grpc_code is None:
                print("NOTE: node or tests/integration/node_modules missing: gRPC check not run")
            else:
                r.check(grpc_code == 14, f"memory_limiter over its limit: gRPC status {grpc_code} "
                        "(UNAVAILABLE = 14)")
            r.check(len(sink.snapshot()) == 0, "nothing exported while refusing")
            r.check("refusing new data" in b.log(), "the limiter logged why it refuses")
            code = b.stop()
            r.check(code == 0, f"clean shutdown (exit {code})")
    finally:
        sink.stop()


def grpc_export_code(port, tmp):
    """One gRPC Export (empty request) with the real grpc-js client of tests/integration;
    its status code, or None when node or the pinned packages are missing."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration")
    node = shutil.which("node")
    if not node or not os.path.isdir(os.path.join(here, "node_modules", "@grpc")):
        return None
    req = os.path.join(tmp, "empty.bin")
    open(req, "wb").close()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OTEL_") and "proxy" not in k.lower()}
    p = subprocess.run([node, os.path.join(here, "grpc_call.mjs"), "--target",
                        f"127.0.0.1:{port}", "--method",
                        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                        "--file", req], capture_output=True, text=True, timeout=30, env=env)
    return json.loads(p.stdout.strip().splitlines()[-1])["code"] if p.returncode == 0 else -1


def expect_refused(r, binary, tmp, yaml, name, what):
    path = os.path.join(tmp, "bad.yaml")
    with open(path, "w") as f:
        f.write(yaml)
    p = subprocess.run([binary, "--config", path], capture_output=True, text=True,
                       timeout=30, env=clean_env())
    out = p.stdout + p.stderr
    m = re.search(re.escape(path) + r":(\d+):(\d+): .*" + re.escape(f'"{name}"'), out)
    r.check(p.returncode != 0 and m is not None and "docs/migration.md" in out,
            f"{what}: start-up fails naming \"{name}\" at its position "
            f"({out.strip().splitlines()[-1] if out.strip() else 'no output'})")


def main():
    binary, src = sys.argv[1], sys.argv[2]
    r = Report()
    tmp = tempfile.mkdtemp(prefix="xb_adot_")
    example_path = os.path.join(src, "examples", "config-adot-eks.yaml")
    try:
        p = subprocess.run([binary, "--validate-config", "--config", example_path],
                           capture_output=True, text=True, timeout=30,
                           env=clean_env(AWS_REGION="us-west-2"))
        r.check(p.returncode == 0 and "is valid" in p.stdout,
                "examples/config-adot-eks.yaml passes --validate-config")
        r.check("pprof is accepted and does nothing" in p.stderr
                and "zpages is accepted and does nothing" in p.stderr,
                "--validate-config warns that pprof and zpages do nothing")
        with open(example_path) as f:
            example = f.read()
        run_eks(r, binary, example, tmp)
        run_ec2_and_unreachable(r, binary, tmp)
        run_memory_limiter(r, binary, tmp)
        base = ("receivers:\n  otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}\n"
                "exporters:\n  file: {path: /dev/null}\n")
        expect_refused(r, binary, tmp, base + "service:\n  pipelines:\n    traces:\n"
                       "      receivers: [otlp]\n      processors: [transform]\n"
                       "      exporters: [file]\n", "transform", "processors: [transform]")
        expect_refused(r, binary, tmp, base + "  kafka:\n    brokers: [localhost:9092]\n"
                       "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
                       "      exporters: [file]\n", "kafka", "exporters: kafka:")
        expect_refused(r, binary, tmp, base + "connectors:\n  spanmetrics: {}\n"
                       "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
                       "      exporters: [file]\n", "spanmetrics", "connectors: spanmetrics:")
    except Exception as e:  # report, do not hide, an unexpected failure
        r.check(False, f"unexpected error: {e!r}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
