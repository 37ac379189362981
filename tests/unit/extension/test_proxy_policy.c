/* Unit tests of extension/proxy_policy.c: the sampling proxy's decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "extension/proxy_policy.h"

static void test_paths(void **state)
{
    (void)state;
    assert_int_equal(xb_proxy_op_of_path("/GetSamplingRules"), XB_PROXY_OP_GET_SAMPLING_RULES);
    assert_int_equal(xb_proxy_op_of_path("/SamplingTargets"), XB_PROXY_OP_SAMPLING_TARGETS);
    assert_int_equal(xb_proxy_op_of_path("/SamplingStatisticSummaries"),
                     XB_PROXY_OP_SAMPLING_STATISTIC_SUMMARY);
    assert_int_equal(xb_proxy_op_of_path("/TraceSegments"), XB_PROXY_OP_TRACE_SEGMENTS);
    assert_int_equal(xb_proxy_op_of_path("/TelemetryRecords"), XB_PROXY_OP_TELEMETRY_RECORDS);
    /* Write operations on rules, groups and queries are not forwarded. */
    assert_int_equal(xb_proxy_op_of_path("/CreateSamplingRule"), XB_PROXY_OP_OTHER);
    assert_int_equal(xb_proxy_op_of_path("/UpdateSamplingRule"), XB_PROXY_OP_OTHER);
    assert_int_equal(xb_proxy_op_of_path("/TraceSummaries"), XB_PROXY_OP_OTHER);
    assert_int_equal(xb_proxy_op_of_path("/GetSamplingRules/"), XB_PROXY_OP_OTHER);
    assert_int_equal(xb_proxy_op_of_path("/getsamplingrules"), XB_PROXY_OP_OTHER);
    assert_int_equal(xb_proxy_op_of_path("//GetSamplingRules"), XB_PROXY_OP_OTHER);
    assert_int_equal(xb_proxy_op_of_path("/../GetSamplingRules"), XB_PROXY_OP_OTHER);
    assert_int_equal(xb_proxy_op_of_path(""), XB_PROXY_OP_OTHER);
    assert_int_equal(xb_proxy_op_of_path(NULL), XB_PROXY_OP_OTHER);
    assert_string_equal(xb_proxy_op_path(XB_PROXY_OP_SAMPLING_TARGETS), "/SamplingTargets");
    assert_null(xb_proxy_op_path(XB_PROXY_OP_OTHER));
    assert_string_equal(xb_proxy_op_label(XB_PROXY_OP_OTHER), "other");
    assert_string_equal(xb_proxy_op_label(XB_PROXY_OP_GET_SAMPLING_RULES), "GetSamplingRules");
}

static void test_dns_suffix(void **state)
{
    (void)state;
    assert_string_equal(xb_proxy_dns_suffix("us-west-2"), "amazonaws.com");
    assert_string_equal(xb_proxy_dns_suffix("us-gov-west-1"), "amazonaws.com");
    assert_string_equal(xb_proxy_dns_suffix("cn-north-1"), "amazonaws.com.cn");
    assert_string_equal(xb_proxy_dns_suffix("us-iso-east-1"), "c2s.ic.gov");
    assert_string_equal(xb_proxy_dns_suffix("us-isob-east-1"), "sc2s.sgov.gov");
    assert_string_equal(xb_proxy_dns_suffix("us-isof-south-1"), "csp.hci.ic.gov");
    assert_string_equal(xb_proxy_dns_suffix("eu-isoe-west-1"), "cloud.adc-e.uk");
    assert_string_equal(xb_proxy_dns_suffix(NULL), "amazonaws.com");
}

static void test_decide_request(void **state)
{
    struct xb_proxy_request_facts f = {.is_post = 1,
                                       .op = XB_PROXY_OP_GET_SAMPLING_RULES,
                                       .body_len = 2,
                                       .max_body = 100,
                                       .inflight = 0,
                                       .max_inflight = 2};
    (void)state;
    assert_int_equal(xb_proxy_decide_request(&f), XB_PROXY_FORWARD);
    f.body_len = 100; /* the limit itself is allowed */
    assert_int_equal(xb_proxy_decide_request(&f), XB_PROXY_FORWARD);
    f.body_len = 101;
    assert_int_equal(xb_proxy_decide_request(&f), XB_PROXY_REFUSE_TOO_LARGE);
    f.body_len = 0;
    f.inflight = 1;
    assert_int_equal(xb_proxy_decide_request(&f), XB_PROXY_FORWARD);
    f.inflight = 2;
    assert_int_equal(xb_proxy_decide_request(&f), XB_PROXY_REFUSE_BUSY);
    /* Order: method before path before size before concurrency. */
    f.body_len = 1000;
    assert_int_equal(xb_proxy_decide_request(&f), XB_PROXY_REFUSE_TOO_LARGE);
    f.op = XB_PROXY_OP_OTHER;
    assert_int_equal(xb_proxy_decide_request(&f), XB_PROXY_REFUSE_PATH);
    f.is_post = 0;
    assert_int_equal(xb_proxy_decide_request(&f), XB_PROXY_REFUSE_METHOD);
}

static void test_decide_reply(void **state)
{
    const enum xb_proxy_op rules = XB_PROXY_OP_GET_SAMPLING_RULES;
    const enum xb_proxy_op targets = XB_PROXY_OP_SAMPLING_TARGETS;
    (void)state;
    /* A good rules answer is relayed and kept; a good targets answer only relayed. */
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 200, 0),
                     XB_PROXY_RELAY_AND_STORE);
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 200, 1),
                     XB_PROXY_RELAY_AND_STORE);
    assert_int_equal(xb_proxy_decide_reply(targets, XB_PROXY_UP_ANSWERED, 200, 0), XB_PROXY_RELAY);
    /* X-Ray down: the cache answers rules, never targets. */
    for (int up = XB_PROXY_UP_TIMEOUT; up <= XB_PROXY_UP_NO_CREDENTIALS; up++) {
        assert_int_equal(xb_proxy_decide_reply(rules, up, 0, 1), XB_PROXY_SERVE_CACHE);
        assert_int_equal(xb_proxy_decide_reply(targets, up, 0, 1),
                         up == XB_PROXY_UP_TIMEOUT ? XB_PROXY_FAIL_GATEWAY_TIMEOUT
                                                   : XB_PROXY_FAIL_BAD_GATEWAY);
    }
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_TIMEOUT, 0, 0),
                     XB_PROXY_FAIL_GATEWAY_TIMEOUT);
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_UNREACHABLE, 0, 0),
                     XB_PROXY_FAIL_BAD_GATEWAY);
    /* 5xx: cache when kept, else X-Ray's own answer. */
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 503, 1),
                     XB_PROXY_SERVE_CACHE);
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 500, 0), XB_PROXY_RELAY);
    assert_int_equal(xb_proxy_decide_reply(targets, XB_PROXY_UP_ANSWERED, 503, 1), XB_PROXY_RELAY);
    /* 4xx is X-Ray's decision: relayed, not hidden behind the cache, not stored. */
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 429, 1), XB_PROXY_RELAY);
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 403, 1), XB_PROXY_RELAY);
    /* Other 2xx are relayed but not kept. */
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 204, 1), XB_PROXY_RELAY);
    /* A status outside HTTP's range is a broken answer. */
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 0, 0),
                     XB_PROXY_FAIL_BAD_GATEWAY);
    assert_int_equal(xb_proxy_decide_reply(rules, XB_PROXY_UP_ANSWERED, 0, 1),
                     XB_PROXY_SERVE_CACHE);
}

static void test_rules_answer_ok(void **state)
{
    static const char good[] = "{\"SamplingRuleRecords\":[],\"NextToken\":null}";
    static const char html[] = "<html>captive portal</html>";
    (void)state;
    assert_true(xb_proxy_rules_answer_ok(good, strlen(good)));
    assert_true(xb_proxy_rules_answer_ok("{\"SamplingRuleRecords\":[{}],\"X\":1}", 34));
    assert_false(xb_proxy_rules_answer_ok(html, strlen(html)));
    assert_false(xb_proxy_rules_answer_ok(good, strlen(good) - 1)); /* truncated */
    assert_false(xb_proxy_rules_answer_ok("{}", 2));
    assert_false(xb_proxy_rules_answer_ok("{\"SamplingRuleRecords\":{}}", 26));
    assert_false(xb_proxy_rules_answer_ok("[]", 2));
    assert_false(xb_proxy_rules_answer_ok("", 0));
    assert_false(xb_proxy_rules_answer_ok(NULL, 0));
}

static void test_cache(void **state)
{
    struct xb_proxy_cache c;
    const struct xb_proxy_cache_entry *e;
    char key[32];
    (void)state;

    memset(&c, 0, sizeof(c));
    assert_null(xb_proxy_cache_get(&c, "{}", 2));
    assert_int_equal(xb_proxy_cache_put(&c, "{}", 2, "A", 1, 10), XB_OK);
    /* First-page spellings share one entry. */
    e = xb_proxy_cache_get(&c, "", 0);
    assert_non_null(e);
    assert_memory_equal(e->val, "A", 1);
    assert_non_null(xb_proxy_cache_get(&c, " { }\n", 5));
    assert_null(xb_proxy_cache_get(&c, "{\"NextToken\":\"x\"}", 17));
    assert_int_equal(xb_proxy_cache_put(&c, "{\"NextToken\":\"x\"}", 17, "BB", 2, 11), XB_OK);
    e = xb_proxy_cache_get(&c, "{\"NextToken\":\"x\"}", 17);
    assert_non_null(e);
    assert_int_equal(e->val_len, 2);
    /* Same key: replaced in place, answer bytes exactly as given. */
    assert_int_equal(xb_proxy_cache_put(&c, "", 0, "C\0D", 3, 12), XB_OK);
    e = xb_proxy_cache_get(&c, "{}", 2);
    assert_int_equal(e->val_len, 3);
    assert_memory_equal(e->val, "C\0D", 3);
    /* Full: the oldest entry goes. */
    for (int i = 0; i < XB_PROXY_CACHE_ENTRIES; i++) {
        int n = snprintf(key, sizeof(key), "{\"NextToken\":\"%d\"}", i);
        assert_int_equal(xb_proxy_cache_put(&c, key, (size_t)n, "v", 1, 100 + (uint64_t)i), XB_OK);
    }
    assert_null(xb_proxy_cache_get(&c, "{}", 2));
    assert_null(xb_proxy_cache_get(&c, "{\"NextToken\":\"x\"}", 17));
    assert_non_null(xb_proxy_cache_get(&c, "{\"NextToken\":\"0\"}", 17));
    /* Oversized answers are refused and change nothing. */
    {
        size_t big = XB_PROXY_MAX_RESPONSE_BYTES + 1;
        char *v = calloc(1, big);
        assert_non_null(v);
        assert_int_equal(xb_proxy_cache_put(&c, "{}", 2, v, big, 200), XB_ERR_TOO_LARGE);
        assert_null(xb_proxy_cache_get(&c, "{}", 2));
        free(v);
    }
    assert_true(xb_proxy_cache_max_bytes(1000) >=
                (uint64_t)XB_PROXY_CACHE_ENTRIES * (1000 + XB_PROXY_MAX_RESPONSE_BYTES));
    xb_proxy_cache_cleanup(&c);
    assert_null(xb_proxy_cache_get(&c, "{\"NextToken\":\"0\"}", 17));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),           cmocka_unit_test(test_dns_suffix),
        cmocka_unit_test(test_decide_request),  cmocka_unit_test(test_decide_reply),
        cmocka_unit_test(test_rules_answer_ok), cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
