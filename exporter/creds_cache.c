#include "exporter/creds_cache.h"

#include <time.h>

#include "core/err.h"
#include "exporter/export_policy.h"

const struct xb_aws_creds *xb_creds_cache_pick(const struct xb_creds_cache *c, uint64_t now_ms)
{
    const struct xb_aws_creds *creds = xb_creds_provider_current(c->provider);

    if (!creds && c->last &&
        xb_creds_reusable(now_ms, c->last_fetch_ms, xb_creds_provider_expiration(c->provider),
                          (int64_t)time(NULL)))
        creds = c->last; /* fetched a moment ago, just short-lived: use it */
    return creds;
}

int xb_creds_cache_fetch(struct xb_creds_cache *c, xb_creds_cb cb, void *ud)
{
    int rc;

    c->last = NULL; /* the refresh invalidates the old view */
    c->pending = 1;
    rc = xb_creds_provider_get(c->provider, cb, ud);
    if (rc != XB_OK)
        c->pending = 0;
    return rc;
}

void xb_creds_cache_done(struct xb_creds_cache *c, int rc, const struct xb_aws_creds *creds,
                         uint64_t now_ms)
{
    c->pending = 0;
    if (rc == XB_OK) {
        c->last = creds;
        c->last_fetch_ms = now_ms;
    }
}
