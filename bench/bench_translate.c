/*
 * bench/bench_translate.c - in-process CPU cost of decode and translate.
 *
 *   bench_translate [-f FILE] [-n SPANS] [-s SEED] [-d SECONDS] [-i MIN_ITERATIONS] [-e]
 *
 * -e: documents in embedded form (translator embedded_documents, as ingest asks for
 * them when only the awsxray exporter consumes them: receiver/ingest_embed.h).
 * Input: FILE (raw protobuf as written by gen_request, or its .grpc form: a leading
 * gRPC 5-byte prefix is detected and stripped), or else a request of SPANS spans
 * (default 100) built in process with bench/request_builder.
 *
 * Two phases, each given at least SECONDS of CPU time (default 2) and MIN_ITERATIONS
 * passes (default 10) after one untimed warm-up pass; their passes alternate so that
 * frequency scaling and machine load hit both alike:
 *   decode:            xb_otlp_decode_protobuf() into a per-request arena;
 *   decode+translate:  the same plus xb_translate_request() with a counting emit
 *                      callback (documents are measured, not kept).
 * Time is CLOCK_PROCESS_CPUTIME_ID and the program is single-threaded, so
 * "spans/s per core" = spans processed / CPU seconds. The translate-only cost is the
 * difference of the two phases. The last line is machine-readable (RESULT ...).
 * Exit status 0 on success, 1 on error, 2 on bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/cpu_time.h"
#include "bench/request_builder.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "receiver/otlp_decode.h"
#include "translator/translate.h"

#define ARENA_BLOCK_BYTES (1024 * 1024)
#define ARENA_MAX_BYTES (256u * 1024 * 1024)

struct emit_stats {
    size_t documents;
    size_t bytes;
};

struct phase_result {
    uint64_t iterations;
    uint64_t spans;
    uint64_t cpu_ns;
    uint64_t documents;
    uint64_t doc_bytes;
    uint64_t rejected;
};

static int count_document(void *ud, const char *json, size_t len, const char *trace_id,
                          const char *id)
{
    struct emit_stats *st = ud;

    (void)json;
    (void)trace_id;
    (void)id;
    st->documents++;
    st->bytes += len;
    return XB_OK;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_translate [-f FILE] [-n SPANS] [-s SEED] [-d SECONDS] "
               "[-i MIN_ITERATIONS] [-e]\n");
}

/* Reads |path| into a malloc()ed buffer. Returns 0, XB_ERR_IO or XB_ERR_NOMEM. */
static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long len;
    int rc = XB_OK;

    *out = NULL;
    *out_len = 0;
    if (!f) {
        fprintf(stderr, "bench_translate: %s: %s\n", path, strerror(errno));
        return XB_ERR_IO;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = XB_ERR_IO;
        goto out;
    }
    data = malloc((size_t)len + 1);
    if (!data) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    if (fread(data, 1, (size_t)len, f) != (size_t)len) {
        rc = XB_ERR_IO;
        goto out;
    }
    *out = data;
    *out_len = (size_t)len;
    data = NULL;
out:
    free(data);
    fclose(f);
    return rc;
}

/*
 * One pass: reset the arena, decode, optionally translate. Adds to |res|.
 * Returns 0 or the first decode/translate error.
 */
static int one_pass(const uint8_t *body, size_t len, struct xb_arena *arena,
                    const struct xb_translator_config *cfg, struct xb_buf *doc, int translate,
                    struct phase_result *res)
{
    struct xb_translate_result tr;
    struct emit_stats st = {0, 0};
    xb_pb_export_req *req = NULL;
    const char *err_desc = NULL;
    int rc;

    xb_arena_reset(arena);
    rc = xb_otlp_decode_protobuf(body, len, arena, &req, &err_desc);
    if (rc != XB_OK) {
        fprintf(stderr, "bench_translate: decode: %s (%s)\n", xb_strerror(rc),
                err_desc ? err_desc : "?");
        goto out;
    }
    res->spans += xb_otlp_count_spans(req);
    if (translate) {
        rc = xb_translate_request(cfg, req, (int64_t)time(NULL), arena, doc, count_document, &st,
                                  &tr);
        if (rc != XB_OK) {
            fprintf(stderr, "bench_translate: translate: %s\n", xb_strerror(rc));
            goto out;
        }
        res->documents += st.documents;
        res->doc_bytes += st.bytes;
        res->rejected += tr.rejected_spans;
    }
out:
    return rc;
}

/*
 * Runs decode-only and decode+translate passes alternately, timing each pass on its
 * own, so that CPU frequency changes and load from other processes affect both
 * phases alike. Stops once each phase has |min_ns| of CPU time and |min_iters| passes.
 */
static int run_phases(const uint8_t *body, size_t len, struct xb_arena *arena,
                      const struct xb_translator_config *cfg, struct xb_buf *doc, uint64_t min_ns,
                      uint64_t min_iters, struct phase_result *dec, struct phase_result *full)
{
    struct phase_result warm;
    uint64_t t0, t1;
    int rc;

    memset(dec, 0, sizeof(*dec));
    memset(full, 0, sizeof(*full));
    memset(&warm, 0, sizeof(warm));
    rc = one_pass(body, len, arena, cfg, doc, 1, &warm);
    while (rc == XB_OK && (dec->cpu_ns < min_ns || full->cpu_ns < min_ns ||
                           dec->iterations < min_iters || full->iterations < min_iters)) {
        t0 = xb_bench_cpu_ns();
        rc = one_pass(body, len, arena, cfg, doc, 0, dec);
        t1 = xb_bench_cpu_ns();
        dec->cpu_ns += t1 - t0;
        dec->iterations++;
        if (rc != XB_OK)
            break;
        rc = one_pass(body, len, arena, cfg, doc, 1, full);
        t0 = xb_bench_cpu_ns();
        full->cpu_ns += t0 - t1;
        full->iterations++;
    }
    return rc;
}

static void report(const char *phase, const struct phase_result *r, size_t body_len)
{
    double sec = (double)r->cpu_ns / 1e9;
    double ns_per_span = r->spans ? (double)r->cpu_ns / (double)r->spans : 0.0;

    printf("%-17s iterations=%" PRIu64 " spans=%" PRIu64 " cpu=%.3fs  %.0f spans/s/core  "
           "%.1f ns/span  %.1f MB/s\n",
           phase, r->iterations, r->spans, sec, sec > 0 ? (double)r->spans / sec : 0.0, ns_per_span,
           sec > 0 ? (double)body_len * (double)r->iterations / sec / 1e6 : 0.0);
}

int main(int argc, char **argv)
{
    struct xb_bench_request_opts opts;
    struct xb_translator_config cfg;
    struct phase_result dec, full;
    struct xb_arena *arena = NULL;
    struct xb_buf doc;
    const char *file = NULL;
    uint8_t *data = NULL;
    const uint8_t *body;
    size_t data_len = 0, body_len, spans;
    uint64_t v, min_ns = 2000000000ull, min_iters = 10;
    xb_pb_export_req *req = NULL;
    const char *err_desc = NULL;
    double dec_ns, full_ns;
    int c, rc, status = 1;

    xb_buf_init(&doc, 0);
    xb_bench_request_opts_defaults(&opts);
    xb_translator_config_defaults(&cfg);
    while ((c = getopt(argc, argv, "f:n:s:d:i:eh")) != -1) {
        switch (c) {
        case 'f':
            file = optarg;
            break;
        case 'n':
            if (xb_bench_parse_u64(optarg, &v) || v == 0 || v > XB_BENCH_MAX_SPANS)
                goto bad_usage;
            opts.spans = (size_t)v;
            break;
        case 's':
            if (xb_bench_parse_u64(optarg, &opts.seed))
                goto bad_usage;
            break;
        case 'd':
            if (xb_bench_parse_u64(optarg, &v) || v > 3600)
                goto bad_usage;
            min_ns = v * 1000000000ull;
            break;
        case 'i':
            if (xb_bench_parse_u64(optarg, &min_iters) || min_iters == 0)
                goto bad_usage;
            break;
        case 'e':
            cfg.embedded_documents = 1;
            break;
        case 'h':
            usage(stdout);
            status = 0;
            goto out;
        default:
            goto bad_usage;
        }
    }
    if (optind != argc)
        goto bad_usage;

    rc = file ? read_file(file, &data, &data_len) : xb_bench_build_request(&opts, &data, &data_len);
    if (rc != XB_OK) {
        fprintf(stderr, "bench_translate: input: %s\n", xb_strerror(rc));
        goto out;
    }
    body = data;
    body_len = data_len;
    /* A gRPC length-prefixed message: flag 0, big-endian length = rest of the file. */
    if (data_len >= 5 && data[0] == 0 &&
        ((uint64_t)data[1] << 24 | (uint64_t)data[2] << 16 | (uint64_t)data[3] << 8 | data[4]) ==
            data_len - 5) {
        body += 5;
        body_len -= 5;
    }

    arena = xb_arena_new(ARENA_BLOCK_BYTES, ARENA_MAX_BYTES);
    if (!arena) {
        fprintf(stderr, "bench_translate: out of memory\n");
        goto out;
    }
    rc = xb_otlp_decode_protobuf(body, body_len, arena, &req, &err_desc);
    if (rc != XB_OK) {
        fprintf(stderr, "bench_translate: input does not decode: %s\n",
                err_desc ? err_desc : xb_strerror(rc));
        goto out;
    }
    spans = xb_otlp_count_spans(req);
    printf("input: %s, %zu bytes, %zu spans, %.1f bytes/span\n", file ? file : "built in process",
           body_len, spans, spans ? (double)body_len / (double)spans : 0.0);

    if (run_phases(body, body_len, arena, &cfg, &doc, min_ns, min_iters, &dec, &full) != XB_OK)
        goto out;
    report("decode", &dec, body_len);
    report("decode+translate", &full, body_len);
    dec_ns = dec.spans ? (double)dec.cpu_ns / (double)dec.spans : 0.0;
    full_ns = full.spans ? (double)full.cpu_ns / (double)full.spans : 0.0;
    printf("translate only     %.1f ns/span (difference)\n", full_ns - dec_ns);
    printf("documents per pass %.1f, %.1f bytes/document, rejected spans per pass %.1f\n",
           (double)full.documents / (double)full.iterations,
           full.documents ? (double)full.doc_bytes / (double)full.documents : 0.0,
           (double)full.rejected / (double)full.iterations);
    if (full.documents == 0)
        printf("note: the translator emitted no documents (placeholder translator?)\n");
    printf("RESULT spans_per_request=%zu decode_ns_per_span=%.1f full_ns_per_span=%.1f "
           "full_spans_per_sec_per_core=%.0f documents=%" PRIu64 " rejected=%" PRIu64 "\n",
           spans, dec_ns, full_ns, full_ns > 0 ? 1e9 / full_ns : 0.0, full.documents,
           full.rejected);
    status = 0;
    goto out;
bad_usage:
    usage(stderr);
    status = 2;
out:
    xb_arena_free(arena);
    xb_buf_cleanup(&doc);
    free(data);
    return status;
}
