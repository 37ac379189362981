#include "receiver/otlp_split.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Upper bound of a length-delimited field's key and length prefix (1-byte key for
 * fields 1..15, length varint of at most 5 bytes for anything under 4 GiB). */
#define LD_OVERHEAD 6u

/* Spans in |req|. */
static size_t count_spans(const xb_pb_export_req *req)
{
    size_t n = 0;
    for (size_t i = 0; i < req->n_resource_spans; i++)
        for (size_t j = 0; j < req->resource_spans[i]->n_scope_spans; j++)
            n += req->resource_spans[i]->scope_spans[j]->n_spans;
    return n;
}

/* One run of consecutive spans of one scope, in one part. */
struct run {
    size_t part, rs, ss;
    size_t first, n; /* span indices in the original scope */
};

struct runs {
    struct run *v;
    size_t n, cap;
};

static int runs_add(struct runs *r, struct run x)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct run *nv = realloc(r->v, cap * sizeof(*nv));
        if (!nv)
            return XB_ERR_NOMEM;
        r->v = nv;
        r->cap = cap;
    }
    r->v[r->n++] = x;
    return XB_OK;
}

/* Encoded size of |rs| without its scope spans, plus its prefix. */
static size_t rs_overhead(const xb_pb_resource_spans *rs)
{
    xb_pb_resource_spans tmp = *rs;
    tmp.n_scope_spans = 0;
    tmp.scope_spans = NULL;
    return protobuf_c_message_get_packed_size(&tmp.base) + LD_OVERHEAD;
}

/* Encoded size of |ss| without its spans, plus its prefix. */
static size_t ss_overhead(const xb_pb_scope_spans *ss)
{
    xb_pb_scope_spans tmp = *ss;
    tmp.n_spans = 0;
    tmp.spans = NULL;
    return protobuf_c_message_get_packed_size(&tmp.base) + LD_OVERHEAD;
}

static int over(size_t v, size_t limit)
{
    return limit && v > limit;
}

/* Pass 1: which spans go to which part, as runs. */
static int plan(const xb_pb_export_req *req, const struct xb_otlp_limits *lim, struct runs *runs,
                size_t *n_parts, size_t *dropped)
{
    size_t part = 0, bytes = 0, spans = 0;
    struct run *open = NULL; /* the run spans are appended to, if still contiguous */
    int rs_open = 0;         /* the current part already holds the current resource */
    int rc = XB_OK;

    *dropped = 0;
    for (size_t i = 0; i < req->n_resource_spans && rc == XB_OK; i++) {
        const xb_pb_resource_spans *rs = req->resource_spans[i];
        size_t rs_o = rs_overhead(rs);
        rs_open = 0;
        open = NULL;
        for (size_t j = 0; j < rs->n_scope_spans && rc == XB_OK; j++) {
            const xb_pb_scope_spans *ss = rs->scope_spans[j];
            size_t ss_o = ss_overhead(ss);
            open = NULL;
            for (size_t k = 0; k < ss->n_spans; k++) {
                size_t sz = protobuf_c_message_get_packed_size(&ss->spans[k]->base);
                size_t need = sz + LD_OVERHEAD + (open ? 0 : ss_o) + (rs_open ? 0 : rs_o);

                if (over(sz, lim->max_span_bytes) ||
                    over(sz + LD_OVERHEAD + ss_o + rs_o, lim->max_request_bytes)) {
                    (*dropped)++;
                    open = NULL; /* the run is no longer contiguous */
                    continue;
                }
                if (spans > 0 && (over(spans + 1, lim->max_spans) ||
                                  over(bytes + need, lim->max_request_bytes))) {
                    part++;
                    bytes = spans = 0;
                    rs_open = 0;
                    open = NULL;
                    need = sz + LD_OVERHEAD + ss_o + rs_o;
                }
                if (!open) {
                    rc = runs_add(runs, (struct run){part, i, j, k, 0});
                    if (rc != XB_OK)
                        break;
                    open = &runs->v[runs->n - 1];
                }
                open->n++;
                rs_open = 1;
                bytes += need;
                spans++;
            }
        }
    }
    *n_parts = runs->n ? part + 1 : 0;
    return rc;
}

/* Pass 2: the part headers, exactly sized, in the arena. */
static int build(const xb_pb_export_req *req, const struct runs *runs, size_t n_parts,
                 struct xb_arena *arena, struct xb_otlp_split_result *out)
{
    size_t r = 0;

    out->parts = xb_arena_calloc(arena, n_parts * sizeof(*out->parts));
    out->part_spans = xb_arena_calloc(arena, n_parts * sizeof(*out->part_spans));
    if (n_parts && (!out->parts || !out->part_spans))
        return XB_ERR_NOMEM;
    for (size_t p = 0; p < n_parts; p++) {
        size_t end = r, n_rs = 0, rs_i = 0;
        xb_pb_export_req *part = xb_arena_alloc(arena, sizeof(*part));

        if (!part)
            return XB_ERR_NOMEM;
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(part);
        /* Runs of this part, and how many distinct resources they span. */
        while (end < runs->n && runs->v[end].part == p) {
            if (end == r || runs->v[end].rs != runs->v[end - 1].rs)
                n_rs++;
            end++;
        }
        part->resource_spans = xb_arena_calloc(arena, n_rs * sizeof(*part->resource_spans));
        if (!part->resource_spans)
            return XB_ERR_NOMEM;
        part->n_resource_spans = n_rs;
        while (r < end) {
            size_t rs_end = r, n_ss = 0;
            const xb_pb_resource_spans *orig = req->resource_spans[runs->v[r].rs];
            xb_pb_resource_spans *rs = xb_arena_alloc(arena, sizeof(*rs));

            while (rs_end < end && runs->v[rs_end].rs == runs->v[r].rs) {
                n_ss++;
                rs_end++;
            }
            if (!rs)
                return XB_ERR_NOMEM;
            *rs = *orig;
            rs->n_scope_spans = n_ss;
            rs->scope_spans = xb_arena_calloc(arena, n_ss * sizeof(*rs->scope_spans));
            if (!rs->scope_spans)
                return XB_ERR_NOMEM;
            for (size_t s = 0; s < n_ss; s++, r++) {
                const struct run *run = &runs->v[r];
                xb_pb_scope_spans *ss = xb_arena_alloc(arena, sizeof(*ss));
                if (!ss)
                    return XB_ERR_NOMEM;
                *ss = *orig->scope_spans[run->ss];
                ss->spans = &orig->scope_spans[run->ss]->spans[run->first];
                ss->n_spans = run->n;
                rs->scope_spans[s] = ss;
                out->part_spans[p] += run->n;
            }
            part->resource_spans[rs_i++] = rs;
        }
        out->parts[p] = part;
    }
    out->n_parts = n_parts;
    return XB_OK;
}

int xb_otlp_split(const xb_pb_export_req *req, const struct xb_otlp_limits *lim,
                  struct xb_arena *arena, struct xb_otlp_split_result *out)
{
    struct runs runs = {0};
    size_t n_parts = 0, dropped = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = plan(req, lim, &runs, &n_parts, &dropped);
    if (rc == XB_OK)
        rc = build(req, &runs, n_parts, arena, out);
    if (rc == XB_OK)
        out->dropped_spans = dropped;
    else
        memset(out, 0, sizeof(*out));
    free(runs.v);
    return rc;
}

/* ---- by trace id ----------------------------------------------------------- */

struct ref {
    const uint8_t *trace;
    size_t seq; /* position in the request: keeps the sort stable */
    size_t rs, ss, k;
};

static int by_trace_then_seq(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    int c = memcmp(x->trace, y->trace, 16);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Orders parts by the position of each trace's first span. */
struct first {
    size_t seq, part;
};

static int by_seq(const void *a, const void *b)
{
    const struct first *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int xb_otlp_split_by_trace(const xb_pb_export_req *req, struct xb_arena *arena,
                           struct xb_otlp_split_result *out)
{
    size_t total = count_spans(req), n = 0, dropped = 0, n_parts = 0;
    struct ref *refs = NULL;
    struct first *firsts = NULL;
    size_t *rank = NULL;
    struct runs runs = {0};
    int rc = XB_ERR_NOMEM;

    memset(out, 0, sizeof(*out));
    refs = total ? malloc(total * sizeof(*refs)) : NULL;
    if (total && !refs)
        goto out;
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const xb_pb_resource_spans *rs = req->resource_spans[i];
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const xb_pb_scope_spans *ss = rs->scope_spans[j];
            for (size_t k = 0; k < ss->n_spans; k++) {
                if (ss->spans[k]->trace_id.len != 16) {
                    dropped++;
                    continue;
                }
                refs[n] = (struct ref){ss->spans[k]->trace_id.data, n, i, j, k};
                n++;
            }
        }
    }
    if (n)
        qsort(refs, n, sizeof(*refs), by_trace_then_seq);
    /* Parts are numbered in sorted (trace id) order first, then renumbered by first
     * appearance so the output follows the request. */
    firsts = n ? malloc(n * sizeof(*firsts)) : NULL;
    if (n && !firsts)
        goto out;
    for (size_t e = 0; e < n; e++) {
        if (e == 0 || memcmp(refs[e].trace, refs[e - 1].trace, 16) != 0) {
            firsts[n_parts] = (struct first){refs[e].seq, n_parts};
            n_parts++;
        }
    }
    qsort(firsts, n_parts, sizeof(*firsts), by_seq);
    rank = n_parts ? malloc(n_parts * sizeof(*rank)) : NULL;
    if (n_parts && !rank)
        goto out;
    for (size_t p = 0; p < n_parts; p++)
        rank[firsts[p].part] = p;
    /* Runs, in output part order: walk parts by rank. */
    {
        size_t *start = n_parts ? malloc(n_parts * sizeof(*start)) : NULL;
        size_t part = 0;
        if (n_parts && !start)
            goto out;
        for (size_t e = 0; e < n; e++) {
            if (e == 0 || memcmp(refs[e].trace, refs[e - 1].trace, 16) != 0)
                start[rank[part++]] = e;
        }
        for (size_t p = 0; p < n_parts; p++) {
            struct run *open = NULL;
            for (size_t e = start[p];
                 e < n && (e == start[p] || memcmp(refs[e].trace, refs[start[p]].trace, 16) == 0);
                 e++) {
                const struct ref *f = &refs[e];
                if (open && open->rs == f->rs && open->ss == f->ss &&
                    open->first + open->n == f->k) {
                    open->n++;
                    continue;
                }
                if (runs_add(&runs, (struct run){p, f->rs, f->ss, f->k, 1}) != XB_OK) {
                    free(start);
                    goto out;
                }
                open = &runs.v[runs.n - 1];
            }
        }
        free(start);
    }
    rc = build(req, &runs, n_parts, arena, out);
    if (rc == XB_OK) {
        out->part_trace = xb_arena_alloc(arena, (n_parts ? n_parts : 1) * sizeof(*out->part_trace));
        if (!out->part_trace) {
            rc = XB_ERR_NOMEM;
        } else {
            for (size_t p = 0; p < n_parts; p++)
                out->part_trace[p] =
                    out->parts[p]->resource_spans[0]->scope_spans[0]->spans[0]->trace_id.data;
            out->dropped_spans = dropped;
        }
    }
out:
    if (rc != XB_OK)
        memset(out, 0, sizeof(*out));
    free(refs);
    free(firsts);
    free(rank);
    free(runs.v);
    return rc;
}
