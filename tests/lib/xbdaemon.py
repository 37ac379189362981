"""Helpers shared by the X-Ray daemon protocol (receivers.awsxray, UDP) system tests:
datagram contents, the receiver's counters on /metrics, and the file exporter's output.
A daemon-protocol datagram is the JSON header line HDR followed by one segment document.
"""
import json
import re

from xbtest import metric_samples, metrics_text

HDR = b'{"format": "json", "version": 1}\n'
TRACE = "1-5f84c7a1-0123456789abcdef01234567"


def doc(i, **extra):
    """Compact JSON of a segment with id |i| (16 hex digits) in TRACE, plus |extra|."""
    d = {"name": "svc", "id": f"{i:016x}", "trace_id": TRACE, "start_time": 1700000000.5}
    d.update(extra)
    return json.dumps(d, separators=(",", ":")).encode()


def metrics(port, timeout=5):
    """Every receiver="awsxray" sample on /metrics, as {series: int value}."""
    samples = metric_samples(metrics_text(port, timeout=timeout))
    return {k: int(v) for k, v in samples.items() if 'receiver="awsxray"' in k}


def dropped(m, reason):
    """Datagrams dropped for |reason| in a metrics() snapshot (0 when absent)."""
    return m.get('xraybridge_receiver_udp_dropped_total{receiver="awsxray",transport="udp",'
                 f'reason="{reason}"}}', 0)


def lines(path):
    """The file exporter's complete lines in |path| (none if it does not exist yet)."""
    try:
        with open(path, "rb") as f:
            return f.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return []


def udp_port(log):
    """The receiver's bound UDP port, from xraybridge's start-up log text |log|."""
    return int(re.search(r"listening on udp \S+ \(port (\d+)\)", log).group(1))
