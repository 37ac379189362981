#!/usr/bin/python3
"""Durable sending queue (extensions.file_storage + sending_queue.storage), end to end:
the real binary, OTLP/HTTP clients, and the botocore fake X-Ray
(tests/integration/fake_xray.py) switched between failing and healthy.

Scenarios (each prints its counts):
1. kill -9 while X-Ray answers 503 (fsync: true, one worker), restart with X-Ray
   healthy: every acknowledged span is delivered, in acknowledgement order, before a
   request accepted after the restart; the recovered-documents gauge says how many were
   read back; duplicates counted;
2. the same with fsync: false (interval sync): a process crash loses nothing either;
3. kill -9, then the queue's last segment is cut by 3 bytes (a torn append): start-up
   succeeds, the damaged record is counted, every other acknowledged span arrives;
4. SIGTERM with service.shutdown_timeout 300ms while X-Ray is down, then restart
   healthy: nothing lost;
5. kill -9 while X-Ray is healthy but slow (calls in flight): every acknowledged span is
   delivered after the restart; duplicates (documents X-Ray took after the oldest one
   unfinished at the kill) stay within two rounds of calls in flight and are reported;
6. max_size 64KiB while X-Ray is down: HTTP requests are refused with 503 + Retry-After
   and counted, a gRPC Export is refused and counted, the acknowledged ones are delivered once X-Ray heals, and the queue takes
   requests again afterwards.

usage: run_durable.py XRAYBRIDGE_BINARY
"""
import glob
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "receiver"))
from xbtest import Bridge, Report, clean_env, metrics_text, poll_until, wait_for  # noqa: E402
import h2raw  # noqa: E402

FAKE_XRAY = os.path.join(HERE, "..", "integration", "fake_xray.py")
SPANS_PER_REQUEST = 5


def http_json(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, json.dumps(body) if body is not None else None,
                  {"Content-Type": "application/json"} if body is not None else {})
        r = c.getresponse()
        return json.loads(r.read())
    finally:
        c.close()


def metric(port, name, exporter="awsxray", transport="http"):
    """Value of |name|{exporter=...} (or {..., transport=...} for receiver metrics)
    on the /metrics endpoint (0 when absent)."""
    for line in metrics_text(port).splitlines():
        if line.startswith(name + "{") and (f'exporter="{exporter}"' in line or
                                            f'transport="{transport}"' in line):
            return float(line.rsplit(" ", 1)[1])
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def make_request(rng):
    """One OTLP/JSON request of SPANS_PER_REQUEST spans with fresh ids; returns
    (body, [segment ids])."""
    now = time.time_ns()
    trace = f"{int(time.time()):08x}" + "".join(rng.choice("0123456789abcdef") for _ in range(24))
    ids = ["%016x" % rng.getrandbits(64) for _ in range(SPANS_PER_REQUEST)]
    spans = [{"traceId": trace, "spanId": sid, "name": f"op-{i}", "kind": 2,
              "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 1000000),
              "attributes": [{"key": "pad", "value": {"stringValue": "x" * 200}}]}
             for i, sid in enumerate(ids)]
    body = {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "durable-test"}}]},
        "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}
    return json.dumps(body).encode(), ids


def post(port, body):
    """POSTs one export request; returns (status, Retry-After header)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", "/v1/traces", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("Retry-After")
    finally:
        c.close()


class FakeXray:
    def __init__(self, tmp):
        self.docs = os.path.join(tmp, "xray-docs.jsonl")
        self.proc = subprocess.Popen(["/usr/bin/python3", FAKE_XRAY, "--docs-out", self.docs],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.proc.stdout.readline())

    def mode(self, mode, status=503):
        http_json(self.port, "POST", "/_control", {"mode": mode, "status": status})

    def delivered(self):
        """List of delivered segment ids, duplicates included."""
        if not os.path.exists(self.docs):
            return []
        out = []
        with open(self.docs) as f:
            for line in f:
                # The fake X-Ray (another process) may be writing the last line now:
                # read whole lines only.
                if line.endswith("\n") and line.strip():
                    out.append(json.loads(line)["id"])
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def config(xport, storage_dir, fsync=True, max_size="64MiB", shutdown="10s", extra="",
           workers=4):
    return f"""receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:0"}}
      grpc: {{endpoint: "127.0.0.1:0"}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{xport}"
    num_workers: {workers}
    batch: {{max_documents: 20, timeout: 20ms}}
    retry_on_failure: {{initial_interval: 50ms, max_interval: 200ms}}
    sending_queue: {{storage: file_storage}}
extensions:
  file_storage:
    directory: {storage_dir}
    fsync: {"true" if fsync else "false"}
    fsync_interval: 100ms
    max_size: {max_size}
    segment_size: 16KiB
{extra}service:
  extensions: [file_storage]
  shutdown_timeout: {shutdown}
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


def env(tmp):
    return clean_env(HOME=tmp, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                     AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                     AWS_EC2_METADATA_DISABLED="true",
                     AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "none"),
                     AWS_CONFIG_FILE=os.path.join(tmp, "none"))


class Posted:
    """What post_requests saw: acknowledged span ids in order, the ids of the refused
    requests, how many were refused with 503 and the last Retry-After."""

    def __init__(self):
        self.acked, self.refused_ids, self.refused, self.retry_after = [], [], 0, None


def post_requests(port, rng, n):
    """Posts |n| fresh requests of SPANS_PER_REQUEST spans; returns a Posted."""
    out = Posted()
    for _ in range(n):
        body, ids = make_request(rng)
        status, ra = post(port, body)
        if status == 200:
            out.acked.extend(ids)
        else:
            out.refused_ids.extend(ids)
            if status == 503:
                out.refused += 1
                out.retry_after = ra
    return out


def send_requests(port, rng, n):
    """Posts |n| requests; returns the ids of the acknowledged (200) ones, in order."""
    return post_requests(port, rng, n).acked


def scenario_dirs(prefix, name):
    """A fresh scratch directory for scenario |name| with an empty queue directory in it,
    and a random generator seeded by |name|: (tmp, store, rng)."""
    tmp = tempfile.mkdtemp(prefix=f"{prefix}-{name}-")
    store = os.path.join(tmp, "queue")
    os.mkdir(store)
    return tmp, store, random.Random(name)


def crash_and_recover(binary, report, name, fsync=True, truncate=0, sigterm=False, requests=60,
                      in_order=False):
    check = report.check
    tmp, store, rng = scenario_dirs("xb-durable", name)
    fake = FakeXray(tmp)
    try:
        fake.mode("error", 503)
        cfg = config(fake.port, store, fsync=fsync, shutdown="300ms" if sigterm else "10s",
                     workers=1 if in_order else 4)
        b = Bridge(binary, tmp, cfg, env(tmp))
        with b:
            acked = send_requests(b.port("otlp http receiver"), rng, requests)
            mport = b.port("metrics endpoint")
            appended = metric(mport, "xraybridge_file_storage_appended_documents_total")
            fsyncs = metric(mport, "xraybridge_file_storage_fsyncs_total")
            wait_for(lambda: http_json(fake.port, "GET", "/_stats")["injected_failures"] >= 1,
                     "a failed PutTraceSegments call")
            if sigterm:
                rc = b.stop()
                check(rc == 0 and "kept on disk for the next start" in b.log(),
                      f"{name}: SIGTERM with X-Ray down exits 0 after shutdown_timeout and "
                      "keeps the queue on disk")
            else:
                b.kill()
        check(len(acked) == requests * SPANS_PER_REQUEST and appended == len(acked),
              f"{name}: {len(acked)} spans acknowledged, {int(appended)} appended to disk "
              f"({int(fsyncs)} fsyncs) while X-Ray answers 503")
        check(len(fake.delivered()) == 0, f"{name}: nothing delivered while X-Ray is failing")
        lost = set()
        if truncate:
            segs = sorted(glob.glob(os.path.join(store, "exporter_awsxray_traces", "*.seg")))
            last = segs[-1]
            size = os.path.getsize(last)
            os.truncate(last, size - truncate)
            # The torn record is the last acknowledged document.
            lost = {acked[-1]}
        fake.mode("healthy")
        b = Bridge(binary, tmp, cfg, env(tmp))
        with b:
            mport = b.port("metrics endpoint")
            recovered = metric(mport, "xraybridge_file_storage_recovered_documents")
            corrupt = metric(mport, "xraybridge_file_storage_corrupt_records_total")
            want = set(acked) - lost
            newer = []
            if in_order:
                # A request accepted after the restart goes behind the recovered ones.
                body, newer = make_request(rng)
                check(post(b.port("otlp http receiver"), body)[0] == 200,
                      f"{name}: a new request is accepted while the queue is recovered")
                want |= set(newer)
            poll_until(lambda: want <= set(fake.delivered()))
            got = fake.delivered()
            missing = want - set(got)
            dups = len(got) - len(set(got))
            check(not missing,
                  f"{name}: after restart {len(set(got) & want)}/{len(want)} acknowledged spans "
                  f"delivered ({len(missing)} missing, {dups} duplicates, {int(recovered)} "
                  "documents recovered from disk)")
            if in_order:
                # Order of first arrival: a retried call (a slow fake on a busy machine)
                # may deliver a document twice, which at-least-once allows.
                check(list(dict.fromkeys(got)) == acked + newer,
                      f"{name}: with one worker, delivered in acknowledgement order, the "
                      f"{len(acked)} recovered documents before the {len(newer)} new ones")
            check(recovered == len(acked) - len(lost),
                  f"{name}: recovered-documents gauge {int(recovered)} == {len(acked) - len(lost)}")
            if truncate:
                check(corrupt == 1 and acked[-1] not in got,
                      f"{name}: the cut record is counted as corrupt ({int(corrupt)}) and skipped")
                check("incomplete record" in b.log(), f"{name}: the torn tail is logged")
            else:
                check(corrupt == 0, f"{name}: no corrupt record counted")
            wait_for(lambda: metric(mport, "xraybridge_file_storage_queue_documents") == 0,
                     "queue gauge back to 0")
            segs = glob.glob(os.path.join(store, "exporter_awsxray_traces", "*.seg"))
            qbytes = metric(mport, "xraybridge_file_storage_queue_bytes")
            check(len(segs) <= 1 and qbytes <= 16 * 1024 + 4096,
                  f"{name}: delivered segments deleted ({len(segs)} left, {int(qbytes)} bytes)")
            check(b.stop() == 0, f"{name}: clean exit")
        # A third start has nothing left to send.
        b = Bridge(binary, tmp, cfg, env(tmp))
        with b:
            mport = b.port("metrics endpoint")
            check(metric(mport, "xraybridge_file_storage_recovered_documents") == 0,
                  f"{name}: nothing recovered after everything was delivered")
            b.stop()
    finally:
        fake.stop()


def kill_in_flight(binary, report):
    check = report.check
    tmp, store, rng = scenario_dirs("xb-durable", "inflight")
    fake = FakeXray(tmp)
    try:
        http_json(fake.port, "POST", "/_control", {"mode": "healthy", "latency_ms": 300})
        cfg = config(fake.port, store)
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            acked = send_requests(b.port("otlp http receiver"), rng, 60)
            wait_for(lambda: len(fake.delivered()) >= 100, "100 documents delivered")
            b.kill()
        before = len(fake.delivered())
        http_json(fake.port, "POST", "/_control", {"latency_ms": 0})
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            mport = b.port("metrics endpoint")
            recovered = metric(mport, "xraybridge_file_storage_recovered_documents")
            poll_until(lambda: set(acked) <= set(fake.delivered()))
            got = fake.delivered()
            dups = len(got) - len(set(got))
            # Duplicates: documents X-Ray took after the oldest one still unfinished at the
            # kill (calls in flight, plus calls that finished out of order behind it).
            check(set(acked) <= set(got) and dups <= 2 * 4 * 20,
                  f"kill9-in-flight: {len(set(acked) & set(got))}/{len(acked)} acknowledged "
                  f"spans delivered; {before} delivered before the kill, {int(recovered)} "
                  f"recovered, {dups} duplicates (in flight at the kill; 4 workers x 20 per call)")
            b.stop()
    finally:
        fake.stop()


def disk_full(binary, report):
    check = report.check
    tmp, store, rng = scenario_dirs("xb-durable", "full")
    fake = FakeXray(tmp)
    try:
        fake.mode("error", 503)
        cfg = config(fake.port, store, max_size="64KiB")
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            port = b.port("otlp http receiver")
            mport = b.port("metrics endpoint")
            sent = post_requests(port, rng, 80)
            acked, refused, retry_after = sent.acked, sent.refused, sent.retry_after
            full = metric(mport, "xraybridge_receiver_queue_full_requests_total")
            ok, _ = h2raw.export_call(b.port("otlp grpc receiver"), h2raw.export_request(50))
            grpc_full = metric(mport, "xraybridge_receiver_queue_full_requests_total",
                               transport="grpc")
            check(not ok and grpc_full == 1,
                  f"disk full: a gRPC Export is refused too (ok={ok}, queue_full_requests_total "
                  f"{{transport=grpc}} {int(grpc_full)}; status.c maps it to UNAVAILABLE)")
            qbytes = metric(mport, "xraybridge_file_storage_queue_bytes")
            check(refused > 0 and retry_after is not None and full == refused and qbytes <= 64 * 1024,
                  f"disk full: {len(acked)} spans acknowledged, {refused} requests refused 503 "
                  f"(Retry-After: {retry_after}), counted in queue_full_requests_total: {int(full)}, {int(qbytes)} bytes "
                  "on disk <= max_size 64KiB")
            fake.mode("healthy")
            wait_for(lambda: set(acked) <= set(fake.delivered()), "acknowledged spans delivered")
            got = fake.delivered()
            check(set(acked) <= set(got),
                  f"disk full: all {len(acked)} acknowledged spans delivered after X-Ray heals "
                  f"({len(got) - len(set(got))} duplicates)")
            wait_for(lambda: metric(mport, "xraybridge_file_storage_queue_documents") == 0,
                     "queue drained")
            body, ids = make_request(rng)
            status, _ = post(port, body)
            check(status == 200, f"disk full: accepted again once drained ({status})")
            b.stop()
    finally:
        fake.stop()


def main():
    binary = sys.argv[1]
    report = Report()
    scenarios = [
        ("kill9", lambda: crash_and_recover(binary, report, "kill9", in_order=True)),
        ("kill9-fsync-interval",
         lambda: crash_and_recover(binary, report, "kill9-fsync-interval", fsync=False)),
        ("kill9-torn-tail", lambda: crash_and_recover(binary, report, "kill9-torn-tail",
                                                      truncate=3)),
        ("sigterm", lambda: crash_and_recover(binary, report, "sigterm", sigterm=True)),
        ("kill9-in-flight", lambda: kill_in_flight(binary, report)),
        ("disk full", lambda: disk_full(binary, report)),
    ]
    report.run(scenarios)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
