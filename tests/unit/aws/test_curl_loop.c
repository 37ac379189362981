/*
 * tests/unit/aws/test_curl_loop.c - aws/curl_loop.c against a keep-alive HTTP/1.1
 * server on 127.0.0.1 (a thread): a connection left idle in libcurl's cache keeps its
 * read event between calls and is reused; when the server closes an idle connection
 * the event is dropped (no busy loop) and the next call opens a new connection; a
 * refused connection leaves no event behind; freeing the loop drops every event
 * (ASan and valgrind check that nothing leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/curl_loop.h"
#include "core/err.h"
#include "tests/unit/aws/http_peer.h"

struct server {
    int lfd;
    int close_after; /* requests served per connection before closing it; 0 = never */
    int accepted, served;
    pthread_mutex_t mu;
};

static void *serve(void *ud)
{
    struct server *sv = ud;
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    int fd;
    while ((fd = accept(sv->lfd, NULL, NULL)) >= 0) {
        pthread_mutex_lock(&sv->mu);
        sv->accepted++;
        pthread_mutex_unlock(&sv->mu);
        for (int k = 0; sv->close_after == 0 || k < sv->close_after; k++) {
            char buf[8192];
            size_t len = 0;
            if (xb_test_read_request(fd, buf, sizeof(buf), &len) < 0)
                break;
            pthread_mutex_lock(&sv->mu);
            sv->served++;
            pthread_mutex_unlock(&sv->mu);
            if (write(fd, answer, sizeof(answer) - 1) != (ssize_t)sizeof(answer) - 1)
                break;
        }
        close(fd);
    }
    return NULL;
}

static int server_start(struct server *sv, pthread_t *th, int close_after)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    memset(sv, 0, sizeof(*sv));
    pthread_mutex_init(&sv->mu, NULL);
    sv->close_after = close_after;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sv->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sv->lfd >= 0);
    assert_int_equal(bind(sv->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(sv->lfd, 4), 0);
    assert_int_equal(getsockname(sv->lfd, (struct sockaddr *)&a, &alen), 0);
    assert_int_equal(pthread_create(th, NULL, serve, sv), 0);
    return ntohs(a.sin_port);
}

static void server_stop(struct server *sv, pthread_t th)
{
    shutdown(sv->lfd, SHUT_RDWR); /* accept() returns */
    pthread_join(th, NULL);
    close(sv->lfd);
    pthread_mutex_destroy(&sv->mu);
}

static int server_count(struct server *sv, int *field)
{
    int v;
    pthread_mutex_lock(&sv->mu);
    v = *field;
    pthread_mutex_unlock(&sv->mu);
    return v;
}

struct call {
    int done;
    CURLcode res;
};

static void on_done(void *ud, CURL *easy, CURLcode res)
{
    struct call *c = ud;
    (void)easy;
    c->done = 1;
    c->res = res;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Runs one POST to |port| on |l| to completion (bounded by libcurl's 5 s timeout). */
static CURLcode run_call(struct event_base *base, struct xb_curl_loop *l, CURL *e, int port)
{
    char url[64];
    struct call c = {0};
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/TraceSegments", port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "{\"TraceSegmentDocuments\":[]}");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    assert_int_equal(xb_curl_loop_add(l, e, on_done, &c), XB_OK);
    for (int i = 0; i < 100000 && !c.done; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_true(c.done);
    return c.res;
}

static int count_socket_events(const struct event_base *base, const struct event *ev, void *ud)
{
    (void)base;
    if (event_get_fd(ev) >= 0 && event_pending(ev, EV_READ | EV_WRITE, NULL))
        ++*(int *)ud;
    return 0;
}

/* Socket events added to |base| (the loop's timer is not one). */
static int socket_events(struct event_base *base)
{
    int n = 0;
    event_base_foreach_event(base, count_socket_events, &n);
    return n;
}

/* A server thread, a libevent loop with an xb_curl_loop on it and one easy handle. */
struct rig {
    struct server sv;
    pthread_t th;
    int server_up;
    int port;
    struct event_base *base;
    struct xb_curl_loop *l;
    CURL *e;
};

static void rig_start(struct rig *r, int close_after_one)
{
    r->port = server_start(&r->sv, &r->th, close_after_one);
    r->server_up = 1;
    r->base = event_base_new();
    assert_non_null(r->base);
    r->l = xb_curl_loop_new(r->base, 1);
    assert_non_null(r->l);
    r->e = curl_easy_init();
    assert_non_null(r->e);
}

static void rig_stop_server(struct rig *r)
{
    if (r->server_up)
        server_stop(&r->sv, r->th);
    r->server_up = 0;
}

/* Frees everything; freeing the loop closes its cached connection, so no socket event
 * may be left on the base. */
static void rig_stop(struct rig *r)
{
    curl_easy_cleanup(r->e);
    xb_curl_loop_free(r->l);
    assert_int_equal(socket_events(r->base), 0);
    event_base_free(r->base);
    rig_stop_server(r);
}

static void test_idle_connection_kept(void **state)
{
    struct rig r;
    (void)state;
    rig_start(&r, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(run_call(r.base, r.l, r.e, r.port), CURLE_OK);
        /* Between calls the idle connection keeps its read event. */
        assert_int_equal(socket_events(r.base), 1);
    }
    assert_int_equal(server_count(&r.sv, &r.sv.served), 3);
    assert_int_equal(server_count(&r.sv, &r.sv.accepted), 1); /* one connection, reused */
    rig_stop(&r);
}

static void test_server_closes_idle(void **state)
{
    struct rig r;
    (void)state;
    rig_start(&r, 1); /* the server closes each connection after one answer */
    assert_int_equal(run_call(r.base, r.l, r.e, r.port), CURLE_OK);
    /* The server's close makes the idle socket readable once: the event is dropped, so
     * the loop does not spin on it. */
    for (int i = 0; i < 1000 && socket_events(r.base) > 0; i++) {
        struct timeval tv = {0, 5000};
        event_base_loopexit(r.base, &tv);
        event_base_dispatch(r.base);
    }
    assert_int_equal(socket_events(r.base), 0);
    /* libcurl finds the connection dead and opens another. */
    assert_int_equal(run_call(r.base, r.l, r.e, r.port), CURLE_OK);
    assert_int_equal(server_count(&r.sv, &r.sv.accepted), 2);
    assert_int_equal(server_count(&r.sv, &r.sv.served), 2);
    rig_stop(&r);
}

static void test_refused_leaves_nothing(void **state)
{
    struct rig r;
    (void)state;
    rig_start(&r, 0);
    rig_stop_server(&r); /* nothing listens on |port| any more */
    assert_int_equal(run_call(r.base, r.l, r.e, r.port), CURLE_COULDNT_CONNECT);
    assert_int_equal(socket_events(r.base), 0);
    rig_stop(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_connection_kept),
        cmocka_unit_test(test_server_closes_idle),
        cmocka_unit_test(test_refused_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
