#include "extension/viewer_store.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define MAX_SLOTS ((size_t)1 << 20)

struct xb_viewer_store {
    struct xb_viewer_trace **slots; /* hash table, n_slots (power of two) */
    size_t n_slots;
    struct xb_viewer_trace *newest, *oldest;
    size_t max_traces, max_bytes;
    size_t traces, documents, bytes;
    uint64_t seq;
    uint64_t evicted_traces, evicted_documents, refused_documents;
};

size_t xb_viewer_store_doc_charge(size_t len)
{
    return sizeof(struct xb_viewer_doc) + len + 1;
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

static void free_docs(struct xb_viewer_trace *t)
{
    struct xb_viewer_doc *d = t->head, *next;

    for (; d; d = next) {
        next = d->next;
        free(d);
    }
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

/* Removes and frees the least recently updated trace. */
static void evict_oldest(struct xb_viewer_store *s)
{
    struct xb_viewer_trace *t = s->oldest, **pp;

    for (pp = slot_of(s, t->trace_id); *pp != t; pp = &(*pp)->hnext)
        ;
    *pp = t->hnext;
    list_unlink(s, t);
    s->traces--;
    s->documents -= t->n_docs;
    s->bytes -= t->bytes;
    s->evicted_traces++;
    s->evicted_documents += t->n_docs;
    free_docs(t);
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

int xb_viewer_store_add(struct xb_viewer_store *s, const char *json, size_t len,
                        const char *trace_id, const char *id, uint64_t now_ns)
{
    struct xb_viewer_trace *t;
    struct xb_viewer_doc *d;
    size_t charge = xb_viewer_store_doc_charge(len), tlen;
    int rc = XB_OK;

    tlen = trace_id ? strlen(trace_id) : 0;
    if (tlen == 0 || tlen >= XB_VIEWER_TRACE_ID_SIZE) {
        rc = XB_ERR_INVALID;
        goto refused;
    }
    if (charge > s->max_bytes || s->max_bytes - charge < XB_VIEWER_TRACE_CHARGE) {
        rc = XB_ERR_TOO_LARGE;
        goto refused;
    }
    d = malloc(charge);
    if (!d)
        return XB_ERR_NOMEM;
    d->next = NULL;
    d->seq = ++s->seq;
    d->len = len;
    memcpy(d->json, json, len);
    d->json[len] = '\0';
    d->id[0] = '\0';
    if (id && strlen(id) < sizeof(d->id))
        strcpy(d->id, id);

    t = (struct xb_viewer_trace *)xb_viewer_store_find(s, trace_id);
    if (t) {
        list_unlink(s, t); /* not evicted while making room for its own document */
        while (s->oldest && (s->bytes + charge > s->max_bytes))
            evict_oldest(s);
        /* Even alone the trace is too large: drop its own oldest documents. */
        while (t->head && s->bytes + charge > s->max_bytes) {
            struct xb_viewer_doc *old = t->head;
            size_t c = xb_viewer_store_doc_charge(old->len);
            t->head = old->next;
            if (!t->head)
                t->tail = NULL;
            t->n_docs--;
            t->bytes -= c;
            s->bytes -= c;
            s->documents--;
            s->evicted_documents++;
            free(old);
        }
    } else {
        t = calloc(1, sizeof(*t));
        if (!t) {
            free(d);
            return XB_ERR_NOMEM;
        }
        memcpy(t->trace_id, trace_id, tlen + 1);
        t->bytes = XB_VIEWER_TRACE_CHARGE;
        t->first_seen_ns = now_ns;
        while (s->oldest &&
               (s->traces + 1 > s->max_traces || s->bytes + t->bytes + charge > s->max_bytes))
            evict_oldest(s);
        t->hnext = *slot_of(s, trace_id);
        *slot_of(s, trace_id) = t;
        s->traces++;
        s->bytes += t->bytes;
    }
    if (t->tail)
        t->tail->next = d;
    else
        t->head = d;
    t->tail = d;
    t->n_docs++;
    t->bytes += charge;
    t->last_seen_ns = now_ns;
    s->bytes += charge;
    s->documents++;
    list_push_newest(s, t);
    return XB_OK;
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
