/*
 * tests/unit/receiver/test_otlp_split.c - receiver/otlp_split.c: parts within the
 * limits, every span exactly once and in order, resource and scope kept, oversize
 * spans dropped and counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/err.h"
#include "receiver/otlp_split.h"

/* A request of |n_rs| resources x |n_ss| scopes x |n_sp| spans; span k of the whole
 * request has span id k (big-endian in the first 4 bytes is enough for the checks),
 * an attribute "pad" of |pad| bytes, and names its resource and scope in its name. */
static xb_pb_export_req *make_req(struct xb_arena *a, size_t n_rs, size_t n_ss, size_t n_sp,
                                  size_t pad)
{
    xb_pb_export_req *req = xb_arena_alloc(a, sizeof(*req));
    size_t id = 0;
    char *padding = xb_arena_alloc(a, pad + 1);

    memset(padding, 'x', pad);
    padding[pad] = '\0';
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(req);
    req->n_resource_spans = n_rs;
    req->resource_spans = xb_arena_calloc(a, n_rs * sizeof(void *));
    for (size_t i = 0; i < n_rs; i++) {
        xb_pb_resource_spans *rs = xb_arena_alloc(a, sizeof(*rs));
        opentelemetry__proto__trace__v1__resource_spans__init(rs);
        rs->resource = xb_arena_alloc(a, sizeof(*rs->resource));
        opentelemetry__proto__resource__v1__resource__init(rs->resource);
        rs->resource->dropped_attributes_count = (uint32_t)(100 + i);
        rs->n_scope_spans = n_ss;
        rs->scope_spans = xb_arena_calloc(a, n_ss * sizeof(void *));
        for (size_t j = 0; j < n_ss; j++) {
            xb_pb_scope_spans *ss = xb_arena_alloc(a, sizeof(*ss));
            opentelemetry__proto__trace__v1__scope_spans__init(ss);
            ss->scope = xb_arena_alloc(a, sizeof(*ss->scope));
            opentelemetry__proto__common__v1__instrumentation_scope__init(ss->scope);
            ss->scope->name = xb_arena_alloc(a, 48);
            snprintf(ss->scope->name, 48, "scope-%zu-%zu", i, j);
            ss->n_spans = n_sp;
            ss->spans = xb_arena_calloc(a, n_sp * sizeof(void *));
            for (size_t k = 0; k < n_sp; k++, id++) {
                xb_pb_span *sp = xb_arena_alloc(a, sizeof(*sp));
                xb_pb_kv *kv = xb_arena_alloc(a, sizeof(*kv));
                uint8_t *sid = xb_arena_calloc(a, 8);
                opentelemetry__proto__trace__v1__span__init(sp);
                opentelemetry__proto__common__v1__key_value__init(kv);
                kv->key = "pad";
                kv->value = xb_arena_alloc(a, sizeof(*kv->value));
                opentelemetry__proto__common__v1__any_value__init(kv->value);
                kv->value->value_case = XB_ANY_STRING;
                kv->value->string_value = padding;
                sid[0] = (uint8_t)(id >> 24);
                sid[1] = (uint8_t)(id >> 16);
                sid[2] = (uint8_t)(id >> 8);
                sid[3] = (uint8_t)id;
                sp->span_id.data = sid;
                sp->span_id.len = 8;
                sp->name = xb_arena_alloc(a, 48);
                snprintf(sp->name, 48, "r%zu-s%zu", i, j);
                sp->n_attributes = 1;
                sp->attributes = xb_arena_alloc(a, sizeof(void *));
                sp->attributes[0] = kv;
                ss->spans[k] = sp;
            }
            rs->scope_spans[j] = ss;
        }
        req->resource_spans[i] = rs;
    }
    return req;
}

static uint32_t span_no(const xb_pb_span *sp)
{
    const uint8_t *d = sp->span_id.data;
    return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
}

/* Checks every part against |lim| and that the parts hold spans 0..want-1 in order
 * (skipping |skip|, or none when it is (size_t)-1), each under its own resource and
 * scope. Returns the number of spans seen. */
static size_t check_parts(const struct xb_otlp_split_result *res, const struct xb_otlp_limits *lim,
                          size_t skip)
{
    size_t next = 0;
    for (size_t p = 0; p < res->n_parts; p++) {
        const xb_pb_export_req *part = res->parts[p];
        size_t packed = protobuf_c_message_get_packed_size(&part->base), n = 0;
        if (lim->max_request_bytes)
            assert_true(packed <= lim->max_request_bytes);
        for (size_t i = 0; i < part->n_resource_spans; i++) {
            const xb_pb_resource_spans *rs = part->resource_spans[i];
            assert_true(rs->n_scope_spans > 0);
            for (size_t j = 0; j < rs->n_scope_spans; j++) {
                const xb_pb_scope_spans *ss = rs->scope_spans[j];
                assert_true(ss->n_spans > 0);
                for (size_t k = 0; k < ss->n_spans; k++) {
                    char want[48];
                    if (next == skip)
                        next++;
                    assert_int_equal(span_no(ss->spans[k]), next);
                    /* the span sits under its own resource and scope */
                    snprintf(want, sizeof(want), "r%u-s%c",
                             rs->resource->dropped_attributes_count - 100, ss->scope->name[8]);
                    assert_string_equal(ss->spans[k]->name, want);
                    next++;
                    n++;
                }
            }
        }
        assert_int_equal(n, res->part_spans[p]);
        if (lim->max_spans)
            assert_true(n <= lim->max_spans);
    }
    return next;
}

/* A fresh 64 KiB arena holding make_req(|n_rs|, |n_ss|, |n_sp|, |pad|), split under
 * |lim| into |res| (asserted XB_OK); the request is stored in |*req| when |req| is not
 * NULL. The caller frees the arena. */
static struct xb_arena *split_new_req(size_t n_rs, size_t n_ss, size_t n_sp, size_t pad,
                                      const struct xb_otlp_limits *lim,
                                      struct xb_otlp_split_result *res, xb_pb_export_req **req)
{
    struct xb_arena *a = xb_arena_new(1 << 16, 0);
    xb_pb_export_req *r = make_req(a, n_rs, n_ss, n_sp, pad);

    assert_int_equal(xb_otlp_split(r, lim, a, res), XB_OK);
    if (req)
        *req = r;
    return a;
}

static void test_within_limits_is_one_identical_part(void **state)
{
    struct xb_otlp_limits lim = {XB_OTLP_XRAY_MAX_REQUEST_BYTES, XB_OTLP_XRAY_MAX_SPANS,
                                 XB_OTLP_XRAY_MAX_SPAN_BYTES, 0};
    struct xb_otlp_split_result res;
    xb_pb_export_req *req;
    struct xb_arena *a = split_new_req(2, 2, 3, 10, &lim, &res, &req);
    size_t n1, n2;
    uint8_t *b1, *b2;

    (void)state;
    assert_int_equal(res.n_parts, 1);
    assert_int_equal(res.part_spans[0], 12);
    assert_int_equal(res.dropped_spans, 0);
    n1 = protobuf_c_message_get_packed_size(&req->base);
    n2 = protobuf_c_message_get_packed_size(&res.parts[0]->base);
    assert_int_equal(n1, n2);
    b1 = malloc(n1);
    b2 = malloc(n2);
    protobuf_c_message_pack(&req->base, b1);
    protobuf_c_message_pack(&res.parts[0]->base, b2);
    assert_memory_equal(b1, b2, n1); /* byte for byte: nothing lost or reordered */
    free(b1);
    free(b2);
    xb_arena_free(a);
}

static void test_span_count_limit(void **state)
{
    struct xb_otlp_limits lim = {0, 5, 0, 0};
    struct xb_otlp_split_result res;
    struct xb_arena *a = split_new_req(2, 2, 3, 10, &lim, &res, NULL);

    (void)state;
    assert_int_equal(res.n_parts, 3); /* 5 + 5 + 2 */
    assert_int_equal(check_parts(&res, &lim, (size_t)-1), 12);
    assert_int_equal(res.part_spans[2], 2);
    xb_arena_free(a);
}

static void test_byte_limit_every_part_fits(void **state)
{
    struct xb_arena *a = xb_arena_new(1 << 16, 0);
    xb_pb_export_req *req = make_req(a, 3, 2, 20, 300);
    struct xb_otlp_split_result res;

    (void)state;
    for (size_t limit = 400; limit <= 40000; limit = limit * 3 / 2) {
        struct xb_otlp_limits lim = {limit, 0, 0, 0};
        assert_int_equal(xb_otlp_split(req, &lim, a, &res), XB_OK);
        assert_int_equal(res.dropped_spans, 0);
        assert_true(res.n_parts >= 1);
        assert_int_equal(check_parts(&res, &lim, (size_t)-1), 120);
    }
    xb_arena_free(a);
}

static void test_oversize_span_dropped_and_counted(void **state)
{
    struct xb_arena *a = xb_arena_new(1 << 16, 0);
    xb_pb_export_req *req = make_req(a, 1, 1, 5, 10);
    struct xb_otlp_limits lim = {0, 0, 200, 0};
    struct xb_otlp_split_result res;
    xb_pb_kv *big = req->resource_spans[0]->scope_spans[0]->spans[2]->attributes[0];
    char *s = xb_arena_alloc(a, 301);

    (void)state;
    memset(s, 'y', 300);
    s[300] = '\0';
    big->value->string_value = s;
    assert_int_equal(xb_otlp_split(req, &lim, a, &res), XB_OK);
    assert_int_equal(res.dropped_spans, 1);
    assert_int_equal(res.n_parts, 1);
    /* spans 0,1 and 3,4 stay in one part, as two runs of the same scope */
    assert_int_equal(check_parts(&res, &lim, 2), 5);
    assert_int_equal(res.part_spans[0], 4);
    xb_arena_free(a);
}

/* The endpoint-facing property: the concatenated parts decode to the original spans
 * (protobuf merges concatenated messages, which is how the exporter batches). */
static void test_concatenated_parts_round_trip(void **state)
{
    struct xb_otlp_limits lim = {1500, 4, 0, 0};
    struct xb_otlp_split_result res;
    struct xb_arena *a = split_new_req(2, 3, 7, 50, &lim, &res, NULL);
    uint8_t *buf = malloc(1 << 20);
    size_t len = 0, n = 0;
    xb_pb_export_req *back;

    (void)state;
    for (size_t p = 0; p < res.n_parts; p++)
        len += protobuf_c_message_pack(&res.parts[p]->base, buf + len);
    back = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, len, buf);
    assert_non_null(back);
    for (size_t i = 0; i < back->n_resource_spans; i++)
        for (size_t j = 0; j < back->resource_spans[i]->n_scope_spans; j++)
            for (size_t k = 0; k < back->resource_spans[i]->scope_spans[j]->n_spans; k++)
                assert_int_equal(span_no(back->resource_spans[i]->scope_spans[j]->spans[k]), n++);
    assert_int_equal(n, 42);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(back,
                                                                                            NULL);
    free(buf);
    xb_arena_free(a);
}

static void test_empty_request_no_parts(void **state)
{
    struct xb_otlp_limits lim = {100, 1, 10, 0};
    struct xb_otlp_split_result res;
    struct xb_arena *a = split_new_req(2, 1, 0, 1, &lim, &res, NULL);

    (void)state;
    assert_int_equal(res.n_parts, 0);
    xb_arena_free(a);
}

static void test_arena_exhaustion_is_nomem(void **state)
{
    struct xb_arena *a = xb_arena_new(1 << 16, 0);
    xb_pb_export_req *req = make_req(a, 2, 2, 3, 10);
    struct xb_otlp_limits lim = {0, 2, 0, 0};
    struct xb_otlp_split_result res;
    int failed = 0;

    (void)state;
    for (size_t n = 1; n < 40; n++) {
        xb_arena_fail_after(a, n);
        int rc = xb_otlp_split(req, &lim, a, &res);
        xb_arena_fail_after(a, 0);
        if (rc == XB_ERR_NOMEM) {
            assert_int_equal(res.n_parts, 0);
            failed++;
        } else {
            assert_int_equal(rc, XB_OK);
        }
    }
    assert_true(failed > 0);
    xb_arena_free(a);
}

/* Span k (of 12: 2 resources x 2 scopes x 3) belongs to trace k % 3, except span 7,
 * whose trace id is 4 bytes long. */
static void test_split_by_trace(void **state)
{
    struct xb_arena *a = xb_arena_new(1 << 16, 0);
    xb_pb_export_req *req = make_req(a, 2, 2, 3, 10);
    static uint8_t ids[3][16];
    struct xb_otlp_split_result res;
    size_t seen = 0;

    (void)state;
    for (int t = 0; t < 3; t++)
        memset(ids[t], 0xa0 + t, 16);
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < 2; j++)
            for (size_t k = 0; k < 3; k++) {
                xb_pb_span *sp = req->resource_spans[i]->scope_spans[j]->spans[k];
                uint32_t no = span_no(sp);
                sp->trace_id.data = ids[no % 3];
                sp->trace_id.len = no == 7 ? 4 : 16;
            }
    assert_int_equal(xb_otlp_split_by_trace(req, a, &res), XB_OK);
    assert_int_equal(res.n_parts, 3);
    assert_int_equal(res.dropped_spans, 1);
    for (size_t p = 0; p < 3; p++) {
        const xb_pb_export_req *part = res.parts[p];
        uint32_t last = 0;
        int first = 1;
        assert_memory_equal(res.part_trace[p], ids[p], 16); /* order of first appearance */
        for (size_t i = 0; i < part->n_resource_spans; i++)
            for (size_t j = 0; j < part->resource_spans[i]->n_scope_spans; j++) {
                const xb_pb_scope_spans *ss = part->resource_spans[i]->scope_spans[j];
                for (size_t k = 0; k < ss->n_spans; k++) {
                    char want[48];
                    uint32_t no = span_no(ss->spans[k]);
                    assert_int_equal(no % 3, p);
                    assert_memory_equal(ss->spans[k]->trace_id.data, ids[p], 16);
                    assert_true(first || no > last); /* original order */
                    snprintf(want, sizeof(want), "r%u-s%c",
                             part->resource_spans[i]->resource->dropped_attributes_count - 100,
                             ss->scope->name[8]);
                    assert_string_equal(ss->spans[k]->name, want);
                    first = 0;
                    last = no;
                    seen++;
                }
            }
        assert_int_equal(res.part_spans[p], p == 1 ? 3 : 4);
    }
    assert_int_equal(seen, 11);
    xb_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_within_limits_is_one_identical_part),
        cmocka_unit_test(test_span_count_limit),
        cmocka_unit_test(test_byte_limit_every_part_fits),
        cmocka_unit_test(test_oversize_span_dropped_and_counted),
        cmocka_unit_test(test_concatenated_parts_round_trip),
        cmocka_unit_test(test_empty_request_no_parts),
        cmocka_unit_test(test_arena_exhaustion_is_nomem),
        cmocka_unit_test(test_split_by_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
