/* Unit tests for core/arena.c: alignment, growth, caps, reset, failure injection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"

static void test_arena_alignment_and_contents(void **state)
{
    struct xb_arena *a = xb_arena_new(1024, 0);
    char *p[50];
    assert_non_null(a);
    for (int i = 0; i < 50; i++) {
        p[i] = xb_arena_alloc(a, (size_t)i * 7 + 1);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        memset(p[i], i, (size_t)i * 7 + 1);
    }
    /* Earlier allocations are untouched by later ones (including new blocks). */
    for (int i = 0; i < 50; i++)
        for (int j = 0; j < i * 7 + 1; j++)
            assert_int_equal((unsigned char)p[i][j], i);
    xb_arena_free(a);
}

static void test_arena_large_allocation_gets_own_chunk(void **state)
{
    struct xb_arena *a = xb_arena_new(1024, 0);
    char *small1 = xb_arena_alloc(a, 16);
    char *big = xb_arena_alloc(a, 100000);
    char *small2 = xb_arena_alloc(a, 16);
    assert_non_null(small1);
    assert_non_null(big);
    assert_non_null(small2);
    /* The small allocations still share the first block. */
    assert_ptr_equal(small2, small1 + 16);
    memset(big, 1, 100000);
    xb_arena_free(a);
}

static void test_arena_cap_refuses(void **state)
{
    struct xb_arena *a = xb_arena_new(1024, 4096);
    int got = 0;
    while (xb_arena_alloc(a, 200) && got < 1000)
        got++;
    assert_true(got > 0);
    assert_true(got < 1000);
    assert_true(xb_arena_used(a) <= 4096);
    assert_null(xb_arena_alloc(a, 100000));
    xb_arena_free(a);
}

static void test_arena_reset_reuses(void **state)
{
    struct xb_arena *a = xb_arena_new(1024, 8192);
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 20; i++)
            assert_non_null(xb_arena_alloc(a, 300));
        xb_arena_reset(a);
        assert_int_equal(xb_arena_used(a), 0);
    }
    xb_arena_free(a);
}

/* After a reset, standard-size blocks come back from the spares: the same request
 * again gets the same memory, and the arena holds no more than it did. What it holds
 * after each reset is the check that fails without spares (the heap could hand freed
 * blocks back at the same addresses). */
static void test_arena_reset_keeps_spares(void **state)
{
    struct xb_arena *a = xb_arena_new(1024, 0);
    char *first[32], *big;
    size_t held;

    (void)state;
    for (int i = 0; i < 32; i++)
        assert_non_null(first[i] = xb_arena_alloc(a, 250)); /* four to a block */
    held = xb_arena_held(a);
    assert_int_equal(held, 8 * 1024);
    for (int round = 0; round < 20; round++) {
        xb_arena_reset(a);
        for (int i = 0; i < 32; i++) {
            char *p = xb_arena_alloc(a, 250);
            int found = 0;
            assert_non_null(p);
            for (int j = 0; j < 32; j++)
                found |= p == first[j];
            assert_true(found);
        }
        assert_int_equal(xb_arena_held(a), held);
    }
    /* One large chunk is kept too, and serves the next large allocation it can hold;
     * one above 256 KiB goes back to the heap. */
    big = xb_arena_alloc(a, 5000);
    assert_non_null(big);
    assert_int_equal(xb_arena_held(a), held + 5008);
    xb_arena_reset(a);
    assert_int_equal(xb_arena_held(a), held + 5008);
    assert_ptr_equal(xb_arena_alloc(a, 4000), big);
    assert_int_equal(xb_arena_held(a), held + 5008);
    xb_arena_reset(a);
    assert_true(xb_arena_alloc(a, 2000) != big); /* it would waste more than half */
    assert_int_equal(xb_arena_held(a), held + 5008 + 2000);
    assert_non_null(xb_arena_alloc(a, 300 * 1024));
    xb_arena_reset(a);
    assert_int_equal(xb_arena_held(a), held + 5008);
    xb_arena_free(a);
}

/* Spares are bounded (1 MiB) and count against the cap: a chunk that would not fit
 * beside them frees them first, so the cap still bounds what the arena holds. */
static void test_arena_spares_bounded_and_capped(void **state)
{
    struct xb_arena *a = xb_arena_new(64 * 1024, 0);
    struct xb_arena *c = xb_arena_new(1024, 8192);

    (void)state;
    for (int i = 0; i < 160; i++)
        assert_non_null(xb_arena_alloc(a, 16 * 1024)); /* 40 blocks */
    assert_int_equal(xb_arena_held(a), 40 * 64 * 1024);
    xb_arena_reset(a);
    /* the head block plus 16 spares of 64 KiB */
    assert_int_equal(xb_arena_held(a), 17 * 64 * 1024);
    xb_arena_free(a);

    for (int i = 0; i < 32; i++)
        assert_non_null(xb_arena_alloc(c, 250));
    assert_null(xb_arena_alloc(c, 250)); /* the cap */
    xb_arena_reset(c);
    assert_int_equal(xb_arena_held(c), 8192);
    /* 7,000 bytes fit beside the head block only once the spares are gone */
    assert_non_null(xb_arena_alloc(c, 7000));
    assert_int_equal(xb_arena_held(c), 1024 + 7008);
    xb_arena_free(c);
}

static void test_arena_fail_after(void **state)
{
    struct xb_arena *a = xb_arena_new(1024, 0);
    xb_arena_fail_after(a, 3);
    assert_non_null(xb_arena_alloc(a, 8));
    assert_non_null(xb_arena_alloc(a, 8));
    assert_null(xb_arena_alloc(a, 8));
    assert_null(xb_arena_alloc(a, 8));
    xb_arena_reset(a); /* reset clears the hook */
    assert_non_null(xb_arena_alloc(a, 8));
    xb_arena_free(a);
}

static void test_arena_strndup(void **state)
{
    struct xb_arena *a = xb_arena_new(256, 0);
    char *s = xb_arena_strndup(a, "hello world", 5);
    assert_string_equal(s, "hello");
    assert_non_null(xb_arena_calloc(a, 0));
    xb_arena_free(a);
    xb_arena_free(NULL);
}

/* A release gives back everything since the mark: small and large chunks, the byte
 * count and the exhausted flag; allocations before the mark keep their contents. */
static void test_arena_mark_release(void **state)
{
    struct xb_arena *a = xb_arena_new(1024, 8192);
    struct xb_arena_mark m;
    char *keep;

    (void)state;
    /* Mark on an empty arena. */
    xb_arena_mark(a, &m);
    assert_non_null(xb_arena_alloc(a, 100));
    assert_non_null(xb_arena_alloc(a, 4000)); /* own chunk */
    xb_arena_release(a, &m);
    assert_int_equal(xb_arena_used(a), 0);

    keep = xb_arena_strndup(a, "kept", 4);
    for (int round = 0; round < 50; round++) {
        size_t used = xb_arena_used(a);
        xb_arena_mark(a, &m);
        for (int i = 0; i < 6; i++) {
            assert_non_null(xb_arena_alloc(a, 300));  /* fills and pushes chunks */
            assert_non_null(xb_arena_alloc(a, 1000)); /* large: behind the head */
        }
        assert_null(xb_arena_alloc(a, 8192)); /* over the cap */
        assert_true(xb_arena_exhausted(a));
        xb_arena_release(a, &m);
        assert_int_equal(xb_arena_used(a), used);
        assert_false(xb_arena_exhausted(a));
        assert_string_equal(keep, "kept");
    }
    /* Without the release, 50 rounds would have hit the 8 KiB cap long ago. */
    assert_non_null(xb_arena_alloc(a, 4000));
    xb_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alignment_and_contents),
        cmocka_unit_test(test_arena_large_allocation_gets_own_chunk),
        cmocka_unit_test(test_arena_cap_refuses),
        cmocka_unit_test(test_arena_reset_reuses),
        cmocka_unit_test(test_arena_reset_keeps_spares),
        cmocka_unit_test(test_arena_spares_bounded_and_capped),
        cmocka_unit_test(test_arena_fail_after),
        cmocka_unit_test(test_arena_strndup),
        cmocka_unit_test(test_arena_mark_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
