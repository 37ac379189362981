#include "exporter/lb_ring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static uint64_t fnv1a(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t xb_lb_trace_hash(const uint8_t trace_id[16])
{
    return mix(fnv1a(trace_id, 16));
}

static int by_hash(const void *a, const void *b)
{
    const struct xb_lb_point *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->endpoint < y->endpoint ? -1 : x->endpoint > y->endpoint;
}

int xb_lb_ring_build(struct xb_lb_ring *r, const char *const *endpoints, const int *up, size_t n)
{
    size_t live = 0, k = 0;
    struct xb_lb_point *pts;

    for (size_t i = 0; i < n; i++)
        live += !up || up[i];
    pts = live ? calloc(live * XB_LB_RING_POINTS, sizeof(*pts)) : NULL;
    if (live && !pts)
        return XB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char key[320];
        if (up && !up[i])
            continue;
        for (unsigned v = 0; v < XB_LB_RING_POINTS; v++) {
            int len = snprintf(key, sizeof(key), "%s#%u", endpoints[i], v);
            pts[k].hash = mix(
                fnv1a(key, len > 0 && (size_t)len < sizeof(key) ? (size_t)len : sizeof(key) - 1));
            pts[k].endpoint = (uint32_t)i;
            k++;
        }
    }
    if (k)
        qsort(pts, k, sizeof(*pts), by_hash);
    free(r->points);
    r->points = pts;
    r->n = k;
    return XB_OK;
}

int xb_lb_ring_pick(const struct xb_lb_ring *r, const uint8_t trace_id[16])
{
    uint64_t h;
    size_t lo = 0, hi;

    if (r->n == 0)
        return -1;
    h = xb_lb_trace_hash(trace_id);
    hi = r->n;
    while (lo < hi) { /* first point with hash >= h */
        size_t mid = lo + (hi - lo) / 2;
        if (r->points[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int)r->points[lo == r->n ? 0 : lo].endpoint;
}

void xb_lb_ring_cleanup(struct xb_lb_ring *r)
{
    free(r->points);
    r->points = NULL;
    r->n = 0;
}
