"""System test of the ingest worker threads (service.workers: 2, app/workers.h).

- spread: 40 OTLP/HTTP requests, each on a new connection, from 4 client threads at
  once; every span reaches the file exporter once, every worker answered some
  (SO_REUSEPORT spreads connections by their address: a 2^-39 chance of a false FAIL),
  and the per-worker request counters add up to the requests sent;
- large: a request over a worker's own 512 KiB arena is decoded in the shared one
  (xraybridge_worker_large_requests_total) and all its spans arrive;
- gauge: xraybridge_workers reports 2; the receivers' totals keep their meaning;
- direct admission: with memory queues and no backlog no admission is handed to the
  main loop (xraybridge_worker_handoffs_total stays 0);
- SIGTERM: the process drains every worker and exits 0 with everything written;
- scheduling policy (service.sched_batch, app/sched.h): every thread runs under
  SCHED_BATCH by default, and under SCHED_OTHER with `sched_batch: false`.

usage: run_workers.py XRAYBRIDGE_BINARY
"""
import json
import os
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import (Bridge, Report, clean_env, metric_family, metrics_text,  # noqa: E402
                    poll_until, post_trace)

WORKERS = 2
CLIENTS = 4
PER_CLIENT = 10
SPANS = 5


def body(trace_no, spans, pad=0):
    """OTLP/JSON with |spans| spans of one trace; |pad| bytes of attribute per span."""
    tid = f"{trace_no:032x}"
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name",
                                     "value": {"stringValue": "workers-test"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": tid, "spanId": f"{trace_no * 10000 + i + 1:016x}", "name": f"op{i}",
            "kind": 2, "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000100000000",
            "attributes": [{"key": "pad", "value": {"stringValue": "x" * pad}}] if pad else [],
        } for i in range(spans)]}]}]}).encode()


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [ln for ln in f.read().split("\n") if ln.strip()]


SCHED_OTHER, SCHED_BATCH = 0, 3  # Linux policy numbers (<sched.h>)


def thread_policies(pid):
    """{thread name: policy} of process |pid|: field 41 of /proc/PID/task/TID/stat."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[f"{name}/{tid}"] = int(fields[41 - 3])
    return out


def main(binary):
    report = Report()
    with tempfile.TemporaryDirectory(prefix="xb-workers-") as tmp:
        out = os.path.join(tmp, "out.jsonl")
        cfg = f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0"}}
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
  file:
    path: {out}
    sending_queue: {{max_bytes: 64MiB}}
service:
  workers: {WORKERS}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file]}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""
        with Bridge(binary, tmp, cfg, clean_env()) as br:
            report.check(f"{WORKERS} ingest workers" in br.log(), "log names the worker count")
            pol = thread_policies(br.proc.pid)
            report.check(len(pol) >= WORKERS + 1 and set(pol.values()) == {SCHED_BATCH},
                         f"every thread under SCHED_BATCH by default ({pol})")
            report.check("threads run under SCHED_BATCH" in br.log(), "policy logged")
            http_port = br.port("otlp http receiver")
            mport = br.port("metrics endpoint")
            statuses, lock = [], threading.Lock()

            def client(k):
                for j in range(PER_CLIENT):
                    st = post_trace(http_port, body(1 + k * PER_CLIENT + j, SPANS))
                    with lock:
                        statuses.append(st)

            threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            n = CLIENTS * PER_CLIENT
            report.check(statuses.count(200) == n, f"{n} concurrent requests answered 200 "
                         f"(got {sorted(set(statuses))})")
            want = n * SPANS
            poll_until(lambda: len(lines(out)) >= want)
            docs = lines(out)
            ids = {json.loads(d)["id"] for d in docs}
            report.check(len(docs) == want and len(ids) == want,
                         f"every span written once ({len(docs)} documents, {len(ids)} ids, "
                         f"want {want})")
            m = metrics_text(mport)
            total, by = metric_family(m, "xraybridge_worker_requests_total")
            busy = [k for k, v in by.items() if v > 0]
            report.check(total == n, f"per-worker request counters add up ({total} == {n})")
            report.check(len(busy) == WORKERS, f"every worker served requests ({by})")
            report.check(metric_family(m, "xraybridge_workers")[0] == WORKERS,
                         "xraybridge_workers gauge")
            acc, _ = metric_family(m, "otelcol_receiver_accepted_spans_total")
            report.check(acc == want, f"accepted spans summed across workers ({acc})")
            hand, _ = metric_family(m, "xraybridge_worker_handoffs_total")
            report.check(hand == 0, f"memory queues, no backlog: every admission ran on its "
                         f"worker ({hand} handed to the main loop)")

            # larger than a worker's own arena: 3000 spans of ~200 bytes, ~1 MiB of JSON
            big = body(9999, 3000, pad=200)
            report.check(len(big) > 512 * 1024, f"large request is {len(big)} bytes")
            st = post_trace(http_port, big)
            report.check(st == 200, f"large request answered 200 (got {st})")
            poll_until(lambda: len(lines(out)) >= want + 3000)
            report.check(len(lines(out)) == want + 3000, "large request's spans all written")
            large, _ = metric_family(metrics_text(mport), "xraybridge_worker_large_requests_total")
            report.check(large >= 1, f"large request used the shared arena ({large})")

            rc = br.stop()
            log = br.log()
            report.check(rc == 0, f"SIGTERM exits 0 (got {rc})")
            report.check("xraybridge stopped" in log, "stop summary logged")
            report.check("ERROR" not in log and "error " not in log.lower(),
                         "no error logged")
        other = cfg.replace(f"  workers: {WORKERS}\n",
                            f"  workers: {WORKERS}\n  sched_batch: false\n")
        report.check(other != cfg, "config with sched_batch: false written")
        with Bridge(binary, tmp, other, clean_env()) as br:
            pol = thread_policies(br.proc.pid)
            report.check(len(pol) >= WORKERS + 1 and set(pol.values()) == {SCHED_OTHER},
                         f"every thread under SCHED_OTHER with sched_batch: false ({pol})")
            report.check(br.stop() == 0, "second run: SIGTERM exits 0")
    return report.finish()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
