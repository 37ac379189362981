/*
 * tests/fuzz/fuzz_json_diff.c - the fuzz_json_diff target: every OTLP/JSON input is
 * decoded as in production (cJSON when xb_json_pick() allows it, receiver/json_tree.h)
 * and with jansson alone; both must give the same status, the same error description
 * and, on success, requests that pack to identical protobuf bytes. The only allowed
 * difference is out of memory: a cJSON tree can fit under the arena cap where
 * jansson's larger tree does not (never the other way round: the production path
 * retries with jansson when cJSON runs out). Accepted requests are then translated and
 * their documents checked as in fuzz_common.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "receiver/otlp_decode.h"
#include "tests/fuzz/fuzz_common.h"

static uint8_t *pack(const xb_pb_export_req *req, size_t *len)
{
    const ProtobufCMessage *m = (const ProtobufCMessage *)req;
    uint8_t *buf;

    *len = protobuf_c_message_get_packed_size(m);
    buf = malloc(*len ? *len : 1);
    if (buf)
        protobuf_c_message_pack(m, buf);
    return buf;
}

int xb_fuzz_check(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents)
{
    struct xb_arena *fast_arena = xb_arena_new(64 * 1024, XB_FUZZ_ARENA_CAP);
    struct xb_arena *exact_arena = xb_arena_new(64 * 1024, XB_FUZZ_ARENA_CAP);
    xb_pb_export_req *fast = NULL, *exact = NULL;
    const char *fast_err = NULL, *exact_err = NULL;
    uint8_t *fast_pb = NULL, *exact_pb = NULL;
    size_t fast_len = 0, exact_len = 0;
    struct xb_translator_config cfg;
    int used_cjson = 0, fast_rc, exact_rc, rc = 0;

    if (!fast_arena || !exact_arena)
        goto out;
    fast_rc = xb_otlp_decode_json_ex(data, size, fast_arena, 0, &fast, &fast_err, &used_cjson);
    exact_rc = xb_otlp_decode_json_ex(data, size, exact_arena, 1, &exact, &exact_err, NULL);
    if (exact_rc == XB_ERR_NOMEM) /* cJSON's smaller tree may get further */
        goto out;
    if (fast_rc != exact_rc) {
        snprintf(err, errlen, "status %d (%s, cJSON %d) vs jansson %d (%s)", fast_rc,
                 fast_err ? fast_err : "-", used_cjson, exact_rc, exact_err ? exact_err : "-");
        rc = -1;
        goto out;
    }
    if (fast_rc != XB_OK) {
        if (!fast_err || !exact_err || strcmp(fast_err, exact_err) != 0) {
            snprintf(err, errlen, "error \"%s\" vs jansson \"%s\"", fast_err ? fast_err : "-",
                     exact_err ? exact_err : "-");
            rc = -1;
        }
        goto out;
    }
    fast_pb = pack(fast, &fast_len);
    exact_pb = pack(exact, &exact_len);
    if (!fast_pb || !exact_pb)
        goto out;
    if (fast_len != exact_len || memcmp(fast_pb, exact_pb, fast_len) != 0) {
        snprintf(err, errlen, "decoded requests differ (cJSON %d): %zu vs %zu packed bytes",
                 used_cjson, fast_len, exact_len);
        rc = -1;
        goto out;
    }
    /* Equal requests translate alike; translating one checks the documents' invariants. */
    xb_fuzz_config(size ? data[size - 1] : 0, &cfg);
    if (xb_fuzz_translate(fast, &cfg, fast_arena, NULL, err, errlen, documents) < 0)
        rc = -1;
out:
    free(fast_pb);
    free(exact_pb);
    xb_arena_free(fast_arena);
    xb_arena_free(exact_arena);
    return rc;
}
