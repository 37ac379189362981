/*
 * aws/creds_parse.h - pure parsers used by the AWS credential chain (no I/O,
 * no clock): the shared config/credentials INI format, STS XML answers, the JSON
 * documents of the container and instance metadata endpoints, ISO 8601 timestamps,
 * and the container-endpoint host rule.
 *
 * Specs: AWS SDKs and Tools Reference Guide, "Shared config and credentials files"
 * (format) and "Container credential provider" (allowed hosts); STS API reference
 * AssumeRole / AssumeRoleWithWebIdentity (response elements); EC2 User Guide,
 * "Retrieve security credentials from instance metadata" (JSON fields).
 */
#ifndef XB_AWS_CREDS_PARSE_H
#define XB_AWS_CREDS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* ---- shared config / credentials files ---------------------------------- */

/* A parsed INI file: sections of key = value pairs. Opaque. */
struct xb_creds_ini;

/*
 * Parses |len| bytes of |text| (borrowed). Accepted: "[section]" headers (name
 * trimmed, runs of inner blanks collapsed to one space), "key = value" lines (both
 * trimmed; keys compared case-insensitively later), full-line comments starting
 * with '#' or ';', inline comments introduced by whitespace followed by '#' or ';',
 * blank lines, and indented continuation lines after a key (nested settings such
 * as "s3 =\n  max_concurrent_requests = 10"), which are skipped. Anything else is
 * an error. Returns 0 and sets |*out| (free with xb_creds_ini_free); XB_ERR_INVALID with
 * |*err_line| (1-based) and |*err_desc| (static text) set; XB_ERR_NOMEM.
 */
int xb_creds_ini_parse(const char *text, size_t len, struct xb_creds_ini **out, int *err_line,
                       const char **err_desc);

/* Frees |ini|; NULL is a no-op. */
void xb_creds_ini_free(struct xb_creds_ini *ini);

/* Non-zero when |section| (exact, after normalisation) exists. NULL |ini| -> 0. */
int xb_creds_ini_has_section(const struct xb_creds_ini *ini, const char *section);

/*
 * Value of |key| (case-insensitive) in |section|, borrowed from |ini|, or NULL.
 * When a key repeats in a section the last one wins. NULL |ini| -> NULL.
 */
const char *xb_creds_ini_get(const struct xb_creds_ini *ini, const char *section, const char *key);

/* ---- credential documents ------------------------------------------------ */

/* Credentials parsed from a response; all strings heap-owned (free with
 * xb_creds_parsed_cleanup, which wipes them). expiration is UNIX seconds, 0 = none. */
struct xb_creds_parsed {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
    int64_t expiration;
};

/* Wipes and frees the strings of |c|; safe on a zeroed struct. */
void xb_creds_parsed_cleanup(struct xb_creds_parsed *c);

/* Deep copy of |src| into |dst| (expiration too). 0, or XB_ERR_NOMEM with |dst|
 * zeroed. */
int xb_creds_parsed_copy(struct xb_creds_parsed *dst, const struct xb_creds_parsed *src);

/* Overwrites the NUL-terminated heap string |s| (a secret) with zeros, then frees it.
 * NULL is a no-op. */
void xb_creds_wipe_free(char *s);

/*
 * Extracts the first <Credentials> element's direct children (AccessKeyId,
 * SecretAccessKey, SessionToken, Expiration; text trimmed) from an STS AssumeRole /
 * AssumeRoleWithWebIdentity XML answer of |len| bytes, parsed with expat (entities,
 * character references and CDATA decoded by the parser). Returns 0; XB_ERR_NOT_FOUND
 * when the document is an STS <ErrorResponse> (then |err_desc| gets "Code: Message", at most
 * |err_desc_len| bytes; STS error text carries no secrets); XB_ERR_INVALID (not well-formed
 * XML, a document type declaration, an element text over 16 KiB, or a missing or
 * empty field: |err_desc| says which); XB_ERR_NOMEM.
 */
int xb_creds_parse_sts(const char *xml, size_t len, struct xb_creds_parsed *out, char *err_desc,
                       size_t err_desc_len);

/*
 * Parses the JSON credential document of the container endpoint or of IMDS
 * (AccessKeyId, SecretAccessKey, Token, Expiration; when a "Code" member is present
 * it must be "Success"). |require_expiration|: Expiration is mandatory. Returns 0;
 * XB_ERR_INVALID (|err_desc| says which field; never a value); XB_ERR_NOMEM.
 */
int xb_creds_parse_json(const char *json, size_t len, int require_expiration,
                        struct xb_creds_parsed *out, char *err_desc, size_t err_desc_len);

/*
 * Parses an ISO 8601 / RFC 3339 UTC instant: "YYYY-MM-DDTHH:MM:SS" then optional
 * fraction, then "Z" or "+hh:mm"/"-hh:mm". Returns 0 and |*out| (UNIX seconds) or
 * XB_ERR_INVALID.
 */
int xb_creds_parse_iso8601(const char *s, int64_t *out);

/*
 * The container-credentials host rule for AWS_CONTAINER_CREDENTIALS_FULL_URI:
 * https URLs may name any host; http URLs must name a loopback address
 * (127.0.0.0/8, ::1, "localhost"), 169.254.170.2, 169.254.170.23 or fd00:ec2::23.
 * Host names other than "localhost" are not resolved (so they are refused over
 * http). Returns 0 when allowed; XB_ERR_INVALID (unparseable URL, other scheme);
 * XB_ERR_UNSUPPORTED (host not allowed). |*err_desc| gets a static explanation.
 */
int xb_creds_container_uri_allowed(const char *url, const char **err_desc);

#endif
