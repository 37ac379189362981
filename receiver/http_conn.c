#include "receiver/http_conn.h"

#include <string.h>
#include <strings.h>

static uint64_t add_ms(uint64_t since_ms, uint32_t len_ms)
{
    return since_ms + len_ms;
}

struct xb_http_deadline xb_http_deadline_of(enum xb_http_phase phase, uint64_t since_ms,
                                            const struct xb_http_timeouts *to)
{
    struct xb_http_deadline d = {XB_HTTP_DL_NONE, 0};

    switch (phase) {
    case XB_HTTP_PHASE_HEAD:
        if (to->read_header_ms)
            d = (struct xb_http_deadline){XB_HTTP_DL_READ_HEADER,
                                          add_ms(since_ms, to->read_header_ms)};
        if (to->read_ms && (d.kind == XB_HTTP_DL_NONE || to->read_ms < to->read_header_ms))
            d = (struct xb_http_deadline){XB_HTTP_DL_READ, add_ms(since_ms, to->read_ms)};
        break;
    case XB_HTTP_PHASE_BODY:
        if (to->read_ms)
            d = (struct xb_http_deadline){XB_HTTP_DL_READ, add_ms(since_ms, to->read_ms)};
        break;
    case XB_HTTP_PHASE_REPLY:
        if (to->write_ms)
            d = (struct xb_http_deadline){XB_HTTP_DL_WRITE, add_ms(since_ms, to->write_ms)};
        break;
    case XB_HTTP_PHASE_IDLE:
        if (to->idle_ms)
            d = (struct xb_http_deadline){XB_HTTP_DL_IDLE, add_ms(since_ms, to->idle_ms)};
        break;
    }
    return d;
}

const char *xb_http_deadline_name(enum xb_http_deadline_kind kind)
{
    switch (kind) {
    case XB_HTTP_DL_READ_HEADER:
        return "read_header_timeout";
    case XB_HTTP_DL_READ:
        return "read_timeout";
    case XB_HTTP_DL_IDLE:
        return "idle_timeout";
    case XB_HTTP_DL_WRITE:
        return "write_timeout";
    default:
        return "none";
    }
}

void xb_http_head_init(struct xb_http_head *h)
{
    memset(h, 0, sizeof(*h));
}

/* |s| (length |n|) with leading and trailing spaces and tabs removed. */
static const char *trim(const char *s, size_t *n)
{
    while (*n && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
        (*n)--;
    return s;
}

/* Whether the comma-separated list |v| (length |n|) holds the token "chunked". */
static int lists_chunked(const char *v, size_t n)
{
    while (n) {
        size_t len = 0;
        const char *tok;
        while (len < n && v[len] != ',')
            len++;
        tok = trim(v, &len);
        if (len == 7 && strncasecmp(tok, "chunked", 7) == 0)
            return 1;
        while (n && *v != ',') {
            v++;
            n--;
        }
        if (n) {
            v++;
            n--;
        }
    }
    return 0;
}

/* Content-Length value (RFC 9110 section 8.6: 1*DIGIT). */
static void take_length(struct xb_http_head *h, const char *v, size_t n)
{
    uint64_t len = 0;

    if (n == 0 || n > 19) {
        h->bad_length = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            h->bad_length = 1;
            return;
        }
        len = len * 10 + (uint64_t)(v[i] - '0');
    }
    if (h->has_length && h->content_length != len)
        h->bad_length = 1;
    h->has_length = 1;
    h->content_length = len;
}

/* One complete header field line (the kept prefix of it). */
static void take_field(struct xb_http_head *h)
{
    size_t kept = h->line_len < sizeof(h->line) ? h->line_len : sizeof(h->line);
    const char *colon = memchr(h->line, ':', kept);
    size_t name_len, vlen;
    const char *v;

    if (!colon)
        return;
    name_len = (size_t)(colon - h->line);
    vlen = kept - name_len - 1;
    if (h->line_len > sizeof(h->line) && name_len == 14 &&
        strncasecmp(h->line, "content-length", 14) == 0) {
        h->bad_length = 1; /* a value this long is not a valid length */
        return;
    }
    v = trim(colon + 1, &vlen);
    if (name_len == 14 && strncasecmp(h->line, "content-length", 14) == 0)
        take_length(h, v, vlen);
    else if (name_len == 17 && strncasecmp(h->line, "transfer-encoding", 17) == 0)
        h->chunked = h->chunked || lists_chunked(v, vlen);
    else if (name_len == 12 && strncasecmp(h->line, "content-type", 12) == 0)
        h->json = vlen >= 16 && strncasecmp(v, "application/json", 16) == 0 &&
                  (vlen == 16 || v[16] == ';' || v[16] == ' ' || v[16] == '\t');
}

size_t xb_http_head_feed(struct xb_http_head *h, const char *p, size_t n)
{
    size_t i;

    if (h->done)
        return 0;
    for (i = 0; i < n; i++) {
        char c = p[i];
        h->head_bytes++;
        if (c == '\r')
            continue; /* CR is only meaningful before LF; a bare CR is kept out */
        if (c != '\n') {
            if (h->line_len < sizeof(h->line))
                h->line[h->line_len] = c;
            h->line_len++;
            continue;
        }
        if (!h->seen_request_line) {
            if (h->line_len > 0)
                h->seen_request_line = 1;
        } else if (h->line_len == 0) {
            h->done = 1;
            return i + 1;
        } else {
            take_field(h);
        }
        h->line_len = 0;
    }
    return n;
}

uint64_t xb_http_body_pull_want(const struct xb_http_head *h, uint64_t charged, uint64_t body_in,
                                int tls)
{
    if (tls || !h->done || !h->has_length || h->bad_length || h->chunked || !charged ||
        charged != h->content_length || body_in >= h->content_length)
        return 0;
    return h->content_length - body_in;
}

uint64_t xb_http_body_charge(const struct xb_http_head *h, uint64_t max_body)
{
    /* evhttp still reads a body for lengths this scanner calls invalid (strtoll takes
     * "+N", a folded value, the first of repeated lengths): charge the most it can be */
    if (h->chunked || h->bad_length)
        return max_body;
    if (!h->has_length || h->content_length > max_body)
        return 0;
    return h->content_length;
}

int xb_http_budget_admit(uint64_t used, uint64_t charge, uint64_t limit)
{
    if (charge == 0 || limit == 0 || used == 0)
        return 1;
    return charge <= limit && used <= limit - charge;
}
