/*
 * aws/url.h - endpoint URL checks for AWS calls: redaction of userinfo for logs and
 * the clear-text (plain http:// to a remote host) check. Pure, except
 * xb_url_warn_if_cleartext, which logs.
 */
#ifndef XB_AWS_URL_H
#define XB_AWS_URL_H

#include <stddef.h>

/*
 * Writes |url| into |out| (|out_len| bytes, always NUL-terminated when |out_len| > 0)
 * with any userinfo ("user:password@") of its authority replaced by "***@". Works with
 * or without a scheme ("user:pw@proxy:3128" as libcurl accepts for proxies). NULL is
 * written as "". A result that does not fit is cut, never revealing userinfo. Returns
 * |out|.
 */
char *xb_url_redact(const char *url, char *out, size_t out_len);

/*
 * Returns non-zero when |url| is a plain http:// URL (scheme case-insensitive) whose
 * host is not a loopback address (127.0.0.0/8, ::1, an IPv4-mapped 127.x address, or
 * the name "localhost"): requests to it, signed or carrying tokens, cross the network
 * in clear text. Returns 0 for https://, loopback, NULL or empty.
 */
int xb_url_cleartext_remote(const char *url);

/*
 * Logs one warning (component |who|) when |url| is a clear-text remote endpoint (see
 * xb_url_cleartext_remote()); |what| names it ("X-Ray endpoint"). The URL is logged
 * redacted. Returns 1 when it warned, else 0.
 */
int xb_url_warn_if_cleartext(const char *who, const char *what, const char *url);

#endif
