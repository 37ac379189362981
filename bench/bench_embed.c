/*
 * bench/bench_embed.c - CPU cost of escaping X-Ray documents into a PutTraceSegments
 * body, per code path (bench/README.md).
 *
 * The documents are the translator's output for the standard synthetic request
 * (bench/request_builder.h, 100 spans by default). Each pass builds the bodies the
 * awsxray exporter builds (50 documents per body, each escaped as a JSON string) with
 * one escaper: the general xb_jsonw_escape() and each path of xb_jsonw_embed() this
 * CPU runs. Passes of all escapers alternate until each has about SECONDS of CPU
 * time; it prints nanoseconds per document and input MB/s, and fails when any body
 * differs from the general escaper's.
 *
 * usage: bench_embed [-n SPANS] [-d SECONDS]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/cpu_time.h"
#include "bench/request_builder.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/jsonw.h"
#include "receiver/otlp_decode.h"
#include "translator/translate.h"

#define DOCS_PER_BODY 50 /* PutTraceSegments limit, as the exporter batches */

/* The translator's documents, one after another in |all|, starting at |off|. */
struct docs {
    struct xb_buf all;
    size_t *off, *len;
    size_t n, cap;
};

typedef int (*escape_fn)(struct xb_buf *b, const char *s, size_t n);

static int embed_scalar(struct xb_buf *b, const char *s, size_t n)
{
    return xb_jsonw_embed_path(b, s, n, XB_JSONW_EMBED_SCALAR);
}

static int embed_ssse3(struct xb_buf *b, const char *s, size_t n)
{
    return xb_jsonw_embed_path(b, s, n, XB_JSONW_EMBED_SSSE3);
}

static int embed_avx512(struct xb_buf *b, const char *s, size_t n)
{
    return xb_jsonw_embed_path(b, s, n, XB_JSONW_EMBED_AVX512);
}

struct escaper {
    const char *name;
    escape_fn fn;
    enum xb_jsonw_embed_path needs; /* skipped when the CPU's best path is below */
    uint64_t ns, docs;
};

static int keep_document(void *ud, const char *json, size_t len, const char *trace_id,
                         const char *id)
{
    struct docs *d = ud;

    (void)trace_id;
    (void)id;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 256;
        size_t *off = realloc(d->off, cap * sizeof(*off)), *l;
        if (!off)
            return XB_ERR_NOMEM;
        d->off = off;
        l = realloc(d->len, cap * sizeof(*l));
        if (!l)
            return XB_ERR_NOMEM;
        d->len = l;
        d->cap = cap;
    }
    d->off[d->n] = d->all.len;
    d->len[d->n] = len;
    d->n++;
    return xb_buf_append(&d->all, json, len);
}

/* The bodies of every document with |fn|, into |out| (cleared first), one after
 * another. Returns 0 or the escaper's error. */
static int build_bodies(const struct docs *d, escape_fn fn, struct xb_buf *out)
{
    int rc = XB_OK;

    xb_buf_clear(out);
    for (size_t i = 0; i < d->n && rc == XB_OK; i++) {
        if (i % DOCS_PER_BODY == 0)
            rc = xb_buf_puts(out, i ? "]}{\"TraceSegmentDocuments\":[\""
                                    : "{\"TraceSegmentDocuments\":[\"");
        else
            rc = xb_buf_puts(out, ",\"");
        if (rc == XB_OK)
            rc = fn(out, d->all.data + d->off[i], d->len[i]);
        if (rc == XB_OK)
            rc = xb_buf_putc(out, '"');
    }
    if (rc == XB_OK)
        rc = xb_buf_puts(out, "]}");
    return rc;
}

int main(int argc, char **argv)
{
    struct escaper esc[] = {
        {"xb_jsonw_escape", xb_jsonw_escape, XB_JSONW_EMBED_SCALAR, 0, 0},
        {"embed scalar", embed_scalar, XB_JSONW_EMBED_SCALAR, 0, 0},
        {"embed ssse3", embed_ssse3, XB_JSONW_EMBED_SSSE3, 0, 0},
        {"embed avx512", embed_avx512, XB_JSONW_EMBED_AVX512, 0, 0},
    };
    const size_t n_esc = sizeof(esc) / sizeof(esc[0]);
    struct xb_bench_request_opts opts;
    struct xb_translator_config cfg;
    struct xb_translate_result tr;
    struct docs d;
    struct xb_buf doc, want, got;
    struct xb_arena *arena = NULL;
    xb_pb_export_req *req = NULL;
    const char *err_desc = NULL;
    uint8_t *data = NULL;
    size_t data_len = 0, bytes = 0;
    uint64_t v, min_ns = 1000000000ull;
    int c, rc, status = 1;

    memset(&d, 0, sizeof(d));
    xb_buf_init(&d.all, 0);
    xb_buf_init(&doc, 0);
    xb_buf_init(&want, 0);
    xb_buf_init(&got, 0);
    xb_bench_request_opts_defaults(&opts);
    xb_translator_config_defaults(&cfg);
    while ((c = getopt(argc, argv, "n:d:h")) != -1) {
        switch (c) {
        case 'n':
            if (xb_bench_parse_u64(optarg, &v) || v == 0 || v > XB_BENCH_MAX_SPANS)
                goto bad_usage;
            opts.spans = (size_t)v;
            break;
        case 'd':
            if (xb_bench_parse_u64(optarg, &v) || v > 3600)
                goto bad_usage;
            min_ns = v * 1000000000ull;
            break;
        default:
            goto bad_usage;
        }
    }
    if (optind != argc)
        goto bad_usage;

    rc = xb_bench_build_request(&opts, &data, &data_len);
    arena = rc == XB_OK ? xb_arena_new(1024 * 1024, 256u * 1024 * 1024) : NULL;
    if (!arena || xb_otlp_decode_protobuf(data, data_len, arena, &req, &err_desc) != XB_OK ||
        xb_translate_request(&cfg, req, (int64_t)time(NULL), arena, &doc, keep_document, &d, &tr) !=
            XB_OK ||
        d.n == 0) {
        fprintf(stderr, "bench_embed: cannot build the documents\n");
        goto out;
    }
    for (size_t i = 0; i < d.n; i++)
        bytes += d.len[i];
    if (build_bodies(&d, xb_jsonw_escape, &want) != XB_OK)
        goto nomem;
    printf("bench_embed: %zu documents, %zu bytes (mean %zu), bodies of %d; CPU path %d\n", d.n,
           bytes, bytes / d.n, DOCS_PER_BODY, (int)xb_jsonw_embed_best());
    for (int done = 0; !done;) {
        done = 1;
        for (size_t e = 0; e < n_esc; e++) {
            uint64_t t0;

            if (esc[e].needs > xb_jsonw_embed_best())
                continue;
            t0 = xb_bench_cpu_ns();
            if (build_bodies(&d, esc[e].fn, &got) != XB_OK)
                goto nomem;
            esc[e].ns += xb_bench_cpu_ns() - t0;
            esc[e].docs += d.n;
            if (got.len != want.len || memcmp(got.data, want.data, want.len) != 0) {
                fprintf(stderr, "bench_embed: %s: bodies differ from xb_jsonw_escape's\n",
                        esc[e].name);
                goto out;
            }
            if (esc[e].ns < min_ns)
                done = 0;
        }
    }
    for (size_t e = 0; e < n_esc; e++) {
        double ns_doc;

        if (!esc[e].docs)
            continue;
        ns_doc = (double)esc[e].ns / (double)esc[e].docs;
        printf("%-16s %8.1f ns/document %8.0f MB/s  (%" PRIu64 " documents)\n", esc[e].name, ns_doc,
               (double)bytes / (double)d.n / ns_doc * 1e3, esc[e].docs);
    }
    status = 0;
    goto out;
nomem:
    fprintf(stderr, "bench_embed: out of memory\n");
    goto out;
bad_usage:
    fprintf(stderr, "usage: bench_embed [-n SPANS] [-d SECONDS]\n");
    status = 2;
out:
    xb_arena_free(arena);
    free(data);
    free(d.off);
    free(d.len);
    xb_buf_cleanup(&d.all);
    xb_buf_cleanup(&doc);
    xb_buf_cleanup(&want);
    xb_buf_cleanup(&got);
    return status;
}
