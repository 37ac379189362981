#!/usr/bin/env python3
"""processors.tail_sampling against the real binary on 127.0.0.1 with the file exporter
(docs/sampling.md):

1. 10,000 generated traces (3 spans, ~10% with an ERROR span), policies
   status_code ERROR + probabilistic 5%, decision_wait 1s: every error trace arrives
   whole, no trace arrives partially, the kept non-error traces are exactly the ones the
   reference hash (tsgen.py) picks and their share is within 4 sigma of 5%, and the
   span accounting holds (received = kept + sampled out).
2. Two instances each receiving half of every trace's spans keep the same trace ids
   for the probabilistic part.
3. Reload under load over one kept-alive connection: the config file, mounted like a
   Kubernetes ConfigMap key (symlinks through ..data), is updated by swapping ..data
   to a new directory with 50%; traces started after the reload is
   counted follow 50%, earlier ones 5%; a broken file is refused with FILE:LINE:COL,
   counted, and 50% stays in force; the connection stays up and nothing is lost.

usage: run_tail_sampling.py XRAYBRIDGE_BINARY
"""
import collections
import http.client
import json
import math
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import tsgen  # noqa: E402
from xbtest import Bridge, Report, clean_env, metric_samples, metrics_text, wait_for  # noqa: E402

BATCH = 100  # traces per request


def config(tmp, name, percentage, wait="1s"):
    return f"""receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:0"}}
processors:
  tail_sampling:
    decision_wait: {wait}
    policies:
      - name: errors
        type: status_code
        status_code: {{status_codes: [ERROR]}}
      - name: share
        type: probabilistic
        probabilistic: {{sampling_percentage: {percentage}}}
exporters:
  file: {{path: "{tmp}/{name}.jsonl"}}
service:
  pipelines:
    traces: {{receivers: [otlp], processors: [tail_sampling], exporters: [file]}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  config_watch_interval: 100ms
"""


def metrics(bridge):
    """The bridge's samples as {series: int}."""
    text = metrics_text(bridge.port("metrics endpoint"))
    return {k: int(v) for k, v in metric_samples(text).items()}


def xid(h):
    return f"1-{h[:8]}-{h[8:]}"


class Sender:
    """One kept-alive OTLP/HTTP connection; records whether it ever reconnected."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.conn.connect()
        self.sock = self.conn.sock
        self.statuses = collections.Counter()
        self.reconnected = False

    def send(self, spans):
        self.conn.request("POST", "/v1/traces", tsgen.request(spans),
                          {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        r.read()
        self.statuses[r.status] += 1
        if self.conn.sock is not self.sock:
            self.reconnected = True

    def close(self):
        self.conn.close()


def settle(bridge, spans_sent, path):
    """Waits until every sent span is decided and the kept ones are in the file."""
    def done():
        m = metrics(bridge)
        if m.get("xraybridge_processor_tail_sampling_spans_received_total") != spans_sent:
            return False
        if m.get("xraybridge_processor_tail_sampling_spans_held", 1) != 0:
            return False
        kept = m["xraybridge_processor_tail_sampling_spans_kept_total"]
        return os.path.exists(path) and sum(1 for _ in open(path)) == kept
    wait_for(done, "all traces decided and written", deadline_s=40)
    return metrics(bridge)


def read_out(path):
    got = collections.Counter()
    with open(path) as f:
        for line in f:
            got[json.loads(line)["trace_id"]] += 1
    return got


def single(binary, tmp, rep):
    traces = tsgen.make_traces(10000, 0.1, 3, seed=13)
    path = f"{tmp}/one.jsonl"
    with Bridge(binary, tmp, config(tmp, "one", 5), clean_env()) as b:
        s = Sender(b.port("otlp http receiver"))
        for i in range(0, len(traces), BATCH):
            s.send([sp for t in traces[i:i + BATCH] for sp in t[2]])
        s.close()
        rep.check(s.statuses == {200: len(traces) // BATCH}, f"every request accepted {dict(s.statuses)}")
        m = settle(b, 3 * len(traces), path)
        rep.check(b.stop() == 0, "clean exit")
    got = read_out(path)
    errors = {xid(t) for t, e, _ in traces if e}
    others = [t for t, e, _ in traces if not e]
    want = {xid(t) for t in others if tsgen.kept_by_probability(t, 5)}
    kept_others = set(got) - errors
    rep.check(all(got[t] == 3 for t in errors), f"all {len(errors)} error traces arrive whole")
    rep.check(all(n == 3 for n in got.values()), "no trace arrives partially")
    rep.check(kept_others == want, f"kept non-error traces are the reference hash's ({len(want)})")
    n, p = len(others), 0.05
    sigma = math.sqrt(n * p * (1 - p))
    rep.check(abs(len(kept_others) - n * p) <= 4 * sigma,
              f"kept share {len(kept_others)}/{n} within 4 sigma of 5% ({n * p:.0f} +- {4 * sigma:.0f})")
    rep.check(m["xraybridge_processor_tail_sampling_spans_received_total"] ==
              m["xraybridge_processor_tail_sampling_spans_kept_total"] +
              m["xraybridge_processor_tail_sampling_spans_sampled_out_total"],
              "received = kept + sampled out")
    rep.check(m['otelcol_processor_tail_sampling_new_trace_id_received_total'] == len(traces),
              "new_trace_id_received counts every trace")


def two_nodes(binary, tmp, rep):
    traces = tsgen.make_traces(3000, 0.1, 3, seed=29)
    outs = []
    ta, tb = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    os.makedirs(ta)
    os.makedirs(tb)
    with Bridge(binary, ta, config(ta, "out", 5), clean_env()) as a, \
            Bridge(binary, tb, config(tb, "out", 5), clean_env()) as b:
        sa, sb = Sender(a.port("otlp http receiver")), Sender(b.port("otlp http receiver"))
        for i in range(0, len(traces), BATCH):
            chunk = traces[i:i + BATCH]
            sa.send([sp for t in chunk for sp in t[2][:2]])  # spans 0 and 1
            sb.send([sp for t in chunk for sp in t[2][2:]])  # span 2 (carries the error)
        sa.close()
        sb.close()
        settle(a, 2 * len(traces), f"{ta}/out.jsonl")
        settle(b, len(traces), f"{tb}/out.jsonl")
        outs = [read_out(f"{ta}/out.jsonl"), read_out(f"{tb}/out.jsonl")]
    errors = {xid(t) for t, e, _ in traces if e}
    ka, kb = set(outs[0]) - errors, set(outs[1]) - errors
    rep.check(ka == kb and len(ka) > 0, f"two nodes keep the same {len(ka)} non-error trace ids")
    rep.check(errors <= set(outs[1]), "the node that saw the error spans keeps every error trace")


def reload_under_load(binary, tmp, rep):
    traces = tsgen.make_traces(16000, 0.0, 2, seed=31)
    td = os.path.join(tmp, "r")
    os.makedirs(td)
    path = f"{td}/out.jsonl"
    with Bridge(binary, td, config(td, "out", 5, wait="500ms"), clean_env()) as b:
        s = Sender(b.port("otlp http receiver"))
        sent = 0
        phases = []  # (first trace index, last index + 1, percentage in force or None)

        def send_until(count):
            # Never past the generated traces: |sent| counts traces really sent, so the
            # totals below hold however long a reload takes on a busy machine.
            nonlocal sent
            count = min(count, len(traces))
            while sent < count:
                batch = traces[sent:sent + BATCH]
                s.send([sp for t in batch for sp in t[2]])
                sent += len(batch)

        def send_while(cond, what):
            while cond() and sent < len(traces):  # keep sending while the reload happens
                send_until(sent + BATCH)
            wait_for(lambda: not cond(), what)

        def reloads(result):
            return metrics(b).get(f'xraybridge_config_reloads_total{{result="{result}"}}', 0)

        # Mount the file the way Kubernetes mounts a ConfigMap key: name -> ..data/name,
        # ..data -> a timestamped directory. Same content: no reload.
        cm = os.path.join(td, "cm")
        os.makedirs(os.path.join(cm, "..v1"))
        shutil.copy(b.cfg_path, os.path.join(cm, "..v1", "xraybridge.yaml"))
        os.symlink("..v1", os.path.join(cm, "..data"))
        os.symlink(os.path.join(cm, "..data", "xraybridge.yaml"), b.cfg_path + ".lnk")
        os.replace(b.cfg_path + ".lnk", b.cfg_path)
        send_until(3000)
        phases.append((0, sent, 5))
        # The update: a new directory, then ..data swapped atomically (what the kubelet does)
        os.makedirs(os.path.join(cm, "..v2"))
        with open(os.path.join(cm, "..v2", "xraybridge.yaml"), "w") as f:
            f.write(config(td, "out", 50, wait="500ms"))
        os.symlink("..v2", os.path.join(cm, "..data_tmp"))
        os.replace(os.path.join(cm, "..data_tmp"), os.path.join(cm, "..data"))
        mark = sent
        send_while(lambda: reloads("success") < 1, "the reload")
        phases.append((mark, sent, None))  # in flight during the reload: either rate
        mark = sent
        send_until(mark + 2500)
        phases.append((mark, sent, 50))
        with open(b.cfg_path, "a") as f:  # edited in place through the links
            f.write("  bad: [\n")
        mark = sent
        send_while(lambda: reloads("failure") < 1, "the refused reload")
        phases.append((mark, sent, 50))  # the broken file changes nothing
        mark = sent
        send_until(min(len(traces), mark + 2000))
        phases.append((mark, sent, 50))
        s.close()
        m = settle(b, 2 * sent, path)
        log = b.log()
        rep.check(b.stop() == 0, "clean exit after reloads")
    rep.check(set(s.statuses) == {200} and not s.reconnected,
              f"one connection, every request accepted ({dict(s.statuses)})")
    rep.check(re.search(r"xraybridge\.yaml:\d+:\d+: ", log) is not None and
              "the running one stays" in log, "broken config refused with FILE:LINE:COL")
    rep.check(m['xraybridge_config_reloads_total{result="success"}'] == 1 and
              m['xraybridge_config_reloads_total{result="failure"}'] == 1, "reloads counted")
    got = read_out(path)
    rep.check(all(n == 2 for n in got.values()), "no trace partial across the reload")
    for lo, hi, pct in phases:
        if pct is None:
            continue
        ids = [t for t, _, _ in traces[lo:hi]]
        want = {xid(t) for t in ids if tsgen.kept_by_probability(t, pct)}
        have = {xid(t) for t in ids} & set(got)
        rep.check(have == want, f"traces {lo}..{hi}: {len(have)} kept, exactly the {pct}% set")
    rep.check(m["xraybridge_processor_tail_sampling_spans_received_total"] == 2 * sent ==
              m["xraybridge_processor_tail_sampling_spans_kept_total"] +
              m["xraybridge_processor_tail_sampling_spans_sampled_out_total"],
              f"nothing lost: {2 * sent} spans = kept + sampled out")


def daemon_protocol(binary, tmp, rep):
    """X-Ray daemon documents (UDP) pass through tail_sampling: fault/error = ERROR."""
    import socket
    td = os.path.join(tmp, "udp")
    os.makedirs(td)
    cfg = config(td, "out", 0).replace(
        'receivers:\n', 'receivers:\n  awsxray: {endpoint: "127.0.0.1:0"}\n', 1).replace(
        "receivers: [otlp]", "receivers: [otlp, awsxray]")
    traces = {f"1-5f84c7a1-{i:024x}": i % 4 == 0 for i in range(40)}  # every 4th faulty
    with Bridge(binary, td, cfg, clean_env()) as b:
        port = int(re.search(r"X-Ray daemon protocol receiver listening on udp \S+ "
                             r"\(port (\d+)\)", b.log()).group(1))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        n = 0
        for tid, faulty in traces.items():
            for k in range(2):
                d = {"name": "svc", "id": f"{n:016x}", "trace_id": tid, "start_time": 1764806400.5,
                     "end_time": 1764806400.7, "fault": faulty and k == 1}
                u.sendto(b'{"format": "json", "version": 1}\n' + json.dumps(d).encode(),
                         ("127.0.0.1", port))
                n += 1
        u.close()
        settle(b, n, f"{td}/out.jsonl")
    got = read_out(f"{td}/out.jsonl")
    want = {t for t, f in traces.items() if f}
    rep.check(set(got) == want and all(v == 2 for v in got.values()),
              f"daemon-protocol traces with a fault kept whole ({len(got)} of {len(traces)})")


def main():
    binary = sys.argv[1]
    rep = Report()
    tmp = tempfile.mkdtemp(prefix="xb-ts-")
    try:
        single(binary, tmp, rep)
        two_nodes(binary, tmp, rep)
        reload_under_load(binary, tmp, rep)
        daemon_protocol(binary, tmp, rep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
