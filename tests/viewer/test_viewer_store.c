/*
 * tests/viewer/test_viewer_store.c - extension/viewer_store.c: caps, eviction order,
 * grouping by trace id, and the bound under 10,000 generated traces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "extension/viewer_store.h"

static void trace_id(unsigned n, char *out, size_t len)
{
    snprintf(out, len, "1-5759e988-%024x", n);
}

static int add(struct xb_viewer_store *s, unsigned trace, const char *id, size_t len)
{
    char tid[XB_VIEWER_TRACE_ID_SIZE], *json = malloc(len + 1);
    int rc;

    assert_non_null(json);
    memset(json, 'x', len);
    json[len] = '\0';
    trace_id(trace, tid, sizeof(tid));
    rc = xb_viewer_store_add(s, json, len, tid, id, 1000 + trace);
    free(json);
    return rc;
}

static const struct xb_viewer_trace *find(struct xb_viewer_store *s, unsigned trace)
{
    char tid[XB_VIEWER_TRACE_ID_SIZE];
    trace_id(trace, tid, sizeof(tid));
    return xb_viewer_store_find(s, tid);
}

static void test_groups_by_trace_id(void **state)
{
    struct xb_viewer_store *s = xb_viewer_store_new(10, 1 << 20);
    struct xb_viewer_store_stats st;
    const struct xb_viewer_trace *t;

    assert_int_equal(add(s, 1, "aaaaaaaaaaaaaaaa", 10), XB_OK);
    assert_int_equal(add(s, 2, "bbbbbbbbbbbbbbbb", 10), XB_OK);
    assert_int_equal(add(s, 1, "cccccccccccccccc", 20), XB_OK);
    assert_int_equal(add(s, 1, "aaaaaaaaaaaaaaaa", 30), XB_OK); /* a resend is kept too */
    t = find(s, 1);
    assert_non_null(t);
    assert_int_equal(t->n_docs, 3);
    assert_string_equal(t->head->id, "aaaaaaaaaaaaaaaa");
    assert_int_equal(t->head->len, 10);
    assert_string_equal(t->head->next->id, "cccccccccccccccc");
    assert_int_equal(t->tail->len, 30);
    assert_true(t->head->seq < t->tail->seq);
    /* Most recently updated first. */
    assert_ptr_equal(xb_viewer_store_newest(s), t);
    assert_ptr_equal(t->older, find(s, 2));
    xb_viewer_store_stats(s, &st);
    assert_int_equal(st.traces, 2);
    assert_int_equal(st.documents, 4);
    /* Each trace: its header and one 8 KiB block (32 bytes of block header). */
    assert_int_equal(st.bytes, 2 * (XB_VIEWER_TRACE_CHARGE + 32 + 8192));
    assert_int_equal(t->bytes, XB_VIEWER_TRACE_CHARGE + 32 + 8192);
    xb_viewer_store_free(s);
}

static void test_evicts_least_recently_updated_at_max_traces(void **state)
{
    struct xb_viewer_store *s = xb_viewer_store_new(3, 1 << 20);
    struct xb_viewer_store_stats st;

    for (unsigned i = 1; i <= 3; i++)
        assert_int_equal(add(s, i, NULL, 10), XB_OK);
    assert_int_equal(add(s, 1, NULL, 10), XB_OK); /* 1 is now the newest; 2 the oldest */
    assert_int_equal(add(s, 4, NULL, 10), XB_OK);
    assert_null(find(s, 2));
    assert_non_null(find(s, 1));
    assert_non_null(find(s, 3));
    assert_non_null(find(s, 4));
    xb_viewer_store_stats(s, &st);
    assert_int_equal(st.traces, 3);
    assert_int_equal(st.evicted_traces, 1);
    assert_int_equal(st.evicted_documents, 1);
    xb_viewer_store_free(s);
}

static void test_evicts_at_max_bytes(void **state)
{
    size_t one = XB_VIEWER_TRACE_CHARGE + 32 + 8192; /* a trace of one small document */
    struct xb_viewer_store *s = xb_viewer_store_new(100, 3 * one);
    struct xb_viewer_store_stats st;

    for (unsigned i = 1; i <= 3; i++)
        assert_int_equal(add(s, i, NULL, 1000), XB_OK);
    xb_viewer_store_stats(s, &st);
    assert_int_equal(st.bytes, 3 * one);
    assert_int_equal(add(s, 4, NULL, 1000), XB_OK);
    assert_null(find(s, 1));
    xb_viewer_store_stats(s, &st);
    assert_true(st.bytes <= 3 * one);
    assert_int_equal(st.traces, 3);
    xb_viewer_store_free(s);
}

static void test_one_trace_larger_than_the_store_drops_its_oldest_documents(void **state)
{
    size_t cap = 64 * 1024;
    struct xb_viewer_store *s = xb_viewer_store_new(10, cap);
    struct xb_viewer_store_stats st;
    const struct xb_viewer_trace *t;
    size_t n;

    for (int i = 0; i < 1000; i++) {
        assert_int_equal(add(s, 7, NULL, 1000), XB_OK);
        xb_viewer_store_stats(s, &st);
        assert_true(st.bytes <= cap);
    }
    t = find(s, 7);
    assert_true(t->n_docs > 10 && t->n_docs < 64);
    assert_int_equal(t->tail->seq, 1000); /* the newest are kept, in order */
    n = 0;
    for (const struct xb_viewer_doc *d = t->head; d; d = d->next, n++)
        assert_int_equal(d->seq, 1000 - t->n_docs + 1 + n);
    assert_int_equal(n, t->n_docs);
    assert_int_equal(st.evicted_documents + t->n_docs, 1000);
    assert_int_equal(st.traces, 1);
    xb_viewer_store_free(s);
}

static void test_refusals(void **state)
{
    struct xb_viewer_store *s = xb_viewer_store_new(10, 4096);
    struct xb_viewer_store_stats st;

    assert_int_equal(add(s, 1, NULL, 5000), XB_ERR_TOO_LARGE);
    assert_int_equal(add(s, 1, NULL, 4096 - 32 - XB_VIEWER_TRACE_CHARGE), XB_ERR_TOO_LARGE);
    assert_int_equal(xb_viewer_store_add(s, "{}", 2, "", "a", 1), XB_ERR_INVALID);
    assert_int_equal(xb_viewer_store_add(s, "{}", 2, NULL, "a", 1), XB_ERR_INVALID);
    assert_int_equal(
        xb_viewer_store_add(s, "{}", 2, "1-5759e988-bd862e3fe1be46a994272793-toolong", "a", 1),
        XB_ERR_INVALID);
    /* An over-long segment id is stored as "". */
    assert_int_equal(xb_viewer_store_add(s, "{}", 2, "1-a-b", "0123456789abcdef0", 1), XB_OK);
    assert_string_equal(xb_viewer_store_find(s, "1-a-b")->head->id, "");
    xb_viewer_store_stats(s, &st);
    assert_int_equal(st.refused_documents, 5);
    assert_int_equal(st.documents, 1);
    assert_null(xb_viewer_store_new(0, 10));
    assert_null(xb_viewer_store_new(10, 0));
    xb_viewer_store_free(s);
}

/* 10,000 generated traces of 1 to 5 documents of up to 2 KB each: both caps hold after
 * every insert, and the newest traces are the ones kept. */
static void test_bounds_hold_under_load(void **state)
{
    const size_t max_traces = 500, max_bytes = 1 << 20;
    struct xb_viewer_store *s = xb_viewer_store_new(max_traces, max_bytes);
    struct xb_viewer_store_stats st;
    unsigned seed = 12345;
    size_t counted;

    for (unsigned i = 0; i < 10000; i++) {
        unsigned docs = 1 + i % 5;
        for (unsigned d = 0; d < docs; d++) {
            seed = seed * 1103515245u + 12345u;
            assert_int_equal(add(s, i, NULL, 50 + (seed >> 8) % 2000), XB_OK);
            xb_viewer_store_stats(s, &st);
            assert_true(st.traces <= max_traces);
            assert_true(st.bytes <= max_bytes);
        }
    }
    assert_non_null(find(s, 9999));
    assert_null(find(s, 0));
    /* The byte count is what the traces hold, and every trace holds its documents. */
    counted = 0;
    for (const struct xb_viewer_trace *t = xb_viewer_store_newest(s); t; t = t->older) {
        size_t docs = 0, payload = 0;
        for (const struct xb_viewer_doc *d = t->head; d; d = d->next, docs++)
            payload += xb_viewer_store_doc_charge(d->len);
        assert_int_equal(docs, t->n_docs);
        assert_true(t->bytes >= XB_VIEWER_TRACE_CHARGE + payload);
        counted += t->bytes;
    }
    assert_int_equal(counted, st.bytes);
    assert_true(st.evicted_traces > 9000);
    xb_viewer_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_by_trace_id),
        cmocka_unit_test(test_evicts_least_recently_updated_at_max_traces),
        cmocka_unit_test(test_evicts_at_max_bytes),
        cmocka_unit_test(test_one_trace_larger_than_the_store_drops_its_oldest_documents),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bounds_hold_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
