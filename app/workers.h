/*
 * app/workers.h - ingest worker threads (service.workers > 1).
 *
 * Each worker thread runs its own libevent loop with its own OTLP/gRPC and OTLP/HTTP
 * servers, bound to the same ports with SO_REUSEPORT (the kernel spreads new connections
 * among them by a hash of their addresses; a gRPC connection is then handed to the
 * worker with the fewest open, app/balance.h, while HTTP connections stay where the
 * kernel put them: asking clients to reconnect was dropped, as rate-limited HTTP/1.1
 * clients stop sending after a Connection: close), and its own ingest path
 * (receiver/ingest.h: decode and translate in its own arena). A worker admits each request into the
 * memory queues itself when it can (receiver/ingest.h, xb_ingest_admission_direct; the queues then
 * wake their exporters on the main loop through this module's eventfd), first pausing while
 * the exporters are behind (core/pace.h); with tail_sampling, the viewer or an on-disk
 * queue the admission runs on the main loop, which keeps the exporters, tail_sampling,
 * the viewer, the X-Ray UDP receiver, the extensions and the telemetry endpoint, and the
 * worker waits for it.
 * docs/architecture.md ("Threads") explains the choice.
 *
 * Shared limits: max_connections counts every worker's connections (at the cap a new
 * connection evicts a stalled one of the worker that serves it; a worker with none
 * admits it, so the total can pass the cap by N-1); the in-flight byte budgets of the
 * gRPC and HTTP receivers are shared (atomics).
 */
#ifndef XB_APP_WORKERS_H
#define XB_APP_WORKERS_H

#include <event2/event.h>
#include <stddef.h>

#include "receiver/ingest.h"
#include "receiver/otlp_grpc.h"
#include "receiver/otlp_http.h"

struct xb_workers;

/* What the workers serve. The server options are copied; pointers in them are borrowed
 * and must outlive the workers (TLS contexts, endpoint strings). */
struct xb_workers_opts {
    unsigned n;                             /* worker threads, 2..XB_WORKERS_MAX */
    struct event_base *main_base;           /* the main loop (borrowed) */
    struct xb_ingest *ing;                  /* the main ingest path, fully set up (borrowed) */
    size_t small_body_bytes;                /* xb_ingest_new_worker() */
    const struct xb_grpc_server_opts *grpc; /* NULL = no gRPC receiver */
    const struct xb_http_server_opts *http; /* NULL = no HTTP receiver */
};

/*
 * Binds every worker's servers (the first binds the configured endpoint, the others the
 * address it got), then starts the threads. Returns XB_OK and sets |*out|, or
 * XB_ERR_IO (reason in |err|) / XB_ERR_NOMEM; on failure nothing is left running.
 */
int xb_workers_start(const struct xb_workers_opts *o, struct xb_workers **out, char *err,
                     size_t err_len);

/* SIGTERM: every worker stops accepting and sends GOAWAY (as xb_grpc_server_drain and
 * xb_http_server_drain); calls in progress complete. Main loop only. */
void xb_workers_drain(struct xb_workers *w);

/* Sets the xraybridge_workers gauge to |n| (also with one worker, where no thread is
 * started) and, with more, registers the per-worker metric families. */
void xb_workers_publish(unsigned n);

/* Non-zero once every worker has drained (no gRPC connection left). Main loop only. */
int xb_workers_drained(const struct xb_workers *w);

/* Stops every worker loop, joins the threads and frees their servers and ingest paths
 * (requests waiting for admission are refused as "queue full"). NULL is a no-op. Call
 * before freeing the main ingest path, tail_sampling or the queues. */
void xb_workers_free(struct xb_workers *w);

#endif
