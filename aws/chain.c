#include "aws/chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/imds.h"
#include "aws/util.h"
#include "core/err.h"

#define MAX_PROFILE_DEPTH 5

const char *xb_creds_plan_source_name(enum xb_creds_source s)
{
    static const char *const names[] = {"none",         "environment", "shared-credentials-file",
                                        "web-identity", "container",   "imds"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "none";
}

void xb_creds_plan_cleanup(struct xb_creds_plan *pl)
{
    xb_creds_parsed_cleanup(&pl->base_static);
    free(pl->url);
    free(pl->webid_role);
    free(pl->webid_session);
    for (size_t i = 0; i < pl->n_hops; i++) {
        free(pl->hops[i].role_arn);
        free(pl->hops[i].session_name);
        free(pl->hops[i].external_id);
    }
    memset(pl, 0, sizeof(*pl));
}

static int set_static(struct xb_creds_parsed *dst, const char *akid, const char *secret,
                      const char *token)
{
    struct xb_creds_parsed src = {(char *)akid, (char *)secret,
                                  token && *token ? (char *)token : NULL, 0};
    return xb_creds_parsed_copy(dst, &src);
}

static int add_hop(struct xb_creds_plan *pl, const char *arn, const char *session, const char *ext,
                   char *err, size_t err_len)
{
    struct xb_creds_hop *h;
    if (pl->n_hops >= XB_CREDS_MAX_HOPS) {
        xb_aws_errf(err, err_len, "too many chained roles (max %d)", XB_CREDS_MAX_HOPS);
        return XB_ERR_CONFIG;
    }
    h = &pl->hops[pl->n_hops];
    h->role_arn = strdup(arn);
    h->session_name = session && *session ? strdup(session) : NULL;
    h->external_id = ext && *ext ? strdup(ext) : NULL;
    pl->n_hops++;
    if (!h->role_arn || (session && *session && !h->session_name) ||
        (ext && *ext && !h->external_id))
        return XB_ERR_NOMEM;
    return XB_OK;
}

/* Plans STS AssumeRoleWithWebIdentity for |arn| with the token in |token_file|
 * (read at request time: it rotates). |session| NULL or "": generated per request. */
static int plan_webid(struct xb_creds_plan *pl, const char *arn, const char *token_file,
                      const char *session)
{
    pl->kind = XB_CREDS_SRC_WEBID;
    pl->webid_role = strdup(arn);
    pl->url = strdup(token_file);
    if (xb_aws_dup_opt(session, &pl->webid_session) != XB_OK || !pl->webid_role || !pl->url)
        return XB_ERR_NOMEM;
    return XB_OK;
}

/* ---- chain resolution ----------------------------------------------------- */

struct files {
    struct xb_creds_ini *creds, *cfg;
};

static const char *profile_get(const struct files *f, const char *name, const char *key)
{
    const char *v = xb_creds_ini_get(f->creds, name, key);
    return v ? v : xb_aws_config_get(f->cfg, name, key);
}

static int profile_exists(const struct files *f, const char *name)
{
    char sec[256];
    snprintf(sec, sizeof(sec), "profile %s", name);
    return xb_creds_ini_has_section(f->creds, name) || xb_creds_ini_has_section(f->cfg, sec) ||
           (strcmp(name, "default") == 0 && xb_creds_ini_has_section(f->cfg, "default"));
}

/* Fills the static base and hops for profile |name|. XB_ERR_NOT_FOUND when the
 * profile holds no credential settings at all. */
static int resolve_profile(const struct files *f, const char *name, int depth,
                           struct xb_creds_plan *pl, char *err, size_t err_len)
{
    const char *arn = profile_get(f, name, "role_arn");
    const char *akid = profile_get(f, name, "aws_access_key_id");
    const char *sk = profile_get(f, name, "aws_secret_access_key");
    const char *src;
    int rc;

    if (depth > MAX_PROFILE_DEPTH) {
        xb_aws_errf(err, err_len, "profile %s: source_profile chain deeper than %d (a cycle?)",
                    name, MAX_PROFILE_DEPTH);
        return XB_ERR_CONFIG;
    }
    if (!arn || !*arn) {
        static const char *const unsupported[] = {"credential_process", "sso_session",
                                                  "sso_start_url", "credential_source"};
        if (akid && *akid && sk && *sk)
            return set_static(&pl->base_static, akid, sk,
                              profile_get(f, name, "aws_session_token"));
        if ((akid && *akid) || (sk && *sk)) {
            xb_aws_errf(err, err_len,
                        "profile %s: aws_access_key_id and aws_secret_access_key must "
                        "both be set",
                        name);
            return XB_ERR_CONFIG;
        }
        for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
            if (profile_get(f, name, unsupported[i])) {
                xb_aws_errf(err, err_len, "profile %s: %s is not supported", name, unsupported[i]);
                return XB_ERR_UNSUPPORTED;
            }
        if (depth > 0) {
            xb_aws_errf(err, err_len, "source profile %s has no credentials", name);
            return XB_ERR_CONFIG;
        }
        return XB_ERR_NOT_FOUND;
    }
    src = profile_get(f, name, "source_profile");
    if ((!src || !*src) && profile_get(f, name, "web_identity_token_file")) {
        /* role_arn + web_identity_token_file: the profile form of IRSA. */
        return plan_webid(pl, arn, profile_get(f, name, "web_identity_token_file"),
                          profile_get(f, name, "role_session_name"));
    }
    if (!src || !*src) {
        xb_aws_errf(err, err_len,
                    "profile %s: role_arn needs source_profile or "
                    "web_identity_token_file (credential_source is not supported)",
                    name);
        return XB_ERR_UNSUPPORTED;
    }
    if (!profile_exists(f, src)) {
        xb_aws_errf(err, err_len, "profile %s: source_profile %s not found", name, src);
        return XB_ERR_CONFIG;
    }
    if (strcmp(src, name) == 0) {
        /* A profile may name itself: its own static keys are the base. */
        if (!(akid && *akid && sk && *sk)) {
            xb_aws_errf(err, err_len, "profile %s: source_profile is itself but it has no keys",
                        name);
            return XB_ERR_CONFIG;
        }
        rc = set_static(&pl->base_static, akid, sk, profile_get(f, name, "aws_session_token"));
    } else {
        rc = resolve_profile(f, src, depth + 1, pl, err, err_len);
    }
    if (rc != XB_OK)
        return rc;
    return add_hop(pl, arn, profile_get(f, name, "role_session_name"),
                   profile_get(f, name, "external_id"), err, err_len);
}

/* Tries the shared files. 0 (plan filled), XB_ERR_NOT_FOUND (nothing configured:
 * |err| says why, for the summary), or a hard error (|err| filled). */
static int try_files(const struct xb_creds_plan_opts *o, struct xb_creds_plan *pl, char *err,
                     size_t err_len)
{
    struct files f = {NULL, NULL};
    char *cpath = xb_aws_shared_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    char *fpath = xb_aws_shared_path("AWS_CONFIG_FILE", ".aws/config");
    const char *name = xb_aws_active_profile(o->profile);
    int explicit_profile = (o->profile && *o->profile) || xb_aws_getenv("AWS_PROFILE");
    int rc;

    if ((rc = xb_aws_load_ini(cpath, &f.creds, err, err_len)) != XB_OK ||
        (rc = xb_aws_load_ini(fpath, &f.cfg, err, err_len)) != XB_OK) {
        rc = XB_ERR_CONFIG;
        goto out;
    }
    if (!profile_exists(&f, name)) {
        xb_aws_errf(err, err_len, "profile %s not found", name);
        rc = explicit_profile ? XB_ERR_CONFIG : XB_ERR_NOT_FOUND;
        goto out;
    }
    rc = resolve_profile(&f, name, 0, pl, err, err_len);
    if (rc == XB_ERR_NOT_FOUND)
        xb_aws_errf(err, err_len, "profile %s has no credentials", name);
    else if (rc == XB_ERR_NOMEM)
        xb_aws_errf(err, err_len, "out of memory");
    if (rc == XB_OK && pl->kind == XB_CREDS_SRC_NONE)
        pl->kind = XB_CREDS_SRC_FILES;
    pl->origin = XB_CREDS_SRC_FILES;
out:
    xb_creds_ini_free(f.creds);
    xb_creds_ini_free(f.cfg);
    free(cpath);
    free(fpath);
    return rc;
}

static int try_env(struct xb_creds_plan *pl)
{
    const char *akid = xb_aws_getenv("AWS_ACCESS_KEY_ID");
    const char *sk = xb_aws_getenv("AWS_SECRET_ACCESS_KEY");
    int rc;
    if (!akid || !sk)
        return XB_ERR_NOT_FOUND;
    rc = set_static(&pl->base_static, akid, sk, xb_aws_getenv("AWS_SESSION_TOKEN"));
    if (rc == XB_OK)
        pl->kind = XB_CREDS_SRC_ENV;
    return rc;
}

static int try_webid(struct xb_creds_plan *pl)
{
    const char *arn = xb_aws_getenv("AWS_ROLE_ARN");
    const char *tf = xb_aws_getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!arn || !tf)
        return XB_ERR_NOT_FOUND;
    return plan_webid(pl, arn, tf, xb_aws_getenv("AWS_ROLE_SESSION_NAME"));
}

static int try_container(struct xb_creds_plan *pl, char *err, size_t err_len)
{
    const char *rel = xb_aws_getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = xb_aws_getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *why;
    int rc;

    if (rel) {
        size_t n = strlen(rel) + 32;
        if (rel[0] != '/') {
            xb_aws_errf(err, err_len, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
            return XB_ERR_CONFIG;
        }
        pl->url = malloc(n);
        if (!pl->url)
            return XB_ERR_NOMEM;
        snprintf(pl->url, n, "http://169.254.170.2%s", rel);
    } else if (full) {
        rc = xb_creds_container_uri_allowed(full, &why);
        if (rc == XB_ERR_NOMEM)
            return rc;
        if (rc != XB_OK) {
            xb_aws_errf(err, err_len, "AWS_CONTAINER_CREDENTIALS_FULL_URI refused: %s", why);
            return XB_ERR_CONFIG;
        }
        if (!(pl->url = strdup(full)))
            return XB_ERR_NOMEM;
    } else {
        return XB_ERR_NOT_FOUND;
    }
    pl->kind = XB_CREDS_SRC_CONTAINER;
    return XB_OK;
}

int xb_creds_plan_build(const struct xb_creds_plan_opts *o, struct xb_creds_plan *pl,
                        char *err_desc, size_t err_desc_len)
{
    char why[300];
    int rc = XB_ERR_NOT_FOUND;
    enum xb_creds_source only = o->only;

    memset(pl, 0, sizeof(*pl));
    why[0] = 0;
    if (only == XB_CREDS_SRC_NONE || only == XB_CREDS_SRC_ENV) {
        if ((rc = try_env(pl)) != XB_ERR_NOT_FOUND)
            goto found;
    }
    if (only == XB_CREDS_SRC_NONE || only == XB_CREDS_SRC_FILES) {
        if ((rc = try_files(o, pl, why, sizeof(why))) != XB_ERR_NOT_FOUND) {
            if (rc != XB_OK)
                xb_aws_errf(err_desc, err_desc_len, "shared-credentials-file: %s", why);
            goto found;
        }
        xb_creds_plan_cleanup(pl);
    }
    if (only == XB_CREDS_SRC_NONE || only == XB_CREDS_SRC_WEBID) {
        if ((rc = try_webid(pl)) != XB_ERR_NOT_FOUND)
            goto found;
    }
    if (only == XB_CREDS_SRC_NONE || only == XB_CREDS_SRC_CONTAINER) {
        char cwhy[300];
        if ((rc = try_container(pl, cwhy, sizeof(cwhy))) != XB_ERR_NOT_FOUND) {
            if (rc != XB_OK && rc != XB_ERR_NOMEM)
                xb_aws_errf(err_desc, err_desc_len, "container: %s", cwhy);
            goto found;
        }
    }
    if ((only == XB_CREDS_SRC_NONE || only == XB_CREDS_SRC_IMDS) &&
        !xb_aws_env_true("AWS_EC2_METADATA_DISABLED")) {
        pl->url = strdup(xb_imds_endpoint());
        pl->kind = XB_CREDS_SRC_IMDS;
        rc = pl->url ? XB_OK : XB_ERR_NOMEM;
        goto found;
    }
    if (only != XB_CREDS_SRC_NONE)
        xb_aws_errf(err_desc, err_desc_len, "%s: no longer configured",
                    xb_creds_plan_source_name(only));
    else
        xb_aws_errf(
            err_desc, err_desc_len,
            "no AWS credentials found: tried environment (AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY unset), shared files (%s), web identity (AWS_ROLE_ARN/"
            "AWS_WEB_IDENTITY_TOKEN_FILE unset), container (AWS_CONTAINER_CREDENTIALS_*_URI "
            "unset), instance metadata (%s)",
            why[0] ? why : "nothing found",
            xb_aws_env_true("AWS_EC2_METADATA_DISABLED") ? "disabled by AWS_EC2_METADATA_DISABLED"
                                                         : "not tried");
    rc = XB_ERR_NOT_FOUND;
    goto fail;
found:
    if (rc == XB_ERR_NOMEM)
        xb_aws_errf(err_desc, err_desc_len, "out of memory");
    if (rc != XB_OK)
        goto fail;
    if (pl->origin == XB_CREDS_SRC_NONE)
        pl->origin = pl->kind;
    if (o->role_arn && *o->role_arn &&
        (rc = add_hop(pl, o->role_arn, o->role_session, NULL, err_desc, err_desc_len)) != XB_OK) {
        if (rc == XB_ERR_NOMEM)
            xb_aws_errf(err_desc, err_desc_len, "out of memory");
        goto fail;
    }
    return XB_OK;
fail:
    xb_creds_plan_cleanup(pl);
    return rc;
}
