#!/usr/bin/env python3
"""Proxy selection of the awsxray exporter: proxy_address, else the proxy environment
variables (libcurl's rules: http_proxy for http:// endpoints, HTTPS_PROXY for
https://), honouring NO_PROXY.

A loopback "X-Ray" sink and a loopback forward "proxy" sink both answer
PutTraceSegments; each scenario starts xraybridge, posts one OTLP/JSON request (2
spans), stops it (SIGTERM drains) and checks which of the two got the documents.
With the openssl command, an https:// "X-Ray" sink behind a loopback CONNECT proxy
checks HTTPS_PROXY: the documents arrive through the tunnel.

usage: run_proxy.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import os
import shutil
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import Bridge, Report, Sink, clean_env, post_trace, self_signed_cert  # noqa: E402


def config(xray_port, proxy_address, scheme="http", extra=""):
    if proxy_address:
        extra += f"\n    proxy_address: {proxy_address}"
    return f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "{scheme}://127.0.0.1:{xray_port}"
    batch: {{timeout: 20ms}}{extra}
service:
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{metrics: {{address: ""}}}}
"""


class ConnectProxy:
    """Loopback HTTP CONNECT proxy: records each CONNECT target ("host:port"), answers
    200 and relays bytes both ways until either side closes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.targets = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        head = b""
        with c:
            while b"\r\n\r\n" not in head:
                got = c.recv(4096)
                if not got:
                    return
                head += got
            line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            if len(line) < 2 or line[0] != "CONNECT":
                c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            with self.lock:
                self.targets.append(line[1])
            host, port = line[1].rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=10) as up:
                c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                up.sendall(head.split(b"\r\n\r\n", 1)[1])
                t = threading.Thread(target=self._pipe, args=(up, c), daemon=True)
                t.start()
                self._pipe(c, up)
                t.join(timeout=10)

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                dst.sendall(b)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def stop(self):
        self.sock.close()


def https_case(binary, body, tmp, report):
    """HTTPS_PROXY set, https:// endpoint: libcurl tunnels through the proxy (CONNECT)."""
    if not shutil.which("openssl"):
        print("skipped: HTTPS_PROXY through a CONNECT proxy (no openssl command)")
        return
    cert, key = self_signed_cert(tmp)
    xray, proxy = Sink(tls=(cert, key)), ConnectProxy()
    cases = [
        # (name, extra env, CONNECTs expected)
        ("HTTPS_PROXY env, https endpoint: CONNECT via proxy",
         {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}"}, True),
        ("HTTPS_PROXY + NO_PROXY=127.0.0.1, https endpoint: direct",
         {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}", "NO_PROXY": "127.0.0.1"}, False),
    ]
    try:
        for name, extra_env, via_proxy in cases:
            x0, t0 = xray.documents, len(proxy.targets)
            try:
                env = clean_env(AWS_ACCESS_KEY_ID="AKIDPROXY", AWS_SECRET_ACCESS_KEY="secret",
                                **extra_env)
                yaml = config(xray.port, None, "https",
                              f"\n    certificate_file_path: {cert}")
                with Bridge(binary, tmp, yaml, env) as bridge:
                    status = post_trace(bridge.port("otlp http receiver"), body)
                    rc = bridge.stop()
                with proxy.lock:
                    targets = proxy.targets[t0:]
                got = xray.documents - x0
                want_targets = [f"127.0.0.1:{xray.port}"] if via_proxy else []
                ok = status == 200 and rc == 0 and got == 2 and targets == want_targets
                report.check(ok, f"{name} (delivered={got}, CONNECT {targets}, rc={rc})")
            except Exception as e:  # noqa: BLE001 - reported as a failed case
                report.check(False, f"{name}: {e}")
    finally:
        xray.stop()
        proxy.stop()


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
        ("all_proxy env: via proxy", None, {"all_proxy": proxy_url}, True),
        # libcurl never reads HTTP_PROXY in upper case, nor HTTPS_PROXY for http://.
        ("HTTP_PROXY env only: direct", None, {"HTTP_PROXY": proxy_url}, False),
        ("HTTPS_PROXY env, http endpoint: direct", None, {"HTTPS_PROXY": proxy_url}, False),
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
    https_case(binary, body, tmp, report)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
