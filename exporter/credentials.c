#include "exporter/credentials.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strdup(v) : NULL;
}

int xb_creds_from_env(struct xb_creds_owned *out)
{
    memset(out, 0, sizeof(*out));
    if (!getenv("AWS_ACCESS_KEY_ID") || !*getenv("AWS_ACCESS_KEY_ID") ||
        !getenv("AWS_SECRET_ACCESS_KEY") || !*getenv("AWS_SECRET_ACCESS_KEY"))
        return XB_ERR_NOT_FOUND;
    out->access_key_id = dup_env("AWS_ACCESS_KEY_ID");
    out->secret_access_key = dup_env("AWS_SECRET_ACCESS_KEY");
    out->session_token = dup_env("AWS_SESSION_TOKEN");
    if (!out->access_key_id || !out->secret_access_key ||
        (getenv("AWS_SESSION_TOKEN") && *getenv("AWS_SESSION_TOKEN") && !out->session_token)) {
        xb_creds_cleanup(out);
        return XB_ERR_NOMEM;
    }
    return XB_OK;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    /* volatile stops the compiler from dropping the wipe of memory about to be freed. */
    for (volatile char *p = s; *p; p++)
        *p = 0;
    free(s);
}

void xb_creds_cleanup(struct xb_creds_owned *c)
{
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    memset(c, 0, sizeof(*c));
}

struct xb_aws_creds xb_creds_view(const struct xb_creds_owned *c)
{
    struct xb_aws_creds v = {c->access_key_id, c->secret_access_key, c->session_token};
    return v;
}

const char *xb_region_resolve(const char *configured)
{
    const char *r;
    if (configured && *configured)
        return configured;
    r = getenv("AWS_REGION");
    if (r && *r)
        return r;
    r = getenv("AWS_DEFAULT_REGION");
    if (r && *r)
        return r;
    return NULL;
}
