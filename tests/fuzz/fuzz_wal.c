/*
 * tests/fuzz/fuzz_wal.c - fuzz target for the durable queue's record decoder and
 * start-up recovery (core/wal.h).
 *
 * The input is taken as the bytes of a segment file whose first record should carry
 * sequence number 1. Checks: xb_wal_scan() never reads past the input and keeps a prefix
 * made of exactly the records it counts, each of which re-encodes to the same bytes;
 * then the input is written as a real segment in a scratch directory and the log is
 * opened and read back: start-up never fails on content, it counts a damaged tail at
 * most once, and hands out exactly the records of the valid prefix, in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/wal.h"
#include "tests/fuzz/fuzz_common.h"

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        rc = -1;                                                                                   \
        goto out;                                                                                  \
    } while (0)

static char scratch[64];

/* Writes |data| as segment 1 of a fresh queue directory "<scratch>/q" (no cursor). */
static int write_segment(const uint8_t *data, size_t size)
{
    char path[128];
    FILE *f;

    if (!scratch[0]) {
        strcpy(scratch, "/tmp/xb_fuzz_wal_XXXXXX");
        if (!mkdtemp(scratch))
            return -1;
        xb_log_set_level(XB_LOG_ERROR); /* recovery warns on most inputs */
    }
    snprintf(path, sizeof(path), "%s/q", scratch);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/q/cursor", scratch);
    unlink(path);
    snprintf(path, sizeof(path), "%s/q/%020d.seg", scratch, 1);
    f = fopen(path, "wb");
    if (!f)
        return -1;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int xb_fuzz_check(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents)
{
    struct xb_wal_scan_result sr;
    struct xb_wal_opts o = {0};
    struct xb_wal *w = NULL;
    struct xb_qdoc_list l = {0};
    struct xb_buf re;
    uint64_t stats[XB_WAL_STAT_COUNT] = {0};
    char dirpath[96], oerr[256];
    size_t off = 0, n = 0;
    int rc = 0;

    xb_buf_init(&re, 0);
    xb_wal_scan(data, size, 1, &sr);
    if (sr.good_bytes > size)
        FAIL("scan kept %zu of %zu bytes", sr.good_bytes, size);
    if ((sr.good_bytes < size) != (sr.torn || sr.corrupt))
        FAIL("scan: prefix %zu of %zu but torn=%d corrupt=%d", sr.good_bytes, size, sr.torn,
             sr.corrupt);
    if (sr.next_seq != 1 + sr.records)
        FAIL("scan: next_seq %llu after %zu records", (unsigned long long)sr.next_seq, sr.records);
    while (off < sr.good_bytes) {
        struct xb_wal_rec r;
        size_t used;
        if (xb_wal_decode(data + off, sr.good_bytes - off, &r, &used) != XB_OK)
            FAIL("record %zu of the kept prefix does not decode", n);
        xb_buf_clear(&re);
        if (xb_wal_encode(&r, &re) != XB_OK || re.len != used || memcmp(re.data, data + off, used))
            FAIL("record %zu does not re-encode to the same bytes", n);
        off += used;
        n++;
    }
    if (n != sr.records)
        FAIL("scan counted %zu records, the prefix holds %zu", sr.records, n);

    /* The same bytes as a segment file on disk, through start-up recovery. */
    if (write_segment(data, size) != 0)
        goto out; /* scratch space trouble is not a finding */
    snprintf(dirpath, sizeof(dirpath), "%s/q", scratch);
    o.dir = dirpath;
    o.max_size = (size_t)1 << 30;
    o.segment_size = (size_t)1 << 20;
    for (int i = 0; i < XB_WAL_STAT_COUNT; i++)
        o.stats[i] = &stats[i];
    if (xb_wal_open(&o, &w, oerr, sizeof(oerr)) != XB_OK)
        FAIL("start-up failed on content: %s", oerr);
    if (stats[XB_WAL_STAT_CORRUPT] != (sr.good_bytes < size))
        FAIL("corrupt counter %llu for a %s tail", (unsigned long long)stats[XB_WAL_STAT_CORRUPT],
             sr.good_bytes < size ? "damaged" : "clean");
    if (xb_wal_recovered(w) != sr.records)
        FAIL("recovered %zu, scan found %zu", xb_wal_recovered(w), sr.records);
    if (xb_wal_read(w, SIZE_MAX, &l) != XB_OK || l.n != sr.records)
        FAIL("read back %zu of %zu records", l.n, sr.records);
    n = 1;
    for (struct xb_qdoc *d = l.head; d; d = d->next, n++)
        if (d->seq != n)
            FAIL("record %zu handed out with seq %llu", n, (unsigned long long)d->seq);
    if (documents)
        *documents += sr.records;
out:
    xb_qdoc_list_clear(&l);
    xb_wal_close(w);
    xb_buf_cleanup(&re);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];

    if (xb_fuzz_check(data, size, err, sizeof(err), NULL) != 0) {
        fprintf(stderr, "fuzz_wal: %s\n", err);
        abort();
    }
    return 0;
}
