#include "extension/proxy_policy.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static const struct {
    const char *path;
    const char *label;
} ops[XB_PROXY_OP_COUNT] = {
    [XB_PROXY_OP_GET_SAMPLING_RULES] = {"/GetSamplingRules", "GetSamplingRules"},
    [XB_PROXY_OP_SAMPLING_TARGETS] = {"/SamplingTargets", "SamplingTargets"},
    [XB_PROXY_OP_SAMPLING_STATISTIC_SUMMARY] = {"/SamplingStatisticSummaries",
                                                "SamplingStatisticSummaries"},
    [XB_PROXY_OP_TRACE_SEGMENTS] = {"/TraceSegments", "TraceSegments"},
    [XB_PROXY_OP_TELEMETRY_RECORDS] = {"/TelemetryRecords", "TelemetryRecords"},
    [XB_PROXY_OP_OTHER] = {NULL, "other"},
};

enum xb_proxy_op xb_proxy_op_of_path(const char *path)
{
    if (!path)
        return XB_PROXY_OP_OTHER;
    for (int i = 0; i < XB_PROXY_OP_OTHER; i++) {
        if (strcmp(path, ops[i].path) == 0)
            return (enum xb_proxy_op)i;
    }
    return XB_PROXY_OP_OTHER;
}

const char *xb_proxy_op_path(enum xb_proxy_op op)
{
    return op >= 0 && op < XB_PROXY_OP_COUNT ? ops[op].path : NULL;
}

const char *xb_proxy_op_label(enum xb_proxy_op op)
{
    return op >= 0 && op < XB_PROXY_OP_COUNT ? ops[op].label : "other";
}

const char *xb_proxy_dns_suffix(const char *region)
{
    static const struct {
        const char *prefix, *suffix;
    } partitions[] = {
        {"cn-", "amazonaws.com.cn"}, {"us-isob-", "sc2s.sgov.gov"},  {"us-isof-", "csp.hci.ic.gov"},
        {"us-iso-", "c2s.ic.gov"},   {"eu-isoe-", "cloud.adc-e.uk"},
    };
    for (size_t i = 0; region && i < sizeof(partitions) / sizeof(partitions[0]); i++) {
        if (strncmp(region, partitions[i].prefix, strlen(partitions[i].prefix)) == 0)
            return partitions[i].suffix;
    }
    return "amazonaws.com";
}

enum xb_proxy_action xb_proxy_decide_request(const struct xb_proxy_request_facts *f)
{
    if (!f->is_post)
        return XB_PROXY_REFUSE_METHOD;
    if (f->op < 0 || f->op >= XB_PROXY_OP_OTHER)
        return XB_PROXY_REFUSE_PATH;
    if (f->body_len > f->max_body)
        return XB_PROXY_REFUSE_TOO_LARGE;
    if (f->inflight >= f->max_inflight)
        return XB_PROXY_REFUSE_BUSY;
    return XB_PROXY_FORWARD;
}

enum xb_proxy_reply xb_proxy_decide_reply(enum xb_proxy_op op, enum xb_proxy_upstream up,
                                          long status, int have_cache)
{
    int cacheable = op == XB_PROXY_OP_GET_SAMPLING_RULES;

    if (up == XB_PROXY_UP_ANSWERED) {
        if (status >= 500 && status <= 599)
            return cacheable && have_cache ? XB_PROXY_SERVE_CACHE : XB_PROXY_RELAY;
        if (status < 100 || status > 599)
            return cacheable && have_cache ? XB_PROXY_SERVE_CACHE : XB_PROXY_FAIL_BAD_GATEWAY;
        return cacheable && status == 200 ? XB_PROXY_RELAY_AND_STORE : XB_PROXY_RELAY;
    }
    if (cacheable && have_cache)
        return XB_PROXY_SERVE_CACHE;
    return up == XB_PROXY_UP_TIMEOUT ? XB_PROXY_FAIL_GATEWAY_TIMEOUT : XB_PROXY_FAIL_BAD_GATEWAY;
}

int xb_proxy_rules_answer_ok(const char *body, size_t len)
{
    cJSON *root;
    int ok;

    if (!body || len == 0)
        return 0;
    root = cJSON_ParseWithLength(body, len);
    ok = cJSON_IsObject(root) &&
         cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "SamplingRuleRecords"));
    cJSON_Delete(root);
    return ok;
}

/* ---- cache -------------------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Request bodies that mean "first page": empty, blank, or an empty JSON object. */
static int first_page(const char *k, size_t n)
{
    size_t i = 0;
    while (i < n && is_space(k[i]))
        i++;
    if (i == n)
        return 1;
    if (k[i++] != '{')
        return 0;
    while (i < n && is_space(k[i]))
        i++;
    if (i == n || k[i++] != '}')
        return 0;
    while (i < n && is_space(k[i]))
        i++;
    return i == n;
}

static int same_key(const struct xb_proxy_cache_entry *e, const char *key, size_t key_len)
{
    if (!e->key)
        return 0;
    if (first_page(e->key, e->key_len) && first_page(key, key_len))
        return 1;
    return e->key_len == key_len && memcmp(e->key, key, key_len) == 0;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

int xb_proxy_cache_put(struct xb_proxy_cache *c, const char *key, size_t key_len, const char *val,
                       size_t val_len, uint64_t now_ms)
{
    struct xb_proxy_cache_entry *slot = NULL;
    char *k, *v;

    if (val_len > XB_PROXY_MAX_RESPONSE_BYTES)
        return XB_ERR_TOO_LARGE;
    for (size_t i = 0; i < XB_PROXY_CACHE_ENTRIES && !slot; i++) {
        if (same_key(&c->e[i], key, key_len))
            slot = &c->e[i];
    }
    for (size_t i = 0; i < XB_PROXY_CACHE_ENTRIES && !slot; i++) {
        if (!c->e[i].key)
            slot = &c->e[i];
    }
    if (!slot) {
        slot = &c->e[0];
        for (size_t i = 1; i < XB_PROXY_CACHE_ENTRIES; i++) {
            if (c->e[i].stored_ms < slot->stored_ms)
                slot = &c->e[i];
        }
    }
    k = dup_bytes(key, key_len);
    v = dup_bytes(val, val_len);
    if (!k || !v) {
        free(k);
        free(v);
        return XB_ERR_NOMEM;
    }
    free(slot->key);
    free(slot->val);
    *slot = (struct xb_proxy_cache_entry){k, key_len, v, val_len, now_ms};
    return XB_OK;
}

const struct xb_proxy_cache_entry *xb_proxy_cache_get(const struct xb_proxy_cache *c,
                                                      const char *key, size_t key_len)
{
    for (size_t i = 0; i < XB_PROXY_CACHE_ENTRIES; i++) {
        if (same_key(&c->e[i], key, key_len))
            return &c->e[i];
    }
    return NULL;
}

uint64_t xb_proxy_cache_max_bytes(size_t max_key)
{
    return (uint64_t)XB_PROXY_CACHE_ENTRIES *
           ((uint64_t)max_key + 1 + XB_PROXY_MAX_RESPONSE_BYTES + 1);
}

void xb_proxy_cache_cleanup(struct xb_proxy_cache *c)
{
    for (size_t i = 0; i < XB_PROXY_CACHE_ENTRIES; i++) {
        free(c->e[i].key);
        free(c->e[i].val);
    }
    memset(c, 0, sizeof(*c));
}

uint64_t xb_proxy_budget_bytes(size_t max_body, uint32_t max_inflight)
{
    uint64_t per =
        (uint64_t)max_body + 2ull * XB_PROXY_MAX_RESPONSE_BYTES + XB_PROXY_PER_REQUEST_BYTES;
    return (uint64_t)max_inflight * per + xb_proxy_cache_max_bytes(max_body);
}
