/*
 * exporter/export_policy.h - pure decisions of the awsxray exporter, kept apart from
 * the I/O so that they can be unit tested: retry back-off with jitter from a seeded
 * per-process random source, and when short-lived credentials may be reused. What
 * happens to each document after a call is in exporter/outcome.h; URL redaction and
 * the clear-text check are in aws/url.h.
 */
#ifndef XB_EXPORTER_EXPORT_POLICY_H
#define XB_EXPORTER_EXPORT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "aws/url.h"

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

#define XB_CREDS_REUSE_MS 30000u /* refetch short-lived credentials at most this often */
#define XB_CREDS_MIN_LEFT_S 60   /* ... and only while they have this long left */

/*
 * Whether credentials fetched at |fetched_ms| (monotonic ms) and expiring at
 * |expires_s| (Unix s) may still sign a call at |now_ms| / |now_s|, although the
 * provider no longer calls them current (it wants 5 minutes left): yes when they were
 * fetched less than XB_CREDS_REUSE_MS ago and have more than XB_CREDS_MIN_LEFT_S left.
 * Keeps exporters from refetching short-lived credentials for every call. Shared by the
 * awsxray and otlphttp (SigV4) exporters.
 */
int xb_creds_reusable(uint64_t now_ms, uint64_t fetched_ms, int64_t expires_s, int64_t now_s);

#endif
