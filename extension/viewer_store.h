/*
 * extension/viewer_store.h - the viewer's bounded store of recent X-Ray documents.
 *
 * Keeps copies of the segment documents the pipeline produced, grouped into traces by
 * X-Ray trace id, so that the viewer pages (extension/viewer.h, docs/viewer.md) can show
 * them. Two caps, both fixed at creation: a number of traces and a number of bytes (each
 * document charged xb_viewer_store_doc_charge(), each trace XB_VIEWER_TRACE_CHARGE). When
 * an insert would pass either cap, the least recently updated traces are evicted first.
 * Inserting is a hash lookup and one copy; nothing is parsed here.
 * Documents of a trace are kept in arrival order, packed into blocks the trace owns (8 KiB
 * doubling to 64 KiB, or one document's size when larger), so that inserting costs a
 * malloc only once per block and evicting a trace frees a few blocks; the caps count the
 * blocks' whole size. A document sent again with the same id (an in-progress segment
 * completed later) is kept too, and readers use the last one.
 * Single-threaded (the event-loop thread).
 */
#ifndef XB_EXTENSION_VIEWER_STORE_H
#define XB_EXTENSION_VIEWER_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Size of an X-Ray trace id string, NUL included ("1-xxxxxxxx-" + 24 hex digits). */
#define XB_VIEWER_TRACE_ID_SIZE 36
/* Size of a segment id string, NUL included (16 hex digits). */
#define XB_VIEWER_ID_SIZE 17

/* One stored document (owned by the store; read-only for callers). json is
 * NUL-terminated, len excludes the NUL. */
struct xb_viewer_doc {
    struct xb_viewer_doc *next; /* next in arrival order within the trace */
    uint64_t seq;               /* store-wide arrival number, from 1 */
    char id[XB_VIEWER_ID_SIZE]; /* the document's "id" as the pipeline gave it; may be "" */
    size_t len;
    char json[];
};

struct xb_viewer_block; /* private to viewer_store.c */

/* One trace (owned by the store; read-only for callers). */
struct xb_viewer_trace {
    char trace_id[XB_VIEWER_TRACE_ID_SIZE];
    struct xb_viewer_doc *head, *tail; /* arrival order */
    size_t n_docs;
    size_t bytes;                          /* charged bytes, XB_VIEWER_TRACE_CHARGE included */
    uint64_t first_seen_ns;                /* wall clock of the first document, ns */
    uint64_t last_seen_ns;                 /* wall clock of the latest document, ns */
    struct xb_viewer_trace *newer, *older; /* recency list (by last update) */
    struct xb_viewer_trace *hnext;         /* hash chain */
    struct xb_viewer_block *bhead, *btail; /* storage, oldest first */
};

/* Counters and sizes of a store (documents and bytes currently held, and totals). */
struct xb_viewer_store_stats {
    size_t traces, documents, bytes;
    size_t max_traces, max_bytes;
    uint64_t stored_documents;  /* documents accepted since creation */
    uint64_t evicted_traces;    /* traces dropped to stay within the caps */
    uint64_t evicted_documents; /* documents dropped with them */
    uint64_t refused_documents; /* larger than max_bytes alone, or without a trace id */
};

struct xb_viewer_store;

/* Bytes one trace costs besides its documents. */
#define XB_VIEWER_TRACE_CHARGE (sizeof(struct xb_viewer_trace))

/* Bytes a document of |len| JSON bytes takes inside a block (header, bytes and NUL,
 * rounded up to 8). */
size_t xb_viewer_store_doc_charge(size_t len);

/*
 * A store holding at most |max_traces| traces (>= 1) and |max_bytes| charged bytes
 * (>= 1). Its hash table (8 bytes per slot, a power of two >= max_traces, at most 2^20
 * slots) is allocated here and is not part of max_bytes: xb_viewer_store_index_bytes().
 * NULL on a zero cap or no memory.
 */
struct xb_viewer_store *xb_viewer_store_new(size_t max_traces, size_t max_bytes);

/* Bytes of the hash table a store with |max_traces| allocates. */
size_t xb_viewer_store_index_bytes(size_t max_traces);

/* Frees |s| and every document. NULL is a no-op. */
void xb_viewer_store_free(struct xb_viewer_store *s);

/*
 * Copies one document (|json|, |len| bytes, borrowed) into the trace |trace_id|
 * (NUL-terminated X-Ray trace id), |id| its segment id (NULL or over-long = ""), at wall
 * time |now_ns|. The trace becomes the most recently updated; when a new block is needed,
 * least recently updated traces are evicted until both caps hold, and a trace that alone
 * would pass max_bytes drops its own oldest blocks. Returns XB_OK; XB_ERR_INVALID when
 * |trace_id| is NULL, empty or longer than an X-Ray trace id; XB_ERR_TOO_LARGE when the
 * document in a block of its own and its trace alone exceed max_bytes; XB_ERR_NOMEM. Refusals are
 * counted in refused_documents; the store is unchanged by any error.
 */
int xb_viewer_store_add(struct xb_viewer_store *s, const char *json, size_t len,
                        const char *trace_id, const char *id, uint64_t now_ns);

/* The trace |trace_id|, or NULL. The pointer is valid until the next add. */
const struct xb_viewer_trace *xb_viewer_store_find(const struct xb_viewer_store *s,
                                                   const char *trace_id);

/* The most recently updated trace, or NULL when empty; then follow ->older. */
const struct xb_viewer_trace *xb_viewer_store_newest(const struct xb_viewer_store *s);

/* Fills |out| with the current sizes and counters. */
void xb_viewer_store_stats(const struct xb_viewer_store *s, struct xb_viewer_store_stats *out);

#endif
