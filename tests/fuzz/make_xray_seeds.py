#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_xray (tests/fuzz/corpus-xray/): X-Ray daemon datagrams
as the SDKs send them, and the edge cases where a one-pass JSON scanner and jansson
could disagree (escapes in keys and values, surrogates, UTF-8, number limits, nesting
depth, duplicates, headers). Deterministic; run from anywhere:

    python3 tests/fuzz/make_xray_seeds.py
"""
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-xray")
HDR = b'{"format": "json", "version": 1}\n'
TID = "1-5f84c7a1-0123456789abcdef01234567"


def seg(**kw):
    d = {"name": "svc", "id": "70de5b6f19ff9a0a", "trace_id": TID, "start_time": 1700000000.5,
         "end_time": 1700000001.25}
    d.update(kw)
    return json.dumps(d).encode()


SDK = seg(http={"request": {"method": "GET", "url": "http://127.0.0.1/x"},
                "response": {"status": 500}}, fault=True,
          cause={"working_directory": "/app", "exceptions": [
              {"id": "1234567890abcdef", "message": "boom \u00e9\u4e2d\U0001f600",
               "stack": [{"path": "a.js", "line": 3, "label": "f"}]}]},
          annotations={"k": "v", "n": 3, "b": True}, metadata={"default": {"x": [1, 2.5, None]}},
          aws={"xray": {"sdk": "X-Ray for Node.js", "sdk_version": "3.12.0"}},
          subsegments=[{"id": "1111222233334444", "name": "ddb", "start_time": 1.0,
                        "end_time": 2.0, "namespace": "aws"}])
BASE = b'"name":"svc","id":"70de5b6f19ff9a0a","trace_id":"' + TID.encode() + b'"'

SEEDS = {
    "sdk-segment": HDR + SDK,
    "in-progress": HDR + seg(in_progress=True, end_time=None).replace(b', "end_time": null', b""),
    "subsegment": HDR + seg(type="subsegment", parent_id="1111222233334444"),
    "subsegment-no-parent": HDR + seg(type="subsegment"),
    "header-compact": b'{"format":"json","version":1}\n' + SDK,
    "header-spaced": b' { "version" : 1 ,\t"format" : "json" } \r\n' + SDK,
    "header-dup": b'{"format":"json","format":"json","version":1}\n' + SDK,
    "header-v1.0": b'{"format":"json","version":1.0}\n' + SDK,
    "header-only": HDR,
    "no-header": SDK,
    "escaped-keys": HDR + b'{"n\\u0061me":"a","\\u0069d":"70de5b6f19ff9a0a","trace_\\u0069d":"'
    + TID.encode() + b'","start_time":1,"end_time":2,"\\u0074ype":"sub\\u0073egment",'
    b'"parent_id":"111122223333444\\u0034"}',
    "escaped-values": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":"\\"\\\\\\/\\b\\f'
    b'\\n\\r\\t\\u00e9\\ud83d\\ude00"}',
    "nul-escape": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":"a\\u0000"}',
    "lone-high": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":"\\ud83d"}',
    "lone-low": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":"\\ude00x"}',
    "bad-utf8": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":"\xc0\xaf\xed\xa0\x80"}',
    "utf8-4": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"}',
    "control-char": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":"a\tb"}',
    "int-max": HDR + b'{' + BASE + b',"start_time":9223372036854775807,"end_time":-9223372036854775808}',
    "int-over": HDR + b'{' + BASE + b',"start_time":9223372036854775808,"end_time":2}',
    "int-under": HDR + b'{' + BASE + b',"start_time":1,"end_time":-9223372036854775809}',
    "real-big": HDR + b'{' + BASE + b',"start_time":1e308,"end_time":2e308}',
    "real-edge": HDR + b'{' + BASE + b',"start_time":1.7976931348623157e308,"end_time":0.0000001e309}',
    "real-tiny": HDR + b'{' + BASE + b',"start_time":1e-400,"end_time":-0.0E+0}',
    "numbers-bad": HDR + b'{' + BASE + b',"start_time":01,"end_time":2}',
    "number-dot": HDR + b'{' + BASE + b',"start_time":1.,"end_time":2}',
    "number-exp": HDR + b'{' + BASE + b',"start_time":1e,"end_time":2}',
    "dup-keys": HDR + b'{' + BASE + b',"id":"zz","start_time":1,"end_time":2,"id":"0000000000000001"}',
    "type-number": HDR + b'{' + BASE + b',"type":1,"start_time":1,"end_time":2}',
    "deep-2047": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":' + b"[" * 2046 + b"1"
    + b"]" * 2046 + b"}",
    "deep-2048": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":' + b"[" * 2047 + b"1"
    + b"]" * 2047 + b"}",
    "deep-empty": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"x":' + b"[" * 2047
    + b"]" * 2047 + b"}",
    "top-array": HDR + b'[{' + BASE + b',"start_time":1,"end_time":2}]',
    "top-scalar": HDR + b'"x"',
    "trailing": HDR + b'{' + BASE + b',"start_time":1,"end_time":2} x',
    "trailing-comma": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,}',
    "literals": HDR + b'{' + BASE + b',"start_time":1,"end_time":2,"a":[true,false,null],'
    b'"in_progress":false}',
    "truncated": HDR + SDK[:-9],
    "empty-name": HDR + b'{"name":"","id":"70de5b6f19ff9a0a","trace_id":"' + TID.encode()
    + b'","start_time":1,"end_time":2}',
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
