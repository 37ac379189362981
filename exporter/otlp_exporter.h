/*
 * exporter/otlp_exporter.h - the otlphttp exporter: OTLP/HTTP protobuf export of the
 * records queued by the ingest path (receiver/ingest_otlp.h), e.g. to X-Ray's OTLP
 * endpoint https://xray.<region>.amazonaws.com/v1/traces with SigV4 (service "xray").
 *
 * OTLP/HTTP: https://opentelemetry.io/docs/specs/otlp/#otlphttp. Records are merged
 * into one request by concatenating them (protobuf concatenation of the same message
 * appends repeated fields), within batch_max_docs records, max_request_bytes and
 * max_spans; the body is gzip-compressed unless compression is "none". Several
 * requests are in flight on reused connections (libcurl multi on the libevent loop).
 * What each answer means is decided in exporter/otlp_outcome.h; the back-off, the retry
 * book and credentials are the awsxray exporter's (exporter/outcome.h, aws/).
 */
#ifndef XB_EXPORTER_OTLP_EXPORTER_H
#define XB_EXPORTER_OTLP_EXPORTER_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "core/queue.h"

struct xb_otlp_exporter;

/* Settings; strings are borrowed for the duration of xb_otlp_exporter_start(). */
struct xb_otlp_opts {
    const char *url;            /* full traces URL (http or https) */
    int gzip;                   /* compress request bodies */
    uint32_t timeout_ms;        /* per request */
    const char *const *headers; /* "Name: value" strings, n_headers of them */
    size_t n_headers;
    uint32_t num_consumers;     /* requests in flight, >= 1 */
    uint32_t batch_max_records; /* records per request, >= 1 */
    uint32_t batch_timeout_ms;  /* longest wait for a batch to fill */
    size_t max_request_bytes;   /* uncompressed body cap; 0 = none */
    size_t max_spans;           /* spans per request; 0 = none */
    int retry_enabled;
    uint32_t retry_initial_ms;
    uint32_t retry_max_ms;
    uint32_t retry_max_elapsed_ms; /* 0 = keep retrying */
    const char *ca_file;           /* NULL = system store */
    int insecure_skip_verify;
    /* SigV4 (extensions.sigv4auth); sign_service NULL = requests are not signed */
    const char *sign_service;
    const char *sign_region;
    const char *role_arn;
    const char *role_session_name; /* for role_arn; NULL = "xraybridge" */
};

/*
 * Starts the exporter consuming |q| (borrowed). With signing on, credentials come from
 * the AWS default chain (aws/credentials.h), fetched asynchronously. Returns 0 and sets
 * |*out|; XB_ERR_CONFIG (bad URL or header: reason in |err|); XB_ERR_NOMEM.
 */
int xb_otlp_exporter_start(struct event_base *base, struct xb_queue *q,
                           const struct xb_otlp_opts *opts, struct xb_otlp_exporter **out,
                           char *err, size_t err_len);

/* Sends everything queued without waiting for batch timers or back-off delays. */
void xb_otlp_exporter_drain(struct xb_otlp_exporter *x);

/* Aborts requests in flight (their spans count as send_failed) and frees. NULL: no-op. */
void xb_otlp_exporter_free(struct xb_otlp_exporter *x);

#endif
