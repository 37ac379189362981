/*
 * tests/fuzz/fuzz_grpc.c - libFuzzer target for the OTLP/gRPC server session.
 * See fuzz_grpc.h; docs/fuzzing.md explains how to run it.
 */
#include "tests/fuzz/fuzz_grpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "receiver/grpc_session.h"

static const uint8_t PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
                                 "\x00\x00\x00\x04\x00\x00\x00\x00\x00"; /* empty SETTINGS */

struct fuzz_grpc_ctx {
    size_t inflight;
    size_t exports;
    size_t out_bytes;
};

static ssize_t fz_write(void *ud, const uint8_t *data, size_t len)
{
    struct fuzz_grpc_ctx *x = ud;

    x->out_bytes += len;
    return (ssize_t)len;
}

/* Answers vary with the message so every reply path runs: OK, queue full, invalid. */
static void fz_export(void *ud, int gzip, const uint8_t *msg, size_t len,
                      struct xb_ingest_outcome *o)
{
    static const int rcs[] = {XB_OK, XB_ERR_FULL, XB_ERR_INVALID};
    struct fuzz_grpc_ctx *x = ud;

    memset(o, 0, sizeof(*o));
    o->rc = rcs[(len + (size_t)gzip) % 3];
    o->err_desc = o->rc ? "fuzz refusal" : NULL;
    o->spans = len % 7;
    x->exports++;
}

int xb_fuzz_grpc_one(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *exports)
{
    struct fuzz_grpc_ctx x = {0};
    struct xb_grpc_session_limits lim = {.max_msg_bytes = 16384,
                                         .max_concurrent_streams = 16,
                                         .max_header_list_size = 4096,
                                         .max_inflight_bytes = 65536,
                                         .timeouts = {.connection_ms = 1000,
                                                      .upload_ms = 2000,
                                                      .idle_ms = 3000,
                                                      .age_ms = 5000,
                                                      .age_grace_ms = 1000}};
    struct xb_grpc_session_env env = {
        .write = fz_write, .export_msg = fz_export, .ud = &x, .inflight = &x.inflight};
    struct xb_grpc_session *s = NULL;
    uint64_t now = 0, next;
    size_t chunk, off;
    int rc = 0;

    if (xb_grpc_session_new(&lim, &env, now, &s) != XB_OK)
        return 0; /* out of memory is not a finding */
    if (xb_grpc_session_recv(s, PREFACE, sizeof(PREFACE) - 1, now) != XB_OK)
        goto done;
    chunk = size ? 1 + data[0] % 256 : 1;
    for (off = size ? 1 : 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (xb_grpc_session_recv(s, data + off, n, now) != XB_OK)
            goto done;
        if (xb_grpc_session_service(s, now, &next) == XB_GRPC_SESSION_CLOSE)
            goto done;
        now += 50;
    }
    /* let every deadline pass */
    for (int i = 0; i < 4; i++) {
        now += 3000;
        if (xb_grpc_session_service(s, now, &next) == XB_GRPC_SESSION_CLOSE)
            break;
    }
done:
    xb_grpc_session_free(s);
    if (x.inflight != 0) {
        snprintf(err, errlen, "%zu in-flight bytes not given back", x.inflight);
        rc = -1;
    }
    if (exports)
        *exports += x.exports;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];

    if (xb_fuzz_grpc_one(data, size, err, sizeof(err), NULL) != 0) {
        fprintf(stderr, "fuzz_grpc: invariant violated: %s\n", err);
        abort(); /* test harness only: tells libFuzzer this input is a finding */
    }
    return 0;
}
