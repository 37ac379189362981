/*
 * tests/fuzz/fuzz_translate.c - libFuzzer target for decode + translate.
 * See fuzz_translate.h; docs/fuzzing.md explains how to run it.
 */
#include "tests/fuzz/fuzz_translate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "receiver/otlp_decode.h"
#include "tests/golden/doc_check.h"
#include "translator/translate.h"

#define FUZZ_ARENA_CAP (64u << 20) /* bytes; bounds memory per input */
#define FUZZ_SMALL_DOC 1500u       /* bytes; exercises the trimming path */

static const char *const fuzz_indexed[] = {"http.method", "team", "aws.operation",
                                           "otel.resource.service.name", "db.statement"};
static const char *const fuzz_groups[] = {"fuzz-group"};

/* State shared with the emit callback. */
struct fuzz_ctx {
    size_t max_bytes;
    size_t emitted;
    int failed;
    char *err;
    size_t errlen;
};

static int check_doc(void *ud, const char *json, size_t len, const char *trace_id,
                     const char *id)
{
    struct fuzz_ctx *x = ud;
    char why[256];

    x->emitted++;
    if (x->failed)
        return XB_OK;
    if (xb_doccheck_document(json, len, x->max_bytes, why, sizeof why) != 0) {
        x->failed = 1;
        snprintf(x->err, x->errlen, "%s", why);
    } else if (!trace_id || strlen(trace_id) != 35) {
        x->failed = 1;
        snprintf(x->err, x->errlen, "emit callback got a bad trace_id argument");
    } else if (!id || strlen(id) != 16) {
        x->failed = 1;
        snprintf(x->err, x->errlen, "emit callback got a bad id argument");
    }
    return XB_OK;
}

/* Decodes with |decode| and translates; adds the documents emitted to |*documents|;
 * returns -1 on an invariant violation. */
static int run_one(int (*decode)(const void *, size_t, struct xb_arena *, xb_pb_export_req **,
                                 const char **),
                   const char *what, const uint8_t *data, size_t size,
                   const struct xb_translator_config *cfg, char *err, size_t errlen,
                   size_t *documents)
{
    struct xb_arena *arena = xb_arena_new(64 * 1024, FUZZ_ARENA_CAP);
    struct xb_buf out;
    struct xb_translate_result res;
    struct fuzz_ctx x = {cfg->max_document_bytes, 0, 0, err, errlen};
    xb_pb_export_req *req = NULL;
    const char *err_desc = NULL;
    int rc = 0;

    xb_buf_init(&out, 0);
    if (!arena)
        goto out;
    if (decode(data, size, arena, &req, &err_desc) != XB_OK)
        goto out; /* not a request: nothing to check */
    if (xb_translate_request(cfg, req, 1700000100, arena, &out, check_doc, &x, &res) ==
        XB_ERR_NOMEM)
        goto out;
    if (!x.failed && res.documents != x.emitted) {
        snprintf(err, errlen, "result.documents = %zu but %zu emitted", res.documents,
                 x.emitted);
        x.failed = 1;
    }
    if (x.failed) {
        size_t l = strlen(err);
        snprintf(err + l, errlen - l, " (%s input)", what);
        rc = -1;
    }
out:
    *documents += x.emitted;
    xb_buf_cleanup(&out);
    xb_arena_free(arena);
    return rc;
}

int xb_fuzz_translate_one(const uint8_t *data, size_t size, char *err, size_t errlen,
                          size_t *documents)
{
    struct xb_translator_config cfg;
    unsigned flags = size ? data[size - 1] : 0;
    size_t emitted = 0;
    int rc;

    err[0] = '\0';
    xb_translator_config_defaults(&cfg);
    cfg.index_all_attributes = flags & 1;
    cfg.allow_dot_in_annotation_keys = (flags >> 1) & 1;
    cfg.skip_timestamp_validation = (flags >> 2) & 1;
    if (flags & 8)
        cfg.max_document_bytes = FUZZ_SMALL_DOC;
    if (flags & 16) {
        cfg.indexed_attributes = fuzz_indexed;
        cfg.n_indexed_attributes = sizeof fuzz_indexed / sizeof fuzz_indexed[0];
        cfg.aws_log_groups = fuzz_groups;
        cfg.n_aws_log_groups = 1;
    }
    rc = run_one(xb_otlp_decode_protobuf, "protobuf", data, size, &cfg, err, errlen, &emitted);
    if (rc == 0)
        rc = run_one(xb_otlp_decode_json, "JSON", data, size, &cfg, err, errlen, &emitted);
    if (documents)
        *documents += emitted;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];

    if (xb_fuzz_translate_one(data, size, err, sizeof err, NULL) != 0) {
        fprintf(stderr, "fuzz_translate: invariant violated: %s\n", err);
        abort(); /* test harness only: tells libFuzzer this input is a finding */
    }
    return 0;
}
