/* Unit tests for exporter/outcome.c: the ErrorCode classifier and what each answer to a
 * PutTraceSegments call does to each document (the branches the e2e fault tests drive
 * through a fake X-Ray), and the shared back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "core/err.h"
#include "exporter/outcome.h"

static const struct xb_retry_opts retry_on = {1, 100, 5000, 0};

static const char *const ids3[] = {"a000000000000001", "a000000000000002", "a000000000000003"};

/* Result of a call answered with |status| and no body. */
static struct xb_call_result http(long status)
{
    return (struct xb_call_result){.status = status};
}

static void assert_action(const struct xb_outcome *o, size_t k, size_t doc,
                          enum xb_doc_action_kind kind)
{
    assert_true(k < o->n_actions);
    assert_int_equal(o->actions[k].doc, doc);
    assert_int_equal(o->actions[k].kind, kind);
}

static void assert_drop(const struct xb_outcome *o, size_t k, size_t doc,
                        enum xb_reject_reason reason, enum xb_drop_why why)
{
    assert_action(o, k, doc, XB_DOC_DROP);
    assert_int_equal(o->actions[k].reason, reason);
    assert_int_equal(o->actions[k].why, why);
}

/* ---- ErrorCode classifier -------------------------------------------------- */

static void test_classify_labels_are_exact(void **state)
{
    (void)state;
    assert_int_equal(xb_xray_error_classify("InvalidTraceId").label,
                     XB_UNPROCESSED_INVALID_TRACE_ID);
    assert_int_equal(xb_xray_error_classify("InvalidSegment").label,
                     XB_UNPROCESSED_INVALID_SEGMENT);
    assert_int_equal(xb_xray_error_classify("ThrottledException").label, XB_UNPROCESSED_THROTTLED);
    assert_int_equal(xb_xray_error_classify("invalidtraceid").label, XB_UNPROCESSED_OTHER);
    assert_int_equal(xb_xray_error_classify("Throttled").label, XB_UNPROCESSED_OTHER);
    assert_int_equal(xb_xray_error_classify("").label, XB_UNPROCESSED_OTHER);
    assert_int_equal(xb_xray_error_classify(NULL).label, XB_UNPROCESSED_OTHER);
}

static void test_classify_retryable_and_throttled(void **state)
{
    static const char *const retryable[] = {"ThrottledException",
                                            "Throttled",
                                            "InternalFailure",
                                            "ServiceUnavailable",
                                            "RequestTimeout",
                                            "TooManyRequests",
                                            "SlowDown",
                                            "429",
                                            "500",
                                            "503"};
    static const char *const final[] = {
        "InvalidSegment", "InvalidTraceId", "AccessDenied", "400", "5000", "50", "", "throttled"};
    struct xb_xray_error_class c;

    (void)state;
    for (size_t i = 0; i < sizeof(retryable) / sizeof(retryable[0]); i++)
        assert_true(xb_xray_error_classify(retryable[i]).retryable);
    for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
        c = xb_xray_error_classify(final[i]);
        assert_false(c.retryable);
        assert_false(c.throttled);
    }
    assert_true(xb_xray_error_classify("ThrottledException").throttled);
    assert_true(xb_xray_error_classify("Throttled").throttled);
    assert_false(xb_xray_error_classify("InternalFailure").throttled);
    assert_false(xb_xray_error_classify("429").throttled);
    c = xb_xray_error_classify(NULL);
    assert_false(c.retryable);
    assert_false(c.throttled);
}

/* ---- 200 ------------------------------------------------------------------- */

static void test_accepted_all_delivered_resets_failures(void **state)
{
    struct xb_retry_state st[3] = {{2, 0, 10}, {0}, {0}};
    struct xb_call_result res = http(200);
    struct xb_outcome o;

    (void)state;
    assert_int_equal(xb_outcome_decide(&res, ids3, st, 3, 1000, &retry_on, &o), XB_OK);
    assert_int_equal(o.n_actions, 3);
    for (size_t i = 0; i < 3; i++)
        assert_action(&o, i, i, XB_DOC_DELIVERED);
    assert_false(o.request_error);
    assert_false(o.back_off);
    assert_true(o.reset_failures);
    assert_int_equal(o.throttled, 0);
}

static void test_unprocessed_throttled_retries_and_backs_off(void **state)
{
    struct xb_unprocessed_entry u[] = {{ids3[1], "ThrottledException", "slow down"}};
    struct xb_retry_state st[3] = {{0}};
    struct xb_call_result res = {.status = 200, .unprocessed = u, .n_unprocessed = 1};
    struct xb_outcome o;

    (void)state;
    assert_int_equal(xb_outcome_decide(&res, ids3, st, 3, 1000, &retry_on, &o), XB_OK);
    assert_int_equal(o.n_actions, 3);
    assert_action(&o, 0, 1, XB_DOC_RETRY); /* listed entries first */
    assert_action(&o, 1, 0, XB_DOC_DELIVERED);
    assert_action(&o, 2, 2, XB_DOC_DELIVERED);
    assert_int_equal(st[1].attempts, 1);
    assert_int_equal(st[1].failing_since_ms, 1000);
    assert_int_equal(st[0].attempts, 0);
    assert_int_equal(o.throttled, 1);
    assert_true(o.back_off);
    assert_false(o.reset_failures);
    assert_false(o.request_error);
}

static void test_unprocessed_internal_failure_retries_without_back_off(void **state)
{
    struct xb_unprocessed_entry u[] = {{ids3[2], "InternalFailure", NULL},
                                       {ids3[0], "ServiceUnavailable", NULL}};
    struct xb_retry_state st[3] = {{0}};
    struct xb_call_result res = {.status = 200, .unprocessed = u, .n_unprocessed = 2};
    struct xb_outcome o;

    (void)state;
    xb_outcome_decide(&res, ids3, st, 3, 7, &retry_on, &o);
    assert_int_equal(o.n_actions, 3);
    assert_action(&o, 0, 2, XB_DOC_RETRY);
    assert_action(&o, 1, 0, XB_DOC_RETRY);
    assert_action(&o, 2, 1, XB_DOC_DELIVERED);
    assert_int_equal(o.throttled, 0);
    assert_false(o.back_off);
    assert_true(o.reset_failures);
}

static void test_unprocessed_invalid_segment_dropped(void **state)
{
    struct xb_unprocessed_entry u[] = {{"ffffffffffffffff", "InvalidSegment", "unknown id"},
                                       {ids3[0], "InvalidSegment", "bad"}};
    struct xb_retry_state st[3] = {{0}};
    struct xb_call_result res = {.status = 200, .unprocessed = u, .n_unprocessed = 2};
    struct xb_outcome o;

    (void)state;
    xb_outcome_decide(&res, ids3, st, 3, 7, &retry_on, &o);
    assert_int_equal(o.n_actions, 3);
    assert_drop(&o, 0, 0, XB_REJECT_UNPROCESSED_NON_RETRYABLE, XB_DROP_UNPROCESSED);
    assert_int_equal(o.actions[0].entry, 1); /* the entry that names it, for the log */
    assert_action(&o, 1, 1, XB_DOC_DELIVERED);
    assert_action(&o, 2, 2, XB_DOC_DELIVERED);
    assert_int_equal(st[0].attempts, 0); /* a final refusal is not an attempt */
    assert_true(o.reset_failures);
}

/* The exporter passes each document's stored segment id (struct xb_qdoc.id), never its
 * JSON text, so an id that only appears in a link cannot match. */
static void test_unprocessed_matching_by_id_once(void **state)
{
    /* The same id twice in the batch: each entry decides one document. An entry listed
     * twice for a lone document decides it once; NULL and empty ids match nothing. */
    const char *ids[] = {"b000000000000001", "b000000000000001", ""};
    struct xb_unprocessed_entry u[] = {{"b000000000000001", "InvalidSegment", NULL},
                                       {"b000000000000001", "InternalFailure", NULL},
                                       {"b000000000000001", "InvalidSegment", NULL},
                                       {NULL, "InvalidSegment", NULL},
                                       {"", "InvalidSegment", NULL}};
    struct xb_retry_state st[3] = {{0}};
    struct xb_call_result res = {.status = 200, .unprocessed = u, .n_unprocessed = 5};
    struct xb_outcome o;

    (void)state;
    xb_outcome_decide(&res, ids, st, 3, 7, &retry_on, &o);
    assert_int_equal(o.n_actions, 3);
    assert_drop(&o, 0, 0, XB_REJECT_UNPROCESSED_NON_RETRYABLE, XB_DROP_UNPROCESSED);
    assert_action(&o, 1, 1, XB_DOC_RETRY);
    assert_action(&o, 2, 2, XB_DOC_DELIVERED);
}

/* ---- failed calls ----------------------------------------------------------- */

/* Every document retried, last first, and the call backs off. */
static void check_all_retried(const struct xb_call_result *res, uint32_t throttled)
{
    struct xb_retry_state st[3] = {{1, 0, 500}, {0}, {0}};
    struct xb_outcome o;

    assert_int_equal(xb_outcome_decide(res, ids3, st, 3, 1000, &retry_on, &o), XB_OK);
    assert_int_equal(o.n_actions, 3);
    assert_action(&o, 0, 2, XB_DOC_RETRY);
    assert_action(&o, 1, 1, XB_DOC_RETRY);
    assert_action(&o, 2, 0, XB_DOC_RETRY);
    assert_true(o.request_error);
    assert_true(o.back_off);
    assert_false(o.reset_failures);
    assert_int_equal(o.throttled, throttled);
    assert_int_equal(st[0].attempts, 2);
    assert_int_equal(st[0].failing_since_ms, 500); /* the first failure's time stays */
    assert_int_equal(st[1].attempts, 1);
    assert_int_equal(st[1].failing_since_ms, 1000);
    assert_int_equal(st[2].solo, 0);
}

static void test_429_retries_and_counts_throttled(void **state)
{
    struct xb_call_result res = http(429);
    (void)state;
    check_all_retried(&res, 1);
}

static void test_5xx_and_auth_and_408_retry(void **state)
{
    static const long statuses[] = {500, 502, 503, 504, 599, 401, 403, 408};
    (void)state;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        struct xb_call_result res = http(statuses[i]);
        check_all_retried(&res, 0);
    }
}

static void test_transport_failure_retries(void **state)
{
    /* Connection refused or reset (no status), a timeout after a partial answer. */
    struct xb_call_result refused = {.transport_failed = 1, .status = 0};
    struct xb_call_result timeout = {.transport_failed = 1, .status = 200};
    (void)state;
    check_all_retried(&refused, 0);
    check_all_retried(&timeout, 0);
}

static void test_400_and_413_split_a_batch(void **state)
{
    static const long statuses[] = {400, 413, 404};
    (void)state;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        struct xb_retry_state st[3] = {{0}};
        struct xb_call_result res = http(statuses[i]);
        struct xb_outcome o;

        xb_outcome_decide(&res, ids3, st, 3, 1000, &retry_on, &o);
        assert_int_equal(o.n_actions, 3);
        assert_action(&o, 0, 2, XB_DOC_SOLO);
        assert_action(&o, 1, 1, XB_DOC_SOLO);
        assert_action(&o, 2, 0, XB_DOC_SOLO);
        for (size_t d = 0; d < 3; d++) {
            assert_int_equal(st[d].solo, 1);
            assert_int_equal(st[d].attempts, 0); /* a split is not a failed attempt */
        }
        assert_true(o.request_error);
        assert_false(o.back_off);
        assert_false(o.reset_failures);
    }
}

static void test_solo_document_refused_is_dropped(void **state)
{
    struct xb_retry_state st[1] = {{0, 1, 0}};
    struct xb_call_result res = http(400);
    struct xb_outcome o;

    (void)state;
    xb_outcome_decide(&res, ids3, st, 1, 1000, &retry_on, &o);
    assert_int_equal(o.n_actions, 1);
    assert_drop(&o, 0, 0, XB_REJECT_HTTP_4XX, XB_DROP_HTTP);
    assert_true(o.request_error);
    assert_false(o.back_off);
}

/* ---- giving up ---------------------------------------------------------------- */

static void test_max_elapsed_gives_up(void **state)
{
    const struct xb_retry_opts opts = {1, 100, 5000, 60000};
    struct xb_retry_state st[2] = {{5, 0, 1000}, {5, 0, 1001}};
    struct xb_call_result res = http(503);
    struct xb_unprocessed_entry u[] = {{ids3[0], "ThrottledException", NULL}};
    struct xb_call_result throttled = {.status = 200, .unprocessed = u, .n_unprocessed = 1};
    struct xb_outcome o;

    (void)state;
    /* 60001 ms after the first failure of doc 0; exactly 60000 for doc 1: kept. */
    xb_outcome_decide(&res, ids3, st, 2, 61001, &opts, &o);
    assert_int_equal(o.n_actions, 2);
    assert_action(&o, 0, 1, XB_DOC_RETRY);
    assert_drop(&o, 1, 0, XB_REJECT_GIVEN_UP_MAX_ELAPSED, XB_DROP_MAX_ELAPSED);
    assert_int_equal(st[0].attempts, 6);
    assert_true(o.back_off);

    /* The same through UnprocessedTraceSegments; it still counts as throttling. */
    st[0] = (struct xb_retry_state){1, 0, 1};
    xb_outcome_decide(&throttled, ids3, st, 1, 60002, &opts, &o);
    assert_drop(&o, 0, 0, XB_REJECT_GIVEN_UP_MAX_ELAPSED, XB_DROP_MAX_ELAPSED);
    assert_int_equal(o.throttled, 1);
    assert_true(o.back_off);
}

static void test_retry_disabled_drops_retryable_failures(void **state)
{
    const struct xb_retry_opts off = {0, 100, 5000, 0};
    struct xb_retry_state st[3] = {{0}};
    struct xb_call_result res = {.transport_failed = 1};
    struct xb_unprocessed_entry u[] = {{ids3[1], "InternalFailure", NULL}};
    struct xb_call_result part = {.status = 200, .unprocessed = u, .n_unprocessed = 1};
    struct xb_call_result bad = http(400);
    struct xb_outcome o;

    (void)state;
    xb_outcome_decide(&res, ids3, st, 3, 1000, &off, &o);
    assert_int_equal(o.n_actions, 3);
    for (size_t k = 0; k < 3; k++)
        assert_drop(&o, k, 2 - k, XB_REJECT_GIVEN_UP_MAX_ELAPSED, XB_DROP_RETRY_DISABLED);
    assert_true(o.back_off);

    memset(st, 0, sizeof(st));
    xb_outcome_decide(&part, ids3, st, 3, 1000, &off, &o);
    assert_drop(&o, 0, 1, XB_REJECT_GIVEN_UP_MAX_ELAPSED, XB_DROP_RETRY_DISABLED);
    assert_action(&o, 1, 0, XB_DOC_DELIVERED);

    /* A split is not a retry: it still happens with retrying off. */
    memset(st, 0, sizeof(st));
    xb_outcome_decide(&bad, ids3, st, 3, 1000, &off, &o);
    assert_action(&o, 0, 2, XB_DOC_SOLO);
}

static void test_too_many_documents_refused(void **state)
{
    static const char *ids[XB_OUTCOME_MAX_DOCS + 1];
    static struct xb_retry_state st[XB_OUTCOME_MAX_DOCS + 1];
    struct xb_call_result res = http(200);
    struct xb_outcome o;

    (void)state;
    for (size_t i = 0; i <= XB_OUTCOME_MAX_DOCS; i++)
        ids[i] = "c000000000000000";
    assert_int_equal(xb_outcome_decide(&res, ids, st, XB_OUTCOME_MAX_DOCS + 1, 1, &retry_on, &o),
                     XB_ERR_INVALID);
    assert_int_equal(o.n_actions, 0);
    assert_int_equal(xb_outcome_decide(&res, ids, st, XB_OUTCOME_MAX_DOCS, 1, &retry_on, &o),
                     XB_OK);
    assert_int_equal(o.n_actions, XB_OUTCOME_MAX_DOCS);
    assert_int_equal(xb_outcome_decide(&res, ids, st, 0, 1, &retry_on, &o), XB_OK);
    assert_int_equal(o.n_actions, 0);
}

/* ---- back-off ------------------------------------------------------------------ */

static void test_concurrent_failures_grow_back_off_once(void **state)
{
    struct xb_backoff b = {0};
    struct xb_rng rng, ref;
    uint64_t d1, d2;

    (void)state;
    xb_rng_seed_fixed(&rng, 7);
    xb_rng_seed_fixed(&ref, 7);
    d1 = xb_backoff_step(&b, 1000, &retry_on, 0, &rng);
    assert_int_equal(d1, xb_backoff_ms(100, 5000, 0, 0, xb_rng_next(&ref)));
    assert_int_equal(b.failures, 1);
    assert_int_equal(b.until_ms, 1000 + d1);
    /* Two more calls of the same round fail before the delay is over: nothing changes,
     * and no random number is drawn. */
    assert_int_equal(xb_backoff_step(&b, 1000, &retry_on, 0, &rng), 0);
    assert_int_equal(xb_backoff_step(&b, 1000 + d1 - 1, &retry_on, 0, &rng), 0);
    assert_int_equal(b.failures, 1);
    assert_int_equal(b.until_ms, 1000 + d1);
    /* The next round doubles. */
    d2 = xb_backoff_step(&b, 1000 + d1, &retry_on, 0, &rng);
    assert_int_equal(d2, xb_backoff_ms(100, 5000, 1, 0, xb_rng_next(&ref)));
    assert_int_equal(b.failures, 2);
    assert_int_equal(b.until_ms, 1000 + d1 + d2);
}

static void test_back_off_drain_cap_and_bounds(void **state)
{
    const struct xb_retry_opts huge = {1, UINT64_MAX, UINT64_MAX, 0};
    struct xb_backoff b = {0, 30};
    struct xb_rng rng;
    uint64_t d;

    (void)state;
    xb_rng_seed_fixed(&rng, 1);
    d = xb_backoff_step(&b, 0, &retry_on, 1000, &rng);
    assert_true(d >= 500 && d <= 1500); /* capped at the drain cap, then jittered */
    b = (struct xb_backoff){0, 30};
    d = xb_backoff_step(&b, 0, &huge, 0, &rng);
    assert_true(d > 0 && d <= UINT32_MAX);
}

/* ---- retry bookkeeping ----------------------------------------------------------- */

static void test_retry_book_put_get_forget(void **state)
{
    struct xb_retry_book b = {0};
    int docs[3] = {0};
    struct xb_retry_state s1 = {1, 0, 100}, s2 = {0, 1, 0}, zero = {0}, got;

    (void)state;
    got = xb_retry_book_get(&b, &docs[0]); /* empty book: fresh */
    assert_int_equal(got.attempts, 0);
    assert_int_equal(xb_retry_book_put(&b, &docs[0], &s1), XB_OK);
    assert_int_equal(xb_retry_book_put(&b, &docs[1], &s2), XB_OK);
    got = xb_retry_book_get(&b, &docs[0]);
    assert_int_equal(got.attempts, 1);
    assert_int_equal(got.failing_since_ms, 100);
    assert_int_equal(xb_retry_book_get(&b, &docs[1]).solo, 1);
    assert_int_equal(xb_retry_book_get(&b, &docs[2]).solo, 0);
    assert_int_equal(b.used, 2);
    s1.attempts = 2; /* update in place */
    assert_int_equal(xb_retry_book_put(&b, &docs[0], &s1), XB_OK);
    assert_int_equal(xb_retry_book_get(&b, &docs[0]).attempts, 2);
    assert_int_equal(b.used, 2);
    assert_int_equal(xb_retry_book_put(&b, &docs[1], &zero), XB_OK); /* zero forgets */
    assert_int_equal(b.used, 1);
    xb_retry_book_forget(&b, &docs[0]);
    xb_retry_book_forget(&b, &docs[0]); /* twice: no-op */
    xb_retry_book_forget(&b, NULL);
    assert_int_equal(b.used, 0);
    assert_int_equal(xb_retry_book_get(&b, &docs[0]).attempts, 0);
    assert_int_equal(xb_retry_book_put(&b, NULL, &s1), XB_ERR_INVALID);
    xb_retry_book_cleanup(&b);
    assert_null(b.slots);
}

static void test_retry_book_many_entries_grow_and_delete(void **state)
{
    enum { N = 1000 };
    static char docs[N];
    struct xb_retry_book b = {0};

    (void)state;
    for (uint32_t i = 0; i < N; i++) {
        struct xb_retry_state s = {i + 1, i & 1, i};
        assert_int_equal(xb_retry_book_put(&b, &docs[i], &s), XB_OK);
    }
    assert_int_equal(b.used, N);
    assert_true(b.cap >= 2 * N);
    /* Forget every third: the probe runs stay intact for the rest. */
    for (uint32_t i = 0; i < N; i += 3)
        xb_retry_book_forget(&b, &docs[i]);
    for (uint32_t i = 0; i < N; i++) {
        struct xb_retry_state s = xb_retry_book_get(&b, &docs[i]);
        if (i % 3 == 0) {
            assert_int_equal(s.attempts, 0);
        } else {
            assert_int_equal(s.attempts, i + 1);
            assert_int_equal(s.solo, i & 1);
            assert_int_equal(s.failing_since_ms, i);
        }
    }
    for (uint32_t i = 0; i < N; i++)
        xb_retry_book_forget(&b, &docs[i]);
    assert_int_equal(b.used, 0);
    for (size_t i = 0; i < b.cap; i++)
        assert_null(b.slots[i].doc);
    xb_retry_book_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_labels_are_exact),
        cmocka_unit_test(test_classify_retryable_and_throttled),
        cmocka_unit_test(test_accepted_all_delivered_resets_failures),
        cmocka_unit_test(test_unprocessed_throttled_retries_and_backs_off),
        cmocka_unit_test(test_unprocessed_internal_failure_retries_without_back_off),
        cmocka_unit_test(test_unprocessed_invalid_segment_dropped),
        cmocka_unit_test(test_unprocessed_matching_by_id_once),
        cmocka_unit_test(test_429_retries_and_counts_throttled),
        cmocka_unit_test(test_5xx_and_auth_and_408_retry),
        cmocka_unit_test(test_transport_failure_retries),
        cmocka_unit_test(test_400_and_413_split_a_batch),
        cmocka_unit_test(test_solo_document_refused_is_dropped),
        cmocka_unit_test(test_max_elapsed_gives_up),
        cmocka_unit_test(test_retry_disabled_drops_retryable_failures),
        cmocka_unit_test(test_too_many_documents_refused),
        cmocka_unit_test(test_concurrent_failures_grow_back_off_once),
        cmocka_unit_test(test_back_off_drain_cap_and_bounds),
        cmocka_unit_test(test_retry_book_put_get_forget),
        cmocka_unit_test(test_retry_book_many_entries_grow_and_delete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
