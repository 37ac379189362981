"""Protobuf wire-format encoding for tests that build OTLP requests by hand.

Just the three primitives of the encoding (protobuf.dev "Encoding"): base-128 varints,
field tags, and length-delimited fields. Shared by tests/fuzz/make_seeds.py,
tests/hostile/run_hostile.py, tests/integration/run_e2e.py and the other tests that
build OTLP requests by hand.
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


def fields(buf):
    """Decodes one message's fields: a list of (field, wire, value), value an int for
    varint/fixed fields and bytes for length-delimited ones. Raises ValueError on
    malformed input."""
    out, i, n = [], 0, len(buf)

    def rd_varint():
        nonlocal i
        v = shift = 0
        while True:
            if i >= n or shift > 63:
                raise ValueError("truncated varint")
            b = buf[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    while i < n:
        key = rd_varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            out.append((field, wire, rd_varint()))
        elif wire == 1:
            if i + 8 > n:
                raise ValueError("truncated fixed64")
            out.append((field, wire, int.from_bytes(buf[i:i + 8], "little")))
            i += 8
        elif wire == 5:
            if i + 4 > n:
                raise ValueError("truncated fixed32")
            out.append((field, wire, int.from_bytes(buf[i:i + 4], "little")))
            i += 4
        elif wire == 2:
            ln = rd_varint()
            if i + ln > n:
                raise ValueError("truncated bytes")
            out.append((field, wire, bytes(buf[i:i + ln])))
            i += ln
        else:
            raise ValueError(f"wire type {wire}")
    return out
