/*
 * Unit tests for receiver/pb_scan.c (the non-recursive pre-scan) and its use in
 * xb_otlp_decode_protobuf(): the AnyValue depth limit on every path, malformed
 * wire format, unknown and packed fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "proto/otlp.h"
#include "receiver/otlp_decode.h"
#include "receiver/otlp_limits.h"
#include "receiver/pb_scan.h"
#include "tests/unit/receiver/pb_build.h"

#define MAX XB_OTLP_MAX_ANYVALUE_DEPTH

static int setup(void **state)
{
    *state = xb_arena_new(64 * 1024, 256u << 20);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    xb_arena_free(*state);
    return 0;
}

static int scan(const struct xb_pbb *b, const char **err)
{
    *err = NULL;
    return xb_pb_scan_export_request(xb_pbb_data(b), xb_pbb_len(b), err);
}

/* Decodes |b| with the full protobuf decoder; returns its code. */
static int decode(void **state, const struct xb_pbb *b, xb_pb_export_req **req, const char **err)
{
    xb_arena_reset(*state);
    *req = NULL;
    *err = NULL;
    return xb_otlp_decode_protobuf(xb_pbb_data(b), xb_pbb_len(b), *state, req, err);
}

/* AnyValue levels of the first span attribute's value chain. */
static int chain_depth(const xb_pb_any *a)
{
    int d = 1;
    for (;;) {
        if (a->value_case == XB_ANY_ARRAY && a->array_value->n_values == 1)
            a = a->array_value->values[0];
        else if (a->value_case == XB_ANY_KVLIST && a->kvlist_value->n_values == 1)
            a = a->kvlist_value->values[0]->value;
        else
            return d;
        d++;
    }
}

static void expect_depth_refused(void **state, int levels, int kvlist, enum xb_pbb_where where)
{
    struct xb_pbb b;
    xb_pb_export_req *req;
    const char *err;

    xb_pbb_init(&b);
    xb_pbb_nested_request(&b, levels, kvlist, where);
    assert_int_equal(scan(&b, &err), XB_ERR_INVALID);
    assert_string_equal(err, XB_OTLP_DEPTH_ERROR);
    assert_int_equal(decode(state, &b, &req, &err), XB_ERR_INVALID);
    assert_string_equal(err, XB_OTLP_DEPTH_ERROR);
    assert_null(req);
    xb_pbb_free(&b);
}

static const xb_pb_any *first_value(const xb_pb_export_req *req, enum xb_pbb_where where)
{
    const xb_pb_resource_spans *rs = req->resource_spans[0];
    const xb_pb_span *s = rs->scope_spans[0]->spans[0];

    switch (where) {
    case XB_PBB_RESOURCE_ATTR:
        return rs->resource->attributes[0]->value;
    case XB_PBB_EVENT_ATTR:
        return s->events[0]->attributes[0]->value;
    case XB_PBB_LINK_ATTR:
        return s->links[0]->attributes[0]->value;
    default:
        return s->attributes[0]->value;
    }
}

static void expect_depth_ok(void **state, int levels, int kvlist, enum xb_pbb_where where)
{
    struct xb_pbb b;
    xb_pb_export_req *req;
    const char *err;

    xb_pbb_init(&b);
    xb_pbb_nested_request(&b, levels, kvlist, where);
    assert_int_equal(scan(&b, &err), XB_OK);
    assert_int_equal(decode(state, &b, &req, &err), XB_OK);
    assert_int_equal(xb_otlp_count_spans(req), 1);
    assert_int_equal(chain_depth(first_value(req, where)), levels);
    xb_pbb_free(&b);
}

static void test_array_value_depth_limit(void **state)
{
    expect_depth_ok(state, 1, 0, XB_PBB_SPAN_ATTR);
    expect_depth_ok(state, MAX, 0, XB_PBB_SPAN_ATTR);
    expect_depth_refused(state, MAX + 1, 0, XB_PBB_SPAN_ATTR);
}

static void test_kvlist_value_depth_limit(void **state)
{
    expect_depth_ok(state, MAX, 1, XB_PBB_SPAN_ATTR);
    expect_depth_refused(state, MAX + 1, 1, XB_PBB_SPAN_ATTR);
    /* Alternating array / kvlist levels count the same. */
    expect_depth_ok(state, MAX, 2, XB_PBB_SPAN_ATTR);
    expect_depth_refused(state, MAX + 1, 2, XB_PBB_SPAN_ATTR);
}

static void test_depth_limit_on_every_attribute_path(void **state)
{
    static const enum xb_pbb_where where[] = {XB_PBB_RESOURCE_ATTR, XB_PBB_EVENT_ATTR,
                                              XB_PBB_LINK_ATTR};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        expect_depth_ok(state, MAX, 2, where[i]);
        expect_depth_refused(state, MAX + 1, 2, where[i]);
    }
}

static void test_six_thousand_levels_refused_without_crash(void **state)
{
    /* The reported crash: 6,000 nested array_value levels (about 42 KB). */
    expect_depth_refused(state, 6000, 0, XB_PBB_SPAN_ATTR);
    expect_depth_refused(state, 6000, 1, XB_PBB_SPAN_ATTR);
    expect_depth_refused(state, 200000, 0, XB_PBB_SPAN_ATTR);
}

static void test_deep_bytes_in_unknown_field_not_followed(void **state)
{
    /* 6,000 levels as the payload of an unknown span field (100) and of a leaf field
     * (Span.name): neither is a sub-message, so neither scanner nor protobuf-c
     * descends, and the request decodes. */
    struct xb_pbb deep, b;
    xb_pb_export_req *req;
    const char *err;
    size_t mark;

    xb_pbb_init(&deep);
    xb_pbb_nested_value(&deep, 6000, 0);
    xb_pbb_init(&b);
    mark = xb_pbb_len(&b);
    xb_pbb_bytes(&b, 1, "v", 1); /* AnyValue.string_value */
    xb_pbb_request(&b, mark, XB_PBB_SPAN_ATTR);
    /* First as an unknown field of the request itself. */
    xb_pbb_bytes(&b, 100, xb_pbb_data(&deep), xb_pbb_len(&deep));
    assert_int_equal(scan(&b, &err), XB_OK);
    assert_int_equal(decode(state, &b, &req, &err), XB_OK);
    assert_int_equal(xb_otlp_count_spans(req), 1);

    /* Same bytes inside the span, as an unknown field and as status (a leaf message). */
    xb_pbb_free(&b);
    xb_pbb_init(&b);
    mark = xb_pbb_len(&b);
    xb_pbb_bytes(&b, 1, "v", 1);
    xb_pbb_wrap(&b, 2, mark);
    xb_pbb_bytes(&b, 1, "k", 1);
    xb_pbb_wrap(&b, 9, mark);
    xb_pbb_bytes(&b, 1000, xb_pbb_data(&deep), xb_pbb_len(&deep)); /* unknown */
    xb_pbb_bytes(&b, 5, "nm", 2);
    xb_pbb_wrap(&b, 2, mark);
    xb_pbb_wrap(&b, 2, mark);
    xb_pbb_wrap(&b, 1, mark);
    assert_int_equal(scan(&b, &err), XB_OK);
    assert_int_equal(decode(state, &b, &req, &err), XB_OK);
    assert_int_equal(xb_otlp_count_spans(req), 1);
    xb_pbb_free(&b);
    xb_pbb_free(&deep);
}

static void expect_malformed(const void *p, size_t n, const char *needle)
{
    const char *err = NULL;
    assert_int_equal(xb_pb_scan_export_request(p, n, &err), XB_ERR_INVALID);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("\"%s\" does not contain \"%s\"", err, needle);
}

static void test_malformed_wire_format(void **state)
{
    (void)state;
    /* Length-delimited field 1 claiming 5 bytes with 2 present. */
    expect_malformed("\x0a\x05\x00\x00", 4, "length runs past");
    /* Truncated tag and over-long varints. */
    expect_malformed("\x80", 1, "field tag");
    expect_malformed("\x80\x80\x80\x80\x80\x01", 6, "field tag");
    expect_malformed("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12, "varint");
    expect_malformed("\x08\x80", 2, "varint");
    /* Field number 0, groups, wire types 6 and 7. */
    expect_malformed("\x00\x00", 2, "field number 0");
    expect_malformed("\x0b\x0c", 2, "wire type");
    expect_malformed("\x0c", 1, "wire type");
    expect_malformed("\x0e\x00", 2, "wire type");
    expect_malformed("\x0f\x00", 2, "wire type");
    /* Truncated fixed-width fields. */
    expect_malformed("\x09\x00\x00\x00", 4, "fixed-width");
    expect_malformed("\x0d\x00", 2, "fixed-width");
    /* A nested length that fits the request but not its enclosing message:
     * ResourceSpans (2 bytes) holding scope_spans claiming 4. */
    expect_malformed("\x0a\x02\x12\x04\x00\x00\x00\x00", 8, "length runs past");
}

static void test_huge_lengths_in_unknown_fields(void **state)
{
    const char *err;
    xb_pb_export_req *req;
    struct xb_pbb b;

    /* Unknown field 1000 with a 4 GiB - 1 length: refused before anything reads it. */
    expect_malformed("\xc2\x3e\xff\xff\xff\xff\x0f", 7, "length runs past");
    /* Unknown field inside a span with a length far past the end. */
    expect_malformed("\x0a\x08\x12\x06\x12\x04\xc2\x3e\xff\x7f", 10, "length");
    /* Length varint longer than 5 bytes (protobuf-c refuses those too). */
    expect_malformed("\xc2\x3e\x80\x80\x80\x80\x80\x00", 8, "length");
    /* A well-formed unknown field of 1 MiB is skipped in one step, not scanned. */
    xb_pbb_init(&b);
    {
        size_t n = 1u << 20;
        uint8_t *big = malloc(n);
        assert_non_null(big);
        memset(big, 0x0a, n); /* would look like endless nested messages if followed */
        xb_pbb_bytes(&b, 1000, big, n);
        free(big);
    }
    assert_int_equal(scan(&b, &err), XB_OK);
    assert_int_equal(decode(state, &b, &req, &err), XB_OK);
    assert_int_equal(xb_otlp_count_spans(req), 0);
    xb_pbb_free(&b);
}

static void test_packed_and_scalar_fields(void **state)
{
    struct xb_pbb b;
    xb_pb_export_req *req;
    const char *err;
    size_t mark, span_mark;

    /* A span with an unknown packed repeated varint field (17), an unknown packed
     * fixed32 field (18), and every scalar wire type as unknown fields. */
    xb_pbb_init(&b);
    mark = xb_pbb_len(&b);
    xb_pbb_raw(&b, "\x01\x96\x01\xff\xff\xff\xff\x0f", 8); /* 1, 150, 2^32-1 */
    xb_pbb_varint(&b, 8);
    xb_pbb_tag(&b, 17, 2);
    xb_pbb_raw(&b, "\x01\x00\x00\x00\x02\x00\x00\x00", 8);
    xb_pbb_varint(&b, 8);
    xb_pbb_tag(&b, 18, 2);
    xb_pbb_raw(&b, "\x00\x00\x00\x00", 4);
    xb_pbb_tag(&b, 19, 5);
    xb_pbb_raw(&b, "\x00\x00\x00\x00\x00\x00\x00\x00", 8);
    xb_pbb_tag(&b, 20, 1);
    xb_pbb_varint(&b, UINT64_MAX);
    xb_pbb_tag(&b, 21, 0);
    xb_pbb_varint(&b, 3);
    xb_pbb_tag(&b, 10, 0); /* dropped_attributes_count */
    span_mark = mark;
    xb_pbb_bytes(&b, 5, "s", 1);
    xb_pbb_bytes(&b, 2, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    xb_pbb_bytes(&b, 1, "\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04\x05\x06\x07\x08", 16);
    xb_pbb_wrap(&b, 2, span_mark);
    xb_pbb_wrap(&b, 2, span_mark);
    xb_pbb_wrap(&b, 1, span_mark);
    assert_int_equal(scan(&b, &err), XB_OK);
    assert_int_equal(decode(state, &b, &req, &err), XB_OK);
    assert_int_equal(xb_otlp_count_spans(req), 1);
    assert_int_equal(req->resource_spans[0]->scope_spans[0]->spans[0]->dropped_attributes_count, 3);
    xb_pbb_free(&b);
}

static void test_every_truncation_is_handled(void **state)
{
    /* Every prefix of a valid nested request is either accepted or refused by both
     * the scan and the decoder, never read past its end (ASan build checks that). */
    struct xb_pbb b;
    xb_pb_export_req *req;
    const char *err;

    xb_pbb_init(&b);
    xb_pbb_nested_request(&b, 20, 2, XB_PBB_EVENT_ATTR);
    for (size_t n = 0; n <= xb_pbb_len(&b); n++) {
        uint8_t *copy = malloc(n ? n : 1);
        int rc;
        assert_non_null(copy);
        memcpy(copy, xb_pbb_data(&b), n);
        rc = xb_pb_scan_export_request(copy, n, &err);
        assert_true(rc == XB_OK || rc == XB_ERR_INVALID);
        xb_arena_reset(*state);
        rc = xb_otlp_decode_protobuf(copy, n, *state, &req, &err);
        assert_true(rc == XB_OK || rc == XB_ERR_INVALID);
        free(copy);
    }
    /* The full request passes, the empty one too (no spans). */
    assert_int_equal(xb_pb_scan_export_request("", 0, &err), XB_OK);
    assert_int_equal(scan(&b, &err), XB_OK);
    xb_pbb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_array_value_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kvlist_value_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit_on_every_attribute_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_six_thousand_levels_refused_without_crash, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_deep_bytes_in_unknown_field_not_followed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed_wire_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_lengths_in_unknown_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packed_and_scalar_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation_is_handled, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
