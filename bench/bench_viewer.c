/*
 * bench/bench_viewer.c - CPU cost of the viewer's store on the ingest path, in process.
 *
 *   bench_viewer [-k REQUESTS] [-n SPANS] [-p PASSES]
 *
 * Builds REQUESTS (default 64) synthetic requests of SPANS spans (default 100; the
 * request of bench/README.md, each with its own seed, so traces differ) and runs the
 * real ingest path (xb_ingest_export: decode, translate, enqueue into one queue that is
 * drained after every pass) over all of them, PASSES times (default 20) with the viewer
 * store attached through the ingest tap and PASSES times without, alternating, after one
 * untimed warm-up pass of each. The store has the default caps (1000 traces, 32 MiB),
 * so it is full and evicting for most passes. CPU time is CLOCK_PROCESS_CPUTIME_ID;
 * the median pass of each mode is reported, per span, with their ratio:
 *
 *   RESULT spans=... off_ns_per_span=... on_ns_per_span=... ratio=... store_bytes=...
 *
 * Alternating in one process makes the two modes share whatever else the machine is
 * doing; compare ratios, not absolute figures, across runs (docs/performance.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/cpu_time.h"
#include "bench/request_builder.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/queue.h"
#include "extension/viewer_store.h"
#include "receiver/ingest.h"
#include "translator/translate.h"

/* The same work as xb_viewer_tap() (extension/viewer.c), without the HTTP server. */
static void tap(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    (void)xb_viewer_store_add(ud, json, len, trace_id, id, xb_clock_wall_ns());
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    uint64_t k = 64, spans = 100, passes = 20;
    struct xb_translator_config tc;
    struct xb_viewer_store_stats st;
    struct xb_viewer_store *store;
    struct xb_queue *q;
    struct xb_ingest *ing;
    uint8_t **reqs;
    size_t *lens;
    uint64_t *t_on, *t_off;
    int opt;

    while ((opt = getopt(argc, argv, "k:n:p:")) != -1) {
        uint64_t *dst = opt == 'k' ? &k : opt == 'n' ? &spans : opt == 'p' ? &passes : NULL;
        if (!dst || xb_bench_parse_u64(optarg, dst) != XB_OK || *dst == 0) {
            fprintf(stderr, "usage: bench_viewer [-k REQUESTS] [-n SPANS] [-p PASSES]\n");
            return 2;
        }
    }
    reqs = calloc(k, sizeof(*reqs));
    lens = calloc(k, sizeof(*lens));
    t_on = calloc(passes, sizeof(*t_on));
    t_off = calloc(passes, sizeof(*t_off));
    xb_translator_config_defaults(&tc);
    q = xb_queue_new((size_t)1 << 32, 0);
    store = xb_viewer_store_new(1000, (size_t)32 << 20);
    ing = q ? xb_ingest_new(&tc, &q, 1, (size_t)4 << 20) : NULL;
    if (!reqs || !lens || !t_on || !t_off || !store || !ing) {
        fprintf(stderr, "bench_viewer: out of memory\n");
        return 1;
    }
    for (uint64_t i = 0; i < k; i++) {
        struct xb_bench_request_opts o;
        xb_bench_request_opts_defaults(&o);
        o.spans = spans;
        o.seed = i + 1;
        if (xb_bench_build_request(&o, &reqs[i], &lens[i]) != XB_OK) {
            fprintf(stderr, "bench_viewer: cannot build request %" PRIu64 "\n", i);
            return 1;
        }
    }
    for (uint64_t p = 0; p <= passes; p++) {
        for (int on = 0; on < 2; on++) {
            uint64_t t0;
            xb_ingest_set_tap(ing, on ? tap : NULL, store);
            t0 = xb_bench_cpu_ns();
            for (uint64_t i = 0; i < k; i++) {
                struct xb_ingest_outcome out;
                xb_ingest_export(ing, XB_TRANSPORT_HTTP, XB_BODY_PROTOBUF, 0, reqs[i], lens[i],
                                 (size_t)4 << 20, &out);
                if (out.rc != XB_OK) {
                    fprintf(stderr, "bench_viewer: ingest failed: %s\n", xb_strerror(out.rc));
                    return 1;
                }
            }
            for (struct xb_qdoc *d; (d = xb_queue_pop(q)) != NULL;)
                xb_queue_done(q, d);
            if (p > 0) /* pass 0 warms up */
                (on ? t_on : t_off)[p - 1] = xb_bench_cpu_ns() - t0;
        }
    }
    /* The store alone: the documents of one pass, added again and again. */
    {
        struct xb_qdoc **docs = calloc(k * spans * 2, sizeof(*docs));
        size_t nd = 0;
        uint64_t best = UINT64_MAX;
        xb_ingest_set_tap(ing, NULL, NULL);
        for (uint64_t i = 0; i < k && docs; i++) {
            struct xb_ingest_outcome out;
            xb_ingest_export(ing, XB_TRANSPORT_HTTP, XB_BODY_PROTOBUF, 0, reqs[i], lens[i],
                             (size_t)4 << 20, &out);
        }
        for (struct xb_qdoc *d; docs && (d = xb_queue_pop(q)) != NULL;)
            docs[nd++] = d;
        for (uint64_t p = 0; p < passes; p++) {
            uint64_t t0 = xb_bench_cpu_ns(), dt;
            for (size_t i = 0; i < nd; i++)
                tap(store, docs[i]->json, docs[i]->len, docs[i]->trace_id, docs[i]->id);
            dt = xb_bench_cpu_ns() - t0;
            if (dt < best)
                best = dt;
        }
        for (size_t i = 0; i < nd; i++)
            xb_queue_done(q, docs[i]);
        if (nd)
            printf("store alone: %.0f ns per document (%zu documents, best of %" PRIu64
                   " passes)\n",
                   (double)best / (double)nd, nd, passes);
        free(docs);
    }
    qsort(t_on, passes, sizeof(*t_on), cmp_u64);
    qsort(t_off, passes, sizeof(*t_off), cmp_u64);
    xb_viewer_store_stats(store, &st);
    {
        double n = (double)(k * spans);
        double off = (double)t_off[passes / 2] / n, on = (double)t_on[passes / 2] / n;
        printf("ingest (decode + translate + enqueue), median of %" PRIu64 " passes of %" PRIu64
               " requests x %" PRIu64 " spans:\n  viewer off %.0f ns/span, viewer on %.0f ns/span"
               " (+%.1f%%); store %zu traces, %zu documents, %zu of %zu bytes\n",
               passes, k, spans, off, on, (on / off - 1) * 100, st.traces, st.documents, st.bytes,
               st.max_bytes);
        printf("RESULT spans=%.0f off_ns_per_span=%.0f on_ns_per_span=%.0f ratio=%.4f "
               "store_bytes=%zu\n",
               n, off, on, on / off, st.bytes);
    }
    xb_ingest_free(ing);
    xb_queue_free(q);
    xb_viewer_store_free(store);
    for (uint64_t i = 0; i < k; i++)
        free(reqs[i]);
    free(reqs);
    free(lens);
    free(t_on);
    free(t_off);
    return 0;
}
