/*
 * exporter/creds_cache.h - how a signing exporter (awsxray, otlphttp with SigV4) gets
 * credentials for a call without blocking: the provider's current credentials, else the
 * ones it fetched a moment ago if they may still be used (xb_creds_reusable,
 * exporter/export_policy.h), else one asynchronous fetch at a time while sending waits.
 * The provider (aws/credentials.h) stays the exporter's; this only remembers its last
 * answer.
 */
#ifndef XB_EXPORTER_CREDS_CACHE_H
#define XB_EXPORTER_CREDS_CACHE_H

#include <stdint.h>

#include "aws/credentials.h"

struct xb_creds_cache {
    struct xb_creds_provider *provider; /* borrowed */
    /* View from the last successful fetch: valid until the next xb_creds_provider_get()
     * (only its exporter refreshes the provider). */
    const struct xb_aws_creds *last;
    uint64_t last_fetch_ms; /* monotonic */
    int pending;            /* a fetch is under way; sending waits for it */
};

/* Credentials to sign a call with at |now_ms| (monotonic): the provider's current ones,
 * or the last fetched ones while xb_creds_reusable() allows. NULL when neither: start
 * xb_creds_cache_fetch(). Borrowed, valid until the next fetch. */
const struct xb_aws_creds *xb_creds_cache_pick(const struct xb_creds_cache *c, uint64_t now_ms);

/* Starts a fetch (or refresh) whose answer goes to |cb| with |ud|; |cb| must call
 * xb_creds_cache_done() first. Forgets the last view and marks the cache pending.
 * Returns 0, or the provider's error (then nothing is pending and |cb| is not called). */
int xb_creds_cache_fetch(struct xb_creds_cache *c, xb_creds_cb cb, void *ud);

/* Records the answer of a fetch: |rc| and |creds| as passed to the callback, at |now_ms|.
 * Clears pending; on success keeps |creds| as the last view. */
void xb_creds_cache_done(struct xb_creds_cache *c, int rc, const struct xb_aws_creds *creds,
                         uint64_t now_ms);

#endif
