#include "exporter/outcome.h"

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
