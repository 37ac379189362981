/*
 * aws/chain.h - which credential source a refresh uses: the SDKs' default chain
 * (AWS SDKs and Tools Reference Guide, "Standardized credential providers") planned
 * from the environment and the shared config/credentials files, without any network
 * call. The plan says what the provider (aws/credentials.c) then executes: a base
 * source, then STS AssumeRole hops in order. docs/credentials.md lists every rule.
 */
#ifndef XB_AWS_CHAIN_H
#define XB_AWS_CHAIN_H

#include <stddef.h>

#include "aws/creds_parse.h"

/* AssumeRole hops in one plan: a profile role chain plus the configured role. */
#define XB_CREDS_MAX_HOPS 6

/* Chain links, in chain order. */
enum xb_creds_source {
    XB_CREDS_SRC_NONE,
    XB_CREDS_SRC_ENV,       /* AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN */
    XB_CREDS_SRC_FILES,     /* shared credentials and config files, profile chains */
    XB_CREDS_SRC_WEBID,     /* AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (IRSA) */
    XB_CREDS_SRC_CONTAINER, /* AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI */
    XB_CREDS_SRC_IMDS,      /* EC2 instance metadata */
};

/* Name of |s| for logs and error texts ("environment", "shared-credentials-file",
 * "web-identity", "container", "imds", "none"). Static string. */
const char *xb_creds_plan_source_name(enum xb_creds_source s);

/* One STS AssumeRole hop. Heap strings; session_name and external_id may be NULL. */
struct xb_creds_hop {
    char *role_arn;
    char *session_name;
    char *external_id;
};

/* What one refresh does: a base source, then AssumeRole hops in order. Owned strings
 * (free with xb_creds_plan_cleanup). */
struct xb_creds_plan {
    enum xb_creds_source kind;   /* what the refresh executes */
    enum xb_creds_source origin; /* chain link that produced the plan (pin it after success) */
    struct xb_creds_parsed base_static; /* ENV, FILES */
    char *url; /* CONTAINER: full URL; IMDS: endpoint; WEBID: token file path */
    char *webid_role, *webid_session; /* WEBID; session NULL = generated per request */
    struct xb_creds_hop hops[XB_CREDS_MAX_HOPS];
    size_t n_hops;
};

/* Inputs of a plan besides the environment and the files. Strings borrowed. */
struct xb_creds_plan_opts {
    const char *profile;       /* NULL or "" = AWS_PROFILE or "default" */
    const char *role_arn;      /* AssumeRole on top of the chain, or NULL */
    const char *role_session;  /* session name for |role_arn| */
    enum xb_creds_source only; /* NONE = walk the chain; else only this link (pinned) */
};

/*
 * Plans a refresh from the environment and the shared files (read now). Returns 0
 * and |*pl|; XB_ERR_NOT_FOUND (no source configured: |err_desc| lists every link tried
 * and why); XB_ERR_CONFIG or XB_ERR_UNSUPPORTED (a source is configured wrongly or
 * uses a feature we do not support: |err_desc| says which); XB_ERR_NOMEM. On error
 * |*pl| holds nothing to free.
 */
int xb_creds_plan_build(const struct xb_creds_plan_opts *o, struct xb_creds_plan *pl,
                        char *err_desc, size_t err_desc_len);

/* Frees and wipes what |pl| owns and zeroes it; safe on a zeroed plan. */
void xb_creds_plan_cleanup(struct xb_creds_plan *pl);

#endif
