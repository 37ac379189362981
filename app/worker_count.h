/*
 * app/worker_count.h - how many ingest worker threads to run (service.workers).
 *
 * The default is the number of CPUs the process may run on (sched_getaffinity), bounded
 * by the container's CPU quota: cgroup v2 "cpu.max" ("QUOTA PERIOD", or "max PERIOD" for
 * no bound) or cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us (-1 = no bound), quota /
 * period rounded up. A configured value of 1..XB_WORKERS_MAX wins. docs/architecture.md
 * ("Threads") describes what the workers run.
 */
#ifndef XB_APP_WORKER_COUNT_H
#define XB_APP_WORKER_COUNT_H

#include <stddef.h>

/* Most worker threads (the config option's range). */
#define XB_WORKERS_MAX 64

/*
 * Pure: the worker count for |configured| (service.workers; 0 = automatic),
 * |affinity_cpus| (CPUs in the affinity mask; 0 = unknown, taken as 1), the text of the
 * cgroup v2 cpu.max file |cpu_max| and of the cgroup v1 files |cfs_quota| and
 * |cfs_period| (each NULL when the file is absent; cpu.max is used when present). Text
 * that does not parse is ignored (no bound). Returns 1..XB_WORKERS_MAX.
 */
unsigned xb_worker_count(unsigned configured, unsigned affinity_cpus, const char *cpu_max,
                         const char *cfs_quota, const char *cfs_period);

/*
 * The worker count on this machine: reads the affinity mask and the cgroup files under
 * /sys/fs/cgroup, then calls xb_worker_count(). Never fails (1 at worst).
 */
unsigned xb_worker_count_detect(unsigned configured);

/*
 * The largest (decompressed) request body a worker handles in its own arena: 512 KiB,
 * or |max_body_bytes| when smaller. Larger requests are redone one at a time in the
 * main arena (receiver/ingest.h). A typical SDK batch (512 spans) is 150-400 KB.
 */
size_t xb_worker_small_body_bytes(size_t max_body_bytes);

#endif
