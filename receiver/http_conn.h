/*
 * receiver/http_conn.h - the decisions behind the OTLP/HTTP receiver's connection
 * hygiene, without I/O: which deadline a connection is under, a scanner that sees where
 * a request's head ends (and its Content-Length) as bytes arrive, and the in-flight body
 * budget.
 *
 * Deadlines follow the OpenTelemetry Collector's confighttp keys (Go net/http's
 * http.Server fields of the same names): read_header_timeout, read_timeout,
 * idle_timeout, write_timeout. They are measured from fixed points (accept, first byte
 * of a request, request complete, response sent), so bytes trickling in never extend
 * them. HTTP/1.1 message framing: RFC 9112 sections 2, 5 and 6.
 */
#ifndef XB_RECEIVER_HTTP_CONN_H
#define XB_RECEIVER_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

/* Where a connection is in its request cycle. */
enum xb_http_phase {
    XB_HTTP_PHASE_HEAD = 0, /* reading the request line and headers (from accept or the
                               first byte of a keep-alive request) */
    XB_HTTP_PHASE_BODY,     /* headers complete, body being read */
    XB_HTTP_PHASE_REPLY,    /* request complete: being handled and answered */
    XB_HTTP_PHASE_IDLE,     /* keep-alive: response sent, no byte of the next request */
};

/* Deadline lengths in milliseconds; 0 = no such deadline. */
struct xb_http_timeouts {
    uint32_t read_header_ms; /* request start -> headers complete */
    uint32_t read_ms;        /* request start -> whole request (headers and body) */
    uint32_t idle_ms;        /* response sent -> first byte of the next request */
    uint32_t write_ms;       /* request complete -> response sent */
};

/* Which deadline applies. */
enum xb_http_deadline_kind {
    XB_HTTP_DL_NONE = 0,
    XB_HTTP_DL_READ_HEADER,
    XB_HTTP_DL_READ,
    XB_HTTP_DL_IDLE,
    XB_HTTP_DL_WRITE,
};

/* A deadline: its kind and absolute monotonic time in ms (0 with XB_HTTP_DL_NONE). */
struct xb_http_deadline {
    enum xb_http_deadline_kind kind;
    uint64_t at_ms;
};

/*
 * The deadline of a connection in |phase| whose phase clock started at |since_ms|
 * (HEAD and BODY: the request's start, i.e. accept or the first byte after the previous
 * response; REPLY: when the request was complete; IDLE: when the previous response was
 * sent). HEAD takes the earlier of read_header and read (read_header on a tie); BODY is
 * read; REPLY is write; IDLE is idle. A zero length means no deadline of that kind.
 */
struct xb_http_deadline xb_http_deadline_of(enum xb_http_phase phase, uint64_t since_ms,
                                            const struct xb_http_timeouts *to);

/* Static name of a deadline kind, as the configuration key ("read_header_timeout"...). */
const char *xb_http_deadline_name(enum xb_http_deadline_kind kind);

/* Longest header line prefix kept for matching (names and short values fit). */
#define XB_HTTP_HEAD_LINE_MAX 128

/*
 * Incremental scanner of one request head (request line + header fields + blank line).
 * Zero-initialise or call xb_http_head_init(); feed bytes in arrival order.
 */
struct xb_http_head {
    int done;                         /* the blank line ending the head was seen */
    int seen_request_line;            /* first line complete */
    int has_length;                   /* a valid Content-Length was seen */
    int bad_length;                   /* Content-Length not a decimal number, or repeated with
                                         another value */
    int chunked;                      /* Transfer-Encoding lists "chunked" */
    int json;                         /* Content-Type is application/json (else protobuf) */
    uint64_t content_length;          /* with |has_length| */
    size_t head_bytes;                /* bytes of the head seen so far */
    size_t line_len;                  /* length of the current line so far (without CR/LF) */
    char line[XB_HTTP_HEAD_LINE_MAX]; /* its first bytes */
};

/* Resets |h| for a new request. */
void xb_http_head_init(struct xb_http_head *h);

/*
 * Feeds |n| bytes at |p| (the next bytes of the connection). Returns how many were part
 * of the head: all |n| while it continues, fewer when the head ended inside them (then
 * |h|->done is set; the rest is body or the next request). Once done, returns 0.
 * Leading empty lines before the request line are skipped (RFC 9112 section 2.2).
 */
size_t xb_http_head_feed(struct xb_http_head *h, const char *p, size_t n);

/*
 * Bytes of the in-flight body budget a request with the complete head |h| holds while
 * its body is read and handled: the Content-Length when it is at most |max_body|, 0 when
 * it is larger (evhttp answers 413 without buffering it) or absent and not chunked,
 * |max_body| for a chunked body (its size is unknown up front) or an invalid or repeated
 * Content-Length (evhttp may still read a body for it).
 */
uint64_t xb_http_body_charge(const struct xb_http_head *h, uint64_t max_body);

/*
 * How many bytes of the body of the request with the complete head |h| the receiver may
 * still read ahead of evhttp (receiver/otlp_http.c, pull_body), given that |body_in| bytes
 * arrived after the head and |charged| bytes of the in-flight budget are held for it:
 * the body's missing bytes when it has a valid Content-Length that was charged in full,
 * else 0 (chunked or invalid lengths, bodies evhttp refuses, TLS: |tls| non-zero). Never
 * more than the body, so the next pipelined request is read the ordinary way. Bytes.
 */
uint64_t xb_http_body_pull_want(const struct xb_http_head *h, uint64_t charged, uint64_t body_in,
                                int tls);

/*
 * Whether a request holding |charge| bytes is admitted when |used| bytes are in flight
 * and the budget is |limit| (0 = unlimited): used + charge <= limit, or nothing else is
 * in flight (one request of up to max_request_body_size always proceeds). A zero charge
 * is always admitted.
 */
int xb_http_budget_admit(uint64_t used, uint64_t charge, uint64_t limit);

#endif
