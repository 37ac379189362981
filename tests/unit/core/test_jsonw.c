/* tests/unit/core/test_jsonw.c - JSON writer, number formatting, UTF-8 repair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "core/utf8.h"

static void check_double(double v, const char *want)
{
    char out[400];

    xb_jsonw_fmt_double(out, v, 1);
    assert_string_equal(out, want);
}

static void test_jsonw_doubles_go_layout(void **state)
{
    (void)state;
    check_double((double)1700000000250000000ULL / 1e9, "1700000000.2499998");
    check_double(1700000000.5, "1700000000.5");
    check_double(1700000000.0, "1700000000");
    check_double(5.0, "5");
    check_double(0.1, "0.1");
    check_double(-2.5, "-2.5");
    check_double(1e21, "1e+21");
    check_double(1e20, "100000000000000000000");
    check_double(1e-7, "1e-7");
    check_double(1.5e-10, "1.5e-10");
    check_double(0.000001, "0.000001");
    check_double(0, "0");
}

/* Shortest round-trip digits by exhaustive search (the obviously correct, slow way). */
static void shortest_digits(double v, char *digits, int *exp10)
{
    char tmp[40], *e;
    int nd = 0;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    e = strchr(tmp, 'e');
    *exp10 = atoi(e + 1);
    for (char *p = tmp; p < e; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
}

/* The fast formatter agrees with the exhaustive search: it reads back as the same
 * double, and has exactly the shortest digit string. */
static void test_fmt_double_matches_exhaustive_search(void **state)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 200000; i++) {
        char out[400], want[24], got[24];
        int want_exp, got_exp;
        double v;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        switch (i % 4) {
        case 0: memcpy(&v, &x, sizeof(v)); break;             /* any bit pattern */
        case 1: v = (double)(1700000000000000000ull + x % 100000000000000000ull) / 1e9; break;
        case 2: v = (double)(int64_t)(x % 2000000) / 1000.0; break; /* ms durations */
        default: v = (double)(x % 1000000) * 1e-7; break;      /* small decimals */
        }
        if (!isfinite(v) || v == 0)
            continue;
        assert_true(xb_jsonw_fmt_double(out, v, 0) > 0);
        assert_true(strtod(out, NULL) == v);
        shortest_digits(v, want, &want_exp);
        snprintf(out, sizeof(out), "%.*e", (int)strlen(want) - 1, v);
        shortest_digits(strtod(out, NULL), got, &got_exp);
        xb_jsonw_fmt_double(out, v, 0);
        /* Compare significant digits of our output with the exhaustive result. */
        {
            char sig[400];
            int n = 0, seen = 0;
            for (const char *p = out; *p && *p != 'e' && *p != 'E'; p++) {
                if (*p < '0' || *p > '9')
                    continue;
                if (*p == '0' && !seen)
                    continue;
                seen = 1;
                sig[n++] = *p;
            }
            while (n > 1 && sig[n - 1] == '0')
                n--;
            sig[n] = '\0';
            assert_string_equal(sig, want);
        }
    }
}

static void test_jsonw_nonfinite_is_null(void **state)
{
    struct xb_buf b;
    struct xb_jsonw w;

    (void)state;
    xb_buf_init(&b, 0);
    xb_jsonw_init(&w, &b);
    xb_jsonw_arr_begin(&w);
    xb_jsonw_double(&w, 0.0 / 0.0);
    xb_jsonw_double(&w, 1.0 / 0.0);
    xb_jsonw_int(&w, INT64_MIN);
    xb_jsonw_uint(&w, UINT64_MAX);
    xb_jsonw_arr_end(&w);
    assert_int_equal(w.err, 0);
    assert_string_equal(b.data, "[null,null,-9223372036854775808,18446744073709551615]");
    xb_buf_cleanup(&b);
}

static void test_jsonw_escapes_controls_and_invalid_utf8(void **state)
{
    struct xb_buf b;
    struct xb_jsonw w;
    const char in[] = "a\"b\\c\n\x01\x1f\xff\xc3\xa9\xe2\x80\xa8\xed\xa0\x80z";

    (void)state;
    xb_buf_init(&b, 0);
    xb_jsonw_init(&w, &b);
    xb_jsonw_obj_begin(&w);
    xb_jsonw_key(&w, "k\t", 2);
    xb_jsonw_str(&w, in, sizeof(in) - 1);
    xb_jsonw_obj_end(&w);
    assert_int_equal(w.err, 0);
    /* 0xFF -> U+FFFD; é kept; U+2028 escaped; encoded surrogate (3 bytes) -> 3 x U+FFFD */
    assert_string_equal(b.data, "{\"k\\t\":\"a\\\"b\\\\c\\n\\u0001\\u001f\xef\xbf\xbd\xc3\xa9"
                                "\\u2028\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"}");
    xb_buf_cleanup(&b);
}

static void test_jsonw_max_str_cuts_on_char_boundary(void **state)
{
    struct xb_buf b;
    struct xb_jsonw w;

    (void)state;
    xb_buf_init(&b, 0);
    xb_jsonw_init(&w, &b);
    w.max_str = 4;
    xb_jsonw_str(&w, "ab\xc3\xa9\xc3\xa9", 6); /* "abéé": cut at 4 keeps "abé" */
    assert_string_equal(b.data, "\"ab\xc3\xa9\"");
    xb_buf_clear(&b);
    xb_jsonw_init(&w, &b);
    w.max_str = 3;
    xb_jsonw_str(&w, "ab\xc3\xa9", 4); /* would split é: keep "ab" */
    assert_string_equal(b.data, "\"ab\"");
    xb_buf_cleanup(&b);
}

static void test_jsonw_limit_sets_too_large_and_keeps_counting(void **state)
{
    struct xb_buf b;
    struct xb_jsonw w;

    (void)state;
    xb_buf_init(&b, 0);
    xb_jsonw_init(&w, &b);
    w.limit = 5;
    xb_jsonw_str(&w, "0123456789", 10);
    assert_int_equal(w.err, -3 /* XB_ERR_TOO_LARGE */);
    assert_int_equal(w.written, 12);
    xb_buf_cleanup(&b);
}

/* A whole document embedded as a string (the PutTraceSegments body): only '"' and '\\'
 * of writer output need escaping, and anything else is escaped as string values are. */
static void test_jsonw_escape_embeds_a_document(void **state)
{
    struct xb_buf b, v;
    struct xb_jsonw w;
    const char in[] = "a\n\x01\xff\xe2\x80\xa8\"";

    (void)state;
    xb_buf_init(&b, 0);
    xb_buf_puts(&b, "[");
    assert_int_equal(xb_jsonw_escape(&b, "{\"k\":\"x\\\"y\\\\z\"}", 15), 0);
    assert_string_equal(b.data, "[{\\\"k\\\":\\\"x\\\\\\\"y\\\\\\\\z\\\"}");
    xb_buf_clear(&b);
    assert_int_equal(xb_jsonw_escape(&b, in, sizeof(in) - 1), 0);
    xb_buf_init(&v, 0);
    xb_jsonw_init(&w, &v);
    xb_jsonw_str_full(&w, in, sizeof(in) - 1);
    assert_int_equal(w.err, 0);
    assert_int_equal(b.len + 2, v.len);
    assert_memory_equal(b.data, v.data + 1, b.len);
    xb_buf_cleanup(&v);
    xb_buf_init(&v, 4);
    assert_int_equal(xb_jsonw_escape(&v, "0123456789", 10), -3 /* XB_ERR_TOO_LARGE */);
    xb_buf_cleanup(&v);
    xb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonw_doubles_go_layout),
        cmocka_unit_test(test_jsonw_nonfinite_is_null),
        cmocka_unit_test(test_fmt_double_matches_exhaustive_search),
        cmocka_unit_test(test_jsonw_escapes_controls_and_invalid_utf8),
        cmocka_unit_test(test_jsonw_max_str_cuts_on_char_boundary),
        cmocka_unit_test(test_jsonw_limit_sets_too_large_and_keeps_counting),
        cmocka_unit_test(test_jsonw_escape_embeds_a_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
