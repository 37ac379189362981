/*
 * tests/unit/translator/test_resource_merge.c - extra resource attributes (the
 * resourcedetection processor): merge rule of xb_translate_merge_resource() and its
 * effect on the X-Ray origin and aws block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "translator/attrs.h"
#include "translator/translate.h"

struct kvs {
    xb_pb_kv kv[8];
    xb_pb_any v[8];
    xb_pb_kv *p[8];
    size_t n;
};

static void kv_str(struct kvs *k, const char *key, const char *val)
{
    size_t i = k->n++;

    opentelemetry__proto__common__v1__key_value__init(&k->kv[i]);
    opentelemetry__proto__common__v1__any_value__init(&k->v[i]);
    k->kv[i].key = (char *)key;
    k->v[i].value_case = XB_ANY_STRING;
    k->v[i].string_value = (char *)val;
    k->kv[i].value = &k->v[i];
    k->p[i] = &k->kv[i];
}

/* The string value of |key| in |r|, failing when it is absent or appears twice. */
static const char *value_of(const xb_pb_resource *r, const char *key)
{
    const char *found = NULL;

    for (size_t i = 0; i < r->n_attributes; i++) {
        if (strcmp(r->attributes[i]->key, key) == 0) {
            assert_null(found);
            found = r->attributes[i]->value->string_value;
        }
    }
    assert_non_null(found);
    return found;
}

static struct kvs req_attrs, detected;
static xb_pb_resource req_res;

static void fill(void)
{
    memset(&req_attrs, 0, sizeof(req_attrs));
    memset(&detected, 0, sizeof(detected));
    kv_str(&req_attrs, "service.name", "checkout");
    kv_str(&req_attrs, "cloud.platform", "aws_eks");
    kv_str(&detected, "cloud.provider", "aws");
    kv_str(&detected, "cloud.platform", "aws_ec2");
    kv_str(&detected, "host.id", "i-0123456789abcdef0");
    kv_str(&detected, "cloud.availability_zone", "us-west-2a");
    opentelemetry__proto__resource__v1__resource__init(&req_res);
    req_res.attributes = req_attrs.p;
    req_res.n_attributes = req_attrs.n;
}

static void test_merge_rule(void **state)
{
    struct xb_translator_config cfg;
    struct xb_arena *arena = xb_arena_new(4096, 0);
    const xb_pb_resource *out;

    (void)state;
    fill();
    xb_translator_config_defaults(&cfg);
    /* Nothing to add: the request's resource itself, no copy. */
    assert_int_equal(xb_translate_merge_resource(&cfg, &req_res, arena, &out), XB_OK);
    assert_ptr_equal(out, &req_res);

    cfg.extra_resource = detected.p;
    cfg.n_extra_resource = detected.n;
    cfg.extra_resource_override = 0; /* the request's keys win */
    assert_int_equal(xb_translate_merge_resource(&cfg, &req_res, arena, &out), XB_OK);
    assert_int_equal(out->n_attributes, 5);
    assert_string_equal(value_of(out, "cloud.platform"), "aws_eks");
    assert_string_equal(value_of(out, "host.id"), "i-0123456789abcdef0");
    assert_string_equal(value_of(out, "service.name"), "checkout");
    assert_int_equal(req_res.n_attributes, 2); /* the request is not modified */

    cfg.extra_resource_override = 1; /* detected values win */
    assert_int_equal(xb_translate_merge_resource(&cfg, &req_res, arena, &out), XB_OK);
    assert_int_equal(out->n_attributes, 5);
    assert_string_equal(value_of(out, "cloud.platform"), "aws_ec2");

    /* A request without a resource gets the detected attributes alone. */
    assert_int_equal(xb_translate_merge_resource(&cfg, NULL, arena, &out), XB_OK);
    assert_int_equal(out->n_attributes, 4);
    assert_string_equal(value_of(out, "cloud.provider"), "aws");
    xb_arena_free(arena);
}

struct one_doc {
    char *json;
};

static int keep(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    struct one_doc *d = ud;

    (void)trace_id;
    (void)id;
    free(d->json);
    d->json = strndup(json, len);
    return 0;
}

static uint8_t TID[16] = {0x4e, 0xfa, 0xaf, 0x4d, 0x1e, 0x87, 0x20, 0xb3,
                          0x95, 0x41, 0x90, 0x19, 0x50, 0x01, 0x9e, 0xe5};
static uint8_t SID[8] = {0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8};

/* The detected attributes reach the document: origin and the aws.ec2 block. */
static void test_origin_from_detected(void **state)
{
    struct xb_translator_config cfg;
    struct xb_arena *arena = xb_arena_new(16384, 0);
    struct xb_buf buf;
    xb_pb_span span, *spans[1] = {&span};
    xb_pb_scope_spans ss, *sss[1] = {&ss};
    xb_pb_resource_spans rs, *rss[1] = {&rs};
    xb_pb_export_req req;
    struct xb_translate_result res;
    struct one_doc d = {NULL};
    cJSON *doc;

    (void)state;
    fill();
    xb_buf_init(&buf, 0);
    xb_translator_config_defaults(&cfg);
    cfg.extra_resource = detected.p;
    cfg.n_extra_resource = detected.n;
    cfg.extra_resource_override = 1;
    opentelemetry__proto__trace__v1__span__init(&span);
    span.trace_id.data = TID;
    span.trace_id.len = 16;
    span.span_id.data = SID;
    span.span_id.len = 8;
    span.name = "GET /";
    span.kind = 2; /* SERVER */
    span.start_time_unix_nano = 1700000000250000000ULL;
    span.end_time_unix_nano = 1700000001500000000ULL;
    opentelemetry__proto__trace__v1__scope_spans__init(&ss);
    ss.spans = spans;
    ss.n_spans = 1;
    opentelemetry__proto__trace__v1__resource_spans__init(&rs);
    rs.resource = &req_res;
    rs.scope_spans = sss;
    rs.n_scope_spans = 1;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    req.resource_spans = rss;
    req.n_resource_spans = 1;
    assert_int_equal(xb_translate_request(&cfg, &req, 1700000000, arena, &buf, keep, &d, &res),
                     XB_OK);
    assert_int_equal(res.documents, 1);
    doc = cJSON_Parse(d.json);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "origin")->valuestring, "AWS::EC2::Instance");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "aws"), "ec2"),
                            "instance_id")
            ->valuestring,
        "i-0123456789abcdef0");
    cJSON_Delete(doc);

    /* Without override the request's cloud.platform (aws_eks) decides the origin. */
    cfg.extra_resource_override = 0;
    xb_arena_reset(arena);
    assert_int_equal(xb_translate_request(&cfg, &req, 1700000000, arena, &buf, keep, &d, &res),
                     XB_OK);
    doc = cJSON_Parse(d.json);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "origin")->valuestring, "AWS::EKS::Container");
    cJSON_Delete(doc);
    free(d.json);
    xb_buf_cleanup(&buf);
    xb_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_rule),
        cmocka_unit_test(test_origin_from_detected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
