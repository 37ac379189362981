/*
 * receiver/xray_daemon.c - checks one X-Ray daemon-protocol datagram (xray_daemon.h).
 * Parses with jansson (docs/json.md): the library the receiver already links, with
 * exact integers for "version" and a built-in nesting cap of 2048 levels.
 */
#include "receiver/xray_daemon.h"

#include <jansson.h>
#include <string.h>

static const char *const labels[XB_UDP_VERDICT_COUNT] = {
    [XB_UDP_OK] = "ok",
    [XB_UDP_BAD_HEADER] = "bad_header",
    [XB_UDP_BAD_JSON] = "bad_json",
    [XB_UDP_MISSING_FIELD] = "missing_field",
    [XB_UDP_TOO_LARGE] = "too_large",
    [XB_UDP_QUEUE_FULL] = "queue_full",
    [XB_UDP_KERNEL_OVERFLOW] = "kernel_overflow",
};

const char *xb_udp_verdict_label(enum xb_udp_verdict v)
{
    return (unsigned)v < XB_UDP_VERDICT_COUNT ? labels[v] : "unknown";
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

/* 16 hex digits. */
static int is_span_id(const char *s)
{
    return s && strlen(s) == 16 && is_hex(s, 16);
}

/* "1-" 8 hex "-" 24 hex (the X-Ray trace id format). */
static int is_trace_id(const char *s)
{
    return s && strlen(s) == 35 && s[0] == '1' && s[1] == '-' && is_hex(s + 2, 8) && s[10] == '-' &&
           is_hex(s + 11, 24);
}

static int header_ok(const char *h, size_t n)
{
    json_error_t e;
    json_t *o = json_loadb(h, n, JSON_REJECT_DUPLICATES, &e);
    json_t *f, *v;
    int ok = 0;

    if (!o)
        return 0;
    f = json_object_get(o, "format");
    v = json_object_get(o, "version");
    ok = json_is_object(o) && json_is_string(f) && strcmp(json_string_value(f), "json") == 0 &&
         json_is_integer(v) && json_integer_value(v) == 1;
    json_decref(o);
    return ok;
}

enum xb_udp_verdict xb_xray_daemon_check(const void *buf, size_t len, struct xb_xray_doc *out,
                                         const char **why)
{
    const char *p = buf;
    const char *nl = len ? memchr(p, '\n', len) : NULL;
    const char *dummy;
    json_error_t e;
    json_t *doc = NULL, *v;
    const char *type, *s;
    enum xb_udp_verdict rc = XB_UDP_OK;

    if (!why)
        why = &dummy;
    memset(out, 0, sizeof(*out));
    if (!nl || !header_ok(p, (size_t)(nl - p))) {
        *why = "first line is not the header {\"format\": \"json\", \"version\": 1}";
        return XB_UDP_BAD_HEADER;
    }
    out->json = nl + 1;
    out->len = len - (size_t)(nl + 1 - p);
    if (out->len > XB_XRAY_MAX_DOCUMENT_BYTES) {
        *why = "document larger than X-Ray's 64 KiB limit";
        return XB_UDP_TOO_LARGE;
    }
    doc = json_loadb(out->json, out->len, 0, &e);
    if (!doc || !json_is_object(doc)) {
        *why = doc ? "document is not a JSON object" : "document is not valid JSON";
        rc = XB_UDP_BAD_JSON;
        goto out;
    }
    rc = XB_UDP_MISSING_FIELD;
    v = json_object_get(doc, "type");
    type = json_string_value(v);
    if (v && !type) {
        *why = "\"type\" is not a string";
        goto out;
    }
    out->subsegment = type && strcmp(type, "subsegment") == 0;
    s = json_string_value(json_object_get(doc, "id"));
    if (!is_span_id(s)) {
        *why = "\"id\" missing or not 16 hex digits";
        goto out;
    }
    memcpy(out->id, s, 17);
    s = json_string_value(json_object_get(doc, "trace_id"));
    if (!is_trace_id(s)) {
        *why = "\"trace_id\" missing or not 1-8hex-24hex";
        goto out;
    }
    memcpy(out->trace_id, s, 36);
    s = json_string_value(json_object_get(doc, "name"));
    if (!s || !*s) {
        *why = "\"name\" missing or empty";
        goto out;
    }
    if (!json_is_number(json_object_get(doc, "start_time"))) {
        *why = "\"start_time\" missing or not a number";
        goto out;
    }
    out->in_progress = json_is_true(json_object_get(doc, "in_progress"));
    v = json_object_get(doc, "end_time");
    if (!out->in_progress && !json_is_number(v)) {
        *why = "\"end_time\" missing or not a number on a completed document";
        goto out;
    }
    if (out->subsegment && !is_span_id(json_string_value(json_object_get(doc, "parent_id")))) {
        *why = "subsegment without a 16-hex \"parent_id\"";
        goto out;
    }
    rc = XB_UDP_OK;
out:
    json_decref(doc);
    if (rc != XB_UDP_OK)
        out->json = NULL, out->len = 0;
    return rc;
}
