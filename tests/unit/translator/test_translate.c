/* tests/unit/translator/test_translate.c - whole-span translation, size cap, rejections. */
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

#define MAX_DOCS 4

struct sink {
    size_t n;
    char *doc[MAX_DOCS];
    char tid[MAX_DOCS][40];
    char id[MAX_DOCS][20];
};

static int sink_emit(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    struct sink *s = ud;

    if (s->n >= MAX_DOCS)
        return XB_ERR_FULL;
    s->doc[s->n] = strndup(json, len);
    strncpy(s->tid[s->n], trace_id, sizeof(s->tid[0]) - 1);
    strncpy(s->id[s->n], id, sizeof(s->id[0]) - 1);
    s->n++;
    return 0;
}

static void sink_free(struct sink *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->doc[i]);
    memset(s, 0, sizeof(*s));
}

static uint8_t TID[16] = {0x4e, 0xfa, 0xaf, 0x4d, 0x1e, 0x87, 0x20, 0xb3,
                          0x95, 0x41, 0x90, 0x19, 0x50, 0x01, 0x9e, 0xe5};
static uint8_t SID[8] = {0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8};
static uint8_t PID[8] = {0x7f, 0x2c, 0x1a, 0x4b, 0x9e, 0x8d, 0x6c, 0x5a};

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

static void kv_int(struct kvs *k, const char *key, int64_t val)
{
    size_t i = k->n++;

    opentelemetry__proto__common__v1__key_value__init(&k->kv[i]);
    opentelemetry__proto__common__v1__any_value__init(&k->v[i]);
    k->kv[i].key = (char *)key;
    k->v[i].value_case = XB_ANY_INT;
    k->v[i].int_value = val;
    k->kv[i].value = &k->v[i];
    k->p[i] = &k->kv[i];
}

static void kv_bool(struct kvs *k, const char *key, int val)
{
    size_t i = k->n++;

    opentelemetry__proto__common__v1__key_value__init(&k->kv[i]);
    opentelemetry__proto__common__v1__any_value__init(&k->v[i]);
    k->kv[i].key = (char *)key;
    k->v[i].value_case = XB_ANY_BOOL;
    k->v[i].bool_value = val;
    k->kv[i].value = &k->v[i];
    k->p[i] = &k->kv[i];
}

static void span_init(xb_pb_span *s, struct kvs *attrs, int kind, int with_parent)
{
    opentelemetry__proto__trace__v1__span__init(s);
    s->trace_id.data = TID;
    s->trace_id.len = 16;
    s->span_id.data = SID;
    s->span_id.len = 8;
    if (with_parent) {
        s->parent_span_id.data = PID;
        s->parent_span_id.len = 8;
    }
    s->name = "GET /users";
    s->kind = kind;
    s->start_time_unix_nano = 1700000000250000000ULL;
    s->end_time_unix_nano = 1700000001500000000ULL;
    if (attrs) {
        s->attributes = attrs->p;
        s->n_attributes = attrs->n;
    }
}

struct fixture {
    struct xb_translator_config cfg;
    struct xb_arena *arena;
    struct xb_buf out;
    struct sink sink;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    xb_translator_config_defaults(&f->cfg);
    f->arena = xb_arena_new(16384, 0);
    xb_buf_init(&f->out, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    sink_free(&f->sink);
    xb_buf_cleanup(&f->out);
    xb_arena_free(f->arena);
    free(f);
    return 0;
}

static int run(struct fixture *f, const xb_pb_resource *res, const xb_pb_span *span,
               const char **desc)
{
    return xb_translate_span(&f->cfg, res, span, 1700000000, f->arena, &f->out, sink_emit, &f->sink,
                             desc);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* The emit callback names the document's own trace id and id, not a link's: the links
 * come before "trace_id" in the text, so a text search would find the link's. */
static void test_translate_emit_identity_with_links(void **state)
{
    struct fixture *f = *state;
    static uint8_t ltid[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                               0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};
    static uint8_t lsid[8] = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x01, 0x02};
    xb_pb_link link, *links[1] = {&link};
    xb_pb_span s;
    const char *desc = NULL;
    const char *own = "1-4efaaf4d-1e8720b39541901950019ee5";
    const char *theirs = "1-11223344-5566778899aabbccddeeff00";
    cJSON *d;

    opentelemetry__proto__trace__v1__span__link__init(&link);
    link.trace_id.data = ltid;
    link.trace_id.len = 16;
    link.span_id.data = lsid;
    link.span_id.len = 8;
    span_init(&s, NULL, XB_KIND_CONSUMER, 1);
    s.links = links;
    s.n_links = 1;
    assert_int_equal(run(f, NULL, &s, &desc), 0);
    assert_true(f->sink.n >= 1);
    /* the premise: the link's trace id comes first in the text */
    assert_non_null(strstr(f->sink.doc[0], theirs));
    assert_true(strstr(f->sink.doc[0], theirs) < strstr(f->sink.doc[0], own));
    for (size_t i = 0; i < f->sink.n; i++) {
        d = cJSON_Parse(f->sink.doc[i]);
        assert_non_null(d);
        assert_string_equal(f->sink.tid[i], own);
        assert_string_equal(f->sink.tid[i], jstr(d, "trace_id"));
        assert_string_equal(f->sink.id[i], jstr(d, "id"));
        cJSON_Delete(d);
    }
    assert_string_equal(f->sink.id[0], "53995c3f42cd8ad8");
}

static void test_translate_server_segment_core_fields(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    xb_pb_status st = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
    const char *desc = NULL;
    cJSON *d;

    kv_str(&a, "http.method", "GET");
    kv_int(&a, "http.status_code", 503);
    kv_str(&a, "http.url", "https://api.example.com/users");
    kv_int(&a, "big", INT64_C(9007199254740993));
    span_init(&s, &a, XB_KIND_SERVER, 1);
    st.code = XB_STATUS_ERROR;
    st.message = "upstream down";
    s.status = &st;
    assert_int_equal(run(f, NULL, &s, &desc), 0);
    assert_int_equal(f->sink.n, 1);
    assert_string_equal(f->sink.tid[0], "1-4efaaf4d-1e8720b39541901950019ee5");
    /* exact text of the leading keys and the exact int64 */
    assert_non_null(strstr(f->sink.doc[0], "{\"name\":\"GET /users\",\"id\":\"53995c3f42cd8ad8\","
                                           "\"start_time\":1700000000.2499998,"));
    assert_non_null(strstr(f->sink.doc[0], "\"big\":9007199254740993"));
    d = cJSON_Parse(f->sink.doc[0]);
    assert_non_null(d);
    assert_string_equal(jstr(d, "parent_id"), "7f2c1a4b9e8d6c5a");
    assert_null(cJSON_GetObjectItem(d, "type"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "fault")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(d, "error")));
    assert_string_equal(jstr(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "http"), "request"), "url"),
                        "https://api.example.com/users");
    assert_non_null(cJSON_GetObjectItem(d, "cause"));
    cJSON_Delete(d);
}

static void test_translate_client_subsegment_remote_namespace(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    cJSON *d;

    kv_str(&a, "peer.service", "billing");
    kv_str(&a, "enduser.id", "alice");
    span_init(&s, &a, XB_KIND_CLIENT, 1);
    assert_int_equal(run(f, NULL, &s, NULL), 0);
    d = cJSON_Parse(f->sink.doc[0]);
    assert_string_equal(jstr(d, "name"), "billing");
    assert_string_equal(jstr(d, "type"), "subsegment");
    assert_string_equal(jstr(d, "namespace"), "remote");
    assert_string_equal(jstr(d, "user"), "alice");
    assert_string_equal(
        jstr(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "metadata"), "default"), "peer.service"),
        "billing");
    cJSON_Delete(d);
}

static void test_translate_indexed_annotations(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    const char *idx[] = {"http.method", "tenant.id"};
    cJSON *d, *ann;

    kv_str(&a, "http.method", "POST");
    kv_str(&a, "tenant.id", "t-1");
    kv_str(&a, "other", "x");
    span_init(&s, &a, XB_KIND_SERVER, 0);
    f->cfg.indexed_attributes = idx;
    f->cfg.n_indexed_attributes = 2;
    assert_int_equal(run(f, NULL, &s, NULL), 0);
    d = cJSON_Parse(f->sink.doc[0]);
    ann = cJSON_GetObjectItem(d, "annotations");
    assert_string_equal(jstr(ann, "http.method"), "POST");
    assert_string_equal(jstr(ann, "tenant.id"), "t-1");
    assert_null(cJSON_GetObjectItem(ann, "other"));
    cJSON_Delete(d);
}

static void test_translate_rejects_bad_ids(void **state)
{
    struct fixture *f = *state;
    xb_pb_span s;
    uint8_t zero[16] = {0};
    const char *desc = NULL;

    span_init(&s, NULL, XB_KIND_SERVER, 0);
    s.trace_id.len = 15;
    assert_int_equal(run(f, NULL, &s, &desc), XB_ERR_INVALID);
    assert_non_null(desc);
    s.trace_id.len = 16;
    s.span_id.data = zero;
    assert_int_equal(run(f, NULL, &s, &desc), XB_ERR_INVALID);
    s.span_id.data = SID;
    s.parent_span_id.data = PID;
    s.parent_span_id.len = 4;
    assert_int_equal(run(f, NULL, &s, &desc), XB_ERR_INVALID);
    assert_int_equal(f->sink.n, 0);
}

static void test_translate_timestamp_validation(void **state)
{
    struct fixture *f = *state;
    xb_pb_span s;
    const char *desc = NULL;

    span_init(&s, NULL, XB_KIND_SERVER, 0); /* trace id epoch 0x4efaaf4d = 2011 */
    assert_int_equal(run(f, NULL, &s, &desc), 0);
    f->cfg.skip_timestamp_validation = 0;
    assert_int_equal(run(f, NULL, &s, &desc), XB_ERR_INVALID);
    assert_int_equal(f->sink.n, 1);
}

static void test_translate_200kb_metadata_trimmed(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    char *big = malloc(200 * 1024 + 1);
    cJSON *d, *x;

    memset(big, 'x', 200 * 1024);
    big[200 * 1024] = '\0';
    kv_str(&a, "payload", big);
    kv_str(&a, "payload2", big);
    span_init(&s, &a, XB_KIND_SERVER, 0);
    assert_int_equal(run(f, NULL, &s, NULL), 0);
    assert_int_equal(f->sink.n, 1);
    assert_true(strlen(f->sink.doc[0]) <= XB_XRAY_MAX_DOC_BYTES);
    d = cJSON_Parse(f->sink.doc[0]);
    assert_non_null(d);
    x = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "metadata"), "xraybridge");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(x, "trimmed")));
    assert_true(cJSON_GetObjectItem(x, "original_bytes")->valuedouble > 400000);
    assert_string_equal(jstr(d, "name"), "GET /users");
    cJSON_Delete(d);
    free(big);
}

static void test_translate_huge_annotation_cut_and_absurd_cap_rejected(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    const char *idx[] = {"blob"};
    char *big = malloc(100000 + 1);
    const char *desc = NULL;
    cJSON *d;

    memset(big, 'y', 100000);
    big[100000] = '\0';
    kv_str(&a, "blob", big);
    span_init(&s, &a, XB_KIND_SERVER, 0);
    f->cfg.indexed_attributes = idx;
    f->cfg.n_indexed_attributes = 1;
    assert_int_equal(run(f, NULL, &s, NULL), 0);
    assert_true(strlen(f->sink.doc[0]) <= XB_XRAY_MAX_DOC_BYTES);
    d = cJSON_Parse(f->sink.doc[0]);
    assert_non_null(d);
    assert_true(strlen(jstr(cJSON_GetObjectItem(d, "annotations"), "blob")) < 100000);
    cJSON_Delete(d);
    f->cfg.max_document_bytes = 100;
    assert_int_equal(run(f, NULL, &s, &desc), XB_ERR_INVALID);
    assert_non_null(desc);
    assert_int_equal(f->sink.n, 1);
    free(big);
}

static void test_translate_trim_never_duplicates_cut_keys(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    const char *idx[] = {"k234567890123456A", "k234567890123456B"};
    char *big = malloc(1001);
    const char *p;
    int count = 0;

    memset(big, 'v', 1000);
    big[1000] = '\0';
    kv_str(&a, idx[0], big);
    kv_str(&a, idx[1], big);
    span_init(&s, &a, XB_KIND_SERVER, 0);
    f->cfg.indexed_attributes = idx;
    f->cfg.n_indexed_attributes = 2;
    f->cfg.max_document_bytes = 450;
    assert_int_equal(run(f, NULL, &s, NULL), 0);
    assert_true(strlen(f->sink.doc[0]) <= 450);
    for (p = f->sink.doc[0]; (p = strstr(p, "\"k234567890123456")); p++)
        count++;
    assert_int_equal(count, 1);
    free(big);
}

/* Metadata keys that differ only in a byte that is not UTF-8 are one member (both print
 * U+FFFD there), whatever the key's length and the byte's place, while an ASCII key is
 * its own member: the ASCII check's word and vector loads must see every byte. */
static void test_translate_meta_keys_invalid_byte_anywhere(void **state)
{
    struct fixture *f = *state;
    char k[3][64];

    for (size_t n = 1; n <= 50; n++) { /* word loads, then 1 to 3 vector loads */
        for (size_t at = 0; at < n; at++) {
            struct kvs a = {0};
            xb_pb_span s;
            cJSON *doc;
            const cJSON *def;
            char want[72];
            for (int i = 0; i < 3; i++) {
                memset(k[i], 'k', n);
                k[i][n] = '\0';
            }
            k[0][at] = (char)0xFF;
            k[1][at] = (char)0xFE;
            k[2][at] = 'x';
            kv_str(&a, k[0], "a");
            kv_str(&a, k[1], "b");
            kv_str(&a, k[2], "c");
            span_init(&s, &a, XB_KIND_SERVER, 0);
            sink_free(&f->sink);
            assert_int_equal(run(f, NULL, &s, NULL), 0);
            assert_int_equal(f->sink.n, 1);
            doc = cJSON_Parse(f->sink.doc[0]);
            assert_non_null(doc);
            def = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "default");
            assert_non_null(def);
            assert_int_equal(cJSON_GetArraySize(def), 2);
            memcpy(want, k[2], n + 1);
            assert_string_equal(jstr(def, want), "c");
            memcpy(want, k[2], at);
            memcpy(want + at, "\xEF\xBF\xBD", 3);
            memcpy(want + at + 3, k[2] + at + 1, n - at);
            assert_string_equal(jstr(def, want), "b"); /* the last of equal keys */
            cJSON_Delete(doc);
        }
    }
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Metadata members come out sorted by key bytes, one per key with the first value (the
 * index hides later duplicates of a span's attribute), for
 * lists of 1 to 40 keys (the short-list insertion sort up to 32, the general sort
 * beyond), keys sharing 8-byte prefixes and shorter than 8 bytes, duplicates anywhere:
 * checked against qsort of the distinct keys. */
static void test_translate_meta_sorted_unique(void **state)
{
    struct fixture *f = *state;
    static const char alpha[] = "ab.";
    char keys[40][16];
    const char *uniq[40];
    xb_pb_kv kv[40], *kp[40];
    xb_pb_any v[40];
    uint64_t x = 0x3C6EF372FE94F82Bu;

    for (int iter = 0; iter < 3000; iter++) {
        xb_pb_span s;
        cJSON *doc;
        const cJSON *def, *it;
        size_t n, nu = 0, i, j;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n = 1 + (size_t)(x % 40);
        for (i = 0; i < n; i++) {
            size_t len;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            len = 1 + (size_t)(x % 12);
            /* a shared 8-byte stem half of the time: prefixes tie */
            for (j = 0; j < len; j++)
                keys[i][j] = (x >> 8) % 2 && j < 8 ? 'k' : alpha[(x >> (10 + 2 * j)) % 3];
            keys[i][len] = '\0';
            opentelemetry__proto__common__v1__key_value__init(&kv[i]);
            opentelemetry__proto__common__v1__any_value__init(&v[i]);
            kv[i].key = keys[i];
            v[i].value_case = XB_ANY_INT;
            v[i].int_value = (int64_t)i;
            kv[i].value = &v[i];
            kp[i] = &kv[i];
        }
        for (i = 0; i < n; i++) {
            for (j = 0; j < nu && strcmp(uniq[j], keys[i]) != 0; j++)
                ;
            if (j == nu)
                uniq[nu++] = keys[i];
        }
        qsort(uniq, nu, sizeof(uniq[0]), cmp_keys);
        span_init(&s, NULL, XB_KIND_SERVER, 0);
        s.attributes = kp;
        s.n_attributes = n;
        sink_free(&f->sink);
        assert_int_equal(run(f, NULL, &s, NULL), 0);
        doc = cJSON_Parse(f->sink.doc[0]);
        assert_non_null(doc);
        def = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "metadata"),
                                               "default");
        assert_non_null(def);
        assert_int_equal(cJSON_GetArraySize(def), nu);
        j = 0;
        cJSON_ArrayForEach(it, def)
        {
            assert_string_equal(it->string, uniq[j]);
            for (i = 0; strcmp(keys[i], uniq[j]) != 0; i++)
                ;
            assert_int_equal((size_t)it->valuedouble, i);
            j++;
        }
        cJSON_Delete(doc);
    }
}

static void test_translate_local_root_client_two_documents(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    cJSON *d1, *d2;

    kv_str(&a, "aws.span.kind", "LOCAL_ROOT");
    kv_str(&a, "aws.local.service", "checkout");
    kv_str(&a, "aws.remote.service", "payments");
    span_init(&s, &a, XB_KIND_CLIENT, 1);
    assert_int_equal(run(f, NULL, &s, NULL), 0);
    assert_int_equal(f->sink.n, 2);
    d1 = cJSON_Parse(f->sink.doc[0]);
    d2 = cJSON_Parse(f->sink.doc[1]);
    assert_string_equal(jstr(d1, "name"), "payments");
    assert_string_equal(jstr(d1, "type"), "subsegment");
    assert_string_equal(jstr(d1, "id"), "53995c3f42cd8ad8");
    assert_string_equal(jstr(d2, "name"), "checkout");
    assert_null(cJSON_GetObjectItem(d2, "type"));
    assert_string_equal(jstr(d1, "parent_id"), jstr(d2, "id"));
    assert_string_equal(jstr(d2, "parent_id"), "7f2c1a4b9e8d6c5a");
    assert_int_equal(strlen(jstr(d2, "id")), 16);
    assert_string_not_equal(jstr(d2, "id"), "0000000000000000");
    cJSON_Delete(d1);
    cJSON_Delete(d2);
}

/*
 * awsxrayexporter v0.141+ removes a bool aws.xray.inprogress from the shared span and
 * panics when a second exporter reads the same (read-only) data. Here the span is never
 * written to: the attribute list is unchanged afterwards, and translating the same span
 * again (as a second exporter would) gives the same in-progress documents.
 */
static void test_translate_inprogress_leaves_span_untouched(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    cJSON *d;
    int round;

    kv_bool(&a, "aws.xray.inprogress", 1);
    kv_str(&a, "aws.span.kind", "LOCAL_ROOT");
    kv_str(&a, "aws.remote.service", "payments");
    span_init(&s, &a, XB_KIND_CLIENT, 1);
    for (round = 0; round < 2; round++) {
        assert_int_equal(run(f, NULL, &s, NULL), 0);
        assert_int_equal(f->sink.n, 2 * (size_t)(round + 1));
    }
    assert_int_equal(s.n_attributes, 3);
    assert_string_equal(s.attributes[0]->key, "aws.xray.inprogress");
    assert_int_equal(s.attributes[0]->value->value_case, XB_ANY_BOOL);
    assert_true(s.attributes[0]->value->bool_value);
    assert_string_equal(f->sink.doc[0], f->sink.doc[2]);
    assert_string_equal(f->sink.doc[1], f->sink.doc[3]);
    for (round = 0; round < 4; round++) {
        d = cJSON_Parse(f->sink.doc[round]);
        assert_non_null(d);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "in_progress")));
        assert_null(cJSON_GetObjectItem(d, "end_time"));
        assert_null(strstr(f->sink.doc[round], "aws.xray.inprogress"));
        cJSON_Delete(d);
    }
}

/*
 * awsxrayexporter dereferences the missing aws block of a CLIENT/PRODUCER/CONSUMER local
 * root when cloud.provider is not aws (nil-pointer panic). Each kind translates here.
 */
static void test_translate_local_root_non_aws_provider(void **state)
{
    struct fixture *f = *state;
    static const int kinds[] = {XB_KIND_CLIENT, XB_KIND_PRODUCER, XB_KIND_CONSUMER};
    struct kvs r = {0};
    xb_pb_resource res;
    size_t k, i;

    kv_str(&r, "cloud.provider", "gcp");
    opentelemetry__proto__resource__v1__resource__init(&res);
    res.attributes = r.p;
    res.n_attributes = r.n;
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        struct kvs a = {0};
        xb_pb_span s;

        kv_str(&a, "aws.span.kind", "LOCAL_ROOT");
        kv_str(&a, "aws.local.service", "web");
        kv_str(&a, "aws.remote.service", "auth");
        kv_str(&a, "aws.operation", "Op");
        span_init(&s, &a, kinds[k], 1);
        sink_free(&f->sink);
        assert_int_equal(run(f, &res, &s, NULL), 0);
        assert_int_equal(f->sink.n, 2);
        for (i = 0; i < 2; i++) {
            cJSON *d = cJSON_Parse(f->sink.doc[i]);
            assert_non_null(d);
            assert_null(cJSON_GetObjectItem(d, "aws"));
            assert_string_equal(jstr(d, "name"), i == 0 ? "auth" : "web");
            cJSON_Delete(d);
        }
    }
}

static void test_translate_request_counts(void **state)
{
    struct fixture *f = *state;
    xb_pb_span good, bad;
    xb_pb_span *spans[2] = {&good, &bad};
    xb_pb_scope_spans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    xb_pb_scope_spans *ssp = &ss;
    xb_pb_resource_spans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    xb_pb_resource_spans *rsp = &rs;
    xb_pb_export_req req =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    struct xb_translate_result res;

    span_init(&good, NULL, XB_KIND_SERVER, 0);
    span_init(&bad, NULL, XB_KIND_SERVER, 0);
    bad.span_id.len = 3;
    ss.spans = spans;
    ss.n_spans = 2;
    rs.scope_spans = &ssp;
    rs.n_scope_spans = 1;
    req.resource_spans = &rsp;
    req.n_resource_spans = 1;
    assert_int_equal(xb_translate_request(&f->cfg, &req, 1700000000, f->arena, &f->out, sink_emit,
                                          &f->sink, &res),
                     0);
    assert_int_equal(res.spans, 2);
    assert_int_equal(res.documents, 1);
    assert_int_equal(res.rejected_spans, 1);
    assert_non_null(res.first_error);
}

static void test_translate_arena_failure_never_crashes(void **state)
{
    struct fixture *f = *state;
    struct kvs a = {0};
    xb_pb_span s;
    size_t n;
    int rc;

    kv_str(&a, "http.method", "GET");
    kv_str(&a, "aws.xray.metadata.ns", "{\"a\":[1,2,{\"b\":null}]}");
    kv_str(&a, "db.system", "mysql");
    span_init(&s, &a, XB_KIND_CLIENT, 1);
    for (n = 1; n < 200; n++) {
        xb_arena_reset(f->arena);
        xb_arena_fail_after(f->arena, n);
        rc = run(f, NULL, &s, NULL);
        assert_true(rc == 0 || rc == XB_ERR_NOMEM);
        if (rc == 0)
            break;
    }
    xb_arena_fail_after(f->arena, 0);
    assert_true(n < 200);
}

/* The index compares 8-byte key prefixes first: keys sharing, ending at or stopping
 * short of 8 bytes must be found exactly, and the index keeps the original order. */
static void test_attrs_index_prefix_lookup(void **state)
{
    static const char *const keys[] = {"aws.remote.service", "aws.remote.operation", "aws",
                                       "aws.remo",           "aws.remote",           "",
                                       "aws.remote.service"};
    static const char *const absent[] = {"aws.remote.servicex", "aws.rem",     "aws.remote.serv",
                                         "aws.remotf",          "aws.remote.", "b"};
    struct fixture *f = *state;
    struct kvs k = {0};
    struct xb_tr_attrs a;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        kv_str(&k, keys[i], i == 6 ? "second" : keys[i]);
    assert_int_equal(xb_tr_attrs_index(&a, f->arena, k.p, k.n), XB_OK);
    assert_int_equal(a.n, k.n);
    for (i = 0; i < a.n; i++) {
        assert_string_equal(a.v[i].key, keys[i]);
        assert_int_equal(a.v[i].pos, i);
        assert_int_equal(a.v[i].hidden, i == 6); /* the duplicate */
    }
    for (i = 0; i < 6; i++)
        assert_string_equal(xb_tr_any_str(xb_tr_attrs_val(&a, keys[i])), keys[i]); /* first wins */
    for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
        assert_null(xb_tr_attrs_get(&a, absent[i]));
    xb_tr_attrs_hide(&a, "aws.remote.service");
    assert_null(xb_tr_attrs_get(&a, "aws.remote.service"));
    assert_non_null(xb_tr_attrs_get(&a, "aws.remote.operation"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_translate_emit_identity_with_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_server_segment_core_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_client_subsegment_remote_namespace, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_translate_indexed_annotations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_rejects_bad_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_timestamp_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_200kb_metadata_trimmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_huge_annotation_cut_and_absurd_cap_rejected,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_trim_never_duplicates_cut_keys, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_translate_local_root_client_two_documents, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_translate_meta_keys_invalid_byte_anywhere, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_translate_meta_sorted_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_request_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_arena_failure_never_crashes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_attrs_index_prefix_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translate_inprogress_leaves_span_untouched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_translate_local_root_non_aws_provider, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
