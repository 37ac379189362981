/*
 * tests/unit/app/test_telemetry.c - app/telemetry.c: the /metrics and health endpoints,
 * driven in-process over real loopback HTTP with libevent's own HTTP client on the same
 * event loop. Each request runs the loop until its response arrives, bounded by a 5 s
 * timer (no sleeps).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "app/telemetry.h"
#include "core/err.h"
#include "core/metrics.h"
#include "exporter/exporter_metrics.h"
#include "receiver/receiver_metrics.h"

#define NS_PER_S ((uint64_t)1000000000)

/* ------------------------------------------------------------ HTTP client --- */

struct response {
    int done, timed_out;
    int code;
    char ctype[128];
    char allow[64];
    char body[16384];
};

static void on_response(struct evhttp_request *req, void *ud)
{
    struct response *r = ud;
    struct evbuffer *b;
    const char *h;
    size_t n;

    r->done = 1;
    if (req == NULL) /* connection failed */
        return;
    r->code = evhttp_request_get_response_code(req);
    h = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    snprintf(r->ctype, sizeof(r->ctype), "%s", h ? h : "");
    h = evhttp_find_header(evhttp_request_get_input_headers(req), "Allow");
    snprintf(r->allow, sizeof(r->allow), "%s", h ? h : "");
    b = evhttp_request_get_input_buffer(req);
    n = evbuffer_get_length(b);
    if (n >= sizeof(r->body))
        n = sizeof(r->body) - 1;
    evbuffer_remove(b, r->body, n);
    r->body[n] = '\0';
}

static void on_timeout(evutil_socket_t fd, short what, void *ud)
{
    struct response *r = ud;

    r->timed_out = 1;
}

/* Sends |method| |path| to |addr| ("127.0.0.1:PORT") and runs |base| until answered. */
static void request(struct event_base *base, const char *addr, enum evhttp_cmd_type method,
                    const char *path, struct response *r)
{
    char host[64];
    unsigned port = 0;
    const char *colon = strrchr(addr, ':');
    struct evhttp_connection *conn;
    struct evhttp_request *req;
    struct event *timer;
    struct timeval tv = {5, 0};

    memset(r, 0, sizeof(*r));
    assert_non_null(colon);
    assert_true((size_t)(colon - addr) < sizeof(host));
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    assert_int_equal(sscanf(colon + 1, "%u", &port), 1);
    conn = evhttp_connection_base_new(base, NULL, host, (unsigned short)port);
    assert_non_null(conn);
    req = evhttp_request_new(on_response, r);
    assert_non_null(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    assert_int_equal(evhttp_make_request(conn, req, method, path), 0);
    timer = evtimer_new(base, on_timeout, r);
    assert_non_null(timer);
    evtimer_add(timer, &tv);
    while (!r->done && !r->timed_out)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(timer);
    evhttp_connection_free(conn);
    assert_false(r->timed_out);
    assert_true(r->code > 0); /* a response, not a connection failure */
}

static void starts_with(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        print_error("\"%s\" does not start with \"%s\"\n", s, prefix);
    assert_int_equal(strncmp(s, prefix, strlen(prefix)), 0);
}

/* ------------------------------------------------------------ fixtures --- */

struct health_ctl {
    int healthy;
    const char *why;
    int calls;
};

static int fake_healthy(void *ud, char *why, size_t why_len)
{
    struct health_ctl *c = ud;

    c->calls++;
    if (!c->healthy && c->why)
        snprintf(why, why_len, "%s", c->why);
    return c->healthy;
}

static int queue_calls;

static size_t fake_queues(void *ud, struct xb_metrics_queue *out, size_t max)
{
    queue_calls++;
    assert_int_equal(max, XB_TELEMETRY_MAX_QUEUES);
    out[0].exporter = "awsxray";
    out[0].docs = 42;
    out[0].bytes = 4200;
    out[0].capacity_docs = 1000;
    out[0].capacity_bytes = 1 << 20;
    out[1].exporter = "file";
    out[1].docs = 1;
    return 2;
}

struct fixture {
    struct event_base *base;
    struct xb_telemetry *t;
    struct health_ctl health;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct xb_telemetry_opts o = {
        .metrics_endpoint = "127.0.0.1:0",
        .health_endpoint = "127.0.0.1:0",
        .queues = fake_queues,
        .healthy = fake_healthy,
    };
    char err[256] = "";

    assert_non_null(f);
    xb_metrics_reset();
    queue_calls = 0;
    f->health.healthy = 1;
    o.healthy_ud = &f->health;
    f->base = event_base_new();
    assert_non_null(f->base);
    assert_int_equal(xb_telemetry_start(f->base, &o, &f->t, err, sizeof(err)), XB_OK);
    assert_non_null(f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xb_telemetry_free(f->t);
    event_base_free(f->base);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ /metrics --- */

static void test_metrics_endpoint_serves_prometheus(void **state)
{
    struct fixture *f = *state;
    const char *addr = xb_telemetry_metrics_address(f->t);
    struct response r;

    assert_non_null(addr);
    assert_int_equal(strncmp(addr, "127.0.0.1:", 10), 0);
    assert_string_not_equal(addr, "127.0.0.1:0"); /* the bound port, not the asked one */
    xb_receiver_metrics.accepted_spans[XB_TRANSPORT_GRPC] = 5;
    xb_exporter_metrics.export_throttled = 3;
    request(f->base, addr, EVHTTP_REQ_GET, "/metrics", &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(queue_calls, 1);
    assert_non_null(strstr(r.body, "# TYPE otelcol_receiver_accepted_spans_total counter\n"));
    assert_non_null(strstr(r.body, "\notelcol_receiver_accepted_spans_total{"
                                   "receiver=\"otlp\",transport=\"grpc\"} 5\n"));
    assert_non_null(
        strstr(r.body, "\nxraybridge_exporter_throttled_total{exporter=\"awsxray\"} 3\n"));
    assert_non_null(strstr(r.body, "\notelcol_exporter_queue_size{exporter=\"awsxray\"} 42\n"));
    assert_non_null(strstr(r.body, "\notelcol_exporter_queue_size{exporter=\"file\"} 1\n"));
    assert_non_null(strstr(
        r.body, "\nxraybridge_exporter_queue_capacity_bytes{exporter=\"awsxray\"} 1048576\n"));
    assert_non_null(strstr(r.body, "# TYPE otelcol_process_uptime_seconds_total counter\n"));
    assert_non_null(strstr(r.body, "\notelcol_process_memory_rss_bytes "));
    assert_non_null(strstr(r.body, "\nxraybridge_build_info{version=\""));

    /* counters are read at request time */
    xb_exporter_metrics.export_throttled = 4;
    request(f->base, addr, EVHTTP_REQ_GET, "/metrics", &r);
    assert_non_null(
        strstr(r.body, "\nxraybridge_exporter_throttled_total{exporter=\"awsxray\"} 4\n"));
    assert_int_equal(queue_calls, 2);
}

static void test_metrics_wrong_path_and_method(void **state)
{
    struct fixture *f = *state;
    const char *addr = xb_telemetry_metrics_address(f->t);
    struct response r;

    request(f->base, addr, EVHTTP_REQ_GET, "/", &r);
    assert_int_equal(r.code, 404);
    request(f->base, addr, EVHTTP_REQ_GET, "/metricsx", &r);
    assert_int_equal(r.code, 404);
    request(f->base, addr, EVHTTP_REQ_POST, "/metrics", &r);
    assert_int_equal(r.code, 405);
    assert_string_equal(r.allow, "GET, HEAD");
    request(f->base, addr, EVHTTP_REQ_GET, "/metrics?x=1", &r);
    assert_int_equal(r.code, 200);
    assert_int_equal(queue_calls, 1); /* only the successful scrape asked for queues */
}

/* ------------------------------------------------------------ health --- */

static void test_health_flips_with_callback(void **state)
{
    struct fixture *f = *state;
    const char *addr = xb_telemetry_health_address(f->t);
    struct response r;

    assert_non_null(addr);
    assert_string_not_equal(addr, xb_telemetry_metrics_address(f->t));
    request(f->base, addr, EVHTTP_REQ_GET, "/", &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.ctype, "application/json");
    starts_with(r.body, "{\"status\":\"Server available\",\"upSince\":\"");
    assert_non_null(strstr(r.body, "\",\"uptime\":\""));
    assert_null(strstr(r.body, "reason"));

    f->health.healthy = 0;
    f->health.why = "awsxray: \"ThrottledException\" for 6m";
    request(f->base, addr, EVHTTP_REQ_GET, "/health", &r);
    assert_int_equal(r.code, 503);
    starts_with(r.body, "{\"status\":\"Server not available\",\"upSince\":\"");
    assert_non_null(
        strstr(r.body, ",\"reason\":\"awsxray: \\\"ThrottledException\\\" for 6m\"}\n"));

    f->health.healthy = 1;
    request(f->base, addr, EVHTTP_REQ_GET, "/", &r);
    assert_int_equal(r.code, 200);
    assert_int_equal(f->health.calls, 3);
}

static void test_health_upsince_and_uptime_shape(void **state)
{
    struct fixture *f = *state;
    struct response r;
    const char *since, *up;
    int y, mo, d, h, mi, s;
    char tail[32];

    request(f->base, xb_telemetry_health_address(f->t), EVHTTP_REQ_GET, "/", &r);
    since = strstr(r.body, "\"upSince\":\"");
    assert_non_null(since);
    assert_int_equal(
        sscanf(since + 11, "%4d-%2d-%2dT%2d:%2d:%2d%31[^\"]", &y, &mo, &d, &h, &mi, &s, tail), 7);
    assert_true(y >= 2024 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31);
    assert_int_equal(tail[strlen(tail) - 1], 'Z');
    assert_true(tail[0] == '.' || tail[0] == 'Z');
    up = strstr(r.body, "\"uptime\":\"");
    assert_non_null(up);
    /* a Go duration: digits, then a unit; ends in "s" (ns, µs, ms, s) */
    assert_true(up[10] >= '0' && up[10] <= '9');
    assert_non_null(strstr(up, "s\"}"));
}

static void test_health_not_ready_and_bad_requests(void **state)
{
    struct fixture *f = *state;
    const char *addr = xb_telemetry_health_address(f->t);
    struct response r;

    xb_telemetry_set_ready(f->t, 0);
    request(f->base, addr, EVHTTP_REQ_GET, "/", &r);
    assert_int_equal(r.code, 503);
    assert_non_null(strstr(r.body, "\"reason\":\"not ready\""));
    assert_int_equal(f->health.calls, 0); /* not ready wins without asking */
    xb_telemetry_set_ready(f->t, 1);
    request(f->base, addr, EVHTTP_REQ_GET, "/", &r);
    assert_int_equal(r.code, 200);

    request(f->base, addr, EVHTTP_REQ_GET, "/metrics", &r);
    assert_int_equal(r.code, 404);
    request(f->base, addr, EVHTTP_REQ_DELETE, "/", &r);
    assert_int_equal(r.code, 405);
    request(f->base, addr, EVHTTP_REQ_HEAD, "/health", &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.body, ""); /* HEAD: no body */
}

/* ------------------------------------------------------------ lifecycle --- */

static void test_only_configured_endpoints_listen(void **state)
{
    struct event_base *base = event_base_new();
    struct xb_telemetry *t = NULL;
    struct xb_telemetry_opts o = {.health_endpoint = "127.0.0.1:0", .metrics_endpoint = ""};
    struct response r;
    char err[256];

    assert_int_equal(xb_telemetry_start(base, &o, &t, err, sizeof(err)), XB_OK);
    assert_null(xb_telemetry_metrics_address(t));
    assert_non_null(xb_telemetry_health_address(t));
    /* no callback: healthy */
    request(base, xb_telemetry_health_address(t), EVHTTP_REQ_GET, "/", &r);
    assert_int_equal(r.code, 200);
    xb_telemetry_free(t);

    memset(&o, 0, sizeof(o));
    assert_int_equal(xb_telemetry_start(base, &o, &t, err, sizeof(err)), XB_OK);
    assert_null(xb_telemetry_metrics_address(t));
    assert_null(xb_telemetry_health_address(t));
    xb_telemetry_free(t);
    xb_telemetry_free(NULL);
    xb_telemetry_set_ready(NULL, 1);
    assert_null(xb_telemetry_metrics_address(NULL));
    event_base_free(base);
}

static void test_start_fails_when_address_taken(void **state)
{
    struct fixture *f = *state;
    struct xb_telemetry *t = (struct xb_telemetry *)1;
    struct xb_telemetry_opts o = {
        .metrics_endpoint = "127.0.0.1:0",
        .health_endpoint = xb_telemetry_health_address(f->t), /* in use */
    };
    struct response r;
    char err[256] = "";

    assert_int_equal(xb_telemetry_start(f->base, &o, &t, err, sizeof(err)), XB_ERR_IO);
    assert_null(t);
    assert_non_null(strstr(err, "health endpoint: cannot listen on 127.0.0.1:"));

    o.health_endpoint = NULL;
    o.metrics_endpoint = "nonsense";
    assert_int_equal(xb_telemetry_start(f->base, &o, &t, err, sizeof(err)), XB_ERR_IO);
    assert_null(t);
    assert_non_null(strstr(err, "metrics endpoint: invalid endpoint"));
    /* the first server is unaffected */
    request(f->base, xb_telemetry_health_address(f->t), EVHTTP_REQ_GET, "/", &r);
    assert_int_equal(r.code, 200);
}

/* ------------------------------------------------------------ helpers --- */

static void test_format_duration_like_go(void **state)
{
    char b[64];

    assert_string_equal(xb_telemetry_format_duration(0, b, sizeof(b)), "0s");
    assert_string_equal(xb_telemetry_format_duration(999, b, sizeof(b)), "999ns");
    assert_string_equal(xb_telemetry_format_duration(1500, b, sizeof(b)), "1.5\xc2\xb5s");
    assert_string_equal(xb_telemetry_format_duration(850000000, b, sizeof(b)), "850ms");
    assert_string_equal(xb_telemetry_format_duration(1234567, b, sizeof(b)), "1.234567ms");
    assert_string_equal(xb_telemetry_format_duration(NS_PER_S, b, sizeof(b)), "1s");
    assert_string_equal(xb_telemetry_format_duration(49013251800, b, sizeof(b)), "49.0132518s");
    assert_string_equal(xb_telemetry_format_duration(123250000000, b, sizeof(b)), "2m3.25s");
    assert_string_equal(xb_telemetry_format_duration(60 * NS_PER_S, b, sizeof(b)), "1m0s");
    assert_string_equal(xb_telemetry_format_duration(3600 * NS_PER_S, b, sizeof(b)), "1h0m0s");
    assert_string_equal(xb_telemetry_format_duration(93601 * NS_PER_S, b, sizeof(b)), "26h0m1s");
    assert_string_equal(xb_telemetry_format_duration(3600 * NS_PER_S, b, 4), "1h0");
}

static void test_export_health_tracker(void **state)
{
    struct xb_export_health h;
    char why[128] = "";

    xb_metrics_reset();
    xb_exporter_metrics.sent_documents[XB_EXPORTER_AWSXRAY] =
        10; /* history before init is not a failure */
    xb_exporter_metrics.export_request_errors = 3;
    xb_export_health_init(&h, 10 * NS_PER_S);
    assert_int_equal(xb_export_health_eval(&h, 1 * NS_PER_S, why, sizeof(why)), 1);

    xb_exporter_metrics.export_request_errors++; /* first failure seen at t=2s */
    assert_int_equal(xb_export_health_eval(&h, 2 * NS_PER_S, why, sizeof(why)), 1);
    xb_exporter_metrics.send_failed_documents[XB_EXPORTER_AWSXRAY] += 50;
    assert_int_equal(xb_export_health_eval(&h, 12 * NS_PER_S, why, sizeof(why)), 1); /* =10s */
    assert_int_equal(xb_export_health_eval(&h, 12 * NS_PER_S + 500000000, why, sizeof(why)), 0);
    assert_string_equal(why, "exporter awsxray failing for 10.5s with no document delivered");
    assert_int_equal(xb_export_health_eval(&h, 100 * NS_PER_S, why, sizeof(why)), 0);

    /* a delivery, even alongside failures, ends the failing period */
    xb_exporter_metrics.sent_documents[XB_EXPORTER_AWSXRAY]++;
    xb_exporter_metrics.export_request_errors++;
    assert_int_equal(xb_export_health_eval(&h, 101 * NS_PER_S, why, sizeof(why)), 1);
    assert_int_equal(xb_export_health_eval(&h, 500 * NS_PER_S, why, sizeof(why)), 1);

    /* threshold 0: never unhealthy */
    xb_export_health_init(&h, 0);
    xb_exporter_metrics.export_request_errors++;
    assert_int_equal(xb_export_health_eval(&h, 1, why, sizeof(why)), 1);
    assert_int_equal(xb_export_health_eval(&h, 1000 * NS_PER_S, why, sizeof(why)), 1);

    /* the callback form reads the monotonic clock */
    xb_export_health_init(&h, 1);
    assert_int_equal(xb_export_health_cb(&h, why, sizeof(why)), 1);
}

/* The pure rule over otlphttp and loadbalancing samples: any failing exporter past the
 * threshold makes the check unhealthy; each exporter's own delivery clears only it. */
static void test_export_health_every_exporter(void **state)
{
    struct xb_export_health h = {.threshold_ns = 10 * NS_PER_S};
    struct xb_export_sample s[XB_EXPORTER_COUNT] = {{0, 0}};
    char why[128] = "";

    (void)state;
    s[XB_EXPORTER_AWSXRAY].sent = 5;
    assert_int_equal(xb_export_health_step(&h, s, 1 * NS_PER_S, why, sizeof(why)), 1);
    /* otlphttp fails at t=2s while awsxray keeps delivering */
    s[XB_EXPORTER_OTLPHTTP].failed = 1;
    s[XB_EXPORTER_AWSXRAY].sent++;
    assert_int_equal(xb_export_health_step(&h, s, 2 * NS_PER_S, why, sizeof(why)), 1);
    s[XB_EXPORTER_AWSXRAY].sent++;
    s[XB_EXPORTER_OTLPHTTP].failed++;
    assert_int_equal(xb_export_health_step(&h, s, 12 * NS_PER_S, why, sizeof(why)), 1); /* =10s */
    s[XB_EXPORTER_AWSXRAY].sent++;
    assert_int_equal(xb_export_health_step(&h, s, 13 * NS_PER_S, why, sizeof(why)), 0);
    assert_string_equal(why, "exporter otlphttp failing for 11s with no span delivered");
    /* loadbalancing starts failing later; otlphttp is still the longest */
    s[XB_EXPORTER_LOADBALANCING].failed = 3;
    assert_int_equal(xb_export_health_step(&h, s, 14 * NS_PER_S, why, sizeof(why)), 0);
    assert_string_equal(why, "exporter otlphttp failing for 12s with no span delivered");
    /* otlphttp delivers: loadbalancing (failing since 14s) is not past 10s yet */
    s[XB_EXPORTER_OTLPHTTP].sent = 100;
    assert_int_equal(xb_export_health_step(&h, s, 20 * NS_PER_S, why, sizeof(why)), 1);
    assert_int_equal(xb_export_health_step(&h, s, 25 * NS_PER_S, why, sizeof(why)), 0);
    assert_string_equal(why, "exporter loadbalancing failing for 11s with no span delivered");
    s[XB_EXPORTER_LOADBALANCING].sent = 1;
    assert_int_equal(xb_export_health_step(&h, s, 26 * NS_PER_S, NULL, 0), 1);
    /* the file exporter is not watched */
    s[XB_EXPORTER_FILE].failed = 9;
    assert_int_equal(xb_export_health_step(&h, s, 27 * NS_PER_S, why, sizeof(why)), 1);
    assert_int_equal(xb_export_health_step(&h, s, 90 * NS_PER_S, why, sizeof(why)), 1);

    /* the sampling form reads failed_calls of otlphttp */
    xb_metrics_reset();
    memset(xb_exporter_metrics.failed_calls, 0, sizeof(xb_exporter_metrics.failed_calls));
    xb_export_health_init(&h, 10 * NS_PER_S);
    xb_exporter_metrics.failed_calls[XB_EXPORTER_OTLPHTTP]++;
    assert_int_equal(xb_export_health_eval(&h, 1 * NS_PER_S, why, sizeof(why)), 1);
    assert_int_equal(xb_export_health_eval(&h, 12 * NS_PER_S, why, sizeof(why)), 0);
    assert_string_equal(why, "exporter otlphttp failing for 11s with no span delivered");
    xb_exporter_metrics.sent_documents[XB_EXPORTER_OTLPHTTP]++;
    assert_int_equal(xb_export_health_eval(&h, 13 * NS_PER_S, why, sizeof(why)), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_endpoint_serves_prometheus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_wrong_path_and_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_flips_with_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_upsince_and_uptime_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_not_ready_and_bad_requests, setup, teardown),
        cmocka_unit_test(test_only_configured_endpoints_listen),
        cmocka_unit_test_setup_teardown(test_start_fails_when_address_taken, setup, teardown),
        cmocka_unit_test(test_format_duration_like_go),
        cmocka_unit_test(test_export_health_tracker),
        cmocka_unit_test(test_export_health_every_exporter),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
