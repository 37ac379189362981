/* Unit tests for the OTLP records of receiver/ingest.c (receiver/ingest_otlp.c): the
 * record is the request re-encoded, split by the limits, queued all-or-nothing with the
 * X-Ray documents, and an OTLP-only ingest does not translate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/metrics.h"
#include "core/queue.h"
#include "receiver/ingest.h"
#include "receiver/ingest_otlp.h"
#include "receiver/receiver_metrics.h"

/* Two spans of one trace with a link and an event: what X-Ray's segments lose. */
static const char REQ[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
    "\"value\":{\"stringValue\":\"checkout\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\"},"
    "\"spans\":["
    "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
    "\"name\":\"GET /cart\",\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\","
    "\"endTimeUnixNano\":\"1700000000250000000\",\"events\":[{\"name\":\"ev\","
    "\"timeUnixNano\":\"1700000000100000000\"}],\"links\":[{\"traceId\":"
    "\"11223344556677889900aabbccddeeff\",\"spanId\":\"0a0b0c0d0e0f0102\"}]},"
    "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"aae19b7ec3c1b175\","
    "\"parentSpanId\":\"eee19b7ec3c1b174\",\"name\":\"GET\",\"kind\":3,"
    "\"startTimeUnixNano\":\"1700000000010000000\",\"endTimeUnixNano\":\"1700000000200000000\"}"
    "]}]}]}";

static const struct xb_otlp_limits XRAY_LIMITS = {
    XB_OTLP_XRAY_MAX_REQUEST_BYTES, XB_OTLP_XRAY_MAX_SPANS, XB_OTLP_XRAY_MAX_SPAN_BYTES, 0};

static void export_json(struct xb_ingest *ing, struct xb_ingest_outcome *o)
{
    xb_ingest_export(ing, XB_TRANSPORT_HTTP, XB_BODY_JSON, 0, REQ, sizeof(REQ) - 1, 64 * 1024, o);
}

static xb_pb_export_req *unpack(const struct xb_qdoc *d)
{
    return opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, d->len, (const uint8_t *)d->json);
}

static void test_otlp_only_record_keeps_everything(void **state)
{
    struct xb_translator_config tc;
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_ingest *ing;
    struct xb_ingest_outcome o;
    struct xb_qdoc *d;
    xb_pb_export_req *back;
    xb_pb_span *s0;

    (void)state;
    xb_metrics_reset();
    xb_translator_config_defaults(&tc);
    ing = xb_ingest_new(&tc, NULL, 0, 64 * 1024);
    assert_non_null(ing);
    xb_ingest_set_otlp_queue(ing, q, &XRAY_LIMITS);
    export_json(ing, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(o.spans, 2);
    assert_int_equal(xb_queue_waiting(q), 1);
    d = xb_queue_pop(q);
    assert_string_equal(d->trace_id, ""); /* opaque record: no X-Ray identity */
    back = unpack(d);
    assert_non_null(back);
    assert_int_equal(back->n_resource_spans, 1);
    assert_string_equal(back->resource_spans[0]->resource->attributes[0]->key, "service.name");
    assert_string_equal(back->resource_spans[0]->scope_spans[0]->scope->name, "lib");
    assert_int_equal(back->resource_spans[0]->scope_spans[0]->n_spans, 2);
    s0 = back->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(s0->name, "GET /cart");
    assert_int_equal(s0->n_events, 1);
    assert_int_equal(s0->n_links, 1);
    assert_int_equal(s0->links[0]->span_id.data[0], 0x0a);
    assert_int_equal(s0->start_time_unix_nano, 1700000000000000000ull);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(back,
                                                                                            NULL);
    /* no translation: nothing was built as a segment document */
    assert_int_equal(xb_receiver_metrics.documents_built, 0);
    xb_queue_done(q, d);
    xb_ingest_free(ing);
    xb_queue_free(q);
}

static void test_both_exporters_all_or_nothing(void **state)
{
    struct xb_translator_config tc;
    struct xb_queue *xq = xb_queue_new(0, 0);
    struct xb_queue *oq = xb_queue_new(0, 1); /* room for one record */
    struct xb_ingest *ing;
    struct xb_ingest_outcome o;

    (void)state;
    xb_metrics_reset();
    xb_translator_config_defaults(&tc);
    ing = xb_ingest_new(&tc, &xq, 1, 64 * 1024);
    xb_ingest_set_otlp_queue(ing, oq, &XRAY_LIMITS);
    export_json(ing, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(xb_queue_waiting(xq), 2);
    assert_int_equal(xb_queue_waiting(oq), 1);
    /* The OTLP queue is full: the request is refused, and the X-Ray queue gets nothing. */
    export_json(ing, &o);
    assert_int_equal(o.rc, XB_ERR_FULL);
    assert_int_equal(xb_queue_waiting(xq), 2);
    assert_int_equal(xb_queue_waiting(oq), 1);
    /* The X-Ray queue full: nothing goes to the OTLP queue either. */
    {
        struct xb_qdoc *d = xb_queue_pop(oq);
        struct xb_queue *small = xb_queue_new(0, 2);
        struct xb_ingest *ing2;
        xb_queue_done(oq, d);
        ing2 = xb_ingest_new(&tc, &small, 1, 64 * 1024);
        xb_ingest_set_otlp_queue(ing2, oq, &XRAY_LIMITS);
        export_json(ing2, &o);
        assert_int_equal(o.rc, XB_OK);
        while ((d = xb_queue_pop(oq)))
            xb_queue_done(oq, d);
        export_json(ing2, &o);
        assert_int_equal(o.rc, XB_ERR_FULL);
        assert_int_equal(xb_queue_waiting(oq), 0);
        xb_ingest_free(ing2);
        xb_queue_free(small);
    }
    xb_ingest_free(ing);
    xb_queue_free(xq);
    xb_queue_free(oq);
}

static void test_split_into_several_records(void **state)
{
    struct xb_translator_config tc;
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_otlp_limits one = {0, 1, 0, 0}; /* one span per request */
    struct xb_ingest *ing;
    struct xb_ingest_outcome o;

    (void)state;
    xb_metrics_reset();
    xb_translator_config_defaults(&tc);
    ing = xb_ingest_new(&tc, NULL, 0, 64 * 1024);
    xb_ingest_set_otlp_queue(ing, q, &one);
    export_json(ing, &o);
    assert_int_equal(o.rc, XB_OK);
    assert_int_equal(xb_queue_waiting(q), 2);
    for (int i = 0; i < 2; i++) {
        struct xb_qdoc *d = xb_queue_pop(q);
        xb_pb_export_req *back = unpack(d);
        assert_int_equal(back->resource_spans[0]->scope_spans[0]->n_spans, 1);
        assert_string_equal(back->resource_spans[0]->scope_spans[0]->spans[0]->name,
                            i == 0 ? "GET /cart" : "GET");
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
            back, NULL);
        xb_queue_done(q, d);
    }
    xb_ingest_free(ing);
    xb_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otlp_only_record_keeps_everything),
        cmocka_unit_test(test_both_exporters_all_or_nothing),
        cmocka_unit_test(test_split_into_several_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
