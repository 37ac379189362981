/*
 * tests/unit/translator/test_doc_fmt.c - the document's time formatter
 * (xb_tr_doc_fmt_seconds) gives exactly the bytes of the general shortest-double
 * formatter (xb_jsonw_fmt_double, Go layout) on every value it takes, and takes no
 * value outside 2^30 <= v < 2^31.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/jsonw.h"
#include "translator/doc.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

/* Both formatters on |v|; 1 when the fast one took it. */
static int check(double v)
{
    char want[400], got[32];
    size_t n = xb_tr_doc_fmt_seconds(got, v);

    if (n == 0)
        return 0;
    xb_jsonw_fmt_double(want, v, 1);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
    return 1;
}

static void test_fmt_seconds_matches_general(void **state)
{
    static const double edges[] = {1073741824.0,       2147483647.0,        1700000000.0,
                                   1700000000.5,       1700000000.1,        1700000000.000001,
                                   1699999999.9999999, 1700000000.123456789};
    size_t taken = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        assert_true(check(edges[i]));
        assert_true(i == 0 || check(nextafter(edges[i], 0))); /* edges[0] = 2^30 */
        assert_true(check(nextafter(edges[i], 3e9)));
    }
    assert_true(check(nextafter(2147483648.0, 0)));
    /* outside the range: left to the general formatter */
    assert_false(check(2147483648.0));
    assert_false(check(nextafter(1073741824.0, 0)));
    assert_false(check(-1700000000.5));
    assert_false(check(0.5));
    assert_false(check(NAN));
    for (int i = 0; i < 500000; i++) {
        /* nanosecond timestamps in range, as the translator computes them */
        uint64_t ns = 1073741824000000000ull + next() % 1073741824000000000ull;
        double v = (double)ns / 1e9;
        uint64_t bits;
        taken += check(v);
        /* whole milliseconds and microseconds (the usual SDK resolutions) */
        taken += check((double)(ns / 1000000 * 1000000) / 1e9);
        taken += check((double)(ns / 1000 * 1000) / 1e9);
        /* any bit pattern with the range's exponent */
        bits = ((uint64_t)(1023 + 30) << 52) | (next() & ((1ull << 52) - 1));
        memcpy(&v, &bits, sizeof(v));
        taken += check(v);
    }
    assert_int_equal(taken, 4 * 500000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_seconds_matches_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
