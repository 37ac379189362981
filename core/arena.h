/*
 * core/arena.h - per-request bump allocator.
 *
 * Everything decoded and translated for one request (protobuf-c messages, strings,
 * translated documents before they are queued) is allocated here and released at
 * once with xb_arena_free()/xb_arena_reset(). Allocations are 16-byte aligned and
 * never freed individually. The arena has a hard byte cap so a hostile request
 * cannot grow memory without bound.
 */
#ifndef XB_CORE_ARENA_H
#define XB_CORE_ARENA_H

#include <stddef.h>

struct xb_arena;

/*
 * Creates an arena that allocates |block_bytes| chunks from the heap (requests larger
 * than a block get their own chunk) and refuses to hold more than |max_bytes| in
 * total (0 = no cap). Returns NULL on allocation failure. Free with xb_arena_free().
 */
struct xb_arena *xb_arena_new(size_t block_bytes, size_t max_bytes);

/* Frees the arena and everything allocated from it. NULL is a no-op. */
void xb_arena_free(struct xb_arena *a);

/* Releases every allocation. The first block stays for reuse; further standard-size
 * blocks up to 1 MiB and the largest own chunk of a large allocation up to 256 KiB stay
 * as spares that later allocations take before the heap (within the cap: a chunk that
 * would not fit under it frees them first). */
void xb_arena_reset(struct xb_arena *a);

/*
 * Returns |n| bytes (16-byte aligned, uninitialised) owned by the arena, or NULL when
 * the heap is exhausted or the cap would be exceeded. n == 0 returns a valid pointer.
 */
void *xb_arena_alloc(struct xb_arena *a, size_t n);

/* Like xb_arena_alloc() but zero-filled. */
void *xb_arena_calloc(struct xb_arena *a, size_t n);

/* Copies |len| bytes of |s| into the arena and NUL-terminates. NULL on failure. */
char *xb_arena_strndup(struct xb_arena *a, const char *s, size_t len);

/*
 * Returns non-zero when an allocation was refused (cap, heap or test hook) since the
 * arena was created or last reset: lets callers tell "out of memory" from "bad input"
 * when a library (protobuf-c) reports both as one failure.
 */
int xb_arena_exhausted(const struct xb_arena *a);

/* Bytes handed out plus bytes wasted to alignment/block tails since the last reset. */
size_t xb_arena_used(const struct xb_arena *a);

/* Payload bytes the arena holds from the heap: chunks in use and spares. At most the
 * cap given to xb_arena_new() when there is one. */
size_t xb_arena_held(const struct xb_arena *a);

/*
 * A point in an arena's history (xb_arena_mark()) that xb_arena_release() can roll
 * back to. Opaque to callers; valid until the arena is reset or freed.
 */
struct xb_arena_mark {
    void *head;      /* the current chunk when the mark was taken (NULL: none) */
    void *head_next; /* its successor then */
    size_t head_used;
    size_t used;
    int exhausted;
};

/* Records the arena's current state in |*m|. */
void xb_arena_mark(const struct xb_arena *a, struct xb_arena_mark *m);

/*
 * Releases every allocation made since |m| was taken (chunks created since then go
 * back to the heap or become spares, as in xb_arena_reset(); the exhausted flag
 * returns to its value at the mark), so that a caller can abandon a partial result and
 * try another way within the same cap. Pointers handed out since the mark become
 * invalid.
 */
void xb_arena_release(struct xb_arena *a, const struct xb_arena_mark *m);

/*
 * Test hook: the |n|-th allocation from now on (1 = the next one) and every later one
 * fails, as if the cap were hit. n == 0 disables the hook.
 */
void xb_arena_fail_after(struct xb_arena *a, size_t n);

#endif
