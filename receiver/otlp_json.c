/*
 * receiver/otlp_json.c - OTLP/JSON ExportTraceServiceRequest -> protobuf-c structs.
 *
 * Implements the OTLP "JSON Protobuf Encoding": the proto3 JSON mapping with the OTLP
 * deviations (hex trace/span ids, integer-only enums, lowerCamelCase keys; snake_case
 * proto names are accepted too). cJSON or jansson parses the body (receiver/json_tree.h
 * picks one per request, with identical results); the tree is then walked
 * once and every output object (messages, pointer arrays, strings, byte buffers) is
 * allocated from the request arena, so the result has exactly the shape
 * xb_otlp_decode_protobuf() produces and is released with the arena.
 *
 * The rules accepted here are written up for users in docs/otlp-json.md.
 */
#include "receiver/otlp_decode.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hex.h"
#include "receiver/json_tree.h"
#include "receiver/otlp_limits.h"

struct ctx {
    struct xb_arena *arena;
    const struct xb_jtree *t; /* the parsed body */
    const char *err;          /* static description of the first failure */
    int need_exact;           /* cJSON tree cannot be read like jansson's: parse again */
};

/*
 * One JSON field: its lowerCamelCase and proto (snake_case) names plus the two static
 * error descriptions reported for it: wrong JSON type, and right type but bad value.
 */
struct field {
    const char *camel;
    const char *snake;
    const char *bad_type;
    const char *bad_value;
};

#define FIELD(camel, snake, type_msg, value_msg)                                                   \
    {                                                                                              \
        camel, snake, camel ": " type_msg, camel ": " value_msg                                    \
    }

#define MSG_ARRAY "must be an array"
#define MSG_OBJS "array elements must be objects"
#define MSG_OBJ "must be an object"
#define MSG_STR "must be a string"
#define MSG_INT "must be an integer or a decimal string"
#define MSG_INT_RANGE "invalid integer or out of range"
#define MSG_HEX_TYPE "must be a hex string"
#define MSG_HEX "invalid hex"
#define MSG_ENUM "enum must be an integer"
#define MSG_ENUM_RANGE "enum out of range"

/* ---- field tables --------------------------------------------------------------- */

/* Shared by several messages. */
static const struct field F_ATTRIBUTES = FIELD("attributes", "attributes", MSG_ARRAY, MSG_OBJS);
static const struct field F_DROPPED_ATTRS =
    FIELD("droppedAttributesCount", "dropped_attributes_count", MSG_INT, MSG_INT_RANGE);
static const struct field F_SCHEMA_URL = FIELD("schemaUrl", "schema_url", MSG_STR, MSG_STR);
static const struct field F_NAME = FIELD("name", "name", MSG_STR, MSG_STR);
static const struct field F_TRACE_ID = FIELD("traceId", "trace_id", MSG_HEX_TYPE, MSG_HEX);
static const struct field F_SPAN_ID = FIELD("spanId", "span_id", MSG_HEX_TYPE, MSG_HEX);
static const struct field F_TRACE_STATE = FIELD("traceState", "trace_state", MSG_STR, MSG_STR);
static const struct field F_FLAGS = FIELD("flags", "flags", MSG_INT, MSG_INT_RANGE);

/* ExportTraceServiceRequest, ResourceSpans, ScopeSpans. */
static const struct field F_RESOURCE_SPANS =
    FIELD("resourceSpans", "resource_spans", MSG_ARRAY, MSG_OBJS);
static const struct field F_RESOURCE = FIELD("resource", "resource", MSG_OBJ, MSG_OBJ);
static const struct field F_SCOPE_SPANS = FIELD("scopeSpans", "scope_spans", MSG_ARRAY, MSG_OBJS);
static const struct field F_SCOPE = FIELD("scope", "scope", MSG_OBJ, MSG_OBJ);
static const struct field F_SPANS = FIELD("spans", "spans", MSG_ARRAY, MSG_OBJS);

/* Resource, EntityRef, InstrumentationScope. */
static const struct field F_ENTITY_REFS = FIELD("entityRefs", "entity_refs", MSG_ARRAY, MSG_OBJS);
static const struct field F_TYPE = FIELD("type", "type", MSG_STR, MSG_STR);
static const struct field F_ID_KEYS =
    FIELD("idKeys", "id_keys", MSG_ARRAY, "array elements must be strings");
static const struct field F_DESC_KEYS =
    FIELD("descriptionKeys", "description_keys", MSG_ARRAY, "array elements must be strings");
static const struct field F_VERSION = FIELD("version", "version", MSG_STR, MSG_STR);

/* Span, Event, Link, Status. */
static const struct field F_PARENT_SPAN_ID =
    FIELD("parentSpanId", "parent_span_id", MSG_HEX_TYPE, MSG_HEX);
static const struct field F_KIND = FIELD("kind", "kind", MSG_ENUM, MSG_ENUM_RANGE);
static const struct field F_START =
    FIELD("startTimeUnixNano", "start_time_unix_nano", MSG_INT, MSG_INT_RANGE);
static const struct field F_END =
    FIELD("endTimeUnixNano", "end_time_unix_nano", MSG_INT, MSG_INT_RANGE);
static const struct field F_EVENTS = FIELD("events", "events", MSG_ARRAY, MSG_OBJS);
static const struct field F_DROPPED_EVENTS =
    FIELD("droppedEventsCount", "dropped_events_count", MSG_INT, MSG_INT_RANGE);
static const struct field F_LINKS = FIELD("links", "links", MSG_ARRAY, MSG_OBJS);
static const struct field F_DROPPED_LINKS =
    FIELD("droppedLinksCount", "dropped_links_count", MSG_INT, MSG_INT_RANGE);
static const struct field F_STATUS = FIELD("status", "status", MSG_OBJ, MSG_OBJ);
static const struct field F_TIME = FIELD("timeUnixNano", "time_unix_nano", MSG_INT, MSG_INT_RANGE);
static const struct field F_MESSAGE = FIELD("message", "message", MSG_STR, MSG_STR);
static const struct field F_CODE = FIELD("code", "code", MSG_ENUM, MSG_ENUM_RANGE);

/* KeyValue, AnyValue, ArrayValue, KeyValueList. */
static const struct field F_KEY = FIELD("key", "key", MSG_STR, MSG_STR);
static const struct field F_VALUE = FIELD("value", "value", MSG_OBJ, MSG_OBJ);
static const struct field F_STRING_VALUE = FIELD("stringValue", "string_value", MSG_STR, MSG_STR);
static const struct field F_BOOL_VALUE =
    FIELD("boolValue", "bool_value", "must be true or false", "must be true or false");
static const struct field F_INT_VALUE = FIELD("intValue", "int_value", MSG_INT, MSG_INT_RANGE);
static const struct field F_DOUBLE_VALUE =
    FIELD("doubleValue", "double_value", "must be a number or a numeric string", "invalid number");
static const struct field F_ARRAY_VALUE = FIELD("arrayValue", "array_value", MSG_OBJ, MSG_OBJ);
static const struct field F_KVLIST_VALUE = FIELD("kvlistValue", "kvlist_value", MSG_OBJ, MSG_OBJ);
static const struct field F_BYTES_VALUE =
    FIELD("bytesValue", "bytes_value", "must be a base64 string", "invalid base64");
static const struct field F_ARRAY_VALUES =
    FIELD("arrayValue.values", "values", MSG_ARRAY, MSG_OBJS);
static const struct field F_KVLIST_VALUES =
    FIELD("kvlistValue.values", "values", MSG_ARRAY, MSG_OBJS);

/* ---- small helpers -------------------------------------------------------------- */

static int fail(struct ctx *c, int rc, const char *desc)
{
    c->err = desc;
    return rc;
}

static int nomem(struct ctx *c)
{
    return fail(c, XB_ERR_NOMEM, "out of memory while decoding OTLP/JSON");
}

/* Compares the first bytes before calling strcmp(): a member is tested against each of its
 * object's fields in turn, and most tests fail on the first byte. */
static inline int key_is(const char *key, const struct field *f)
{
    return (key[0] == f->camel[0] && strcmp(key, f->camel) == 0) ||
           (key[0] == f->snake[0] && strcmp(key, f->snake) == 0);
}

static void *msg_alloc(struct ctx *c, size_t size)
{
    return xb_arena_alloc(c->arena, size);
}

/* Copies a JSON string into the arena (NUL-terminated; an empty string is not copied). */
static int copy_string(struct ctx *c, const void *v, char **out)
{
    size_t len;
    const char *src = xb_jt_str(c->t, v, &len);
    char *s;

    if (len == 0) {
        *out = (char *)protobuf_c_empty_string;
        return XB_OK;
    }
    s = xb_arena_strndup(c->arena, src, len);
    if (!s)
        return nomem(c);
    *out = s;
    return XB_OK;
}

static int get_string(struct ctx *c, const void *v, const struct field *f, char **out)
{
    if (xb_jt_type(c->t, v) != XB_JT_STRING)
        return fail(c, XB_ERR_INVALID, f->bad_type);
    return copy_string(c, v, out);
}

/* Unsigned decimal digits only (no sign, blanks, or exponent). 0 on success. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/*
 * Unsigned integer field (uint32, fixed32, fixed64) no larger than |max|: a JSON
 * integer, a decimal string, or a JSON real with no fractional part.
 */
static int get_uint(struct ctx *c, const void *v, const struct field *f, uint64_t max,
                    uint64_t *out)
{
    enum xb_jt_type ty = xb_jt_type(c->t, v);
    uint64_t u;

    if (ty == XB_JT_INT) {
        int64_t i = xb_jt_int(c->t, v);
        if (i < 0)
            goto bad_value;
        u = (uint64_t)i;
    } else if (ty == XB_JT_REAL) {
        double d = xb_jt_real(c->t, v);
        /* 18446744073709551616.0 is 2^64, the first value that does not fit. */
        if (!isfinite(d) || d < 0 || d != floor(d) || d >= 18446744073709551616.0)
            goto bad_value;
        u = (uint64_t)d;
    } else if (ty == XB_JT_STRING) {
        size_t len;
        const char *s = xb_jt_str(c->t, v, &len);
        if (parse_u64(s, len, &u) != 0)
            goto bad_value;
    } else {
        return fail(c, XB_ERR_INVALID, f->bad_type);
    }
    if (u > max)
        goto bad_value;
    *out = u;
    return XB_OK;
bad_value:
    return fail(c, XB_ERR_INVALID, f->bad_value);
}

static int get_u32(struct ctx *c, const void *v, const struct field *f, uint32_t *out)
{
    uint64_t u;
    int rc = get_uint(c, v, f, UINT32_MAX, &u);
    if (rc == XB_OK)
        *out = (uint32_t)u;
    return rc;
}

/* Signed 64-bit integer (AnyValue.intValue): JSON integer, decimal string, integral real. */
static int get_i64(struct ctx *c, const void *v, const struct field *f, int64_t *out)
{
    enum xb_jt_type ty = xb_jt_type(c->t, v);

    if (ty == XB_JT_INT) {
        *out = xb_jt_int(c->t, v);
    } else if (ty == XB_JT_REAL) {
        double d = xb_jt_real(c->t, v);
        /* [-2^63, 2^63) are the doubles that convert to int64 without overflow. */
        if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
            d >= 9223372036854775808.0)
            goto bad_value;
        *out = (int64_t)d;
    } else if (ty == XB_JT_STRING) {
        size_t len;
        const char *s = xb_jt_str(c->t, v, &len);
        int neg = len > 0 && s[0] == '-';
        uint64_t mag;

        if (parse_u64(s + neg, len - (size_t)neg, &mag) != 0)
            goto bad_value;
        if (neg) {
            if (mag > (uint64_t)INT64_MAX + 1)
                goto bad_value;
            /* -(mag - 1) - 1 stays representable even for INT64_MIN. */
            *out = mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
        } else {
            if (mag > (uint64_t)INT64_MAX)
                goto bad_value;
            *out = (int64_t)mag;
        }
    } else {
        return fail(c, XB_ERR_INVALID, f->bad_type);
    }
    return XB_OK;
bad_value:
    return fail(c, XB_ERR_INVALID, f->bad_value);
}

/* OTLP enums (SpanKind, StatusCode) must be JSON integers; proto enums are int32. */
static int get_enum(struct ctx *c, const void *v, const struct field *f, int *out)
{
    int64_t i;

    if (xb_jt_type(c->t, v) != XB_JT_INT)
        return fail(c, XB_ERR_INVALID, f->bad_type);
    i = xb_jt_int(c->t, v);
    if (i < INT32_MIN || i > INT32_MAX)
        return fail(c, XB_ERR_INVALID, f->bad_value);
    *out = (int)i;
    return XB_OK;
}

/* proto3 JSON doubles: numbers, "NaN", "Infinity", "-Infinity", or a numeric string. */
static int get_double(struct ctx *c, const void *v, const struct field *f, double *out)
{
    const char *s;
    size_t len;
    char *end;
    double d;

    enum xb_jt_type ty = xb_jt_type(c->t, v);

    if (ty == XB_JT_INT) {
        *out = (double)xb_jt_int(c->t, v);
        return XB_OK;
    }
    if (ty == XB_JT_REAL) {
        *out = xb_jt_real(c->t, v);
        return XB_OK;
    }
    if (ty != XB_JT_STRING)
        return fail(c, XB_ERR_INVALID, f->bad_type);
    s = xb_jt_str(c->t, v, &len);
    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
        return XB_OK;
    }
    if (strcmp(s, "Infinity") == 0) {
        *out = INFINITY;
        return XB_OK;
    }
    if (strcmp(s, "-Infinity") == 0) {
        *out = -INFINITY;
        return XB_OK;
    }
    /* Restrict the alphabet so strtod's extras (hex floats, "inf", blanks) are refused. */
    if (len == 0 || strspn(s, "0123456789+-.eE") != len)
        return fail(c, XB_ERR_INVALID, f->bad_value);
    errno = 0;
    d = strtod(s, &end);
    if (end != s + len || isinf(d))
        return fail(c, XB_ERR_INVALID, f->bad_value);
    *out = d;
    return XB_OK;
}

/*
 * OTLP ids: hex of any case; "" leaves the field empty. Length is not checked here:
 * the translator rejects spans with wrong-size ids one by one (partial success).
 */
static int get_hex(struct ctx *c, const void *v, const struct field *f, ProtobufCBinaryData *out)
{
    const char *s;
    size_t len;
    uint8_t *buf;

    if (xb_jt_type(c->t, v) != XB_JT_STRING)
        return fail(c, XB_ERR_INVALID, f->bad_type);
    s = xb_jt_str(c->t, v, &len);
    if (len == 0) {
        out->len = 0;
        out->data = NULL;
        return XB_OK;
    }
    if (len % 2 != 0)
        return fail(c, XB_ERR_INVALID, f->bad_value);
    buf = xb_arena_alloc(c->arena, len / 2);
    if (!buf)
        return nomem(c);
    for (size_t i = 0; i < len / 2; i++) {
        int hi = xb_hex_value(s[2 * i]);
        int lo = xb_hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(c, XB_ERR_INVALID, f->bad_value);
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    out->len = len / 2;
    out->data = buf;
    return XB_OK;
}

/* Standard or URL-safe base64 alphabet value of |ch|, or -1. */
static int b64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

/*
 * proto3 JSON bytes: base64 with or without '=' padding (padding, when present, must
 * complete the last quantum). Trailing bits in the last character are ignored.
 */
static int get_base64(struct ctx *c, const void *v, const struct field *f, ProtobufCBinaryData *out)
{
    const char *s;
    size_t len, n, pad = 0, olen, o = 0;
    uint8_t *buf;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (xb_jt_type(c->t, v) != XB_JT_STRING)
        return fail(c, XB_ERR_INVALID, f->bad_type);
    s = xb_jt_str(c->t, v, &len);
    n = len;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if ((pad > 0 && len % 4 != 0) || n % 4 == 1)
        return fail(c, XB_ERR_INVALID, f->bad_value);
    olen = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    if (olen == 0) {
        out->len = 0;
        out->data = NULL;
        return XB_OK;
    }
    buf = xb_arena_alloc(c->arena, olen);
    if (!buf)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        int d = b64_value(s[i]);
        if (d < 0)
            return fail(c, XB_ERR_INVALID, f->bad_value);
        acc = (acc << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out->len = olen;
    out->data = buf;
    return XB_OK;
}

/*
 * Checks that |v| is a JSON array and allocates its pointer array (NULL when empty,
 * as protobuf-c unpack leaves it). |elem| is the size of one array slot.
 */
static int get_array(struct ctx *c, const void *v, const struct field *f, size_t elem, size_t *n,
                     void **mem)
{
    size_t count;

    if (xb_jt_type(c->t, v) != XB_JT_ARRAY)
        return fail(c, XB_ERR_INVALID, f->bad_type);
    count = xb_jt_array_size(c->t, v);
    *n = count;
    *mem = NULL;
    if (count == 0)
        return XB_OK;
    if (count > SIZE_MAX / elem)
        return nomem(c);
    *mem = xb_arena_alloc(c->arena, count * elem);
    return *mem ? XB_OK : nomem(c);
}

/* ---- generic message walk ----------------------------------------------------------- */

/*
 * How one message type is decoded. |attach| runs the protobuf-c initializer on a fresh
 * |msg| and stores it in *|slot|, which is a pointer of the message's own type (the
 * adapter is what keeps every store correctly typed). |member| decodes one key of the
 * JSON object (never called for null values; unknown keys return XB_OK). |depth| is
 * the AnyValue nesting level; only the value messages look at it.
 */
struct msg_type {
    size_t size;        /* bytes of the protobuf-c struct */
    unsigned max_depth; /* deepest accepted |depth|; 0 = not limited */
    void (*attach)(void *msg, void *slot);
    int (*member)(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg);
};

/*
 * Allocates a message of type |t|, stores it in *|slot| and decodes the members of the
 * JSON object |obj| into it. On failure *|slot| may hold a partly decoded message: the
 * whole request fails, so nothing reads it.
 */
static int dec_message(struct ctx *c, const void *obj, unsigned depth, const struct msg_type *t,
                       void *slot)
{
    struct xb_jt_iter it;
    const char *key = NULL;
    const void *v;
    void *msg;
    int rc = XB_OK;

    if (t->max_depth != 0 && depth > t->max_depth)
        return fail(c, XB_ERR_INVALID, XB_OTLP_DEPTH_ERROR);
    if (xb_jt_object_check(c->t, obj) != 0) {
        c->need_exact = 1;
        return fail(c, XB_ERR_INVALID, "invalid JSON");
    }
    msg = msg_alloc(c, t->size);
    if (!msg)
        return nomem(c);
    t->attach(msg, slot);
    for (v = xb_jt_object_first(c->t, obj, &it, &key); v; v = xb_jt_object_next(c->t, &it, &key)) {
        if (xb_jt_type(c->t, v) == XB_JT_NULL)
            continue;
        rc = t->member(c, key, v, depth, msg);
        if (rc != XB_OK)
            break;
    }
    return rc;
}

/* Singular message field |f|: |v| must be a JSON object. */
static int dec_sub(struct ctx *c, const void *v, const struct field *f, unsigned depth,
                   const struct msg_type *t, void *slot)
{
    if (xb_jt_type(c->t, v) != XB_JT_OBJECT)
        return fail(c, XB_ERR_INVALID, f->bad_type);
    return dec_message(c, v, depth, t, slot);
}

/*
 * Repeated field |f|: decodes the JSON array |v| into an arena array of pointers, to
 * messages of type |t| (elements must be objects) or, when |t| is NULL, to strings
 * (elements must be strings). The array (NULL when empty) goes to *|arr_out| and its
 * length to *|n_out|, both only on success.
 */
static int dec_repeated(struct ctx *c, const void *v, const struct field *f, unsigned depth,
                        const struct msg_type *t, size_t *n_out, void **arr_out)
{
    /* All pointers to structs share one representation (C11 6.2.5p28). */
    size_t elem = t ? sizeof(ProtobufCMessage *) : sizeof(char *);
    enum xb_jt_type want = t ? XB_JT_OBJECT : XB_JT_STRING;
    struct xb_jt_iter it;
    size_t n, i = 0;
    const void *e;
    void *mem;
    int rc = get_array(c, v, f, elem, &n, &mem);

    if (rc != XB_OK)
        goto out;
    for (e = xb_jt_array_first(c->t, v, &it); e; e = xb_jt_array_next(c->t, &it), i++) {
        void *slot = (char *)mem + i * elem;

        if (xb_jt_type(c->t, e) != want) {
            rc = fail(c, XB_ERR_INVALID, f->bad_value);
            goto out;
        }
        rc = t ? dec_message(c, e, depth, t, slot) : copy_string(c, e, slot);
        if (rc != XB_OK)
            goto out;
    }
    *arr_out = mem;
    *n_out = n;
out:
    return rc;
}

/* ---- common.proto ----------------------------------------------------------------- */

/* AnyValue nests through ArrayValue and KeyValueList, which need its type first. */
static int any_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg);

static void attach_any(void *msg, void *slot)
{
    opentelemetry__proto__common__v1__any_value__init(msg);
    *(xb_pb_any **)slot = msg;
}

/* A top-level attribute value is depth 1; arrayValue/kvlistValue add one each. */
static const struct msg_type ANY_T = {sizeof(xb_pb_any), XB_OTLP_MAX_ANYVALUE_DEPTH, attach_any,
                                      any_member};

static void attach_kv(void *msg, void *slot)
{
    opentelemetry__proto__common__v1__key_value__init(msg);
    *(xb_pb_kv **)slot = msg;
}

static int kv_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_kv *kv = msg;
    int rc = XB_OK;

    if (key_is(key, &F_KEY))
        rc = get_string(c, v, &F_KEY, &kv->key);
    else if (key_is(key, &F_VALUE))
        rc = dec_sub(c, v, &F_VALUE, depth, &ANY_T, &kv->value);
    return rc;
}

static const struct msg_type KV_T = {sizeof(xb_pb_kv), 0, attach_kv, kv_member};

/* repeated KeyValue (attributes, kvlistValue.values); |depth| is passed to the values. */
static int dec_kv_array(struct ctx *c, const void *v, const struct field *f, unsigned depth,
                        size_t *n_out, xb_pb_kv ***out)
{
    void *arr;
    int rc = dec_repeated(c, v, f, depth, &KV_T, n_out, &arr);

    if (rc == XB_OK)
        *out = arr;
    return rc;
}

static void attach_array_value(void *msg, void *slot)
{
    opentelemetry__proto__common__v1__array_value__init(msg);
    *(xb_pb_array **)slot = msg;
}

static int array_value_member(struct ctx *c, const char *key, const void *v, unsigned depth,
                              void *msg)
{
    xb_pb_array *a = msg;
    void *arr;
    int rc = XB_OK;

    if (key_is(key, &F_ARRAY_VALUES)) {
        rc = dec_repeated(c, v, &F_ARRAY_VALUES, depth, &ANY_T, &a->n_values, &arr);
        if (rc == XB_OK)
            a->values = arr;
    }
    return rc;
}

static const struct msg_type ARRAY_VALUE_T = {sizeof(xb_pb_array), 0, attach_array_value,
                                              array_value_member};

static void attach_kvlist_value(void *msg, void *slot)
{
    opentelemetry__proto__common__v1__key_value_list__init(msg);
    *(xb_pb_kvlist **)slot = msg;
}

static int kvlist_value_member(struct ctx *c, const char *key, const void *v, unsigned depth,
                               void *msg)
{
    xb_pb_kvlist *l = msg;
    int rc = XB_OK;

    if (key_is(key, &F_KVLIST_VALUES))
        rc = dec_kv_array(c, v, &F_KVLIST_VALUES, depth, &l->n_values, &l->values);
    return rc;
}

static const struct msg_type KVLIST_VALUE_T = {sizeof(xb_pb_kvlist), 0, attach_kvlist_value,
                                               kvlist_value_member};

/*
 * AnyValue: a oneof. When a sender sets several members the last one in the object
 * wins rather than failing the request; an object with none stays "empty".
 */
static int any_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_any *a = msg;
    Opentelemetry__Proto__Common__V1__AnyValue__ValueCase vc = a->value_case;
    int rc = XB_OK;

    if (key_is(key, &F_STRING_VALUE)) {
        vc = XB_ANY_STRING;
        rc = get_string(c, v, &F_STRING_VALUE, &a->string_value);
    } else if (key_is(key, &F_BOOL_VALUE)) {
        vc = XB_ANY_BOOL;
        enum xb_jt_type ty = xb_jt_type(c->t, v);
        if (ty == XB_JT_TRUE || ty == XB_JT_FALSE)
            a->bool_value = ty == XB_JT_TRUE;
        else
            rc = fail(c, XB_ERR_INVALID, F_BOOL_VALUE.bad_type);
    } else if (key_is(key, &F_INT_VALUE)) {
        vc = XB_ANY_INT;
        rc = get_i64(c, v, &F_INT_VALUE, &a->int_value);
    } else if (key_is(key, &F_DOUBLE_VALUE)) {
        vc = XB_ANY_DOUBLE;
        rc = get_double(c, v, &F_DOUBLE_VALUE, &a->double_value);
    } else if (key_is(key, &F_BYTES_VALUE)) {
        vc = XB_ANY_BYTES;
        rc = get_base64(c, v, &F_BYTES_VALUE, &a->bytes_value);
    } else if (key_is(key, &F_ARRAY_VALUE)) {
        vc = XB_ANY_ARRAY;
        rc = dec_sub(c, v, &F_ARRAY_VALUE, depth + 1, &ARRAY_VALUE_T, &a->array_value);
    } else if (key_is(key, &F_KVLIST_VALUE)) {
        vc = XB_ANY_KVLIST;
        rc = dec_sub(c, v, &F_KVLIST_VALUE, depth + 1, &KVLIST_VALUE_T, &a->kvlist_value);
    }
    /* The getters write only on success, so a failed member leaves the union as it was. */
    if (rc == XB_OK)
        a->value_case = vc;
    return rc;
}

static void attach_entity_ref(void *msg, void *slot)
{
    opentelemetry__proto__common__v1__entity_ref__init(msg);
    *(Opentelemetry__Proto__Common__V1__EntityRef **)slot = msg;
}

static int entity_ref_member(struct ctx *c, const char *key, const void *v, unsigned depth,
                             void *msg)
{
    Opentelemetry__Proto__Common__V1__EntityRef *r = msg;
    void *arr;
    int rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_SCHEMA_URL)) {
        rc = get_string(c, v, &F_SCHEMA_URL, &r->schema_url);
    } else if (key_is(key, &F_TYPE)) {
        rc = get_string(c, v, &F_TYPE, &r->type);
    } else if (key_is(key, &F_ID_KEYS)) {
        rc = dec_repeated(c, v, &F_ID_KEYS, 0, NULL, &r->n_id_keys, &arr);
        if (rc == XB_OK)
            r->id_keys = arr;
    } else if (key_is(key, &F_DESC_KEYS)) {
        rc = dec_repeated(c, v, &F_DESC_KEYS, 0, NULL, &r->n_description_keys, &arr);
        if (rc == XB_OK)
            r->description_keys = arr;
    }
    return rc;
}

static const struct msg_type ENTITY_REF_T = {sizeof(Opentelemetry__Proto__Common__V1__EntityRef), 0,
                                             attach_entity_ref, entity_ref_member};

static void attach_scope(void *msg, void *slot)
{
    opentelemetry__proto__common__v1__instrumentation_scope__init(msg);
    *(xb_pb_scope **)slot = msg;
}

static int scope_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_scope *s = msg;
    int rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_NAME))
        rc = get_string(c, v, &F_NAME, &s->name);
    else if (key_is(key, &F_VERSION))
        rc = get_string(c, v, &F_VERSION, &s->version);
    else if (key_is(key, &F_ATTRIBUTES))
        rc = dec_kv_array(c, v, &F_ATTRIBUTES, 1, &s->n_attributes, &s->attributes);
    else if (key_is(key, &F_DROPPED_ATTRS))
        rc = get_u32(c, v, &F_DROPPED_ATTRS, &s->dropped_attributes_count);
    return rc;
}

static const struct msg_type SCOPE_T = {sizeof(xb_pb_scope), 0, attach_scope, scope_member};

/* ---- resource.proto --------------------------------------------------------------- */

static void attach_resource(void *msg, void *slot)
{
    opentelemetry__proto__resource__v1__resource__init(msg);
    *(xb_pb_resource **)slot = msg;
}

static int resource_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_resource *r = msg;
    void *arr;
    int rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_ATTRIBUTES)) {
        rc = dec_kv_array(c, v, &F_ATTRIBUTES, 1, &r->n_attributes, &r->attributes);
    } else if (key_is(key, &F_DROPPED_ATTRS)) {
        rc = get_u32(c, v, &F_DROPPED_ATTRS, &r->dropped_attributes_count);
    } else if (key_is(key, &F_ENTITY_REFS)) {
        rc = dec_repeated(c, v, &F_ENTITY_REFS, 0, &ENTITY_REF_T, &r->n_entity_refs, &arr);
        if (rc == XB_OK)
            r->entity_refs = arr;
    }
    return rc;
}

static const struct msg_type RESOURCE_T = {sizeof(xb_pb_resource), 0, attach_resource,
                                           resource_member};

/* ---- trace.proto ------------------------------------------------------------------ */

static void attach_status(void *msg, void *slot)
{
    opentelemetry__proto__trace__v1__status__init(msg);
    *(xb_pb_status **)slot = msg;
}

static int status_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_status *s = msg;
    int code, rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_MESSAGE)) {
        rc = get_string(c, v, &F_MESSAGE, &s->message);
    } else if (key_is(key, &F_CODE)) {
        rc = get_enum(c, v, &F_CODE, &code);
        if (rc == XB_OK)
            s->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)code;
    }
    return rc;
}

static const struct msg_type STATUS_T = {sizeof(xb_pb_status), 0, attach_status, status_member};

static void attach_event(void *msg, void *slot)
{
    opentelemetry__proto__trace__v1__span__event__init(msg);
    *(xb_pb_event **)slot = msg;
}

static int event_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_event *ev = msg;
    int rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_TIME))
        rc = get_uint(c, v, &F_TIME, UINT64_MAX, &ev->time_unix_nano);
    else if (key_is(key, &F_NAME))
        rc = get_string(c, v, &F_NAME, &ev->name);
    else if (key_is(key, &F_ATTRIBUTES))
        rc = dec_kv_array(c, v, &F_ATTRIBUTES, 1, &ev->n_attributes, &ev->attributes);
    else if (key_is(key, &F_DROPPED_ATTRS))
        rc = get_u32(c, v, &F_DROPPED_ATTRS, &ev->dropped_attributes_count);
    return rc;
}

static const struct msg_type EVENT_T = {sizeof(xb_pb_event), 0, attach_event, event_member};

static void attach_link(void *msg, void *slot)
{
    opentelemetry__proto__trace__v1__span__link__init(msg);
    *(xb_pb_link **)slot = msg;
}

static int link_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_link *l = msg;
    int rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_TRACE_ID))
        rc = get_hex(c, v, &F_TRACE_ID, &l->trace_id);
    else if (key_is(key, &F_SPAN_ID))
        rc = get_hex(c, v, &F_SPAN_ID, &l->span_id);
    else if (key_is(key, &F_TRACE_STATE))
        rc = get_string(c, v, &F_TRACE_STATE, &l->trace_state);
    else if (key_is(key, &F_ATTRIBUTES))
        rc = dec_kv_array(c, v, &F_ATTRIBUTES, 1, &l->n_attributes, &l->attributes);
    else if (key_is(key, &F_DROPPED_ATTRS))
        rc = get_u32(c, v, &F_DROPPED_ATTRS, &l->dropped_attributes_count);
    else if (key_is(key, &F_FLAGS))
        rc = get_u32(c, v, &F_FLAGS, &l->flags);
    return rc;
}

static const struct msg_type LINK_T = {sizeof(xb_pb_link), 0, attach_link, link_member};

static void attach_span(void *msg, void *slot)
{
    opentelemetry__proto__trace__v1__span__init(msg);
    *(xb_pb_span **)slot = msg;
}

static int span_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_span *s = msg;
    void *arr;
    int kind, rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_TRACE_ID)) {
        rc = get_hex(c, v, &F_TRACE_ID, &s->trace_id);
    } else if (key_is(key, &F_SPAN_ID)) {
        rc = get_hex(c, v, &F_SPAN_ID, &s->span_id);
    } else if (key_is(key, &F_PARENT_SPAN_ID)) {
        rc = get_hex(c, v, &F_PARENT_SPAN_ID, &s->parent_span_id);
    } else if (key_is(key, &F_TRACE_STATE)) {
        rc = get_string(c, v, &F_TRACE_STATE, &s->trace_state);
    } else if (key_is(key, &F_FLAGS)) {
        rc = get_u32(c, v, &F_FLAGS, &s->flags);
    } else if (key_is(key, &F_NAME)) {
        rc = get_string(c, v, &F_NAME, &s->name);
    } else if (key_is(key, &F_KIND)) {
        rc = get_enum(c, v, &F_KIND, &kind);
        if (rc == XB_OK)
            s->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)kind;
    } else if (key_is(key, &F_START)) {
        rc = get_uint(c, v, &F_START, UINT64_MAX, &s->start_time_unix_nano);
    } else if (key_is(key, &F_END)) {
        rc = get_uint(c, v, &F_END, UINT64_MAX, &s->end_time_unix_nano);
    } else if (key_is(key, &F_ATTRIBUTES)) {
        rc = dec_kv_array(c, v, &F_ATTRIBUTES, 1, &s->n_attributes, &s->attributes);
    } else if (key_is(key, &F_DROPPED_ATTRS)) {
        rc = get_u32(c, v, &F_DROPPED_ATTRS, &s->dropped_attributes_count);
    } else if (key_is(key, &F_DROPPED_EVENTS)) {
        rc = get_u32(c, v, &F_DROPPED_EVENTS, &s->dropped_events_count);
    } else if (key_is(key, &F_DROPPED_LINKS)) {
        rc = get_u32(c, v, &F_DROPPED_LINKS, &s->dropped_links_count);
    } else if (key_is(key, &F_STATUS)) {
        rc = dec_sub(c, v, &F_STATUS, 0, &STATUS_T, &s->status);
    } else if (key_is(key, &F_EVENTS)) {
        rc = dec_repeated(c, v, &F_EVENTS, 0, &EVENT_T, &s->n_events, &arr);
        if (rc == XB_OK)
            s->events = arr;
    } else if (key_is(key, &F_LINKS)) {
        rc = dec_repeated(c, v, &F_LINKS, 0, &LINK_T, &s->n_links, &arr);
        if (rc == XB_OK)
            s->links = arr;
    }
    return rc;
}

static const struct msg_type SPAN_T = {sizeof(xb_pb_span), 0, attach_span, span_member};

static void attach_scope_spans(void *msg, void *slot)
{
    opentelemetry__proto__trace__v1__scope_spans__init(msg);
    *(xb_pb_scope_spans **)slot = msg;
}

static int scope_spans_member(struct ctx *c, const char *key, const void *v, unsigned depth,
                              void *msg)
{
    xb_pb_scope_spans *ss = msg;
    void *arr;
    int rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_SCOPE)) {
        rc = dec_sub(c, v, &F_SCOPE, 0, &SCOPE_T, &ss->scope);
    } else if (key_is(key, &F_SCHEMA_URL)) {
        rc = get_string(c, v, &F_SCHEMA_URL, &ss->schema_url);
    } else if (key_is(key, &F_SPANS)) {
        rc = dec_repeated(c, v, &F_SPANS, 0, &SPAN_T, &ss->n_spans, &arr);
        if (rc == XB_OK)
            ss->spans = arr;
    }
    return rc;
}

static const struct msg_type SCOPE_SPANS_T = {sizeof(xb_pb_scope_spans), 0, attach_scope_spans,
                                              scope_spans_member};

static void attach_resource_spans(void *msg, void *slot)
{
    opentelemetry__proto__trace__v1__resource_spans__init(msg);
    *(xb_pb_resource_spans **)slot = msg;
}

static int resource_spans_member(struct ctx *c, const char *key, const void *v, unsigned depth,
                                 void *msg)
{
    xb_pb_resource_spans *rs = msg;
    void *arr;
    int rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_RESOURCE)) {
        rc = dec_sub(c, v, &F_RESOURCE, 0, &RESOURCE_T, &rs->resource);
    } else if (key_is(key, &F_SCHEMA_URL)) {
        rc = get_string(c, v, &F_SCHEMA_URL, &rs->schema_url);
    } else if (key_is(key, &F_SCOPE_SPANS)) {
        rc = dec_repeated(c, v, &F_SCOPE_SPANS, 0, &SCOPE_SPANS_T, &rs->n_scope_spans, &arr);
        if (rc == XB_OK)
            rs->scope_spans = arr;
    }
    return rc;
}

static const struct msg_type RESOURCE_SPANS_T = {sizeof(xb_pb_resource_spans), 0,
                                                 attach_resource_spans, resource_spans_member};

static void attach_request(void *msg, void *slot)
{
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(msg);
    *(xb_pb_export_req **)slot = msg;
}

static int request_member(struct ctx *c, const char *key, const void *v, unsigned depth, void *msg)
{
    xb_pb_export_req *r = msg;
    void *arr;
    int rc = XB_OK;

    (void)depth;
    if (key_is(key, &F_RESOURCE_SPANS)) {
        rc =
            dec_repeated(c, v, &F_RESOURCE_SPANS, 0, &RESOURCE_SPANS_T, &r->n_resource_spans, &arr);
        if (rc == XB_OK)
            r->resource_spans = arr;
    }
    return rc;
}

static const struct msg_type REQUEST_T = {sizeof(xb_pb_export_req), 0, attach_request,
                                          request_member};

/* ---- entry point ------------------------------------------------------------------ */

/*
 * Decodes the tree |t| of the body into *|req|. Returns the decoder's status; sets
 * c->need_exact when a cJSON tree cannot be read like jansson's would be.
 */
static int decode_tree(struct ctx *c, const struct xb_jtree *t, xb_pb_export_req **req)
{
    c->t = t;
    if (xb_jt_type(t, t->root) != XB_JT_OBJECT)
        return fail(c, XB_ERR_INVALID, "request: top level must be a JSON object");
    return dec_message(c, t->root, 0, &REQUEST_T, req);
}

int xb_otlp_decode_json(const void *data, size_t len, struct xb_arena *arena,
                        xb_pb_export_req **out, const char **err_desc)
{
    return xb_otlp_decode_json_ex(data, len, arena, 0, out, err_desc, NULL);
}

int xb_otlp_decode_json_ex(const void *data, size_t len, struct xb_arena *arena, int jansson_only,
                           xb_pb_export_req **out, const char **err_desc, int *used_cjson)
{
    struct ctx c = {arena, NULL, NULL, 0};
    struct xb_arena_mark mark;
    struct xb_json_scan scan;
    struct xb_jtree tree;
    xb_pb_export_req *req = NULL;
    uint8_t *bits = NULL;
    int rc;

    /*
     * Both parse trees are allocated from the request arena, so they count against
     * the request's memory cap like the decoded messages: a small body that expands
     * to a huge tree (`{"resourceSpans":[{},{},...]}`) fails with the arena exhausted
     * instead of growing the heap (receiver/json_tree.c installs the allocator hooks).
     *
     * cJSON is tried first when xb_json_pick() allows it (docs/otlp-json.md,
     * "Parsers"). When cJSON refuses the body, or the tree holds what it cannot
     * represent like jansson (a duplicate key), everything allocated since the mark
     * is released and the body is parsed again with jansson, whose result and error
     * description are then the answer: behaviour is jansson's on every input.
     */
    if (used_cjson)
        *used_cjson = 0;
    xb_arena_mark(arena, &mark);
    if (len > 0 && !jansson_only) {
        bits = xb_arena_calloc(arena, (len + 1) / 2 / 8 + 1);
        if (!bits) {
            rc = fail(&c, XB_ERR_NOMEM, "out of memory while parsing JSON");
            goto out;
        }
    }
    if (!jansson_only && bits && xb_json_pick(data, len, bits, &scan) == XB_JSON_CJSON) {
        rc = xb_json_parse(XB_JSON_CJSON, data, len, arena, bits, &scan, &tree, &c.err);
        if (rc == XB_OK) {
            rc = decode_tree(&c, &tree, &req);
            /* Out of memory is retried too: jansson's tree can be the smaller one. */
            if (!c.need_exact && rc != XB_ERR_NOMEM) {
                if (used_cjson)
                    *used_cjson = 1;
                goto out;
            }
        }
    }
    xb_arena_release(arena, &mark);
    c.need_exact = 0;
    c.err = NULL;
    req = NULL;
    rc = xb_json_parse(XB_JSON_JANSSON, data, len, arena, NULL, NULL, &tree, &c.err);
    if (rc == XB_OK)
        rc = decode_tree(&c, &tree, &req);
out:
    if (rc == XB_OK)
        *out = req;
    else
        *err_desc = c.err;
    return rc;
}
