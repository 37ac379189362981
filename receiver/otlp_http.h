/*
 * receiver/otlp_http.h - OTLP/HTTP receiver (POST /v1/traces) on libevent's evhttp
 * (HTTP/1.1, keep-alive).
 *
 * Implements OTLP/HTTP (opentelemetry-proto docs/specification.md): binary protobuf
 * (application/x-protobuf) and OTLP/JSON (application/json) bodies, Content-Encoding
 * gzip, the response in the request's content type: 200 + ExportTraceServiceResponse,
 * 400 + google.rpc.Status for bad data, 413 too large (also after decompression),
 * 503 + Retry-After when the queue is full, 404 unknown path, 405 wrong method,
 * 415 unsupported content type.
 *
 * Connection hygiene: max_connections through the accept guard (receiver/listen.h),
 * deadlines that trickling bytes do not extend (receiver/http_conn.h; expiry closes the
 * connection, 408 first when the body was late, counted in
 * xraybridge_receiver_connections_refused_total{reason="timeout"}), and a budget on the
 * request bodies in flight across connections (gauge
 * xraybridge_receiver_inflight_bytes{transport="http"}).
 */
#ifndef XB_RECEIVER_OTLP_HTTP_H
#define XB_RECEIVER_OTLP_HTTP_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "receiver/http_conn.h"
#include "receiver/ingest.h"
#include "receiver/listen.h"
#include "receiver/tls.h"

struct xb_http_server;

/* Settings of one OTLP/HTTP receiver. */
struct xb_http_server_opts {
    const char *endpoint;             /* "host:port" (borrowed) */
    size_t max_body_bytes;            /* limit on the body as received and after gunzip */
    uint32_t max_connections;         /* connections held at once (0 = no cap); at the cap
                                         the one longest without progress is evicted
                                         (receiver/listen.h) */
    struct xb_http_timeouts timeouts; /* read_header / read / idle / write deadlines, ms
                                         (0 = none); bytes trickling in do not extend them */
    size_t max_inflight_body_bytes;   /* request bodies being received or handled across
                                         all connections (0 = no limit); a request whose
                                         Content-Length (max_body_bytes if chunked) does not
                                         fit is answered 503 + Retry-After and closed */
    struct xb_tls *tls;               /* borrowed, outlives the server; NULL = plain HTTP */
    /* Ingest workers (app/workers.h): several servers on one port. */
    int reuse_port;                             /* bind with SO_REUSEPORT */
    int quiet;                                  /* do not log the listening address */
    struct xb_listen_share *shared_connections; /* max_connections counted across servers (listen.h
                                   xb_listen_guard_share); NULL = the server's own */
    uint64_t *shared_inflight; /* max_inflight_body_bytes budget shared with other servers
                                  (borrowed, updated atomically); NULL = the server's own */
    int read_ahead;            /* plaintext: once a request's head is in and its Content-Length
                                  charged, read the rest of the body with recv() of up to 256 KiB
                                  instead of the bufferevent's 4 KiB steps. Never past that body,
                                  so a round reads at most what it then decodes: worker loops, and
                                  the one loop of service.workers: 1 */
    /* Per-worker gauge (app/workers.c). HTTP connections stay where the kernel's
     * SO_REUSEPORT hash placed them: evhttp serves only sockets it accepted itself. */
    uint64_t *open_connections; /* tracked connections of this server, updated atomically;
                                   NULL = not counted */
};

/*
 * Starts listening. |base| and |ing| are borrowed and must outlive the server.
 * Returns 0 and sets |*out|; XB_ERR_IO (reason in |err|); XB_ERR_NOMEM.
 * Logs "otlp http receiver listening on IP:PORT".
 */
int xb_http_server_start(struct event_base *base, struct xb_ingest *ing,
                         const struct xb_http_server_opts *opts, struct xb_http_server **out,
                         char *err, size_t err_len);

/*
 * Graceful stop, first half: closes the listening socket; requests that still arrive
 * on open keep-alive connections are answered 503 with Connection: close.
 */
void xb_http_server_drain(struct xb_http_server *s);

/* The address the server listens on, "ip:port" (static for the server's life). */
const char *xb_http_server_bound(const struct xb_http_server *s);

/* Closes every connection and frees the server. NULL is a no-op. */
void xb_http_server_free(struct xb_http_server *s);

#endif
