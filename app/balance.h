/*
 * app/balance.h - which ingest worker takes a new connection (service.workers > 1).
 *
 * The kernel spreads SO_REUSEPORT connections over the workers' listeners by a hash of
 * the addresses, which with a few long-lived connections is often lopsided. A worker
 * that accepts an OTLP/gRPC connection asks xb_balance_pick() which worker should serve
 * it and hands the socket over when that is another one (app/workers.c): a new
 * connection always goes to a worker with the fewest open connections ("exact balance"
 * in Envoy's terms). docs/architecture.md ("Threads") explains the mechanism.
 *
 * OTLP/HTTP connections are spread by the kernel only: evhttp serves only sockets it
 * accepted itself, and asking a busy worker's clients to reconnect (Connection: close)
 * was dropped because rate-limited HTTP/1.1 clients stop sending after such a close
 * (docs/performance.md, "Connection balance (sixth round)").
 */
#ifndef XB_APP_BALANCE_H
#define XB_APP_BALANCE_H

#include <stdint.h>

/* OTLP/gRPC connections handed to one worker that it has not taken yet (app/workers.c);
 * past it the accepting worker keeps new ones. Each costs at most
 * XB_WORKERS_HANDOFF_BYTES of heap (app/budget.c counts it). */
#define XB_WORKERS_HANDOFF_MAX 64
#define XB_WORKERS_HANDOFF_BYTES 32

/*
 * Pure: the worker (0..|n|-1) that takes a connection accepted by worker |self|, from
 * |open|, each worker's open connections (|n| entries; connections already handed to a
 * worker but not yet adopted count as its own). The worker with the fewest; on a tie
 * |self| when it is among them (no hand-over), else the first of them after |self| in
 * cyclic order, so that ties do not all go to worker 0. |n| == 0 or |self| >= |n|
 * returns |self|.
 */
unsigned xb_balance_pick(const uint64_t *open, unsigned n, unsigned self);

#endif
