#include "aws/curl_loop.h"

#include <stdlib.h>

#include "aws/proxy_env.h"
#include "core/err.h"

struct xb_curl_loop {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
};

/* Per transfer, stored in CURLOPT_PRIVATE. */
struct xfer {
    xb_curl_done_cb done;
    void *ud;
};

struct sockinfo {
    struct event *ev;
    short kind; /* the EV_READ/EV_WRITE flags |ev| waits for */
};

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
    struct xb_curl_loop *l = ud;
    int running;
    int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
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
    struct sockinfo *si = sockp;
    short kind;

    if (what == CURL_POLL_REMOVE) {
        if (si) {
            event_free(si->ev);
            free(si);
            curl_multi_assign(l->multi, s, NULL);
        }
        return 0;
    }
    kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
                   EV_PERSIST);
    if (!si) {
        si = calloc(1, sizeof(*si));
        if (!si)
            return -1;
        si->ev = event_new(l->base, s, kind, on_sock_event, l);
        if (!si->ev) {
            free(si);
            return -1;
        }
        curl_multi_assign(l->multi, s, si);
    } else {
        if (si->kind == kind)
            return 0; /* already waiting for that */
        /* The same event, re-aimed: no allocation, and libevent folds the delete and
         * the add into one epoll_ctl. */
        event_del(si->ev);
        event_assign(si->ev, l->base, s, kind, on_sock_event, l);
    }
    si->kind = kind;
    event_add(si->ev, NULL);
    return 0;
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
    if (!l->multi || !l->timer)
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
    curl_multi_cleanup(l->multi);
    event_free(l->timer);
    free(l);
    curl_global_cleanup();
}
