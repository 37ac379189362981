#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16u

struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, aligned */
};

struct xb_arena {
    struct chunk *head;  /* current chunk; older chunks follow via next */
    struct chunk *spare; /* standard-size chunks given back by a reset or release */
    size_t spare_bytes;  /* their payload bytes, at most RETAIN_BYTES */
    struct chunk *big;   /* the largest large chunk given back, at most RETAIN_BIG bytes */
    size_t block_bytes;
    size_t max_bytes;
    size_t total; /* bytes of chunk payload held from the heap, spare chunks included */
    size_t used;
    size_t fail_countdown; /* 0 = off */
    int exhausted;         /* an allocation was refused since the last reset */
};

/* Spare chunks an arena keeps at most, payload bytes: twice what the standard request
 * takes of them in a worker's arena (seven chunks of 64 KiB; docs/performance.md,
 * fourteenth round), so that requests in a row do not each take their chunks from the
 * heap and give them back. They stay within the arena's cap, which the memory budget
 * already charges (receiver/ingest.c). */
#define RETAIN_BYTES ((size_t)1 << 20)
/* The one large chunk (an allocation above a quarter of a block) an arena keeps at
 * most, payload bytes: the wire decoder's string pool of the standard request takes
 * one of 73,664 bytes. */
#define RETAIN_BIG ((size_t)256 * 1024)

#define HDR (((sizeof(struct chunk) + ALIGN - 1) / ALIGN) * ALIGN)

static unsigned char *chunk_data(struct chunk *c)
{
    return (unsigned char *)c + HDR;
}

static void free_chunks(struct chunk *c)
{
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
}

/* Gives the spare chunks back to the heap. */
static void free_spares(struct xb_arena *a)
{
    a->total -= a->spare_bytes + (a->big ? a->big->size : 0);
    free_chunks(a->spare);
    free(a->big);
    a->spare = a->big = NULL;
    a->spare_bytes = 0;
}

/* Keeps the unlinked chunk |c| as a spare (standard-size, while the spares stay under
 * RETAIN_BYTES) or as the large spare (when larger than the one kept, up to
 * RETAIN_BIG), or frees it. */
static void give_back(struct xb_arena *a, struct chunk *c)
{
    if (c->size == a->block_bytes && a->spare_bytes + c->size <= RETAIN_BYTES) {
        c->next = a->spare;
        a->spare = c;
        a->spare_bytes += c->size;
        return;
    }
    if (c->size != a->block_bytes && c->size <= RETAIN_BIG && (!a->big || a->big->size < c->size)) {
        struct chunk *old = a->big;
        a->big = c;
        c = old;
        if (!c)
            return;
    }
    a->total -= c->size;
    free(c);
}

static struct chunk *chunk_new(struct xb_arena *a, size_t size)
{
    struct chunk *c;

    if (size == a->block_bytes && a->spare) {
        c = a->spare;
        a->spare = c->next;
        a->spare_bytes -= c->size;
        c->used = 0;
        return c;
    }
    if (size != a->block_bytes && a->big && a->big->size >= size && a->big->size / 2 <= size) {
        c = a->big; /* |size| fits without wasting half of it; the chunk keeps its size */
        a->big = NULL;
        c->used = 0;
        return c;
    }
    if (a->max_bytes && (size > a->max_bytes || a->total > a->max_bytes - size)) {
        free_spares(a); /* what the spares hold makes room first */
        if (size > a->max_bytes || a->total > a->max_bytes - size)
            return NULL;
    }
    if (size > SIZE_MAX - HDR)
        return NULL;
    c = malloc(HDR + size);
    if (!c)
        return NULL;
    c->size = size;
    c->used = 0;
    a->total += size;
    return c;
}

struct xb_arena *xb_arena_new(size_t block_bytes, size_t max_bytes)
{
    struct xb_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->block_bytes = block_bytes < 256 ? 256 : block_bytes;
    a->max_bytes = max_bytes;
    return a;
}

void xb_arena_free(struct xb_arena *a)
{
    if (!a)
        return;
    free_spares(a);
    free_chunks(a->head);
    free(a);
}

void xb_arena_reset(struct xb_arena *a)
{
    struct chunk *keep = NULL;
    struct chunk *c = a->head;

    /* Keep one standard-size block as the head and the others as spares (the oldest
     * one is always standard-size or larger). */
    while (c) {
        struct chunk *next = c->next;
        if (!keep && c->size == a->block_bytes) {
            keep = c;
            keep->next = NULL;
        } else {
            give_back(a, c);
        }
        c = next;
    }
    a->head = keep;
    if (keep)
        keep->used = 0;
    a->used = 0;
    a->fail_countdown = 0;
    a->exhausted = 0;
}

static void *alloc(struct xb_arena *a, size_t n);

void *xb_arena_alloc(struct xb_arena *a, size_t n)
{
    void *p = alloc(a, n);
    if (!p)
        a->exhausted = 1;
    return p;
}

int xb_arena_exhausted(const struct xb_arena *a)
{
    return a->exhausted;
}

static void *alloc(struct xb_arena *a, size_t n)
{
    struct chunk *c = a->head;
    size_t need;
    void *p;

    if (a->fail_countdown) {
        if (a->fail_countdown == 1)
            return NULL;
        a->fail_countdown--;
    }
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    if (!c || c->size - c->used < need) {
        if (need > a->block_bytes / 4) {
            /* Large allocation: its own chunk, linked behind the current one so the
             * current chunk's free tail stays usable. */
            struct chunk *big = chunk_new(a, need);
            if (!big)
                return NULL;
            big->used = need;
            if (c) {
                big->next = c->next;
                c->next = big;
            } else {
                big->next = NULL;
                a->head = big;
            }
            a->used += need;
            return chunk_data(big);
        }
        c = chunk_new(a, a->block_bytes);
        if (!c)
            return NULL;
        c->next = a->head;
        a->head = c;
    }
    p = chunk_data(c) + c->used;
    c->used += need;
    a->used += need;
    return p;
}

void *xb_arena_calloc(struct xb_arena *a, size_t n)
{
    void *p = xb_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *xb_arena_strndup(struct xb_arena *a, const char *s, size_t len)
{
    char *p;
    if (len == SIZE_MAX)
        return NULL;
    p = xb_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t xb_arena_used(const struct xb_arena *a)
{
    return a->used;
}

size_t xb_arena_held(const struct xb_arena *a)
{
    return a->total;
}

void xb_arena_fail_after(struct xb_arena *a, size_t n)
{
    a->fail_countdown = n;
}

void xb_arena_mark(const struct xb_arena *a, struct xb_arena_mark *m)
{
    m->head = a->head;
    m->head_next = a->head ? a->head->next : NULL;
    m->head_used = a->head ? a->head->used : 0;
    m->used = a->used;
    m->exhausted = a->exhausted;
}

/* Unlinks the chunks from |c| up to (not including) |stop| and gives them back. */
static void drop_chunks(struct xb_arena *a, struct chunk *c, struct chunk *stop)
{
    while (c && c != stop) {
        struct chunk *next = c->next;
        give_back(a, c);
        c = next;
    }
}

void xb_arena_release(struct xb_arena *a, const struct xb_arena_mark *m)
{
    struct chunk *old = m->head;

    /* New chunks are either pushed in front of the current head or (large ones)
     * linked right behind it, so everything created since the mark lies before
     * |old| or between |old| and its successor at the time of the mark. */
    if (!old) {
        drop_chunks(a, a->head, NULL);
        a->head = NULL;
    } else {
        drop_chunks(a, a->head, old);
        drop_chunks(a, old->next, m->head_next);
        old->next = m->head_next;
        old->used = m->head_used;
        a->head = old;
    }
    a->used = m->used;
    a->exhausted = m->exhausted;
}
