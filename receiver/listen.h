/*
 * receiver/listen.h - "host:port" endpoints -> listening sockets on the event loop, and the
 * accept guard every receiver puts in front of its listener.
 *
 * The guard (struct xb_listen_guard) holds a receiver's connections to max_connections
 * and keeps the listener from spinning when accept() fails:
 *  - at the cap, a new connection evicts the connection that has gone longest without
 *    progress and is not busy (a slowloris or idle keep-alive connection), so a real
 *    client is served at once even while an attacker holds every slot; when every
 *    connection is busy the new one is refused (closed);
 *  - on EMFILE/ENFILE/ENOBUFS/ENOMEM (and any other hard accept error) the listener is
 *    disabled and re-enabled after a short back-off or as soon as a connection closes,
 *    whichever comes first; the log line is written at most once per 10 s and says how
 *    many repeats were suppressed;
 *  - xraybridge_receiver_connections{transport} and
 *    xraybridge_receiver_connections_refused_total{transport,reason} (core/metrics.h).
 * A guard and its connections live on the event-loop thread of their receiver; with
 * ingest workers (app/workers.h) each worker has its own guards, and the metrics are
 * summed across them.
 */
#ifndef XB_RECEIVER_LISTEN_H
#define XB_RECEIVER_LISTEN_H

#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "receiver/receiver_metrics.h"

/*
 * Binds and listens on |endpoint| ("host:port", "[v6addr]:port"; port 0 picks a free
 * port) and wraps it in a libevent listener calling |cb| with |ud| for each new
 * connection. The listener starts enabled (pass it to evhttp, or use it directly).
 * Names resolving to several addresses bind the first IPv4 one (else the first).
 * On success returns the listener (free with evconnlistener_free(), which closes the
 * socket) and writes the bound "ip:port" into |bound| (|bound_len| bytes).
 * On failure returns NULL and writes a reason into |bound|.
 */
struct evconnlistener *xb_listen(struct event_base *base, const char *endpoint,
                                 evconnlistener_cb cb, void *ud, char *bound, size_t bound_len);

/*
 * Like xb_listen(); with |reuse_port| non-zero the socket is bound with SO_REUSEPORT so
 * that every ingest worker (app/workers.h) can listen on the same port and the kernel
 * spreads new connections among them. Workers after the first pass the first one's
 * bound "ip:port" so that a configured port 0 means one port for all.
 */
struct evconnlistener *xb_listen_opt(struct event_base *base, const char *endpoint, int reuse_port,
                                     evconnlistener_cb cb, void *ud, char *bound, size_t bound_len);

struct xb_listen_guard;
struct xb_conn_slot;

/*
 * Called by the guard to close an evicted connection. The callee must close the
 * connection and call xb_listen_guard_release(slot) before returning; it may then free
 * the memory holding |slot|. (A callee that does not release must not free: the guard
 * then unlinks the slot itself, and the connection is no longer counted.)
 */
typedef void (*xb_conn_evict_cb)(struct xb_conn_slot *slot, void *ud);

/*
 * One accepted connection as the guard sees it; embedded in the receiver's connection
 * object (intrusive). The receiver fills |evict| and |ud| before admitting, keeps
 * |busy| set while a request on the connection is being processed or answered, and
 * calls xb_listen_guard_progress() on progress. The other fields belong to the guard.
 */
struct xb_conn_slot {
    struct xb_conn_slot *prev, *next; /* guard's list (guard-owned) */
    struct xb_listen_guard *guard;    /* NULL when not admitted (guard-owned) */
    uint64_t progress_ms;             /* monotonic ms of the last progress: accept, a
                                         complete request, a response sent */
    int busy;                         /* non-zero: never evicted */
    xb_conn_evict_cb evict;           /* closes the connection (required) */
    void *ud;                         /* passed to |evict| */
};

/*
 * Creates a guard for |listener| (borrowed; must outlive the guard or be freed after
 * xb_listen_guard_free) that admits up to |max_connections| connections (0 = no cap).
 * |transport| labels the metrics, |name| (static string, e.g. "grpc") the log lines.
 * A listener that is not a receiver (the telemetry endpoints) passes XB_TRANSPORT_COUNT
 * and max_connections 0: it gets the pause on accept errors and no metrics.
 * Installs the listener's error callback (accept errors). Returns NULL on allocation
 * failure.
 */
struct xb_listen_guard *xb_listen_guard_new(struct event_base *base,
                                            struct evconnlistener *listener,
                                            enum xb_transport transport, const char *name,
                                            uint32_t max_connections);

/*
 * Frees the guard (NULL is a no-op). Connections still admitted are not closed; their
 * slots are detached (slot->guard = NULL) and the connection gauge is lowered.
 */
void xb_listen_guard_free(struct xb_listen_guard *g);

/*
 * Admits a newly accepted connection described by |slot| at monotonic time |now_ms|.
 * At the cap, first evicts the non-busy connection with the oldest progress (its evict
 * callback runs here; counted as reason "evicted_stalled").
 * Returns XB_OK (slot linked, gauge raised, progress_ms = |now_ms|), or XB_ERR_FULL when
 * every admitted connection is busy: the caller closes the new connection (counted as
 * reason "max_connections").
 */
int xb_listen_guard_admit(struct xb_listen_guard *g, struct xb_conn_slot *slot, uint64_t now_ms);

/*
 * Forgets |slot| when its connection closes (a slot never admitted, or already
 * released, is a no-op). Re-enables a listener paused on an accept error at once.
 */
void xb_listen_guard_release(struct xb_conn_slot *slot);

/* Records progress on |slot|'s connection at monotonic time |now_ms|. */
void xb_listen_guard_progress(struct xb_conn_slot *slot, uint64_t now_ms);

/*
 * Connections of several guards counted against one max_connections: the ingest
 * workers' listeners on one port (app/workers.h). Initialise with
 * xb_listen_share_init(), destroy with xb_listen_share_cleanup() after every guard.
 */
struct xb_listen_share {
    pthread_mutex_t lock; /* admissions of every guard, one at a time */
    size_t count;         /* connections admitted by every guard (atomic) */
};

void xb_listen_share_init(struct xb_listen_share *sh);
void xb_listen_share_cleanup(struct xb_listen_share *sh);

/*
 * Makes |g| count its connections against max_connections together with the other
 * guards of |sh| (borrowed). At the cap a new connection evicts stalled connections of
 * |g|'s own until the total is under the cap again (another worker may have admitted one
 * past it); a guard holding none admits it anyway (it has nothing to evict), so the
 * total can pass the cap by one per other guard until that guard's next admission.
 * Call before the first admission.
 */
void xb_listen_guard_share(struct xb_listen_guard *g, struct xb_listen_share *sh);

/* Number of connections admitted now. */
size_t xb_listen_guard_count(const struct xb_listen_guard *g);

/*
 * Counts a connection closed by its receiver for |reason| (e.g. XB_CONN_REFUSED_TIMEOUT
 * when a deadline expires) under the guard's transport.
 */
void xb_listen_guard_count_refused(const struct xb_listen_guard *g, enum xb_conn_refused reason);

/* Monotonic clock in milliseconds (the |now_ms| the functions above expect). */
uint64_t xb_listen_now_ms(void);

/* ---- pure decisions (unit-tested) ------------------------------------------ */

/*
 * The connection to evict from the list starting at |head|: the non-busy slot with the
 * smallest progress_ms (the first one on ties). NULL when every slot is busy or the
 * list is empty.
 */
struct xb_conn_slot *xb_listen_pick_victim(struct xb_conn_slot *head);

/*
 * How long the listener stays paused after the |failures|-th consecutive accept error
 * (1 = first): 50 ms doubling per failure, capped at 1000 ms. 0 failures gives 0.
 */
uint32_t xb_listen_backoff_ms(uint32_t failures);

/* A log rate limiter: at most one line per |interval_ms|. Zero-initialise, set interval. */
struct xb_ratelimit {
    uint64_t interval_ms; /* minimum spacing of written lines */
    uint64_t last_ms;     /* when the last line was written */
    uint64_t suppressed;  /* events since then that were not logged */
    int started;          /* a line has been written */
};

/*
 * Records one event at |now_ms|. Returns 1 when the caller should log it, and then sets
 * |*suppressed| to the number of events skipped since the previous logged one (and
 * resets the count); returns 0 (event counted as suppressed) otherwise.
 */
int xb_ratelimit_allow(struct xb_ratelimit *rl, uint64_t now_ms, uint64_t *suppressed);

/*
 * File-descriptor budget check at start-up: raises RLIMIT_NOFILE's soft limit to the hard
 * limit, then compares it with |needed| (sum of the receivers' max_connections plus a
 * reserve for listeners, exporter connections and files). Writes the resulting soft
 * limit to |*limit|. Returns XB_OK when |needed| fits, XB_ERR_FULL when it does not (the
 * caller warns: connections past the limit fail with EMFILE, which the guard survives),
 * XB_ERR_IO when the limits cannot be read.
 */
int xb_listen_raise_nofile(uint64_t needed, uint64_t *limit);

#endif
