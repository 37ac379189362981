/*
 * aws/credentials.h - the asynchronous AWS credential provider.
 *
 * Serves the AWS SDKs' default credential chain (AWS SDKs and Tools Reference
 * Guide, "Standardized credential providers"), in this order, the first source that
 * is configured deciding:
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   2. shared files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE): static keys, or
 *      role_arn + source_profile (STS AssumeRole, chains of profiles allowed);
 *   3. web identity (IRSA): AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE -> STS
 *      AssumeRoleWithWebIdentity;
 *   4. container endpoint (ECS, EKS Pod Identity): AWS_CONTAINER_CREDENTIALS_
 *      RELATIVE_URI / _FULL_URI;
 *   5. EC2 instance metadata (IMDSv2).
 * then, optionally, STS AssumeRole of a configured role on top. Which link a refresh
 * uses is planned by aws/chain.h; this provider executes the plan (STS, container,
 * IMDS calls built by aws/request.h, run on the libevent loop through
 * aws/curl_loop.h), caches the answer and refreshes it.
 * docs/credentials.md lists every environment variable and rule.
 */
#ifndef XB_AWS_CREDENTIALS_H
#define XB_AWS_CREDENTIALS_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/curl_loop.h"
#include "aws/sigv4.h"

/* ---- the asynchronous provider ------------------------------------------------- */

struct xb_creds_provider;

/* Provider settings. Strings are borrowed for the duration of xb_creds_provider_new. */
struct xb_creds_provider_opts {
    const char *region;            /* resolved region: regional STS endpoint and SigV4 scope;
                                      NULL/"" = global https://sts.amazonaws.com, signed as us-east-1 */
    const char *role_arn;          /* AssumeRole on top of the chain, or NULL */
    const char *role_session_name; /* for role_arn; NULL = "xraybridge" */
    const char *profile;           /* NULL = AWS_PROFILE or "default" */
    const char *ca_file;           /* STS: CA bundle, NULL = system store. STS, container and
                                      metadata requests always verify TLS certificates. */
    const char *proxy;             /* STS: proxy URL; NULL = libcurl env (HTTPS_PROXY, NO_PROXY).
                                      Metadata endpoints (IMDS, container) never use a proxy. */
};

/*
 * Answer of xb_creds_provider_get. |rc| is 0 and |creds| a borrowed view valid until
 * the next refresh completes (copy what you keep), or |rc| is a negative xb_err,
 * |creds| NULL, and |why| an explanation free of secrets (borrowed for the call).
 */
typedef void (*xb_creds_cb)(void *ud, int rc, const struct xb_aws_creds *creds, const char *why);

/*
 * Builds the chain; fetches nothing and does not read files yet (sources are
 * evaluated at the first refresh). |base| and |curl| are borrowed and must outlive
 * the provider. Returns 0 and |*out| (free with xb_creds_provider_free);
 * XB_ERR_CONFIG (bad option: |err_desc| says which); XB_ERR_NOMEM.
 */
int xb_creds_provider_new(struct event_base *base, struct xb_curl_loop *curl,
                          const struct xb_creds_provider_opts *o, struct xb_creds_provider **out,
                          char *err_desc, size_t err_desc_len);

/*
 * Aborts a refresh in flight and frees |p| (secrets wiped). Callbacks still queued
 * are dropped without being called. May be called from inside an xb_creds_cb of
 * this provider: the free then happens when that callback returns. NULL is a no-op.
 */
void xb_creds_provider_free(struct xb_creds_provider *p);

/*
 * Returns the cached credentials when they are static or stay valid for more than
 * 5 more minutes, else NULL. Never blocks, never starts I/O. Borrowed; valid until
 * the next refresh completes.
 */
const struct xb_aws_creds *xb_creds_provider_current(struct xb_creds_provider *p);

/*
 * Ensures fresh credentials asynchronously. |cb| runs from the event loop, never
 * inside this call. When current() would return credentials, cb gets them at once
 * (next loop turn). Otherwise a refresh starts; callers arriving while it runs are
 * queued and all answered by that single refresh. A failed refresh answers rc 0
 * with the previous credentials while they have not expired yet (and schedules a
 * background retry with exponential back-off, 1 s doubling up to 60 s); during
 * the back-off window no new fetch starts: callers get the old credentials or the
 * last error. |ud| is borrowed and passed to |cb|.
 * Returns 0 (cb will be called exactly once, unless the provider is freed first) or
 * XB_ERR_NOMEM (cb will not be called).
 */
int xb_creds_provider_get(struct xb_creds_provider *p, xb_creds_cb cb, void *ud);

/*
 * Name of the source of the current credentials, for logs: "environment",
 * "shared-credentials-file", "web-identity", "container", "imds", "assume-role"
 * (any STS AssumeRole hop on top: profile role_arn or opts->role_arn), or "none"
 * before the first success. Static string.
 */
const char *xb_creds_provider_source(const struct xb_creds_provider *p);

/* Successful refreshes (each produced a credential set). */
uint64_t xb_creds_provider_refreshes(const struct xb_creds_provider *p);

/* Failed refreshes. */
uint64_t xb_creds_provider_refresh_failures(const struct xb_creds_provider *p);

/*
 * Expiration of the current credentials in UNIX seconds; 0 when static (never
 * expire) or when there are none.
 */
int64_t xb_creds_provider_expiration(const struct xb_creds_provider *p);

#endif
