/* Unit tests for core/wal.c: the record codec, the recovery scan, the cursor block, and
 * the log on a temporary directory (order, out-of-order completion, restart, torn tail,
 * segment deletion, max_size, write errors, lock) and behind core/queue. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h> /* after the headers it needs */

#include "core/err.h"
#include "core/queue.h"
#include "core/wal.h"

static uint64_t stats[XB_WAL_STAT_COUNT];

static struct xb_wal_rec rec(uint64_t seq, const char *data)
{
    struct xb_wal_rec r = {
        seq, "1-5f000000-0123456789abcdef01234567", 35, "0123456789abcdef", 16, data, strlen(data)};
    return r;
}

static void test_codec_round_trip(void **state)
{
    struct xb_buf b;
    struct xb_wal_rec r = rec(42, "{\"name\":\"x\"}"), out;
    size_t used = 0;
    (void)state;

    xb_buf_init(&b, 0);
    assert_int_equal(xb_wal_encode(&r, &b), XB_OK);
    assert_int_equal(b.len, xb_wal_record_size(35, 16, r.len));
    assert_int_equal(xb_wal_decode((uint8_t *)b.data, b.len, &out, &used), XB_OK);
    assert_int_equal(used, b.len);
    assert_int_equal(out.seq, 42);
    assert_int_equal(out.trace_id_len, 35);
    assert_memory_equal(out.trace_id, r.trace_id, 35);
    assert_int_equal(out.id_len, 16);
    assert_memory_equal(out.id, r.id, 16);
    assert_int_equal(out.len, r.len);
    assert_memory_equal(out.data, r.data, r.len);

    /* every strict prefix is incomplete, never an error or a record */
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(xb_wal_decode((uint8_t *)b.data, n, &out, &used), XB_ERR_AGAIN);
    /* any flipped payload byte fails the CRC */
    for (size_t i = XB_WAL_HEADER_BYTES; i < b.len; i++) {
        b.data[i] ^= 0x40;
        assert_int_equal(xb_wal_decode((uint8_t *)b.data, b.len, &out, &used), XB_ERR_INVALID);
        b.data[i] ^= 0x40;
    }
    /* length 0 and above the maximum are invalid */
    memset(b.data, 0, 4);
    assert_int_equal(xb_wal_decode((uint8_t *)b.data, b.len, &out, &used), XB_ERR_INVALID);
    memset(b.data, 0xff, 4);
    assert_int_equal(xb_wal_decode((uint8_t *)b.data, b.len, &out, &used), XB_ERR_INVALID);
    /* identity over 255 bytes cannot be encoded */
    r.trace_id_len = 256;
    assert_int_equal(xb_wal_encode(&r, &b), XB_ERR_INVALID);
    xb_buf_cleanup(&b);
}

static void test_scan_recovery_decisions(void **state)
{
    struct xb_buf b;
    struct xb_wal_scan_result sr;
    size_t one;
    (void)state;

    xb_buf_init(&b, 0);
    for (uint64_t s = 7; s < 10; s++) {
        struct xb_wal_rec r = rec(s, "{\"a\":1}");
        assert_int_equal(xb_wal_encode(&r, &b), XB_OK);
    }
    one = b.len / 3;
    xb_wal_scan((uint8_t *)b.data, b.len, 7, &sr);
    assert_int_equal(sr.records, 3);
    assert_int_equal(sr.good_bytes, b.len);
    assert_int_equal(sr.next_seq, 10);
    assert_false(sr.torn || sr.corrupt);

    /* torn tail: the last record cut by 3 bytes */
    xb_wal_scan((uint8_t *)b.data, b.len - 3, 7, &sr);
    assert_int_equal(sr.records, 2);
    assert_int_equal(sr.good_bytes, 2 * one);
    assert_int_equal(sr.next_seq, 9);
    assert_true(sr.torn);

    /* a damaged middle record: the prefix before it is kept */
    b.data[one + XB_WAL_HEADER_BYTES + 3] ^= 1;
    xb_wal_scan((uint8_t *)b.data, b.len, 7, &sr);
    assert_int_equal(sr.records, 1);
    assert_int_equal(sr.good_bytes, one);
    assert_true(sr.corrupt);
    b.data[one + XB_WAL_HEADER_BYTES + 3] ^= 1;

    /* a record out of sequence (file named for another first seq) */
    xb_wal_scan((uint8_t *)b.data, b.len, 8, &sr);
    assert_int_equal(sr.records, 0);
    assert_int_equal(sr.good_bytes, 0);
    assert_true(sr.corrupt);

    /* empty */
    xb_wal_scan(NULL, 0, 5, &sr);
    assert_int_equal(sr.records, 0);
    assert_int_equal(sr.next_seq, 5);
    xb_buf_cleanup(&b);
}

static void test_cursor_block(void **state)
{
    uint8_t blk[XB_WAL_CURSOR_BYTES];
    uint64_t seq = 0;
    (void)state;

    xb_wal_cursor_encode(123456789012ull, blk);
    assert_int_equal(xb_wal_cursor_decode(blk, sizeof(blk), &seq), XB_OK);
    assert_int_equal(seq, 123456789012ull);
    assert_int_equal(xb_wal_cursor_decode(blk, sizeof(blk) - 1, &seq), XB_ERR_INVALID);
    blk[9] ^= 1;
    assert_int_equal(xb_wal_cursor_decode(blk, sizeof(blk), &seq), XB_ERR_INVALID);
}

/* ---- the log on disk ------------------------------------------------------ */

static char dir[64];

static int setup_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/xb_test_wal_XXXXXX");
    assert_non_null(mkdtemp(dir));
    memset(stats, 0, sizeof(stats));
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct xb_wal *open_wal(size_t max_size, size_t segment_size)
{
    struct xb_wal_opts o = {
        .dir = dir, .max_size = max_size, .segment_size = segment_size, .fsync = 1};
    struct xb_wal *w = NULL;
    char err[256] = "";
    for (int i = 0; i < XB_WAL_STAT_COUNT; i++)
        o.stats[i] = &stats[i];
    if (xb_wal_open(&o, &w, err, sizeof(err)) != XB_OK)
        print_error("open: %s\n", err);
    assert_non_null(w);
    return w;
}

/* A list of |n| documents "doc-<first + i>". */
static struct xb_qdoc_list docs(int first, int n)
{
    struct xb_qdoc_list l = {0};
    char buf[32], id[17];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "doc-%d", first + i);
        snprintf(id, sizeof(id), "%016x", first + i);
        xb_qdoc_list_add(&l, xb_qdoc_new_ids(buf, (size_t)len, "1-5f000000-aaaa", id));
    }
    return l;
}

static int count_segments(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".seg") != NULL;
    closedir(d);
    return n;
}

/* Reads everything readable; checks it is "doc-<first>".. in order; returns the list. */
static struct xb_qdoc_list read_all(struct xb_wal *w, int first, int n)
{
    struct xb_qdoc_list l = {0};
    char want[32];
    int i = 0;
    assert_int_equal(xb_wal_read(w, SIZE_MAX, &l), XB_OK);
    assert_int_equal(l.n, (size_t)n);
    for (struct xb_qdoc *d = l.head; d; d = d->next, i++) {
        snprintf(want, sizeof(want), "doc-%d", first + i);
        assert_string_equal(d->json, want);
        assert_int_equal(strlen(d->id), 16);
    }
    return l;
}

/* An OTLP record (otlphttp queue): binary bytes with NULs, no trace id, no segment id,
 * survives append, restart and read-back byte for byte, with empty identity fields. */
static void test_log_binary_record_without_ids(void **state)
{
    static const char pb[] = {0x0a, 0x00, 0x12, 0x05, 0x00, (char)0xff, 0x7f, 0x00, 0x01};
    struct xb_wal *w = open_wal(1 << 20, 1 << 20);
    struct xb_qdoc_list l = {0}, r = {0};
    (void)state;

    xb_qdoc_list_add(&l, xb_qdoc_new(pb, sizeof(pb)));
    assert_string_equal(l.head->trace_id, "");
    assert_string_equal(l.head->id, "");
    assert_int_equal(xb_wal_append(w, &l), XB_OK);
    xb_qdoc_list_clear(&l);
    xb_wal_close(w);
    w = open_wal(1 << 20, 1 << 20);
    assert_int_equal(xb_wal_recovered(w), 1);
    assert_int_equal(xb_wal_read(w, SIZE_MAX, &r), XB_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.head->len, sizeof(pb));
    assert_memory_equal(r.head->json, pb, sizeof(pb));
    assert_string_equal(r.head->trace_id, "");
    assert_string_equal(r.head->id, "");
    assert_int_equal(stats[XB_WAL_STAT_CORRUPT], 0);
    xb_wal_done(w, r.head->seq);
    xb_qdoc_list_clear(&r);
    xb_wal_close(w);
}

static void test_log_order_out_of_order_done_and_restart(void **state)
{
    struct xb_wal *w = open_wal(1 << 20, 1 << 20);
    struct xb_qdoc_list l = docs(0, 10), r;
    struct xb_qdoc *d;
    uint64_t seqs[10];
    int i = 0;
    (void)state;

    assert_int_equal(xb_wal_append(w, &l), XB_OK);
    assert_int_equal(stats[XB_WAL_STAT_APPENDED], 10);
    assert_true(stats[XB_WAL_STAT_FSYNCS] >= 1);
    xb_qdoc_list_clear(&l); /* not kept: read back from disk */
    assert_int_equal(xb_wal_readable(w), 10);
    r = read_all(w, 0, 10);
    for (d = r.head; d; d = d->next)
        seqs[i++] = d->seq;
    assert_int_equal(xb_wal_readable(w), 0);
    assert_int_equal(xb_wal_pending(w), 10);
    /* 1 and 2 finish before 0: nothing before 0 may be forgotten */
    xb_wal_done(w, seqs[1]);
    xb_wal_done(w, seqs[2]);
    assert_int_equal(xb_wal_pending(w), 10);
    xb_wal_done(w, seqs[0]);
    assert_int_equal(xb_wal_pending(w), 7);
    xb_wal_done(w, seqs[4]);
    xb_qdoc_list_clear(&r);
    xb_wal_close(w); /* 3, 5..9 not finished: still owed */

    w = open_wal(1 << 20, 1 << 20);
    assert_int_equal(xb_wal_recovered(w), 7);
    assert_int_equal(stats[XB_WAL_STAT_RECOVERED], 7);
    /* resumes at 3; 4 was finished but is after the cursor: at least once */
    r = read_all(w, 3, 7);
    for (d = r.head; d; d = d->next)
        xb_wal_done(w, d->seq);
    assert_int_equal(xb_wal_pending(w), 0);
    xb_qdoc_list_clear(&r);

    /* appends continue the sequence after a restart */
    l = docs(10, 2);
    assert_int_equal(xb_wal_append(w, &l), XB_OK);
    assert_int_equal(l.head->seq, seqs[9] + 1);
    xb_qdoc_list_clear(&l);
    xb_wal_close(w);
    w = open_wal(1 << 20, 1 << 20);
    r = read_all(w, 10, 2);
    xb_qdoc_list_clear(&r);
    assert_int_equal(stats[XB_WAL_STAT_CORRUPT], 0);
    xb_wal_close(w);
}

static void test_log_torn_tail_is_cut_and_counted(void **state)
{
    struct xb_wal *w = open_wal(1 << 20, 1 << 20);
    struct xb_qdoc_list l = docs(0, 5), r;
    char path[512];
    DIR *dd;
    struct dirent *e;
    struct stat st;
    (void)state;

    assert_int_equal(xb_wal_append(w, &l), XB_OK);
    xb_qdoc_list_clear(&l);
    xb_wal_close(w);
    dd = opendir(dir);
    while ((e = readdir(dd)) != NULL)
        if (strstr(e->d_name, ".seg"))
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    closedir(dd);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 3), 0);

    w = open_wal(1 << 20, 1 << 20);
    assert_int_equal(stats[XB_WAL_STAT_CORRUPT], 1);
    assert_int_equal(xb_wal_recovered(w), 4);
    /* new appends follow the cut, with the number of the lost record */
    l = docs(4, 1);
    assert_int_equal(xb_wal_append(w, &l), XB_OK);
    xb_qdoc_list_clear(&l);
    r = read_all(w, 0, 5);
    xb_qdoc_list_clear(&r);
    xb_wal_close(w);

    /* a damaged cursor file falls back to the oldest segment: nothing lost */
    snprintf(path, sizeof(path), "%s/cursor", dir);
    assert_int_equal(truncate(path, 5), 0);
    w = open_wal(1 << 20, 1 << 20);
    assert_int_equal(xb_wal_recovered(w), 5);
    xb_wal_close(w);
}

static void test_log_segments_roll_and_are_deleted(void **state)
{
    struct xb_wal *w = open_wal(1 << 20, 256);
    struct xb_qdoc_list r;
    (void)state;

    for (int i = 0; i < 20; i++) {
        struct xb_qdoc_list l = docs(i * 2, 2);
        assert_int_equal(xb_wal_append(w, &l), XB_OK);
        xb_qdoc_list_clear(&l);
    }
    assert_true(count_segments() > 5);
    assert_true(stats[XB_WAL_STAT_DISK_BYTES] > 256 * 5);
    r = read_all(w, 0, 40);
    for (struct xb_qdoc *d = r.head; d; d = d->next)
        xb_wal_done(w, d->seq);
    xb_qdoc_list_clear(&r);
    assert_true(count_segments() <= 1);
    assert_true(stats[XB_WAL_STAT_DISK_BYTES] < 256 + 100);
    assert_int_equal(stats[XB_WAL_STAT_DISK_DOCS], 0);
    xb_wal_close(w);
}

static void test_log_max_size(void **state)
{
    struct xb_wal *w = open_wal(2048, 512);
    int appended = 0;
    (void)state;

    for (;;) {
        struct xb_qdoc_list l = docs(appended, 1);
        int fits = xb_wal_has_room(w, l.n, l.bytes);
        int rc = xb_wal_append(w, &l);
        xb_qdoc_list_clear(&l);
        assert_int_equal(rc, fits ? XB_OK : XB_ERR_FULL);
        if (rc)
            break;
        appended++;
    }
    assert_true(appended > 10);
    assert_true(stats[XB_WAL_STAT_DISK_BYTES] <= 2048);
    xb_wal_close(w);
}

static void test_log_write_error_is_refused_and_undone(void **state)
{
    struct xb_wal *w = open_wal(1 << 20, 1 << 20);
    struct xb_qdoc_list l = docs(0, 3), big = {0};
    struct rlimit old, lim;
    char *blob = malloc(8192);
    uint64_t bytes;
    (void)state;

    assert_int_equal(xb_wal_append(w, &l), XB_OK);
    xb_qdoc_list_clear(&l);
    bytes = stats[XB_WAL_STAT_DISK_BYTES];
    /* The file size limit makes write() fail (EFBIG), as ENOSPC would. */
    memset(blob, 'x', 8192);
    xb_qdoc_list_add(&big, xb_qdoc_new_ids(blob, 8192, "t", "i"));
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)bytes + 100;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(xb_wal_append(w, &big), XB_ERR_IO);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(stats[XB_WAL_STAT_WRITE_ERRORS], 1);
    assert_int_equal(stats[XB_WAL_STAT_DISK_BYTES], bytes);
    assert_int_equal(xb_wal_pending(w), 3);
    /* the partial write was cut off: the log still reads cleanly, and appends resume */
    assert_int_equal(xb_wal_append(w, &big), XB_OK);
    xb_qdoc_list_clear(&big);
    xb_wal_close(w);
    w = open_wal(1 << 20, 1 << 20);
    assert_int_equal(stats[XB_WAL_STAT_CORRUPT], 0);
    assert_int_equal(xb_wal_recovered(w), 4);
    xb_wal_close(w);
    free(blob);
}

static void test_log_lock(void **state)
{
    struct xb_wal *w = open_wal(1 << 20, 1 << 20), *w2 = NULL;
    struct xb_wal_opts o = {.dir = dir, .max_size = 1 << 20, .lock_timeout_ms = 20};
    char err[256] = "";
    (void)state;

    assert_int_equal(xb_wal_open(&o, &w2, err, sizeof(err)), XB_ERR_IO);
    assert_null(w2);
    assert_non_null(strstr(err, "locked by another process"));
    xb_wal_close(w);
    assert_int_equal(xb_wal_open(&o, &w2, err, sizeof(err)), XB_OK);
    xb_wal_close(w2);
}

/* ---- behind core/queue ---------------------------------------------------- */

static int ready_calls;
static void on_ready(void *ud)
{
    (void)ud;
    ready_calls++;
}

static void test_queue_backed_by_log(void **state)
{
    struct xb_wal *w = open_wal(1 << 20, 4096);
    struct xb_queue *q = xb_queue_new(1024, 1000); /* max_bytes no longer applies */
    struct xb_qdoc *d, *popped[64];
    char want[32];
    size_t n = 0;
    (void)state;

    xb_queue_set_wal(q, w, 200); /* read_ahead: about 2 documents in memory */
    for (int i = 0; i < 50; i += 5) {
        struct xb_qdoc_list l = docs(i, 5);
        assert_true(xb_queue_has_room(q, l.n, l.bytes));
        assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
        assert_int_equal(l.n, 0);
    }
    assert_int_equal(xb_queue_waiting(q), 50);
    assert_int_equal(xb_queue_charged_docs(q), 50);
    /* memory holds at most the read-ahead; the rest stays on disk */
    assert_true(xb_queue_charged_bytes(q) <= 200 + 2 * sizeof(struct xb_qdoc) + 64);
    while ((d = xb_queue_pop(q)) != NULL) {
        snprintf(want, sizeof(want), "doc-%zu", n);
        assert_string_equal(d->json, want);
        assert_true(xb_queue_charged_bytes(q) <= 400 + (n + 1) * (sizeof(*d) + 16));
        popped[n++] = d;
    }
    assert_int_equal(n, 50);
    /* a retry goes back to the head */
    xb_queue_requeue(q, popped[49]);
    assert_ptr_equal(xb_queue_pop(q), popped[49]);
    for (size_t i = 0; i < n; i++)
        xb_queue_done(q, popped[i]);
    assert_int_equal(xb_queue_charged_docs(q), 0);
    assert_int_equal(xb_queue_charged_bytes(q), 0);

    /* max_documents counts every unfinished document, on disk too */
    xb_queue_free(q);
    q = xb_queue_new(0, 8);
    xb_queue_set_wal(q, w, 1 << 20);
    {
        struct xb_qdoc_list l = docs(100, 8);
        assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
        l = docs(108, 1);
        assert_false(xb_queue_has_room(q, 1, l.bytes));
        assert_int_equal(xb_queue_push_list(q, &l), XB_ERR_FULL);
        xb_qdoc_list_clear(&l);
    }
    /* detached (shutdown): releasing documents does not mark them delivered */
    d = xb_queue_pop(q);
    xb_queue_set_wal(q, NULL, 0);
    xb_queue_done(q, d);
    xb_queue_free(q);
    xb_wal_close(w);
    w = open_wal(1 << 20, 4096);
    assert_int_equal(xb_wal_recovered(w), 8);
    /* recovered documents wake the consumer as soon as it registers */
    q = xb_queue_new(0, 0);
    xb_queue_set_wal(q, w, 1 << 20);
    ready_calls = 0;
    xb_queue_set_ready_cb(q, on_ready, NULL);
    assert_int_equal(ready_calls, 1);
    d = xb_queue_pop(q);
    assert_string_equal(d->json, "doc-100");
    xb_queue_done(q, d);
    xb_queue_set_wal(q, NULL, 0);
    xb_queue_free(q);
    xb_wal_close(w);
}

/* A disk error is refused like a full queue (the retryable answer), list untouched. */
static void test_queue_disk_error_is_retryable(void **state)
{
    struct xb_wal *w = open_wal(1 << 20, 1 << 20);
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_list l = {0};
    struct rlimit lim, saved;
    char *blob = calloc(1, 8192);
    (void)state;

    memset(blob, 'y', 8191);
    xb_qdoc_list_add(&l, xb_qdoc_new_ids(blob, 8191, "t", "i"));
    xb_queue_set_wal(q, w, 1 << 20);
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &saved);
    lim = saved;
    lim.rlim_cur = 1024;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(xb_queue_push_list(q, &l), XB_ERR_FULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(stats[XB_WAL_STAT_WRITE_ERRORS], 1);
    assert_int_equal(xb_queue_charged_docs(q), 0);
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(xb_queue_charged_docs(q), 1);
    xb_queue_set_wal(q, NULL, 0);
    xb_queue_free(q);
    xb_wal_close(w);
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_round_trip),
        cmocka_unit_test(test_scan_recovery_decisions),
        cmocka_unit_test(test_cursor_block),
        cmocka_unit_test_setup_teardown(test_log_order_out_of_order_done_and_restart, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_log_torn_tail_is_cut_and_counted, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_log_segments_roll_and_are_deleted, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_log_max_size, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_log_write_error_is_refused_and_undone, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_log_lock, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_log_binary_record_without_ids, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(test_queue_backed_by_log, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_queue_disk_error_is_retryable, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
