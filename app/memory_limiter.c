/* app/memory_limiter.c - see memory_limiter.h. */
#include "app/memory_limiter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/budget.h"
#include "core/err.h"
#include "core/log.h"

#define MIB (1024.0 * 1024.0)

int xb_memlimit_compute(const struct xb_config_memory_limiter *c, uint64_t total_bytes,
                        struct xb_memlimit *out)
{
    uint64_t hard, spike;

    if (c->limit_bytes != 0) {
        hard = c->limit_bytes;
        spike = c->spike_limit_bytes;
    } else {
        if (total_bytes == 0)
            return XB_ERR_CONFIG;
        hard = total_bytes / 100 * c->limit_percentage;
        spike = total_bytes / 100 * c->spike_limit_percentage;
    }
    if (spike == 0)
        spike = hard / 5;
    if (spike >= hard)
        spike = hard / 5;
    out->hard = hard;
    out->soft = hard - spike;
    return XB_OK;
}

int xb_memlimit_refuse(const struct xb_memlimit *l, uint64_t rss_bytes)
{
    return rss_bytes > l->soft;
}

uint64_t xb_memlimit_rss(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    long page = sysconf(_SC_PAGESIZE);

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
}

uint64_t xb_memlimit_total_memory(void)
{
    uint64_t v = xb_budget_cgroup_limit("/sys/fs/cgroup/memory.max");
    char line[128];
    FILE *f;

    if (v == 0)
        v = xb_budget_cgroup_limit("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    if (v != 0)
        return v;
    f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long long kb;
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
            v = (uint64_t)kb * 1024;
            break;
        }
    }
    fclose(f);
    return v;
}

struct xb_memlimiter {
    struct event *timer;
    struct xb_ingest *ing;
    struct xb_memlimit lim;
    int refusing;
};

static void check(evutil_socket_t fd, short what, void *ud)
{
    struct xb_memlimiter *m = ud;
    uint64_t rss = xb_memlimit_rss();
    int refuse = xb_memlimit_refuse(&m->lim, rss);

    (void)fd;
    (void)what;
    if (refuse == m->refusing)
        return;
    m->refusing = refuse;
    xb_ingest_set_memory_limited(m->ing, refuse);
    if (refuse)
        XB_WARN("memory_limiter",
                "RSS %.1f MiB is above the soft limit %.1f MiB (limit %.1f MiB): refusing new "
                "data until it drops",
                (double)rss / MIB, (double)m->lim.soft / MIB, (double)m->lim.hard / MIB);
    else
        XB_INFO("memory_limiter", "RSS %.1f MiB is below the soft limit %.1f MiB: accepting data",
                (double)rss / MIB, (double)m->lim.soft / MIB);
}

int xb_memlimiter_start(struct event_base *base, const struct xb_config_memory_limiter *c,
                        struct xb_ingest *ing, struct xb_memlimiter **out, char *err, size_t errlen)
{
    struct xb_memlimiter *m;
    struct timeval tv = {c->check_interval_ms / 1000, (c->check_interval_ms % 1000) * 1000};
    int rc = XB_OK;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return XB_ERR_NOMEM;
    m->ing = ing;
    if (xb_memlimit_compute(c, xb_memlimit_total_memory(), &m->lim) != XB_OK) {
        snprintf(err, errlen,
                 "processors.memory_limiter: limit_percentage needs the memory size, which "
                 "could not be read (cgroup memory.max, /proc/meminfo); use limit_mib");
        rc = XB_ERR_CONFIG;
        goto fail;
    }
    m->timer = event_new(base, -1, EV_PERSIST, check, m);
    if (m->timer == NULL || event_add(m->timer, &tv) != 0) {
        rc = XB_ERR_NOMEM;
        goto fail;
    }
    XB_INFO("memory_limiter", "limit %.1f MiB, soft limit %.1f MiB, checked every %u ms",
            (double)m->lim.hard / MIB, (double)m->lim.soft / MIB, c->check_interval_ms);
    check(-1, 0, m);
    *out = m;
    return XB_OK;
fail:
    xb_memlimiter_free(m);
    return rc;
}

void xb_memlimiter_free(struct xb_memlimiter *m)
{
    if (m == NULL)
        return;
    if (m->timer != NULL)
        event_free(m->timer);
    free(m);
}
