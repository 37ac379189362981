"""A minimal HTTP/2 (h2c, prior knowledge) client speaking raw frames, for hostile-client
tests of the OTLP/gRPC receiver: it can stop mid-upload, trickle bytes, reset streams and
send CONTINUATION floods, which real gRPC clients never do.

Header blocks are encoded as HPACK literals without indexing (RFC 7541 6.2.2), so no
encoder state is needed. Response header blocks are not decoded; a gRPC call's outcome is
read from the frame sequence instead: this server answers success with HEADERS, DATA,
trailers, and any error trailers-only (one HEADERS frame with END_STREAM).
"""
import socket
import struct
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def frame(ftype, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream_id & 0x7FFFFFFF) + payload


def _hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(headers):
    """HPACK block: each (name, value) as a literal without indexing, new name, no Huffman."""
    out = b""
    for name, value in headers:
        n, v = name.encode(), value.encode()
        out += b"\x00" + _hpack_int(len(n), 7) + n + _hpack_int(len(v), 7) + v
    return out


def grpc_headers(path=EXPORT_PATH, extra=()):
    return hpack_literal([(":method", "POST"), (":scheme", "http"), (":path", path),
                          (":authority", "127.0.0.1"), ("content-type", "application/grpc"),
                          ("te", "trailers"), *extra])


def grpc_message(msg, declared_len=None):
    """gRPC length-prefixed message; |declared_len| lies about the length on purpose."""
    n = len(msg) if declared_len is None else declared_len
    return b"\x00" + struct.pack(">I", n) + msg


class H2Conn:
    """One client connection. All waits are bounded by |timeout| seconds."""

    def __init__(self, port, timeout=5.0, preface=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.frames = []  # (type, flags, stream_id, payload) received so far
        self.closed = False
        self.next_id = 1
        self.preface_sent = preface
        if preface:
            self.send(PREFACE + frame(SETTINGS, 0, 0))

    def send(self, data):
        self.sock.sendall(data)

    def new_stream(self):
        sid = self.next_id
        self.next_id += 2
        return sid

    def headers(self, sid, block, end_stream=False):
        """HEADERS (+ CONTINUATION frames for blocks over 16 KiB, the default frame size)."""
        first, rest = block[:16384], block[16384:]
        es = END_STREAM if end_stream else 0
        self.send(frame(HEADERS, es | (0 if rest else END_HEADERS), sid, first))
        while rest:
            part, rest = rest[:16384], rest[16384:]
            self.send(frame(CONTINUATION, 0 if rest else END_HEADERS, sid, part))

    def data(self, sid, payload, end_stream=False, chunk=16384):
        for off in range(0, max(len(payload), 1), chunk):
            last = off + chunk >= len(payload)
            self.send(frame(DATA, END_STREAM if (end_stream and last) else 0, sid,
                            payload[off:off + chunk]))

    def _read_some(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        while len(self.buf) >= 9:
            n = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + n:
                break
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload = self.buf[9:9 + n]
            self.buf = self.buf[9 + n:]
            self.frames.append((ftype, flags, sid, payload))
            if ftype == SETTINGS and not flags & ACK and self.preface_sent:
                try:
                    self.send(frame(SETTINGS, ACK, 0))
                except OSError:
                    pass
        return True

    def wait(self, cond, timeout):
        """Reads until cond(self) is true, the peer closes, or |timeout| passes."""
        deadline = time.monotonic() + timeout
        while not cond(self):
            if self.closed or time.monotonic() >= deadline:
                break
            self._read_some(deadline)
        return cond(self)

    def stream_frames(self, sid):
        return [f for f in self.frames if f[2] == sid]

    def stream_ended(self, sid):
        return any(f[0] in (HEADERS, DATA) and f[1] & END_STREAM or f[0] == RST_STREAM
                   for f in self.stream_frames(sid))

    def call_ok(self, sid):
        """True when |sid| ended with a response message (success); False otherwise."""
        fr = self.stream_frames(sid)
        return any(f[0] == DATA for f in fr) and any(f[0] == HEADERS and f[1] & END_STREAM
                                                     for f in fr)

    def goaway(self):
        return next((f for f in self.frames if f[0] == GOAWAY), None)

    def wait_closed(self, timeout):
        return self.wait(lambda c: c.closed, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def goaway_error(f):
    """Error code of a GOAWAY frame tuple."""
    return int.from_bytes(f[3][4:8], "big")


def export_call(port, body, timeout=5.0):
    """One unary Export on a fresh connection; returns (ok, seconds)."""
    t0 = time.monotonic()
    try:
        c = H2Conn(port, timeout=timeout)
    except OSError:
        return False, time.monotonic() - t0
    try:
        sid = c.new_stream()
        c.headers(sid, grpc_headers())
        c.data(sid, grpc_message(body), end_stream=True)
        c.wait(lambda x: x.stream_ended(sid), timeout)
        return c.call_ok(sid), time.monotonic() - t0
    except OSError:
        return False, time.monotonic() - t0
    finally:
        c.close()


def _varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _field(num, wire, payload):
    key = _varint((num << 3) | wire)
    if wire == 2:
        return key + _varint(len(payload)) + payload
    return key + payload


def export_request(n_spans=1, name="probe"):
    """A valid ExportTraceServiceRequest (protobuf) with |n_spans| spans of one trace."""
    now = time.time_ns()
    trace_id = struct.pack(">I", int(now // 1e9)) + b"\x11" * 12
    spans = b""
    for i in range(n_spans):
        span = (_field(1, 2, trace_id) + _field(2, 2, struct.pack(">Q", 0x1000 + i + 1)) +
                _field(5, 2, name.encode()) + _field(6, 0, _varint(2)) +
                _field(7, 1, struct.pack("<Q", now - 1_000_000)) +
                _field(8, 1, struct.pack("<Q", now)))
        spans += _field(2, 2, span)
    scope_spans = _field(2, 2, spans)
    resource = _field(1, 2, _field(1, 2, _field(1, 2, b"service.name") +
                                   _field(2, 2, _field(1, 2, b"hostile-test"))))
    return _field(1, 2, resource + scope_spans)
