/*
 * receiver/otlp_grpc.h - OTLP/gRPC receiver: h2c (HTTP/2 with prior knowledge) on the
 * event loop, one server session per connection (receiver/grpc_session.h: the protocol
 * side, without I/O), many concurrent unary Export calls per connection. This file
 * owns the sockets, the per-connection deadline timer and the accept guard
 * (receiver/listen.h).
 *
 * Implements OTLP/gRPC (opentelemetry-proto docs/specification.md) over gRPC's
 * HTTP/2 mapping (grpc/doc/PROTOCOL-HTTP2.md): path
 * /opentelemetry.proto.collector.trace.v1.TraceService/Export (plus the plural alias
 * some SDKs use), grpc-encoding gzip, trailers with grpc-status / grpc-message and,
 * for throttling, grpc-status-details-bin carrying google.rpc.RetryInfo.
 */
#ifndef XB_RECEIVER_OTLP_GRPC_H
#define XB_RECEIVER_OTLP_GRPC_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "receiver/grpc_deadline.h"
#include "receiver/ingest.h"
#include "receiver/listen.h"
#include "receiver/tls.h"

struct xb_grpc_server;

/* Bytes of the read buffer a plaintext gRPC server holds with XB_GRPC_READS_WORKER (one
 * per worker loop); app/budget.c counts it. */
#define XB_GRPC_READ_BUFFER_BYTES (64 * 1024)
/* The same with XB_GRPC_READS_SHARED (the one loop of service.workers: 1). */
#define XB_GRPC_SHARED_READ_BUFFER_BYTES (16 * 1024)

/* How a plaintext gRPC server reads its connections (xb_grpc_server_opts.direct_reads).
 * libevent 2.1's bufferevent reads at most 4096 bytes per call, with an ioctl(FIONREAD)
 * before each, so a 74 kB request costs 18 or more rounds and twice as many system calls;
 * the server can recv() straight into one buffer of its own instead. */
enum xb_grpc_reads {
    XB_GRPC_READS_BUFFEREVENT = 0, /* the bufferevent's 4 KiB steps */
    /* up to 4 recv() of 64 KiB per readiness: a loop that carries nothing else (an
     * ingest worker) */
    XB_GRPC_READS_WORKER = 1,
    /* one recv() of 16 KiB per readiness: a loop the exporters share, whose rounds stay
     * short enough that it sends while it reads (a larger read let the queue grow
     * under full load, docs/performance.md "One loop") */
    XB_GRPC_READS_SHARED = 2,
};

/* Settings of one gRPC receiver. */
struct xb_grpc_server_opts {
    const char *endpoint;             /* "host:port" (borrowed) */
    size_t max_msg_bytes;             /* request message limit after decompression */
    uint32_t max_concurrent_streams;  /* per connection (SETTINGS_MAX_CONCURRENT_STREAMS) */
    uint32_t max_connections;         /* at the cap a new connection evicts the one idle
                                         longest, or is closed when all are busy
                                         (receiver/listen.h) */
    size_t max_inflight_bytes;        /* request bytes buffered across all streams */
    size_t max_header_list_size;      /* SETTINGS_MAX_HEADER_LIST_SIZE, enforced per
                                         request (RESOURCE_EXHAUSTED); 0 = 16 KiB */
    struct xb_grpc_timeouts timeouts; /* connection, upload, idle, age deadlines */
    struct xb_tls *tls;               /* borrowed, outlives the server; NULL = h2c */
    /* Ingest workers (app/workers.h): several servers on one port. */
    int reuse_port;   /* bind with SO_REUSEPORT */
    int quiet;        /* do not log the listening address */
    int direct_reads; /* enum xb_grpc_reads; TLS connections always use the bufferevent */
    struct xb_listen_share *shared_connections; /* max_connections counted across servers (listen.h
                                   xb_listen_guard_share); NULL = the server's own */
    size_t *shared_inflight; /* max_inflight_bytes budget shared with other servers
                                (borrowed, updated atomically); NULL = the server's own */
    /* Connection balance across ingest workers (app/workers.c); NULL = keep every
     * accepted connection. Called on the server's loop for each accepted connection
     * before the accept guard: returns 1 when it handed |fd| to another server (which
     * adopts it with xb_grpc_server_adopt), 0 to keep it. Either way the connection is
     * counted by the callee until |closed| runs once for it on the server that serves
     * it (or refused it). */
    int (*balance)(void *ud, int fd);
    void (*closed)(void *ud); /* required with |balance| */
    void *balance_ud;
};

/*
 * Starts listening. |base| and |ing| are borrowed and must outlive the server.
 * Returns 0 and sets |*out|; XB_ERR_IO (cannot bind: reason in |err|); XB_ERR_NOMEM.
 * The bound address is logged as "otlp grpc receiver listening on IP:PORT".
 */
int xb_grpc_server_start(struct event_base *base, struct xb_ingest *ing,
                         const struct xb_grpc_server_opts *opts, struct xb_grpc_server **out,
                         char *err, size_t err_len);

/*
 * Graceful stop, first half: closes the listening socket and sends GOAWAY on every
 * connection, so no new calls start; calls in progress complete.
 */
void xb_grpc_server_drain(struct xb_grpc_server *s);

/* Number of open connections (0 once draining has finished). */
size_t xb_grpc_server_connections(const struct xb_grpc_server *s);

/* The address the server listens on, "ip:port" (static for the server's life). */
const char *xb_grpc_server_bound(const struct xb_grpc_server *s);

/*
 * Serves |fd|, a connection another server's |balance| callback handed over, exactly as
 * if this server had accepted it (accept guard, TLS, deadlines, metrics); owns |fd| from
 * here on (closed when refused or draining). Call on the server's loop thread.
 */
void xb_grpc_server_adopt(struct xb_grpc_server *s, int fd);

/* Closes every connection and frees the server. NULL is a no-op. */
void xb_grpc_server_free(struct xb_grpc_server *s);

#endif
