#!/usr/bin/python3
"""The X-Ray sampling proxy end to end: the real xraybridge with extensions.awsproxy and
receivers.awsxray.proxy_server, a fake X-Ray sampling API on 127.0.0.1 that verifies
every SigV4 signature with botocore (fake_xray_sampling.py), the OpenTelemetry JS X-Ray
remote sampler and the X-Ray SDK for Node's centralized sampling.

    run_awsproxy.py XRAYBRIDGE NODE

Checks: both SDKs get the rules through the proxy and decide by them (fixed rate 0 /
reservoir 0 -> unsampled); every call reaching X-Ray is signed and carries X-Ray's own
Host whatever the client sent; unknown request and answer fields pass byte for byte;
413 / 404 / 405 refusals; with X-Ray stopped, GetSamplingRules is answered from the
kept answer (same bytes, counted in xraybridge_awsproxy_cached_responses_total) and
SamplingTargets is not (502); SIGTERM exits 0.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import Bridge, Report, clean_env, metrics_text, wait_for  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def rule(name, prio, rate, reservoir, url_path, **extra):
    r = {"RuleName": name, "RuleARN": f"arn:aws:xray:us-west-2:123456789012:sampling-rule/{name}",
         "ResourceARN": "*", "Priority": prio, "FixedRate": rate, "ReservoirSize": reservoir,
         "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*",
         "URLPath": url_path, "Version": 1, "Attributes": {}}
    r.update(extra)
    return r


RULES = [rule("xb-private", 1, 0.0, 0, "/private*", XbRuleExtra={"boost": 0.5}),
         rule("Default", 10000, 1.0, 1, "*")]


def post(port, path, body=b"", headers=None, method="POST"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        c.request(method, path, body, headers or {})
        r = c.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        c.close()


def metric(text, name, **labels):
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def main(argv):
    binary, node = argv[1], argv[2]
    rep = Report()
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.json")
        with open(rules, "w") as f:
            json.dump(RULES, f)
        fake = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "fake_xray_sampling.py"),
                                 "--rules", rules, "--access-key", AKID, "--secret-key", SECRET],
                                stdout=subprocess.PIPE, text=True)
        try:
            fport = int(fake.stdout.readline())
            run(binary, node, tmp, fake, fport, rep)
        finally:
            if fake.poll() is None:
                fake.terminate()
                fake.wait()
    return rep.finish()


def local_mode_without_region(binary, tmp, rep):
    """local_mode and no region anywhere: start-up fails at once, naming the cause,
    without trying instance metadata."""
    cfg = os.path.join(tmp, "local.yaml")
    with open(cfg, "w") as f:
        f.write(f"""receivers: {{awsxray: {{endpoint: "127.0.0.1:0"}}}}
exporters: {{file: {{path: "{tmp}/local.jsonl"}}}}
extensions: {{awsproxy: {{endpoint: "127.0.0.1:0", local_mode: true}}}}
service:
  extensions: [awsproxy]
  telemetry: {{metrics: {{address: ""}}}}
  pipelines: {{traces: {{receivers: [awsxray], exporters: [file]}}}}
""")
    r = subprocess.run([binary, "--config", cfg], capture_output=True, text=True, timeout=30,
                       env=clean_env(AWS_CONFIG_FILE=os.path.join(tmp, "none"),
                                     AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:9"))
    rep.check(r.returncode != 0 and "local_mode is set" in r.stderr,
              f"local_mode without a region: start-up refused ({r.returncode})")


def shutdown_with_call_in_flight(binary, tmp, rep, waiting_for):
    """SIGTERM while a call waits for |waiting_for| ("X-Ray" or "credentials"), a
    loopback listener that accepts connections and never answers: the client gets 503,
    the process exits 0 (and, in the sanitizer build, leak-free)."""
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(8)
    sub = os.path.join(tmp, "hole-" + waiting_for)
    os.mkdir(sub)
    config = f"""receivers: {{awsxray: {{endpoint: "127.0.0.1:0"}}}}
exporters: {{file: {{path: "{sub}/out.jsonl"}}}}
extensions:
  awsproxy: {{endpoint: "127.0.0.1:0", region: us-west-2, timeout: 60s,
             aws_endpoint: "http://127.0.0.1:{hole.getsockname()[1]}"}}
service:
  extensions: [awsproxy]
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines: {{traces: {{receivers: [awsxray], exporters: [file]}}}}
"""
    if waiting_for == "credentials":
        env = clean_env(AWS_CONTAINER_CREDENTIALS_FULL_URI=
                        f"http://127.0.0.1:{hole.getsockname()[1]}/creds",
                        AWS_EC2_METADATA_DISABLED="true")
    else:
        env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
                        AWS_EC2_METADATA_DISABLED="true")
    try:
        with Bridge(binary, sub, config, env) as br:
            pport, mport = br.port("awsproxy"), br.port("metrics endpoint")
            got = {}
            t = threading.Thread(target=lambda: got.update(
                code=post(pport, "/GetSamplingRules", b"{}")[0]))
            t.start()
            wait_for(lambda: metric(metrics_text(mport), "xraybridge_awsproxy_inflight_requests",
                                    component="awsproxy") == 1,
                f"call in flight, waiting for {waiting_for}")
            rc = br.stop()
            t.join(timeout=30)
            rep.check(rc == 0 and got.get("code") == 503,
                      f"SIGTERM while a call waits for {waiting_for}: client gets 503, "
                      f"exit {rc} ({got})")
    finally:
        hole.close()


def run(binary, node, tmp, fake, fport, rep):
    local_mode_without_region(binary, tmp, rep)
    shutdown_with_call_in_flight(binary, tmp, rep, "X-Ray")
    shutdown_with_call_in_flight(binary, tmp, rep, "credentials")
    upstream = f"http://127.0.0.1:{fport}"
    proxy_keys = (f'region: us-west-2, aws_endpoint: "{upstream}", '
                  f"max_request_body_size: 4KiB, timeout: 2s")
    # The receiver's proxy forwards one call at a time, to show the concurrency bound.
    config = f"""
receivers:
  awsxray:
    endpoint: "127.0.0.1:0"
    proxy_server: {{endpoint: "127.0.0.1:0", max_concurrent_requests: 1, {proxy_keys}}}
exporters:
  file: {{path: "{tmp}/out.jsonl"}}
extensions:
  awsproxy: {{endpoint: "127.0.0.1:0", {proxy_keys}}}
service:
  extensions: [awsproxy]
  telemetry: {{metrics: {{address: "127.0.0.1:0"}}}}
  pipelines: {{traces: {{receivers: [awsxray], exporters: [file]}}}}
"""
    env = clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
                    AWS_EC2_METADATA_DISABLED="true")
    stats = lambda: json.loads(urllib.request.urlopen(f"{upstream}/_stats", timeout=10).read())
    with Bridge(binary, tmp, config, env) as br:
        pport = br.port("awsproxy")
        rport = br.port("awsxray proxy_server")
        uport = int(br.log().split("receiver listening on udp")[1].split("(port ")[1]
                    .split(")")[0])
        mport = br.port("metrics endpoint")
        metrics = lambda: metrics_text(mport)

        # A forged Host: the call still goes to the configured endpoint, signed for it.
        out = subprocess.run(["curl", "-sS", "-X", "POST", "-H", "Host: evil.example",
                              "-H", "Content-Type: application/json", "--data-binary", "{}",
                              "-D", os.path.join(tmp, "h.txt"),
                              f"http://127.0.0.1:{pport}/GetSamplingRules"],
                             capture_output=True, timeout=30)
        st = stats()
        rep.check(out.returncode == 0 and st["calls"].get("/GetSamplingRules") == 1,
                  f"curl with Host: evil.example reached the configured X-Ray ({st['calls']})")
        rep.check(st["hosts"] == [f"127.0.0.1:{fport}"],
                  f"X-Ray saw only its own Host header ({st['hosts']})")
        rep.check(out.stdout.decode() == st["answers"]["/GetSamplingRules"],
                  "GetSamplingRules answer relayed byte for byte (unknown fields kept)")
        rep.check(b"XbFutureField" in out.stdout and b"XbRuleExtra" in out.stdout,
                  "unknown answer fields (top level and in a rule) passed through")

        # Unknown request fields reach X-Ray unchanged.
        body = (b'{"SamplingStatisticsDocuments":[{"RuleName":"xb-private","ClientID":'
                b'"0123456789abcdef01234567","RequestCount":3,"SampledCount":0,"BorrowCount":0,'
                b'"Timestamp":1700000000,"XbFutureDoc":1}],"XbFutureRequestField":{"a":[1,2]}}')
        code, ans, _ = post(pport, "/SamplingTargets", body, {"Content-Type": "application/json"})
        st = stats()
        rep.check(code == 200 and st["bodies"]["/SamplingTargets"][-1] == body.decode("latin-1"),
                  "SamplingTargets request with unknown fields forwarded byte for byte")
        rep.check(ans.decode() == st["answers"]["/SamplingTargets"],
                  "SamplingTargets answer relayed byte for byte")

        # Refusals: oversize body, a path that is not forwarded, a GET.
        before = sum(stats()["calls"].values())
        code, _, _ = post(pport, "/GetSamplingRules", b"{" + b" " * 8192 + b"}",
                          {"Content-Type": "application/json"})
        rep.check(code == 413, f"8 KiB body over max_request_body_size 4KiB: 413 (got {code})")
        code, _, _ = post(pport, "/CreateSamplingRule", b"{}")
        rep.check(code == 404, f"POST /CreateSamplingRule is not forwarded: 404 (got {code})")
        code, _, hdrs = post(pport, "/GetSamplingRules", method="GET")
        rep.check(code == 405, f"GET /GetSamplingRules: 405 (got {code})")
        rep.check(sum(stats()["calls"].values()) == before, "refused requests never reach X-Ray")

        # The OpenTelemetry JS X-Ray remote sampler, through extensions.awsproxy.
        r = subprocess.run([node, os.path.join(HERE, "sampler_otel.mjs"),
                            f"http://127.0.0.1:{pport}", f"{upstream}/_stats"],
                           capture_output=True, text=True, timeout=55)
        try:
            res = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {}
            print(r.stdout, r.stderr)
        rep.check(res.get("rulesActive") is True, f"OTel JS sampler applies X-Ray's rules ({res})")
        rep.check(res.get("privateSampled") == 0,
                  "OTel JS sampler: rule with fixed rate 0 / reservoir 0 -> /private unsampled")
        rep.check(res.get("publicSampled") == 200, "OTel JS sampler: Default rule rate 1 -> sampled")
        rep.check(res.get("targets", 0) >= 1, "OTel JS sampler's SamplingTargets reached X-Ray")

        # The X-Ray SDK's centralized sampling, through the receiver's proxy_server.
        r = subprocess.run([node, os.path.join(HERE, "sampler_xray_sdk.mjs")],
                           capture_output=True, text=True, timeout=55,
                           env=clean_env(AWS_XRAY_DAEMON_ADDRESS=
                                         f"udp:127.0.0.1:{uport} tcp:127.0.0.1:{rport}"))
        try:
            res = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {}
            print(r.stdout, r.stderr)
        rep.check(res.get("rulesActive") is True and res.get("privateSampled") == 0,
                  f"X-Ray SDK centralized sampling via receivers.awsxray.proxy_server ({res})")
        m = metrics()
        rep.check(metric(m, "xraybridge_awsproxy_requests_total", component="awsxray",
                         path="GetSamplingRules", outcome="forwarded") >= 1,
                  "receiver proxy counted its forwarded GetSamplingRules")

        # Concurrency bound and upstream timeout: a call X-Ray answers after 2.5 s holds
        # the receiver proxy's only slot, the next call gets 503, the slow one 504 at 2 s.
        slow = {}
        t = threading.Thread(target=lambda: slow.update(
            code=post(rport, "/SamplingTargets", b'{"XbSlow":1}')[0]))
        t.start()
        wait_for(lambda: metric(metrics(), "xraybridge_awsproxy_inflight_requests",
                                component="awsxray") == 1, "slow call in flight")
        code, _, hdrs = post(rport, "/GetSamplingRules", b"{}")
        rep.check(code == 503 and hdrs.get("Retry-After") == "1",
                  f"max_concurrent_requests 1: second call 503 + Retry-After (got {code})")
        t.join(timeout=30)
        rep.check(slow.get("code") == 504, f"X-Ray slower than timeout 2s: 504 (got {slow})")
        m = metrics()
        rep.check(metric(m, "xraybridge_awsproxy_requests_total", component="awsxray",
                         path="GetSamplingRules", outcome="busy") == 1, "503 counted as busy")
        rep.check(metric(m, "xraybridge_awsproxy_upstream_requests_total", component="awsxray",
                         result="timeout") == 1, "upstream timeout counted")
        budget = br.log().split("memory budget: ")[1].split("\n")[0]
        rep.check(" proxy " in budget and " proxy 0.0 MiB" not in budget,
                  f"memory budget counts the proxies ({budget})")

        st = stats()
        rep.check(st["sig_failures"] == 0 and sum(st["calls"].values()) >= 4,
                  f"every call verified by botocore SigV4 ({sum(st['calls'].values())} calls, "
                  f"{st['sig_failures']} failures {st['errors'][:2]})")
        last_rules = st["answers"]["/GetSamplingRules"]

        # X-Ray stopped: rules from the kept answer, targets refused.
        fake.terminate()
        fake.wait()
        code, ans, hdrs = post(pport, "/GetSamplingRules", b"",
                               {"Content-Type": "application/json"})
        rep.check(code == 200 and ans.decode() == last_rules,
                  f"X-Ray down: GetSamplingRules answered from the kept answer, same bytes ({code})")
        rep.check("Age" in hdrs, "cached answer carries an Age header")
        code, _, _ = post(pport, "/SamplingTargets", body, {"Content-Type": "application/json"})
        rep.check(code == 502, f"X-Ray down: SamplingTargets is not cached: 502 (got {code})")
        m = metrics()
        rep.check(metric(m, "xraybridge_awsproxy_cached_responses_total",
                         component="awsproxy") == 1,
                  "xraybridge_awsproxy_cached_responses_total{component=awsproxy} == 1")
        rep.check(metric(m, "xraybridge_awsproxy_requests_total", component="awsproxy",
                         path="SamplingTargets", outcome="upstream_error") == 1,
                  "failed SamplingTargets counted as upstream_error")
        rep.check(metric(m, "xraybridge_awsproxy_upstream_requests_total", component="awsproxy",
                         result="unreachable") >= 2, "unreachable upstream calls counted")
        rep.check(metric(m, "xraybridge_awsproxy_requests_total", component="awsproxy",
                         path="other", outcome="bad_path") == 1, "404 counted as bad_path")
        rep.check("answering GetSamplingRules with the last good answer" in br.log(),
                  "log line says the cached answer was served")
        rep.check(SECRET not in br.log(), "secret key never logged")
        rc = br.stop()
        rep.check(rc == 0, f"SIGTERM: exit 0 (got {rc})")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
