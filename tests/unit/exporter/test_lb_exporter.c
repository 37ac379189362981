/*
 * tests/unit/exporter/test_lb_exporter.c - exporter/lb_exporter.c on a real libevent loop:
 * when an Export call cannot be built, its records go back to the queue and the exporter
 * looks at the queue again by itself after its back-off (flush() -> back_off()), with no
 * further push to wake it, and the records then reach the gateway.
 *
 * The failure is injected at link time: this executable is linked with
 * -Wl,--wrap=xb_http_call_build and -Wl,--wrap=xb_http_call_add (tests/unit/exporter/
 * CMakeLists.txt), so the exporter's calls reach the __wrap_ functions below, which fail
 * a set number of times and then call the real ones. No production code is changed.
 *
 * The gateway is receiver/grpc_session.c (the OTLP/gRPC receiver's sans-I/O server
 * session) behind a libevent listener on 127.0.0.1 with a kernel-chosen port: h2c with
 * prior knowledge, as the exporter speaks it with insecure set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/queue.h"
#include "exporter/exporter_metrics.h"
#include "exporter/http_call.h"
#include "exporter/lb_exporter.h"
#include "receiver/grpc_session.h"

#define N_RECORDS 3
#define RETRY_INITIAL_MS 200 /* first back-off: jittered into [100, 300] ms */
#define WAIT_MS 3000         /* bound of every wait on the loop */
#define MAX_CONNS 8
#define MAX_ATTEMPTS 8

static uint64_t now_ms(void)
{
    return xb_clock_mono_ns() / 1000000u;
}

/* ---- the seam: -Wl,--wrap ---------------------------------------------------- */

static int build_fails; /* xb_http_call_build calls still to fail */
static int add_fails;   /* xb_http_call_add calls still to fail */
static int attempts;    /* xb_http_call_build calls: one per Export call attempted */
static uint64_t attempt_ms[MAX_ATTEMPTS];

int __real_xb_http_call_build(struct xb_http_call *c, const struct xb_aws_request *req,
                              curl_write_callback on_header, void *header_ud);
int __wrap_xb_http_call_build(struct xb_http_call *c, const struct xb_aws_request *req,
                              curl_write_callback on_header, void *header_ud);
int __real_xb_http_call_add(struct xb_http_call *c, struct xb_http_calls *list,
                            xb_curl_done_cb done, void *ud);
int __wrap_xb_http_call_add(struct xb_http_call *c, struct xb_http_calls *list,
                            xb_curl_done_cb done, void *ud);

int __wrap_xb_http_call_build(struct xb_http_call *c, const struct xb_aws_request *req,
                              curl_write_callback on_header, void *header_ud)
{
    if (attempts < MAX_ATTEMPTS)
        attempt_ms[attempts] = now_ms();
    attempts++;
    if (build_fails > 0) {
        build_fails--;
        return XB_ERR_NOMEM;
    }
    return __real_xb_http_call_build(c, req, on_header, header_ud);
}

int __wrap_xb_http_call_add(struct xb_http_call *c, struct xb_http_calls *list,
                            xb_curl_done_cb done, void *ud)
{
    if (add_fails > 0) {
        add_fails--;
        return XB_ERR_NOMEM;
    }
    return __real_xb_http_call_add(c, list, done, ud);
}

/* ---- the gateway ----------------------------------------------------------------- */

struct gw_conn {
    struct gateway *gw;
    struct bufferevent *bev;
    struct xb_grpc_session *s;
    int finished; /* close once the output is written */
};

struct gateway {
    struct event_base *base;
    struct evconnlistener *lis;
    uint16_t port;
    size_t inflight; /* request bytes held by the sessions */
    struct gw_conn *conns[MAX_CONNS];
    int accepted;
    int exports;       /* Export messages received */
    struct xb_buf got; /* their bytes, concatenated */
};

static void gw_close(struct gw_conn *c)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (c->gw->conns[i] == c)
            c->gw->conns[i] = NULL;
    xb_grpc_session_free(c->s);
    bufferevent_free(c->bev);
    free(c);
}

static ssize_t gw_write(void *ud, const uint8_t *data, size_t len)
{
    struct gw_conn *c = ud;
    return evbuffer_add(bufferevent_get_output(c->bev), data, len) == 0 ? (ssize_t)len : -1;
}

static void gw_export(void *ud, int gzip, const uint8_t *msg, size_t len,
                      struct xb_ingest_outcome *o)
{
    struct gw_conn *c = ud;
    memset(o, 0, sizeof(*o));
    o->rc = gzip ? XB_ERR_INVALID : XB_OK; /* the exporter runs with gzip off */
    c->gw->exports++;
    if (xb_buf_append(&c->gw->got, msg, len) != XB_OK)
        o->rc = XB_ERR_NOMEM;
}

/* Writes the session's output; closes the connection once the session is done. */
static void gw_service(struct gw_conn *c)
{
    uint64_t next;
    switch (xb_grpc_session_service(c->s, now_ms(), &next)) {
    case XB_GRPC_SESSION_OPEN:
        return;
    case XB_GRPC_SESSION_FINISHED:
        c->finished = 1;
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
            return;
        break;
    case XB_GRPC_SESSION_CLOSE:
        break;
    }
    gw_close(c);
}

static void gw_read(struct bufferevent *bev, void *ud)
{
    struct gw_conn *c = ud;
    uint8_t chunk[4096];
    int n;

    while ((n = evbuffer_remove(bufferevent_get_input(bev), chunk, sizeof(chunk))) > 0) {
        if (xb_grpc_session_recv(c->s, chunk, (size_t)n, now_ms()) != XB_OK) {
            gw_close(c);
            return;
        }
    }
    gw_service(c);
}

static void gw_written(struct bufferevent *bev, void *ud)
{
    struct gw_conn *c = ud;
    (void)bev;
    if (c->finished)
        gw_close(c);
}

static void gw_event(struct bufferevent *bev, short what, void *ud)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        gw_close(ud);
}

static void gw_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *ud)
{
    static const struct xb_grpc_session_limits lim = {
        .max_msg_bytes = 4u << 20, .max_concurrent_streams = 4}; /* no deadlines */
    struct gateway *gw = ud;
    struct gw_conn *c = calloc(1, sizeof(*c));
    struct xb_grpc_session_env env = {.write = gw_write, .export_msg = gw_export};
    int slot = -1;

    (void)lis;
    (void)sa;
    (void)salen;
    for (int i = 0; i < MAX_CONNS && slot < 0; i++)
        if (!gw->conns[i])
            slot = i;
    if (!c || slot < 0) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    c->gw = gw;
    c->bev = bufferevent_socket_new(gw->base, fd, BEV_OPT_CLOSE_ON_FREE);
    env.ud = c;
    env.inflight = &gw->inflight;
    if (!c->bev || xb_grpc_session_new(&lim, &env, now_ms(), &c->s) != XB_OK) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        free(c);
        return;
    }
    gw->conns[slot] = c;
    gw->accepted++;
    bufferevent_setcb(c->bev, gw_read, gw_written, gw_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    gw_service(c); /* the server's SETTINGS */
}

static void gw_start(struct gateway *gw, struct event_base *base)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    memset(gw, 0, sizeof(*gw));
    gw->base = base;
    xb_buf_init(&gw->got, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    gw->lis =
        evconnlistener_new_bind(base, gw_accept, gw, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                (struct sockaddr *)&sin, sizeof(sin));
    assert_non_null(gw->lis);
    assert_int_equal(getsockname(evconnlistener_get_fd(gw->lis), (struct sockaddr *)&sin, &len), 0);
    gw->port = ntohs(sin.sin_port);
}

static void gw_stop(struct gateway *gw)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (gw->conns[i])
            gw_close(gw->conns[i]);
    evconnlistener_free(gw->lis);
    xb_buf_cleanup(&gw->got);
}

/* ---- the exporter on a loop ------------------------------------------------------- */

struct fixture {
    struct event_base *base;
    struct xb_queue *q;
    struct gateway gw;
    struct xb_lb_exporter *x;
    struct event *deadline;
    int timed_out;
    uint8_t sent[N_RECORDS * 64]; /* the records' bytes, in push order */
    size_t sent_len;
};

static void on_deadline(evutil_socket_t fd, short what, void *ud)
{
    struct fixture *f = ud;
    (void)fd;
    (void)what;
    f->timed_out = 1;
}

static int setup(void **state)
{
    static struct fixture f;
    char hostport[32];
    const char *hosts[1] = {hostport};
    struct xb_lb_opts o = {
        .hostnames = hosts,
        .n_hostnames = 1,
        .insecure = 1,
        .timeout_ms = WAIT_MS,
        .batch_max_records = N_RECORDS,
        .batch_timeout_ms = 60000, /* a partial batch would wait a minute: not in play */
        .retry_enabled = 1,
        .retry_initial_ms = RETRY_INITIAL_MS,
        .retry_max_ms = 2000,
        .retry_max_elapsed_ms = 60000,
    };
    char err[200];
    struct event_config *cfg;

    memset(&f, 0, sizeof(f));
    build_fails = add_fails = attempts = 0;
    /* Timers from the time they are added, not the loop's cached time, and on the
     * precise clock: the back-off gaps below are then measured against what was set. */
    cfg = event_config_new();
    if (!cfg)
        return -1;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NO_CACHE_TIME | EVENT_BASE_FLAG_PRECISE_TIMER);
    f.base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    f.q = xb_queue_new(0, 0);
    if (!f.base || !f.q)
        return -1;
    f.deadline = evtimer_new(f.base, on_deadline, &f);
    if (!f.deadline)
        return -1;
    gw_start(&f.gw, f.base);
    snprintf(hostport, sizeof(hostport), "127.0.0.1:%u", (unsigned)f.gw.port);
    if (xb_lb_exporter_start(f.base, f.q, &o, &f.x, err, sizeof(err)) != XB_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    xb_lb_exporter_free(f->x);
    gw_stop(&f->gw);
    xb_queue_free(f->q);
    event_free(f->deadline);
    event_base_free(f->base);
    return 0;
}

/* One per-trace ExportTraceServiceRequest as receiver/ingest_otlp.c queues it: one
 * resource_spans, one scope_spans, one span with trace id |id| and name "spnN". */
static struct xb_qdoc *record(struct fixture *f, int i)
{
    uint8_t id[16], rec[30];
    char hex[33];
    size_t k = 0;

    for (int j = 0; j < 16; j++) {
        id[j] = (uint8_t)(0x10 * (i + 1) + j);
        snprintf(hex + 2 * j, 3, "%02x", id[j]);
    }
    rec[k++] = 0x0a; /* resource_spans */
    rec[k++] = 28;
    rec[k++] = 0x12; /* scope_spans */
    rec[k++] = 26;
    rec[k++] = 0x12; /* spans */
    rec[k++] = 24;
    rec[k++] = 0x0a; /* trace_id */
    rec[k++] = 16;
    memcpy(rec + k, id, 16);
    k += 16;
    rec[k++] = 0x2a; /* name */
    rec[k++] = 4;
    memcpy(rec + k, "spn", 3);
    k += 3;
    rec[k++] = (uint8_t)('0' + i);
    assert_int_equal(k, sizeof(rec));
    memcpy(f->sent + f->sent_len, rec, k);
    f->sent_len += k;
    return xb_qdoc_new_ids((const char *)rec, k, hex, "");
}

/* Pushes N_RECORDS records (a full batch) in one push, as a receiver does. */
static void push_records(struct fixture *f)
{
    struct xb_qdoc_list l = {0};

    for (int i = 0; i < N_RECORDS; i++) {
        struct xb_qdoc *d = record(f, i);
        assert_non_null(d);
        xb_qdoc_list_add(&l, d);
    }
    assert_int_equal(xb_queue_push_list(f->q, &l), XB_OK);
}

static int attempted(struct fixture *f)
{
    (void)f;
    return attempts >= 1;
}

static int delivered(struct fixture *f)
{
    return f->gw.exports >= 1 && xb_queue_charged_docs(f->q) == 0;
}

/* Runs the loop until |done|(f) holds or WAIT_MS have passed. Returns done's value. */
static int run_until(struct fixture *f, int (*done)(struct fixture *))
{
    struct timeval tv = {WAIT_MS / 1000, (WAIT_MS % 1000) * 1000};

    f->timed_out = 0;
    evtimer_add(f->deadline, &tv);
    while (!done(f) && !f->timed_out)
        event_base_loop(f->base, EVLOOP_ONCE);
    evtimer_del(f->deadline);
    return done(f);
}

/*
 * The first |failures| Export calls cannot be built (xb_http_call_build fails when
 * |in_add| is 0, xb_http_call_add when 1). Each failure requeues the records; with no
 * further push, the exporter tries again after its back-off, which grows per failure;
 * then the records reach the gateway as one Export message, in push order.
 */
static void fail_then_deliver(void **state, int failures, int in_add)
{
    struct fixture *f = *state;
    uint64_t sent0 = xb_exporter_metrics.sent_documents[XB_EXPORTER_LOADBALANCING];
    uint64_t failed0 = xb_exporter_metrics.send_failed_documents[XB_EXPORTER_LOADBALANCING];
    uint64_t calls0 = xb_exporter_metrics.failed_calls[XB_EXPORTER_LOADBALANCING];

    if (in_add)
        add_fails = failures;
    else
        build_fails = failures;
    push_records(f); /* a full batch: the batcher flushes at once; the only push */

    /* The first attempt failed and requeued every record. */
    assert_true(run_until(f, attempted));
    assert_int_equal(attempts, 1);
    assert_int_equal(xb_queue_waiting(f->q), N_RECORDS);
    assert_int_equal(xb_queue_charged_docs(f->q), N_RECORDS);
    assert_int_equal(f->gw.accepted, 0);

    /* Without a push, the exporter comes back after its back-off, until delivered. */
    assert_true(run_until(f, delivered));
    assert_int_equal(attempts, failures + 1);
    for (int i = 1; i <= failures; i++) {
        /* xb_backoff_ms: RETRY_INITIAL_MS doubled per earlier failure, jittered to at
         * least half of it, counted from after the failed attempt (10 ms for the two
         * clocks' rounding). */
        uint64_t min_ms = ((uint64_t)RETRY_INITIAL_MS << (i - 1)) / 2 - 10;
        uint64_t gap = attempt_ms[i] - attempt_ms[i - 1];
        print_message("attempt %d came %llu ms after the failure before it\n", i + 1,
                      (unsigned long long)gap);
        assert_true(gap >= min_ms);
    }
    assert_int_equal(f->gw.exports, 1);
    assert_int_equal(f->gw.got.len, f->sent_len);
    assert_memory_equal(f->gw.got.data, f->sent, f->sent_len);
    assert_int_equal(xb_queue_waiting(f->q), 0);
    assert_int_equal(xb_exporter_metrics.sent_documents[XB_EXPORTER_LOADBALANCING] - sent0,
                     N_RECORDS);
    assert_int_equal(xb_exporter_metrics.send_failed_documents[XB_EXPORTER_LOADBALANCING], failed0);
    assert_int_equal(xb_exporter_metrics.failed_calls[XB_EXPORTER_LOADBALANCING], calls0);
}

static void test_build_failure_backs_off_then_delivers(void **state)
{
    fail_then_deliver(state, 1, 0);
}

static void test_repeated_build_failures_keep_backing_off(void **state)
{
    fail_then_deliver(state, 2, 0);
}

static void test_add_failure_backs_off_then_delivers(void **state)
{
    fail_then_deliver(state, 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_build_failure_backs_off_then_delivers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_repeated_build_failures_keep_backing_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_add_failure_backs_off_then_delivers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
