#include "receiver/ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/gzip.h"
#include "core/log.h"
#include "core/qdoc_block.h"
#include "processor/tail_sampling.h"
#include "receiver/ingest_embed.h"
#include "receiver/ingest_otlp.h"
#include "receiver/otlp_decode.h"
#include "receiver/status.h"

#define MAX_QUEUES 4
#define MAX_OTLP_QUEUES 2
_Static_assert(MAX_QUEUES + MAX_OTLP_QUEUES == XB_INGEST_MAX_QUEUES, "XB_INGEST_MAX_QUEUES");

struct xb_ingest {
    const struct xb_translator_config *tc;
    struct xb_queue *queues[MAX_QUEUES];
    size_t n_queues;
    struct xb_arena *arena; /* per request, reset after each */
    size_t arena_cap;       /* its byte cap: the per-request memory budget */
    size_t arena_peak;      /* highest xb_arena_used() seen at the end of a request */
    char budget_msg[96];    /* "... budget of N MiB" for requests refused over it */
    struct xb_buf inflated; /* reused gunzip output */
    struct xb_buf doc;      /* reused translator output buffer */
    int memory_limited;     /* set by the memory_limiter: refuse new data */
    struct xb_ts *ts;       /* tail_sampling between translation and the queues, or NULL */
    /* OTLP record queues (receiver/ingest_otlp.h): otlphttp, loadbalancing */
    struct xb_queue *otlp_q[MAX_OTLP_QUEUES];
    struct xb_otlp_limits otlp_limits[MAX_OTLP_QUEUES];
    size_t n_otlp;
    xb_ingest_tap_cb tap; /* sees every queued document; NULL = none */
    void *tap_ud;
    /* An ingest worker's path (xb_ingest_new_worker); NULL for the main one. */
    struct xb_ingest *main; /* the main path: its gate, large-request arena, lock */
    xb_ingest_run_cb run;   /* runs admission on the thread owning the queues */
    void *run_ud;
    size_t small_body;     /* bodies up to this are handled in the worker's own arena */
    size_t small_docs;     /* byte cap of one request's documents and records there */
    pthread_mutex_t large; /* main path only: held by the worker using its arena */
    /* Main path only: every admission into the queues holds it (all-or-nothing across
     * queues while workers admit on their own threads); admit_closed, set under it by
     * xb_ingest_close_admission(), refuses the rest. */
    pthread_mutex_t admit_lock;
    int admit_closed;
    int direct; /* a worker's path: admits on its own thread (xb_ingest_new_worker) */
    /* Requests are translated in embedded form (receiver/ingest_embed.h), with tc_embed:
     * *tc with embedded_documents set. Decided by embed_decide() when the set-up changes. */
    int embed;
    struct xb_translator_config tc_embed;
    uint64_t *requests;       /* a worker's request counter (metric), or NULL */
    uint64_t *large_requests; /* its count of requests redone in the main arena, or NULL */
    uint64_t *handoffs;       /* its count of admissions run on the main loop, or NULL */
    /* A worker's pause while the exporters catch up (core/pace.h; direct admission
     * only), and its counters: pauses by how they ended, and time paused in µs. */
    struct xb_pace_limits pace;
    uint64_t *paced;    /* [XB_INGEST_PACE_ENDS], or NULL */
    uint64_t *paced_us; /* or NULL */
};

/* What one attempt at a request uses: the worker's small arena or the main one. */
struct attempt {
    struct xb_arena *arena;
    struct xb_buf *inflated;
    size_t body_cap; /* decompressed bytes this attempt admits (<= max_body_bytes) */
    size_t docs_cap; /* bytes of documents / records it may build (0 = no cap) */
    int small;       /* a worker's small attempt: a miss retries under the large lock */
    int missed;      /* set when it needs the large arena */
};

/* Emit callback state: the documents of one request, built before admission. */
struct collect {
    const struct xb_ingest *ing;
    struct xb_qdoc_list list;
    struct attempt *at;                    /* NULL outside xb_ingest_export */
    struct xb_queue_room room[MAX_QUEUES]; /* each queue's room, taken once per request */
    /* Documents placed many to a block (core/qdoc_block.h): translated requests without
     * tail_sampling (which holds documents for its decision wait). Daemon documents
     * (xb_ingest_documents) keep one allocation each. */
    int blocks_on;
    struct xb_qdoc_blocks blocks;
    int embedded; /* the translator writes embedded documents (receiver/ingest_embed.h) */
};

/* Emit callback: the one copy from the translator's buffer into a queue document.
 * Stops the request with XB_ERR_FULL as soon as its documents would not fit in every
 * queue, so the documents of a request never take more memory than the queues
 * already budget (app/budget.h). */
static int collect_doc(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    struct collect *c = ud;
    struct xb_qdoc *d;
    size_t charge = xb_qdoc_charge_len(len); /* a block's slack is added when sealed */

    if (c->at && c->at->docs_cap && c->list.bytes + charge > c->at->docs_cap) {
        c->at->missed = 1; /* the large attempt has no such cap */
        return XB_ERR_NOMEM;
    }
    if (c->ing->ts && c->ing->main) {
        /* A worker: tail_sampling's state belongs to the main loop, which checks room at
         * admission; the size cap is fixed. */
        if (xb_ts_too_large(c->ing->ts, c->list.bytes + charge))
            return XB_ERR_TOO_LARGE;
    } else if (c->ing->ts && !xb_ts_has_room(c->ing->ts, c->list.n + 1, c->list.bytes + charge)) {
        return xb_ts_too_large(c->ing->ts, c->list.bytes + charge) ? XB_ERR_TOO_LARGE : XB_ERR_FULL;
    }
    for (size_t i = 0; i < c->ing->n_queues && !c->ing->ts; i++) {
        if (!xb_queue_room_check(c->ing->queues[i], &c->room[i], c->list.n + 1,
                                 c->list.bytes + charge))
            return XB_ERR_FULL;
    }
    if (c->blocks_on)
        d = xb_qdoc_blocks_new(&c->blocks, &c->list, json, len, trace_id, id);
    else
        d = xb_qdoc_new_ids(json, len, trace_id, id);
    if (!d)
        return XB_ERR_NOMEM;
    d->embedded = (uint8_t)c->embedded;
    xb_qdoc_list_add(&c->list, d);
    return XB_OK;
}

/* Decides, from the pipeline's set-up, whether requests are translated in embedded form
 * (xb_ingest_embed_choose()) and prepares that translator config. Called whenever the
 * set-up changes: xb_ingest_new(), xb_ingest_new_worker(), the tail_sampling and tap
 * setters; queue flags (xb_queue_set_takes_embedded(), file_storage's log) are set before
 * the ingest is made (receiver/ingest.h). tail_sampling and the tap as the main path has
 * them. */
static void embed_decide(struct xb_ingest *ing)
{
    const struct xb_ingest *root = ing->main ? ing->main : ing;
    struct xb_embed_queue q[MAX_QUEUES];
    struct xb_embed_setup s = {.queues = q,
                               .n_queues = ing->n_queues,
                               .tail_sampling = ing->ts || root->ts,
                               .tap = ing->tap || root->tap};

    for (size_t i = 0; i < ing->n_queues; i++) {
        q[i].takes_embedded = xb_queue_takes_embedded(ing->queues[i]);
        q[i].on_disk = xb_queue_on_disk(ing->queues[i]);
    }
    ing->embed = ing->tc && xb_ingest_embed_choose(&s);
    if (ing->embed) {
        ing->tc_embed = *ing->tc;
        ing->tc_embed.embedded_documents = 1;
    }
}

struct xb_ingest *xb_ingest_new(const struct xb_translator_config *tc,
                                struct xb_queue *const *queues, size_t n_queues,
                                size_t max_body_bytes)
{
    struct xb_ingest *ing;

    if (n_queues > MAX_QUEUES)
        return NULL; /* 0 is fine: an OTLP-only pipeline (xb_ingest_set_otlp_queue) */
    xb_receiver_metrics_register(); /* rendered from start-up, at zero */
    ing = calloc(1, sizeof(*ing));
    if (!ing)
        return NULL;
    ing->tc = tc;
    if (n_queues)
        memcpy(ing->queues, queues, n_queues * sizeof(*queues));
    ing->n_queues = n_queues;
    ing->arena_cap = xb_ingest_arena_bytes(max_body_bytes);
    ing->arena = xb_arena_new(64 * 1024, ing->arena_cap);
    if (!ing->arena) {
        free(ing);
        return NULL;
    }
    snprintf(ing->budget_msg, sizeof(ing->budget_msg),
             "request decodes to more than the per-request memory budget of %zu MiB",
             ing->arena_cap >> 20);
    xb_buf_init(&ing->inflated, 0);
    xb_buf_init(&ing->doc, 0);
    pthread_mutex_init(&ing->large, NULL);
    pthread_mutex_init(&ing->admit_lock, NULL);
    embed_decide(ing);
    return ing;
}

size_t xb_ingest_worker_arena_bytes(size_t small_body_bytes)
{
    /* Typical requests decode to 3-6x their size; more is retried in the main arena. */
    return 8 * small_body_bytes;
}

size_t xb_ingest_worker_bytes(size_t small_body_bytes, size_t max_document_bytes)
{
    /* Arena, gunzip output (doubling: 2x), documents and records of one request (capped
     * at the arena's size), the translator's buffer (2x one document, whose embedded
     * form is at most twice its size: 4x), and the unused tail of the document block
     * being filled (core/qdoc_block.h). */
    return 2 * xb_ingest_worker_arena_bytes(small_body_bytes) + 2 * small_body_bytes +
           4 * max_document_bytes + XB_QDOC_BLOCK_SIZE;
}

struct xb_ingest *xb_ingest_new_worker(struct xb_ingest *main, size_t small_body_bytes,
                                       xb_ingest_run_cb run, void *run_ud)
{
    struct xb_ingest *ing = calloc(1, sizeof(*ing));

    if (!ing)
        return NULL;
    *ing = *main; /* queues, OTLP queues and limits, tail_sampling, tap, translator config */
    ing->arena_peak = 0;
    ing->main = main;
    ing->run = run;
    ing->run_ud = run_ud;
    ing->small_body = small_body_bytes;
    ing->small_docs = xb_ingest_worker_arena_bytes(small_body_bytes);
    ing->arena = xb_arena_new(64 * 1024, xb_ingest_worker_arena_bytes(small_body_bytes));
    if (!ing->arena) {
        free(ing);
        return NULL;
    }
    xb_buf_init(&ing->inflated, 0);
    xb_buf_init(&ing->doc, 0);
    ing->direct = xb_ingest_admission_direct(main);
    ing->pace = XB_PACE_DEFAULTS;
    embed_decide(ing);
    return ing;
}

int xb_ingest_admission_direct(const struct xb_ingest *main)
{
    struct xb_queue *q[XB_INGEST_MAX_QUEUES];
    size_t n = xb_ingest_queues(main, q, XB_INGEST_MAX_QUEUES);

    if (main->ts || main->tap) /* both keep single-threaded state on the main loop */
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!xb_queue_remote_push_ok(q[i]))
            return 0;
    return 1;
}

unsigned xb_ingest_pace_end(enum xb_pace_step end)
{
    switch (end) {
    case XB_PACE_DRAINED:
        return 0;
    case XB_PACE_TIMEOUT:
        return 1;
    default:
        return 2;
    }
}

size_t xb_ingest_queues(const struct xb_ingest *ing, struct xb_queue **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < ing->n_queues; i++, n++)
        if (n < max)
            out[n] = ing->queues[i];
    for (size_t i = 0; i < ing->n_otlp; i++, n++)
        if (n < max)
            out[n] = ing->otlp_q[i];
    return n;
}

void xb_ingest_close_admission(struct xb_ingest *main)
{
    if (!main)
        return;
    pthread_mutex_lock(&main->admit_lock);
    main->admit_closed = 1;
    pthread_mutex_unlock(&main->admit_lock);
}

void xb_ingest_set_counters(struct xb_ingest *ing, uint64_t *requests, uint64_t *large_requests,
                            uint64_t *handoffs)
{
    ing->requests = requests;
    ing->large_requests = large_requests;
    ing->handoffs = handoffs;
}

void xb_ingest_set_pace(struct xb_ingest *ing, const struct xb_pace_limits *lim, uint64_t *paced,
                        uint64_t *paced_us)
{
    ing->pace = lim ? *lim : (struct xb_pace_limits){0};
    ing->paced = paced;
    ing->paced_us = paced_us;
}

void xb_ingest_set_otlp_queue(struct xb_ingest *ing, struct xb_queue *q,
                              const struct xb_otlp_limits *lim)
{
    if (ing->n_otlp < MAX_OTLP_QUEUES) {
        ing->otlp_q[ing->n_otlp] = q;
        ing->otlp_limits[ing->n_otlp++] = *lim;
    }
    xb_ingest_otlp_metrics_register();
}

void xb_ingest_free(struct xb_ingest *ing)
{
    if (!ing)
        return;
    xb_arena_free(ing->arena);
    xb_buf_cleanup(&ing->inflated);
    xb_buf_cleanup(&ing->doc);
    if (!ing->main) {
        pthread_mutex_destroy(&ing->large);
        pthread_mutex_destroy(&ing->admit_lock);
    }
    free(ing);
}

/* Pushes |list| into every queue, all-or-nothing. Consumes |list| on success. */
static int enqueue_all(struct xb_ingest *ing, struct xb_qdoc_list *list)
{
    struct xb_qdoc_list copies[MAX_QUEUES];
    int rc = XB_OK;

    memset(copies, 0, sizeof(copies));
    for (size_t i = 0; i < ing->n_queues; i++) {
        if (!xb_queue_has_room(ing->queues[i], list->n, list->bytes))
            return XB_ERR_FULL;
    }
    /* Extra exporters get their own copies, made before anything is pushed. */
    for (size_t i = 1; i < ing->n_queues; i++) {
        for (struct xb_qdoc *d = list->head; d; d = d->next) {
            struct xb_qdoc *c = xb_qdoc_dup(d);
            if (!c) {
                rc = XB_ERR_NOMEM;
                goto fail;
            }
            xb_qdoc_list_add(&copies[i], c);
        }
    }
    for (size_t i = 1; i < ing->n_queues; i++) {
        /* Room was checked above; a queue on disk can still fail to append. */
        rc = xb_queue_push_list(ing->queues[i], &copies[i]);
        if (rc)
            goto fail;
    }
    /* The tap sees the documents while they are still ours: after the copies are queued,
     * before the first queue takes the list (a durable queue may not keep them in
     * memory). Only a disk error on that last push can leave the viewer showing a
     * refused request's documents. */
    for (struct xb_qdoc *d = list->head; ing->tap && d; d = d->next)
        ing->tap(ing->tap_ud, d->json, d->len, d->trace_id, d->id);
    return xb_queue_push_list(ing->queues[0], list);
fail:
    for (size_t i = 1; i < ing->n_queues; i++)
        xb_qdoc_list_clear(&copies[i]);
    return rc;
}

int xb_ingest_release(void *ing, struct xb_qdoc_list *list)
{
    return enqueue_all(ing, list);
}

void xb_ingest_set_tail_sampling(struct xb_ingest *ing, struct xb_ts *ts)
{
    ing->ts = ts;
    embed_decide(ing);
}

void xb_ingest_set_tap(struct xb_ingest *ing, xb_ingest_tap_cb cb, void *ud)
{
    ing->tap = cb;
    ing->tap_ud = ud;
    embed_decide(ing);
}

int xb_ingest_documents(struct xb_ingest *ing, const struct xb_ingest_doc *docs, size_t n)
{
    struct collect c = {.ing = ing};
    int rc = XB_OK;

    if (__atomic_load_n(&ing->memory_limited, __ATOMIC_RELAXED))
        return XB_ERR_AGAIN;
    for (size_t i = 0; i < n && rc == XB_OK; i++)
        rc = collect_doc(&c, docs[i].json, docs[i].len, docs[i].trace_id, docs[i].id);
    if (rc == XB_OK && ing->ts)
        rc = xb_ts_ingest_documents(ing->ts, &c.list, xb_clock_mono_ns() / 1000000u);
    else if (rc == XB_OK && ing->n_queues) { /* segment documents cannot become OTLP */
        /* Not around tail_sampling: its release path (xb_ingest_release) runs inside
         * xb_ts_ingest*() on this thread, and with it workers do not admit directly. */
        pthread_mutex_lock(&ing->admit_lock);
        rc = ing->admit_closed ? XB_ERR_FULL : enqueue_all(ing, &c.list);
        pthread_mutex_unlock(&ing->admit_lock);
    }
    if (rc != XB_OK)
        xb_qdoc_list_clear(&c.list);
    return rc;
}

size_t xb_ingest_arena_peak(const struct xb_ingest *ing)
{
    return ing->arena_peak;
}

size_t xb_ingest_arena_bytes(size_t max_body_bytes)
{
    /* Decoded protobuf-c structures take several times the wire size (a 6-byte
     * attribute becomes ~100 bytes of structs) and an OTLP/JSON parse tree about 12x;
     * 16x plus slack bounds a hostile request while leaving room for legitimate ones.
     * Only one request is decoded at a time, so this is also the peak. */
    return max_body_bytes * 16 + (size_t)16 * 1024 * 1024;
}

size_t xb_ingest_arena_cap(const struct xb_ingest *ing)
{
    return ing->arena_cap;
}

void xb_ingest_account(enum xb_transport transport, const struct xb_ingest_outcome *o)
{
    XB_METRIC_ADD(xb_receiver_metrics.requests[transport], 1);
    switch (o->rc) {
    case XB_OK:
        XB_METRIC_ADD(xb_receiver_metrics.accepted_spans[transport], o->spans - o->rejected_spans);
        XB_METRIC_ADD(xb_receiver_metrics.rejected_spans[transport], o->rejected_spans);
        break;
    case XB_ERR_FULL:
        XB_METRIC_ADD(xb_receiver_metrics.queue_full_requests[transport], 1);
        XB_METRIC_ADD(xb_receiver_metrics.refused_spans[transport], o->spans);
        break;
    case XB_ERR_NOMEM:
    case XB_ERR_AGAIN:
        XB_METRIC_ADD(xb_receiver_metrics.refused_spans[transport], o->spans);
        break;
    case XB_ERR_TOO_LARGE:
        XB_METRIC_ADD(xb_receiver_metrics.oversize_requests[transport], 1);
        break;
    default:
        XB_METRIC_ADD(xb_receiver_metrics.bad_requests[transport], 1);
        break;
    }
    if (o->rc != XB_OK)
        xb_refusal_count(transport, xb_refusal_of(o));
}

/* Non-zero when some queue cannot take even one more byte: the request would be
 * refused after translation anyway, so it is refused before (overload is exactly
 * when translation CPU is scarce). The document queues' room is taken into |room|
 * (one per queue, zeroed), which collect_doc() then goes on using. */
static int some_queue_full(const struct xb_ingest *ing, struct xb_queue_room *room)
{
    if (ing->ts && !ing->main) /* a worker's tail_sampling check runs at admission */
        return !xb_ts_has_room(ing->ts, 1, 1);
    for (size_t i = 0; i < ing->n_queues; i++)
        if (!xb_queue_room_check(ing->queues[i], &room[i], 1, 1))
            return 1;
    for (size_t i = 0; i < ing->n_otlp; i++)
        if (!xb_queue_has_room(ing->otlp_q[i], 1, 1))
            return 1;
    return 0;
}

void xb_ingest_set_memory_limited(struct xb_ingest *ing, int on)
{
    __atomic_store_n(&ing->memory_limited, on, __ATOMIC_RELAXED);
}

/* The side-effect half of a request: admission into every queue (or tail_sampling), on
 * the thread owning the queues. Runs directly, or through a worker's run callback. */
struct admit {
    struct xb_ingest *ing;
    const xb_pb_export_req *req;
    struct xb_qdoc_list *list;
    struct xb_qdoc_list *records;
    const size_t *oversize;
    const struct xb_translate_result *tr;
    int rc;
};

static void admit(void *arg)
{
    struct admit *a = arg;
    struct xb_ingest *ing = a->ing;
    int rc = XB_OK;

    for (size_t i = 0; i < ing->n_otlp; i++)
        if (!xb_queue_has_room(ing->otlp_q[i], a->records[i].n, a->records[i].bytes))
            rc = XB_ERR_FULL;
    /* tail_sampling and the OTLP exporters do not run together (config/processors.c) */
    if (rc == XB_OK && ing->ts)
        rc = xb_ts_ingest(ing->ts, a->req, a->list, xb_clock_mono_ns() / 1000000u);
    else if (rc == XB_OK && ing->n_queues)
        rc = enqueue_all(ing, a->list);
    for (size_t i = 0; i < ing->n_otlp && rc == XB_OK; i++) {
        /* After the documents: room was checked, nothing ran in between, but a queue on
         * disk can still fail to append: the client then gets the retryable refusal
         * (documents already queued for other exporters are sent again on its retry). */
        rc = xb_queue_push_list(ing->otlp_q[i], &a->records[i]);
        if (rc == XB_OK)
            XB_METRIC_ADD(xb_ingest_otlp_oversize_spans, a->oversize[i]);
    }
    if (rc == XB_OK) {
        /* Counted only once queued: documents of a refused request never existed for
         * the exporters (accounting: built = sent + failed + queued). */
        XB_METRIC_ADD(xb_receiver_metrics.documents_built, a->tr->documents);
        XB_METRIC_ADD(xb_receiver_metrics.documents_trimmed, a->tr->trimmed);
    }
    a->rc = rc;
}

/* A worker admitting on its own thread: pauses while any of its queues is behind
 * (core/pace.h), before the request is decoded, so that a request the exporters could
 * not take is not decoded and translated only to be refused. Counts each pause. */
static void pace(struct xb_ingest *ing)
{
    struct xb_queue *q[XB_INGEST_MAX_QUEUES];
    size_t n = xb_ingest_queues(ing, q, XB_INGEST_MAX_QUEUES);

    for (size_t i = 0; i < n; i++) {
        uint64_t ns;
        enum xb_pace_step end = xb_queue_pace(q[i], &ing->pace, &ns);

        if (end == XB_PACE_GO)
            continue;
        if (ing->paced)
            XB_METRIC_ADD(ing->paced[xb_ingest_pace_end(end)], 1);
        if (ing->paced_us)
            XB_METRIC_ADD(*ing->paced_us, ns / 1000);
    }
}

/* admit() under the main path's admission lock, refused once admission closed. Runs on
 * a worker's thread (direct admission) or on the main loop (through the run callback,
 * or in the single-threaded set-up). */
static void admit_locked(void *arg)
{
    struct admit *a = arg;
    struct xb_ingest *root = a->ing->main ? a->ing->main : a->ing;

    pthread_mutex_lock(&root->admit_lock);
    if (root->admit_closed)
        a->rc = XB_ERR_FULL;
    else
        admit(a);
    pthread_mutex_unlock(&root->admit_lock);
}

/* One attempt at a request with the memory of |at|: everything but the accounting.
 * Sets at->missed (and returns without side effects) when a worker's small attempt
 * needs the large arena. */
static int export_attempt(struct xb_ingest *ing, struct attempt *at, enum xb_body_format format,
                          int gzip, const void *body, size_t len, struct xb_ingest_outcome *out,
                          const char **descp)
{
    struct collect col = {.ing = ing, .at = at, .blocks_on = !ing->ts};
    struct xb_translate_result tr = {0};
    struct xb_qdoc_list records[MAX_OTLP_QUEUES] = {{0}};
    size_t oversize[MAX_OTLP_QUEUES] = {0};
    xb_pb_export_req *req = NULL;
    const char *desc = NULL;
    int rc = XB_OK;

    if (gzip) {
        xb_buf_clear(at->inflated);
        at->inflated->max = at->body_cap;
        rc = xb_gunzip(body, len, at->inflated, &desc);
        if (rc == XB_ERR_TOO_LARGE && at->small) {
            at->missed = 1;
            goto out;
        }
        if (rc)
            goto out;
        body = at->inflated->data;
        len = at->inflated->len;
    } else if (at->small && len > at->body_cap) {
        at->missed = 1;
        goto out;
    }
    if (format == XB_BODY_JSON)
        rc = xb_otlp_decode_json(body, len, at->arena, &req, &desc);
    else
        rc = xb_otlp_decode_protobuf(body, len, at->arena, &req, &desc);
    if (rc == XB_ERR_NOMEM && xb_arena_exhausted(at->arena)) {
        if (at->small) {
            at->missed = 1;
            goto out;
        }
        /* The same request would exhaust the arena again: not worth a retry. This
         * covers the OTLP/JSON parse tree too (receiver/otlp_json.c). */
        rc = XB_ERR_TOO_LARGE;
        desc = ing->main ? ing->main->budget_msg : ing->budget_msg;
        goto out;
    }
    if (rc)
        goto out;
    out->spans = xb_otlp_count_spans(req);
    if (out->spans == 0)
        goto out; /* empty envelope: success, nothing to do */
    if (some_queue_full(ing, col.room)) {
        rc = XB_ERR_FULL;
        desc = "export queue is full, retry later";
        goto out;
    }

    for (size_t i = 0; i < ing->n_otlp && rc == XB_OK; i++) {
        rc = xb_ingest_otlp_records(req, &ing->otlp_limits[i], ing->otlp_q[i], at->arena,
                                    &records[i], &oversize[i]);
        if (at->small &&
            (xb_arena_exhausted(at->arena) || (at->docs_cap && records[i].bytes > at->docs_cap))) {
            at->missed = 1;
            goto out;
        }
    }
    if (rc) {
        desc = rc == XB_ERR_FULL ? "export queue is full, retry later"
                                 : "out of memory while queueing documents";
        goto out;
    }
    col.blocks.size = xb_qdoc_block_size_for(len); /* a small request, a small block */
    col.embedded = ing->embed;
    if (ing->n_queues)
        rc = xb_translate_request(ing->embed ? &ing->tc_embed : ing->tc, req, (int64_t)time(NULL),
                                  at->arena, &ing->doc, collect_doc, &col, &tr);
    if (rc && at->small && (at->missed || xb_arena_exhausted(at->arena))) {
        at->missed = 1;
        goto out;
    }
    if (rc) {
        desc = rc == XB_ERR_FULL ? "export queue is full, retry later"
                                 : "could not translate the request";
        if (rc == XB_ERR_TOO_LARGE)
            desc = "request is larger than processors.tail_sampling.max_bytes";
        goto out;
    }
    xb_qdoc_blocks_seal(&col.blocks, &col.list); /* before the documents leave this thread */
    out->rejected_spans = tr.rejected_spans;
    if (tr.rejected_spans) {
        snprintf(out->reject_msg, sizeof(out->reject_msg), "%zu of %zu spans rejected: %s",
                 tr.rejected_spans, tr.spans, tr.first_error ? tr.first_error : "invalid span");
        XB_DEBUG("ingest", "%s", out->reject_msg);
    }
    {
        struct admit a = {.rc = XB_ERR_FULL, /* if it cannot run: shutting down */
                          .ing = ing,
                          .req = req,
                          .list = &col.list,
                          .records = records,
                          .oversize = oversize,
                          .tr = &tr};
        if (ing->run && !ing->direct) {
            if (ing->handoffs)
                XB_METRIC_ADD(*ing->handoffs, 1);
            ing->run(ing->run_ud, admit_locked, &a);
        } else
            admit_locked(&a);
        rc = a.rc;
    }
    if (rc == XB_ERR_FULL)
        desc = "export queue is full, retry later";
    else if (rc)
        desc = "out of memory while queueing documents";

out:
    xb_qdoc_list_clear(&col.list);
    xb_qdoc_blocks_seal(&col.blocks, &col.list); /* a failure path: frees the open block */
    for (size_t i = 0; i < MAX_OTLP_QUEUES; i++)
        xb_qdoc_list_clear(&records[i]);
    *descp = desc;
    return rc;
}

/* Records the arena use of |x|'s request in its peak, then frees the arena for the next. */
static void arena_done(struct xb_ingest *x)
{
    size_t used = xb_arena_used(x->arena);

    if (used > x->arena_peak)
        x->arena_peak = used;
    xb_arena_reset(x->arena);
}

void xb_ingest_export(struct xb_ingest *ing, enum xb_transport transport,
                      enum xb_body_format format, int gzip, const void *body, size_t len,
                      size_t max_body_bytes, struct xb_ingest_outcome *out)
{
    struct xb_ingest *big = ing->main ? ing->main : ing;
    struct attempt at = {
        .arena = ing->arena, .inflated = &ing->inflated, .body_cap = max_body_bytes};
    const char *desc = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (__atomic_load_n(&big->memory_limited, __ATOMIC_RELAXED)) {
        rc = XB_ERR_AGAIN;
        out->refusal = XB_REFUSAL_MEMORY_LIMITED;
        desc = "memory limit reached (memory_limiter), retry later";
        goto out;
    }
    if (len > max_body_bytes) {
        rc = XB_ERR_TOO_LARGE;
        desc = "request body exceeds the size limit";
        goto out;
    }
    if (ing->main && ing->direct)
        pace(ing);
    if (ing->main && ing->small_body < max_body_bytes) {
        at.small = 1;
        at.body_cap = ing->small_body;
        at.docs_cap = ing->small_docs;
    }
    rc = export_attempt(ing, &at, format, gzip, body, len, out, &desc);
    if (at.missed) {
        /* Larger than a worker's own memory: again, in the main path's arena (one such
         * request at a time across workers, so the memory budget holds). */
        arena_done(ing);
        memset(out, 0, sizeof(*out));
        if (ing->large_requests)
            XB_METRIC_ADD(*ing->large_requests, 1);
        pthread_mutex_lock(&big->large);
        at = (struct attempt){
            .arena = big->arena, .inflated = &big->inflated, .body_cap = max_body_bytes};
        rc = export_attempt(ing, &at, format, gzip, body, len, out, &desc);
        arena_done(big);
        /* The gunzip output of a large request is not kept between requests. */
        xb_buf_cleanup(&big->inflated);
        xb_buf_init(&big->inflated, 0);
        pthread_mutex_unlock(&big->large);
    }
    if (ing->inflated.cap > 2 * ing->small_body && ing->main) {
        xb_buf_cleanup(&ing->inflated);
        xb_buf_init(&ing->inflated, 0);
    }

out:
    arena_done(ing);
    out->rc = rc;
    out->err_desc = desc;
    if (ing->requests)
        XB_METRIC_ADD(*ing->requests, 1);
    xb_ingest_account(transport, out);
}
