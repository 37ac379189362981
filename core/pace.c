#include "core/pace.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

enum xb_pace_step xb_pace_step(struct xb_pace *p, const struct xb_pace_limits *lim, size_t waiting,
                               uint64_t pops, int stalled, uint64_t now_ns, uint64_t *until_ns)
{
    if (!p->started) {
        if (!lim || !lim->max_wait_ns || waiting <= lim->high || stalled)
            return XB_PACE_GO;
        p->started = 1;
        p->start_ns = now_ns;
        p->last_pop_ns = now_ns;
        p->pops = pops;
    } else {
        if (waiting <= lim->low)
            return XB_PACE_DRAINED;
        if (pops != p->pops) {
            p->pops = pops;
            p->last_pop_ns = now_ns;
        }
        if (now_ns - p->start_ns >= lim->max_wait_ns)
            return XB_PACE_TIMEOUT;
        if (now_ns - p->last_pop_ns >= lim->stall_ns)
            return XB_PACE_STALLED;
    }
    *until_ns = min_u64(p->start_ns + lim->max_wait_ns, p->last_pop_ns + lim->stall_ns);
    return XB_PACE_WAIT;
}
