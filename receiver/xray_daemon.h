/*
 * receiver/xray_daemon.h - the X-Ray daemon's UDP datagram format, as a pure decision:
 * is one datagram a segment document we forward, and if not, why not.
 *
 * A datagram is the header line {"format": "json", "version": 1}, a newline, and one
 * segment or subsegment document (docs/migration.md; the format is the one the AWS
 * X-Ray SDKs send to the daemon on UDP port 2000). Accepted documents are forwarded
 * byte-for-byte as the SDK wrote them; this module only checks them.
 */
#ifndef XB_RECEIVER_XRAY_DAEMON_H
#define XB_RECEIVER_XRAY_DAEMON_H

#include <stddef.h>

/* X-Ray's limit on one segment document, bytes (PutTraceSegments). */
#define XB_XRAY_MAX_DOCUMENT_BYTES (64u * 1024u)

/*
 * Why a datagram was dropped, for xraybridge_receiver_udp_dropped_total{reason}.
 * XB_UDP_OK (0) means the datagram carries a document to forward.
 */
enum xb_udp_verdict {
    XB_UDP_OK = 0,
    XB_UDP_BAD_HEADER,      /* "bad_header": no newline, or not the JSON v1 header */
    XB_UDP_BAD_JSON,        /* "bad_json": the document is not one JSON object */
    XB_UDP_MISSING_FIELD,   /* "missing_field": a required field is absent or malformed */
    XB_UDP_TOO_LARGE,       /* "too_large": document over XB_XRAY_MAX_DOCUMENT_BYTES */
    XB_UDP_QUEUE_FULL,      /* "queue_full": an exporter queue had no room */
    XB_UDP_KERNEL_OVERFLOW, /* "kernel_overflow": dropped by the kernel (SO_RXQ_OVFL) */
    XB_UDP_VERDICT_COUNT
};

/* The label value of |v| ("bad_header", ...); "ok" for XB_UDP_OK. Static string. */
const char *xb_udp_verdict_label(enum xb_udp_verdict v);

/* One accepted document: a view into the datagram plus its identity. */
struct xb_xray_doc {
    const char *json;  /* the document's bytes inside the datagram (borrowed) */
    size_t len;        /* its length, bytes */
    char trace_id[36]; /* "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx", NUL-terminated */
    char id[17];       /* 16 hex digits, NUL-terminated */
    int subsegment;    /* 1 when "type" is "subsegment" */
    int in_progress;   /* 1 when "in_progress" is true */
};

/*
 * Decides whether the datagram |buf| (|len| bytes) carries a valid segment document.
 * On XB_UDP_OK fills |out| (pointing into |buf|). Otherwise returns the reason and, when
 * |why| is not NULL, sets it to a static English description for the log.
 * Checks: header object with "format" == "json" and "version" == 1 (any JSON
 * whitespace, no duplicate keys); document <= XB_XRAY_MAX_DOCUMENT_BYTES; document is a JSON object
 * with "id" (16 hex), "trace_id" (1-8hex-24hex), "name" (non-empty string), "start_time" (number);
 * a subsegment ("type": "subsegment") also needs "parent_id" (16 hex). "end_time" may be absent
 * when "in_progress" is true. Never returns XB_UDP_QUEUE_FULL or XB_UDP_KERNEL_OVERFLOW. The
 * document is valid JSON by jansson's rules (strict RFC 8259, UTF-8, no \u0000, integers within
 * int64, reals finite, at most 2048 levels); duplicate keys are allowed and the last one counts.
 * One pass, no allocation, no recursion.
 */
enum xb_udp_verdict xb_xray_daemon_check(const void *buf, size_t len, struct xb_xray_doc *out,
                                         const char **why);

/*
 * The same decision made by parsing the document with jansson (a tree per call): the
 * reference xb_xray_daemon_check() must agree with on every input (verdict, |why| and
 * |out|), checked by the fuzz target tests/fuzz/fuzz_xray.c and the unit tests. The
 * fast check calls it itself for the rare inputs its scanner leaves to jansson.
 */
enum xb_udp_verdict xb_xray_daemon_check_reference(const void *buf, size_t len,
                                                   struct xb_xray_doc *out, const char **why);

#endif
