/*
 * bench/xray_sink.c - a fast loopback stand-in for X-Ray PutTraceSegments: answers
 * every POST /TraceSegments with 200 {"UnprocessedTraceSegments":[]} and counts the
 * documents received. For benchmarks only (no signature check).
 *
 * POST /v1/traces (the otlphttp exporter's OTLP/HTTP requests) is answered 200 with an
 * empty ExportTraceServiceResponse and counted apart.
 *
 * usage: xray_sink PORT_FILE   (binds 127.0.0.1:0, writes the port to PORT_FILE;
 *                               SIGTERM prints "documents=N requests=M otlp_requests=K"
 *                               and exits)
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static unsigned long long documents, requests, otlp_requests;

/* Counts top-level strings of the TraceSegmentDocuments array: each document is one
 * JSON string, so it begins after `["` or `,"` outside any other string. */
static unsigned long long count_docs(const char *p, size_t n)
{
    unsigned long long c = 0;
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (p[i] == '\\')
                i++;
            else if (p[i] == '"')
                in_str = 0;
        } else if (p[i] == '"') {
            in_str = 1;
            if (i > 0 && (p[i - 1] == '[' || p[i - 1] == ','))
                c++;
        }
    }
    return c;
}

static void on_request(struct evhttp_request *req, void *ud)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct evbuffer *out = evbuffer_new();
    size_t n = evbuffer_get_length(in);
    const char *body = (const char *)evbuffer_pullup(in, -1);
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
    if (body)
        documents += count_docs(body, n);
    evbuffer_add_printf(out, "{\"UnprocessedTraceSegments\":[]}");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
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
    FILE *f;

    if (argc != 2 || !base || !http)
        return 2;
    evhttp_set_max_body_size(http, 16 << 20);
    evhttp_set_gencb(http, on_request, NULL);
    bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    if (!bs)
        return 1;
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
    event_base_free(base);
    return 0;
}
