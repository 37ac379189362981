#include "core/qdoc_block.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Documents start on multiples of OFF_UNIT bytes from their block's start, and
 * struct xb_qdoc's block_off counts in these units. */
#define OFF_UNIT 8
_Static_assert(OFF_UNIT % alignof(struct xb_qdoc) == 0, "documents stay aligned");
_Static_assert(XB_QDOC_BLOCK_SIZE / OFF_UNIT <= UINT16_MAX, "an offset fits block_off");
/* The header has no padding: block_off and embedded take no room of their own. */
_Static_assert(offsetof(struct xb_qdoc, json) == offsetof(struct xb_qdoc, id) + XB_QDOC_ID_SIZE,
               "struct xb_qdoc has no padding");
/* Sealing gives back an unused tail of at least this many bytes (realloc); a smaller
 * one is only charged. */
#define SHRINK_MIN 1024

/* While a block is open its count starts at BIAS and only frees (on the filling thread,
 * a failure path) take from it, so placing a document costs no atomic operation (a
 * locked instruction there waits for the document's stores to drain); sealing swaps the
 * bias for the number of documents placed in one step. */
#define BIAS ((size_t)1 << (sizeof(size_t) * 8 - 2))

struct xb_qdoc_block {
    atomic_size_t refs; /* sealed: documents not freed; open: BIAS - documents freed */
    size_t n;           /* documents placed */
    size_t size;        /* bytes allocated, header included */
    size_t used;        /* bytes placed, header included */
    size_t placed;      /* sum of the own sizes of the documents placed */
    size_t last;        /* offset of the document placed last; 0 = none yet */
    size_t slack;       /* charged to that document on top of its own (set when sealed) */
};

void *(*xb_qdoc_block_realloc)(void *p, size_t size) = realloc;

static size_t round_up(size_t n)
{
    return (n + OFF_UNIT - 1) / OFF_UNIT * OFF_UNIT;
}

#define HEADER round_up(sizeof(struct xb_qdoc_block))

static struct xb_qdoc_block *block_of(const struct xb_qdoc *d)
{
    return (struct xb_qdoc_block *)((char *)d - (size_t)d->block_off * OFF_UNIT);
}

static void block_release(struct xb_qdoc_block *k)
{
    if (atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
        free(k);
}

/* After the block at |old| (|size| bytes) moved to |k|: points every link of |l| that
 * pointed into it to the same offset in |k|. */
static void relink(struct xb_qdoc_list *l, uintptr_t old, size_t size, struct xb_qdoc_block *k)
{
#define MOVE(p)                                                                                    \
    do {                                                                                           \
        if ((p) && (uintptr_t)(p)-old < size)                                                      \
            (p) = (struct xb_qdoc *)((char *)k + ((uintptr_t)(p)-old));                            \
    } while (0)
    MOVE(l->head);
    MOVE(l->tail);
    for (struct xb_qdoc *d = l->head; d; d = d->next)
        MOVE(d->next);
#undef MOVE
}

void xb_qdoc_blocks_seal(struct xb_qdoc_blocks *b, struct xb_qdoc_list *l)
{
    struct xb_qdoc_block *k = b->open;

    if (!k)
        return;
    b->open = NULL;
    /* Nothing of this block has left this thread yet: either every document placed in it
     * was freed (a failure path cleared |l|) or all of them are in |l|. */
    if (k->n > BIAS - atomic_load_explicit(&k->refs, memory_order_relaxed)) {
        if (k->size - k->used >= SHRINK_MIN) {
            uintptr_t old = (uintptr_t)k;
            struct xb_qdoc_block *n = xb_qdoc_block_realloc(k, k->used);
            if (n) {
                if ((uintptr_t)n != old)
                    relink(l, old, n->used, n);
                k = n;
                k->size = k->used;
            }
        }
        k->slack = k->size - k->placed;
        l->bytes += k->slack; /* now part of the last document's xb_qdoc_charge() */
    }
    if (atomic_fetch_sub_explicit(&k->refs, BIAS - k->n, memory_order_acq_rel) == BIAS - k->n)
        free(k); /* no document left */
}

size_t xb_qdoc_block_size_for(size_t body_len)
{
    size_t want = body_len < XB_QDOC_BLOCK_SIZE ? 2 * body_len + 1024 : XB_QDOC_BLOCK_SIZE;
    size_t size = XB_QDOC_BLOCK_MIN_SIZE;

    while (size < want && size < XB_QDOC_BLOCK_SIZE)
        size *= 2;
    return size;
}

struct xb_qdoc *xb_qdoc_blocks_new(struct xb_qdoc_blocks *b, struct xb_qdoc_list *l,
                                   const char *json, size_t len, const char *trace_id,
                                   const char *id)
{
    size_t need = xb_qdoc_charge_len(len), at; /* what xb_qdoc_new_ids() allocates */
    struct xb_qdoc_block *k = b->open;
    struct xb_qdoc *d;

    if (len > XB_QDOC_BLOCK_MAX_DOC || need > XB_QDOC_BLOCK_MAX_DOC)
        return xb_qdoc_new_ids(json, len, trace_id, id);
    if (k && round_up(k->used) + need > k->size) {
        xb_qdoc_blocks_seal(b, l);
        k = NULL;
    }
    if (!k) {
        size_t size = b->size && b->size < XB_QDOC_BLOCK_SIZE ? b->size : XB_QDOC_BLOCK_SIZE;

        if (size < HEADER + need)
            size = HEADER + need; /* <= XB_QDOC_BLOCK_SIZE: need is at most 1/4 */
        k = malloc(size);
        if (!k)
            return NULL;
        atomic_init(&k->refs, BIAS);
        k->n = 0;
        k->size = size;
        k->used = HEADER;
        k->placed = 0;
        k->last = 0;
        k->slack = 0;
        b->open = k;
    }
    at = round_up(k->used);
    d = (struct xb_qdoc *)((char *)k + at);
    xb_qdoc_init(d, json, len, trace_id, id);
    d->block_off = (uint16_t)(at / OFF_UNIT);
    k->used = at + need;
    k->placed += need;
    k->last = at;
    k->n++;
    return d;
}

size_t xb_qdoc_block_extra(const struct xb_qdoc *d)
{
    const struct xb_qdoc_block *k = block_of(d);

    return k->last == (size_t)d->block_off * OFF_UNIT ? k->slack : 0;
}

void xb_qdoc_block_release(struct xb_qdoc *d)
{
    block_release(block_of(d));
}

size_t xb_qdoc_block_refs(const struct xb_qdoc *d)
{
    const struct xb_qdoc_block *k = block_of(d);
    size_t r = atomic_load_explicit(&k->refs, memory_order_acquire);

    /* open: r is BIAS less the documents freed, far above n; sealed: at most n */
    return r > k->n ? k->n - (BIAS - r) + 1 : r;
}

struct xb_qdoc *xb_qdoc_own(const struct xb_qdoc *d)
{
    struct xb_qdoc *n = xb_qdoc_dup(d);

    if (n)
        n->seq = d->seq; /* the same record of the queue's log */
    return n;
}
