/*
 * bench/cpu_time.h - CPU time for the benchmark programs (bench/README.md).
 *
 * The benchmarks report CPU time rather than wall time so that other work on the
 * machine weighs less on their figures; they are single-threaded, so process CPU time
 * is the time of the code measured.
 */
#ifndef XB_BENCH_CPU_TIME_H
#define XB_BENCH_CPU_TIME_H

#include <stdint.h>

/* CPU time consumed by the whole process so far, in nanoseconds
 * (clock_gettime(CLOCK_PROCESS_CPUTIME_ID), POSIX.1-2008). Only differences between two
 * calls are meaningful. Returns 0 if the clock cannot be read. */
uint64_t xb_bench_cpu_ns(void);

#endif
