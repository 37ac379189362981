#!/usr/bin/env python3
"""Proxy selection of the awsxray exporter: proxy_address, else the proxy environment
variables (libcurl's rules: http_proxy for http:// endpoints, HTTPS_PROXY for
https://), honouring NO_PROXY.

A loopback "X-Ray" sink and a loopback forward "proxy" sink both answer
PutTraceSegments; each scenario starts xraybridge, posts one OTLP/JSON request (2
spans), stops it (SIGTERM drains) and checks which of the two got the documents.

usage: run_proxy.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import Bridge, Report, Sink, clean_env, post_trace  # noqa: E402


def config(xray_port, proxy_address):
    extra = f"\n    proxy_address: {proxy_address}" if proxy_address else ""
    return f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "http://127.0.0.1:{xray_port}"
    batch: {{timeout: 20ms}}{extra}
service:
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{metrics: {{address: ""}}}}
"""


def main():
    binary, example = sys.argv[1], sys.argv[2]
    body = open(example, "rb").read()
    tmp = tempfile.mkdtemp(prefix="xb-proxy-")
    xray, proxy = Sink(), Sink()
    proxy_url = f"http://127.0.0.1:{proxy.port}"
    report = Report()
    cases = [
        # (name, proxy_address, extra env, documents expected at the proxy)
        ("no proxy configured: direct", None, {}, False),
        ("http_proxy env: via proxy", None, {"http_proxy": proxy_url}, True),
        ("http_proxy + NO_PROXY=127.0.0.1: direct", None,
         {"http_proxy": proxy_url, "NO_PROXY": "127.0.0.1"}, False),
        ("proxy_address in config: via proxy", proxy_url, {}, True),
        ("proxy_address + NO_PROXY=127.0.0.1: direct", proxy_url, {"NO_PROXY": "127.0.0.1"}, False),
    ]
    try:
        for name, proxy_address, env, via_proxy in cases:
            x0, p0 = xray.documents, proxy.documents
            try:
                env = clean_env(AWS_ACCESS_KEY_ID="AKIDPROXY", AWS_SECRET_ACCESS_KEY="secret", **env)
                with Bridge(binary, tmp, config(xray.port, proxy_address), env) as bridge:
                    status = post_trace(bridge.port("otlp http receiver"), body)
                    rc = bridge.stop()  # drains: the documents are sent before exit
                got = (xray.documents - x0, proxy.documents - p0)
                ok = status == 200 and rc == 0 and got == ((0, 2) if via_proxy else (2, 0))
                # A forward proxy is sent the absolute URI of the X-Ray endpoint.
                if ok and via_proxy:
                    ok = proxy.paths[-1] == f"http://127.0.0.1:{xray.port}/TraceSegments"
                report.check(ok, f"{name} (xray={got[0]} proxy={got[1]}, rc={rc})")
            except Exception as e:  # noqa: BLE001 - reported as a failed case
                report.check(False, f"{name}: {e}")
    finally:
        xray.stop()
        proxy.stop()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
