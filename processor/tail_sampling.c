#include "processor/tail_sampling.h"

#include <event2/event.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/metrics.h"

/* ------------------------------------------------------------ metrics --- */

static const char *const policy_values[XB_TS_POLICY_TYPE_COUNT] = {
    "always_sample",
    "status_code",
    "latency",
    "numeric_attribute",
    "string_attribute",
    "boolean_attribute",
    "probabilistic",
    "rate_limiting",
    "span_count",
    "and",
    "not",
    "drop",
};
static const char *const decision_values[XB_TS_DECISION_COUNT] = {
    "not_sampled", "sampled", "invert_sampled", "invert_not_sampled", "dropped",
};
static const char *const sampled_values[2] = {"false", "true"};
static const char *const reason_values[2] = {"num_traces", "max_bytes"};
enum { REASON_NUM_TRACES = 0, REASON_MAX_BYTES = 1 };

static const struct xb_metric_label policy_labels[2] = {
    {"policy", policy_values, XB_TS_POLICY_TYPE_COUNT},
    {"decision", decision_values, XB_TS_DECISION_COUNT},
};
static const struct xb_metric_label sampled_label = {"sampled", sampled_values, 2};
static const struct xb_metric_label reason_label = {"reason", reason_values, 2};

static uint64_t v_count_traces[XB_TS_POLICY_TYPE_COUNT * XB_TS_DECISION_COUNT];
static uint64_t v_global[2];
static uint64_t v_new_traces[1];
static uint64_t v_on_memory[1];
static uint64_t v_late[2];
static uint64_t v_early[2];
static uint64_t v_received[1], v_kept[1], v_sampled_out[1], v_held_spans[1], v_bytes[1];

static struct xb_metric_family m_count_traces = {
    .name = "otelcol_processor_tail_sampling_count_traces_sampled_total",
    .help = "Traces by top-level policy type and that policy's verdict",
    .labels = policy_labels,
    .n_labels = 2,
    .values = v_count_traces};
static struct xb_metric_family m_global = {
    .name = "otelcol_processor_tail_sampling_global_count_traces_sampled_total",
    .help = "Traces by final decision (sampled=false includes dropped)",
    .labels = &sampled_label,
    .n_labels = 1,
    .values = v_global};
static struct xb_metric_family m_new_traces = {
    .name = "otelcol_processor_tail_sampling_new_trace_id_received_total",
    .help = "Traces that started waiting for a decision",
    .values = v_new_traces};
static struct xb_metric_family m_on_memory = {
    .name = "otelcol_processor_tail_sampling_sampling_traces_on_memory",
    .help = "Traces waiting for a decision now",
    .type = XB_METRIC_GAUGE,
    .values = v_on_memory};
static struct xb_metric_family m_late = {
    .name = "otelcol_processor_tail_sampling_early_releases_from_cache_decision_total",
    .help = "Late spans of already decided traces, released or dropped by the decision cache",
    .labels = &sampled_label,
    .n_labels = 1,
    .values = v_late};
static struct xb_metric_family m_early = {
    .name = "xraybridge_processor_tail_sampling_early_decisions_total",
    .help = "Traces decided before decision_wait to stay within num_traces or max_bytes",
    .labels = &reason_label,
    .n_labels = 1,
    .values = v_early};
static struct xb_metric_family m_received = {
    .name = "xraybridge_processor_tail_sampling_spans_received_total",
    .help = "Spans admitted into the tail_sampling processor",
    .values = v_received};
static struct xb_metric_family m_kept = {
    .name = "xraybridge_processor_tail_sampling_spans_kept_total",
    .help = "Spans of sampled traces handed to the exporter queues",
    .values = v_kept};
static struct xb_metric_family m_sampled_out = {
    .name = "xraybridge_processor_tail_sampling_spans_sampled_out_total",
    .help = "Spans of traces not sampled or dropped by a policy",
    .values = v_sampled_out};
static struct xb_metric_family m_held_spans = {
    .name = "xraybridge_processor_tail_sampling_spans_held",
    .help = "Spans held now: waiting for a decision or for exporter queue room",
    .type = XB_METRIC_GAUGE,
    .values = v_held_spans};
static struct xb_metric_family m_bytes = {
    .name = "xraybridge_processor_tail_sampling_bytes",
    .help = "Bytes charged to held traces now (max_bytes caps it)",
    .type = XB_METRIC_GAUGE,
    .values = v_bytes};

void xb_ts_metrics_register(void)
{
    struct xb_metric_family *all[] = {&m_count_traces, &m_global,     &m_new_traces, &m_on_memory,
                                      &m_late,         &m_early,      &m_received,   &m_kept,
                                      &m_sampled_out,  &m_held_spans, &m_bytes};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        xb_metrics_register(all[i]);
}

/* -------------------------------------------------------- id helpers --- */

static uint64_t id_hash(const uint8_t id[16])
{
    uint64_t a, b;

    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    a ^= b * 0x9E3779B97F4A7C15ull;
    a ^= a >> 31;
    a *= 0xBF58476D1CE4E5B9ull;
    return a ^ (a >> 29);
}

/* "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx" -> 16 bytes. Returns 0 or -1. */
static int xray_id_bytes(const char *s, uint8_t out[16])
{
    char hex[32];
    size_t n = 0;

    if (s[0] != '1' || s[1] != '-' || s[10] != '-')
        return -1;
    for (const char *p = s + 2; *p && n < 33; p++) {
        if (*p == '-' && p == s + 10)
            continue;
        if (n == 32)
            return -1;
        hex[n++] = *p;
    }
    if (n != 32)
        return -1;
    for (int i = 0; i < 16; i++) {
        int h = xb_hex_value(hex[2 * i]), l = xb_hex_value(hex[2 * i + 1]);
        if (h < 0 || l < 0)
            return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

/* ---------------------------------------------------- decision cache --- */

/* A bounded set of trace ids; the oldest insert is forgotten first. */
struct idcache {
    size_t cap, pos, used, mask;
    uint8_t (*ids)[16];
    int32_t *next;    /* chain link per slot, -1 = end */
    int32_t *buckets; /* head slot per bucket, -1 = empty */
};

static size_t pow2_at_least(size_t n)
{
    size_t p = 1024;
    while (p < n && p < ((size_t)1 << 26))
        p <<= 1;
    return p;
}

static int cache_init(struct idcache *c, size_t cap)
{
    size_t nb;

    memset(c, 0, sizeof(*c));
    if (cap == 0)
        return XB_OK;
    nb = pow2_at_least(cap);
    c->ids = malloc(cap * sizeof(*c->ids));
    c->next = malloc(cap * sizeof(*c->next));
    c->buckets = malloc(nb * sizeof(*c->buckets));
    if (!c->ids || !c->next || !c->buckets)
        return XB_ERR_NOMEM;
    memset(c->buckets, 0xff, nb * sizeof(*c->buckets));
    c->cap = cap;
    c->mask = nb - 1;
    return XB_OK;
}

static void cache_free(struct idcache *c)
{
    free(c->ids);
    free(c->next);
    free(c->buckets);
}

static int cache_has(const struct idcache *c, const uint8_t id[16])
{
    if (!c->cap)
        return 0;
    for (int32_t s = c->buckets[id_hash(id) & c->mask]; s >= 0; s = c->next[s])
        if (memcmp(c->ids[s], id, 16) == 0)
            return 1;
    return 0;
}

static void cache_put(struct idcache *c, const uint8_t id[16])
{
    int32_t slot;
    size_t b;

    if (!c->cap || cache_has(c, id))
        return;
    slot = (int32_t)c->pos;
    if (c->used == c->cap) {
        /* unlink the oldest entry, which lives in this slot */
        int32_t *pp = &c->buckets[id_hash(c->ids[slot]) & c->mask];
        while (*pp >= 0 && *pp != slot)
            pp = &c->next[*pp];
        if (*pp == slot)
            *pp = c->next[slot];
    } else {
        c->used++;
    }
    memcpy(c->ids[slot], id, 16);
    b = id_hash(id) & c->mask;
    c->next[slot] = c->buckets[b];
    c->buckets[b] = slot;
    c->pos = (c->pos + 1) % c->cap;
}

/* ------------------------------------------------------------ engine --- */

struct ts_trace {
    uint8_t id[16];
    struct ts_trace *hnext;       /* hash chain */
    struct ts_trace *prev, *next; /* arrival order (waiting) or held FIFO (next only) */
    uint64_t arrival_ms;
    struct xb_ts_policy_set *ps; /* one reference */
    struct xb_ts_summary sum;
    struct xb_qdoc_list docs;
};

struct xb_ts {
    struct xb_ts_opts opts;
    struct xb_ts_policy_set *ps; /* current; one reference */
    xb_ts_release_cb release;
    void *ud;
    struct event *timer;
    struct ts_trace **buckets;
    size_t mask;
    struct ts_trace *oldest, *newest; /* waiting, by arrival */
    struct ts_trace *held_head, *held_tail;
    size_t n_waiting, n_held_docs, bytes;
    struct idcache sampled, not_sampled;
    enum xb_ts_decision *verdicts;
    size_t n_verdicts;
    struct xb_ts_stats st;
};

static size_t trace_charge(const struct ts_trace *t)
{
    return t->docs.bytes + XB_TS_TRACE_OVERHEAD;
}

static void update_gauges(struct xb_ts *ts)
{
    v_on_memory[0] = ts->n_waiting;
    v_bytes[0] = ts->bytes;
    v_held_spans[0] = ts->st.spans_received - ts->st.spans_kept - ts->st.spans_sampled_out;
}

static struct ts_trace *find(const struct xb_ts *ts, const uint8_t id[16])
{
    for (struct ts_trace *t = ts->buckets[id_hash(id) & ts->mask]; t; t = t->hnext)
        if (memcmp(t->id, id, 16) == 0)
            return t;
    return NULL;
}

static void unlink_waiting(struct xb_ts *ts, struct ts_trace *t)
{
    struct ts_trace **pp = &ts->buckets[id_hash(t->id) & ts->mask];

    while (*pp && *pp != t)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = t->hnext;
    if (t->prev)
        t->prev->next = t->next;
    else
        ts->oldest = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        ts->newest = t->prev;
    t->prev = t->next = t->hnext = NULL;
    ts->n_waiting--;
}

static void trace_free(struct ts_trace *t)
{
    xb_qdoc_list_clear(&t->docs);
    xb_ts_policy_set_unref(t->ps);
    free(t);
}

/* Hands |t|'s documents to the queues; on refusal appends it to the held FIFO. */
static void release_or_hold(struct xb_ts *ts, struct ts_trace *t)
{
    size_t charge = trace_charge(t), ndocs = t->docs.n;

    if (!ts->held_head && (t->docs.n == 0 || ts->release(ts->ud, &t->docs) == XB_OK)) {
        ts->st.spans_kept += t->sum.spans;
        v_kept[0] += t->sum.spans;
        ts->bytes -= charge;
        trace_free(t);
        return;
    }
    t->next = NULL;
    if (ts->held_tail)
        ts->held_tail->next = t;
    else
        ts->held_head = t;
    ts->held_tail = t;
    ts->n_held_docs += ndocs;
}

/* Passes the held trace |t| on one document at a time while the queues take them (a
 * trace larger than the queues' free room would otherwise wait forever). Returns
 * non-zero when every document went. */
static int release_piecewise(struct xb_ts *ts, struct ts_trace *t)
{
    while (t->docs.head) {
        struct xb_qdoc *d = t->docs.head;
        struct xb_qdoc_list one = {0};
        size_t c = xb_qdoc_charge(d);

        t->docs.head = d->next;
        xb_qdoc_list_add(&one, d);
        if (ts->release(ts->ud, &one) != XB_OK) {
            d->next = t->docs.head; /* back at the head, untouched */
            t->docs.head = d;
            return 0;
        }
        if (!t->docs.head)
            t->docs.tail = NULL;
        t->docs.n--;
        t->docs.bytes -= c;
        ts->bytes -= c;
        ts->n_held_docs--;
    }
    return 1;
}

/* Retries the held FIFO in order; stops at the first refusal. */
static void retry_held(struct xb_ts *ts)
{
    while (ts->held_head) {
        struct ts_trace *t = ts->held_head;
        size_t charge = trace_charge(t), ndocs = t->docs.n;
        if (ts->release(ts->ud, &t->docs) == XB_OK) {
            ts->n_held_docs -= ndocs;
            ts->bytes -= charge;
        } else if (release_piecewise(ts, t)) {
            ts->bytes -= XB_TS_TRACE_OVERHEAD; /* documents were uncharged one by one */
        } else {
            break;
        }
        ts->held_head = t->next;
        if (!ts->held_head)
            ts->held_tail = NULL;
        ts->st.spans_kept += t->sum.spans;
        v_kept[0] += t->sum.spans;
        trace_free(t);
    }
}

static void decide(struct xb_ts *ts, struct ts_trace *t)
{
    struct xb_ts_policy_set *ps = t->ps;
    enum xb_ts_decision final;
    enum xb_ts_decision *verdicts = NULL;

    if (ps->n > ts->n_verdicts) {
        enum xb_ts_decision *nv = realloc(ts->verdicts, ps->n * sizeof(*nv));
        if (nv) {
            ts->verdicts = nv;
            ts->n_verdicts = ps->n;
        }
    }
    if (ps->n <= ts->n_verdicts)
        verdicts = ts->verdicts;
    final = xb_ts_decide(ps, t->id, &t->sum, (int64_t)(xb_clock_wall_ns() / 1000000000u), verdicts);
    if (verdicts) {
        for (size_t i = 0; i < ps->n; i++)
            if (verdicts[i] < XB_TS_DECISION_COUNT)
                v_count_traces[ps->policies[i].type * XB_TS_DECISION_COUNT + verdicts[i]]++;
    }
    unlink_waiting(ts, t);
    if (final == XB_TS_SAMPLED) {
        ts->st.traces_sampled++;
        v_global[1]++;
        cache_put(&ts->sampled, t->id);
        release_or_hold(ts, t);
    } else {
        if (final == XB_TS_DROPPED)
            ts->st.traces_dropped++;
        else
            ts->st.traces_not_sampled++;
        v_global[0]++;
        cache_put(&ts->not_sampled, t->id);
        ts->st.spans_sampled_out += t->sum.spans;
        v_sampled_out[0] += t->sum.spans;
        ts->bytes -= trace_charge(t);
        trace_free(t);
    }
}

void xb_ts_tick(struct xb_ts *ts, uint64_t now_mono_ms)
{
    retry_held(ts);
    while (ts->oldest && ts->oldest->arrival_ms + ts->opts.decision_wait_ms <= now_mono_ms)
        decide(ts, ts->oldest);
    update_gauges(ts);
}

void xb_ts_flush(struct xb_ts *ts)
{
    size_t traces = ts->n_waiting;
    uint64_t kept = ts->st.traces_sampled;

    retry_held(ts);
    while (ts->oldest)
        decide(ts, ts->oldest);
    update_gauges(ts);
    if (traces)
        XB_INFO("tail_sampling", "shutdown: decided %zu waiting traces now, %" PRIu64 " kept",
                traces, ts->st.traces_sampled - kept);
}

static void on_timer(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    xb_ts_tick(ud, xb_clock_mono_ns() / 1000000u);
}

/* Tick period for |wait_ms|: a tenth of it, between 10 ms and 1 s. */
static struct timeval tick_period(uint32_t wait_ms)
{
    uint32_t ms = wait_ms / 10;
    struct timeval tv;

    if (ms < 10)
        ms = 10;
    if (ms > 1000)
        ms = 1000;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

struct xb_ts *xb_ts_new(struct event_base *base, const struct xb_ts_opts *opts,
                        struct xb_ts_policy_set *ps, xb_ts_release_cb release, void *ud)
{
    struct xb_ts *ts;
    size_t nb;

    if (!opts || !ps || !release || opts->decision_wait_ms == 0 || opts->num_traces == 0 ||
        opts->max_bytes == 0)
        return NULL;
    xb_ts_metrics_register();
    ts = calloc(1, sizeof(*ts));
    if (!ts)
        return NULL;
    ts->opts = *opts;
    ts->release = release;
    ts->ud = ud;
    nb = pow2_at_least(opts->num_traces);
    ts->buckets = calloc(nb, sizeof(*ts->buckets));
    ts->mask = nb - 1;
    if (!ts->buckets || cache_init(&ts->sampled, opts->sampled_cache_size) ||
        cache_init(&ts->not_sampled, opts->non_sampled_cache_size))
        goto fail;
    if (base) {
        struct timeval tv = tick_period(opts->decision_wait_ms);
        ts->timer = event_new(base, -1, EV_PERSIST, on_timer, ts);
        if (!ts->timer || event_add(ts->timer, &tv))
            goto fail;
    }
    ts->ps = xb_ts_policy_set_ref(ps);
    return ts;
fail:
    xb_ts_free(ts);
    return NULL;
}

void xb_ts_free(struct xb_ts *ts)
{
    if (!ts)
        return;
    if (ts->timer)
        event_free(ts->timer);
    if (ts->st.spans_received)
        XB_INFO("tail_sampling",
                "totals: %" PRIu64 " traces, %" PRIu64 " spans received = %" PRIu64
                " kept + %" PRIu64 " sampled out + %zu held at exit (discarded)",
                ts->st.traces_new, ts->st.spans_received, ts->st.spans_kept,
                ts->st.spans_sampled_out,
                (size_t)(ts->st.spans_received - ts->st.spans_kept - ts->st.spans_sampled_out));
    while (ts->oldest) {
        struct ts_trace *t = ts->oldest;
        unlink_waiting(ts, t);
        trace_free(t);
    }
    while (ts->held_head) {
        struct ts_trace *t = ts->held_head;
        ts->held_head = t->next;
        trace_free(t);
    }
    cache_free(&ts->sampled);
    cache_free(&ts->not_sampled);
    free(ts->buckets);
    free(ts->verdicts);
    xb_ts_policy_set_unref(ts->ps);
    free(ts);
}

void xb_ts_set_policies(struct xb_ts *ts, struct xb_ts_policy_set *ps, uint32_t decision_wait_ms)
{
    xb_ts_policy_set_ref(ps);
    xb_ts_policy_set_unref(ts->ps);
    ts->ps = ps;
    if (decision_wait_ms && decision_wait_ms != ts->opts.decision_wait_ms) {
        ts->opts.decision_wait_ms = decision_wait_ms;
        if (ts->timer) {
            struct timeval tv = tick_period(decision_wait_ms);
            event_add(ts->timer, &tv); /* re-arms with the new period */
        }
    }
}

int xb_ts_has_room(const struct xb_ts *ts, size_t docs, size_t bytes)
{
    (void)docs;
    return ts->held_head == NULL && bytes + XB_TS_TRACE_OVERHEAD <= ts->opts.max_bytes;
}

int xb_ts_too_large(const struct xb_ts *ts, size_t bytes)
{
    return bytes + XB_TS_TRACE_OVERHEAD > ts->opts.max_bytes;
}

size_t xb_ts_docs_held(const struct xb_ts *ts)
{
    size_t n = ts->n_held_docs;

    for (const struct ts_trace *t = ts->oldest; t; t = t->next)
        n += t->docs.n;
    return n;
}

size_t xb_ts_traces_waiting(const struct xb_ts *ts)
{
    return ts->n_waiting;
}

size_t xb_ts_bytes(const struct xb_ts *ts)
{
    return ts->bytes;
}

void xb_ts_stats(const struct xb_ts *ts, struct xb_ts_stats *out)
{
    *out = ts->st;
}

/* ----------------------------------------------------------- ingest --- */

/* One trace of the request being ingested. */
struct req_trace {
    uint8_t id[16];
    struct ts_trace *t; /* waiting trace, or a new one (is_new) */
    int is_new, cached; /* cached: 1 sampled, 2 not sampled */
    struct xb_ts_summary sum;
    struct xb_qdoc_list docs;
};
/* app/budget.c counts 120 bytes per span: one record plus up to four 4-byte slots. */
_Static_assert(sizeof(struct req_trace) + 16 <= 120, "per-span table cost above the budget");

/* The request's traces: a dense array (one record per distinct trace id, at most one
 * per span) indexed by an open-addressing table of 4-byte slots, so a request of many
 * tiny spans costs about 100 bytes per span at most (app/budget.c counts it). */
struct req_table {
    struct req_trace *e;
    size_t n, cap;   /* records used / allocated */
    uint32_t *slots; /* record index + 1; 0 = empty */
    size_t mask;
};

static int req_init(struct req_table *rt, size_t max_ids)
{
    size_t nslots = 16;

    while (nslots < 2 * max_ids)
        nslots <<= 1;
    rt->e = calloc(max_ids ? max_ids : 1, sizeof(*rt->e));
    rt->slots = calloc(nslots, sizeof(*rt->slots));
    rt->cap = max_ids;
    rt->mask = nslots - 1;
    return rt->e && rt->slots ? XB_OK : XB_ERR_NOMEM;
}

static void req_free(struct req_table *rt)
{
    free(rt->e);
    free(rt->slots);
}

/* The record of |id|, or NULL; with |add|, a new record when absent (NULL when full). */
static struct req_trace *req_lookup(struct req_table *rt, const uint8_t id[16], int add)
{
    size_t i = id_hash(id) & rt->mask;
    struct req_trace *e;

    while (rt->slots[i]) {
        e = &rt->e[rt->slots[i] - 1];
        if (memcmp(e->id, id, 16) == 0)
            return e;
        i = (i + 1) & rt->mask;
    }
    if (!add || rt->n == rt->cap)
        return NULL;
    e = &rt->e[rt->n++];
    rt->slots[i] = (uint32_t)rt->n;
    memcpy(e->id, id, 16);
    xb_ts_summary_init(&e->sum);
    return e;
}

static struct req_trace *req_get(struct req_table *rt, const uint8_t id[16])
{
    return req_lookup(rt, id, 1);
}

/* Decides the oldest waiting traces until |new_traces| more and |bytes| more fit. */
static void make_room(struct xb_ts *ts, size_t new_traces, size_t bytes)
{
    while (ts->oldest) {
        int reason;
        if (ts->n_waiting + new_traces > ts->opts.num_traces)
            reason = REASON_NUM_TRACES;
        else if (ts->bytes + bytes > ts->opts.max_bytes)
            reason = REASON_MAX_BYTES;
        else
            break;
        v_early[reason]++;
        ts->st.early_decisions++;
        decide(ts, ts->oldest);
    }
}

/* Where the facts of a request come from: its OTLP spans, or X-Ray documents. */
struct source {
    const xb_pb_export_req *req; /* NULL: the documents themselves */
    const struct xb_qdoc_list *docs;
};

/* Step 1: every trace id of the request into |rt|. */
static void collect_ids(struct req_table *rt, const struct source *src)
{
    const xb_pb_export_req *req = src->req;

    if (!req) {
        for (const struct xb_qdoc *d = src->docs->head; d; d = d->next) {
            uint8_t id[16];
            if (xray_id_bytes(d->trace_id, id) == 0)
                req_get(rt, id);
        }
        return;
    }
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        const xb_pb_resource_spans *rs = req->resource_spans[r];
        for (size_t s = 0; s < rs->n_scope_spans; s++)
            for (size_t k = 0; k < rs->scope_spans[s]->n_spans; k++) {
                const xb_pb_span *sp = rs->scope_spans[s]->spans[k];
                if (sp->trace_id.len == 16)
                    req_get(rt, sp->trace_id.data);
            }
    }
}

/* Facts of one X-Ray segment document: status ERROR when fault, error or throttle is
 * true; start_time / end_time (seconds) as ns. */
static void fold_document(const struct xb_qdoc *d, struct xb_ts_summary *sum)
{
    json_error_t jerr;
    json_t *j = json_loadb(d->json, d->len, 0, &jerr);
    int status = XB_STATUS_UNSET;
    double start = 0, end = 0;

    if (j) {
        if (json_is_true(json_object_get(j, "fault")) ||
            json_is_true(json_object_get(j, "error")) ||
            json_is_true(json_object_get(j, "throttle")))
            status = XB_STATUS_ERROR;
        start = json_number_value(json_object_get(j, "start_time"));
        end = json_number_value(json_object_get(j, "end_time"));
        json_decref(j);
    }
    /* a hostile value must not overflow the conversion: beyond year 2500 counts as 0 */
    if (!(start > 0 && start < 1.7e10))
        start = 0;
    if (!(end > 0 && end < 1.7e10) || end < start)
        end = start;
    xb_ts_summary_add_facts(sum, status, (uint64_t)(start * 1e9), (uint64_t)(end * 1e9));
}

/* Step 3: span facts, with the policies each trace will be decided with. */
static void fold_facts(struct req_table *rt, const struct source *src)
{
    const xb_pb_export_req *req = src->req;

    if (!req) {
        for (const struct xb_qdoc *d = src->docs->head; d; d = d->next) {
            uint8_t id[16];
            struct req_trace *e;
            if (xray_id_bytes(d->trace_id, id) == 0 && (e = req_get(rt, id)))
                fold_document(d, &e->sum);
        }
        return;
    }
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        const xb_pb_resource_spans *rs = req->resource_spans[r];
        for (size_t s = 0; s < rs->n_scope_spans; s++)
            for (size_t k = 0; k < rs->scope_spans[s]->n_spans; k++) {
                const xb_pb_span *sp = rs->scope_spans[s]->spans[k];
                struct req_trace *e;
                if (sp->trace_id.len != 16)
                    continue;
                e = req_get(rt, sp->trace_id.data);
                if (e)
                    xb_ts_summary_add_span(e->t ? e->t->ps : NULL, rs->resource, sp, &e->sum);
            }
    }
}

static int admit(struct xb_ts *ts, const struct source *src, size_t max_ids,
                 struct xb_qdoc_list *docs, uint64_t now_mono_ms)
{
    struct req_table rt = {0};
    size_t new_traces = 0;
    struct ts_trace *pass; /* documents whose trace id is not an X-Ray id: passed on */
    int rc = XB_OK;

    if (ts->held_head)
        return XB_ERR_FULL;
    pass = calloc(1, sizeof(*pass));
    if (req_init(&rt, max_ids) != XB_OK || !pass) {
        req_free(&rt);
        free(pass);
        return XB_ERR_NOMEM;
    }

    /* 1. the request's trace ids */
    collect_ids(&rt, src);
    /* 2. make room, then find each trace's state */
    for (size_t i = 0; i < rt.n; i++)
        if (!find(ts, rt.e[i].id) && !cache_has(&ts->sampled, rt.e[i].id) &&
            !cache_has(&ts->not_sampled, rt.e[i].id))
            new_traces++;
    make_room(ts, new_traces, docs->bytes + new_traces * XB_TS_TRACE_OVERHEAD);
    for (size_t i = 0; i < rt.n; i++) {
        struct req_trace *e = &rt.e[i];
        e->t = find(ts, e->id);
        if (e->t)
            continue;
        if (cache_has(&ts->sampled, e->id)) {
            e->cached = 1;
        } else if (cache_has(&ts->not_sampled, e->id)) {
            e->cached = 2;
        } else {
            e->t = calloc(1, sizeof(*e->t));
            if (!e->t) {
                rc = XB_ERR_NOMEM;
                goto out;
            }
            e->is_new = 1;
            memcpy(e->t->id, e->id, 16);
            xb_ts_summary_init(&e->t->sum);
            e->t->ps = xb_ts_policy_set_ref(ts->ps);
            e->t->arrival_ms = now_mono_ms;
        }
    }
    /* 3. span facts */
    fold_facts(&rt, src);
    /* 4. documents to their traces (cannot fail from here on) */
    while (docs->head) {
        struct xb_qdoc *d = docs->head;
        uint8_t id[16];
        struct req_trace *e = NULL;
        docs->head = d->next;
        d->next = NULL;
        if (xray_id_bytes(d->trace_id, id) == 0)
            e = req_lookup(&rt, id, 0);
        if (e) {
            xb_qdoc_list_add(&e->docs, d);
        } else {
            /* no trace to hold it in (an unparsable trace id): passed on unsampled
             * rather than lost, one span each */
            xb_qdoc_list_add(&pass->docs, d);
            pass->sum.spans++;
        }
    }
    docs->tail = NULL;
    docs->n = 0;
    docs->bytes = 0;
    /* 5. hold, or follow the cached decision */
    for (size_t i = 0; i < rt.n; i++) {
        struct req_trace *e = &rt.e[i];
        ts->st.spans_received += e->sum.spans;
        v_received[0] += e->sum.spans;
        if (e->cached == 1) {
            struct ts_trace *late = calloc(1, sizeof(*late));
            ts->st.late_spans_sampled += e->sum.spans;
            v_late[1] += e->sum.spans;
            if (late) {
                late->sum = e->sum;
                late->docs = e->docs;
                memset(&e->docs, 0, sizeof(e->docs));
                ts->bytes += trace_charge(late);
                release_or_hold(ts, late);
                continue;
            }
            /* no memory for the holder: counted as sampled out, not lost silently */
            XB_WARN("tail_sampling", "out of memory: late spans of a sampled trace dropped");
        }
        if (e->cached) {
            if (e->cached == 2) {
                ts->st.late_spans_not_sampled += e->sum.spans;
                v_late[0] += e->sum.spans;
            }
            ts->st.spans_sampled_out += e->sum.spans;
            v_sampled_out[0] += e->sum.spans;
            xb_qdoc_list_clear(&e->docs);
            continue;
        }
        /* waiting (existing or new) */
        xb_ts_summary_merge(&e->t->sum, &e->sum);
        ts->bytes += e->docs.bytes;
        while (e->docs.head) {
            struct xb_qdoc *d = e->docs.head;
            e->docs.head = d->next;
            d->next = NULL;
            xb_qdoc_list_add(&e->t->docs, d);
        }
        memset(&e->docs, 0, sizeof(e->docs));
        if (e->is_new) {
            struct ts_trace *t = e->t;
            size_t b = id_hash(t->id) & ts->mask;
            t->hnext = ts->buckets[b];
            ts->buckets[b] = t;
            t->prev = ts->newest;
            if (ts->newest)
                ts->newest->next = t;
            else
                ts->oldest = t;
            ts->newest = t;
            ts->n_waiting++;
            ts->bytes += XB_TS_TRACE_OVERHEAD;
            ts->st.traces_new++;
            v_new_traces[0]++;
            e->is_new = 0;
        }
    }
    if (pass->docs.n) {
        ts->st.spans_received += pass->sum.spans;
        v_received[0] += pass->sum.spans;
        ts->bytes += trace_charge(pass);
        release_or_hold(ts, pass);
        pass = NULL;
    }
    update_gauges(ts);
out:
    if (pass)
        trace_free(pass);
    for (size_t i = 0; i < rt.n; i++) {
        if (rt.e[i].is_new)
            trace_free(rt.e[i].t); /* only on failure: never linked */
        xb_qdoc_list_clear(&rt.e[i].docs);
    }
    req_free(&rt);
    return rc;
}

int xb_ts_ingest(struct xb_ts *ts, const xb_pb_export_req *req, struct xb_qdoc_list *docs,
                 uint64_t now_mono_ms)
{
    struct source src = {req, docs};
    size_t n_ids = 0; /* spans with a 16-byte trace id: at most one record each */

    for (size_t r = 0; r < req->n_resource_spans; r++)
        for (size_t s = 0; s < req->resource_spans[r]->n_scope_spans; s++) {
            const xb_pb_scope_spans *ss = req->resource_spans[r]->scope_spans[s];
            for (size_t k = 0; k < ss->n_spans; k++)
                n_ids += ss->spans[k]->trace_id.len == 16;
        }
    return admit(ts, &src, n_ids, docs, now_mono_ms);
}

int xb_ts_ingest_documents(struct xb_ts *ts, struct xb_qdoc_list *docs, uint64_t now_mono_ms)
{
    struct source src = {NULL, docs};

    return admit(ts, &src, docs->n, docs, now_mono_ms);
}
