/* tests/unit/core/test_utf8.c - well-formed UTF-8 characters and boundary-safe cuts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"

static void test_utf8_char_accepts_each_length(void **state)
{
    uint32_t cp = 0;

    (void)state;
    assert_int_equal(xb_utf8_char("A", 1, &cp), 1);
    assert_int_equal(cp, 0x41);
    assert_int_equal(xb_utf8_char("\xc3\xa9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(xb_utf8_char("\xe2\x80\xa8", 3, &cp), 3);
    assert_int_equal(cp, 0x2028);
    assert_int_equal(xb_utf8_char("\xf0\x9f\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(xb_utf8_char("\xf4\x8f\xbf\xbf", 4, NULL), 4); /* U+10FFFF */
}

static void test_utf8_char_rejects_ill_formed(void **state)
{
    (void)state;
    assert_int_equal(xb_utf8_char("", 0, NULL), 0);
    assert_int_equal(xb_utf8_char("\x80", 1, NULL), 0);             /* lone continuation */
    assert_int_equal(xb_utf8_char("\xc0\xaf", 2, NULL), 0);         /* overlong '/' */
    assert_int_equal(xb_utf8_char("\xe0\x80\xaf", 3, NULL), 0);     /* overlong, 3 bytes */
    assert_int_equal(xb_utf8_char("\xed\xa0\x80", 3, NULL), 0);     /* surrogate U+D800 */
    assert_int_equal(xb_utf8_char("\xf4\x90\x80\x80", 4, NULL), 0); /* above U+10FFFF */
    assert_int_equal(xb_utf8_char("\xf5\x80\x80\x80", 4, NULL), 0); /* invalid lead */
    assert_int_equal(xb_utf8_char("\xe2\x80", 2, NULL), 0);         /* truncated */
    assert_int_equal(xb_utf8_char("\xc3\x41", 2, NULL), 0);         /* bad continuation */
}

static void test_utf8_cut_never_splits_a_character(void **state)
{
    const char s[] = "ab\xc3\xa9\xf0\x9f\x98\x80"; /* a b é 😀: 2 + 2 + 4 bytes */

    (void)state;
    assert_int_equal(xb_utf8_cut(s, 8, 10), 8); /* fits: unchanged */
    assert_int_equal(xb_utf8_cut(s, 8, 8), 8);
    assert_int_equal(xb_utf8_cut(s, 8, 4), 4); /* after é */
    assert_int_equal(xb_utf8_cut(s, 8, 3), 2); /* inside é: back to "ab" */
    assert_int_equal(xb_utf8_cut(s, 8, 7), 4); /* inside the emoji */
    assert_int_equal(xb_utf8_cut(s, 8, 5), 4);
    assert_int_equal(xb_utf8_cut(s, 8, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_char_accepts_each_length),
        cmocka_unit_test(test_utf8_char_rejects_ill_formed),
        cmocka_unit_test(test_utf8_cut_never_splits_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
