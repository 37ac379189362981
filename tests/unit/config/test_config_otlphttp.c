/*
 * tests/unit/config/test_config_otlphttp.c - exporters.otlphttp, extensions.sigv4auth
 * and exporters.loadbalancing in config/config.c and config/options.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/err.h"

#define RECV "receivers:\n  otlp:\n    protocols:\n      grpc:\n"
#define PIPE(exporters, ext)                                                                       \
    "service:\n  extensions: " ext "\n  pipelines:\n    traces:\n      receivers: [otlp]\n"        \
    "      exporters: " exporters "\n"

static char errbuf[1024];

static int parse(const char *yaml, struct xb_config **cfg)
{
    int rc = xb_config_parse(yaml, strlen(yaml), "t.yaml", cfg, errbuf, sizeof(errbuf));
    if (rc != XB_OK)
        print_message("config error: %s\n", errbuf);
    return rc;
}

/* Parses |yaml| (refusal case |i|), asserts it is refused with XB_ERR_CONFIG and a
 * message containing |want|; returns what the parser left in its output pointer, which
 * starts as a non-NULL poison value. */
static struct xb_config *parse_refused(size_t i, const char *yaml, const char *want)
{
    struct xb_config *cfg = (struct xb_config *)1;
    int rc = xb_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, errbuf, sizeof(errbuf));

    if (rc != XB_ERR_CONFIG || !strstr(errbuf, want))
        print_error("case %zu: rc=%d err=%s want %s\n", i, rc, errbuf, want);
    assert_int_equal(rc, XB_ERR_CONFIG);
    assert_non_null(strstr(errbuf, want));
    return cfg;
}

static void test_full_otlphttp_with_sigv4auth(void **state)
{
    struct xb_config *cfg = NULL;
    const char *yaml =
        RECV "exporters:\n"
             "  otlphttp:\n"
             "    traces_endpoint: https://xray.us-west-2.amazonaws.com/v1/traces\n"
             "    compression: none\n"
             "    timeout: 5s\n"
             "    headers:\n"
             "      x-team: checkout\n"
             "    auth:\n"
             "      authenticator: sigv4auth\n"
             "    sending_queue:\n"
             "      queue_size: 500\n"
             "      num_consumers: 4\n"
             "    retry_on_failure:\n"
             "      initial_interval: 100ms\n"
             "      max_elapsed_time: 1m\n"
             "    tls:\n"
             "      insecure_skip_verify: true\n"
             "extensions:\n"
             "  sigv4auth:\n"
             "    region: us-west-2\n"
             "    assume_role:\n"
             "      arn: arn:aws:iam::123456789012:role/x\n"
             "      sts_region: us-east-1\n" PIPE("[awsxray, otlphttp]", "[sigv4auth]");
    (void)state;
    assert_int_equal(parse(yaml, &cfg), XB_OK);
    assert_true(cfg->otlphttp.enabled);
    assert_true(cfg->awsxray.enabled);
    assert_string_equal(cfg->otlphttp.traces_endpoint,
                        "https://xray.us-west-2.amazonaws.com/v1/traces");
    assert_string_equal(cfg->otlphttp.compression, "none");
    assert_int_equal(cfg->otlphttp.timeout_ms, 5000);
    assert_int_equal(cfg->otlphttp.n_headers, 1);
    assert_string_equal(cfg->otlphttp.headers[0], "x-team: checkout");
    assert_string_equal(cfg->otlphttp.authenticator, "sigv4auth");
    assert_int_equal(cfg->otlphttp.queue_size, 500);
    assert_int_equal(cfg->otlphttp.num_consumers, 4);
    assert_int_equal(cfg->otlphttp.retry.initial_interval_ms, 100);
    assert_int_equal(cfg->otlphttp.retry.max_elapsed_ms, 60000);
    assert_true(cfg->otlphttp.insecure_skip_verify);
    assert_true(cfg->sigv4auth.enabled);
    assert_string_equal(cfg->sigv4auth.region, "us-west-2");
    assert_string_equal(cfg->sigv4auth.service, "xray");
    assert_string_equal(cfg->sigv4auth.role_arn, "arn:aws:iam::123456789012:role/x");
    xb_config_free(cfg);
}

static void test_otlphttp_defaults(void **state)
{
    struct xb_config *cfg = NULL;
    (void)state;
    assert_int_equal(parse(RECV "exporters:\n  otlphttp:\n    endpoint: http://127.0.0.1:1\n" PIPE(
                               "[otlphttp]", "[]"),
                           &cfg),
                     XB_OK);
    assert_false(cfg->awsxray.enabled);
    assert_string_equal(cfg->otlphttp.compression, "gzip");
    assert_string_equal(cfg->otlphttp.encoding, "proto");
    assert_int_equal(cfg->otlphttp.timeout_ms, 30000);
    assert_int_equal(cfg->otlphttp.num_consumers, 10);
    assert_true(cfg->otlphttp.retry.enabled);
    assert_int_equal(cfg->otlphttp.retry.initial_interval_ms, 5000);
    assert_null(cfg->otlphttp.authenticator);
    xb_config_free(cfg);
}

/* Each invalid combination is refused with a message naming the key. */
static void test_otlphttp_refusals(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {RECV PIPE("[otlphttp]", "[]"), "set endpoint or traces_endpoint"},
        {RECV "exporters:\n  otlphttp:\n    endpoint: http://h\n    compression: zstd\n" PIPE(
             "[otlphttp]", "[]"),
         "exporters.otlphttp.compression"},
        {RECV "exporters:\n  otlphttp:\n    endpoint: http://h\n    encoding: json\n" PIPE(
             "[otlphttp]", "[]"),
         "exporters.otlphttp.encoding"},
        {RECV "exporters:\n  otlphttp:\n    endpoint: http://h\n    auth:\n      authenticator: "
              "oauth2client\n" PIPE("[otlphttp]", "[]"),
         "unknown authenticator"},
        {RECV "exporters:\n  otlphttp:\n    endpoint: http://h\n    auth:\n      authenticator: "
              "sigv4auth\n" PIPE("[otlphttp]", "[]"),
         "list sigv4auth in service.extensions"},
        {RECV "exporters:\n  otlphttp:\n    endpoint: http://h\n    headers: [a]\n" PIPE(
             "[otlphttp]", "[]"),
         "expected a mapping"},
        {RECV "exporters:\n  otlphttp:\n    endpoint: ftp://h\n" PIPE("[otlphttp]", "[]"),
         "exporters.otlphttp.endpoint"},
        {RECV PIPE("[otlp]", "[]"), "supported: awsxray, file, otlphttp, loadbalancing"},
        {RECV "exporters:\n  otlphttp:\n    endpoint: http://h\n    sending_queue:\n      "
              "storage: file_storage\n" PIPE("[otlphttp]", "[]"),
         "file_storage is not listed in service.extensions"},
        {RECV "exporters:\n  loadbalancing:\n    resolver:\n      static:\n        hostnames: "
              "[a]\n    sending_queue:\n      storage: file_storage\n"
              "extensions:\n  file_storage:\n    directory: /var/q\n" PIPE("[loadbalancing]",
                                                                           "[file_storage]"),
         "durable queue is available for the awsxray, file and otlphttp exporters only"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_null(parse_refused(i, cases[i].yaml, cases[i].want));
}

/* sending_queue.storage names file_storage for otlphttp as for awsxray. */
static void test_otlphttp_durable_queue(void **state)
{
    struct xb_config *cfg = NULL;
    (void)state;
    assert_int_equal(parse(RECV "exporters:\n  otlphttp:\n    endpoint: http://h\n"
                                "    sending_queue:\n      storage: file_storage\n"
                                "extensions:\n  file_storage:\n    directory: /var/q\n" PIPE(
                                    "[otlphttp]", "[file_storage]"),
                           &cfg),
                     XB_OK);
    assert_string_equal(cfg->otlphttp.queue.storage, "file_storage");
    assert_true(cfg->file_storage.enabled);
    xb_config_free(cfg);
}

static void test_loadbalancing_both_names(void **state)
{
    struct xb_config *cfg = NULL;
    (void)state;
    assert_int_equal(parse(RECV
                           "exporters:\n  load_balancing:\n    protocol:\n      otlp:\n"
                           "        tls: {insecure: true}\n        compression: none\n"
                           "    resolver:\n      static:\n        hostnames: [a:4317, b]\n" PIPE(
                               "[load_balancing]", "[]"),
                           &cfg),
                     XB_OK);
    assert_true(cfg->lb.enabled);
    assert_true(cfg->lb.tls_insecure);
    assert_string_equal(cfg->lb.compression, "none");
    assert_int_equal(cfg->lb.n_hostnames, 2);
    assert_string_equal(cfg->lb.hostnames[1], "b");
    assert_string_equal(cfg->lb.routing_key, "traceID");
    xb_config_free(cfg);
    assert_int_equal(parse(RECV "exporters:\n  loadbalancing:\n    resolver:\n      dns:\n"
                                "        hostname: gateways.observability.svc\n"
                                "        interval: 2s\n" PIPE("[loadbalancing]", "[]"),
                           &cfg),
                     XB_OK);
    assert_string_equal(cfg->lb.dns_hostname, "gateways.observability.svc");
    assert_int_equal(cfg->lb.dns_port, 4317);
    assert_int_equal(cfg->lb.dns_interval_ms, 2000);
    assert_int_equal(cfg->lb.timeout_ms, 10000);
    xb_config_free(cfg);
}

static void test_loadbalancing_refusals(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {RECV PIPE("[loadbalancing]", "[]"), "exactly one resolver"},
        {RECV "exporters:\n  loadbalancing:\n    resolver:\n      static: {hostnames: [a]}\n"
              "      dns: {hostname: b}\n" PIPE("[loadbalancing]", "[]"),
         "exactly one resolver"},
        {RECV "exporters:\n  loadbalancing:\n    routing_key: service\n    resolver:\n"
              "      static: {hostnames: [a]}\n" PIPE("[loadbalancing]", "[]"),
         "exporters.loadbalancing.routing_key"},
        {RECV "exporters:\n  loadbalancing:\n    resolver:\n      static: {hostnames: [a]}\n"
              "    protocol: {otlp: {compression: zstd}}\n" PIPE("[loadbalancing]", "[]"),
         "compression"},
        {RECV PIPE("[loadbalancing, load_balancing]", "[]"), "listed twice"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        (void)parse_refused(i, cases[i].yaml, cases[i].want);
}

/* headers (a mapping) and indexed_attributes (a list): null and empty read as none; a
 * list where a mapping belongs, and the reverse, are refused with the expected type. */
static void test_empty_and_wrong_string_lists(void **state)
{
    static const char *const empty[] = {"    headers:\n", "    headers: {}\n"};
    static const char *const wrong[][2] = {
        {"  otlphttp:\n    endpoint: http://h\n    headers: [a]\n",
         "exporters.otlphttp.headers: expected a mapping (name: value)"},
        {"  awsxray:\n    indexed_attributes: {a: b}\n",
         "exporters.awsxray.indexed_attributes: expected a list (e.g. [a, b])"},
    };
    char yaml[512];
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct xb_config *cfg = NULL;
        snprintf(yaml, sizeof(yaml),
                 RECV "exporters:\n  otlphttp:\n    endpoint: http://h\n%s"
                      "  awsxray:\n    indexed_attributes:%s\n" PIPE("[awsxray, otlphttp]", "[]"),
                 empty[i], i ? " []" : "");
        assert_int_equal(parse(yaml, &cfg), XB_OK);
        assert_int_equal(cfg->otlphttp.n_headers, 0);
        assert_null(cfg->otlphttp.headers);
        assert_int_equal(cfg->translate.n_indexed_attributes, 0);
        assert_null(cfg->translate.indexed_attributes);
        xb_config_free(cfg);
    }
    for (size_t i = 0; i < 2; i++) {
        struct xb_config *cfg = NULL;
        snprintf(yaml, sizeof(yaml), RECV "exporters:\n%s" PIPE("[awsxray, otlphttp]", "[]"),
                 wrong[i][0]);
        assert_int_equal(
            xb_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, errbuf, sizeof(errbuf)),
            XB_ERR_CONFIG);
        if (!strstr(errbuf, wrong[i][1]))
            print_error("case %zu: %s\n", i, errbuf);
        assert_non_null(strstr(errbuf, wrong[i][1]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_otlphttp_with_sigv4auth),
        cmocka_unit_test(test_otlphttp_defaults),
        cmocka_unit_test(test_otlphttp_refusals),
        cmocka_unit_test(test_otlphttp_durable_queue),
        cmocka_unit_test(test_loadbalancing_both_names),
        cmocka_unit_test(test_loadbalancing_refusals),
        cmocka_unit_test(test_empty_and_wrong_string_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
