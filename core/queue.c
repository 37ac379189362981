#include "core/queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/qdoc_block.h"
#include "core/wal.h"

struct xb_queue {
    struct xb_qdoc_list waiting;
    size_t max_bytes, max_docs;
    size_t charged_bytes, charged_docs;
    xb_queue_ready_cb ready;
    void *ready_ud;
    pthread_t owner;       /* the thread that registered |ready|: the consumer's */
    xb_queue_wake_cb wake; /* NULL = every push runs on the consumer's thread */
    void *wake_ud;
    int ready_pending;  /* atomic: a push from another thread awaits |ready| */
    size_t ready_min;   /* xb_queue_set_ready_min(); 0 or 1 = every push */
    struct xb_wal *wal; /* NULL = memory only */
    size_t read_ahead;  /* with a log: bytes read back into memory at once */
    int takes_embedded; /* xb_queue_set_takes_embedded() */
    /* Every public operation holds it: ingest workers (app/workers.h) check room from
     * their threads while the exporter pops on the main loop. Never held while the
     * ready callback runs. */
    pthread_mutex_t lock;
    /* Producers paused by xb_queue_pace() (core/pace.h), all under |lock|: how many,
     * the level that wakes them, the running count of documents popped, and the pop
     * count at which a pause last ended for a stalled consumer (valid when
     * |stalled_set|). */
    pthread_cond_t paced; /* on CLOCK_MONOTONIC */
    unsigned pacers;
    size_t pace_low;
    uint64_t pops;
    uint64_t stalled_pops;
    int stalled_set;
};

/* Reads of the counters from any thread take the lock too (see struct xb_queue). */
#define LOCKED_READ(q, expr)                                                                       \
    do {                                                                                           \
        pthread_mutex_lock((pthread_mutex_t *)&(q)->lock);                                         \
        r = (expr);                                                                                \
        pthread_mutex_unlock((pthread_mutex_t *)&(q)->lock);                                       \
    } while (0)

/* Copies NUL-terminated |s| into |out| (|size| bytes) when it fits, else stores "". */
static void copy_ident(char *out, size_t size, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= size)
        n = 0;
    memcpy(out, s ? s : "", n);
    out[n] = '\0';
}

void xb_qdoc_init(struct xb_qdoc *d, const char *json, size_t len, const char *trace_id,
                  const char *id)
{
    d->next = NULL;
    d->ahead = NULL;
    d->seq = 0;
    d->block_off = 0;
    d->embedded = 0;
    copy_ident(d->trace_id, sizeof(d->trace_id), trace_id);
    copy_ident(d->id, sizeof(d->id), id);
    d->len = len;
    memcpy(d->json, json, len);
    d->json[len] = '\0';
}

struct xb_qdoc *xb_qdoc_new_ids(const char *json, size_t len, const char *trace_id, const char *id)
{
    struct xb_qdoc *d = malloc(sizeof(*d) + len + 1);
    if (!d)
        return NULL;
    xb_qdoc_init(d, json, len, trace_id, id);
    return d;
}

struct xb_qdoc *xb_qdoc_new(const char *json, size_t len)
{
    return xb_qdoc_new_ids(json, len, NULL, NULL);
}

struct xb_qdoc *xb_qdoc_dup(const struct xb_qdoc *d)
{
    struct xb_qdoc *c = xb_qdoc_new_ids(d->json, d->len, d->trace_id, d->id);

    if (c)
        c->embedded = d->embedded;
    return c;
}

size_t xb_qdoc_charge_len(size_t len)
{
    return sizeof(struct xb_qdoc) + len + 1;
}

size_t xb_qdoc_charge(const struct xb_qdoc *d)
{
    return xb_qdoc_charge_len(d->len) + (d->block_off ? xb_qdoc_block_extra(d) : 0);
}

void xb_qdoc_free(struct xb_qdoc *d)
{
    if (d && d->block_off)
        xb_qdoc_block_release(d);
    else
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
    {
        pthread_condattr_t ca;
        if (pthread_condattr_init(&ca) != 0) {
            free(q);
            return NULL;
        }
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (pthread_cond_init(&q->paced, &ca) != 0) {
            pthread_condattr_destroy(&ca);
            free(q);
            return NULL;
        }
        pthread_condattr_destroy(&ca);
    }
    pthread_mutex_init(&q->lock, NULL);
    return q;
}

void xb_queue_free(struct xb_queue *q)
{
    if (!q)
        return;
    xb_qdoc_list_clear(&q->waiting);
    pthread_cond_destroy(&q->paced);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

void xb_queue_set_wal(struct xb_queue *q, struct xb_wal *w, size_t read_ahead)
{
    pthread_mutex_lock(&q->lock);
    q->wal = w;
    q->read_ahead = read_ahead;
    pthread_mutex_unlock(&q->lock);
}

void xb_queue_set_ready_cb(struct xb_queue *q, xb_queue_ready_cb cb, void *ud)
{
    pthread_mutex_lock(&q->lock);
    q->ready = cb;
    q->ready_ud = ud;
    q->owner = pthread_self();
    pthread_mutex_unlock(&q->lock);
    if (cb && xb_queue_waiting(q) > 0)
        cb(ud);
}

/* Moves every document of |l| to the tail of the waiting list and charges them. */
static void splice(struct xb_queue *q, struct xb_qdoc_list *l)
{
    if (!l->n)
        return;
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
}

/* With a log: the document cap counts every unfinished document, and the bytes are
 * bounded by the log's max_size; memory is bounded by read_ahead instead. */
static int wal_has_room(const struct xb_queue *q, size_t docs, size_t bytes)
{
    size_t pending = xb_wal_pending(q->wal);
    if (q->max_docs && (docs > q->max_docs || pending > q->max_docs - docs))
        return 0;
    return xb_wal_has_room(q->wal, docs, bytes);
}

/* Appends |l| to the log, then keeps it in memory when it is next in line and fits
 * the read-ahead, else frees it (it is read back later). */
static int wal_push(struct xb_queue *q, struct xb_qdoc_list *l)
{
    int rc;

    if (!wal_has_room(q, l->n, l->bytes))
        return XB_ERR_FULL;
    rc = xb_wal_append(q->wal, l);
    if (rc == XB_ERR_IO)
        rc = XB_ERR_FULL; /* a disk error is refused like a full queue: retry later */
    if (rc)
        return rc;
    if (xb_wal_can_keep(q->wal, l->n) && q->waiting.bytes + l->bytes <= q->read_ahead) {
        xb_wal_keep(q->wal, l);
        splice(q, l);
    } else {
        xb_qdoc_list_clear(l);
    }
    return XB_OK;
}

static int has_room(const struct xb_queue *q, size_t docs, size_t bytes)
{
    if (q->wal)
        return wal_has_room(q, docs, bytes);
    if (q->max_docs && (docs > q->max_docs || q->charged_docs > q->max_docs - docs))
        return 0;
    if (q->max_bytes && (bytes > q->max_bytes || q->charged_bytes > q->max_bytes - bytes))
        return 0;
    return 1;
}

int xb_queue_has_room(const struct xb_queue *q, size_t docs, size_t bytes)
{
    int r;

    pthread_mutex_lock((pthread_mutex_t *)&q->lock);
    r = has_room(q, docs, bytes);
    pthread_mutex_unlock((pthread_mutex_t *)&q->lock);
    return r;
}

struct xb_queue_room xb_queue_room_of(size_t max_docs, size_t max_bytes, size_t charged_docs,
                                      size_t charged_bytes)
{
    struct xb_queue_room r = {.docs = SIZE_MAX, .bytes = SIZE_MAX, .valid = 1};

    if (max_docs)
        r.docs = charged_docs < max_docs ? max_docs - charged_docs : 0;
    if (max_bytes)
        r.bytes = charged_bytes < max_bytes ? max_bytes - charged_bytes : 0;
    return r;
}

int xb_queue_room_fits(const struct xb_queue_room *r, size_t docs, size_t bytes)
{
    return docs <= r->docs && bytes <= r->bytes;
}

/* Takes the snapshot of |q|'s room into |r| under its lock. */
static void room_take(const struct xb_queue *q, struct xb_queue_room *r)
{
    pthread_mutex_lock((pthread_mutex_t *)&q->lock);
    *r = xb_queue_room_of(q->max_docs, q->max_bytes, q->charged_docs, q->charged_bytes);
    r->live = q->wal != NULL;
    pthread_mutex_unlock((pthread_mutex_t *)&q->lock);
}

int xb_queue_room_check(const struct xb_queue *q, struct xb_queue_room *r, size_t docs,
                        size_t bytes)
{
    if (!r->valid)
        room_take(q, r);
    if (r->live)
        return xb_queue_has_room(q, docs, bytes);
    if (xb_queue_room_fits(r, docs, bytes))
        return 1;
    room_take(q, r); /* a refusal is always decided on fresh counters */
    return r->live ? xb_queue_has_room(q, docs, bytes) : xb_queue_room_fits(r, docs, bytes);
}

/* Points each document of |l| at the one XB_QDOC_AHEAD places behind it (NULL for the
 * last XB_QDOC_AHEAD), before the list is handed to the consumer: the walk is over
 * documents this thread just wrote. */
static void set_ahead(struct xb_qdoc_list *l)
{
    struct xb_qdoc *lag = l->head;
    size_t i = 0;

    for (struct xb_qdoc *d = l->head; d; d = d->next)
        if (++i > XB_QDOC_AHEAD) {
            lag->ahead = d;
            lag = lag->next;
        }
    for (; lag; lag = lag->next)
        lag->ahead = NULL;
}

int xb_queue_push_list(struct xb_queue *q, struct xb_qdoc_list *l)
{
    xb_queue_ready_cb ready;
    void *ready_ud;
    xb_queue_wake_cb wake;
    void *wake_ud;
    size_t before;
    int rc = XB_OK;

    if (!l->n)
        return XB_OK;
    set_ahead(l);
    pthread_mutex_lock(&q->lock);
    before = q->waiting.n;
    if (q->wal)
        rc = wal_push(q, l);
    else if (!has_room(q, l->n, l->bytes))
        rc = XB_ERR_FULL;
    else
        splice(q, l);
    ready = q->ready;
    ready_ud = q->ready_ud;
    wake = ready && q->wake && !pthread_equal(pthread_self(), q->owner) ? q->wake : NULL;
    wake_ud = q->wake_ud;
    if (wake && !xb_queue_remote_push_wakes(before, q->waiting.n, q->ready_min))
        ready = NULL; /* the consumer already has a reason to look again */
    pthread_mutex_unlock(&q->lock);
    if (rc != XB_OK || !ready)
        return rc;
    if (!wake)
        ready(ready_ud);
    else if (!__atomic_exchange_n(&q->ready_pending, 1, __ATOMIC_ACQ_REL))
        wake(wake_ud); /* the first push since the consumer last looked */
    return rc;
}

void xb_queue_set_remote_wake(struct xb_queue *q, xb_queue_wake_cb wake, void *ud)
{
    pthread_mutex_lock(&q->lock);
    q->wake = wake;
    q->wake_ud = ud;
    pthread_mutex_unlock(&q->lock);
}

int xb_queue_remote_push_wakes(size_t before, size_t after, size_t ready_min)
{
    if (before == 0 || ready_min <= 1)
        return 1; /* from empty: the consumer arms its batch timer */
    return before < ready_min && after >= ready_min; /* a batch just filled */
}

void xb_queue_set_ready_min(struct xb_queue *q, size_t docs)
{
    pthread_mutex_lock(&q->lock);
    q->ready_min = docs;
    pthread_mutex_unlock(&q->lock);
}

void xb_queue_run_remote_ready(struct xb_queue *q)
{
    xb_queue_ready_cb ready;
    void *ready_ud;

    if (!__atomic_exchange_n(&q->ready_pending, 0, __ATOMIC_ACQ_REL))
        return;
    pthread_mutex_lock(&q->lock);
    ready = q->ready;
    ready_ud = q->ready_ud;
    pthread_mutex_unlock(&q->lock);
    if (ready)
        ready(ready_ud);
}

int xb_queue_remote_push_ok(const struct xb_queue *q)
{
    int r;
    LOCKED_READ(q, !q->wal && (!q->ready || q->wake));
    return r;
}

void xb_queue_set_takes_embedded(struct xb_queue *q, int on)
{
    pthread_mutex_lock(&q->lock);
    q->takes_embedded = on != 0;
    pthread_mutex_unlock(&q->lock);
}

int xb_queue_takes_embedded(const struct xb_queue *q)
{
    int r;
    LOCKED_READ(q, q->takes_embedded);
    return r;
}

int xb_queue_on_disk(const struct xb_queue *q)
{
    int r;
    LOCKED_READ(q, q->wal != NULL);
    return r;
}

/* xb_queue_pop() with the lock held. */
static struct xb_qdoc *pop_locked(struct xb_queue *q)
{
    struct xb_qdoc *d;

    if (q->wal && !q->waiting.head && xb_wal_readable(q->wal)) {
        struct xb_qdoc_list more = {0};
        xb_wal_read(q->wal, q->read_ahead, &more); /* on no memory: what it read */
        splice(q, &more);
    }
    d = q->waiting.head;
    if (d) {
        if (d->ahead)
            __builtin_prefetch(d->ahead);
        q->waiting.head = d->next;
        if (!q->waiting.head)
            q->waiting.tail = NULL;
        q->waiting.n--;
        q->waiting.bytes -= xb_qdoc_charge(d);
        d->next = NULL;
    }
    return d;
}

struct xb_qdoc *xb_queue_pop(struct xb_queue *q)
{
    struct xb_qdoc *d;

    return xb_queue_pop_n(q, &d, 1) ? d : NULL;
}

size_t xb_queue_pop_n(struct xb_queue *q, struct xb_qdoc **out, size_t max)
{
    size_t n = 0;

    pthread_mutex_lock(&q->lock);
    while (n < max && (out[n] = pop_locked(q)))
        n++;
    q->pops += n;
    if (n && q->pacers && q->waiting.n <= q->pace_low)
        pthread_cond_broadcast(&q->paced); /* drained far enough: paused producers go on */
    pthread_mutex_unlock(&q->lock);
    return n;
}

struct xb_qdoc *xb_queue_requeue(struct xb_queue *q, struct xb_qdoc *d)
{
    struct xb_qdoc *own = d->block_off ? xb_qdoc_own(d) : NULL;
    struct xb_qdoc *gone = NULL;

    pthread_mutex_lock(&q->lock);
    if (own) {
        /* The copy is charged its own size instead of |d|'s (which may carry its
         * block's slack): the charge follows the memory this document now holds. */
        q->charged_bytes -= xb_qdoc_charge(d);
        q->charged_bytes += xb_qdoc_charge(own);
        gone = d;
        d = own;
    }
    d->next = q->waiting.head;
    d->ahead = NULL; /* what it pointed to may be sent and freed by now */
    q->waiting.head = d;
    if (!q->waiting.tail)
        q->waiting.tail = d;
    q->waiting.n++;
    q->waiting.bytes += xb_qdoc_charge(d);
    pthread_mutex_unlock(&q->lock);
    xb_qdoc_free(gone); /* the block document it replaced, if any */
    return d;
}

void xb_queue_done_n(struct xb_queue *q, struct xb_qdoc *const *docs, size_t n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&q->lock);
    for (size_t i = 0; i < n; i++) {
        if (q->wal && docs[i]->seq)
            xb_wal_done(q->wal, docs[i]->seq);
        q->charged_docs--;
        q->charged_bytes -= xb_qdoc_charge(docs[i]);
    }
    pthread_mutex_unlock(&q->lock);
    for (size_t i = 0; i < n; i++)
        xb_qdoc_free(docs[i]);
}

void xb_queue_done(struct xb_queue *q, struct xb_qdoc *d)
{
    xb_queue_done_n(q, &d, 1);
}

size_t xb_queue_waiting(const struct xb_queue *q)
{
    size_t r;
    LOCKED_READ(q, q->waiting.n + (q->wal ? xb_wal_readable(q->wal) : 0));
    return r;
}

size_t xb_queue_charged_docs(const struct xb_queue *q)
{
    size_t r;
    LOCKED_READ(q, q->wal ? xb_wal_pending(q->wal) : q->charged_docs);
    return r;
}

size_t xb_queue_charged_bytes(const struct xb_queue *q)
{
    size_t r;
    LOCKED_READ(q, q->charged_bytes);
    return r;
}

enum xb_pace_step xb_queue_pace(struct xb_queue *q, const struct xb_pace_limits *lim,
                                uint64_t *waited_ns)
{
    struct xb_pace p = {0};
    enum xb_pace_step step;
    uint64_t until = 0;

    *waited_ns = 0;
    if (!lim || !lim->max_wait_ns)
        return XB_PACE_GO;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        uint64_t now = xb_clock_mono_ns();
        int stalled = q->stalled_set && q->stalled_pops == q->pops;
        int was_paused = p.started;

        step = xb_pace_step(&p, lim, q->waiting.n, q->pops, stalled, now, &until);
        if (step != XB_PACE_WAIT) {
            if (p.started)
                *waited_ns = now - p.start_ns;
            break;
        }
        if (!was_paused) { /* the first wait: count this producer in */
            q->pacers++;
            q->pace_low = lim->low;
        }
        {
            struct timespec ts = {.tv_sec = (time_t)(until / 1000000000u),
                                  .tv_nsec = (long)(until % 1000000000u)};
            (void)pthread_cond_timedwait(&q->paced, &q->lock, &ts); /* then step again */
        }
    }
    if (p.started)
        q->pacers--;
    if (step == XB_PACE_STALLED) {
        q->stalled_set = 1;
        q->stalled_pops = p.pops;
    }
    pthread_mutex_unlock(&q->lock);
    return step;
}

size_t xb_queue_paused_producers(const struct xb_queue *q)
{
    size_t r;
    LOCKED_READ(q, q->pacers);
    return r;
}
