/* tests/unit/core/test_jsonw.c - JSON writer, number formatting, UTF-8 repair. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
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
        case 0:
            memcpy(&v, &x, sizeof(v));
            break; /* any bit pattern */
        case 1:
            v = (double)(1700000000000000000ull + x % 100000000000000000ull) / 1e9;
            break;
        case 2:
            v = (double)(int64_t)(x % 2000000) / 1000.0;
            break; /* ms durations */
        default:
            v = (double)(x % 1000000) * 1e-7;
            break; /* small decimals */
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

/*
 * Reference: the formatter as it was before the table-driven search (kept verbatim
 * apart from the names). The current one must give the same bytes for every input.
 */
static int ref_shortest_exact(double v, char *digits, int *exp10)
{
    typedef unsigned __int128 u128;
    uint64_t bits, m;
    int e, s, t, nd;
    u128 p5 = 1, lo, hi, val, pow10 = 1, c = 0;
    char rev[40];
    int inclusive;

    memcpy(&bits, &v, sizeof(bits));
    if (((bits >> 52) & 0x7FF) == 0 || ((bits >> 52) & 0x7FF) == 0x7FF)
        return 0;
    m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    e = (int)((bits >> 52) & 0x7FF) - 1075;
    if (e >= 0 || e < -30 || m == (1ull << 52))
        return 0; /* integers, tiny values, or the asymmetric power-of-two boundary */
    s = 1 - e;
    for (int i = 0; i < s; i++)
        p5 *= 5;
    lo = (u128)(2 * m - 1) * p5;
    hi = (u128)(2 * m + 1) * p5;
    val = (u128)(2 * m) * p5;
    inclusive = (m & 1) == 0;
    /* Largest t with 10^t <= hi, then downwards to the first t that has a multiple. */
    for (t = 0; pow10 <= hi / 10; t++)
        pow10 *= 10;
    for (; t >= 0; t--, pow10 /= 10) {
        u128 clo = lo / pow10, chi = hi / pow10, q = val / pow10, r = val % pow10;
        if (clo * pow10 < lo || (!inclusive && clo * pow10 == lo))
            clo++;
        if (!inclusive && chi * pow10 == hi)
            chi--;
        if (clo > chi)
            continue;
        /* nearest multiple of 10^t to val, ties to even */
        c = q;
        if (r * 2 > pow10 || (r * 2 == pow10 && (q & 1)))
            c = q + 1;
        if (c < clo)
            c = clo;
        if (c > chi)
            c = chi;
        break;
    }
    if (t < 0 || c == 0)
        return 0;
    for (nd = 0; c > 0; c /= 10)
        rev[nd++] = (char)('0' + (int)(c % 10));
    *exp10 = nd - 1 + t - s;
    {
        int o = 0, k = nd;
        while (k > 1 && rev[nd - k] == '0')
            k--; /* rev holds least significant digit first: skip trailing zeros */
        for (int i = nd - 1; i >= nd - k; i--)
            digits[o++] = rev[i];
        digits[o] = '\0';
        return o;
    }
}

static size_t ref_fmt_double(char *out, double v, int go_json)
{
    char tmp[40], digits[24];
    int prec, exp10, nd = 0, neg, k;
    char *e, *p;
    size_t o = 0;
    double av;

    out[0] = '\0';
    if (!isfinite(v))
        return 0;
    if (v == 0) {
        if (signbit(v))
            out[o++] = '-';
        out[o++] = '0';
        out[o] = '\0';
        return o;
    }
    /* Integral values below 2^53 (status codes, counts, whole seconds) are exact as
     * integers: print them directly, no search needed. */
    if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v)
        return (size_t)snprintf(out, 32, "%" PRId64, (int64_t)v);
    /* Fewest significant digits that read back as the same double. A normal double
     * whose shortest form has k <= 15 digits is printed by "%.14e" as those k digits
     * plus zeros (it lies within half an ulp of them, well below half a unit in the
     * 15th digit), and the zeros are stripped below; so for normal numbers the search
     * starts at 15 and takes at most three tries instead of seventeen. Subnormals have
     * relatively wider ulps and get the full search. */
    neg = signbit(v) != 0;
    nd = ref_shortest_exact(fabs(v), digits, &exp10);
    if (nd == 0) {
        for (prec = fpclassify(v) == FP_NORMAL ? 15 : 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        e = strchr(tmp, 'e');
        if (!e)
            return 0;
        exp10 = atoi(e + 1);
        for (p = tmp + neg; p < e; p++)
            if (*p >= '0' && *p <= '9')
                digits[nd++] = *p;
        while (nd > 1 && digits[nd - 1] == '0')
            nd--;
    }
    if (neg)
        out[o++] = '-';
    av = fabs(v);
    if (go_json && (av < 1e-6 || av >= 1e21)) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (k = 1; k < nd; k++)
                out[o++] = digits[k];
        }
        /* strconv writes at least two exponent digits; encoding/json drops the 0 in e-0N */
        o += (size_t)snprintf(out + o, 16, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        if (exp10 < 0 && exp10 > -10)
            snprintf(out + o - 2, 16, "%d", -exp10), o--;
        return o;
    }
    if (exp10 >= 0) {
        for (k = 0; k <= exp10; k++)
            out[o++] = k < nd ? digits[k] : '0';
        if (nd > exp10 + 1) {
            out[o++] = '.';
            for (k = exp10 + 1; k < nd; k++)
                out[o++] = digits[k];
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (k = 0; k < -exp10 - 1; k++)
            out[o++] = '0';
        for (k = 0; k < nd; k++)
            out[o++] = digits[k];
    }
    out[o] = '\0';
    return o;
}

/* Same bytes as the reference on edge cases and on a million random inputs, weighted
 * towards what the translator formats most: timestamps (nanoseconds / 1e9). */
/* The integer formatters print what printf prints: edge cases and 1,000,000 random
 * values of every magnitude. */
static void test_fmt_int_matches_printf(void **state)
{
    static const int64_t edges[] = {0,
                                    1,
                                    -1,
                                    9,
                                    10,
                                    99,
                                    100,
                                    -100,
                                    999999,
                                    1000000,
                                    INT64_MAX,
                                    INT64_MIN,
                                    INT64_MIN + 1,
                                    4294967296};
    char got[32], want[32];
    uint64_t x = 0x9E3779B97F4A7C15ull;

    (void)state;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        snprintf(want, sizeof(want), "%" PRId64, edges[i]);
        assert_int_equal(xb_jsonw_fmt_int(got, edges[i]), strlen(want));
        assert_string_equal(got, want);
        snprintf(want, sizeof(want), "%" PRIu64, (uint64_t)edges[i]);
        assert_int_equal(xb_jsonw_fmt_uint(got, (uint64_t)edges[i]), strlen(want));
        assert_string_equal(got, want);
    }
    for (int i = 0; i < 1000000; i++) {
        uint64_t v;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = x >> (x % 64); /* every magnitude */
        snprintf(want, sizeof(want), "%" PRId64, (int64_t)v);
        xb_jsonw_fmt_int(got, (int64_t)v);
        assert_string_equal(got, want);
        snprintf(want, sizeof(want), "%" PRIu64, v);
        xb_jsonw_fmt_uint(got, v);
        assert_string_equal(got, want);
        snprintf(want, sizeof(want), "%" PRId64, -(int64_t)(v >> 1));
        xb_jsonw_fmt_int(got, -(int64_t)(v >> 1));
        assert_string_equal(got, want);
    }
}

static void test_fmt_double_matches_reference(void **state)
{
    static const double edge[] = {
        0.5,
        0.25,
        0.1,
        0.2,
        0.3,
        1.5,
        2.5,
        1e-6,
        1e-7,
        9.999999999999999e-7,
        1e21,
        1e20,
        123456789.123456789,
        1700000000.0000001,
        1700000000.9999999,
        4294967295.9999995,
        2.2250738585072014e-308,
        4.9e-324,
        1.7976931348623157e308,
        0.30000000000000004,
        1700000000.2499998,
        1.0000000000000002,
        0.9999999999999999,
        3.0517578125e-05,
    };
    uint64_t x = 0x2545F4914F6CDD1Du;
    char got[400], want[400];
    (void)state;

    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        for (int g = 0; g <= 1; g++) {
            for (int sign = 0; sign <= 1; sign++) {
                double v = sign ? -edge[i] : edge[i];
                size_t n = ref_fmt_double(want, v, g);
                assert_int_equal(xb_jsonw_fmt_double(got, v, g), n);
                assert_string_equal(got, want);
            }
        }
    }
    for (int i = 0; i < 1000000; i++) {
        double v;
        uint64_t bits;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        switch (i % 8) {
        case 0:
            memcpy(&v, &x, sizeof(v));
            break; /* any bit pattern */
        case 1:    /* any mantissa, binary exponent in [-110, 10] around the fast path */
            bits = (x & ((1ull << 52) - 1)) | ((uint64_t)(1075 - 110 + (x >> 57) % 121) << 52);
            memcpy(&v, &bits, sizeof(v));
            break;
        case 2:
            v = (double)(x % 2000000) / 1000.0;
            break; /* ms durations */
        case 3:
            v = (double)(x % 100000000) * 1e-7;
            break; /* small decimals */
        case 4:
            v = (double)(x % 1000000000000ull) / 1e6;
            break; /* µs values */
        case 5:
            v = (double)(x % 10000000) / 100.0;
            break; /* prices */
        case 6:
            v = (double)(x % 1000000) * 1e-12;
            break; /* tiny decimals */
        default:   /* timestamps: Unix nanoseconds 2001..2100 divided by 1e9 */
            v = (double)(1000000000000000000ull + x % 3100000000000000000ull) / 1e9;
            break;
        }
        for (int g = 0; g <= 1; g++) {
            size_t n = ref_fmt_double(want, v, g);
            assert_int_equal(xb_jsonw_fmt_double(got, v, g), n);
            if (strcmp(got, want) != 0)
                fail_msg("%.17g: got %s, reference %s", v, got, want);
        }
    }
}

/* Short decimals (c / 10^f for every f up to 22 and c of every length), their
 * neighbours one and two ulps away, halfway-looking values and powers of two: the
 * formatter's short-decimal path and the searches behind it agree with the reference
 * on every one. */
static void test_fmt_double_short_decimals_match_reference(void **state)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t x = 0x853C49E6748FEA9Bu;
    char got[400], want[400];
    (void)state;

    for (int i = 0; i < 1000000; i++) {
        double v;
        uint64_t c;
        int f;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f = (int)(x % 23);
        c = (x >> 8) % (1ull << (1 + (x >> 60) * 4 % 56)); /* 1 to 55 bits */
        switch ((x >> 5) % 6) {
        case 0:
        case 1:
            v = (double)c / pow10[f];
            break;
        case 2: /* one ulp away */
            v = nextafter((double)c / pow10[f], (x & 1) ? INFINITY : 0);
            break;
        case 3: /* two ulps away */
            v = nextafter(nextafter((double)c / pow10[f], (x & 1) ? INFINITY : 0),
                          (x & 1) ? INFINITY : 0);
            break;
        case 4: /* x.5 at the last decimal */
            v = ((double)c + 0.5) / pow10[f];
            break;
        default: /* powers of two and their neighbours (asymmetric intervals) */
            v = ldexp(1.0, (int)((x >> 20) % 200) - 150);
            if (x & 2)
                v = nextafter(v, (x & 1) ? INFINITY : 0);
            break;
        }
        for (int g = 0; g <= 1; g++) {
            size_t n = ref_fmt_double(want, v, g);
            assert_int_equal(xb_jsonw_fmt_double(got, v, g), n);
            if (strcmp(got, want) != 0)
                fail_msg("%.17g: got %s, reference %s", v, got, want);
        }
    }
}

/* Byte-at-a-time reference for string values: the rules of jsonw.h spelled out. */
static size_t ref_escape(const unsigned char *s, size_t n, char *out)
{
    size_t o = 0, i = 0;

    out[o++] = '"';
    while (i < n) {
        unsigned char c = s[i];
        size_t l;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
        } else if (c < 0x20) {
            o += (size_t)sprintf(out + o, "\\u%04x", c);
        } else if (c < 0x80) {
            out[o++] = (char)c;
        } else if ((l = xb_utf8_char((const char *)s + i, n - i, NULL)) == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else if (l == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8) {
            o += (size_t)sprintf(out + o, "\\u%04x", s[i + 2] == 0xA8 ? 0x2028 : 0x2029);
            i += 3;
            continue;
        } else {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
            continue;
        }
        i++;
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* String values (fast eight-byte path and byte path) match the reference on random
 * text mixing plain ASCII with every kind of byte that needs attention, at every
 * length and offset around the eight-byte blocks. */
static void test_jsonw_str_matches_reference(void **state)
{
    static const unsigned char pool[] = "abcdefghijklmnop QRSTUVWXYZ0123456789-_./:";
    static const unsigned char special[] = {'"',  '\\', '\n', 0x01, 0x1F, 0x7F, 0xC3,
                                            0xA9, 0xE2, 0x80, 0xA8, 0xFF, 0xF0, 0x9F};
    uint64_t x = 0x9E3779B97F4A7C15u;
    unsigned char in[80];
    char want[600];
    (void)state;

    for (int iter = 0; iter < 200000; iter++) {
        struct xb_buf b;
        struct xb_jsonw w;
        size_t n, wn;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n = (size_t)(x % sizeof(in));
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            in[i] = (x % 23 == 0) ? special[(x >> 8) % sizeof(special)]
                                  : pool[(x >> 8) % (sizeof(pool) - 1)];
        }
        wn = ref_escape(in, n, want);
        xb_buf_init(&b, 0);
        if (iter & 1)
            assert_int_equal(xb_buf_reserve(&b, 1024), 0); /* room: fast path */
        xb_jsonw_init(&w, &b);
        xb_jsonw_str_full(&w, (const char *)in, n);
        assert_int_equal(w.err, 0);
        assert_int_equal(b.len, wn);
        assert_memory_equal(b.data, want, wn);
        xb_buf_cleanup(&b);
    }
}

/* Short strings and keys (up to 17 bytes, the fixed-size load path) match the
 * reference at every length, with a special byte at any position, with and without
 * room reserved, and with exactly the room they need. */
static void test_jsonw_short_str_and_key_match_reference(void **state)
{
    static const unsigned char pool[] = "abcdefghijklmnop QRSTUVWXYZ0123456789-_./:~";
    static const unsigned char special[] = {'"',  '\\', '\n', 0x01, 0x1F, 0x7F, 0xC3, 0xA9,
                                            0xE2, 0x80, 0xA8, 0xFF, 0x20, 0x21, 0x5B, 0x5D};
    uint64_t x = 0xD1B54A32D192ED03u;
    unsigned char in[18];
    char want[200];
    (void)state;

    for (int iter = 0; iter < 400000; iter++) {
        struct xb_buf b;
        struct xb_jsonw w;
        size_t n, wn, room;
        int key;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n = (size_t)(x % sizeof(in));
        key = (int)((x >> 8) & 1);
        room = (size_t)((x >> 9) % 4);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            in[i] = (x % 5 == 0) ? special[(x >> 8) % sizeof(special)]
                                 : pool[(x >> 8) % (sizeof(pool) - 1)];
        }
        wn = ref_escape(in, n, want);
        if (key) {
            want[wn++] = ':';
            want[wn] = '\0';
        }
        xb_buf_init(&b, 0);
        if (room == 1)
            assert_int_equal(xb_buf_reserve(&b, 1024), 0);
        else if (room >= 2) /* just enough, or one byte short, for the fast path */
            assert_int_equal(xb_buf_reserve(&b, n + 2 + (size_t)key + room - 1), 0);
        xb_jsonw_init(&w, &b);
        if (key) {
            w.depth = 1; /* as inside an object */
            xb_jsonw_key(&w, (const char *)in, n);
        } else {
            xb_jsonw_str_full(&w, (const char *)in, n);
        }
        assert_int_equal(w.err, 0);
        assert_int_equal(b.len, wn);
        assert_memory_equal(b.data, want, wn + 1);
        xb_buf_cleanup(&b);
    }
}

/* Strings of 1 to 40 bytes with every byte value at every position (the rest plain
 * ASCII), as values and as keys, with room reserved and without: the escape tests
 * (SSE2 compares on both 8-byte halves or on 16-byte blocks, the last one overlapping,
 * or the SWAR test) agree with the reference byte for byte, including bytes 0x1F, 0x20,
 * 0x21, 0x22, 0x23, 0x5C, 0x7F, 0x80 and 0xFF and the halves' and blocks' overlap. */
static void test_jsonw_short_str_every_byte_everywhere(void **state)
{
    unsigned char in[40];
    char want[300];
    (void)state;

    for (size_t n = 1; n <= sizeof(in); n++) {
        for (size_t pos = 0; pos < n; pos++) {
            for (unsigned c = 0; c < 256; c++) {
                for (int mode = 0; mode < 4; mode++) {
                    int key = mode & 1, room = !(mode & 2);
                    struct xb_buf b;
                    struct xb_jsonw w;
                    size_t wn;
                    if (!room && n <= 17 && (c & 7) != 0)
                        continue; /* the general path: a sample of values is enough */
                    for (size_t i = 0; i < n; i++)
                        in[i] = (unsigned char)('a' + i % 26);
                    in[pos] = (unsigned char)c;
                    wn = ref_escape(in, n, want);
                    if (key) {
                        want[wn++] = ':';
                        want[wn] = '\0';
                    }
                    xb_buf_init(&b, 0);
                    if (room)
                        assert_int_equal(xb_buf_reserve(&b, 512), 0);
                    xb_jsonw_init(&w, &b);
                    if (key) {
                        w.depth = 1; /* as inside an object */
                        xb_jsonw_key(&w, (const char *)in, n);
                    } else {
                        xb_jsonw_str_full(&w, (const char *)in, n);
                    }
                    assert_int_equal(w.err, 0);
                    assert_int_equal(b.len, wn);
                    assert_memory_equal(b.data, want, wn + 1);
                    xb_buf_cleanup(&b);
                }
            }
        }
    }
}

/* The fast call in w[0]/b[0] and the general calls in w[1]/b[1] left the same bytes and
 * the same writer state (error, count, depth, key and comma state); frees both buffers. */
static void assert_writers_agree(const struct xb_jsonw w[2], struct xb_buf b[2])
{
    assert_int_equal(w[0].err, w[1].err);
    assert_int_equal(w[0].written, w[1].written);
    assert_int_equal(w[0].after_key, w[1].after_key);
    assert_int_equal(w[0].depth, w[1].depth);
    assert_memory_equal(w[0].need_comma, w[1].need_comma, sizeof(w[0].need_comma));
    assert_int_equal(b[0].len, b[1].len);
    if (b[1].len)
        assert_memory_equal(b[0].data, b[1].data, b[1].len + 1);
    xb_buf_cleanup(&b[0]);
    xb_buf_cleanup(&b[1]);
}

/* xb_jsonw_member_str() leaves the same bytes and state as xb_jsonw_key() then
 * xb_jsonw_str(): keys and values of 0 to 40 bytes (short and SSE2 copies) with special
 * bytes anywhere or none, first member or not, with and without max_str, with no,
 * exact, short and ample room, and with a size limit near. */
static void test_jsonw_member_str_matches_key_then_str(void **state)
{
    static const unsigned char pool[] = "abcdefghijklmnop QRSTUVWXYZ0123456789-_./:~";
    static const unsigned char special[] = {'"',  '\\', '\n', 0x01, 0x7F, 0xC3,
                                            0xA9, 0xE2, 0x80, 0xA8, 0xFF, 0x20};
    uint64_t x = 0x6A09E667F3BCC909u;
    unsigned char in[2][41];
    (void)state;

    for (int iter = 0; iter < 300000; iter++) {
        struct xb_buf b[2];
        struct xb_jsonw w[2];
        size_t n[2], room, max_str, limit;
        unsigned dens;
        int comma;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        comma = (int)(x & 1);
        room = (size_t)((x >> 1) % 5);
        max_str = (x >> 4) % 4 == 0 ? 1 + (x >> 6) % 38 : 0;
        limit = (x >> 11) % 4 == 0 ? 1 + (x >> 13) % 90 : 0;
        dens = (x >> 20) % 2 ? 6 : 97; /* one special byte in 6, or rarely any */
        for (int s = 0; s < 2; s++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            n[s] = (size_t)(x % sizeof(in[s]));
            for (size_t i = 0; i < n[s]; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                in[s][i] = (x % dens == 0) ? special[(x >> 8) % sizeof(special)]
                                           : pool[(x >> 8) % (sizeof(pool) - 1)];
            }
        }
        for (int k = 0; k < 2; k++) {
            xb_buf_init(&b[k], 0);
            if (room == 1)
                assert_int_equal(xb_buf_reserve(&b[k], 1024), 0);
            else if (room >= 2) /* around the exact room the one-step path needs */
                assert_int_equal(xb_buf_reserve(&b[k], n[0] + n[1] + 4 + room), 0);
            xb_jsonw_init(&w[k], &b[k]);
            w[k].depth = 1;
            w[k].need_comma[1] = (unsigned char)comma;
            w[k].max_str = max_str;
            w[k].limit = limit;
        }
        xb_jsonw_member_str(&w[0], (const char *)in[0], n[0], (const char *)in[1], n[1]);
        xb_jsonw_key(&w[1], (const char *)in[0], n[0]);
        xb_jsonw_str(&w[1], (const char *)in[1], n[1]);
        assert_writers_agree(w, b);
    }
}

/* xb_jsonw_member_raw() leaves the same bytes and state as xb_jsonw_key() then
 * xb_jsonw_raw_members(): keys of 0 to 40 bytes with special bytes anywhere or none,
 * numbers and literals as values, first member or not, with and without max_str, with
 * no, exact, short and ample room, and with a size limit near. */
static void test_jsonw_member_raw_matches_key_then_raw(void **state)
{
    static const unsigned char pool[] = "abcdefghijklmnop QRSTUVWXYZ0123456789-_./:~";
    static const unsigned char special[] = {'"',  '\\', '\n', 0x01, 0x7F, 0xC3,
                                            0xA9, 0xE2, 0x80, 0xA8, 0xFF, 0x20};
    static const char *const vals[] = {
        "0", "-9223372036854775808", "true", "false", "null", "3.25", "1e+21"};
    uint64_t x = 0x510E527FADE682D1u;
    unsigned char in[41];
    (void)state;

    for (int iter = 0; iter < 300000; iter++) {
        struct xb_buf b[2];
        struct xb_jsonw w[2];
        size_t n, vn, room, max_str, limit;
        const char *v;
        unsigned dens;
        int comma;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        comma = (int)(x & 1);
        room = (size_t)((x >> 1) % 5);
        max_str = (x >> 4) % 4 == 0 ? 1 + (x >> 6) % 38 : 0;
        limit = (x >> 11) % 4 == 0 ? 1 + (x >> 13) % 70 : 0;
        dens = (x >> 20) % 2 ? 6 : 97;
        v = vals[(x >> 22) % (sizeof(vals) / sizeof(vals[0]))];
        vn = strlen(v);
        n = (size_t)((x >> 30) % sizeof(in));
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            in[i] = (x % dens == 0) ? special[(x >> 8) % sizeof(special)]
                                    : pool[(x >> 8) % (sizeof(pool) - 1)];
        }
        for (int k = 0; k < 2; k++) {
            xb_buf_init(&b[k], 0);
            if (room == 1)
                assert_int_equal(xb_buf_reserve(&b[k], 1024), 0);
            else if (room >= 2) /* around the exact room the one-step path needs */
                assert_int_equal(xb_buf_reserve(&b[k], n + vn + 2 + room), 0);
            xb_jsonw_init(&w[k], &b[k]);
            w[k].depth = 1;
            w[k].need_comma[1] = (unsigned char)comma;
            w[k].max_str = max_str;
            w[k].limit = limit;
        }
        xb_jsonw_member_raw(&w[0], (const char *)in, n, v, vn);
        xb_jsonw_key(&w[1], (const char *)in, n);
        xb_jsonw_raw_members(&w[1], v, vn);
        assert_writers_agree(w, b);
    }
}

/* xb_jsonw_ckey_obj_n() leaves the same bytes and state as xb_jsonw_ckey_n() then
 * xb_jsonw_obj_begin(): names of 0 to 24 bytes (the fixed-size copies up to 16, the
 * general path above), first member or not, right after a key, at the depth limit,
 * with no, exact, short and ample room, and with a size limit near. */
static void test_jsonw_ckey_obj_matches_ckey_then_obj_begin(void **state)
{
    static const char names[] = "annotations_and_metadata";
    uint64_t x = 0x3C6EF372FE94F82Bu;
    (void)state;

    for (int iter = 0; iter < 100000; iter++) {
        struct xb_buf b[2];
        struct xb_jsonw w[2];
        size_t kn, room, limit;
        unsigned depth;
        int comma, after_key;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        comma = (int)(x & 1);
        room = (size_t)((x >> 1) % 5);
        limit = (x >> 4) % 4 == 0 ? 1 + (x >> 6) % 30 : 0;
        kn = (size_t)((x >> 12) % 25);
        after_key = (x >> 20) % 8 == 0;
        depth = (x >> 23) % 8 == 0 ? XB_JSONW_MAX_DEPTH - (unsigned)((x >> 26) % 2) : 1;
        for (int k = 0; k < 2; k++) {
            xb_buf_init(&b[k], 0);
            if (room == 1)
                assert_int_equal(xb_buf_reserve(&b[k], 1024), 0);
            else if (room >= 2) /* around the exact room the one-step path needs */
                assert_int_equal(xb_buf_reserve(&b[k], kn + 2 + room), 0);
            xb_jsonw_init(&w[k], &b[k]);
            w[k].depth = depth;
            w[k].need_comma[depth] = (unsigned char)comma;
            w[k].after_key = (unsigned char)after_key;
            w[k].limit = limit;
        }
        xb_jsonw_ckey_obj_n(&w[0], names, kn);
        xb_jsonw_ckey_n(&w[1], names, kn);
        xb_jsonw_obj_begin(&w[1]);
        assert_writers_agree(w, b);
    }
    /* a literal through the inline form */
    {
        struct xb_buf b;
        struct xb_jsonw w;
        xb_buf_init(&b, 0);
        assert_int_equal(xb_buf_reserve(&b, 64), 0);
        xb_jsonw_init(&w, &b);
        xb_jsonw_obj_begin(&w);
        xb_jsonw_ckey_obj(&w, "http");
        xb_jsonw_obj_end(&w);
        xb_jsonw_ckey_obj(&w, "aws");
        xb_jsonw_obj_end(&w);
        xb_jsonw_obj_end(&w);
        assert_int_equal(w.err, 0);
        assert_string_equal(b.data, "{\"http\":{},\"aws\":{}}");
        xb_buf_cleanup(&b);
    }
}

/* xb_jsonw_obj_end() (its in-place path and the general one): '}' appended and the
 * depth lowered, with no, exact and ample room and a limit at, below and above the
 * brace; the error state and byte count kept as for any other write; at depth 0
 * XB_ERR_INVALID and nothing written. */
static void test_jsonw_obj_end_every_room_and_limit(void **state)
{
    (void)state;

    for (int room = 0; room < 4; room++) {
        for (size_t limit = 0; limit < 8; limit++) {
            for (unsigned depth = 0; depth < 3; depth++) {
                for (int err = 0; err <= 1; err++) {
                    struct xb_buf b;
                    struct xb_jsonw w;
                    size_t len, written;
                    xb_buf_init(&b, 0);
                    if (room)
                        assert_int_equal(xb_buf_reserve(&b, (size_t)room), 0);
                    assert_int_equal(xb_buf_append(&b, "{\"a\":1", 6), 0);
                    xb_jsonw_init(&w, &b);
                    w.depth = depth;
                    w.written = 6;
                    w.limit = limit;
                    w.err = err ? XB_ERR_NOMEM : 0;
                    len = b.len;
                    written = w.written;
                    xb_jsonw_obj_end(&w);
                    if (depth == 0) {
                        assert_int_equal(w.err, err ? XB_ERR_NOMEM : XB_ERR_INVALID);
                        assert_int_equal(w.written, written);
                        assert_int_equal(b.len, len);
                    } else if (err) {
                        assert_int_equal(w.err, XB_ERR_NOMEM);
                        assert_int_equal(w.written, written + 1);
                        assert_int_equal(b.len, len);
                        assert_int_equal(w.depth, depth - 1);
                    } else if (limit && written + 1 > limit) {
                        assert_int_equal(w.err, XB_ERR_TOO_LARGE);
                        assert_int_equal(w.written, written + 1);
                        assert_int_equal(b.len, len);
                    } else {
                        assert_int_equal(w.err, 0);
                        assert_int_equal(w.written, written + 1);
                        assert_int_equal(w.depth, depth - 1);
                        assert_int_equal(b.len, len + 1);
                        assert_string_equal(b.data, "{\"a\":1}");
                    }
                    xb_buf_cleanup(&b);
                }
            }
        }
    }
}

/* xb_jsonw_ckey_str() leaves the same bytes and state as xb_jsonw_ckey_n() then
 * xb_jsonw_str(): field names of 1 to 24 bytes, values of 0 to 63 bytes (short and
 * SSE2 paths) with special bytes anywhere, first member or not, with and without
 * max_str, with no, exact, short and ample room, and with a size limit near. */
static void test_jsonw_ckey_str_matches_ckey_then_str(void **state)
{
    static const char names[] = "connection_string_and_more";
    static const unsigned char pool[] = "abcdefghijklmnop QRSTUVWXYZ0123456789-_./:~";
    static const unsigned char special[] = {'"',  '\\', '\n', 0x01, 0x7F, 0xC3,
                                            0xA9, 0xE2, 0x80, 0xA8, 0xFF, 0x20};
    uint64_t x = 0xBB67AE8584CAA73Bu;
    unsigned char in[64];
    (void)state;

    for (int iter = 0; iter < 300000; iter++) {
        struct xb_buf b[2];
        struct xb_jsonw w[2];
        size_t kn, n, room, max_str, limit;
        int comma;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        comma = (int)(x & 1);
        room = (size_t)((x >> 1) % 5);
        max_str = (x >> 4) % 4 == 0 ? 1 + (x >> 6) % 40 : 0;
        limit = (x >> 12) % 4 == 0 ? 1 + (x >> 14) % 90 : 0;
        kn = 1 + (size_t)((x >> 22) % 24);
        n = (size_t)((x >> 30) % sizeof(in));
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            in[i] = (x % 29 == 0) ? special[(x >> 8) % sizeof(special)]
                                  : pool[(x >> 8) % (sizeof(pool) - 1)];
        }
        for (int k = 0; k < 2; k++) {
            xb_buf_init(&b[k], 0);
            if (room == 1)
                assert_int_equal(xb_buf_reserve(&b[k], 1024), 0);
            else if (room >= 2) /* around the exact room the one-step path needs */
                assert_int_equal(xb_buf_reserve(&b[k], kn + n + 4 + room), 0);
            xb_jsonw_init(&w[k], &b[k]);
            w[k].depth = 1;
            w[k].need_comma[1] = (unsigned char)comma;
            w[k].max_str = max_str;
            w[k].limit = limit;
        }
        xb_jsonw_ckey_str(&w[0], names, kn, (const char *)in, n);
        xb_jsonw_ckey_n(&w[1], names, kn);
        xb_jsonw_str(&w[1], (const char *)in, n);
        assert_writers_agree(w, b);
    }
}

/* xb_jsonw_ckey_plain() leaves the same bytes and state as xb_jsonw_ckey_n() then
 * xb_jsonw_str_plain(), in both forms: names of 0 to 24 bytes and ids of 0 to 64, first
 * member or not, right after a key or not, with no, exact, short and ample room, and
 * with a size limit near. */
static void test_jsonw_ckey_plain_matches_ckey_then_str_plain(void **state)
{
    static const char names[] = "connection_string_and_more";
    static const char hex[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    uint64_t x = 0x3C6EF372FE94F82Bu;
    (void)state;

    for (int iter = 0; iter < 300000; iter++) {
        struct xb_buf b[2];
        struct xb_jsonw w[2];
        size_t kn, n, room, limit;
        int comma, after_key, embedded;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        comma = (int)(x & 1);
        room = (size_t)((x >> 1) % 5);
        after_key = (x >> 4) % 8 == 0;
        embedded = (int)((x >> 7) & 1);
        limit = (x >> 12) % 4 == 0 ? 1 + (x >> 14) % 120 : 0;
        kn = (size_t)((x >> 22) % 25);
        n = (size_t)((x >> 30) % 65);
        for (int k = 0; k < 2; k++) {
            xb_buf_init(&b[k], 0);
            if (room == 1)
                assert_int_equal(xb_buf_reserve(&b[k], 1024), 0);
            else if (room >= 2) /* around the exact room the one-step path needs */
                assert_int_equal(xb_buf_reserve(&b[k], kn + n + 6 + room), 0);
            if (embedded)
                xb_jsonw_init_embedded(&w[k], &b[k]);
            else
                xb_jsonw_init(&w[k], &b[k]);
            w[k].depth = 1;
            w[k].need_comma[1] = (unsigned char)comma;
            w[k].limit = limit;
            if (after_key)
                xb_jsonw_ckey(&w[k], "k");
        }
        xb_jsonw_ckey_plain(&w[0], names, kn, hex, n);
        xb_jsonw_ckey_n(&w[1], names, kn);
        xb_jsonw_str_plain(&w[1], hex, n);
        assert_writers_agree(w, b);
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

/* Random bytes for test_jsonw_room_end_matches_general_path: mostly letters, sometimes
 * a byte that needs escaping, a two-byte UTF-8 character or an invalid byte. */
static uint64_t room_rng = 88172645463325252ull;

static unsigned room_rand(unsigned n)
{
    room_rng ^= room_rng << 13;
    room_rng ^= room_rng >> 7;
    room_rng ^= room_rng << 17;
    return (unsigned)(room_rng % n);
}

static size_t room_text(char *out, size_t max)
{
    static const char *const pieces[] = {"a",  "b",  "z",  ".",        "_",
                                         "\"", "\\", "\n", "\xc3\xa9", "\xff"};
    size_t n = 0, want = room_rand((unsigned)max);

    while (n < want) {
        const char *p = room_rand(8) ? pieces[room_rand(5)] : pieces[room_rand(10)];
        size_t l = strlen(p);
        if (n + l > want)
            break;
        memcpy(out + n, p, l);
        n += l;
    }
    out[n] = '\0';
    return n;
}

/* One random writer call, the same on both writers. */
static void room_op(struct xb_jsonw *w, unsigned op, const char *s, size_t n, const char *t,
                    size_t tn)
{
    static const char *const names[] = {
        "", "id", "url", "name", "method", "start_time", "http.response.x", "a_seventeen_bytes"};
    const char *k = names[tn % 8];

    switch (op) {
    case 0:
        xb_jsonw_obj_begin(w);
        break;
    case 1:
        xb_jsonw_obj_end(w);
        break;
    case 2:
        xb_jsonw_arr_begin(w);
        break;
    case 3:
        xb_jsonw_arr_end(w);
        break;
    case 4:
        xb_jsonw_key(w, s, n);
        break;
    case 5:
        xb_jsonw_ckey(w, "trace_id");
        break;
    case 6:
        xb_jsonw_ckey_n(w, k, strlen(k));
        break;
    case 7:
        xb_jsonw_ckey_obj_n(w, k, strlen(k));
        break;
    case 8:
        xb_jsonw_str(w, s, n);
        break;
    case 9:
        xb_jsonw_ckey_str(w, k, strlen(k), s, n);
        break;
    case 10:
        xb_jsonw_member_str(w, s, n, t, tn);
        break;
    case 11:
        xb_jsonw_member_raw(w, s, n, "12.5", 4);
        break;
    case 12:
        xb_jsonw_str_plain(w, "0123456789abcdef", tn % 17);
        break;
    case 13:
        xb_jsonw_int(w, (int64_t)n * -1234567);
        break;
    case 14:
        xb_jsonw_double(w, (double)n / 8.0);
        break;
    case 15:
        xb_jsonw_bool(w, (int)(n & 1));
        break;
    case 16:
        xb_jsonw_null(w);
        break;
    case 17:
        xb_jsonw_raw_members(w, "\"p\":1,\"q\":2", tn % 12);
        break;
    case 18:
        xb_jsonw_str_full(w, s, n);
        break;
    case 19:
        xb_jsonw_ckey_plain(w, k, strlen(k), "1-65536180-5759e988bd862e3fe1be46a9", tn % 36);
        break;
    default:
        xb_jsonw_cstr(w, t);
        break;
    }
}

/* The fast paths' single bound (room_end) against the general path: the same random
 * call sequences written into a buffer with room reserved (0 to 4,096 bytes, fast
 * paths; in half the runs xb_jsonw_ready() before the first call) and into a capped
 * buffer (max set: every write takes the general path),
 * under no limit, limits that are reached part way and max_str, with an error
 * recorded from outside (xb_jsonw_fail()) at a random point in a quarter of the runs:
 * after every call the same bytes, byte count, error and depth. */
static void test_jsonw_room_end_matches_general_path(void **state)
{
    static const size_t rooms[] = {0, 1, 7, 64, 300, 4096};

    (void)state;
    for (int run = 0; run < 20000; run++) {
        struct xb_buf fb, gb;
        struct xb_jsonw f, g;
        size_t limit = room_rand(4) ? 0 : 1 + room_rand(600);
        size_t max_str = room_rand(5) ? 0 : 1 + room_rand(8);
        int fail_at = room_rand(4) ? -1 : (int)room_rand(60);
        int ops = 1 + (int)room_rand(60);

        xb_buf_init(&fb, 0);
        xb_buf_init(&gb, (size_t)1 << 40);
        if (rooms[run % 6])
            assert_int_equal(xb_buf_reserve(&fb, rooms[run % 6]), 0);
        xb_jsonw_init(&f, &fb);
        xb_jsonw_init(&g, &gb);
        f.limit = g.limit = limit;
        f.max_str = g.max_str = max_str;
        if ((run / 6) % 2) { /* the bounds set before the first write: the same output */
            xb_jsonw_ready(&f);
            xb_jsonw_ready(&g);
        }
        for (int i = 0; i < ops; i++) {
            char s[48], t[48];
            size_t n = room_text(s, 40), tn = room_text(t, 40);
            unsigned op = room_rand(21);
            if (i == fail_at) {
                xb_jsonw_fail(&f, XB_ERR_NOMEM);
                xb_jsonw_fail(&g, XB_ERR_NOMEM);
            }
            room_op(&f, op, s, n, t, tn);
            room_op(&g, op, s, n, t, tn);
            assert_int_equal(f.err, g.err);
            assert_int_equal(f.written, g.written);
            assert_int_equal(f.depth, g.depth);
            assert_int_equal(fb.len, gb.len);
            if (fb.len)
                assert_memory_equal(fb.data, gb.data, fb.len + 1);
            if (limit && !f.err)
                assert_true(f.written <= limit);
        }
        xb_buf_cleanup(&fb);
        xb_buf_cleanup(&gb);
    }
}

/* Ids and raw values are copied with fixed-size moves (copy_name(), copy_bytes()):
 * xb_jsonw_str_plain() and xb_jsonw_member_raw() with every length from 0 to 64 bytes,
 * each read from the end of an allocation of exactly that size (so that a read past
 * it shows under ASan), into reserved room, give the same bytes as the general path
 * (a capped buffer, where every write takes it). The source comes from malloc(), not
 * test_malloc(): cmocka pads the latter with 16 guard bytes that a read may touch
 * unseen. */
static void test_jsonw_fixed_copies_every_length(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 64; n++) {
        char *src = malloc(n ? n : 1);
        struct xb_buf fb, gb;
        struct xb_jsonw f, g;

        assert_non_null(src);
        for (size_t i = 0; i < n; i++)
            src[i] = (char)('0' + (i * 7 + n) % 43);
        for (int kind = 0; kind < 2; kind++) {
            xb_buf_init(&fb, 0);
            xb_buf_init(&gb, (size_t)1 << 40);
            assert_int_equal(xb_buf_reserve(&fb, 256), 0);
            xb_jsonw_init(&f, &fb);
            xb_jsonw_init(&g, &gb);
            xb_jsonw_obj_begin(&f);
            xb_jsonw_obj_begin(&g);
            if (kind == 0) {
                xb_jsonw_ckey(&f, "id");
                xb_jsonw_ckey(&g, "id");
                xb_jsonw_str_plain(&f, src, n);
                xb_jsonw_str_plain(&g, src, n);
            } else if (n > 0) {
                xb_jsonw_member_raw(&f, "k", 1, src, n);
                xb_jsonw_key(&g, "k", 1);
                xb_jsonw_raw_members(&g, src, n);
            }
            xb_jsonw_obj_end(&f);
            xb_jsonw_obj_end(&g);
            assert_int_equal(f.err, 0);
            assert_int_equal(g.err, 0);
            assert_int_equal(fb.len, gb.len);
            assert_int_equal(f.written, g.written);
            assert_memory_equal(fb.data, gb.data, fb.len + 1);
            xb_buf_cleanup(&fb);
            xb_buf_cleanup(&gb);
        }
        free(src);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonw_doubles_go_layout),
        cmocka_unit_test(test_jsonw_nonfinite_is_null),
        cmocka_unit_test(test_fmt_double_matches_exhaustive_search),
        cmocka_unit_test(test_fmt_double_matches_reference),
        cmocka_unit_test(test_fmt_double_short_decimals_match_reference),
        cmocka_unit_test(test_fmt_int_matches_printf),
        cmocka_unit_test(test_jsonw_str_matches_reference),
        cmocka_unit_test(test_jsonw_short_str_and_key_match_reference),
        cmocka_unit_test(test_jsonw_short_str_every_byte_everywhere),
        cmocka_unit_test(test_jsonw_member_str_matches_key_then_str),
        cmocka_unit_test(test_jsonw_member_raw_matches_key_then_raw),
        cmocka_unit_test(test_jsonw_ckey_str_matches_ckey_then_str),
        cmocka_unit_test(test_jsonw_ckey_plain_matches_ckey_then_str_plain),
        cmocka_unit_test(test_jsonw_ckey_obj_matches_ckey_then_obj_begin),
        cmocka_unit_test(test_jsonw_obj_end_every_room_and_limit),
        cmocka_unit_test(test_jsonw_room_end_matches_general_path),
        cmocka_unit_test(test_jsonw_fixed_copies_every_length),
        cmocka_unit_test(test_jsonw_escapes_controls_and_invalid_utf8),
        cmocka_unit_test(test_jsonw_max_str_cuts_on_char_boundary),
        cmocka_unit_test(test_jsonw_limit_sets_too_large_and_keeps_counting),
        cmocka_unit_test(test_jsonw_escape_embeds_a_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
