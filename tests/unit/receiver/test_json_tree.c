/*
 * tests/unit/receiver/test_json_tree.c - the per-request JSON parser choice
 * (xb_json_pick(), receiver/json_tree.h) and the cJSON/jansson edge cases the
 * OTLP/JSON decoder must treat alike (receiver/otlp_json.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "receiver/json_tree.h"
#include "receiver/otlp_decode.h"

/* ---- xb_json_pick() ------------------------------------------------------------- */

static enum xb_json_backend pick(const char *s)
{
    return xb_json_pick(s, strlen(s), NULL, NULL);
}

static enum xb_json_backend pickn(const char *s, size_t n)
{
    return xb_json_pick(s, n, NULL, NULL);
}

static void test_pick_plain_request_is_cjson(void **state)
{
    (void)state;
    assert_int_equal(pick("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"a\","
                          "\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\"}]}]}]}"),
                     XB_JSON_CJSON);
    assert_int_equal(pick(""), XB_JSON_CJSON); /* cJSON refuses it: jansson says why */
    assert_int_equal(pick(" [true, false, null]\t\r\n"), XB_JSON_CJSON);
}

static void test_pick_integer_digits(void **state)
{
    (void)state;
    /* 15 digits are always exact doubles; 16 may not be (2^53 has 16 digits). */
    assert_int_equal(pick("[999999999999999]"), XB_JSON_CJSON);
    assert_int_equal(pick("[-999999999999999]"), XB_JSON_CJSON);
    assert_int_equal(pick("[1000000000000000]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[9007199254740993]"), XB_JSON_JANSSON);
    assert_int_equal(pick("{\"t\":1700000000000000001}"), XB_JSON_JANSSON);
    /* The same digits inside a string are text. */
    assert_int_equal(pick("{\"t\":\"1700000000000000001\"}"), XB_JSON_CJSON);
    assert_int_equal(pick("{\"1700000000000000001\":1}"), XB_JSON_CJSON);
    /* A long fraction is fine (both use strtod); a long integer part is not. */
    assert_int_equal(pick("[0.30000000000000004]"), XB_JSON_CJSON);
    assert_int_equal(pick("[1234567890123456.5]"), XB_JSON_JANSSON);
}

static void test_pick_exponent_and_grammar(void **state)
{
    (void)state;
    assert_int_equal(pick("[1e99, -2.5E-7, 3e+10]"), XB_JSON_CJSON);
    assert_int_equal(pick("[1e400]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[1e100]"), XB_JSON_JANSSON); /* conservative: 3 digits */
    assert_int_equal(pick("[01]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[-01]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[1.]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[-]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[1e]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[1.5.5]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[1-2]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[0, -0, 0.0, -0.0]"), XB_JSON_CJSON);
}

static void test_pick_utf8(void **state)
{
    (void)state;
    assert_int_equal(pick("[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]"), XB_JSON_CJSON);
    assert_int_equal(pick("[\"a\xff\"]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[\"\xc0\xaf\"]"), XB_JSON_JANSSON);         /* overlong */
    assert_int_equal(pick("[\"\xe0\x80\xaf\"]"), XB_JSON_JANSSON);     /* overlong */
    assert_int_equal(pick("[\"\xed\xa0\x80\"]"), XB_JSON_JANSSON);     /* surrogate */
    assert_int_equal(pick("[\"\xf4\x90\x80\x80\"]"), XB_JSON_JANSSON); /* > U+10FFFF */
    assert_int_equal(pick("[\"\xe2\x82\"]"), XB_JSON_JANSSON);         /* truncated */
    assert_int_equal(pick("[\"\xe2\x82"), XB_JSON_JANSSON);
    assert_int_equal(pick("\xc3\xa9"), XB_JSON_JANSSON); /* outside a string */
    assert_int_equal(pick("\xef\xbb\xbf[]"), XB_JSON_JANSSON);
}

static void test_pick_escapes_and_controls(void **state)
{
    (void)state;
    assert_int_equal(pick("[\"\\u00e9\\n\\\"\\\\\"]"), XB_JSON_CJSON);
    assert_int_equal(pick("[\"a\\u0000b\"]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[\"\\ud83d\\ude00\"]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[\"\\uDC00\"]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[\"\\u12\"]"), XB_JSON_JANSSON);
    /* An escaped quote does not end the string: the digits stay text. */
    assert_int_equal(pick("[\"\\\"12345678901234567\"]"), XB_JSON_CJSON);
    assert_int_equal(pick("[\"a\tb\"]"), XB_JSON_JANSSON);
    assert_int_equal(pick("[\"a\x01\"]"), XB_JSON_JANSSON);
    assert_int_equal(pick("\x0b[]"), XB_JSON_JANSSON);
    assert_int_equal(pickn("[]\0", 3), XB_JSON_JANSSON);
    assert_int_equal(pickn("[\"\0\"]", 4), XB_JSON_JANSSON);
}

/* Every position of a long string, so that both the 16-byte and the byte loop see it. */
static void test_pick_positions_in_long_strings(void **state)
{
    char buf[128];

    (void)state;
    for (int pos = 0; pos < 48; pos++) {
        char body[80];
        memset(body, 'a', sizeof body);
        body[0] = '[';
        body[1] = '"';
        body[60] = '"';
        body[61] = ']';
        assert_int_equal(pickn(body, 62), XB_JSON_CJSON);
        body[2 + pos] = (char)0xff;
        assert_int_equal(pickn(body, 62), XB_JSON_JANSSON);
        body[2 + pos] = 0x1f;
        assert_int_equal(pickn(body, 62), XB_JSON_JANSSON);
        body[2 + pos] = (char)0xc3; /* a valid two-byte sequence */
        body[3 + pos] = (char)0xa9;
        assert_int_equal(pickn(body, 62), XB_JSON_CJSON);
        body[2 + pos] = '\\'; /* \" does not end the string: the digits after it are text */
        body[3 + pos] = '"';
        memcpy(body + 4 + pos, "12345678", 8);
        assert_int_equal(pickn(body, 62), XB_JSON_CJSON);
        /* An unescaped quote does end it: "a", then 17 digits outside any string. */
        snprintf(buf, sizeof buf, "[\"%.*s\",12345678901234567]", pos,
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_int_equal(pick(buf), XB_JSON_JANSSON);
        snprintf(buf, sizeof buf, "[\"%.*s\\u0000\"]", pos,
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_int_equal(pick(buf), XB_JSON_JANSSON);
    }
}

static void test_pick_real_bits(void **state)
{
    const char *s = "{\"a\":[1, 2.5, 3e1, \"4.5\", 4, -0.0]}";
    uint8_t bits[16] = {0};
    struct xb_json_scan scan;

    (void)state;
    assert_int_equal(xb_json_pick(s, strlen(s), bits, &scan), XB_JSON_CJSON);
    assert_int_equal(scan.numbers, 5);
    assert_true(scan.has_reals);
    assert_int_equal(bits[0], 0x16); /* tokens 1, 2 and 4 */
    memset(bits, 0, sizeof bits);
    assert_int_equal(xb_json_pick("[1,2]", 5, bits, &scan), XB_JSON_CJSON);
    assert_false(scan.has_reals);
    assert_int_equal(bits[0], 0);
}

/* ---- decoding: both parsers alike ---------------------------------------------- */

#define SPAN_HEAD                                                                                  \
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"                               \
    "\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\""
#define SPAN_TAIL "}]}]}]}"

struct run {
    int rc;
    int used_cjson;
    const char *err;
    xb_pb_export_req *req;
};

/* Decodes |s| as in production and with jansson alone; checks they agree. */
static struct run decode_both(struct xb_arena *a, struct xb_arena *b, const char *s)
{
    struct run fast = {0}, exact = {0};

    fast.rc = xb_otlp_decode_json_ex(s, strlen(s), a, 0, &fast.req, &fast.err, &fast.used_cjson);
    exact.rc = xb_otlp_decode_json_ex(s, strlen(s), b, 1, &exact.req, &exact.err, NULL);
    assert_int_equal(fast.rc, exact.rc);
    if (fast.rc != XB_OK) {
        assert_string_equal(fast.err, exact.err);
    } else {
        size_t n1 = protobuf_c_message_get_packed_size(&fast.req->base);
        size_t n2 = protobuf_c_message_get_packed_size(&exact.req->base);
        uint8_t p1[4096], p2[4096];
        assert_int_equal(n1, n2);
        assert_true(n1 <= sizeof p1);
        protobuf_c_message_pack(&fast.req->base, p1);
        protobuf_c_message_pack(&exact.req->base, p2);
        assert_memory_equal(p1, p2, n1);
    }
    return fast;
}

static const xb_pb_span *first_span(const struct run *r)
{
    return r->req->resource_spans[0]->scope_spans[0]->spans[0];
}

static void test_decode_uses_cjson_and_tags_reals(void **state)
{
    struct xb_arena *a = xb_arena_new(4096, 0), *b = xb_arena_new(4096, 0);
    struct run r;

    (void)state;
    r = decode_both(a, b,
                    SPAN_HEAD ",\"kind\":2,\"flags\":3.0,\"attributes\":[{\"key\":\"d\",\"value\":"
                              "{\"doubleValue\":19.989999999999998}}]" SPAN_TAIL);
    assert_int_equal(r.rc, XB_OK);
    assert_int_equal(r.used_cjson, 1);
    assert_int_equal(first_span(&r)->flags, 3);
    assert_true(first_span(&r)->attributes[0]->value->double_value == 19.989999999999998);
    /* A real where an enum must be an integer: refused by both, by cJSON's tree too. */
    r = decode_both(a, b, SPAN_HEAD ",\"kind\":2.0" SPAN_TAIL);
    assert_int_equal(r.rc, XB_ERR_INVALID);
    assert_int_equal(r.used_cjson, 1);
    assert_string_equal(r.err, "kind: enum must be an integer");
    /* jansson reads -0 as the integer 0, so the double is +0.0. */
    r = decode_both(a, b,
                    SPAN_HEAD ",\"attributes\":[{\"key\":\"z\",\"value\":{\"doubleValue\":-0}},"
                              "{\"key\":\"y\",\"value\":{\"doubleValue\":-0.0}}]" SPAN_TAIL);
    assert_int_equal(r.used_cjson, 1);
    assert_false(signbit(first_span(&r)->attributes[0]->value->double_value));
    assert_true(signbit(first_span(&r)->attributes[1]->value->double_value));
    xb_arena_free(a);
    xb_arena_free(b);
}

static void test_decode_exact_int64(void **state)
{
    struct xb_arena *a = xb_arena_new(4096, 0), *b = xb_arena_new(4096, 0);
    struct run r;

    (void)state;
    r = decode_both(a, b,
                    SPAN_HEAD ",\"startTimeUnixNano\":1700000000000000001,\"attributes\":[{\"key\":"
                              "\"n\",\"value\":{\"intValue\":-9223372036854775808}}]" SPAN_TAIL);
    assert_int_equal(r.rc, XB_OK);
    assert_int_equal(r.used_cjson, 0);
    assert_true(first_span(&r)->start_time_unix_nano == 1700000000000000001ull);
    assert_true(first_span(&r)->attributes[0]->value->int_value == INT64_MIN);
    r = decode_both(a, b, SPAN_HEAD ",\"startTimeUnixNano\":99999999999999999999" SPAN_TAIL);
    assert_int_equal(r.rc, XB_ERR_INVALID);
    assert_string_equal(
        r.err, "invalid JSON: number out of range (send 64-bit values as decimal strings)");
    r = decode_both(a, b, SPAN_HEAD ",\"unknown\":[1e400]" SPAN_TAIL);
    assert_int_equal(r.rc, XB_ERR_INVALID);
    xb_arena_free(a);
    xb_arena_free(b);
}

static void test_decode_duplicates_and_syntax(void **state)
{
    struct xb_arena *a = xb_arena_new(4096, 0), *b = xb_arena_new(4096, 0);
    struct run r;

    (void)state;
    /* jansson keeps the last value at the first key's place; null then skips it. */
    r = decode_both(a, b, SPAN_HEAD ",\"name\":\"first\",\"name\":null" SPAN_TAIL);
    assert_int_equal(r.rc, XB_OK);
    assert_int_equal(r.used_cjson, 0);
    assert_string_equal(first_span(&r)->name, "");
    r = decode_both(a, b, SPAN_HEAD ",\"kind\":\"x\",\"kind\":1" SPAN_TAIL);
    assert_int_equal(r.rc, XB_OK);
    assert_int_equal(first_span(&r)->kind, 1);
    r = decode_both(a, b, SPAN_HEAD SPAN_TAIL " x");
    assert_int_equal(r.rc, XB_ERR_INVALID);
    assert_string_equal(r.err, "invalid JSON");
    r = decode_both(a, b, SPAN_HEAD SPAN_TAIL " \r\n");
    assert_int_equal(r.rc, XB_OK);
    assert_int_equal(r.used_cjson, 1);
    r = decode_both(a, b, "[\"a\xff\"]");
    assert_string_equal(r.err, "invalid JSON: invalid UTF-8");
    r = decode_both(a, b, "{\"a\\u0000\":1}");
    assert_string_equal(r.err, "invalid JSON: NUL character in object key");
    r = decode_both(a, b, SPAN_HEAD ",\"name\":\"a\\u0000b\"" SPAN_TAIL);
    assert_int_equal(r.rc, XB_OK);
    r = decode_both(a, b, "42");
    assert_string_equal(r.err, "request: top level must be a JSON object");
    assert_int_equal(r.used_cjson, 1);
    xb_arena_free(a);
    xb_arena_free(b);
}

/* Nesting between cJSON's limit (1000) and jansson's (2048): jansson decides. */
static void test_decode_nesting(void **state)
{
    struct xb_arena *a = xb_arena_new(4096, 0), *b = xb_arena_new(4096, 0);
    char buf[2 * 2100 + 64];
    struct run r;

    (void)state;
    for (int depth = 1001; depth <= 2100; depth += 1099) {
        size_t n = 0;
        n += (size_t)snprintf(buf, sizeof buf, "{\"x\":");
        memset(buf + n, '[', (size_t)depth);
        n += (size_t)depth;
        memset(buf + n, ']', (size_t)depth);
        n += (size_t)depth;
        buf[n++] = '}';
        buf[n] = '\0';
        r = decode_both(a, b, buf);
        assert_int_equal(r.used_cjson, 0);
        assert_int_equal(r.rc, depth == 1001 ? XB_OK : XB_ERR_INVALID);
    }
    assert_string_equal(r.err, "invalid JSON: nesting too deep");
    xb_arena_free(a);
    xb_arena_free(b);
}

/* The parse tree is allocated from the request arena and counted by its cap. */
static void test_decode_tree_in_arena(void **state)
{
    struct xb_arena *a = xb_arena_new(4096, 64 * 1024);
    char body[32768];
    size_t n = 0;
    xb_pb_export_req *req = NULL;
    const char *err = NULL;
    cJSON *heap;

    (void)state;
    n += (size_t)snprintf(body, sizeof body, "{\"resourceSpans\":[");
    while (n + 8 < sizeof body)
        n += (size_t)snprintf(body + n, sizeof body - n, "{},");
    body[n - 1] = ']';
    body[n++] = '}';
    assert_int_equal(xb_json_pick(body, n, NULL, NULL), XB_JSON_CJSON);
    assert_int_equal(xb_otlp_decode_json(body, n, a, &req, &err), XB_ERR_NOMEM);
    assert_string_equal(err, "out of memory while parsing JSON");
    /* Outside a request, cJSON allocates from the heap again. */
    heap = cJSON_Parse("{\"a\":[1,2,3]}");
    assert_non_null(heap);
    cJSON_Delete(heap);
    xb_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_plain_request_is_cjson),
        cmocka_unit_test(test_pick_integer_digits),
        cmocka_unit_test(test_pick_exponent_and_grammar),
        cmocka_unit_test(test_pick_utf8),
        cmocka_unit_test(test_pick_escapes_and_controls),
        cmocka_unit_test(test_pick_positions_in_long_strings),
        cmocka_unit_test(test_pick_real_bits),
        cmocka_unit_test(test_decode_uses_cjson_and_tags_reals),
        cmocka_unit_test(test_decode_exact_int64),
        cmocka_unit_test(test_decode_duplicates_and_syntax),
        cmocka_unit_test(test_decode_nesting),
        cmocka_unit_test(test_decode_tree_in_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
