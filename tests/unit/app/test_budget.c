/*
 * tests/unit/app/test_budget.c - app/budget.c: the process-wide memory budget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/budget.h"
#include "app/worker_count.h"
#include "config/config.h"
#include "core/err.h"
#include "extension/file_storage.h"
#include "extension/viewer.h"
#include "receiver/ingest.h"
#include "receiver/otlp_grpc.h"
#include "receiver/otlp_split.h"

#define MIB (1024ull * 1024)

static struct xb_config *load(const char *yaml)
{
    struct xb_config *cfg = NULL;
    char err[512];
    int rc = xb_config_parse(yaml, strlen(yaml), "test", &cfg, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, XB_OK);
    return cfg;
}

static const char *const both_receivers_file =
    "receivers: {otlp: {protocols: {grpc: {endpoint: \"127.0.0.1:0\"},"
    " http: {endpoint: \"127.0.0.1:0\"}}}}\n"
    "exporters: {file: {path: out.jsonl}}\n"
    "service: {pipelines: {traces: {receivers: [otlp], exporters: [file]}}}\n";

/* The total is the sum of the items, and each configured cap appears in it. */
static void test_items_add_up(void **state)
{
    struct xb_config *cfg = load(both_receivers_file);
    struct xb_budget b;
    uint64_t sum = 0;

    (void)state;
    xb_budget_compute_workers(cfg, 1, &b);
    for (int i = 0; i < XB_BUDGET_COUNT; i++)
        sum += b.item[i];
    assert_int_equal(sum, b.total);
    assert_int_equal(b.item[XB_BUDGET_QUEUES], cfg->file.queue.max_bytes);
    assert_int_equal(b.item[XB_BUDGET_EXPORT_BODIES], 0); /* no awsxray exporter */
    assert_int_equal(b.item[XB_BUDGET_GRPC_INFLIGHT],
                     xb_budget_grpc_inflight_bytes(cfg) + cfg->grpc.max_recv_msg_bytes);
    assert_true(b.item[XB_BUDGET_INGEST] >= xb_ingest_arena_bytes(4 * MIB));
    /* one loop: the gRPC server's own read buffer (receiver/otlp_grpc.h) */
    assert_int_equal(b.item[XB_BUDGET_CONNECTIONS],
                     (uint64_t)(cfg->grpc.max_connections + cfg->http.max_connections) *
                             XB_BUDGET_PER_CONNECTION_BYTES +
                         XB_GRPC_SHARED_READ_BUFFER_BYTES);
    xb_config_free(cfg);
}

/* The viewer counts only when listed, and scales with its max_bytes. */
static void test_viewer(void **state)
{
    struct xb_config *off = load(both_receivers_file);
    struct xb_config *on =
        load("receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:0\"}}}}\n"
             "exporters: {file: {path: out.jsonl}}\n"
             "extensions: {viewer: {max_bytes: 64MiB}}\n"
             "service: {extensions: [viewer], pipelines: {traces: {receivers: [otlp], "
             "exporters: [file]}}}\n");
    struct xb_budget a, b;

    (void)state;
    xb_budget_compute(off, &a);
    xb_budget_compute(on, &b);
    assert_int_equal(a.item[XB_BUDGET_VIEWER], 0);
    assert_int_equal(b.item[XB_BUDGET_VIEWER], xb_viewer_budget_bytes(1000, 64 * MIB));
    assert_true(b.item[XB_BUDGET_VIEWER] >= 2 * 64 * MIB); /* store + responses */
    assert_string_equal(xb_budget_item_name(XB_BUDGET_VIEWER), "viewer");
    xb_config_free(off);
    xb_config_free(on);
}

/* Raising a cap raises the budget by at least as much. */
static void test_caps_move_the_total(void **state)
{
    struct xb_config *small = load(both_receivers_file);
    struct xb_config *big =
        load("receivers: {otlp: {protocols: {grpc: {endpoint: \"127.0.0.1:0\", "
             "max_recv_msg_size_mib: 16}, http: {endpoint: \"127.0.0.1:0\"}}}}\n"
             "exporters: {file: {path: out.jsonl, sending_queue: {max_bytes: 512MiB}}}\n"
             "service: {pipelines: {traces: {receivers: [otlp], exporters: [file]}}}\n");
    struct xb_budget a, b;

    (void)state;
    xb_budget_compute(small, &a);
    xb_budget_compute(big, &b);
    assert_true(b.item[XB_BUDGET_QUEUES] - a.item[XB_BUDGET_QUEUES] == 512 * MIB - 128 * MIB);
    assert_true(b.item[XB_BUDGET_GRPC_INFLIGHT] > a.item[XB_BUDGET_GRPC_INFLIGHT]);
    assert_true(b.item[XB_BUDGET_INGEST] > a.item[XB_BUDGET_INGEST]);
    assert_true(b.total > a.total + 384 * MIB);
    xb_config_free(small);
    xb_config_free(big);
}

static void test_awsxray_bodies(void **state)
{
    struct xb_config *cfg =
        load("receivers: {otlp: {protocols: {grpc: {endpoint: \"127.0.0.1:0\"}}}}\n"
             "exporters: {awsxray: {region: us-west-2, num_workers: 2}}\n"
             "service: {pipelines: {traces: {receivers: [otlp], exporters: [awsxray]}}}\n");
    struct xb_budget b;

    (void)state;
    xb_budget_compute(cfg, &b);
    assert_int_equal(b.item[XB_BUDGET_EXPORT_BODIES], 2ull *
                                                          cfg->awsxray.queue.batch_max_documents *
                                                          cfg->translate.max_document_bytes * 2);
    assert_int_equal(b.item[XB_BUDGET_HTTP_INFLIGHT], 0); /* no HTTP receiver */
    xb_config_free(cfg);
}

/* A durable queue is charged its read-ahead and fixed tables, not sending_queue.max_bytes. */
static void test_durable_queue(void **state)
{
    struct xb_config *cfg =
        load("receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:0\"}}}}\n"
             "exporters: {file: {path: out.jsonl, sending_queue: {max_bytes: 1GiB,"
             " storage: file_storage}}}\n"
             "extensions: {file_storage: {directory: /q, read_ahead: 8MiB}}\n"
             "service: {extensions: [file_storage],"
             " pipelines: {traces: {receivers: [otlp], exporters: [file]}}}\n");
    struct xb_budget b;

    (void)state;
    xb_budget_compute(cfg, &b);
    assert_true(b.item[XB_BUDGET_QUEUES] >= 8 * MIB);
    assert_true(b.item[XB_BUDGET_QUEUES] < 16 * MIB); /* not the 1 GiB max_bytes */
    assert_int_equal(b.item[XB_BUDGET_QUEUES],
                     xb_file_storage_queue_memory(&cfg->file_storage,
                                                  cfg->translate.max_document_bytes,
                                                  cfg->file.queue.batch_max_documents));
    xb_config_free(cfg);
}

/* A durable otlphttp queue is charged its read-ahead and the requests in flight, not
 * sending_queue.max_bytes. */
static void test_durable_otlphttp_queue(void **state)
{
    struct xb_config *cfg =
        load("receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:0\"}}}}\n"
             "exporters: {otlphttp: {endpoint: \"http://127.0.0.1:1\", sending_queue:"
             " {max_bytes: 1GiB, num_consumers: 2, storage: file_storage}}}\n"
             "extensions: {file_storage: {directory: /q, read_ahead: 8MiB}}\n"
             "service: {extensions: [file_storage],"
             " pipelines: {traces: {receivers: [otlp], exporters: [otlphttp]}}}\n");
    struct xb_budget b;
    uint64_t want;

    (void)state;
    xb_budget_compute(cfg, &b);
    want = xb_file_storage_queue_memory(&cfg->file_storage, XB_OTLP_XRAY_MAX_REQUEST_BYTES, 0) +
           2 * (XB_OTLP_XRAY_MAX_REQUEST_BYTES +
                (uint64_t)cfg->otlphttp.queue.batch_max_documents * sizeof(struct xb_qdoc));
    assert_int_equal(cfg->otlphttp.num_consumers, 2);
    assert_int_equal(b.item[XB_BUDGET_QUEUES], want);
    assert_true(b.item[XB_BUDGET_QUEUES] < 64 * MIB); /* not the 1 GiB max_bytes */
    xb_config_free(cfg);
}

static void test_format(void **state)
{
    struct xb_budget b = {.item = {[XB_BUDGET_BASELINE] = 32 * MIB, [XB_BUDGET_QUEUES] = MIB / 2},
                          .total = 32 * MIB + MIB / 2};
    char out[512], tiny[12];

    (void)state;
    xb_budget_format(&b, out, sizeof(out));
    assert_non_null(strstr(out, "total 32.5 MiB ("));
    assert_non_null(strstr(out, "baseline 32.0 MiB, queues 0.5 MiB"));
    assert_non_null(strstr(
        out,
        "connections 0.0 MiB, udp 0.0 MiB, proxy 0.0 MiB, tail_sampling 0.0 MiB, viewer 0.0 MiB)"));
    xb_budget_format(&b, tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    assert_string_equal(xb_budget_item_name(XB_BUDGET_GRPC_INFLIGHT), "grpc_inflight");
    assert_string_equal(xb_budget_item_name(XB_BUDGET_COUNT), "?");
}

static uint64_t limit_of(const char *content)
{
    char path[] = "/tmp/xb_budget_cgroupXXXXXX";
    int fd = mkstemp(path);
    uint64_t v;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    v = xb_budget_cgroup_limit(path);
    unlink(path);
    return v;
}

static void test_cgroup_limit(void **state)
{
    (void)state;
    assert_int_equal(limit_of("402653184\n"), 384 * MIB);
    assert_int_equal(limit_of("max\n"), 0);
    assert_int_equal(limit_of("9223372036854771712\n"), 0); /* v1 "unlimited" */
    assert_int_equal(limit_of(""), 0);
    assert_int_equal(xb_budget_cgroup_limit("/nonexistent/memory.max"), 0);
}

/* Each ingest worker adds its own request memory and one message of gRPC in-flight
 * slack; one worker is the single-threaded budget. */
static void test_workers_add_their_request_memory(void **state)
{
    struct xb_config *cfg = load(both_receivers_file);
    struct xb_budget one, four;
    uint64_t per = xb_ingest_worker_bytes(xb_worker_small_body_bytes(4 * MIB),
                                          cfg->translate.max_document_bytes);

    (void)state;
    xb_budget_compute_workers(cfg, 1, &one);
    xb_budget_compute_workers(cfg, 4, &four);
    assert_int_equal(four.item[XB_BUDGET_INGEST], one.item[XB_BUDGET_INGEST] + 4 * per);
    assert_int_equal(four.item[XB_BUDGET_GRPC_INFLIGHT],
                     one.item[XB_BUDGET_GRPC_INFLIGHT] + 3 * cfg->grpc.max_recv_msg_bytes);
    assert_int_equal(four.item[XB_BUDGET_QUEUES], one.item[XB_BUDGET_QUEUES]);
    /* a worker's share is small next to the full-size request the main arena takes */
    assert_true(per < xb_ingest_arena_bytes(4 * MIB) / 4);
    cfg->workers = 4;
    assert_int_equal(xb_budget_workers(cfg), 4);
    xb_budget_compute(cfg, &one);
    assert_int_equal(one.total, four.total);
    cfg->grpc.enabled = cfg->http.enabled = 0; /* nothing for workers to serve */
    assert_int_equal(xb_budget_workers(cfg), 1);
    xb_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_add_up),
        cmocka_unit_test(test_workers_add_their_request_memory),
        cmocka_unit_test(test_caps_move_the_total),
        cmocka_unit_test(test_awsxray_bodies),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_cgroup_limit),
        cmocka_unit_test(test_durable_queue),
        cmocka_unit_test(test_viewer),
        cmocka_unit_test(test_durable_otlphttp_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
