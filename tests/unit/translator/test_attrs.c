/* tests/unit/translator/test_attrs.c - the attribute index: lookups (known-key slots
 * and the generic path) agree with a linear scan of the original list (first
 * occurrence wins), duplicates are hidden, consume and hide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/err.h"
#include "translator/attrs.h"

#define MAXKV 300

struct kvs {
    xb_pb_kv kv[MAXKV];
    xb_pb_kv *p[MAXKV];
    xb_pb_any v[MAXKV];
    char keys[MAXKV][48];
    size_t n;
};

static void add(struct kvs *k, const char *key)
{
    size_t i = k->n++;

    opentelemetry__proto__common__v1__key_value__init(&k->kv[i]);
    opentelemetry__proto__common__v1__any_value__init(&k->v[i]);
    snprintf(k->keys[i], sizeof(k->keys[i]), "%s", key);
    k->kv[i].key = k->keys[i];
    k->v[i].value_case = XB_ANY_INT;
    k->v[i].int_value = (int64_t)i;
    k->kv[i].value = &k->v[i];
    k->p[i] = &k->kv[i];
}

/* Position of the first occurrence of |key| in the original list, or -1. */
static long first_pos(const struct kvs *k, const char *key)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->keys[i], key) == 0)
            return (long)i;
    return -1;
}

/* The present set (which blocks such as http iterate, and which says which slots are
 * valid: the others are not cleared) holds exactly the known keys in the list, each
 * slot of a present key naming an entry of that key. */
static void check_present(const struct xb_tr_attrs *a)
{
    for (int id = 0; id < XB_TK_COUNT; id++) {
        int in_list = 0;
        for (size_t i = 0; i < a->n; i++)
            in_list |= a->v[i].kid == id;
        assert_int_equal((a->present[id / 64] >> (id % 64)) & 1, in_list);
        if (in_list) {
            assert_true(a->slot[id] >= 1 && a->slot[id] <= a->n);
            assert_int_equal(a->v[a->slot[id] - 1].kid, id);
        }
    }
    for (int id = XB_TK_COUNT; id < 64 * XB_TR_PRESENT_WORDS; id++)
        assert_int_equal((a->present[id / 64] >> (id % 64)) & 1, 0);
}

static void check_all(const struct xb_tr_attrs *a, const struct kvs *k, const char *const *probe,
                      size_t np)
{
    check_present(a);
    for (size_t i = 0; i < np; i++) {
        long want = first_pos(k, probe[i]);
        struct xb_tr_attr *e = xb_tr_attrs_get(a, probe[i]);
        if (want < 0) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->pos, (uint32_t)want);
            assert_string_equal(e->key, probe[i]);
        }
    }
}

/* Keys that share prefixes, suffixes, lengths, the empty key, and duplicates. */
static void test_attrs_lookup_matches_scan(void **state)
{
    static const char *const keys[] = {"http.request.method",
                                       "http.response.status_code",
                                       "http.method",
                                       "http.status_code",
                                       "aws.remote.service",
                                       "aws.remote.operation",
                                       "aws.span.kind",
                                       "a",
                                       "ab",
                                       "",
                                       "abcdefgh",
                                       "abcdefghi",
                                       "xbcdefgh",
                                       "http.request.method",
                                       "a",
                                       "db.statement",
                                       "db.system",
                                       "server.address",
                                       "url.full",
                                       "aws.remote.service"};
    static const char *const probe[] = {"http.request.method",
                                        "http.response.status_code",
                                        "http.method",
                                        "aws.span.kind",
                                        "a",
                                        "ab",
                                        "abc",
                                        "",
                                        "abcdefgh",
                                        "abcdefghi",
                                        "abcdefghj",
                                        "xbcdefgh",
                                        "db.system",
                                        "db.statement",
                                        "db.operation",
                                        "url.full",
                                        "url.ful",
                                        "url.fulll",
                                        "aws.remote.service",
                                        "aws.remote.servicf",
                                        "rpc.system",
                                        "http.request.methoe"};
    struct xb_arena *arena = xb_arena_new(4096, 0);
    struct kvs *k = test_calloc(1, sizeof(*k));
    struct xb_tr_attrs a;
    (void)state;

    assert_non_null(arena);
    assert_int_equal(xb_tr_attrs_index(&a, arena, NULL, 0), XB_OK);
    assert_null(xb_tr_attrs_get(&a, "a"));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        add(k, keys[i]);
    assert_int_equal(xb_tr_attrs_index(&a, arena, k->p, k->n), XB_OK);
    check_all(&a, k, probe, sizeof(probe) / sizeof(probe[0]));

    /* consume/hide act on the first occurrence; duplicates never come back. */
    xb_tr_attrs_consume(&a, "a");
    assert_non_null(xb_tr_attrs_get(&a, "a"));
    assert_null(xb_tr_attrs_live(&a, "a"));
    xb_tr_attrs_hide(&a, "http.request.method");
    assert_null(xb_tr_attrs_get(&a, "http.request.method"));
    assert_null(xb_tr_attrs_val(&a, "http.request.method"));
    assert_non_null(xb_tr_attrs_live(&a, "http.method"));

    test_free(k);
    xb_arena_free(arena);
}

/* Many keys (qsort path, larger table) with colliding-looking shapes. */
static void test_attrs_lookup_many_keys(void **state)
{
    struct xb_arena *arena = xb_arena_new(65536, 0);
    struct kvs *k = test_calloc(1, sizeof(*k));
    struct xb_tr_attrs a;
    char probe_buf[2 * MAXKV][48];
    const char *probe[2 * MAXKV];
    (void)state;

    assert_non_null(arena);
    for (size_t i = 0; i < MAXKV; i++) {
        char key[48];
        /* same first and last 8 bytes for many keys: only the middle differs */
        snprintf(key, sizeof(key), "app.attr.%03zu.middle.value", i % 250);
        add(k, key);
    }
    for (size_t i = 0; i < 2 * MAXKV; i++) {
        snprintf(probe_buf[i], sizeof(probe_buf[i]), "app.attr.%03zu.middle.value", i % 400);
        probe[i] = probe_buf[i];
    }
    assert_int_equal(xb_tr_attrs_index(&a, arena, k->p, k->n), XB_OK);
    assert_int_equal(a.n, MAXKV);
    check_all(&a, k, probe, 2 * MAXKV);
    /* exactly the later duplicates are hidden (the filter collides often here) */
    for (size_t i = 0; i < MAXKV; i++)
        assert_int_equal(a.v[i].hidden, first_pos(k, k->keys[i]) != (long)i);
    test_free(k);
    xb_arena_free(arena);
}

/* Every known key resolves to itself, near misses to nothing, and a slot read agrees
 * with a linear scan of the original list (first occurrence wins). */
static void test_attrs_known_keys(void **state)
{
    struct xb_arena *arena = xb_arena_new(65536, 0);
    struct kvs *k = test_calloc(1, sizeof(*k));
    struct xb_tr_attrs a;
    (void)state;

    assert_non_null(arena);
    for (int id = 0; id < XB_TK_COUNT; id++) {
        const char *name = xb_tr_key_name((enum xb_tr_key)id);
        size_t n = strlen(name);
        char near[64];
        assert_true(n < sizeof(near) - 2);
        assert_int_equal(xb_tr_key_id(name, n), id);
        memcpy(near, name, n);
        near[n] = 'x';
        near[n + 1] = '\0';
        assert_int_equal(xb_tr_key_id(near, n + 1), -1);
        near[n - 1] = '\0'; /* one byte short */
        assert_true(xb_tr_key_id(near, n - 1) < 0 ||
                    strcmp(xb_tr_key_name((enum xb_tr_key)xb_tr_key_id(near, n - 1)), near) == 0);
        for (size_t pos = 0; pos < n; pos++) { /* one byte changed */
            int got;
            memcpy(near, name, n + 1);
            near[pos] ^= 0x20;
            got = xb_tr_key_id(near, n);
            assert_true(got < 0 || strcmp(xb_tr_key_name((enum xb_tr_key)got), near) == 0);
        }
        /* every third key twice, and unknown keys in between */
        add(k, name);
        if (id % 3 == 0)
            add(k, name);
        if (id % 5 == 0)
            add(k, "app.unknown.key");
    }
    assert_int_equal(xb_tr_key_id("", 0), -1);
    assert_int_equal(xb_tr_attrs_index(&a, arena, k->p, k->n), XB_OK);
    check_present(&a);
    for (int id = 0; id < XB_TK_COUNT; id++) {
        const char *name = xb_tr_key_name((enum xb_tr_key)id);
        struct xb_tr_attr *e = xb_tr_attrs_k(&a, (enum xb_tr_key)id);
        assert_non_null(e);
        assert_int_equal(e->pos, (uint32_t)first_pos(k, name));
        assert_ptr_equal(e, xb_tr_attrs_get(&a, name));
    }
    for (size_t i = 0; i < k->n; i++)
        assert_int_equal(a.v[i].hidden, first_pos(k, k->keys[i]) != (long)i);
    xb_tr_attrs_hide_k(&a, XB_TK_HTTP_METHOD);
    assert_null(xb_tr_attrs_k(&a, XB_TK_HTTP_METHOD));
    assert_null(xb_tr_attrs_get(&a, "http.method"));
    xb_tr_attrs_consume_k(&a, XB_TK_URL_FULL);
    assert_non_null(xb_tr_attrs_k(&a, XB_TK_URL_FULL));
    assert_null(xb_tr_attrs_live_k(&a, XB_TK_URL_FULL));
    test_free(k);
    xb_arena_free(arena);
}

/* The known key of |k| (|n| bytes) by a linear scan of the names: the general path. */
static int key_id_scan(const char *k, size_t n)
{
    for (int id = 0; id < XB_TK_COUNT; id++) {
        const char *name = xb_tr_key_name((enum xb_tr_key)id);
        if (strlen(name) == n && memcmp(name, k, n) == 0)
            return id;
    }
    return -1;
}

/* The one-slot lookup (length, prefix and tail in one test, the middle of longer keys
 * with two 8-byte loads or memcmp) against a linear scan: every known key with every
 * byte replaced by each of several values (so keys that share their first and last 8
 * bytes and length differ only in the middle), cut short and extended by one to 16
 * bytes, and strings of 0 to 40 bytes that keep a known key's first and last 8 bytes
 * around other middles. */
static void test_attrs_key_id_matches_linear_scan(void **state)
{
    static const char subst[] = {'\0', '.', '_', 'a', 'z', 'A', '0', '\x80', '\xff'};
    char buf[64];

    (void)state;
    for (int id = 0; id < XB_TK_COUNT; id++) {
        const char *name = xb_tr_key_name((enum xb_tr_key)id);
        size_t n = strlen(name);
        for (size_t pos = 0; pos < n; pos++) {
            for (size_t v = 0; v < sizeof(subst); v++) {
                memcpy(buf, name, n);
                buf[pos] = subst[v];
                assert_int_equal(xb_tr_key_id(buf, n), key_id_scan(buf, n));
            }
        }
        for (size_t cut = 0; cut <= n; cut++)
            assert_int_equal(xb_tr_key_id(name, cut), key_id_scan(name, cut));
        for (size_t ext = 1; ext <= 16; ext++) {
            memcpy(buf, name, n);
            memset(buf + n, 'x', ext);
            assert_int_equal(xb_tr_key_id(buf, n + ext), key_id_scan(buf, n + ext));
        }
        for (size_t len = 16; len <= 40 && n >= 8; len++) {
            memset(buf, '.', len);
            memcpy(buf, name, 8);
            memcpy(buf + len - 8, name + n - 8, 8);
            assert_int_equal(xb_tr_key_id(buf, len), key_id_scan(buf, len));
        }
    }
}

/* Random lists of 0 to 39 keys, three in four of them known (any of them, repeats
 * included, in any order; a fresh length every run): the present set matches the
 * slots, and every known key's entry is the first occurrence, so a block visiting the
 * present keys sees what a read of all its slots sees. */
static void test_attrs_present_matches_slots(void **state)
{
    struct xb_arena *arena = xb_arena_new(1 << 20, 0);
    uint64_t x = 0x2545F4914F6CDD1Dull;

    (void)state;
    assert_non_null(arena);
    for (int run = 0; run < 2000; run++) {
        struct kvs *k = test_calloc(1, sizeof(*k));
        struct xb_tr_attrs a;
        size_t n;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        n = (size_t)(x % 40);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (x % 4 == 0)
                add(k, "app.unknown.key");
            else
                add(k, xb_tr_key_name((enum xb_tr_key)((x >> 8) % XB_TK_COUNT)));
        }
        /* stale slots from an earlier list must not matter */
        memset(a.slot, (int)(x & 255), sizeof(a.slot));
        assert_int_equal(xb_tr_attrs_index(&a, arena, k->p, k->n), XB_OK);
        check_present(&a);
        for (int id = 0; id < XB_TK_COUNT; id++) {
            long want = first_pos(k, xb_tr_key_name((enum xb_tr_key)id));
            struct xb_tr_attr *e = xb_tr_attrs_k(&a, (enum xb_tr_key)id);
            if (want < 0) {
                assert_null(e);
            } else {
                assert_non_null(e);
                assert_int_equal(e->pos, (uint32_t)want);
            }
        }
        test_free(k);
        xb_arena_reset(arena);
    }
    xb_arena_free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attrs_lookup_matches_scan),
        cmocka_unit_test(test_attrs_lookup_many_keys),
        cmocka_unit_test(test_attrs_known_keys),
        cmocka_unit_test(test_attrs_key_id_matches_linear_scan),
        cmocka_unit_test(test_attrs_present_matches_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
