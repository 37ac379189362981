/*
 * app/memory_limiter.h - the memory_limiter processor: while the process RSS is above
 * the soft limit (limit - spike), the ingest path refuses new data with the retryable
 * answer (receiver/status.h reason memory_limited: HTTP 503 + Retry-After, gRPC
 * UNAVAILABLE + RetryInfo) and the UDP receiver drops documents. The RSS is read on a
 * timer every check_interval, never per request.
 *
 * Limits follow the OpenTelemetry Collector's memorylimiterprocessor: limit_mib, or
 * limit_percentage of the available memory (here: the cgroup limit, else MemTotal),
 * spike 20% of the limit when not set. docs/configuration.md "Memory limiter".
 */
#ifndef XB_APP_MEMORY_LIMITER_H
#define XB_APP_MEMORY_LIMITER_H

#include <stdint.h>

#include <event2/event.h>

#include "config/config.h"
#include "receiver/ingest.h"

/* The limits in bytes. */
struct xb_memlimit {
    uint64_t hard; /* limit */
    uint64_t soft; /* limit - spike: above it new data is refused */
};

/*
 * Computes the limits of |c| with |total_bytes| of available memory (used by the
 * percentage forms; 0 = unknown). Returns XB_OK, or XB_ERR_CONFIG when a percentage is
 * configured and |total_bytes| is 0.
 */
int xb_memlimit_compute(const struct xb_config_memory_limiter *c, uint64_t total_bytes,
                        struct xb_memlimit *out);

/* The decision: non-zero when new data must be refused at |rss_bytes|. */
int xb_memlimit_refuse(const struct xb_memlimit *l, uint64_t rss_bytes);

/* The process resident set size from /proc/self/statm, bytes; 0 when unreadable. */
uint64_t xb_memlimit_rss(void);

/* Available memory: the cgroup limit (v2, then v1), else MemTotal; 0 when unknown. */
uint64_t xb_memlimit_total_memory(void);

struct xb_memlimiter;

/*
 * Starts the check timer on |base| for |c|, gating |ing| (borrowed; must outlive the
 * limiter). Checks once immediately. Returns XB_OK with |*out|, XB_ERR_CONFIG (|err|
 * filled: percentage without a known memory size) or XB_ERR_NOMEM.
 */
int xb_memlimiter_start(struct event_base *base, const struct xb_config_memory_limiter *c,
                        struct xb_ingest *ing, struct xb_memlimiter **out, char *err,
                        size_t errlen);

/* Stops the timer and frees. NULL is a no-op. */
void xb_memlimiter_free(struct xb_memlimiter *m);

#endif
