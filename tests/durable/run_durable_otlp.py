#!/usr/bin/python3
"""Durable sending queue of the otlphttp exporter (sending_queue.storage: file_storage),
end to end: the real binary, OTLP/JSON clients, the fake OTLP endpoint
(tests/otlphttp/fake_otlp.py: SigV4 checked with botocore, OTLP decoded) and, for the
pipeline with both exporters, the botocore fake X-Ray (tests/integration/fake_xray.py).

Scenarios (each prints its counts):
1. otlphttp alone, the endpoint answering 503: kill -9, restart with the endpoint
   healthy: every acknowledged span arrives (unique span ids counted), the records are
   read back from exporter_otlphttp_traces, duplicates reported;
2. the same with the last record of the queue cut by 3 bytes (a torn append): start-up
   succeeds, the damaged record is counted and skipped, every other span arrives;
3. exporters [awsxray, otlphttp], both durable, both endpoints failing: kill -9, restart
   healthy: each endpoint gets every acknowledged span;
4. kill -9 while the endpoint is healthy but slow (calls in flight): every acknowledged
   span arrives after the restart; duplicates (records finished after the oldest one
   unfinished at the kill) are counted and reported;
5. max_size 64KiB with the endpoint down: requests are refused with 503 + Retry-After
   and counted; the acknowledged ones arrive once the endpoint heals;
6. a write error (the process's file size limit, RLIMIT_FSIZE, with SIGXFSZ ignored:
   appends past 8 KiB fail with EFBIG): those requests are refused with 503 and counted
   in write_errors_total, never acknowledged; the acknowledged ones all arrive.

usage: run_durable_otlp.py XRAYBRIDGE_BINARY
"""
import glob
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "otlphttp"))
sys.path.insert(0, HERE)
from xbtest import Bridge, Report, poll_until, wait_for  # noqa: E402
from fake_otlp import FakeOtlp  # noqa: E402
from run_durable import (FakeXray, env, metric, post_requests, scenario_dirs,  # noqa: E402
                         send_requests)

REGION = "us-west-2"
AKID = "AKIDEXAMPLE"  # what run_durable.env() puts in the environment
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
OUTAGE = ["503"] * 100000  # the fake's per-call script: every call fails


def config(otlp_port, storage_dir, xray_port=None, max_size="64MiB"):
    xray = (f"  awsxray:\n    region: {REGION}\n    endpoint: http://127.0.0.1:{xray_port}\n"
            "    batch: {max_documents: 20, timeout: 20ms}\n"
            "    retry_on_failure: {initial_interval: 50ms, max_interval: 200ms}\n"
            "    sending_queue: {storage: file_storage}\n") if xray_port else ""
    exporters = "[awsxray, otlphttp]" if xray_port else "[otlphttp]"
    return f"""receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
{xray}  otlphttp:
    traces_endpoint: http://127.0.0.1:{otlp_port}/v1/traces
    auth: {{authenticator: sigv4auth}}
    batch: {{timeout: 20ms}}
    retry_on_failure: {{initial_interval: 50ms, max_interval: 200ms}}
    sending_queue: {{storage: file_storage}}
extensions:
  sigv4auth: {{region: {REGION}}}
  file_storage:
    directory: {storage_dir}
    max_size: {max_size}
    segment_size: 16KiB
service:
  extensions: [sigv4auth, file_storage]
  pipelines: {{traces: {{receivers: [otlp], exporters: {exporters}}}}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


def new_fake(latency_s=0.0):
    """The fake OTLP endpoint; |latency_s| holds each call that long before answering
    (simulated endpoint latency, so that calls are in flight at a kill)."""
    fake = FakeOtlp(REGION, AKID, SECRET)
    fake.server.handle_error = lambda *a: None  # a killed client resets its connection
    fake.latency_s = latency_s
    fake.active = 0  # calls being handled
    handle = fake.handle

    def slow_handle(h, body):
        with fake.lock:
            fake.active += 1
        try:
            if fake.latency_s:
                time.sleep(fake.latency_s)
            handle(h, body)
        finally:
            with fake.lock:
                fake.active -= 1

    fake.handle = slow_handle
    return fake


def span_ids(fake):
    with fake.lock:
        return [s["spanId"] for s in fake.spans]


def heal_and_wait(fake, acked):
    """Lets |fake| accept every call again, waits (bounded) for the span ids |acked| and
    returns the span ids it has received, duplicates included."""
    with fake.lock:
        fake.script = []
    poll_until(lambda: set(acked) <= set(span_ids(fake)))
    return span_ids(fake)


def outcome(name, want, got, recovered, check):
    missing = want - set(got)
    dups = len(got) - len(set(got))
    check(not missing,
          f"{name}: after restart {len(set(got) & want)}/{len(want)} acknowledged spans "
          f"delivered ({len(missing)} missing, {dups} duplicates, {int(recovered)} records "
          "recovered from disk)")
    return dups


def crash_otlp(binary, report, name, truncate=0):
    check = report.check
    tmp, store, rng = scenario_dirs("xb-durable-otlp", name)
    fake = new_fake()
    try:
        fake.script = list(OUTAGE)
        cfg = config(fake.port, store)
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            acked = send_requests(b.port("otlp http receiver"), rng, 40)
            mport = b.port("metrics endpoint")
            appended = metric(mport, "xraybridge_file_storage_appended_documents_total",
                              exporter="otlphttp")
            wait_for(lambda: fake.injected >= 1, "a failed export call")
            b.kill()
        check(len(acked) == 200 and appended >= 1 and not fake.spans,
              f"{name}: {len(acked)} spans acknowledged in {int(appended)} records appended "
              f"while the endpoint answers 503 ({fake.injected} calls refused, none accepted)")
        lost = set()
        if truncate:
            segs = sorted(glob.glob(os.path.join(store, "exporter_otlphttp_traces", "*.seg")))
            os.truncate(segs[-1], os.path.getsize(segs[-1]) - truncate)
            lost = set(acked[-5:])  # the last request's record is the torn one
        with fake.lock:
            fake.script = []
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            mport = b.port("metrics endpoint")
            recovered = metric(mport, "xraybridge_file_storage_recovered_documents",
                               exporter="otlphttp")
            corrupt = metric(mport, "xraybridge_file_storage_corrupt_records_total",
                             exporter="otlphttp")
            want = set(acked) - lost
            poll_until(lambda: want <= set(span_ids(fake)))
            got = span_ids(fake)
            outcome(name, want, got, recovered, check)
            check(recovered == appended - (1 if truncate else 0),
                  f"{name}: recovered-records gauge {int(recovered)} == "
                  f"{int(appended) - (1 if truncate else 0)}")
            if truncate:
                check(corrupt == 1 and not (lost & set(got)),
                      f"{name}: the cut record is counted as corrupt ({int(corrupt)}) and skipped")
            else:
                check(corrupt == 0, f"{name}: no corrupt record counted")
            check(fake.sig_failures == 0 and not fake.violations,
                  f"{name}: every call SigV4-valid and within the limits "
                  f"({fake.sig_failures} signature failures, {fake.violations[:2]})")
            wait_for(lambda: metric(mport, "xraybridge_file_storage_queue_documents",
                                    exporter="otlphttp") == 0, "queue gauge back to 0")
            check(b.stop() == 0, f"{name}: clean exit")
    finally:
        fake.stop()


def crash_both(binary, report):
    check = report.check
    tmp, store, rng = scenario_dirs("xb-durable-otlp", "both")
    fake = new_fake()
    xray = FakeXray(tmp)
    try:
        fake.script = list(OUTAGE)
        xray.mode("error", 503)
        cfg = config(fake.port, store, xray_port=xray.port)
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            acked = send_requests(b.port("otlp http receiver"), rng, 30)
            wait_for(lambda: fake.injected >= 1, "a failed OTLP export call")
            b.kill()
        dirs = sorted(os.path.basename(d) for d in glob.glob(os.path.join(store, "exporter_*")))
        check(len(acked) == 150 and dirs == ["exporter_awsxray_traces",
                                             "exporter_otlphttp_traces"],
              f"both: {len(acked)} spans acknowledged, one queue directory per exporter {dirs}")
        with fake.lock:
            fake.script = []
        xray.mode("healthy")
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            mport = b.port("metrics endpoint")
            rec_x = metric(mport, "xraybridge_file_storage_recovered_documents")
            rec_o = metric(mport, "xraybridge_file_storage_recovered_documents",
                           exporter="otlphttp")
            want = set(acked)
            poll_until(lambda: want <= set(span_ids(fake)) and want <= set(xray.delivered()))
            outcome("both (otlphttp)", want, span_ids(fake), rec_o, check)
            outcome("both (awsxray)", want, xray.delivered(), rec_x, check)
            check(b.stop() == 0, "both: clean exit")
    finally:
        xray.stop()
        fake.stop()


def kill_in_flight(binary, report):
    check = report.check
    tmp, store, rng = scenario_dirs("xb-durable-otlp", "inflight")
    fake = new_fake(latency_s=0.3)
    try:
        cfg = config(fake.port, store).replace("batch: {timeout: 20ms}",
                                               "batch: {timeout: 20ms, max_documents: 4}")
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            acked = send_requests(b.port("otlp http receiver"), rng, 60)
            wait_for(lambda: len(span_ids(fake)) >= 60, "60 spans delivered")
            b.kill()
            at_kill = len(span_ids(fake))
        # Calls in flight at the kill still reach the endpoint; their answers go nowhere.
        wait_for(lambda: fake.active == 0, "the calls in flight at the kill to end")
        before = len(span_ids(fake))
        fake.latency_s = 0
        with Bridge(binary, tmp, cfg, env(tmp)) as b:
            recovered = metric(b.port("metrics endpoint"),
                               "xraybridge_file_storage_recovered_documents", exporter="otlphttp")
            poll_until(lambda: set(acked) <= set(span_ids(fake)))
            got = span_ids(fake)
            dups = outcome("otlp-kill9-in-flight", set(acked), got, recovered, check)
            # Duplicates: records the endpoint took after the oldest one unfinished at the
            # kill: at most the calls in flight (num_consumers 10 x 4 records x 5 spans)
            # and those finished out of order behind them.
            check(dups <= 2 * 10 * 4 * 5,
                  f"otlp-kill9-in-flight: {at_kill} spans delivered before the kill and "
                  f"{before - at_kill} by calls in flight at it; {dups} duplicates after the "
                  "restart (bound: two rounds of 10 calls x 4 records x 5 spans)")
            b.stop()
    finally:
        fake.stop()


def disk_full(binary, report):
    check = report.check
    tmp, store, rng = scenario_dirs("xb-durable-otlp", "full")
    fake = new_fake()
    try:
        fake.script = list(OUTAGE)
        with Bridge(binary, tmp, config(fake.port, store, max_size="64KiB"), env(tmp)) as b:
            port = b.port("otlp http receiver")
            mport = b.port("metrics endpoint")
            sent = post_requests(port, rng, 80)
            acked, refused, retry_after = sent.acked, sent.refused, sent.retry_after
            full = metric(mport, "xraybridge_receiver_queue_full_requests_total")
            qbytes = metric(mport, "xraybridge_file_storage_queue_bytes", exporter="otlphttp")
            check(acked and refused > 0 and retry_after is not None and full == refused and
                  qbytes <= 64 * 1024,
                  f"disk full: {len(acked)} spans acknowledged, {refused} requests refused 503 "
                  f"(Retry-After: {retry_after}), queue_full_requests_total {int(full)}, "
                  f"{int(qbytes)} bytes on disk <= max_size 64KiB")
            got = heal_and_wait(fake, acked)
            check(set(acked) <= set(got),
                  f"disk full: {len(set(acked) & set(got))}/{len(acked)} acknowledged spans "
                  f"delivered after the endpoint heals ({len(got) - len(set(got))} duplicates)")
            b.stop()
    finally:
        fake.stop()


def write_error(binary, report):
    check = report.check
    tmp, store, rng = scenario_dirs("xb-durable-otlp", "eio")
    fake = new_fake()
    # dash's ulimit -f counts 512-byte blocks: 16 = 8 KiB per file.
    limit = ("/bin/sh", "-c", "ulimit -f 16; trap '' XFSZ; exec \"$0\" \"$@\"")
    try:
        fake.script = list(OUTAGE)
        with Bridge(binary, tmp, config(fake.port, store), env(tmp), prefix=limit) as b:
            port = b.port("otlp http receiver")
            mport = b.port("metrics endpoint")
            sent = post_requests(port, rng, 20)
            acked, refused_ids, refused = sent.acked, sent.refused_ids, sent.refused
            errors = metric(mport, "xraybridge_file_storage_write_errors_total",
                            exporter="otlphttp")
            check(acked and refused > 0 and errors == refused,
                  f"write error: {len(acked)} spans acknowledged, {refused} requests refused "
                  f"503 after appends failed, write_errors_total {int(errors)}")
            got = set(heal_and_wait(fake, acked))
            check(set(acked) <= got and not (set(refused_ids) & got),
                  f"write error: {len(set(acked) & got)}/{len(acked)} acknowledged spans "
                  f"delivered, {len(set(refused_ids) & got)} of the refused ones")
            b.stop()
    finally:
        fake.stop()


def main():
    binary = sys.argv[1]
    report = Report()
    scenarios = [
        ("otlp-kill9", lambda: crash_otlp(binary, report, "otlp-kill9")),
        ("otlp-kill9-torn-tail",
         lambda: crash_otlp(binary, report, "otlp-kill9-torn-tail", truncate=3)),
        ("both", lambda: crash_both(binary, report)),
        ("otlp-kill9-in-flight", lambda: kill_in_flight(binary, report)),
        ("disk full", lambda: disk_full(binary, report)),
        ("write error", lambda: write_error(binary, report)),
    ]
    report.run(scenarios)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
