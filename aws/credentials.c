#include "aws/credentials.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "aws/creds_parse.h"
#include "aws/imds.h"
#include "aws/request.h"
#include "aws/url.h"

#define LOG_WHO "creds"
#define REFRESH_MARGIN_S 300      /* refresh 5 minutes before expiry */
#define MAX_HOPS 6                /* AssumeRole hops: profile chain + opts->role_arn */
#define MAX_PROFILE_DEPTH 5
#define MAX_RESPONSE 65536        /* bytes accepted from any credential endpoint */
#define MAX_TOKEN_FILE 16384      /* web identity / container token files */
#define BACKOFF_MAX_S 60
#define STS_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define USER_AGENT "xraybridge-credentials"

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* ======================================================================== */
/* Small helpers                                                            */
/* ======================================================================== */

static void errf(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    if (!err || !err_len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* Appends to an error text already in |err|. */
static void erradd(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void erradd(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    if (!err || !err_len)
        return;
    n = strnlen(err, err_len);
    if (n + 1 >= err_len)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, err_len - n, fmt, ap);
    va_end(ap);
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcasecmp(v, "true") == 0;
}

/* Reads a whole small file into a NUL-terminated heap string (trailing blanks
 * trimmed when |trim|). 0, XB_ERR_NOT_FOUND (missing), XB_ERR_IO, XB_ERR_TOO_LARGE,
 * XB_ERR_NOMEM. */
static int read_file(const char *path, size_t max, int trim, char **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    struct xb_buf b;
    char chunk[4096];
    size_t n;
    int rc = XB_OK;

    *out = NULL;
    xb_buf_init(&b, max);
    if (!f)
        return errno == ENOENT ? XB_ERR_NOT_FOUND : XB_ERR_IO;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((rc = xb_buf_append(&b, chunk, n)) != XB_OK)
            goto out;
    if (ferror(f)) {
        rc = XB_ERR_IO;
        goto out;
    }
    if ((rc = xb_buf_reserve(&b, 0)) != XB_OK)
        goto out;
    if (trim)
        while (b.len && isspace((unsigned char)b.data[b.len - 1]))
            b.data[--b.len] = 0;
    if (out_len)
        *out_len = b.len;
    *out = xb_buf_steal(&b, NULL); /* allocated by the reserve above: never NULL */
out:
    fclose(f);
    if (rc != XB_OK) {
        if (b.data)
            memset(b.data, 0, b.len);
        xb_buf_cleanup(&b);
    }
    return rc;
}

/* |*out| = copy of |s|, or NULL when |s| is NULL or "". 0 or XB_ERR_NOMEM. */
static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (!s || !*s)
        return XB_OK;
    *out = strdup(s);
    return *out ? XB_OK : XB_ERR_NOMEM;
}

static int region_ok(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63)
        return 0;
    for (; *r; r++)
        if (!(islower((unsigned char)*r) || isdigit((unsigned char)*r) || *r == '-'))
            return 0;
    return 1;
}

/* Path of a shared file: |env| when set, else $HOME/|rel|. NULL when neither. */
static char *shared_path(const char *env, const char *rel)
{
    const char *v = env_nonempty(env), *home;
    char *p;
    size_t n;
    if (v)
        return strdup(v);
    home = env_nonempty("HOME");
    if (!home)
        return NULL;
    n = strlen(home) + strlen(rel) + 2;
    p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", home, rel);
    return p;
}

/* Loads and parses a shared file; a missing file gives |*ini| NULL and 0. */
static int load_ini(const char *path, struct xb_ini **ini, char *err, size_t err_len)
{
    char *text = NULL;
    size_t len = 0;
    int line, rc;
    const char *desc;

    *ini = NULL;
    if (!path)
        return XB_OK;
    rc = read_file(path, 1 << 20, 0, &text, &len);
    if (rc == XB_ERR_NOT_FOUND)
        return XB_OK;
    if (rc != XB_OK) {
        errf(err, err_len, "cannot read %s: %s", path, xb_strerror(rc));
        return rc;
    }
    rc = xb_ini_parse(text, len, ini, &line, &desc);
    if (rc == XB_ERR_INVALID)
        errf(err, err_len, "%s:%d: %s", path, line, desc);
    else if (rc != XB_OK)
        errf(err, err_len, "cannot parse %s: %s", path, xb_strerror(rc));
    xb_creds_wipe_free(text);
    return rc;
}

/* ======================================================================== */
/* Region                                                                   */
/* ======================================================================== */

static const char *active_profile(const char *explicit_profile)
{
    if (explicit_profile && *explicit_profile)
        return explicit_profile;
    if (env_nonempty("AWS_PROFILE"))
        return env_nonempty("AWS_PROFILE");
    return "default";
}

/* Value of |key| for profile |name| in a parsed config file ("[profile name]", or
 * "[default]" / "[profile default]" for the default profile). */
static const char *config_get(const struct xb_ini *cfg, const char *name, const char *key)
{
    char sec[256];
    const char *v = NULL;
    if (!cfg)
        return NULL;
    if (strcmp(name, "default") == 0)
        v = xb_ini_get(cfg, "default", key);
    snprintf(sec, sizeof(sec), "profile %s", name);
    return v ? v : xb_ini_get(cfg, sec, key);
}

/* IMDS region lookup (blocking, start-up only). */
static int region_from_imds(char *out, size_t out_len, char *why, size_t why_len)
{
    char got[512];
    size_t n;
    int rc = xb_imds_get_blocking("region", "/latest/meta-data/placement/region", got,
                                  sizeof(got), why, why_len);
    if (rc != XB_OK)
        return rc;
    if (!region_ok(got)) {
        errf(why, why_len, "instance metadata returned a malformed region");
        return XB_ERR_INVALID;
    }
    n = strlen(got);
    if (n + 1 > out_len) {
        errf(why, why_len, "region buffer too small");
        return XB_ERR_TOO_LARGE;
    }
    memcpy(out, got, n + 1);
    return XB_OK;
}

static int region_take(const char *v, const char *src, char *out, size_t out_len, char *err,
                       size_t err_len)
{
    size_t n = strlen(v);
    if (!region_ok(v)) {
        errf(err, err_len, "region from %s is malformed (expected [a-z0-9-])", src);
        return XB_ERR_INVALID;
    }
    if (n + 1 > out_len) {
        errf(err, err_len, "region buffer too small");
        return XB_ERR_TOO_LARGE;
    }
    memcpy(out, v, n + 1);
    return XB_OK;
}

int xb_region_resolve_full(const char *configured, char *out, size_t out_len, char *err,
                           size_t err_len)
{
    struct xb_ini *cfg = NULL;
    char *path = NULL, why[512];
    const char *v, *profile = active_profile(NULL);
    int rc;

    if (out_len)
        out[0] = 0;
    if (configured && *configured)
        return region_take(configured, "configuration", out, out_len, err, err_len);
    if ((v = env_nonempty("AWS_REGION")))
        return region_take(v, "AWS_REGION", out, out_len, err, err_len);
    if ((v = env_nonempty("AWS_DEFAULT_REGION")))
        return region_take(v, "AWS_DEFAULT_REGION", out, out_len, err, err_len);
    errf(err, err_len, "no region: tried configuration, AWS_REGION, AWS_DEFAULT_REGION");
    path = shared_path("AWS_CONFIG_FILE", ".aws/config");
    why[0] = 0;
    if (load_ini(path, &cfg, why, sizeof(why)) != XB_OK) {
        erradd(err, err_len, ", shared config (%s)", why);
    } else if ((v = config_get(cfg, profile, "region")) && *v) {
        char src[300];
        snprintf(src, sizeof(src), "profile %s in %s", profile, path);
        rc = region_take(v, src, out, out_len, err, err_len);
        goto out;
    } else {
        erradd(err, err_len, ", shared config (no region for profile %s in %s)", profile,
               path ? path : "(no HOME)");
    }
    if (env_true("AWS_EC2_METADATA_DISABLED")) {
        erradd(err, err_len, ", instance metadata (disabled by AWS_EC2_METADATA_DISABLED)");
        rc = XB_ERR_NOT_FOUND;
        goto out;
    }
    why[0] = 0;
    rc = region_from_imds(out, out_len, why, sizeof(why));
    if (rc != XB_OK) {
        erradd(err, err_len, ", instance metadata (%s)", why);
        if (rc != XB_ERR_INVALID && rc != XB_ERR_TOO_LARGE)
            rc = XB_ERR_NOT_FOUND;
    }
out:
    if (rc == XB_OK && err && err_len)
        err[0] = 0;
    xb_ini_free(cfg);
    free(path);
    return rc;
}

/* ======================================================================== */
/* Provider state                                                           */
/* ======================================================================== */

enum base_kind { BASE_NONE, BASE_ENV, BASE_FILES, BASE_WEBID, BASE_CONTAINER, BASE_IMDS };

static const char *const base_names[] = {"none",        "environment",
                                         "shared-credentials-file", "web-identity",
                                         "container",   "imds"};

struct hop {
    char *role_arn;
    char *session_name;
    char *external_id;
};

/* What one refresh does: a base source, then AssumeRole hops in order. */
struct plan {
    enum base_kind kind;   /* what the refresh executes */
    enum base_kind origin; /* chain link that produced the plan (pinned after success) */
    struct xb_creds_parsed base_static; /* ENV, FILES */
    char *url; /* CONTAINER: full URL; IMDS: endpoint; WEBID: token file path */
    char *webid_role, *webid_session; /* WEBID; session NULL = generated per request */
    struct hop hops[MAX_HOPS];
    size_t n_hops;
};

enum step { ST_IDLE, ST_WEBID, ST_CONTAINER, ST_IMDS_TOKEN, ST_IMDS_ROLE, ST_IMDS_CREDS, ST_HOP };

struct waiter {
    struct waiter *next;
    xb_creds_cb cb;
    void *ud;
    int rc;
    char why[384];
};

struct xb_creds_provider {
    struct xb_curl_loop *curl;
    char *region, *role_arn, *role_session, *profile, *ca_file, *proxy;
    int profile_explicit;

    struct xb_creds_parsed cur; /* current credentials, when have */
    struct xb_aws_creds view;
    int have;
    const char *source;
    enum base_kind pinned; /* source that worked first; later refreshes use it only */

    int refreshing;
    struct plan plan;
    struct xb_creds_parsed work; /* credentials being built by the refresh */
    size_t hop_idx;
    enum step step;
    int imds_retried;
    char *imds_token;            /* "" = IMDSv1 fallback */
    uint64_t imds_token_until_ns;

    CURL *easy;
    struct curl_slist *hdrs;
    char *post;
    struct xb_buf resp;
    char curl_err[CURL_ERROR_SIZE];

    int last_rc;
    char last_err[384];
    uint64_t backoff_until_ns;
    unsigned backoff_s;

    struct waiter *pending, **pending_tail; /* waiting for the refresh in flight */
    struct waiter *ready, **ready_tail;     /* answered, delivered by |notify| */
    struct event *notify;
    struct event *retry;
    int dispatching, free_requested;

    uint64_t refreshes, failures;
};

static void plan_cleanup(struct plan *pl)
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

static int copy_parsed(struct xb_creds_parsed *dst, const struct xb_creds_parsed *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->access_key_id = strdup(src->access_key_id);
    dst->secret_access_key = strdup(src->secret_access_key);
    dst->session_token = src->session_token ? strdup(src->session_token) : NULL;
    dst->expiration = src->expiration;
    if (!dst->access_key_id || !dst->secret_access_key ||
        (src->session_token && !dst->session_token)) {
        xb_creds_parsed_cleanup(dst);
        return XB_ERR_NOMEM;
    }
    return XB_OK;
}

static int set_static(struct xb_creds_parsed *dst, const char *akid, const char *secret,
                      const char *token)
{
    struct xb_creds_parsed src = {(char *)akid, (char *)secret,
                                  token && *token ? (char *)token : NULL, 0};
    return copy_parsed(dst, &src);
}

static int add_hop(struct plan *pl, const char *arn, const char *session, const char *ext,
                   char *err, size_t err_len)
{
    struct hop *h;
    if (pl->n_hops >= MAX_HOPS) {
        errf(err, err_len, "too many chained roles (max %d)", MAX_HOPS);
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
static int plan_webid(struct plan *pl, const char *arn, const char *token_file,
                      const char *session)
{
    pl->kind = BASE_WEBID;
    pl->webid_role = strdup(arn);
    pl->url = strdup(token_file);
    if (dup_opt(session, &pl->webid_session) != XB_OK || !pl->webid_role || !pl->url)
        return XB_ERR_NOMEM;
    return XB_OK;
}

/* ======================================================================== */
/* Chain resolution (synchronous part: environment and files)               */
/* ======================================================================== */

struct files {
    struct xb_ini *creds, *cfg;
};

static const char *profile_get(const struct files *f, const char *name, const char *key)
{
    const char *v = xb_ini_get(f->creds, name, key);
    return v ? v : config_get(f->cfg, name, key);
}

static int profile_exists(const struct files *f, const char *name)
{
    char sec[256];
    snprintf(sec, sizeof(sec), "profile %s", name);
    return xb_ini_has_section(f->creds, name) || xb_ini_has_section(f->cfg, sec) ||
           (strcmp(name, "default") == 0 && xb_ini_has_section(f->cfg, "default"));
}

/* Fills the static base and hops for profile |name|. XB_ERR_NOT_FOUND when the
 * profile holds no credential settings at all. */
static int resolve_profile(const struct files *f, const char *name, int depth, struct plan *pl,
                           char *err, size_t err_len)
{
    const char *arn = profile_get(f, name, "role_arn");
    const char *akid = profile_get(f, name, "aws_access_key_id");
    const char *sk = profile_get(f, name, "aws_secret_access_key");
    const char *src;
    int rc;

    if (depth > MAX_PROFILE_DEPTH) {
        errf(err, err_len, "profile %s: source_profile chain deeper than %d (a cycle?)", name,
             MAX_PROFILE_DEPTH);
        return XB_ERR_CONFIG;
    }
    if (!arn || !*arn) {
        static const char *const unsupported[] = {"credential_process", "sso_session",
                                                  "sso_start_url", "credential_source"};
        if (akid && *akid && sk && *sk)
            return set_static(&pl->base_static, akid, sk,
                              profile_get(f, name, "aws_session_token"));
        if ((akid && *akid) || (sk && *sk)) {
            errf(err, err_len, "profile %s: aws_access_key_id and aws_secret_access_key must "
                               "both be set", name);
            return XB_ERR_CONFIG;
        }
        for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
            if (profile_get(f, name, unsupported[i])) {
                errf(err, err_len, "profile %s: %s is not supported", name, unsupported[i]);
                return XB_ERR_UNSUPPORTED;
            }
        if (depth > 0) {
            errf(err, err_len, "source profile %s has no credentials", name);
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
        errf(err, err_len, "profile %s: role_arn needs source_profile or "
                           "web_identity_token_file (credential_source is not supported)", name);
        return XB_ERR_UNSUPPORTED;
    }
    if (!profile_exists(f, src)) {
        errf(err, err_len, "profile %s: source_profile %s not found", name, src);
        return XB_ERR_CONFIG;
    }
    if (strcmp(src, name) == 0) {
        /* A profile may name itself: its own static keys are the base. */
        if (!(akid && *akid && sk && *sk)) {
            errf(err, err_len, "profile %s: source_profile is itself but it has no keys", name);
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
static int try_files(struct xb_creds_provider *p, struct plan *pl, char *err, size_t err_len)
{
    struct files f = {NULL, NULL};
    char *cpath = shared_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    char *fpath = shared_path("AWS_CONFIG_FILE", ".aws/config");
    const char *name = active_profile(p->profile);
    int explicit_profile = p->profile_explicit || env_nonempty("AWS_PROFILE");
    int rc;

    if ((rc = load_ini(cpath, &f.creds, err, err_len)) != XB_OK ||
        (rc = load_ini(fpath, &f.cfg, err, err_len)) != XB_OK) {
        rc = XB_ERR_CONFIG;
        goto out;
    }
    if (!profile_exists(&f, name)) {
        errf(err, err_len, "profile %s not found", name);
        rc = explicit_profile ? XB_ERR_CONFIG : XB_ERR_NOT_FOUND;
        goto out;
    }
    rc = resolve_profile(&f, name, 0, pl, err, err_len);
    if (rc == XB_ERR_NOT_FOUND)
        errf(err, err_len, "profile %s has no credentials", name);
    else if (rc == XB_ERR_NOMEM)
        errf(err, err_len, "out of memory");
    if (rc == XB_OK && pl->kind == BASE_NONE)
        pl->kind = BASE_FILES;
    pl->origin = BASE_FILES;
out:
    xb_ini_free(f.creds);
    xb_ini_free(f.cfg);
    free(cpath);
    free(fpath);
    return rc;
}

static int try_env(struct plan *pl)
{
    const char *akid = env_nonempty("AWS_ACCESS_KEY_ID");
    const char *sk = env_nonempty("AWS_SECRET_ACCESS_KEY");
    int rc;
    if (!akid || !sk)
        return XB_ERR_NOT_FOUND;
    rc = set_static(&pl->base_static, akid, sk, env_nonempty("AWS_SESSION_TOKEN"));
    if (rc == XB_OK)
        pl->kind = BASE_ENV;
    return rc;
}

static int try_webid(struct plan *pl)
{
    const char *arn = env_nonempty("AWS_ROLE_ARN");
    const char *tf = env_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!arn || !tf)
        return XB_ERR_NOT_FOUND;
    return plan_webid(pl, arn, tf, env_nonempty("AWS_ROLE_SESSION_NAME"));
}

static int try_container(struct plan *pl, char *err, size_t err_len)
{
    const char *rel = env_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *why;
    int rc;

    if (rel) {
        size_t n = strlen(rel) + 32;
        if (rel[0] != '/') {
            errf(err, err_len, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'");
            return XB_ERR_CONFIG;
        }
        pl->url = malloc(n);
        if (!pl->url)
            return XB_ERR_NOMEM;
        snprintf(pl->url, n, "http://169.254.170.2%s", rel);
    } else if (full) {
        rc = xb_container_uri_allowed(full, &why);
        if (rc == XB_ERR_NOMEM)
            return rc;
        if (rc != XB_OK) {
            errf(err, err_len, "AWS_CONTAINER_CREDENTIALS_FULL_URI refused: %s", why);
            return XB_ERR_CONFIG;
        }
        if (!(pl->url = strdup(full)))
            return XB_ERR_NOMEM;
    } else {
        return XB_ERR_NOT_FOUND;
    }
    pl->kind = BASE_CONTAINER;
    return XB_OK;
}

/* Builds the plan of a refresh. 0, or an error with |err| filled. */
static int build_plan(struct xb_creds_provider *p, struct plan *pl, char *err, size_t err_len)
{
    char why[300];
    int rc = XB_ERR_NOT_FOUND;
    enum base_kind only = p->pinned;

    memset(pl, 0, sizeof(*pl));
    why[0] = 0;
    if (only == BASE_NONE || only == BASE_ENV) {
        if ((rc = try_env(pl)) != XB_ERR_NOT_FOUND)
            goto found;
    }
    if (only == BASE_NONE || only == BASE_FILES) {
        if ((rc = try_files(p, pl, why, sizeof(why))) != XB_ERR_NOT_FOUND) {
            if (rc != XB_OK)
                errf(err, err_len, "shared-credentials-file: %s", why);
            goto found;
        }
        plan_cleanup(pl);
    }
    if (only == BASE_NONE || only == BASE_WEBID) {
        if ((rc = try_webid(pl)) != XB_ERR_NOT_FOUND)
            goto found;
    }
    if (only == BASE_NONE || only == BASE_CONTAINER) {
        char cwhy[300];
        if ((rc = try_container(pl, cwhy, sizeof(cwhy))) != XB_ERR_NOT_FOUND) {
            if (rc != XB_OK && rc != XB_ERR_NOMEM)
                errf(err, err_len, "container: %s", cwhy);
            goto found;
        }
    }
    if ((only == BASE_NONE || only == BASE_IMDS) && !env_true("AWS_EC2_METADATA_DISABLED")) {
        pl->url = strdup(xb_imds_endpoint());
        pl->kind = BASE_IMDS;
        rc = pl->url ? XB_OK : XB_ERR_NOMEM;
        goto found;
    }
    if (only != BASE_NONE)
        errf(err, err_len, "%s: no longer configured", base_names[only]);
    else
        errf(err, err_len,
             "no AWS credentials found: tried environment (AWS_ACCESS_KEY_ID/"
             "AWS_SECRET_ACCESS_KEY unset), shared files (%s), web identity (AWS_ROLE_ARN/"
             "AWS_WEB_IDENTITY_TOKEN_FILE unset), container (AWS_CONTAINER_CREDENTIALS_*_URI "
             "unset), instance metadata (%s)",
             why[0] ? why : "nothing found",
             env_true("AWS_EC2_METADATA_DISABLED") ? "disabled by AWS_EC2_METADATA_DISABLED"
                                                   : "not tried");
    rc = XB_ERR_NOT_FOUND;
    goto fail;
found:
    if (rc == XB_ERR_NOMEM)
        errf(err, err_len, "out of memory");
    if (rc != XB_OK)
        goto fail;
    if (pl->origin == BASE_NONE)
        pl->origin = pl->kind;
    if (p->role_arn &&
        (rc = add_hop(pl, p->role_arn, p->role_session, NULL, err, err_len)) != XB_OK) {
        if (rc == XB_ERR_NOMEM)
            errf(err, err_len, "out of memory");
        goto fail;
    }
    return XB_OK;
fail:
    plan_cleanup(pl);
    return rc;
}

/* ======================================================================== */
/* Delivery                                                                 */
/* ======================================================================== */

static void really_free(struct xb_creds_provider *p);

static void on_notify(evutil_socket_t fd, short what, void *ud)
{
    struct xb_creds_provider *p = ud;
    struct waiter *w = p->ready, *next;

    p->ready = NULL;
    p->ready_tail = &p->ready;
    p->dispatching = 1;
    for (; w; w = next) {
        next = w->next;
        if (!p->free_requested) {
            if (w->rc == XB_OK)
                w->cb(w->ud, XB_OK, &p->view, NULL);
            else
                w->cb(w->ud, w->rc, NULL, w->why);
        }
        free(w);
    }
    p->dispatching = 0;
    if (p->free_requested)
        really_free(p);
}

static void answer(struct xb_creds_provider *p, struct waiter *w, int rc, const char *why)
{
    w->rc = rc;
    w->why[0] = 0;
    if (rc != XB_OK)
        snprintf(w->why, sizeof(w->why), "%s", why && *why ? why : xb_strerror(rc));
    w->next = NULL;
    *p->ready_tail = w;
    p->ready_tail = &w->next;
    event_active(p->notify, EV_READ, 0);
}

static int usable_now(const struct xb_creds_provider *p, int64_t margin_s)
{
    return p->have &&
           (p->cur.expiration == 0 || p->cur.expiration - (int64_t)time(NULL) > margin_s);
}

/* Ends a refresh: success installs |p->work|; answers every pending caller. */
static void finish(struct xb_creds_provider *p, int rc, const char *why)
{
    struct waiter *w, *next;
    int ok_old = 0;
    char akid[16];

    if (rc == XB_OK) {
        xb_creds_parsed_cleanup(&p->cur);
        p->cur = p->work;
        memset(&p->work, 0, sizeof(p->work));
        p->view.access_key_id = p->cur.access_key_id;
        p->view.secret_access_key = p->cur.secret_access_key;
        p->view.session_token = p->cur.session_token;
        p->have = 1;
        p->pinned = p->plan.origin;
        p->source = p->plan.n_hops ? "assume-role" : base_names[p->plan.kind];
        p->refreshes++;
        p->backoff_s = 0;
        p->backoff_until_ns = 0;
        p->last_rc = XB_OK;
        p->last_err[0] = 0;
        evtimer_del(p->retry);
        XB_INFO(LOG_WHO, "AWS credentials from %s (chain link %s, access key %s, %s)",
                p->source, base_names[p->plan.origin],
                xb_log_redact(p->cur.access_key_id, akid, sizeof(akid)),
                p->cur.expiration ? "expiring" : "static");
    } else {
        struct timeval tv;
        xb_creds_parsed_cleanup(&p->work);
        p->failures++;
        p->last_rc = rc;
        snprintf(p->last_err, sizeof(p->last_err), "%s", why && *why ? why : xb_strerror(rc));
        p->backoff_s = p->backoff_s ? p->backoff_s * 2 : 1;
        if (p->backoff_s > BACKOFF_MAX_S)
            p->backoff_s = BACKOFF_MAX_S;
        p->backoff_until_ns = xb_clock_mono_ns() + (uint64_t)p->backoff_s * 1000000000ull;
        ok_old = usable_now(p, 0);
        XB_WARN(LOG_WHO, "credential refresh failed: %s%s", p->last_err,
                ok_old ? " (still using the previous, unexpired credentials)" : "");
        if (ok_old) {
            tv.tv_sec = (time_t)p->backoff_s;
            tv.tv_usec = 0;
            evtimer_add(p->retry, &tv);
        }
    }
    plan_cleanup(&p->plan);
    p->refreshing = 0;
    p->step = ST_IDLE;
    w = p->pending;
    p->pending = NULL;
    p->pending_tail = &p->pending;
    for (; w; w = next) {
        next = w->next;
        if (rc == XB_OK || ok_old)
            answer(p, w, XB_OK, NULL);
        else
            answer(p, w, rc, p->last_err);
    }
}

/* ======================================================================== */
/* HTTP                                                                     */
/* ======================================================================== */

static void http_reset(struct xb_creds_provider *p)
{
    if (p->easy) {
        curl_easy_cleanup(p->easy);
        p->easy = NULL;
    }
    curl_slist_free_all(p->hdrs);
    p->hdrs = NULL;
    xb_creds_wipe_free(p->post);
    p->post = NULL;
    if (p->resp.data)
        memset(p->resp.data, 0, p->resp.len);
    xb_buf_cleanup(&p->resp);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xb_creds_provider *p = ud;
    size_t n = size * nmemb;
    return xb_buf_append(&p->resp, ptr, n) == XB_OK ? n : 0;
}

static void step_done(struct xb_creds_provider *p, CURLcode res, long status);

static void on_http_done(void *ud, CURL *easy, CURLcode res)
{
    struct xb_creds_provider *p = ud;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    step_done(p, res, status);
}

/*
 * Starts the request |r| for |step| (answer to on_body, errors to p->curl_err).
 * Takes ownership of |post| (heap, may be NULL: |r->body| points into it), also on
 * failure. Returns 0, XB_ERR_NOMEM, or the build error (|why| says it).
 */
static int http_start(struct xb_creds_provider *p, enum step step, struct xb_aws_request *r,
                      char *post, char *why, size_t why_len)
{
    int rc;
    http_reset(p);
    p->post = post;
    xb_buf_init(&p->resp, MAX_RESPONSE);
    r->on_body = on_body;
    r->on_body_ud = p;
    r->errbuf = p->curl_err;
    rc = xb_aws_request_build(r, &p->easy, &p->hdrs, why, why_len);
    if (rc != XB_OK)
        return rc;
    p->step = step;
    rc = xb_curl_loop_add(p->curl, p->easy, on_http_done, p);
    if (rc != XB_OK) {
        curl_easy_cleanup(p->easy);
        p->easy = NULL;
    }
    return rc;
}

/* Form parameter "&name=<encoded value>" appended to |b|. */
static int form_add(struct xb_buf *b, const char *name, const char *value)
{
    int rc = xb_buf_printf(b, "%s%s=", b->len ? "&" : "", name);
    return rc != XB_OK ? rc : xb_sigv4_uri_encode(b, value, strlen(value));
}

static void sts_url(const struct xb_creds_provider *p, char *out, size_t out_len)
{
    const char *ov = env_nonempty("AWS_ENDPOINT_URL_STS");
    if (ov)
        snprintf(out, out_len, "%s", ov);
    else if (p->region)
        snprintf(out, out_len, "https://sts.%s.amazonaws.com/", p->region);
    else
        snprintf(out, out_len, "https://sts.amazonaws.com/");
}

/*
 * Form body of an STS Query API call: Action, Version, RoleArn, RoleSessionName
 * (|session|, or "xraybridge-<unix time>" when NULL), then |extra_name|=|extra| when
 * |extra| is set. Heap string (may hold a token: xb_creds_wipe_free it), or NULL when
 * out of memory.
 */
static char *sts_body(const char *action, const char *role_arn, const char *session,
                      const char *extra_name, const char *extra)
{
    struct xb_buf b;
    char gen[48];
    char *body = NULL;

    xb_buf_init(&b, 0);
    if (!session) {
        snprintf(gen, sizeof(gen), "xraybridge-%lld", (long long)time(NULL));
        session = gen;
    }
    if (form_add(&b, "Action", action) == XB_OK &&
        form_add(&b, "Version", "2011-06-15") == XB_OK &&
        form_add(&b, "RoleArn", role_arn) == XB_OK &&
        form_add(&b, "RoleSessionName", session) == XB_OK &&
        (!extra || form_add(&b, extra_name, extra) == XB_OK))
        body = xb_buf_steal(&b, NULL); /* non-empty, so never NULL */
    if (b.data)
        memset(b.data, 0, b.len);
    xb_buf_cleanup(&b);
    return body;
}

/*
 * POSTs the form |body| (heap, taken also on failure) to the STS endpoint, signed
 * with |sign| when its service is set. STS requests always verify TLS certificates,
 * whatever exporters.awsxray.no_verify_ssl says: they carry the web-identity token or
 * signed credentials, and their answer becomes our credentials.
 */
static int sts_post(struct xb_creds_provider *p, enum step step,
                    const struct xb_aws_request_sign *sign, char *body, char *why,
                    size_t why_len)
{
    static const struct xb_sigv4_header ct = {"Content-Type", STS_CONTENT_TYPE};
    struct xb_aws_request r;
    char url[1024];

    sts_url(p, url, sizeof(url));
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.url = url;
    r.headers = &ct;
    r.n_headers = 1;
    r.body = body;
    r.body_len = strlen(body);
    if (sign)
        r.sign = *sign;
    r.connect_timeout_ms = 5000;
    r.timeout_ms = 10000;
    r.user_agent = USER_AGENT;
    r.ca_file = p->ca_file;
    r.proxy = p->proxy;
    return http_start(p, step, &r, body, why, why_len);
}

/* ======================================================================== */
/* Steps                                                                    */
/* ======================================================================== */

static int start_webid(struct xb_creds_provider *p, char *why, size_t why_len)
{
    char *token = NULL, *body;
    int rc;

    /* The token is re-read on every refresh: kubelet rotates it. */
    rc = read_file(p->plan.url, MAX_TOKEN_FILE, 1, &token, NULL);
    if (rc != XB_OK || !*token) {
        errf(why, why_len, "web-identity: cannot read token file %s: %s", p->plan.url,
             rc == XB_OK ? "empty" : xb_strerror(rc));
        rc = rc == XB_OK ? XB_ERR_INVALID : rc;
        goto out;
    }
    body = sts_body("AssumeRoleWithWebIdentity", p->plan.webid_role, p->plan.webid_session,
                    "WebIdentityToken", token);
    rc = body ? sts_post(p, ST_WEBID, NULL, body, why, why_len) : XB_ERR_NOMEM;
    if (rc != XB_OK)
        errf(why, why_len, "web-identity: out of memory");
out:
    xb_creds_wipe_free(token);
    return rc;
}

static int start_container(struct xb_creds_provider *p, char *why, size_t why_len)
{
    const char *tf = env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tv = env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    struct xb_sigv4_header h[2];
    struct xb_aws_request r;
    char *token = NULL;
    size_t nh = 0;
    int rc = XB_OK;

    if (tf) {
        /* Read per request: EKS Pod Identity rotates it. */
        rc = read_file(tf, MAX_TOKEN_FILE, 1, &token, NULL);
        if (rc != XB_OK) {
            errf(why, why_len, "container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
                               "%s: %s", tf, xb_strerror(rc));
            goto out;
        }
    } else if (tv && !(token = strdup(tv))) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    if (token && strpbrk(token, "\r\n")) {
        rc = XB_ERR_INVALID;
        errf(why, why_len, "container: authorization token contains a line break");
        goto out;
    }
    if (token)
        h[nh++] = (struct xb_sigv4_header){"Authorization", token};
    h[nh++] = (struct xb_sigv4_header){"Accept", "application/json"};
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.url = p->plan.url;
    r.headers = h;
    r.n_headers = nh;
    r.connect_timeout_ms = 2000;
    r.timeout_ms = 5000;
    r.user_agent = USER_AGENT;
    r.proxy = ""; /* a local or link-local endpoint: never through a proxy */
    rc = http_start(p, ST_CONTAINER, &r, NULL, why, why_len);
out:
    if (rc == XB_ERR_NOMEM)
        errf(why, why_len, "container: out of memory");
    xb_creds_wipe_free(token);
    return rc;
}

/* Token-authenticated metadata GET of |path| (no token header in IMDSv1 fallback). */
static int imds_get(struct xb_creds_provider *p, enum step step, const char *path)
{
    struct xb_imds_call c;
    int rc = xb_imds_get_call(&c, p->plan.url, path, p->imds_token);
    if (rc != XB_OK)
        return rc;
    c.req.user_agent = USER_AGENT;
    return http_start(p, step, &c.req, NULL, NULL, 0);
}

static int start_imds(struct xb_creds_provider *p, char *why, size_t why_len)
{
    struct xb_imds_call c;
    int rc;

    if (p->imds_token && xb_clock_mono_ns() < p->imds_token_until_ns) {
        rc = imds_get(p, ST_IMDS_ROLE, "/latest/meta-data/iam/security-credentials/");
    } else {
        xb_creds_wipe_free(p->imds_token);
        p->imds_token = NULL;
        rc = xb_imds_token_call(&c, p->plan.url);
        if (rc == XB_OK) {
            c.req.user_agent = USER_AGENT;
            rc = http_start(p, ST_IMDS_TOKEN, &c.req, NULL, NULL, 0);
        }
    }
    if (rc == XB_ERR_TOO_LARGE)
        errf(why, why_len, "imds: endpoint URL too long");
    else if (rc != XB_OK)
        errf(why, why_len, "imds: out of memory");
    return rc;
}

/* AssumeRole hop |p->hop_idx|, signed with |p->work|. */
static int start_hop(struct xb_creds_provider *p, char *why, size_t why_len)
{
    const struct hop *hop = &p->plan.hops[p->hop_idx];
    struct xb_aws_creds c = {p->work.access_key_id, p->work.secret_access_key,
                             p->work.session_token};
    struct xb_aws_request_sign sign = {"sts", p->region ? p->region : "us-east-1", &c,
                                       time(NULL)};
    char *body, bwhy[384];
    int rc;

    body = sts_body("AssumeRole", hop->role_arn, hop->session_name, "ExternalId",
                    hop->external_id);
    if (!body) {
        errf(why, why_len, "assume-role: out of memory");
        return XB_ERR_NOMEM;
    }
    bwhy[0] = 0;
    rc = sts_post(p, ST_HOP, &sign, body, bwhy, sizeof(bwhy));
    if (rc == XB_ERR_NOMEM)
        errf(why, why_len, "assume-role: out of memory");
    else if (rc == XB_ERR_CONFIG)
        errf(why, why_len, "assume-role: STS endpoint %s", bwhy);
    else if (rc != XB_OK)
        errf(why, why_len, "assume-role: cannot sign the STS request: %s", xb_strerror(rc));
    return rc;
}

/* After the base credentials are in |p->work|: next hop, or done. */
static void advance(struct xb_creds_provider *p)
{
    char why[384];
    int rc;
    if (p->hop_idx < p->plan.n_hops) {
        why[0] = 0;
        rc = start_hop(p, why, sizeof(why));
        if (rc != XB_OK)
            finish(p, rc, why);
        return;
    }
    finish(p, XB_OK, NULL);
}

static void start_refresh(struct xb_creds_provider *p)
{
    char why[384];
    int rc;

    why[0] = 0;
    p->refreshing = 1;
    p->hop_idx = 0;
    p->imds_retried = 0;
    memset(&p->work, 0, sizeof(p->work));
    rc = build_plan(p, &p->plan, why, sizeof(why));
    if (rc != XB_OK) {
        finish(p, rc, why);
        return;
    }
    switch (p->plan.kind) {
    case BASE_ENV:
    case BASE_FILES:
        rc = copy_parsed(&p->work, &p->plan.base_static);
        if (rc != XB_OK) {
            finish(p, rc, "out of memory");
            return;
        }
        advance(p);
        return;
    case BASE_WEBID:
        rc = start_webid(p, why, sizeof(why));
        break;
    case BASE_CONTAINER:
        rc = start_container(p, why, sizeof(why));
        break;
    case BASE_IMDS:
        rc = start_imds(p, why, sizeof(why));
        break;
    default:
        rc = XB_ERR_INVALID;
        errf(why, sizeof(why), "internal error: no source");
        break;
    }
    if (rc != XB_OK)
        finish(p, rc, why);
}

/* Describes a failed transfer in |why|. */
static void describe_failure(struct xb_creds_provider *p, const char *what, CURLcode res,
                             long status, char *why, size_t why_len)
{
    if (res != CURLE_OK)
        errf(why, why_len, "%s: request failed: %s", what,
             p->curl_err[0] ? p->curl_err : curl_easy_strerror(res));
    else
        errf(why, why_len, "%s: HTTP %ld", what, status);
}

static void step_done(struct xb_creds_provider *p, CURLcode res, long status)
{
    char why[384];
    struct xb_creds_parsed got;
    const char *body;
    int rc = XB_OK;
    enum step st = p->step;

    why[0] = 0;
    memset(&got, 0, sizeof(got));
    if (xb_buf_reserve(&p->resp, 0) != XB_OK) {
        rc = XB_ERR_NOMEM;
        errf(why, sizeof(why), "out of memory");
        goto fail;
    }
    body = p->resp.data ? p->resp.data : "";
    switch (st) {
    case ST_WEBID:
    case ST_HOP: {
        const char *what = st == ST_WEBID ? "web-identity: STS AssumeRoleWithWebIdentity"
                                          : "assume-role: STS AssumeRole";
        char xwhy[256];
        if (res != CURLE_OK) {
            rc = XB_ERR_IO;
            describe_failure(p, what, res, status, why, sizeof(why));
            goto fail;
        }
        xwhy[0] = 0;
        rc = xb_sts_parse_credentials(body, p->resp.len, &got, xwhy, sizeof(xwhy));
        if (rc != XB_OK || status != 200) {
            if (rc == XB_OK)
                xb_creds_parsed_cleanup(&got);
            errf(why, sizeof(why), "%s: HTTP %ld%s%s%s", what, status, xwhy[0] ? " (" : "",
                 xwhy, xwhy[0] ? ")" : "");
            rc = rc == XB_ERR_NOMEM ? rc : XB_ERR_IO;
            goto fail;
        }
        if (st == ST_HOP)
            p->hop_idx++;
        break;
    }
    case ST_CONTAINER:
    case ST_IMDS_CREDS: {
        const char *what = st == ST_CONTAINER ? "container" : "imds";
        char jwhy[256];
        if (res != CURLE_OK || status != 200) {
            rc = XB_ERR_IO;
            describe_failure(p, what, res, status, why, sizeof(why));
            goto fail;
        }
        jwhy[0] = 0;
        rc = xb_creds_parse_json(body, p->resp.len, st == ST_CONTAINER, &got, jwhy,
                                 sizeof(jwhy));
        if (rc != XB_OK) {
            errf(why, sizeof(why), "%s: %s", what, jwhy);
            goto fail;
        }
        break;
    }
    case ST_IMDS_TOKEN: {
        enum xb_imds_token_answer tok = res == CURLE_OK
                                            ? xb_imds_token_classify(status, body, p->resp.len)
                                            : XB_IMDS_TOKEN_FAIL;
        if (tok == XB_IMDS_TOKEN_FAIL) {
            rc = XB_ERR_IO;
            describe_failure(p, "imds: token request", res, status, why, sizeof(why));
            goto fail;
        }
        /* "" = IMDSv1 fallback: the following requests carry no token. */
        p->imds_token = strdup(tok == XB_IMDS_TOKEN_V2 ? body : "");
        if (!p->imds_token)
            goto fail_nomem;
        p->imds_token_until_ns = xb_clock_mono_ns() + XB_IMDS_TOKEN_REUSE_S * 1000000000ull;
        if ((rc = imds_get(p, ST_IMDS_ROLE, "/latest/meta-data/iam/security-credentials/")))
            goto fail_nomem;
        return;
    }
    case ST_IMDS_ROLE: {
        char path[400];
        size_t n;
        if (res == CURLE_OK && status == 401 && !p->imds_retried) {
            /* Token expired or required: fetch a new one once. */
            p->imds_retried = 1;
            xb_creds_wipe_free(p->imds_token);
            p->imds_token = NULL;
            if ((rc = start_imds(p, why, sizeof(why))))
                goto fail;
            return;
        }
        if (res != CURLE_OK || status != 200) {
            rc = XB_ERR_IO;
            describe_failure(p, status == 404 ? "imds: no instance role attached"
                                              : "imds: role name request",
                             res, status, why, sizeof(why));
            goto fail;
        }
        n = strcspn(body, "\r\n");
        while (n && isspace((unsigned char)body[n - 1]))
            n--;
        if (n == 0 || n > 128) {
            rc = XB_ERR_INVALID;
            errf(why, sizeof(why), "imds: no instance role name in the answer");
            goto fail;
        }
        for (size_t i = 0; i < n; i++)
            if (!(isalnum((unsigned char)body[i]) || strchr("+=,.@_-", body[i]))) {
                rc = XB_ERR_INVALID;
                errf(why, sizeof(why), "imds: malformed instance role name");
                goto fail;
            }
        snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%.*s",
                 (int)n, body);
        if ((rc = imds_get(p, ST_IMDS_CREDS, path)))
            goto fail_nomem;
        return;
    }
    default:
        rc = XB_ERR_INVALID;
        errf(why, sizeof(why), "internal error: unexpected answer");
        goto fail;
    }
    http_reset(p);
    xb_creds_parsed_cleanup(&p->work);
    p->work = got;
    advance(p);
    return;
fail_nomem:
    rc = XB_ERR_NOMEM;
    errf(why, sizeof(why), "out of memory");
fail:
    http_reset(p);
    xb_creds_parsed_cleanup(&got);
    finish(p, rc, why);
}

static void on_retry(evutil_socket_t fd, short what, void *ud)
{
    struct xb_creds_provider *p = ud;
    if (!p->refreshing)
        start_refresh(p);
}

/* ======================================================================== */
/* Public API                                                               */
/* ======================================================================== */

int xb_creds_provider_new(struct event_base *base, struct xb_curl_loop *curl,
                          const struct xb_creds_provider_opts *o,
                          struct xb_creds_provider **out, char *err, size_t err_len)
{
    struct xb_creds_provider *p;
    int rc = XB_ERR_NOMEM;

    *out = NULL;
    if (o->region && *o->region && !region_ok(o->region)) {
        errf(err, err_len, "credentials: region \"%s\" is malformed", o->region);
        return XB_ERR_CONFIG;
    }
    if (o->role_arn && *o->role_arn && strncmp(o->role_arn, "arn:", 4) != 0) {
        errf(err, err_len,
             "credentials: role_arn must be an ARN (arn:aws:iam::<account>:role/<name>)");
        return XB_ERR_CONFIG;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        goto fail;
    p->curl = curl;
    p->source = "none";
    p->pending_tail = &p->pending;
    p->ready_tail = &p->ready;
    p->profile_explicit = o->profile && *o->profile;
    xb_buf_init(&p->resp, MAX_RESPONSE);
    if (dup_opt(o->region, &p->region) || dup_opt(o->role_arn, &p->role_arn) ||
        dup_opt(o->role_session_name ? o->role_session_name : "xraybridge", &p->role_session) ||
        dup_opt(o->profile, &p->profile) || dup_opt(o->ca_file, &p->ca_file) ||
        dup_opt(o->proxy, &p->proxy))
        goto fail;
    /* Once, at start-up: a clear-text STS endpoint would carry the web-identity token. */
    xb_warn_if_cleartext(LOG_WHO, "STS endpoint (AWS_ENDPOINT_URL_STS)",
                         env_nonempty("AWS_ENDPOINT_URL_STS"));
    p->notify = event_new(base, -1, 0, on_notify, p);
    p->retry = evtimer_new(base, on_retry, p);
    if (!p->notify || !p->retry)
        goto fail;
    *out = p;
    return XB_OK;
fail:
    errf(err, err_len, "credentials: out of memory");
    really_free(p);
    return rc;
}

static void really_free(struct xb_creds_provider *p)
{
    struct waiter *w, *next;
    if (!p)
        return;
    if (p->easy) {
        xb_curl_loop_remove(p->curl, p->easy);
        curl_easy_cleanup(p->easy);
        p->easy = NULL;
    }
    http_reset(p);
    for (w = p->pending; w; w = next) {
        next = w->next;
        free(w);
    }
    for (w = p->ready; w; w = next) {
        next = w->next;
        free(w);
    }
    if (p->notify)
        event_free(p->notify);
    if (p->retry)
        event_free(p->retry);
    plan_cleanup(&p->plan);
    xb_creds_parsed_cleanup(&p->work);
    xb_creds_parsed_cleanup(&p->cur);
    xb_creds_wipe_free(p->imds_token);
    free(p->region);
    free(p->role_arn);
    free(p->role_session);
    free(p->profile);
    free(p->ca_file);
    free(p->proxy);
    free(p);
}

void xb_creds_provider_free(struct xb_creds_provider *p)
{
    if (!p)
        return;
    if (p->dispatching) {
        p->free_requested = 1;
        return;
    }
    really_free(p);
}

const struct xb_aws_creds *xb_creds_provider_current(struct xb_creds_provider *p)
{
    return usable_now(p, REFRESH_MARGIN_S) ? &p->view : NULL;
}

int xb_creds_provider_get(struct xb_creds_provider *p, xb_creds_cb cb, void *ud)
{
    struct waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return XB_ERR_NOMEM;
    w->cb = cb;
    w->ud = ud;
    if (usable_now(p, REFRESH_MARGIN_S)) {
        answer(p, w, XB_OK, NULL);
        return XB_OK;
    }
    if (!p->refreshing && p->backoff_until_ns && xb_clock_mono_ns() < p->backoff_until_ns) {
        if (usable_now(p, 0))
            answer(p, w, XB_OK, NULL);
        else
            answer(p, w, p->last_rc ? p->last_rc : XB_ERR_AGAIN, p->last_err);
        return XB_OK;
    }
    *p->pending_tail = w;
    p->pending_tail = &w->next;
    if (!p->refreshing)
        start_refresh(p);
    return XB_OK;
}

const char *xb_creds_provider_source(const struct xb_creds_provider *p)
{
    return p->source;
}

uint64_t xb_creds_provider_refreshes(const struct xb_creds_provider *p)
{
    return p->refreshes;
}

uint64_t xb_creds_provider_refresh_failures(const struct xb_creds_provider *p)
{
    return p->failures;
}

int64_t xb_creds_provider_expiration(const struct xb_creds_provider *p)
{
    return p->have ? p->cur.expiration : 0;
}
