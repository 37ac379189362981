/*
 * exporter/http_call.h - one HTTP call of an exporter on the libcurl multi loop
 * (aws/curl_loop.h): the request body it sends, the response body it keeps (capped),
 * libcurl's error text, and the exporter's list of calls in flight. The awsxray,
 * otlphttp and loadbalancing exporters embed a struct xb_http_call in their own call
 * record; what a finished call means (retry, drop, back off) stays in each exporter,
 * since their rules differ (exporter/outcome.h, exporter/otlp_outcome.h).
 *
 * Lifecycle: xb_http_call_init -> fill |body> -> xb_http_call_build (libcurl handle,
 * through xb_aws_request_build) -> optional extra curl_easy_setopt -> xb_http_call_add
 * (on the loop and in the list) -> done callback: xb_http_calls_unlink, read
 * xb_http_call_status / resp -> xb_http_call_cleanup.
 */
#ifndef XB_EXPORTER_HTTP_CALL_H
#define XB_EXPORTER_HTTP_CALL_H

#include <curl/curl.h>
#include <stddef.h>

#include "aws/curl_loop.h"
#include "aws/request.h"
#include "core/buf.h"

/* One call. All members are owned by the call except |loop| and |owner| (borrowed). */
struct xb_http_call {
    struct xb_curl_loop *loop; /* the loop it runs on */
    void *owner;               /* the exporter's record that embeds this call */
    CURL *easy;                /* NULL until built */
    struct curl_slist *headers;
    struct xb_buf body;             /* request body, sent as is (unless the request has pieces) */
    struct xb_pieces_reader reader; /* libcurl's position in a body of pieces */
    struct xb_buf resp;             /* response body, at most resp_max bytes */
    size_t resp_max;
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's text for a failed transfer */
    struct xb_http_call *next;    /* in xb_http_calls */
};

/* An exporter's calls in flight (intrusive list through xb_http_call.next). */
struct xb_http_calls {
    struct xb_http_call *head;
    size_t n;
};

/* Prepares |c| (zeroed first) to run on |loop| for |owner|, keeping at most |resp_max|
 * response bytes. Cannot fail. */
void xb_http_call_init(struct xb_http_call *c, struct xb_curl_loop *loop, void *owner,
                       size_t resp_max);

/* Frees what |c| owns (not |c| itself). With |in_loop| set, an unfinished transfer is
 * first removed from the loop. Safe on an initialised call that was never built. */
void xb_http_call_cleanup(struct xb_http_call *c, int in_loop);

/* Response-body sink: keeps |n| bytes of |p| in c->resp while the total stays within
 * c->resp_max; bytes beyond it are ignored (an absurd answer does not fail the call).
 * Returns |n|, or 0 (libcurl then aborts the transfer) when out of memory. */
size_t xb_http_call_take_body(struct xb_http_call *c, const char *p, size_t n);

/* Builds c->easy and c->headers from |req| (aws/request.h), with c->body as the body,
 * c->errbuf as the error buffer and the response sink above; |req|'s body, on_body,
 * on_body_ud and errbuf are overridden. When |req| has pieces (req->n_pieces > 0) they
 * are the body instead of c->body, read through c->reader; they must stay valid until
 * the call has finished. |on_header| (libcurl header callback, with
 * |header_ud|) may be NULL. When c->easy is already set (a finished handle of an earlier
 * call of the same kind, e.g. from xb_easy_spares), it is set up again with
 * xb_aws_request_rearm instead of built anew; on an error it stays in c->easy.
 * Returns 0 or the error of xb_aws_request_build / xb_aws_request_rearm. */
int xb_http_call_build(struct xb_http_call *c, const struct xb_aws_request *req,
                       curl_write_callback on_header, void *header_ud);

/* Starts the built call on its loop (|done| with |ud| runs when it ends) and puts it in
 * |list|. Returns 0, or XB_ERR_NOMEM (then it is in neither). */
int xb_http_call_add(struct xb_http_call *c, struct xb_http_calls *list, xb_curl_done_cb done,
                     void *ud);

/* Request bodies of finished calls kept for the next calls of one exporter, so that a
 * body of typical size is not allocated, written to fresh pages and freed per call
 * (freeing ~100 KB blocks lets malloc trim the heap and fault the pages in again). */
struct xb_body_spares {
    struct xb_buf *b;
    size_t n, cap;
    size_t max_bytes; /* buffers with more capacity than this are freed, not kept */
};

/* Whether a body buffer of capacity |buf_cap| goes back to spares holding |n| of
 * |cap| that keep buffers of at most |max_bytes|: only a buffer that was allocated,
 * is not larger than |max_bytes|, while there is room. Pure. */
int xb_body_spare_keeps(size_t buf_cap, size_t n, size_t cap, size_t max_bytes);

/* Room for |cap| buffers of at most |max_bytes| each. Returns 0 or XB_ERR_NOMEM. */
int xb_body_spares_init(struct xb_body_spares *s, size_t cap, size_t max_bytes);

/* Moves a kept buffer (emptied, its allocation kept) into |out|, which must hold no
 * allocation; |out| stays as it is when none is kept. */
void xb_body_spares_take(struct xb_body_spares *s, struct xb_buf *out);

/* Keeps the allocation of |b| when xb_body_spare_keeps says so, frees it otherwise;
 * |b| is left empty without an allocation either way. */
void xb_body_spares_put(struct xb_body_spares *s, struct xb_buf *b);

/* Frees every kept buffer and the room. */
void xb_body_spares_cleanup(struct xb_body_spares *s);

/* Removes |c| from |list|; nothing happens when it is not there. */
void xb_http_calls_unlink(struct xb_http_calls *list, struct xb_http_call *c);

/* The HTTP status of a finished call; 0 when there was no answer. */
long xb_http_call_status(const struct xb_http_call *c);

/* Text for the failed transfer |res|: libcurl's error buffer, else its generic text.
 * Borrowed from |c| or static. */
const char *xb_http_call_error(const struct xb_http_call *c, CURLcode res);

/* If the header line |line| (|n| bytes, as libcurl passes it, CRLF included) is the
 * field |name| (lower case, with its trailing ':', matched case-insensitively), copies
 * the rest of the line after the ':' into |out| (|out_len| > 0 bytes, NUL-terminated,
 * truncated, cut at CR or LF; leading blanks kept) and returns 1; else returns 0 and
 * leaves |out| alone. RFC 9110 section 5 (field names are case-insensitive). */
int xb_http_header_value(const char *line, size_t n, const char *name, char *out, size_t out_len);

#endif
