#!/usr/bin/python3
"""Writes tests/golden/cases/*.json: the golden cases for the translator.

Each case's expected documents are written out by hand below, from the behaviour of
awsxrayexporter v0.156.0 and xraybridge's deliberate differences, both described in
docs/translation.md. A case's "section" field names the part of docs/translation.md it
pins ("Fields: name", "Upstream changes: v0.141 CONSUMER", "Deliberate differences"...;
several are separated by "; "). This script only removes repetition: the OTLP/JSON
boilerplate of the input and the fields every document carries. It contains no
translation logic.

Run:  /usr/bin/python3 tests/golden/gen_cases.py   (rewrites the cases directory)
"""
import json
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")

TID = "5759e988bd862e3fe1be46a994272793"
XTID = "1-5759e988-bd862e3fe1be46a994272793"
SID = "53995c3f42cd8ad8"
PID = "7f2c1a4b9e8d6c5a"
SID2 = "0a1b2c3d4e5f6071"
START_NS = 1700000000000000000
END_NS = 1700000001500000000
START = 1700000000
END = 1700000001.5

SERVER, INTERNAL, CLIENT, PRODUCER, CONSUMER = 2, 1, 3, 4, 5
UNSET, OK, ERROR = 0, 1, 2

cases = []


# ---- OTLP/JSON input helpers ---------------------------------------------------------

class Raw:
    """An AnyValue written verbatim (e.g. {"bytesValue": ...})."""

    def __init__(self, v):
        self.v = v


def anyval(v):
    if isinstance(v, Raw):
        return v.v
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [anyval(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": kvs(v)}}
    raise TypeError(v)


def kvs(d):
    return [{"key": k, "value": anyval(v)} for k, v in d.items()]


def span(name="op", kind=SERVER, parent=None, attrs=None, events=None, links=None,
         status=None, start=START_NS, end=END_NS, trace=TID, sid=SID):
    s = {"traceId": trace, "spanId": sid, "name": name, "kind": kind,
         "startTimeUnixNano": str(start), "endTimeUnixNano": str(end)}
    if parent:
        s["parentSpanId"] = parent
    if attrs:
        s["attributes"] = kvs(attrs)
    if events:
        s["events"] = events
    if links:
        s["links"] = links
    if status:
        s["status"] = status
    return s


def event(name, attrs=None, t=START_NS + 500000000):
    e = {"timeUnixNano": str(t), "name": name}
    if attrs:
        e["attributes"] = kvs(attrs)
    return e


def exc_event(etype=None, msg=None, stack=None, t=START_NS + 500000000):
    a = {}
    if etype is not None:
        a["exception.type"] = etype
    if msg is not None:
        a["exception.message"] = msg
    if stack is not None:
        a["exception.stacktrace"] = stack
    return event("exception", a, t)


def link(trace, sid, attrs=None):
    l = {"traceId": trace, "spanId": sid}
    if attrs:
        l["attributes"] = kvs(attrs)
    return l


def req(*spans, resource=None):
    return {"resourceSpans": [{
        "resource": {"attributes": kvs(resource)} if resource else {},
        "scopeSpans": [{"scope": {"name": "golden", "version": "1.0"}, "spans": list(spans)}],
    }]}


# ---- expected document helpers ---------------------------------------------------------

ORDER = ["name", "id", "start_time", "service", "origin", "user", "resource_arn", "links",
         "trace_id", "end_time", "in_progress", "http", "fault", "error", "throttle", "cause",
         "aws", "annotations", "metadata", "subsegments", "namespace", "parent_id", "type",
         "precursor_ids", "traced", "sql"]

AWS_DEFAULT = {"xray": {"auto_instrumentation": False}}


def doc(name, **kw):
    """Expected document: defaults for the base span, overridden by |kw|.
    A value of None removes the key."""
    d = {"name": name, "id": SID, "start_time": START, "trace_id": XTID, "end_time": END,
         "fault": False, "error": False, "throttle": False, "aws": AWS_DEFAULT}
    d.update(kw)
    d = {k: v for k, v in d.items() if v is not None}
    unknown = [k for k in d if k not in ORDER]
    if unknown:
        raise ValueError(unknown)
    return {k: d[k] for k in ORDER if k in d}


def sub(name, parent=PID, **kw):
    """Expected subsegment document."""
    return doc(name, parent_id=parent, type="subsegment", **kw)


def md(**kw):
    return {"default": kw}


def mdd(d):
    return {"default": d}


def res_md(resource):
    """metadata.default entries for the resource of a segment (section 16)."""
    return {"otel.resource." + k: v for k, v in resource.items()}


def case(slug, section, description, input, expected=None, **extra):
    c = {"name": slug, "section": section, "description": description}
    if "config" in extra:
        c["config"] = extra.pop("config")
    if isinstance(input, str):
        c["input_protobuf_hex"] = input
    else:
        c["input"] = input
    if expected is not None:
        c["expected"] = expected
    c.update(extra)
    cases.append(c)


# ---- protobuf encoding (for inputs OTLP/JSON cannot express) ---------------------------

def varint(n):
    out = b""
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def fld(num, wt, payload):
    key = varint((num << 3) | wt)
    if wt == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def pb_str(num, b):
    return fld(num, 2, b if isinstance(b, bytes) else b.encode())


def pb_any(v):
    if isinstance(v, bytes):
        return pb_str(1, v)
    if isinstance(v, str):
        return pb_str(1, v)
    if isinstance(v, bool):
        return fld(2, 0, varint(int(v)))
    if isinstance(v, int):
        return fld(3, 0, varint(v))
    raise TypeError(v)


def pb_kv(k, v):
    return pb_str(1, k) + pb_str(2, pb_any(v))


def pb_span(trace, sid, name, kind=SERVER, parent=b"", attrs=None):
    b = pb_str(1, trace) + pb_str(2, sid)
    if parent:
        b += pb_str(4, parent)
    b += pb_str(5, name) + fld(6, 0, varint(kind))
    b += fld(7, 1, struct.pack("<Q", START_NS)) + fld(8, 1, struct.pack("<Q", END_NS))
    for k, v in (attrs or {}).items():
        b += pb_str(9, pb_kv(k, v))
    return b


def pb_req(*spans):
    ss = pb_str(1, pb_str(1, "golden")) + b"".join(pb_str(2, s) for s in spans)
    rs = pb_str(1, b"") + pb_str(2, ss)
    return pb_str(1, rs).hex()


T = bytes.fromhex(TID)
S = bytes.fromhex(SID)

# =====================================================================================
# document encoding and key rules
# =====================================================================================

case("minimal-server-segment", "Fields: key order",
     "A SERVER span without parent and an empty resource: name from the span name, id, "
     "trace_id, start/end, fault/error/throttle always written as false, aws block with "
     "xray.auto_instrumentation=false, no type/namespace/parent_id/origin/metadata.",
     req(span("hello")), [doc("hello")])

case("minimal-internal-root", "Fields: key order",
     "An INTERNAL span without parent is a segment (type absent).",
     req(span("work", kind=INTERNAL)), [doc("work")])

case("end-time-zero", "Fields: key order",
     "end_time is always written, 0 for a span whose end is 0; in_progress is never emitted.",
     req(span("open", end=0)), [doc("open", end_time=0)])

case("never-emitted-keys", "Fields: key order",
     "aws.xray.traced/resource_arn span attributes are not read by the exporter: they land "
     "in metadata and no traced/resource_arn key appears (aws.xray.inprogress: the "
     "inprogress-* cases).",
     req(span("x", attrs={"aws.xray.traced": True,
                          "aws.xray.resource_arn": "arn:aws:ec2:r:1:i/x"})),
     [doc("x", metadata=md(**{"aws.xray.traced": True,
                               "aws.xray.resource_arn": "arn:aws:ec2:r:1:i/x"}))])

case("html-chars-preserved", "Fields: key order",
     "Go escapes <, >, & as \\u003c etc. which is semantically irrelevant: the decoded "
     "metadata string must be identical.",
     req(span("x", attrs={"html": "<a href='y'>&amp;</a>"})),
     [doc("x", metadata=md(html="<a href='y'>&amp;</a>"))])

case("empty-string-user-absent", "Fields: key order",
     "Empty strings are written as absent: enduser.id = \"\" gives no user key (and the "
     "attribute is consumed).",
     req(span("x", attrs={"enduser.id": ""})), [doc("x")])

case("whole-double-value", "Fields: key order",
     "Doubles are numbers: a double 5.0 attribute stays the number 5 in metadata.",
     req(span("x", attrs={"ratio": 5.0, "half": 0.5})),
     [doc("x", metadata=md(ratio=5.0, half=0.5))])

FULL_RES = {"service.name": "shop", "service.version": "2.1.0", "cloud.provider": "aws",
            "cloud.platform": "aws_ec2", "host.id": "i-0abc"}
case("all-keys-ordered", "Fields: key order",
     "A span that fills most top-level keys (service, origin, user, links, http, cause, "
     "aws, annotations, metadata, namespace, parent_id, type, sql) - checks values and the "
     "key order together.",
     req(span("SELECT shop", kind=CLIENT, parent=PID,
              attrs={"enduser.id": "u-1", "http.method": "GET", "http.status_code": 503,
                     "db.system": "mysql", "db.name": "shop", "db.statement": "SELECT 1",
                     "team": "core", "other": "v"},
              links=[link(TID, SID2)],
              status={"code": ERROR, "message": "boom"}),
         resource=FULL_RES),
     [sub("shop", service={"version": "2.1.0"}, origin="AWS::EC2::Instance", user="u-1",
          links=[{"trace_id": XTID, "id": SID2}],
          http={"request": {"method": "GET"}, "response": {"status": 503, "content_length": 0}},
          fault=True,
          cause={"exceptions": [{"id": "x", "type": "", "message": "boom"}]},
          aws={"ec2": {"instance_id": "i-0abc", "availability_zone": None,
                       "instance_size": None, "ami_id": None},
               "xray": {"auto_instrumentation": False}},
          annotations={"team": "core"}, metadata=md(other="v"), namespace="remote",
          sql={"url": "SELECT shop", "connection_string": "localhost/shop",
               "database_type": "mysql", "sanitized_query": "SELECT 1"})],
     config={"indexed_attributes": ["team"]}, ignore=["cause.exceptions.0.id"])

# =====================================================================================
# segment vs subsegment, local roots
# =====================================================================================

RES_A_EARLY = {"service.name": "svc-a", "deployment.environment": "prod"}

case("client-with-parent-subsegment", "Fields: id / parent_id / type; Fields: Local roots",
     "CLIENT with a parent -> subsegment: type=subsegment, parent_id, namespace remote.",
     req(span("call", kind=CLIENT, parent=PID)), [sub("call", namespace="remote")])

case("internal-with-parent-subsegment", "Fields: id / parent_id / type; Fields: Local roots",
     "INTERNAL with a parent -> subsegment, no namespace.",
     req(span("step", kind=INTERNAL, parent=PID)), [sub("step")])

case("producer-with-parent-subsegment-namespace-remote", "Upstream changes: v0.141 PRODUCER",
     "PRODUCER with a parent -> subsegment with namespace remote (since v0.141, as CLIENT).",
     req(span("send", kind=PRODUCER, parent=PID)), [sub("send", namespace="remote")])

case("consumer-with-parent-is-segment", "Upstream changes: v0.141 CONSUMER",
     "CONSUMER with a parent -> segment (since v0.141): no type, parent_id kept, resource "
     "stored like a SERVER segment, but not named after resource service.name.",
     req(span("recv", kind=CONSUMER, parent=PID), resource=RES_A_EARLY),
     [doc("recv", parent_id=PID, metadata=mdd(res_md(RES_A_EARLY)))])

case("server-with-parent-segment", "Fields: id / parent_id / type; Fields: Local roots",
     "A SERVER span is always a segment, even with a remote parent: type absent but "
     "parent_id written.",
     req(span("handle", parent=PID)), [doc("handle", parent_id=PID)])

case("client-root-segment", "Fields: id / parent_id / type; Fields: Local roots; Fields: namespace",
     "A CLIENT span without parent is a segment (no type) and still gets namespace remote.",
     req(span("call", kind=CLIENT)), [doc("call", namespace="remote")])

RES_A = {"service.name": "svc-a", "deployment.environment": "prod"}
case("segment-stores-resource", "Fields: id / parent_id / type; Fields: Local roots; Fields: annotations / metadata",
     "Segments copy every resource attribute into metadata.default as otel.resource.<key>; "
     "a SERVER span is named after resource service.name.",
     req(span("GET /"), resource=RES_A),
     [doc("svc-a", metadata=mdd(res_md(RES_A)))])

case("subsegment-no-resource", "Fields: id / parent_id / type; Fields: Local roots; Fields: annotations / metadata",
     "Subsegments do not store resource attributes: no metadata at all when the span has "
     "no leftover attributes.",
     req(span("call", kind=CLIENT, parent=PID), resource=RES_A),
     [sub("call", namespace="remote")])

case("internal-root-stores-resource", "Fields: id / parent_id / type; Fields: Local roots; Fields: annotations / metadata",
     "An INTERNAL span without parent is a segment and stores resource attributes, but is "
     "not named after service.name (that name source is for SERVER spans only).",
     req(span("job", kind=INTERNAL), resource=RES_A),
     [doc("job", metadata=mdd(res_md(RES_A)))])

case("producer-remote-service-namespace", "Fields: id / parent_id / type; Fields: Local roots; Fields: namespace",
     "PRODUCER subsegment with aws.remote.service: named after it, namespace remote.",
     req(span("publish", kind=PRODUCER, parent=PID, attrs={"aws.remote.service": "orders-q"})),
     [sub("orders-q", namespace="remote", metadata=md(**{"aws.remote.service": "orders-q"}))])

case("consumer-remote-service-no-namespace", "Upstream changes: v0.141 CONSUMER",
     "CONSUMER with a parent and aws.remote.service: a segment named after it, and no "
     "namespace any more (the remote rule only acts on subsegments).",
     req(span("poll", kind=CONSUMER, parent=PID, attrs={"aws.remote.service": "jobs"})),
     [doc("jobs", parent_id=PID, metadata=md(**{"aws.remote.service": "jobs"}))])

case("internal-remote-service-ignored", "Fields: id / parent_id / type; Fields: Local roots; Fields: name",
     "INTERNAL subsegment: aws.remote.service neither names it nor sets a namespace.",
     req(span("calc", kind=INTERNAL, parent=PID, attrs={"aws.remote.service": "x"})),
     [sub("calc", metadata=md(**{"aws.remote.service": "x"}))])

case("local-root-server", "Fields: id / parent_id / type; Fields: Local roots",
     "LOCAL_ROOT SERVER span: one segment named aws.local.service, type and namespace "
     "absent; the aws.* attributes stay in metadata.",
     req(span("GET /", attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "front"})),
     [doc("front", metadata=md(**{"aws.span.kind": "LOCAL_ROOT",
                                  "aws.local.service": "front"}))])

case("local-root-internal-root", "Fields: id / parent_id / type; Fields: Local roots; Fields: name",
     "LOCAL_ROOT INTERNAL without parent: one segment, name from aws.local.service.",
     req(span("tick", kind=INTERNAL,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "cron"})),
     [doc("cron", metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "cron"}))])

case("local-root-internal-with-parent", "Fields: id / parent_id / type; Fields: Local roots",
     "LOCAL_ROOT INTERNAL with a parent is translated as a subsegment (no resource "
     "metadata) and then its type is dropped: one document with parent_id, no type.",
     req(span("tick", kind=INTERNAL, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "cron"}),
         resource=RES_A),
     [doc("cron", parent_id=PID,
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "cron"}))])

LR_CLIENT_ATTRS = {"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "checkout",
                   "aws.remote.service": "payments", "aws.remote.operation": "POST /pay",
                   "http.method": "POST", "http.url": "https://pay.example.com/pay",
                   "http.status_code": 200}
case("local-root-client-two-docs", "Fields: id / parent_id / type; Fields: Local roots",
     "LOCAL_ROOT CLIENT span -> two documents: (1) dependency subsegment with parent S "
     "(random), id = span id, namespace remote, named aws.remote.service, no resource "
     "metadata; (2) service segment with id S, original parent, named aws.local.service, no "
     "http block, metadata reduced to otel.resource.* keys (so {}), no type/namespace.",
     req(span("POST", kind=CLIENT, parent=PID, attrs=LR_CLIENT_ATTRS), resource=RES_A),
     [sub("payments", parent="S",
          http={"request": {"method": "POST", "url": "https://pay.example.com/pay"},
                "response": {"status": 200, "content_length": 0}},
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "checkout",
                         "aws.remote.service": "payments",
                         "aws.remote.operation": "POST /pay"}),
          namespace="remote"),
      doc("checkout", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-producer-two-docs", "Fields: id / parent_id / type; Fields: Local roots",
     "LOCAL_ROOT PRODUCER span -> dependency subsegment (namespace remote) + service "
     "segment.",
     req(span("send", kind=PRODUCER, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "api",
                     "aws.remote.service": "queue"})),
     [sub("queue", parent="S", namespace="remote",
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "api",
                         "aws.remote.service": "queue"})),
      doc("api", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-consumer-links", "Fields: id / parent_id / type; Fields: Local roots; Fields: links",
     "LOCAL_ROOT CONSUMER: the dependency subsegment loses its links, the service segment "
     "keeps them (links are kept only for CONSUMER service segments).",
     req(span("recv", kind=CONSUMER, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "worker",
                     "aws.remote.service": "sqs"},
              links=[link(TID, SID2)])),
     [sub("sqs", parent="S", namespace="remote",
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "worker",
                         "aws.remote.service": "sqs"})),
      doc("worker", id="S", parent_id=PID, links=[{"trace_id": XTID, "id": SID2}],
          metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-client-links-dropped-on-service", "Fields: id / parent_id / type; Fields: Local roots; Fields: links",
     "LOCAL_ROOT CLIENT: the dependency subsegment keeps its links, the service segment "
     "drops them (not a CONSUMER).",
     req(span("call", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                     "aws.remote.service": "auth"},
              links=[link(TID, SID2)])),
     [sub("auth", parent="S", namespace="remote", links=[{"trace_id": XTID, "id": SID2}],
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                         "aws.remote.service": "auth"})),
      doc("web", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-client-aws-sdk", "Fields: id / parent_id / type; Fields: Local roots; Fields: name; Fields: namespace; Fields: aws",
     "LOCAL_ROOT AWS-SDK CLIENT: dependency keeps namespace aws (not remote), name "
     "AWS::DynamoDB trimmed to DynamoDB, aws.operation/region; the service segment drops "
     "aws.operation and aws.region from its aws block.",
     req(span("DynamoDB.PutItem", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "orders",
                     "aws.remote.service": "AWS::DynamoDB", "rpc.system": "aws-api",
                     "rpc.method": "PutItem", "aws.region": "us-east-1"})),
     [sub("DynamoDB", parent="S", namespace="aws",
          aws={"operation": "PutItem", "region": "us-east-1",
               "xray": {"auto_instrumentation": False}},
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "orders",
                         "aws.remote.service": "AWS::DynamoDB", "rpc.system": "aws-api"})),
      doc("orders", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-client-error-shared", "Fields: id / parent_id / type; Fields: Local roots; Fields: fault / error / throttle; Fields: cause",
     "Both local-root documents share fault/error/throttle and cause.",
     req(span("call", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                     "aws.remote.service": "auth"},
              status={"code": ERROR, "message": "refused"})),
     [sub("auth", parent="S", namespace="remote", fault=True,
          cause={"exceptions": [{"id": "x", "type": "", "message": "refused"}]},
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                         "aws.remote.service": "auth"})),
      doc("web", id="S", parent_id=PID, fault=True,
          cause={"exceptions": [{"id": "x", "type": "", "message": "refused"}]},
          metadata={"default": {}})],
     ignore=["0:parent_id", "1:id", "cause.exceptions.0.id"],
     same_values=[["0:parent_id", "1:id"]])

case("local-root-service-keeps-resource-blocks", "Fields: id / parent_id / type; Fields: Local roots; Fields: aws",
     "The service segment keeps ec2/xray blocks, loses account_id (span/resource) and has "
     "no resource metadata (still a CLIENT with parent when translated).",
     req(span("call", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                     "aws.remote.service": "auth"}),
         resource={"cloud.provider": "aws", "cloud.platform": "aws_ec2", "host.id": "i-1",
                   "cloud.account.id": "123456789012"}),
     [sub("auth", parent="S", namespace="remote", origin="AWS::EC2::Instance",
          aws={"account_id": "123456789012",
               "ec2": {"instance_id": "i-1", "availability_zone": None,
                       "instance_size": None, "ami_id": None},
               "xray": {"auto_instrumentation": False}},
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                         "aws.remote.service": "auth"})),
      doc("web", id="S", parent_id=PID, origin="AWS::EC2::Instance",
          aws={"ec2": {"instance_id": "i-1", "availability_zone": None,
                       "instance_size": None, "ami_id": None},
               "xray": {"auto_instrumentation": False}},
          metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("span-kind-not-local-root", "Fields: id / parent_id / type; Fields: Local roots; Fields: aws.xray.* span attributes",
     "aws.span.kind other than LOCAL_ROOT (\"Consumer\") is a normal span; the attribute "
     "stays in metadata.",
     req(span("recv", kind=CONSUMER, parent=PID, attrs={"aws.span.kind": "Consumer"})),
     [doc("recv", parent_id=PID, metadata=md(**{"aws.span.kind": "Consumer"}))])

case("two-spans-request-order", "Fields: id / parent_id / type; Fields: Local roots",
     "Documents are emitted in request order, one per span.",
     req(span("first"), span("second", kind=INTERNAL, parent=SID, sid=SID2)),
     [doc("first"), sub("second", id=SID2, parent=SID)])

# =====================================================================================
# trace id and timestamps
# =====================================================================================

case("trace-id-example", "Fields: trace_id, start_time / end_time",
     "Trace id 4efaaf4d1e8720b39541901950019ee5 -> 1-4efaaf4d-1e8720b39541901950019ee5.",
     req(span("x", trace="4efaaf4d1e8720b39541901950019ee5")),
     [doc("x", trace_id="1-4efaaf4d-1e8720b39541901950019ee5")])

case("trace-id-uppercase-input", "Fields: trace_id, start_time / end_time",
     "Hex ids are case-insensitive in OTLP/JSON; output is lowercase.",
     req(span("x", trace=TID.upper(), sid=SID.upper())), [doc("x")])

case("time-precision-double", "Fields: trace_id, start_time / end_time",
     "start/end = (double)ns / 1e9: 1700000000250000000 ns -> 1700000000.2499998 (the "
     "int->double conversion loses sub-256ns precision); compared exactly.",
     req(span("x", start=1700000000250000000, end=1700000002750000000)),
     [doc("x", start_time=float(1700000000250000000) / 1e9,
          end_time=float(1700000002750000000) / 1e9)], exact_times=True)

case("time-sub-microsecond", "Fields: trace_id, start_time / end_time",
     "No rounding to ms/us: 1700000000123456789 ns -> (double)ns/1e9.",
     req(span("x", start=1700000000123456789, end=1700000000987654321)),
     [doc("x", start_time=float(1700000000123456789) / 1e9,
          end_time=float(1700000000987654321) / 1e9)], exact_times=True)

VALID_EPOCH_TID = "6553f1000123456789abcdef01234567"  # 0x6553f100 = 1700000000
XVALID = "1-6553f100-0123456789abcdef01234567"
case("timestamp-validation-accepts-recent", "Fields: trace_id, start_time / end_time",
     "With timestamp validation on, a trace id whose first 4 bytes are 100 s old is "
     "accepted.",
     req(span("x", trace=VALID_EPOCH_TID)), [doc("x", trace_id=XVALID)],
     config={"skip_timestamp_validation": False, "now_unix": 1700000100})

case("timestamp-validation-28-days-boundary", "Fields: trace_id, start_time / end_time",
     "delta == 2,419,200 s (exactly 28 days) is still accepted (rejection needs delta > "
     "28 days).",
     req(span("x", trace=VALID_EPOCH_TID)), [doc("x", trace_id=XVALID)],
     config={"skip_timestamp_validation": False, "now_unix": 1700000000 + 2419200})

case("timestamp-validation-too-old", "Fields: trace_id, start_time / end_time",
     "delta > 28 days -> invalid xray traceid, span dropped.",
     req(span("x", trace=VALID_EPOCH_TID)), expected_rejected=1,
     config={"skip_timestamp_validation": False, "now_unix": 1700000000 + 2419201})

case("timestamp-validation-future-skew-ok", "Fields: trace_id, start_time / end_time",
     "A trace id 300 s in the future is accepted (delta >= -300).",
     req(span("x", trace=VALID_EPOCH_TID)), [doc("x", trace_id=XVALID)],
     config={"skip_timestamp_validation": False, "now_unix": 1700000000 - 300})

case("timestamp-validation-future-too-far", "Fields: trace_id, start_time / end_time",
     "delta < -300 (301 s in the future) -> span dropped.",
     req(span("x", trace=VALID_EPOCH_TID)), expected_rejected=1,
     config={"skip_timestamp_validation": False, "now_unix": 1700000000 - 301})

case("timestamp-validation-random-w3c-id", "Fields: trace_id, start_time / end_time",
     "With validation on, a random W3C id (first bytes = 2016) is rejected.",
     req(span("x")), expected_rejected=1,
     config={"skip_timestamp_validation": False, "now_unix": 1700000100})

case("timestamp-validation-off-by-default", "Fields: trace_id, start_time / end_time",
     "The skip gate is on by default: a random W3C trace id is only re-formatted, even "
     "with a far-away now.",
     req(span("x")), [doc("x")], config={"now_unix": 1900000000})

case("timestamp-validation-bad-link", "Fields: trace_id, start_time / end_time; Fields: links",
     "With validation on, one span link with a stale trace id drops the whole span; the "
     "other span of the request is still emitted.",
     req(span("bad", links=[link(TID, SID2)], trace=VALID_EPOCH_TID),
         span("good", trace=VALID_EPOCH_TID, sid=SID2)),
     [doc("good", id=SID2, trace_id=XVALID)], expected_rejected=1,
     config={"skip_timestamp_validation": False, "now_unix": 1700000100})

# =====================================================================================
# naming
# =====================================================================================

case("name-rule1-server-local-service", "Fields: name",
     "Rule 1: SERVER uses aws.local.service, ahead of peer.service and service.name.",
     req(span("GET /", attrs={"aws.local.service": "front", "peer.service": "p"}),
         resource={"service.name": "svc"}),
     [doc("front", metadata={"default": {"aws.local.service": "front", "peer.service": "p",
                                          "otel.resource.service.name": "svc"}})])

case("name-rule2-internal-needs-local-root", "Fields: name",
     "Rule 2 needs aws.span.kind=LOCAL_ROOT: a plain INTERNAL span with aws.local.service "
     "keeps its span name.",
     req(span("tick", kind=INTERNAL, parent=PID, attrs={"aws.local.service": "cron"})),
     [sub("tick", metadata=md(**{"aws.local.service": "cron"}))])

case("name-rule3-client-remote-service", "Fields: name",
     "Rule 3: CLIENT uses aws.remote.service (ahead of peer.service), not trimmed when not "
     "an AWS-SDK span.",
     req(span("call", kind=CLIENT, parent=PID,
              attrs={"aws.remote.service": "AWS::Thing", "peer.service": "p"})),
     [sub("AWS::Thing", namespace="remote",
          metadata=md(**{"aws.remote.service": "AWS::Thing", "peer.service": "p"}))])

case("name-rule3-sdk-prefix-dot", "Fields: name",
     "Rule 3 on an AWS-SDK span (rpc.system=aws-api): a leading AWS.SDK. is stripped.",
     req(span("call", kind=CLIENT, parent=PID,
              attrs={"aws.remote.service": "AWS.SDK.DynamoDb", "rpc.system": "aws-api"})),
     [sub("DynamoDb", namespace="aws",
          metadata=md(**{"aws.remote.service": "AWS.SDK.DynamoDb", "rpc.system": "aws-api"}))])

case("name-rule3-sdk-prefix-colons", "Fields: name",
     "Rule 3 on an AWS-SDK span: a leading AWS:: is stripped.",
     req(span("call", kind=PRODUCER, parent=PID,
              attrs={"aws.remote.service": "AWS::SQS", "rpc.system": "aws-api"})),
     [sub("SQS", namespace="aws",
          metadata=md(**{"aws.remote.service": "AWS::SQS", "rpc.system": "aws-api"}))])

case("name-rule3-not-for-server", "Fields: name",
     "A SERVER span is not named after aws.remote.service.",
     req(span("GET /x", attrs={"aws.remote.service": "other"})),
     [doc("GET /x", metadata=md(**{"aws.remote.service": "other"}))])

case("name-rule4-peer-service", "Fields: name",
     "Rule 4: peer.service for any kind (INTERNAL here).",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"peer.service": "billing"})),
     [sub("billing", metadata=md(**{"peer.service": "billing"}))])

case("name-rule4-peer-beats-aws-service", "Fields: name; Fields: namespace",
     "peer.service comes before aws.service in the name order: a CLIENT with peer.service and aws.service "
     "is named peer.service with namespace remote, not aws.",
     req(span("x", kind=CLIENT, parent=PID,
              attrs={"peer.service": "billing", "aws.service": "S3"})),
     [sub("billing", namespace="remote",
          metadata=md(**{"peer.service": "billing", "aws.service": "S3"}))])

case("name-rule5-aws-service", "Fields: name; Fields: namespace",
     "Rule 5: aws.service names the span and sets namespace aws.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"aws.service": "S3"})),
     [sub("S3", namespace="aws", metadata=md(**{"aws.service": "S3"}))])

case("name-rule6-db-name-jdbc", "Fields: name; Fields: sql",
     "Rule 6: db.name + '@' + host of db.connection_string with jdbc: stripped (port "
     "dropped); the sql block keeps the unstripped string.",
     req(span("SELECT", kind=CLIENT, parent=PID,
              attrs={"db.system": "mysql", "db.name": "customers",
                     "db.connection_string": "jdbc:mysql://db.dev.example.com:3306"})),
     [sub("customers@db.dev.example.com", namespace="remote",
          sql={"url": "SELECT",
               "connection_string": "jdbc:mysql://db.dev.example.com:3306/customers",
               "database_type": "mysql"})])

case("name-rule6-db-name-only", "Fields: name; Fields: sql",
     "Rule 6 without a connection string: the name is db.name.",
     req(span("query", kind=CLIENT, parent=PID,
              attrs={"db.system": "postgresql", "db.name": "orders"})),
     [sub("orders", namespace="remote",
          sql={"url": "query", "connection_string": "localhost/orders",
               "database_type": "postgresql"})])

case("name-rule6-beats-rpc-service", "Fields: name",
     "db.name comes before rpc.service and http.host in the name order; for a non-SQL "
     "db.system nothing is consumed.",
     req(span("get", kind=CLIENT, parent=PID,
              attrs={"db.system": "redis", "db.name": "cache", "rpc.service": "R"})),
     [sub("cache", namespace="remote",
          metadata=md(**{"db.system": "redis", "db.name": "cache", "rpc.service": "R"}))])

case("name-rule7-server-service-name", "Fields: name",
     "Rule 7: a SERVER span without better attributes is named after resource service.name.",
     req(span("GET /users"), resource={"service.name": "users-api"}),
     [doc("users-api", metadata=md(**{"otel.resource.service.name": "users-api"}))])

case("name-rule7-not-for-client", "Fields: name",
     "A CLIENT span is never named after the local service.name.",
     req(span("GET", kind=CLIENT, parent=PID), resource={"service.name": "users-api"}),
     [sub("GET", namespace="remote")])

case("name-rule8-rpc-service", "Fields: name",
     "Rule 8: rpc.service (rpc.method goes to aws.operation).",
     req(span("grpc", kind=CLIENT, parent=PID,
              attrs={"rpc.service": "helloworld.Greeter", "rpc.method": "SayHello"})),
     [sub("helloworld.Greeter", namespace="remote",
          aws={"operation": "SayHello", "xray": {"auto_instrumentation": False}},
          metadata=md(**{"rpc.service": "helloworld.Greeter"}))])

case("name-rule9-http-host", "Fields: name; Fields: http",
     "Rule 9: http.host names the span (rpc.service absent).",
     req(span("GET", kind=CLIENT, parent=PID,
              attrs={"http.method": "GET", "http.host": "api.example.com"})),
     [sub("api.example.com", namespace="remote",
          http={"request": {"method": "GET", "url": "http://api.example.com/"},
                "response": {"content_length": 0}})])

case("name-rule10-net-peer-name", "Fields: name; Fields: http",
     "Rule 10: net.peer.name; alone it creates no http block but is consumed.",
     req(span("connect", kind=CLIENT, parent=PID, attrs={"net.peer.name": "db-host"})),
     [sub("db-host", namespace="remote")])

case("name-http-url-not-used", "Fields: name; Fields: http",
     "http.url, url.full and server.address are never used for naming: the span name "
     "is used.",
     req(span("HTTP GET", kind=CLIENT, parent=PID,
              attrs={"http.method": "GET", "http.url": "https://a.example.com/x"})),
     [sub("HTTP GET", namespace="remote",
          http={"request": {"method": "GET", "url": "https://a.example.com/x"},
                "response": {"content_length": 0}})])

case("name-new-semconv-client-falls-back", "Fields: name; Fields: http",
     "A new-semconv HTTP client span with only url.full/server.address falls back to its "
     "span name.",
     req(span("GET", kind=CLIENT, parent=PID,
              attrs={"http.request.method": "GET", "url.full": "https://b.example.com/y",
                     "server.address": "b.example.com"})),
     [sub("GET", namespace="remote",
          http={"request": {"method": "GET", "url": "https://b.example.com/y"},
                "response": {"content_length": 0}})])

case("name-sanitise-keeps-allowed", "Fields: name",
     "Sanitising keeps space, digits, letters (incl. non-ASCII) and _.:/%&#=+-@: "
     "\"EP @ test_15.testing-d\\u00F6main.org#GO\" is unchanged.",
     req(span("EP @ test_15.testing-d\u00f6main.org#GO")),
     [doc("EP @ test_15.testing-d\u00f6main.org#GO")])

case("name-sanitise-removes-comma", "Fields: name",
     "\"<subDomain>.example.com,1413\" -> \"subDomain.example.com1413\" (comma and <> "
     "removed).",
     req(span("<subDomain>.example.com,1413")), [doc("subDomain.example.com1413")])

case("name-sanitise-empty-becomes-span", "Fields: name",
     "A span name that sanitises to nothing becomes \"span\".",
     req(span("<>")), [doc("span")])

case("name-sanitise-empty-name", "Fields: name",
     "An empty span name becomes \"span\".",
     req(span("")), [doc("span")])

case("name-sanitise-backslash-punct", "Fields: name",
     "Backslash, quotes, parentheses, !, ?, *, ; are removed; % & # = + kept.",
     req(span("a\\b\"c(d)!e?f*g;h%i&j#k=l+m")), [doc("abcdefgh%i&j#k=l+m")])

case("name-truncate-200-bytes", "Fields: name",
     "A sanitised span name longer than 200 bytes is cut to 200 bytes.",
     req(span("n" * 250)), [doc("n" * 200)])

case("name-truncate-multibyte-boundary", "Fields: name; Deliberate differences",
     "199 ASCII bytes + a 2-byte letter: upstream cuts at 200 bytes, splitting the "
     "character; xraybridge guarantees valid UTF-8, so the cut must not leave half a "
     "character (expected: the 199 ASCII bytes).",
     req(span("a" * 199 + "\u00e9tail")), [doc("a" * 199)])

case("name-truncate-multibyte-exact", "Fields: name",
     "Multi-byte letters: 100 two-byte characters are exactly 200 bytes and kept whole; "
     "101 are cut to 100.",
     req(span("\u00e9" * 101)), [doc("\u00e9" * 100)])

case("name-from-attribute-not-sanitised", "Fields: name",
     "Names from rules 1-10 are not sanitised: peer.service \"<b>,x\" stays as is.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"peer.service": "<b>,x"})),
     [sub("<b>,x", metadata=md(**{"peer.service": "<b>,x"}))])

case("name-from-attribute-not-truncated", "Fields: name",
     "Names from rules 1-10 are not truncated: a 300-byte aws.local.service is kept.",
     req(span("x", attrs={"aws.local.service": "s" * 300})),
     [doc("s" * 300, metadata=md(**{"aws.local.service": "s" * 300}))])

# =====================================================================================
# namespace
# =====================================================================================

case("namespace-aws-api-server", "Fields: namespace",
     "rpc.system=aws-api sets namespace aws for any kind, even a SERVER segment.",
     req(span("op", attrs={"rpc.system": "aws-api"})),
     [doc("op", namespace="aws", metadata=md(**{"rpc.system": "aws-api"}))])

case("namespace-internal-absent", "Fields: namespace",
     "INTERNAL subsegment without hints: namespace absent.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"k": "v"})),
     [sub("x", metadata=md(k="v"))])

case("namespace-server-aws-service", "Fields: namespace",
     "A SERVER span named from aws.service gets namespace aws.",
     req(span("x", attrs={"aws.service": "Lambda"})),
     [doc("Lambda", namespace="aws", metadata=md(**{"aws.service": "Lambda"}))])

case("namespace-rpc-system-grpc", "Fields: namespace",
     "rpc.system other than aws-api does not set a namespace (INTERNAL).",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"rpc.system": "grpc"})),
     [sub("x", metadata=md(**{"rpc.system": "grpc"}))])

# =====================================================================================
# error / fault / throttle
# =====================================================================================

def http_resp(status):
    return {"request": {}, "response": {"status": status, "content_length": 0}}


case("status-error-no-http", "Fields: fault / error / throttle",
     "Status ERROR without HTTP code and without message: fault=true, no cause.",
     req(span("x", status={"code": ERROR})), [doc("x", fault=True)])

case("status-ok-no-fault", "Fields: fault / error / throttle",
     "Status OK: all flags false.",
     req(span("x", status={"code": OK})), [doc("x")])

case("http-200-status-error", "Fields: fault / error / throttle",
     "Code 200 (< 400) with status ERROR -> fault from the status.",
     req(span("x", attrs={"http.status_code": 200}, status={"code": ERROR})),
     [doc("x", http=http_resp(200), fault=True)])

case("http-404-error-only", "Fields: fault / error / throttle",
     "404 with status ERROR -> error only, fault false.",
     req(span("x", attrs={"http.status_code": 404}, status={"code": ERROR})),
     [doc("x", http=http_resp(404), error=True)])

case("http-400-unset", "Fields: fault / error / throttle",
     "400 with UNSET status -> error true.",
     req(span("x", attrs={"http.status_code": 400})), [doc("x", http=http_resp(400), error=True)])

case("http-429-throttle", "Fields: fault / error / throttle",
     "429 -> error and throttle.",
     req(span("x", attrs={"http.status_code": 429})),
     [doc("x", http=http_resp(429), error=True, throttle=True)])

case("http-500-unset-fault", "Fields: fault / error / throttle",
     "500 with UNSET status is a fault.",
     req(span("x", attrs={"http.status_code": 500})), [doc("x", http=http_resp(500), fault=True)])

case("http-new-key-503", "Fields: fault / error / throttle; Fields: http",
     "New semconv http.response.status_code 503 -> fault.",
     req(span("x", attrs={"http.response.status_code": 503})),
     [doc("x", http=http_resp(503), fault=True)])

case("http-new-key-429", "Fields: fault / error / throttle; Fields: http",
     "New semconv http.response.status_code 429 -> error + throttle.",
     req(span("x", attrs={"http.response.status_code": 429})),
     [doc("x", http=http_resp(429), error=True, throttle=True)])

case("http-599-fault-600-not", "Fields: fault / error / throttle",
     "Code 600 is outside 400-599: with status UNSET nothing is set.",
     req(span("x", attrs={"http.status_code": 600})), [doc("x", http=http_resp(600))])

case("http-600-status-error", "Fields: fault / error / throttle",
     "Code 600 with status ERROR -> fault from status.",
     req(span("x", attrs={"http.status_code": 600}, status={"code": ERROR})),
     [doc("x", http=http_resp(600), fault=True)])

case("http-399-status-ok", "Fields: fault / error / throttle",
     "399 with status OK -> nothing.",
     req(span("x", attrs={"http.status_code": 399}, status={"code": OK})),
     [doc("x", http=http_resp(399))])

case("http-status-string-reads-zero", "Fields: fault / error / throttle; Fields: http",
     "A string-typed http.status_code reads as integer 0: not a fault, response.status 0.",
     req(span("x", attrs={"http.status_code": "500"})), [doc("x", http=http_resp(0))])

case("status-error-message-cause", "Fields: fault / error / throttle; Fields: cause",
     "Status ERROR with a message (no exception events): cause with one exception "
     "{id, type \"\", message} and no remote key.",
     req(span("x", status={"code": ERROR, "message": "upstream timeout"})),
     [doc("x", fault=True,
          cause={"exceptions": [{"id": "x", "type": "", "message": "upstream timeout"}]})],
     ignore=["cause.exceptions.0.id"])

case("status-error-status-text", "Fields: fault / error / throttle; Fields: cause",
     "Status ERROR with empty message: message from http.status_text, which is then "
     "removed from metadata.",
     req(span("x", attrs={"http.status_text": "Bad Gateway", "k": "v"},
              status={"code": ERROR})),
     [doc("x", fault=True,
          cause={"exceptions": [{"id": "x", "type": "", "message": "Bad Gateway"}]},
          metadata=md(k="v"))],
     ignore=["cause.exceptions.0.id"])

case("status-ok-status-text-kept", "Fields: cause",
     "Without status ERROR, http.status_text is not consumed: it stays in metadata.",
     req(span("x", attrs={"http.status_text": "OK"})),
     [doc("x", metadata=md(**{"http.status_text": "OK"}))])

case("status-error-client-no-remote", "Fields: cause",
     "The status-message cause has no remote key even on a CLIENT span.",
     req(span("x", kind=CLIENT, parent=PID, status={"code": ERROR, "message": "reset"})),
     [sub("x", namespace="remote", fault=True,
          cause={"exceptions": [{"id": "x", "type": "", "message": "reset"}]})],
     ignore=["cause.exceptions.0.id"])

# =====================================================================================
# cause from exception events
# =====================================================================================

case("exception-event-server", "Fields: cause",
     "An exception event makes a cause even with UNSET status; remote=false for SERVER; "
     "no stack without telemetry.sdk.language; flags unaffected.",
     req(span("x", events=[exc_event("java.lang.Error", "bad", "trace")])),
     [doc("x", cause={"exceptions": [{"id": "x", "type": "java.lang.Error",
                                       "message": "bad", "remote": False}]})],
     ignore=["cause.exceptions.0.id"])

case("exception-event-client-remote", "Fields: cause",
     "Exception on a CLIENT span: remote=true.",
     req(span("x", kind=CLIENT, parent=PID, events=[exc_event("E", "m")])),
     [sub("x", namespace="remote",
          cause={"exceptions": [{"id": "x", "type": "E", "message": "m", "remote": True}]})],
     ignore=["cause.exceptions.0.id"])

case("exception-event-producer-remote", "Fields: cause; Upstream changes: v0.141 PRODUCER",
     "Exception on a PRODUCER span: remote=true (namespace remote since v0.141).",
     req(span("x", kind=PRODUCER, parent=PID, events=[exc_event("E", "m")])),
     [sub("x", namespace="remote",
          cause={"exceptions": [{"id": "x", "type": "E", "message": "m", "remote": True}]})],
     ignore=["cause.exceptions.0.id"])

case("exception-event-consumer-not-remote", "Fields: cause; Upstream changes: v0.141 CONSUMER",
     "Exception on a CONSUMER span: remote=false (a segment since v0.141).",
     req(span("x", kind=CONSUMER, parent=PID, events=[exc_event("E", "m")])),
     [doc("x", parent_id=PID,
          cause={"exceptions": [{"id": "x", "type": "E", "message": "m", "remote": False}]})],
     ignore=["cause.exceptions.0.id"])

case("exception-event-ignores-status-message", "Fields: cause",
     "With exception events, the status message is ignored; status ERROR still faults.",
     req(span("x", events=[exc_event("E", "from event")],
              status={"code": ERROR, "message": "from status"})),
     [doc("x", fault=True, cause={"exceptions": [{"id": "x", "type": "E",
                                                   "message": "from event",
                                                   "remote": False}]})],
     ignore=["cause.exceptions.0.id"])

case("exception-events-in-order", "Fields: cause",
     "Two exception events -> two entries, in event order; a non-exception event is "
     "ignored.",
     req(span("x", events=[exc_event("E1", "first"), event("log", {"a": "b"}),
                           exc_event("E2", "second")])),
     [doc("x", cause={"exceptions": [
         {"id": "x", "type": "E1", "message": "first", "remote": False},
         {"id": "x", "type": "E2", "message": "second", "remote": False}]})],
     ignore=["cause.exceptions.0.id", "cause.exceptions.1.id"])

case("exception-event-empty-type-message", "Fields: cause",
     "type and message are written even when empty (attributes missing).",
     req(span("x", events=[exc_event()])),
     [doc("x", cause={"exceptions": [{"id": "x", "type": "", "message": "",
                                       "remote": False}]})],
     ignore=["cause.exceptions.0.id"])

case("non-exception-event-no-cause", "Fields: cause",
     "Only events named exception count: a \"log\" event gives no cause.",
     req(span("x", events=[event("log", {"exception.type": "E"})])), [doc("x")])

case("http-request-failure-aws-sdk", "Fields: cause",
     "AWS-SDK span with an \"HTTP request failure\" event carrying both "
     "http.response.status_code and aws.http.error_message -> exception "
     "type aws.http.error.event, remote true, message <code>@<time, 6 decimals>@<msg>.",
     req(span("DynamoDB.GetItem", kind=CLIENT, parent=PID,
              attrs={"rpc.system": "aws-api"},
              events=[event("HTTP request failure",
                            {"http.response.status_code": 503,
                             "aws.http.error_message": "service is temporarily unavailable"},
                            t=1696954761000001000)])),
     [sub("DynamoDB.GetItem", namespace="aws",
          cause={"exceptions": [{"id": "x", "type": "aws.http.error.event", "remote": True,
                                 "message": "503@1696954761.000001@service is temporarily "
                                            "unavailable"}]},
          metadata=md(**{"rpc.system": "aws-api"}))],
     ignore=["cause.exceptions.0.id"])

case("http-request-failure-not-aws-sdk", "Fields: cause",
     "\"HTTP request failure\" events count only for AWS-SDK spans: no cause otherwise.",
     req(span("x", kind=CLIENT, parent=PID,
              events=[event("HTTP request failure",
                            {"http.response.status_code": 503,
                             "aws.http.error_message": "down"})])),
     [sub("x", namespace="remote")])

case("exception-id-format", "Fields: cause",
     "Exception ids are 16 lowercase hex characters (random, so only the type is checked "
     "structurally; presence via ignore).",
     req(span("x", events=[exc_event("E", "m")])),
     [doc("x", cause={"exceptions": [{"id": "x", "type": "E", "message": "m",
                                       "remote": False}]})],
     ignore=["cause.exceptions.0.id"])

# =====================================================================================
# stack traces
# =====================================================================================

def lang_case(slug, lang, etype, msg, stack, exceptions, description, ignore_extra=(),
              same=None):
    ex_ids = ["cause.exceptions.%d.id" % i for i in range(len(exceptions))]
    ex_causes = ["cause.exceptions.%d.cause" % i for i in range(len(exceptions))
                 if "cause" in exceptions[i]]
    extra = {}
    if same:
        extra["same_values"] = same
    case(slug, "Fields: cause (stack traces)", description,
         req(span("x", kind=INTERNAL, parent=PID, events=[exc_event(etype, msg, stack)]),
             resource={"telemetry.sdk.language": lang}),
         [sub("x", cause={"exceptions": exceptions})],
         ignore=ex_ids + ex_causes + list(ignore_extra), **extra)


def fr(path, line, label):
    return {"path": path, "line": line, "label": label}


JAVA = ("java.lang.IllegalStateException: boom\n"
        "\tat com.example.Foo.bar(Foo.java:42)\n"
        "\tat java.base/java.lang.Thread.run(Thread.java:829)\n"
        "\tat sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n"
        "\t... 5 more\n")
lang_case("java-frames", "java", "java.lang.IllegalStateException", "boom", JAVA,
          [{"id": "x", "type": "java.lang.IllegalStateException", "message": "boom",
            "remote": False,
            "stack": [fr("Foo.java", 42, "com.example.Foo.bar"),
                      fr("Thread.java", 829, "java.lang.Thread.run"),
                      fr("Native Method", 0, "sun.reflect.NativeMethodAccessorImpl.invoke0")]}],
          "Java: first line skipped, '\\tat label(path:line)' frames, module prefix up to "
          "'/' removed, Native Method -> path with line 0, '... N more' skipped.")

JAVA_CAUSED = ("java.lang.RuntimeException: outer\n"
               "\tat a.B.c(B.java:10)\n"
               "Caused by: java.io.IOException: disk full\n"
               "\tat d.E.f(E.java:20)\n"
               "\t... 1 more\n")
lang_case("java-caused-by", "java", "java.lang.RuntimeException", "outer", JAVA_CAUSED,
          [{"id": "x", "type": "java.lang.RuntimeException", "message": "outer",
            "remote": False, "cause": "y", "stack": [fr("B.java", 10, "a.B.c")]},
           {"id": "y", "type": "java.io.IOException", "message": "disk full", "remote": False,
            "stack": [fr("E.java", 20, "d.E.f")]}],
          "Java 'Caused by: T: msg' starts a chained exception; previous.cause = new.id; "
          "chained entries inherit remote.",
          same=[["0:cause.exceptions.0.cause", "0:cause.exceptions.1.id"]])

JAVA_CHAIN3 = ("x.A: a\n"
               "\tat p.A.a(A.java:1)\n"
               "Caused by: x.B: b\n"
               "\tat p.B.b(B.java:2)\n"
               "Caused by: x.C\n"
               "\tat p.C.c(C.java:3)\n")
lang_case("java-caused-by-chain", "java", "x.A", "a", JAVA_CHAIN3,
          [{"id": "x", "type": "x.A", "message": "a", "remote": False, "cause": "y",
            "stack": [fr("A.java", 1, "p.A.a")]},
           {"id": "y", "type": "x.B", "message": "b", "remote": False, "cause": "z",
            "stack": [fr("B.java", 2, "p.B.b")]},
           {"id": "z", "type": "x.C", "message": "", "remote": False,
            "stack": [fr("C.java", 3, "p.C.c")]}],
          "Multiple 'Caused by:' chain A->B->C; a cause line without colon has message \"\".",
          same=[["0:cause.exceptions.0.cause", "0:cause.exceptions.1.id"],
                ["0:cause.exceptions.1.cause", "0:cause.exceptions.2.id"]])

JAVA_ODD = ("x.A: a\n"
            "\tat p.A.a(A.java:abc)\n"
            "\tat p.A.broken(A.java:3\n"
            "Caused by: x.B: first\n"
            "second line\n"
            "\tat p.B.b(B.java:7)\n"
            "\tSuppressed: x.S: s\n"
            "\t\tat p.S.s(S.java:9)\n")
lang_case("java-odd-lines", "java", "x.A", "a", JAVA_ODD,
          [{"id": "x", "type": "x.A", "message": "a", "remote": False, "cause": "y",
            "stack": [fr("A.java", 0, "p.A.a")]},
           {"id": "y", "type": "x.B", "message": "firstsecond line", "remote": False,
            "stack": [fr("B.java", 7, "p.B.b")]}],
          "Java: non-numeric line -> 0; a frame without ')' is skipped; non-frame lines after "
          "'Caused by:' are appended to its message without separator; Suppressed: and "
          "double-tab frames are skipped.",
          same=[["0:cause.exceptions.0.cause", "0:cause.exceptions.1.id"]])

lang_case("php-uses-java-parser", "php", "Exception", "oops",
          "Exception: oops\n\tat App.Controller.index(Controller.php:12)\n",
          [{"id": "x", "type": "Exception", "message": "oops", "remote": False,
            "stack": [fr("Controller.php", 12, "App.Controller.index")]}],
          "telemetry.sdk.language php uses the Java parser.")

PY = ('Traceback (most recent call last):\n'
      '  File "/app/main.py", line 10, in <module>\n'
      '    main()\n'
      '  File "/app/lib.py", line 5, in main\n'
      '    raise ValueError("bad")\n'
      'ValueError: bad')
lang_case("python-frames", "python", "ValueError", "bad", PY,
          [{"id": "x", "type": "ValueError", "message": "bad", "remote": False,
            "stack": [fr("/app/lib.py", 5, "main"), fr("/app/main.py", 10, "<module>")]}],
          "Python: read bottom-up, innermost frame first; path from File \"...\", line N, "
          "label from 'in X'.")

PY_CHAIN = ('Traceback (most recent call last):\n'
            '  File "/app/a.py", line 3, in f\n'
            '    x = d["k"]\n'
            "KeyError: 'k'\n"
            '\n'
            'During handling of the above exception, another exception occurred:\n'
            '\n'
            'Traceback (most recent call last):\n'
            '  File "/app/b.py", line 7, in g\n'
            '    f()\n'
            'ValueError: wrapped')
lang_case("python-during-handling", "python", "ValueError", "wrapped", PY_CHAIN,
          [{"id": "x", "type": "ValueError", "message": "wrapped", "remote": False,
            "cause": "y", "stack": [fr("/app/b.py", 7, "g")]},
           {"id": "y", "type": "KeyError", "message": "'k'", "remote": False,
            "stack": [fr("/app/a.py", 3, "f")]}],
          "Python 'During handling of the above exception' starts a chained exception whose "
          "type/message come from the text line under the earlier frame.",
          same=[["0:cause.exceptions.0.cause", "0:cause.exceptions.1.id"]])

JS = ("Error: boom\n"
      "    at speedy (/app/index.js:10:5)\n"
      "    at /app/lib.js:20:7\n"
      "    at Array.forEach (native)\n"
      "    at new Foo (/app/foo.js:3:1)")
lang_case("javascript-frames", "javascript", "Error", "boom", JS,
          [{"id": "x", "type": "Error", "message": "boom", "remote": False,
            "stack": [fr("/app/index.js", 10, "speedy "), fr("/app/lib.js", 20, ""),
                      fr("native", 0, "Array.forEach "), fr("/app/foo.js", 3, "new Foo ")]}],
          "JavaScript: label keeps the trailing space before '('; without parens label is "
          "\"\"; a location without colon containing 'native' -> path native.")

JS_ODD = ("TypeError: x\n"
          "    at one (file.js:12)\n"
          "    at broken (oops\n"
          "    at two (/b.js:4:2)")
lang_case("javascript-odd-lines", "javascript", "TypeError", "x", JS_ODD,
          [{"id": "x", "type": "TypeError", "message": "x", "remote": False,
            "stack": [fr("file.js:12", 0, "one "), fr("/b.js", 4, "two ")]}],
          "JavaScript: a location with a single colon stays whole as path with line 0; '(' "
          "without closing ')' gives an all-default frame, which is dropped.")

DOTNET = ("System.InvalidOperationException: boom\r\n"
          "   at MyApp.Service.Run(String arg) in C:\\src\\Service.cs:line 42\r\n"
          "   at MyApp.Program.Main(String[] args)\r\n"
          "   --- End of inner exception stack trace ---\r\n"
          "   at Other.Thing()")
lang_case("dotnet-frames", "dotnet", "System.InvalidOperationException", "boom", DOTNET,
          [{"id": "x", "type": "System.InvalidOperationException", "message": "boom",
            "remote": False,
            "stack": [fr("C:\\src\\Service.cs", 42, "MyApp.Service.Run(String arg)"),
                      fr("", 0, "MyApp.Program.Main(String[] args)"),
                      fr("", 0, "Other.Thing()")]}],
          ".NET: CRLF ok, lines trimmed; 'at X in path:line N' splits at the last colon and "
          "drops 'line '; without ' in ' label is up to the last ')', path \"\"; '--- End of "
          "inner exception' skipped; no chaining.")

GO = ("goroutine 1 [running]:\n"
      "main.handler(0x1, 0x2)\n"
      "\t/app/main.go:42 +0x1d\n"
      "net/http.HandlerFunc.ServeHTTP(...)\n"
      "\t/usr/local/go/src/net/http/server.go:2136 +0x29")
lang_case("go-frames", "go", "*errors.errorString", "boom", GO,
          [{"id": "x", "type": "*errors.errorString", "message": "boom", "remote": False,
            "stack": [fr("/app/main.go", 42, "main.handler(0x1, 0x2)"),
                      fr("/usr/local/go/src/net/http/server.go", 2136,
                         "net/http.HandlerFunc.ServeHTTP(...)")]}],
          "Go: the first goroutine line is skipped; each function line is the label and the "
          "next line's path:number gives path and line.")

lang_case("ruby-no-parser", "ruby", "RuntimeError", "boom",
          "app.rb:3:in `foo': boom (RuntimeError)\n\tfrom app.rb:7:in `<main>'",
          [{"id": "x", "type": "RuntimeError", "message": "boom", "remote": False}],
          "Ruby has no parser upstream: no stack, type/message from the event.")

lang_case("unknown-language-no-stack", "cobol", "E", "m", "E: m\n\tat a.b(C.java:1)",
          [{"id": "x", "type": "E", "message": "m", "remote": False}],
          "An unknown telemetry.sdk.language gives no stack even for a Java-looking trace.")

lang_case("java-empty-stacktrace", "java", "E", "m", "",
          [{"id": "x", "type": "E", "message": "m", "remote": False}],
          "An empty stack trace gives no stack key.")

lang_case("java-type-from-event-not-trace", "java", "from.Event", "event message",
          "from.Trace: trace message\n\tat a.b(C.java:5)",
          [{"id": "x", "type": "from.Event", "message": "event message", "remote": False,
            "stack": [fr("C.java", 5, "a.b")]}],
          "type/message always come from the event attributes, not the trace's first line.")

case("missing-language-no-stack", "Fields: cause (stack traces)",
     "No telemetry.sdk.language at all: no stack.",
     req(span("x", kind=INTERNAL, parent=PID,
              events=[exc_event("E", "m", "E: m\n\tat a.b(C.java:1)")])),
     [sub("x", cause={"exceptions": [{"id": "x", "type": "E", "message": "m",
                                       "remote": False}]})],
     ignore=["cause.exceptions.0.id"])

# =====================================================================================
# http
# =====================================================================================

case("http-old-server-full", "Fields: http",
     "Old semconv SERVER: method, url from scheme+http.host+http.target (no port: host from "
     "http.host), user_agent, client_ip with x_forwarded_for=true, status; all consumed.",
     req(span("GET /users", attrs={
         "http.method": "GET", "http.scheme": "https", "http.host": "api.example.com",
         "http.target": "/users?id=1", "http.user_agent": "curl/8.0",
         "http.client_ip": "203.0.113.9", "http.status_code": 200})),
     [doc("api.example.com", http={
         "request": {"method": "GET", "url": "https://api.example.com/users?id=1",
                     "user_agent": "curl/8.0", "client_ip": "203.0.113.9",
                     "x_forwarded_for": True},
         "response": {"status": 200, "content_length": 0}})])

case("http-old-server-name-port", "Fields: http",
     "SERVER host from http.server_name: net.host.port is appended; scheme defaults to http.",
     req(span("GET", attrs={"http.method": "GET", "http.server_name": "srv.local",
                            "net.host.port": 8080, "http.target": "/x"})),
     [doc("GET", http={"request": {"method": "GET", "url": "http://srv.local:8080/x"},
                       "response": {"content_length": 0}})])

case("http-old-server-default-port-omitted", "Fields: http",
     "Port 80 with scheme http is not written (host from net.host.name).",
     req(span("GET", attrs={"http.method": "GET", "net.host.name": "h.example",
                            "net.host.port": 80, "http.target": "/"})),
     [doc("GET", http={"request": {"method": "GET", "url": "http://h.example/"},
                       "response": {"content_length": 0}})])

case("http-https-443-omitted", "Fields: http",
     "Port 443 with scheme https is not written (host from host.name).",
     req(span("GET", attrs={"http.method": "GET", "http.scheme": "https",
                            "host.name": "h.example", "net.host.port": 443,
                            "http.target": "/a"})),
     [doc("GET", http={"request": {"method": "GET", "url": "https://h.example/a"},
                       "response": {"content_length": 0}})])

case("http-http-host-port-ignored", "Fields: http",
     "When the host comes from http.host, net.host.port is not appended.",
     req(span("GET", attrs={"http.method": "GET", "http.host": "h.example:9000",
                            "net.host.port": 9000, "http.target": "/b"})),
     [doc("h.example:9000",
          http={"request": {"method": "GET", "url": "http://h.example:9000/b"},
                "response": {"content_length": 0}})])

case("http-net-peer-ip-fills-client-ip", "Fields: http",
     "net.peer.ip fills client_ip; x_forwarded_for absent because net.peer.ip is present.",
     req(span("GET", attrs={"http.method": "GET", "http.host": "h.example",
                            "http.target": "/a", "net.peer.ip": "10.0.0.1"})),
     [doc("h.example", http={"request": {"method": "GET", "url": "http://h.example/a",
                                         "client_ip": "10.0.0.1"},
                             "response": {"content_length": 0}})])

case("http-client-ip-overwrites-peer-ip", "Fields: http",
     "http.client_ip wins over net.peer.ip; x_forwarded_for absent (net.peer.ip present).",
     req(span("GET", attrs={"http.method": "GET", "http.host": "h.example",
                            "http.client_ip": "198.51.100.1", "net.peer.ip": "10.0.0.1"})),
     [doc("h.example", http={"request": {"method": "GET", "url": "http://h.example/",
                                         "client_ip": "198.51.100.1"},
                             "response": {"content_length": 0}})])

case("http-old-client-url-verbatim", "Fields: http",
     "CLIENT with http.url: the full URL is used verbatim.",
     req(span("HTTP GET", kind=CLIENT, parent=PID, attrs={
         "http.method": "GET", "http.url": "https://api.example.com:8443/v1/items?x=1",
         "http.status_code": 201})),
     [sub("HTTP GET", namespace="remote",
          http={"request": {"method": "GET",
                            "url": "https://api.example.com:8443/v1/items?x=1"},
                "response": {"status": 201, "content_length": 0}})])

case("http-old-client-peer-name-port", "Fields: http",
     "CLIENT host from net.peer.name, port from net.peer.port (as a string), path from "
     "http.target.",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.method": "GET", "http.scheme": "https", "net.peer.name": "backend",
         "net.peer.port": "8443", "http.target": "/p"})),
     [sub("backend", namespace="remote",
          http={"request": {"method": "GET", "url": "https://backend:8443/p"},
                "response": {"content_length": 0}})])

case("http-client-ipv6-not-bracketed", "Fields: http",
     "CLIENT host from net.peer.ip: IPv6 is not bracketed; net.peer.ip also fills "
     "client_ip (no x_forwarded_for).",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.method": "GET", "http.scheme": "https",
         "net.peer.ip": "2001:db8:85a3::8a2e:370:7334", "http.target": "/users/junit"})),
     [sub("GET", namespace="remote",
          http={"request": {"method": "GET",
                            "url": "https://2001:db8:85a3::8a2e:370:7334/users/junit",
                            "client_ip": "2001:db8:85a3::8a2e:370:7334"},
                "response": {"content_length": 0}})])

case("http-new-server-full", "Fields: http",
     "New semconv SERVER: host from server.address with server.port appended, url.path "
     "plus '?' + url.query (current code), client.address -> client_ip with "
     "x_forwarded_for, user_agent.original.",
     req(span("POST /orders", attrs={
         "http.request.method": "POST", "url.scheme": "https",
         "server.address": "api.example.com", "server.port": 8443, "url.path": "/orders",
         "url.query": "id=5", "client.address": "198.51.100.7",
         "user_agent.original": "Mozilla/5.0", "http.response.status_code": 201})),
     [doc("POST /orders", http={
         "request": {"method": "POST", "url": "https://api.example.com:8443/orders?id=5",
                     "client_ip": "198.51.100.7", "user_agent": "Mozilla/5.0",
                     "x_forwarded_for": True},
         "response": {"status": 201, "content_length": 0}})])

case("http-new-query-with-question-mark", "Fields: http",
     "url.query that already starts with '?' is appended as is; url.path missing -> '/'.",
     req(span("GET", attrs={"http.request.method": "GET", "server.address": "h.example",
                            "url.query": "?a=1"})),
     [doc("GET", http={"request": {"method": "GET", "url": "http://h.example/?a=1"},
                       "response": {"content_length": 0}})])

case("http-new-client-url-full", "Fields: http",
     "New semconv CLIENT: url.full verbatim, 404 -> error.",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.request.method": "GET", "url.full": "https://s.example.com/a/b?c=d",
         "http.response.status_code": 404})),
     [sub("GET", namespace="remote", error=True,
          http={"request": {"method": "GET", "url": "https://s.example.com/a/b?c=d"},
                "response": {"status": 404, "content_length": 0}})])

case("http-client-address-not-ip", "Fields: http",
     "client.address that is not an IP is consumed but not used; no host-ish key -> no "
     "url.",
     req(span("GET", attrs={"http.request.method": "GET", "client.address": "example.com"})),
     [doc("GET", http={"request": {"method": "GET"}, "response": {"content_length": 0}})])

case("http-network-peer-address-fills", "Fields: http",
     "network.peer.address (an IP) fills client_ip and is host-ish for the url check; "
     "x_forwarded_for absent.",
     req(span("GET", attrs={"http.request.method": "GET", "server.address": "h.example",
                            "network.peer.address": "192.0.2.5"})),
     [doc("GET", http={"request": {"method": "GET", "url": "http://h.example/",
                                   "client_ip": "192.0.2.5"},
                       "response": {"content_length": 0}})])

case("http-no-block-from-address-keys", "Fields: http",
     "server.address/server.port/client.address alone create no http block, and are "
     "consumed (not in metadata).",
     req(span("op", attrs={"server.address": "h.example", "server.port": 8080,
                           "client.address": "192.0.2.1", "k": "v"})),
     [doc("op", metadata=md(k="v"))])

case("http-status-only-empty-request", "Fields: http",
     "A status code alone creates the block: request is {} and url absent.",
     req(span("x", kind=CLIENT, parent=PID, attrs={"http.status_code": 204})),
     [sub("x", namespace="remote", http=http_resp(204))])

case("http-content-length-from-event", "Fields: http",
     "response.content_length from an event with message.type=RECEIVED and "
     "messaging.message_payload_size_bytes.",
     req(span("GET", attrs={"http.method": "GET"},
              events=[event("message", {"message.type": "RECEIVED",
                                        "messaging.message_payload_size_bytes": 1234})])),
     [doc("GET", http={"request": {"method": "GET"},
                       "response": {"content_length": 1234}})])

case("http-content-length-sent-ignored", "Fields: http",
     "A SENT message event does not set content_length (stays 0).",
     req(span("GET", attrs={"http.method": "GET"},
              events=[event("message", {"message.type": "SENT",
                                        "messaging.message_payload_size_bytes": 99})])),
     [doc("GET", http={"request": {"method": "GET"}, "response": {"content_length": 0}})])

case("http-user-agent-only", "Fields: http",
     "user agent alone creates the block.",
     req(span("x", attrs={"http.user_agent": "ua/1"})),
     [doc("x", http={"request": {"user_agent": "ua/1"}, "response": {"content_length": 0}})])

# =====================================================================================
# aws block
# =====================================================================================

def isub(resource=None, attrs=None, **kw):
    """An INTERNAL subsegment (no resource metadata) with the given resource."""
    return req(span("x", kind=INTERNAL, parent=PID, attrs=attrs), resource=resource)


def xray(**kw):
    d = {"auto_instrumentation": False}
    d.update(kw)
    return d


case("aws-non-aws-provider", "Fields: aws; Fields: origin",
     "cloud.provider=gcp: no aws block at all and no origin; span aws.* keys still "
     "consumed.",
     isub({"cloud.provider": "gcp", "cloud.platform": "gcp_compute_engine"},
          {"aws.operation": "Get", "aws.region": "x", "k": "v"}),
     [sub("x", aws=None, metadata=md(k="v"))])

case("aws-operation-rpc-method", "Fields: aws",
     "operation from rpc.method when aws.operation is missing (any span).",
     isub(None, {"rpc.method": "Describe"}),
     [sub("x", aws={"operation": "Describe", "xray": xray()})])

case("aws-operation-wins", "Fields: aws",
     "aws.operation wins over rpc.method; both consumed.",
     isub(None, {"aws.operation": "PutItem", "rpc.method": "Other"}),
     [sub("x", aws={"operation": "PutItem", "xray": xray()})])

case("aws-account-region-request", "Fields: aws",
     "aws.account_id (overrides resource cloud.account.id), aws.region, aws.request_id.",
     isub({"cloud.account.id": "111111111111"},
          {"aws.account_id": "222222222222", "aws.region": "eu-west-1",
           "aws.request_id": "req-1"}),
     [sub("x", aws={"account_id": "222222222222", "region": "eu-west-1",
                    "request_id": "req-1", "xray": xray()})])

case("aws-account-from-resource", "Fields: aws",
     "account_id defaults to resource cloud.account.id.",
     isub({"cloud.account.id": "111111111111"}),
     [sub("x", aws={"account_id": "111111111111", "xray": xray()})])

case("aws-request-id-camel", "Fields: aws",
     "aws.requestId is an alternative key for request_id.",
     isub(None, {"aws.requestId": "abc"}),
     [sub("x", aws={"request_id": "abc", "xray": xray()})])

case("aws-queue-url-messaging-override", "Fields: aws",
     "queue_url from aws.queue_url, overridden by messaging.url which stays in metadata.",
     isub(None, {"aws.queue_url": "https://q/1", "messaging.url": "https://q/2"}),
     [sub("x", aws={"queue_url": "https://q/2", "xray": xray()},
          metadata=md(**{"messaging.url": "https://q/2"}))])

case("aws-queue-url-dotted", "Fields: aws",
     "aws.queue.url is an alternative key.",
     isub(None, {"aws.queue.url": "https://q/3"}),
     [sub("x", aws={"queue_url": "https://q/3", "xray": xray()})])

case("aws-table-name", "Fields: aws",
     "table_name from aws.table_name.",
     isub(None, {"aws.table_name": "users"}),
     [sub("x", aws={"table_name": "users", "xray": xray()})])

case("aws-dynamodb-table-names-one", "Fields: aws",
     "aws.dynamodb.table_names with one element -> table_name (attribute not consumed).",
     isub(None, {"aws.table.name": "old", "aws.dynamodb.table_names": ["t1"]}),
     [sub("x", aws={"table_name": "t1", "xray": xray()},
          metadata=md(**{"aws.dynamodb.table_names": ["t1"]}))])

case("aws-dynamodb-table-names-many", "Fields: aws",
     "aws.dynamodb.table_names with two elements -> table_names, table_name cleared.",
     isub(None, {"aws.table_name": "old", "aws.dynamodb.table_names": ["t1", "t2"]}),
     [sub("x", aws={"table_names": ["t1", "t2"], "xray": xray()},
          metadata=md(**{"aws.dynamodb.table_names": ["t1", "t2"]}))])

case("aws-dynamodb-table-names-string", "Fields: aws",
     "aws.dynamodb.table_names as a string -> table_name.",
     isub(None, {"aws.dynamodb.table_names": "solo"}),
     [sub("x", aws={"table_name": "solo", "xray": xray()},
          metadata=md(**{"aws.dynamodb.table_names": "solo"}))])

case("aws-ec2-block", "Fields: aws; Fields: origin",
     "cloud.platform aws_ec2: ec2 block from host.id, cloud.availability_zone, host.type, "
     "host.image.id; origin AWS::EC2::Instance.",
     isub({"cloud.provider": "aws", "cloud.platform": "aws_ec2", "host.id": "i-123",
           "cloud.availability_zone": "us-east-1a", "host.type": "m5.large",
           "host.image.id": "ami-1"}),
     [sub("x", origin="AWS::EC2::Instance",
          aws={"ec2": {"instance_id": "i-123", "availability_zone": "us-east-1a",
                       "instance_size": "m5.large", "ami_id": "ami-1"}, "xray": xray()})])

case("aws-ec2-from-host-id-nulls", "Fields: aws",
     "host.id alone creates the ec2 block; missing fields are null; no origin.",
     isub({"host.id": "i-9"}),
     [sub("x", aws={"ec2": {"instance_id": "i-9", "availability_zone": None,
                            "instance_size": None, "ami_id": None}, "xray": xray()})])

case("aws-ecs-block", "Fields: aws; Fields: origin",
     "cloud.platform aws_ecs: ecs block with every field; launchtype fargate -> origin "
     "AWS::ECS::Fargate.",
     isub({"cloud.provider": "aws", "cloud.platform": "aws_ecs",
           "container.name": "web", "container.id": "c0ffee",
           "aws.ecs.task.arn": "arn:aws:ecs:us-east-1:1:task/t",
           "aws.ecs.task.family": "fam", "aws.ecs.cluster.arn": "arn:aws:ecs:us-east-1:1:cluster/c",
           "aws.ecs.container.arn": "arn:aws:ecs:us-east-1:1:container/x",
           "cloud.availability_zone": "us-east-1b", "aws.ecs.launchtype": "fargate"}),
     [sub("x", origin="AWS::ECS::Fargate",
          aws={"ecs": {"container": "web", "container_id": "c0ffee",
                       "task_arn": "arn:aws:ecs:us-east-1:1:task/t", "task_family": "fam",
                       "cluster_arn": "arn:aws:ecs:us-east-1:1:cluster/c",
                       "container_arn": "arn:aws:ecs:us-east-1:1:container/x",
                       "availability_zone": "us-east-1b", "launch_type": "fargate"},
               "xray": xray()})])

case("aws-ecs-with-host-id", "Fields: aws",
     "An ECS resource with host.id also gets an ec2 block; ecs fields omitted when empty.",
     isub({"cloud.provider": "aws", "cloud.platform": "aws_ecs", "container.name": "web",
           "host.id": "i-5", "aws.ecs.launchtype": "ec2"}),
     [sub("x", origin="AWS::ECS::EC2",
          aws={"ecs": {"container": "web", "launch_type": "ec2"},
               "ec2": {"instance_id": "i-5", "availability_zone": None,
                       "instance_size": None, "ami_id": None},
               "xray": xray()})])

case("aws-eks-block", "Fields: aws; Fields: origin",
     "cloud.platform aws_eks: eks block (cluster_name, pod, container_id); origin "
     "AWS::EKS::Container.",
     isub({"cloud.provider": "aws", "cloud.platform": "aws_eks",
           "k8s.cluster.name": "prod", "k8s.pod.name": "web-1", "container.id": "abc"}),
     [sub("x", origin="AWS::EKS::Container",
          aws={"eks": {"cluster_name": "prod", "pod": "web-1", "container_id": "abc"},
               "xray": xray()})])

case("aws-eks-from-cluster-name-nulls", "Fields: aws",
     "k8s.cluster.name alone creates the eks block with null pod/container_id; no origin.",
     isub({"k8s.cluster.name": "dev"}),
     [sub("x", aws={"eks": {"cluster_name": "dev", "pod": None, "container_id": None},
                    "xray": xray()})])

case("aws-beanstalk-block", "Fields: aws; Fields: origin; Fields: service",
     "aws_elastic_beanstalk with service.instance.id: environment_name, version_label, "
     "deployment_id parsed as int; origin Environment; service.version also gives service.",
     isub({"cloud.provider": "aws", "cloud.platform": "aws_elastic_beanstalk",
           "service.namespace": "prod-env", "service.version": "v7",
           "service.instance.id": "42"}),
     [sub("x", service={"version": "v7"}, origin="AWS::ElasticBeanstalk::Environment",
          aws={"elastic_beanstalk": {"environment_name": "prod-env", "version_label": "v7",
                                     "deployment_id": 42}, "xray": xray()})])

case("aws-beanstalk-non-numeric-id", "Fields: aws",
     "A non-numeric service.instance.id gives deployment_id 0; missing fields null.",
     isub({"cloud.provider": "aws", "cloud.platform": "aws_elastic_beanstalk",
           "service.instance.id": "abc"}),
     [sub("x", origin="AWS::ElasticBeanstalk::Environment",
          aws={"elastic_beanstalk": {"environment_name": None, "version_label": None,
                                     "deployment_id": 0}, "xray": xray()})])

case("aws-beanstalk-needs-instance-id", "Fields: aws; Fields: origin",
     "Without service.instance.id there is no elastic_beanstalk block (origin still set).",
     isub({"cloud.provider": "aws", "cloud.platform": "aws_elastic_beanstalk",
           "service.namespace": "env"}),
     [sub("x", origin="AWS::ElasticBeanstalk::Environment", aws={"xray": xray()})])

case("aws-xray-sdk", "Fields: aws",
     "xray.sdk = \"<name> for <language>\", sdk_version, auto_instrumentation from "
     "telemetry.auto.version.",
     isub({"telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": "java",
           "telemetry.sdk.version": "1.32.0", "telemetry.auto.version": "1.32.0"}),
     [sub("x", aws={"xray": {"sdk": "opentelemetry for java", "sdk_version": "1.32.0",
                             "auto_instrumentation": True}})])

case("aws-xray-sdk-name-only", "Fields: aws",
     "Only telemetry.sdk.name: sdk is the name alone.",
     isub({"telemetry.sdk.name": "opentelemetry"}),
     [sub("x", aws={"xray": {"sdk": "opentelemetry", "auto_instrumentation": False}})])

case("aws-xray-distro-version", "Fields: aws",
     "telemetry.distro.version also sets auto_instrumentation true.",
     isub({"telemetry.distro.version": "0.9"}),
     [sub("x", aws={"xray": {"auto_instrumentation": True}})])

LG1 = "arn:aws:logs:us-east-1:123456789012:log-group:/app/web:*"
LG2 = "arn:aws:logs:us-east-1:123456789012:log-group:/app/db:*"
case("aws-cloudwatch-log-arns", "Fields: aws",
     "aws.log.group.arns array -> cloudwatch_logs [{log_group: 7th ARN field, arn}] in "
     "order.",
     isub({"aws.log.group.arns": [LG1, LG2]}),
     [sub("x", aws={"cloudwatch_logs": [{"log_group": "/app/web", "arn": LG1},
                                        {"log_group": "/app/db", "arn": LG2}],
                    "xray": xray()})])

case("aws-cloudwatch-log-arns-string", "Fields: aws",
     "aws.log.group.arns as a string split on '&', empty pieces dropped; a short ARN is "
     "its own log_group.",
     isub({"aws.log.group.arns": LG1 + "&&short:arn"}),
     [sub("x", aws={"cloudwatch_logs": [{"log_group": "/app/web", "arn": LG1},
                                        {"log_group": "short:arn", "arn": "short:arn"}],
                    "xray": xray()})])

case("aws-cloudwatch-log-names", "Fields: aws",
     "aws.log.group.names -> [{log_group}] without arn.",
     isub({"aws.log.group.names": ["/a", "/b"]}),
     [sub("x", aws={"cloudwatch_logs": [{"log_group": "/a"}, {"log_group": "/b"}],
                    "xray": xray()})])

case("aws-cloudwatch-config-fallback", "Fields: aws",
     "Without resource log groups, config aws_log_groups is used.",
     isub({"k": "v"}),
     [sub("x", aws={"cloudwatch_logs": [{"log_group": "group1"}], "xray": xray()})],
     config={"aws_log_groups": ["group1"]})

case("aws-cloudwatch-resource-beats-config", "Fields: aws",
     "Resource aws.log.group.names wins over config aws_log_groups.",
     isub({"aws.log.group.names": "/res"}),
     [sub("x", aws={"cloudwatch_logs": [{"log_group": "/res"}], "xray": xray()})],
     config={"aws_log_groups": ["group1"]})

# =====================================================================================
# sql
# =====================================================================================

case("sql-mysql-full", "Fields: sql",
     "mysql: sql block url=span name, connection_string=<conn>/<db>, database_type, user, "
     "sanitized_query; db.* consumed.",
     req(span("SELECT customers", kind=CLIENT, parent=PID, attrs={
         "db.system": "mysql", "db.name": "customers",
         "db.connection_string": "mysql://db.example.com:3306", "db.user": "admin",
         "db.statement": "SELECT * FROM c WHERE id = ?"})),
     [sub("customers@db.example.com", namespace="remote",
          sql={"url": "SELECT customers",
               "connection_string": "mysql://db.example.com:3306/customers",
               "database_type": "mysql", "user": "admin",
               "sanitized_query": "SELECT * FROM c WHERE id = ?"})])

case("sql-other-sql", "Fields: sql",
     "other_sql is an SQL system.",
     req(span("q", kind=CLIENT, parent=PID,
              attrs={"db.system": "other_sql", "db.statement": "SELECT 1"})),
     [sub("q", namespace="remote",
          sql={"url": "q", "connection_string": "localhost/", "database_type": "other_sql",
               "sanitized_query": "SELECT 1"})])

case("sql-mongodb-not-sql", "Fields: sql",
     "mongodb is not SQL: no sql block, db.* stay in metadata; name from db.name.",
     req(span("find", kind=CLIENT, parent=PID,
              attrs={"db.system": "mongodb", "db.name": "docs", "db.statement": "{}"})),
     [sub("docs", namespace="remote",
          metadata=md(**{"db.system": "mongodb", "db.name": "docs", "db.statement": "{}"}))])

case("sql-no-host-in-connection-string", "Fields: name; Fields: sql",
     "A connection string without a hostname does not change the name.",
     req(span("q", kind=CLIENT, parent=PID,
              attrs={"db.system": "sqlite", "db.name": "main",
                     "db.connection_string": "file.db"})),
     [sub("main", namespace="remote",
          sql={"url": "q", "connection_string": "file.db/main", "database_type": "sqlite"})])

case("sql-on-server-segment", "Fields: sql",
     "The sql block is written on segments too (a SERVER span with db attributes).",
     req(span("q", attrs={"db.system": "postgresql", "db.name": "app", "db.user": "u"})),
     [doc("app", sql={"url": "q", "connection_string": "localhost/app",
                      "database_type": "postgresql", "user": "u"})])

# =====================================================================================
# origin
# =====================================================================================

for plat, origin, extra_res, aws_blk in [
        ("aws_app_runner", "AWS::AppRunner::Service", {}, {}),
        ("aws_ecs", "AWS::ECS::Container", {}, {"ecs": {}}),
        ("aws_lambda", None, {}, {}),
]:
    case("origin-" + plat.replace("_", "-"), "Fields: origin",
         "cloud.platform %s -> origin %s." % (plat, origin or "absent"),
         isub(dict({"cloud.provider": "aws", "cloud.platform": plat}, **extra_res)),
         [sub("x", origin=origin, aws=dict(aws_blk, xray=xray()))])

case("origin-ec2-beats-k8s", "Fields: origin",
     "The platform wins over other hints: aws_ec2 + k8s.cluster.name -> EC2 origin (eks "
     "block still present).",
     isub({"cloud.provider": "aws", "cloud.platform": "aws_ec2", "k8s.cluster.name": "c"}),
     [sub("x", origin="AWS::EC2::Instance",
          aws={"ec2": {"instance_id": None, "availability_zone": None, "instance_size": None,
                       "ami_id": None},
               "eks": {"cluster_name": "c", "pod": None, "container_id": None},
               "xray": xray()})])

case("origin-no-platform", "Fields: origin",
     "cloud.provider aws without cloud.platform: no origin.",
     isub({"cloud.provider": "aws"}), [sub("x")])

case("origin-on-segment", "Fields: origin",
     "origin is written on segments (with resource metadata).",
     req(span("op"), resource={"cloud.provider": "aws", "cloud.platform": "aws_app_runner"}),
     [doc("op", origin="AWS::AppRunner::Service",
          metadata=md(**{"otel.resource.cloud.provider": "aws",
                         "otel.resource.cloud.platform": "aws_app_runner"}))])

# =====================================================================================
# service, user
# =====================================================================================

case("service-version", "Fields: service",
     "service = {version: service.version}, on subsegments too.",
     isub({"service.version": "1.4.2"}), [sub("x", service={"version": "1.4.2"})])

case("service-container-image-tag", "Fields: service",
     "service.version missing -> container.image.tag.",
     isub({"container.image.tag": "sha-abc"}), [sub("x", service={"version": "sha-abc"})])

case("service-version-beats-image-tag", "Fields: service",
     "service.version wins over container.image.tag.",
     isub({"service.version": "2", "container.image.tag": "t"}),
     [sub("x", service={"version": "2"})])

case("user-from-enduser-id", "Fields: user",
     "enduser.id -> user, removed from metadata.",
     req(span("x", attrs={"enduser.id": "alice", "k": "v"})),
     [doc("x", user="alice", metadata=md(k="v"))])

case("user-on-subsegment", "Fields: user",
     "user is written on subsegments too.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"enduser.id": "bob"})),
     [sub("x", user="bob")])

# =====================================================================================
# annotations and metadata
# =====================================================================================

case("metadata-value-types", "Fields: annotations / metadata",
     "Not-indexed attributes go to metadata.default with their JSON types: string, int, "
     "double, bool, array, map.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={
         "s": "str", "i": 42, "d": 2.5, "b": False, "arr": ["a", 1, True],
         "map": {"inner": "v", "n": 3}})),
     [sub("x", metadata=md(s="str", i=42, d=2.5, b=False, arr=["a", 1, True],
                           map={"inner": "v", "n": 3}))])

case("annotations-indexed-types", "Fields: annotations / metadata",
     "indexed_attributes: string, int, double and bool values become annotations.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={
         "s": "str", "i": 7, "d": 1.25, "b": True, "other": "m"})),
     [sub("x", annotations={"s": "str", "i": 7, "d": 1.25, "b": True},
          metadata=md(other="m"))],
     config={"indexed_attributes": ["s", "i", "d", "b"]})

case("annotations-indexed-array-dropped", "Fields: annotations / metadata",
     "An indexed attribute that is not annotatable (array, map) is dropped entirely.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"arr": ["a"], "m": {"k": "v"}, "o": 1})),
     [sub("x", metadata=md(o=1))],
     config={"indexed_attributes": ["arr", "m"]})

case("annotations-index-all", "Fields: annotations / metadata",
     "index_all_attributes: every annotatable span attribute becomes an annotation, arrays "
     "are dropped.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"a": "1", "b": 2, "arr": [1]})),
     [sub("x", annotations={"a": "1", "b": 2})],
     config={"index_all_attributes": True})

case("annotations-index-all-no-restore", "Fields: annotations / metadata",
     "index_all does not restore consumed attributes (only keys listed in "
     "indexed_attributes are restored): http.method stays only in the http block.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"http.method": "GET", "a": "1"})),
     [sub("x", http={"request": {"method": "GET"}, "response": {"content_length": 0}},
          annotations={"a": "1"})],
     config={"index_all_attributes": True})

case("annotations-xray-annotations-attr", "Fields: annotations / metadata",
     "String elements of aws.xray.annotations are indexed (non-strings ignored); the array "
     "attribute itself is removed.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={
         "aws.xray.annotations": ["team", 5, "tier"], "team": "core", "tier": 1, "z": "m"})),
     [sub("x", annotations={"team": "core", "tier": 1}, metadata=md(z="m"))])

case("annotations-xray-annotations-scalar", "Fields: annotations / metadata",
     "A scalar aws.xray.annotations is kept as metadata and indexes nothing.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"aws.xray.annotations": "team",
                                                     "team": "core"})),
     [sub("x", metadata=md(**{"aws.xray.annotations": "team", "team": "core"}))])

case("annotations-xray-annotations-no-restore", "Fields: annotations / metadata",
     "aws.xray.annotations entries do not restore consumed keys: http.method is not "
     "annotated.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={
         "aws.xray.annotations": ["http.method"], "http.method": "GET"})),
     [sub("x", http={"request": {"method": "GET"}, "response": {"content_length": 0}})])

case("annotations-restore-consumed", "Fields: annotations / metadata",
     "A key in indexed_attributes consumed by an earlier step (http.method, aws.operation, "
     "db.statement) is restored and annotated, and still fills its block.",
     req(span("q", kind=INTERNAL, parent=PID, attrs={
         "http.method": "GET", "aws.operation": "Scan", "db.system": "mysql",
         "db.statement": "SELECT 1"})),
     [sub("q", http={"request": {"method": "GET"}, "response": {"content_length": 0}},
          aws={"operation": "Scan", "xray": xray()},
          annotations={"http.method": "GET", "aws.operation": "Scan",
                       "db.statement": "SELECT 1"},
          sql={"url": "q", "connection_string": "localhost/", "database_type": "mysql",
               "sanitized_query": "SELECT 1"})],
     config={"indexed_attributes": ["http.method", "aws.operation", "db.statement"]})

case("annotations-restore-with-index-all", "Fields: annotations / metadata",
     "With index_all, keys listed in indexed_attributes are still restored (rpc.method).",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"rpc.method": "Get", "a": "1"})),
     [sub("x", aws={"operation": "Get", "xray": xray()},
          annotations={"rpc.method": "Get", "a": "1"})],
     config={"index_all_attributes": True, "indexed_attributes": ["rpc.method"]})

case("annotation-key-sanitise", "Fields: annotations / metadata",
     "Annotation keys: non-alphanumeric runes become '_', '.' kept by default "
     "(Key@1 -> Key_1, Key.1 -> Key.1, ключ -> ____); metadata keys are never sanitised.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={
         "Key@1": "a", "Key.1": "b", "\u043a\u043b\u044e\u0447": "c", "my key@x": "m"})),
     [sub("x", annotations={"Key_1": "a", "Key.1": "b", "____": "c"},
          metadata=md(**{"my key@x": "m"}))],
     config={"indexed_attributes": ["Key@1", "Key.1", "\u043a\u043b\u044e\u0447"]})

case("annotation-key-no-dot", "Fields: annotations / metadata",
     "allow_dot_in_annotation_keys false: '.' also becomes '_' (Key.1 -> Key_1).",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"Key.1": "b", "http.x": "y"})),
     [sub("x", annotations={"Key_1": "b", "http_x": "y"})],
     config={"indexed_attributes": ["Key.1", "http.x"], "allow_dot_in_annotation_keys": False})

case("annotation-resource-prefixed", "Fields: annotations / metadata",
     "Resource attributes are indexed by their prefixed key otel.resource.<key> (segments "
     "only); the rest go to metadata.",
     req(span("op", kind=INTERNAL), resource={"service.name": "svc", "env": "prod"}),
     [doc("op", annotations={"otel.resource.service.name": "svc"},
          metadata=md(**{"otel.resource.env": "prod"}))],
     config={"indexed_attributes": ["otel.resource.service.name"]})

case("annotation-resource-prefixed-no-dot", "Fields: annotations / metadata",
     "With allow_dot false the resource annotation key becomes otel_resource_service_name.",
     req(span("op", kind=INTERNAL), resource={"service.name": "svc"}),
     [doc("op", annotations={"otel_resource_service_name": "svc"})],
     config={"indexed_attributes": ["otel.resource.service.name"],
             "allow_dot_in_annotation_keys": False})

case("annotation-resource-unprefixed-no-match", "Fields: annotations / metadata",
     "Listing the raw resource key (service.name) does not index the resource attribute.",
     req(span("op", kind=INTERNAL), resource={"service.name": "svc"}),
     [doc("op", metadata=md(**{"otel.resource.service.name": "svc"}))],
     config={"indexed_attributes": ["service.name"]})

case("annotation-index-all-resource", "Fields: annotations / metadata",
     "index_all on a segment: annotatable resource attributes become annotations, a "
     "resource array stays in metadata.",
     req(span("op", kind=INTERNAL), resource={"env": "prod", "tags": ["a", "b"]}),
     [doc("op", annotations={"otel.resource.env": "prod"},
          metadata=md(**{"otel.resource.tags": ["a", "b"]}))],
     config={"index_all_attributes": True})

case("metadata-resource-map", "Fields: annotations / metadata",
     "A map-valued resource attribute goes to metadata as an object (segment).",
     req(span("op", kind=INTERNAL), resource={"labels": {"a": "1"}}),
     [doc("op", metadata=md(**{"otel.resource.labels": {"a": "1"}}))])

case("metadata-xray-namespace", "Fields: annotations / metadata",
     "aws.xray.metadata.<ns> with a JSON object string -> metadata[<ns>] = object.",
     req(span("x", kind=INTERNAL, parent=PID,
              attrs={"aws.xray.metadata.custom": "{\"k\":1,\"s\":\"v\"}"})),
     [sub("x", metadata={"custom": {"k": 1, "s": "v"}})])

case("metadata-xray-default-merge", "Fields: annotations / metadata",
     "aws.xray.metadata.DEFAULT (case-insensitive) merges its object into metadata.default.",
     req(span("x", kind=INTERNAL, parent=PID,
              attrs={"aws.xray.metadata.DEFAULT": "{\"a\":true}", "plain": "p"})),
     [sub("x", metadata=md(a=True, plain="p"))])

case("metadata-xray-bad-json", "Fields: annotations / metadata",
     "An aws.xray.metadata.<ns> string that is not JSON goes to metadata.default under the "
     "full key.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"aws.xray.metadata.ns": "not json"})),
     [sub("x", metadata=md(**{"aws.xray.metadata.ns": "not json"}))])

case("metadata-absent-when-empty", "Fields: annotations / metadata",
     "No leftover attributes on a subsegment: neither annotations nor metadata.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"http.method": "GET"})),
     [sub("x", http={"request": {"method": "GET"}, "response": {"content_length": 0}})])

# =====================================================================================
# links
# =====================================================================================

case("links-attributes-typed", "Fields: links",
     "Links keep order and attribute value types; attributes absent for a link without "
     "any.",
     req(span("x", links=[link("4efaaf4d1e8720b39541901950019ee5", SID2,
                               {"s": "v", "i": 3, "d": 1.5, "b": True, "a": ["x", "y"]}),
                          link(TID, PID)])),
     [doc("x", links=[{"trace_id": "1-4efaaf4d-1e8720b39541901950019ee5", "id": SID2,
                       "attributes": {"s": "v", "i": 3, "d": 1.5, "b": True,
                                      "a": ["x", "y"]}},
                      {"trace_id": XTID, "id": PID}])])

case("links-on-subsegment", "Fields: links",
     "Links are written on subsegments too.",
     req(span("x", kind=INTERNAL, parent=PID, links=[link(TID, SID2)])),
     [sub("x", links=[{"trace_id": XTID, "id": SID2}])])

# =====================================================================================
# special attributes
# =====================================================================================

case("special-remote-operation-metadata", "Fields: aws.xray.* span attributes",
     "aws.remote.operation, remoteTarget, K8s.RemoteNamespace and aws.local.operation are "
     "plain metadata outside the local-root service segment.",
     req(span("call", kind=CLIENT, parent=PID, attrs={
         "aws.remote.operation": "GET /x", "remoteTarget": "t",
         "K8s.RemoteNamespace": "ns", "aws.local.operation": "op"})),
     [sub("call", namespace="remote",
          metadata=md(**{"aws.remote.operation": "GET /x", "remoteTarget": "t",
                         "K8s.RemoteNamespace": "ns", "aws.local.operation": "op"}))])

case("special-local-root-removes-remote-attrs", "Fields: id / parent_id / type; Fields: Local roots; Fields: aws.xray.* span attributes",
     "In the local-root service segment remoteTarget and K8s.RemoteNamespace are deleted "
     "(and non-resource metadata dropped); the dependency subsegment keeps them.",
     req(span("call", kind=CLIENT, parent=PID, attrs={
         "aws.span.kind": "LOCAL_ROOT", "aws.local.service": "a", "aws.remote.service": "b",
         "remoteTarget": "t", "K8s.RemoteNamespace": "ns"})),
     [sub("b", parent="S", namespace="remote",
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "a",
                         "aws.remote.service": "b", "remoteTarget": "t",
                         "K8s.RemoteNamespace": "ns"})),
      doc("a", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("special-xray-exception-attrs-metadata", "Fields: key order; Fields: aws.xray.* span attributes",
     "aws.xray.exception.* and aws.xray.retries span attributes are not read: metadata.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={
         "aws.xray.exception.type": "E", "aws.xray.retries": 2})),
     [sub("x", metadata=md(**{"aws.xray.exception.type": "E", "aws.xray.retries": 2}))])

# =====================================================================================
# xraybridge guarantees
# =====================================================================================

case("guarantee-invalid-utf8-value", "Deliberate differences",
     "Invalid UTF-8 in an attribute value is replaced with U+FFFD (input given as "
     "protobuf; each invalid byte -> one U+FFFD).",
     pb_req(pb_span(T, S, "x", kind=INTERNAL, parent=bytes.fromhex(PID),
                    attrs={"note": b"ab\xffcd"})),
     [sub("x", metadata=md(note="ab\ufffdcd"))])

case("guarantee-invalid-utf8-name-attr", "Deliberate differences",
     "Invalid UTF-8 in aws.local.service (used unsanitised as the name) becomes U+FFFD.",
     pb_req(pb_span(T, S, "x", attrs={"aws.local.service": b"svc\xc0"})),
     [doc("svc\ufffd", metadata=md(**{"aws.local.service": "svc\ufffd"}))])

def pb_span_rawkey(key_bytes, value):
    b = pb_str(1, T) + pb_str(2, S) + pb_str(4, bytes.fromhex(PID)) + pb_str(5, "x")
    b += fld(6, 0, varint(INTERNAL))
    b += fld(7, 1, struct.pack("<Q", START_NS)) + fld(8, 1, struct.pack("<Q", END_NS))
    b += pb_str(9, pb_str(1, key_bytes) + pb_str(2, pb_any(value)))
    return b


case("guarantee-invalid-utf8-key", "Deliberate differences",
     "Invalid UTF-8 in a metadata key is replaced with U+FFFD.",
     pb_req(pb_span_rawkey(b"k\xfe", "v")), [sub("x", metadata=md(**{"k\ufffd": "v"}))])

case("guarantee-control-chars-escaped", "Deliberate differences",
     "Control characters in strings are escaped (the runner also checks that no raw byte "
     "< 0x20 appears in any document).",
     req(span("x", kind=INTERNAL, parent=PID,
              attrs={"ctl": "line1\nline2\ttab\u0001\u001f end", "q": "say \"hi\" \\ ok"})),
     [sub("x", metadata=md(ctl="line1\nline2\ttab\u0001\u001f end", q="say \"hi\" \\ ok"))])

case("guarantee-int64-exact", "Deliberate differences",
     "64-bit integers are written exactly (not through a double).",
     req(span("x", kind=INTERNAL, parent=PID,
              attrs={"big": 9007199254740993, "max": 9223372036854775807,
                     "min": -9223372036854775808})),
     [sub("x", metadata=md(big=9007199254740993, max=9223372036854775807,
                           min=-9223372036854775808))],
     expect_raw_contains=["9007199254740993", "9223372036854775807",
                          "-9223372036854775808"])

case("guarantee-int64-annotation-exact", "Deliberate differences",
     "An int64 annotation is written exactly.",
     req(span("x", kind=INTERNAL, parent=PID, attrs={"n": 1234567890123456789})),
     [sub("x", annotations={"n": 1234567890123456789})],
     config={"indexed_attributes": ["n"]}, expect_raw_contains=["1234567890123456789"])

case("guarantee-short-trace-id-rejected", "Deliberate differences",
     "A trace id that is not 16 bytes rejects the span (protobuf input).",
     pb_req(pb_span(T[:8], S, "x")), expected_rejected=1)

case("guarantee-short-span-id-rejected", "Deliberate differences",
     "A span id that is not 8 bytes rejects the span (protobuf input).",
     pb_req(pb_span(T, S[:4], "x")), expected_rejected=1)

case("guarantee-empty-span-id-rejected", "Deliberate differences",
     "A missing span id rejects the span.",
     pb_req(pb_span(T, b"", "x")), expected_rejected=1)

case("guarantee-zero-trace-id-rejected", "Deliberate differences",
     "An all-zero trace id is invalid (OTLP/W3C) and rejects the span; the next span is "
     "still emitted.",
     req(span("bad", trace="0" * 32), span("good", sid=SID2)),
     [doc("good", id=SID2)], expected_rejected=1)

case("guarantee-zero-span-id-rejected", "Deliberate differences",
     "An all-zero span id is invalid and rejects the span (upstream would write "
     "id null).",
     req(span("bad", sid="0" * 16)), expected_rejected=1)

case("guarantee-oversized-metadata-trimmed", "Deliberate differences",
     "A span whose document would exceed 64,000 bytes is trimmed to fit and counted as "
     "trimmed; the identifying fields survive.",
     req(span("big", kind=INTERNAL, parent=PID, attrs={"blob": "x" * 70000, "k": "v"})),
     expected_partial=[{"name": "big", "id": SID, "trace_id": XTID, "start_time": START,
                        "end_time": END, "parent_id": PID, "type": "subsegment",
                        "fault": False, "error": False, "throttle": False}],
     expect_max_bytes=64000, expect_trimmed=True)

case("guarantee-oversized-many-attrs", "Deliberate differences",
     "2,000 attributes of 60 bytes each: trimmed to <= 64,000 bytes.",
     req(span("many", attrs={"attr%04d" % i: "v" * 60 for i in range(2000)})),
     expected_partial=[{"name": "many", "id": SID, "trace_id": XTID, "fault": False}],
     expect_max_bytes=64000, expect_trimmed=True)

case("guarantee-custom-max-bytes", "Deliberate differences",
     "max_document_bytes 2000: a document with a 5,000-byte attribute is trimmed below it; "
     "http block and flags survive.",
     req(span("small", attrs={"http.method": "GET", "http.status_code": 500,
                              "blob": "y" * 5000})),
     expected_partial=[{"name": "small", "id": SID, "fault": True,
                        "http": {"request": {"method": "GET"},
                                 "response": {"status": 500, "content_length": 0}}}],
     config={"max_document_bytes": 2000}, expect_max_bytes=2000, expect_trimmed=True)

case("guarantee-under-limit-not-trimmed", "Deliberate differences",
     "A document under the limit is not trimmed.",
     req(span("ok", attrs={"blob": "z" * 1000})),
     [doc("ok", metadata=md(blob="z" * 1000))], expect_trimmed=False)

case("guarantee-multiple-resources", "Pipeline",
     "Every resource's spans are translated with their own resource.",
     {"resourceSpans": [
         {"resource": {"attributes": kvs({"service.version": "1"})},
          "scopeSpans": [{"spans": [span("a", kind=INTERNAL, parent=PID)]}]},
         {"resource": {"attributes": kvs({"service.version": "2"})},
          "scopeSpans": [{"spans": [span("b", kind=INTERNAL, parent=PID, sid=SID2)]}]}]},
     [sub("a", service={"version": "1"}), sub("b", id=SID2, service={"version": "2"})])

case("scope-not-used", "Pipeline",
     "The instrumentation scope name/version is never used.",
     {"resourceSpans": [{"resource": {}, "scopeSpans": [
         {"scope": {"name": "my.lib", "version": "9", "attributes": kvs({"s": "x"})},
          "spans": [span("x", kind=INTERNAL, parent=PID)]}]}]},
     [sub("x")])


# ---- write ----------------------------------------------------------------------------

# =====================================================================================
# awsxrayexporter v0.141 - v0.156 (docs/translation.md, Upstream changes), and xraybridge's deliberate
# differences from v0.156 (docs/translation.md). Names say which rule each case pins.
# =====================================================================================

RES_Q = {"service.name": "billing", "deployment.environment": "prod"}

# ---- 1. CONSUMER with a parent is a segment (v0.141) ----------------------------------

case("consumer-with-parent-segment-aws-sdk-namespace-aws", "Upstream changes: v0.141 CONSUMER; Upstream changes: v0.141 PRODUCER",
     "CONSUMER segment with a parent on an AWS SDK span: no type, namespace aws still wins "
     "(rpc.system aws-api), named after rpc.service.",
     req(span("SQS.ReceiveMessage", kind=CONSUMER, parent=PID,
              attrs={"rpc.system": "aws-api", "rpc.service": "SQS"})),
     [doc("SQS", parent_id=PID, namespace="aws",
          metadata=md(**{"rpc.system": "aws-api", "rpc.service": "SQS"}))])

case("consumer-root-segment-no-namespace", "Upstream changes: v0.141 CONSUMER",
     "A parentless CONSUMER is a segment as before: stores the resource, no namespace.",
     req(span("recv", kind=CONSUMER), resource=RES_Q),
     [doc("recv", metadata=mdd(res_md(RES_Q)))])

case("consumer-local-root-both-docs-store-resource", "Upstream changes: v0.141 CONSUMER",
     "LOCAL_ROOT CONSUMER with a parent: both documents carry the resource attributes; the "
     "dependency document is still forced to type subsegment with namespace remote and "
     "loses its links, the service document keeps only otel.resource.* metadata.",
     req(span("recv", kind=CONSUMER, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "worker",
                     "aws.remote.service": "sqs"},
              links=[link(TID, SID2)]), resource=RES_Q),
     [sub("sqs", parent="S", namespace="remote",
          metadata=mdd(dict(res_md(RES_Q), **{"aws.span.kind": "LOCAL_ROOT",
                                              "aws.local.service": "worker",
                                              "aws.remote.service": "sqs"}))),
      doc("worker", id="S", parent_id=PID, links=[{"trace_id": XTID, "id": SID2}],
          metadata=mdd(res_md(RES_Q)))],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("client-with-parent-still-subsegment-no-resource", "Upstream changes: v0.141 CONSUMER",
     "CLIENT, PRODUCER and INTERNAL spans with a parent are still subsegments without the "
     "resource (only CONSUMER changed).",
     req(span("call", kind=CLIENT, parent=PID),
         span("send", kind=PRODUCER, parent=PID, sid=SID2), resource=RES_Q),
     [sub("call", namespace="remote"), sub("send", id=SID2, namespace="remote")])

# ---- 2. PRODUCER namespace remote (v0.141) ---------------------------------------------

case("producer-root-segment-namespace-remote", "Upstream changes: v0.141 PRODUCER",
     "A parentless PRODUCER segment gets namespace remote (as a parentless CLIENT always did).",
     req(span("send", kind=PRODUCER), resource=RES_Q),
     [doc("send", namespace="remote", metadata=mdd(res_md(RES_Q)))])

case("producer-aws-sdk-namespace-aws", "Upstream changes: v0.141 PRODUCER",
     "aws still wins for AWS SDK PRODUCER spans.",
     req(span("SNS.Publish", kind=PRODUCER, parent=PID,
              attrs={"rpc.system": "aws-api", "rpc.service": "SNS"})),
     [sub("SNS", namespace="aws", metadata=md(**{"rpc.system": "aws-api",
                                                  "rpc.service": "SNS"}))])

case("producer-aws-service-namespace-aws", "Upstream changes: v0.141 PRODUCER",
     "A PRODUCER named from aws.service gets namespace aws, not remote.",
     req(span("put", kind=PRODUCER, parent=PID, attrs={"aws.service": "Kinesis"})),
     [sub("Kinesis", namespace="aws", metadata=md(**{"aws.service": "Kinesis"}))])

# ---- 3. in_progress (v0.141) -------------------------------------------------------------

case("inprogress-true-no-end-time", "Upstream changes: v0.141 in_progress",
     "bool aws.xray.inprogress = true: \"in_progress\": true, no end_time (even with a real "
     "end time), and the attribute is not in metadata.",
     req(span("x", attrs={"aws.xray.inprogress": True, "k": "v"})),
     [doc("x", end_time=None, in_progress=True, metadata=md(k="v"))])

case("inprogress-true-end-time-zero", "Upstream changes: v0.141 in_progress",
     "in_progress with end time 0: still no end_time.",
     req(span("x", end=0, attrs={"aws.xray.inprogress": True})),
     [doc("x", end_time=None, in_progress=True)])

case("inprogress-false-normal-end-time", "Upstream changes: v0.141 in_progress",
     "bool false: the normal end_time, no in_progress, attribute removed.",
     req(span("x", attrs={"aws.xray.inprogress": False})), [doc("x")])

case("inprogress-string-is-ordinary-attribute", "Upstream changes: v0.141 in_progress",
     "A string \"true\" is not the flag: end_time written, attribute kept in metadata.",
     req(span("x", attrs={"aws.xray.inprogress": "true"})),
     [doc("x", metadata=md(**{"aws.xray.inprogress": "true"}))])

case("inprogress-removed-with-index-all-attributes", "Upstream changes: v0.141 in_progress",
     "The bool attribute is removed before annotations are built: not annotated with "
     "index_all_attributes nor when listed in indexed_attributes.",
     req(span("x", attrs={"aws.xray.inprogress": True, "team": "core"})),
     [doc("x", end_time=None, in_progress=True, annotations={"team": "core"})],
     config={"index_all_attributes": True, "indexed_attributes": ["aws.xray.inprogress"]})

case("inprogress-local-root-both-docs", "Upstream changes: v0.141 in_progress",
     "LOCAL_ROOT CLIENT in progress: both split documents are in progress.",
     req(span("call", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                     "aws.remote.service": "auth", "aws.xray.inprogress": True})),
     [sub("auth", parent="S", namespace="remote", end_time=None, in_progress=True,
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                         "aws.remote.service": "auth"})),
      doc("web", id="S", parent_id=PID, end_time=None, in_progress=True,
          metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("inprogress-request-translated-twice-identical", "Deliberate differences",
     "Deliberate difference: upstream removes the attribute from the shared pdata and "
     "panics when two exporters see it; here the request is not modified, so the same span "
     "twice in one request (as a second exporter would see it) gives two in-progress "
     "documents.",
     req(span("x", attrs={"aws.xray.inprogress": True}),
         span("x", attrs={"aws.xray.inprogress": True})),
     [doc("x", end_time=None, in_progress=True), doc("x", end_time=None, in_progress=True)])

# ---- 4. service.version fallback (v0.155) ----------------------------------------------

case("service-version-from-image-tags-first", "Upstream changes: v0.155 service.version",
     "No service.version: first element of container.image.tags, before container.image.tag.",
     isub({"container.image.tags": ["v3", "v2"], "container.image.tag": "t"}),
     [sub("x", service={"version": "v3"})])

case("service-version-beats-image-tags", "Upstream changes: v0.155 service.version",
     "service.version still wins over container.image.tags.",
     isub({"service.version": "1", "container.image.tags": ["v3"]}),
     [sub("x", service={"version": "1"})])

case("service-version-image-tags-non-string-empty-service", "Upstream changes: v0.155 service.version",
     "A non-string first element gives \"service\": {} (block present, no version).",
     isub({"container.image.tags": [5, "v2"], "container.image.tag": "t"}),
     [sub("x", service={})])

case("service-version-image-tags-empty-falls-back", "Upstream changes: v0.155 service.version",
     "An empty container.image.tags array falls through to container.image.tag.",
     isub({"container.image.tags": [], "container.image.tag": "t"}),
     [sub("x", service={"version": "t"})])

case("service-version-image-tags-string-falls-back", "Upstream changes: v0.155 service.version",
     "A string-typed container.image.tags is not an array: container.image.tag, and "
     "without it no service block.",
     req(span("x", kind=INTERNAL, parent=PID),
         span("y", kind=INTERNAL, parent=PID, sid=SID2),
         resource={"container.image.tags": "v3", "container.image.tag": "t"}),
     [sub("x", service={"version": "t"}), sub("y", id=SID2, service={"version": "t"})])

case("service-version-image-tags-string-only-no-service", "Upstream changes: v0.155 service.version",
     "Only a string-typed container.image.tags: no service block.",
     isub({"container.image.tags": "v3"}), [sub("x")])

# ---- 5. local-root service segment name (v0.156) ----------------------------------------

case("local-root-service-name-from-resource-service-name", "Upstream changes: v0.156 local-root name",
     "LOCAL_ROOT CLIENT without aws.local.service: the service document is named after the "
     "resource's service.name (before v0.156: the span name).",
     req(span("GET /pay", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.remote.service": "payments"}),
         resource={"service.name": "checkout"}),
     [sub("payments", parent="S", namespace="remote",
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.remote.service": "payments"})),
      doc("checkout", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-service-name-local-service-beats-resource", "Upstream changes: v0.156 local-root name",
     "aws.local.service wins over the resource's service.name (PRODUCER local root).",
     req(span("send", kind=PRODUCER, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "api",
                     "aws.remote.service": "queue"}),
         resource={"service.name": "checkout"}),
     [sub("queue", parent="S", namespace="remote",
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "api",
                         "aws.remote.service": "queue"})),
      doc("api", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-service-name-falls-back-to-span-name", "Upstream changes: v0.156 local-root name",
     "Neither aws.local.service nor service.name: the service document keeps the name "
     "computed for it (the sanitised span name).",
     req(span("GET /pay", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.remote.service": "payments"})),
     [sub("payments", parent="S", namespace="remote",
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.remote.service": "payments"})),
      doc("GET /pay", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-server-not-renamed-by-service-name", "Upstream changes: v0.156 local-root name",
     "Not affected: an INTERNAL local root without aws.local.service is still named after "
     "the span (single document).",
     req(span("tick", kind=INTERNAL, attrs={"aws.span.kind": "LOCAL_ROOT"}),
         resource={"service.name": "cron"}),
     [doc("tick", metadata=mdd(dict(res_md({"service.name": "cron"}),
                                    **{"aws.span.kind": "LOCAL_ROOT"})))])

case("local-root-service-name-empty-service-name-ignored", "Deliberate differences",
     "Deliberate difference: an empty resource service.name gives \"name\": null upstream "
     "(X-Ray rejects the document); here it counts as missing and the span name is used.",
     req(span("GET /pay", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.remote.service": "payments"}),
         resource={"service.name": ""}),
     [sub("payments", parent="S", namespace="remote",
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.remote.service": "payments"})),
      doc("GET /pay", id="S", parent_id=PID, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-non-aws-provider-no-crash", "Deliberate differences",
     "Deliberate difference: upstream dereferences the missing aws block of a CLIENT local "
     "root when cloud.provider is not aws and panics; here both documents are written, "
     "without aws block.",
     req(span("call", kind=CLIENT, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                     "aws.remote.service": "auth", "aws.region": "x"}),
         resource={"cloud.provider": "gcp"}),
     [sub("auth", parent="S", namespace="remote", aws=None,
          metadata=md(**{"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "web",
                         "aws.remote.service": "auth"})),
      doc("web", id="S", parent_id=PID, aws=None, metadata={"default": {}})],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

case("local-root-consumer-non-aws-provider-no-crash", "Deliberate differences",
     "Same for a CONSUMER local root (cloud.provider azure): no panic, no aws block, the "
     "resource is stored on both documents.",
     req(span("recv", kind=CONSUMER, parent=PID,
              attrs={"aws.span.kind": "LOCAL_ROOT", "aws.local.service": "worker",
                     "aws.remote.service": "bus"}),
         resource={"cloud.provider": "azure"}),
     [sub("bus", parent="S", namespace="remote", aws=None,
          metadata=mdd({"otel.resource.cloud.provider": "azure", "aws.span.kind": "LOCAL_ROOT",
                        "aws.local.service": "worker", "aws.remote.service": "bus"})),
      doc("worker", id="S", parent_id=PID, aws=None,
          metadata=mdd({"otel.resource.cloud.provider": "azure"}))],
     ignore=["0:parent_id", "1:id"], same_values=[["0:parent_id", "1:id"]])

# ---- 6. URLs (v0.130) -----------------------------------------------------------------

case("url-query-appended-after-path-client", "Upstream changes: v0.130 url.query",
     "CLIENT span: url.query is appended with '?' after url.path (not stored as the target), "
     "host from net.peer.name, port from net.peer.port.",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.request.method": "GET", "url.scheme": "https", "net.peer.name": "api.example",
         "net.peer.port": 8443, "url.path": "/users", "url.query": "page=2"})),
     [sub("api.example", namespace="remote", http={
         "request": {"method": "GET", "url": "https://api.example:8443/users?page=2"},
         "response": {"content_length": 0}})])

case("url-query-without-path-uses-slash-client", "Upstream changes: v0.130 url.query",
     "CLIENT span without url.path: '/' then '?' + url.query.",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.request.method": "GET", "net.peer.name": "h.example", "url.query": "a=1"})),
     [sub("h.example", namespace="remote", http={
         "request": {"method": "GET", "url": "http://h.example/?a=1"},
         "response": {"content_length": 0}})])

# ---- deliberate: client URL host from server.address -------------------------------------

case("client-url-host-from-server-address", "Deliberate differences",
     "Deliberate difference: a CLIENT URL without the older host keys takes its host from "
     "server.address and its port from server.port (upstream: \"https:///users\").",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.request.method": "GET", "url.scheme": "https",
         "server.address": "api.example.com", "server.port": 8443, "url.path": "/users"})),
     [sub("GET", namespace="remote", http={
         "request": {"method": "GET", "url": "https://api.example.com:8443/users"},
         "response": {"content_length": 0}})])

case("client-url-server-address-default-port-omitted", "Deliberate differences",
     "server.address host with https:443: the port is left out.",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.request.method": "GET", "url.scheme": "https",
         "server.address": "api.example.com", "server.port": 443, "url.path": "/users"})),
     [sub("GET", namespace="remote", http={
         "request": {"method": "GET", "url": "https://api.example.com/users"},
         "response": {"content_length": 0}})])

case("client-url-older-host-keys-beat-server-address", "Deliberate differences",
     "net.peer.name (and http.host, net.peer.ip) still win over server.address; server.port "
     "is not used with them.",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.request.method": "GET", "net.peer.name": "peer.example",
         "server.address": "api.example.com", "server.port": 8443, "url.path": "/u"})),
     [sub("peer.example", namespace="remote", http={
         "request": {"method": "GET", "url": "http://peer.example/u"},
         "response": {"content_length": 0}})])

# ---- deliberate: JavaScript stacks for nodejs / webjs ------------------------------------

JS_NODE = ("Error: boom\n"
           "    at handler (/app/server.js:12:9)\n"
           "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)")
JS_NODE_FRAMES = [fr("/app/server.js", 12, "handler "),
                  fr("node", 0, "process.processTicksAndRejections ")]
lang_case("js-stack-nodejs-parsed", "nodejs", "Error", "boom", JS_NODE,
          [{"id": "x", "type": "Error", "message": "boom", "remote": False,
            "stack": JS_NODE_FRAMES}],
          "Deliberate difference: telemetry.sdk.language nodejs (what the OpenTelemetry JS "
          "SDK reports) parses the JavaScript stack; upstream only does so for javascript. "
          "Frames are split as the javascript parser splits them (a node: location keeps "
          "the text before its first colon, line 0).")
cases[-1]["section"] = "xraybridge"

lang_case("js-stack-webjs-parsed", "webjs", "Error", "boom", JS_NODE,
          [{"id": "x", "type": "Error", "message": "boom", "remote": False,
            "stack": JS_NODE_FRAMES}],
          "Deliberate difference: webjs (the browser SDK) parses JavaScript stacks too.")
cases[-1]["section"] = "xraybridge"

lang_case("js-stack-unknown-language-no-stack", "ruby", "Error", "boom", JS_NODE,
          [{"id": "x", "type": "Error", "message": "boom", "remote": False}],
          "A language without a parser (ruby) still gives no stack.")

# ---- deliberate, opt-in: read_new_semantic_conventions -----------------------------------

NEW_DB = {"db.system.name": "postgresql", "db.namespace": "orders",
          "db.query.text": "SELECT * FROM o WHERE id = $1", "db.collection.name": "o",
          "server.address": "db.example", "network.peer.port": 5432}

case("new-semconv-off-db-keys-in-metadata", "Upstream changes: unchanged in v0.156",
     "Default (upstream v0.156): the newer db.* keys are not read; no sql block, the span "
     "name is used, the keys stay in metadata (server.address consumed by the http step).",
     req(span("SELECT orders", kind=CLIENT, parent=PID, attrs=NEW_DB)),
     [sub("SELECT orders", namespace="remote",
          metadata=md(**{"db.system.name": "postgresql", "db.namespace": "orders",
                         "db.query.text": "SELECT * FROM o WHERE id = $1",
                         "db.collection.name": "o", "network.peer.port": 5432}))])

case("new-semconv-on-sql-block-and-name", "Deliberate differences",
     "read_new_semantic_conventions: db.system.name, db.namespace, db.query.text fill the "
     "sql block and db.namespace names the span, exactly where db.system, db.name, "
     "db.statement are read; db.collection.name (not DynamoDB) stays in metadata.",
     req(span("SELECT orders", kind=CLIENT, parent=PID, attrs=NEW_DB)),
     [sub("orders", namespace="remote",
          metadata=md(**{"db.collection.name": "o"}),
          sql={"url": "SELECT orders", "connection_string": "localhost/orders",
               "database_type": "postgresql",
               "sanitized_query": "SELECT * FROM o WHERE id = $1"})],
     config={"read_new_semantic_conventions": True})

case("new-semconv-on-old-keys-win", "Deliberate differences",
     "read_new_semantic_conventions: when both are present the older key is used and both "
     "are consumed.",
     req(span("q", kind=CLIENT, parent=PID, attrs={
         "db.system": "mysql", "db.system.name": "postgresql", "db.name": "old",
         "db.namespace": "new", "db.statement": "SELECT 1", "db.query.text": "SELECT 2"})),
     [sub("old", namespace="remote",
          sql={"url": "q", "connection_string": "localhost/old", "database_type": "mysql",
               "sanitized_query": "SELECT 1"})],
     config={"read_new_semantic_conventions": True})

case("new-semconv-on-renamed-sql-system", "Deliberate differences",
     "read_new_semantic_conventions: microsoft.sql_server (the newer name of mssql) is an "
     "SQL system; db.namespace with db.connection_string names the span name@host.",
     req(span("q", kind=CLIENT, parent=PID, attrs={
         "db.system.name": "microsoft.sql_server", "db.namespace": "sales",
         "db.connection_string": "sqlserver://sql.example:1433"})),
     [sub("sales@sql.example", namespace="remote",
          sql={"url": "q", "connection_string": "sqlserver://sql.example:1433/sales",
               "database_type": "microsoft.sql_server"})],
     config={"read_new_semantic_conventions": True})

case("new-semconv-off-renamed-sql-system-not-sql", "Upstream changes: unchanged in v0.156",
     "Default: db.system = microsoft.sql_server is not an SQL system upstream; no sql block.",
     req(span("q", kind=CLIENT, parent=PID, attrs={"db.system": "microsoft.sql_server"})),
     [sub("q", namespace="remote", metadata=md(**{"db.system": "microsoft.sql_server"}))])

case("new-semconv-on-network-peer-port", "Deliberate differences",
     "read_new_semantic_conventions: network.peer.port is the URL port where net.peer.port "
     "would be, and is consumed.",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.request.method": "GET", "net.peer.name": "h.example",
         "network.peer.port": 8080, "url.path": "/x"})),
     [sub("h.example", namespace="remote", http={
         "request": {"method": "GET", "url": "http://h.example:8080/x"},
         "response": {"content_length": 0}})],
     config={"read_new_semantic_conventions": True})

case("new-semconv-off-network-peer-port-in-metadata", "Upstream changes: unchanged in v0.156",
     "Default: network.peer.port is not read (no port in the URL) and stays in metadata.",
     req(span("GET", kind=CLIENT, parent=PID, attrs={
         "http.request.method": "GET", "net.peer.name": "h.example",
         "network.peer.port": 8080, "url.path": "/x"})),
     [sub("h.example", namespace="remote", http={
         "request": {"method": "GET", "url": "http://h.example/x"},
         "response": {"content_length": 0}},
          metadata=md(**{"network.peer.port": 8080}))])

case("new-semconv-on-message-body-size", "Deliberate differences",
     "read_new_semantic_conventions: messaging.message.body.size is the response "
     "content_length where messaging.message_payload_size_bytes would be (message.type "
     "RECEIVED); messaging.destination.name names a CONSUMER with no other name source.",
     req(span("orders receive", kind=CONSUMER, parent=PID, attrs={
         "http.method": "GET", "message.type": "RECEIVED",
         "messaging.message.body.size": 42, "messaging.destination.name": "orders"})),
     [doc("orders", parent_id=PID, http={
         "request": {"method": "GET"}, "response": {"content_length": 42}},
          metadata=md(**{"message.type": "RECEIVED", "messaging.message.body.size": 42,
                         "messaging.destination.name": "orders"}))],
     config={"read_new_semantic_conventions": True})

case("new-semconv-off-message-body-size", "Upstream changes: unchanged in v0.156",
     "Default: messaging.message.body.size gives content_length 0, destination name unused.",
     req(span("orders receive", kind=CONSUMER, parent=PID, attrs={
         "http.method": "GET", "message.type": "RECEIVED",
         "messaging.message.body.size": 42, "messaging.destination.name": "orders"})),
     [doc("orders receive", parent_id=PID, http={
         "request": {"method": "GET"}, "response": {"content_length": 0}},
          metadata=md(**{"message.type": "RECEIVED", "messaging.message.body.size": 42,
                         "messaging.destination.name": "orders"}))])

case("new-semconv-on-destination-name-producer", "Deliberate differences",
     "read_new_semantic_conventions: a PRODUCER with no other name source is named after "
     "messaging.destination.name (namespace remote); aws.remote.service still wins.",
     req(span("publish", kind=PRODUCER, parent=PID,
              attrs={"messaging.destination.name": "events"}),
         span("publish", kind=PRODUCER, parent=PID, sid=SID2,
              attrs={"messaging.destination.name": "events", "aws.remote.service": "bus"})),
     [sub("events", namespace="remote", metadata=md(**{"messaging.destination.name": "events"})),
      sub("bus", id=SID2, namespace="remote",
          metadata=md(**{"messaging.destination.name": "events",
                         "aws.remote.service": "bus"}))],
     config={"read_new_semantic_conventions": True})

case("new-semconv-on-dynamodb-collection-table-name", "Deliberate differences",
     "read_new_semantic_conventions: for db.system.name aws.dynamodb, db.collection.name "
     "is the aws table_name (where aws.table_name would be) and is consumed.",
     req(span("GetItem", kind=CLIENT, parent=PID, attrs={
         "db.system.name": "aws.dynamodb", "db.collection.name": "users"})),
     [sub("GetItem", namespace="remote",
          aws={"table_name": "users", "xray": {"auto_instrumentation": False}},
          metadata=md(**{"db.system.name": "aws.dynamodb"}))],
     config={"read_new_semantic_conventions": True})



case("bytes-value-base64", "Fields: annotations / metadata",
     "bytesValue attributes go to metadata as standard padded base64, as Go's "
     "encoding/json writes []byte, whatever alphabet and padding the OTLP/JSON input used "
     "(1, 2 and 3 bytes; URL-safe unpadded input).",
     req(span("x", attrs={"b1": Raw({"bytesValue": "YQ"}), "b2": Raw({"bytesValue": "aGk="}),
                          "b3": Raw({"bytesValue": "YWJj"}),
                          "url": Raw({"bytesValue": "-_8"})})),
     [doc("x", metadata=md(b1="YQ==", b2="aGk=", b3="YWJj", url="+/8="))])


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".json"):
            os.remove(os.path.join(OUT, f))
    seen = set()
    for i, c in enumerate(cases, 1):
        if c["name"] in seen:
            sys.exit("duplicate case name " + c["name"])
        seen.add(c["name"])
        path = os.path.join(OUT, "%03d-%s.json" % (i, c["name"]))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(c, f, indent=2, ensure_ascii=False)
            f.write("\n")
    print("%d cases written to %s" % (len(cases), OUT))


if __name__ == "__main__":
    main()
