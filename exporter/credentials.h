/*
 * exporter/credentials.h - AWS credentials and region for the awsxray exporter.
 *
 * This slice implements the first link of the AWS default credential chain: the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN).
 * Shared files, web identity, container and instance credentials come later.
 */
#ifndef XB_EXPORTER_CREDENTIALS_H
#define XB_EXPORTER_CREDENTIALS_H

#include <stddef.h>

#include "exporter/sigv4.h"

/* Owned copies of a credential set. */
struct xb_creds_owned {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
};

/*
 * Loads credentials from the environment into |out|. Returns 0; XB_ERR_NOT_FOUND when
 * AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is unset or empty; XB_ERR_NOMEM.
 * Free with xb_creds_cleanup().
 */
int xb_creds_from_env(struct xb_creds_owned *out);

/* Wipes and frees the strings of |c|; safe on a zeroed struct. */
void xb_creds_cleanup(struct xb_creds_owned *c);

/* Borrowed view of |c| for xb_sigv4_sign(). */
struct xb_aws_creds xb_creds_view(const struct xb_creds_owned *c);

/*
 * Resolves the region: |configured| when non-empty, else AWS_REGION, else
 * AWS_DEFAULT_REGION. Returns a pointer to a static or borrowed string, or NULL
 * when none is set (the caller reports what was tried).
 */
const char *xb_region_resolve(const char *configured);

#endif
