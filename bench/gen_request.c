/*
 * bench/gen_request.c - writes the synthetic benchmark request to disk.
 *
 *   gen_request [-n SPANS] [-s SEED] [-t START_UNIX_NS] [-o PREFIX]
 *
 * Produces PREFIX.pb (binary protobuf ExportTraceServiceRequest, the body of an
 * OTLP/HTTP POST /v1/traces with Content-Type application/x-protobuf) and
 * PREFIX.grpc (the same message as one gRPC length-prefixed message, the DATA
 * payload of an OTLP/gRPC Export call) and PREFIX.json (the same request as OTLP/JSON,
 * the body of an OTLP/HTTP POST with Content-Type application/json). Defaults: 100 spans, seed 1,
 * start now, prefix "request". Exit status 0 on success, 1 on error, 2 on bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/request_builder.h"
#include "bench/request_json.h"
#include "core/err.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gen_request [-n SPANS] [-s SEED] [-t START_UNIX_NS] [-o PREFIX]\n"
               "  writes PREFIX.pb (raw protobuf), PREFIX.grpc (gRPC length-prefixed) and\n"
               "  PREFIX.json (OTLP/JSON)\n");
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = XB_OK;

    if (!f) {
        fprintf(stderr, "gen_request: %s: %s\n", path, strerror(errno));
        return XB_ERR_IO;
    }
    if (fwrite(data, 1, len, f) != len)
        rc = XB_ERR_IO;
    if (fclose(f) != 0)
        rc = XB_ERR_IO;
    if (rc)
        fprintf(stderr, "gen_request: %s: write failed\n", path);
    return rc;
}

int main(int argc, char **argv)
{
    struct xb_bench_request_opts opts;
    const char *prefix = "request";
    uint8_t *pb = NULL, *grpc = NULL;
    char *json = NULL;
    size_t pb_len = 0, grpc_len = 0, json_len = 0;
    char *path = NULL;
    uint64_t v;
    int c, rc, status = 1;

    xb_bench_request_opts_defaults(&opts);
    while ((c = getopt(argc, argv, "n:s:t:o:h")) != -1) {
        switch (c) {
        case 'n':
            if (xb_bench_parse_u64(optarg, &v) || v == 0 || v > XB_BENCH_MAX_SPANS) {
                fprintf(stderr, "gen_request: -n must be 1..%u\n", XB_BENCH_MAX_SPANS);
                status = 2;
                goto out;
            }
            opts.spans = (size_t)v;
            break;
        case 's':
            if (xb_bench_parse_u64(optarg, &opts.seed)) {
                usage(stderr);
                status = 2;
                goto out;
            }
            break;
        case 't':
            if (xb_bench_parse_u64(optarg, &opts.start_unix_ns)) {
                usage(stderr);
                status = 2;
                goto out;
            }
            break;
        case 'o':
            prefix = optarg;
            break;
        case 'h':
            usage(stdout);
            status = 0;
            goto out;
        default:
            usage(stderr);
            status = 2;
            goto out;
        }
    }
    if (optind != argc) {
        usage(stderr);
        status = 2;
        goto out;
    }

    rc = xb_bench_build_request(&opts, &pb, &pb_len);
    if (rc == XB_OK)
        rc = xb_bench_grpc_frame(pb, pb_len, &grpc, &grpc_len);
    if (rc == XB_OK)
        rc = xb_bench_request_to_json(pb, pb_len, &json, &json_len);
    if (rc != XB_OK) {
        fprintf(stderr, "gen_request: %s\n", xb_strerror(rc));
        goto out;
    }
    path = malloc(strlen(prefix) + sizeof(".grpc"));
    if (!path) {
        fprintf(stderr, "gen_request: out of memory\n");
        goto out;
    }
    sprintf(path, "%s.pb", prefix);
    if (write_file(path, pb, pb_len) != XB_OK)
        goto out;
    sprintf(path, "%s.grpc", prefix);
    if (write_file(path, grpc, grpc_len) != XB_OK)
        goto out;
    sprintf(path, "%s.json", prefix);
    if (write_file(path, (const uint8_t *)json, json_len) != XB_OK)
        goto out;
    printf("spans=%zu protobuf=%s.pb (%zu bytes) grpc=%s.grpc (%zu bytes) json=%s.json (%zu "
           "bytes) bytes/span=%.1f\n",
           opts.spans, prefix, pb_len, prefix, grpc_len, prefix, json_len,
           (double)pb_len / (double)opts.spans);
    status = 0;
out:
    free(path);
    free(pb);
    free(grpc);
    free(json);
    return status;
}
