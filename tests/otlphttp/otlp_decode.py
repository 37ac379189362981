"""OTLP trace protobuf -> plain Python values, on tests/lib/pbwire.fields (no
python3-protobuf needed). Field numbers from proto/opentelemetry/proto/trace/v1/trace.proto,
common/v1/common.proto, resource/v1/resource.proto and
collector/trace/v1/trace_service.proto."""
import struct

import pbwire


def _any(buf):
    for f, w, v in pbwire.fields(buf):
        if f == 1:
            return v.decode()
        if f == 2:
            return bool(v)
        if f == 3:
            return v - (1 << 64) if v >= 1 << 63 else v
        if f == 4:
            return struct.unpack("<d", v.to_bytes(8, "little"))[0]
        if f == 5:
            return [_any(x) for ff, _, x in pbwire.fields(v) if ff == 1]
        if f == 6:
            return dict(_kv(x) for ff, _, x in pbwire.fields(v) if ff == 1)
        if f == 7:
            return v
    return None


def _kv(buf):
    key, val = "", None
    for f, _, v in pbwire.fields(buf):
        if f == 1:
            key = v.decode()
        elif f == 2:
            val = _any(v)
    return key, val


def _attrs(items):
    return dict(_kv(v) for v in items)


def _span(buf):
    s = {"traceId": "", "spanId": "", "parentSpanId": "", "name": "", "kind": 0,
         "startNs": 0, "endNs": 0, "attributes": {}, "events": [], "links": [],
         "status": {"code": 0, "message": ""}}
    attrs = []
    for f, _, v in pbwire.fields(buf):
        if f == 1:
            s["traceId"] = v.hex()
        elif f == 2:
            s["spanId"] = v.hex()
        elif f == 4:
            s["parentSpanId"] = v.hex()
        elif f == 5:
            s["name"] = v.decode()
        elif f == 6:
            s["kind"] = v
        elif f == 7:
            s["startNs"] = v
        elif f == 8:
            s["endNs"] = v
        elif f == 9:
            attrs.append(v)
        elif f == 11:
            ev = {"name": "", "timeNs": 0, "attributes": {}}
            ea = []
            for ff, _, vv in pbwire.fields(v):
                if ff == 1:
                    ev["timeNs"] = vv
                elif ff == 2:
                    ev["name"] = vv.decode()
                elif ff == 3:
                    ea.append(vv)
            ev["attributes"] = _attrs(ea)
            s["events"].append(ev)
        elif f == 13:
            ln = {"traceId": "", "spanId": "", "attributes": {}}
            la = []
            for ff, _, vv in pbwire.fields(v):
                if ff == 1:
                    ln["traceId"] = vv.hex()
                elif ff == 2:
                    ln["spanId"] = vv.hex()
                elif ff == 4:
                    la.append(vv)
            ln["attributes"] = _attrs(la)
            s["links"].append(ln)
        elif f == 15:
            for ff, _, vv in pbwire.fields(v):
                if ff == 2:
                    s["status"]["message"] = vv.decode()
                elif ff == 3:
                    s["status"]["code"] = vv
    s["attributes"] = _attrs(attrs)
    return s


def decode_request(buf):
    """ExportTraceServiceRequest bytes -> list of spans, each with "resource" (its
    resource attributes) and "scope" ({"name", "version"}) added."""
    spans = []
    for f, _, rs in pbwire.fields(buf):
        if f != 1:
            continue
        resource = {}
        for ff, _, v in pbwire.fields(rs):
            if ff == 1:
                resource = _attrs(x for fff, _, x in pbwire.fields(v) if fff == 1)
        for ff, _, ss in pbwire.fields(rs):
            if ff != 2:
                continue
            scope = {"name": "", "version": ""}
            for fff, _, v in pbwire.fields(ss):
                if fff == 1:
                    for k, _, x in pbwire.fields(v):
                        if k == 1:
                            scope["name"] = x.decode()
                        elif k == 2:
                            scope["version"] = x.decode()
            for fff, _, v in pbwire.fields(ss):
                if fff == 2:
                    sp = _span(v)
                    sp["resource"] = resource
                    sp["scope"] = scope
                    spans.append(sp)
    return spans


def encode_partial_success(rejected, message):
    """ExportTraceServiceResponse with partial_success{rejected_spans, error_message}."""
    inner = pbwire.vfield(1, rejected) + pbwire.ld(2, message.encode())
    return pbwire.ld(1, inner)
