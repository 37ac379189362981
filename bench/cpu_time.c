/*
 * bench/cpu_time.c - process CPU time for the benchmark programs (bench/cpu_time.h).
 */
#include "bench/cpu_time.h"

#include <time.h>

uint64_t xb_bench_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
