/*
 * tests/fuzz/fuzz_decode.c - the fuzz_pb and fuzz_json targets: one decoder
 * (protobuf with its pre-scan, or OTLP/JSON, chosen at build time by
 * XB_FUZZ_JSON), then the translator; documents are checked as in fuzz_common.h,
 * and a decoded request may never hold an AnyValue deeper than the shared limit.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "receiver/otlp_decode.h"
#include "tests/fuzz/fuzz_common.h"

#ifdef XB_FUZZ_JSON
#define DECODE xb_otlp_decode_json
#define WHAT "JSON"
#else
#define DECODE xb_otlp_decode_protobuf
#define WHAT "protobuf"
#endif

int xb_fuzz_check(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents)
{
    struct xb_arena *arena = xb_arena_new(64 * 1024, XB_FUZZ_ARENA_CAP);
    struct xb_translator_config cfg;
    xb_pb_export_req *req = NULL;
    const char *desc = NULL;
    int rc = 0;

    if (!arena)
        return 0;
    xb_fuzz_config(size ? data[size - 1] : 0, &cfg);
    if (DECODE(data, size, arena, &req, &desc) != XB_OK) {
        if (!desc) {
            snprintf(err, errlen, WHAT " decoder failed without a description");
            rc = -1;
        }
        goto out;
    }
    if (xb_fuzz_check_depth(req, err, errlen) != 0 ||
        xb_fuzz_translate(req, &cfg, arena, NULL, err, errlen, documents) < 0) {
        size_t l = strlen(err);
        snprintf(err + l, errlen - l, " (" WHAT " input)");
        rc = -1;
    }
out:
    xb_arena_free(arena);
    return rc;
}
