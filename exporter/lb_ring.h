/*
 * exporter/lb_ring.h - the loadbalancing exporter's consistent hash ring: which
 * gateway endpoint owns a trace id. Pure (no I/O) and deterministic: every agent with the
 * same endpoint list picks the same endpoint for a trace, on every restart.
 *
 * Each endpoint ("host:port") contributes XB_LB_RING_POINTS points on a 64-bit ring, at
 * hashes of "<endpoint>#<i>"; a trace belongs to the first point at or after the hash of
 * its 16-byte id (wrapping). Adding or removing one of N endpoints therefore moves only
 * the traces of the arcs that endpoint gains or loses: about 1/N of them (Karger et al.,
 * "Consistent hashing and random trees", STOC 1997). Hash: FNV-1a 64 followed by the
 * splitmix64 finaliser, so short, similar inputs spread evenly.
 */
#ifndef XB_EXPORTER_LB_RING_H
#define XB_EXPORTER_LB_RING_H

#include <stddef.h>
#include <stdint.h>

#define XB_LB_RING_POINTS 160 /* points per endpoint */

struct xb_lb_point {
    uint64_t hash;
    uint32_t endpoint; /* index in the list given to xb_lb_ring_build() */
};

/* A built ring; zero-initialise, release with xb_lb_ring_cleanup(). */
struct xb_lb_ring {
    struct xb_lb_point *points; /* sorted by hash */
    size_t n;
};

/* The ring position of a 16-byte trace id. */
uint64_t xb_lb_trace_hash(const uint8_t trace_id[16]);

/*
 * (Re)builds |r| over the |n| endpoints (borrowed, NUL-terminated), leaving out those
 * whose |up|[i] is 0 (|up| NULL = all in). Returns 0, or XB_ERR_NOMEM (|r| unchanged).
 */
int xb_lb_ring_build(struct xb_lb_ring *r, const char *const *endpoints, const int *up, size_t n);

/* Index of the endpoint owning |trace_id|, or -1 when the ring is empty. */
int xb_lb_ring_pick(const struct xb_lb_ring *r, const uint8_t trace_id[16]);

/* Frees the points. Safe on a zeroed ring. */
void xb_lb_ring_cleanup(struct xb_lb_ring *r);

#endif
