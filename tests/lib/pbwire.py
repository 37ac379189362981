"""Protobuf wire-format encoding for tests that build OTLP requests by hand.

Just the three primitives of the encoding (protobuf.dev "Encoding"): base-128 varints,
field tags, and length-delimited fields. Shared by tests/fuzz/make_seeds.py and
tests/hostile/run_hostile.py.
"""


def varint(n):
    """Base-128 varint of |n| (negative numbers as their 64-bit two's complement)."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field, wire):
    """Key of |field| with wire type |wire| (0 varint, 1 fixed64, 2 bytes, 5 fixed32)."""
    return varint(field << 3 | wire)


def ld(field, payload):
    """Length-delimited field: bytes, strings and sub-messages."""
    return tag(field, 2) + varint(len(payload)) + payload


def vfield(field, v):
    """Varint field."""
    return tag(field, 0) + varint(v)
