/*
 * receiver/xray_daemon.c - checks one X-Ray daemon-protocol datagram (xray_daemon.h).
 *
 * The document is checked by one pass of a strict, non-recursive scanner that builds
 * no tree: it verifies the JSON grammar (RFC 8259) with exactly the restrictions of the
 * jansson parser the check used before (docs/json.md: UTF-8 validated, no \u0000, no
 * lone surrogate, 64-bit integer range, nesting capped at 2048 levels), and remembers
 * where the top-level members the check needs are (the last occurrence of a key wins,
 * as in jansson). Two rare cases it cannot settle byte by byte - a header line other
 * than the two forms the SDKs write, and a real number that may overflow a double -
 * go to the jansson check, xb_xray_daemon_check_reference(), which the fuzz target
 * fuzz_xray compares the scanner with.
 */
#include "receiver/xray_daemon.h"
#include "core/hex.h"

#include <jansson.h>
#include <stdint.h>
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

static const char WHY_HEADER[] =
    "first line is not the header {\"format\": \"json\", \"version\": 1}";
static const char WHY_TOO_LARGE[] = "document larger than X-Ray's 64 KiB limit";
static const char WHY_NOT_OBJECT[] = "document is not a JSON object";
static const char WHY_NOT_JSON[] = "document is not valid JSON";
static const char WHY_TYPE[] = "\"type\" is not a string";
static const char WHY_ID[] = "\"id\" missing or not 16 hex digits";
static const char WHY_TRACE_ID[] = "\"trace_id\" missing or not 1-8hex-24hex";
static const char WHY_NAME[] = "\"name\" missing or empty";
static const char WHY_START[] = "\"start_time\" missing or not a number";
static const char WHY_END[] = "\"end_time\" missing or not a number on a completed document";
static const char WHY_PARENT[] = "subsegment without a 16-hex \"parent_id\"";

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

/* 16 hex digits, |n| bytes at |s|. */
static int is_span_id(const char *s, size_t n)
{
    return s && n == 16 && is_hex(s, 16);
}

/* "1-" 8 hex "-" 24 hex (the X-Ray trace id format), |n| bytes at |s|. */
static int is_trace_id(const char *s, size_t n)
{
    return s && n == 35 && s[0] == '1' && s[1] == '-' && is_hex(s + 2, 8) && s[10] == '-' &&
           is_hex(s + 11, 24);
}

/* ------------------------------------------------ reference (jansson) --- */

static int header_ok(const char *h, size_t n)
{
    json_error_t e;
    json_t *o = json_loadb(h, n, JSON_REJECT_DUPLICATES, &e);
    json_t *f, *v;
    int ok = 0;

    if (!o)
        return 0;
    if (memchr(h, '\0', n)) { /* a raw NUL: see the note above jstr() */
        json_decref(o);
        return 0;
    }
    f = json_object_get(o, "format");
    v = json_object_get(o, "version");
    ok = json_is_object(o) && json_is_string(f) && strcmp(json_string_value(f), "json") == 0 &&
         json_is_integer(v) && json_integer_value(v) == 1;
    json_decref(o);
    return ok;
}

/*
 * jansson (2.14, load.c stream_get/stream_unget) skips one NUL byte that directly
 * follows a number or a literal: the byte it pushes back after a token is read again
 * only when non-zero. Such a document is not JSON and X-Ray refuses it, so the
 * reference refuses any raw NUL byte before calling jansson (the scanner refuses them
 * by grammar).
 */

/* A jansson string's value and length (0 / NULL when |v| is not a string). */
static const char *jstr(json_t *v, size_t *n)
{
    const char *s = json_string_value(v);
    *n = s ? json_string_length(v) : 0;
    return s;
}

/* The document checks on a parsed |doc|; shared by nothing else, kept for the fuzz
 * comparison and the rare inputs the scanner hands over. */
static enum xb_udp_verdict check_tree(json_t *doc, struct xb_xray_doc *out, const char **why)
{
    json_t *v;
    const char *type, *s;
    size_t n;

    v = json_object_get(doc, "type");
    type = json_string_value(v);
    if (v && !type)
        return *why = WHY_TYPE, XB_UDP_MISSING_FIELD;
    out->subsegment = type && strcmp(type, "subsegment") == 0;
    s = jstr(json_object_get(doc, "id"), &n);
    if (!is_span_id(s, n))
        return *why = WHY_ID, XB_UDP_MISSING_FIELD;
    memcpy(out->id, s, 17);
    s = jstr(json_object_get(doc, "trace_id"), &n);
    if (!is_trace_id(s, n))
        return *why = WHY_TRACE_ID, XB_UDP_MISSING_FIELD;
    memcpy(out->trace_id, s, 36);
    s = json_string_value(json_object_get(doc, "name"));
    if (!s || !*s)
        return *why = WHY_NAME, XB_UDP_MISSING_FIELD;
    if (!json_is_number(json_object_get(doc, "start_time")))
        return *why = WHY_START, XB_UDP_MISSING_FIELD;
    out->in_progress = json_is_true(json_object_get(doc, "in_progress"));
    if (!out->in_progress && !json_is_number(json_object_get(doc, "end_time")))
        return *why = WHY_END, XB_UDP_MISSING_FIELD;
    s = jstr(json_object_get(doc, "parent_id"), &n);
    if (out->subsegment && !is_span_id(s, n))
        return *why = WHY_PARENT, XB_UDP_MISSING_FIELD;
    return XB_UDP_OK;
}

/* Splits off the header line; fills out->json / out->len. */
static enum xb_udp_verdict split(const char *p, size_t len, int jansson_header,
                                 struct xb_xray_doc *out, const char **why);

enum xb_udp_verdict xb_xray_daemon_check_reference(const void *buf, size_t len,
                                                   struct xb_xray_doc *out, const char **why)
{
    const char *dummy;
    json_error_t e;
    json_t *doc;
    enum xb_udp_verdict rc;

    if (!why)
        why = &dummy;
    rc = split(buf, len, 1, out, why);
    if (rc != XB_UDP_OK)
        return rc;
    doc = memchr(out->json, '\0', out->len) ? NULL : json_loadb(out->json, out->len, 0, &e);
    if (!doc || !json_is_object(doc)) {
        *why = doc ? WHY_NOT_OBJECT : WHY_NOT_JSON;
        rc = XB_UDP_BAD_JSON;
    } else {
        rc = check_tree(doc, out, why);
    }
    json_decref(doc);
    if (rc != XB_UDP_OK)
        out->json = NULL, out->len = 0;
    return rc;
}

/* ------------------------------------------------------------ header --- */

static enum xb_udp_verdict split(const char *p, size_t len, int jansson_header,
                                 struct xb_xray_doc *out, const char **why)
{
    static const char canon1[] = "{\"format\": \"json\", \"version\": 1}";
    static const char canon2[] = "{\"format\":\"json\",\"version\":1}";
    const char *nl = len ? memchr(p, '\n', len) : NULL;
    size_t hl = nl ? (size_t)(nl - p) : 0;
    int ok;

    memset(out, 0, sizeof(*out));
    if (!nl)
        ok = 0;
    else if (!jansson_header && ((hl == sizeof(canon1) - 1 && memcmp(p, canon1, hl) == 0) ||
                                 (hl == sizeof(canon2) - 1 && memcmp(p, canon2, hl) == 0)))
        ok = 1; /* the forms the X-Ray SDKs write */
    else
        ok = header_ok(p, hl);
    if (!ok)
        return *why = WHY_HEADER, XB_UDP_BAD_HEADER;
    out->json = nl + 1;
    out->len = len - (hl + 1);
    if (out->len > XB_XRAY_MAX_DOCUMENT_BYTES)
        return *why = WHY_TOO_LARGE, XB_UDP_TOO_LARGE;
    return XB_UDP_OK;
}

/* ----------------------------------------------------------- scanner --- */

/* The top-level members the check reads. */
enum { F_ID, F_TRACE_ID, F_NAME, F_START, F_END, F_TYPE, F_PARENT, F_IN_PROGRESS, F_COUNT };

/* One member's value: kind 0 = absent, 's' string (|p|, |n|: the bytes between the
 * quotes, |esc| when they hold escapes), 'n' number, 't' true, other values 'x'. */
struct tok {
    const unsigned char *p;
    size_t n;
    unsigned char kind, esc;
};

enum scan_rc { SCAN_OBJECT, SCAN_NOT_OBJECT, SCAN_INVALID, SCAN_UNSURE };

/* jansson's JSON_PARSER_MAX_DEPTH: a value inside this many containers is refused. */
#define MAX_DEPTH 2048

/* Bytes that end a run of plain string bytes: '"', '\\', controls, non-ASCII. */
static const unsigned char str_stop[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 1,
};

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Non-zero when one of the eight bytes of |x| ends a run of plain string bytes
 * (str_stop): a byte >= 0x80, < 0x20, '"' or '\\'. Bit tricks from "Bit Twiddling
 * Hacks" (determine if a word has a byte less than n / equal to n). */
static uint64_t swar_stop(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return (x | ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

/* The code unit of "\uXXXX" at |p| (6 bytes available), -1 when malformed. */
/* Length of the valid UTF-8 sequence at |p| (jansson's utf8_check_*: no overlong
 * forms, no surrogates, at most U+10FFFF), 0 when invalid or cut short. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    uint32_t v;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, v = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, v = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
        (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return n;
}

/* Scans the string whose opening quote is at |p|. Returns the byte after the closing
 * quote, NULL when the string is malformed. Sets |*esc| when it holds escapes. */
static const unsigned char *scan_string(const unsigned char *p, const unsigned char *end,
                                        unsigned char *esc)
{
    *esc = 0;
    p++;
    for (;;) {
        /* eight plain bytes at a time: none is '"', '\\', a control or non-ASCII */
        while (end - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (swar_stop(x))
                break;
            p += 8;
        }
        while (p < end && !str_stop[*p])
            p++;
        if (p >= end)
            return NULL;
        if (*p == '"')
            return p + 1;
        if (*p < 0x20)
            return NULL;
        if (*p >= 0x80) {
            size_t n = utf8_len(p, end);
            if (!n)
                return NULL;
            p += n;
            continue;
        }
        /* backslash */
        *esc = 1;
        if (end - p < 2)
            return NULL;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            p += 2;
            continue;
        case 'u':
            break;
        default:
            return NULL;
        }
        if (end - p < 6) {
            return NULL;
        } else {
            long u = xb_hex4(p + 2);
            if (u <= 0 || (u >= 0xdc00 && u <= 0xdfff))
                return NULL; /* malformed, \u0000, or a lone low surrogate */
            p += 6;
            if (u >= 0xd800 && u <= 0xdbff) {
                long lo;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
                    return NULL;
                lo = xb_hex4(p + 2);
                if (lo < 0xdc00 || lo > 0xdfff)
                    return NULL;
                p += 6;
            }
        }
    }
}

/* Decodes the escapes of a string's bytes into |dst| (|cap| bytes). Returns the decoded
 * length, or cap + 1 when it does not fit. The string was validated by scan_string. */
static size_t unescape(const unsigned char *s, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    const unsigned char *end = s + n;

    while (s < end) {
        unsigned long u;
        unsigned char c = *s;
        if (c != '\\') {
            if (o >= cap)
                return cap + 1;
            dst[o++] = (char)c, s++;
            continue;
        }
        if (s[1] != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            if (o >= cap)
                return cap + 1;
            dst[o++] = to[strchr(from, s[1]) - from];
            s += 2;
            continue;
        }
        u = (unsigned long)xb_hex4(s + 2);
        s += 6;
        if (u >= 0xd800 && u <= 0xdbff) {
            u = 0x10000 + ((u - 0xd800) << 10) + ((unsigned long)xb_hex4(s + 2) - 0xdc00);
            s += 6;
        }
        {
            char b[4];
            size_t k;
            if (u < 0x80)
                b[0] = (char)u, k = 1;
            else if (u < 0x800)
                b[0] = (char)(0xc0 | (u >> 6)), b[1] = (char)(0x80 | (u & 0x3f)), k = 2;
            else if (u < 0x10000)
                b[0] = (char)(0xe0 | (u >> 12)), b[1] = (char)(0x80 | ((u >> 6) & 0x3f)),
                b[2] = (char)(0x80 | (u & 0x3f)), k = 3;
            else
                b[0] = (char)(0xf0 | (u >> 18)), b[1] = (char)(0x80 | ((u >> 12) & 0x3f)),
                b[2] = (char)(0x80 | ((u >> 6) & 0x3f)), b[3] = (char)(0x80 | (u & 0x3f)), k = 4;
            if (o + k > cap)
                return cap + 1;
            memcpy(dst + o, b, k);
            o += k;
        }
    }
    return o;
}

/* Which member of interest the top-level key |s| (|n| raw bytes) names, or -1. */
static int field_of(const unsigned char *s, size_t n, unsigned char esc)
{
    static const struct {
        const char *name;
        size_t len;
    } names[F_COUNT] = {
        [F_ID] = {"id", 2},
        [F_TRACE_ID] = {"trace_id", 8},
        [F_NAME] = {"name", 4},
        [F_START] = {"start_time", 10},
        [F_END] = {"end_time", 8},
        [F_TYPE] = {"type", 4},
        [F_PARENT] = {"parent_id", 9},
        [F_IN_PROGRESS] = {"in_progress", 11},
    };
    char buf[16];

    if (esc) {
        n = unescape(s, n, buf, sizeof(buf));
        if (n > sizeof(buf))
            return -1;
        s = (const unsigned char *)buf;
    }
    for (int i = 0; i < F_COUNT; i++)
        if (n == names[i].len && memcmp(s, names[i].name, n) == 0)
            return i;
    return -1;
}

/* Scans a number at |p| with jansson's grammar and limits. Returns the byte after it,
 * or NULL with |*rc| set to SCAN_INVALID (malformed, or an integer outside int64) or
 * SCAN_UNSURE (a real that may overflow a double: jansson refuses those). */
static const unsigned char *scan_number(const unsigned char *p, const unsigned char *end,
                                        enum scan_rc *rc)
{
    const unsigned char *d;
    size_t int_digits;
    int neg = 0, real = 0;
    long exp = 0;

    *rc = SCAN_INVALID;
    if (*p == '-')
        neg = 1, p++;
    d = p;
    if (p < end && *p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return NULL;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    int_digits = (size_t)(p - d);
    if (p < end && *p == '.') {
        real = 1, p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        real = 1, p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p == '-', p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9') {
            if (exp < 100000)
                exp = exp * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            exp = -exp;
    }
    if (!real) {
        static const char max_pos[] = "9223372036854775807", max_neg[] = "9223372036854775808";
        if (int_digits > 19 || (int_digits == 19 && memcmp(d, neg ? max_neg : max_pos, 19) > 0))
            return NULL; /* jansson: "too big integer" */
    } else if ((long)int_digits + exp > 300) {
        /* below 10^300 the value is finite; above, let strtod (in jansson) decide */
        *rc = SCAN_UNSURE;
        return NULL;
    }
    return p;
}

static const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/*
 * One pass over the document |s| (|n| bytes): SCAN_OBJECT when it is one well-formed
 * JSON object (the top-level members of interest in |f|), SCAN_NOT_OBJECT for a
 * well-formed array, SCAN_INVALID otherwise, SCAN_UNSURE when only jansson can tell.
 * Nesting is tracked in a bit stack: no recursion, no allocation.
 */
static enum scan_rc scan(const unsigned char *s, size_t n, struct tok *f)
{
    const unsigned char *p = s, *end = s + n;
    unsigned char stack[MAX_DEPTH / 8]; /* bit set: an object is open at that level */
    unsigned depth = 0;
    int field = -1, in_obj = 0;
    enum { VALUE, AFTER_VALUE, KEY_OR_CLOSE, KEY, VALUE_OR_CLOSE } st = VALUE;
    enum scan_rc rc = SCAN_INVALID;
    unsigned char top;

    p = skip_ws(p, end);
    if (p == end || (*p != '{' && *p != '['))
        return SCAN_INVALID;
    top = *p;
    for (;;) {
        struct tok t = {0};
        p = skip_ws(p, end);
        if (p == end)
            return SCAN_INVALID;
        switch (st) {
        case KEY_OR_CLOSE:
            if (*p == '}')
                goto close;
            /* fall through */
        case KEY:
            if (*p != '"')
                return SCAN_INVALID;
            t.p = p + 1;
            p = scan_string(p, end, &t.esc);
            if (!p)
                return SCAN_INVALID;
            field = depth == 1 ? field_of(t.p, (size_t)(p - 1 - t.p), t.esc) : -1;
            p = skip_ws(p, end);
            if (p == end || *p != ':')
                return SCAN_INVALID;
            p++;
            st = VALUE;
            continue;
        case VALUE_OR_CLOSE:
            if (*p == ']')
                goto close;
            /* fall through */
        case VALUE:
            if (depth >= MAX_DEPTH)
                return SCAN_INVALID; /* jansson: "maximum parsing depth reached" */
            t.p = p;
            switch (*p) {
            case '{':
            case '[':
                in_obj = *p == '{';
                if (in_obj)
                    stack[depth / 8] |= (unsigned char)(1u << (depth % 8));
                else
                    stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));
                depth++;
                t.kind = 'x';
                st = in_obj ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
                p++;
                break;
            case '"':
                t.p = p + 1;
                p = scan_string(p, end, &t.esc);
                if (!p)
                    return SCAN_INVALID;
                t.n = (size_t)(p - 1 - t.p);
                t.kind = 's';
                st = AFTER_VALUE;
                break;
            case 't':
            case 'f':
            case 'n': {
                const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
                size_t l = strlen(lit);
                if ((size_t)(end - p) < l || memcmp(p, lit, l) != 0)
                    return SCAN_INVALID;
                t.kind = *p == 't' ? 't' : 'x';
                p += l;
                st = AFTER_VALUE;
                break;
            }
            default:
                p = scan_number(p, end, &rc);
                if (!p)
                    return rc;
                t.kind = 'n';
                st = AFTER_VALUE;
                break;
            }
            if (field >= 0)
                f[field] = t;
            field = -1;
            continue;
        case AFTER_VALUE:
            if (*p == ',') {
                p++;
                st = in_obj ? KEY : VALUE;
                continue;
            }
            if (*p != (in_obj ? '}' : ']'))
                return SCAN_INVALID;
            goto close;
        }
    close:
        p++;
        depth--;
        if (depth == 0)
            return skip_ws(p, end) == end ? (top == '{' ? SCAN_OBJECT : SCAN_NOT_OBJECT)
                                          : SCAN_INVALID;
        in_obj = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
        st = AFTER_VALUE;
    }
}

/* A string member's decoded value in |buf| (|cap| bytes); sets |*n|. NULL when the
 * member is absent, not a string, or longer than |cap|. */
static const char *str_of(const struct tok *t, char *buf, size_t cap, size_t *n)
{
    if (t->kind != 's')
        return NULL;
    if (!t->esc) {
        *n = t->n;
        return (const char *)t->p;
    }
    *n = unescape(t->p, t->n, buf, cap);
    return *n <= cap ? buf : NULL;
}

enum xb_udp_verdict xb_xray_daemon_check(const void *buf, size_t len, struct xb_xray_doc *out,
                                         const char **why)
{
    struct tok f[F_COUNT] = {{0}};
    const char *dummy, *s;
    char tmp[40];
    size_t n = 0;
    enum xb_udp_verdict rc;

    if (!why)
        why = &dummy;
    rc = split(buf, len, 0, out, why);
    if (rc != XB_UDP_OK)
        return rc;
    switch (scan((const unsigned char *)out->json, out->len, f)) {
    case SCAN_OBJECT:
        break;
    case SCAN_UNSURE:
        return xb_xray_daemon_check_reference(buf, len, out, why);
    case SCAN_NOT_OBJECT:
        *why = WHY_NOT_OBJECT;
        rc = XB_UDP_BAD_JSON;
        goto fail;
    default:
        *why = WHY_NOT_JSON;
        rc = XB_UDP_BAD_JSON;
        goto fail;
    }
    rc = XB_UDP_MISSING_FIELD;
    if (f[F_TYPE].kind && f[F_TYPE].kind != 's') {
        *why = WHY_TYPE;
        goto fail;
    }
    s = str_of(&f[F_TYPE], tmp, sizeof(tmp), &n);
    out->subsegment = s && n == 10 && memcmp(s, "subsegment", 10) == 0;
    s = str_of(&f[F_ID], tmp, sizeof(tmp), &n);
    if (!is_span_id(s, n)) {
        *why = WHY_ID;
        goto fail;
    }
    memcpy(out->id, s, 16);
    s = str_of(&f[F_TRACE_ID], tmp, sizeof(tmp), &n);
    if (!is_trace_id(s, n)) {
        *why = WHY_TRACE_ID;
        goto fail;
    }
    memcpy(out->trace_id, s, 35);
    if (f[F_NAME].kind != 's' || f[F_NAME].n == 0) {
        *why = WHY_NAME;
        goto fail;
    }
    if (f[F_START].kind != 'n') {
        *why = WHY_START;
        goto fail;
    }
    out->in_progress = f[F_IN_PROGRESS].kind == 't';
    if (!out->in_progress && f[F_END].kind != 'n') {
        *why = WHY_END;
        goto fail;
    }
    s = str_of(&f[F_PARENT], tmp, sizeof(tmp), &n);
    if (out->subsegment && !is_span_id(s, n)) {
        *why = WHY_PARENT;
        goto fail;
    }
    return XB_UDP_OK;
fail:
    out->json = NULL, out->len = 0;
    return rc;
}
