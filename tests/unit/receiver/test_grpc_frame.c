/* Unit tests for receiver/grpc_frame.c: length-prefixed message parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "receiver/grpc_frame.h"

static void test_grpc_frame_parses_one_message(void **state)
{
    uint8_t buf[5 + 3];
    struct xb_grpc_msg m;
    const char *desc = NULL;
    size_t used = 0;
    xb_grpc_frame_header(buf, 0, 3);
    memcpy(buf + 5, "abc", 3);
    assert_int_equal(xb_grpc_frame_parse(buf, sizeof(buf), 100, &m, &used, &desc), XB_OK);
    assert_int_equal(m.compressed, 0);
    assert_int_equal(m.len, 3);
    assert_memory_equal(m.data, "abc", 3);
    assert_int_equal(used, 8);
}

static void test_grpc_frame_header_is_big_endian(void **state)
{
    uint8_t h[5];
    xb_grpc_frame_header(h, 1, 0x01020304);
    assert_int_equal(h[0], 1);
    assert_int_equal(h[1], 1);
    assert_int_equal(h[2], 2);
    assert_int_equal(h[3], 3);
    assert_int_equal(h[4], 4);
}

static void test_grpc_frame_split_input_needs_more(void **state)
{
    uint8_t buf[5 + 10];
    struct xb_grpc_msg m;
    const char *desc = NULL;
    size_t used = 0;
    xb_grpc_frame_header(buf, 1, 10);
    memset(buf + 5, 'x', 10);
    /* Every proper prefix (inside the header or the payload) asks for more bytes. */
    for (size_t n = 0; n < sizeof(buf); n++)
        assert_int_equal(xb_grpc_frame_parse(buf, n, 100, &m, &used, &desc), XB_ERR_AGAIN);
    assert_int_equal(xb_grpc_frame_parse(buf, sizeof(buf), 100, &m, &used, &desc), XB_OK);
    assert_int_equal(m.compressed, 1);
}

static void test_grpc_frame_rejects_oversize_from_header(void **state)
{
    uint8_t buf[5];
    struct xb_grpc_msg m;
    const char *desc = NULL;
    size_t used = 0;
    xb_grpc_frame_header(buf, 0, 4u * 1024 * 1024 + 1);
    /* Refused from the 5-byte header alone, before any payload arrives. */
    assert_int_equal(xb_grpc_frame_parse(buf, 5, 4u * 1024 * 1024, &m, &used, &desc),
                     XB_ERR_TOO_LARGE);
    assert_non_null(desc);
}

static void test_grpc_frame_rejects_bad_flag(void **state)
{
    uint8_t buf[6] = {2, 0, 0, 0, 1, 'x'};
    struct xb_grpc_msg m;
    const char *desc = NULL;
    size_t used = 0;
    assert_int_equal(xb_grpc_frame_parse(buf, 6, 100, &m, &used, &desc), XB_ERR_INVALID);
    assert_non_null(desc);
}

static void test_grpc_frame_two_messages_consumes_first(void **state)
{
    uint8_t buf[12];
    struct xb_grpc_msg m;
    const char *desc = NULL;
    size_t used = 0;
    xb_grpc_frame_header(buf, 0, 1);
    buf[5] = 'a';
    xb_grpc_frame_header(buf + 6, 0, 1);
    buf[11] = 'b';
    assert_int_equal(xb_grpc_frame_parse(buf, 12, 100, &m, &used, &desc), XB_OK);
    assert_int_equal(used, 6); /* the caller sees leftover bytes: a unary call error */
}

static void test_grpc_frame_empty_message(void **state)
{
    uint8_t buf[5];
    struct xb_grpc_msg m;
    const char *desc = NULL;
    size_t used = 0;
    xb_grpc_frame_header(buf, 0, 0);
    assert_int_equal(xb_grpc_frame_parse(buf, 5, 100, &m, &used, &desc), XB_OK);
    assert_int_equal(m.len, 0);
}

/* The whole framed size is known once the prefix completes, however it is split. */
static void test_grpc_frame_whole_size_split_prefix(void **state)
{
    uint8_t h[5];
    xb_grpc_frame_header(h, 1, 70000);
    for (size_t have = 0; have < 5; have++)
        assert_int_equal(xb_grpc_frame_whole_size(h, have, h + have, 5 - have, 100000), 70005);
    /* more bytes than the prefix: still the declared size */
    assert_int_equal(xb_grpc_frame_whole_size(h, 2, h + 2, 3, 70000), 70005);
    /* prefix not complete yet, or complete before */
    assert_int_equal(xb_grpc_frame_whole_size(h, 1, h + 1, 3, 100000), 0);
    assert_int_equal(xb_grpc_frame_whole_size(h, 5, h, 0, 100000), 0);
    assert_int_equal(xb_grpc_frame_whole_size(NULL, 0, h, 4, 100000), 0);
}

/* Oversize, a bad flag or no limit: nothing to reserve (the parser decides). */
static void test_grpc_frame_whole_size_refusals(void **state)
{
    uint8_t h[5];
    xb_grpc_frame_header(h, 0, 70000);
    assert_int_equal(xb_grpc_frame_whole_size(NULL, 0, h, 5, 69999), 0);
    assert_int_equal(xb_grpc_frame_whole_size(NULL, 0, h, 5, 0), 0);
    h[0] = 2;
    assert_int_equal(xb_grpc_frame_whole_size(NULL, 0, h, 5, 100000), 0);
    xb_grpc_frame_header(h, 0, 0);
    assert_int_equal(xb_grpc_frame_whole_size(NULL, 0, h, 5, 100000), 5);
}

static void test_grpc_percent_encode(void **state)
{
    char out[64];
    assert_string_equal(xb_grpc_percent_encode("ok text", out, sizeof(out)), "ok text");
    assert_string_equal(xb_grpc_percent_encode("100%\n\xc3\xa9", out, sizeof(out)),
                        "100%25%0A%C3%A9");
    /* Truncation never leaves half an escape. */
    assert_string_equal(xb_grpc_percent_encode("ab\n", out, 5), "ab");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grpc_frame_parses_one_message),
        cmocka_unit_test(test_grpc_frame_header_is_big_endian),
        cmocka_unit_test(test_grpc_frame_split_input_needs_more),
        cmocka_unit_test(test_grpc_frame_rejects_oversize_from_header),
        cmocka_unit_test(test_grpc_frame_rejects_bad_flag),
        cmocka_unit_test(test_grpc_frame_two_messages_consumes_first),
        cmocka_unit_test(test_grpc_frame_empty_message),
        cmocka_unit_test(test_grpc_percent_encode),
        cmocka_unit_test(test_grpc_frame_whole_size_split_prefix),
        cmocka_unit_test(test_grpc_frame_whole_size_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
