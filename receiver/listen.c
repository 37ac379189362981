#include "receiver/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

/* Splits "host:port" / "[v6]:port" into |host| and |port|. Returns 0 or -1. */
static int split_endpoint(const char *ep, char *host, size_t host_len, char *port, size_t port_len)
{
    const char *colon;
    size_t hl;

    if (ep[0] == '[') {
        const char *end = strchr(ep, ']');
        if (!end || end[1] != ':')
            return -1;
        hl = (size_t)(end - ep - 1);
        if (hl >= host_len)
            return -1;
        memcpy(host, ep + 1, hl);
        host[hl] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(ep, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - ep);
        if (hl >= host_len)
            return -1;
        memcpy(host, ep, hl);
        host[hl] = '\0';
    }
    if (strlen(colon + 1) == 0 || strlen(colon + 1) >= port_len)
        return -1;
    strcpy(port, colon + 1);
    return 0;
}

struct evconnlistener *xb_listen(struct event_base *base, const char *endpoint,
                                 evconnlistener_cb cb, void *ud, char *bound, size_t bound_len)
{
    return xb_listen_opt(base, endpoint, 0, cb, ud, bound, bound_len);
}

struct evconnlistener *xb_listen_opt(struct event_base *base, const char *endpoint, int reuse_port,
                                     evconnlistener_cb cb, void *ud, char *bound, size_t bound_len)
{
    struct addrinfo hints, *res = NULL, *pick = NULL;
    struct evconnlistener *l = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[256], port[16], ip[INET6_ADDRSTRLEN];
    int rc;

    if (split_endpoint(endpoint, host, sizeof(host), port, sizeof(port))) {
        snprintf(bound, bound_len, "invalid endpoint \"%s\" (want host:port)", endpoint);
        return NULL;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc) {
        snprintf(bound, bound_len, "cannot resolve \"%s\": %s", endpoint, gai_strerror(rc));
        return NULL;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    }
    if (!pick)
        pick = res;
    l = evconnlistener_new_bind(base, cb, ud,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
                                    (reuse_port ? LEV_OPT_REUSEABLE_PORT : 0),
                                -1, pick->ai_addr, (int)pick->ai_addrlen);
    if (!l) {
        snprintf(bound, bound_len, "cannot listen on %s: %s", endpoint, strerror(errno));
        goto out;
    }
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
            snprintf(bound, bound_len, "[%s]:%u", ip, ntohs(s6->sin6_port));
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
            snprintf(bound, bound_len, "%s:%u", ip, ntohs(s4->sin_port));
        }
    } else {
        snprintf(bound, bound_len, "%s", endpoint);
    }
out:
    freeaddrinfo(res);
    return l;
}

/* ---- accept guard ------------------------------------------------------------ */

#define ACCEPT_LOG_INTERVAL_MS 10000
#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS 1000
#define SHARED_BACKOFF_MAX_MS 100

struct xb_listen_guard {
    struct event_base *base;
    struct evconnlistener *listener;
    enum xb_transport transport;
    const char *name;
    uint32_t max_connections;
    struct xb_conn_slot *head; /* admitted connections */
    size_t count;
    struct xb_listen_share *shared; /* max_connections across workers, or NULL */
    struct event *resume;           /* back-off timer while paused */
    int paused;                     /* listener disabled after an accept error */
    uint32_t failures;              /* consecutive accept errors */
    struct xb_ratelimit accept_log;
    struct xb_ratelimit evict_log;
    struct xb_listen_guard *next_guard; /* all guards, to find one from its listener */
};

/* evconnlistener's error callback gets the listener's user data, which belongs to
 * whoever set the accept callback (evhttp replaces it); guards are found by listener. */
static struct xb_listen_guard *all_guards;
/* Guards the list: each ingest worker (app/workers.h) adds and removes its own guards. */
static pthread_mutex_t all_guards_lock = PTHREAD_MUTEX_INITIALIZER;

uint64_t xb_listen_now_ms(void)
{
    return xb_clock_mono_ns() / 1000000u;
}

struct xb_conn_slot *xb_listen_pick_victim(struct xb_conn_slot *head)
{
    struct xb_conn_slot *best = NULL;

    for (struct xb_conn_slot *s = head; s; s = s->next) {
        if (s->busy)
            continue;
        if (!best || s->progress_ms < best->progress_ms)
            best = s;
    }
    return best;
}

uint32_t xb_listen_backoff_ms(uint32_t failures)
{
    uint32_t ms = BACKOFF_FIRST_MS;

    if (failures == 0)
        return 0;
    for (uint32_t i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

int xb_ratelimit_allow(struct xb_ratelimit *rl, uint64_t now_ms, uint64_t *suppressed)
{
    if (rl->started && now_ms - rl->last_ms < rl->interval_ms) {
        rl->suppressed++;
        return 0;
    }
    *suppressed = rl->suppressed;
    rl->suppressed = 0;
    rl->last_ms = now_ms;
    rl->started = 1;
    return 1;
}

static void guard_resume(struct xb_listen_guard *g)
{
    if (!g->paused)
        return;
    g->paused = 0;
    evtimer_del(g->resume);
    evconnlistener_enable(g->listener);
}

static void on_resume_timer(evutil_socket_t fd, short what, void *ud)
{
    guard_resume(ud);
}

static void on_accept_error(struct evconnlistener *l, void *ud)
{
    int err = EVUTIL_SOCKET_ERROR();
    struct xb_listen_guard *g;
    enum xb_conn_refused reason;
    uint64_t suppressed = 0;
    struct timeval tv;
    uint32_t ms;

    (void)ud;
    pthread_mutex_lock(&all_guards_lock);
    for (g = all_guards; g && g->listener != l;)
        g = g->next_guard;
    pthread_mutex_unlock(&all_guards_lock); /* |g| belongs to this thread's listener */
    if (!g)
        return;
    reason = (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
                 ? XB_CONN_REFUSED_FD_EXHAUSTED
                 : XB_CONN_REFUSED_ACCEPT_ERROR;
    if (g->transport < XB_TRANSPORT_COUNT)
        XB_METRIC_ADD(xb_receiver_metrics.connections_refused[g->transport][reason], 1);
    g->failures++;
    ms = xb_listen_backoff_ms(g->failures);
    /* With workers, descriptors freed by another worker's connections do not wake this
     * listener (only its own closes do): retry at least every SHARED_BACKOFF_MAX_MS. */
    if (g->shared && ms > SHARED_BACKOFF_MAX_MS)
        ms = SHARED_BACKOFF_MAX_MS;
    if (xb_ratelimit_allow(&g->accept_log, xb_listen_now_ms(), &suppressed))
        XB_WARN(g->name,
                "accept failed: %s (%zu connections open); pausing new connections for "
                "%u ms (%llu similar errors not logged)",
                strerror(err), g->count, ms, (unsigned long long)suppressed);
    evconnlistener_disable(l);
    g->paused = 1;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    evtimer_add(g->resume, &tv);
}

struct xb_listen_guard *xb_listen_guard_new(struct event_base *base,
                                            struct evconnlistener *listener,
                                            enum xb_transport transport, const char *name,
                                            uint32_t max_connections)
{
    struct xb_listen_guard *g = calloc(1, sizeof(*g));

    xb_receiver_metrics_register(); /* rendered from start-up, at zero */
    if (!g)
        return NULL;
    g->base = base;
    g->listener = listener;
    g->transport = transport;
    g->name = name;
    g->max_connections = max_connections;
    g->accept_log.interval_ms = ACCEPT_LOG_INTERVAL_MS;
    g->evict_log.interval_ms = ACCEPT_LOG_INTERVAL_MS;
    g->resume = evtimer_new(base, on_resume_timer, g);
    if (!g->resume) {
        free(g);
        return NULL;
    }
    evconnlistener_set_error_cb(listener, on_accept_error);
    pthread_mutex_lock(&all_guards_lock);
    g->next_guard = all_guards;
    all_guards = g;
    pthread_mutex_unlock(&all_guards_lock);
    return g;
}

void xb_listen_guard_free(struct xb_listen_guard *g)
{
    struct xb_listen_guard **pp;

    if (!g)
        return;
    pthread_mutex_lock(&all_guards_lock);
    for (pp = &all_guards; *pp; pp = &(*pp)->next_guard) {
        if (*pp == g) {
            *pp = g->next_guard;
            break;
        }
    }
    pthread_mutex_unlock(&all_guards_lock);
    while (g->head)
        xb_listen_guard_release(g->head);
    event_free(g->resume);
    free(g);
}

static void unlink_slot(struct xb_listen_guard *g, struct xb_conn_slot *slot)
{
    if (slot->prev)
        slot->prev->next = slot->next;
    else
        g->head = slot->next;
    if (slot->next)
        slot->next->prev = slot->prev;
    slot->prev = slot->next = NULL;
    slot->guard = NULL;
    g->count--;
    if (g->shared)
        __atomic_fetch_sub(&g->shared->count, 1, __ATOMIC_RELAXED);
    XB_METRIC_SUB(xb_receiver_metrics.receiver_connections[g->transport], 1);
}

/* Evicts the stalled connection of |g| that made no progress for longest; returns 0
 * when every connection of |g| is busy (or it has none). */
static int evict_one(struct xb_listen_guard *g, uint64_t now_ms)
{
    struct xb_conn_slot *victim = xb_listen_pick_victim(g->head);
    uint64_t suppressed = 0;
    size_t before;

    if (!victim)
        return 0;
    XB_METRIC_ADD(
        xb_receiver_metrics.connections_refused[g->transport][XB_CONN_REFUSED_EVICTED_STALLED], 1);
    if (xb_ratelimit_allow(&g->evict_log, now_ms, &suppressed))
        XB_WARN(g->name,
                "max_connections (%u) reached: closing the connection idle longest "
                "(%llu ms without progress) (%llu similar not logged)",
                g->max_connections, (unsigned long long)(now_ms - victim->progress_ms),
                (unsigned long long)suppressed);
    before = g->count;
    /* The callback usually frees the memory holding |victim|: only the count tells
     * whether it released the slot. */
    victim->evict(victim, victim->ud);
    if (g->count == before)
        unlink_slot(g, victim); /* not released, so not freed either */
    return 1;
}

/* The connections counted against the cap: every worker's with a share, else ours. */
static size_t total_count(const struct xb_listen_guard *g)
{
    return g->shared ? __atomic_load_n(&g->shared->count, __ATOMIC_RELAXED) : g->count;
}

/* Makes room for one more connection under the cap. Returns 0 when it cannot. */
static int make_room(struct xb_listen_guard *g, uint64_t now_ms)
{
    uint64_t suppressed = 0;

    if (!g->max_connections || total_count(g) < g->max_connections)
        return 1;
    if (evict_one(g, now_ms)) {
        /* With workers another may have gone past the cap: back under it. */
        while (g->shared && total_count(g) >= g->max_connections && evict_one(g, now_ms))
            ;
        return 1;
    }
    if (g->shared && g->count == 0)
        return 1; /* nothing of ours to evict: admit past the cap (listen.h) */
    XB_METRIC_ADD(
        xb_receiver_metrics.connections_refused[g->transport][XB_CONN_REFUSED_MAX_CONNECTIONS], 1);
    if (xb_ratelimit_allow(&g->evict_log, now_ms, &suppressed))
        XB_WARN(g->name,
                "refusing connection: max_connections (%u) reached and every "
                "connection is busy (%llu similar not logged)",
                g->max_connections, (unsigned long long)suppressed);
    return 0;
}

int xb_listen_guard_admit(struct xb_listen_guard *g, struct xb_conn_slot *slot, uint64_t now_ms)
{
    int ok;

    /* Workers admit one at a time, so they cannot both take the last place. */
    if (g->shared)
        pthread_mutex_lock(&g->shared->lock);
    ok = make_room(g, now_ms);
    if (ok) {
        slot->guard = g;
        slot->prev = NULL;
        slot->next = g->head;
        if (g->head)
            g->head->prev = slot;
        g->head = slot;
        slot->progress_ms = now_ms;
        g->count++;
        if (g->shared)
            __atomic_fetch_add(&g->shared->count, 1, __ATOMIC_RELAXED);
        g->failures = 0;
        XB_METRIC_ADD(xb_receiver_metrics.receiver_connections[g->transport], 1);
    }
    if (g->shared)
        pthread_mutex_unlock(&g->shared->lock);
    return ok ? XB_OK : XB_ERR_FULL;
}

void xb_listen_guard_release(struct xb_conn_slot *slot)
{
    struct xb_listen_guard *g = slot ? slot->guard : NULL;

    if (!g)
        return;
    unlink_slot(g, slot);
    guard_resume(g);
}

void xb_listen_guard_progress(struct xb_conn_slot *slot, uint64_t now_ms)
{
    slot->progress_ms = now_ms;
}

void xb_listen_share_init(struct xb_listen_share *sh)
{
    pthread_mutex_init(&sh->lock, NULL);
    sh->count = 0;
}

void xb_listen_share_cleanup(struct xb_listen_share *sh)
{
    pthread_mutex_destroy(&sh->lock);
}

void xb_listen_guard_share(struct xb_listen_guard *g, struct xb_listen_share *sh)
{
    g->shared = sh;
}

size_t xb_listen_guard_count(const struct xb_listen_guard *g)
{
    return g ? g->count : 0;
}

void xb_listen_guard_count_refused(const struct xb_listen_guard *g, enum xb_conn_refused reason)
{
    if (g && (unsigned)reason < XB_CONN_REFUSED_COUNT)
        XB_METRIC_ADD(xb_receiver_metrics.connections_refused[g->transport][reason], 1);
}

int xb_listen_raise_nofile(uint64_t needed, uint64_t *limit)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return XB_ERR_IO;
    if (rl.rlim_cur != rl.rlim_max) {
        struct rlimit want = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    *limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    return needed <= *limit ? XB_OK : XB_ERR_FULL;
}
