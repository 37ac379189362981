/*
 * core/clock.h - clocks in nanoseconds.
 */
#ifndef XB_CORE_CLOCK_H
#define XB_CORE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ns: for timeouts and durations. */
uint64_t xb_clock_mono_ns(void);

/* CLOCK_REALTIME in ns since the UNIX epoch: for timestamps (SigV4 dates, logs). */
uint64_t xb_clock_wall_ns(void);

#endif
