#include "exporter/export_policy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"

/* ---- random source ------------------------------------------------------- */

void xb_rng_seed_fixed(struct xb_rng *r, uint64_t seed)
{
    r->state = seed;
}

int xb_rng_seed(struct xb_rng *r)
{
    uint64_t seed = 0;
    ssize_t n = getrandom(&seed, sizeof(seed), GRND_NONBLOCK);
    struct timespec ts;

    if (n == (ssize_t)sizeof(seed)) {
        r->state = seed;
        return XB_OK;
    }
    /* No entropy yet (very early boot) or no syscall: still differ per process. */
    clock_gettime(CLOCK_REALTIME, &ts);
    r->state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 17) ^
               (uint64_t)(uintptr_t)r;
    return XB_ERR_IO;
}

uint64_t xb_rng_next(struct xb_rng *r)
{
    /* splitmix64 (Steele, Lea, Flood 2014): full period, good enough for jitter. */
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- back-off ------------------------------------------------------------ */

uint64_t xb_backoff_ms(uint64_t initial_ms, uint64_t max_ms, uint32_t failures,
                       uint64_t drain_cap_ms, uint64_t rnd)
{
    uint32_t shift = failures < 20 ? failures : 20;
    uint64_t delay = initial_ms;

    if (delay > (UINT64_MAX >> 21))
        delay = UINT64_MAX >> 21; /* no overflow below */
    delay <<= shift;
    if (max_ms && delay > max_ms)
        delay = max_ms;
    if (drain_cap_ms && delay > drain_cap_ms)
        delay = drain_cap_ms;
    /* +/-50% jitter spreads the retries of many nodes throttled at once. */
    delay = delay / 2 + rnd % (delay + 1);
    return delay ? delay : 1;
}

int xb_creds_reusable(uint64_t now_ms, uint64_t fetched_ms, int64_t expires_s, int64_t now_s)
{
    return now_ms - fetched_ms < XB_CREDS_REUSE_MS && expires_s > now_s + XB_CREDS_MIN_LEFT_S;
}
