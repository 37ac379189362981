/*
 * core/qdoc_block.h - queue documents allocated many to a block.
 *
 * An ingest thread translating one request places its documents (struct xb_qdoc,
 * core/queue.h) one after the other in blocks of up to XB_QDOC_BLOCK_SIZE bytes (sized
 * per request, xb_qdoc_block_size_for()) instead of one malloc each; the exporters free
 * them on the main loop. Each block counts its documents in an atomic reference count:
 * xb_qdoc_free() on a document drops one, and the last one frees the block, on
 * whichever thread that is. A block is filled by one thread for one request and sealed
 * before any of its documents is pushed into a queue; after that its header is
 * read-only. Placing a document takes no atomic operation: the count is biased while
 * the block is open and set to the documents placed when sealed.
 *
 * Budgets: a document's xb_qdoc_charge() is its own allocation size, and the document
 * placed last in a block is also charged the block's slack (its header, the alignment
 * padding between documents and the unused tail), so the charges of a block's documents
 * add up to the block's whole allocation and a queue's byte cap still bounds real memory.
 * Sealing gives the unused tail back (realloc) when it is worth it.
 *
 * A document that stays queued while the rest of its block is gone (a retry) would pin
 * the whole block: xb_qdoc_own() copies it out first (core/queue.c xb_queue_requeue()).
 */
#ifndef XB_CORE_QDOC_BLOCK_H
#define XB_CORE_QDOC_BLOCK_H

#include <stddef.h>

#include "core/queue.h"

/* Largest block (and the size when none is set), bytes, header included. */
#define XB_QDOC_BLOCK_SIZE ((size_t)64 * 1024)
/* A document charging more than this gets its own allocation. */
#define XB_QDOC_BLOCK_MAX_DOC (XB_QDOC_BLOCK_SIZE / 4)

struct xb_qdoc_block;

/* One thread's open block while it collects one request's documents. Zero-initialise. */
struct xb_qdoc_blocks {
    struct xb_qdoc_block *open; /* NULL = none */
    size_t size; /* bytes of each new block, from xb_qdoc_block_size_for(); 0 = the most */
};

/* Smallest block xb_qdoc_block_size_for() picks, bytes, header included. */
#define XB_QDOC_BLOCK_MIN_SIZE ((size_t)4 * 1024)

/*
 * Pure: the block size (bytes) for a request whose OTLP body is |body_len| bytes, so
 * that a small request does not take (and then give back most of) a 64 KiB block: about
 * twice the body (the documents of the standard request take 2 bytes per byte of
 * protobuf; OTLP/JSON bodies less), plus 1 KiB, rounded up to a power of two within
 * [XB_QDOC_BLOCK_MIN_SIZE, XB_QDOC_BLOCK_SIZE]. A document that does not fit a block of
 * this size still gets one of its own size (xb_qdoc_blocks_new()).
 */
size_t xb_qdoc_block_size_for(size_t body_len);

/*
 * Like xb_qdoc_new_ids(), placing the document in |b|'s open block (a new block when it
 * does not fit; the full one is sealed first, see xb_qdoc_blocks_seal()). A document
 * charging more than XB_QDOC_BLOCK_MAX_DOC gets its own allocation. |l| is the list the
 * caller collects the request's documents in: sealing adds the slack to l->bytes and
 * fixes its links if the block moved. The caller then adds the returned document to
 * |l| (xb_qdoc_list_add). Returns NULL on allocation failure.
 */
struct xb_qdoc *xb_qdoc_blocks_new(struct xb_qdoc_blocks *b, struct xb_qdoc_list *l,
                                   const char *json, size_t len, const char *trace_id,
                                   const char *id);

/*
 * Seals |b|'s open block, if any: shrinks it to what it holds when the unused tail is
 * large (realloc; if the block moves, every link of |l| into it is fixed), charges the
 * slack to its last document (adding it to l->bytes) and drops the block's own
 * reference (freeing it when no document is left in it). Every document of the block
 * must be in |l| or already freed. Call before |l| is pushed or handed over, and after
 * |l| is cleared on a failure path; sealing twice is a no-op.
 */
void xb_qdoc_blocks_seal(struct xb_qdoc_blocks *b, struct xb_qdoc_list *l);

/* Bytes on top of its own allocation size that |d| (placed in a block) is charged: the
 * slack of its block when it is the last document placed there, else 0. */
size_t xb_qdoc_block_extra(const struct xb_qdoc *d);

/* Drops the reference |d| (placed in a block) holds on its block; the last frees it.
 * Thread-safe. Called by xb_qdoc_free(). */
void xb_qdoc_block_release(struct xb_qdoc *d);

/* The realloc() sealing shrinks blocks with; tests replace it to make blocks move. */
extern void *(*xb_qdoc_block_realloc)(void *p, size_t size);

/* References held on the block of |d| (placed in a block): its documents not yet freed,
 * plus one while it is open. For tests. */
size_t xb_qdoc_block_refs(const struct xb_qdoc *d);

/*
 * A copy of |d| in its own allocation, identity and log position (seq) included, or NULL
 * on no memory: xb_qdoc_dup() keeping seq. |d| is left as it was (the caller frees it).
 */
struct xb_qdoc *xb_qdoc_own(const struct xb_qdoc *d);

#endif
