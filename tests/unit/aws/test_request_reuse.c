/*
 * tests/unit/aws/test_request_reuse.c - aws/request.c: when a finished libcurl handle is
 * kept for the next call (xb_easy_spare_keeps, xb_easy_spares_*), and that a handle set
 * up again with xb_aws_request_rearm sends the new body with a new signature, on the
 * same connection (a one-connection HTTP/1.1 server on 127.0.0.1 in a thread); and that
 * a body of pieces (aws/pieces.h) arrives as the bytes of their concatenation, signed
 * for them, also when libcurl rewinds it to send it again on a new connection, and
 * whichever kind of body the handle's previous call had.
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

#include "aws/request.h"
#include "aws/sigv4.h"
#include "core/err.h"
#include "tests/unit/aws/http_peer.h"

static void test_keeps(void **state)
{
    (void)state;
    assert_true(xb_easy_spare_keeps(CURLE_OK, 0, 2));
    assert_true(xb_easy_spare_keeps(CURLE_OK, 1, 2));
    assert_false(xb_easy_spare_keeps(CURLE_OK, 2, 2)); /* full */
    assert_false(xb_easy_spare_keeps(CURLE_OK, 0, 0)); /* keeping nothing */
    /* A transfer that did not complete leaves its handle behind. */
    assert_false(xb_easy_spare_keeps(CURLE_COULDNT_CONNECT, 0, 2));
    assert_false(xb_easy_spare_keeps(CURLE_OPERATION_TIMEDOUT, 0, 2));
    assert_false(xb_easy_spare_keeps(CURLE_SEND_ERROR, 0, 2));
    assert_false(xb_easy_spare_keeps(CURLE_RECV_ERROR, 0, 2));
    assert_false(xb_easy_spare_keeps(CURLE_WRITE_ERROR, 0, 2));
}

static void test_spares(void **state)
{
    struct xb_easy_spares s;
    CURL *a = curl_easy_init(), *b = curl_easy_init(), *c = curl_easy_init();
    CURL *d = curl_easy_init();
    (void)state;
    assert_non_null(a);
    assert_non_null(d);
    assert_int_equal(xb_easy_spares_init(&s, 2), XB_OK);
    assert_null(xb_easy_spares_take(&s));
    xb_easy_spares_put(&s, NULL, CURLE_OK); /* nothing */
    assert_int_equal(s.n, 0);
    xb_easy_spares_put(&s, a, CURLE_OK);
    xb_easy_spares_put(&s, d, CURLE_RECV_ERROR); /* freed, not kept */
    assert_int_equal(s.n, 1);
    xb_easy_spares_put(&s, b, CURLE_OK);
    xb_easy_spares_put(&s, c, CURLE_OK); /* no room: freed */
    assert_int_equal(s.n, 2);
    assert_ptr_equal(xb_easy_spares_take(&s), b); /* the last kept first */
    assert_int_equal(s.n, 1);
    xb_easy_spares_put(&s, b, CURLE_OK);
    xb_easy_spares_cleanup(&s); /* frees a and b (valgrind and ASan check) */
    assert_int_equal(s.n, 0);
    assert_int_equal(xb_easy_spares_init(&s, 0), XB_OK); /* keeping nothing */
    xb_easy_spares_put(&s, curl_easy_init(), CURLE_OK);
    assert_int_equal(s.n, 0);
    xb_easy_spares_cleanup(&s);
}

/* ---- two calls on one handle against a loopback server ----------------------- */

#define N_CALLS 2

/* A listening socket on 127.0.0.1 (a free port): its "127.0.0.1:port" in |hostport| and
 * the PutTraceSegments URL on it in |url|. */
static int listen_loopback(char *hostport, size_t hostport_len, char *url, size_t url_len)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(hostport, hostport_len, "127.0.0.1:%u", ntohs(sa.sin_port));
    snprintf(url, url_len, "http://%s/TraceSegments", hostport);
    return fd;
}

struct server {
    int lfd;
    int accepted;              /* connections accepted */
    char heads[N_CALLS][2048]; /* request line and headers of each call */
    char bodies[N_CALLS][64];  /* body of each call */
};

static void *serve(void *ud)
{
    struct server *sv = ud;
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    int fd = accept(sv->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    sv->accepted++;
    for (int i = 0; i < N_CALLS; i++) {
        char buf[4096];
        size_t len = 0;
        int head = xb_test_read_request(fd, buf, sizeof(buf), &len);
        if (head < 0)
            break;
        snprintf(sv->heads[i], sizeof(sv->heads[i]), "%.*s", head, buf);
        snprintf(sv->bodies[i], sizeof(sv->bodies[i]), "%.*s", (int)(len - (size_t)head),
                 buf + head);
        if (write(fd, answer, sizeof(answer) - 1) != (ssize_t)sizeof(answer) - 1)
            break;
    }
    close(fd);
    return NULL;
}

static size_t keep_body(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    *(size_t *)ud += size * n;
    return size * n;
}

/* The Authorization header xb_sigv4_sign gives for |body| at |now|. */
static void expect_auth(const struct xb_aws_creds *creds, const char *hostport, const char *body,
                        time_t now, char *out, size_t out_len)
{
    struct xb_sigv4_header sh[2] = {{"host", hostport}, {"content-type", "application/json"}};
    struct xb_sigv4_request sreq = {"POST", "/TraceSegments", NULL, sh, 2, body, strlen(body)};
    struct xb_sigv4_result sig;
    assert_int_equal(xb_sigv4_sign(&sreq, "us-west-2", "xray", creds, now, &sig), XB_OK);
    snprintf(out, out_len, "Authorization: %s", sig.authorization);
}

static void test_rearm_sends_new_call(void **state)
{
    static const struct xb_sigv4_header ct = {"Content-Type", "application/json"};
    static const char *const bodies[N_CALLS] = {"{\"a\":1}", "{\"b\":22}"};
    static const time_t times[N_CALLS] = {1709296496, 1709296497};
    struct xb_aws_creds creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    struct server sv = {0};
    char url[64], hostport[32], auth[1100], errbuf[CURL_ERROR_SIZE];
    struct curl_slist *h = NULL;
    CURL *e = NULL;
    pthread_t th;
    size_t got = 0;
    (void)state;

    sv.lfd = listen_loopback(hostport, sizeof(hostport), url, sizeof(url));
    assert_int_equal(pthread_create(&th, NULL, serve, &sv), 0);

    for (int i = 0; i < N_CALLS; i++) {
        struct xb_aws_request r = {.method = "POST",
                                   .url = url,
                                   .headers = &ct,
                                   .n_headers = 1,
                                   .body = bodies[i],
                                   .body_len = strlen(bodies[i]),
                                   .sign = {"xray", "us-west-2", &creds, times[i]},
                                   .timeout_ms = 10000,
                                   .on_body = keep_body,
                                   .on_body_ud = &got,
                                   .errbuf = errbuf};
        struct curl_slist *old = h;
        if (i == 0) {
            assert_int_equal(xb_aws_request_build(&r, &e, &h, NULL, 0), XB_OK);
        } else {
            assert_int_equal(xb_aws_request_rearm(&r, e, &h, NULL, 0), XB_OK);
            curl_slist_free_all(old); /* the handle now points to the new list */
        }
        assert_int_equal(curl_easy_perform(e), CURLE_OK);
    }
    pthread_join(th, NULL);
    close(sv.lfd);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);

    assert_int_equal(sv.accepted, 1); /* the second call reused the connection */
    assert_int_equal(got, 2 * N_CALLS);
    for (int i = 0; i < N_CALLS; i++) {
        assert_string_equal(sv.bodies[i], bodies[i]);
        expect_auth(&creds, hostport, bodies[i], times[i], auth, sizeof(auth));
        assert_non_null(strstr(sv.heads[i], auth));
        assert_non_null(strstr(sv.heads[i], i ? "X-Amz-Date: 20240301T123457Z"
                                              : "X-Amz-Date: 20240301T123456Z"));
    }
}

/* A request the signer refuses leaves the handle as it was and returns no list. */
static void test_rearm_refused(void **state)
{
    struct xb_sigv4_header many[20];
    struct xb_aws_creds creds = {"AKIDEXAMPLE", "secret", NULL};
    struct xb_aws_request r = {.method = "POST",
                               .url = "http://127.0.0.1:1/TraceSegments",
                               .body = "{}",
                               .body_len = 2,
                               .sign = {"xray", "us-west-2", &creds, 1709296496}};
    struct curl_slist *h = (struct curl_slist *)&r; /* must be reset */
    CURL *e = curl_easy_init();
    char err[128] = "";
    (void)state;
    for (size_t i = 0; i < 20; i++)
        many[i] = (struct xb_sigv4_header){"X-A", "b"};
    r.headers = many;
    r.n_headers = 20;
    assert_int_equal(xb_aws_request_rearm(&r, e, &h, err, sizeof(err)), XB_ERR_TOO_LARGE);
    assert_null(h);
    assert_non_null(strstr(err, "too many headers"));
    curl_easy_cleanup(e);
}

/* Requests to different URLs, one after another on one thread, are each signed and sent
 * with their own host, path and query (the split of the last URL is remembered). */
static void test_url_alternates(void **state)
{
    static const char *const urls[] = {
        "http://127.0.0.1:8080/TraceSegments", "https://xray.us-west-2.amazonaws.com/TraceSegments",
        "http://127.0.0.1:8080/TraceSegments", "http://10.0.0.1/a/b?x=1&y=2",
        "http://127.0.0.1:8080/TraceSegments"};
    static const char *const hosts[] = {
        "Host: 127.0.0.1:8080", "Host: xray.us-west-2.amazonaws.com", "Host: 127.0.0.1:8080",
        "Host: 10.0.0.1", "Host: 127.0.0.1:8080"};
    static const char *const paths[] = {"/TraceSegments", "/TraceSegments", "/TraceSegments",
                                        "/a/b", "/TraceSegments"};
    static const char *const queries[] = {NULL, NULL, NULL, "x=1&y=2", NULL};
    struct xb_aws_creds creds = {"AKIDEXAMPLE", "secret", NULL};
    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct xb_aws_request r = {.method = "POST",
                                   .url = urls[i],
                                   .body = "{}",
                                   .body_len = 2,
                                   .sign = {"xray", "us-west-2", &creds, 1709296496}};
        char host[64], auth[1100];
        struct xb_sigv4_header sh[1] = {{"host", host}};
        struct xb_sigv4_request sreq = {"POST", paths[i], queries[i], sh, 1, "{}", 2};
        struct xb_sigv4_result sig;
        struct curl_slist *h = NULL;
        CURL *e = NULL;
        int found = 0;

        snprintf(host, sizeof(host), "%s", hosts[i] + 6);
        assert_int_equal(xb_sigv4_sign(&sreq, "us-west-2", "xray", &creds, 1709296496, &sig),
                         XB_OK);
        snprintf(auth, sizeof(auth), "Authorization: %s", sig.authorization);
        assert_int_equal(xb_aws_request_build(&r, &e, &h, NULL, 0), XB_OK);
        assert_string_equal(h->data, hosts[i]);
        for (struct curl_slist *l = h; l; l = l->next)
            found |= strcmp(l->data, auth) == 0;
        assert_true(found);
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
    }
}

/* ---- bodies of pieces and POSTFIELDS bodies on one reused handle ------------- */

#define P_REQS 5            /* requests the server reads (one of them twice) */
#define P_CAP (512u * 1024) /* room for one request */
#define BIG_DOC 3000        /* bytes of each of the large body's 50 documents */
#define PIECE(lit)                                                                                 \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }

struct pserver {
    int lfd;
    int accepted;
    int close_at; /* index of the request read then left unanswered (connection closed) */
    int n;        /* requests read */
    char heads[P_REQS][2048];
    char *bodies[P_REQS]; /* malloc'd, NUL-terminated */
    size_t body_len[P_REQS];
};

static void *pserve(void *ud)
{
    struct pserver *sv = ud;
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    char *buf = malloc(P_CAP);
    if (!buf)
        return NULL;
    while (sv->n < P_REQS) {
        int fd = accept(sv->lfd, NULL, NULL);
        if (fd < 0)
            break;
        sv->accepted++;
        while (sv->n < P_REQS) {
            size_t len = 0;
            int head = xb_test_read_request(fd, buf, P_CAP, &len), i = sv->n;
            if (head < 0)
                break;
            snprintf(sv->heads[i], sizeof(sv->heads[i]), "%.*s", head, buf);
            sv->body_len[i] = len - (size_t)head;
            sv->bodies[i] = malloc(sv->body_len[i] + 1);
            if (sv->bodies[i]) {
                memcpy(sv->bodies[i], buf + head, sv->body_len[i]);
                sv->bodies[i][sv->body_len[i]] = '\0';
            }
            sv->n++;
            if (i == sv->close_at)
                break; /* read, never answered: the client must send it again */
            if (write(fd, answer, sizeof(answer) - 1) != (ssize_t)sizeof(answer) - 1)
                break;
        }
        close(fd);
    }
    free(buf);
    return NULL;
}

/* The calls, in order: a large body of pieces (over libcurl's 64 KiB upload buffer), a
 * POSTFIELDS body, a small body of pieces whose first sending the server drops, a
 * POSTFIELDS body again. The handle goes through xb_easy_spares between calls. */
static void test_pieces_and_postfields(void **state)
{
    static const struct xb_sigv4_header ct = {"Content-Type", "application/json"};
    static const char *const flat_bodies[] = {"{\"flat\":1}", "{\"flat\":22}"};
    static const struct xb_piece small[] = {PIECE("{\"TraceSegmentDocuments\":[\""), PIECE(""),
                                            PIECE("{\\\"a\\\":1}"), PIECE("\"]}")};
    struct xb_aws_creds creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    struct xb_piece big[2 * 50 + 1];
    static char docs[50][BIG_DOC];
    char *want[4];
    struct pserver sv = {.close_at = 2};
    char url[64], hostport[32], auth[1100], errbuf[CURL_ERROR_SIZE];
    struct xb_pieces_reader reader;
    struct xb_easy_spares spares;
    struct curl_slist *h = NULL;
    CURL *e = NULL;
    pthread_t th;
    size_t got = 0, nb = 0;
    (void)state;

    big[nb++] = small[0];
    for (size_t i = 0; i < 50; i++) {
        for (size_t j = 0; j < BIG_DOC; j++)
            docs[i][j] = (char)('a' + (i + j) % 26);
        if (i)
            big[nb++] = (struct xb_piece)PIECE("\",\"");
        big[nb++] = (struct xb_piece){docs[i], BIG_DOC};
    }
    big[nb++] = small[3];
    for (int k = 0; k < 4; k++) {
        const struct xb_piece *v = k == 0 ? big : small;
        size_t n = k == 0 ? nb : sizeof(small) / sizeof(small[0]);
        struct xb_pieces_reader r;
        if (k == 1 || k == 3) {
            want[k] = strdup(flat_bodies[k / 2]);
            continue;
        }
        xb_pieces_reader_init(&r, v, n);
        want[k] = calloc(1, r.total + 1);
        assert_non_null(want[k]);
        assert_int_equal(xb_pieces_read(&r, want[k], r.total), r.total);
    }
    assert_true(strlen(want[0]) > 65536);

    sv.lfd = listen_loopback(hostport, sizeof(hostport), url, sizeof(url));
    assert_int_equal(pthread_create(&th, NULL, pserve, &sv), 0);
    assert_int_equal(xb_easy_spares_init(&spares, 1), XB_OK);

    for (int k = 0; k < 4; k++) {
        struct xb_aws_request r = {.method = "POST",
                                   .url = url,
                                   .headers = &ct,
                                   .n_headers = 1,
                                   .sign = {"xray", "us-west-2", &creds, 1709296496 + k},
                                   .timeout_ms = 10000,
                                   .on_body = keep_body,
                                   .on_body_ud = &got,
                                   .errbuf = errbuf};
        if (k == 1 || k == 3) {
            r.body = want[k];
            r.body_len = strlen(want[k]);
        } else {
            r.pieces = k == 0 ? big : small;
            r.n_pieces = k == 0 ? nb : sizeof(small) / sizeof(small[0]);
            r.reader = &reader;
        }
        e = xb_easy_spares_take(&spares);
        if (!e)
            assert_int_equal(xb_aws_request_build(&r, &e, &h, NULL, 0), XB_OK);
        else
            assert_int_equal(xb_aws_request_rearm(&r, e, &h, NULL, 0), XB_OK);
        assert_int_equal(curl_easy_perform(e), CURLE_OK);
        memset(&reader, 0xa5, sizeof(reader)); /* a kept handle must not read it again */
        xb_easy_spares_put(&spares, e, CURLE_OK);
        curl_slist_free_all(h);
        h = NULL;
    }
    pthread_join(th, NULL);
    close(sv.lfd);
    xb_easy_spares_cleanup(&spares);

    assert_int_equal(sv.n, P_REQS);
    assert_int_equal(sv.accepted, 2); /* the dropped request went again on a new connection */
    assert_int_equal(got, 2 * 4);
    for (int i = 0; i < P_REQS; i++) {
        int k = i <= 2 ? i : i - 1; /* requests 2 and 3 are call 2 and its second sending */
        char cl[40];
        assert_non_null(sv.bodies[i]);
        assert_int_equal(sv.body_len[i], strlen(want[k]));
        assert_memory_equal(sv.bodies[i], want[k], sv.body_len[i]);
        snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", strlen(want[k]));
        assert_non_null(strstr(sv.heads[i], cl));
        assert_null(strstr(sv.heads[i], "chunked"));
        assert_null(strstr(sv.heads[i], "100-continue"));
        expect_auth(&creds, hostport, want[k], 1709296496 + k, auth, sizeof(auth));
        assert_non_null(strstr(sv.heads[i], auth));
        free(sv.bodies[i]);
    }
    for (int k = 0; k < 4; k++)
        free(want[k]);
}

/* Pieces without a reader are refused before anything is built. */
static void test_pieces_need_reader(void **state)
{
    static const struct xb_piece v[] = {{"{}", 2}};
    struct xb_aws_request r = {
        .method = "POST", .url = "http://127.0.0.1:1/x", .pieces = v, .n_pieces = 1};
    struct curl_slist *h = NULL;
    CURL *e = NULL;
    char err[128] = "";
    (void)state;
    assert_int_equal(xb_aws_request_build(&r, &e, &h, err, sizeof(err)), XB_ERR_INVALID);
    assert_null(e);
    assert_null(h);
    assert_non_null(strstr(err, "reader"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keeps),
        cmocka_unit_test(test_spares),
        cmocka_unit_test(test_rearm_sends_new_call),
        cmocka_unit_test(test_rearm_refused),
        cmocka_unit_test(test_url_alternates),
        cmocka_unit_test(test_pieces_and_postfields),
        cmocka_unit_test(test_pieces_need_reader),
    };
    int rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
