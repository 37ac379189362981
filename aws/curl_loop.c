#include "aws/curl_loop.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aws/proxy_env.h"
#include "core/err.h"

struct sockinfo;

struct xb_curl_loop {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct sockinfo *socks; /* every open socket of this multi that has an event */
};

/* Per transfer, stored in CURLOPT_PRIVATE. */
struct xfer {
    xb_curl_done_cb done;
    void *ud;
};

/* One socket libcurl asks the loop to watch (sock_cb). A connection's socket (opened
 * by open_cb) has one from its opening to its closing (close_cb), so that a connection
 * left idle in libcurl's cache between calls keeps its event and reusing it costs no
 * epoll_ctl. Any other socket (the threaded resolver's wake-up pair, which libcurl
 * closes without close_cb) has one only while libcurl watches it, as before. */
struct sockinfo {
    struct xb_curl_loop *loop;
    /* One event per direction: libevent merges them into one epoll registration, so
     * adding or deleting one while the other stays is one EPOLL_CTL_MOD (one event
     * re-aimed with event_del and event_add would be a DEL and an ADD). */
    struct event *rd, *wr;
    curl_socket_t fd;
    short kind; /* EV_READ and/or EV_WRITE: which of |rd| and |wr| are added */
    int conn;   /* a connection's socket, opened by open_cb: closed through close_cb */
    int idle;   /* libcurl stopped watching it (CURL_POLL_REMOVE); still open */
    struct sockinfo *next;
};

static void on_sock_event(evutil_socket_t fd, short what, void *ud);

static struct sockinfo *sock_find(struct xb_curl_loop *l, curl_socket_t fd)
{
    struct sockinfo *si = l->socks;
    while (si && si->fd != fd)
        si = si->next;
    return si;
}

static struct sockinfo *sock_new(struct xb_curl_loop *l, curl_socket_t fd)
{
    struct sockinfo *si = calloc(1, sizeof(*si));
    if (!si)
        return NULL;
    si->rd = event_new(l->base, fd, EV_READ | EV_PERSIST, on_sock_event, si);
    si->wr = event_new(l->base, fd, EV_WRITE | EV_PERSIST, on_sock_event, si);
    if (!si->rd || !si->wr || event_priority_set(si->rd, XB_LOOP_PRIO_SEND) ||
        event_priority_set(si->wr, XB_LOOP_PRIO_SEND)) {
        if (si->rd)
            event_free(si->rd);
        if (si->wr)
            event_free(si->wr);
        free(si);
        return NULL;
    }
    si->loop = l;
    si->fd = fd;
    si->next = l->socks;
    l->socks = si;
    return si;
}

static void sock_free(struct xb_curl_loop *l, struct sockinfo *si)
{
    struct sockinfo **pp = &l->socks;
    while (*pp != si)
        pp = &(*pp)->next;
    *pp = si->next;
    event_free(si->rd);
    event_free(si->wr);
    free(si);
}

static void check_done(struct xb_curl_loop *l)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
        struct xfer *x = NULL;
        CURL *easy = m->easy_handle;
        CURLcode res = m->data.result;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(l->multi, easy);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        if (x) {
            xb_curl_done_cb done = x->done;
            void *ud = x->ud;
            free(x);
            done(ud, easy, res);
        }
    }
}

static void on_sock_event(evutil_socket_t fd, short what, void *ud)
{
    struct sockinfo *si = ud;
    struct xb_curl_loop *l = si->loop;
    int running;
    int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

    if (si->idle) {
        /* No transfer uses it: the peer closed it or sent something unasked. Stop
         * watching; libcurl checks the connection before reusing it and closes it. */
        event_del(si->rd);
        event_del(si->wr);
        si->kind = 0;
        return;
    }
    /* |si| may be freed from here on (close_cb). */
    curl_multi_socket_action(l->multi, fd, action, &running);
    check_done(l);
}

static void on_timer(evutil_socket_t fd, short what, void *ud)
{
    struct xb_curl_loop *l = ud;
    int running;
    curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(l);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *ud, void *sockp)
{
    struct xb_curl_loop *l = ud;
    struct sockinfo *si = sockp ? sockp : sock_find(l, s);
    short kind;

    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (!si)
            return 0;
        curl_multi_assign(l->multi, s, NULL);
        if (si->conn)
            si->idle = 1; /* back to libcurl's cache: the event stays, for the next call */
        else
            sock_free(l, si);
        return 0;
    }
    kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0));
    if (!si && !(si = sock_new(l, s)))
        return -1;
    if (sockp != si)
        curl_multi_assign(l->multi, s, si);
    si->idle = 0;
    /* Only the direction that changes: nothing when a reused connection already
     * waits for what libcurl asks. */
    if ((kind ^ si->kind) & EV_READ)
        (kind & EV_READ) ? event_add(si->rd, NULL) : event_del(si->rd);
    if ((kind ^ si->kind) & EV_WRITE)
        (kind & EV_WRITE) ? event_add(si->wr, NULL) : event_del(si->wr);
    si->kind = kind;
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION of every handle run here: the socket libcurl would open
 * itself (lib/cf-socket.c), recorded as a connection of this multi. */
static curl_socket_t open_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xb_curl_loop *l = ud;
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
    struct sockinfo *si;

    if (fd == CURL_SOCKET_BAD || purpose != CURLSOCKTYPE_IPCXN)
        return fd;
    if (!(si = sock_new(l, fd))) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    si->conn = 1;
    return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION of every handle run here: libcurl closes a socket of
 * this multi. Its event goes first, so that no event outlives its descriptor (whose
 * number the process may reuse at once). */
static int close_cb(void *ud, curl_socket_t fd)
{
    struct xb_curl_loop *l = ud;
    struct sockinfo *si = sock_find(l, fd);
    if (si) {
        /* libcurl has already said CURL_POLL_REMOVE and forgotten the socket; should it
         * still know it, it must not hand the freed pointer to sock_cb again. */
        curl_multi_assign(l->multi, fd, NULL);
        sock_free(l, si);
    }
    return close(fd);
}

static int timer_cb(CURLM *m, long timeout_ms, void *ud)
{
    struct xb_curl_loop *l = ud;
    if (timeout_ms < 0) {
        evtimer_del(l->timer);
    } else {
        /* Even a 0 ms timeout goes through the loop: libcurl forbids calling
         * curl_multi_socket_action from inside this callback. */
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        evtimer_add(l->timer, &tv);
    }
    return 0;
}

struct xb_curl_loop *xb_curl_loop_new(struct event_base *base, long max_host_connections)
{
    struct xb_curl_loop *l;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    (void)xb_proxy_env_process(); /* the environment's proxy decision, made at start-up */
    l = calloc(1, sizeof(*l));
    if (!l)
        goto fail;
    l->base = base;
    l->multi = curl_multi_init();
    l->timer = evtimer_new(base, on_timer, l);
    if (!l->multi || !l->timer || event_priority_set(l->timer, XB_LOOP_PRIO_SEND))
        goto fail;
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
    if (max_host_connections > 0) {
        curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host_connections);
        curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, max_host_connections);
    }
    return l;
fail:
    if (l) {
        if (l->multi)
            curl_multi_cleanup(l->multi);
        if (l->timer)
            event_free(l->timer);
        free(l);
    }
    curl_global_cleanup();
    return NULL;
}

int xb_curl_loop_add(struct xb_curl_loop *l, CURL *easy, xb_curl_done_cb done, void *ud)
{
    struct xfer *x = malloc(sizeof(*x));
    if (!x)
        return XB_ERR_NOMEM;
    x->done = done;
    x->ud = ud;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
    /* Connections this handle opens are recorded (open_cb) and closed through close_cb,
     * whichever handle (or libcurl's cache) closes them later: libcurl copies the close
     * callback into the connection when it sets it up. */
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, l);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, l);
    if (curl_multi_add_handle(l->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(x);
        return XB_ERR_NOMEM;
    }
    return XB_OK;
}

void xb_curl_loop_remove(struct xb_curl_loop *l, CURL *easy)
{
    struct xfer *x = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    curl_multi_remove_handle(l->multi, easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    free(x);
}

void xb_curl_loop_free(struct xb_curl_loop *l)
{
    if (!l)
        return;
    curl_multi_cleanup(l->multi); /* closes the cached connections: close_cb */
    while (l->socks)
        sock_free(l, l->socks);
    event_free(l->timer);
    free(l);
    curl_global_cleanup();
}
