/*
 * exporter/xray_exporter.h - the awsxray exporter: batches of at most 50 segment
 * documents sent to X-Ray PutTraceSegments (POST /TraceSegments, JSON body
 * {"TraceSegmentDocuments": ["<document>", ...]}), SigV4-signed for service "xray",
 * with several requests in flight on reused connections (libcurl multi driven by the
 * libevent loop; nothing blocks the receivers).
 *
 * API: https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html
 * Failure handling in this version: 429, 5xx and transport errors are retried with
 * exponential back-off up to max_retries more times; other 4xx answers and
 * UnprocessedTraceSegments are counted and logged with the trace id.
 */
#ifndef XB_EXPORTER_XRAY_EXPORTER_H
#define XB_EXPORTER_XRAY_EXPORTER_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "core/queue.h"

struct xb_xray_exporter;

/* Settings; strings are borrowed for the duration of xb_xray_exporter_start(). */
struct xb_xray_opts {
    const char *region;          /* required */
    const char *endpoint;        /* NULL/"" = https://xray.<region>.amazonaws.com */
    uint32_t num_workers;        /* concurrent requests, >= 1 */
    uint32_t request_timeout_s;  /* per request */
    uint32_t max_retries;        /* extra attempts for retryable failures */
    uint32_t batch_max_docs;     /* 1..50 */
    uint32_t batch_timeout_ms;
    int no_verify_ssl;
    const char *ca_file;         /* NULL = system store */
    const char *proxy;           /* NULL = libcurl's env handling (HTTPS_PROXY, NO_PROXY) */
};

/*
 * Starts the exporter consuming |q| (borrowed). Credentials are read from the
 * environment now. Returns 0 and sets |*out|; XB_ERR_CONFIG (no credentials, bad
 * endpoint: reason in |err|, never containing secrets); XB_ERR_NOMEM.
 */
int xb_xray_exporter_start(struct event_base *base, struct xb_queue *q,
                           const struct xb_xray_opts *opts, struct xb_xray_exporter **out,
                           char *err, size_t err_len);

/* Sends everything queued without waiting for batch timers or back-off delays. */
void xb_xray_exporter_drain(struct xb_xray_exporter *x);

/* Requests in flight. */
size_t xb_xray_exporter_inflight(const struct xb_xray_exporter *x);

/* Aborts transfers in flight (their documents count as send_failed) and frees. */
void xb_xray_exporter_free(struct xb_xray_exporter *x);

#endif
