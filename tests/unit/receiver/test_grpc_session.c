/* Unit tests for receiver/grpc_session.c: an in-process nghttp2 client session talks to
 * the sans-I/O server session through memory buffers, on a clock the test controls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/metrics.h"
#include "receiver/grpc_session.h"
#include "receiver/status.h"

#define EXPORT_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define MAX_STREAMS 8

struct fixture {
    nghttp2_session *client;
    struct xb_grpc_session *server;
    struct xb_buf to_server, to_client;
    size_t inflight;
    int exports;                       /* export_msg calls */
    size_t export_len;                 /* length of the last exported message */
    int progress;                      /* progress calls */
    int status[MAX_STREAMS * 2 + 1];   /* last grpc-status seen per stream id, -1 none */
    int closed[MAX_STREAMS * 2 + 1];   /* on_stream_close seen */
    int rst[MAX_STREAMS * 2 + 1];      /* RST_STREAM received */
    int got_data[MAX_STREAMS * 2 + 1]; /* response DATA received */
    int goaway;                        /* GOAWAY received */
    /* request body for the data provider */
    const uint8_t *body;
    size_t body_len, body_off;
    int defer_after_body; /* keep the upload open after the body (no END_STREAM) */
};

/* ---- server environment --------------------------------------------------- */

static ssize_t srv_write(void *ud, const uint8_t *data, size_t len)
{
    struct fixture *f = ud;
    return xb_buf_append(&f->to_client, data, len) == XB_OK ? (ssize_t)len : -1;
}

static void srv_export(void *ud, int gzip, const uint8_t *msg, size_t len,
                       struct xb_ingest_outcome *o)
{
    struct fixture *f = ud;
    memset(o, 0, sizeof(*o));
    o->rc = XB_OK;
    f->exports++;
    f->export_len = len;
}

static void srv_progress(void *ud, uint64_t now_ms)
{
    ((struct fixture *)ud)->progress++;
}

/* ---- client callbacks ----------------------------------------------------- */

static ssize_t cli_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
    struct fixture *f = ud;
    return xb_buf_append(&f->to_server, data, len) == XB_OK ? (ssize_t)len
                                                            : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int cli_header(nghttp2_session *s, const nghttp2_frame *fr, const uint8_t *name,
                      size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                      void *ud)
{
    struct fixture *f = ud;
    char v[16];

    if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0 && valuelen < sizeof(v) &&
        fr->hd.stream_id <= MAX_STREAMS * 2) {
        memcpy(v, value, valuelen);
        v[valuelen] = '\0';
        f->status[fr->hd.stream_id] = atoi(v);
    }
    return 0;
}

static int cli_frame_recv(nghttp2_session *s, const nghttp2_frame *fr, void *ud)
{
    struct fixture *f = ud;

    if (fr->hd.type == NGHTTP2_GOAWAY)
        f->goaway = 1;
    if (fr->hd.type == NGHTTP2_RST_STREAM && fr->hd.stream_id <= MAX_STREAMS * 2)
        f->rst[fr->hd.stream_id] = 1;
    if (fr->hd.type == NGHTTP2_DATA && fr->hd.stream_id <= MAX_STREAMS * 2)
        f->got_data[fr->hd.stream_id] = 1;
    return 0;
}

static int cli_close(nghttp2_session *s, int32_t id, uint32_t err, void *ud)
{
    struct fixture *f = ud;
    if (id <= MAX_STREAMS * 2)
        f->closed[id] = 1;
    return 0;
}

static ssize_t cli_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
                        uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    struct fixture *f = ud;
    size_t left = f->body_len - f->body_off;
    size_t n = left < length ? left : length;

    if (n == 0 && f->defer_after_body)
        return NGHTTP2_ERR_DEFERRED;
    memcpy(buf, f->body + f->body_off, n);
    f->body_off += n;
    if (f->body_off == f->body_len && !f->defer_after_body)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- plumbing ------------------------------------------------------------- */

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    nghttp2_session_callbacks *cbs;
    struct xb_grpc_session_limits lim = {
        .max_msg_bytes = 1 << 20,
        .max_concurrent_streams = MAX_STREAMS,
        .max_header_list_size = 0, /* default 16 KiB */
        .max_inflight_bytes = 4 << 20,
        .timeouts = {.connection_ms = 10000, .upload_ms = 30000, .idle_ms = 60000}};
    struct xb_grpc_session_env env = {.write = srv_write,
                                      .export_msg = srv_export,
                                      .progress = srv_progress,
                                      .ud = f,
                                      .inflight = &f->inflight};

    xb_metrics_reset();
    memset(f->status, -1, sizeof(f->status));
    xb_buf_init(&f->to_server, 0);
    xb_buf_init(&f->to_client, 0);
    assert_int_equal(nghttp2_session_callbacks_new(&cbs), 0);
    nghttp2_session_callbacks_set_send_callback(cbs, cli_send);
    nghttp2_session_callbacks_set_on_header_callback(cbs, cli_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cli_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cli_close);
    assert_int_equal(nghttp2_session_client_new(&f->client, cbs, f), 0);
    nghttp2_session_callbacks_del(cbs);
    assert_int_equal(nghttp2_submit_settings(f->client, NGHTTP2_FLAG_NONE, NULL, 0), 0);
    assert_int_equal(xb_grpc_session_new(&lim, &env, 1000, &f->server), XB_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    xb_grpc_session_free(f->server);
    nghttp2_session_del(f->client);
    xb_buf_cleanup(&f->to_server);
    xb_buf_cleanup(&f->to_client);
    free(f);
    return 0;
}

/* Moves bytes both ways at |now| until neither side has anything to say; returns the
 * server's last status. */
static enum xb_grpc_session_status pump(struct fixture *f, uint64_t now)
{
    enum xb_grpc_session_status st = XB_GRPC_SESSION_OPEN;
    uint64_t next;

    for (int i = 0; i < 50; i++) {
        assert_int_equal(nghttp2_session_send(f->client), 0);
        if (f->to_server.len) {
            assert_int_equal(xb_grpc_session_recv(f->server, (const uint8_t *)f->to_server.data,
                                                  f->to_server.len, now),
                             XB_OK);
            xb_buf_clear(&f->to_server);
            f->to_server.len = 0;
        }
        st = xb_grpc_session_service(f->server, now, &next);
        if (st == XB_GRPC_SESSION_CLOSE)
            return st;
        if (f->to_client.len == 0 && !nghttp2_session_want_write(f->client))
            break;
        if (f->to_client.len) {
            assert_true(nghttp2_session_mem_recv(f->client, (const uint8_t *)f->to_client.data,
                                                 f->to_client.len) >= 0);
            xb_buf_clear(&f->to_client);
            f->to_client.len = 0;
        }
    }
    return st;
}

/* Starts an Export call whose body is |body| (|len| bytes); returns the stream id. */
static int32_t call(struct fixture *f, const uint8_t *body, size_t len, const char *extra_name,
                    const char *extra_value)
{
    nghttp2_nv nva[7];
    nghttp2_data_provider dp = {.read_callback = cli_body};
    size_t n = 0;

#define H(k, v)                                                                                    \
    nva[n++] =                                                                                     \
        (nghttp2_nv){(uint8_t *)(k), (uint8_t *)(v), strlen(k), strlen(v), NGHTTP2_NV_FLAG_NONE}
    H(":method", "POST");
    H(":scheme", "http");
    H(":path", EXPORT_PATH);
    H(":authority", "localhost");
    H("content-type", "application/grpc");
    H("te", "trailers");
    if (extra_name)
        H(extra_name, extra_value);
#undef H
    f->body = body;
    f->body_len = len;
    f->body_off = 0;
    return nghttp2_submit_request(f->client, NULL, nva, n, &dp, NULL);
}

static const uint8_t MSG[] = {0, 0, 0, 0, 3, 0x0a, 0x01, 0x00}; /* gRPC frame, 3 bytes */

/* ---- tests ---------------------------------------------------------------- */

static void test_export_ok(void **state)
{
    struct fixture *f = *state;
    int32_t id = call(f, MSG, sizeof(MSG), NULL, NULL);

    assert_true(id > 0);
    pump(f, 1000);
    assert_int_equal(f->exports, 1);
    assert_int_equal(f->export_len, 3);
    assert_int_equal(f->status[id], 0);
    assert_true(f->got_data[id]);
    assert_true(f->closed[id]);
    assert_true(f->progress >= 2); /* request complete, answer sent */
    assert_int_equal(f->inflight, 0);
    assert_false(xb_grpc_session_busy(f->server));
}

static void test_free_with_open_streams_gives_back_inflight(void **state)
{
    struct fixture *f = *state;
    static uint8_t part[5 + 3000];

    memset(part, 0x0a, sizeof(part));
    part[0] = 0;
    part[1] = 0, part[2] = 0x10, part[3] = 0, part[4] = 0; /* declares 1 MiB */
    f->defer_after_body = 1;
    assert_true(call(f, part, sizeof(part), NULL, NULL) > 0);
    pump(f, 1000);
    f->body_off = 0;
    assert_true(call(f, part, sizeof(part), NULL, NULL) > 0);
    pump(f, 1000);
    /* charged: the storage each upload holds, sized for the whole declared message
     * (prefix + 1 MiB + NUL) as soon as the prefix is in */
    assert_int_equal(f->inflight, 2 * (5 + (1 << 20) + 1));
    f->body_off = 0;
    assert_true(call(f, part, sizeof(part), NULL, NULL) > 0);
    pump(f, 1000);
    assert_int_equal(f->inflight, 3 * (5 + (1 << 20) + 1));
    /* a fourth reservation would pass the 4 MiB budget: that body grows with the bytes
     * received instead (its bytes plus growth slack) */
    f->body_off = 0;
    assert_true(call(f, part, sizeof(part), NULL, NULL) > 0);
    pump(f, 1000);
    assert_true(f->inflight >= 3 * (5 + (1 << 20) + 1) + sizeof(part) &&
                f->inflight <= 3 * (5 + (1 << 20) + 1) + 2 * sizeof(part));
    assert_int_equal(xb_receiver_metrics.receiver_inflight_bytes[XB_TRANSPORT_GRPC], f->inflight);
    /* the client goes away: the owner frees the session with both uploads open */
    xb_grpc_session_free(f->server);
    f->server = NULL;
    assert_int_equal(f->inflight, 0);
    assert_int_equal(xb_receiver_metrics.receiver_inflight_bytes[XB_TRANSPORT_GRPC], 0);
}

static void test_header_list_too_large(void **state)
{
    struct fixture *f = *state;
    char *big = malloc(20000);
    int32_t id, id2;

    memset(big, 'a', 19999);
    big[19999] = '\0';
    id = call(f, MSG, sizeof(MSG), "x-big", big);
    pump(f, 1000);
    assert_int_equal(f->status[id], 8); /* RESOURCE_EXHAUSTED */
    assert_int_equal(f->exports, 0);
    id2 = call(f, MSG, sizeof(MSG), NULL, NULL); /* the connection still works */
    pump(f, 1000);
    assert_int_equal(f->status[id2], 0);
    free(big);
}

static void test_upload_deadline_answers_deadline_exceeded(void **state)
{
    struct fixture *f = *state;
    int32_t id;

    f->defer_after_body = 1;
    id = call(f, MSG, 4, NULL, NULL); /* half a gRPC frame, then nothing */
    pump(f, 1000);
    assert_int_equal(f->status[id], -1);
    assert_true(xb_grpc_session_busy(f->server) == 0); /* uploading is not busy */
    pump(f, 1000 + 29999);
    assert_int_equal(f->status[id], -1);
    pump(f, 1000 + 30000);
    assert_int_equal(f->status[id], 4); /* DEADLINE_EXCEEDED */
    assert_true(f->rst[id]);
    assert_int_equal(xb_receiver_metrics.timed_out_requests[XB_TRANSPORT_GRPC], 1);
    assert_int_equal(f->inflight, 0);
}

static void test_idle_connection_gets_goaway(void **state)
{
    struct fixture *f = *state;
    int32_t id = call(f, MSG, sizeof(MSG), NULL, NULL);

    pump(f, 2000);
    assert_int_equal(f->status[id], 0);
    assert_int_equal(pump(f, 2000 + 59999), XB_GRPC_SESSION_OPEN);
    assert_false(f->goaway);
    assert_int_equal(pump(f, 2000 + 60000), XB_GRPC_SESSION_FINISHED);
    assert_true(f->goaway);
    assert_int_equal(xb_grpc_session_close_reason(f->server), XB_CONN_REFUSED_TIMEOUT);
}

static void test_no_request_closes_after_connection_timeout(void **state)
{
    struct fixture *f = *state;
    uint64_t next;

    /* the client never speaks: only the server's SETTINGS go out */
    assert_int_equal(xb_grpc_session_service(f->server, 1000, &next), XB_GRPC_SESSION_OPEN);
    assert_int_equal(next, 11000);
    assert_int_equal(xb_grpc_session_service(f->server, 11000, &next), XB_GRPC_SESSION_FINISHED);
    /* a client that does not read: closed after the flush allowance anyway */
    assert_int_equal(xb_grpc_session_service(f->server, 11000 + XB_GRPC_CLOSE_FLUSH_MS, &next),
                     XB_GRPC_SESSION_CLOSE);
}

static void test_garbage_is_a_protocol_error(void **state)
{
    struct fixture *f = *state;
    static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    assert_int_equal(xb_grpc_session_recv(f->server, junk, sizeof(junk) - 1, 1000), XB_ERR_INVALID);
}

/* A compressed message in an encoding the receiver lacks is refused through
 * receiver/status.c: UNIMPLEMENTED, counted as unsupported_encoding. */
static void test_unsupported_encoding_is_refused_through_the_mapper(void **state)
{
    struct fixture *f = *state;
    static const uint8_t zmsg[] = {1, 0, 0, 0, 3, 0x0a, 0x01, 0x00}; /* compressed flag */
    int32_t id = call(f, zmsg, sizeof(zmsg), "grpc-encoding", "br");

    pump(f, 1000);
    assert_int_equal(f->status[id], 12); /* UNIMPLEMENTED */
    assert_int_equal(f->exports, 0);
    assert_int_equal(xb_refusal_counted(XB_TRANSPORT_GRPC, XB_REFUSAL_UNSUPPORTED_ENCODING), 1);
    assert_int_equal(xb_receiver_metrics.requests[XB_TRANSPORT_GRPC], 1);
    assert_int_equal(xb_receiver_metrics.bad_requests[XB_TRANSPORT_GRPC], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_with_open_streams_gives_back_inflight, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_header_list_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_deadline_answers_deadline_exceeded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_idle_connection_gets_goaway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_request_closes_after_connection_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_garbage_is_a_protocol_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_encoding_is_refused_through_the_mapper,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
