#include "aws/region.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds_parse.h"
#include "aws/imds.h"
#include "aws/util.h"
#include "core/err.h"

int xb_region_valid(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63)
        return 0;
    for (; *r; r++)
        if (!(islower((unsigned char)*r) || isdigit((unsigned char)*r) || *r == '-'))
            return 0;
    return 1;
}

/* IMDS region lookup (blocking, start-up only). */
static int region_from_imds(char *out, size_t out_len, char *why, size_t why_len)
{
    char got[512];
    size_t n;
    int rc = xb_imds_get_blocking("region", "/latest/meta-data/placement/region", got, sizeof(got),
                                  why, why_len);
    if (rc != XB_OK)
        return rc;
    if (!xb_region_valid(got)) {
        xb_aws_errf(why, why_len, "instance metadata returned a malformed region");
        return XB_ERR_INVALID;
    }
    n = strlen(got);
    if (n + 1 > out_len) {
        xb_aws_errf(why, why_len, "region buffer too small");
        return XB_ERR_TOO_LARGE;
    }
    memcpy(out, got, n + 1);
    return XB_OK;
}

static int region_take(const char *v, const char *src, char *out, size_t out_len, char *err,
                       size_t err_len)
{
    size_t n = strlen(v);
    if (!xb_region_valid(v)) {
        xb_aws_errf(err, err_len, "region from %s is malformed (expected [a-z0-9-])", src);
        return XB_ERR_INVALID;
    }
    if (n + 1 > out_len) {
        xb_aws_errf(err, err_len, "region buffer too small");
        return XB_ERR_TOO_LARGE;
    }
    memcpy(out, v, n + 1);
    return XB_OK;
}

int xb_region_resolve_full(const char *configured, char *out, size_t out_len, char *err_desc,
                           size_t err_desc_len)
{
    struct xb_creds_ini *cfg = NULL;
    char *path = NULL, why[512];
    const char *v, *profile = xb_aws_active_profile(NULL);
    int rc;

    if (out_len)
        out[0] = 0;
    if (configured && *configured)
        return region_take(configured, "configuration", out, out_len, err_desc, err_desc_len);
    if ((v = xb_aws_getenv("AWS_REGION")))
        return region_take(v, "AWS_REGION", out, out_len, err_desc, err_desc_len);
    if ((v = xb_aws_getenv("AWS_DEFAULT_REGION")))
        return region_take(v, "AWS_DEFAULT_REGION", out, out_len, err_desc, err_desc_len);
    xb_aws_errf(err_desc, err_desc_len,
                "no region: tried configuration, AWS_REGION, AWS_DEFAULT_REGION");
    path = xb_aws_shared_path("AWS_CONFIG_FILE", ".aws/config");
    why[0] = 0;
    if (xb_aws_load_ini(path, &cfg, why, sizeof(why)) != XB_OK) {
        xb_aws_erradd(err_desc, err_desc_len, ", shared config (%s)", why);
    } else if ((v = xb_aws_config_get(cfg, profile, "region")) && *v) {
        char src[300];
        snprintf(src, sizeof(src), "profile %s in %s", profile, path);
        rc = region_take(v, src, out, out_len, err_desc, err_desc_len);
        goto out;
    } else {
        xb_aws_erradd(err_desc, err_desc_len, ", shared config (no region for profile %s in %s)",
                      profile, path ? path : "(no HOME)");
    }
    if (xb_aws_env_true("AWS_EC2_METADATA_DISABLED")) {
        xb_aws_erradd(err_desc, err_desc_len,
                      ", instance metadata (disabled by AWS_EC2_METADATA_DISABLED)");
        rc = XB_ERR_NOT_FOUND;
        goto out;
    }
    why[0] = 0;
    rc = region_from_imds(out, out_len, why, sizeof(why));
    if (rc != XB_OK) {
        xb_aws_erradd(err_desc, err_desc_len, ", instance metadata (%s)", why);
        if (rc != XB_ERR_INVALID && rc != XB_ERR_TOO_LARGE)
            rc = XB_ERR_NOT_FOUND;
    }
out:
    if (rc == XB_OK && err_desc && err_desc_len)
        err_desc[0] = 0;
    xb_creds_ini_free(cfg);
    free(path);
    return rc;
}
