/*
 * receiver/ingest_otlp.h - the ingest path's OTLP records: a decoded request, split by
 * the endpoint's limits (receiver/otlp_split.h) and re-encoded with protobuf-c
 * (protobuf_c_message_pack), one queue record per part, for exporters that send OTLP
 * (exporter/otlp_exporter.h).
 *
 * A record is an opaque byte string: one serialised ExportTraceServiceRequest (OTLP
 * trace_service.proto), queued as a struct xb_qdoc with empty identity fields, so the
 * durable queue can store it unchanged. With lim->by_trace, each record holds the spans
 * of one trace and its trace_id field is that trace id as 32 lower-case hex digits (the
 * loadbalancing exporter routes by it). Records of one request go into the queue
 * all-or-nothing together with the X-Ray documents (receiver/ingest.c).
 */
#ifndef XB_RECEIVER_INGEST_OTLP_H
#define XB_RECEIVER_INGEST_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/queue.h"
#include "proto/otlp.h"
#include "receiver/otlp_split.h"

/* Spans dropped at ingest because the OTLP endpoint would refuse them for size
 * (xraybridge_exporter_otlp_oversize_spans_total); event-loop thread only. */
extern uint64_t xb_ingest_otlp_oversize_spans;

/* Registers the metric family above with core/metrics.h. Idempotent. */
void xb_ingest_otlp_metrics_register(void);

/*
 * Appends to |out| one record per part of |req| split within |lim|, packing each part
 * in |arena| and copying it into a queue document (the one copy into the queue).
 * Stops with XB_ERR_FULL as soon as |out| would not fit in |q| (borrowed; only asked
 * for room). Sets |*dropped| to the spans left out for size. Returns 0, XB_ERR_FULL or
 * XB_ERR_NOMEM; on error |out| may hold some records (the caller clears it).
 */
int xb_ingest_otlp_records(const xb_pb_export_req *req, const struct xb_otlp_limits *lim,
                           const struct xb_queue *q, struct xb_arena *arena,
                           struct xb_qdoc_list *out, size_t *dropped);

#endif
