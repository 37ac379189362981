/* Unit tests for receiver/ingest.c: outcome accounting, all-or-nothing enqueue,
 * refusal when a queue is full, size limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/gzip.h"
#include "core/jsonw.h"
#include "core/metrics.h"
#include "core/qdoc_block.h"
#include "core/queue.h"
#include "receiver/ingest.h"
#include "receiver/otlp_limits.h"
#include "receiver/status.h"
#include "tests/unit/receiver/pb_build.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Two valid spans (a SERVER segment and its CLIENT subsegment). */
static const char REQ[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
    "\"value\":{\"stringValue\":\"checkout\"}}]},\"scopeSpans\":[{\"spans\":["
    "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
    "\"name\":\"GET /cart\",\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\","
    "\"endTimeUnixNano\":\"1700000000250000000\"},"
    "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"aae19b7ec3c1b175\","
    "\"parentSpanId\":\"eee19b7ec3c1b174\",\"name\":\"GET\",\"kind\":3,"
    "\"startTimeUnixNano\":\"1700000000010000000\",\"endTimeUnixNano\":\"1700000000200000000\"}"
    "]}]}]}";

/* One valid span and one the translator rejects (4-byte span id). */
static const char REQ_ONE_BAD[] =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
    "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
    "\"name\":\"ok\",\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\","
    "\"endTimeUnixNano\":\"1700000000250000000\"},"
    "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7e\","
    "\"name\":\"bad\",\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\","
    "\"endTimeUnixNano\":\"1700000000250000000\"}]}]}]}";

/* A CONSUMER span linked to a span of another trace (the link comes first in the
 * document text). */
static const char REQ_LINKS[] =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
    "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
    "\"name\":\"consume\",\"kind\":5,\"startTimeUnixNano\":\"1700000000000000000\","
    "\"endTimeUnixNano\":\"1700000000250000000\",\"links\":[{\"traceId\":"
    "\"11223344556677889900aabbccddeeff\",\"spanId\":\"0a0b0c0d0e0f0102\"}]}]}]}]}";

struct fixture {
    struct xb_translator_config tc;
    struct xb_queue *q1, *q2;
    struct xb_ingest *ing;
};

static int setup(void **state)
{
    static struct fixture f;
    struct xb_queue *qs[2];

    xb_metrics_reset();
    xb_translator_config_defaults(&f.tc);
    f.q1 = xb_queue_new(0, 0);
    f.q2 = xb_queue_new(0, 3); /* room for 3 documents: one request of 2 fits, two do not */
    qs[0] = f.q1;
    qs[1] = f.q2;
    f.ing = xb_ingest_new(&f.tc, qs, 2, 64 * 1024);
    assert_non_null(f.ing);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    xb_ingest_free(f->ing);
    xb_queue_free(f->q1);
    xb_queue_free(f->q2);
    return 0;
}

/* A new ingest over |f|'s queues, after their consumers changed: whether documents are
 * written in embedded form is decided from the set-up (receiver/ingest.h). */
static void renew_ingest(struct fixture *f)
{
    struct xb_queue *qs[2] = {f->q1, f->q2};

    xb_ingest_free(f->ing);
    f->ing = xb_ingest_new(&f->tc, qs, 2, 64 * 1024);
    assert_non_null(f->ing);
}

static void export_json(struct fixture *f, const void *body, size_t len, int gzip,
                        struct xb_ingest_outcome *o)
{
    xb_ingest_export(f->ing, XB_TRANSPORT_HTTP, XB_BODY_JSON, gzip, body, len, 64 * 1024, o);
}

static void test_ingest_accepts_and_copies_to_every_queue(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest_outcome o;

    export_json(f, REQ, sizeof(REQ) - 1, 0, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(o.spans, 2);
    assert_int_equal(xb_queue_waiting(f->q1), 2);
    assert_int_equal(xb_queue_waiting(f->q2), 2);
    assert_int_equal(xb_receiver_metrics.requests[XB_TRANSPORT_HTTP], 1);
    assert_int_equal(xb_receiver_metrics.accepted_spans[XB_TRANSPORT_HTTP], 2);
    assert_int_equal(xb_receiver_metrics.documents_built, 2);
}

/* Pops the two documents of REQ from |q| into |out| (heap copies) with their flags. */
static void pop_two(struct xb_queue *q, char *out[2], int embedded[2])
{
    for (int i = 0; i < 2; i++) {
        struct xb_qdoc *d = xb_queue_pop(q);
        assert_non_null(d);
        out[i] = strdup(d->json);
        assert_non_null(out[i]);
        assert_int_equal(strlen(out[i]), d->len);
        embedded[i] = d->embedded;
        xb_queue_done(q, d);
    }
    assert_null(xb_queue_pop(q));
}

static void ignore_tap(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    (void)ud, (void)json, (void)len, (void)trace_id, (void)id;
}

/* Documents are translated in embedded form only when every queue's consumer takes
 * them (receiver/ingest_embed.h), and are then xb_jsonw_embed() of the plain ones;
 * X-Ray daemon documents and set-ups with a tap stay plain. */
static void test_ingest_embedded_documents_only_when_every_queue_takes_them(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest_outcome o;
    char *plain[2], *got[2], *other[2];
    int flags[2];
    struct xb_buf want;

    /* Neither queue takes them, then only one: plain documents. */
    for (int round = 0; round < 2; round++) {
        xb_queue_set_takes_embedded(f->q1, round);
        renew_ingest(f);
        export_json(f, REQ, sizeof(REQ) - 1, 0, &o);
        assert_int_equal(o.rc, XB_OK);
        pop_two(f->q1, round ? got : plain, flags);
        assert_int_equal(flags[0] | flags[1], 0);
        pop_two(f->q2, other, flags);
        assert_int_equal(flags[0] | flags[1], 0);
        for (int i = 0; i < 2; i++) {
            if (round) {
                assert_string_equal(got[i], plain[i]);
                free(got[i]);
            }
            free(other[i]);
        }
    }
    /* Both take them: embedded documents in both queues. */
    xb_queue_set_takes_embedded(f->q2, 1);
    renew_ingest(f);
    export_json(f, REQ, sizeof(REQ) - 1, 0, &o);
    assert_int_equal(o.rc, XB_OK);
    xb_buf_init(&want, 0);
    for (int k = 0; k < 2; k++) {
        pop_two(k ? f->q2 : f->q1, got, flags);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(flags[i], 1);
            xb_buf_clear(&want);
            assert_int_equal(xb_jsonw_embed(&want, plain[i], strlen(plain[i])), XB_OK);
            assert_string_equal(got[i], want.data);
            free(got[i]);
        }
    }
    /* X-Ray daemon documents stay as sent. */
    {
        struct xb_ingest_doc in[2] = {{plain[0], strlen(plain[0]), "t", "i"},
                                      {plain[1], strlen(plain[1]), "t", "i"}};
        assert_int_equal(xb_ingest_documents(f->ing, in, 2), XB_OK);
        pop_two(f->q1, got, flags);
        assert_int_equal(flags[0] | flags[1], 0);
        assert_string_equal(got[0], plain[0]);
        for (int i = 0; i < 2; i++)
            free(got[i]);
        pop_two(f->q2, got, flags);
        for (int i = 0; i < 2; i++)
            free(got[i]);
    }
    /* A tap sees plain documents. */
    xb_ingest_set_tap(f->ing, ignore_tap, NULL);
    export_json(f, REQ, sizeof(REQ) - 1, 0, &o);
    assert_int_equal(o.rc, XB_OK);
    pop_two(f->q1, got, flags);
    assert_int_equal(flags[0] | flags[1], 0);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(got[i], plain[i]);
        free(got[i]);
    }
    pop_two(f->q2, got, flags);
    for (int i = 0; i < 2; i++)
        free(got[i]);
    xb_ingest_set_tap(f->ing, NULL, NULL);
    xb_buf_cleanup(&want);
    for (int i = 0; i < 2; i++)
        free(plain[i]);
}

/* Every queued document, and its copy for the second exporter, carries its own trace id
 * and id, not those of a link. */
static void test_ingest_queues_document_identity(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest_outcome o;
    struct xb_qdoc *d;

    export_json(f, REQ_LINKS, sizeof(REQ_LINKS) - 1, 0, &o);
    assert_int_equal(o.rc, XB_OK);
    for (int i = 0; i < 2; i++) {
        struct xb_queue *q = i ? f->q2 : f->q1;
        d = xb_queue_pop(q);
        assert_non_null(d);
        assert_non_null(strstr(d->json, "1-11223344-556677889900aabbccddeeff"));
        assert_string_equal(d->trace_id, "1-5b8efff7-98038103d269b633813fc60c");
        assert_string_equal(d->id, "eee19b7ec3c1b174");
        xb_queue_done(q, d);
    }
}

/* An OTLP request's documents go to the first queue placed in one block (core/
 * qdoc_block.h), the second queue gets copies of its own; both charge exactly what the
 * documents cost, block slack included, and the same at push and at done. */
static void test_ingest_places_documents_in_blocks(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest_outcome o;
    struct xb_qdoc *a, *b, *c1, *c2;

    export_json(f, REQ, sizeof(REQ) - 1, 0, &o);
    assert_int_equal(o.rc, XB_OK);
    a = xb_queue_pop(f->q1);
    b = xb_queue_pop(f->q1);
    c1 = xb_queue_pop(f->q2);
    c2 = xb_queue_pop(f->q2);
    assert_true(a->block_off != 0 && b->block_off != 0);
    assert_int_equal(xb_qdoc_block_refs(a), 2);
    assert_int_equal(c1->block_off, 0);
    assert_string_equal(c1->json, a->json);
    assert_string_equal(c2->json, b->json);
    assert_true(xb_qdoc_charge(b) > xb_qdoc_charge_len(b->len)); /* the block's slack */
    assert_int_equal(xb_queue_charged_bytes(f->q1), xb_qdoc_charge(a) + xb_qdoc_charge(b));
    assert_int_equal(xb_queue_charged_bytes(f->q2), xb_qdoc_charge(c1) + xb_qdoc_charge(c2));
    xb_queue_done(f->q1, b); /* the last one placed first: a still holds the block */
    assert_int_equal(xb_qdoc_block_refs(a), 1);
    xb_queue_done(f->q1, a);
    xb_queue_done(f->q2, c1);
    xb_queue_done(f->q2, c2);
    assert_int_equal(xb_queue_charged_bytes(f->q1), 0);
    assert_int_equal(xb_queue_charged_bytes(f->q2), 0);
}

/* Ready-made documents (the X-Ray daemon receiver) are queued byte-for-byte with their
 * identity in every queue, all or nothing, and counted by nobody here. */
static void test_ingest_documents_unchanged_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    static const char doc[] = "{ \"name\" : \"a\",\"id\":\"70de5b6f19ff9a0a\" }";
    struct xb_ingest_doc in[2] = {
        {doc, sizeof(doc) - 1, "1-5f84c7a1-0123456789abcdef01234567", "70de5b6f19ff9a0a"},
        {doc, sizeof(doc) - 1, "1-5f84c7a1-0123456789abcdef01234567", "70de5b6f19ff9a0b"},
    };
    struct xb_qdoc *d;

    assert_int_equal(xb_ingest_documents(f->ing, in, 2), XB_OK);
    assert_int_equal(xb_queue_waiting(f->q1), 2);
    assert_int_equal(xb_queue_waiting(f->q2), 2);
    for (int i = 0; i < 2; i++) {
        struct xb_queue *q = i ? f->q2 : f->q1;
        d = xb_queue_pop(q);
        assert_non_null(d);
        assert_int_equal(d->len, sizeof(doc) - 1);
        assert_memory_equal(d->json, doc, sizeof(doc) - 1);
        assert_string_equal(d->trace_id, "1-5f84c7a1-0123456789abcdef01234567");
        assert_string_equal(d->id, "70de5b6f19ff9a0a");
        xb_queue_done(q, d);
    }
    /* q2 holds 1 of its 3 now: two more fit, three do not, and nothing is queued */
    assert_int_equal(xb_ingest_documents(f->ing, in, 2), XB_OK);
    assert_int_equal(xb_ingest_documents(f->ing, in, 1), XB_ERR_FULL);
    assert_int_equal(xb_queue_waiting(f->q1), 3);
    assert_int_equal(xb_queue_waiting(f->q2), 3);
    assert_int_equal(xb_receiver_metrics.accepted_spans[XB_TRANSPORT_HTTP], 0);
    assert_int_equal(xb_receiver_metrics.documents_built, 0);
}

static void test_ingest_full_queue_refuses_whole_request(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest_outcome o;

    export_json(f, REQ, sizeof(REQ) - 1, 0, &o);
    assert_int_equal(o.rc, XB_OK);
    /* 2 of 3 slots used in q2: the next 2 documents do not fit -> nothing is queued
     * anywhere (all-or-nothing), the client is told to retry. */
    export_json(f, REQ, sizeof(REQ) - 1, 0, &o);
    assert_int_equal(o.rc, XB_ERR_FULL);
    assert_int_equal(xb_queue_waiting(f->q1), 2);
    assert_int_equal(xb_queue_waiting(f->q2), 2);
    assert_int_equal(xb_receiver_metrics.refused_spans[XB_TRANSPORT_HTTP], 2);
    assert_int_equal(xb_receiver_metrics.queue_full_requests[XB_TRANSPORT_HTTP], 1);
    assert_int_equal(xb_receiver_metrics.documents_built, 2); /* refused documents never existed */
}

static void test_ingest_refuses_before_translating_when_a_queue_is_full(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest_outcome o;
    struct xb_qdoc_list l = {0};

    xb_qdoc_list_add(&l, xb_qdoc_new("{}", 2));
    xb_qdoc_list_add(&l, xb_qdoc_new("{}", 2));
    xb_qdoc_list_add(&l, xb_qdoc_new("{}", 2));
    assert_int_equal(xb_queue_push_list(f->q2, &l), XB_OK); /* q2 completely full */
    export_json(f, REQ_ONE_BAD, sizeof(REQ_ONE_BAD) - 1, 0, &o);
    assert_int_equal(o.rc, XB_ERR_FULL);
    assert_int_equal(o.spans, 2);          /* decoded, for the refused-spans count ... */
    assert_int_equal(o.rejected_spans, 0); /* ... but not translated: it would reject one */
    assert_int_equal(xb_receiver_metrics.refused_spans[XB_TRANSPORT_HTTP], 2);
    assert_int_equal(xb_queue_waiting(f->q1), 0);
    xb_queue_free(f->q2); /* empty it: now the same request is translated */
    f->q2 = NULL;
    {
        struct xb_queue *qs[1] = {f->q1};
        xb_ingest_free(f->ing);
        f->ing = xb_ingest_new(&f->tc, qs, 1, 64 * 1024);
    }
    export_json(f, REQ_ONE_BAD, sizeof(REQ_ONE_BAD) - 1, 0, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(o.rejected_spans, 1);
    assert_int_equal(xb_queue_waiting(f->q1), 1);
}

/* Documents are built only while they fit: a request whose output exceeds the free room
 * of a queue stops translating at the first document that does not fit, so a request
 * never makes the agent hold more than the queues' budget. */
static void test_ingest_stops_building_when_output_exceeds_room(void **state)
{
    struct fixture *f = *state;
    struct xb_queue *small = xb_queue_new(300, 0); /* room for one document, not two */
    struct xb_queue *qs[1] = {small};
    struct xb_ingest *ing = xb_ingest_new(&f->tc, qs, 1, 64 * 1024);
    struct xb_ingest_outcome o;

    (void)state;
    assert_non_null(small);
    assert_non_null(ing);
    xb_ingest_export(ing, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024, &o);
    assert_int_equal(o.rc, XB_ERR_FULL);
    assert_string_equal(o.err_desc, "export queue is full, retry later");
    assert_int_equal(xb_queue_waiting(small), 0);
    assert_int_equal(xb_queue_charged_bytes(small), 0);
    assert_int_equal(xb_receiver_metrics.refused_spans[XB_TRANSPORT_HTTP], 2);
    xb_ingest_free(ing);
    xb_queue_free(small);
}

static void test_ingest_counts_bad_and_oversize_requests(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest_outcome o;
    struct xb_buf z;
    static char zeros[256 * 1024];

    export_json(f, "{not json", 9, 0, &o);
    assert_int_equal(o.rc, XB_ERR_INVALID);
    assert_non_null(o.err_desc);
    assert_int_equal(xb_receiver_metrics.bad_requests[XB_TRANSPORT_HTTP], 1);

    /* 256 KiB of zeros gzip to ~300 bytes but expand past the 64 KiB limit. */
    xb_buf_init(&z, 0);
    assert_int_equal(xb_gzip(zeros, sizeof(zeros), &z), XB_OK);
    export_json(f, z.data, z.len, 1, &o);
    assert_int_equal(o.rc, XB_ERR_TOO_LARGE);
    assert_int_equal(xb_receiver_metrics.oversize_requests[XB_TRANSPORT_HTTP], 1);
    assert_int_equal(xb_receiver_metrics.requests[XB_TRANSPORT_HTTP], 2);
    assert_int_equal(xb_queue_waiting(f->q1), 0);
    xb_buf_cleanup(&z);
}

static void test_ingest_account_maps_each_outcome(void **state)
{
    struct xb_ingest_outcome o = {.rc = XB_ERR_AGAIN, .spans = 5};
    (void)state;
    xb_ingest_account(XB_TRANSPORT_GRPC, &o);
    assert_int_equal(xb_receiver_metrics.refused_spans[XB_TRANSPORT_GRPC], 5);
    o = (struct xb_ingest_outcome){.rc = XB_OK, .spans = 5, .rejected_spans = 2};
    xb_ingest_account(XB_TRANSPORT_GRPC, &o);
    assert_int_equal(xb_receiver_metrics.accepted_spans[XB_TRANSPORT_GRPC], 3);
    assert_int_equal(xb_receiver_metrics.rejected_spans[XB_TRANSPORT_GRPC], 2);
    o = (struct xb_ingest_outcome){.rc = XB_ERR_UNSUPPORTED};
    xb_ingest_account(XB_TRANSPORT_GRPC, &o);
    assert_int_equal(xb_receiver_metrics.bad_requests[XB_TRANSPORT_GRPC], 1);
    assert_int_equal(xb_receiver_metrics.requests[XB_TRANSPORT_GRPC], 3);
}

static void export_pb(struct fixture *f, const void *body, size_t len, int gzip,
                      struct xb_ingest_outcome *o)
{
    xb_ingest_export(f->ing, XB_TRANSPORT_GRPC, XB_BODY_PROTOBUF, gzip, body, len, 64 * 1024, o);
}

static void test_ingest_refuses_deep_protobuf_plain_and_gzip(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest_outcome o;
    struct xb_reply r;
    struct xb_pbb b;
    struct xb_buf z;

    /* The reported crash: one attribute value 6,000 array_value levels deep. */
    xb_pbb_init(&b);
    xb_pbb_nested_request(&b, 6000, 0, XB_PBB_SPAN_ATTR);
    assert_true(xb_pbb_len(&b) < 64 * 1024);
    export_pb(f, xb_pbb_data(&b), xb_pbb_len(&b), 0, &o);
    assert_int_equal(o.rc, XB_ERR_INVALID);
    assert_string_equal(o.err_desc, XB_OTLP_DEPTH_ERROR);
    xb_reply_from_outcome(&o, &r);
    assert_int_equal(r.http_status, 400);
    assert_int_equal(r.grpc_code, XB_GRPC_INVALID_ARGUMENT);
    assert_non_null(strstr(r.message, "64 levels"));

    xb_buf_init(&z, 0);
    assert_int_equal(xb_gzip(xb_pbb_data(&b), xb_pbb_len(&b), &z), XB_OK);
    export_pb(f, z.data, z.len, 1, &o);
    assert_int_equal(o.rc, XB_ERR_INVALID);
    assert_string_equal(o.err_desc, XB_OTLP_DEPTH_ERROR);
    assert_int_equal(xb_receiver_metrics.bad_requests[XB_TRANSPORT_GRPC], 2);
    assert_int_equal(xb_queue_waiting(f->q1), 0);
    xb_buf_cleanup(&z);
    xb_pbb_free(&b);

    /* 64 levels is still a normal request, gzipped or not. */
    xb_pbb_init(&b);
    xb_pbb_nested_request(&b, XB_OTLP_MAX_ANYVALUE_DEPTH, 2, XB_PBB_SPAN_ATTR);
    export_pb(f, xb_pbb_data(&b), xb_pbb_len(&b), 0, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(o.spans, 1);
    xb_buf_init(&z, 0);
    assert_int_equal(xb_gzip(xb_pbb_data(&b), xb_pbb_len(&b), &z), XB_OK);
    export_pb(f, z.data, z.len, 1, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(xb_receiver_metrics.accepted_spans[XB_TRANSPORT_GRPC], 2);
    xb_buf_cleanup(&z);
    xb_pbb_free(&b);
}

#define BOMB_BODY_LIMIT (4u << 20) /* the default HTTP max_request_body_size */

/* Builds "<prefix>EL,EL,...,EL<suffix>" of about BOMB_BODY_LIMIT bytes and gzips it. */
static void json_bomb(const char *prefix, const char *el, const char *suffix, struct xb_buf *gz)
{
    size_t room = BOMB_BODY_LIMIT - strlen(prefix) - strlen(suffix) - 16;
    size_t n = room / (strlen(el) + 1);
    char *body = malloc(BOMB_BODY_LIMIT), *p = body;

    assert_non_null(body);
    p = stpcpy(p, prefix);
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        p = stpcpy(p, el);
    }
    p = stpcpy(p, suffix);
    xb_buf_init(gz, 0);
    assert_int_equal(xb_gzip(body, (size_t)(p - body), gz), XB_OK);
    free(body);
}

static long max_rss_kib(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

static void test_ingest_refuses_json_bombs_within_budget(void **state)
{
    static const char *const bombs[][3] = {
        {"{\"resourceSpans\":[", "{}", "]}"}, /* ~400 MB of jansson objects unbounded */
        {"{\"zz\":[", "[]", "]}"},            /* unknown key: was parsed, then answered 200 */
    };
    struct fixture *f = *state;
    struct xb_queue *q = f->q1;
    struct xb_ingest *ing = xb_ingest_new(&f->tc, &q, 1, BOMB_BODY_LIMIT);
    struct xb_ingest_outcome o;
    char limit[32];

    assert_non_null(ing);
    snprintf(limit, sizeof limit, "%zu MiB", xb_ingest_arena_cap(ing) >> 20);
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        struct xb_buf gz;
        long rss_before = max_rss_kib();

        json_bomb(bombs[i][0], bombs[i][1], bombs[i][2], &gz);
        assert_true(gz.len < 16 * 1024); /* a few KB on the wire */
        xb_ingest_export(ing, XB_TRANSPORT_HTTP, XB_BODY_JSON, 1, gz.data, gz.len, BOMB_BODY_LIMIT,
                         &o);
        assert_int_equal(o.rc, XB_ERR_TOO_LARGE);
        assert_non_null(strstr(o.err_desc, limit));
        assert_int_equal(xb_receiver_metrics.oversize_requests[XB_TRANSPORT_HTTP], i + 1);
        /* The parse tree stayed inside the request budget... */
        assert_true(xb_ingest_arena_peak(ing) <= xb_ingest_arena_cap(ing));
        /* ...and so did the process: peak RSS grew by at most the budget plus the
         * 4 MiB body and its buffers (the tree alone was 200-400 MB before). Not under
         * AddressSanitizer: a body cJSON cannot finish within the budget is parsed
         * again by jansson after the arena released cJSON's chunks
         * (receiver/json_tree.h), and ASan keeps freed memory in quarantine and adds
         * shadow memory, so RSS there says nothing about the budget (the arena peak
         * above still does). */
#if !defined(__SANITIZE_ADDRESS__)
        assert_true(max_rss_kib() - rss_before <
                    (long)((xb_ingest_arena_cap(ing) + (32u << 20)) >> 10));
#else
        (void)rss_before;
#endif
        xb_buf_cleanup(&gz);
    }
    assert_int_equal(xb_queue_waiting(q), 0);

    /* A normal request through the same path afterwards is unaffected. */
    xb_ingest_export(ing, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, strlen(REQ), BOMB_BODY_LIMIT,
                     &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(o.spans, 2);
    xb_ingest_free(ing);
}

/* ---- ingest worker paths (app/workers.h) ---------------------------------------- */

static int runs;

/* Runs the admission inline, as the main loop would. */
static void run_inline(void *ud, void (*fn)(void *), void *arg)
{
    (void)ud;
    runs++;
    fn(arg);
}

/* Never runs the admission: the main loop has stopped. */
static void run_never(void *ud, void (*fn)(void *), void *arg)
{
    (void)ud;
    (void)fn;
    (void)arg;
    runs++;
}

/* A consumer's ready callback with no remote wake-up: pushes from another thread could
 * not reach it, so workers hand their admissions to the main loop. */
static void ready_noop(void *ud)
{
    (void)ud;
}

static void test_ingest_worker_admits_through_its_runner(void **state)
{
    struct fixture *f = *state;
    uint64_t requests = 0, large = 0, handoffs = 0;
    struct xb_ingest *w;
    struct xb_ingest_outcome o;

    xb_queue_set_ready_cb(f->q1, ready_noop, NULL);
    assert_false(xb_ingest_admission_direct(f->ing));
    w = xb_ingest_new_worker(f->ing, 16 * 1024, run_inline, NULL);
    assert_non_null(w);
    xb_ingest_set_counters(w, &requests, &large, &handoffs);
    runs = 0;
    xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(o.spans, 2);
    assert_int_equal(runs, 1);
    assert_int_equal(handoffs, 1);
    assert_int_equal(requests, 1);
    assert_int_equal(large, 0);
    assert_int_equal(xb_queue_waiting(f->q1), 2);
    assert_int_equal(xb_queue_waiting(f->q2), 2);
    assert_int_equal(xb_receiver_metrics.documents_built, 2);
    /* the main path's memory_limiter gate holds for its workers */
    xb_ingest_set_memory_limited(f->ing, 1);
    xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024, &o);
    assert_int_equal(o.rc, XB_ERR_AGAIN);
    assert_int_equal(o.refusal, XB_REFUSAL_MEMORY_LIMITED);
    xb_ingest_set_memory_limited(f->ing, 0);
    xb_ingest_free(w);
    xb_queue_set_ready_cb(f->q1, NULL, NULL);
}

static void count_wake(void *ud)
{
    (*(int *)ud)++;
}

/* One export request answered on a thread of its own, as an ingest worker does. */
struct export_job {
    struct xb_ingest *w;
    struct xb_ingest_outcome o;
};

static void *export_on_thread(void *arg)
{
    struct export_job *j = arg;
    xb_ingest_export(j->w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024,
                     &j->o);
    return NULL;
}

static void test_ingest_worker_admits_directly(void **state)
{
    struct fixture *f = *state;
    uint64_t requests = 0, large = 0, handoffs = 0;
    int wakes = 0;
    struct xb_ingest *w;
    struct xb_ingest_outcome o;
    struct xb_qdoc_list l = {0};

    /* A consumer that can be woken from another thread: direct admission. */
    xb_queue_set_ready_cb(f->q1, ready_noop, NULL);
    xb_queue_set_remote_wake(f->q1, count_wake, &wakes);
    assert_true(xb_ingest_admission_direct(f->ing));
    w = xb_ingest_new_worker(f->ing, 16 * 1024, run_inline, NULL);
    assert_non_null(w);
    xb_ingest_set_counters(w, &requests, &large, &handoffs);
    runs = 0;
    /* On a thread other than the consumer's: pushed there, the consumer woken once. */
    {
        struct export_job j = {.w = w};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, export_on_thread, &j), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        o = j.o;
    }
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(runs, 0); /* admitted on the worker's thread */
    assert_int_equal(handoffs, 0);
    assert_int_equal(wakes, 1);
    assert_int_equal(xb_queue_waiting(f->q1), 2);
    assert_int_equal(xb_queue_waiting(f->q2), 2);
    assert_int_equal(xb_receiver_metrics.documents_built, 2);

    /* Backlogged (more than XB_PACE_HIGH waiting) with nobody popping: the worker pauses
     * for the stall window, then admits on its own thread all the same; the next request
     * does not pause (nothing was popped since). */
    for (int i = 0; i < XB_PACE_HIGH; i++)
        xb_qdoc_list_add(&l, xb_qdoc_new("{}", 2));
    assert_int_equal(xb_queue_push_list(f->q1, &l), XB_OK);
    for (size_t n = xb_queue_waiting(f->q2); n > 0; n--) /* room in q2 (3 documents) */
        xb_queue_done(f->q2, xb_queue_pop(f->q2));
    {
        uint64_t paced[XB_INGEST_PACE_ENDS] = {0}, paced_us = 0;
        struct xb_pace_limits lim = {XB_PACE_HIGH, XB_PACE_LOW, 60000000000u, 1000000u};

        xb_ingest_set_pace(w, &lim, paced, &paced_us);
        xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024,
                         &o);
        assert_int_equal(o.rc, XB_OK);
        assert_int_equal(runs, 0);
        assert_int_equal(handoffs, 0);
        assert_int_equal(paced[xb_ingest_pace_end(XB_PACE_STALLED)], 1);
        assert_int_equal(paced[xb_ingest_pace_end(XB_PACE_DRAINED)], 0);
        assert_true(paced_us >= 1000);
        assert_int_equal(xb_queue_waiting(f->q1), 2 + XB_PACE_HIGH + 2);
        xb_queue_done(f->q2, xb_queue_pop(f->q2)); /* room for the next one in q2 */
        xb_queue_done(f->q2, xb_queue_pop(f->q2));
        xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024,
                         &o);
        assert_int_equal(o.rc, XB_OK);
        assert_int_equal(paced[xb_ingest_pace_end(XB_PACE_STALLED)], 1); /* not again */
        assert_int_equal(xb_queue_waiting(f->q1), 2 + XB_PACE_HIGH + 4);
        xb_ingest_set_pace(w, NULL, NULL, NULL);
    }

    /* Closed admission (shutdown): refused, retryable, nothing queued. */
    xb_ingest_close_admission(f->ing);
    for (size_t n = xb_queue_waiting(f->q1); n > 0; n--)
        xb_queue_done(f->q1, xb_queue_pop(f->q1));
    for (size_t n = xb_queue_waiting(f->q2); n > 0; n--)
        xb_queue_done(f->q2, xb_queue_pop(f->q2));
    xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024, &o);
    assert_int_equal(o.rc, XB_ERR_FULL);
    assert_int_equal(runs, 0);
    assert_int_equal(xb_queue_waiting(f->q1), 0);
    assert_int_equal(xb_queue_waiting(f->q2), 0);
    assert_int_equal(wakes, 1); /* the later pushes ran on the consumer's thread */
    xb_ingest_free(w);
    xb_queue_set_remote_wake(f->q1, NULL, NULL);
    xb_queue_set_ready_cb(f->q1, NULL, NULL);
}

static void test_ingest_worker_redoes_large_request_in_main_arena(void **state)
{
    struct fixture *f = *state;
    uint64_t requests = 0, large = 0, handoffs = 0;
    /* bodies over 64 bytes are too large for this worker's own arena */
    struct xb_ingest *w = xb_ingest_new_worker(f->ing, 64, run_inline, NULL);
    struct xb_buf gz;
    struct xb_ingest_outcome o;

    assert_non_null(w);
    xb_ingest_set_counters(w, &requests, &large, &handoffs);
    runs = 0;
    xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(o.spans, 2);
    assert_int_equal(large, 1);
    assert_int_equal(runs, 0); /* memory queues without consumers: admitted directly */
    assert_int_equal(handoffs, 0);
    assert_int_equal(xb_queue_waiting(f->q1), 2);
    /* gzip: the decompressed size only shows while inflating */
    xb_buf_init(&gz, 0);
    assert_int_equal(xb_gzip(REQ, sizeof(REQ) - 1, &gz), XB_OK);
    xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 1, gz.data, gz.len, 64 * 1024, &o);
    assert_int_equal(o.rc, XB_ERR_FULL); /* q2 holds 3 documents: 2 are queued */
    assert_int_equal(large, 2);
    assert_int_equal(requests, 2);
    assert_int_equal(xb_queue_waiting(f->q1), 2);
    /* a body over the receiver's own limit is still refused for good */
    xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 100, &o);
    assert_int_equal(o.rc, XB_ERR_TOO_LARGE);
    xb_buf_cleanup(&gz);
    xb_ingest_free(w);
}

static void test_ingest_worker_refuses_when_admission_cannot_run(void **state)
{
    struct fixture *f = *state;
    struct xb_ingest *w;
    struct xb_ingest_outcome o;

    xb_queue_set_ready_cb(f->q1, ready_noop, NULL); /* not woken remotely: a handoff */
    w = xb_ingest_new_worker(f->ing, 16 * 1024, run_never, NULL);
    assert_non_null(w);
    runs = 0;
    xb_ingest_export(w, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024, &o);
    assert_int_equal(runs, 1);
    assert_int_equal(o.rc, XB_ERR_FULL); /* retryable: the client sends it again */
    assert_int_equal(xb_queue_waiting(f->q1), 0);
    assert_int_equal(xb_queue_waiting(f->q2), 0);
    assert_int_equal(xb_receiver_metrics.refused_spans[XB_TRANSPORT_HTTP], 2);
    xb_ingest_free(w);
    xb_queue_set_ready_cb(f->q1, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ingest_accepts_and_copies_to_every_queue, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_queues_document_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_places_documents_in_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_documents_unchanged_all_or_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_full_queue_refuses_whole_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_refuses_before_translating_when_a_queue_is_full,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_stops_building_when_output_exceeds_room, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_counts_bad_and_oversize_requests, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_account_maps_each_outcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_refuses_deep_protobuf_plain_and_gzip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_worker_admits_through_its_runner, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ingest_worker_admits_directly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_worker_redoes_large_request_in_main_arena,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_worker_refuses_when_admission_cannot_run, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_ingest_embedded_documents_only_when_every_queue_takes_them, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ingest_refuses_json_bombs_within_budget, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
