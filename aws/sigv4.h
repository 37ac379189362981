/*
 * aws/sigv4.h - AWS Signature Version 4 request signing (no I/O, no clock; the only
 * state is a cache of derived signing keys, see xb_sigv4_forget_keys()).
 *
 * Implements "Create a signed AWS API request" (AWS General Reference, Signature
 * Version 4): canonical request, string to sign, HMAC-SHA256 key derivation and the
 * Authorization header. Hashing uses OpenSSL.
 */
#ifndef XB_AWS_SIGV4_H
#define XB_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "aws/pieces.h"

struct xb_buf;

/* AWS credentials. All strings borrowed; session_token may be NULL or "". */
struct xb_aws_creds {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
};

/* One request header as sent. Names are matched case-insensitively. */
struct xb_sigv4_header {
    const char *name;
    const char *value;
};

/* The request to sign. All pointers borrowed. */
struct xb_sigv4_request {
    const char *method; /* "POST" */
    const char *path;   /* URI path as sent, e.g. "/TraceSegments" ("" means "/") */
    const char *query;  /* raw query string without '?', or NULL */
    const struct xb_sigv4_header *headers; /* must include "host"; x-amz-date is added */
    size_t n_headers;
    const void *payload;
    size_t payload_len;
};

/* Signing output: the headers to add to the request, NUL-terminated. */
struct xb_sigv4_result {
    char amz_date[17];        /* X-Amz-Date: yyyymmddThhmmssZ */
    char payload_hash[65];    /* hex SHA-256 of the payload (x-amz-content-sha256) */
    char signature[65];       /* hex signature (also inside authorization) */
    char authorization[1024]; /* full Authorization header value */
};

/*
 * Signs |req| for |region| and |service| (e.g. "xray") at UNIX time |now| (seconds).
 * Every header in |req| is signed, plus x-amz-date, plus x-amz-security-token when
 * |creds| has a session token (the caller must send that header too). Caller headers
 * named authorization or x-amz-date (and x-amz-security-token when a token is given)
 * are ignored: the signer's values replace them. Repeated names are signed as one
 * header whose values are joined by ',' in request order.
 * Canonical URI: dot segments and empty segments removed, then percent-encoded once
 * more (the SigV4 rule for every service but S3: "%20" is signed as "%2520").
 * Canonical query: parameters decoded and re-encoded (RFC 3986 unreserved set), '+'
 * taken literally (send spaces as %20), empty parameters ("&&") skipped.
 * Returns 0; XB_ERR_INVALID (missing host header or credentials, malformed header
 * name, path not starting with '/', bad %-escape in the query, region/service/key id
 * outside [A-Za-z0-9._-], |now| outside years 0-9999); XB_ERR_TOO_LARGE (signed header
 * list does not fit in |out|); XB_ERR_NOMEM. On error |out| is zeroed.
 * Secrets are never logged or copied into |out|.
 */
int xb_sigv4_sign(const struct xb_sigv4_request *req, const char *region, const char *service,
                  const struct xb_aws_creds *creds, time_t now, struct xb_sigv4_result *out);

/*
 * xb_sigv4_sign() for a payload sent as pieces: the payload is the concatenation of
 * |v[0..n)| (aws/pieces.h), hashed with xb_sigv4_payload_hash; |req->payload| and
 * |req->payload_len| are ignored. The signature equals xb_sigv4_sign()'s for the
 * concatenated payload. Same returns, plus XB_ERR_INVALID when a non-empty piece has
 * no bytes.
 */
int xb_sigv4_sign_pieces(const struct xb_sigv4_request *req, const struct xb_piece *v, size_t n,
                         const char *region, const char *service, const struct xb_aws_creds *creds,
                         time_t now, struct xb_sigv4_result *out);

/*
 * Writes into |hex| (65 bytes, NUL-terminated) the lower-case hex SHA-256 of the
 * concatenation of |v[0..n)|, hashed piece by piece with one digest context: the
 * x-amz-content-sha256 value SigV4 signs for a payload sent as pieces. Returns 0 or
 * XB_ERR_NOMEM (OpenSSL could not allocate; |hex| is then "").
 */
int xb_sigv4_payload_hash(const struct xb_piece *v, size_t n, char hex[65]);

/*
 * xb_sigv4_sign() derives each signing key (the HMAC chain over the secret, the date,
 * region and service) once and reuses it for later requests of the same UTC day, region,
 * service and secret (a few scopes are kept; thread-safe). This wipes every cached key,
 * e.g. at shutdown or when credentials are discarded.
 */
void xb_sigv4_forget_keys(void);

/* How many signing keys xb_sigv4_sign() has derived since start (cache misses). */
unsigned long xb_sigv4_key_derivations(void);

/*
 * Appends the |n| bytes of |s| to |b| percent-encoded as SigV4 canonical URIs and
 * queries need: RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) kept, every other
 * byte written as %XX with upper-case hex ('/' included). The same encoding is what
 * STS expects for application/x-www-form-urlencoded request bodies. Returns 0,
 * XB_ERR_NOMEM, or XB_ERR_TOO_LARGE (|b|'s cap reached; |b| then holds a prefix).
 */
int xb_sigv4_uri_encode(struct xb_buf *b, const char *s, size_t n);

#endif
