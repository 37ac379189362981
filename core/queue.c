#include "core/queue.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct xb_queue {
    struct xb_qdoc_list waiting;
    size_t max_bytes, max_docs;
    size_t charged_bytes, charged_docs;
    xb_queue_ready_cb ready;
    void *ready_ud;
};

/* Copies NUL-terminated |s| into |out| (|size| bytes) when it fits, else stores "". */
static void copy_ident(char *out, size_t size, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= size)
        n = 0;
    memcpy(out, s ? s : "", n);
    out[n] = '\0';
}

struct xb_qdoc *xb_qdoc_new_ids(const char *json, size_t len, const char *trace_id, const char *id)
{
    struct xb_qdoc *d = malloc(sizeof(*d) + len + 1);
    if (!d)
        return NULL;
    d->next = NULL;
    copy_ident(d->trace_id, sizeof(d->trace_id), trace_id);
    copy_ident(d->id, sizeof(d->id), id);
    d->len = len;
    memcpy(d->json, json, len);
    d->json[len] = '\0';
    return d;
}

struct xb_qdoc *xb_qdoc_new(const char *json, size_t len)
{
    return xb_qdoc_new_ids(json, len, NULL, NULL);
}

struct xb_qdoc *xb_qdoc_dup(const struct xb_qdoc *d)
{
    return xb_qdoc_new_ids(d->json, d->len, d->trace_id, d->id);
}

size_t xb_qdoc_charge(const struct xb_qdoc *d)
{
    return sizeof(*d) + d->len + 1;
}

void xb_qdoc_free(struct xb_qdoc *d)
{
    free(d);
}

void xb_qdoc_list_add(struct xb_qdoc_list *l, struct xb_qdoc *d)
{
    d->next = NULL;
    if (l->tail)
        l->tail->next = d;
    else
        l->head = d;
    l->tail = d;
    l->n++;
    l->bytes += xb_qdoc_charge(d);
}

void xb_qdoc_list_clear(struct xb_qdoc_list *l)
{
    struct xb_qdoc *d = l->head;
    while (d) {
        struct xb_qdoc *next = d->next;
        xb_qdoc_free(d);
        d = next;
    }
    memset(l, 0, sizeof(*l));
}

struct xb_queue *xb_queue_new(size_t max_bytes, size_t max_docs)
{
    struct xb_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->max_bytes = max_bytes;
    q->max_docs = max_docs;
    return q;
}

void xb_queue_free(struct xb_queue *q)
{
    if (!q)
        return;
    xb_qdoc_list_clear(&q->waiting);
    free(q);
}

void xb_queue_set_ready_cb(struct xb_queue *q, xb_queue_ready_cb cb, void *ud)
{
    q->ready = cb;
    q->ready_ud = ud;
}

int xb_queue_has_room(const struct xb_queue *q, size_t docs, size_t bytes)
{
    if (q->max_docs && (docs > q->max_docs || q->charged_docs > q->max_docs - docs))
        return 0;
    if (q->max_bytes && (bytes > q->max_bytes || q->charged_bytes > q->max_bytes - bytes))
        return 0;
    return 1;
}

int xb_queue_push_list(struct xb_queue *q, struct xb_qdoc_list *l)
{
    if (!l->n)
        return XB_OK;
    if (!xb_queue_has_room(q, l->n, l->bytes))
        return XB_ERR_FULL;
    if (q->waiting.tail)
        q->waiting.tail->next = l->head;
    else
        q->waiting.head = l->head;
    q->waiting.tail = l->tail;
    q->waiting.n += l->n;
    q->waiting.bytes += l->bytes;
    q->charged_docs += l->n;
    q->charged_bytes += l->bytes;
    memset(l, 0, sizeof(*l));
    if (q->ready)
        q->ready(q->ready_ud);
    return XB_OK;
}

struct xb_qdoc *xb_queue_pop(struct xb_queue *q)
{
    struct xb_qdoc *d = q->waiting.head;
    if (!d)
        return NULL;
    q->waiting.head = d->next;
    if (!q->waiting.head)
        q->waiting.tail = NULL;
    q->waiting.n--;
    q->waiting.bytes -= xb_qdoc_charge(d);
    d->next = NULL;
    return d;
}

void xb_queue_requeue(struct xb_queue *q, struct xb_qdoc *d)
{
    d->next = q->waiting.head;
    q->waiting.head = d;
    if (!q->waiting.tail)
        q->waiting.tail = d;
    q->waiting.n++;
    q->waiting.bytes += xb_qdoc_charge(d);
}

void xb_queue_done(struct xb_queue *q, struct xb_qdoc *d)
{
    q->charged_docs--;
    q->charged_bytes -= xb_qdoc_charge(d);
    xb_qdoc_free(d);
}

size_t xb_queue_waiting(const struct xb_queue *q)
{
    return q->waiting.n;
}

size_t xb_queue_charged_docs(const struct xb_queue *q)
{
    return q->charged_docs;
}

size_t xb_queue_charged_bytes(const struct xb_queue *q)
{
    return q->charged_bytes;
}
