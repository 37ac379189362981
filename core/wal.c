#include "core/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/err.h"
#include "core/log.h"

#define DONE_BIT (1ull << 63)
#define SEG_NAME_DIGITS 20
#define ENC_KEEP_BYTES (4u << 20) /* encode buffer kept between appends */
static const uint8_t cursor_magic[8] = {'X', 'B', 'W', 'A', 'L', 'C', '0', '1'};

/* ---- pure record codec ---------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t crc(const void *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const Bytef *b = p;
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

size_t xb_wal_record_size(size_t trace_id_len, size_t id_len, size_t data_len)
{
    return XB_WAL_HEADER_BYTES + 8 + 1 + trace_id_len + 1 + id_len + data_len;
}

int xb_wal_encode(const struct xb_wal_rec *r, struct xb_buf *out)
{
    size_t total = xb_wal_record_size(r->trace_id_len, r->id_len, r->len);
    size_t payload = total - XB_WAL_HEADER_BYTES;
    uint8_t *p;

    if (r->trace_id_len > 255 || r->id_len > 255 || payload > XB_WAL_MAX_PAYLOAD)
        return XB_ERR_INVALID;
    if (xb_buf_reserve(out, total + 1))
        return XB_ERR_NOMEM;
    p = (uint8_t *)out->data + out->len;
    put_u32(p, (uint32_t)payload);
    put_u64(p + 8, r->seq);
    p[16] = (uint8_t)r->trace_id_len;
    memcpy(p + 17, r->trace_id, r->trace_id_len);
    p[17 + r->trace_id_len] = (uint8_t)r->id_len;
    memcpy(p + 18 + r->trace_id_len, r->id, r->id_len);
    memcpy(p + 18 + r->trace_id_len + r->id_len, r->data, r->len);
    put_u32(p + 4, crc(p + XB_WAL_HEADER_BYTES, payload));
    out->len += total;
    out->data[out->len] = '\0';
    return XB_OK;
}

int xb_wal_decode(const uint8_t *p, size_t avail, struct xb_wal_rec *out, size_t *consumed)
{
    uint32_t payload;
    const uint8_t *q, *end;

    if (avail < XB_WAL_HEADER_BYTES)
        return XB_ERR_AGAIN;
    payload = get_u32(p);
    if (payload < 8 + 2 || payload > XB_WAL_MAX_PAYLOAD)
        return XB_ERR_INVALID;
    if (avail - XB_WAL_HEADER_BYTES < payload)
        return XB_ERR_AGAIN;
    q = p + XB_WAL_HEADER_BYTES;
    end = q + payload;
    if (crc(q, payload) != get_u32(p + 4))
        return XB_ERR_INVALID;
    out->seq = get_u64(q);
    q += 8;
    out->trace_id_len = *q++;
    if ((size_t)(end - q) < out->trace_id_len + 1)
        return XB_ERR_INVALID;
    out->trace_id = (const char *)q;
    q += out->trace_id_len;
    out->id_len = *q++;
    if ((size_t)(end - q) < out->id_len)
        return XB_ERR_INVALID;
    out->id = (const char *)q;
    q += out->id_len;
    out->data = (const char *)q;
    out->len = (size_t)(end - q);
    *consumed = XB_WAL_HEADER_BYTES + payload;
    return XB_OK;
}

void xb_wal_scan(const uint8_t *p, size_t len, uint64_t first_seq, struct xb_wal_scan_result *out)
{
    size_t off = 0;

    memset(out, 0, sizeof(*out));
    out->next_seq = first_seq;
    while (off < len) {
        struct xb_wal_rec r;
        size_t used = 0;
        int rc = xb_wal_decode(p + off, len - off, &r, &used);
        if (rc == XB_ERR_AGAIN) {
            out->torn = 1;
            break;
        }
        if (rc != XB_OK || r.seq != out->next_seq) {
            out->corrupt = 1;
            break;
        }
        off += used;
        out->records++;
        out->next_seq++;
    }
    out->good_bytes = off;
}

void xb_wal_cursor_encode(uint64_t seq, uint8_t *out)
{
    memset(out, 0, XB_WAL_CURSOR_BYTES);
    memcpy(out, cursor_magic, sizeof(cursor_magic));
    put_u64(out + 8, seq);
    put_u32(out + 16, crc(out, 16));
}

int xb_wal_cursor_decode(const uint8_t *p, size_t len, uint64_t *seq)
{
    if (len < XB_WAL_CURSOR_BYTES || memcmp(p, cursor_magic, sizeof(cursor_magic)) != 0 ||
        get_u32(p + 16) != crc(p, 16))
        return XB_ERR_INVALID;
    *seq = get_u64(p + 8);
    return XB_OK;
}

/* ---- the log -------------------------------------------------------------- */

struct seg {
    uint64_t first_seq;
    uint64_t size;
};

struct xb_wal {
    char *dir;
    int dir_fd, lock_fd, cursor_fd;
    size_t max_size, segment_size;
    int fsync;
    uint64_t *stats[XB_WAL_STAT_COUNT];
    struct seg *segs;
    size_t n_segs, cap_segs;
    int wfd;             /* appends to segs[n_segs - 1]; -1 = none open */
    int rfd;             /* reads segs[rseg]; -1 = none open */
    uint64_t rfd_seq;    /* first_seq of the segment rfd is open on */
    size_t rseg;         /* read position: segment index ... */
    uint64_t roff;       /* ... and byte offset */
    uint64_t next_seq;   /* given to the next appended record */
    uint64_t read_seq;   /* records before this were handed out or skipped */
    uint64_t cursor;     /* last cursor written */
    uint64_t disk_bytes; /* sum of segs[].size */
    uint64_t *ring;      /* handed-out seqs, increasing; DONE_BIT when finished */
    size_t ring_head, ring_n;
    int dirty;      /* appended since the last fdatasync */
    int force_roll; /* next append starts a new segment */
    uint64_t recovered;
    struct xb_buf enc, rbuf;
};

static void stat_set(struct xb_wal *w, enum xb_wal_stat s, uint64_t v)
{
    if (w->stats[s])
        *w->stats[s] = v;
}

static void stat_add(struct xb_wal *w, enum xb_wal_stat s, uint64_t v)
{
    if (w->stats[s])
        *w->stats[s] += v;
}

static uint64_t current_cursor(const struct xb_wal *w)
{
    return w->ring_n ? (w->ring[w->ring_head] & ~DONE_BIT) : w->read_seq;
}

static void update_gauges(struct xb_wal *w)
{
    stat_set(w, XB_WAL_STAT_DISK_BYTES, w->disk_bytes);
    stat_set(w, XB_WAL_STAT_DISK_DOCS, xb_wal_pending(w));
}

static void seg_path(const struct xb_wal *w, uint64_t first_seq, char *out, size_t len)
{
    snprintf(out, len, "%s/%0*" PRIu64 ".seg", w->dir, SEG_NAME_DIGITS, first_seq);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
    char *c = p;
    while (n > 0) {
        ssize_t k = pread(fd, c, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        c += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static void write_cursor(struct xb_wal *w, uint64_t seq)
{
    uint8_t block[XB_WAL_CURSOR_BYTES];

    xb_wal_cursor_encode(seq, block);
    if (pwrite(w->cursor_fd, block, sizeof(block), 0) != (ssize_t)sizeof(block))
        XB_WARN("file_storage", "%s: cannot write the cursor: %s", w->dir, strerror(errno));
    w->cursor = seq;
}

/* Deletes segments every record of which is before the cursor. */
static void drop_delivered_segments(struct xb_wal *w)
{
    char path[4096];

    while (w->n_segs >= 2 && w->segs[1].first_seq <= w->cursor) {
        seg_path(w, w->segs[0].first_seq, path, sizeof(path));
        if (unlink(path) != 0 && errno != ENOENT)
            XB_WARN("file_storage", "cannot delete %s: %s", path, strerror(errno));
        w->disk_bytes -= w->segs[0].size;
        memmove(w->segs, w->segs + 1, (w->n_segs - 1) * sizeof(*w->segs));
        w->n_segs--;
        if (w->rseg == 0)
            w->roff = 0;
        else
            w->rseg--;
    }
    /* Everything delivered and the last segment full: delete it too. */
    if (w->n_segs == 1 && w->cursor == w->next_seq && w->segs[0].size >= w->segment_size) {
        seg_path(w, w->segs[0].first_seq, path, sizeof(path));
        if (w->wfd >= 0)
            close(w->wfd);
        w->wfd = -1;
        if (unlink(path) != 0 && errno != ENOENT)
            XB_WARN("file_storage", "cannot delete %s: %s", path, strerror(errno));
        w->disk_bytes -= w->segs[0].size;
        w->n_segs = 0;
        w->rseg = 0;
        w->roff = 0;
        w->dirty = 0;
    }
}

static int cmp_seg(const void *a, const void *b)
{
    const struct seg *x = a, *y = b;
    return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

static int add_seg(struct xb_wal *w, uint64_t first_seq, uint64_t size)
{
    if (w->n_segs == w->cap_segs) {
        size_t cap = w->cap_segs ? w->cap_segs * 2 : 16;
        struct seg *s = realloc(w->segs, cap * sizeof(*s));
        if (!s)
            return XB_ERR_NOMEM;
        w->segs = s;
        w->cap_segs = cap;
    }
    w->segs[w->n_segs++] = (struct seg){first_seq, size};
    return XB_OK;
}

/* Non-zero when |name| is "<20 digits>.seg"; sets |*seq|. */
static int parse_seg_name(const char *name, uint64_t *seq)
{
    uint64_t v = 0;

    if (strlen(name) != SEG_NAME_DIGITS + 4 || strcmp(name + SEG_NAME_DIGITS, ".seg") != 0)
        return 0;
    for (int i = 0; i < SEG_NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *seq = v;
    return 1;
}

static int list_segments(struct xb_wal *w, char *err, size_t err_len)
{
    DIR *d = opendir(w->dir);
    struct dirent *e;
    int rc = XB_OK;

    if (!d) {
        snprintf(err, err_len, "file_storage: cannot read %s: %s", w->dir, strerror(errno));
        return XB_ERR_IO;
    }
    while (rc == XB_OK && (e = readdir(d)) != NULL) {
        uint64_t seq;
        struct stat st;
        if (!parse_seg_name(e->d_name, &seq))
            continue;
        if (fstatat(w->dir_fd, e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        rc = add_seg(w, seq, (uint64_t)st.st_size);
    }
    closedir(d);
    if (w->n_segs > 1)
        qsort(w->segs, w->n_segs, sizeof(*w->segs), cmp_seg);
    return rc;
}

/* Scans the last segment and cuts a torn or corrupt tail. Sets next_seq. */
static int recover_tail(struct xb_wal *w, char *err, size_t err_len)
{
    struct seg *last = &w->segs[w->n_segs - 1];
    struct xb_wal_scan_result sr;
    char path[4096];
    uint8_t *data = NULL;
    int fd, rc = XB_ERR_IO;

    seg_path(w, last->first_seq, path, sizeof(path));
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "file_storage: cannot open %s: %s", path, strerror(errno));
        return XB_ERR_IO;
    }
    if (last->size) {
        data = malloc(last->size);
        if (!data) {
            rc = XB_ERR_NOMEM;
            goto out;
        }
        if (pread_all(fd, data, last->size, 0) != 0) {
            snprintf(err, err_len, "file_storage: cannot read %s: %s", path, strerror(errno));
            goto out;
        }
    }
    xb_wal_scan(data, last->size, last->first_seq, &sr);
    if (sr.good_bytes < last->size) {
        XB_WARN("file_storage",
                "%s: %s record at byte %zu (%" PRIu64 " bytes cut off); %zu records kept", path,
                sr.torn ? "incomplete" : "damaged", sr.good_bytes, last->size - sr.good_bytes,
                sr.records);
        stat_add(w, XB_WAL_STAT_CORRUPT, 1);
        if (ftruncate(fd, (off_t)sr.good_bytes) != 0) {
            snprintf(err, err_len, "file_storage: cannot truncate %s: %s", path, strerror(errno));
            goto out;
        }
        if (w->fsync)
            fdatasync(fd);
        w->disk_bytes -= last->size - sr.good_bytes;
        last->size = sr.good_bytes;
    }
    w->next_seq = sr.next_seq;
    w->wfd = fd;
    fd = -1;
    if (lseek(w->wfd, 0, SEEK_END) < 0)
        goto out;
    rc = XB_OK;
out:
    if (fd >= 0)
        close(fd);
    free(data);
    return rc;
}

static int take_lock(struct xb_wal *w, uint32_t timeout_ms, char *err, size_t err_len)
{
    struct timespec tick = {0, 10 * 1000000L};
    uint32_t waited = 0;

    w->lock_fd = openat(w->dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (w->lock_fd < 0) {
        snprintf(err, err_len, "file_storage: cannot create %s/LOCK: %s", w->dir, strerror(errno));
        return XB_ERR_IO;
    }
    while (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snprintf(err, err_len, "file_storage: cannot lock %s: %s", w->dir, strerror(errno));
            return XB_ERR_IO;
        }
        if (waited >= timeout_ms) {
            snprintf(err, err_len,
                     "file_storage: %s is locked by another process (waited %u ms, "
                     "extensions.file_storage.timeout)",
                     w->dir, timeout_ms);
            return XB_ERR_IO;
        }
        nanosleep(&tick, NULL); /* start-up only: another instance is still exiting */
        waited += 10;
    }
    return XB_OK;
}

int xb_wal_open(const struct xb_wal_opts *o, struct xb_wal **out, char *err, size_t err_len)
{
    struct xb_wal *w = calloc(1, sizeof(*w));
    uint8_t block[XB_WAL_CURSOR_BYTES];
    uint64_t cursor = 0;
    int have_cursor = 0;
    int rc = XB_ERR_NOMEM;

    *out = NULL;
    if (!w)
        return XB_ERR_NOMEM;
    w->dir_fd = w->lock_fd = w->cursor_fd = w->wfd = w->rfd = -1;
    w->max_size = o->max_size;
    w->segment_size = o->segment_size ? o->segment_size : (8u << 20);
    w->fsync = o->fsync;
    memcpy(w->stats, o->stats, sizeof(w->stats));
    xb_buf_init(&w->enc, 0);
    xb_buf_init(&w->rbuf, 0);
    w->dir = strdup(o->dir);
    w->ring = malloc(XB_WAL_MAX_OUTSTANDING * sizeof(*w->ring));
    if (!w->dir || !w->ring)
        goto fail;
    rc = XB_ERR_IO;
    if (mkdir(w->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "file_storage: cannot create %s: %s", w->dir, strerror(errno));
        goto fail;
    }
    w->dir_fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dir_fd < 0) {
        snprintf(err, err_len, "file_storage: cannot open %s: %s", w->dir, strerror(errno));
        goto fail;
    }
    rc = take_lock(w, o->lock_timeout_ms, err, err_len);
    if (rc)
        goto fail;
    rc = XB_ERR_IO;
    w->cursor_fd = openat(w->dir_fd, "cursor", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (w->cursor_fd < 0) {
        snprintf(err, err_len, "file_storage: cannot open %s/cursor: %s", w->dir, strerror(errno));
        goto fail;
    }
    if (pread(w->cursor_fd, block, sizeof(block), 0) == (ssize_t)sizeof(block) &&
        xb_wal_cursor_decode(block, sizeof(block), &cursor) == XB_OK)
        have_cursor = 1;
    rc = list_segments(w, err, err_len);
    if (rc)
        goto fail;
    for (size_t i = 0; i < w->n_segs; i++)
        w->disk_bytes += w->segs[i].size;
    if (w->n_segs) {
        rc = recover_tail(w, err, err_len);
        if (rc)
            goto fail;
        if (!have_cursor || cursor < w->segs[0].first_seq)
            cursor = w->segs[0].first_seq;
    } else {
        w->next_seq = have_cursor && cursor > 0 ? cursor : 1;
        cursor = w->next_seq; /* nothing on disk: nothing owed */
    }
    if (cursor > w->next_seq)
        cursor = w->next_seq;
    w->read_seq = cursor;
    w->cursor = cursor;
    drop_delivered_segments(w);
    write_cursor(w, cursor);
    if (w->fsync)
        fsync(w->dir_fd);
    w->recovered = w->next_seq - cursor;
    stat_set(w, XB_WAL_STAT_RECOVERED, w->recovered);
    update_gauges(w);
    *out = w;
    return XB_OK;
fail:
    xb_wal_close(w);
    return rc;
}

void xb_wal_close(struct xb_wal *w)
{
    if (!w)
        return;
    if (w->wfd >= 0 && w->dirty)
        xb_wal_sync(w);
    if (w->cursor_fd >= 0) {
        if (w->ring)
            write_cursor(w, current_cursor(w));
        fdatasync(w->cursor_fd);
        close(w->cursor_fd);
    }
    if (w->wfd >= 0)
        close(w->wfd);
    if (w->rfd >= 0)
        close(w->rfd);
    if (w->lock_fd >= 0)
        close(w->lock_fd); /* releases the flock */
    if (w->dir_fd >= 0)
        close(w->dir_fd);
    xb_buf_cleanup(&w->enc);
    xb_buf_cleanup(&w->rbuf);
    free(w->segs);
    free(w->ring);
    free(w->dir);
    free(w);
}

int xb_wal_has_room(const struct xb_wal *w, size_t docs, size_t bytes)
{
    (void)docs;
    return bytes <= w->max_size && w->disk_bytes <= w->max_size - bytes;
}

/* Starts a new segment named after next_seq. */
static int roll(struct xb_wal *w)
{
    char path[4096];
    int fd;

    seg_path(w, w->next_seq, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno ? errno : EIO;
    if (add_seg(w, w->next_seq, 0) != XB_OK) {
        close(fd);
        unlink(path);
        return ENOMEM;
    }
    if (w->wfd >= 0) {
        if (w->dirty && fdatasync(w->wfd) == 0)
            stat_add(w, XB_WAL_STAT_FSYNCS, 1);
        close(w->wfd);
    }
    w->wfd = fd;
    w->dirty = 0;
    w->force_roll = 0;
    if (w->fsync)
        fsync(w->dir_fd); /* the new name survives a power loss */
    return 0;
}

int xb_wal_append(struct xb_wal *w, struct xb_qdoc_list *l)
{
    uint64_t seq = w->next_seq;
    struct seg *last;
    int e;

    if (!l->n)
        return XB_OK;
    if (!xb_wal_has_room(w, l->n, l->bytes))
        return XB_ERR_FULL;
    xb_buf_clear(&w->enc);
    for (struct xb_qdoc *d = l->head; d; d = d->next) {
        struct xb_wal_rec r = {seq,     d->trace_id, strlen(d->trace_id), d->id, strlen(d->id),
                               d->json, d->len};
        int rc = xb_wal_encode(&r, &w->enc);
        if (rc)
            return rc;
        d->seq = seq++;
    }
    if (w->n_segs == 0 || w->wfd < 0 || w->force_roll ||
        w->segs[w->n_segs - 1].size >= w->segment_size) {
        e = roll(w);
        if (e)
            goto io_error;
    }
    last = &w->segs[w->n_segs - 1];
    e = write_all(w->wfd, w->enc.data, w->enc.len);
    if (!e && w->fsync) {
        if (fdatasync(w->wfd) != 0)
            e = errno ? errno : EIO;
        else
            stat_add(w, XB_WAL_STAT_FSYNCS, 1);
    }
    if (e) {
        /* Cut off what part of the batch reached the file: it was not acknowledged. */
        if (ftruncate(w->wfd, (off_t)last->size) != 0)
            w->force_roll = 1;
        goto io_error;
    }
    last->size += w->enc.len;
    w->disk_bytes += w->enc.len;
    w->next_seq = seq;
    w->dirty = !w->fsync;
    stat_add(w, XB_WAL_STAT_APPENDED, l->n);
    if (w->enc.cap > ENC_KEEP_BYTES)
        xb_buf_cleanup(&w->enc);
    update_gauges(w);
    return XB_OK;
io_error:
    stat_add(w, XB_WAL_STAT_WRITE_ERRORS, 1);
    XB_WARN("file_storage", "%s: cannot append %zu documents: %s", w->dir, l->n, strerror(e));
    return XB_ERR_IO;
}

int xb_wal_can_keep(const struct xb_wal *w, size_t docs_appended)
{
    return w->read_seq + docs_appended == w->next_seq &&
           w->ring_n + docs_appended <= XB_WAL_MAX_OUTSTANDING;
}

static void ring_push(struct xb_wal *w, uint64_t seq)
{
    w->ring[(w->ring_head + w->ring_n) % XB_WAL_MAX_OUTSTANDING] = seq;
    w->ring_n++;
}

void xb_wal_keep(struct xb_wal *w, const struct xb_qdoc_list *l)
{
    for (struct xb_qdoc *d = l->head; d; d = d->next)
        ring_push(w, d->seq);
    w->read_seq = w->next_seq;
    w->rseg = w->n_segs ? w->n_segs - 1 : 0;
    w->roff = w->n_segs ? w->segs[w->rseg].size : 0;
}

/* Skips the rest of the segment being read after a damaged record. */
static void skip_segment(struct xb_wal *w, const char *why)
{
    XB_WARN("file_storage",
            "%s: segment %0*" PRIu64 ": %s at byte %" PRIu64 "; skipping the rest of the segment",
            w->dir, SEG_NAME_DIGITS, w->segs[w->rseg].first_seq, why, w->roff);
    stat_add(w, XB_WAL_STAT_CORRUPT, 1);
    if (w->rseg + 1 < w->n_segs) {
        w->read_seq = w->segs[w->rseg + 1].first_seq;
        w->rseg++;
        w->roff = 0;
    } else {
        w->read_seq = w->next_seq;
        w->roff = w->segs[w->rseg].size;
        w->force_roll = 1; /* new appends must not follow the damage */
    }
}

/* Copies a length-delimited identity into a NUL-terminated string. */
static void ident(char *out, size_t size, const char *p, size_t n)
{
    if (n >= size)
        n = 0;
    memcpy(out, p, n);
    out[n] = '\0';
}

int xb_wal_read(struct xb_wal *w, size_t max_bytes, struct xb_qdoc_list *out)
{
    while (out->bytes < max_bytes && w->read_seq < w->next_seq &&
           w->ring_n < XB_WAL_MAX_OUTSTANDING && w->rseg < w->n_segs) {
        struct seg *s = &w->segs[w->rseg];
        uint8_t hdr[XB_WAL_HEADER_BYTES];
        struct xb_wal_rec r;
        char tid[XB_QDOC_TRACE_ID_SIZE], id[XB_QDOC_ID_SIZE];
        struct xb_qdoc *d;
        size_t used;
        uint32_t plen;

        if (w->roff >= s->size) {
            if (w->rseg + 1 >= w->n_segs)
                break;
            w->rseg++;
            w->roff = 0;
            continue;
        }
        if (w->rfd < 0 || w->rfd_seq != s->first_seq) {
            char path[4096];
            if (w->rfd >= 0)
                close(w->rfd);
            seg_path(w, s->first_seq, path, sizeof(path));
            w->rfd = open(path, O_RDONLY | O_CLOEXEC);
            w->rfd_seq = s->first_seq;
            if (w->rfd < 0) {
                skip_segment(w, strerror(errno));
                continue;
            }
        }
        if (s->size - w->roff < XB_WAL_HEADER_BYTES ||
            pread_all(w->rfd, hdr, sizeof(hdr), w->roff)) {
            skip_segment(w, "unreadable record header");
            continue;
        }
        plen = get_u32(hdr);
        if (plen > XB_WAL_MAX_PAYLOAD || plen > s->size - w->roff - XB_WAL_HEADER_BYTES) {
            skip_segment(w, "bad record length");
            continue;
        }
        xb_buf_clear(&w->rbuf);
        if (xb_buf_reserve(&w->rbuf, XB_WAL_HEADER_BYTES + plen + 1))
            return XB_ERR_NOMEM;
        memcpy(w->rbuf.data, hdr, sizeof(hdr));
        if (pread_all(w->rfd, w->rbuf.data + XB_WAL_HEADER_BYTES, plen,
                      w->roff + XB_WAL_HEADER_BYTES)) {
            skip_segment(w, "unreadable record");
            continue;
        }
        if (xb_wal_decode((const uint8_t *)w->rbuf.data, XB_WAL_HEADER_BYTES + plen, &r, &used) !=
            XB_OK) {
            skip_segment(w, "damaged record (CRC)");
            continue;
        }
        if (r.seq < w->read_seq) { /* delivered before the restart */
            w->roff += used;
            continue;
        }
        ident(tid, sizeof(tid), r.trace_id, r.trace_id_len);
        ident(id, sizeof(id), r.id, r.id_len);
        d = xb_qdoc_new_ids(r.data, r.len, tid, id);
        if (!d)
            return XB_ERR_NOMEM;
        d->seq = r.seq;
        xb_qdoc_list_add(out, d);
        ring_push(w, r.seq);
        w->read_seq = r.seq + 1;
        w->roff += used;
    }
    if (w->rbuf.cap > ENC_KEEP_BYTES)
        xb_buf_cleanup(&w->rbuf);
    return XB_OK;
}

size_t xb_wal_readable(const struct xb_wal *w)
{
    if (w->ring_n >= XB_WAL_MAX_OUTSTANDING || w->read_seq >= w->next_seq)
        return 0;
    return (size_t)(w->next_seq - w->read_seq);
}

size_t xb_wal_pending(const struct xb_wal *w)
{
    return (size_t)(w->next_seq - current_cursor(w));
}

void xb_wal_done(struct xb_wal *w, uint64_t seq)
{
    size_t lo = 0, hi = w->ring_n;
    uint64_t c;

    while (lo < hi) { /* the ring is sorted by seq */
        size_t mid = lo + (hi - lo) / 2;
        uint64_t v = w->ring[(w->ring_head + mid) % XB_WAL_MAX_OUTSTANDING] & ~DONE_BIT;
        if (v < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == w->ring_n ||
        (w->ring[(w->ring_head + lo) % XB_WAL_MAX_OUTSTANDING] & ~DONE_BIT) != seq)
        return;
    w->ring[(w->ring_head + lo) % XB_WAL_MAX_OUTSTANDING] |= DONE_BIT;
    while (w->ring_n && (w->ring[w->ring_head] & DONE_BIT)) {
        w->ring_head = (w->ring_head + 1) % XB_WAL_MAX_OUTSTANDING;
        w->ring_n--;
    }
    c = current_cursor(w);
    if (c > w->cursor) {
        write_cursor(w, c);
        drop_delivered_segments(w);
    }
    update_gauges(w);
}

int xb_wal_sync(struct xb_wal *w)
{
    if (!w->dirty || w->wfd < 0)
        return XB_OK;
    if (fdatasync(w->wfd) != 0) {
        stat_add(w, XB_WAL_STAT_WRITE_ERRORS, 1);
        XB_WARN("file_storage", "%s: fdatasync failed: %s", w->dir, strerror(errno));
        return XB_ERR_IO;
    }
    stat_add(w, XB_WAL_STAT_FSYNCS, 1);
    w->dirty = 0;
    return XB_OK;
}

size_t xb_wal_recovered(const struct xb_wal *w)
{
    return (size_t)w->recovered;
}
