#include "extension/viewer_store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define MAX_SLOTS ((size_t)1 << 20)
/* A trace's first block: 8 KiB holds a typical trace whole (five ~1.4 KB documents);
 * 4 KiB took two allocations for it and cost 2-3% more ingest CPU (bench/bench_viewer). */
#define MIN_BLOCK ((size_t)8 << 10)
#define MAX_BLOCK ((size_t)64 << 10)

/* A run of documents of one trace, in arrival order. */
struct xb_viewer_block {
    struct xb_viewer_block *next;
    size_t cap, used; /* bytes of data */
    size_t n_docs;
    char data[]; /* at offset 32: documents stay 8-byte aligned */
};

/* Documents start at multiples of 16 in a block (xb_viewer_store_doc_charge). */
_Static_assert(offsetof(struct xb_viewer_block, data) % 16 == 0, "block data alignment");

struct xb_viewer_store {
    struct xb_viewer_trace **slots; /* hash table, n_slots (power of two) */
    size_t n_slots;
    struct xb_viewer_trace *newest, *oldest;
    struct xb_viewer_trace *last; /* trace of the previous add: the documents of a
                                     request arrive grouped by trace */
    size_t max_traces, max_bytes;
    size_t traces, documents, bytes;
    uint64_t seq;
    uint64_t evicted_traces, evicted_documents, refused_documents;
};

static size_t block_charge(size_t cap)
{
    return sizeof(struct xb_viewer_block) + cap;
}

size_t xb_viewer_store_doc_charge(size_t len)
{
    return (sizeof(struct xb_viewer_doc) + len + 1 + 15) & ~(size_t)15;
}

size_t xb_viewer_store_index_bytes(size_t max_traces)
{
    size_t n = 64;

    while (n < max_traces && n < MAX_SLOTS)
        n <<= 1;
    return n * sizeof(struct xb_viewer_trace *);
}

/* FNV-1a of a NUL-terminated string. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

struct xb_viewer_store *xb_viewer_store_new(size_t max_traces, size_t max_bytes)
{
    struct xb_viewer_store *s;

    if (max_traces == 0 || max_bytes == 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->n_slots = xb_viewer_store_index_bytes(max_traces) / sizeof(struct xb_viewer_trace *);
    s->slots = calloc(s->n_slots, sizeof(*s->slots));
    if (!s->slots) {
        free(s);
        return NULL;
    }
    s->max_traces = max_traces;
    s->max_bytes = max_bytes;
    return s;
}

static struct xb_viewer_trace **slot_of(const struct xb_viewer_store *s, const char *trace_id)
{
    return &s->slots[hash_str(trace_id) & (s->n_slots - 1)];
}

/* Unlinks |t| from the recency list. */
static void list_unlink(struct xb_viewer_store *s, struct xb_viewer_trace *t)
{
    if (t->newer)
        t->newer->older = t->older;
    else
        s->newest = t->older;
    if (t->older)
        t->older->newer = t->newer;
    else
        s->oldest = t->newer;
    t->newer = t->older = NULL;
}

static void list_push_newest(struct xb_viewer_store *s, struct xb_viewer_trace *t)
{
    t->older = s->newest;
    t->newer = NULL;
    if (s->newest)
        s->newest->newer = t;
    s->newest = t;
    if (!s->oldest)
        s->oldest = t;
}

/* Frees the oldest block of |t| and forgets its documents; with |walk| 0 (the whole
 * trace is going) the document list is left stale instead of walked, which would touch
 * every evicted document's cold memory. */
static void drop_head_block(struct xb_viewer_store *s, struct xb_viewer_trace *t, int walk)
{
    struct xb_viewer_block *b = t->bhead;

    for (size_t i = 0; walk && i < b->n_docs; i++)
        t->head = t->head->next;
    if (!t->head)
        t->tail = NULL;
    t->bhead = b->next;
    if (!t->bhead)
        t->btail = NULL;
    t->n_docs -= b->n_docs;
    t->bytes -= block_charge(b->cap);
    s->documents -= b->n_docs;
    s->bytes -= block_charge(b->cap);
    s->evicted_documents += b->n_docs;
    free(b);
}

/* Removes and frees the least recently updated trace. */
static void evict_oldest(struct xb_viewer_store *s)
{
    struct xb_viewer_trace *t = s->oldest, **pp;

    for (pp = slot_of(s, t->trace_id); *pp != t; pp = &(*pp)->hnext)
        ;
    *pp = t->hnext;
    list_unlink(s, t);
    if (s->last == t)
        s->last = NULL;
    while (t->bhead)
        drop_head_block(s, t, 0);
    s->traces--;
    s->bytes -= t->bytes; /* XB_VIEWER_TRACE_CHARGE */
    s->evicted_traces++;
    free(t);
}

void xb_viewer_store_free(struct xb_viewer_store *s)
{
    if (!s)
        return;
    while (s->oldest)
        evict_oldest(s);
    free(s->slots);
    free(s);
}

const struct xb_viewer_trace *xb_viewer_store_find(const struct xb_viewer_store *s,
                                                   const char *trace_id)
{
    struct xb_viewer_trace *t;

    if (!trace_id)
        return NULL;
    for (t = *slot_of(s, trace_id); t; t = t->hnext)
        if (strcmp(t->trace_id, trace_id) == 0)
            return t;
    return NULL;
}

/* Capacity of the next block of |t| for a document needing |need| bytes: doubling from
 * MIN_BLOCK to MAX_BLOCK, at least |need|, and never more than the store can hold. */
static size_t next_block_cap(const struct xb_viewer_store *s, const struct xb_viewer_trace *t,
                             size_t need)
{
    size_t cap = t->btail ? t->btail->cap * 2 : MIN_BLOCK;
    size_t room = s->max_bytes - XB_VIEWER_TRACE_CHARGE - sizeof(struct xb_viewer_block);

    if (cap > MAX_BLOCK)
        cap = MAX_BLOCK;
    if (cap > room)
        cap = room;
    return cap < need ? need : cap;
}

/* Makes room for |charge| more bytes (and, when |new_trace|, one more trace) by evicting
 * other traces, then the oldest blocks of |t| itself. |t| is not in the recency list. */
static void make_room(struct xb_viewer_store *s, struct xb_viewer_trace *t, size_t charge,
                      int new_trace)
{
    while (s->oldest &&
           (s->bytes + charge > s->max_bytes || (new_trace && s->traces + 1 > s->max_traces)))
        evict_oldest(s);
    while (t->bhead && s->bytes + charge > s->max_bytes)
        drop_head_block(s, t, 1);
}

int xb_viewer_store_add(struct xb_viewer_store *s, const char *json, size_t len,
                        const char *trace_id, const char *id, uint64_t now_ns)
{
    size_t need = xb_viewer_store_doc_charge(len), tlen;
    struct xb_viewer_trace *t;
    struct xb_viewer_block *b;
    struct xb_viewer_doc *d;
    int created = 0, rc = XB_OK;

    tlen = trace_id ? strlen(trace_id) : 0;
    if (tlen == 0 || tlen >= XB_VIEWER_TRACE_ID_SIZE) {
        rc = XB_ERR_INVALID;
        goto refused;
    }
    if (len > s->max_bytes || block_charge(need) + XB_VIEWER_TRACE_CHARGE > s->max_bytes) {
        rc = XB_ERR_TOO_LARGE;
        goto refused;
    }
    t = s->last && strcmp(s->last->trace_id, trace_id) == 0
            ? s->last
            : (struct xb_viewer_trace *)xb_viewer_store_find(s, trace_id);
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t)
            return XB_ERR_NOMEM;
        memcpy(t->trace_id, trace_id, tlen + 1);
        t->bytes = XB_VIEWER_TRACE_CHARGE;
        t->first_seen_ns = now_ns;
        created = 1;
    } else {
        list_unlink(s, t); /* not evicted while making room for its own document */
    }
    b = t->btail;
    if (!b || b->cap - b->used < need) {
        size_t cap = next_block_cap(s, t, need);
        make_room(s, t, block_charge(cap) + (created ? t->bytes : 0), created);
        b = malloc(block_charge(cap));
        if (!b) {
            rc = XB_ERR_NOMEM;
            goto undo;
        }
        b->next = NULL;
        b->cap = cap;
        b->used = 0;
        b->n_docs = 0;
        if (t->btail)
            t->btail->next = b;
        else
            t->bhead = b;
        t->btail = b;
        t->bytes += block_charge(cap);
        s->bytes += block_charge(cap);
    } else if (created) {
        make_room(s, t, t->bytes, 1);
    }
    if (created) {
        t->hnext = *slot_of(s, trace_id);
        *slot_of(s, trace_id) = t;
        s->traces++;
        s->bytes += XB_VIEWER_TRACE_CHARGE;
    }
    d = (struct xb_viewer_doc *)(b->data + b->used);
    b->used += need;
    b->n_docs++;
    d->next = NULL;
    d->seq = ++s->seq;
    d->len = len;
    memcpy(d->json, json, len);
    d->json[len] = '\0';
    d->id[0] = '\0';
    if (id && strlen(id) < sizeof(d->id))
        strcpy(d->id, id);
    if (t->tail)
        t->tail->next = d;
    else
        t->head = d;
    t->tail = d;
    t->n_docs++;
    t->last_seen_ns = now_ns;
    s->documents++;
    list_push_newest(s, t);
    s->last = t;
    return XB_OK;
undo:
    if (created)
        free(t);
    else
        list_push_newest(s, t);
    return rc;
refused:
    s->refused_documents++;
    return rc;
}

const struct xb_viewer_trace *xb_viewer_store_newest(const struct xb_viewer_store *s)
{
    return s->newest;
}

void xb_viewer_store_stats(const struct xb_viewer_store *s, struct xb_viewer_store_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->traces = s->traces;
    out->documents = s->documents;
    out->bytes = s->bytes;
    out->max_traces = s->max_traces;
    out->max_bytes = s->max_bytes;
    out->stored_documents = s->seq;
    out->evicted_traces = s->evicted_traces;
    out->evicted_documents = s->evicted_documents;
    out->refused_documents = s->refused_documents;
}
