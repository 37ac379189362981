/*
 * tests/unit/config/test_config.c - config/config.c and config/options.c.
 *
 * Error tests check both the reason and the "SOURCE:LINE:COL: KEY:" prefix, so a
 * wrong line number or key path fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/options.h"
#include "core/err.h"

#define SRC_ROOT XB_TEST_DATA_DIR "/../.."

/* A valid receivers block: 4 lines, so test YAML appended after it starts on line 5. */
#define RECV "receivers:\n  otlp:\n    protocols:\n      grpc:\n"
/* A valid pipeline block using only the file exporter (5 lines). */
#define PIPE_FILE                                                                                  \
    "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [file]\n"
#define PIPE_FILE_AWSXRAY                                                                          \
    "service:\n  pipelines:\n    traces:\n      receivers: [awsxray]\n      exporters: [file]\n"
#define PIPE_XRAY                                                                                  \
    "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [awsxray]\n"

static char errbuf[1024];

static struct xb_config *parse_ok(const char *yaml)
{
    struct xb_config *cfg = NULL;
    int rc = xb_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, errbuf, sizeof(errbuf));

    if (rc != XB_OK)
        print_error("unexpected failure: %s\n", errbuf);
    assert_int_equal(rc, XB_OK);
    assert_non_null(cfg);
    return cfg;
}

/* Parsing must fail with XB_ERR_CONFIG and a message containing every |want|. */
static void expect_err(const char *yaml, const char *want1, const char *want2)
{
    struct xb_config *cfg = (struct xb_config *)1;
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

/* xb_config_parse() of |yaml| with stderr (the log) captured into |log| (|log_len| bytes). */
static int parse_logged(const char *yaml, struct xb_config **cfg, char *log, size_t log_len)
{
    char path[] = "/tmp/xb_test_config_log_XXXXXX";
    int fd = mkstemp(path), saved, rc;
    ssize_t n;

    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    rc = xb_config_parse(yaml, strlen(yaml), "t.yaml", cfg, errbuf, sizeof(errbuf));
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, log, log_len - 1, 0);
    close(fd);
    log[n > 0 ? n : 0] = '\0';
    return rc;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------ defaults --- */

static void test_default_embedded_matches_file(void **state)
{
    char *disk = read_file(SRC_ROOT "/config/default.yaml");

    assert_string_equal(xb_config_default_yaml(), disk);
    free(disk);
}

static void test_default_values(void **state)
{
    struct xb_config *cfg = NULL;

    assert_int_equal(xb_config_load_default(&cfg, errbuf, sizeof(errbuf)), XB_OK);
    assert_string_equal(cfg->source, "<embedded default>");
    assert_true(cfg->grpc.enabled);
    assert_string_equal(cfg->grpc.endpoint, "localhost:4317");
    assert_int_equal(cfg->grpc.max_recv_msg_bytes, 4u << 20);
    assert_int_equal(cfg->grpc.max_concurrent_streams, 100);
    assert_int_equal(cfg->grpc.max_connections, 256);
    assert_true(cfg->http.enabled);
    assert_string_equal(cfg->http.endpoint, "localhost:4318");
    assert_int_equal(cfg->http.max_request_body_bytes, 4194304);
    assert_int_equal(cfg->http.max_connections, 256);
    assert_false(cfg->awsxray.enabled);
    assert_null(cfg->awsxray.region);
    assert_null(cfg->awsxray.endpoint);
    assert_null(cfg->awsxray.role_arn);
    assert_null(cfg->awsxray.ca_file);
    assert_int_equal(cfg->awsxray.request_timeout_seconds, 30);
    assert_int_equal(cfg->awsxray.max_retries, 2);
    assert_int_equal(cfg->awsxray.num_workers, 8);
    assert_int_equal(cfg->awsxray.queue.batch_max_documents, 50);
    assert_true(cfg->file.enabled);
    assert_string_equal(cfg->file.path, "./xraybridge-segments.jsonl");
    assert_int_equal(cfg->file.queue.max_bytes, (size_t)128 << 20);
    assert_int_equal(cfg->file.queue.max_documents, 1000000);
    assert_int_equal(cfg->file.queue.batch_max_documents, 50);
    assert_int_equal(cfg->file.queue.batch_timeout_ms, 200);
    assert_int_equal(cfg->translate.n_indexed_attributes, 0);
    assert_false(cfg->translate.index_all_attributes);
    assert_true(cfg->translate.allow_dot_in_annotation_keys);
    assert_true(cfg->translate.skip_timestamp_validation);
    assert_int_equal(cfg->translate.max_document_bytes, 64000);
    assert_string_equal(cfg->log_level, "info");
    assert_int_equal(cfg->shutdown_timeout_ms, 10000);
    xb_config_free(cfg);
}

static void test_free_null_is_noop(void **state)
{
    xb_config_free(NULL);
    assert_true(1 == 1);
}

/* ------------------------------------------------------------ full config --- */

static const char full_yaml[] = "receivers:\n"
                                "  otlp:\n"
                                "    protocols:\n"
                                "      grpc:\n"
                                "        endpoint: 0.0.0.0:14317\n"
                                "        max_recv_msg_size_mib: 16\n"
                                "        max_concurrent_streams: 50\n"
                                "        max_connections: 10\n"
                                "      http:\n"
                                "        endpoint: '[::1]:14318'\n"
                                "        max_request_body_size: 8MiB\n"
                                "        max_connections: 20\n"
                                "exporters:\n"
                                "  awsxray:\n"
                                "    region: eu-central-1\n"
                                "    endpoint: http://127.0.0.1:9999\n"
                                "    role_arn: arn:aws:iam::123456789012:role/x\n"
                                "    proxy_address: http://proxy:3128\n"
                                "    no_verify_ssl: true\n"
                                "    certificate_file_path: /etc/ca.pem\n"
                                "    request_timeout_seconds: 5\n"
                                "    max_retries: 7\n"
                                "    num_workers: 3\n"
                                "    local_mode: yes\n"
                                "    resource_arn: arn:aws:ec2:x\n"
                                "    indexed_attributes: [http.method, \"user.id\"]\n"
                                "    index_all_attributes: true\n"
                                "    allow_dot_in_annotation_keys: false\n"
                                "    skip_timestamp_validation: off\n"
                                "    aws_log_groups:\n"
                                "      - group-a\n"
                                "      - group-b\n"
                                "    max_document_bytes: 32000\n"
                                "    sending_queue:\n"
                                "      max_bytes: 1GiB\n"
                                "      max_documents: 5000\n"
                                "    batch:\n"
                                "      max_documents: 25\n"
                                "      timeout: 1s\n"
                                "    telemetry: {enabled: false}\n"
                                "  file:\n"
                                "    path: \"-\"\n"
                                "    index_all_attributes: true\n"
                                "    sending_queue: {max_bytes: 2MB, max_documents: 77}\n"
                                "    batch: {max_documents: 10000, timeout: 1s500ms}\n"
                                "service:\n"
                                "  pipelines:\n"
                                "    traces:\n"
                                "      receivers: [otlp]\n"
                                "      exporters: [awsxray, file]\n"
                                "  telemetry:\n"
                                "    logs:\n"
                                "      level: DEBUG\n"
                                "  shutdown_timeout: 45s\n";

static void test_full_config_every_key(void **state)
{
    struct xb_config *cfg = parse_ok(full_yaml);

    assert_true(cfg->grpc.enabled);
    assert_string_equal(cfg->grpc.endpoint, "0.0.0.0:14317");
    assert_int_equal(cfg->grpc.max_recv_msg_bytes, 16u << 20);
    assert_int_equal(cfg->grpc.max_concurrent_streams, 50);
    assert_int_equal(cfg->grpc.max_connections, 10);
    assert_true(cfg->http.enabled);
    assert_string_equal(cfg->http.endpoint, "[::1]:14318");
    assert_int_equal(cfg->http.max_request_body_bytes, 8u << 20);
    assert_int_equal(cfg->http.max_connections, 20);

    assert_true(cfg->awsxray.enabled);
    assert_string_equal(cfg->awsxray.region, "eu-central-1");
    assert_string_equal(cfg->awsxray.endpoint, "http://127.0.0.1:9999");
    assert_string_equal(cfg->awsxray.role_arn, "arn:aws:iam::123456789012:role/x");
    assert_string_equal(cfg->awsxray.proxy_address, "http://proxy:3128");
    assert_true(cfg->awsxray.no_verify_ssl);
    assert_string_equal(cfg->awsxray.ca_file, "/etc/ca.pem");
    assert_int_equal(cfg->awsxray.request_timeout_seconds, 5);
    assert_int_equal(cfg->awsxray.max_retries, 7);
    assert_int_equal(cfg->awsxray.num_workers, 3);
    assert_true(cfg->awsxray.local_mode);
    assert_string_equal(cfg->awsxray.resource_arn, "arn:aws:ec2:x");
    assert_int_equal(cfg->awsxray.queue.max_bytes, (size_t)1 << 30);
    assert_int_equal(cfg->awsxray.queue.max_documents, 5000);
    assert_int_equal(cfg->awsxray.queue.batch_max_documents, 25);
    assert_int_equal(cfg->awsxray.queue.batch_timeout_ms, 1000);

    assert_int_equal(cfg->translate.n_indexed_attributes, 2);
    assert_string_equal(cfg->translate.indexed_attributes[0], "http.method");
    assert_string_equal(cfg->translate.indexed_attributes[1], "user.id");
    assert_true(cfg->translate.index_all_attributes);
    assert_false(cfg->translate.allow_dot_in_annotation_keys);
    assert_false(cfg->translate.skip_timestamp_validation);
    assert_int_equal(cfg->translate.n_aws_log_groups, 2);
    assert_string_equal(cfg->translate.aws_log_groups[1], "group-b");
    assert_int_equal(cfg->translate.max_document_bytes, 32000);

    assert_true(cfg->file.enabled);
    assert_string_equal(cfg->file.path, "-");
    assert_int_equal(cfg->file.queue.max_bytes, 2000000);
    assert_int_equal(cfg->file.queue.max_documents, 77);
    assert_int_equal(cfg->file.queue.batch_max_documents, 10000);
    assert_int_equal(cfg->file.queue.batch_timeout_ms, 1500);

    assert_string_equal(cfg->log_level, "debug");
    assert_int_equal(cfg->shutdown_timeout_ms, 45000);
    xb_config_free(cfg);
}

/* ------------------------------------------------------------ errors --- */

static void test_unknown_top_level_key(void **state)
{
    expect_err(RECV PIPE_FILE "pipelines:\n  traces: {}\n",
               "t.yaml:10:1: pipelines:", "unknown key \"pipelines\"");
}

static void test_unknown_nested_key(void **state)
{
    expect_err(RECV "        endpont: localhost:1\n" PIPE_FILE,
               "t.yaml:5:9: receivers.otlp.protocols.grpc.endpont:", "unknown key");
}

static void test_unknown_receiver_and_exporter_ids(void **state)
{
    expect_err(RECV "  jaeger:\n    protocols: {}\n" PIPE_FILE,
               "t.yaml:5:3: receivers.jaeger:", "unknown receiver \"jaeger\"");
    expect_err(RECV "exporters:\n  awsxray/foo: {}\n" PIPE_FILE,
               "t.yaml:6:3: exporters.awsxray/foo:", "unknown exporter \"awsxray/foo\"");
    expect_err(RECV "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
                    "      exporters: [file, logging]\n",
               "t.yaml:9:18: service.pipelines.traces.exporters:", "unknown exporter \"logging\"");
    expect_err(RECV "service:\n  pipelines:\n    traces:\n      receivers: [otlp, zipkin]\n"
                    "      exporters: [file]\n",
               "t.yaml:8:18: service.pipelines.traces.receivers:", "unknown receiver \"zipkin\"");
}

static void test_wrong_type_list_for_scalar(void **state)
{
    expect_err(RECV "        endpoint: [a, b]\n" PIPE_FILE,
               "t.yaml:5:19: receivers.otlp.protocols.grpc.endpoint:", "got a list");
    expect_err(RECV "exporters:\n  awsxray:\n    indexed_attributes: abc\n" PIPE_XRAY,
               "t.yaml:7:25: exporters.awsxray.indexed_attributes:", "expected a list");
    expect_err(RECV "exporters:\n  file: [x]\n" PIPE_FILE,
               "t.yaml:6:9: exporters.file:", "expected a mapping");
}

static void test_wrong_type_integer(void **state)
{
    expect_err(RECV "        max_concurrent_streams: abc\n" PIPE_FILE,
               "t.yaml:5:33: receivers.otlp.protocols.grpc.max_concurrent_streams:",
               "expected a non-negative integer");
    expect_err(RECV "        max_concurrent_streams: -5\n" PIPE_FILE,
               "t.yaml:5:33:", "non-negative integer");
    expect_err(RECV "        max_concurrent_streams: 99999999999999999999999\n" PIPE_FILE,
               "t.yaml:5:33:", "non-negative integer");
}

static void test_wrong_type_bool(void **state)
{
    expect_err(RECV "exporters:\n  awsxray:\n    no_verify_ssl: maybe\n" PIPE_XRAY,
               "t.yaml:7:20: exporters.awsxray.no_verify_ssl:", "expected a boolean");
    expect_err(RECV "exporters:\n  awsxray:\n    no_verify_ssl: 1\n" PIPE_XRAY,
               "t.yaml:7:20:", "expected a boolean");
}

static void test_bool_spellings(void **state)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"true", 1}, {"True", 1}, {"TRUE", 1},  {"yes", 1},      {"YES", 1},
        {"on", 1},   {"On", 1},   {"false", 0}, {"False", 0},    {"no", 0},
        {"No", 0},   {"off", 0},  {"OFF", 0},   {"\"true\"", 1},
    };
    char yaml[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct xb_config *cfg;
        snprintf(yaml, sizeof(yaml),
                 RECV "exporters:\n  awsxray:\n    no_verify_ssl: %s\n"
                      "    index_all_attributes: %s\n" PIPE_XRAY,
                 cases[i].text, cases[i].text);
        cfg = parse_ok(yaml);
        assert_int_equal(cfg->awsxray.no_verify_ssl, cases[i].want);
        assert_int_equal(cfg->translate.index_all_attributes, cases[i].want);
        xb_config_free(cfg);
    }
}

static void test_out_of_range(void **state)
{
    struct xb_config *cfg;

    expect_err(
        RECV "        max_recv_msg_size_mib: 2048\n" PIPE_FILE,
        "t.yaml:5:32: receivers.otlp.protocols.grpc.max_recv_msg_size_mib:", "between 1 and 1024");
    expect_err(RECV "        max_recv_msg_size_mib: 0\n" PIPE_FILE,
               "t.yaml:5:32:", "between 1 and 1024");
    expect_err(RECV "exporters:\n  awsxray:\n    batch:\n      max_documents: 51\n" PIPE_XRAY,
               "t.yaml:8:22: exporters.awsxray.batch.max_documents:", "between 1 and 50");
    expect_err(RECV "exporters:\n  file:\n    batch:\n      max_documents: 10001\n" PIPE_FILE,
               "t.yaml:8:22: exporters.file.batch.max_documents:", "between 1 and 10000");
    expect_err(RECV "exporters:\n  file:\n    max_document_bytes: 1023\n" PIPE_FILE,
               "t.yaml:7:25: exporters.file.max_document_bytes:", "between 1024");
    expect_err(RECV "exporters:\n  awsxray:\n    num_workers: 0\n" PIPE_XRAY,
               "t.yaml:7:18:", "between 1 and 256");
    cfg = parse_ok(RECV "exporters:\n  file:\n    batch:\n      max_documents: 10000\n" PIPE_FILE);
    assert_int_equal(cfg->file.queue.batch_max_documents, 10000);
    xb_config_free(cfg);
}

static void test_endpoints(void **state)
{
    static const char *const good[] = {"localhost:4317", "0.0.0.0:0", "127.0.0.1:65535",
                                       "'[::1]:4317'",   "'[::]:1'",  "my-host.example:80"};
    static const struct {
        const char *ep;
        const char *why;
    } bad[] = {
        {"localhost", "expected host:port"},   {"':4317'", "host is empty"},
        {"'::1:4317'", "must be in brackets"}, {"host:65536", "port must be"},
        {"host:-1", "port must be"},           {"'host:'", "port must be"},
        {"'[::1]4317'", "expected host:port"}, {"'[]:4317'", "IPv6 host"},
        {"\"\"", "must not be empty"},
    };
    char yaml[512];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct xb_config *cfg;
        snprintf(yaml, sizeof(yaml), RECV "        endpoint: %s\n" PIPE_FILE, good[i]);
        cfg = parse_ok(yaml);
        assert_non_null(strchr(cfg->grpc.endpoint, ':'));
        xb_config_free(cfg);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), RECV "        endpoint: %s\n" PIPE_FILE, bad[i].ep);
        expect_err(yaml, "t.yaml:5:19: receivers.otlp.protocols.grpc.endpoint:", bad[i].why);
    }
}

static void test_awsxray_endpoint_and_region(void **state)
{
    struct xb_config *cfg;

    expect_err(RECV "exporters:\n  awsxray:\n    endpoint: ftp://x\n" PIPE_XRAY,
               "t.yaml:7:15: exporters.awsxray.endpoint:", "https:// or http://");
    expect_err(RECV "exporters:\n  awsxray:\n    endpoint: https://\n" PIPE_XRAY,
               "t.yaml:7:15:", "no host");
    expect_err(RECV "exporters:\n  awsxray:\n    region: US West 2\n" PIPE_XRAY,
               "t.yaml:7:13: exporters.awsxray.region:", "us-west-2");
    cfg = parse_ok(RECV "exporters:\n  awsxray:\n    region: \"\"\n    endpoint:\n" PIPE_XRAY);
    assert_null(cfg->awsxray.region);
    assert_null(cfg->awsxray.endpoint);
    xb_config_free(cfg);
}

static void test_sizes(void **state)
{
    static const struct {
        const char *text;
        size_t want;
    } good[] = {
        {"4096", 4096},      {"1KiB", 1024},      {"1kib", 1024},
        {"2 MiB", 2u << 20}, {"1GiB", 1u << 30},  {"3KB", 3000},
        {"5MB", 5000000},    {"1GB", 1000000000}, {"2048B", 2048},
    };
    static const char *const bad[] = {"12XB", "-1", "1.5MiB", "MiB", "10 M i B", "0x100"};
    char yaml[512];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct xb_config *cfg;
        snprintf(yaml, sizeof(yaml),
                 RECV "      http:\n        max_request_body_size: %s\n" PIPE_FILE, good[i].text);
        cfg = parse_ok(yaml);
        assert_int_equal(cfg->http.max_request_body_bytes, good[i].want);
        xb_config_free(cfg);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml),
                 RECV "      http:\n        max_request_body_size: %s\n" PIPE_FILE, bad[i]);
        expect_err(yaml, "t.yaml:6:32: receivers.otlp.protocols.http.max_request_body_size:",
                   "expected a size");
    }
    expect_err(RECV "      http:\n        max_request_body_size: 2GiB\n" PIPE_FILE,
               "t.yaml:6:32:", "between 1024 and 1073741824");
}

static void test_durations(void **state)
{
    static const struct {
        const char *text;
        uint32_t want;
    } good[] = {
        {"200ms", 200}, {"5s", 5000}, {"1m", 60000},   {"1m30s", 90000},
        {"250", 250},   {"0s", 0},    {"1h", 3600000}, {"1s500ms", 1500},
    };
    static const char *const bad[] = {"5 s", "1.5s", "ms", "5d", "s5", "-1s", "2x"};
    char yaml[512];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct xb_config *cfg;
        snprintf(yaml, sizeof(yaml), RECV PIPE_FILE "  shutdown_timeout: %s\n", good[i].text);
        cfg = parse_ok(yaml);
        assert_int_equal(cfg->shutdown_timeout_ms, good[i].want);
        xb_config_free(cfg);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), RECV PIPE_FILE "  shutdown_timeout: %s\n", bad[i]);
        expect_err(yaml, "t.yaml:10:21: service.shutdown_timeout:", "expected a duration");
    }
    expect_err(RECV PIPE_FILE "  shutdown_timeout: 2h\n", "t.yaml:10:21:", "between 0 and 3600000");
    expect_err(RECV "exporters:\n  file:\n    batch:\n      timeout: 0ms\n" PIPE_FILE,
               "t.yaml:8:16: exporters.file.batch.timeout:", "between 1 and 60000");
}

static void test_log_level(void **state)
{
    struct xb_config *cfg = parse_ok(RECV PIPE_FILE "  telemetry:\n    logs:\n      level: Warn\n");

    assert_string_equal(cfg->log_level, "warn");
    xb_config_free(cfg);
    expect_err(RECV PIPE_FILE "  telemetry:\n    logs:\n      level: verbose\n",
               "t.yaml:12:14: service.telemetry.logs.level:", "debug, info, warn, error");
}

static void test_env_expansion(void **state)
{
    struct xb_config *cfg;

    setenv("XB_TEST_REGION", "ap-south-1", 1);
    setenv("XB_TEST_PORT", "5555", 1);
    setenv("XB_TEST_ATTR", "tenant", 1);
    setenv("XB_TEST_WORKERS", "4", 1);
    unsetenv("XB_TEST_UNSET");
    cfg = parse_ok(RECV "        endpoint: localhost:${XB_TEST_PORT}\n"
                        "exporters:\n"
                        "  awsxray:\n"
                        "    region: ${env:XB_TEST_REGION}\n"
                        "    role_arn: x${env:XB_TEST_UNSET}y\n"
                        "    resource_arn: ${env:XB_TEST_UNSET:-fallback-arn}\n"
                        "    proxy_address: $${env:XB_TEST_REGION} ${notclosed\n"
                        "    num_workers: ${env:XB_TEST_WORKERS}\n"
                        "    indexed_attributes: [\"${XB_TEST_ATTR}.id\", plain]\n"
                        "  file:\n"
                        "    path: /tmp/${env:XB_TEST_UNSET}out.jsonl\n" PIPE_FILE);
    assert_string_equal(cfg->grpc.endpoint, "localhost:5555");
    assert_string_equal(cfg->awsxray.region, "ap-south-1");
    assert_string_equal(cfg->awsxray.role_arn, "xy");
    assert_string_equal(cfg->awsxray.resource_arn, "fallback-arn");
    assert_string_equal(cfg->awsxray.proxy_address, "${env:XB_TEST_REGION} ${notclosed");
    assert_int_equal(cfg->awsxray.num_workers, 4);
    assert_string_equal(cfg->translate.indexed_attributes[0], "tenant.id");
    assert_string_equal(cfg->file.path, "/tmp/out.jsonl");
    xb_config_free(cfg);

    /* unset -> empty: region becomes "not set"; an integer becomes an error */
    cfg = parse_ok(RECV "exporters:\n  awsxray:\n    region: ${env:XB_TEST_UNSET}\n" PIPE_XRAY);
    assert_null(cfg->awsxray.region);
    xb_config_free(cfg);
    expect_err(RECV "exporters:\n  awsxray:\n    num_workers: ${XB_TEST_UNSET}\n" PIPE_XRAY,
               "t.yaml:7:18: exporters.awsxray.num_workers:", "non-negative integer");
}

static void test_translation_key_conflict(void **state)
{
    expect_err(RECV "exporters:\n"
                    "  awsxray:\n"
                    "    index_all_attributes: true\n"
                    "  file:\n"
                    "    index_all_attributes: false\n" PIPE_FILE,
               "t.yaml:9:27: exporters.file.index_all_attributes:",
               "conflicts with exporters.awsxray.index_all_attributes (line 7)");
    expect_err(RECV "exporters:\n"
                    "  file:\n"
                    "    indexed_attributes: [a]\n"
                    "  awsxray:\n"
                    "    indexed_attributes: [a, b]\n" PIPE_FILE,
               "t.yaml:9:25: exporters.awsxray.indexed_attributes:",
               "conflicts with exporters.file.indexed_attributes");
}

static void test_translation_keys_equal_or_file_only(void **state)
{
    struct xb_config *cfg = parse_ok(RECV "exporters:\n"
                                          "  awsxray:\n"
                                          "    indexed_attributes: [a, b]\n"
                                          "    max_document_bytes: 5000\n"
                                          "  file:\n"
                                          "    indexed_attributes: [a, b]\n"
                                          "    allow_dot_in_annotation_keys: no\n" PIPE_FILE);

    assert_int_equal(cfg->translate.n_indexed_attributes, 2);
    assert_string_equal(cfg->translate.indexed_attributes[1], "b");
    assert_false(cfg->translate.allow_dot_in_annotation_keys);
    assert_int_equal(cfg->translate.max_document_bytes, 5000);
    assert_false(cfg->awsxray.enabled); /* configured but not in the pipeline */
    xb_config_free(cfg);
}

static void test_max_document_bytes_xray_limit(void **state)
{
    struct xb_config *cfg;

    expect_err(RECV "exporters:\n  file:\n    max_document_bytes: 100000\n"
                    "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
                    "      exporters: [file, awsxray]\n",
               "t.yaml:7:25: exporters.file.max_document_bytes:", "X-Ray's document limit");
    cfg = parse_ok(RECV "exporters:\n  file:\n    max_document_bytes: 100000\n" PIPE_FILE);
    assert_int_equal(cfg->translate.max_document_bytes, 100000);
    xb_config_free(cfg);
}

/* ------------------------------------------------------------ pipeline --- */

static void test_pipeline_missing_or_empty(void **state)
{
    expect_err(RECV, "t.yaml:1:1: service.pipelines.traces:", "missing");
    expect_err(RECV "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
                    "      exporters: []\n",
               "t.yaml:9:18: service.pipelines.traces.exporters:", "at least one exporter");
    expect_err(RECV "service:\n  pipelines:\n    traces:\n      exporters: [file]\n",
               "t.yaml:7:5: service.pipelines.traces.receivers:", "at least one receiver");
    expect_err(RECV "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
                    "      exporters: [file, file]\n",
               "t.yaml:9:18: service.pipelines.traces.exporters:", "\"file\" is listed twice");
    expect_err(RECV "service:\n  pipelines:\n    metrics:\n      receivers: [otlp]\n",
               "t.yaml:7:5: service.pipelines.metrics:", "unknown pipeline");
}

static void test_pipeline_receiver_rules(void **state)
{
    expect_err(PIPE_FILE, "t.yaml:4:18: receivers.otlp:", "not configured under receivers");
    expect_err("receivers:\n  otlp:\n" PIPE_FILE,
               "t.yaml:2:3: receivers.otlp.protocols:", "at least one protocol");
    expect_err("receivers:\n  otlp:\n    protocols: {}\n" PIPE_FILE,
               "t.yaml:2:3: receivers.otlp.protocols:", "at least one protocol");
    expect_err(RECV "      http:\n        endpoint: localhost:4317\n" PIPE_FILE,
               "t.yaml:5:7: receivers.otlp.protocols.http.endpoint:", "same address");
}

static void test_pipeline_protocol_enablement(void **state)
{
    struct xb_config *cfg =
        parse_ok("receivers:\n  otlp:\n    protocols:\n      http: {}\n" PIPE_FILE);

    assert_false(cfg->grpc.enabled);
    assert_true(cfg->http.enabled);
    assert_string_equal(cfg->http.endpoint, "localhost:4318");
    xb_config_free(cfg);

    cfg = parse_ok("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: "
                   "localhost:0\n      http:\n        endpoint: localhost:0\n" PIPE_FILE);
    assert_true(cfg->grpc.enabled);
    assert_true(cfg->http.enabled);
    xb_config_free(cfg);
}

/* receivers.awsxray (X-Ray daemon protocol): enabled by the pipeline, defaults without a
 * section, only udp. */
static void test_pipeline_awsxray_receiver(void **state)
{
    struct xb_config *cfg = parse_ok(RECV "service:\n  pipelines:\n    traces:\n"
                                          "      receivers: [otlp, awsxray]\n"
                                          "      exporters: [file]\n");

    assert_true(cfg->xray_udp.enabled);
    assert_true(cfg->grpc.enabled);
    assert_string_equal(cfg->xray_udp.endpoint, "localhost:2000");
    assert_string_equal(cfg->xray_udp.transport, "udp");
    assert_int_equal(cfg->xray_udp.socket_buffer_size, 4u << 20);
    xb_config_free(cfg);

    cfg = parse_ok("receivers:\n  awsxray:\n    endpoint: 127.0.0.1:0\n"
                   "    socket_buffer_size: 1MiB\n" PIPE_FILE_AWSXRAY);
    assert_true(cfg->xray_udp.enabled);
    assert_false(cfg->grpc.enabled);
    assert_false(cfg->http.enabled);
    assert_string_equal(cfg->xray_udp.endpoint, "127.0.0.1:0");
    assert_int_equal(cfg->xray_udp.socket_buffer_size, 1u << 20);
    xb_config_free(cfg);

    cfg = parse_ok(RECV PIPE_FILE); /* section absent and not listed: off */
    assert_false(cfg->xray_udp.enabled);
    xb_config_free(cfg);

    expect_err("receivers:\n  awsxray:\n    transport: tcp\n" PIPE_FILE_AWSXRAY,
               "receivers.awsxray.transport:", "only udp");
}

static void test_pipeline_exporter_defaults_and_enablement(void **state)
{
    /* awsxray in the pipeline without a section: defaults; file configured but unused */
    struct xb_config *cfg = parse_ok(RECV "exporters:\n  file:\n    path: /tmp/x\n" PIPE_XRAY);

    assert_true(cfg->awsxray.enabled);
    assert_null(cfg->awsxray.region);
    assert_int_equal(cfg->awsxray.num_workers, 8);
    assert_false(cfg->file.enabled);
    assert_string_equal(cfg->file.path, "/tmp/x");
    xb_config_free(cfg);

    cfg = parse_ok(RECV PIPE_FILE);
    assert_true(cfg->file.enabled);
    assert_string_equal(cfg->file.path, "./xraybridge-segments.jsonl");
    assert_false(cfg->awsxray.enabled);
    xb_config_free(cfg);
}

/* ------------------------------------------------------------ YAML level --- */

static void test_yaml_syntax_error(void **state)
{
    expect_err(RECV "        endpoint: [unclosed\n" PIPE_FILE, "t.yaml:", "YAML syntax error");
    expect_err("receivers:\n\totlp: {}\n", "t.yaml:2:", "YAML syntax error");
}

static void test_duplicate_key(void **state)
{
    expect_err(
        RECV "        endpoint: localhost:1\n        endpoint: localhost:2\n" PIPE_FILE,
        "t.yaml:6:9: receivers.otlp.protocols.grpc.endpoint:", "duplicate key (first at line 5)");
}

static void test_document_shape_errors(void **state)
{
    expect_err("", "t.yaml:1:1: service.pipelines.traces:", "configuration is empty");
    expect_err("- a\n- b\n", "t.yaml:1:1: (top level):", "expected a mapping");
    expect_err(RECV PIPE_FILE "---\nfoo: 1\n", "t.yaml:10:1:", "only one YAML document");
    expect_err(RECV PIPE_FILE "? [a, b]\n: 1\n",
               "t.yaml:10:3: (top level):", "keys must be plain strings");
    expect_err(RECV "        otlp.protocols: {}\n" PIPE_FILE, "t.yaml:5:9:", "unknown key");
}

static void test_telemetry_and_anchors_accepted(void **state)
{
    struct xb_config *cfg =
        parse_ok(RECV "exporters:\n  awsxray:\n    telemetry:\n      enabled: true\n"
                      "    sending_queue: &q {max_documents: 42}\n"
                      "  file:\n    sending_queue: *q\n"
                      "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n"
                      "      exporters: [awsxray, file]\n");

    assert_int_equal(cfg->awsxray.queue.max_documents, 42);
    assert_int_equal(cfg->file.queue.max_documents, 42);
    xb_config_free(cfg);
}

static void test_compat_keys_warn(void **state)
{
    static const char *const warned[] = {
        "t.yaml:9:18: exporters.awsxray.max_retries",
        "t.yaml:10:17: exporters.awsxray.local_mode",
        "t.yaml:11:19: exporters.awsxray.resource_arn",
        "t.yaml:12:16: exporters.awsxray.telemetry",
        "t.yaml:15:31: extensions.health_check.check_collector_pipeline",
    };
    struct xb_config *cfg = NULL;
    char log[4096], want[256];

    assert_int_equal(parse_logged(RECV "      http:\n        max_connections: 10\n"
                                       "exporters:\n  awsxray:\n"
                                       "    max_retries: 3\n"
                                       "    local_mode: true\n"
                                       "    resource_arn: arn:x\n"
                                       "    telemetry: {enabled: true}\n"
                                       "extensions:\n  health_check:\n"
                                       "    check_collector_pipeline: {enabled: true}\n" PIPE_XRAY,
                                  &cfg, log, sizeof(log)),
                     XB_OK);
    for (size_t i = 0; i < sizeof(warned) / sizeof(warned[0]); i++) {
        snprintf(want, sizeof(want), "%s is accepted for compatibility and has no effect\n",
                 warned[i]);
        if (strstr(log, want) == NULL)
            print_error("missing warning \"%s\" in log:\n%s", want, log);
        assert_non_null(strstr(log, want));
    }
    assert_int_equal(cfg->awsxray.max_retries, 3); /* still parsed and range-checked */
    /* http.max_connections is enforced now: parsed, and no compatibility warning */
    assert_int_equal(cfg->http.max_connections, 10);
    assert_null(strstr(log, "http.max_connections is accepted"));
    xb_config_free(cfg);

    /* keys that have an effect, and compat keys left at their default, are silent */
    assert_int_equal(parse_logged(RECV "exporters:\n  awsxray:\n    num_workers: 2\n" PIPE_XRAY,
                                  &cfg, log, sizeof(log)),
                     XB_OK);
    assert_string_equal(log, "");
    xb_config_free(cfg);
}

/* ------------------------------------------------------------ telemetry --- */

static void test_telemetry_embedded_default_enables_both(void **state)
{
    struct xb_config *cfg = NULL;

    assert_int_equal(xb_config_load_default(&cfg, errbuf, sizeof(errbuf)), XB_OK);
    assert_true(cfg->metrics.enabled);
    assert_string_equal(cfg->metrics.address, "localhost:8888");
    assert_string_equal(cfg->metrics.level, "normal");
    assert_true(cfg->health_check.enabled);
    assert_string_equal(cfg->health_check.endpoint, "localhost:13133");
    assert_int_equal(cfg->health_check.exporter_failure_threshold_ms, 5 * 60 * 1000);
    xb_config_free(cfg);
}

static void test_telemetry_defaults_when_keys_absent(void **state)
{
    struct xb_config *cfg = parse_ok(RECV PIPE_FILE);

    /* metrics are on by default (collector behaviour); health_check needs listing */
    assert_true(cfg->metrics.enabled);
    assert_string_equal(cfg->metrics.address, "localhost:8888");
    assert_false(cfg->health_check.enabled);
    assert_string_equal(cfg->health_check.endpoint, "localhost:13133");
    xb_config_free(cfg);

    /* a section that is not listed in service.extensions stays off */
    cfg = parse_ok(RECV "extensions:\n  health_check:\n    endpoint: 127.0.0.1:1\n" PIPE_FILE);
    assert_false(cfg->health_check.enabled);
    assert_string_equal(cfg->health_check.endpoint, "127.0.0.1:1");
    xb_config_free(cfg);
}

/* extensions.viewer: on in the embedded default, keys and bounds, off unless listed. */
static void test_viewer_extension(void **state)
{
    struct xb_config *cfg = NULL;

    assert_int_equal(xb_config_load_default(&cfg, errbuf, sizeof(errbuf)), XB_OK);
    assert_true(cfg->viewer.enabled);
    assert_string_equal(cfg->viewer.endpoint, "localhost:4319");
    assert_int_equal(cfg->viewer.max_traces, 1000);
    assert_int_equal(cfg->viewer.max_bytes, 32 << 20);
    xb_config_free(cfg);

    cfg = parse_ok(RECV "extensions:\n  viewer:\n    endpoint: 127.0.0.1:0\n    max_traces: 5\n"
                        "    max_bytes: 1MiB\n" PIPE_FILE);
    assert_false(cfg->viewer.enabled); /* not listed in service.extensions */
    assert_int_equal(cfg->viewer.max_traces, 5);
    assert_int_equal(cfg->viewer.max_bytes, 1 << 20);
    xb_config_free(cfg);

    cfg = parse_ok(RECV "service:\n  extensions: [viewer]\n  pipelines:\n    traces:\n"
                        "      receivers: [otlp]\n      exporters: [file]\n"
                        "exporters:\n  file:\n    path: /tmp/x\n");
    assert_true(cfg->viewer.enabled);
    assert_false(cfg->health_check.enabled);
    xb_config_free(cfg);

    expect_err(RECV "extensions:\n  viewer:\n    max_traces: 0\n" PIPE_FILE,
               "extensions.viewer.max_traces", NULL);
    expect_err(RECV "extensions:\n  viewer:\n    colour: red\n" PIPE_FILE,
               "extensions.viewer.colour", "unknown key");
}

static void test_metrics_address_and_level(void **state)
{
    struct xb_config *cfg;

    cfg = parse_ok(RECV PIPE_FILE "  telemetry:\n    metrics:\n      address: \"\"\n");
    assert_false(cfg->metrics.enabled);
    assert_null(cfg->metrics.address);
    xb_config_free(cfg);

    cfg = parse_ok(RECV PIPE_FILE "  telemetry:\n    metrics:\n      level: None\n");
    assert_false(cfg->metrics.enabled);
    assert_string_equal(cfg->metrics.level, "none");
    assert_string_equal(cfg->metrics.address, "localhost:8888");
    xb_config_free(cfg);

    cfg = parse_ok(RECV PIPE_FILE "  telemetry:\n    metrics:\n      level: DETAILED\n"
                                  "      address: 127.0.0.1:0\n");
    assert_true(cfg->metrics.enabled);
    assert_string_equal(cfg->metrics.level, "detailed");
    assert_string_equal(cfg->metrics.address, "127.0.0.1:0");
    xb_config_free(cfg);

    expect_err(RECV PIPE_FILE "  telemetry:\n    metrics:\n      level: verbose\n",
               "t.yaml:12:14: service.telemetry.metrics.level:",
               "must be one of none, basic, normal, detailed");
    expect_err(RECV PIPE_FILE "  telemetry:\n    metrics:\n      address: 8888\n",
               "t.yaml:12:16: service.telemetry.metrics.address:", "expected host:port");
    expect_err(RECV PIPE_FILE "  telemetry:\n    metrics:\n      readers: []\n",
               "t.yaml:12:7: service.telemetry.metrics.readers:", "unknown key");
}

static void test_health_check_extension(void **state)
{
    struct xb_config *cfg;

    cfg = parse_ok(RECV "extensions:\n  health_check:\n    endpoint: 0.0.0.0:13134\n"
                        "    exporter_failure_threshold: 1m30s\n"
                        "    check_collector_pipeline: {enabled: true, interval: 5m}\n" PIPE_FILE
                        "  extensions: [health_check]\n");
    assert_true(cfg->health_check.enabled);
    assert_string_equal(cfg->health_check.endpoint, "0.0.0.0:13134");
    assert_int_equal(cfg->health_check.exporter_failure_threshold_ms, 90000);
    xb_config_free(cfg);

    /* listed without a section: defaults; threshold 0 allowed */
    cfg = parse_ok(RECV PIPE_FILE "  extensions: [health_check]\n");
    assert_true(cfg->health_check.enabled);
    assert_string_equal(cfg->health_check.endpoint, "localhost:13133");
    xb_config_free(cfg);
    cfg =
        parse_ok(RECV "extensions:\n  health_check:\n    exporter_failure_threshold: 0\n" PIPE_FILE
                      "  extensions: [health_check]\n");
    assert_int_equal(cfg->health_check.exporter_failure_threshold_ms, 0);
    xb_config_free(cfg);

    expect_err(RECV PIPE_FILE "  extensions: [health_check, jaegerremotesampling]\n",
               "t.yaml:10:15: service.extensions:", "unknown extension \"jaegerremotesampling\"");
    expect_err(RECV PIPE_FILE "  extensions: [health_check, health_check]\n",
               "t.yaml:10:15: service.extensions:", "listed twice");
    expect_err(RECV "extensions:\n  oauth2client:\n" PIPE_FILE,
               "t.yaml:6:3: extensions.oauth2client:",
               "unknown extension \"oauth2client\" (supported: health_check");
    expect_err(RECV "extensions:\n  health_check:\n    exporter_failure_threshold: 25h\n" PIPE_FILE,
               "t.yaml:7:33: extensions.health_check.exporter_failure_threshold:",
               "must be between 0 and 86400000");
    expect_err(RECV "extensions:\n  health_check:\n    path: /health/status\n" PIPE_FILE,
               "t.yaml:7:5: extensions.health_check.path:", "unknown key");
}

static void test_file_storage_extension(void **state)
{
    struct xb_config *cfg;
    (void)state;

    /* defaults, and the storage reference of both exporters */
    cfg = parse_ok(RECV "exporters:\n  file:\n    sending_queue: {storage: file_storage}\n"
                        "extensions:\n  file_storage:\n    directory: /var/q\n" PIPE_FILE
                        "  extensions: [file_storage]\n");
    assert_true(cfg->file_storage.enabled);
    assert_string_equal(cfg->file_storage.directory, "/var/q");
    assert_true(cfg->file_storage.fsync);
    assert_int_equal(cfg->file_storage.fsync_interval_ms, 1000);
    assert_int_equal(cfg->file_storage.timeout_ms, 1000);
    assert_int_equal(cfg->file_storage.max_size, (size_t)1 << 30);
    assert_int_equal(cfg->file_storage.segment_size, (size_t)8 << 20);
    assert_int_equal(cfg->file_storage.read_ahead, (size_t)4 << 20);
    assert_string_equal(cfg->file.queue.storage, "file_storage");
    assert_null(cfg->awsxray.queue.storage);
    xb_config_free(cfg);

    cfg = parse_ok(RECV "extensions:\n  file_storage:\n    directory: /q\n    fsync: false\n"
                        "    fsync_interval: 250ms\n    max_size: 64KiB\n"
                        "    compaction: {on_start: true}\n" PIPE_FILE
                        "  extensions: [file_storage]\n");
    assert_false(cfg->file_storage.fsync);
    assert_int_equal(cfg->file_storage.fsync_interval_ms, 250);
    assert_int_equal(cfg->file_storage.max_size, 65536);
    xb_config_free(cfg);

    expect_err(RECV "exporters:\n  file:\n    sending_queue: {storage: file_storage}\n" PIPE_FILE,
               "t.yaml:7:30: exporters.file.sending_queue.storage:",
               "file_storage is not listed in service.extensions");
    expect_err(RECV "exporters:\n  file:\n    sending_queue: {storage: db_storage}\n" PIPE_FILE,
               "exporters.file.sending_queue.storage:", "unknown storage extension \"db_storage\"");
    expect_err(RECV PIPE_FILE "  extensions: [file_storage]\n",
               "t.yaml:10:15: extensions.file_storage.directory:", "required");
    expect_err(RECV
               "extensions:\n  file_storage:\n    directory: /q\n    max_size: 1KiB\n" PIPE_FILE,
               "extensions.file_storage.max_size:", "must be between");
}

static void test_telemetry_address_clashes(void **state)
{
    struct xb_config *cfg;

    /* metrics on the gRPC receiver's address (RECV's grpc uses localhost:4317) */
    expect_err(RECV PIPE_FILE "  telemetry:\n    metrics:\n      address: localhost:4317\n",
               "t.yaml:12:16: service.telemetry.metrics.address:",
               "same address as an OTLP receiver endpoint (localhost:4317)");
    /* health on the metrics address */
    expect_err(RECV "extensions:\n  health_check:\n    endpoint: localhost:8888\n" PIPE_FILE
                    "  extensions: [health_check]\n",
               "t.yaml:7:15: extensions.health_check.endpoint:",
               "same address as service.telemetry.metrics.address (localhost:8888)");
    /* not a clash: the metrics endpoint is off, or port 0 */
    cfg = parse_ok(RECV "extensions:\n  health_check:\n    endpoint: localhost:8888\n" PIPE_FILE
                        "  extensions: [health_check]\n"
                        "  telemetry:\n    metrics:\n      level: none\n");
    assert_true(cfg->health_check.enabled);
    xb_config_free(cfg);
    cfg = parse_ok(RECV "extensions:\n  health_check:\n    endpoint: 127.0.0.1:0\n" PIPE_FILE
                        "  extensions: [health_check]\n"
                        "  telemetry:\n    metrics:\n      address: 127.0.0.1:0\n");
    assert_true(cfg->metrics.enabled);
    xb_config_free(cfg);
}

/* ------------------------------------------------------------ files --- */

static void test_load_file(void **state)
{
    char path[] = "/tmp/xb_test_config_XXXXXX";
    int fd = mkstemp(path);
    struct xb_config *cfg = NULL;
    const char *bad = RECV "        endpoint: nope\n" PIPE_FILE;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_int_equal(xb_config_load_file(path, &cfg, errbuf, sizeof(errbuf)), XB_ERR_CONFIG);
    assert_null(cfg);
    assert_ptr_equal(strstr(errbuf, path), errbuf); /* message starts with the file name */
    assert_non_null(strstr(errbuf, ":5:19: receivers.otlp.protocols.grpc.endpoint:"));
    unlink(path);

    assert_int_equal(xb_config_load_file("/nonexistent/xb.yaml", &cfg, errbuf, sizeof(errbuf)),
                     XB_ERR_IO);
    assert_null(cfg);
    assert_non_null(strstr(errbuf, "/nonexistent/xb.yaml"));
}

static void test_shipped_yaml_files_parse(void **state)
{
    struct xb_config *cfg = NULL;

    setenv("AWS_REGION", "us-east-2", 1);
    assert_int_equal(
        xb_config_load_file(SRC_ROOT "/examples/config-xray.yaml", &cfg, errbuf, sizeof(errbuf)),
        XB_OK);
    assert_true(cfg->awsxray.enabled);
    assert_string_equal(cfg->awsxray.region, "us-east-2");
    assert_string_equal(cfg->grpc.endpoint, "0.0.0.0:4317");
    assert_true(cfg->translate.n_indexed_attributes > 0);
    assert_true(cfg->health_check.enabled);
    assert_string_equal(cfg->health_check.endpoint, "0.0.0.0:13133");
    assert_true(cfg->metrics.enabled);
    assert_string_equal(cfg->metrics.address, "0.0.0.0:8888");
    xb_config_free(cfg);

    assert_int_equal(
        xb_config_load_file(SRC_ROOT "/config/default.yaml", &cfg, errbuf, sizeof(errbuf)), XB_OK);
    assert_true(cfg->file.enabled);
    xb_config_free(cfg);
}

/* ------------------------------------------------------------ table/docs --- */

static void test_option_table_consistent(void **state)
{
    size_t n;
    const struct xb_config_option *opts = xb_config_options(&n);

    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(xb_config_option_find(opts[i].path), &opts[i]); /* unique paths */
        assert_non_null(opts[i].doc);
        assert_true(opts[i].min <= opts[i].max || opts[i].max == 0);
        if (opts[i].type == XB_OPT_IGNORED) /* ignored keys must be warned about */
            assert_true(opts[i].flags & XB_OPT_F_COMPAT);
    }
    assert_null(xb_config_option_find("exporters.awsxray"));
}

static void test_docs_cover_every_key(void **state)
{
    char *doc = read_file(SRC_ROOT "/docs/configuration.md");
    size_t n;
    const struct xb_config_option *opts = xb_config_options(&n);

    for (size_t i = 0; i < n; i++) {
        /* documented as `full.dotted.path` */
        char needle[300];
        snprintf(needle, sizeof(needle), "`%s`", opts[i].path);
        if (strstr(doc, needle) == NULL)
            print_error("docs/configuration.md does not document %s\n", opts[i].path);
        assert_non_null(strstr(doc, needle));
    }
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_embedded_matches_file),
        cmocka_unit_test(test_default_values),
        cmocka_unit_test(test_free_null_is_noop),
        cmocka_unit_test(test_full_config_every_key),
        cmocka_unit_test(test_unknown_top_level_key),
        cmocka_unit_test(test_unknown_nested_key),
        cmocka_unit_test(test_unknown_receiver_and_exporter_ids),
        cmocka_unit_test(test_wrong_type_list_for_scalar),
        cmocka_unit_test(test_wrong_type_integer),
        cmocka_unit_test(test_wrong_type_bool),
        cmocka_unit_test(test_bool_spellings),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_awsxray_endpoint_and_region),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_log_level),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_translation_key_conflict),
        cmocka_unit_test(test_translation_keys_equal_or_file_only),
        cmocka_unit_test(test_max_document_bytes_xray_limit),
        cmocka_unit_test(test_pipeline_missing_or_empty),
        cmocka_unit_test(test_pipeline_receiver_rules),
        cmocka_unit_test(test_pipeline_protocol_enablement),
        cmocka_unit_test(test_pipeline_awsxray_receiver),
        cmocka_unit_test(test_pipeline_exporter_defaults_and_enablement),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_document_shape_errors),
        cmocka_unit_test(test_telemetry_and_anchors_accepted),
        cmocka_unit_test(test_compat_keys_warn),
        cmocka_unit_test(test_telemetry_embedded_default_enables_both),
        cmocka_unit_test(test_telemetry_defaults_when_keys_absent),
        cmocka_unit_test(test_viewer_extension),
        cmocka_unit_test(test_metrics_address_and_level),
        cmocka_unit_test(test_health_check_extension),
        cmocka_unit_test(test_file_storage_extension),
        cmocka_unit_test(test_telemetry_address_clashes),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_shipped_yaml_files_parse),
        cmocka_unit_test(test_option_table_consistent),
        cmocka_unit_test(test_docs_cover_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
