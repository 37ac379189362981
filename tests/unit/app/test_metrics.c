/*
 * tests/unit/app/test_metrics.c - core/metrics.c: the Prometheus text rendering of the
 * families the receivers and exporters register, as the metrics endpoint renders them.
 *
 * Lives with the telemetry tests because /metrics is its only consumer. The format
 * checker below validates every line against the text exposition format 0.0.4 rules we
 * rely on (HELP/TYPE before samples, valid names, counters ending in _total).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/metrics.h"
#include "exporter/exporter_metrics.h"
#include "receiver/awsxray_udp.h"
#include "receiver/receiver_metrics.h"

static const struct xb_metrics_queue two_queues[] = {
    {.exporter = "awsxray",
     .docs = 7,
     .bytes = 7000,
     .capacity_docs = 1000000,
     .capacity_bytes = 134217728},
    {.exporter = "file", .docs = 0, .bytes = 0, .capacity_docs = 10, .capacity_bytes = 2048},
};

static char *render(const struct xb_metrics_queue *q, size_t n)
{
    struct xb_buf b;
    char *s;

    xb_buf_init(&b, 0);
    assert_int_equal(xb_metrics_render(&b, q, n), XB_OK);
    s = xb_buf_steal(&b, NULL);
    assert_non_null(s);
    return s;
}

/* Asserts that |text| contains the line |line| (without its newline). */
static void has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *p = text;

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
        p += n;
    }
    print_error("missing line: %s\n", line);
    fail();
}

static int is_name_char(char c, int first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/*
 * Checks every line of |text|: "# HELP name text", "# TYPE name counter|gauge" (HELP
 * first, once per family), then samples "name[{k="v",...}] <number>" of the family just
 * declared; counter names end in _total. Returns the number of samples.
 */
static int check_format(const char *text)
{
    char family[128] = "", type[16] = "";
    int samples = 0, lineno = 0;
    const char *p = text;

    assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        char line[512], name[128];
        size_t len, i = 0;

        assert_non_null(eol);
        len = (size_t)(eol - p);
        assert_true(len < sizeof(line));
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol + 1;
        lineno++;
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_true(sscanf(line + 7, "%127s", name) == 1);
            assert_string_not_equal(name, family); /* one HELP per family */
            snprintf(family, sizeof(family), "%s", name);
            type[0] = '\0';
            assert_true(strlen(line) > 8 + strlen(name)); /* has help text */
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            assert_true(sscanf(line + 7, "%127s %15s", name, type) == 2);
            assert_string_equal(name, family);
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
            if (strcmp(type, "counter") == 0) {
                size_t nl = strlen(name);
                if (nl < 6 || strcmp(name + nl - 6, "_total") != 0)
                    print_error("line %d: counter %s does not end in _total\n", lineno, name);
                assert_true(nl >= 6 && strcmp(name + nl - 6, "_total") == 0);
            }
            continue;
        }
        assert_true(line[0] != '#');
        assert_true(type[0] != '\0'); /* sample after its TYPE line */
        while (is_name_char(line[i], i == 0))
            i++;
        assert_true(i > 0);
        assert_int_equal(strncmp(line, family, i), 0);
        assert_int_equal(family[i], '\0');
        if (line[i] == '{') {
            /* k="v" pairs separated by ',' */
            i++;
            for (;;) {
                size_t k = i;
                while (is_name_char(line[i], i == k) && line[i] != ':')
                    i++;
                assert_true(i > k);
                assert_int_equal(line[i++], '=');
                assert_int_equal(line[i++], '"');
                while (line[i] != '"') {
                    assert_true(line[i] != '\0' && line[i] != '\\');
                    i++;
                }
                i++;
                if (line[i] == ',') {
                    i++;
                    continue;
                }
                assert_int_equal(line[i++], '}');
                break;
            }
        }
        assert_int_equal(line[i++], ' ');
        assert_true(isdigit((unsigned char)line[i]));
        while (isdigit((unsigned char)line[i]) || line[i] == '.')
            i++;
        assert_int_equal(line[i], '\0');
        samples++;
    }
    return samples;
}

static int setup(void **state)
{
    xb_receiver_metrics_register(); /* as the metrics endpoint does at start-up */
    xb_exporter_metrics_register();
    xb_xray_udp_metrics_register(); /* registers families named like the otlp receiver's */
    xb_metrics_reset();
    return 0;
}

static void test_render_format_is_valid(void **state)
{
    char *s = render(two_queues, 2);
    int n = check_format(s);

    /* 7 receiver families x 2 transports, 2 translator counters, sent and failed x 4
     * exporters (awsxray, file, otlphttp, loadbalancing), 4 awsxray counters, 4 error codes,
     * 3 reasons, 3 credential samples, 4 queue families x 2 exporters, connection gauge x 2
     * transports, 6 connection refusal reasons x 2 transports, timed-out requests and
     * in-flight bytes x 2 transports, 13 request refusal reasons x 2 transports, the X-Ray
     * daemon receiver's accepted and refused spans and 6 drop reasons */
    assert_int_equal(n, 14 + 2 + 8 + 4 + 4 + 3 + 3 + 8 + 2 + 12 + 2 + 2 + 26 + 2 + 6);
    free(s);
}

static void test_render_values_and_labels(void **state)
{
    char *s;

    xb_receiver_metrics.accepted_spans[XB_TRANSPORT_GRPC] = 11;
    xb_receiver_metrics.accepted_spans[XB_TRANSPORT_HTTP] = 12;
    xb_receiver_metrics.refused_spans[XB_TRANSPORT_HTTP] = 3;
    xb_receiver_metrics.documents_trimmed = 5;
    xb_exporter_metrics.sent_documents[XB_EXPORTER_AWSXRAY] = 100;
    xb_exporter_metrics.send_failed_documents[XB_EXPORTER_AWSXRAY] = 2;
    xb_exporter_metrics.sent_documents[XB_EXPORTER_FILE] = 7;
    xb_exporter_metrics.export_requests = 9;
    xb_exporter_metrics.export_request_errors = 4;
    xb_exporter_metrics.export_retries = 3;
    xb_exporter_metrics.export_throttled = 2;
    xb_exporter_metrics.rejected_documents[XB_REJECT_HTTP_4XX] = 21;
    xb_exporter_metrics.rejected_documents[XB_REJECT_UNPROCESSED_NON_RETRYABLE] = 22;
    xb_exporter_metrics.rejected_documents[XB_REJECT_GIVEN_UP_MAX_ELAPSED] = 24;
    xb_exporter_metrics.credential_refreshes = 6;
    xb_exporter_metrics.credential_refresh_failures = 1;
    xb_exporter_metrics.credential_expiry_unix_s = 1700000000;
    xb_exporter_metrics.unprocessed_by_code[XB_UNPROCESSED_INVALID_TRACE_ID] = 2;
    xb_exporter_metrics.unprocessed_by_code[XB_UNPROCESSED_INVALID_SEGMENT] = 3;
    xb_exporter_metrics.unprocessed_by_code[XB_UNPROCESSED_THROTTLED] = 4;
    xb_exporter_metrics.unprocessed_by_code[XB_UNPROCESSED_OTHER] = 1;
    s = render(two_queues, 2);

    has_line(s, "# TYPE otelcol_receiver_accepted_spans_total counter");
    has_line(s, "otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"} 11");
    has_line(s, "otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"http\"} 12");
    has_line(s, "otelcol_receiver_refused_spans_total{receiver=\"otlp\",transport=\"http\"} 3");
    has_line(s, "xraybridge_translator_trimmed_documents_total 5");
    has_line(s, "otelcol_exporter_sent_spans_total{exporter=\"awsxray\"} 100");
    has_line(s, "otelcol_exporter_sent_spans_total{exporter=\"file\"} 7");
    has_line(s, "otelcol_exporter_send_failed_spans_total{exporter=\"awsxray\"} 2");
    has_line(s, "xraybridge_exporter_requests_total{exporter=\"awsxray\"} 9");
    has_line(s, "xraybridge_exporter_request_errors_total{exporter=\"awsxray\"} 4");
    has_line(s, "xraybridge_exporter_retries_total{exporter=\"awsxray\"} 3");
    has_line(s, "xraybridge_exporter_throttled_total{exporter=\"awsxray\"} 2");
    has_line(s, "xraybridge_exporter_unprocessed_documents_total{exporter=\"awsxray\","
                "error_code=\"InvalidTraceId\"} 2");
    has_line(s, "xraybridge_exporter_unprocessed_documents_total{exporter=\"awsxray\","
                "error_code=\"InvalidSegment\"} 3");
    has_line(s, "xraybridge_exporter_unprocessed_documents_total{exporter=\"awsxray\","
                "error_code=\"ThrottledException\"} 4");
    has_line(s, "xraybridge_exporter_unprocessed_documents_total{exporter=\"awsxray\","
                "error_code=\"other\"} 1");
    has_line(s, "xraybridge_exporter_rejected_documents_total{exporter=\"awsxray\","
                "reason=\"http_4xx\"} 21");
    has_line(s, "xraybridge_exporter_rejected_documents_total{exporter=\"awsxray\","
                "reason=\"unprocessed_non_retryable\"} 22");
    has_line(s, "xraybridge_exporter_rejected_documents_total{exporter=\"awsxray\","
                "reason=\"given_up_max_elapsed\"} 24");
    has_line(s, "xraybridge_credentials_refreshes_total 6");
    has_line(s, "xraybridge_credentials_refresh_failures_total 1");
    has_line(s, "# TYPE xraybridge_credentials_expiry_timestamp_seconds gauge");
    has_line(s, "xraybridge_credentials_expiry_timestamp_seconds 1700000000");
    has_line(s, "# TYPE otelcol_exporter_queue_size gauge");
    has_line(s, "otelcol_exporter_queue_size{exporter=\"awsxray\"} 7");
    has_line(s, "otelcol_exporter_queue_size{exporter=\"file\"} 0");
    has_line(s, "otelcol_exporter_queue_capacity{exporter=\"awsxray\"} 1000000");
    has_line(s, "otelcol_exporter_queue_capacity{exporter=\"file\"} 10");
    has_line(s, "xraybridge_exporter_queue_bytes{exporter=\"awsxray\"} 7000");
    has_line(s, "xraybridge_exporter_queue_capacity_bytes{exporter=\"awsxray\"} 134217728");
    has_line(s, "xraybridge_exporter_queue_capacity_bytes{exporter=\"file\"} 2048");
    check_format(s);
    free(s);
}

static void test_unprocessed_code_mapping(void **state)
{
    /* ErrorCode to bucket: tests/unit/exporter/test_outcome.c */
    assert_string_equal(xb_exporter_unprocessed_label(XB_UNPROCESSED_THROTTLED),
                        "ThrottledException");
    assert_string_equal(xb_exporter_unprocessed_label((enum xb_unprocessed_code)99), "other");
    assert_string_equal(xb_exporter_reject_label(XB_REJECT_GIVEN_UP_MAX_ELAPSED),
                        "given_up_max_elapsed");
    assert_string_equal(xb_exporter_reject_label((enum xb_reject_reason) - 1), "other");
}

static void test_render_without_queues(void **state)
{
    char *s = render(NULL, 3); /* NULL array: n ignored */

    has_line(s, "# TYPE otelcol_exporter_queue_size gauge");
    assert_null(strstr(s, "otelcol_exporter_queue_size{"));
    check_format(s);
    free(s);
}

/* The X-Ray daemon receiver's spans share the otlp receiver's families: one HELP/TYPE,
 * its sample right after theirs, every drop reason present from start-up. */
static void test_awsxray_udp_samples_join_receiver_families(void **state)
{
    char *s = render(NULL, 0);
    (void)state;
    check_format(s);
    assert_non_null(strstr(s, "otelcol_receiver_accepted_spans_total{receiver=\"otlp\","
                              "transport=\"http\"} 0\n"
                              "otelcol_receiver_accepted_spans_total{receiver=\"awsxray\","
                              "transport=\"udp\"} 0\n"));
    assert_ptr_equal(strstr(strstr(s, "# TYPE otelcol_receiver_accepted_spans_total") + 1,
                            "# TYPE otelcol_receiver_accepted_spans_total"),
                     NULL);
    has_line(s, "otelcol_receiver_refused_spans_total{receiver=\"awsxray\",transport=\"udp\"} 0");
    has_line(s, "xraybridge_receiver_udp_dropped_total{receiver=\"awsxray\",transport=\"udp\","
                "reason=\"kernel_overflow\"} 0");
    has_line(s, "xraybridge_receiver_udp_dropped_total{receiver=\"awsxray\",transport=\"udp\","
                "reason=\"bad_header\"} 0");
    free(s);
}

static void test_reset_zeroes_everything(void **state)
{
    const unsigned char *e = (const unsigned char *)&xb_exporter_metrics;
    const unsigned char *r = (const unsigned char *)&xb_receiver_metrics;

    xb_receiver_metrics.connections_refused[XB_TRANSPORT_HTTP][XB_CONN_REFUSED_TIMEOUT] = 5;
    xb_receiver_metrics.refused_requests[XB_TRANSPORT_GRPC][XB_REFUSAL_INTERNAL - 1] = 5;
    xb_receiver_metrics.documents_trimmed = 5;
    xb_exporter_metrics.export_retries = 5;
    xb_exporter_metrics.rejected_documents[XB_REJECT_HTTP_4XX] = 5;
    xb_exporter_metrics.credential_expiry_unix_s = 5;
    xb_metrics_reset();
    for (size_t i = 0; i < sizeof(xb_exporter_metrics); i++)
        assert_int_equal(e[i], 0);
    for (size_t i = 0; i < sizeof(xb_receiver_metrics); i++)
        assert_int_equal(r[i], 0);
}

/* Every rendered family is listed in docs/observability.md as `name`. */
static void test_docs_list_every_family(void **state)
{
    FILE *f = fopen(XB_TEST_DATA_DIR "/../../docs/observability.md", "rb");
    struct xb_buf doc;
    char chunk[4096], *s = render(two_queues, 2), *p = s, needle[160];
    size_t n, families = 0;

    assert_non_null(f);
    xb_buf_init(&doc, 0);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(xb_buf_append(&doc, chunk, n), XB_OK);
    fclose(f);
    assert_int_equal(xb_buf_putc(&doc, '\0'), XB_OK);
    while ((p = strstr(p, "# TYPE ")) != NULL) {
        p += 7;
        n = strcspn(p, " ");
        assert_true(n + 3 <= sizeof(needle));
        snprintf(needle, sizeof(needle), "`%.*s`", (int)n, p);
        if (strstr(doc.data, needle) == NULL)
            print_error("docs/observability.md does not list %s\n", needle);
        assert_non_null(strstr(doc.data, needle));
        families++;
    }
    assert_true(families >= 20);
    xb_buf_cleanup(&doc);
    free(s);
}

static void test_render_reports_nomem_on_capped_buffer(void **state)
{
    struct xb_buf b;

    xb_buf_init(&b, 256); /* far too small for the whole exposition */
    assert_int_equal(xb_metrics_render(&b, two_queues, 2), XB_ERR_NOMEM);
    assert_true(b.len <= 256);
    xb_buf_cleanup(&b);
}

/* A module's family: registered once, rendered in registration order with one sample
 * per label combination (last label fastest), reset with the rest, and invalid
 * declarations refused. Runs last: registration lasts for the process. */
static void test_registered_families(void **state)
{
    static const char *const color[] = {"red", "blue"};
    static const char *const size[] = {"s", "m", "l"};
    static const struct xb_metric_label labels[] = {{"color", color, 2}, {"size", size, 3}};
    static uint64_t v2[6], v0[1];
    static struct xb_metric_family two = {.name = "test_things_total",
                                          .help = "Things.",
                                          .type = XB_METRIC_COUNTER,
                                          .const_labels = "module=\"t\"",
                                          .labels = labels,
                                          .n_labels = 2,
                                          .values = v2};
    static struct xb_metric_family none = {
        .name = "test_level", .help = "A level.", .type = XB_METRIC_GAUGE, .values = v0};
    static uint64_t same_v[1];
    static struct xb_metric_family same = {.name = "test_things_total",
                                           .help = "Other things.",
                                           .type = XB_METRIC_COUNTER,
                                           .const_labels = "module=\"u\"",
                                           .values = same_v};
    struct xb_metric_family bad = {.name = "x_total", .help = "h", .values = v0, .n_labels = 1};
    char *s;

    assert_int_equal(xb_metrics_register(&bad), XB_ERR_INVALID); /* labels missing */
    bad.n_labels = XB_METRIC_MAX_LABELS + 1;
    bad.labels = labels;
    assert_int_equal(xb_metrics_register(&bad), XB_ERR_INVALID);
    bad.n_labels = 0;
    bad.values = NULL;
    assert_int_equal(xb_metrics_register(&bad), XB_ERR_INVALID);
    assert_int_equal(xb_metrics_register(NULL), XB_ERR_INVALID);

    assert_int_equal(xb_metric_family_size(&two), 6);
    assert_int_equal(xb_metrics_register(&two), XB_OK);
    assert_int_equal(xb_metrics_register(&two), XB_OK); /* again: no duplicate */
    assert_int_equal(xb_metrics_register(&none), XB_OK);
    assert_int_equal(xb_metrics_register(&same), XB_OK); /* joins test_things_total */
    same_v[0] = 5;
    v2[1 * 3 + 2] = 42; /* color=blue, size=l */
    v0[0] = 7;
    s = render(NULL, 0);
    check_format(s);
    has_line(s, "# HELP test_things_total Things.");
    has_line(s, "# TYPE test_things_total counter");
    has_line(s, "test_things_total{module=\"t\",color=\"red\",size=\"s\"} 0");
    has_line(s, "test_things_total{module=\"t\",color=\"blue\",size=\"l\"} 42");
    has_line(s, "# TYPE test_level gauge");
    has_line(s, "test_level 7");
    assert_non_null(strstr(s, "test_things_total{module=\"t\",color=\"red\",size=\"l\"} 0\n"
                              "test_things_total{module=\"t\",color=\"blue\",size=\"s\"} 0\n"));
    assert_true(strstr(s, "# TYPE test_things_total") < strstr(s, "# TYPE test_level"));
    /* a family of the same name registered later is rendered in the same group */
    assert_non_null(strstr(s, "test_things_total{module=\"t\",color=\"blue\",size=\"l\"} 42\n"
                              "test_things_total{module=\"u\"} 5\n"));
    /* in registration order, before the queue gauges */
    assert_true(strstr(s, "# TYPE xraybridge_credentials_expiry_timestamp_seconds") <
                strstr(s, "# TYPE test_things_total"));
    assert_true(strstr(s, "# TYPE test_level") < strstr(s, "# TYPE otelcol_exporter_queue_size"));
    assert_ptr_equal(strstr(strstr(s, "# TYPE test_things_total") + 1, "# TYPE test_things_total"),
                     NULL);
    free(s);
    xb_metrics_reset();
    assert_int_equal(same_v[0], 0);
    assert_int_equal(v2[5], 0);
    assert_int_equal(v0[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_render_format_is_valid, setup),
        cmocka_unit_test_setup(test_render_values_and_labels, setup),
        cmocka_unit_test_setup(test_unprocessed_code_mapping, setup),
        cmocka_unit_test_setup(test_render_without_queues, setup),
        cmocka_unit_test_setup(test_awsxray_udp_samples_join_receiver_families, setup),
        cmocka_unit_test_setup(test_reset_zeroes_everything, setup),
        cmocka_unit_test_setup(test_docs_list_every_family, setup),
        cmocka_unit_test_setup(test_render_reports_nomem_on_capped_buffer, setup),
        cmocka_unit_test_setup(test_registered_families, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
