/*
 * bench/xray_sink.c - a fast loopback stand-in for X-Ray PutTraceSegments: answers
 * every POST /TraceSegments with 200 {"UnprocessedTraceSegments":[]} and counts the
 * documents received. For benchmarks only (no signature check).
 *
 * POST /v1/traces (the otlphttp exporter's OTLP/HTTP requests) is answered 200 with an
 * empty ExportTraceServiceResponse and counted apart.
 *
 * usage: xray_sink PORT_FILE [CERT KEY]
 *   binds 127.0.0.1:0, writes the port to PORT_FILE; SIGTERM prints
 *   "documents=N requests=M otlp_requests=K" and exits. With CERT and KEY (PEM files)
 *   it speaks HTTPS with that certificate, as X-Ray's endpoints do, so that a benchmark
 *   counts the exporter's TLS work too.
 */
#include <arpa/inet.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/heap.h"
#include "core/err.h"
#include "receiver/tls.h"

static unsigned long long documents, requests, otlp_requests;

/* Where a scan of the TraceSegmentDocuments array stands between two chunks of a body:
 * inside a JSON string or not, a backslash waiting for the byte it escapes, and the
 * last byte seen outside a string. */
struct scan {
    int in_str;
    int escaped;
    char prev;
};

/* The index of the first quote or backslash at or after |i| in the |n| bytes at |p|, or
 * |n|. */
static size_t skip_plain(const char *p, size_t i, size_t n)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');

    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < n && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}

/* Counts top-level strings of the TraceSegmentDocuments array in the |n| bytes at |p|,
 * carrying |st| over from the previous chunk: each document is one JSON string, so it
 * begins at a quote after `[` or `,` outside any other string. */
static unsigned long long count_docs(struct scan *st, const char *p, size_t n)
{
    unsigned long long c = 0;
    size_t i = 0;

    while (i < n) {
        if (st->escaped) {
            st->escaped = 0;
            i++;
            continue;
        }
        if (st->in_str) {
            /* Inside a string only a backslash or a quote matters: 16 bytes a step
             * where SSE2 is there, then byte by byte. */
            i = skip_plain(p, i, n);
            if (i == n)
                break;
            if (p[i] == '\\') {
                st->escaped = 1;
            } else {
                st->in_str = 0;
                st->prev = '"';
            }
            i++;
            continue;
        }
        if (p[i] == '"') {
            st->in_str = 1;
            if (st->prev == '[' || st->prev == ',')
                c++;
        }
        st->prev = p[i];
        i++;
    }
    return c;
}

/* The documents in the |n|-byte body |in|, read where libevent keeps it, chunk by
 * chunk, never copied into one buffer. */
static unsigned long long count_body(struct evbuffer *in, size_t n)
{
    struct evbuffer_iovec v[64];
    struct evbuffer_ptr at;
    struct scan st = {0, 0, 0};
    unsigned long long c = 0;
    size_t done = 0;

    evbuffer_ptr_set(in, &at, 0, EVBUFFER_PTR_SET);
    while (done < n) {
        /* Up to 64 chunks a step; peek answers how many the rest needs. */
        int k, got = evbuffer_peek(in, (ev_ssize_t)(n - done), &at, v, 64);
        size_t seen = 0;
        if (got <= 0)
            break;
        for (k = 0; k < got && k < 64; k++) {
            size_t len = v[k].iov_len < n - done - seen ? v[k].iov_len : n - done - seen;
            c += count_docs(&st, v[k].iov_base, len);
            seen += len;
        }
        done += seen;
        if (evbuffer_ptr_set(in, &at, seen, EVBUFFER_PTR_ADD) != 0)
            break;
    }
    return c;
}

static void on_request(struct evhttp_request *req, void *ud)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct evbuffer *out = evbuffer_new();
    (void)ud;
    if (strcmp(evhttp_request_get_uri(req), "/v1/traces") == 0) {
        otlp_requests++;
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/x-protobuf");
        evhttp_send_reply(req, 200, "OK", out);
        evbuffer_free(out);
        return;
    }
    requests++;
    documents += count_body(in, evbuffer_get_length(in));
    evbuffer_add_printf(out, "{\"UnprocessedTraceSegments\":[]}");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

/* evhttp's bufferevent factory for HTTPS: a TLS session from the receivers' own TLS
 * set-up (receiver/tls.h) |ud| for each accepted connection; NULL drops it. */
static struct bufferevent *tls_bev(struct event_base *base, void *ud)
{
    return xb_tls_bufferevent(ud, base, -1);
}

static void on_term(evutil_socket_t fd, short what, void *ud)
{
    event_base_loopbreak(ud);
}

int main(int argc, char **argv)
{
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    struct evhttp_bound_socket *bs;
    struct event *term;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct xb_tls *tls = NULL;
    char err[256];
    FILE *f;

    if ((argc != 2 && argc != 4) || !base || !http)
        return 2;
    if (argc == 4) {
        struct xb_tls_opts o = {.cert_file = argv[2], .key_file = argv[3], .key_prefix = "sink"};
        if (xb_tls_new(base, &o, "sink", &tls, err, sizeof(err)) != XB_OK) {
            fprintf(stderr, "xray_sink: %s\n", err);
            return 1;
        }
        evhttp_set_bevcb(http, tls_bev, tls);
    }
    /* Bodies of 50-100 KB come and go at thousands a second: keep the freed memory, as
     * xraybridge does (app/heap.h), instead of giving it back to the kernel and faulting
     * it in again, so that the stand-in costs the cores it shares with xraybridge little.
     * A refusal (AddressSanitizer's allocator) only makes it slower. */
    (void)xb_heap_apply();
    evhttp_set_max_body_size(http, 16 << 20);
    evhttp_set_gencb(http, on_request, NULL);
    bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    if (!bs)
        return 1;
    /* Answers go out at once: over TLS a reply's head and body are separate records,
     * which Nagle's algorithm would hold for the client's delayed ACK. */
    xb_tls_listener_nodelay(evhttp_bound_socket_get_listener(bs));
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
    f = fopen(argv[1], "w");
    if (!f)
        return 1;
    fprintf(f, "%u\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
    fclose(f);
    term = evsignal_new(base, SIGTERM, on_term, base);
    event_add(term, NULL);
    event_base_dispatch(base);
    printf("documents=%llu requests=%llu otlp_requests=%llu\n", documents, requests, otlp_requests);
    event_free(term);
    evhttp_free(http);
    xb_tls_free(tls);
    event_base_free(base);
    return 0;
}
