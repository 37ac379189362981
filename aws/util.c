#include "aws/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/creds_parse.h"
#include "core/buf.h"
#include "core/err.h"

const char *xb_aws_getenv(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void xb_aws_errf(char *err_desc, size_t err_desc_len, const char *fmt, ...)
{
    va_list ap;
    if (!err_desc || !err_desc_len)
        return;
    va_start(ap, fmt);
    vsnprintf(err_desc, err_desc_len, fmt, ap);
    va_end(ap);
}

/* Appends to an error text already in |err|. */
void xb_aws_erradd(char *err_desc, size_t err_desc_len, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    if (!err_desc || !err_desc_len)
        return;
    n = strnlen(err_desc, err_desc_len);
    if (n + 1 >= err_desc_len)
        return;
    va_start(ap, fmt);
    vsnprintf(err_desc + n, err_desc_len - n, fmt, ap);
    va_end(ap);
}

int xb_aws_env_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcasecmp(v, "true") == 0;
}

/* Reads a whole small file into a NUL-terminated heap string (trailing blanks
 * trimmed when |trim|). 0, XB_ERR_NOT_FOUND (missing), XB_ERR_IO, XB_ERR_TOO_LARGE,
 * XB_ERR_NOMEM. */
int xb_aws_read_file(const char *path, size_t max, int trim, char **out, size_t *out_len)
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
int xb_aws_dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (!s || !*s)
        return XB_OK;
    *out = strdup(s);
    return *out ? XB_OK : XB_ERR_NOMEM;
}

/* Path of a shared file: |env| when set, else $HOME/|rel|. NULL when neither. */
char *xb_aws_shared_path(const char *env, const char *rel)
{
    const char *v = xb_aws_getenv(env), *home;
    char *p;
    size_t n;
    if (v)
        return strdup(v);
    home = xb_aws_getenv("HOME");
    if (!home)
        return NULL;
    n = strlen(home) + strlen(rel) + 2;
    p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", home, rel);
    return p;
}

/* Loads and parses a shared file; a missing file gives |*ini| NULL and 0. */
int xb_aws_load_ini(const char *path, struct xb_creds_ini **ini, char *err_desc,
                    size_t err_desc_len)
{
    char *text = NULL;
    size_t len = 0;
    int line, rc;
    const char *desc;

    *ini = NULL;
    if (!path)
        return XB_OK;
    rc = xb_aws_read_file(path, 1 << 20, 0, &text, &len);
    if (rc == XB_ERR_NOT_FOUND)
        return XB_OK;
    if (rc != XB_OK) {
        xb_aws_errf(err_desc, err_desc_len, "cannot read %s: %s", path, xb_strerror(rc));
        return rc;
    }
    rc = xb_creds_ini_parse(text, len, ini, &line, &desc);
    if (rc == XB_ERR_INVALID)
        xb_aws_errf(err_desc, err_desc_len, "%s:%d: %s", path, line, desc);
    else if (rc != XB_OK)
        xb_aws_errf(err_desc, err_desc_len, "cannot parse %s: %s", path, xb_strerror(rc));
    xb_creds_wipe_free(text);
    return rc;
}

const char *xb_aws_active_profile(const char *explicit_profile)
{
    if (explicit_profile && *explicit_profile)
        return explicit_profile;
    if (xb_aws_getenv("AWS_PROFILE"))
        return xb_aws_getenv("AWS_PROFILE");
    return "default";
}

/* Value of |key| for profile |name| in a parsed config file ("[profile name]", or
 * "[default]" / "[profile default]" for the default profile). */
const char *xb_aws_config_get(const struct xb_creds_ini *cfg, const char *name, const char *key)
{
    char sec[256];
    const char *v = NULL;
    if (!cfg)
        return NULL;
    if (strcmp(name, "default") == 0)
        v = xb_creds_ini_get(cfg, "default", key);
    snprintf(sec, sizeof(sec), "profile %s", name);
    return v ? v : xb_creds_ini_get(cfg, sec, key);
}
