#!/usr/bin/env python3
"""Writes the generated seeds of tests/fuzz/corpus/ (docs/fuzzing.md): deep nesting
(64 / 65 / 6,000 AnyValue levels), wide arrays, many spans, huge unknown-field
lengths, and the OTLP/JSON memory bombs, each under 64 KB. Deterministic; rerun
after changing it and commit the output.

Usage: tests/fuzz/make_seeds.py [CORPUS_DIR]   (default: the corpus next to this file)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pbwire import ld, tag, varint  # noqa: E402


def fixed64(field, v):
    return tag(field, 1) + struct.pack("<Q", v)


TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")
START = 1700000000000000000


def any_string(s):
    return ld(1, s.encode())


def nested(levels, kvlist):
    """AnyValue bytes nested |levels| deep (1 = a plain string)."""
    v = any_string("leaf")
    for i in range(1, levels):
        kv = kvlist == 2 and i % 2 or kvlist == 1
        if kv:
            v = ld(6, ld(1, ld(1, b"k") + ld(2, v)))
        else:
            v = ld(5, ld(1, v))
    return v


def span(i, attrs):
    sid = struct.pack(">Q", 0x1000 + i)
    body = ld(1, TRACE) + ld(2, sid) + ld(5, b"span-%d" % i) + tag(6, 0) + varint(2)
    body += fixed64(7, START + i) + fixed64(8, START + i + 250000000)
    for a in attrs:
        body += ld(9, a)
    return body


def request(spans, resource_attrs=()):
    rs = b""
    if resource_attrs:
        rs += ld(1, b"".join(ld(1, a) for a in resource_attrs))
    rs += ld(2, b"".join(ld(2, s) for s in spans))
    return ld(1, rs)


def attr(k, value):
    return ld(1, k.encode()) + ld(2, value)


def pb_seeds():
    yield "deep-array-6000.bin", request([span(0, [attr("deep", nested(6000, 0))])])
    for n in (64, 65):
        yield "deep-array-%d.bin" % n, request([span(0, [attr("deep", nested(n, 0))])])
        yield "deep-kvlist-%d.bin" % n, request([span(0, [attr("deep", nested(n, 1))])])
        yield "deep-mixed-resource-%d.bin" % n, request(
            [span(0, [])], [attr("deep", nested(n, 2))])
    wide = ld(5, b"".join(ld(1, tag(3, 0) + varint(i)) for i in range(8000)))
    yield "wide-array-8000.bin", request([span(0, [attr("wide", wide)])])
    yield "wide-spans-300.bin", request(
        [span(i, [attr("http.method", any_string("GET")), attr("n", tag(3, 0) + varint(i))])
         for i in range(300)])
    # Unknown field 1000 claiming 4 GiB - 1 bytes inside a span, then a valid span.
    yield "unknown-huge-length.bin", ld(1, ld(2, ld(2, span(0, []) + tag(1000, 2) +
                                                     varint(0xFFFFFFFF))))


def json_seeds():
    def jnested(levels, kvlist):
        v = '{"stringValue":"leaf"}'
        for _ in range(1, levels):
            if kvlist:
                v = '{"kvlistValue":{"values":[{"key":"k","value":%s}]}}' % v
            else:
                v = '{"arrayValue":{"values":[%s]}}' % v
        return v

    def jreq(value):
        return ('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"%s",'
                '"spanId":"eee19b7ec3c1b174","name":"deep","kind":2,'
                '"startTimeUnixNano":"%d","endTimeUnixNano":"%d",'
                '"attributes":[{"key":"deep","value":%s}]}]}]}]}'
                % (TRACE.hex(), START, START + 250000000, value))

    yield "bomb-resource-spans.json", '{"resourceSpans":[' + ",".join(["{}"] * 21000) + "]}"
    yield "bomb-unknown-arrays.json", '{"zz":[' + ",".join(["[]"] * 21000) + "]}"
    for n in (64, 65):
        yield "deep-array-%d.json" % n, jreq(jnested(n, 0))
        yield "deep-kvlist-%d.json" % n, jreq(jnested(n, 1))
    yield "deep-brackets-3000.json", '{"zz":' + "[" * 3000 + "]" * 3000 + "}"
    yield "wide-array-3000.json", jreq('{"arrayValue":{"values":[%s]}}' % ",".join(
        '{"intValue":"%d"}' % i for i in range(3000)))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    for sub, seeds in (("pb", pb_seeds()), ("json", json_seeds())):
        for name, data in seeds:
            if isinstance(data, str):
                data = data.encode()
            assert len(data) <= 65536, (name, len(data))
            with open(os.path.join(root, sub, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
