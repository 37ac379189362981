#include "app/budget.h"
#include "receiver/otlp_grpc.h"

#include "app/balance.h"
#include "app/worker_count.h"
#include "core/qdoc_block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/lb_exporter.h"
#include "extension/file_storage.h"
#include "extension/proxy_policy.h"
#include "extension/viewer.h"
#include "receiver/awsxray_udp.h"
#include "receiver/ingest.h"
#include "receiver/otlp_split.h"

#define MIB (1024.0 * 1024.0)

static const char *const item_names[XB_BUDGET_COUNT] = {
    "baseline",    "queues", "export_bodies", "ingest",        "grpc_inflight", "http_inflight",
    "connections", "udp",    "proxy",         "tail_sampling", "viewer",
};

uint64_t xb_budget_grpc_inflight_bytes(const struct xb_config *cfg)
{
    /* Room for four maximum-size messages at once; realistic requests (~100 KB) are
     * far smaller, so this admits over a hundred concurrent uploads. */
    return 4 * (uint64_t)cfg->grpc.max_recv_msg_bytes;
}

/* Largest request body any enabled receiver admits, bytes. */
static uint64_t max_body(const struct xb_config *cfg)
{
    uint64_t m = 0;
    if (cfg->grpc.enabled && cfg->grpc.max_recv_msg_bytes > m)
        m = cfg->grpc.max_recv_msg_bytes;
    if (cfg->http.enabled && cfg->http.max_request_body_bytes > m)
        m = cfg->http.max_request_body_bytes;
    return m;
}

/* Memory of one exporter queue: its max_bytes, or with sending_queue.storage the
 * bounded in-memory part of the durable queue (extension/file_storage.h). */
static uint64_t queue_memory(const struct xb_config *cfg, const struct xb_config_queue *q,
                             size_t in_flight_docs)
{
    if (q->storage && cfg->file_storage.enabled)
        return xb_file_storage_queue_memory(&cfg->file_storage, cfg->translate.max_document_bytes,
                                            in_flight_docs);
    return q->max_bytes;
}

unsigned xb_budget_workers(const struct xb_config *cfg)
{
    if (!cfg->grpc.enabled && !cfg->http.enabled)
        return 1; /* nothing for workers to serve */
    return xb_worker_count_detect(cfg->workers);
}

void xb_budget_compute(const struct xb_config *cfg, struct xb_budget *out)
{
    xb_budget_compute_workers(cfg, xb_budget_workers(cfg), out);
}

void xb_budget_compute_workers(const struct xb_config *cfg, unsigned workers, struct xb_budget *out)
{
    uint64_t body = max_body(cfg);

    memset(out, 0, sizeof(*out));
    out->item[XB_BUDGET_BASELINE] = XB_BUDGET_BASELINE_BYTES;
    if (cfg->awsxray.enabled) {
        /* Each worker holds one PutTraceSegments body: every document escaped once
         * more as a JSON string (at most twice its size). */
        out->item[XB_BUDGET_QUEUES] +=
            queue_memory(cfg, &cfg->awsxray.queue,
                         (size_t)cfg->awsxray.num_workers * cfg->awsxray.queue.batch_max_documents);
        out->item[XB_BUDGET_EXPORT_BODIES] += (uint64_t)cfg->awsxray.num_workers *
                                              cfg->awsxray.queue.batch_max_documents *
                                              cfg->translate.max_document_bytes * 2;
    }
    if (cfg->file.enabled)
        out->item[XB_BUDGET_QUEUES] +=
            queue_memory(cfg, &cfg->file.queue, cfg->file.queue.batch_max_documents);
    if (cfg->lb.enabled) {
        /* Calls in flight: one per gateway, at most XB_LB_MAX_INFLIGHT, each body under
         * 4 MiB held twice while compressing (exporter/lb_exporter.h). */
        uint64_t calls =
            cfg->lb.n_hostnames ? 2 * (uint64_t)cfg->lb.n_hostnames : XB_LB_MAX_INFLIGHT;
        if (calls > XB_LB_MAX_INFLIGHT)
            calls = XB_LB_MAX_INFLIGHT;
        out->item[XB_BUDGET_QUEUES] += cfg->lb.queue.max_bytes;
        out->item[XB_BUDGET_EXPORT_BODIES] += calls * 2 * XB_LB_MAX_CALL_BYTES;
    }
    if (cfg->otlphttp.enabled) {
        /* Each request in flight holds the concatenated records and their gzip (at
         * most the endpoint's request size each). */
        if (cfg->otlphttp.queue.storage && cfg->file_storage.enabled)
            /* Durable: the read-ahead and one record being read back (a record is at
             * most one request), plus what the requests in flight hold: at most
             * max_request_bytes of records each, with a header per record. */
            out->item[XB_BUDGET_QUEUES] +=
                xb_file_storage_queue_memory(&cfg->file_storage, XB_OTLP_XRAY_MAX_REQUEST_BYTES,
                                             0) +
                (uint64_t)cfg->otlphttp.num_consumers *
                    (XB_OTLP_XRAY_MAX_REQUEST_BYTES +
                     (uint64_t)cfg->otlphttp.queue.batch_max_documents * sizeof(struct xb_qdoc));
        else
            out->item[XB_BUDGET_QUEUES] += cfg->otlphttp.queue.max_bytes;
        out->item[XB_BUDGET_EXPORT_BODIES] +=
            (uint64_t)cfg->otlphttp.num_consumers * XB_OTLP_XRAY_MAX_REQUEST_BYTES * 2;
    }
    if (body) {
        /* Arena, the gunzip output (grows by doubling: 2x), one translated document
         * (grows by doubling: 2x; in embedded form up to twice its size: 4x). */
        out->item[XB_BUDGET_INGEST] =
            xb_ingest_arena_bytes(body) + 2 * body + 4 * cfg->translate.max_document_bytes;
        out->item[XB_BUDGET_INGEST] += XB_QDOC_BLOCK_SIZE; /* an open block's unused tail */
        /* With workers, the main path's arena takes one large request at a time and each
         * worker holds its own small one (receiver/ingest.h). */
        if (workers > 1)
            out->item[XB_BUDGET_INGEST] +=
                (uint64_t)workers * xb_ingest_worker_bytes(xb_worker_small_body_bytes(body),
                                                           cfg->translate.max_document_bytes);
    }
    if (cfg->grpc.enabled) {
        /* The receiver charges buffer capacity and checks before a buffer grows, so
         * one buffer's growth (at most one message) can pass the cap; with workers
         * sharing the budget, one per worker. */
        out->item[XB_BUDGET_GRPC_INFLIGHT] =
            xb_budget_grpc_inflight_bytes(cfg) +
            (uint64_t)(workers > 1 ? workers : 1) * cfg->grpc.max_recv_msg_bytes;
        out->item[XB_BUDGET_CONNECTIONS] +=
            ((uint64_t)cfg->grpc.max_connections + (workers > 1 ? workers - 1 : 0)) *
                XB_BUDGET_PER_CONNECTION_BYTES +
            (workers > 1 ? (uint64_t)workers * XB_GRPC_READ_BUFFER_BYTES
                         : XB_GRPC_SHARED_READ_BUFFER_BYTES);
        /* connections handed between workers, not yet taken (app/balance.h) */
        out->item[XB_BUDGET_CONNECTIONS] += (uint64_t)(workers > 1 ? workers : 0) *
                                            XB_WORKERS_HANDOFF_MAX * XB_WORKERS_HANDOFF_BYTES;
    }
    if (cfg->http.enabled) {
        out->item[XB_BUDGET_HTTP_INFLIGHT] = cfg->http.max_inflight_body_bytes;
        out->item[XB_BUDGET_CONNECTIONS] +=
            ((uint64_t)cfg->http.max_connections + (workers > 1 ? workers - 1 : 0)) *
            XB_BUDGET_PER_CONNECTION_BYTES;
    }
    if (cfg->xray_udp.enabled)
        out->item[XB_BUDGET_UDP] =
            xb_xray_udp_buffer_bytes() + 2 * (uint64_t)cfg->xray_udp.socket_buffer_size;
    if (cfg->awsproxy.enabled)
        out->item[XB_BUDGET_PROXY] += xb_proxy_budget_bytes(cfg->awsproxy.max_request_body_bytes,
                                                            cfg->awsproxy.max_concurrent_requests);
    if (cfg->xray_udp_proxy.enabled)
        out->item[XB_BUDGET_PROXY] +=
            xb_proxy_budget_bytes(cfg->xray_udp_proxy.max_request_body_bytes,
                                  cfg->xray_udp_proxy.max_concurrent_requests);
    if (cfg->tail_sampling.enabled) {
        /* Held documents may pass max_bytes by the request being admitted (2x body);
         * the per-request trace table takes at most 120 bytes per span with a 16-byte
         * trace id, and such a span takes at least 20 bytes of protobuf (6x body);
         * 16 bytes per num_traces (trace-table buckets), 28 per decision-cache slot
         * (id, link, bucket). */
        const struct xb_config_tail_sampling *ts = &cfg->tail_sampling;
        out->item[XB_BUDGET_TAIL_SAMPLING] =
            ts->max_bytes + 8 * body + 16 * (uint64_t)ts->num_traces +
            28 * ((uint64_t)ts->sampled_cache_size + ts->non_sampled_cache_size);
    }
    if (cfg->viewer.enabled)
        out->item[XB_BUDGET_VIEWER] =
            xb_viewer_budget_bytes(cfg->viewer.max_traces, cfg->viewer.max_bytes);
    for (int i = 0; i < XB_BUDGET_COUNT; i++)
        out->total += out->item[i];
}

const char *xb_budget_item_name(enum xb_budget_item item)
{
    if ((unsigned)item >= XB_BUDGET_COUNT)
        return "?";
    return item_names[item];
}

char *xb_budget_format(const struct xb_budget *b, char *out, size_t len)
{
    size_t off;
    int n;

    if (len == 0)
        return out;
    n = snprintf(out, len, "total %.1f MiB (", (double)b->total / MIB);
    off = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < XB_BUDGET_COUNT && off < len; i++) {
        n = snprintf(out + off, len - off, "%s%s %.1f MiB", i ? ", " : "", item_names[i],
                     (double)b->item[i] / MIB);
        off += n > 0 ? (size_t)n : 0;
    }
    if (off < len)
        snprintf(out + off, len - off, ")");
    return out;
}

uint64_t xb_budget_cgroup_limit(const char *path)
{
    char line[64];
    uint64_t v = 0;
    char *end = NULL;
    FILE *f = fopen(path, "r");

    if (!f)
        return 0;
    if (fgets(line, sizeof(line), f) && line[0] >= '0' && line[0] <= '9') {
        unsigned long long x = strtoull(line, &end, 10);
        /* cgroup v1 reports "no limit" as a huge page-aligned number. */
        if (end != line && x < (1ull << 62))
            v = x;
    }
    fclose(f);
    return v;
}
