/* Tail sampling policies (processor/ts_policy.h): each policy type, the final-decision
 * precedence, and fixed vectors for the probabilistic hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "processor/ts_policy.h"

static const uint8_t TID[16] = {0x5f, 0x84, 0xc7, 0xa1, 0x01, 0x23, 0x45, 0x67,
                                0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67};

/* A set of |n| policies copied from |ps|, prepared. */
static struct xb_ts_policy_set *set_of(const struct xb_ts_policy *ps, size_t n, int first_match)
{
    struct xb_ts_policy_set *s = calloc(1, sizeof(*s));
    char err[128];

    assert_non_null(s);
    s->policies = calloc(n, sizeof(*ps));
    assert_non_null(s->policies);
    memcpy(s->policies, ps, n * sizeof(*ps));
    s->n = n;
    s->sample_on_first_match = first_match;
    assert_int_equal(xb_ts_policy_set_prepare(s, err, sizeof(err)), XB_OK);
    return s;
}

static void test_hash_vectors(void **state)
{
    uint8_t seq[16], zero[16] = {0};

    (void)state;
    for (int i = 0; i < 16; i++)
        seq[i] = (uint8_t)i;
    /* FNV-1a 64 of salt bytes then trace-id bytes (computed independently in Python,
     * tests/tail_sampling/tsgen.py) */
    assert_true(xb_ts_hash_trace_id("default-hash-seed", seq) == 0xa6622cfe5bfb0e0dull);
    assert_true(xb_ts_hash_trace_id("default-hash-seed", zero) == 0xe19536eed1bbac3dull);
    assert_true(xb_ts_hash_trace_id("salt-a", TID) == 0xef4b3a8836ea07c8ull);
    /* same input, same answer: every node and restart agrees */
    assert_true(xb_ts_hash_trace_id("salt-a", TID) == xb_ts_hash_trace_id("salt-a", TID));
    assert_true(xb_ts_probability_threshold(0) == 0);
    assert_true(xb_ts_probability_threshold(100) == UINT64_MAX);
    assert_true(xb_ts_probability_threshold(50) == UINT64_MAX / 2);
}

static void test_probabilistic_share(void **state)
{
    struct xb_ts_policy p = {.type = XB_TS_PROBABILISTIC, .sampling_percentage = 5};
    struct xb_ts_policy_set *s = set_of(&p, 1, 0);
    struct xb_ts_summary sum;
    size_t kept = 0, n = 100000;
    uint8_t id[16] = {0};

    (void)state;
    xb_ts_summary_init(&sum);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = i * 0x9E3779B97F4A7C15ull;
        memcpy(id + 8, &x, 8);
        memcpy(id, &i, sizeof(i) < 8 ? sizeof(i) : 8);
        kept += xb_ts_decide(s, id, &sum, 0, NULL) == XB_TS_SAMPLED;
    }
    /* 5% of 100000 = 5000, sigma ~69: within 4 sigma */
    assert_true(kept > 5000 - 276 && kept < 5000 + 276);
    xb_ts_policy_set_unref(s);
}

static void test_status_latency_span_count(void **state)
{
    struct xb_ts_policy ps[3] = {
        {.type = XB_TS_STATUS_CODE, .status_mask = 1u << 2},
        {.type = XB_TS_LATENCY, .threshold_ms = 100, .upper_threshold_ms = 200},
        {.type = XB_TS_SPAN_COUNT, .min_spans = 2, .max_spans = 3},
    };
    struct xb_ts_policy_set *s = set_of(ps, 3, 0);
    struct xb_ts_summary sum;

    (void)state;
    xb_ts_summary_init(&sum);
    xb_ts_summary_add_facts(&sum, 1, 1000000000, 1050000000); /* OK, 50 ms */
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[0], TID, &sum, 0), XB_TS_NOT_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[1], TID, &sum, 0), XB_TS_NOT_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[2], TID, &sum, 0), XB_TS_NOT_SAMPLED);
    xb_ts_summary_add_facts(&sum, 2, 1100000000, 1150000000); /* ERROR; trace 150 ms */
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[0], TID, &sum, 0), XB_TS_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[1], TID, &sum, 0), XB_TS_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[2], TID, &sum, 0), XB_TS_SAMPLED);
    xb_ts_summary_add_facts(&sum, 0, 1100000000, 1300000000); /* 300 ms, 3 spans */
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[1], TID, &sum, 0), XB_TS_NOT_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[2], TID, &sum, 0), XB_TS_SAMPLED);
    xb_ts_summary_add_facts(&sum, 0, 1100000000, 1300000000);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[2], TID, &sum, 0), XB_TS_NOT_SAMPLED);
    xb_ts_policy_set_unref(s);
}

/* Builds an OTLP span with one attribute on it and one on its resource. */
struct fake {
    xb_pb_span span;
    xb_pb_resource res;
    xb_pb_kv kv, rkv;
    xb_pb_kv *kvs[1], *rkvs[1];
    xb_pb_any v, rv;
};

static void fake_init(struct fake *f, const char *key, xb_pb_any v, const char *rkey, xb_pb_any rv)
{
    memset(f, 0, sizeof(*f));
    f->v = v;
    f->rv = rv;
    f->kv.key = (char *)key;
    f->kv.value = &f->v;
    f->rkv.key = (char *)rkey;
    f->rkv.value = &f->rv;
    f->kvs[0] = &f->kv;
    f->rkvs[0] = &f->rkv;
    f->span.attributes = f->kvs;
    f->span.n_attributes = 1;
    f->res.attributes = f->rkvs;
    f->res.n_attributes = 1;
}

static xb_pb_any any_int(int64_t x)
{
    xb_pb_any a = {.value_case = XB_ANY_INT, .int_value = x};
    return a;
}

static xb_pb_any any_str(const char *s)
{
    xb_pb_any a = {.value_case = XB_ANY_STRING, .string_value = (char *)s};
    return a;
}

static xb_pb_any any_bool(int b)
{
    xb_pb_any a = {.value_case = XB_ANY_BOOL, .bool_value = b};
    return a;
}

static void test_attribute_leaves(void **state)
{
    char *vals[] = {"checkout", "^/api/.*"};
    struct xb_ts_policy ps[4] = {
        {.type = XB_TS_NUMERIC_ATTRIBUTE,
         .key = "http.response.status_code",
         .has_min = 1,
         .min_value = 500,
         .has_max = 1,
         .max_value = 599},
        {.type = XB_TS_STRING_ATTRIBUTE, .key = "service.name", .values = vals, .n_values = 1},
        {.type = XB_TS_STRING_ATTRIBUTE,
         .key = "url.path",
         .values = vals + 1,
         .n_values = 1,
         .regex = 1},
        {.type = XB_TS_BOOLEAN_ATTRIBUTE, .key = "debug", .bool_value = 1, .invert_match = 1},
    };
    struct xb_ts_policy_set *s;
    struct xb_ts_summary sum;
    struct fake f;

    (void)state;
    /* the set owns its strings: give it copies */
    ps[0].key = strdup(ps[0].key);
    ps[1].key = strdup(ps[1].key);
    ps[2].key = strdup(ps[2].key);
    ps[3].key = strdup(ps[3].key);
    ps[1].values = calloc(1, sizeof(char *));
    ps[1].values[0] = strdup("checkout");
    ps[2].values = calloc(1, sizeof(char *));
    ps[2].values[0] = strdup("^/api/.*");
    s = set_of(ps, 4, 0);
    assert_int_equal(s->n_leaves, 4);

    xb_ts_summary_init(&sum);
    fake_init(&f, "http.response.status_code", any_int(200), "service.name", any_str("cart"));
    xb_ts_summary_add_span(s, &f.res, &f.span, &sum);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[0], TID, &sum, 0), XB_TS_NOT_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[1], TID, &sum, 0), XB_TS_NOT_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[2], TID, &sum, 0), XB_TS_NOT_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[3], TID, &sum, 0), XB_TS_INVERT_SAMPLED);

    /* a second span: 503 on the span, the service name on the resource */
    fake_init(&f, "http.response.status_code", any_int(503), "service.name", any_str("checkout"));
    xb_ts_summary_add_span(s, &f.res, &f.span, &sum);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[0], TID, &sum, 0), XB_TS_SAMPLED);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[1], TID, &sum, 0), XB_TS_SAMPLED);

    fake_init(&f, "url.path", any_str("/api/orders"), "debug", any_bool(1));
    xb_ts_summary_add_span(s, &f.res, &f.span, &sum);
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[2], TID, &sum, 0), XB_TS_SAMPLED);
    /* invert_match: something matched -> inverted not-sampled, which beats sampled */
    assert_int_equal(xb_ts_policy_evaluate(&s->policies[3], TID, &sum, 0),
                     XB_TS_INVERT_NOT_SAMPLED);
    assert_int_equal(xb_ts_decide(s, TID, &sum, 0, NULL), XB_TS_NOT_SAMPLED);
    xb_ts_policy_set_unref(s);
}

static void test_precedence(void **state)
{
    struct xb_ts_policy always = {.type = XB_TS_ALWAYS_SAMPLE};
    struct xb_ts_policy never = {.type = XB_TS_PROBABILISTIC, .sampling_percentage = 0};
    struct xb_ts_policy_set *s;
    struct xb_ts_policy ps[3];
    struct xb_ts_policy *drop_subs, *and_subs, *not_sub;
    struct xb_ts_summary sum;
    enum xb_ts_decision v[3];

    (void)state;
    xb_ts_summary_init(&sum);
    xb_ts_summary_add_facts(&sum, 0, 0, 0);

    /* drop of (always) beats a sampling policy listed first */
    drop_subs = calloc(1, sizeof(*drop_subs));
    drop_subs[0] = always;
    ps[0] = always;
    ps[1] = (struct xb_ts_policy){.type = XB_TS_DROP, .subs = drop_subs, .n_subs = 1};
    s = set_of(ps, 2, 0);
    assert_int_equal(xb_ts_decide(s, TID, &sum, 0, v), XB_TS_DROPPED);
    assert_int_equal(v[0], XB_TS_SAMPLED);
    assert_int_equal(v[1], XB_TS_DROPPED);
    xb_ts_policy_set_unref(s);

    /* sample_on_first_match stops before the drop */
    drop_subs = calloc(1, sizeof(*drop_subs));
    drop_subs[0] = always;
    ps[1] = (struct xb_ts_policy){.type = XB_TS_DROP, .subs = drop_subs, .n_subs = 1};
    s = set_of(ps, 2, 1);
    assert_int_equal(xb_ts_decide(s, TID, &sum, 0, v), XB_TS_SAMPLED);
    assert_int_equal(v[1], XB_TS_DECISION_COUNT); /* not evaluated */
    xb_ts_policy_set_unref(s);

    /* and: all must sample; not: inverts */
    and_subs = calloc(2, sizeof(*and_subs));
    and_subs[0] = always;
    and_subs[1] = never;
    not_sub = calloc(1, sizeof(*not_sub));
    *not_sub = never;
    ps[0] = (struct xb_ts_policy){.type = XB_TS_AND, .subs = and_subs, .n_subs = 2};
    ps[1] = (struct xb_ts_policy){.type = XB_TS_NOT, .subs = not_sub, .n_subs = 1};
    s = set_of(ps, 2, 0);
    assert_int_equal(xb_ts_decide(s, TID, &sum, 0, v), XB_TS_SAMPLED);
    assert_int_equal(v[0], XB_TS_NOT_SAMPLED);
    assert_int_equal(v[1], XB_TS_SAMPLED);
    xb_ts_policy_set_unref(s);

    /* nothing samples -> not sampled */
    ps[0] = never;
    s = set_of(ps, 1, 0);
    assert_int_equal(xb_ts_decide(s, TID, &sum, 0, NULL), XB_TS_NOT_SAMPLED);
    xb_ts_policy_set_unref(s);
}

static void test_rate_limiting(void **state)
{
    struct xb_ts_policy p = {.type = XB_TS_RATE_LIMITING, .spans_per_second = 10};
    struct xb_ts_policy_set *s = set_of(&p, 1, 0);
    struct xb_ts_summary sum;

    (void)state;
    xb_ts_summary_init(&sum);
    for (int i = 0; i < 4; i++)
        xb_ts_summary_add_facts(&sum, 0, 0, 0);
    assert_int_equal(xb_ts_decide(s, TID, &sum, 100, NULL), XB_TS_SAMPLED); /* 4 */
    assert_int_equal(xb_ts_decide(s, TID, &sum, 100, NULL), XB_TS_SAMPLED); /* 8 */
    assert_int_equal(xb_ts_decide(s, TID, &sum, 100, NULL), XB_TS_NOT_SAMPLED);
    assert_int_equal(xb_ts_decide(s, TID, &sum, 101, NULL), XB_TS_SAMPLED); /* new second */
    xb_ts_policy_set_unref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_probabilistic_share),
        cmocka_unit_test(test_status_latency_span_count),
        cmocka_unit_test(test_attribute_leaves),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_rate_limiting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
