/*
 * tests/unit/translator/test_resource_parts.c - the parts of a document built once per
 * ResourceSpans: the resource's metadata and annotations merged into each segment's
 * (xb_tr_meta_resource) give what adding them per segment gives, and the rendered
 * bytes spliced in (metadata entries, the aws block's resource members) are the bytes
 * the writer writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "translator/attrs.h"
#include "translator/aws.h"
#include "translator/doc.h"
#include "translator/meta.h"

#define MAXKV 16

struct kvs {
    xb_pb_kv kv[MAXKV];
    xb_pb_kv *p[MAXKV];
    xb_pb_any v[MAXKV];
    size_t n;
};

/* Appends |key| with a string value, or an int when |val| is NULL. */
static void add(struct kvs *k, const char *key, const char *val)
{
    size_t i = k->n++;

    assert_true(i < MAXKV);
    opentelemetry__proto__common__v1__key_value__init(&k->kv[i]);
    opentelemetry__proto__common__v1__any_value__init(&k->v[i]);
    k->kv[i].key = (char *)key;
    if (val) {
        k->v[i].value_case = XB_ANY_STRING;
        k->v[i].string_value = (char *)val;
    } else {
        k->v[i].value_case = XB_ANY_INT;
        k->v[i].int_value = (int64_t)i;
    }
    k->kv[i].value = &k->v[i];
    k->p[i] = &k->kv[i];
}

static void fill_resource(struct kvs *r)
{
    memset(r, 0, sizeof(*r));
    add(r, "service.name", "checkout");
    add(r, "cloud.provider", "aws");
    add(r, "cloud.platform", "aws_eks");
    add(r, "k8s.cluster.name", "prod \"a\"");
    add(r, "host.id", "i-0abc");
    add(r, "zz.last", NULL);
    add(r, "service.name", "duplicate: the last wins in metadata");
    add(r, "a.first", "é\x01");
    add(r, "telemetry.sdk.name", "opentelemetry");
    add(r, "telemetry.sdk.language", "java");
}

/* Span attribute lists: none, plain, a key equal to a prefixed resource key, and an
 * annotation list (which turns the cached path off). */
static void fill_span(struct kvs *s, int variant)
{
    memset(s, 0, sizeof(*s));
    if (variant == 0)
        return;
    add(s, "app.user", "u1");
    add(s, "zzz", NULL);
    if (variant >= 2)
        add(s, "otel.resource.service.name", "from the span");
    if (variant >= 3)
        add(s, "otel.resource.host.id", NULL);
    if (variant == 4) {
        static xb_pb_any item, arr_v;
        static xb_pb_any *items[1];
        static xb_pb_array arr;
        opentelemetry__proto__common__v1__any_value__init(&item);
        item.value_case = XB_ANY_STRING;
        item.string_value = "otel.resource.k8s.cluster.name";
        items[0] = &item;
        opentelemetry__proto__common__v1__array_value__init(&arr);
        arr.values = items;
        arr.n_values = 1;
        opentelemetry__proto__common__v1__any_value__init(&arr_v);
        arr_v.value_case = XB_ANY_ARRAY;
        arr_v.array_value = &arr;
        add(s, "aws.xray.annotations", NULL);
        s->kv[s->n - 1].value = &arr_v;
    }
}

static void config(unsigned flags, struct xb_translator_config *cfg)
{
    static const char *const indexed[] = {"otel.resource.service.name", "app.user",
                                          "otel.resource.host.id"};

    xb_translator_config_defaults(cfg);
    cfg->index_all_attributes = flags & 1;
    cfg->allow_dot_in_annotation_keys = (flags >> 1) & 1;
    if (flags & 4) {
        cfg->indexed_attributes = indexed;
        cfg->n_indexed_attributes = 3;
    }
}

/* |d| written with |o|, NUL-terminated copy in |out|. */
static void render(const struct xb_tr_xdoc *d, const struct xb_tr_doc_wopts *o,
                   struct xb_arena *arena, struct xb_buf *out)
{
    xb_buf_clear(out);
    assert_int_equal(xb_tr_doc_write(d, o, out, arena, NULL), XB_OK);
}

static void test_resource_parts_match(void **state)
{
    struct xb_arena *arena = xb_arena_new(1 << 16, 0);
    struct kvs *res = test_calloc(1, sizeof(*res)), *span = test_calloc(1, sizeof(*span));
    xb_pb_resource resource;
    struct xb_buf a, b;
    (void)state;

    assert_non_null(arena);
    xb_buf_init(&a, 0);
    xb_buf_init(&b, 0);
    fill_resource(res);
    opentelemetry__proto__resource__v1__resource__init(&resource);
    resource.attributes = res->p;
    resource.n_attributes = res->n;
    for (unsigned flags = 0; flags < 8; flags++) {
        for (int variant = 0; variant <= 4; variant++) {
            struct xb_translator_config cfg;
            struct xb_tr_res_meta rm;
            struct xb_tr_attrs res_idx, s1, s2;
            struct xb_tr_aws_res awsr;
            struct xb_tr_xdoc d1, d2;
            struct xb_tr_doc_wopts plain = {0}, cut = {0};
            struct xb_tr_xaws aws_plain;
            config(flags, &cfg);
            fill_span(span, variant);
            xb_tr_res_meta_init(&rm);
            assert_int_equal(xb_tr_meta_resource(&resource, &cfg, arena, &rm), XB_OK);
            assert_true(rm.ready);
            assert_int_equal(xb_tr_attrs_index(&s1, arena, span->p, span->n), XB_OK);
            assert_int_equal(xb_tr_attrs_index(&s2, arena, span->p, span->n), XB_OK);
            memset(&d1, 0, sizeof(d1));
            memset(&d2, 0, sizeof(d2));
            assert_int_equal(xb_tr_meta_build(&s1, &resource, 1, &rm, &cfg, arena, &d1), XB_OK);
            assert_int_equal(xb_tr_meta_build(&s2, &resource, 1, NULL, &cfg, arena, &d2), XB_OK);

            /* same entries, same order */
            assert_int_equal(d1.n_annots, d2.n_annots);
            for (size_t i = 0; i < d1.n_annots; i++) {
                assert_int_equal(d1.annots[i].key.n, d2.annots[i].key.n);
                assert_memory_equal(d1.annots[i].key.p, d2.annots[i].key.p, d1.annots[i].key.n);
                assert_ptr_equal(d1.annots[i].val, d2.annots[i].val);
            }
            assert_int_equal(d1.n_meta, d2.n_meta);
            for (size_t i = 0; i < d1.n_meta; i++) {
                assert_int_equal(d1.meta[i].key.n, d2.meta[i].key.n);
                assert_memory_equal(d1.meta[i].key.p, d2.meta[i].key.p, d1.meta[i].key.n);
                assert_ptr_equal(d1.meta[i].val, d2.meta[i].val);
                assert_null(d2.meta[i].raw);
            }
            if (variant < 4 && !(flags & 1)) { /* the cached path was taken */
                size_t spliced = 0;
                for (size_t i = 0; i < d1.n_meta; i++)
                    spliced += d1.meta[i].raw != NULL;
                assert_true(spliced > 0);
            }

            /* the aws block's resource members, rendered once and written per document */
            assert_int_equal(xb_tr_attrs_index(&res_idx, arena, res->p, res->n), XB_OK);
            assert_int_equal(xb_tr_aws_resource(&res_idx, &cfg, arena, &awsr), XB_OK);
            assert_true(awsr.present);
            assert_non_null(awsr.tmpl.raw);
            d1.aws = &awsr.tmpl;
            aws_plain = awsr.tmpl;
            aws_plain.raw = NULL;
            d2.aws = &aws_plain;

            /* spliced bytes equal written bytes, untrimmed and cut */
            cut.max_str = 5;
            cut.max_items = 2;
            render(&d1, &plain, arena, &a);
            render(&d2, &plain, arena, &b);
            assert_string_equal(a.data, b.data);
            render(&d1, &cut, arena, &a);
            render(&d2, &cut, arena, &b);
            assert_string_equal(a.data, b.data);
            d1.meta_only_resource = d2.meta_only_resource = 1;
            render(&d1, &plain, arena, &a);
            render(&d2, &plain, arena, &b);
            assert_string_equal(a.data, b.data);
        }
    }
    xb_buf_cleanup(&a);
    xb_buf_cleanup(&b);
    test_free(res);
    test_free(span);
    xb_arena_free(arena);
}

/* Span metadata lists sorted through the orders remembered in a struct xb_tr_res_meta
 * give what sorting each list gives: 20,000 lists of 2 to 16 keys (and some longer),
 * drawn from keys that share lengths and 8-byte prefixes so that remembered lists with
 * the same shape but other keys are met, most of them repeating earlier lists. */
static void test_meta_orders_match_sorting(void **state)
{
    static const char *const pool[] = {
        "a",
        "b",
        "app.user.id",
        "app.user.ix",
        "app.tenant.id",
        "app.tenant.ie",
        "x.session.identifier",
        "x.session.identifiez",
        "k1",
        "k2",
        "db.sql.table",
        "db.sql.tablf",
        "short",
        "shoru",
        "http.route",
        "http.routf",
    };
    static const size_t np = sizeof(pool) / sizeof(pool[0]);
    struct xb_arena *arena = xb_arena_new(1 << 16, 0);
    struct xb_tr_res_meta *rm = test_calloc(1, sizeof(*rm));
    struct xb_translator_config cfg;
    size_t lists[6][MAXKV], lens[6];
    uint64_t x = 0x1F83D9ABFB41BD6Bu;
    (void)state;

    assert_non_null(arena);
    xb_translator_config_defaults(&cfg);
    for (int l = 0; l < 6; l++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        lens[l] = 2 + (size_t)(x % 15);
        for (size_t i = 0; i < lens[l]; i++)
            lists[l][i] = (size_t)((x >> (4 + i)) % np);
    }
    for (int iter = 0; iter < 20000; iter++) {
        struct kvs k = {0};
        struct xb_tr_attrs s1, s2;
        struct xb_tr_xdoc d1, d2;
        int l;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        l = (int)(x % 6);
        for (size_t i = 0; i < lens[l]; i++) {
            size_t key = lists[l][i];
            if ((x >> 20) % 4 == 0 && (x >> (24 + i)) % 3 == 0)
                key ^= 1; /* the key's twin: same length and prefix, other bytes */
            add(&k, pool[key], NULL);
        }
        if ((x >> 40) % 8 == 0) /* now and then a new list of the same length */
            lists[l][(x >> 44) % lens[l]] = (size_t)((x >> 50) % np);
        if (iter % 1000 == 0)
            xb_arena_reset(arena);
        assert_int_equal(xb_tr_attrs_index(&s1, arena, k.p, k.n), XB_OK);
        assert_int_equal(xb_tr_attrs_index(&s2, arena, k.p, k.n), XB_OK);
        memset(&d1, 0, sizeof(d1));
        memset(&d2, 0, sizeof(d2));
        assert_int_equal(xb_tr_meta_build(&s1, NULL, 0, rm, &cfg, arena, &d1), XB_OK);
        assert_int_equal(xb_tr_meta_build(&s2, NULL, 0, NULL, &cfg, arena, &d2), XB_OK);
        assert_int_equal(d1.n_meta, d2.n_meta);
        for (size_t i = 0; i < d1.n_meta; i++) {
            assert_int_equal(d1.meta[i].key.n, d2.meta[i].key.n);
            assert_memory_equal(d1.meta[i].key.p, d2.meta[i].key.p, d1.meta[i].key.n);
            assert_ptr_equal(d1.meta[i].val, d2.meta[i].val);
        }
    }
    test_free(rm);
    xb_arena_free(arena);
}

/* A span's metadata list of 0 to 80 attributes (past the 32 entries xb_tr_meta_build()
 * keeps on its stack), some consumed, duplicates among them: the live first
 * occurrences, sorted; checked after a second list was built, so that a list left on
 * the stack of the first call would show. */
static void test_meta_list_any_length(void **state)
{
    enum { N = 80 };
    static char names[50][8];
    struct xb_arena *arena = xb_arena_new(1 << 16, 0);
    struct xb_translator_config cfg;
    uint64_t x = 0x6A09E667F3BCC909u;
    (void)state;

    assert_non_null(arena);
    xb_translator_config_defaults(&cfg);
    for (int i = 0; i < 50; i++)
        snprintf(names[i], sizeof(names[i]), "m.%02d", i);
    for (int iter = 0; iter < 3000; iter++) {
        xb_pb_kv kv[2][N], *p[2][N];
        xb_pb_any v[2][N];
        struct xb_tr_attrs a[2];
        struct xb_tr_xdoc d[2];
        const xb_pb_any *want[50];
        size_t n[2], nw = 0;
        for (int l = 0; l < 2; l++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            n[l] = (size_t)(x % (N + 1));
            for (size_t i = 0; i < n[l]; i++) {
                opentelemetry__proto__common__v1__key_value__init(&kv[l][i]);
                opentelemetry__proto__common__v1__any_value__init(&v[l][i]);
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                kv[l][i].key = names[x % 50];
                v[l][i].value_case = XB_ANY_INT;
                v[l][i].int_value = (int64_t)i;
                kv[l][i].value = &v[l][i];
                p[l][i] = &kv[l][i];
            }
            assert_int_equal(xb_tr_attrs_index(&a[l], arena, p[l], n[l]), XB_OK);
            for (size_t i = 0; i < a[l].n; i++)
                if ((x >> (i % 60)) % 5 == 0)
                    a[l].v[i].consumed = 1;
            memset(&d[l], 0, sizeof(d[l]));
            assert_int_equal(xb_tr_meta_build(&a[l], NULL, 0, NULL, &cfg, arena, &d[l]), XB_OK);
        }
        memset(want, 0, sizeof(want));
        for (size_t i = 0; i < a[0].n; i++)
            if (!a[0].v[i].consumed && !a[0].v[i].hidden)
                want[(a[0].v[i].key[2] - '0') * 10 + (a[0].v[i].key[3] - '0')] = a[0].v[i].val;
        for (int k = 0; k < 50; k++) {
            if (!want[k])
                continue;
            assert_true(nw < d[0].n_meta);
            assert_string_equal(d[0].meta[nw].key.p, names[k]);
            assert_int_equal(d[0].meta[nw].key.n, 4);
            assert_ptr_equal(d[0].meta[nw].val, want[k]);
            nw++;
        }
        assert_int_equal(d[0].n_meta, nw);
        if (iter % 100 == 0)
            xb_arena_reset(arena);
    }
    xb_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resource_parts_match),
        cmocka_unit_test(test_meta_orders_match_sorting),
        cmocka_unit_test(test_meta_list_any_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
