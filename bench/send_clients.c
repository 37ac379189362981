/*
 * bench/send_clients.c - what the HTTP client costs per PutTraceSegments call.
 *
 * Sends the same calls to bench/xray_sink three ways, in alternating rounds of one run,
 * and prints the CPU time of this process per call and per document for each:
 *
 *   libcurl  the exporter's own path: aws/request.h builds (then re-arms) an easy handle
 *            with the body as pieces (aws/pieces.h), aws/curl_loop.h runs it on a
 *            libevent loop through curl_multi_socket_action(), as exporter/http_call.c
 *            does;
 *   evhttp   libevent's own HTTP client (event2/http.h) on the same loop, the body's
 *            pieces added to its output buffer by reference, one kept-alive connection
 *            per call in flight, without the 16 KiB cap on a single write;
 *   socket   the least any HTTP/1.1 client must do: one writev() of the request head
 *            and the body's pieces on a kept-alive non-blocking socket, then reads of
 *            the answer until its Content-Length is in, on the same libevent loop.
 *
 * All three send the same bytes: the head of a signed call (Host, User-Agent, Content-Type,
 * X-Amz-Date, an Authorization of the real length, optionally an X-Amz-Security-Token
 * of -t characters) and a body of -d documents of -b bytes each. Nothing is signed:
 * hashing the body costs the same whichever client sends it (docs/performance.md). The
 * "socket" side is a yardstick for this comparison, not a client: it handles only
 * the sink's answers (200, Content-Length, no chunking).
 *
 * usage: send_clients XRAY_SINK [-n CALLS] [-r ROUNDS] [-c IN_FLIGHT] [-d DOCS] [-b BYTES]
 *                     [-t TOKEN_BYTES] [-C CERT -K KEY] [-f]
 *   starts XRAY_SINK (bench/xray_sink) on 127.0.0.1 and stops it at the end; exits
 *   non-zero unless every call was answered 200 and the sink counted every document
 *   sent (so a body that lost documents fails too). With -C and
 *   -K (PEM files of a certificate for IP 127.0.0.1 and its key) the sink serves HTTPS
 *   and every side speaks TLS to it, checking the certificate: libcurl as the exporter
 *   sets it up, evhttp through an OpenSSL bufferevent (the body as one copied chunk:
 *   it encrypts each chunk of its buffer as records of its own), and the socket side
 *   with one SSL_write() of the whole request into memory and one send() of all its
 *   records. With -f the libcurl side gets the body as one buffer built before the run
 *   (CURLOPT_POSTFIELDS) instead of pieces: libcurl 7.88 then sends a body below 64 KiB
 *   together with the head.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/curl_loop.h"
#include "aws/request.h"
#include "bench/cpu_time.h"
#include "core/err.h"

#define MAX_IN_FLIGHT 16
#define MAX_DOCS 256
#define HEAD_MAX 8192
#define TOKEN_MAX 4096 /* characters; the head stays below HEAD_MAX */

/* The calls' shared content: the body's pieces and the head's header values. */
struct content {
    struct xb_piece pieces[MAX_DOCS + 2];
    size_t n_pieces, body_len;
    char *doc_bytes;
    char hostport[64], url[128];
    char *token;         /* NULL = no X-Amz-Security-Token */
    const char *ca_file; /* HTTPS: the sink's certificate, trusted as the CA; NULL = HTTP */
    char *flat;          /* -f: the body in one buffer, for libcurl; NULL = pieces */
    SSL_CTX *tls;        /* HTTPS: the evhttp and socket sides' client context */
    struct xb_sigv4_header headers[4];
    size_t n_headers;
};

/* One call in flight: a libcurl handle, an evhttp connection and a socket of its own. */
struct slot {
    struct run *run;
    /* libcurl */
    CURL *easy;
    struct curl_slist *hdrs;
    struct xb_pieces_reader reader;
    /* evhttp */
    struct evhttp_connection *conn;
    /* socket */
    int fd;
    SSL *ssl;    /* HTTPS: reads from the socket, writes records into |wmem| */
    BIO *wmem;   /* HTTPS: owned by |ssl| */
    char *plain; /* HTTPS: the request in one piece, encrypted with one SSL_write() */
    struct event *ev;
    struct iovec iov[MAX_DOCS + 3];
    int iov_n, iov_at;
    char head[HEAD_MAX];
    char resp[4096];
    size_t resp_len;
};

/* One round of one side: calls left to start and to finish. */
struct run {
    struct event_base *base;
    struct xb_curl_loop *loop;
    const struct content *c;
    long to_start, to_finish;
    long calls; /* calls answered, every side and round: what the sink must have seen */
    int failed;
};

/* Copies the body's pieces into |dst| (c->body_len bytes) through aws/pieces.h, as
 * libcurl's read callback gets them; returns the bytes copied. */
static size_t body_copy(const struct content *c, char *dst)
{
    struct xb_pieces_reader r;

    xb_pieces_reader_init(&r, c->pieces, c->n_pieces);
    return xb_pieces_read(&r, dst, c->body_len);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Ends the round on a failed call: the program then exits non-zero. */
static void call_failed(struct slot *s, const char *what)
{
    fprintf(stderr, "send_clients: %s\n", what);
    s->run->failed = 1;
    event_base_loopbreak(s->run->base);
}

/* Counts a finished call and starts the slot's next one with |start|, if any is left. */
static void call_done(struct slot *s, void (*start)(struct slot *))
{
    if (--s->run->to_finish == 0)
        event_base_loopbreak(s->run->base);
    else if (s->run->to_start > 0)
        start(s);
}

static void curl_start(struct slot *s);

static void curl_done(void *ud, CURL *easy, CURLcode res)
{
    struct slot *s = ud;
    long status = 0;

    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(s->hdrs); /* after the transfer (aws/request.h) */
    s->hdrs = NULL;
    if (res != CURLE_OK || status != 200) {
        fprintf(stderr, "send_clients: %s, HTTP %ld\n", curl_easy_strerror(res), status);
        call_failed(s, "libcurl call failed");
        return;
    }
    call_done(s, curl_start);
}

/* Builds (first call) or re-arms the slot's handle as exporter/http_call.c does. */
static void curl_start(struct slot *s)
{
    const struct content *c = s->run->c;
    struct xb_aws_request r = {.method = "POST",
                               .url = c->url,
                               .headers = c->headers,
                               .n_headers = c->n_headers,
                               .timeout_ms = 10000,
                               .user_agent = "xraybridge/bench",
                               .proxy = "",
                               .ca_file = c->ca_file,
                               .on_body = discard,
                               .pieces = c->pieces,
                               .n_pieces = c->n_pieces,
                               .reader = &s->reader};
    int rc;

    s->run->to_start--;
    if (c->flat) { /* CURLOPT_POSTFIELDS, sent with the head when below 64 KiB */
        r.pieces = NULL;
        r.n_pieces = 0;
        r.reader = NULL;
        r.body = c->flat;
        r.body_len = c->body_len;
    }
    if (s->easy)
        rc = xb_aws_request_rearm(&r, s->easy, &s->hdrs, NULL, 0);
    else
        rc = xb_aws_request_build(&r, &s->easy, &s->hdrs, NULL, 0);
    if (rc != XB_OK || xb_curl_loop_add(s->run->loop, s->easy, curl_done, s) != XB_OK)
        call_failed(s, "cannot start a libcurl call");
}

/* The head the libcurl side sends: the same fields in the same order. */
static int socket_head(const struct content *c, char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "POST /TraceSegments HTTP/1.1\r\nHost: %s\r\nUser-Agent: xraybridge/bench\r\n"
                     "Accept: */*\r\n",
                     c->hostport);
    for (size_t i = 0; i < c->n_headers && n > 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "%s: %s\r\n", c->headers[i].name,
                      c->headers[i].value);
    if (n > 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "Content-Length: %zu\r\n\r\n", c->body_len);
    return n > 0 && (size_t)n < cap ? n : -1;
}

static void socket_start(struct slot *s);

static void evhttp_start(struct slot *s);

static void evhttp_done(struct evhttp_request *req, void *ud)
{
    struct slot *s = ud;

    if (!req || evhttp_request_get_response_code(req) != 200) {
        call_failed(s, "evhttp call failed");
        return;
    }
    call_done(s, evhttp_start);
}

/* The same head fields (evhttp adds none of its own but Content-Length when missing). */
static void evhttp_start(struct slot *s)
{
    const struct content *c = s->run->c;
    struct evhttp_request *req = evhttp_request_new(evhttp_done, s);
    struct evkeyvalq *h;
    struct evbuffer *b;
    char len[32];
    int rc = -1;

    s->run->to_start--;
    if (!req)
        goto out;
    h = evhttp_request_get_output_headers(req);
    b = evhttp_request_get_output_buffer(req);
    snprintf(len, sizeof(len), "%zu", c->body_len);
    rc = evhttp_add_header(h, "Host", c->hostport) |
         evhttp_add_header(h, "User-Agent", "xraybridge/bench") |
         evhttp_add_header(h, "Accept", "*/*");
    for (size_t i = 0; i < c->n_headers; i++)
        rc |= evhttp_add_header(h, c->headers[i].name, c->headers[i].value);
    rc |= evhttp_add_header(h, "Content-Length", len);
    if (c->tls) {
        /* An OpenSSL bufferevent encrypts each chunk of its output buffer as records of
         * its own, so the body goes in as one chunk, copied once (as libcurl copies it
         * into its upload buffer), rather than as one reference per piece. */
        if (rc == 0)
            rc = evbuffer_add_reference(b, s->plain, body_copy(c, s->plain), NULL, NULL);
    } else {
        for (size_t i = 0; i < c->n_pieces && rc == 0; i++)
            rc = evbuffer_add_reference(b, c->pieces[i].p, c->pieces[i].len, NULL, NULL);
    }
    if (rc == 0)
        rc = evhttp_make_request(s->conn, req, EVHTTP_REQ_POST, "/TraceSegments"); /* owns req */
    else
        evhttp_request_free(req);
out:
    if (rc != 0)
        call_failed(s, "cannot start an evhttp call");
}

/* A client TLS session that checks the sink's certificate for 127.0.0.1, or NULL. */
static SSL *tls_new(SSL_CTX *ctx)
{
    SSL *ssl = SSL_new(ctx);

    if (ssl && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") != 1) {
        SSL_free(ssl);
        ssl = NULL;
    }
    return ssl;
}

/* A connection of its own, which libevent opens on the first call (it replaces any
 * socket given to it, and sets no TCP_NODELAY), allowed to write a whole request at
 * once: bufferevents cap a single write at 16 KiB unless told otherwise. */
static int evhttp_connect(struct slot *s, struct event_base *base, int port)
{
    struct bufferevent *bev;

    if (s->run->c->tls) {
        SSL *ssl = tls_new(s->run->c->tls);
        if (!ssl)
            return -1;
        /* frees |ssl| with itself, or at once if it cannot be made */
        bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (bev)
            bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev)
        return -1;
    bufferevent_set_max_single_write(bev, 1 << 20);
    s->conn =
        evhttp_connection_base_bufferevent_new(base, NULL, bev, "127.0.0.1", (unsigned short)port);
    if (!s->conn) {
        bufferevent_free(bev);
        return -1;
    }
    return 0;
}

/* The answer is in when its head has ended and Content-Length bytes follow. */
static int answer_complete(const char *p, size_t n, int *ok)
{
    const char *end = memmem(p, n, "\r\n\r\n", 4), *cl;
    size_t body;

    if (!end)
        return 0;
    *ok = n >= 12 && memcmp(p, "HTTP/1.1 200", 12) == 0;
    cl = memmem(p, (size_t)(end - p), "\r\nContent-Length:", 17);
    body = cl ? strtoul(cl + 17, NULL, 10) : 0;
    return n >= (size_t)(end + 4 - p) + body;
}

static void socket_event(evutil_socket_t fd, short what, void *ud)
{
    struct slot *s = ud;
    int ok = 0;

    if (what & EV_WRITE) {
        while (s->iov_at < s->iov_n) {
            ssize_t w = writev(fd, s->iov + s->iov_at, s->iov_n - s->iov_at);
            if (w < 0 && errno == EAGAIN)
                return; /* the event is persistent: called again when writable */
            if (w <= 0)
                goto fail;
            while (s->iov_at < s->iov_n && (size_t)w >= s->iov[s->iov_at].iov_len)
                w -= (ssize_t)s->iov[s->iov_at++].iov_len;
            if (s->iov_at < s->iov_n) {
                s->iov[s->iov_at].iov_base = (char *)s->iov[s->iov_at].iov_base + w;
                s->iov[s->iov_at].iov_len -= (size_t)w;
            }
        }
        if (s->wmem)
            (void)BIO_reset(s->wmem); /* its records are on the wire */
        event_del(s->ev);
        event_assign(s->ev, s->run->base, fd, EV_READ | EV_PERSIST, socket_event, s);
        event_add(s->ev, NULL);
        return;
    }
    for (;;) {
        ssize_t r;
        if (s->ssl) {
            r = SSL_read(s->ssl, s->resp + s->resp_len, (int)(sizeof(s->resp) - s->resp_len));
            if (r <= 0 && SSL_get_error(s->ssl, (int)r) == SSL_ERROR_WANT_READ)
                return;
        } else {
            r = read(fd, s->resp + s->resp_len, sizeof(s->resp) - s->resp_len);
            if (r < 0 && errno == EAGAIN)
                return;
        }
        if (r <= 0)
            goto fail;
        s->resp_len += (size_t)r;
        if (answer_complete(s->resp, s->resp_len, &ok))
            break;
        if (s->resp_len == sizeof(s->resp))
            goto fail;
    }
    if (!ok)
        goto fail;
    event_del(s->ev);
    call_done(s, socket_start);
    return;
fail:
    call_failed(s, "socket call failed");
}

/* Writes the whole request at once (one writev() unless the socket buffer fills). */
static void socket_start(struct slot *s)
{
    const struct content *c = s->run->c;
    int n = socket_head(c, s->head, sizeof(s->head));

    s->run->to_start--;
    if (n < 0) { /* not with -t at most TOKEN_MAX */
        call_failed(s, "request head too long");
        return;
    }
    if (s->ssl) {
        /* One copy into one buffer (libcurl copies into its upload buffer too), one
         * SSL_write() of every record into memory, one send of them all. */
        size_t len = (size_t)n;
        char *data;
        long out;
        memcpy(s->plain, s->head, len);
        len += body_copy(c, s->plain + len);
        if (SSL_write(s->ssl, s->plain, (int)len) != (int)len) {
            call_failed(s, "SSL_write into memory failed");
            return;
        }
        out = BIO_get_mem_data(s->wmem, &data);
        s->iov[0].iov_base = data;
        s->iov[0].iov_len = (size_t)out;
        s->iov_n = 1;
    } else {
        s->iov[0].iov_base = s->head;
        s->iov[0].iov_len = (size_t)n;
        for (size_t i = 0; i < c->n_pieces; i++) {
            s->iov[i + 1].iov_base = (void *)c->pieces[i].p;
            s->iov[i + 1].iov_len = c->pieces[i].len;
        }
        s->iov_n = (int)c->n_pieces + 1;
    }
    s->iov_at = 0;
    s->resp_len = 0;
    event_assign(s->ev, s->run->base, s->fd, EV_WRITE | EV_PERSIST, socket_event, s);
    socket_event(s->fd, EV_WRITE, s);
    if (s->iov_at < s->iov_n && !s->run->failed)
        event_add(s->ev, NULL);
}

/* Connects the socket side; over HTTPS, shakes hands while the socket still blocks and
 * then points the session's writes at a memory BIO. */
static int socket_connect(struct slot *s, int port)
{
    const struct content *c = s->run->c;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        return -1;
    /* as libcurl does (CURLOPT_TCP_NODELAY defaults to on) */
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (c->tls) {
        s->plain = malloc(HEAD_MAX + c->body_len);
        s->ssl = tls_new(c->tls);
        if (!s->plain || !s->ssl || SSL_set_fd(s->ssl, s->fd) != 1 || SSL_connect(s->ssl) != 1)
            return -1;
        s->wmem = BIO_new(BIO_s_mem());
        if (!s->wmem)
            return -1;
        SSL_set0_wbio(s->ssl, s->wmem);
    }
    evutil_make_socket_nonblocking(s->fd);
    s->ev = event_new(NULL, -1, 0, NULL, NULL);
    return s->ev ? 0 : -1;
}

enum side { SIDE_LIBCURL, SIDE_EVHTTP, SIDE_SOCKET, SIDES };

static const char *const side_names[SIDES] = {"libcurl", "evhttp", "socket"};

/* Runs |calls| calls on |in_flight| slots; returns CPU ns, or 0 on failure. */
static uint64_t run_side(enum side side, struct run *run, struct slot *slots, int in_flight,
                         long calls)
{
    uint64_t t0 = xb_bench_cpu_ns();

    run->to_start = calls;
    run->to_finish = calls;
    run->failed = 0;
    for (int i = 0; i < in_flight && run->to_start > 0 && !run->failed; i++) {
        if (side == SIDE_LIBCURL)
            curl_start(&slots[i]);
        else if (side == SIDE_EVHTTP)
            evhttp_start(&slots[i]);
        else
            socket_start(&slots[i]);
    }
    if (!run->failed)
        event_base_dispatch(run->base);
    if (run->failed)
        return 0;
    run->calls += calls;
    return xb_bench_cpu_ns() - t0;
}

/* The sink's process and what it tells: its port through a pipe given as its port
 * file, its counts at exit on its standard output (another pipe). */
struct sink {
    pid_t pid;
    int out; /* read end of its standard output */
};

/* Starts the sink (HTTPS with |cert| and |key| when set) and waits up to 10 s for its
 * port. Returns 0, or -1 with nothing left running. */
static int start_sink(struct sink *k, const char *path, const char *cert, const char *key,
                      int *port)
{
    int port_pipe[2], out_pipe[2];
    char line[32];
    size_t got = 0;

    k->pid = -1;
    k->out = -1;
    if (pipe(port_pipe) != 0)
        return -1;
    if (pipe(out_pipe) != 0) {
        close(port_pipe[0]);
        close(port_pipe[1]);
        return -1;
    }
    k->pid = fork();
    if (k->pid == 0) {
        /* the port file is the pipe, as fd 3: the sink writes "PORT\n" into it */
        dup2(port_pipe[1], 3);
        dup2(out_pipe[1], STDOUT_FILENO);
        if (cert)
            execl(path, path, "/dev/fd/3", cert, key, (char *)NULL);
        else
            execl(path, path, "/dev/fd/3", (char *)NULL);
        _exit(127);
    }
    close(port_pipe[1]);
    close(out_pipe[1]);
    k->out = out_pipe[0];
    while (k->pid > 0 && got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
        struct pollfd p = {.fd = port_pipe[0], .events = POLLIN};
        ssize_t r;
        if (poll(&p, 1, 10000) != 1)
            break; /* no port in 10 s */
        r = read(port_pipe[0], line + got, sizeof(line) - 1 - got);
        if (r <= 0)
            break; /* it exited */
        got += (size_t)r;
    }
    close(port_pipe[0]);
    line[got] = '\0';
    if (k->pid > 0 && memchr(line, '\n', got) && sscanf(line, "%d", port) == 1)
        return 0;
    if (k->pid > 0) {
        kill(k->pid, SIGKILL);
        waitpid(k->pid, NULL, 0);
    }
    close(k->out);
    k->pid = -1;
    k->out = -1;
    return -1;
}

/* Stops the sink and returns the documents it counted, or -1 if it did not say. */
static long long stop_sink(struct sink *k)
{
    char text[256];
    size_t got = 0;
    ssize_t r;
    unsigned long long docs;

    if (k->pid <= 0)
        return -1;
    kill(k->pid, SIGTERM);
    while (got < sizeof(text) - 1 && (r = read(k->out, text + got, sizeof(text) - 1 - got)) > 0)
        got += (size_t)r; /* until it exits: end of file */
    waitpid(k->pid, NULL, 0);
    close(k->out);
    k->pid = -1;
    text[got] = '\0';
    return sscanf(text, "documents=%llu", &docs) == 1 ? (long long)docs : -1;
}

static int content_init(struct content *c, int port, size_t docs, size_t doc_bytes,
                        size_t token_bytes, const char *ca_file)
{
    size_t at = 0;

    memset(c, 0, sizeof(*c));
    c->ca_file = ca_file;
    c->doc_bytes = malloc(docs * (doc_bytes + 1));
    c->token = token_bytes ? malloc(token_bytes + 1) : NULL;
    if (!c->doc_bytes || (token_bytes && !c->token))
        return -1;
    snprintf(c->hostport, sizeof(c->hostport), "127.0.0.1:%d", port);
    snprintf(c->url, sizeof(c->url), "%s://%s/TraceSegments", c->ca_file ? "https" : "http",
             c->hostport);
    c->pieces[c->n_pieces++] = (struct xb_piece){"{\"TraceSegmentDocuments\":[", 26};
    for (size_t i = 0; i < docs; i++) {
        /* ,"xxxx...": a JSON string of doc_bytes bytes with its separator */
        char *d = c->doc_bytes + at;
        size_t n = doc_bytes + (i > 0);
        memset(d, 'x', n);
        if (i > 0)
            d[0] = ',';
        d[i > 0] = '"';
        d[n - 1] = '"';
        c->pieces[c->n_pieces++] = (struct xb_piece){d, n};
        at += n;
    }
    c->pieces[c->n_pieces++] = (struct xb_piece){"]}", 2};
    c->body_len = xb_pieces_total(c->pieces, c->n_pieces);
    c->headers[c->n_headers++] = (struct xb_sigv4_header){"Content-Type", "application/json"};
    c->headers[c->n_headers++] = (struct xb_sigv4_header){"X-Amz-Date", "20261205T120000Z"};
    if (c->token) {
        memset(c->token, 'T', token_bytes);
        c->token[token_bytes] = '\0';
        c->headers[c->n_headers++] = (struct xb_sigv4_header){"X-Amz-Security-Token", c->token};
    }
    c->headers[c->n_headers++] = (struct xb_sigv4_header){
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261205/us-west-2/xray/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: send_clients XRAY_SINK [-n CALLS] [-r ROUNDS] [-c IN_FLIGHT] "
                    "[-d DOCS] [-b BYTES] [-t TOKEN_BYTES] [-C CERT -K KEY] [-f]\n");
}

int main(int argc, char **argv)
{
    long calls = 2000, rounds = 3, in_flight = 1, docs = 50, doc_bytes = 1550, token = 0;
    struct content c;
    struct run run = {0};
    struct slot slots[MAX_IN_FLIGHT];
    double us[SIDES][64], sum[SIDES] = {0};
    int opt, port = 0, rc = 1;
    const char *cert = NULL, *key = NULL;
    int flat = 0;
    struct sink sink = {.pid = -1, .out = -1};
    long long delivered;

    while ((opt = getopt(argc, argv, "n:r:c:d:b:t:C:K:f")) != -1) {
        long *v;
        if (opt == 'f') {
            flat = 1;
            continue;
        }
        if (opt == 'C' || opt == 'K') {
            *(opt == 'C' ? &cert : &key) = optarg;
            continue;
        }
        v = opt == 'n'   ? &calls
            : opt == 'r' ? &rounds
            : opt == 'c' ? &in_flight
            : opt == 'd' ? &docs
            : opt == 'b' ? &doc_bytes
            : opt == 't' ? &token
                         : NULL;
        if (!v) {
            usage();
            return 2;
        }
        *v = strtol(optarg, NULL, 10);
    }
    if (optind + 1 != argc || calls < 1 || rounds < 1 || rounds > 64 || in_flight < 1 ||
        in_flight > MAX_IN_FLIGHT || docs < 1 || docs > MAX_DOCS || doc_bytes < 2 || token < 0 ||
        token > TOKEN_MAX || !cert != !key) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(slots, 0, sizeof(slots));
    memset(&c, 0, sizeof(c));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (start_sink(&sink, argv[optind], cert, key, &port) != 0) {
        fprintf(stderr, "send_clients: cannot start %s\n", argv[optind]);
        goto out;
    }
    if (content_init(&c, port, (size_t)docs, (size_t)doc_bytes, (size_t)token, cert) != 0)
        goto out;
    if (flat) {
        c.flat = malloc(c.body_len);
        if (!c.flat)
            goto out;
        body_copy(&c, c.flat);
    }
    if (cert) {
        c.tls = SSL_CTX_new(TLS_client_method());
        if (!c.tls || SSL_CTX_load_verify_locations(c.tls, cert, NULL) != 1) {
            fprintf(stderr, "send_clients: cannot load %s\n", cert);
            goto out;
        }
        SSL_CTX_set_verify(c.tls, SSL_VERIFY_PEER, NULL);
    }
    run.c = &c;
    run.base = event_base_new();
    if (!run.base || event_base_priority_init(run.base, XB_LOOP_PRIORITIES) != 0)
        goto out;
    run.loop = xb_curl_loop_new(run.base, 0);
    if (!run.loop)
        goto out;
    for (long i = 0; i < in_flight; i++) {
        slots[i].run = &run;
        slots[i].fd = -1;
        if (socket_connect(&slots[i], port) != 0 ||
            evhttp_connect(&slots[i], run.base, port) != 0) {
            fprintf(stderr, "send_clients: cannot connect to the sink\n");
            goto out;
        }
    }
    printf("send_clients: %ld calls a round, %ld in flight, %ld documents of %ld bytes a call "
           "(body %zu bytes), token %ld bytes, %s\n",
           calls, in_flight, docs, doc_bytes, c.body_len, token, cert ? "HTTPS" : "HTTP");
    /* a warm-up of each side: connections made, buffers grown */
    for (int k = 0; k < SIDES; k++)
        if (!run_side((enum side)k, &run, slots, (int)in_flight, in_flight * 10))
            goto out;
    for (long r = 0; r < rounds; r++) {
        printf("round %ld:", r + 1);
        for (int k = 0; k < SIDES; k++) {
            uint64_t ns = run_side((enum side)k, &run, slots, (int)in_flight, calls);
            if (!ns)
                goto out;
            us[k][r] = (double)ns / 1e3 / (double)calls;
            sum[k] += us[k][r];
            printf(" %s %.1f CPU-us/call (%.3f/document)%s", side_names[k], us[k][r],
                   us[k][r] / (double)docs, k + 1 < SIDES ? "," : "");
        }
        printf("; libcurl - socket %.3f CPU-us/document\n",
               (us[SIDE_LIBCURL][r] - us[SIDE_SOCKET][r]) / (double)docs);
    }
    rc = 0;
out:
    for (long i = 0; i < MAX_IN_FLIGHT; i++) {
        if (slots[i].easy) {
            curl_easy_cleanup(slots[i].easy);
            curl_slist_free_all(slots[i].hdrs);
        }
        if (slots[i].conn)
            evhttp_connection_free(slots[i].conn); /* and its bufferevent and socket */
        if (slots[i].ev)
            event_free(slots[i].ev);
        if (slots[i].ssl)
            SSL_free(slots[i].ssl); /* and its BIOs */
        free(slots[i].plain);
        if (slots[i].fd >= 0 && slots[i].run)
            close(slots[i].fd);
    }
    if (run.loop)
        xb_curl_loop_free(run.loop);
    if (run.base)
        event_base_free(run.base);
    delivered = stop_sink(&sink);
    if (rc == 0 && delivered != run.calls * docs) {
        /* every answer came, but the bodies must have carried every document too */
        fprintf(stderr, "send_clients: the sink counted %lld documents, %ld were sent\n", delivered,
                run.calls * docs);
        rc = 1;
    }
    if (rc == 0) /* last, and only when everything arrived */
        printf("RESULT libcurl_us_per_call=%.1f evhttp_us_per_call=%.1f socket_us_per_call=%.1f "
               "libcurl_minus_socket_us_per_document=%.3f\n",
               sum[SIDE_LIBCURL] / (double)rounds, sum[SIDE_EVHTTP] / (double)rounds,
               sum[SIDE_SOCKET] / (double)rounds,
               (sum[SIDE_LIBCURL] - sum[SIDE_SOCKET]) / (double)rounds / (double)docs);
    curl_global_cleanup();
    if (c.tls)
        SSL_CTX_free(c.tls);
    free(c.flat);
    free(c.doc_bytes);
    free(c.token);
    return rc;
}
