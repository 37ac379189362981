/*
 * app/budget.h - the process-wide memory budget: the most memory a configuration lets
 * clients and the pipeline make xraybridge hold, item by item (pure, no I/O except
 * xb_budget_cgroup_limit).
 *
 * Every byte a client can make the agent hold is capped by one configuration value or
 * by a fixed bound of the code; this module adds those caps up so that an operator (and
 * a test, tests/check_examples.sh) can compare the worst case with the container's memory
 * limit. The figures are upper bounds in bytes, including allocator growth slack where a
 * buffer grows by doubling. docs/security.md explains each item.
 */
#ifndef XB_APP_BUDGET_H
#define XB_APP_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* One line of the budget. */
enum xb_budget_item {
    XB_BUDGET_BASELINE = 0,  /* code, libraries, TLS and HTTP client state at idle */
    XB_BUDGET_QUEUES,        /* every exporter's sending_queue.max_bytes */
    XB_BUDGET_EXPORT_BODIES, /* PutTraceSegments request bodies being sent */
    XB_BUDGET_INGEST,        /* requests being decoded and translated: one full-size
                                request, plus one small one per ingest worker */
    XB_BUDGET_GRPC_INFLIGHT, /* gRPC request bodies being received */
    XB_BUDGET_HTTP_INFLIGHT, /* HTTP request bodies being received */
    XB_BUDGET_CONNECTIONS,   /* per-connection state up to max_connections */
    XB_BUDGET_UDP,           /* receivers.awsxray: receive buffers + socket buffer (2x
                                socket_buffer_size, as Linux doubles the request) */
    XB_BUDGET_PROXY,         /* sampling proxies: requests in flight and the kept answers */
    XB_BUDGET_TAIL_SAMPLING, /* processors.tail_sampling: max_bytes of held traces, one
                                more request past it, trace table and decision caches */
    XB_BUDGET_VIEWER,        /* extensions.viewer: store, responses, scratch */
    XB_BUDGET_COUNT
};

/* The budget of one configuration, bytes. */
struct xb_budget {
    uint64_t item[XB_BUDGET_COUNT];
    uint64_t total;
};

/* Fixed estimates, bytes (measured with bench/ and tests/hostile; docs/security.md). */
#define XB_BUDGET_BASELINE_BYTES (32ull << 20)
#define XB_BUDGET_PER_CONNECTION_BYTES (64ull << 10)

/* Bytes of gRPC request messages buffered across all streams and connections that the
 * receiver admits for |cfg| (the receiver's max_inflight_bytes). */
uint64_t xb_budget_grpc_inflight_bytes(const struct xb_config *cfg);

/* The number of ingest workers |cfg| (borrowed) runs on this machine: service.workers,
 * or when it is 0 the CPU affinity and cgroup CPU quota (app/worker_count.h); 1 when no
 * OTLP receiver is enabled (nothing for workers to serve). */
unsigned xb_budget_workers(const struct xb_config *cfg);

/* Fills |out| with the worst case of |cfg| (borrowed), for the number of ingest workers
 * service.workers gives on this machine (app/worker_count.h: reads the CPU affinity and
 * the cgroup CPU quota when it is 0). */
void xb_budget_compute(const struct xb_config *cfg, struct xb_budget *out);

/* Like xb_budget_compute() for |workers| ingest workers (1 = no worker thread). Each
 * worker beyond one adds its own request memory (receiver/ingest.h). Pure. */
void xb_budget_compute_workers(const struct xb_config *cfg, unsigned workers,
                               struct xb_budget *out);

/* The item's name as printed ("queues", "grpc_inflight", ...); "?" when out of range. */
const char *xb_budget_item_name(enum xb_budget_item item);

/*
 * Writes "total N MiB (baseline N MiB, queues N MiB, ...)" into |out| (|len| bytes,
 * NUL-terminated, truncated when short). Returns |out|.
 */
char *xb_budget_format(const struct xb_budget *b, char *out, size_t len);

/*
 * Reads the container's memory limit from the cgroup file |path| (cgroup v2
 * "memory.max" or v1 "memory.limit_in_bytes"). Returns the limit in bytes, or 0 when
 * the file is absent, says "max", or holds no number.
 */
uint64_t xb_budget_cgroup_limit(const char *path);

#endif
