/*
 * core/wal.h - the on-disk log behind a durable sending queue (sending_queue.storage
 * with extensions.file_storage, docs/durability.md).
 *
 * A directory of segment files "<first seq, 20 digits>.seg", each a sequence of records
 *   u32 payload length | u32 CRC-32 of the payload (zlib crc32) | payload
 * little-endian, where the payload is
 *   u64 seq | u8 trace id length | trace id | u8 id length | id | document bytes.
 * The log stores opaque documents: any exporter's queue can use it. Every record gets the
 * next sequence number; a file "cursor" holds the sequence number of the oldest record
 * not yet delivered, rewritten in place (pwrite of one 24-byte block) whenever delivery
 * of the contiguous prefix advances it, so documents finished out of order by concurrent
 * workers are handled. A segment is deleted once every record in it is delivered.
 *
 * Only the records the exporter is working on live in memory: the log tracks the
 * sequence numbers handed out (at most XB_WAL_MAX_OUTSTANDING) and the read position
 * of the rest. Everything runs on the event-loop thread. Pure parts (record encode /
 * decode, recovery scan, cursor block) are exported for tests and the fuzz target.
 */
#ifndef XB_CORE_WAL_H
#define XB_CORE_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/queue.h"

#define XB_WAL_HEADER_BYTES 8u
/* Largest payload accepted when reading: a longer length field is corruption. */
#define XB_WAL_MAX_PAYLOAD (16u << 20)
/* Most documents handed out (loaded into memory) and not yet finished at once. */
#define XB_WAL_MAX_OUTSTANDING 262144u
#define XB_WAL_CURSOR_BYTES 24u

/* One decoded record. Pointers borrow from the buffer that was decoded. */
struct xb_wal_rec {
    uint64_t seq;
    const char *trace_id;
    size_t trace_id_len; /* < 256 */
    const char *id;
    size_t id_len; /* < 256 */
    const char *data;
    size_t len;
};

/* Bytes the record of a document with these field lengths takes on disk. */
size_t xb_wal_record_size(size_t trace_id_len, size_t id_len, size_t data_len);

/* Appends the encoded record |r| to |out|. Returns 0, XB_ERR_INVALID when an identity
 * field is 256 bytes or longer, or XB_ERR_NOMEM. */
int xb_wal_encode(const struct xb_wal_rec *r, struct xb_buf *out);

/*
 * Decodes the record at the start of |p| (|avail| bytes). Returns 0 with |*out| and
 * |*consumed| set; XB_ERR_AGAIN when |p| holds only part of a record (a torn tail when
 * nothing follows); XB_ERR_INVALID when the length is 0 or above XB_WAL_MAX_PAYLOAD, the
 * CRC does not match or the payload's fields do not fit.
 */
int xb_wal_decode(const uint8_t *p, size_t avail, struct xb_wal_rec *out, size_t *consumed);

/* What start-up recovery decided about one segment's bytes. */
struct xb_wal_scan_result {
    size_t good_bytes; /* length of the valid prefix: the file is truncated to this */
    size_t records;    /* records in that prefix */
    uint64_t next_seq; /* sequence number after the last valid record */
    int torn;          /* the bytes after the prefix are an incomplete record */
    int corrupt;       /* ... or a record failing its length, CRC or sequence check */
};

/*
 * Recovery decision for one segment (pure): walks the records of |p| (|len| bytes) whose
 * first must carry |first_seq| and each next one the following number, and stops at the
 * first record that is incomplete, invalid or out of sequence. Never reads past |len|.
 */
void xb_wal_scan(const uint8_t *p, size_t len, uint64_t first_seq, struct xb_wal_scan_result *out);

/* Encodes the cursor block for |seq| into |out| (XB_WAL_CURSOR_BYTES bytes). */
void xb_wal_cursor_encode(uint64_t seq, uint8_t *out);

/* Decodes a cursor block (|len| bytes). Returns 0 with |*seq| set, or XB_ERR_INVALID
 * (short, bad magic or CRC: recovery then starts at the oldest segment). */
int xb_wal_cursor_decode(const uint8_t *p, size_t len, uint64_t *seq);

/* Counters the log updates (caller-owned, e.g. metric values); any may be NULL. */
enum xb_wal_stat {
    XB_WAL_STAT_DISK_BYTES = 0, /* gauge: bytes of segment files */
    XB_WAL_STAT_DISK_DOCS,      /* gauge: documents appended and not delivered */
    XB_WAL_STAT_APPENDED,       /* counter: documents appended */
    XB_WAL_STAT_FSYNCS,         /* counter: fdatasync calls */
    XB_WAL_STAT_RECOVERED,      /* gauge: documents found undelivered at start-up */
    XB_WAL_STAT_CORRUPT,        /* counter: damaged records skipped */
    XB_WAL_STAT_WRITE_ERRORS,   /* counter: failed appends (ENOSPC, EIO, ...) */
    XB_WAL_STAT_COUNT
};

struct xb_wal_opts {
    const char *dir;          /* directory of this queue; created if missing (borrowed) */
    size_t max_size;          /* cap on segment file bytes */
    size_t segment_size;      /* roll over to a new segment past this many bytes */
    int fsync;                /* 1: fdatasync after every append call */
    uint32_t lock_timeout_ms; /* wait this long for another process's lock on dir */
    uint64_t *stats[XB_WAL_STAT_COUNT];
};

struct xb_wal;

/*
 * Opens (creating) the log in |o->dir|: takes an exclusive flock on "<dir>/LOCK", reads
 * the cursor, deletes segments wholly before it, scans the last segment and truncates a
 * torn or corrupt tail (counted in XB_WAL_STAT_CORRUPT). Returns 0 and |*out|; XB_ERR_IO
 * with a message in |err| when the directory cannot be used or is locked;
 * XB_ERR_NOMEM.
 */
int xb_wal_open(const struct xb_wal_opts *o, struct xb_wal **out, char *err, size_t err_len);

/*
 * Syncs (when data is unsynced), writes the cursor, releases the lock and frees |w|.
 * Documents handed out and not finished stay in the log for the next start. NULL is a
 * no-op.
 */
void xb_wal_close(struct xb_wal *w);

/* Non-zero when |docs| documents charging |bytes| (sum of xb_qdoc_charge(), an upper
 * bound of their record sizes) fit under max_size now. */
int xb_wal_has_room(const struct xb_wal *w, size_t docs, size_t bytes);

/*
 * Appends every document of |l| (sets each ->seq), in one write, then fdatasyncs when
 * the log was opened with fsync. Returns 0; XB_ERR_FULL when max_size has no room;
 * XB_ERR_IO when writing failed (the partial write is cut off again). On error nothing
 * was appended.
 */
int xb_wal_append(struct xb_wal *w, struct xb_qdoc_list *l);

/* Non-zero when the last append's documents can be kept in memory instead of read
 * back: everything before them was already handed out and there is room to track them. */
int xb_wal_can_keep(const struct xb_wal *w, size_t docs_appended);

/* Hands out the documents of the last append (all of |l|, just appended) directly. */
void xb_wal_keep(struct xb_wal *w, const struct xb_qdoc_list *l);

/*
 * Reads documents not yet handed out, oldest first, into |out| until it holds at least
 * |max_bytes| (by xb_qdoc_charge()) or nothing readable is left. A damaged record stops
 * the reading of its segment: it and the rest of that segment are counted and skipped.
 * Returns 0 or XB_ERR_NOMEM.
 */
int xb_wal_read(struct xb_wal *w, size_t max_bytes, struct xb_qdoc_list *out);

/* Documents that xb_wal_read() can hand out now. */
size_t xb_wal_readable(const struct xb_wal *w);

/* Documents appended and not finished (handed out or not). */
size_t xb_wal_pending(const struct xb_wal *w);

/* The exporter finished document |seq| (delivered or dropped for good). */
void xb_wal_done(struct xb_wal *w, uint64_t seq);

/* fdatasync of the segment being written when appends since the last sync exist. */
int xb_wal_sync(struct xb_wal *w);

/* Documents found undelivered at open. */
size_t xb_wal_recovered(const struct xb_wal *w);

#endif
