/*
 * app/app.h - wiring and lifecycle: the only code that knows every module.
 *
 * Start order: event loop -> queues -> exporters -> ingest -> receivers, so that a
 * misconfigured exporter fails before anything listens. SIGTERM/SIGINT: receivers
 * stop accepting (gRPC GOAWAY, HTTP listener closed), exporters flush everything
 * queued, and the process exits 0 once all accepted documents are delivered or the
 * shutdown deadline passes (what was left is logged). A second signal exits at once.
 */
#ifndef XB_APP_APP_H
#define XB_APP_APP_H

#include "config/config.h"

/* Runs the collector with |cfg| (borrowed) until stopped. Returns the exit code:
 * 0 after a clean stop, 1 when start-up failed (reason logged). */
int xb_app_run(const struct xb_config *cfg);

#endif
