#include "receiver/ingest_otlp.h"

#include <stdio.h>

#include "core/err.h"
#include "core/metrics.h"

uint64_t xb_ingest_otlp_oversize_spans;

static struct xb_metric_family oversize = {
    .name = "xraybridge_exporter_otlp_oversize_spans_total",
    .help = "Spans not queued for the otlphttp exporter: larger than the endpoint accepts.",
    .type = XB_METRIC_COUNTER,
    .const_labels = "exporter=\"otlphttp\"",
    .values = &xb_ingest_otlp_oversize_spans,
};

void xb_ingest_otlp_metrics_register(void)
{
    (void)xb_metrics_register(&oversize); /* a valid static family */
}

int xb_ingest_otlp_records(const xb_pb_export_req *req, const struct xb_otlp_limits *lim,
                           const struct xb_queue *q, struct xb_arena *arena,
                           struct xb_qdoc_list *out, size_t *dropped)
{
    struct xb_otlp_split_result parts;
    int rc;

    *dropped = 0;
    rc = lim->by_trace ? xb_otlp_split_by_trace(req, arena, &parts)
                       : xb_otlp_split(req, lim, arena, &parts);
    if (rc != XB_OK)
        return rc;
    *dropped = parts.dropped_spans;
    for (size_t p = 0; p < parts.n_parts; p++) {
        size_t len = protobuf_c_message_get_packed_size(&parts.parts[p]->base);
        uint8_t *bytes = xb_arena_alloc(arena, len);
        struct xb_qdoc *d;

        if (!bytes)
            return XB_ERR_NOMEM;
        protobuf_c_message_pack(&parts.parts[p]->base, bytes);
        if (parts.part_trace) {
            char hex[33];
            for (int i = 0; i < 16; i++)
                snprintf(hex + 2 * i, 3, "%02x", parts.part_trace[p][i]);
            d = xb_qdoc_new_ids((const char *)bytes, len, hex, NULL);
        } else {
            d = xb_qdoc_new((const char *)bytes, len);
        }
        if (!d)
            return XB_ERR_NOMEM;
        if (!xb_queue_has_room(q, out->n + 1, out->bytes + xb_qdoc_charge(d))) {
            xb_qdoc_free(d);
            return XB_ERR_FULL;
        }
        xb_qdoc_list_add(out, d);
    }
    return XB_OK;
}
