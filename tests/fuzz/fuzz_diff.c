/*
 * tests/fuzz/fuzz_diff.c - differential target: the input is a binary protobuf
 * ExportTraceServiceRequest. When it decodes, it is written as OTLP/JSON
 * (otlp_json_enc.c), decoded again by the OTLP/JSON decoder, and both requests are
 * translated with the same options: the two document sequences must be identical
 * byte for byte, and the JSON decoder must accept what the protobuf decoder did.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "receiver/otlp_decode.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/otlp_json_enc.h"

/* Reports where two document streams first differ. */
static void describe_mismatch(const struct xb_buf *a, const struct xb_buf *b, char *err,
                              size_t errlen)
{
    size_t n = a->len < b->len ? a->len : b->len, i = 0;

    while (i < n && a->data[i] == b->data[i])
        i++;
    snprintf(err, errlen,
             "protobuf and JSON paths differ at byte %zu (%zu vs %zu bytes): "
             "pb \"%.60s\" json \"%.60s\"",
             i, a->len, b->len, a->data + i, b->data + i);
}

int xb_fuzz_check(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents)
{
    struct xb_arena *arena = xb_arena_new(64 * 1024, XB_FUZZ_ARENA_CAP);
    struct xb_translator_config cfg;
    struct xb_buf json, docs_pb, docs_json;
    xb_pb_export_req *req = NULL, *req2 = NULL;
    const char *desc = NULL;
    int rc = 0, t1, t2, drc;

    xb_buf_init(&json, 0);
    xb_buf_init(&docs_pb, 0);
    xb_buf_init(&docs_json, 0);
    if (!arena)
        goto out;
    xb_fuzz_config(size ? data[size - 1] : 0, &cfg);
    if (xb_otlp_decode_protobuf(data, size, arena, &req, &desc) != XB_OK)
        goto out; /* not a request: fuzz_pb covers this path */
    if (xb_fuzz_encode_json(req, &json) != 0)
        goto out; /* not representable in JSON (invalid UTF-8) or no memory */
    drc = xb_otlp_decode_json(json.data, json.len, arena, &req2, &desc);
    if (drc == XB_ERR_NOMEM)
        goto out;
    if (drc != XB_OK) {
        snprintf(err, errlen, "JSON decoder refused the re-encoded request: %s",
                 desc ? desc : "(no description)");
        rc = -1;
        goto out;
    }
    if (xb_otlp_count_spans(req) != xb_otlp_count_spans(req2)) {
        snprintf(err, errlen, "span counts differ: %zu vs %zu", xb_otlp_count_spans(req),
                 xb_otlp_count_spans(req2));
        rc = -1;
        goto out;
    }
    t1 = xb_fuzz_translate(req, &cfg, arena, &docs_pb, err, errlen, documents);
    if (t1 != 0) {
        rc = t1 < 0 ? -1 : 0;
        goto out;
    }
    t2 = xb_fuzz_translate(req2, &cfg, arena, &docs_json, err, errlen, NULL);
    if (t2 != 0) {
        rc = t2 < 0 ? -1 : 0;
        goto out;
    }
    if (docs_pb.len != docs_json.len ||
        (docs_pb.len && memcmp(docs_pb.data, docs_json.data, docs_pb.len) != 0)) {
        describe_mismatch(&docs_pb, &docs_json, err, errlen);
        rc = -1;
    }
out:
    xb_buf_cleanup(&json);
    xb_buf_cleanup(&docs_pb);
    xb_buf_cleanup(&docs_json);
    xb_arena_free(arena);
    return rc;
}
