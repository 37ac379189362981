/*
 * tests/viewer/test_viewer_map.c - extension/viewer_map.c (edge aggregation: counts,
 * average, nearest-rank p99, shares, node health) and extension/viewer_trace.c (reading a
 * stored trace: summary, resends, parent links, the calls of the service map).
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
#include "core/buf.h"
#include "core/err.h"
#include "extension/viewer_map.h"
#include "extension/viewer_store.h"
#include "extension/viewer_trace.h"

static void call(struct xb_viewer_map *m, const char *from, const char *to, double s, int fault,
                 int error, int throttle)
{
    struct xb_viewer_call c = {.from_name = from,
                               .from_type = "service",
                               .to_name = to,
                               .to_type = "remote",
                               .seconds = s,
                               .fault = fault,
                               .error = error,
                               .throttle = throttle};
    assert_int_equal(xb_viewer_map_add(m, &c), XB_OK);
}

static void test_edge_figures(void **state)
{
    struct xb_viewer_map *m = xb_viewer_map_new();
    struct xb_viewer_map_stats st;

    /* 100 calls of 1..100 ms, added in a scrambled order: p99 = 99 ms (nearest rank). */
    for (int i = 0; i < 100; i++)
        call(m, "api", "db", ((i * 37) % 100 + 1) / 1000.0, i < 5, i >= 5 && i < 15, i == 99);
    assert_int_equal(xb_viewer_map_edge_stats(m, "api", "service", "db", "remote", &st), XB_OK);
    assert_int_equal(st.count, 100);
    assert_int_equal(st.timed, 100);
    assert_float_equal(st.avg_seconds, 0.0505, 1e-9);
    assert_float_equal(st.p99_seconds, 0.099, 1e-12);
    assert_float_equal(st.fault_share, 0.05, 1e-12);
    assert_float_equal(st.error_share, 0.10, 1e-12);
    assert_float_equal(st.throttle_share, 0.01, 1e-12);
    assert_string_equal(xb_viewer_map_health(&st), "fault");

    /* 200 calls: p99 is the 198th smallest; one more unknown-duration call is counted
     * but not timed. */
    for (int i = 0; i < 200; i++)
        call(m, "api", "cache", (200 - i) / 1000.0, 0, 0, 0);
    call(m, "api", "cache", -1, 0, 0, 0);
    assert_int_equal(xb_viewer_map_edge_stats(m, "api", "service", "cache", "remote", &st), XB_OK);
    assert_int_equal(st.count, 201);
    assert_int_equal(st.timed, 200);
    assert_float_equal(st.p99_seconds, 0.198, 1e-12);
    assert_string_equal(xb_viewer_map_health(&st), "ok");

    /* A single call is its own p99. */
    call(m, "web", "api", 0.25, 0, 0, 0);
    assert_int_equal(xb_viewer_map_edge_stats(m, "web", "service", "api", "remote", &st), XB_OK);
    assert_float_equal(st.p99_seconds, 0.25, 1e-12);
    assert_int_equal(xb_viewer_map_edges(m), 3);
    assert_int_equal(xb_viewer_map_nodes(m), 5); /* api, db, cache, web and api/remote */
    assert_int_equal(xb_viewer_map_edge_stats(m, "db", "remote", "api", "service", &st),
                     XB_ERR_NOT_FOUND);
    xb_viewer_map_free(m);
}

static void test_health_order(void **state)
{
    struct xb_viewer_map_stats s = {.count = 0};

    assert_string_equal(xb_viewer_map_health(&s), "client");
    s.count = 10;
    assert_string_equal(xb_viewer_map_health(&s), "ok");
    s.error_share = 0.1;
    assert_string_equal(xb_viewer_map_health(&s), "error");
    s.throttle_share = 0.1;
    assert_string_equal(xb_viewer_map_health(&s), "throttle");
    s.fault_share = 0.1;
    assert_string_equal(xb_viewer_map_health(&s), "fault");
}

static void test_map_json(void **state)
{
    struct xb_viewer_map *m = xb_viewer_map_new();
    struct xb_buf b;

    call(m, "a\"<b>", "c", 0.002, 0, 0, 1);
    xb_buf_init(&b, 0);
    assert_int_equal(xb_viewer_map_json(m, &b), XB_OK);
    assert_non_null(strstr(b.data, "\"name\":\"a\\\"<b>\""));
    assert_non_null(strstr(b.data, "\"health\":\"throttle\""));
    assert_non_null(strstr(b.data, "\"from\":\"n0\",\"to\":\"n1\""));
    assert_non_null(strstr(b.data, "\"avg_ms\":2,\"p99_ms\":2"));
    xb_buf_cleanup(&b);
    xb_viewer_map_free(m);
}

#define TID "1-5759e988-bd862e3fe1be46a994272793"

/* parcel-api (root, POST, 500) -> billing (a segment answering a remote subsegment),
 * a 500 call to "carrier" (fault), a 429 call to "ratelimited" (throttle), a database
 * call, and billing's nested DynamoDB call. The root is sent twice: in progress first. */
static const char *const trace_docs[][2] = {
    {"1111111111111111", "{\"name\":\"parcel-api\",\"id\":\"1111111111111111\",\"trace_id\":\"" TID
                         "\",\"start_time\":100.0,\"in_progress\":true}"},
    {"2222222222222222",
     "{\"name\":\"carrier\",\"id\":\"2222222222222222\",\"trace_id\":\"" TID
     "\",\"type\":\"subsegment\",\"parent_id\":\"1111111111111111\",\"namespace\":\"remote\","
     "\"start_time\":100.1,\"end_time\":100.4,\"fault\":true,"
     "\"http\":{\"response\":{\"status\":500}}}"},
    {"3333333333333333",
     "{\"name\":\"ratelimited\",\"id\":\"3333333333333333\",\"trace_id\":\"" TID
     "\",\"type\":\"subsegment\",\"parent_id\":\"1111111111111111\",\"namespace\":\"remote\","
     "\"start_time\":100.4,\"end_time\":100.5,\"error\":true,\"throttle\":true}"},
    {"4444444444444444",
     "{\"name\":\"billing\",\"id\":\"4444444444444444\",\"trace_id\":\"" TID
     "\",\"type\":\"subsegment\",\"parent_id\":\"1111111111111111\",\"namespace\":\"remote\","
     "\"start_time\":100.5,\"end_time\":100.9}"},
    {"5555555555555555",
     "{\"name\":\"billing\",\"id\":\"5555555555555555\",\"trace_id\":\"" TID
     "\",\"parent_id\":\"4444444444444444\",\"origin\":\"AWS::ECS::Container\","
     "\"start_time\":100.55,\"end_time\":100.85,\"annotations\":{\"invoice\":\"i-9\"},"
     "\"subsegments\":[{\"name\":\"DynamoDB\",\"id\":\"6666666666666666\",\"namespace\":"
     "\"aws\",\"start_time\":100.6,\"end_time\":100.7}]}"},
    {"7777777777777777",
     "{\"name\":\"postgres@db\",\"id\":\"7777777777777777\",\"trace_id\":\"" TID
     "\",\"type\":\"subsegment\",\"parent_id\":\"1111111111111111\",\"namespace\":\"remote\","
     "\"sql\":{\"database_type\":\"PostgreSQL\"},\"start_time\":100.9,\"end_time\":100.95}"},
    {"1111111111111111",
     "{\"name\":\"parcel-api\",\"id\":\"1111111111111111\",\"trace_id\":\"" TID
     "\",\"start_time\":100.0,\"end_time\":101.0,\"fault\":true,\"annotations\":{\"parcel_id\":"
     "\"p-1\",\"weight\":2},\"http\":{\"request\":{\"method\":\"POST\",\"url\":"
     "\"https://x/parcels\"},\"response\":{\"status\":500}}}"},
    {"", "not json"},
};

static struct xb_viewer_store *store_with_trace(void)
{
    struct xb_viewer_store *s = xb_viewer_store_new(10, 1 << 20);

    for (size_t i = 0; i < sizeof(trace_docs) / sizeof(trace_docs[0]); i++)
        assert_int_equal(xb_viewer_store_add(s, trace_docs[i][1], strlen(trace_docs[i][1]), TID,
                                             trace_docs[i][0], 1),
                         XB_OK);
    return s;
}

static void test_summary(void **state)
{
    struct xb_viewer_store *s = store_with_trace();
    struct xb_arena *a = xb_arena_new(4096, 1 << 20);
    struct xb_viewer_summary sum;
    struct xb_buf b;
    struct xb_jsonw w;

    assert_int_equal(xb_viewer_summarize(xb_viewer_store_find(s, TID), a, &sum), XB_OK);
    assert_string_equal(sum.root_name, "parcel-api");
    assert_int_equal(sum.documents, 8);
    assert_int_equal(sum.segments, 6); /* the resend counts once, "not json" not at all */
    assert_int_equal(sum.unparsed, 1);
    assert_false(sum.in_progress); /* the completed copy replaced the in-progress one */
    assert_float_equal(sum.start, 100.0, 1e-9);
    assert_float_equal(sum.facts.duration, 1.0, 1e-9);
    assert_float_equal(sum.facts.responsetime, 1.0, 1e-9);
    assert_int_equal(sum.facts.http_status, 500);
    assert_string_equal(sum.facts.http_method, "POST");
    assert_true(sum.facts.fault);
    assert_true(sum.facts.error);
    assert_true(sum.facts.throttle);
    assert_int_equal(sum.facts.n_services, 2);
    assert_int_equal(sum.facts.n_ann, 3);
    xb_buf_init(&b, 0);
    xb_jsonw_init(&w, &b);
    xb_viewer_summary_json(&sum, &w);
    assert_int_equal(w.err, XB_OK);
    assert_non_null(strstr(b.data, "\"root\":{\"name\":\"parcel-api\",\"method\":\"POST\""));
    assert_non_null(strstr(b.data, "\"services\":[\"parcel-api\",\"billing\"]"));
    xb_buf_cleanup(&b);
    xb_arena_free(a);
    xb_viewer_store_free(s);
}

static void test_in_progress_trace(void **state)
{
    struct xb_viewer_store *s = xb_viewer_store_new(10, 1 << 20);
    struct xb_arena *a = xb_arena_new(4096, 1 << 20);
    struct xb_viewer_summary sum;

    assert_int_equal(xb_viewer_store_add(s, trace_docs[0][1], strlen(trace_docs[0][1]), TID,
                                         trace_docs[0][0], 1),
                     XB_OK);
    assert_int_equal(xb_viewer_summarize(xb_viewer_store_find(s, TID), a, &sum), XB_OK);
    assert_true(sum.in_progress);
    assert_true(sum.facts.duration < 0);
    assert_true(sum.facts.responsetime < 0);
    xb_arena_free(a);
    xb_viewer_store_free(s);
}

static void test_trace_calls(void **state)
{
    struct xb_viewer_store *s = store_with_trace();
    struct xb_arena *a = xb_arena_new(4096, 1 << 20);
    struct xb_viewer_map *m = xb_viewer_map_new();
    struct xb_viewer_map_stats st;

    assert_int_equal(xb_viewer_trace_calls(xb_viewer_store_find(s, TID), a, m), XB_OK);
    assert_int_equal(xb_viewer_map_edge_stats(m, "client", "client", "parcel-api", "service", &st),
                     XB_OK);
    assert_int_equal(st.count, 1);
    assert_float_equal(st.avg_seconds, 1.0, 1e-9);
    assert_float_equal(st.fault_share, 1.0, 1e-9);
    /* billing answers the "billing" remote subsegment: one edge to the service, no
     * remote node for it. */
    assert_int_equal(
        xb_viewer_map_edge_stats(m, "parcel-api", "service", "billing", "AWS::ECS::Container", &st),
        XB_OK);
    assert_float_equal(st.avg_seconds, 0.3, 1e-9);
    assert_int_equal(xb_viewer_map_edge_stats(m, "parcel-api", "service", "billing", "remote", &st),
                     XB_ERR_NOT_FOUND);
    assert_int_equal(xb_viewer_map_edge_stats(m, "parcel-api", "service", "carrier", "remote", &st),
                     XB_OK);
    assert_float_equal(st.fault_share, 1.0, 1e-9);
    assert_string_equal(xb_viewer_map_health(&st), "fault");
    assert_int_equal(
        xb_viewer_map_edge_stats(m, "parcel-api", "service", "ratelimited", "remote", &st), XB_OK);
    assert_string_equal(xb_viewer_map_health(&st), "throttle");
    assert_int_equal(
        xb_viewer_map_edge_stats(m, "parcel-api", "service", "postgres@db", "database", &st),
        XB_OK);
    /* The nested aws subsegment belongs to billing. */
    assert_int_equal(
        xb_viewer_map_edge_stats(m, "billing", "AWS::ECS::Container", "DynamoDB", "aws", &st),
        XB_OK);
    assert_float_equal(st.p99_seconds, 0.1, 1e-9);
    assert_int_equal(xb_viewer_map_edges(m), 6);
    xb_viewer_map_free(m);
    xb_arena_free(a);
    xb_viewer_store_free(s);
}

static void test_trace_json_keeps_documents_as_sent(void **state)
{
    struct xb_viewer_store *s = store_with_trace();
    struct xb_buf b;

    xb_buf_init(&b, 0);
    assert_int_equal(xb_viewer_trace_json(xb_viewer_store_find(s, TID), &b), XB_OK);
    assert_non_null(strstr(b.data, "{\"trace_id\":\"" TID "\",\"documents\":[{\"name\":"));
    assert_non_null(strstr(b.data, trace_docs[4][1])); /* byte for byte */
    assert_non_null(strstr(b.data, "\"unparsed\":[\"not json\"]"));
    xb_buf_cleanup(&b);
    xb_viewer_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_figures),
        cmocka_unit_test(test_health_order),
        cmocka_unit_test(test_map_json),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_in_progress_trace),
        cmocka_unit_test(test_trace_calls),
        cmocka_unit_test(test_trace_json_keeps_documents_as_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
