/* Unit tests for app/heap.c: which malloc settings apply, given GLIBC_TUNABLES. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <stdlib.h>

#include "app/heap.h"

static void check(const char *tunables, int trim, int mmap)
{
    struct xb_heap_plan p = xb_heap_plan(tunables);
    assert_int_equal(p.set_trim, trim);
    assert_int_equal(p.set_mmap, mmap);
    assert_int_equal(p.trim_bytes, XB_HEAP_TRIM_BYTES);
    assert_int_equal(p.mmap_bytes, XB_HEAP_MMAP_BYTES);
}

static void test_heap_plan(void **state)
{
    (void)state;
    check(NULL, 1, 1);
    check("", 1, 1);
    check("glibc.malloc.trim_threshold=1048576", 0, 1);
    check("glibc.malloc.mmap_threshold=65536", 1, 0);
    check("glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=65536", 1, 0);
    check("glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=0", 0, 0);
    /* other tunables, look-alikes and a name without a value do not count */
    check("glibc.malloc.trim_threshold_x=1:glibc.malloc.trim_threshold", 1, 1);
    check("xglibc.malloc.mmap_threshold=1", 1, 1);
    check(":::", 1, 1);
}

/* Applies both when the environment sets neither (glibc's allocator), none when it sets
 * both. */
static void test_heap_apply(void **state)
{
    (void)state;
    assert_int_equal(setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=4", 1), 0);
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer's allocator stands in for glibc's and refuses mallopt (returns 0):
     * the failure is reported, and the process runs on its allocator. */
    assert_int_equal(xb_heap_apply(), -1);
#else
    assert_int_equal(xb_heap_apply(), 2);
#endif
    assert_int_equal(
        setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1:glibc.malloc.mmap_threshold=2", 1),
        0);
    assert_int_equal(xb_heap_apply(), 0);
    unsetenv("GLIBC_TUNABLES");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_plan),
        cmocka_unit_test(test_heap_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
