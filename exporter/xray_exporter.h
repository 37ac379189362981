/*
 * exporter/xray_exporter.h - the awsxray exporter: batches of at most 50 segment
 * documents sent to X-Ray PutTraceSegments (POST /TraceSegments, JSON body
 * {"TraceSegmentDocuments": ["<document>", ...]}), SigV4-signed for service "xray",
 * with several requests in flight on reused connections (libcurl multi driven by the
 * libevent loop; nothing blocks the receivers).
 *
 * API: https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html
 * Delivery without loss: throttling (429), 5xx, 401/403, timeouts and connection
 * errors put the batch back at the head of the queue and pause sending for an
 * exponential, jittered back-off; documents listed in UnprocessedTraceSegments with a
 * retryable error code are retried the same way. A batch answered 400/413 is split so
 * that only the document X-Ray refuses is dropped. Documents are given up only when
 * X-Ray refuses them for good, or after retry_max_elapsed_ms (if set); each is counted
 * by reason in xb_exporter_metrics and logged with its trace id. These decisions are made in
 * exporter/outcome.h (xb_outcome_decide(), xb_xray_error_classify(),
 * xb_backoff_step()); this module parses the answers and carries them out.
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
    const char *region;            /* required */
    const char *endpoint;          /* NULL/"" = https://xray.<region>.amazonaws.com */
    uint32_t num_workers;          /* concurrent requests, >= 1 */
    uint32_t request_timeout_s;    /* per request */
    int retry_enabled;             /* retry retryable failures (else give up at once) */
    uint32_t retry_initial_ms;     /* first back-off delay */
    uint32_t retry_max_ms;         /* longest back-off delay */
    uint32_t retry_max_elapsed_ms; /* give a document up after failing this long; 0 = never */
    const char *role_arn;          /* STS AssumeRole on top of the chain, or NULL */
    const char *profile;           /* shared-config profile, or NULL */
    uint32_t batch_max_docs;       /* 1..50 */
    uint32_t batch_timeout_ms;
    int no_verify_ssl;
    const char *ca_file; /* NULL = system store */
    const char *proxy;   /* NULL = libcurl's env handling (HTTPS_PROXY, NO_PROXY) */
};

/*
 * Starts the exporter consuming |q| (borrowed). Credentials come from the AWS default
 * credential chain (aws/credentials.h), fetched asynchronously on first use and
 * refreshed before expiry. Marks |q| as taking embedded documents
 * (xb_queue_set_takes_embedded()): each goes into the body as it is, a plain one is
 * escaped there. Returns 0 and sets |*out|; XB_ERR_CONFIG (bad endpoint or
 * options: reason in |err|, never containing secrets); XB_ERR_NOMEM.
 */
int xb_xray_exporter_start(struct event_base *base, struct xb_queue *q,
                           const struct xb_xray_opts *opts, struct xb_xray_exporter **out,
                           char *err, size_t err_len);

/* Sends everything queued without waiting for batch timers or back-off delays. */
void xb_xray_exporter_drain(struct xb_xray_exporter *x);

/* Aborts transfers in flight (their documents count as send_failed) and frees. */
void xb_xray_exporter_free(struct xb_xray_exporter *x);

#endif
