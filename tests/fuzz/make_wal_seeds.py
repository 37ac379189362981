#!/usr/bin/python3
"""Writes the seed corpus of fuzz_wal (tests/fuzz/corpus-wal/): segment files in the
format of core/wal.h (u32 payload length, u32 CRC-32, payload = u64 seq, u8 trace id
length, trace id, u8 id length, id, document), valid and damaged in the ways a crash or
a bad disk damages them. Run from anywhere; overwrites the seeds."""
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-wal")


def record(seq, doc, trace_id=b"1-5f000000-0123456789abcdef01234567", seg_id=b"0123456789abcdef"):
    payload = struct.pack("<Q", seq) + bytes([len(trace_id)]) + trace_id + bytes([len(seg_id)]) + seg_id + doc
    return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload


def doc(i):
    return b'{"name":"svc","id":"%016x","trace_id":"1-5f000000-0123456789abcdef01234567",' \
           b'"start_time":1.5,"end_time":2.5}' % i


def main():
    os.makedirs(OUT, exist_ok=True)
    good = b"".join(record(i + 1, doc(i)) for i in range(5))
    one = len(record(1, doc(0)))
    seeds = {
        "valid-5": good,
        "valid-1": record(1, doc(0)),
        "empty-ids": record(1, b"{}", b"", b""),
        "torn-tail": good[:-3],
        "torn-header": good + record(6, doc(5))[:5],
        "bad-crc-middle": good[:one + 12] + bytes([good[one + 12] ^ 1]) + good[one + 13:],
        "bad-length": good[:one] + b"\xff\xff\xff\x7f" + good[one + 4:],
        "zero-length": good[:one] + b"\x00\x00\x00\x00" + good[one + 4:],
        "seq-gap": record(1, doc(0)) + record(3, doc(2)),
        "ids-overrun": struct.pack("<II", 10, zlib.crc32(b"\x01" * 10)) + b"\x01" * 10,
        "zeros": b"\x00" * 64,
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
