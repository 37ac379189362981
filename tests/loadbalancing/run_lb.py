#!/usr/bin/python3
"""run_lb.py: two xraybridge agents -> exporters.loadbalancing (static resolver, OTLP/gRPC
h2c) -> two xraybridge gateways (file exporter), all on 127.0.0.1.

    /usr/bin/python3 run_lb.py BINARY [dns]

Every trace's 4 spans are split between the agents (2 each, as two nodes would see
them). Phase 1: every trace's documents land whole on one gateway, and both gateways
get traces. Phase 2: gateway 2 is stopped (SIGTERM) while traces keep coming: every span
an agent acknowledged arrives at a gateway (re-routed to gateway 1), none is lost.
With "dns": one agent whose resolver is dns {hostname: localhost, port: <gateway>},
one gateway: the name resolves (evdns, /etc/hosts) and every span arrives.
Prints PASS/FAIL lines and "N passed, N failed".
"""
import json
import os
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import pbwire  # noqa: E402
from xbtest import Bridge, Report, clean_env, post_trace, wait_for  # noqa: E402

TRACES_1 = 200
TRACES_2 = 300


def gateway_config(path):
    return f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:0"}}
exporters:
  file: {{path: {path}, batch: {{timeout: 20ms}}}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [file]}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  shutdown_timeout: 5s
"""


def agent_config(ports, dns_port=None):
    hosts = ", ".join(f"127.0.0.1:{p}" for p in ports)
    resolver = (f"dns: {{hostname: localhost, port: {dns_port}, interval: 200ms}}" if dns_port
                else f"static: {{hostnames: [{hosts}]}}")
    return f"""receivers:
  otlp:
    protocols:
      http: {{endpoint: "127.0.0.1:0"}}
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp: {{tls: {{insecure: true}}, timeout: 5s}}
    resolver:
      {resolver}
    batch: {{timeout: 20ms}}
    retry_on_failure: {{initial_interval: 100ms, max_interval: 1s}}
service:
  pipelines:
    traces: {{receivers: [otlp], exporters: [loadbalancing]}}
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
"""


def trace_id(t):
    return (0x6a000000 << 96 | t * 0x9e3779b97f4a7c15 % (1 << 90) | 1).to_bytes(16, "big")


def span(t, s):
    tid = trace_id(t)
    sid = (0x2000000000000000 + t * 16 + s + 1).to_bytes(8, "big")
    parent = (0x2000000000000000 + t * 16 + 1).to_bytes(8, "big") if s else b""
    start = 1700000000000000000 + t * 1000000 + s * 1000
    return (pbwire.ld(1, tid) + pbwire.ld(2, sid) + (pbwire.ld(4, parent) if parent else b"")
            + pbwire.ld(5, f"op-{s}".encode()) + pbwire.vfield(6, 2)
            + pbwire.tag(7, 1) + start.to_bytes(8, "little")
            + pbwire.tag(8, 1) + (start + 500000).to_bytes(8, "little"))


def request(spans):
    resource = pbwire.ld(1, pbwire.ld(1, pbwire.ld(1, b"service.name") + pbwire.ld(2, pbwire.ld(1, b"lb"))))
    return pbwire.ld(1, resource + pbwire.ld(2, b"".join(pbwire.ld(2, s) for s in spans)))


def xray_to_hex(xid):
    return xid[2:10] + xid[11:]


def docs_by_gateway(paths):
    """{trace hex: {gateway index: span ids}} from the gateways' files."""
    out = {}
    for g, p in enumerate(paths):
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                if line.endswith("\n") and line.strip():  # whole lines: still being written
                    d = json.loads(line)
                    out.setdefault(xray_to_hex(d["trace_id"]), {}).setdefault(g, []).append(d["id"])
    return out


def send_traces(agents, first, n, acked, batch=10):
    """Posts traces first..first+n-1: spans 0,1 to agent 0 and 2,3 to agent 1, |batch|
    traces per request; records (trace, span) pairs of requests answered 200."""
    for b in range(first, first + n, batch):
        ts = range(b, min(b + batch, first + n))
        for a, idx in ((0, (0, 1)), (1, (2, 3))):
            body = request([span(t, s) for t in ts for s in idx])
            try:
                ok = post_trace(agents[a].port("otlp http receiver"), body, "application/x-protobuf") == 200
            except OSError:
                ok = False
            if ok:
                acked.update((t, s) for t in ts for s in idx)


def main_dns(binary):
    rep = Report()
    with tempfile.TemporaryDirectory(prefix="xb_lb_dns_") as tmp:
        path = os.path.join(tmp, "gw.jsonl")
        gw = agent = None
        try:
            os.mkdir(os.path.join(tmp, "gw"))
            os.mkdir(os.path.join(tmp, "agent"))
            gw = Bridge(binary, os.path.join(tmp, "gw"), gateway_config(path), clean_env())
            port = gw.port("otlp grpc receiver")
            agent = Bridge(binary, os.path.join(tmp, "agent"), agent_config([], port), clean_env())
            wait_for(lambda: "resolved to 1 gateways" in agent.log(), "localhost resolved")
            rep.check("localhost resolved to 1 gateways" in agent.log(), "dns resolver found the gateway")
            acked = set()
            send_traces([agent, agent], 0, 20, acked)
            rep.check(len(acked) == 80, f"agent acknowledged {len(acked)} spans")
            wait_for(lambda: sum(len(v) for t in docs_by_gateway([path]).values()
                                 for v in t.values()) >= 80, "80 spans at the gateway")
            rep.check(sum(len(v) for t in docs_by_gateway([path]).values() for v in t.values()) == 80,
                      "every span arrived through the DNS-resolved gateway")
            rep.check(agent.stop() == 0, "agent exit 0 on SIGTERM")
        except Exception as e:
            rep.check(False, f"error: {e}")
            for b in (gw, agent):
                if b:
                    sys.stdout.write(b.log()[-2000:])
        finally:
            for b in (gw, agent):
                if b:
                    b.__exit__()
    return rep.finish()


def main(argv):
    binary = argv[1]
    if len(argv) > 2 and argv[2] == "dns":
        return main_dns(binary)
    rep = Report()
    env = clean_env()
    with tempfile.TemporaryDirectory(prefix="xb_lb_") as tmp:
        paths = [os.path.join(tmp, f"gw{g}.jsonl") for g in range(2)]
        gws, agents = [], []
        try:
            for g in range(2):
                d = os.path.join(tmp, f"gw{g}")
                os.mkdir(d)
                gws.append(Bridge(binary, d, gateway_config(paths[g]), env))
            ports = [gw.port("otlp grpc receiver") for gw in gws]
            for a in range(2):
                d = os.path.join(tmp, f"agent{a}")
                os.mkdir(d)
                agents.append(Bridge(binary, d, agent_config(ports), env))

            # Phase 1: whole traces per gateway.
            acked = set()
            send_traces(agents, 0, TRACES_1, acked)
            rep.check(len(acked) == TRACES_1 * 4, f"phase 1: agents acknowledged {len(acked)} spans")
            wait_for(lambda: sum(len(v) for t in docs_by_gateway(paths).values() for v in t.values())
                     >= TRACES_1 * 4, "phase 1 spans at the gateways")
            by = docs_by_gateway(paths)
            whole = sum(1 for t in by.values() if len(t) == 1 and len(next(iter(t.values()))) == 4)
            rep.check(whole == TRACES_1, f"phase 1: {whole} of {TRACES_1} traces whole on one gateway")
            per_gw = [sum(1 for t in by.values() if g in t) for g in range(2)]
            rep.check(min(per_gw) >= TRACES_1 // 5, f"phase 1: both gateways get traces {per_gw}")

            # Phase 2: stop gateway 1 (the second) while traces keep coming.
            acked2 = set()
            sender = threading.Thread(target=send_traces, args=(agents, TRACES_1, TRACES_2, acked2, 5))
            sender.start()
            wait_for(lambda: len(acked2) >= TRACES_2 * 4 // 4, "a quarter of phase 2 sent")
            rep.check(gws[1].stop() == 0, "gateway 2 stopped cleanly (SIGTERM) mid-run")
            sender.join(60)
            rep.check(len(acked2) == TRACES_2 * 4, f"phase 2: agents acknowledged {len(acked2)} spans")

            def delivered():
                got = set()
                for t, g in docs_by_gateway(paths).items():
                    for ids in g.values():
                        got.update(ids)
                return got
            want = {f"{0x2000000000000000 + t * 16 + s + 1:016x}" for t, s in acked2}
            try:
                wait_for(lambda: want <= delivered(), "every acknowledged span at a gateway", 40)
            except RuntimeError:
                pass
            lost = want - delivered()
            rep.check(not lost, f"phase 2: nothing acknowledged lost ({len(lost)} missing of {len(want)})")
            rep.check(any("off the ring" in a.log() for a in agents),
                      "an agent took the stopped gateway off the ring")
            after = docs_by_gateway(paths)
            dup = sum(len(ids) - len(set(ids)) for t in after.values() for ids in t.values())
            print(f"phase 2: {len(want)} spans acknowledged, {len(want - lost)} delivered, "
                  f"{dup} duplicates", flush=True)
            for a in agents:
                for line in a.log().splitlines():
                    if "loadbalancing:" in line and "warn" in line:
                        print("agent: " + line, flush=True)
                rep.check(a.stop() == 0, "agent exit 0 on SIGTERM")
        except Exception as e:
            rep.check(False, f"error: {e}")
            for b in gws + agents:
                sys.stdout.write(b.log()[-2000:])
        finally:
            for b in gws + agents:
                b.__exit__()
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
