/*
 * tests/unit/exporter/test_http_call.c - exporter/http_call.c: the capped response
 * body, header field capture (Retry-After, grpc-status) and the in-flight list shared
 * by the exporters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "exporter/http_call.h"

static void test_body_is_capped(void **state)
{
    struct xb_http_call c;
    (void)state;
    xb_http_call_init(&c, NULL, NULL, 8);
    assert_int_equal(xb_http_call_take_body(&c, "abcde", 5), 5);
    assert_int_equal(c.resp.len, 5);
    /* 5 + 4 > 8: ignored, yet reported as taken so that the transfer goes on */
    assert_int_equal(xb_http_call_take_body(&c, "fghi", 4), 4);
    assert_int_equal(c.resp.len, 5);
    assert_int_equal(xb_http_call_take_body(&c, "xyz", 3), 3); /* exactly at the cap */
    assert_int_equal(c.resp.len, 8);
    assert_memory_equal(c.resp.data, "abcdexyz", 8);
    assert_int_equal(xb_http_call_take_body(&c, "z", 1), 1);
    assert_int_equal(c.resp.len, 8);
    xb_http_call_cleanup(&c, 0);
    assert_null(c.resp.data);
}

static void test_body_out_of_memory_aborts(void **state)
{
    struct xb_http_call c;
    (void)state;
    xb_http_call_init(&c, NULL, NULL, 1u << 20);
    c.resp.max = 4; /* the buffer refuses to grow past 4 bytes, as when malloc fails */
    assert_int_equal(xb_http_call_take_body(&c, "abcdef", 6), 0);
    xb_http_call_cleanup(&c, 0);
}

static void test_header_value(void **state)
{
    static const char ra[] = "Retry-After: 120\r\n";
    static const char st[] = "grpc-status: 14\r\n";
    char out[16] = "untouched";
    (void)state;
    assert_int_equal(xb_http_header_value(ra, strlen(ra), "retry-after:", out, sizeof(out)), 1);
    assert_string_equal(out, " 120"); /* blanks kept; the parsers skip them */
    assert_int_equal(xb_http_header_value(st, strlen(st), "retry-after:", out, sizeof(out)), 0);
    assert_string_equal(out, " 120");
    assert_int_equal(xb_http_header_value(st, strlen(st), "GRPC-STATUS:", out, sizeof(out)), 1);
    assert_string_equal(out, " 14");
    /* the name alone, without a value byte, is not a match */
    assert_int_equal(xb_http_header_value("retry-after:", 12, "retry-after:", out, 16), 0);
    /* a prefix of the name is not a match */
    assert_int_equal(xb_http_header_value("retry: 1\r\n", 10, "retry-after:", out, 16), 0);
}

static void test_header_value_truncates(void **state)
{
    static const char m[] = "grpc-message: a long message that does not fit\r\n";
    char out[8];
    (void)state;
    assert_int_equal(xb_http_header_value(m, strlen(m), "grpc-message:", out, sizeof(out)), 1);
    assert_string_equal(out, " a long");
    /* only |n| bytes are read, and a bare LF ends the value */
    assert_int_equal(xb_http_header_value("grpc-message: ab\ncd", 19, "grpc-message:", out, 8), 1);
    assert_string_equal(out, " ab");
    assert_int_equal(xb_http_header_value("grpc-message: abcdef", 16, "grpc-message:", out, 8), 1);
    assert_string_equal(out, " ab");
}

static void test_inflight_list(void **state)
{
    struct xb_http_call a, b, c;
    struct xb_http_calls l = {0};
    (void)state;
    xb_http_call_init(&a, NULL, &a, 1);
    xb_http_call_init(&b, NULL, &b, 1);
    xb_http_call_init(&c, NULL, &c, 1);
    /* xb_http_call_add needs a loop; link by hand as it does */
    c.next = NULL;
    b.next = &c;
    a.next = &b;
    l.head = &a;
    l.n = 3;
    xb_http_calls_unlink(&l, &b); /* middle */
    assert_int_equal(l.n, 2);
    assert_ptr_equal(l.head, &a);
    assert_ptr_equal(a.next, &c);
    xb_http_calls_unlink(&l, &b); /* not there: no change */
    assert_int_equal(l.n, 2);
    xb_http_calls_unlink(&l, &a); /* head */
    assert_ptr_equal(l.head, &c);
    assert_ptr_equal(l.head->owner, &c);
    xb_http_calls_unlink(&l, &c);
    assert_null(l.head);
    assert_int_equal(l.n, 0);
}

static void test_unbuilt_call(void **state)
{
    struct xb_http_call c;
    (void)state;
    xb_http_call_init(&c, NULL, NULL, 1);
    assert_int_equal(xb_http_call_status(&c), 0);
    assert_string_equal(xb_http_call_error(&c, CURLE_OK), curl_easy_strerror(CURLE_OK));
    strcpy(c.errbuf, "Connection refused");
    assert_string_equal(xb_http_call_error(&c, CURLE_COULDNT_CONNECT), "Connection refused");
    xb_http_call_cleanup(&c, 1); /* never built: nothing to remove from a loop */
}

/* Which finished bodies are kept for the next call. */
static void test_body_spare_keeps(void **state)
{
    (void)state;
    assert_true(xb_body_spare_keeps(100, 0, 2, 1000));
    assert_true(xb_body_spare_keeps(1000, 1, 2, 1000));  /* exactly the limit */
    assert_false(xb_body_spare_keeps(1001, 0, 2, 1000)); /* too large: freed */
    assert_false(xb_body_spare_keeps(100, 2, 2, 1000));  /* full */
    assert_false(xb_body_spare_keeps(0, 0, 2, 1000));    /* nothing allocated */
    assert_false(xb_body_spare_keeps(100, 0, 0, 1000));  /* keeping nothing */
}

/* A kept body comes back empty with its allocation; the rest is freed (ASan/valgrind). */
static void test_body_spares(void **state)
{
    struct xb_body_spares s;
    struct xb_buf a, big, none, out;
    char *kept;
    (void)state;
    assert_int_equal(xb_body_spares_init(&s, 1, 4096), XB_OK);
    xb_buf_init(&out, 0);
    xb_body_spares_take(&s, &out); /* none kept yet */
    assert_null(out.data);
    xb_buf_init(&a, 0);
    assert_int_equal(xb_buf_puts(&a, "first body"), XB_OK);
    kept = a.data;
    xb_body_spares_put(&s, &a);
    assert_null(a.data); /* moved out */
    assert_int_equal(s.n, 1);
    xb_buf_init(&big, 0);
    assert_int_equal(xb_buf_reserve(&big, 8192), XB_OK);
    xb_body_spares_put(&s, &big); /* too large and no room: freed */
    assert_null(big.data);
    assert_int_equal(s.n, 1);
    xb_buf_init(&none, 0);
    xb_body_spares_put(&s, &none); /* nothing to keep */
    assert_int_equal(s.n, 1);
    xb_buf_init(&out, 77);
    xb_body_spares_take(&s, &out);
    assert_ptr_equal(out.data, kept);
    assert_int_equal(out.len, 0);
    assert_string_equal(out.data, "");
    assert_int_equal(out.max, 77); /* the taker's cap holds */
    assert_int_equal(s.n, 0);
    xb_body_spares_put(&s, &out);
    xb_body_spares_cleanup(&s);
    assert_int_equal(s.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_is_capped),   cmocka_unit_test(test_body_out_of_memory_aborts),
        cmocka_unit_test(test_header_value),     cmocka_unit_test(test_header_value_truncates),
        cmocka_unit_test(test_inflight_list),    cmocka_unit_test(test_unbuilt_call),
        cmocka_unit_test(test_body_spare_keeps), cmocka_unit_test(test_body_spares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
