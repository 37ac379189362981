/*
 * aws/request.h - the one place that turns an AWS HTTP call (method, URL, headers,
 * body, optional SigV4 signing, TLS, proxy and timeouts) into a configured libcurl
 * easy handle. Every AWS call goes through it: IMDS, the container credentials
 * endpoint, STS, and PutTraceSegments. It only builds the handle; the caller runs it
 * (aws/curl_loop.h on the event loop, or curl_easy_perform at start-up).
 */
#ifndef XB_AWS_REQUEST_H
#define XB_AWS_REQUEST_H

#include <curl/curl.h>
#include <stddef.h>
#include <time.h>

#include "aws/pieces.h"
#include "aws/sigv4.h"

/* SigV4 signing of a request (AWS General Reference, "Signature Version 4"). */
struct xb_aws_request_sign {
    const char *service;              /* "xray", "sts"; NULL = the request is not signed */
    const char *region;               /* signing scope region, e.g. "us-east-1" */
    const struct xb_aws_creds *creds; /* a session token, when set, is sent and signed */
    time_t now;                       /* UNIX seconds of the signature */
};

/* One AWS HTTP call. All pointers are borrowed; |body|, |errbuf| and |on_body_ud| must
 * stay valid until the transfer has finished. */
struct xb_aws_request {
    const char *method; /* "GET", "POST" or "PUT" */
    const char *url;    /* absolute http:// or https:// URL */
    /* Headers sent in this order (after Host when signed); all of them are signed. */
    const struct xb_sigv4_header *headers;
    size_t n_headers;
    const char *body; /* POST/PUT payload, NULL = empty; ignored for GET */
    size_t body_len;
    struct xb_aws_request_sign sign;
    long connect_timeout_ms;     /* 0 = libcurl's default */
    long timeout_ms;             /* whole transfer; 0 = no limit */
    const char *user_agent;      /* NULL = no User-Agent header */
    const char *ca_file;         /* CA bundle; NULL or "" = the system store */
    int tls_no_verify;           /* non-zero: do not verify the peer certificate or name */
    const char *proxy;           /* NULL or unset = libcurl's environment (HTTPS_PROXY,
                                    NO_PROXY); "" = never use a proxy */
    curl_write_callback on_body; /* response body sink, with |on_body_ud| */
    void *on_body_ud;
    char *errbuf; /* CURL_ERROR_SIZE bytes for libcurl's error text */
    /* Instead of |body|: when |n_pieces| > 0 the body is |pieces[0..n_pieces)| in order
     * (aws/pieces.h), hashed piece by piece when signed and read by libcurl through
     * |reader| (the caller's; set to offset 0 here, libcurl may rewind it to resend).
     * Content-Length is the pieces' total (no chunked encoding). The pieces, their
     * bytes and |reader| must stay valid until the transfer has finished. */
    const struct xb_piece *pieces;
    size_t n_pieces;
    struct xb_pieces_reader *reader;
};

/*
 * Builds the easy handle for |r|. When |r->sign.service| is set, the request is signed
 * with xb_sigv4_sign (xb_sigv4_sign_pieces for a body of pieces): the signed host is the
 * URL's host (with its port when the URL names one) and is also sent as the Host
 * header, the signed path and query are the URL's, and X-Amz-Date,
 * X-Amz-Security-Token (with a session token) and Authorization are added after
 * |r->headers|. Requests with a body are sent with "Expect:" (no 100-continue round
 * trip); a body of pieces is read through a read and a seek callback, any other body
 * with CURLOPT_POSTFIELDS (and the handle's read and seek callbacks cleared, so a
 * handle set up again never keeps an earlier call's). Only http and https are allowed;
 * redirects are not followed. Session tokens are wiped from temporary buffers.
 * On success returns 0, |*easy| (curl_easy_cleanup it) and |*hdrs| (the header list
 * the handle points to: curl_slist_free_all it after the handle). Returns
 * XB_ERR_CONFIG (the URL does not parse: |err_desc| says so, without userinfo),
 * XB_ERR_INVALID (pieces without a reader, or signing refused the request) or
 * XB_ERR_TOO_LARGE (see xb_sigv4_sign), XB_ERR_NOMEM; then nothing is allocated and
 * |err_desc| (may be NULL) names the cause.
 */
int xb_aws_request_build(const struct xb_aws_request *r, CURL **easy, struct curl_slist **hdrs,
                         char *err_desc, size_t err_desc_len);

/*
 * Sets a finished handle up for the next call of the same kind: |easy| came from
 * xb_aws_request_build (or this function) for a request with the same method, URL,
 * timeouts, TLS, proxy, user agent and on_body as |r|, has finished its
 * transfer and is in no multi handle. Only what changes per call is set again: the
 * (re-signed) headers, the body (pieces or not, whatever the previous call had),
 * on_body_ud and errbuf. Returns 0 and |*hdrs| (free it after
 * the transfer, as with xb_aws_request_build), or its errors; on an error |*hdrs| is
 * NULL and |easy| still points to the previous header list (free that list only
 * together with the handle, or after clearing CURLOPT_HTTPHEADER).
 */
int xb_aws_request_rearm(const struct xb_aws_request *r, CURL *easy, struct curl_slist **hdrs,
                         char *err_desc, size_t err_desc_len);

/* Finished easy handles kept by one sender for its next calls (xb_aws_request_rearm),
 * at most |cap|: creating a handle per call costs an allocation of its state and
 * buffers and freeing them again. */
struct xb_easy_spares {
    CURL **h;
    size_t n, cap;
};

/* Whether a handle whose transfer ended with |res| goes back to spares holding |n| of
 * |cap|: only after a transfer that completed (CURLE_OK, whatever the HTTP status), so
 * that a handle never carries a half-done transfer's state into the next call, and
 * only while there is room. Pure. */
int xb_easy_spare_keeps(CURLcode res, size_t n, size_t cap);

/* Room for |cap| handles (0 = none kept). Returns 0 or XB_ERR_NOMEM. */
int xb_easy_spares_init(struct xb_easy_spares *s, size_t cap);

/* A kept handle (the caller owns it), or NULL when there is none. */
CURL *xb_easy_spares_take(struct xb_easy_spares *s);

/* Takes |easy| (finished, out of any multi handle, may be NULL) from the caller: keeps
 * it when xb_easy_spare_keeps says so, curl_easy_cleanup's it otherwise. A kept handle
 * no longer points to the call's header list, body (or pieces reader), error buffer or
 * response sink data, so the caller may free them now. */
void xb_easy_spares_put(struct xb_easy_spares *s, CURL *easy, CURLcode res);

/* curl_easy_cleanup's every kept handle and frees the room. */
void xb_easy_spares_cleanup(struct xb_easy_spares *s);

#endif
