#include "config/tail_sampling_config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "proto/otlp.h"

#define PATH_MAX_LEN 256
#define MAX_POLICIES 64

struct pctx {
    yaml_document_t *doc;
    const char *source;
    char *errbuf;
    size_t errlen;
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail(struct pctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    int off;

    if (!c->errbuf || !c->errlen)
        return XB_ERR_CONFIG;
    off = snprintf(c->errbuf, c->errlen, "%s:%zu:%zu: %s: ", c->source,
                   n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1, path);
    if (off > 0 && (size_t)off < c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->errbuf + off, c->errlen - (size_t)off, fmt, ap);
        va_end(ap);
    }
    return XB_ERR_CONFIG;
}

static yaml_node_t *node(struct pctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static int is_null(const yaml_node_t *n)
{
    const char *v;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    v = (const char *)n->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

/* The value node of |key| in mapping |map|, or NULL. */
static yaml_node_t *map_get(struct pctx *c, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(c, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return node(c, p->value);
    }
    return NULL;
}

/* Refuses keys of |map| not in |allowed| (NULL-terminated) and duplicate keys. */
static int check_keys(struct pctx *c, yaml_node_t *map, const char *path,
                      const char *const *allowed)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(c, p->key);
        const char *key;
        int ok = 0;
        if (!k || k->type != YAML_SCALAR_NODE)
            return fail(c, map, path, "mapping keys must be plain strings");
        key = (const char *)k->data.scalar.value;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok)
            return fail(c, k, path, "unknown key \"%s\"", key);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = node(c, q->key);
            if (qk && qk->type == YAML_SCALAR_NODE &&
                strcmp((const char *)qk->data.scalar.value, key) == 0)
                return fail(c, k, path, "duplicate key \"%s\" (first at line %zu)", key,
                            qk->start_mark.line + 1);
        }
    }
    return XB_OK;
}

static void subpath(char *out, const char *path, const char *key)
{
    if (snprintf(out, PATH_MAX_LEN, "%s.%s", path, key) >= PATH_MAX_LEN)
        out[PATH_MAX_LEN - 1] = '\0'; /* a long path is cut, only messages use it */
}

/* Scalar text of |key| in |map|; NULL when absent or null. */
static int get_scalar(struct pctx *c, yaml_node_t *map, const char *key, const char *path,
                      const char **out)
{
    yaml_node_t *v = map_get(c, map, key);
    char p[PATH_MAX_LEN];

    *out = NULL;
    if (!v || is_null(v))
        return XB_OK;
    subpath(p, path, key);
    if (v->type != YAML_SCALAR_NODE)
        return fail(c, v, p, "expected a single value");
    *out = (const char *)v->data.scalar.value;
    return XB_OK;
}

static int get_str(struct pctx *c, yaml_node_t *map, const char *key, const char *path, char **out)
{
    const char *s;
    int rc = get_scalar(c, map, key, path, &s);

    if (rc || !s)
        return rc;
    free(*out);
    *out = strdup(s);
    return *out ? XB_OK : XB_ERR_NOMEM;
}

static int get_i64(struct pctx *c, yaml_node_t *map, const char *key, const char *path, int64_t min,
                   int64_t max, int64_t *out, int *present)
{
    const char *s;
    char *end;
    char p[PATH_MAX_LEN];
    long long v;
    int rc = get_scalar(c, map, key, path, &s);

    if (present)
        *present = 0;
    if (rc || !s)
        return rc;
    subpath(p, path, key);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return fail(c, map_get(c, map, key), p, "\"%s\" is not an integer", s);
    if (v < min || v > max)
        return fail(c, map_get(c, map, key), p, "%lld is out of range (%lld..%lld)", v,
                    (long long)min, (long long)max);
    *out = v;
    if (present)
        *present = 1;
    return XB_OK;
}

static int get_bool(struct pctx *c, yaml_node_t *map, const char *key, const char *path, int *out)
{
    const char *s;
    char p[PATH_MAX_LEN];
    int rc = get_scalar(c, map, key, path, &s);

    if (rc || !s)
        return rc;
    if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0)
        *out = 1;
    else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || strcasecmp(s, "off") == 0)
        *out = 0;
    else {
        subpath(p, path, key);
        return fail(c, map_get(c, map, key), p, "\"%s\" is not true or false", s);
    }
    return XB_OK;
}

/* Sequence of non-empty scalars at |key| (required when |required|). */
static int get_list(struct pctx *c, yaml_node_t *map, const char *key, const char *path,
                    int required, char ***out, size_t *n)
{
    yaml_node_t *v = map_get(c, map, key);
    char p[PATH_MAX_LEN];
    size_t cap;

    subpath(p, path, key);
    if (!v || is_null(v)) {
        if (required)
            return fail(c, map, p, "missing: a list of values is required");
        return XB_OK;
    }
    if (v->type != YAML_SEQUENCE_NODE)
        return fail(c, v, p, "expected a list (e.g. [a, b])");
    cap = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (cap == 0 && required)
        return fail(c, v, p, "the list must not be empty");
    *out = calloc(cap ? cap : 1, sizeof(char *));
    if (!*out)
        return XB_ERR_NOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = node(c, *it);
        if (!item || item->type != YAML_SCALAR_NODE || item->data.scalar.length == 0)
            return fail(c, item ? item : v, p, "list items must be non-empty strings");
        (*out)[*n] = strdup((const char *)item->data.scalar.value);
        if (!(*out)[*n])
            return XB_ERR_NOMEM;
        (*n)++;
    }
    return XB_OK;
}

static const char *const k_policy[] = {"name", "type", NULL, NULL};

static int parse_policy(struct pctx *c, yaml_node_t *n, const char *path, struct xb_ts_policy *p,
                        int depth);

/* and_sub_policy / drop_sub_policy: a non-empty list of policies. */
static int parse_subs(struct pctx *c, yaml_node_t *blk, const char *key, const char *path,
                      struct xb_ts_policy *p, int depth)
{
    yaml_node_t *v = map_get(c, blk, key);
    char p2[PATH_MAX_LEN], p3[PATH_MAX_LEN];
    size_t cap, i = 0;
    int rc = XB_OK;

    subpath(p2, path, key);
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return fail(c, v ? v : blk, p2, "expected a list of sub-policies");
    cap = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (cap == 0)
        return fail(c, v, p2, "at least one sub-policy is required");
    p->subs = calloc(cap, sizeof(*p->subs));
    if (!p->subs)
        return XB_ERR_NOMEM;
    for (yaml_node_item_t *it = v->data.sequence.items.start;
         it < v->data.sequence.items.top && rc == XB_OK; it++, i++) {
        if (snprintf(p3, sizeof(p3), "%s[%zu]", p2, i) >= (int)sizeof(p3))
            p3[sizeof(p3) - 1] = '\0';
        p->n_subs = i + 1;
        rc = parse_policy(c, node(c, *it), p3, &p->subs[i], depth + 1);
    }
    return rc;
}

/* The type's own block, e.g. probabilistic: {sampling_percentage: 5}. */
static int parse_block(struct pctx *c, yaml_node_t *blk, const char *path, struct xb_ts_policy *p,
                       int depth)
{
    int rc = XB_OK;
    int64_t v;
    int present;

    switch (p->type) {
    case XB_TS_ALWAYS_SAMPLE:
        break;
    case XB_TS_STATUS_CODE: {
        static const char *const keys[] = {"status_codes", NULL};
        char **codes = NULL;
        size_t n = 0;
        char p2[PATH_MAX_LEN];
        rc = check_keys(c, blk, path, keys);
        if (rc == XB_OK)
            rc = get_list(c, blk, "status_codes", path, 1, &codes, &n);
        subpath(p2, path, "status_codes");
        for (size_t i = 0; i < n && rc == XB_OK; i++) {
            if (strcmp(codes[i], "ERROR") == 0)
                p->status_mask |= 1u << XB_STATUS_ERROR;
            else if (strcmp(codes[i], "OK") == 0)
                p->status_mask |= 1u << XB_STATUS_OK;
            else if (strcmp(codes[i], "UNSET") == 0)
                p->status_mask |= 1u << XB_STATUS_UNSET;
            else
                rc = fail(c, map_get(c, blk, "status_codes"), p2,
                          "unknown status code \"%s\" (ERROR, OK or UNSET)", codes[i]);
        }
        for (size_t i = 0; codes && i < n; i++)
            free(codes[i]);
        free(codes);
        break;
    }
    case XB_TS_LATENCY: {
        static const char *const keys[] = {"threshold_ms", "upper_threshold_ms", NULL};
        rc = check_keys(c, blk, path, keys);
        if (rc == XB_OK)
            rc = get_i64(c, blk, "threshold_ms", path, 0, INT64_MAX / 2, &p->threshold_ms, NULL);
        if (rc == XB_OK)
            rc = get_i64(c, blk, "upper_threshold_ms", path, 0, INT64_MAX / 2,
                         &p->upper_threshold_ms, NULL);
        if (rc == XB_OK && p->upper_threshold_ms && p->upper_threshold_ms < p->threshold_ms)
            rc = fail(c, blk, path, "upper_threshold_ms must not be below threshold_ms");
        break;
    }
    case XB_TS_NUMERIC_ATTRIBUTE: {
        static const char *const keys[] = {"key", "min_value", "max_value", "invert_match", NULL};
        rc = check_keys(c, blk, path, keys);
        if (rc == XB_OK)
            rc = get_str(c, blk, "key", path, &p->key);
        if (rc == XB_OK)
            rc = get_i64(c, blk, "min_value", path, INT64_MIN, INT64_MAX, &p->min_value,
                         &p->has_min);
        if (rc == XB_OK)
            rc = get_i64(c, blk, "max_value", path, INT64_MIN, INT64_MAX, &p->max_value,
                         &p->has_max);
        if (rc == XB_OK)
            rc = get_bool(c, blk, "invert_match", path, &p->invert_match);
        if (rc == XB_OK && !p->has_min && !p->has_max)
            rc = fail(c, blk, path, "set min_value, max_value or both");
        if (rc == XB_OK && p->has_min && p->has_max && p->max_value < p->min_value)
            rc = fail(c, blk, path, "max_value must not be below min_value");
        break;
    }
    case XB_TS_STRING_ATTRIBUTE: {
        static const char *const keys[] = {
            "key", "values", "enabled_regex_matching", "cache_max_size", "invert_match", NULL};
        rc = check_keys(c, blk, path, keys);
        if (rc == XB_OK)
            rc = get_str(c, blk, "key", path, &p->key);
        if (rc == XB_OK)
            rc = get_list(c, blk, "values", path, 1, &p->values, &p->n_values);
        if (rc == XB_OK)
            rc = get_bool(c, blk, "enabled_regex_matching", path, &p->regex);
        if (rc == XB_OK) {
            v = 0;
            rc = get_i64(c, blk, "cache_max_size", path, 0, INT32_MAX, &v, NULL);
            p->cache_max_size = (size_t)v;
        }
        if (rc == XB_OK)
            rc = get_bool(c, blk, "invert_match", path, &p->invert_match);
        break;
    }
    case XB_TS_BOOLEAN_ATTRIBUTE: {
        static const char *const keys[] = {"key", "value", "invert_match", NULL};
        rc = check_keys(c, blk, path, keys);
        if (rc == XB_OK)
            rc = get_str(c, blk, "key", path, &p->key);
        if (rc == XB_OK)
            rc = get_bool(c, blk, "value", path, &p->bool_value);
        if (rc == XB_OK)
            rc = get_bool(c, blk, "invert_match", path, &p->invert_match);
        break;
    }
    case XB_TS_PROBABILISTIC: {
        static const char *const keys[] = {"hash_salt", "sampling_percentage", NULL};
        const char *s = NULL;
        char *end;
        char p2[PATH_MAX_LEN];
        rc = check_keys(c, blk, path, keys);
        if (rc == XB_OK)
            rc = get_str(c, blk, "hash_salt", path, &p->hash_salt);
        if (rc == XB_OK)
            rc = get_scalar(c, blk, "sampling_percentage", path, &s);
        subpath(p2, path, "sampling_percentage");
        if (rc == XB_OK && !s)
            rc = fail(c, blk, p2, "missing: a percentage (0..100) is required");
        if (rc == XB_OK) {
            p->sampling_percentage = strtod(s, &end);
            if (end == s || *end || !isfinite(p->sampling_percentage) ||
                p->sampling_percentage < 0 || p->sampling_percentage > 100)
                rc = fail(c, map_get(c, blk, "sampling_percentage"), p2,
                          "\"%s\" is not a percentage between 0 and 100", s);
        }
        break;
    }
    case XB_TS_RATE_LIMITING: {
        static const char *const keys[] = {"spans_per_second", NULL};
        int present_sps = 0;
        rc = check_keys(c, blk, path, keys);
        v = 0;
        if (rc == XB_OK)
            rc = get_i64(c, blk, "spans_per_second", path, 1, INT64_MAX, &v, &present_sps);
        if (rc == XB_OK && !present_sps)
            rc = fail(c, blk, path, "missing: spans_per_second is required");
        p->spans_per_second = (uint64_t)v;
        break;
    }
    case XB_TS_SPAN_COUNT: {
        static const char *const keys[] = {"min_spans", "max_spans", NULL};
        int64_t mn = 0, mx = 0;
        rc = check_keys(c, blk, path, keys);
        if (rc == XB_OK)
            rc = get_i64(c, blk, "min_spans", path, 0, INT32_MAX, &mn, &present);
        if (rc == XB_OK)
            rc = get_i64(c, blk, "max_spans", path, 0, INT32_MAX, &mx, NULL);
        if (rc == XB_OK && mx && mx < mn)
            rc = fail(c, blk, path, "max_spans must not be below min_spans");
        p->min_spans = (uint64_t)mn;
        p->max_spans = (uint64_t)mx;
        break;
    }
    case XB_TS_AND:
    case XB_TS_DROP: {
        const char *key = p->type == XB_TS_AND ? "and_sub_policy" : "drop_sub_policy";
        const char *keys[] = {key, NULL};
        rc = check_keys(c, blk, path, keys);
        if (rc == XB_OK)
            rc = parse_subs(c, blk, key, path, p, depth);
        break;
    }
    case XB_TS_NOT: {
        static const char *const keys[] = {"not_sub_policy", NULL};
        yaml_node_t *sub;
        char p2[PATH_MAX_LEN];
        rc = check_keys(c, blk, path, keys);
        if (rc != XB_OK)
            break;
        sub = map_get(c, blk, "not_sub_policy");
        subpath(p2, path, "not_sub_policy");
        if (!sub)
            return fail(c, blk, p2, "missing: one sub-policy is required");
        p->subs = calloc(1, sizeof(*p->subs));
        if (!p->subs)
            return XB_ERR_NOMEM;
        p->n_subs = 1;
        rc = parse_policy(c, sub, p2, &p->subs[0], depth + 1);
        break;
    }
    case XB_TS_POLICY_TYPE_COUNT:
        break;
    }
    return rc;
}

static int parse_policy(struct pctx *c, yaml_node_t *n, const char *path, struct xb_ts_policy *p,
                        int depth)
{
    const char *keys[4];
    const char *type = NULL;
    char p2[PATH_MAX_LEN];
    yaml_node_t *blk;
    int rc;

    p->leaf = -1;
    if (!n || n->type != YAML_MAPPING_NODE)
        return fail(c, n, path, "expected a policy (a mapping with name and type)");
    if (depth >= XB_TS_MAX_DEPTH)
        return fail(c, n, path, "sub-policies nested deeper than %d levels", XB_TS_MAX_DEPTH);
    rc = get_scalar(c, n, "type", path, &type);
    if (rc)
        return rc;
    subpath(p2, path, "type");
    if (!type)
        return fail(c, n, p2, "missing: a policy type is required");
    if (xb_ts_policy_type_parse(type, &p->type) != XB_OK)
        return fail(c, map_get(c, n, "type"), p2,
                    "unknown policy type \"%s\" (supported: always_sample, status_code, latency, "
                    "numeric_attribute, string_attribute, boolean_attribute, probabilistic, "
                    "rate_limiting, span_count, and, not, drop)",
                    type);
    keys[0] = k_policy[0];
    keys[1] = k_policy[1];
    keys[2] = xb_ts_policy_type_name(p->type);
    keys[3] = NULL;
    rc = check_keys(c, n, path, keys);
    if (rc == XB_OK)
        rc = get_str(c, n, "name", path, &p->name);
    if (rc == XB_OK && depth == 0 && (!p->name || !p->name[0])) {
        subpath(p2, path, "name");
        rc = fail(c, n, p2, "missing: every policy needs a name");
    }
    if (rc != XB_OK)
        return rc;
    blk = map_get(c, n, xb_ts_policy_type_name(p->type));
    subpath(p2, path, xb_ts_policy_type_name(p->type));
    if (p->type == XB_TS_ALWAYS_SAMPLE)
        return XB_OK;
    if (!blk || blk->type != YAML_MAPPING_NODE)
        return fail(c, blk ? blk : n, p2, "missing: the %s settings (a mapping) are required",
                    xb_ts_policy_type_name(p->type));
    return parse_block(c, blk, p2, p, depth);
}

int xb_ts_config_policies(yaml_document_t *doc, yaml_node_t *seq, const char *source,
                          const char *path, struct xb_ts_policy_set **out, char *errbuf,
                          size_t errlen)
{
    struct pctx c = {doc, source, errbuf, errlen};
    struct xb_ts_policy_set *ps;
    char p2[PATH_MAX_LEN], msg[320];
    size_t cap, i = 0;
    int rc = XB_OK;

    if (seq->type != YAML_SEQUENCE_NODE)
        return fail(&c, seq, path, "expected a list of policies");
    cap = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (cap == 0)
        return fail(&c, seq, path, "at least one policy is required");
    if (cap > MAX_POLICIES)
        return fail(&c, seq, path, "more than %d policies", MAX_POLICIES);
    ps = calloc(1, sizeof(*ps));
    if (!ps)
        return XB_ERR_NOMEM;
    ps->refs = 1;
    ps->policies = calloc(cap ? cap : 1, sizeof(*ps->policies));
    if (!ps->policies) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    for (yaml_node_item_t *it = seq->data.sequence.items.start;
         it < seq->data.sequence.items.top && rc == XB_OK; it++, i++) {
        if (snprintf(p2, sizeof(p2), "%s[%zu]", path, i) >= (int)sizeof(p2))
            p2[sizeof(p2) - 1] = '\0';
        ps->n = i + 1;
        rc = parse_policy(&c, node(&c, *it), p2, &ps->policies[i], 0);
        for (size_t j = 0; j < i && rc == XB_OK; j++)
            if (strcmp(ps->policies[j].name, ps->policies[i].name) == 0)
                rc = fail(&c, node(&c, *it), p2, "policy name \"%s\" is used twice",
                          ps->policies[i].name);
    }
    if (rc == XB_OK) {
        rc = xb_ts_policy_set_prepare(ps, msg, sizeof(msg));
        if (rc == XB_ERR_INVALID)
            rc = fail(&c, seq, path, "%s", msg);
    }
out:
    if (rc != XB_OK) {
        xb_ts_policy_set_unref(ps);
        return rc;
    }
    xb_ts_policy_set_unref(*out);
    *out = ps;
    return XB_OK;
}
