#include "app/heap.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

/* Non-zero when the colon-separated list |tunables| sets tunable |name|. */
static int names(const char *tunables, const char *name)
{
    size_t n = strlen(name);
    const char *p = tunables;

    while (p && *p) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > n && memcmp(p, name, n) == 0 && p[n] == '=')
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

struct xb_heap_plan xb_heap_plan(const char *tunables)
{
    struct xb_heap_plan p = {.trim_bytes = XB_HEAP_TRIM_BYTES, .mmap_bytes = XB_HEAP_MMAP_BYTES};

    p.set_trim = !names(tunables, "glibc.malloc.trim_threshold");
    p.set_mmap = !names(tunables, "glibc.malloc.mmap_threshold");
    return p;
}

int xb_heap_apply(void)
{
    struct xb_heap_plan p = xb_heap_plan(getenv("GLIBC_TUNABLES"));
    int n = 0;

    if (p.set_mmap) {
        if (mallopt(M_MMAP_THRESHOLD, (int)p.mmap_bytes) != 1)
            return -1;
        n++;
    }
    if (p.set_trim) {
        if (mallopt(M_TRIM_THRESHOLD, (int)p.trim_bytes) != 1)
            return -1;
        n++;
    }
    return n;
}
