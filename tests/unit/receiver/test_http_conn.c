/* Unit tests for receiver/http_conn.c: deadlines, the request-head scanner and the
 * in-flight body budget of the OTLP/HTTP receiver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "receiver/http_conn.h"

static const struct xb_http_timeouts TO = {
    .read_header_ms = 10000, .read_ms = 30000, .idle_ms = 60000, .write_ms = 5000};

static void test_deadline_per_phase(void **state)
{
    struct xb_http_deadline d;
    (void)state;

    d = xb_http_deadline_of(XB_HTTP_PHASE_HEAD, 1000, &TO);
    assert_int_equal(d.kind, XB_HTTP_DL_READ_HEADER);
    assert_int_equal(d.at_ms, 11000);
    d = xb_http_deadline_of(XB_HTTP_PHASE_BODY, 1000, &TO);
    assert_int_equal(d.kind, XB_HTTP_DL_READ);
    assert_int_equal(d.at_ms, 31000);
    d = xb_http_deadline_of(XB_HTTP_PHASE_REPLY, 2000, &TO);
    assert_int_equal(d.kind, XB_HTTP_DL_WRITE);
    assert_int_equal(d.at_ms, 7000);
    d = xb_http_deadline_of(XB_HTTP_PHASE_IDLE, 3000, &TO);
    assert_int_equal(d.kind, XB_HTTP_DL_IDLE);
    assert_int_equal(d.at_ms, 63000);
    assert_string_equal(xb_http_deadline_name(XB_HTTP_DL_READ_HEADER), "read_header_timeout");
    assert_string_equal(xb_http_deadline_name(XB_HTTP_DL_IDLE), "idle_timeout");
}

/* The head phase is bounded by the shorter of read_header and read. */
static void test_deadline_head_takes_earlier(void **state)
{
    struct xb_http_timeouts to = TO;
    struct xb_http_deadline d;
    (void)state;

    to.read_ms = 4000;
    d = xb_http_deadline_of(XB_HTTP_PHASE_HEAD, 0, &to);
    assert_int_equal(d.kind, XB_HTTP_DL_READ);
    assert_int_equal(d.at_ms, 4000);
    to.read_header_ms = 0; /* no header deadline: read still applies */
    d = xb_http_deadline_of(XB_HTTP_PHASE_HEAD, 0, &to);
    assert_int_equal(d.kind, XB_HTTP_DL_READ);
    to.read_ms = 0;
    d = xb_http_deadline_of(XB_HTTP_PHASE_HEAD, 0, &to);
    assert_int_equal(d.kind, XB_HTTP_DL_NONE);
    to.read_ms = 10000;
    to.read_header_ms = 10000; /* tie: the header deadline is named */
    d = xb_http_deadline_of(XB_HTTP_PHASE_HEAD, 5, &to);
    assert_int_equal(d.kind, XB_HTTP_DL_READ_HEADER);
    assert_int_equal(d.at_ms, 10005);
}

static void test_deadline_zero_disables(void **state)
{
    struct xb_http_timeouts none = {0};
    (void)state;
    for (int p = XB_HTTP_PHASE_HEAD; p <= XB_HTTP_PHASE_IDLE; p++)
        assert_int_equal(xb_http_deadline_of((enum xb_http_phase)p, 99, &none).kind,
                         XB_HTTP_DL_NONE);
}

static const char REQ[] = "POST /v1/traces HTTP/1.1\r\n"
                          "Host: x\r\n"
                          "Content-Type: application/json; charset=utf-8\r\n"
                          "Content-Length: 1234\r\n"
                          "\r\n"
                          "BODY";

static void test_head_whole(void **state)
{
    struct xb_http_head h;
    size_t n = strlen(REQ);
    (void)state;

    xb_http_head_init(&h);
    assert_int_equal(xb_http_head_feed(&h, REQ, n), n - 4);
    assert_true(h.done);
    assert_true(h.has_length);
    assert_false(h.bad_length);
    assert_int_equal(h.content_length, 1234);
    assert_true(h.json);
    assert_false(h.chunked);
    assert_int_equal(h.head_bytes, n - 4);
    assert_int_equal(xb_http_head_feed(&h, "more", 4), 0);
}

/* One byte at a time (a slowloris client) gives the same result. */
static void test_head_byte_by_byte(void **state)
{
    struct xb_http_head h;
    size_t n = strlen(REQ), head = 0;
    (void)state;

    xb_http_head_init(&h);
    for (size_t i = 0; i < n && !h.done; i++) {
        assert_false(h.done);
        head += xb_http_head_feed(&h, REQ + i, 1);
    }
    assert_true(h.done);
    assert_int_equal(head, n - 4);
    assert_int_equal(h.content_length, 1234);
}

static void test_head_bare_lf_and_leading_blank(void **state)
{
    static const char req[] = "\r\nPOST /v1/traces HTTP/1.1\ncontent-length:  7 \n"
                              "Content-Type: application/x-protobuf\n\nabcdefg";
    struct xb_http_head h;
    (void)state;

    xb_http_head_init(&h);
    assert_int_equal(xb_http_head_feed(&h, req, strlen(req)), strlen(req) - 7);
    assert_true(h.done);
    assert_int_equal(h.content_length, 7);
    assert_false(h.json);
}

static void test_head_incomplete(void **state)
{
    static const char req[] = "POST /v1/traces HTTP/1.1\r\nContent-Length: 5\r\n";
    struct xb_http_head h;
    (void)state;

    xb_http_head_init(&h);
    assert_int_equal(xb_http_head_feed(&h, req, strlen(req)), strlen(req));
    assert_false(h.done);
    assert_int_equal(xb_http_head_feed(&h, "\r", 1), 1);
    assert_false(h.done);
    assert_int_equal(xb_http_head_feed(&h, "\nX", 2), 1);
    assert_true(h.done);
}

static void test_head_chunked_and_bad_lengths(void **state)
{
    static const char chunked[] = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n";
    static const char bad[] = "POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n";
    static const char twice[] = "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
    static const char plus[] = "POST / HTTP/1.1\r\nContent-Length: +4000\r\n\r\n";
    static const char same[] = "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n";
    static const char huge[] = "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n";
    struct xb_http_head h;
    (void)state;

    xb_http_head_init(&h);
    xb_http_head_feed(&h, chunked, strlen(chunked));
    assert_true(h.done && h.chunked);
    assert_int_equal(xb_http_body_charge(&h, 4096), 4096);

    xb_http_head_init(&h);
    xb_http_head_feed(&h, bad, strlen(bad));
    assert_true(h.done && h.bad_length);
    assert_int_equal(xb_http_body_charge(&h, 4096), 4096);

    xb_http_head_init(&h);
    xb_http_head_feed(&h, twice, strlen(twice));
    assert_true(h.bad_length);
    assert_int_equal(xb_http_body_charge(&h, 4096), 4096);

    /* evhttp reads a body for a length strtoll accepts ("+5") and for the first of
     * repeated lengths: an invalid one is charged as the largest body */
    xb_http_head_init(&h);
    xb_http_head_feed(&h, plus, strlen(plus));
    assert_true(h.done && h.bad_length);
    assert_int_equal(xb_http_body_charge(&h, 4096), 4096);

    xb_http_head_init(&h);
    xb_http_head_feed(&h, same, strlen(same));
    assert_false(h.bad_length);
    assert_int_equal(xb_http_body_charge(&h, 4096), 5);

    xb_http_head_init(&h);
    xb_http_head_feed(&h, huge, strlen(huge));
    assert_true(h.bad_length);
}

/* A header line longer than the kept prefix does not confuse the scanner. */
static void test_head_long_line(void **state)
{
    char req[1024];
    struct xb_http_head h;
    size_t n;
    (void)state;

    n = (size_t)snprintf(req, sizeof(req),
                         "POST / HTTP/1.1\r\nX-Pad: %0600d\r\n"
                         "Content-Length: 42\r\n\r\n",
                         7);
    xb_http_head_init(&h);
    assert_int_equal(xb_http_head_feed(&h, req, n), n);
    assert_true(h.done);
    assert_int_equal(h.content_length, 42);
}

/* Read-ahead: only the missing bytes of a charged Content-Length body, never past it. */
static void test_pull_want(void **state)
{
    static const char len[] = "POST /v1/traces HTTP/1.1\r\nContent-Length: 1000\r\n\r\n";
    static const char chunked[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    struct xb_http_head h;
    (void)state;

    xb_http_head_init(&h);
    xb_http_head_feed(&h, len, 10); /* head not complete yet */
    assert_int_equal(xb_http_body_pull_want(&h, 1000, 0, 0), 0);
    xb_http_head_feed(&h, len + 10, strlen(len) - 10);
    assert_true(h.done);
    assert_int_equal(xb_http_body_pull_want(&h, 1000, 0, 0), 1000);
    assert_int_equal(xb_http_body_pull_want(&h, 1000, 999, 0), 1);
    assert_int_equal(xb_http_body_pull_want(&h, 1000, 1000, 0), 0);
    assert_int_equal(xb_http_body_pull_want(&h, 1000, 5000, 0), 0); /* next request buffered */
    assert_int_equal(xb_http_body_pull_want(&h, 1000, 0, 1), 0);    /* TLS */
    assert_int_equal(xb_http_body_pull_want(&h, 0, 0, 0), 0);       /* refused: not charged */
    assert_int_equal(xb_http_body_pull_want(&h, 999, 0, 0), 0);     /* charge differs */

    xb_http_head_init(&h);
    xb_http_head_feed(&h, chunked, strlen(chunked));
    assert_true(h.done && h.chunked);
    assert_int_equal(xb_http_body_pull_want(&h, 4096, 0, 0), 0);
}

static void test_charge(void **state)
{
    struct xb_http_head h;
    (void)state;

    xb_http_head_init(&h);
    h.done = 1;
    assert_int_equal(xb_http_body_charge(&h, 4096), 0); /* no body */
    h.has_length = 1;
    h.content_length = 4096;
    assert_int_equal(xb_http_body_charge(&h, 4096), 4096);
    h.content_length = 4097; /* evhttp answers 413 without buffering */
    assert_int_equal(xb_http_body_charge(&h, 4096), 0);
}

static void test_budget_admit(void **state)
{
    (void)state;
    assert_true(xb_http_budget_admit(0, 100, 1000));
    assert_true(xb_http_budget_admit(900, 100, 1000));
    assert_false(xb_http_budget_admit(901, 100, 1000));
    assert_true(xb_http_budget_admit(901, 0, 1000));  /* no body */
    assert_true(xb_http_budget_admit(0, 5000, 1000)); /* alone: always proceeds */
    assert_false(xb_http_budget_admit(1, 5000, 1000));
    assert_true(xb_http_budget_admit(UINT64_MAX - 1, 100, 0));           /* unlimited */
    assert_false(xb_http_budget_admit(UINT64_MAX - 1, 100, UINT64_MAX)); /* no overflow */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_per_phase),
        cmocka_unit_test(test_deadline_head_takes_earlier),
        cmocka_unit_test(test_deadline_zero_disables),
        cmocka_unit_test(test_head_whole),
        cmocka_unit_test(test_head_byte_by_byte),
        cmocka_unit_test(test_head_bare_lf_and_leading_blank),
        cmocka_unit_test(test_head_incomplete),
        cmocka_unit_test(test_head_chunked_and_bad_lengths),
        cmocka_unit_test(test_head_long_line),
        cmocka_unit_test(test_charge),
        cmocka_unit_test(test_pull_want),
        cmocka_unit_test(test_budget_admit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
