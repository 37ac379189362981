#include "exporter/outcome.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* ---- ErrorCode ------------------------------------------------------------ */

/* Codes with their own metric label; matched exactly (bounded label cardinality). */
static const struct {
    const char *code;
    enum xb_unprocessed_code label;
} labelled[] = {
    {"InvalidTraceId", XB_UNPROCESSED_INVALID_TRACE_ID},
    {"InvalidSegment", XB_UNPROCESSED_INVALID_SEGMENT},
    {"ThrottledException", XB_UNPROCESSED_THROTTLED},
};

/* Substrings of codes worth another attempt (AWS spells transient errors many ways). */
static const char *const retryable_parts[] = {"Throttl", "Internal", "Unavailable",
                                              "Timeout", "TooMany",  "SlowDown"};

struct xb_xray_error_class xb_xray_error_classify(const char *code)
{
    struct xb_xray_error_class c = {XB_UNPROCESSED_OTHER, 0, 0};

    if (!code)
        return c;
    for (size_t i = 0; i < sizeof(labelled) / sizeof(labelled[0]); i++) {
        if (strcmp(code, labelled[i].code) == 0) {
            c.label = labelled[i].label;
            break;
        }
    }
    for (size_t i = 0; i < sizeof(retryable_parts) / sizeof(retryable_parts[0]); i++)
        if (strstr(code, retryable_parts[i]))
            c.retryable = 1;
    /* Numeric codes: 429 and 5xx are transient. */
    if (strcmp(code, "429") == 0 || (code[0] == '5' && strlen(code) == 3))
        c.retryable = 1;
    c.throttled = strstr(code, "Throttl") != NULL;
    return c;
}

/* ---- per-document decisions ------------------------------------------------ */

static void add(struct xb_outcome *o, size_t doc, enum xb_doc_action_kind kind)
{
    o->actions[o->n_actions++] = (struct xb_doc_action){.doc = doc, .kind = kind};
}

static void add_drop(struct xb_outcome *o, size_t doc, enum xb_reject_reason reason,
                     enum xb_drop_why why, size_t entry)
{
    o->actions[o->n_actions++] = (struct xb_doc_action){
        .doc = doc, .kind = XB_DOC_DROP, .reason = reason, .why = why, .entry = entry};
}

/* A retryable failure of document |i|: another attempt, unless retrying is off or it
 * has been failing for longer than max_elapsed_ms. */
static void retry_or_give_up(struct xb_outcome *o, size_t i, struct xb_retry_state *s, uint64_t now,
                             const struct xb_retry_opts *opts)
{
    s->attempts++;
    if (!s->failing_since_ms)
        s->failing_since_ms = now;
    if (!opts->enabled)
        add_drop(o, i, XB_REJECT_GIVEN_UP_MAX_ELAPSED, XB_DROP_RETRY_DISABLED, 0);
    else if (opts->max_elapsed_ms && now - s->failing_since_ms > opts->max_elapsed_ms)
        add_drop(o, i, XB_REJECT_GIVEN_UP_MAX_ELAPSED, XB_DROP_MAX_ELAPSED, 0);
    else
        add(o, i, XB_DOC_RETRY);
}

/* First document not yet decided whose id is |id|, or -1. */
static long find_undecided(const char *const *ids, size_t n, const unsigned char *decided,
                           const char *id)
{
    if (!id || !*id)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!decided[i] && ids[i] && strcmp(ids[i], id) == 0)
            return (long)i;
    return -1;
}

static void decide_accepted(const struct xb_call_result *res, const char *const *ids,
                            struct xb_retry_state *st, size_t n, uint64_t now,
                            const struct xb_retry_opts *opts, struct xb_outcome *o)
{
    unsigned char decided[XB_OUTCOME_MAX_DOCS] = {0};
    int throttled = 0;

    for (size_t e = 0; e < res->n_unprocessed; e++) {
        const struct xb_unprocessed_entry *u = &res->unprocessed[e];
        long i = find_undecided(ids, n, decided, u->id);
        struct xb_xray_error_class c;

        if (i < 0)
            continue; /* an id we did not send: nothing to account for */
        decided[i] = 1;
        c = xb_xray_error_classify(u->code);
        if (c.retryable) {
            if (c.throttled) {
                o->throttled++;
                throttled = 1;
            }
            retry_or_give_up(o, (size_t)i, &st[i], now, opts);
        } else {
            add_drop(o, (size_t)i, XB_REJECT_UNPROCESSED_NON_RETRYABLE, XB_DROP_UNPROCESSED, e);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!decided[i])
            add(o, i, XB_DOC_DELIVERED);
    if (throttled)
        o->back_off = 1;
    else
        o->reset_failures = 1;
}

/* HTTP statuses that retrying can fix: throttling, server errors, and 401/403, which
 * are usually expired or not-yet-valid credentials or clock skew. */
static int status_retryable(long status)
{
    return status == 429 || status >= 500 || status == 401 || status == 403 || status == 408;
}

int xb_outcome_decide(const struct xb_call_result *res, const char *const *ids,
                      struct xb_retry_state *st, size_t n, uint64_t now_ms,
                      const struct xb_retry_opts *opts, struct xb_outcome *out)
{
    memset(out, 0, sizeof(*out));
    if (n > XB_OUTCOME_MAX_DOCS)
        return XB_ERR_INVALID;
    if (!res->transport_failed && res->status == 200) {
        decide_accepted(res, ids, st, n, now_ms, opts, out);
        return XB_OK;
    }
    out->request_error = 1;
    if (res->transport_failed || status_retryable(res->status)) {
        if (res->status == 429)
            out->throttled = 1;
        /* Last first: requeued one by one at the head, they keep their order. */
        for (size_t i = n; i-- > 0;)
            retry_or_give_up(out, i, &st[i], now_ms, opts);
        out->back_off = 1;
    } else if (n > 1) {
        /* 400/413 for a batch: one document is probably at fault. Resend each alone
         * so only the one X-Ray refuses is dropped. */
        for (size_t i = n; i-- > 0;) {
            st[i].solo = 1;
            add(out, i, XB_DOC_SOLO);
        }
    } else if (n == 1) {
        add_drop(out, 0, XB_REJECT_HTTP_4XX, XB_DROP_HTTP, 0);
    }
    return XB_OK;
}

/* ---- back-off --------------------------------------------------------------- */

uint64_t xb_backoff_step(struct xb_backoff *b, uint64_t now_ms, const struct xb_retry_opts *opts,
                         uint64_t drain_cap_ms, struct xb_rng *rng)
{
    uint64_t delay;

    /* Calls that were in flight together fail together: only the first failure of a
     * round grows the delay, or one short blip would push it straight to the max. */
    if (now_ms < b->until_ms)
        return 0;
    delay =
        xb_backoff_ms(opts->initial_ms, opts->max_ms, b->failures, drain_cap_ms, xb_rng_next(rng));
    b->failures++;
    if (delay > UINT32_MAX)
        delay = UINT32_MAX;
    b->until_ms = now_ms + delay;
    return delay;
}

/* ---- retry bookkeeping ------------------------------------------------------- */

/* Open addressing with linear probing, at most half full; deletion shifts back the
 * entries of the probe run, so there are no tombstones. */
static size_t slot_of(const void *doc, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)doc * 0x9e3779b97f4a7c15ull; /* Fibonacci hashing */
    return (size_t)(h >> 32) & (cap - 1);
}

static struct xb_retry_entry *find_entry(const struct xb_retry_book *b, const void *doc)
{
    if (!b->cap || !doc)
        return NULL;
    for (size_t i = slot_of(doc, b->cap);; i = (i + 1) & (b->cap - 1)) {
        if (!b->slots[i].doc)
            return NULL;
        if (b->slots[i].doc == doc)
            return &b->slots[i];
    }
}

static int is_zero(const struct xb_retry_state *st)
{
    return !st->attempts && !st->solo && !st->failing_since_ms;
}

static void insert_new(struct xb_retry_book *b, const void *doc, const struct xb_retry_state *st)
{
    size_t i = slot_of(doc, b->cap);

    while (b->slots[i].doc)
        i = (i + 1) & (b->cap - 1);
    b->slots[i].doc = doc;
    b->slots[i].st = *st;
    b->used++;
}

static int grow(struct xb_retry_book *b)
{
    struct xb_retry_book nb = {0};

    nb.cap = b->cap ? b->cap * 2 : 64;
    nb.slots = calloc(nb.cap, sizeof(*nb.slots));
    if (!nb.slots)
        return XB_ERR_NOMEM;
    for (size_t i = 0; i < b->cap; i++)
        if (b->slots[i].doc)
            insert_new(&nb, b->slots[i].doc, &b->slots[i].st);
    free(b->slots);
    *b = nb;
    return XB_OK;
}

struct xb_retry_state xb_retry_book_get(const struct xb_retry_book *b, const void *doc)
{
    const struct xb_retry_entry *e = find_entry(b, doc);
    struct xb_retry_state zero = {0};

    return e ? e->st : zero;
}

int xb_retry_book_put(struct xb_retry_book *b, const void *doc, const struct xb_retry_state *st)
{
    struct xb_retry_entry *e = find_entry(b, doc);

    if (is_zero(st)) {
        xb_retry_book_forget(b, doc);
        return XB_OK;
    }
    if (e) {
        e->st = *st;
        return XB_OK;
    }
    if (!doc)
        return XB_ERR_INVALID;
    if ((b->used + 1) * 2 > b->cap && grow(b) != XB_OK)
        return XB_ERR_NOMEM;
    insert_new(b, doc, st);
    return XB_OK;
}

void xb_retry_book_forget(struct xb_retry_book *b, const void *doc)
{
    struct xb_retry_entry *e = find_entry(b, doc);
    size_t hole, i;

    if (!e)
        return;
    hole = (size_t)(e - b->slots);
    b->slots[hole].doc = NULL;
    b->used--;
    /* Move back every later entry of the run that may not sit past the hole. */
    for (i = (hole + 1) & (b->cap - 1); b->slots[i].doc; i = (i + 1) & (b->cap - 1)) {
        size_t home = slot_of(b->slots[i].doc, b->cap);
        /* The entry stays when its home lies cyclically in (hole, i]. */
        int stays = hole < i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (stays)
            continue;
        b->slots[hole] = b->slots[i];
        b->slots[i].doc = NULL;
        hole = i;
    }
}

void xb_retry_book_cleanup(struct xb_retry_book *b)
{
    free(b->slots);
    memset(b, 0, sizeof(*b));
}
