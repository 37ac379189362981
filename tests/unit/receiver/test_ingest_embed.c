/* tests/unit/receiver/test_ingest_embed.c - when ingest asks for embedded documents
 * (xb_ingest_embed_choose()), one case per pipeline set-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "receiver/ingest_embed.h"

static const struct xb_embed_queue awsxray = {.takes_embedded = 1, .on_disk = 0};
static const struct xb_embed_queue awsxray_file_storage = {.takes_embedded = 1, .on_disk = 1};
static const struct xb_embed_queue file_exporter = {.takes_embedded = 0, .on_disk = 0};

static int choose(const struct xb_embed_queue *q, size_t n, int ts, int tap)
{
    struct xb_embed_setup s = {.queues = q, .n_queues = n, .tail_sampling = ts, .tap = tap};
    return xb_ingest_embed_choose(&s);
}

static void test_embed_awsxray_only(void **state)
{
    (void)state;
    assert_int_equal(choose(&awsxray, 1, 0, 0), 1);
}

static void test_embed_not_with_file_storage(void **state)
{
    (void)state;
    assert_int_equal(choose(&awsxray_file_storage, 1, 0, 0), 0);
}

static void test_embed_not_with_tail_sampling(void **state)
{
    (void)state;
    assert_int_equal(choose(&awsxray, 1, 1, 0), 0);
}

static void test_embed_not_with_tap(void **state)
{
    (void)state;
    assert_int_equal(choose(&awsxray, 1, 0, 1), 0);
}

static void test_embed_not_with_another_exporter(void **state)
{
    struct xb_embed_queue both[2] = {awsxray, file_exporter};

    (void)state;
    assert_int_equal(choose(both, 2, 0, 0), 0);
    both[0] = file_exporter; /* either order */
    both[1] = awsxray;
    assert_int_equal(choose(both, 2, 0, 0), 0);
    assert_int_equal(choose(&file_exporter, 1, 0, 0), 0);
}

static void test_embed_not_without_document_queues(void **state)
{
    (void)state;
    assert_int_equal(choose(NULL, 0, 0, 0), 0); /* an OTLP-only pipeline */
    assert_int_equal(choose(&awsxray, 0, 0, 0), 0);
    assert_int_equal(xb_ingest_embed_choose(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_awsxray_only),
        cmocka_unit_test(test_embed_not_with_file_storage),
        cmocka_unit_test(test_embed_not_with_tail_sampling),
        cmocka_unit_test(test_embed_not_with_tap),
        cmocka_unit_test(test_embed_not_with_another_exporter),
        cmocka_unit_test(test_embed_not_without_document_queues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
