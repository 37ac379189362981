#define _GNU_SOURCE
#include "app/workers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "app/balance.h"
#include "app/worker_count.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"

#define DRAIN_CHECK_MS 50

/* ---- metrics --------------------------------------------------------------- */

static const char *const worker_values[XB_WORKERS_MAX] = {
    "0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11", "12", "13", "14", "15",
    "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
    "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47",
    "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63"};
/* One sample per worker running: n_values is set before the family is registered. */
static struct xb_metric_label by_worker[] = {{"worker", worker_values, XB_WORKERS_MAX}};

static uint64_t n_workers_gauge;
static uint64_t worker_requests[XB_WORKERS_MAX];
static uint64_t large_requests;
static uint64_t handoffs;
static uint64_t paced[XB_INGEST_PACE_ENDS];
static uint64_t paced_us;
static const char *const pace_end_values[XB_INGEST_PACE_ENDS] = {"drained", "timeout", "stalled"};
static struct xb_metric_label by_pace_end[] = {{"end", pace_end_values, XB_INGEST_PACE_ENDS}};
/* OTLP/gRPC connections each worker serves, counting those handed to it and not yet
 * adopted: the gauge and the state of the balance (raised under xb_workers.lock, so
 * that accepts on two workers at once see each other's pick; lowered atomically by the
 * worker whose connection closed). Not the max_connections count, xb_workers.grpc_conns. */
static uint64_t grpc_open[XB_WORKERS_MAX];
static uint64_t grpc_handed[XB_WORKERS_MAX];
/* OTLP/HTTP connections each worker serves: the kernel's SO_REUSEPORT spread, shown
 * only (nothing moves them). */
static uint64_t http_open[XB_WORKERS_MAX];

static struct xb_metric_family families[] = {
    {.name = "xraybridge_workers",
     .help = "Ingest worker threads (service.workers).",
     .type = XB_METRIC_GAUGE,
     .values = &n_workers_gauge},
    {.name = "xraybridge_worker_requests_total",
     .help = "Export requests answered by each ingest worker (OTLP gRPC and HTTP).",
     .type = XB_METRIC_COUNTER,
     .labels = by_worker,
     .n_labels = 1,
     .values = worker_requests},
    {.name = "xraybridge_worker_large_requests_total",
     .help = "Requests too large for a worker's own arena, decoded in the shared one.",
     .type = XB_METRIC_COUNTER,
     .values = &large_requests},
    {.name = "xraybridge_worker_handoffs_total",
     .help = "Admissions a worker handed to the main loop instead of running them itself "
             "(tail_sampling, the viewer or an on-disk queue configured).",
     .type = XB_METRIC_COUNTER,
     .values = &handoffs},
    {.name = "xraybridge_worker_pauses_total",
     .help = "Requests a worker held back while an exporter caught up with its queue, by "
             "how the pause ended: drained, timeout (50 ms) or stalled (the exporter popped "
             "nothing for 10 ms).",
     .type = XB_METRIC_COUNTER,
     .labels = by_pace_end,
     .n_labels = 1,
     .values = paced},
    {.name = "xraybridge_worker_pause_microseconds_total",
     .help = "Time workers held requests back while an exporter caught up, microseconds.",
     .type = XB_METRIC_COUNTER,
     .values = &paced_us},
    {.name = "xraybridge_worker_grpc_connections",
     .help = "OTLP/gRPC connections open on each ingest worker (a new one goes to a worker "
             "with the fewest).",
     .type = XB_METRIC_GAUGE,
     .labels = by_worker,
     .n_labels = 1,
     .values = grpc_open},
    {.name = "xraybridge_worker_grpc_connections_handed_over_total",
     .help = "OTLP/gRPC connections another worker accepted and handed to this one because "
             "it had fewer open.",
     .type = XB_METRIC_COUNTER,
     .labels = by_worker,
     .n_labels = 1,
     .values = grpc_handed},
    {.name = "xraybridge_worker_http_connections",
     .help = "OTLP/HTTP connections open on each ingest worker.",
     .type = XB_METRIC_GAUGE,
     .labels = by_worker,
     .n_labels = 1,
     .values = http_open},
};

void xb_workers_publish(unsigned n)
{
    if (!families[0].registered)
        by_worker[0].n_values = n ? n : 1;
    (void)xb_metrics_register(&families[0]); /* valid static families */
    for (size_t i = 1; n > 1 && i < sizeof(families) / sizeof(families[0]); i++)
        (void)xb_metrics_register(&families[i]); /* the workers' own: none with one */
    __atomic_store_n(&n_workers_gauge, n, __ATOMIC_RELAXED);
}

/* ---- state ----------------------------------------------------------------- */

/* A connection one worker accepted for another (connection balance). */
struct handed {
    int fd;
    struct handed *next;
};

struct worker {
    struct xb_workers *ws;
    unsigned idx;
    pthread_t thread;
    int started;
    struct event_base *base;
    struct xb_ingest *ing;
    struct xb_grpc_server *grpc;
    struct xb_http_server *http;
    int ctl_fd;              /* eventfd: the main loop asks to drain or stop */
    struct event *ctl;       /* on base */
    struct event *drain_chk; /* on base, while draining */
    int cmd;                 /* atomic: CMD_* bits */
    size_t conns;            /* atomic: gRPC connections, published while draining */
    struct handed *handed;   /* accepted by another worker for this one (ws->lock) */
    unsigned n_handed;       /* entries in |handed| */
    /* Admission handoff (under ws->lock). */
    void (*fn)(void *);
    void *arg;
    int queued, ran;
    pthread_cond_t cond;
    struct worker *next_pending;
};

enum { CMD_DRAIN = 1, CMD_STOP = 2 };

struct xb_workers {
    unsigned n;
    struct worker *w;
    int main_fd;           /* eventfd: a worker has an admission waiting */
    struct event *main_ev; /* on the main loop */
    pthread_mutex_t lock;  /* pending list, closed, each worker's handoff fields, the
                              connection balance (grpc_open, handed) */
    struct worker *pending;
    int closed; /* the main loop no longer runs admissions */
    size_t grpc_inflight;
    uint64_t http_inflight;
    struct xb_listen_share grpc_conns, http_conns; /* max_connections across workers */
    struct xb_ingest *ing;                         /* the main path (borrowed) */
    struct xb_queue *queues[XB_INGEST_MAX_QUEUES]; /* its queues, woken through main_fd */
    size_t n_queues;
};

static void wake(int fd)
{
    uint64_t one = 1;
    ssize_t r;

    do
        r = write(fd, &one, sizeof(one));
    while (r < 0 && errno == EINTR);
}

static void drain_fd(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) > 0)
        ;
}

/* ---- admission on the main loop ------------------------------------------------ */

/* xb_ingest_run_cb of a worker: queue |fn| for the main loop and wait until it ran. */
static void run_on_main(void *ud, void (*fn)(void *), void *arg)
{
    struct worker *w = ud;
    struct xb_workers *ws = w->ws;

    pthread_mutex_lock(&ws->lock);
    if (ws->closed) {
        pthread_mutex_unlock(&ws->lock);
        return; /* the admission keeps its "queue full" result */
    }
    w->fn = fn;
    w->arg = arg;
    w->ran = 0;
    w->queued = 1;
    w->next_pending = ws->pending;
    ws->pending = w;
    pthread_mutex_unlock(&ws->lock);
    wake(ws->main_fd);
    pthread_mutex_lock(&ws->lock);
    while (!w->ran && !ws->closed)
        pthread_cond_wait(&w->cond, &ws->lock);
    if (!w->ran && w->queued) { /* closed first: take it back */
        for (struct worker **pp = &ws->pending; *pp; pp = &(*pp)->next_pending)
            if (*pp == w) {
                *pp = w->next_pending;
                break;
            }
        w->queued = 0;
    }
    pthread_mutex_unlock(&ws->lock);
}

/* xb_queue_wake_cb of every queue: a worker pushed documents (direct admission). */
static void queue_wake(void *ud)
{
    struct xb_workers *ws = ud;
    wake(ws->main_fd);
}

static void on_main_wake(evutil_socket_t fd, short what, void *ud)
{
    struct xb_workers *ws = ud;
    struct worker *list, *w;

    (void)what;
    drain_fd(fd);
    for (size_t i = 0; i < ws->n_queues; i++)
        xb_queue_run_remote_ready(ws->queues[i]);
    pthread_mutex_lock(&ws->lock);
    list = ws->pending;
    ws->pending = NULL;
    for (w = list; w; w = w->next_pending)
        w->queued = 0;
    pthread_mutex_unlock(&ws->lock);
    /* The workers in |list| wait for us; nothing else touches their fn/arg. */
    while (list) {
        struct worker *next = list->next_pending;
        list->fn(list->arg);
        pthread_mutex_lock(&ws->lock);
        list->ran = 1;
        pthread_cond_signal(&list->cond);
        pthread_mutex_unlock(&ws->lock);
        list = next;
    }
}

/* ---- connection balance ------------------------------------------------------- */

/* xb_grpc_server_opts.balance of worker |ud|'s server: counts the connection accepted
 * as |fd| for the worker with the fewest open (xb_balance_pick) and, when that is
 * another one, hands |fd| to it (its list, then its eventfd). Returns 1 when handed. */
static int balance_route(void *ud, int fd)
{
    struct worker *w = ud;
    struct xb_workers *ws = w->ws;
    uint64_t open[XB_WORKERS_MAX];
    struct handed *h;
    unsigned t;

    h = malloc(sizeof(*h)); /* once per connection, outside the lock */
    pthread_mutex_lock(&ws->lock);
    for (unsigned i = 0; i < ws->n; i++)
        open[i] = __atomic_load_n(&grpc_open[i], __ATOMIC_RELAXED);
    t = xb_balance_pick(open, ws->n, w->idx);
    /* No memory, or the target has not taken what it was handed yet (a busy loop under
     * a connection flood): keep it, serving it here beats refusing it. */
    if (t != w->idx && (!h || ws->w[t].n_handed >= XB_WORKERS_HANDOFF_MAX))
        t = w->idx;
    __atomic_fetch_add(&grpc_open[t], 1, __ATOMIC_RELAXED);
    if (t != w->idx) {
        h->fd = fd;
        h->next = ws->w[t].handed;
        ws->w[t].handed = h;
        ws->w[t].n_handed++;
    }
    pthread_mutex_unlock(&ws->lock);
    if (t == w->idx) {
        free(h);
        return 0;
    }
    __atomic_fetch_add(&grpc_handed[t], 1, __ATOMIC_RELAXED);
    wake(ws->w[t].ctl_fd);
    return 1;
}

/* xb_grpc_server_opts.closed: a connection worker |ud| served (or refused) is gone. */
static void balance_closed(void *ud)
{
    struct worker *w = ud;

    __atomic_fetch_sub(&grpc_open[w->idx], 1, __ATOMIC_RELAXED);
}

/* Takes the connections other workers handed to |w|, oldest first. */
static struct handed *take_handed(struct worker *w)
{
    struct handed *list, *fifo = NULL;

    pthread_mutex_lock(&w->ws->lock);
    list = w->handed;
    w->handed = NULL;
    w->n_handed = 0;
    pthread_mutex_unlock(&w->ws->lock);
    while (list) {
        struct handed *next = list->next;
        list->next = fifo;
        fifo = list;
        list = next;
    }
    return fifo;
}

/* Serves the connections handed to |w| as if its own listener had accepted them. */
static void adopt_handed(struct worker *w)
{
    struct handed *h = take_handed(w);

    while (h) {
        struct handed *next = h->next;
        xb_grpc_server_adopt(w->grpc, h->fd);
        free(h);
        h = next;
    }
}

/* ---- worker thread ------------------------------------------------------------ */

static void on_drain_check(evutil_socket_t fd, short what, void *ud)
{
    struct worker *w = ud;
    (void)fd;
    (void)what;
    __atomic_store_n(&w->conns, xb_grpc_server_connections(w->grpc), __ATOMIC_RELEASE);
}

static void on_ctl(evutil_socket_t fd, short what, void *ud)
{
    struct worker *w = ud;
    int cmd = __atomic_load_n(&w->cmd, __ATOMIC_ACQUIRE);
    struct timeval tv = {0, DRAIN_CHECK_MS * 1000};

    (void)what;
    drain_fd(fd);
    if (cmd & CMD_STOP) {
        event_base_loopbreak(w->base); /* handed connections: closed by worker_cleanup */
        return;
    }
    adopt_handed(w);
    if ((cmd & CMD_DRAIN) && !w->drain_chk) {
        xb_grpc_server_drain(w->grpc);
        xb_http_server_drain(w->http);
        w->drain_chk = event_new(w->base, -1, EV_PERSIST, on_drain_check, w);
        if (w->drain_chk)
            event_add(w->drain_chk, &tv);
        on_drain_check(-1, 0, w);
    }
}

/* Workers run WORKER_NICE below the main thread: when CPU is short, the main loop,
 * which admits and sends what the workers produce, goes first, so ingest slows down
 * instead of filling the queue and refusing requests (docs/performance.md). Raising
 * one's own niceness needs no privilege; a failure leaves the default. */
#define WORKER_NICE 5

static void worker_priority(void)
{
    int prio;

    errno = 0;
    prio = getpriority(PRIO_PROCESS, 0);
    if (prio == -1 && errno)
        return;
    prio += WORKER_NICE;
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), prio > 19 ? 19 : prio);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char name[16];

    snprintf(name, sizeof(name), "xb-worker-%u", w->idx);
    pthread_setname_np(pthread_self(), name); /* top -H, bench/e2e.py's per-thread CPU */
    worker_priority();
    event_base_dispatch(w->base);
    return NULL;
}

static void worker_cleanup(struct worker *w)
{
    struct handed *h = w->ws ? take_handed(w) : NULL;

    while (h) { /* handed over, never adopted: the worker stopped first */
        struct handed *next = h->next;
        close(h->fd);
        balance_closed(w);
        free(h);
        h = next;
    }
    xb_grpc_server_free(w->grpc);
    xb_http_server_free(w->http);
    xb_ingest_free(w->ing);
    if (w->ctl)
        event_free(w->ctl);
    if (w->drain_chk)
        event_free(w->drain_chk);
    if (w->ctl_fd >= 0)
        close(w->ctl_fd);
    if (w->base)
        event_base_free(w->base);
    pthread_cond_destroy(&w->cond);
}

/* Creates worker |i|'s loop, ingest path and servers on |grpc_ep| / |http_ep|. */
static int worker_init(struct xb_workers *ws, struct worker *w, unsigned i,
                       const struct xb_workers_opts *o, const char *grpc_ep, const char *http_ep,
                       char *err, size_t err_len)
{
    int rc = XB_ERR_NOMEM;

    w->ws = ws;
    w->idx = i;
    w->base = event_base_new();
    if (!w->base)
        return XB_ERR_NOMEM;
    w->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->ctl_fd < 0)
        return XB_ERR_IO;
    w->ctl = event_new(w->base, w->ctl_fd, EV_READ | EV_PERSIST, on_ctl, w);
    if (!w->ctl || event_add(w->ctl, NULL))
        return XB_ERR_NOMEM;
    w->ing = xb_ingest_new_worker(o->ing, o->small_body_bytes, run_on_main, w);
    if (!w->ing)
        return XB_ERR_NOMEM;
    xb_ingest_set_counters(w->ing, &worker_requests[i], &large_requests, &handoffs);
    xb_ingest_set_pace(w->ing, &XB_PACE_DEFAULTS, paced, &paced_us);
    if (o->grpc) {
        struct xb_grpc_server_opts go = *o->grpc;
        go.endpoint = grpc_ep;
        go.reuse_port = 1;
        go.quiet = i > 0;
        go.shared_inflight = &ws->grpc_inflight;
        go.shared_connections = &ws->grpc_conns;
        go.direct_reads = XB_GRPC_READS_WORKER; /* this loop serves only the receivers */
        go.balance = balance_route;
        go.closed = balance_closed;
        go.balance_ud = w;
        rc = xb_grpc_server_start(w->base, w->ing, &go, &w->grpc, err, err_len);
        if (rc)
            return rc;
    }
    if (o->http) {
        struct xb_http_server_opts ho = *o->http;
        ho.endpoint = http_ep;
        ho.reuse_port = 1;
        ho.quiet = i > 0;
        ho.shared_inflight = &ws->http_inflight;
        ho.shared_connections = &ws->http_conns;
        ho.read_ahead = 1; /* this loop serves only the receivers */
        ho.open_connections = &http_open[i];
        rc = xb_http_server_start(w->base, w->ing, &ho, &w->http, err, err_len);
        if (rc)
            return rc;
    }
    return XB_OK;
}

int xb_workers_start(const struct xb_workers_opts *o, struct xb_workers **out, char *err,
                     size_t err_len)
{
    struct xb_workers *ws = calloc(1, sizeof(*ws));
    char grpc_ep[128] = "", http_ep[128] = "";
    sigset_t all, old;
    int rc = XB_ERR_NOMEM;

    *out = NULL;
    if (!ws)
        return XB_ERR_NOMEM;
    xb_workers_publish(o->n);
    ws->n = o->n;
    ws->main_fd = -1;
    pthread_mutex_init(&ws->lock, NULL);
    xb_listen_share_init(&ws->grpc_conns);
    xb_listen_share_init(&ws->http_conns);
    ws->w = calloc(o->n, sizeof(*ws->w));
    if (!ws->w)
        goto fail;
    for (unsigned i = 0; i < o->n; i++) {
        ws->w[i].ctl_fd = -1;
        pthread_cond_init(&ws->w[i].cond, NULL);
    }
    ws->main_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ws->main_fd < 0) {
        rc = XB_ERR_IO;
        goto fail;
    }
    ws->main_ev = event_new(o->main_base, ws->main_fd, EV_READ | EV_PERSIST, on_main_wake, ws);
    if (!ws->main_ev || event_add(ws->main_ev, NULL))
        goto fail;
    /* Before the workers' paths are made: they admit directly only into queues that can
     * wake their consumer from another thread (xb_ingest_admission_direct). */
    ws->ing = o->ing;
    ws->n_queues = xb_ingest_queues(o->ing, ws->queues, XB_INGEST_MAX_QUEUES);
    for (size_t i = 0; i < ws->n_queues; i++)
        xb_queue_set_remote_wake(ws->queues[i], queue_wake, ws);
    for (unsigned i = 0; i < o->n; i++) {
        /* The first worker binds the configured endpoints (port 0 picks one); the others
         * join it on the address it got. */
        rc = worker_init(ws, &ws->w[i], i, o, i ? grpc_ep : (o->grpc ? o->grpc->endpoint : ""),
                         i ? http_ep : (o->http ? o->http->endpoint : ""), err, err_len);
        if (rc)
            goto fail;
        if (i == 0 && ws->w[0].grpc)
            snprintf(grpc_ep, sizeof(grpc_ep), "%s", xb_grpc_server_bound(ws->w[0].grpc));
        if (i == 0 && ws->w[0].http)
            snprintf(http_ep, sizeof(http_ep), "%s", xb_http_server_bound(ws->w[0].http));
    }
    /* Signals go to the main thread (its libevent signal events). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < o->n; i++) {
        if (pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]) != 0) {
            rc = XB_ERR_NOMEM;
            break;
        }
        ws->w[i].started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        goto fail;
    XB_INFO("app", "%u ingest workers (service.workers)", o->n);
    *out = ws;
    return XB_OK;
fail:
    xb_workers_free(ws);
    return rc;
}

void xb_workers_drain(struct xb_workers *ws)
{
    if (!ws)
        return;
    for (unsigned i = 0; i < ws->n; i++) {
        __atomic_store_n(&ws->w[i].conns, SIZE_MAX, __ATOMIC_RELEASE); /* until it reports */
        __atomic_fetch_or(&ws->w[i].cmd, CMD_DRAIN, __ATOMIC_RELEASE);
        wake(ws->w[i].ctl_fd);
    }
}

int xb_workers_drained(const struct xb_workers *ws)
{
    if (!ws)
        return 1;
    for (unsigned i = 0; i < ws->n; i++)
        if (__atomic_load_n(&ws->w[i].conns, __ATOMIC_ACQUIRE) != 0)
            return 0;
    return 1;
}

void xb_workers_free(struct xb_workers *ws)
{
    if (!ws)
        return;
    xb_ingest_close_admission(ws->ing); /* workers admitting directly: refused from now */
    pthread_mutex_lock(&ws->lock);
    ws->closed = 1;
    for (unsigned i = 0; ws->w && i < ws->n; i++)
        pthread_cond_signal(&ws->w[i].cond);
    pthread_mutex_unlock(&ws->lock);
    for (unsigned i = 0; ws->w && i < ws->n; i++) {
        if (!ws->w[i].started)
            continue;
        __atomic_fetch_or(&ws->w[i].cmd, CMD_STOP, __ATOMIC_RELEASE);
        wake(ws->w[i].ctl_fd);
        pthread_join(ws->w[i].thread, NULL);
    }
    for (unsigned i = 0; ws->w && i < ws->n; i++)
        worker_cleanup(&ws->w[i]);
    for (size_t i = 0; i < ws->n_queues; i++)
        xb_queue_set_remote_wake(ws->queues[i], NULL, NULL);
    if (ws->main_ev)
        event_free(ws->main_ev);
    if (ws->main_fd >= 0)
        close(ws->main_fd);
    free(ws->w);
    pthread_mutex_destroy(&ws->lock);
    xb_listen_share_cleanup(&ws->grpc_conns);
    xb_listen_share_cleanup(&ws->http_conns);
    free(ws);
}
