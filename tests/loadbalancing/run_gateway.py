#!/usr/bin/python3
"""run_gateway.py: the gateway tier end to end, all on 127.0.0.1 (docs/sampling.md):

    two xraybridge agents (otlp -> exporters.loadbalancing, static resolver)
      -> two xraybridge gateways (otlp grpc -> processors.tail_sampling
         [status_code ERROR + probabilistic 5%, decision_wait 1s] -> exporters.awsxray)
      -> tests/integration/fake_xray.py (verifies every SigV4 signature)

    /usr/bin/python3 run_gateway.py BINARY

Every trace has 4 spans: 0 and 1 are posted to agent 0, 2 and 3 to agent 1 (as two
nodes would see them); about 10% of the traces have status ERROR on span 3 only, so a
gateway keeps spans 0 and 1 of an error trace only if it saw span 3 too.

Phase 1: every trace reaches exactly one gateway (the gateways' new-trace counters sum
to the number of traces); every error trace arrives at X-Ray whole, each span once; no
trace arrives partially; the kept non-error traces are exactly the ones the reference
hash (tests/tail_sampling/tsgen.py) picks, within 4 sigma of 5%.
Phase 2: gateway 2 is stopped with SIGTERM while both agents keep sending.
"Acknowledged" means an agent answered the client's OTLP/HTTP request with 200; the
agent then owes the span to a gateway, and a gateway that accepted it (gRPC OK) owes a
decision. Asserted: every acknowledged span reached a gateway; gateway 2 decided the
traces it held on SIGTERM (policies, with the spans seen so far) and exited with
received = kept + sampled out and nothing left held; every kept span reached X-Ray; the
error span of every error trace reached X-Ray. A trace whose spans reached both gateways
(some before gateway 2 left, the rest re-routed after) is decided in two pieces, and the
piece without the error span can be sampled out: error traces missing spans must be at
most the traces seen by both gateways, and the figures line says how many there were.
Phase 3: one gateway with decision_wait 30s and shutdown_timeout 5s holds 200 traces
and gets SIGTERM: it decides them at once (exits well before decision_wait), exports
every error trace whole and reports nothing held at exit.
Prints PASS/FAIL lines, the measured figures, and "N passed, N failed".
"""
import collections
import math
import os
import random
import re
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "tail_sampling"))
sys.path.insert(0, HERE)

import pbwire  # noqa: E402
import tsgen  # noqa: E402
from run_lb import agent_config  # noqa: E402
from xbtest import (Bridge, FakeXray, Report, clean_env, metric_samples, metrics_text,  # noqa: E402
                    post_trace, wait_for)

AKID, SECRET, REGION = "AKIDGATEWAYTIER", "gateway-tier-secret", "us-west-2"
TRACES_1 = 2000
TRACES_2 = 1200
ERROR_SHARE = 0.1
PERCENT = 5


def gateway_config(fake_port):
    return f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0"}}
processors:
  tail_sampling:
    decision_wait: 1s
    policies:
      - name: errors
        type: status_code
        status_code: {{status_codes: [ERROR]}}
      - name: share
        type: probabilistic
        probabilistic: {{sampling_percentage: {PERCENT}}}
exporters:
  awsxray:
    region: {REGION}
    endpoint: "http://127.0.0.1:{fake_port}"
    batch: {{max_documents: 50, timeout: 50ms}}
service:
  pipelines:
    traces: {{receivers: [otlp], processors: [tail_sampling], exporters: [awsxray]}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  shutdown_timeout: 15s
"""


class Traces:
    """|n| traces with ids whose first 4 bytes are now (X-Ray's epoch field)."""

    def __init__(self, n, seed, span_base):
        rnd = random.Random(seed)
        self.span_base = span_base
        now = int(time.time())
        self.ids = [f"{now:08x}{rnd.getrandbits(96):024x}" for _ in range(n)]
        self.error = [rnd.random() < ERROR_SHARE for _ in range(n)]

    def span_id(self, t, s):
        return f"{self.span_base + t * 16 + s + 1:016x}"

    def span(self, t, s):
        tid = bytes.fromhex(self.ids[t])
        start = int(time.time() * 1e9) + s * 1000
        out = (pbwire.ld(1, tid) + pbwire.ld(2, bytes.fromhex(self.span_id(t, s)))
               + (pbwire.ld(4, bytes.fromhex(self.span_id(t, 0))) if s else b"")
               + pbwire.ld(5, f"op-{s}".encode()) + pbwire.vfield(6, 2)
               + pbwire.tag(7, 1) + start.to_bytes(8, "little")
               + pbwire.tag(8, 1) + (start + 500000).to_bytes(8, "little"))
        if s == 3 and self.error[t]:
            out += pbwire.ld(15, pbwire.ld(2, b"boom") + pbwire.vfield(3, 2))  # STATUS_CODE_ERROR
        return out


def request(spans):
    resource = pbwire.ld(1, pbwire.ld(1, pbwire.ld(1, b"service.name") + pbwire.ld(2, pbwire.ld(1, b"gw"))))
    return pbwire.ld(1, resource + pbwire.ld(2, b"".join(pbwire.ld(2, s) for s in spans)))


def send(agents, tr, first, n, acked, batch):
    """Posts traces first..first+n-1, |batch| per request: spans 0,1 to agent 0, spans 2,3
    to agent 1. Records the (trace, span) pairs of requests answered 200 (acknowledged)."""
    for b in range(first, first + n, batch):
        ts = range(b, min(b + batch, first + n))
        for a, idx in ((0, (0, 1)), (1, (2, 3))):
            try:
                ok = post_trace(agents[a].port("otlp http receiver"),
                                request([tr.span(t, s) for t in ts for s in idx]),
                                "application/x-protobuf") == 200
            except OSError:
                ok = False
            if ok:
                acked.update((t, s) for t in ts for s in idx)


def metrics(bridge):
    """The gateway's samples as a Counter {series: int} (0 for an absent series)."""
    text = metrics_text(bridge.port("metrics endpoint"))
    return collections.Counter({k: int(v) for k, v in metric_samples(text).items()})


TS = "xraybridge_processor_tail_sampling_"
NEW_IDS = "otelcol_processor_tail_sampling_new_trace_id_received_total"


def settled(gws, spans, fake):
    """Every span decided on the live gateways and every kept one at X-Ray."""
    ms = [metrics(g) for g in gws]
    if sum(m[TS + "spans_received_total"] for m in ms) < spans:
        return False
    if any(m[TS + "spans_held"] for m in ms):
        return False
    return len(fake.docs()) >= sum(m[TS + "spans_kept_total"] for m in ms)


def by_trace(docs):
    """{trace hex: Counter(span id)} of X-Ray documents."""
    out = collections.defaultdict(collections.Counter)
    for d in docs:
        out[d["trace_id"][2:10] + d["trace_id"][11:]][d["id"]] += 1
    return out


def phase1(binary, tmp, rep, env, fake, gws, agents):
    tr = Traces(TRACES_1, 13, 0x3000000000000000)
    acked = set()
    send(agents, tr, 0, TRACES_1, acked, 20)
    rep.check(len(acked) == TRACES_1 * 4, f"phase 1: agents acknowledged {len(acked)} spans")
    wait_for(lambda: settled(gws, TRACES_1 * 4, fake), "phase 1 decided and exported", 40)
    ms = [metrics(g) for g in gws]
    new_ids = [m[NEW_IDS] for m in ms]
    rep.check(sum(new_ids) == TRACES_1 and min(new_ids) >= TRACES_1 // 5,
              f"phase 1: each trace reached exactly one gateway {new_ids}")
    rep.check(all(m[TS + "spans_received_total"] == m[TS + "spans_kept_total"]
                  + m[TS + "spans_sampled_out_total"] for m in ms),
              "phase 1: received = kept + sampled out on each gateway")
    docs = fake.docs()
    got = by_trace(docs)
    errors = [t for t in range(TRACES_1) if tr.error[t]]
    whole = sum(1 for t in errors if got.get(tr.ids[t]) ==
                collections.Counter({tr.span_id(t, s): 1 for s in range(4)}))
    rep.check(whole == len(errors), f"phase 1: {whole} of {len(errors)} split error traces "
              "arrive whole, each span once")
    partial = [h for h, c in got.items() if sorted(c.values()) != [1, 1, 1, 1]]
    rep.check(not partial, f"phase 1: no trace partial or duplicated ({len(partial)})")
    others = [t for t in range(TRACES_1) if not tr.error[t]]
    want = {tr.ids[t] for t in others if tsgen.kept_by_probability(tr.ids[t], PERCENT)}
    kept = {tr.ids[t] for t in others if tr.ids[t] in got}
    rep.check(kept == want, f"phase 1: kept non-error traces are the reference hash's ({len(want)})")
    n, p = len(others), PERCENT / 100
    sigma = math.sqrt(n * p * (1 - p))
    rep.check(abs(len(kept) - n * p) <= 4 * sigma,
              f"phase 1: kept share {len(kept)}/{n} within 4 sigma of {PERCENT}% "
              f"({n * p:.0f} +- {4 * sigma:.0f})")
    print(f"figures: phase 1: {TRACES_1} traces, {len(errors)} error, {len(kept)} others kept, "
          f"{len(docs)} documents at X-Ray, per gateway {new_ids} traces", flush=True)
    return ms


TOTALS = re.compile(r"tail_sampling: totals: (\d+) traces, (\d+) spans received = (\d+) kept "
                    r"\+ (\d+) sampled out \+ (\d+) held at exit")


def phase2(binary, tmp, rep, env, fake, gws, agents, m1):
    """|m1|: the gateways' metrics at the end of phase 1."""
    tr = Traces(TRACES_2, 29, 0x3100000000000000)
    tr.ids = [f"{h[:8]}ff{h[10:]}" for h in tr.ids]  # distinct from phase 1's
    before = len(fake.docs())
    acked = set()
    sender = threading.Thread(target=send, args=(agents, tr, 0, TRACES_2, acked, 5))
    t0 = time.monotonic()
    sender.start()
    wait_for(lambda: len(acked) >= TRACES_2, "a quarter of phase 2 acknowledged")
    # The agents forward what they acknowledged in their own time: stop gateway 2 only
    # once it holds some of phase 2, so that SIGTERM has waiting traces to decide.
    wait_for(lambda: metrics(gws[1])[TS + "spans_held"] > 0, "gateway 2 holds phase 2 spans")
    held = metrics(gws[1])[TS + "spans_held"]
    rep.check(gws[1].stop() == 0, f"gateway 2 stopped cleanly (SIGTERM) mid-run holding {held} spans")
    stop_s = time.monotonic() - t0
    sender.join(50)
    rep.check(len(acked) == TRACES_2 * 4, f"phase 2: agents acknowledged {len(acked)} spans")
    log2 = gws[1].log()
    shut = re.search(r"shutdown: decided (\d+) waiting traces now, (\d+) kept", log2)
    tot = TOTALS.search(log2)
    rep.check(shut is not None and tot is not None,
              "gateway 2 decided its waiting traces on SIGTERM and logged its totals")
    traces2, recv2, kept2, out2, lost2 = (int(x) for x in tot.groups()) if tot else (0,) * 5
    rep.check(tot is not None and lost2 == 0 and recv2 == kept2 + out2,
              f"gateway 2: {recv2} spans received = {kept2} kept + {out2} sampled out, "
              f"{lost2} held at exit")
    rep.check("could not be delivered" not in log2, "gateway 2 exported what it kept before exiting")
    recv2 -= m1[1][TS + "spans_received_total"]
    kept2 -= m1[1][TS + "spans_kept_total"]
    traces2 -= m1[1][NEW_IDS]

    def gw1():
        m = metrics(gws[0])
        return (m[TS + "spans_received_total"] - m1[0][TS + "spans_received_total"],
                m[TS + "spans_kept_total"] - m1[0][TS + "spans_kept_total"],
                m[NEW_IDS] - m1[0][NEW_IDS], m[TS + "spans_held"])
    wait_for(lambda: gw1()[0] + recv2 >= len(acked) and gw1()[3] == 0
             and len(fake.docs()) - before >= gw1()[1] + kept2, "phase 2 decided and exported", 30)
    recv1, kept1, traces1, _ = gw1()
    docs = fake.docs()[before:]
    rep.check(recv1 + recv2 >= len(acked),
              f"phase 2: every acknowledged span reached a gateway ({recv1} + {recv2} received, "
              f"{len(acked)} acknowledged)")
    rep.check(len(docs) == kept1 + kept2,
              f"phase 2: every kept span reached X-Ray ({len(docs)} = {kept1} + {kept2} kept)")
    got = by_trace(docs)
    errors = [t for t in range(TRACES_2) if tr.error[t]]
    rep.check(all(tr.span_id(t, 3) in got.get(tr.ids[t], {}) for t in errors),
              f"phase 2: the error span of every one of {len(errors)} error traces reached X-Ray")
    # A trace whose spans reached both gateways (sent to gateway 2 before it left, the rest
    # after) was decided in two pieces; every other trace was decided whole.
    both = traces1 + traces2 - TRACES_2
    short = [t for t in errors if set(got.get(tr.ids[t], {})) != {tr.span_id(t, s) for s in range(4)}]
    rep.check(len(short) <= both,
              f"phase 2: error traces missing spans ({len(short)}) are among the {both} traces "
              "split across the two gateways by the removal")
    dup = sum(n - 1 for spans in got.values() for n in spans.values())
    part = sum(1 for t in range(TRACES_2) if 0 < len(got.get(tr.ids[t], {})) < 4)
    rep.check(any("off the ring" in a.log() for a in agents),
              "an agent took the stopped gateway off the ring")
    print(f"figures: phase 2: {TRACES_2} traces, SIGTERM {stop_s:.2f}s in with {held} spans held, "
          f"{shut.group(1) if shut else '?'} traces decided early ({shut.group(2) if shut else '?'} "
          f"kept), {both} traces split across gateways, {len(errors) - len(short)} of "
          f"{len(errors)} error traces whole, {part} traces partial, {dup} duplicate "
          f"documents", flush=True)


def phase3(binary, tmp, rep, env, fake):
    """A gateway with decision_wait 30s and shutdown_timeout 5s, stopped right after the
    load: it must decide on SIGTERM, not wait, and export every error trace."""
    tr = Traces(200, 31, 0x3200000000000000)
    tr.ids = [f"{h[:8]}ee{h[10:]}" for h in tr.ids]
    d = os.path.join(tmp, "gw_long")
    os.mkdir(d)
    cfg = gateway_config(fake.port).replace("decision_wait: 1s", "decision_wait: 30s").replace(
        "shutdown_timeout: 15s", "shutdown_timeout: 5s").replace(
        'grpc: {endpoint: "127.0.0.1:0"}', 'http: {endpoint: "127.0.0.1:0"}')
    before = len(fake.docs())
    with Bridge(binary, d, cfg, env) as gw:
        port = gw.port("otlp http receiver")
        ok = all(post_trace(port, request([tr.span(t, s) for t in range(b, b + 20) for s in range(4)]),
                            "application/x-protobuf") == 200 for b in range(0, 200, 20))
        held = metrics(gw)[TS + "spans_held"]
        t0 = time.monotonic()
        code = gw.stop()
        took = time.monotonic() - t0
        log = gw.log()
    rep.check(ok and held == 800, f"decision_wait 30s: all 800 spans held before SIGTERM ({held})")
    rep.check(code == 0 and took < 5, f"SIGTERM decided them at once: exit 0 after {took:.2f} s")
    got = by_trace(fake.docs()[before:])
    errors = [t for t in range(200) if tr.error[t]]
    rep.check(all(len(got.get(tr.ids[t], {})) == 4 for t in errors) and
              "held at exit (discarded)" in log and " + 0 held at exit" in log,
              f"every one of {len(errors)} error traces exported whole, nothing held at exit")
    print(f"figures: phase 3: 200 traces held with decision_wait 30s, exit {took:.2f} s after SIGTERM",
          flush=True)


def main(argv):
    binary = argv[1]
    rep = Report()
    env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET)
    with tempfile.TemporaryDirectory(prefix="xb_gw_") as tmp:
        fake, gws, agents = None, [], []
        try:
            fake = FakeXray(tmp, AKID, SECRET, REGION)
            for g in range(2):
                d = os.path.join(tmp, f"gw{g}")
                os.mkdir(d)
                gws.append(Bridge(binary, d, gateway_config(fake.port), env))
            ports = [gw.port("otlp grpc receiver") for gw in gws]
            for a in range(2):
                d = os.path.join(tmp, f"agent{a}")
                os.mkdir(d)
                agents.append(Bridge(binary, d, agent_config(ports), clean_env()))
            m1 = phase1(binary, tmp, rep, env, fake, gws, agents)
            phase2(binary, tmp, rep, env, fake, gws, agents, m1)
            phase3(binary, tmp, rep, env, fake)
            st = fake.stats()
            rep.check(st["sig_failures"] == 0 and st["protocol_violations"] == 0,
                      f"every PutTraceSegments call signed correctly ({st['requests']} calls)")
            for b in agents + gws[:1]:
                rep.check(b.stop() == 0, "exit 0 on SIGTERM")
        except Exception as e:
            rep.check(False, f"error: {e}")
            for b in gws + agents:
                sys.stdout.write(b.log()[-2000:])
        finally:
            for b in gws + agents:
                b.__exit__()
            if fake:
                fake.stop()
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
