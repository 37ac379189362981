#!/usr/bin/python3
"""Generate SigV4 test vectors for tests/unit/aws/test_sigv4.c.

The oracle is Debian's python3-botocore (botocore.auth.SigV4Auth). Each case is
signed at a fixed instant; the expected canonical request, string to sign,
signed-header list, signature and Authorization value are recorded together
with the request as the C signer receives it.

Usage: /usr/bin/python3 gen_vectors.py [OUTPUT.json]   (default: stdout)
Exit status 77 means botocore is not installed (CTest reports a skip).
"""
import datetime
import hashlib
import json
import sys

try:
    import botocore.auth
    import botocore.utils
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    sys.stderr.write("gen_vectors.py: botocore not available\n")
    sys.exit(77)

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLXdlc3QtMiJHMEUCIQD"
         "exampleSessionTokenValue+/=")

SEGMENT_BODY = json.dumps({
    "TraceSegmentDocuments": [json.dumps({
        "name": "checkout", "id": "70de5b6f19ff9a0a",
        "trace_id": "1-581cf771-a006649127e371903a2de979",
        "start_time": 1478293361.271, "end_time": 1478293361.449,
    }, separators=(",", ":"))]
}, separators=(",", ":"))


class FixedClock(datetime.datetime):
    """Stands in for datetime.datetime inside botocore.auth: utcnow() is frozen."""
    frozen = None

    @classmethod
    def utcnow(cls):
        return cls.frozen

    @classmethod
    def now(cls, tz=None):
        return cls.frozen if tz is None else cls.frozen.replace(tzinfo=tz)


class RecordingSigner(botocore.auth.SigV4Auth):
    """SigV4Auth that also keeps the intermediate strings it computed."""

    def string_to_sign(self, request, canonical_request):
        self.last_canonical_request = canonical_request
        sts = super().string_to_sign(request, canonical_request)
        self.last_string_to_sign = sts
        return sts


def wire_query(params):
    """The query string as a client would send it (what the C signer is given)."""
    out = []
    for k, v in params:
        enc_k = botocore.utils.percent_encode(k)
        enc_v = botocore.utils.percent_encode(v)
        out.append(enc_k + "=" + enc_v if v != "" else enc_k)
    return "&".join(out)


# Each case: the request exactly as the C test will pass it to xb_sigv4_sign().
# "query" is the raw query string; "params" is the same thing decoded, for botocore.
CASES = [
    {
        "name": "xray_put_trace_segments",
        "method": "POST", "path": "/TraceSegments", "params": [],
        "headers": [["Host", "xray.us-west-2.amazonaws.com"],
                    ["Content-Type", "application/json"]],
        "body": SEGMENT_BODY, "region": "us-west-2", "service": "xray",
        "token": None, "time": "2024-03-01T12:34:56",
    },
    {
        "name": "xray_put_trace_segments_session_token",
        "method": "POST", "path": "/TraceSegments", "params": [],
        "headers": [["host", "xray.us-west-2.amazonaws.com"],
                    ["content-type", "application/json"],
                    ["X-Amz-Target", "AWSXRay.PutTraceSegments"]],
        "body": SEGMENT_BODY, "region": "us-west-2", "service": "xray",
        "token": TOKEN, "time": "2024-12-31T23:59:59",
    },
    {
        "name": "query_needs_encoding",
        "method": "GET", "path": "/GetSamplingRules",
        "params": [["b", "x/y:z@w"], ["a", "hello world"], ["c", "\u2713 ok"],
                   ["A", "1"], ["empty", ""], ["a", "Zeta"], ["tilde~", "~star*plus+"]],
        # Sent form differs from the canonical one: lower-case hex escapes, '/', ':',
        # '@' and '*' left raw, "%7E" for '~', a parameter without '=', an empty
        # parameter ("&&"), unsorted and repeated keys.
        "raw_query": "b=x/y:z@w&a=hello%20world&c=%e2%9c%93%20ok&A=1&empty&&a=Zeta"
                     "&tilde%7E=~star*plus%2B",
        "headers": [["Host", "xray.eu-central-1.amazonaws.com"]],
        "body": "", "region": "eu-central-1", "service": "xray",
        "token": None, "time": "2023-07-04T00:00:00",
    },
    {
        "name": "header_values_with_extra_spaces",
        "method": "POST", "path": "/v1/traces", "params": [],
        "headers": [["Host", "xray.ap-southeast-2.amazonaws.com"],
                    ["Content-Type", "  application/x-protobuf  "],
                    ["X-Custom-Multi", "a   b \t  c"],
                    ["X-Dup", " first "],
                    ["x-dup", "second   value"]],
        "body": "\x0a\x03abc", "region": "ap-southeast-2", "service": "xray",
        "token": TOKEN, "time": "2025-01-15T08:09:10",
    },
    {
        "name": "path_normalisation_and_encoding",
        "method": "GET", "path": "/a/./b//c/../d%20e/f:g~h/",
        "params": [["Action", "Describe"]],
        "headers": [["Host", "example.us-east-1.amazonaws.com"]],
        "body": "", "region": "us-east-1", "service": "example",
        "token": None, "time": "2015-08-30T12:36:00",
    },
]


def sign(case):
    when = datetime.datetime.strptime(case["time"], "%Y-%m-%dT%H:%M:%S")
    FixedClock.frozen = when
    saved = botocore.auth.datetime.datetime
    botocore.auth.datetime.datetime = FixedClock
    try:
        host = case["headers"][0][1]
        req = AWSRequest(method=case["method"],
                         url="https://" + host + case["path"],
                         data=case["body"].encode("utf-8"),
                         params=[tuple(p) for p in case["params"]] or None)
        for name, value in case["headers"]:
            req.headers[name] = value  # HTTPHeaders appends: duplicates are kept
        creds = Credentials(AKID, SECRET, case["token"])
        signer = RecordingSigner(creds, case["service"], case["region"])
        signer.add_auth(req)
    finally:
        botocore.auth.datetime.datetime = saved
    auth = req.headers["Authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0]
    return {
        "name": case["name"],
        "method": case["method"],
        "path": case["path"],
        "query": case.get("raw_query") or (wire_query(case["params"])
                                           if case["params"] else None),
        "headers": case["headers"],
        "payload": case["body"],
        "region": case["region"],
        "service": case["service"],
        "access_key_id": AKID,
        "secret_access_key": SECRET,
        "session_token": case["token"],
        "unix_time": int((when - datetime.datetime(1970, 1, 1)).total_seconds()),
        "expected": {
            "amz_date": req.headers["X-Amz-Date"],
            "payload_hash": hashlib.sha256(case["body"].encode("utf-8")).hexdigest(),
            "canonical_request": signer.last_canonical_request,
            "string_to_sign": signer.last_string_to_sign,
            "signed_headers": signed,
            "signature": auth.rsplit("Signature=", 1)[1],
            "authorization": auth,
        },
    }


def main():
    doc = {
        "generator": "tests/data/sigv4/gen_vectors.py",
        "oracle": "botocore " + botocore.__version__ + " SigV4Auth",
        "vectors": [sign(c) for c in CASES],
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
