"""Generated OTLP/JSON traces for the tail_sampling system test, and the reference
probabilistic decision (FNV-1a 64 of salt + the 16 trace-id bytes, docs/sampling.md)."""
import json
import random

FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
MASK = (1 << 64) - 1
DEFAULT_SALT = "default-hash-seed"


def fnv1a64(data):
    h = FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV_PRIME) & MASK
    return h


def threshold(percentage):
    if percentage <= 0:
        return -1
    if percentage >= 100:
        return MASK
    # UINT64_MAX x p / 100 rounded down, as the C code (long double) computes it for
    # the percentages the test uses
    return (MASK * int(round(percentage * 1000))) // 100000


def kept_by_probability(trace_hex, percentage, salt=DEFAULT_SALT):
    return fnv1a64(salt.encode() + bytes.fromhex(trace_hex)) <= threshold(percentage)


def make_traces(n, error_share, spans_per_trace, seed):
    """[(trace_hex, is_error, [span dicts])]: span 0 is the SERVER root; an error trace
    has status ERROR on its last span."""
    rnd = random.Random(seed)
    base = 1764806400 * 10**9
    out = []
    for i in range(n):
        tid = "%08x" % (1764806400 + i) + "%024x" % rnd.getrandbits(96)
        err = rnd.random() < error_share
        root = "%016x" % rnd.getrandbits(64)
        spans = []
        for k in range(spans_per_trace):
            sid = root if k == 0 else "%016x" % rnd.getrandbits(64)
            s = {"traceId": tid, "spanId": sid, "name": f"op{k}",
                 "kind": 2 if k == 0 else 1,
                 "startTimeUnixNano": str(base + i * 1000 + k),
                 "endTimeUnixNano": str(base + i * 1000 + k + 500000),
                 "attributes": [{"key": "http.response.status_code",
                                 "value": {"intValue": "500" if err else "200"}}]}
            if k:
                s["parentSpanId"] = root
            if err and k == spans_per_trace - 1:
                s["status"] = {"code": 2, "message": "boom"}
            spans.append(s)
        out.append((tid, err, spans))
    return out


def request(spans):
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}]}]}).encode()
