/*
 * tests/fuzz/fuzz_xray.c - differential target for the X-Ray daemon datagram check
 * (receiver/xray_daemon.h): the one-pass scanner, xb_xray_daemon_check(), must make
 * the same decision as the jansson-based xb_xray_daemon_check_reference() on every
 * input: same verdict, same reason text, and for an accepted document the same
 * document bytes, ids and flags. Each input is checked twice: as a whole datagram, and
 * as a document behind the header the SDKs write (so mutations reach the scanner
 * without having to keep the header intact).
 * Every input is also escaped for a PutTraceSegments body both ways: the fast embedder
 * xb_jsonw_embed() (each path this CPU runs) must give the bytes of xb_jsonw_escape().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/jsonw.h"
#include "receiver/xray_daemon.h"
#include "tests/fuzz/fuzz_common.h"

/* Compares both checks on one datagram; 0 when they agree. */
static int compare(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents)
{
    struct xb_xray_doc a, b;
    const char *wa = NULL, *wb = NULL;
    enum xb_udp_verdict va = xb_xray_daemon_check(data, size, &a, &wa);
    enum xb_udp_verdict vb = xb_xray_daemon_check_reference(data, size, &b, &wb);

    if (va != vb) {
        snprintf(err, errlen, "verdict %s (scanner) vs %s (jansson) on %zu bytes",
                 xb_udp_verdict_label(va), xb_udp_verdict_label(vb), size);
        return -1;
    }
    if (va != XB_UDP_OK) {
        if (strcmp(wa, wb) != 0) {
            snprintf(err, errlen, "reason \"%s\" (scanner) vs \"%s\" (jansson)", wa, wb);
            return -1;
        }
        return 0;
    }
    if (a.json != b.json || a.len != b.len || strcmp(a.id, b.id) != 0 ||
        strcmp(a.trace_id, b.trace_id) != 0 || a.subsegment != b.subsegment ||
        a.in_progress != b.in_progress) {
        snprintf(err, errlen, "accepted document differs: id %s/%s trace %s/%s sub %d/%d ip %d/%d",
                 a.id, b.id, a.trace_id, b.trace_id, a.subsegment, b.subsegment, a.in_progress,
                 b.in_progress);
        return -1;
    }
    if (documents)
        (*documents)++;
    return 0;
}

/* Each path of xb_jsonw_embed() against xb_jsonw_escape() on |data|; 0 when all write
 * the same bytes. */
static int compare_embed(const uint8_t *data, size_t size, char *err, size_t errlen)
{
    struct xb_buf want, got;
    int rc = 0;

    xb_buf_init(&want, 0);
    xb_buf_init(&got, 0);
    if (xb_jsonw_escape(&want, (const char *)data, size) != XB_OK)
        goto out; /* out of memory: nothing to compare */
    for (int p = XB_JSONW_EMBED_SCALAR; p <= XB_JSONW_EMBED_AVX512 && rc == 0; p++) {
        xb_buf_clear(&got);
        if (xb_jsonw_embed_path(&got, (const char *)data, size, (enum xb_jsonw_embed_path)p) !=
            XB_OK)
            continue;
        if (got.len != want.len || memcmp(got.data, want.data, want.len) != 0) {
            snprintf(err, errlen, "xb_jsonw_embed path %d escapes %zu bytes unlike xb_jsonw_escape",
                     p, size);
            rc = -1;
        }
    }
out:
    xb_buf_cleanup(&want);
    xb_buf_cleanup(&got);
    return rc;
}

int xb_fuzz_check(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents)
{
    static const char hdr[] = "{\"format\":\"json\",\"version\":1}\n";
    uint8_t *d;
    int rc;

    if (compare(data, size, err, errlen, documents) != 0 ||
        compare_embed(data, size, err, errlen) != 0)
        return -1;
    d = malloc(sizeof(hdr) - 1 + size + 1);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(d, hdr, sizeof(hdr) - 1);
    if (size)
        memcpy(d + sizeof(hdr) - 1, data, size);
    rc = compare(d, sizeof(hdr) - 1 + size, err, errlen, documents);
    free(d);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer entry point: aborts on a disagreement so that libFuzzer keeps the input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";

    if (xb_fuzz_check(data, size, err, sizeof err, NULL) != 0) {
        fprintf(stderr, "fuzz_xray: invariant violated: %s\n", err);
        abort(); /* test harness only: tells libFuzzer this input is a finding */
    }
    return 0;
}
