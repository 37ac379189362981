/*
 * exporter/export_policy.h - pure decisions of the awsxray exporter, kept apart from
 * the I/O so that they can be unit tested: retry back-off with jitter from a seeded
 * per-process random source, endpoint URL redaction for logs, and the clear-text
 * endpoint check. What happens to each document after a call is in exporter/outcome.h.
 */
#ifndef XB_EXPORTER_EXPORT_POLICY_H
#define XB_EXPORTER_EXPORT_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* A small pseudo-random generator (splitmix64). Not for secrets: only for jitter. */
struct xb_rng {
    uint64_t state;
};

/*
 * Seeds |r| from getrandom(2), so that every process (every node of a DaemonSet) draws
 * different jitter. If getrandom fails, falls back to the clock, pid and address of |r|
 * (still distinct per process) and returns XB_ERR_IO; otherwise returns 0. |r| is
 * usable either way.
 */
int xb_rng_seed(struct xb_rng *r);

/* Seeds |r| with the fixed |seed| (tests). */
void xb_rng_seed_fixed(struct xb_rng *r, uint64_t seed);

/* Next 64 random bits of |r|. */
uint64_t xb_rng_next(struct xb_rng *r);

/*
 * Delay before the next attempt after |failures| consecutive failed rounds (0 = this
 * is the first failure): |initial_ms| doubled per earlier failure, capped at |max_ms|
 * (and at |drain_cap_ms| when non-zero, while shutting down), then jittered to a value
 * in [delay/2, delay*3/2] chosen by |rnd| (any 64-bit value, e.g. xb_rng_next()). Never
 * returns 0.
 */
uint64_t xb_backoff_ms(uint64_t initial_ms, uint64_t max_ms, uint32_t failures,
                       uint64_t drain_cap_ms, uint64_t rnd);

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
int xb_warn_if_cleartext(const char *who, const char *what, const char *url);

#endif
