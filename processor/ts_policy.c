#include "processor/ts_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static const char *const type_names[XB_TS_POLICY_TYPE_COUNT] = {
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

static const char *const decision_names[XB_TS_DECISION_COUNT] = {
    "not_sampled", "sampled", "invert_sampled", "invert_not_sampled", "dropped",
};

const char *xb_ts_policy_type_name(enum xb_ts_policy_type t)
{
    return (unsigned)t < XB_TS_POLICY_TYPE_COUNT ? type_names[t] : "?";
}

int xb_ts_policy_type_parse(const char *name, enum xb_ts_policy_type *out)
{
    for (int i = 0; i < XB_TS_POLICY_TYPE_COUNT; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (enum xb_ts_policy_type)i;
            return XB_OK;
        }
    }
    return XB_ERR_NOT_FOUND;
}

const char *xb_ts_decision_name(enum xb_ts_decision d)
{
    return (unsigned)d < XB_TS_DECISION_COUNT ? decision_names[d] : "?";
}

/* ------------------------------------------------------------- set --- */

static int is_leaf(enum xb_ts_policy_type t)
{
    return t == XB_TS_NUMERIC_ATTRIBUTE || t == XB_TS_STRING_ATTRIBUTE ||
           t == XB_TS_BOOLEAN_ATTRIBUTE;
}

static int prepare_one(struct xb_ts_policy_set *ps, struct xb_ts_policy *p, char *err,
                       size_t errlen)
{
    int rc = XB_OK;

    p->leaf = -1;
    if (is_leaf(p->type)) {
        if (ps->n_leaves >= XB_TS_MAX_LEAVES) {
            snprintf(err, errlen, "policy \"%s\": more than %d attribute policies",
                     p->name ? p->name : "", XB_TS_MAX_LEAVES);
            return XB_ERR_INVALID;
        }
        p->leaf = (int)ps->n_leaves;
        ps->leaves[ps->n_leaves++] = p;
    }
    if (p->type == XB_TS_STRING_ATTRIBUTE && p->regex && p->n_values && !p->res) {
        p->res = calloc(p->n_values, sizeof(regex_t));
        if (!p->res)
            return XB_ERR_NOMEM;
        for (size_t i = 0; i < p->n_values; i++) {
            int r = regcomp(&p->res[i], p->values[i], REG_EXTENDED | REG_NOSUB);
            if (r != 0) {
                char msg[128];
                regerror(r, &p->res[i], msg, sizeof(msg));
                snprintf(err, errlen, "policy \"%s\": bad regular expression \"%s\": %s",
                         p->name ? p->name : "", p->values[i], msg);
                /* the ones compiled so far are freed by cleanup */
                for (size_t j = 0; j < i; j++)
                    regfree(&p->res[j]);
                free(p->res);
                p->res = NULL;
                return XB_ERR_INVALID;
            }
        }
    }
    if (p->type == XB_TS_PROBABILISTIC)
        p->hash_threshold = xb_ts_probability_threshold(p->sampling_percentage);
    for (size_t i = 0; i < p->n_subs && rc == XB_OK; i++)
        rc = prepare_one(ps, &p->subs[i], err, errlen);
    return rc;
}

int xb_ts_policy_set_prepare(struct xb_ts_policy_set *ps, char *err, size_t errlen)
{
    int rc = XB_OK;

    ps->n_leaves = 0;
    ps->refs = 1;
    for (size_t i = 0; i < ps->n && rc == XB_OK; i++)
        rc = prepare_one(ps, &ps->policies[i], err, errlen);
    return rc;
}

struct xb_ts_policy_set *xb_ts_policy_set_ref(struct xb_ts_policy_set *ps)
{
    if (ps)
        ps->refs++;
    return ps;
}

void xb_ts_policy_cleanup(struct xb_ts_policy *p)
{
    free(p->name);
    free(p->key);
    for (size_t i = 0; i < p->n_values; i++)
        free(p->values[i]);
    free(p->values);
    if (p->res) {
        for (size_t i = 0; i < p->n_values; i++)
            regfree(&p->res[i]);
        free(p->res);
    }
    free(p->hash_salt);
    for (size_t i = 0; i < p->n_subs; i++)
        xb_ts_policy_cleanup(&p->subs[i]);
    free(p->subs);
    memset(p, 0, sizeof(*p));
}

void xb_ts_policy_set_unref(struct xb_ts_policy_set *ps)
{
    if (!ps || --ps->refs > 0)
        return;
    for (size_t i = 0; i < ps->n; i++)
        xb_ts_policy_cleanup(&ps->policies[i]);
    free(ps->policies);
    free(ps);
}

/* ------------------------------------------------------- hashing --- */

uint64_t xb_ts_hash_trace_id(const char *salt, const uint8_t trace_id[16])
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64 offset basis */

    for (const unsigned char *p = (const unsigned char *)salt; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull; /* FNV 64 prime */
    }
    for (int i = 0; i < 16; i++) {
        h ^= trace_id[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t xb_ts_probability_threshold(double percentage)
{
    long double t;

    if (!(percentage > 0))
        return 0;
    if (percentage >= 100)
        return UINT64_MAX;
    t = (long double)UINT64_MAX * ((long double)percentage / 100.0L);
    return t >= (long double)UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

/* ------------------------------------------------------ summaries --- */

void xb_ts_summary_init(struct xb_ts_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->start_ns_min = UINT64_MAX;
}

void xb_ts_summary_merge(struct xb_ts_summary *a, const struct xb_ts_summary *b)
{
    a->spans += b->spans;
    if (b->start_ns_min < a->start_ns_min)
        a->start_ns_min = b->start_ns_min;
    if (b->end_ns_max > a->end_ns_max)
        a->end_ns_max = b->end_ns_max;
    a->status_seen |= b->status_seen;
    a->matched |= b->matched;
}

void xb_ts_summary_add_facts(struct xb_ts_summary *s, int status, uint64_t start_ns,
                             uint64_t end_ns)
{
    s->spans++;
    if (start_ns < s->start_ns_min)
        s->start_ns_min = start_ns;
    if (end_ns > s->end_ns_max)
        s->end_ns_max = end_ns;
    if (status >= 0 && status < 8)
        s->status_seen |= 1u << status;
}

/* Non-zero when attribute value |v| satisfies leaf policy |p|. */
static int value_matches(const struct xb_ts_policy *p, const xb_pb_any *v)
{
    switch (p->type) {
    case XB_TS_NUMERIC_ATTRIBUTE: {
        int64_t x;
        if (v->value_case == XB_ANY_INT)
            x = v->int_value;
        else if (v->value_case == XB_ANY_DOUBLE && v->double_value > -9.2e18 &&
                 v->double_value < 9.2e18)
            x = (int64_t)v->double_value;
        else
            return 0;
        return (!p->has_min || x >= p->min_value) && (!p->has_max || x <= p->max_value);
    }
    case XB_TS_STRING_ATTRIBUTE:
        if (v->value_case != XB_ANY_STRING || !v->string_value)
            return 0;
        for (size_t i = 0; i < p->n_values; i++) {
            if (p->res ? regexec(&p->res[i], v->string_value, 0, NULL, 0) == 0
                       : strcmp(v->string_value, p->values[i]) == 0)
                return 1;
        }
        return 0;
    case XB_TS_BOOLEAN_ATTRIBUTE:
        return v->value_case == XB_ANY_BOOL && (!!v->bool_value) == (!!p->bool_value);
    default:
        return 0;
    }
}

/* Non-zero when some attribute in |kvs| is |p|'s key with a matching value. */
static int attrs_match(const struct xb_ts_policy *p, xb_pb_kv *const *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const xb_pb_kv *kv = kvs[i];
        if (kv && kv->key && kv->value && strcmp(kv->key, p->key) == 0 &&
            value_matches(p, kv->value))
            return 1;
    }
    return 0;
}

void xb_ts_summary_add_span(const struct xb_ts_policy_set *ps, const xb_pb_resource *resource,
                            const xb_pb_span *span, struct xb_ts_summary *s)
{
    int status = span->status ? (int)span->status->code : XB_STATUS_UNSET;

    xb_ts_summary_add_facts(s, status, span->start_time_unix_nano, span->end_time_unix_nano);
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n_leaves; i++) {
        const struct xb_ts_policy *p = ps->leaves[i];
        if (s->matched & (1ull << i))
            continue;
        if (attrs_match(p, span->attributes, span->n_attributes) ||
            (resource && attrs_match(p, resource->attributes, resource->n_attributes)))
            s->matched |= 1ull << i;
    }
}

/* ------------------------------------------------------ evaluation --- */

/* Verdict of an attribute leaf from its matched bit. */
static enum xb_ts_decision leaf_verdict(const struct xb_ts_policy *p, const struct xb_ts_summary *s)
{
    int matched = p->leaf >= 0 && (s->matched & (1ull << p->leaf));

    if (p->invert_match)
        return matched ? XB_TS_INVERT_NOT_SAMPLED : XB_TS_INVERT_SAMPLED;
    return matched ? XB_TS_SAMPLED : XB_TS_NOT_SAMPLED;
}

enum xb_ts_decision xb_ts_policy_evaluate(struct xb_ts_policy *p, const uint8_t trace_id[16],
                                          const struct xb_ts_summary *s, int64_t now_s)
{
    switch (p->type) {
    case XB_TS_ALWAYS_SAMPLE:
        return XB_TS_SAMPLED;
    case XB_TS_STATUS_CODE:
        return (s->status_seen & p->status_mask) ? XB_TS_SAMPLED : XB_TS_NOT_SAMPLED;
    case XB_TS_LATENCY: {
        /* Trace duration: earliest start to latest end (latency.go). */
        uint64_t d_ms = 0;
        if (s->spans && s->end_ns_max > s->start_ns_min)
            d_ms = (s->end_ns_max - s->start_ns_min) / 1000000u;
        if (p->upper_threshold_ms == 0)
            return d_ms >= (uint64_t)p->threshold_ms ? XB_TS_SAMPLED : XB_TS_NOT_SAMPLED;
        return d_ms >= (uint64_t)p->threshold_ms && d_ms <= (uint64_t)p->upper_threshold_ms
                   ? XB_TS_SAMPLED
                   : XB_TS_NOT_SAMPLED;
    }
    case XB_TS_NUMERIC_ATTRIBUTE:
    case XB_TS_STRING_ATTRIBUTE:
    case XB_TS_BOOLEAN_ATTRIBUTE:
        return leaf_verdict(p, s);
    case XB_TS_PROBABILISTIC:
        return xb_ts_hash_trace_id(p->hash_salt ? p->hash_salt : XB_TS_DEFAULT_SALT, trace_id) <=
                           p->hash_threshold &&
                       p->sampling_percentage > 0
                   ? XB_TS_SAMPLED
                   : XB_TS_NOT_SAMPLED;
    case XB_TS_RATE_LIMITING:
        /* Spans admitted per wall-clock second (rate_limiting.go). */
        if (p->rl_second != now_s) {
            p->rl_second = now_s;
            p->rl_spans = 0;
        }
        if (p->rl_spans + s->spans < p->spans_per_second) {
            p->rl_spans += s->spans;
            return XB_TS_SAMPLED;
        }
        return XB_TS_NOT_SAMPLED;
    case XB_TS_SPAN_COUNT:
        return s->spans >= p->min_spans && (p->max_spans == 0 || s->spans <= p->max_spans)
                   ? XB_TS_SAMPLED
                   : XB_TS_NOT_SAMPLED;
    case XB_TS_AND:
        for (size_t i = 0; i < p->n_subs; i++) {
            enum xb_ts_decision d = xb_ts_policy_evaluate(&p->subs[i], trace_id, s, now_s);
            if (d == XB_TS_NOT_SAMPLED || d == XB_TS_INVERT_NOT_SAMPLED)
                return XB_TS_NOT_SAMPLED;
        }
        return XB_TS_SAMPLED;
    case XB_TS_DROP:
        for (size_t i = 0; i < p->n_subs; i++) {
            enum xb_ts_decision d = xb_ts_policy_evaluate(&p->subs[i], trace_id, s, now_s);
            if (d == XB_TS_NOT_SAMPLED || d == XB_TS_INVERT_NOT_SAMPLED)
                return XB_TS_NOT_SAMPLED;
        }
        return XB_TS_DROPPED;
    case XB_TS_NOT: {
        enum xb_ts_decision d =
            p->n_subs ? xb_ts_policy_evaluate(&p->subs[0], trace_id, s, now_s) : XB_TS_SAMPLED;
        if (d == XB_TS_SAMPLED)
            return XB_TS_NOT_SAMPLED;
        if (d == XB_TS_NOT_SAMPLED)
            return XB_TS_SAMPLED;
        return d;
    }
    case XB_TS_POLICY_TYPE_COUNT:
        break;
    }
    return XB_TS_NOT_SAMPLED;
}

enum xb_ts_decision xb_ts_decide(struct xb_ts_policy_set *ps, const uint8_t trace_id[16],
                                 const struct xb_ts_summary *s, int64_t now_s,
                                 enum xb_ts_decision *verdicts)
{
    int seen[XB_TS_DECISION_COUNT] = {0};

    for (size_t i = 0; i < ps->n; i++) {
        if (verdicts)
            verdicts[i] = XB_TS_DECISION_COUNT;
    }
    for (size_t i = 0; i < ps->n; i++) {
        enum xb_ts_decision d = xb_ts_policy_evaluate(&ps->policies[i], trace_id, s, now_s);
        if (verdicts)
            verdicts[i] = d;
        seen[d] = 1;
        if (d == XB_TS_DROPPED)
            break;
        if (ps->sample_on_first_match && d == XB_TS_SAMPLED)
            break;
    }
    if (seen[XB_TS_DROPPED])
        return XB_TS_DROPPED;
    if (seen[XB_TS_INVERT_NOT_SAMPLED])
        return XB_TS_NOT_SAMPLED;
    if (seen[XB_TS_SAMPLED])
        return XB_TS_SAMPLED;
    if (seen[XB_TS_INVERT_SAMPLED] && !seen[XB_TS_NOT_SAMPLED])
        return XB_TS_SAMPLED;
    return XB_TS_NOT_SAMPLED;
}
