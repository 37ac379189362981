/* Unit tests for exporter/export_policy.c: seeded jitter, back-off bounds, matching by
 * stored id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "core/queue.h"
#include "exporter/export_policy.h"

/* ---- random source and back-off ----------------------------------------- */

static void test_backoff_doubles_caps_and_jitters_within_half(void **state)
{
    (void)state;
    /* rnd % (delay + 1) picks the offset in [0, delay]: 0 gives delay/2, delay gives 3/2. */
    assert_int_equal(xb_backoff_ms(100, 10000, 0, 0, 0), 50);
    assert_int_equal(xb_backoff_ms(100, 10000, 0, 0, 100), 150);
    assert_int_equal(xb_backoff_ms(100, 10000, 0, 0, 101), 50); /* wraps */
    assert_int_equal(xb_backoff_ms(100, 10000, 1, 0, 0), 100);  /* 200 before jitter */
    assert_int_equal(xb_backoff_ms(100, 10000, 3, 0, 800), 1200);
    assert_int_equal(xb_backoff_ms(100, 5000, 10, 0, 0), 2500);       /* capped at max */
    assert_int_equal(xb_backoff_ms(100, 5000, 10, 1000, 1000), 1500); /* drain cap */
    assert_int_equal(xb_backoff_ms(0, 5000, 3, 0, 12345), 1);         /* never 0 */
    /* huge failure counts and initial values do not overflow */
    assert_int_equal(xb_backoff_ms(UINT64_MAX, 60000, UINT32_MAX, 0, 0), 30000);
}

static void test_rng_fixed_seed_is_reproducible(void **state)
{
    struct xb_rng a, b;

    (void)state;
    xb_rng_seed_fixed(&a, 42);
    xb_rng_seed_fixed(&b, 42);
    for (int i = 0; i < 16; i++)
        assert_true(xb_rng_next(&a) == xb_rng_next(&b));
    xb_rng_seed_fixed(&b, 43);
    assert_true(xb_rng_next(&a) != xb_rng_next(&b));
}

/* Two processes (two seeded sources) compute different jitter for the same failure:
 * the unseeded rand() gave every node the same sequence. */
static void test_rng_seeded_sources_differ(void **state)
{
    struct xb_rng a, b;
    int differ = 0;

    (void)state;
    assert_int_equal(xb_rng_seed(&a), 0); /* getrandom works here */
    assert_int_equal(xb_rng_seed(&b), 0);
    assert_true(a.state != b.state);
    for (int i = 0; i < 8; i++) {
        uint64_t da = xb_backoff_ms(1000, 30000, 2, 0, xb_rng_next(&a));
        uint64_t db = xb_backoff_ms(1000, 30000, 2, 0, xb_rng_next(&b));
        assert_in_range(da, 2000, 6000);
        assert_in_range(db, 2000, 6000);
        differ += da != db;
    }
    assert_true(differ > 0);
}

/* Jitter from the seeded source covers the whole +/-50% window, not one point. */
static void test_rng_jitter_spreads(void **state)
{
    struct xb_rng r;
    uint64_t lo = UINT64_MAX, hi = 0;

    (void)state;
    xb_rng_seed(&r);
    for (int i = 0; i < 2000; i++) {
        uint64_t d = xb_backoff_ms(1000, 30000, 0, 0, xb_rng_next(&r));
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_in_range(lo, 500, 600);
    assert_in_range(hi, 1400, 1500);
}

/* ---- matching by stored id ----------------------------------------------- */

/* A document whose link carries another trace's segment id: UnprocessedTraceSegments
 * entries for that other id must not match it. */
static void test_find_id_matches_stored_id_not_text(void **state)
{
    static const char json[] = "{\"name\":\"s\",\"links\":[{\"trace_id\":"
                               "\"1-11223344-5566778899aabbccddeeff00\",\"id\":"
                               "\"0a0b0c0d0e0f0102\"}],\"id\":\"53995c3f42cd8ad8\","
                               "\"trace_id\":\"1-4efaaf4d-1e8720b39541901950019ee5\"}";
    struct xb_qdoc *docs[3];

    (void)state;
    docs[0] = xb_qdoc_new_ids(json, sizeof(json) - 1, "1-4efaaf4d-1e8720b39541901950019ee5",
                              "53995c3f42cd8ad8");
    docs[1] = NULL; /* already handled */
    docs[2] = xb_qdoc_new_ids("{}", 2, "1-4efaaf4d-1e8720b39541901950019ee5", "7f2c1a4b9e8d6c5a");
    assert_int_equal(xb_qdoc_find_id(docs, 3, "53995c3f42cd8ad8"), 0);
    assert_int_equal(xb_qdoc_find_id(docs, 3, "7f2c1a4b9e8d6c5a"), 2);
    assert_int_equal(xb_qdoc_find_id(docs, 3, "0a0b0c0d0e0f0102"), -1); /* the link's */
    assert_int_equal(xb_qdoc_find_id(docs, 3, ""), -1);
    assert_int_equal(xb_qdoc_find_id(docs, 3, NULL), -1);
    xb_qdoc_free(docs[0]);
    xb_qdoc_free(docs[2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_caps_and_jitters_within_half),
        cmocka_unit_test(test_rng_fixed_seed_is_reproducible),
        cmocka_unit_test(test_rng_seeded_sources_differ),
        cmocka_unit_test(test_rng_jitter_spreads),
        cmocka_unit_test(test_find_id_matches_stored_id_not_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
