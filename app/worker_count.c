#define _GNU_SOURCE
#include "app/worker_count.h"

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a decimal integer at the start of |s| (leading blanks allowed) into |*out|.
 * Returns 0, or -1 when there is none or it is negative or out of range. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
    char *e = NULL;
    unsigned long long v;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    v = strtoull(s, &e, 10);
    if (e == s || v > (1ull << 62))
        return -1;
    *out = v;
    if (end)
        *end = e;
    return 0;
}

/* CPUs granted by |quota| per |period| (both > 0), rounded up. */
static uint64_t quota_cpus(uint64_t quota, uint64_t period)
{
    return quota / period + (quota % period ? 1 : 0);
}

/* The bound of cgroup v2 cpu.max text "QUOTA PERIOD"; 0 = none ("max", unparsable). */
static uint64_t v2_bound(const char *text)
{
    const char *p;
    uint64_t quota, period;

    if (parse_u64(text, &p, &quota) || quota == 0 || parse_u64(p, NULL, &period) || period == 0)
        return 0;
    return quota_cpus(quota, period);
}

/* The bound of cgroup v1 cfs_quota_us / cfs_period_us; 0 = none (-1, unparsable). */
static uint64_t v1_bound(const char *quota_text, const char *period_text)
{
    uint64_t quota, period;

    if (!quota_text || !period_text || parse_u64(quota_text, NULL, &quota) || quota == 0 ||
        parse_u64(period_text, NULL, &period) || period == 0)
        return 0;
    return quota_cpus(quota, period);
}

unsigned xb_worker_count(unsigned configured, unsigned affinity_cpus, const char *cpu_max,
                         const char *cfs_quota, const char *cfs_period)
{
    uint64_t n = affinity_cpus ? affinity_cpus : 1, bound;

    if (configured)
        return configured > XB_WORKERS_MAX ? XB_WORKERS_MAX : configured;
    bound = cpu_max ? v2_bound(cpu_max) : v1_bound(cfs_quota, cfs_period);
    if (bound && bound < n)
        n = bound;
    return n > XB_WORKERS_MAX ? XB_WORKERS_MAX : (unsigned)n;
}

/* Reads the first line of |path| into |buf|; returns |buf|, or NULL when unreadable. */
static const char *read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    const char *r;

    if (!f)
        return NULL;
    r = fgets(buf, (int)len, f);
    fclose(f);
    return r;
}

unsigned xb_worker_count_detect(unsigned configured)
{
    char v2[128], q[64], p[64];
    cpu_set_t set;
    unsigned cpus = 0;
    const char *cpu_max;

    if (configured)
        return xb_worker_count(configured, 1, NULL, NULL, NULL);
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        cpus = (unsigned)CPU_COUNT(&set);
    cpu_max = read_line("/sys/fs/cgroup/cpu.max", v2, sizeof(v2));
    return xb_worker_count(
        0, cpus, cpu_max,
        cpu_max ? NULL : read_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", q, sizeof(q)),
        cpu_max ? NULL : read_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us", p, sizeof(p)));
}

size_t xb_worker_small_body_bytes(size_t max_body_bytes)
{
    size_t small = (size_t)512 * 1024;
    return max_body_bytes < small ? max_body_bytes : small;
}
