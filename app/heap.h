/*
 * app/heap.h - how glibc's malloc hands memory back to the kernel.
 *
 * By default glibc returns the free top of a heap to the kernel as soon as it passes
 * 128 KiB (with a threshold that moves with the allocations it sees). xraybridge's
 * documents are allocated by the ingest workers and freed by the exporter on the main
 * thread a few milliseconds later, so at full rate every worker's heap shrinks and
 * grows again many times a second: each shrink is a madvise or brk call (with TLB
 * shootdowns on the other cores) and each page touched again is a page fault. On a
 * virtual machine where a fault or a system call costs microseconds this was up to a
 * fifth of the CPU per span (docs/performance.md, "Heap trimming"). At start-up
 * xraybridge sets the trim threshold to XB_HEAP_TRIM_BYTES and the mmap threshold to
 * XB_HEAP_MMAP_BYTES (mallopt(3)): each heap keeps at most that much free memory at its
 * top, and blocks smaller than the mmap threshold come from the heaps. A setting given in
 * the GLIBC_TUNABLES environment variable (glibc.malloc.trim_threshold,
 * glibc.malloc.mmap_threshold) is left as the user set it.
 */
#ifndef XB_APP_HEAP_H
#define XB_APP_HEAP_H

#include <stddef.h>

#define XB_HEAP_TRIM_BYTES ((size_t)8 << 20) /* M_TRIM_THRESHOLD, bytes */
#define XB_HEAP_MMAP_BYTES ((size_t)4 << 20) /* M_MMAP_THRESHOLD, bytes */

/* The mallopt settings to apply. */
struct xb_heap_plan {
    int set_trim; /* apply M_TRIM_THRESHOLD = trim_bytes */
    int set_mmap; /* apply M_MMAP_THRESHOLD = mmap_bytes */
    size_t trim_bytes;
    size_t mmap_bytes;
};

/* Pure: the settings for a process whose GLIBC_TUNABLES is |tunables| (NULL = unset):
 * each of the two unless the user's value names it (glibc.malloc.trim_threshold=...,
 * glibc.malloc.mmap_threshold=..., colon-separated as glibc reads it). */
struct xb_heap_plan xb_heap_plan(const char *tunables);

/* Applies xb_heap_plan(getenv("GLIBC_TUNABLES")) with mallopt(3); call once, before any
 * thread starts. Returns how many settings it applied (0-2), or -1 when glibc refused
 * one. */
int xb_heap_apply(void);

#endif
