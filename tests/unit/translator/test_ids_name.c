/* tests/unit/translator/test_ids_name.c - trace ids, derived ids, name sanitising, keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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
        cmocka_unit_test(test_name_sanitize_reference_examples),
        cmocka_unit_test(test_name_200_byte_cap_keeps_characters_whole),
        cmocka_unit_test(test_meta_fix_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
