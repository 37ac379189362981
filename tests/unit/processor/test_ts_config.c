/* processors.tail_sampling in the YAML configuration (config/tail_sampling_config.h):
 * every policy type parses into the right fields; mistakes are FILE:LINE:COL errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/err.h"
#include "processor/ts_policy.h"

#define HEAD                                                                                       \
    "receivers:\n"                                                                                 \
    "  otlp:\n"                                                                                    \
    "    protocols:\n"                                                                             \
    "      http: {endpoint: \"127.0.0.1:0\"}\n"                                                    \
    "exporters:\n"                                                                                 \
    "  file: {path: /dev/null}\n"                                                                  \
    "service:\n"                                                                                   \
    "  pipelines:\n"                                                                               \
    "    traces: {receivers: [otlp], processors: [tail_sampling], exporters: [file]}\n"            \
    "processors:\n"                                                                                \
    "  tail_sampling:\n"

static const char FULL[] =
    HEAD "    decision_wait: 2s\n"
         "    num_traces: 1000\n"
         "    sample_on_first_match: true\n"
         "    decision_cache: {sampled_cache_size: 7, non_sampled_cache_size: 8}\n"
         "    policies:\n"
         "      - {name: a, type: always_sample}\n"
         "      - {name: b, type: status_code, status_code: {status_codes: [ERROR, UNSET]}}\n"
         "      - {name: c, type: latency, latency: {threshold_ms: 5, upper_threshold_ms: 9}}\n"
         "      - name: d\n"
         "        type: numeric_attribute\n"
         "        numeric_attribute: {key: http.response.status_code, min_value: 500, "
         "max_value: 599}\n"
         "      - name: e\n"
         "        type: string_attribute\n"
         "        string_attribute: {key: url.path, values: [\"^/api\"], "
         "enabled_regex_matching: true, invert_match: true}\n"
         "      - {name: f, type: boolean_attribute, boolean_attribute: {key: dbg, value: true}}\n"
         "      - {name: g, type: probabilistic, probabilistic: {sampling_percentage: 12.5, "
         "hash_salt: s}}\n"
         "      - {name: h, type: rate_limiting, rate_limiting: {spans_per_second: 100}}\n"
         "      - {name: i, type: span_count, span_count: {min_spans: 2, max_spans: 4}}\n"
         "      - name: j\n"
         "        type: and\n"
         "        and:\n"
         "          and_sub_policy:\n"
         "            - {name: j1, type: status_code, status_code: {status_codes: [OK]}}\n"
         "            - {name: j2, type: numeric_attribute, numeric_attribute: {key: n, "
         "min_value: 1}}\n"
         "      - name: k\n"
         "        type: not\n"
         "        not: {not_sub_policy: {name: k1, type: always_sample}}\n"
         "      - name: l\n"
         "        type: drop\n"
         "        drop: {drop_sub_policy: [{name: l1, type: always_sample}]}\n";

static void test_full(void **state)
{
    struct xb_config *cfg = NULL;
    char err[512] = "";
    const struct xb_ts_policy_set *ps;

    (void)state;
    assert_int_equal(xb_config_parse(FULL, strlen(FULL), "t.yaml", &cfg, err, sizeof(err)), XB_OK);
    assert_true(cfg->tail_sampling.enabled);
    assert_int_equal(cfg->tail_sampling.decision_wait_ms, 2000);
    assert_int_equal(cfg->tail_sampling.num_traces, 1000);
    assert_int_equal(cfg->tail_sampling.sampled_cache_size, 7);
    assert_int_equal(cfg->tail_sampling.non_sampled_cache_size, 8);
    ps = cfg->tail_sampling.policies;
    assert_non_null(ps);
    assert_true(ps->sample_on_first_match);
    assert_int_equal(ps->n, 12);
    assert_int_equal(ps->policies[1].status_mask, (1u << 2) | (1u << 0));
    assert_int_equal(ps->policies[2].upper_threshold_ms, 9);
    assert_true(ps->policies[3].has_min && ps->policies[3].max_value == 599);
    assert_true(ps->policies[4].regex && ps->policies[4].invert_match && ps->policies[4].res);
    assert_true(ps->policies[6].sampling_percentage == 12.5);
    assert_string_equal(ps->policies[6].hash_salt, "s");
    assert_int_equal(ps->policies[7].spans_per_second, 100);
    assert_int_equal(ps->policies[8].max_spans, 4);
    assert_int_equal(ps->policies[9].n_subs, 2);
    assert_int_equal(ps->policies[10].type, XB_TS_NOT);
    assert_int_equal(ps->policies[11].subs[0].type, XB_TS_ALWAYS_SAMPLE);
    assert_int_equal(ps->n_leaves, 4); /* d, e, f, j2 */
    xb_config_free(cfg);
}

static void expect_err(const char *yaml, const char *want1, const char *want2)
{
    struct xb_config *cfg = NULL;
    char err[512] = "";
    int rc = xb_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err));

    if (rc != XB_ERR_CONFIG || !strstr(err, want1) || !strstr(err, want2))
        print_error("got rc %d: %s\n", rc, err);
    assert_int_equal(rc, XB_ERR_CONFIG);
    assert_null(cfg);
    assert_non_null(strstr(err, want1));
    assert_non_null(strstr(err, want2));
}

static void test_errors(void **state)
{
    (void)state;
    expect_err(HEAD "    policies:\n      - {name: a, type: sometimes}\n",
               "t.yaml:13:25: processors.tail_sampling.policies[0].type:",
               "unknown policy type \"sometimes\"");
    expect_err(HEAD "    policies:\n      - {name: a, type: probabilistic, probabilistic: "
                    "{sampling_percentage: 150}}\n",
               "t.yaml:13:", "not a percentage between 0 and 100");
    expect_err(HEAD "    policies:\n      - {name: a, type: latency, latency: {treshold_ms: 1}}\n",
               "policies[0].latency:", "unknown key \"treshold_ms\"");
    expect_err(HEAD "    policies:\n      - {name: a, type: always_sample}\n"
                    "      - {name: a, type: always_sample}\n",
               "t.yaml:14:", "policy name \"a\" is used twice");
    expect_err(HEAD "    policies:\n      - {name: a, type: string_attribute, string_attribute: "
                    "{key: k, values: [\"(\"], enabled_regex_matching: true}}\n",
               "t.yaml:", "bad regular expression");
    expect_err(HEAD "    policies:\n      - {name: a, type: status_code, status_code: "
                    "{status_codes: [FAIL]}}\n",
               "status_codes:", "unknown status code \"FAIL\"");
    expect_err(HEAD "    decision_wait: 0s\n    policies: [{name: a, type: always_sample}]\n",
               "processors.tail_sampling.decision_wait:", "");
    expect_err(HEAD "    num_traces: 10\n",
               "processors.tail_sampling:", "policies: missing: at least one policy is required");
    expect_err("receivers: {otlp: {protocols: {http: {}}}}\n"
               "exporters: {file: {path: /dev/null}}\n"
               "service: {pipelines: {traces: {receivers: [otlp], processors: [tail_sampling], "
               "exporters: [file]}}}\n",
               "service.pipelines.traces.processors:",
               "\"tail_sampling\" is not configured under processors");
    expect_err("receivers: {otlp: {protocols: {http: {}}}}\n"
               "exporters: {file: {path: /dev/null}}\n"
               "service: {pipelines: {traces: {receivers: [otlp], processors: [transform], "
               "exporters: [file]}}}\n",
               "service.pipelines.traces.processors:", "unknown processor \"transform\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
