/*
 * aws/util.h - helpers shared by the aws/ modules: the AWS SDK environment
 * (non-empty variables, "true" flags), the shared config and credentials files
 * (paths, loading, the active profile, per-profile lookups), small file reads and
 * error-text formatting. Not for use outside aws/.
 */
#ifndef XB_AWS_UTIL_H
#define XB_AWS_UTIL_H

#include <stddef.h>

struct xb_creds_ini;

/* Value of environment variable |name|, or NULL when unset or empty. Borrowed. */
const char *xb_aws_getenv(const char *name);

/* Non-zero when environment variable |name| is "true" (any case). */
int xb_aws_env_true(const char *name);

/* Formats into |err_desc| (|err_desc_len| bytes; NULL or 0 = no-op). */
void xb_aws_errf(char *err_desc, size_t err_desc_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends to the text already in |err_desc|; a full buffer stays as it is. */
void xb_aws_erradd(char *err_desc, size_t err_desc_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Reads a whole file of at most |max| bytes into a NUL-terminated heap string
 * (trailing blanks trimmed when |trim|; |*out_len|, optional, gets the length). The
 * text may be secret: free it with xb_creds_wipe_free. Returns 0, XB_ERR_NOT_FOUND
 * (missing), XB_ERR_IO, XB_ERR_TOO_LARGE, XB_ERR_NOMEM.
 */
int xb_aws_read_file(const char *path, size_t max, int trim, char **out, size_t *out_len);

/* |*out| = heap copy of |s|, or NULL when |s| is NULL or "". 0 or XB_ERR_NOMEM. */
int xb_aws_dup_opt(const char *s, char **out);

/* Path of a shared file: environment variable |env| when set, else $HOME/|rel|. Heap
 * string, or NULL when neither is set (or out of memory). */
char *xb_aws_shared_path(const char *env, const char *rel);

/*
 * Loads and parses the shared file at |path| (at most 1 MiB). A NULL |path| or a
 * missing file gives |*ini| NULL and 0. Returns 0; XB_ERR_INVALID (syntax: |err_desc|
 * gives path:line and why), XB_ERR_IO, XB_ERR_TOO_LARGE, XB_ERR_NOMEM (|err_desc| says
 * which file).
 */
int xb_aws_load_ini(const char *path, struct xb_creds_ini **ini, char *err_desc,
                    size_t err_desc_len);

/* Active profile: |explicit_profile| when non-empty, else AWS_PROFILE, else
 * "default". Borrowed. */
const char *xb_aws_active_profile(const char *explicit_profile);

/* Value of |key| for profile |name| in a parsed config file ("[profile name]", or
 * "[default]" / "[profile default]" for the default profile). NULL |cfg| -> NULL. */
const char *xb_aws_config_get(const struct xb_creds_ini *cfg, const char *name, const char *key);

#endif
