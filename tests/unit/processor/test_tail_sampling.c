/* The tail_sampling engine (processor/tail_sampling.h): decision after decision_wait,
 * early decisions at num_traces / max_bytes, the decision cache for late spans, held
 * documents and backpressure when the queues are full, policy swaps. No event loop:
 * the tests drive xb_ts_tick() with their own clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "processor/tail_sampling.h"

/* Release sink: counts documents per trace id; refuses while |full|, or lists of more
 * than |max_list| documents when that is set. */
struct sink {
    int full;
    size_t max_list;
    size_t docs;
    char last_trace[XB_QDOC_TRACE_ID_SIZE];
};

static int release(void *ud, struct xb_qdoc_list *l)
{
    struct sink *s = ud;

    if (s->full || (s->max_list && l->n > s->max_list))
        return XB_ERR_FULL;
    s->docs += l->n;
    if (l->head)
        memcpy(s->last_trace, l->head->trace_id, sizeof(s->last_trace));
    xb_qdoc_list_clear(l);
    return XB_OK;
}

/* One request: |n| spans, span i in trace ids[i] (a byte), status[i]. */
struct req {
    xb_pb_export_req r;
    xb_pb_resource_spans rs, *rsp;
    xb_pb_scope_spans ss, *ssp;
    xb_pb_span spans[8], *sp[8];
    xb_pb_status st[8];
    uint8_t tid[8][16];
};

static void trace_id(uint8_t tid, uint8_t out[16])
{
    memset(out, 0, 16);
    out[0] = 0x5f;
    out[15] = tid;
}

static void make_req(struct req *q, const uint8_t *ids, const int *status, size_t n,
                     struct xb_qdoc_list *docs, size_t doc_bytes)
{
    char json[512];

    memset(q, 0, sizeof(*q));
    memset(docs, 0, sizeof(*docs));
    q->rsp = &q->rs;
    q->ssp = &q->ss;
    q->r.resource_spans = &q->rsp;
    q->r.n_resource_spans = 1;
    q->rs.scope_spans = &q->ssp;
    q->rs.n_scope_spans = 1;
    q->ss.spans = q->sp;
    q->ss.n_spans = n;
    memset(json, 'x', sizeof(json));
    for (size_t i = 0; i < n; i++) {
        char xid[40];
        uint8_t *t = q->tid[i];
        trace_id(ids[i], t);
        q->sp[i] = &q->spans[i];
        q->spans[i].trace_id.data = t;
        q->spans[i].trace_id.len = 16;
        q->st[i].code = status ? status[i] : 0;
        q->spans[i].status = &q->st[i];
        q->spans[i].start_time_unix_nano = 1000;
        q->spans[i].end_time_unix_nano = 2000;
        snprintf(xid, sizeof(xid), "1-%02x000000-%022x%02x", t[0], 0, t[15]);
        xb_qdoc_list_add(docs, xb_qdoc_new_ids(json, doc_bytes < sizeof(json) ? doc_bytes : 100,
                                               xid, "0000000000000001"));
    }
}

static struct xb_ts_policy_set *errors_only(void)
{
    struct xb_ts_policy_set *s = calloc(1, sizeof(*s));
    char err[64];

    s->policies = calloc(1, sizeof(*s->policies));
    s->policies[0].type = XB_TS_STATUS_CODE;
    s->policies[0].status_mask = 1u << 2;
    s->n = 1;
    assert_int_equal(xb_ts_policy_set_prepare(s, err, sizeof(err)), XB_OK);
    return s;
}

static struct xb_ts_policy_set *always(void)
{
    struct xb_ts_policy_set *s = calloc(1, sizeof(*s));
    char err[64];

    s->policies = calloc(1, sizeof(*s->policies));
    s->policies[0].type = XB_TS_ALWAYS_SAMPLE;
    s->n = 1;
    assert_int_equal(xb_ts_policy_set_prepare(s, err, sizeof(err)), XB_OK);
    return s;
}

static void check_invariant(struct xb_ts *ts)
{
    struct xb_ts_stats st;
    size_t held = xb_ts_docs_held(ts); /* one doc per span in these tests */

    xb_ts_stats(ts, &st);
    assert_int_equal(st.spans_received, st.spans_kept + st.spans_sampled_out + held);
}

static const struct xb_ts_opts OPTS = {.decision_wait_ms = 1000,
                                       .num_traces = 100,
                                       .max_bytes = 1 << 20,
                                       .sampled_cache_size = 10,
                                       .non_sampled_cache_size = 10};

static void test_decides_after_wait_whole_trace(void **state)
{
    struct xb_ts_policy_set *ps = errors_only();
    struct sink sk = {0};
    struct xb_ts *ts = xb_ts_new(NULL, &OPTS, ps, release, &sk);
    struct xb_qdoc_list docs;
    struct req q;
    uint8_t ids1[3] = {1, 1, 2};
    int st1[3] = {0, 0, 0};
    uint8_t ids2[2] = {1, 2};
    int st2[2] = {2, 0}; /* trace 1's error arrives in a second request */
    struct xb_ts_stats s;

    (void)state;
    assert_non_null(ts);
    make_req(&q, ids1, st1, 3, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 0), XB_OK);
    assert_int_equal(docs.n, 0);
    make_req(&q, ids2, st2, 2, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 500), XB_OK);
    assert_int_equal(xb_ts_traces_waiting(ts), 2);
    xb_ts_tick(ts, 999);
    assert_int_equal(sk.docs, 0);
    check_invariant(ts);
    xb_ts_tick(ts, 1000);
    assert_int_equal(sk.docs, 3); /* all three spans of trace 1, none of trace 2 */
    assert_int_equal(xb_ts_traces_waiting(ts), 0);
    assert_int_equal(xb_ts_bytes(ts), 0);
    xb_ts_stats(ts, &s);
    assert_int_equal(s.traces_sampled, 1);
    assert_int_equal(s.traces_not_sampled, 1);
    assert_int_equal(s.spans_kept, 3);
    assert_int_equal(s.spans_sampled_out, 2);
    check_invariant(ts);
    xb_ts_free(ts);
    xb_ts_policy_set_unref(ps);
}

static void test_late_spans_follow_cache(void **state)
{
    struct xb_ts_policy_set *ps = errors_only();
    struct sink sk = {0};
    struct xb_ts *ts = xb_ts_new(NULL, &OPTS, ps, release, &sk);
    struct xb_qdoc_list docs;
    struct req q;
    uint8_t ids[2] = {1, 2};
    int st[2] = {2, 0};
    struct xb_ts_stats s;

    (void)state;
    make_req(&q, ids, st, 2, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 0), XB_OK);
    xb_ts_tick(ts, 1000);
    assert_int_equal(sk.docs, 1);
    /* late spans, both OK: trace 1 follows "sampled", trace 2 "not sampled" */
    st[0] = 0;
    make_req(&q, ids, st, 2, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 5000), XB_OK);
    assert_int_equal(sk.docs, 2);
    assert_int_equal(xb_ts_traces_waiting(ts), 0);
    xb_ts_stats(ts, &s);
    assert_int_equal(s.late_spans_sampled, 1);
    assert_int_equal(s.late_spans_not_sampled, 1);
    check_invariant(ts);
    xb_ts_free(ts);
    xb_ts_policy_set_unref(ps);
}

static void test_num_traces_decides_oldest_early(void **state)
{
    struct xb_ts_policy_set *ps = always();
    struct xb_ts_opts o = OPTS;
    struct sink sk = {0};
    struct xb_ts *ts;
    struct xb_qdoc_list docs;
    struct req q;
    struct xb_ts_stats s;

    (void)state;
    o.num_traces = 2;
    ts = xb_ts_new(NULL, &o, ps, release, &sk);
    for (uint8_t i = 1; i <= 5; i++) {
        make_req(&q, &i, NULL, 1, &docs, 100);
        assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, i), XB_OK);
        assert_true(xb_ts_traces_waiting(ts) <= 2);
    }
    xb_ts_stats(ts, &s);
    assert_int_equal(s.early_decisions, 3);
    assert_int_equal(sk.docs, 3); /* decided early, kept: never dropped undecided */
    check_invariant(ts);
    xb_ts_flush(ts);
    assert_int_equal(sk.docs, 5);
    check_invariant(ts);
    xb_ts_free(ts);
    xb_ts_policy_set_unref(ps);
}

static void test_max_bytes_bound(void **state)
{
    struct xb_ts_policy_set *ps = always();
    struct xb_ts_opts o = OPTS;
    struct sink sk = {0};
    struct xb_ts *ts;
    struct xb_qdoc_list docs;
    struct req q;
    size_t one;

    (void)state;
    make_req(&q, (const uint8_t[]){1}, NULL, 1, &docs, 400);
    one = docs.bytes + XB_TS_TRACE_OVERHEAD;
    xb_qdoc_list_clear(&docs);
    o.max_bytes = 3 * one;
    ts = xb_ts_new(NULL, &o, ps, release, &sk);
    for (uint8_t i = 1; i <= 10; i++) {
        make_req(&q, &i, NULL, 1, &docs, 400);
        assert_true(xb_ts_has_room(ts, docs.n, docs.bytes));
        assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, i), XB_OK);
        assert_true(xb_ts_bytes(ts) <= o.max_bytes);
    }
    assert_int_equal(xb_ts_traces_waiting(ts), 3);
    assert_int_equal(sk.docs, 7);
    /* a request larger than the whole budget is refused up front, for good */
    assert_false(xb_ts_has_room(ts, 1, o.max_bytes));
    assert_true(xb_ts_too_large(ts, o.max_bytes));
    assert_false(xb_ts_too_large(ts, one));
    check_invariant(ts);
    xb_ts_free(ts);
    xb_ts_policy_set_unref(ps);
}

static void test_queue_full_holds_and_refuses(void **state)
{
    struct xb_ts_policy_set *ps = always();
    struct sink sk = {.full = 1};
    struct xb_ts *ts = xb_ts_new(NULL, &OPTS, ps, release, &sk);
    struct xb_qdoc_list docs;
    struct req q;
    uint8_t ids[2] = {1, 2};

    (void)state;
    make_req(&q, ids, NULL, 2, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 0), XB_OK);
    xb_ts_tick(ts, 1000);
    assert_int_equal(sk.docs, 0);
    assert_int_equal(xb_ts_docs_held(ts), 2); /* kept, held for queue room */
    assert_false(xb_ts_has_room(ts, 1, 1));   /* backpressure */
    make_req(&q, ids, NULL, 2, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 1001), XB_ERR_FULL);
    assert_int_equal(docs.n, 2); /* left with the caller */
    xb_qdoc_list_clear(&docs);
    check_invariant(ts);
    sk.full = 0;
    xb_ts_tick(ts, 1100);
    assert_int_equal(sk.docs, 2);
    assert_int_equal(xb_ts_docs_held(ts), 0);
    assert_true(xb_ts_has_room(ts, 1, 1));
    check_invariant(ts);
    xb_ts_free(ts);
    xb_ts_policy_set_unref(ps);
}

static void test_trace_larger_than_queue_room(void **state)
{
    struct xb_ts_policy_set *ps = always();
    struct sink sk = {.max_list = 1}; /* the queues never take more than one at once */
    struct xb_ts *ts = xb_ts_new(NULL, &OPTS, ps, release, &sk);
    struct xb_qdoc_list docs;
    struct req q;
    uint8_t ids[3] = {7, 7, 7};

    (void)state;
    make_req(&q, ids, NULL, 3, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 0), XB_OK);
    xb_ts_tick(ts, 1000); /* refused whole: held */
    assert_int_equal(xb_ts_docs_held(ts), 3);
    xb_ts_tick(ts, 1100); /* passed on document by document */
    assert_int_equal(sk.docs, 3);
    assert_int_equal(xb_ts_docs_held(ts), 0);
    assert_int_equal(xb_ts_bytes(ts), 0);
    check_invariant(ts);
    xb_ts_free(ts);
    xb_ts_policy_set_unref(ps);
}

static void test_policy_swap(void **state)
{
    struct xb_ts_policy_set *ps = errors_only(), *all = always();
    struct sink sk = {0};
    struct xb_ts *ts = xb_ts_new(NULL, &OPTS, ps, release, &sk);
    struct xb_qdoc_list docs;
    struct req q;
    uint8_t a = 1, b = 2;

    (void)state;
    make_req(&q, &a, NULL, 1, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 0), XB_OK);
    xb_ts_set_policies(ts, all, 500);
    xb_ts_policy_set_unref(ps); /* the waiting trace still holds the old set */
    make_req(&q, &b, NULL, 1, &docs, 100);
    assert_int_equal(xb_ts_ingest(ts, &q.r, &docs, 100), XB_OK);
    xb_ts_tick(ts, 600); /* new decision_wait (500 ms) for both */
    assert_int_equal(xb_ts_traces_waiting(ts), 0);
    assert_int_equal(sk.docs, 1); /* trace 1: old policy (errors only) -> out; 2: kept */
    assert_true(strstr(sk.last_trace, "02") != NULL);
    xb_ts_free(ts);
    xb_ts_policy_set_unref(all);
}

static void test_daemon_documents(void **state)
{
    struct xb_ts_policy_set *ps = errors_only();
    struct sink sk = {0};
    struct xb_ts *ts = xb_ts_new(NULL, &OPTS, ps, release, &sk);
    struct xb_qdoc_list docs = {0};
    static const char *const json[] = {
        "{\"trace_id\":\"1-5f000000-000000000000000000000001\",\"start_time\":1.5,"
        "\"end_time\":2,\"fault\":true}",
        "{\"trace_id\":\"1-5f000000-000000000000000000000001\",\"start_time\":1.6}",
        "{\"trace_id\":\"1-5f000000-000000000000000000000002\",\"start_time\":1.5}",
        "{\"trace_id\":\"bogus\",\"start_time\":1.5}",
    };
    static const char *const ids[] = {"1-5f000000-000000000000000000000001",
                                      "1-5f000000-000000000000000000000001",
                                      "1-5f000000-000000000000000000000002", "bogus"};
    struct xb_ts_stats s;

    (void)state;
    for (int i = 0; i < 4; i++)
        xb_qdoc_list_add(&docs, xb_qdoc_new_ids(json[i], strlen(json[i]), ids[i], "1"));
    assert_int_equal(xb_ts_ingest_documents(ts, &docs, 0), XB_OK);
    assert_int_equal(sk.docs, 1); /* the unparsable id is passed on at once */
    xb_ts_tick(ts, 1000);
    assert_int_equal(sk.docs, 3); /* trace 1 (fault) whole; trace 2 sampled out */
    xb_ts_stats(ts, &s);
    assert_int_equal(s.spans_received, 4);
    assert_int_equal(s.spans_sampled_out, 1);
    check_invariant(ts);
    xb_ts_free(ts);
    xb_ts_policy_set_unref(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decides_after_wait_whole_trace),
        cmocka_unit_test(test_late_spans_follow_cache),
        cmocka_unit_test(test_num_traces_decides_oldest_early),
        cmocka_unit_test(test_max_bytes_bound),
        cmocka_unit_test(test_queue_full_holds_and_refuses),
        cmocka_unit_test(test_policy_swap),
        cmocka_unit_test(test_trace_larger_than_queue_room),
        cmocka_unit_test(test_daemon_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
