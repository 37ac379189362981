/* tests/unit/receiver/pb_build.c - see pb_build.h. */
#include "tests/unit/receiver/pb_build.h"

#include <stdlib.h>
#include <string.h>

void xb_pbb_init(struct xb_pbb *b)
{
    b->buf = NULL;
    b->cap = 0;
    b->pos = 0;
}

void xb_pbb_free(struct xb_pbb *b)
{
    free(b->buf);
    xb_pbb_init(b);
}

size_t xb_pbb_len(const struct xb_pbb *b)
{
    return b->cap - b->pos;
}

const uint8_t *xb_pbb_data(const struct xb_pbb *b)
{
    return b->buf + b->pos;
}

/* Makes room for |n| more bytes in front. */
static void reserve(struct xb_pbb *b, size_t n)
{
    size_t len = xb_pbb_len(b), cap;
    uint8_t *nb;

    if (b->pos >= n)
        return;
    cap = b->cap ? b->cap : 256;
    while (cap - len < n)
        cap *= 2;
    nb = malloc(cap);
    if (!nb)
        abort();
    if (len)
        memcpy(nb + cap - len, b->buf + b->pos, len);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
    b->pos = cap - len;
}

void xb_pbb_raw(struct xb_pbb *b, const void *p, size_t n)
{
    reserve(b, n);
    b->pos -= n;
    if (n)
        memcpy(b->buf + b->pos, p, n);
}

void xb_pbb_varint(struct xb_pbb *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;

    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    xb_pbb_raw(b, tmp, n);
}

void xb_pbb_tag(struct xb_pbb *b, unsigned field, unsigned wire_type)
{
    xb_pbb_varint(b, ((uint64_t)field << 3) | wire_type);
}

void xb_pbb_bytes(struct xb_pbb *b, unsigned field, const void *p, size_t n)
{
    xb_pbb_raw(b, p, n);
    xb_pbb_varint(b, n);
    xb_pbb_tag(b, field, 2);
}

void xb_pbb_wrap(struct xb_pbb *b, unsigned field, size_t mark)
{
    xb_pbb_varint(b, xb_pbb_len(b) - mark);
    xb_pbb_tag(b, field, 2);
}

void xb_pbb_nested_value(struct xb_pbb *b, int levels, int kvlist)
{
    size_t m = xb_pbb_len(b);

    xb_pbb_bytes(b, 1, "leaf", 4); /* AnyValue.string_value */
    for (int i = 1; i < levels; i++) {
        /* The innermost AnyValue is now [m, len). Wrap it once more. */
        int kv = kvlist == 2 ? (i & 1) : kvlist;
        if (kv) {
            xb_pbb_wrap(b, 2, m);       /* KeyValue.value */
            xb_pbb_bytes(b, 1, "k", 1); /* KeyValue.key */
            xb_pbb_wrap(b, 1, m);       /* KeyValueList.values */
            xb_pbb_wrap(b, 6, m);       /* AnyValue.kvlist_value */
        } else {
            xb_pbb_wrap(b, 1, m); /* ArrayValue.values */
            xb_pbb_wrap(b, 5, m); /* AnyValue.array_value */
        }
    }
}

/* Writes the scalar fields of one valid SERVER span (ids, name, kind, times). */
static void span_scalars(struct xb_pbb *b)
{
    static const uint8_t trace_id[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                         0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
    static const uint8_t span_id[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};
    uint64_t t[2] = {1700000000000000000ull, 1700000000250000000ull};
    uint8_t le[8];

    for (int k = 1; k >= 0; k--) { /* end (8) then start (7), both fixed64 */
        for (int i = 0; i < 8; i++)
            le[i] = (uint8_t)(t[k] >> (8 * i));
        xb_pbb_raw(b, le, 8);
        xb_pbb_tag(b, 7 + (unsigned)k, 1);
    }
    xb_pbb_varint(b, 2);
    xb_pbb_tag(b, 6, 0); /* kind = SERVER */
    xb_pbb_bytes(b, 5, "nested", 6);
    xb_pbb_bytes(b, 2, span_id, 8);
    xb_pbb_bytes(b, 1, trace_id, 16);
}

void xb_pbb_request(struct xb_pbb *b, size_t mark, enum xb_pbb_where where)
{
    static const uint8_t link_trace[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t link_span[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t span_mark = mark;

    xb_pbb_wrap(b, 2, mark);    /* KeyValue.value */
    xb_pbb_bytes(b, 1, "k", 1); /* KeyValue.key */
    switch (where) {
    case XB_PBB_RESOURCE_ATTR:
        xb_pbb_wrap(b, 1, mark);   /* Resource.attributes */
        xb_pbb_wrap(b, 1, mark);   /* ResourceSpans.resource */
        span_mark = xb_pbb_len(b); /* the span is a sibling, written next */
        break;
    case XB_PBB_EVENT_ATTR:
        xb_pbb_wrap(b, 3, mark);     /* Event.attributes */
        xb_pbb_bytes(b, 2, "ev", 2); /* Event.name */
        xb_pbb_wrap(b, 11, mark);    /* Span.events */
        break;
    case XB_PBB_LINK_ATTR:
        xb_pbb_wrap(b, 4, mark); /* Link.attributes */
        xb_pbb_bytes(b, 2, link_span, 8);
        xb_pbb_bytes(b, 1, link_trace, 16);
        xb_pbb_wrap(b, 13, mark); /* Span.links */
        break;
    case XB_PBB_SPAN_ATTR:
        xb_pbb_wrap(b, 9, mark); /* Span.attributes */
        break;
    }
    span_scalars(b);
    xb_pbb_wrap(b, 2, span_mark); /* ScopeSpans.spans */
    xb_pbb_wrap(b, 2, span_mark); /* ResourceSpans.scope_spans */
    xb_pbb_wrap(b, 1, mark);      /* ExportTraceServiceRequest.resource_spans */
}

void xb_pbb_nested_request(struct xb_pbb *b, int levels, int kvlist, enum xb_pbb_where where)
{
    size_t mark = xb_pbb_len(b);

    xb_pbb_nested_value(b, levels, kvlist);
    xb_pbb_request(b, mark, where);
}
