/*
 * aws/imds.h - the EC2 instance metadata service (IMDSv2) protocol: endpoint choice,
 * the session-token PUT, token-authenticated GETs, and how a token answer continues
 * the sequence. Requests are described for aws/request.h, so the asynchronous
 * credential provider (aws/credentials.c) and the blocking start-up region lookup
 * speak the same protocol. Reference: EC2 User Guide, "Use the Instance Metadata
 * Service to access instance metadata" (IMDSv2, falling back to IMDSv1).
 */
#ifndef XB_AWS_IMDS_H
#define XB_AWS_IMDS_H

#include <stddef.h>

#include "aws/request.h"

/* Lifetime asked for a session token (X-aws-ec2-metadata-token-ttl-seconds), and how
 * long a token is reused (a little less, so that it never expires in flight). */
#define XB_IMDS_TOKEN_TTL_S 21600
#define XB_IMDS_TOKEN_REUSE_S (XB_IMDS_TOKEN_TTL_S - 5)

/* Connect and whole-request limits of one metadata request. */
#define XB_IMDS_CONNECT_TIMEOUT_MS 1000L
#define XB_IMDS_TIMEOUT_MS 2000L

/*
 * Metadata endpoint (scheme://host[:port], no trailing path): AWS_EC2_METADATA_SERVICE_
 * ENDPOINT when set, else the IPv6 address when AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
 * is "IPv6", else http://169.254.169.254. Borrowed (environment or static string).
 */
const char *xb_imds_endpoint(void);

/* How the answer to the token PUT continues the sequence. */
enum xb_imds_token_answer {
    XB_IMDS_TOKEN_FAIL, /* stop: the metadata service is not usable */
    XB_IMDS_TOKEN_V2,   /* the body is the token: send it with every GET */
    XB_IMDS_TOKEN_V1,   /* IMDSv2 unavailable (403, 404, 405): GET without a token */
};

/* Classifies the token answer: a usable token is a 200 answer of 1..511 bytes on one
 * line (|body| NUL-terminated, |len| bytes). */
enum xb_imds_token_answer xb_imds_token_classify(long status, const char *body, size_t len);

/* Storage of one described metadata request (URL and header); see below. */
struct xb_imds_call {
    char url[1024];
    char ttl[16];
    struct xb_sigv4_header header;
    struct xb_aws_request req; /* points into this struct */
};

/*
 * Describes the token request (PUT |endpoint|/latest/api/token with the TTL header)
 * into |c|, with the metadata timeouts and never a proxy. The caller then sets
 * c->req.on_body, on_body_ud and errbuf and builds it with xb_aws_request_build.
 * Returns 0 or XB_ERR_TOO_LARGE (|endpoint| too long).
 */
int xb_imds_token_call(struct xb_imds_call *c, const char *endpoint);

/*
 * Describes GET |endpoint||path| into |c|, with the header X-aws-ec2-metadata-token:
 * |token| unless |token| is NULL or "" (IMDSv1). |token| is borrowed and must outlive
 * the build. Returns 0 or XB_ERR_TOO_LARGE.
 */
int xb_imds_get_call(struct xb_imds_call *c, const char *endpoint, const char *path,
                     const char *token);

/*
 * Blocking IMDSv2 GET of |path|, named |what| in error text (token first, IMDSv1 when the token PUT
 * answers 403, 404 or 405), each request bounded by XB_IMDS_CONNECT_TIMEOUT_MS for both connect and
 * whole request. For start-up only, before listeners open. The answer (trailing
 * whitespace removed) goes to |out| (|out_len| bytes, at most 511 used).
 * Returns 0; XB_ERR_NOT_FOUND (transport failure or non-200 answer: |err_desc| says
 * which request and why); XB_ERR_NOMEM.
 */
int xb_imds_get_blocking(const char *what, const char *path, char *out, size_t out_len,
                         char *err_desc, size_t err_desc_len);

#endif
