/* tests/unit/translator/test_ids_name.c - trace ids, derived ids, name sanitising, keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"
#include "translator/ids.h"
#include "translator/meta.h"
#include "translator/name.h"

static void test_ids_trace_id_example(void **state)
{
    const uint8_t tid[16] = {0x4e, 0xfa, 0xaf, 0x4d, 0x1e, 0x87, 0x20, 0xb3,
                             0x95, 0x41, 0x90, 0x19, 0x50, 0x01, 0x9e, 0xe5};
    char out[XB_XRAY_TRACE_ID_LEN + 1];

    (void)state;
    xb_tr_ids_xray_trace_id(tid, out);
    assert_string_equal(out, "1-4efaaf4d-1e8720b39541901950019ee5");
    assert_true(xb_tr_ids_valid(tid, 16, 16));
    assert_false(xb_tr_ids_valid(tid, 15, 16));
    assert_false(xb_tr_ids_valid((const uint8_t *)"\0\0\0\0\0\0\0\0", 8, 8));
}

static void test_ids_timestamp_window(void **state)
{
    const uint8_t tid[16] = {0x65, 0x53, 0xf1, 0x00}; /* 1700000000 */

    (void)state;
    assert_true(xb_tr_ids_time_ok(tid, 1700000000));
    assert_true(xb_tr_ids_time_ok(tid, 1700000000 + 2419200));
    assert_false(xb_tr_ids_time_ok(tid, 1700000000 + 2419201));
    assert_true(xb_tr_ids_time_ok(tid, 1700000000 - 300));
    assert_false(xb_tr_ids_time_ok(tid, 1700000000 - 301));
}

static void test_ids_derive_deterministic_nonzero(void **state)
{
    const uint8_t t[16] = {1}, s[8] = {2};

    (void)state;
    assert_true(xb_tr_ids_derive(t, s, 1) == xb_tr_ids_derive(t, s, 1));
    assert_true(xb_tr_ids_derive(t, s, 1) != xb_tr_ids_derive(t, s, 2));
    assert_true(xb_tr_ids_derive(t, s, 1) != 0);
}

/* Reference hex: one byte at a time, as sprintf("%02x") would. */
static void ref_hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The id writers (vector form on x86-64) against the byte-at-a-time reference: every
 * byte value at every position, then random ids; nothing written past the NUL. */
static void test_ids_hex_matches_reference(void **state)
{
    uint8_t id[16];
    char want[40], got[48], tid[XB_XRAY_TRACE_ID_LEN + 8];
    uint64_t r = 0x9E3779B97F4A7C15ull;

    (void)state;
    for (int round = 0; round < 256 * 16 + 20000; round++) {
        if (round < 256 * 16) {
            memset(id, round & 1 ? 0xff : 0, sizeof(id));
            id[(round >> 8) & 15] = (uint8_t)round;
        } else {
            for (size_t i = 0; i < sizeof(id); i++) {
                r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                id[i] = (uint8_t)r;
            }
        }
        for (size_t n = 0; n <= 16; n++) {
            memset(got, 'x', sizeof(got));
            ref_hex(id, n, want);
            xb_tr_ids_hex(id, n, got);
            assert_memory_equal(got, want, 2 * n + 1);
            assert_int_equal(got[2 * n + 1], 'x');
        }
        memset(tid, 'x', sizeof(tid));
        xb_tr_ids_xray_trace_id(id, tid);
        ref_hex(id, 4, want);
        assert_memory_equal(tid, "1-", 2);
        assert_memory_equal(tid + 2, want, 8);
        assert_int_equal(tid[10], '-');
        ref_hex(id + 4, 12, want);
        assert_memory_equal(tid + 11, want, 25);
        assert_int_equal(tid[XB_XRAY_TRACE_ID_LEN + 1], 'x');
        {
            uint64_t v = 0;
            for (int i = 0; i < 8; i++)
                v = v << 8 | id[i];
            memset(got, 'x', sizeof(got));
            xb_tr_ids_u64_hex(v, got);
            ref_hex(id, 8, want);
            assert_memory_equal(got, want, 17);
            assert_int_equal(got[17], 'x');
        }
    }
}

static const char *san(const char *in, char *buf)
{
    xb_tr_name_sanitize(in, strlen(in), buf);
    return buf;
}

static void test_name_sanitize_reference_examples(void **state)
{
    char buf[512];

    (void)state;
    assert_string_equal(san("EP @ test_15.testing-d\xc3\xb6main.org#GO", buf),
                        "EP @ test_15.testing-d\xc3\xb6main.org#GO");
    assert_string_equal(san("<subDomain>.example.com,1413", buf), "subDomain.example.com1413");
    assert_string_equal(san("<>", buf), "span");
    assert_string_equal(san("a\\b,c\xff"
                            "d",
                            buf),
                        "abcd");
    assert_string_equal(san("\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", buf),
                        "\xe4\xb8\xad\xe6\x96\x87 ");
}

static void test_name_200_byte_cap_keeps_characters_whole(void **state)
{
    char in[400], buf[512];
    size_t n;

    (void)state;
    memset(in, 'a', 250);
    in[250] = '\0';
    assert_int_equal(xb_tr_name_sanitize(in, 250, buf), 200);
    /* 199 ASCII + 'é' (2 bytes) would end at 201: the é is dropped, not split */
    memset(in, 'a', 199);
    memcpy(in + 199, "\xc3\xa9xyz", 5);
    n = xb_tr_name_sanitize(in, 204, buf);
    assert_int_equal(n, 199);
    assert_int_equal(buf[198], 'a');
}

/* The sanitiser as it was first written (every character decoded, ASCII tested with
 * strchr), the reference for the byte-table fast path. */
static size_t ref_sanitize(const char *in, size_t n, char *out)
{
    size_t i = 0, o = 0;

    while (i < n) {
        uint32_t cp;
        size_t l = xb_utf8_char(in + i, n - i, &cp);
        unsigned char c = (unsigned char)in[i];
        int keep;
        if (l == 0) {
            i++;
            continue;
        }
        if (l == 1)
            keep = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c != '\0' && strchr(" _.:/%&#=+-@", c) != NULL);
        else
            keep = xb_tr_name_is_letter(cp);
        if (keep) {
            if (o + l > XB_XRAY_MAX_NAME_BYTES)
                break;
            memcpy(out + o, in + i, l);
            o += l;
        }
        i += l;
    }
    if (o == 0) {
        memcpy(out, "span", 4);
        o = 4;
    }
    out[o] = '\0';
    return o;
}

/* Every byte value alone and between letters, then 50,000 random names mixing ASCII,
 * 2- to 4-byte characters (letters and not), invalid and NUL bytes, up to 260 bytes so
 * that the 200-byte cap falls on every kind of character: the same bytes as the
 * reference. */
static void test_name_sanitize_matches_reference(void **state)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "0",
                                         " ",
                                         "_",
                                         "-",
                                         "@",
                                         "#",
                                         ",",
                                         "<",
                                         "\\",
                                         "\"",
                                         "\x7f",
                                         "\x01",
                                         "\xc3\xa9",
                                         "\xc3",
                                         "\xe4\xb8\xad",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         "\xff",
                                         "\x80",
                                         "\xed\xa0\x80"};
    char in[300], got[512], want[512];
    uint64_t r = 0x2545F4914F6CDD1Dull;

    (void)state;
    for (int c = 0; c < 256; c++) {
        char one[3] = {'a', (char)c, 'b'};
        assert_int_equal(xb_tr_name_sanitize(one + 1, 1, got), ref_sanitize(one + 1, 1, want));
        assert_string_equal(got, want);
        assert_int_equal(xb_tr_name_sanitize(one, 3, got), ref_sanitize(one, 3, want));
        assert_string_equal(got, want);
    }
    for (int round = 0; round < 50000; round++) {
        size_t n = 0, lim, l;
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        lim = r % 261;
        while (n < lim) {
            const char *p;
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            p = pieces[r % (sizeof(pieces) / sizeof(pieces[0]))];
            if ((r >> 20) % 8 == 0)
                p = "", l = 1; /* a NUL byte */
            else
                l = strlen(p);
            if (n + l > lim)
                break;
            memcpy(in + n, p, l);
            n += l;
        }
        l = ref_sanitize(in, n, want);
        assert_int_equal(xb_tr_name_sanitize(in, n, got), l);
        assert_memory_equal(got, want, l + 1);
    }
}

static void test_meta_fix_key(void **state)
{
    char out[64];

    (void)state;
    xb_tr_meta_fix_key("Key.1", 5, 1, out);
    assert_string_equal(out, "Key.1");
    xb_tr_meta_fix_key("Key.1", 5, 0, out);
    assert_string_equal(out, "Key_1");
    xb_tr_meta_fix_key("Key@1", 5, 1, out);
    assert_string_equal(out, "Key_1");
    xb_tr_meta_fix_key("k\xc3\xa9y", 4, 1, out); /* one '_' per character */
    assert_string_equal(out, "k_y");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_trace_id_example),
        cmocka_unit_test(test_ids_timestamp_window),
        cmocka_unit_test(test_ids_derive_deterministic_nonzero),
        cmocka_unit_test(test_ids_hex_matches_reference),
        cmocka_unit_test(test_name_sanitize_reference_examples),
        cmocka_unit_test(test_name_200_byte_cap_keeps_characters_whole),
        cmocka_unit_test(test_name_sanitize_matches_reference),
        cmocka_unit_test(test_meta_fix_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
