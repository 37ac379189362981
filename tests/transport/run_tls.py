#!/usr/bin/env python3
"""TLS options of the awsxray exporter against an https:// endpoint on loopback that
serves a self-signed certificate for 127.0.0.1:

- default (system CA store): the handshake fails, nothing is delivered, and the
  documents are reported as undelivered at shutdown;
- certificate_file_path = that certificate: delivered;
- no_verify_ssl: true: delivered, with a start-up warning;
- no_verify_ssl: true does not reach STS: with web-identity credentials and
  AWS_ENDPOINT_URL_STS on the same self-signed endpoint, the STS call fails certificate
  verification (so the IRSA token is never sent to an unverified server) and nothing is
  delivered.

usage: run_tls.py XRAYBRIDGE_BINARY EXAMPLE_TRACE_JSON
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from xbtest import (Bridge, Report, Sink, clean_env, post_trace, self_signed_cert,  # noqa: E402
                    wait_for)


def config(port, tls_yaml):
    return f"""receivers:
  otlp: {{protocols: {{http: {{endpoint: "127.0.0.1:0"}}}}}}
exporters:
  awsxray:
    region: us-west-2
    endpoint: "https://127.0.0.1:{port}"
    batch: {{timeout: 20ms}}
    retry_on_failure: {{initial_interval: 50ms, max_interval: 200ms}}
{tls_yaml}
service:
  pipelines: {{traces: {{receivers: [otlp], exporters: [awsxray]}}}}
  telemetry: {{metrics: {{address: ""}}}}
  shutdown_timeout: 2s
"""


def main():
    binary, example = sys.argv[1], sys.argv[2]
    body = open(example, "rb").read()
    tmp = tempfile.mkdtemp(prefix="xb-tls-")
    cert, key = self_signed_cert(tmp)
    xray = Sink(tls=(cert, key))
    report = Report()
    cases = [
        ("default CA store refuses the self-signed endpoint", "", 0,
         "2 documents could not be delivered"),
        ("certificate_file_path trusts it", f"    certificate_file_path: {cert}", 2, None),
        ("no_verify_ssl skips verification", "    no_verify_ssl: true", 2,
         "TLS certificate is not verified"),
    ]
    env = clean_env(AWS_ACCESS_KEY_ID="AKIDTLS", AWS_SECRET_ACCESS_KEY="secret")
    try:
        for name, tls_yaml, want, log_needle in cases:
            before = xray.documents
            try:
                with Bridge(binary, tmp, config(xray.port, tls_yaml), env) as bridge:
                    status = post_trace(bridge.port("otlp http receiver"), body)
                    rc = bridge.stop()
                    log = bridge.log()
                got = xray.documents - before
                ok = status == 200 and rc == 0 and got == want and \
                    (log_needle is None or log_needle in log)
                report.check(ok, f"{name} (delivered={got}, rc={rc})")
            except Exception as e:  # noqa: BLE001 - reported as a failed case
                report.check(False, f"{name}: {e}")
        sts_case(binary, body, tmp, xray, report)
    finally:
        xray.stop()
    return report.finish()


def sts_case(binary, body, tmp, xray, report):
    """no_verify_ssl stays off for STS: the web-identity call to a self-signed STS fails."""
    token = os.path.join(tmp, "irsa-token")
    with open(token, "w") as f:
        f.write("irsa-web-identity-token")
    env = clean_env(HOME=tmp, AWS_EC2_METADATA_DISABLED="true",
                    AWS_SHARED_CREDENTIALS_FILE=os.path.join(tmp, "none"),
                    AWS_CONFIG_FILE=os.path.join(tmp, "none"),
                    AWS_ROLE_ARN="arn:aws:iam::123456789012:role/xraybridge",
                    AWS_WEB_IDENTITY_TOKEN_FILE=token,
                    AWS_ENDPOINT_URL_STS=f"https://127.0.0.1:{xray.port}/")
    before = xray.documents
    try:
        with Bridge(binary, tmp, config(xray.port, "    no_verify_ssl: true"), env) as bridge:
            status = post_trace(bridge.port("otlp http receiver"), body)
            wait_for(lambda: "no AWS credentials" in bridge.log(), "the STS failure")
            log = bridge.log()
            bridge.stop()
        got = xray.documents - before
        needle = "AssumeRoleWithWebIdentity: request failed: SSL certificate problem"
        report.check(status == 200 and got == 0 and needle in log,
                     f"no_verify_ssl does not turn off STS verification (delivered={got}, "
                     f"certificate error logged={needle in log})")
        report.check("irsa-web-identity-token" not in log, "the web-identity token is not logged")
    except Exception as e:  # noqa: BLE001 - reported as a failed case
        report.check(False, f"STS verification: {e}")


if __name__ == "__main__":
    sys.exit(main())
