/* Unit tests of the sampling proxy's configuration: extensions.awsproxy and
 * receivers.awsxray.proxy_server keys, defaults, when each proxy is enabled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/budget.h"
#include "config/config.h"
#include "core/err.h"

#define PIPE_UDP                                                                                   \
    "exporters:\n  file: {path: out.jsonl}\n"                                                      \
    "service:\n  pipelines: {traces: {receivers: [awsxray], exporters: [file]}}\n"

static struct xb_config *parse(const char *yaml, char *err, size_t err_len)
{
    struct xb_config *cfg = NULL;
    int rc = xb_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, err_len);
    if (rc != XB_OK)
        return NULL;
    return cfg;
}

static void test_defaults_and_enabling(void **state)
{
    char err[512] = "";
    struct xb_config *cfg;
    struct xb_budget b;
    (void)state;

    /* The receiver alone: no proxy (the section is absent). */
    cfg = parse("receivers:\n  awsxray: {endpoint: \"127.0.0.1:0\"}\n" PIPE_UDP, err, sizeof(err));
    assert_non_null(cfg);
    assert_false(cfg->xray_udp_proxy.enabled);
    assert_false(cfg->awsproxy.enabled);
    xb_budget_compute(cfg, &b);
    assert_int_equal(b.item[XB_BUDGET_PROXY], 0);
    xb_config_free(cfg);

    /* proxy_server: {} turns the receiver's proxy on with the collector's defaults. */
    cfg = parse("receivers:\n  awsxray:\n    proxy_server: {}\n" PIPE_UDP, err, sizeof(err));
    assert_non_null(cfg);
    assert_true(cfg->xray_udp_proxy.enabled);
    assert_string_equal(cfg->xray_udp_proxy.endpoint, "localhost:2000");
    assert_string_equal(cfg->xray_udp_proxy.service_name, "xray");
    assert_null(cfg->xray_udp_proxy.region);
    assert_null(cfg->xray_udp_proxy.aws_endpoint);
    assert_false(cfg->xray_udp_proxy.tls_insecure);
    assert_int_equal(cfg->xray_udp_proxy.max_request_body_bytes, 64 * 1024);
    assert_int_equal(cfg->xray_udp_proxy.max_concurrent_requests, 16);
    assert_int_equal(cfg->xray_udp_proxy.timeout_ms, 5000);
    xb_budget_compute(cfg, &b);
    assert_true(b.item[XB_BUDGET_PROXY] > 0);
    xb_config_free(cfg);

    /* The extension: on only when listed in service.extensions, with ADOT's keys. */
    cfg = parse("receivers:\n  awsxray: {}\n" PIPE_UDP
                "extensions:\n  awsproxy:\n    endpoint: 0.0.0.0:2000\n    region: eu-west-1\n"
                "    role_arn: arn:aws:iam::123456789012:role/x\n"
                "    aws_endpoint: https://xray.example.com\n    service_name: xray\n"
                "    proxy_address: http://proxy:3128\n    local_mode: true\n"
                "    tls: {insecure: true, server_name_override: x.example, ca_file: ca.pem}\n",
                err, sizeof(err));
    assert_non_null(cfg);
    assert_false(cfg->awsproxy.enabled);
    assert_string_equal(cfg->awsproxy.endpoint, "0.0.0.0:2000");
    assert_string_equal(cfg->awsproxy.region, "eu-west-1");
    assert_string_equal(cfg->awsproxy.aws_endpoint, "https://xray.example.com");
    assert_string_equal(cfg->awsproxy.proxy_address, "http://proxy:3128");
    assert_true(cfg->awsproxy.local_mode);
    assert_true(cfg->awsproxy.tls_insecure);
    assert_string_equal(cfg->awsproxy.tls_ca_file, "ca.pem");
    xb_config_free(cfg);

    cfg = parse("receivers:\n  awsxray: {}\n" PIPE_UDP "  extensions: [awsproxy]\n", err,
                sizeof(err));
    assert_non_null(cfg);
    assert_true(cfg->awsproxy.enabled);
    assert_false(cfg->xray_udp_proxy.enabled);
    xb_config_free(cfg);
}

static void test_refused(void **state)
{
    char err[512] = "";
    (void)state;

    /* A proxy_server section without the receiver in the pipeline stays off. */
    {
        struct xb_config *cfg =
            parse("receivers:\n  otlp: {protocols: {http: {}}}\n  awsxray:\n"
                  "    proxy_server: {}\n"
                  "exporters:\n  file: {path: o}\n"
                  "service:\n  pipelines: {traces: {receivers: [otlp], exporters: [file]}}\n",
                  err, sizeof(err));
        assert_non_null(cfg);
        assert_false(cfg->xray_udp_proxy.enabled);
        xb_config_free(cfg);
    }
    assert_null(
        parse("receivers:\n  awsxray:\n    proxy_server: {nope: 1}\n" PIPE_UDP, err, sizeof(err)));
    assert_non_null(strstr(err, "receivers.awsxray.proxy_server.nope"));
    assert_null(parse("receivers:\n  awsxray: {}\n" PIPE_UDP
                      "extensions:\n  awsproxy: {max_concurrent_requests: 0}\n",
                      err, sizeof(err)));
    assert_non_null(strstr(err, "extensions.awsproxy.max_concurrent_requests"));
    assert_null(parse("receivers:\n  awsxray: {}\n" PIPE_UDP
                      "extensions:\n  awsproxy: {aws_endpoint: ftp://x}\n",
                      err, sizeof(err)));
    assert_non_null(strstr(err, "extensions.awsproxy.aws_endpoint"));
    assert_null(parse("receivers:\n  awsxray: {}\n" PIPE_UDP
                      "extensions:\n  awsproxy: {max_request_body_size: 5MiB}\n",
                      err, sizeof(err)));
    assert_non_null(strstr(err, "max_request_body_size"));
    /* Both proxies on the default localhost:2000: refused with a clear message. */
    assert_null(parse("receivers:\n  awsxray:\n    proxy_server: {}\n" PIPE_UDP
                      "  extensions: [awsproxy]\n",
                      err, sizeof(err)));
    assert_non_null(strstr(err, "same address as receivers.awsxray.proxy_server.endpoint"));
    /* A proxy on the metrics endpoint's address. */
    assert_null(parse("receivers:\n  awsxray: {}\n" PIPE_UDP "  extensions: [awsproxy]\n"
                      "  telemetry: {metrics: {address: \"localhost:2000\"}}\n",
                      err, sizeof(err)));
    assert_non_null(strstr(err, "extensions.awsproxy.endpoint"));
    /* Port 0 never clashes. */
    {
        struct xb_config *cfg =
            parse("receivers:\n  awsxray:\n    proxy_server: {endpoint: \"127.0.0.1:0\"}\n" PIPE_UDP
                  "  extensions: [awsproxy]\n"
                  "extensions:\n  awsproxy: {endpoint: \"127.0.0.1:0\"}\n",
                  err, sizeof(err));
        assert_non_null(cfg);
        xb_config_free(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_enabling),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
