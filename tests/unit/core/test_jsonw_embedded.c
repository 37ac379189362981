/* tests/unit/core/test_jsonw_embedded.c - the writer's embedded mode: every call writes
 * exactly xb_jsonw_embed() of what the plain mode writes, and counts the same plain
 * bytes (|written|, |limit|, |max_str| decisions, errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/jsonw.h"

/* Strings that exercise the escaper: quotes, backslashes, control bytes, UTF-8 (valid,
 * invalid, U+2028), empty, short and long (past the 16-byte fast paths). */
#define S(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }
static const struct {
    const char *s;
    size_t n;
} strs[] = {
    S(""),
    S("a"),
    S("a\"b"),
    S("\\"),
    S("\"\\\"\\"),
    S("tab\there\nnl\r\b\f\x01\x1f"),
    S("caf\xc3\xa9 \xe2\x82\xac"),
    S("bad \xff\xfe utf8 \xc3"),
    S("line \xe2\x80\xa8 sep \xe2\x80\xa9"),
    S("nul\0inside"),
    S("exactly sixteen!"),
    S("seventeen bytes!!"),
    S("a long value with \"quotes\" and \\backslashes\\ well past sixteen bytes, "
      "\xe6\x97\xa5\xe6\x9c\xac and control \x02 bytes"),
};
#undef S
#define N_STRS (sizeof(strs) / sizeof(strs[0]))

static size_t str_len(size_t i)
{
    return strs[i].n;
}

/* Pre-rendered members, in plain form. */
static const char raw_plain[] = "\"k\\\"ey\":\"v\\\\al\\u0001\",\"n\":1";

/* Calls every writer function once or more. |embedded| says which form of raw_plain to
 * give xb_jsonw_raw_members(). */
static void script(struct xb_jsonw *w, int embedded)
{
    struct xb_buf raw;
    size_t i;

    xb_buf_init(&raw, 0);
    if (embedded)
        assert_int_equal(xb_jsonw_embed(&raw, raw_plain, sizeof(raw_plain) - 1), XB_OK);
    else
        assert_int_equal(xb_buf_append(&raw, raw_plain, sizeof(raw_plain) - 1), XB_OK);

    xb_jsonw_obj_begin(w);
    xb_jsonw_ckey(w, "name");
    xb_jsonw_str(w, "checkout \"cart\"", 15);
    xb_jsonw_ckey_obj(w, "nested");
    xb_jsonw_ckey(w, "arr");
    xb_jsonw_arr_begin(w);
    for (i = 0; i < N_STRS; i++) {
        xb_jsonw_str(w, strs[i].s, str_len(i));
        xb_jsonw_str_full(w, strs[i].s, str_len(i));
    }
    xb_jsonw_arr_begin(w);
    xb_jsonw_obj_begin(w);
    xb_jsonw_obj_end(w);
    xb_jsonw_arr_begin(w);
    xb_jsonw_arr_end(w);
    xb_jsonw_int(w, -42);
    xb_jsonw_uint(w, UINT64_MAX);
    xb_jsonw_double(w, 1700000000.25);
    xb_jsonw_double(w, 1.0 / 0.0);
    xb_jsonw_bool(w, 1);
    xb_jsonw_bool(w, 0);
    xb_jsonw_null(w);
    xb_jsonw_cstr(w, "c\"str");
    xb_jsonw_str_plain(w, "53995c3f42cd8ad8", 16);
    xb_jsonw_raw_members(w, "1,2", 3);
    xb_jsonw_arr_end(w);
    xb_jsonw_arr_end(w);
    for (i = 0; i < N_STRS; i++) {
        char key[8];
        snprintf(key, sizeof(key), "k%zu", i);
        xb_jsonw_key(w, strs[i].s, str_len(i));
        xb_jsonw_str(w, strs[i].s, str_len(i));
        xb_jsonw_member_str(w, strs[i].s, str_len(i), strs[N_STRS - 1 - i].s,
                            str_len(N_STRS - 1 - i));
        xb_jsonw_member_raw(w, strs[i].s, str_len(i), "12.5", 4);
        xb_jsonw_ckey_str(w, key, strlen(key), strs[i].s, str_len(i));
    }
    xb_jsonw_obj_end(w);
    xb_jsonw_ckey_n(w, "a_long_field_name_past_sixteen", 30);
    xb_jsonw_obj_begin(w);
    xb_jsonw_raw_members(w, raw.data, raw.len);
    xb_jsonw_raw_members_n(w, raw.data, raw.len, sizeof(raw_plain) - 1);
    xb_jsonw_raw_members(w, "", 0);
    xb_jsonw_ckey(w, "after");
    xb_jsonw_raw_members(w, raw.data + raw.len - 1, 1); /* a value right after a key: 1 */
    xb_jsonw_obj_end(w);
    xb_jsonw_ckey(w, "id");
    xb_jsonw_str_plain(w, "1-65536180-5759e988bd862e3fe1be46a9", 35);
    xb_jsonw_ckey_plain(w, "trace_id", 8, "1-65536180-5759e988bd862e3fe1be46a9", 35);
    xb_jsonw_ckey_plain(w, "a_long_field_name_past_sixteen", 30, "subsegment", 10);
    xb_jsonw_ckey_plain(w, "e", 1, "", 0);
    xb_jsonw_obj_end(w);
    xb_buf_cleanup(&raw);
}

/* Runs the script in both modes with |limit|, |max_str| and a buffer cap of |max|
 * (embedded buffer: |emax|), and compares: the embedded output is xb_jsonw_embed() of
 * the plain output, |written| and |err| are equal. Returns the plain |written|. */
static size_t compare(size_t limit, size_t max_str, size_t max, size_t emax, int prereserve)
{
    struct xb_buf plain, emb, want;
    struct xb_jsonw wp, we;
    size_t written;

    xb_buf_init(&plain, max);
    xb_buf_init(&emb, emax);
    xb_buf_init(&want, 0);
    if (prereserve) {
        assert_int_equal(xb_buf_reserve(&plain, 1 << 16), XB_OK);
        assert_int_equal(xb_buf_reserve(&emb, 1 << 16), XB_OK);
    }
    xb_jsonw_init(&wp, &plain);
    xb_jsonw_init_embedded(&we, &emb);
    wp.limit = we.limit = limit;
    wp.max_str = we.max_str = max_str;
    if ((limit + max_str) % 2 == 0) /* half the cases: the bounds set before the first write */
        xb_jsonw_ready(&we);
    script(&wp, 0);
    script(&we, 1);
    assert_int_equal(we.err, wp.err);
    assert_int_equal(we.written, wp.written);
    if (wp.err == XB_OK) {
        assert_int_equal(wp.written, plain.len);
        assert_int_equal(xb_jsonw_embed(&want, plain.data, plain.len), XB_OK);
        assert_int_equal(emb.len, want.len);
        assert_memory_equal(emb.data, want.data, want.len);
        assert_int_equal(emb.data[emb.len], '\0');
    }
    written = wp.written;
    xb_buf_cleanup(&plain);
    xb_buf_cleanup(&emb);
    xb_buf_cleanup(&want);
    return written;
}

static void test_embedded_matches_embed_of_plain(void **state)
{
    size_t full;

    (void)state;
    full = compare(0, 0, 0, 0, 0);
    assert_true(full > 500);
    compare(0, 0, 0, 0, 1); /* room reserved: the plain mode takes its fast paths */
    for (size_t m = 1; m <= 20; m++)
        compare(0, m, 0, 0, m & 1); /* cut strings and keys */
    compare(0, 8192, 0, 0, 1);
}

static void test_embedded_limit_decisions_match(void **state)
{
    size_t full, l;

    (void)state;
    full = compare(0, 0, 0, 0, 1);
    /* Every limit around the document's plain size decides the same way in both modes. */
    for (l = full - 40; l <= full + 2; l++)
        compare(l, 0, 0, 0, l & 1);
    for (l = 1; l < full; l += 37)
        compare(l, 0, 0, 0, 0);
    assert_int_equal(compare(full, 0, 0, 0, 0), full);
}

static void test_embedded_capped_buffer(void **state)
{
    struct xb_buf want, plain;
    struct xb_jsonw w;
    size_t elen;

    (void)state;
    /* The embedded size of the script's output, from the plain one. */
    xb_buf_init(&plain, 0);
    xb_buf_init(&want, 0);
    xb_jsonw_init(&w, &plain);
    script(&w, 0);
    assert_int_equal(xb_jsonw_embed(&want, plain.data, plain.len), XB_OK);
    elen = want.len;
    /* A buffer capped exactly at the embedded size holds it; one byte less fails. */
    compare(0, 0, plain.len, elen, 0);
    xb_buf_cleanup(&plain);
    xb_buf_init(&plain, elen - 1);
    xb_jsonw_init_embedded(&w, &plain);
    script(&w, 1);
    assert_int_equal(w.err, XB_ERR_TOO_LARGE);
    xb_buf_cleanup(&plain);
    xb_buf_cleanup(&want);
}

/* Each call on its own, at the start of an object or array and after a member. */
static void test_embedded_each_call(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_STRS; i++) {
        for (int form = 0; form < 9; form++) {
            struct xb_buf plain, emb, want;
            struct xb_jsonw wp, we;
            struct xb_jsonw *ws[2] = {&wp, &we};
            const char *s = strs[i].s;
            size_t n = str_len(i);

            xb_buf_init(&plain, 0);
            xb_buf_init(&emb, 0);
            xb_buf_init(&want, 0);
            xb_jsonw_init(&wp, &plain);
            xb_jsonw_init_embedded(&we, &emb);
            for (int k = 0; k < 2; k++) {
                struct xb_jsonw *w = ws[k];
                switch (form) {
                case 0:
                    xb_jsonw_arr_begin(w);
                    xb_jsonw_str(w, s, n);
                    xb_jsonw_arr_end(w);
                    break;
                case 1:
                    xb_jsonw_obj_begin(w);
                    xb_jsonw_key(w, s, n);
                    xb_jsonw_null(w);
                    xb_jsonw_obj_end(w);
                    break;
                case 2:
                    xb_jsonw_obj_begin(w);
                    xb_jsonw_member_str(w, s, n, s, n);
                    xb_jsonw_member_str(w, "k", 1, s, n);
                    xb_jsonw_obj_end(w);
                    break;
                case 3:
                    xb_jsonw_obj_begin(w);
                    xb_jsonw_ckey_str(w, "name", 4, s, n);
                    xb_jsonw_ckey_str(w, "name2", 5, s, n);
                    xb_jsonw_obj_end(w);
                    break;
                case 4:
                    xb_jsonw_obj_begin(w);
                    xb_jsonw_member_raw(w, s, n, "true", 4);
                    xb_jsonw_member_raw(w, s, n, "-1e-7", 5);
                    xb_jsonw_obj_end(w);
                    break;
                case 5:
                    xb_jsonw_arr_begin(w);
                    xb_jsonw_str_full(w, s, n);
                    xb_jsonw_str_full(w, s, n);
                    xb_jsonw_arr_end(w);
                    break;
                case 6:
                    w->max_str = 3;
                    xb_jsonw_obj_begin(w);
                    xb_jsonw_key(w, s, n);
                    xb_jsonw_str(w, s, n);
                    xb_jsonw_obj_end(w);
                    break;
                case 7:
                    xb_jsonw_obj_begin(w);
                    xb_jsonw_ckey_obj(w, "o");
                    xb_jsonw_ckey(w, "x");
                    xb_jsonw_str(w, s, n);
                    xb_jsonw_obj_end(w);
                    xb_jsonw_obj_end(w);
                    break;
                default:
                    xb_jsonw_str(w, s, n); /* a top-level string */
                    break;
                }
            }
            assert_int_equal(we.err, wp.err);
            assert_int_equal(we.written, wp.written);
            assert_int_equal(wp.written, plain.len);
            assert_int_equal(xb_jsonw_embed(&want, plain.data, plain.len), XB_OK);
            assert_int_equal(emb.len, want.len);
            assert_memory_equal(emb.data, want.data, want.len);
            xb_buf_cleanup(&plain);
            xb_buf_cleanup(&emb);
            xb_buf_cleanup(&want);
        }
    }
}

/* Pre-rendered text: an embedded writer's members spliced into another embedded writer
 * equal the plain splice, embedded; |written| grows by the plain length. */
static void test_embedded_raw_members_counts_plain_bytes(void **state)
{
    struct xb_buf pre, doc;
    struct xb_jsonw w;
    size_t before;

    (void)state;
    xb_buf_init(&pre, 0);
    xb_buf_init(&doc, 0);
    xb_jsonw_init_embedded(&w, &pre);
    xb_jsonw_obj_begin(&w);
    xb_jsonw_key(&w, "q\"k", 3);
    xb_jsonw_str(&w, "v\\\"", 3);
    assert_int_equal(w.written, 1 + 6 + 1 + 7);
    assert_string_equal(pre.data, "{\\\"q\\\\\\\"k\\\":\\\"v\\\\\\\\\\\\\\\"\\\"");
    xb_jsonw_init_embedded(&w, &doc);
    xb_jsonw_arr_begin(&w);
    before = w.written;
    xb_jsonw_raw_members(&w, pre.data + 1, pre.len - 1);
    assert_int_equal(w.written - before, 14);
    xb_jsonw_arr_end(&w);
    assert_int_equal(w.err, XB_OK);
    xb_buf_cleanup(&pre);
    xb_buf_cleanup(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_matches_embed_of_plain),
        cmocka_unit_test(test_embedded_limit_decisions_match),
        cmocka_unit_test(test_embedded_capped_buffer),
        cmocka_unit_test(test_embedded_each_call),
        cmocka_unit_test(test_embedded_raw_members_counts_plain_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
