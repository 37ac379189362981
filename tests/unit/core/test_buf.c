/* Unit tests for core/buf.c and core/gzip.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/gzip.h"

static void test_buf_append_and_printf(void **state)
{
    struct xb_buf b;
    xb_buf_init(&b, 0);
    assert_int_equal(xb_buf_puts(&b, "abc"), XB_OK);
    assert_int_equal(xb_buf_putc(&b, '-'), XB_OK);
    assert_int_equal(xb_buf_printf(&b, "%d/%s", 42, "x"), XB_OK);
    assert_string_equal(b.data, "abc-42/x");
    assert_int_equal(b.len, 8);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(xb_buf_putc(&b, 'z'), XB_OK);
    assert_int_equal(b.len, 10008);
    assert_int_equal(b.data[b.len], '\0');
    xb_buf_cleanup(&b);
}

static void test_buf_cap_is_enforced(void **state)
{
    struct xb_buf b;
    xb_buf_init(&b, 10);
    assert_int_equal(xb_buf_append(&b, "0123456789", 10), XB_OK);
    assert_int_equal(xb_buf_putc(&b, 'x'), XB_ERR_TOO_LARGE);
    assert_int_equal(xb_buf_printf(&b, "%s", "y"), XB_ERR_TOO_LARGE);
    assert_int_equal(b.len, 10);
    xb_buf_cleanup(&b);
}

static void test_buf_steal(void **state)
{
    struct xb_buf b;
    size_t len;
    char *p;
    xb_buf_init(&b, 0);
    xb_buf_puts(&b, "owned");
    p = xb_buf_steal(&b, &len);
    assert_string_equal(p, "owned");
    assert_int_equal(len, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(p);
}

static void test_gzip_round_trip(void **state)
{
    struct xb_buf z, out;
    char input[50000];
    for (size_t i = 0; i < sizeof(input); i++)
        input[i] = (char)('a' + (i * 7) % 26);
    xb_buf_init(&z, 0);
    xb_buf_init(&out, 0);
    assert_int_equal(xb_gzip(input, sizeof(input), &z), XB_OK);
    assert_true(z.len < sizeof(input));
    assert_int_equal(xb_gunzip(z.data, z.len, &out, NULL), XB_OK);
    assert_int_equal(out.len, sizeof(input));
    assert_memory_equal(out.data, input, sizeof(input));
    xb_buf_cleanup(&z);
    xb_buf_cleanup(&out);
}

static void test_gunzip_stops_bomb_at_limit(void **state)
{
    struct xb_buf z, out;
    const char *desc = NULL;
    char *zeros = calloc(1, 8 << 20);
    xb_buf_init(&z, 0);
    xb_buf_init(&out, 1 << 20); /* 1 MiB cap; 8 MiB of zeros compress to ~8 KiB */
    assert_int_equal(xb_gzip(zeros, 8 << 20, &z), XB_OK);
    assert_true(z.len < 64 * 1024);
    assert_int_equal(xb_gunzip(z.data, z.len, &out, &desc), XB_ERR_TOO_LARGE);
    assert_non_null(desc);
    assert_true(out.len <= (1 << 20));
    free(zeros);
    xb_buf_cleanup(&z);
    xb_buf_cleanup(&out);
}

static void test_gunzip_exact_limit_is_accepted(void **state)
{
    struct xb_buf z, out;
    char data[4096];
    memset(data, 'q', sizeof(data));
    xb_buf_init(&z, 0);
    xb_buf_init(&out, sizeof(data));
    assert_int_equal(xb_gzip(data, sizeof(data), &z), XB_OK);
    assert_int_equal(xb_gunzip(z.data, z.len, &out, NULL), XB_OK);
    assert_int_equal(out.len, sizeof(data));
    xb_buf_cleanup(&z);
    xb_buf_cleanup(&out);
}

static void test_gunzip_rejects_garbage_and_truncation(void **state)
{
    struct xb_buf z, out;
    const char *desc = NULL;
    xb_buf_init(&z, 0);
    xb_buf_init(&out, 0);
    assert_int_equal(xb_gunzip("not gzip at all", 15, &out, &desc), XB_ERR_INVALID);
    assert_non_null(desc);
    assert_int_equal(xb_gzip("hello hello hello", 17, &z), XB_OK);
    xb_buf_clear(&out);
    desc = NULL;
    assert_int_equal(xb_gunzip(z.data, z.len - 6, &out, &desc), XB_ERR_INVALID);
    assert_non_null(desc);
    xb_buf_cleanup(&z);
    xb_buf_cleanup(&out);
}

/* Doubling stops at the cap: a buffer filled to its max holds max + 1 bytes, not the
 * next power of two (budgets count bytes held, app/budget.c). */
static void test_buf_growth_stops_at_cap(void **state)
{
    static char chunk[700];
    struct xb_buf b;

    (void)state;
    xb_buf_init(&b, 1000);
    assert_int_equal(xb_buf_append(&b, chunk, 300), XB_OK);
    assert_int_equal(b.cap, 512);
    assert_int_equal(xb_buf_append(&b, chunk, 700), XB_OK);
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.cap, 1001);
    assert_int_equal(xb_buf_append(&b, chunk, 1), XB_ERR_TOO_LARGE);
    xb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_printf),
        cmocka_unit_test(test_buf_cap_is_enforced),
        cmocka_unit_test(test_buf_steal),
        cmocka_unit_test(test_buf_growth_stops_at_cap),
        cmocka_unit_test(test_gzip_round_trip),
        cmocka_unit_test(test_gunzip_stops_bomb_at_limit),
        cmocka_unit_test(test_gunzip_exact_limit_is_accepted),
        cmocka_unit_test(test_gunzip_rejects_garbage_and_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
