#!/usr/bin/python3
"""check_deploy.py: the Kubernetes manifests of the gateway tier hold together.

    /usr/bin/python3 check_deploy.py XRAYBRIDGE_BINARY SOURCE_DIR

Parses every deploy/kubernetes manifest (python3-yaml) and checks what a cluster would
only reveal at run time: the gateway Service is headless and selects the Deployment's
pods; the agent ConfigMap variant replaces the DaemonSet's ConfigMap and its dns
resolver names that Service and port; the HorizontalPodAutoscaler (autoscaling/v2, CPU
and memory) targets the Deployment; the gateway ConfigMap's config is
examples/config-gateway.yaml and runs tail_sampling; every embedded config passes
`xraybridge --validate-config` with a memory budget under its pod's memory limit; the
gateway's grace period covers preStop plus shutdown_timeout.
Prints PASS/FAIL lines and "N passed, N failed".
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from xbtest import Report  # noqa: E402


def seconds(d):
    m = re.fullmatch(r"(\d+)(ms|s|m)", str(d))
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def mib(q):
    m = re.fullmatch(r"(\d+)(Mi|Gi)", q)
    return int(m.group(1)) * (1024 if m.group(2) == "Gi" else 1)


def validate(binary, text, tmp, name):
    """(ok, budget MiB) of `xraybridge --validate-config` on |text|."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run([binary, "--validate-config", "--config", path], capture_output=True,
                       text=True, timeout=30, env={"AWS_REGION": "us-west-2", "PATH": "/usr/bin:/bin"})
    out = r.stdout + r.stderr
    m = re.search(r"memory budget total ([\d.]+) MiB", out)
    if r.returncode:
        print(out)
    return r.returncode == 0, float(m.group(1)) if m else None


def main(argv):
    binary, src = argv[1], argv[2]
    rep = Report()
    kube = os.path.join(src, "deploy", "kubernetes")
    files = sorted(glob.glob(os.path.join(kube, "*.yaml")) + glob.glob(os.path.join(kube, "*", "*.yaml")))
    objs = {}
    for f in files:
        try:
            docs = [d for d in yaml.safe_load_all(open(f)) if d is not None]
            ok = all(isinstance(d, dict) and d.get("apiVersion") and d.get("kind")
                     and d.get("metadata", {}).get("name") for d in docs)
        except yaml.YAMLError as e:
            docs, ok = [], False
            print(e)
        rep.check(ok and docs, f"{os.path.relpath(f, src)} parses: {len(docs)} objects")
        for d in docs:
            objs.setdefault((d["kind"], d["metadata"]["name"]), []).append((os.path.relpath(f, kube), d))

    def one(kind, name, where=None):
        got = [d for f, d in objs.get((kind, name), []) if where is None or f == where]
        return got[0] if len(got) == 1 else None

    dep = one("Deployment", "xraybridge-gateway")
    svc = one("Service", "xraybridge-gateway")
    hpa = one("HorizontalPodAutoscaler", "xraybridge-gateway")
    pdb = one("PodDisruptionBudget", "xraybridge-gateway")
    ds = one("DaemonSet", "xraybridge")
    gw_cm = one("ConfigMap", "xraybridge-gateway")
    agent_cm = one("ConfigMap", "xraybridge", "gateway-tier/agent-configmap.yaml")
    rep.check(all(x is not None for x in (dep, svc, hpa, pdb, ds, gw_cm, agent_cm)),
              "gateway Deployment, Service, HPA, PDB, ConfigMap and the agent ConfigMap variant exist")
    if rep.failed:
        return rep.finish()
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    rep.check(svc["spec"].get("clusterIP") == "None", "gateway Service is headless (clusterIP: None)")
    rep.check(all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()) and
              all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items()),
              "Service and PodDisruptionBudget select the gateway pods")
    svc_port = [p["port"] for p in svc["spec"]["ports"] if p["name"] == "otlp-grpc"]
    rep.check(svc_port == [4317], f"Service exposes OTLP/gRPC {svc_port}")

    ref = hpa["spec"]["scaleTargetRef"]
    resources = sorted(m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource")
    rep.check(hpa["apiVersion"] == "autoscaling/v2" and ref["kind"] == "Deployment"
              and ref["name"] == dep["metadata"]["name"]
              and hpa["metadata"]["namespace"] == dep["metadata"]["namespace"],
              "HPA (autoscaling/v2) targets the gateway Deployment")
    rep.check(resources == ["cpu", "memory"], f"HPA scales on CPU and memory {resources}")
    rep.check(hpa["spec"]["minReplicas"] > pdb["spec"]["minAvailable"],
              "HPA minReplicas above the PDB's minAvailable (a drain can proceed)")

    # The agent variant replaces the DaemonSet's ConfigMap and routes to the Service.
    vols = [v["configMap"]["name"] for v in ds["spec"]["template"]["spec"]["volumes"] if "configMap" in v]
    rep.check(agent_cm["metadata"]["name"] in vols and
              agent_cm["metadata"]["namespace"] == ds["metadata"]["namespace"],
              "agent ConfigMap variant is the one the DaemonSet mounts")
    agent = yaml.safe_load(agent_cm["data"]["config.yaml"])
    lb = agent["exporters"].get("loadbalancing", {})
    dns = lb.get("resolver", {}).get("dns", {})
    want_host = f"{svc['metadata']['name']}.{svc['metadata']['namespace']}.svc.cluster.local"
    rep.check(dns.get("hostname") == want_host and dns.get("port") == svc_port[0]
              and lb.get("routing_key") == "traceID"
              and agent["service"]["pipelines"]["traces"]["exporters"] == ["loadbalancing"],
              f"agents route by trace id with the dns resolver to {want_host}:{svc_port[0]}")

    # The gateway's config: the example file, with tail_sampling in the pipeline.
    gw_text = gw_cm["data"]["config.yaml"]
    gw = yaml.safe_load(gw_text)
    with open(os.path.join(src, "examples", "config-gateway.yaml")) as f:
        rep.check(yaml.safe_load(f) == gw, "gateway ConfigMap config = examples/config-gateway.yaml")
    rep.check(gw["service"]["pipelines"]["traces"].get("processors") == ["tail_sampling"]
              and gw["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317"),
              "gateway receives OTLP/gRPC on 4317 and runs tail_sampling")
    spec = pod["spec"]
    pre = spec["containers"][0].get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pre_s = int(pre[1]) if pre[:1] == ["sleep"] else 0
    rep.check(spec["terminationGracePeriodSeconds"] > pre_s + seconds(gw["service"]["shutdown_timeout"]),
              f"grace period {spec['terminationGracePeriodSeconds']} s > preStop {pre_s} s + "
              f"shutdown_timeout {gw['service']['shutdown_timeout']}")

    with tempfile.TemporaryDirectory(prefix="xb_deploy_") as tmp:
        for name, text, podspec in (("gateway", gw_text, spec),
                                    ("agent", agent_cm["data"]["config.yaml"], ds["spec"]["template"]["spec"])):
            ok, budget = validate(binary, text, tmp, name + ".yaml")
            limit = mib(podspec["containers"][0]["resources"]["limits"]["memory"])
            rep.check(ok and budget is not None and budget < limit,
                      f"{name} config passes --validate-config, memory budget {budget} MiB < limit {limit} Mi")
        bad = gw_text.replace("sampling_percentage: 5", "sampling_percentage: 500")
        ok, _ = validate(binary, bad, tmp, "bad.yaml")
        rep.check(not ok, "a broken gateway config is refused (the check can fail)")
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
