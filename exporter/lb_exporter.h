/*
 * exporter/lb_exporter.h - the loadbalancing exporter: per-trace OTLP records (queued by
 * the ingest path with lim.by_trace, receiver/ingest_otlp.h) are routed by trace id over
 * a consistent hash ring (exporter/lb_ring.h) to OTLP/gRPC gateways, so that one gateway
 * sees every span of a trace.
 *
 * OTLP/gRPC (https://opentelemetry.io/docs/specs/otlp/#otlpgrpc) unary calls are made with
 * libcurl over HTTP/2 (prior knowledge for plaintext h2c, ALPN with TLS): POST
 * /opentelemetry.proto.collector.trace.v1.TraceService/Export, content-type
 * application/grpc, te: trailers, one 5-byte length-prefixed message (gzip with
 * grpc-encoding when compression is on); grpc-status arrives in the trailers. What an
 * answer means is xb_grpc_call_verdict() (exporter/otlp_outcome.h). A gateway that cannot
 * be reached is taken off the ring for an exponential, capped time and its records go
 * back to the queue, from where they route to the ring's next owner: nothing queued is
 * lost while one gateway is left.
 */
#ifndef XB_EXPORTER_LB_EXPORTER_H
#define XB_EXPORTER_LB_EXPORTER_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "core/queue.h"

/* Calls in flight: one per gateway, at most this many in all. */
#define XB_LB_MAX_INFLIGHT 16
/* Uncompressed bytes of one call: below a gateway's default 4 MiB gRPC message limit. */
#define XB_LB_MAX_CALL_BYTES (4u << 20)

struct xb_lb_exporter;

/* Settings; strings are borrowed for the duration of xb_lb_exporter_start(). */
struct xb_lb_opts {
    const char *const *hostnames; /* static resolver: "host[:port]" (port 4317 if none) */
    size_t n_hostnames;
    const char *dns_hostname; /* dns resolver (when n_hostnames is 0) */
    uint32_t dns_port;
    uint32_t dns_interval_ms;
    uint32_t dns_timeout_ms;
    int insecure; /* plaintext h2c (else TLS) */
    int gzip;
    uint32_t timeout_ms;
    uint32_t batch_max_records;
    uint32_t batch_timeout_ms;
    int retry_enabled;
    uint32_t retry_initial_ms;
    uint32_t retry_max_ms;
    uint32_t retry_max_elapsed_ms;
};

/*
 * Starts the exporter consuming |q| (borrowed). Returns 0 and sets |*out|; XB_ERR_CONFIG
 * (no endpoint, or more than 64; reason in |err|); XB_ERR_NOMEM.
 */
int xb_lb_exporter_start(struct event_base *base, struct xb_queue *q, const struct xb_lb_opts *o,
                         struct xb_lb_exporter **out, char *err, size_t err_len);

/* Sends everything queued without waiting for batch timers or back-off delays. */
void xb_lb_exporter_drain(struct xb_lb_exporter *x);

/* Aborts calls in flight (their spans count as send_failed) and frees. NULL: no-op. */
void xb_lb_exporter_free(struct xb_lb_exporter *x);

#endif
