/*
 * tests/unit/config/test_processors.c - processors:, the pipeline processor list,
 * unknown components and the collector shapes of ADOT configurations
 * (config/processors.c and its hooks in config/config.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/processors.h"
#include "core/err.h"

/* 4 lines of receivers: YAML appended after them starts on line 5. */
#define RECV "receivers:\n  otlp:\n    protocols:\n      grpc:\n"
#define PIPE(procs)                                                                                \
    "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"                               \
    "      processors: " procs "\n      exporters: [awsxray, file]\n"

static char errbuf[1024];

static struct xb_config *parse_ok(const char *yaml)
{
    struct xb_config *cfg = NULL;
    int rc = xb_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, errbuf, sizeof(errbuf));

    if (rc != XB_OK)
        print_error("unexpected failure: %s\n", errbuf);
    assert_int_equal(rc, XB_OK);
    return cfg;
}

static void expect_err(const char *yaml, const char *want1, const char *want2)
{
    struct xb_config *cfg = NULL;
    int rc = xb_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, errbuf, sizeof(errbuf));

    if (rc != XB_ERR_CONFIG || strstr(errbuf, want1) == NULL ||
        (want2 != NULL && strstr(errbuf, want2) == NULL))
        print_error("rc=%d err=\"%s\" want \"%s\" \"%s\"\n", rc, errbuf, want1, want2 ? want2 : "");
    assert_int_equal(rc, XB_ERR_CONFIG);
    assert_null(cfg);
    assert_non_null(strstr(errbuf, want1));
    if (want2 != NULL)
        assert_non_null(strstr(errbuf, want2));
}

static void test_type_find(void **state)
{
    (void)state;
    assert_string_equal(xb_processor_type_find("batch")->name, "batch");
    assert_string_equal(xb_processor_type_find("batch/traces")->name, "batch");
    assert_string_equal(xb_processor_type_find("memory_limiter/x")->name, "memory_limiter");
    assert_null(xb_processor_type_find("batch/"));
    assert_null(xb_processor_type_find("batchx"));
    assert_null(xb_processor_type_find("transform"));
    assert_null(xb_processor_type_find(""));
    assert_true(xb_extension_is_noop("pprof"));
    assert_true(xb_extension_is_noop("zpages"));
    assert_false(xb_extension_is_noop("health_check"));
    assert_false(xb_extension_is_noop("oauth2client"));
    assert_int_equal(xb_extension_find("viewer")->enabled_offset,
                     offsetof(struct xb_config, viewer.enabled));
    assert_null(xb_extension_find("oauth2client"));
    assert_string_equal(xb_extension_supported(),
                        "health_check, viewer, awsproxy, file_storage, sigv4auth, pprof, zpages");
}

static void test_batch_mapping(void **state)
{
    int clamped = -1;

    (void)state;
    assert_int_equal(xb_batch_max_documents(8192, 0, 50, &clamped), 50);
    assert_int_equal(clamped, 1);
    assert_int_equal(xb_batch_max_documents(20, 0, 50, &clamped), 20);
    assert_int_equal(clamped, 0);
    assert_int_equal(xb_batch_max_documents(20, 40, 50, &clamped), 40);
    assert_int_equal(clamped, 0);
    assert_int_equal(xb_batch_max_documents(20, 51, 50, &clamped), 50);
    assert_int_equal(clamped, 1);
    assert_int_equal(xb_batch_max_documents(50, 0, 50, &clamped), 50);
    assert_int_equal(clamped, 0);
    assert_int_equal(xb_batch_max_documents(8192, 0, 10000, &clamped), 8192);
}

static void test_batch_applies_to_exporters(void **state)
{
    struct xb_config *cfg;

    (void)state;
    /* The listed instance wins over an unlisted one of the same type. */
    cfg = parse_ok(RECV "processors:\n  batch/traces:\n    timeout: 1s\n    send_batch_size: 30\n"
                        "  batch/metrics:\n    timeout: 60s\n" PIPE("[batch/traces]"));
    assert_true(cfg->processors.batch.enabled);
    assert_int_equal(cfg->awsxray.queue.batch_timeout_ms, 1000);
    assert_int_equal(cfg->awsxray.queue.batch_max_documents, 30);
    assert_int_equal(cfg->file.queue.batch_timeout_ms, 1000);
    assert_int_equal(cfg->file.queue.batch_max_documents, 30);
    assert_int_equal(cfg->processors.n_pipeline, 1);
    assert_string_equal(cfg->processors.pipeline[0], "batch/traces");
    xb_config_free(cfg);
    /* The collector's default size is clamped to PutTraceSegments' 50. */
    cfg = parse_ok(RECV "processors:\n  batch:\n" PIPE("[batch]"));
    assert_int_equal(cfg->awsxray.queue.batch_max_documents, 50);
    assert_int_equal(cfg->awsxray.queue.batch_timeout_ms, 200);
    assert_int_equal(cfg->file.queue.batch_max_documents, 8192);
    xb_config_free(cfg);
    /* Configured but not listed: exporters keep their own batching. */
    cfg = parse_ok(RECV "processors:\n  batch:\n    timeout: 5s\n" PIPE("[]"));
    assert_false(cfg->processors.batch.enabled);
    assert_int_equal(cfg->awsxray.queue.batch_timeout_ms, 200);
    xb_config_free(cfg);
}

static void test_memory_limiter(void **state)
{
    struct xb_config *cfg;

    (void)state;
    cfg = parse_ok(RECV "processors:\n  memory_limiter:\n    check_interval: 5s\n"
                        "    limit_mib: 400\n    spike_limit_mib: 100\n" PIPE("[memory_limiter]"));
    assert_true(cfg->processors.memory_limiter.enabled);
    assert_int_equal(cfg->processors.memory_limiter.check_interval_ms, 5000);
    assert_int_equal(cfg->processors.memory_limiter.limit_bytes, 400u << 20);
    assert_int_equal(cfg->processors.memory_limiter.spike_limit_bytes, 100u << 20);
    xb_config_free(cfg);
    cfg = parse_ok(RECV "processors:\n  memory_limiter:\n    limit_percentage: 80\n"
                        "    spike_limit_percentage: 25\n" PIPE("[memory_limiter]"));
    assert_int_equal(cfg->processors.memory_limiter.limit_percentage, 80);
    xb_config_free(cfg);
    expect_err(RECV
               "processors:\n  memory_limiter:\n    check_interval: 1s\n" PIPE("[memory_limiter]"),
               "t.yaml:6:3: processors.memory_limiter:", "set limit_mib or limit_percentage");
    expect_err(
        RECV "processors:\n  memory_limiter:\n    limit_mib: 100\n    spike_limit_mib: 100\n" PIPE(
            "[memory_limiter]"),
        "t.yaml:6:3: processors.memory_limiter:", "spike_limit_mib must be below");
    expect_err(RECV "processors:\n  memory_limiter/a:\n    limit_mib: 10\n"
                    "    limit_percentage: 10\n" PIPE("[memory_limiter/a]"),
               "t.yaml:6:3: processors.memory_limiter/a:", "only one of");
    expect_err(
        RECV "processors:\n  memory_limiter:\n    limit_percentage: 101\n" PIPE("[memory_limiter]"),
        "t.yaml:7:23: processors.memory_limiter.limit_percentage:", "between 0 and 100");
}

static void test_resourcedetection(void **state)
{
    struct xb_config *cfg;

    (void)state;
    cfg = parse_ok(RECV "processors:\n  resourcedetection:\n    detectors: [env, eks, ec2]\n"
                        "    timeout: 2s\n    override: false\n" PIPE("[resourcedetection]"));
    assert_true(cfg->processors.resourcedetection.enabled);
    assert_int_equal(cfg->processors.resourcedetection.n_detectors, 3);
    assert_string_equal(cfg->processors.resourcedetection.detectors[1], "eks");
    assert_int_equal(cfg->processors.resourcedetection.timeout_ms, 2000);
    assert_false(cfg->processors.resourcedetection.override);
    xb_config_free(cfg);
    cfg = parse_ok(RECV
                   "processors:\n  resourcedetection/eks:\n    detectors: [system]\n"
                   "    system:\n      hostname_sources: [os]\n" PIPE("[resourcedetection/eks]"));
    assert_true(cfg->processors.resourcedetection.override); /* the collector's default */
    xb_config_free(cfg);
    expect_err(RECV "processors:\n  resourcedetection:\n    detectors: [env, gcp]\n" PIPE(
                   "[resourcedetection]"),
               "t.yaml:6:3: processors.resourcedetection:",
               "\"gcp\" is not supported (supported: env, ec2, eks, system");
    /* Unlisted instances are validated too. */
    expect_err(
        RECV
        "processors:\n  resourcedetection/x:\n    detectors: [env]\n    timout: 1s\n" PIPE("[]"),
        "t.yaml:8:5: processors.resourcedetection/x.timout:", "unknown key");
}

static void test_pipeline_processor_rules(void **state)
{
    struct xb_config *cfg;

    (void)state;
    cfg = parse_ok(RECV "processors:\n  memory_limiter:\n    limit_mib: 100\n  batch:\n"
                        "  resourcedetection:\n    detectors: [env]\n" PIPE(
                            "[memory_limiter, resourcedetection, batch]"));
    assert_int_equal(cfg->processors.n_pipeline, 3);
    assert_string_equal(cfg->processors.pipeline[2], "batch");
    assert_true(cfg->processors.batch.enabled && cfg->processors.memory_limiter.enabled &&
                cfg->processors.resourcedetection.enabled);
    xb_config_free(cfg);
    expect_err(RECV PIPE("[batch]"), "t.yaml:9:19: service.pipelines.traces.processors:",
               "processor \"batch\" is not configured under processors");
    expect_err(RECV "processors:\n  batch:\n  batch/2:\n" PIPE("[batch, batch/2]"),
               "service.pipelines.traces.processors:", "only one batch processor");
    expect_err(RECV "processors:\n  batch:\n" PIPE("[batch, batch]"),
               "service.pipelines.traces.processors:", "listed twice");
}

static void test_unknown_components(void **state)
{
    (void)state;
    expect_err(RECV "processors:\n  transform:\n    trace_statements: []\n" PIPE("[]"),
               "t.yaml:6:3: processors.transform:",
               "unknown processor \"transform\" (supported: batch, memory_limiter, "
               "resourcedetection, tail_sampling; see docs/migration.md)");
    expect_err(RECV PIPE("[transform]"), "t.yaml:9:19: service.pipelines.traces.processors:",
               "unknown processor \"transform\"");
    expect_err(RECV "exporters:\n  kafka:\n    brokers: [a]\n" PIPE("[]"),
               "t.yaml:6:3: exporters.kafka:",
               "unknown exporter \"kafka\" (supported: awsxray, file, otlphttp, loadbalancing; see "
               "docs/migration.md)");
    expect_err(RECV "connectors:\n  spanmetrics: {}\n" PIPE("[]"),
               "t.yaml:6:3: connectors:", "unknown connector \"spanmetrics\"");
    expect_err(RECV "extensions:\n  oauth2client: {}\n" PIPE("[]"),
               "t.yaml:6:3: extensions.oauth2client:", "see docs/migration.md");
    /* An empty connectors section is harmless. */
    xb_config_free(parse_ok(RECV "connectors: {}\n" PIPE("[]")));
}

static void test_noop_extensions(void **state)
{
    struct xb_config *cfg;

    (void)state;
    cfg = parse_ok(RECV
                   "extensions:\n  pprof:\n    endpoint: 0.0.0.0:1777\n  zpages: {}\n"
                   "  health_check:\n" PIPE("[]") "  extensions: [pprof, zpages, health_check]\n");
    assert_true(cfg->health_check.enabled);
    xb_config_free(cfg);
}

/* The EKS add-on / ADOT documentation shape for X-Ray. */
static void test_adot_shape(void **state)
{
    static const char yaml[] =
        "extensions:\n"
        "  health_check: {}\n"
        "receivers:\n"
        "  otlp:\n"
        "    protocols:\n"
        "      grpc:\n"
        "        endpoint: 0.0.0.0:4317\n"
        "      http:\n"
        "        endpoint: 0.0.0.0:4318\n"
        "  awsxray:\n"
        "    endpoint: 0.0.0.0:2000\n"
        "    transport: udp\n"
        "processors:\n"
        "  memory_limiter:\n"
        "    check_interval: 1s\n"
        "    limit_percentage: 75\n"
        "    spike_limit_percentage: 15\n"
        "  batch/traces:\n"
        "    timeout: 1s\n"
        "    send_batch_size: 50\n"
        "  resourcedetection:\n"
        "    detectors: [env, eks, ec2]\n"
        "    timeout: 2s\n"
        "    override: false\n"
        "exporters:\n"
        "  awsxray:\n"
        "    region: us-west-2\n"
        "    indexed_attributes: [otel.resource.k8s.cluster.name]\n"
        "    index_all_attributes: false\n"
        "    aws_log_groups: [/aws/eks/app]\n"
        "service:\n"
        "  extensions: [health_check]\n"
        "  pipelines:\n"
        "    traces:\n"
        "      receivers: [otlp, awsxray]\n"
        "      processors: [memory_limiter, resourcedetection, batch/traces]\n"
        "      exporters: [awsxray]\n";
    struct xb_config *cfg = parse_ok(yaml);

    (void)state;
    assert_true(cfg->xray_udp.enabled);
    assert_int_equal(cfg->awsxray.queue.batch_max_documents, 50);
    assert_int_equal(cfg->awsxray.queue.batch_timeout_ms, 1000);
    assert_int_equal(cfg->processors.memory_limiter.limit_percentage, 75);
    xb_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_find),
        cmocka_unit_test(test_batch_mapping),
        cmocka_unit_test(test_batch_applies_to_exporters),
        cmocka_unit_test(test_memory_limiter),
        cmocka_unit_test(test_resourcedetection),
        cmocka_unit_test(test_pipeline_processor_rules),
        cmocka_unit_test(test_unknown_components),
        cmocka_unit_test(test_noop_extensions),
        cmocka_unit_test(test_adot_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
