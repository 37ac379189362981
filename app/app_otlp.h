/*
 * app/app_otlp.h - wiring of the otlphttp exporter (exporter/otlp_exporter.h) from
 * exporters.otlphttp and extensions.sigv4auth: its queue, the endpoint URL, the
 * signing region, and X-Ray's OTLP endpoint limits for the ingest split.
 */
#ifndef XB_APP_APP_OTLP_H
#define XB_APP_APP_OTLP_H

#include <event2/event.h>
#include <stddef.h>

#include "config/config.h"
#include "core/queue.h"
#include "exporter/otlp_exporter.h"
#include "receiver/otlp_split.h"

/*
 * Creates the otlphttp queue (|*q|, caller frees with xb_queue_free()), puts it on the
 * on-disk log of |fs| (extension/file_storage.h; borrowed, NULL when the extension is
 * off) when sending_queue.storage is set, and starts the exporter on it (|*x|, caller
 * frees with xb_otlp_exporter_free()), and fills |lim| with the limits requests are
 * split by. Returns 0; XB_ERR_CONFIG with the reason in |err| (no region for signing,
 * bad URL or header, storage without the extension); XB_ERR_IO (the log cannot be
 * opened: message in |err|); XB_ERR_NOMEM.
 */
struct xb_file_storage;
int xb_app_otlp_start(struct event_base *base, const struct xb_config *cfg,
                      struct xb_file_storage *fs, struct xb_queue **q, struct xb_otlp_exporter **x,
                      struct xb_otlp_limits *lim, char *err, size_t err_len);

/*
 * Creates the loadbalancing queue (|*q|) and starts the exporter on it (|*x|) from
 * exporters.loadbalancing, and fills |lim| (per-trace records). Same ownership and
 * returns as xb_app_otlp_start().
 */
struct xb_lb_exporter;
int xb_app_lb_start(struct event_base *base, const struct xb_config *cfg, struct xb_queue **q,
                    struct xb_lb_exporter **x, struct xb_otlp_limits *lim, char *err,
                    size_t err_len);

#endif
