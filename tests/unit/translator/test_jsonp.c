/* tests/unit/translator/test_jsonp.c - the metadata JSON reader: parse, then re-encode the
 * way Go re-encodes a decoded map (keys sorted, last duplicate kept, numbers as doubles). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/jsonw.h"
#include "translator/jsonp.h"

static void test_jsonp_roundtrip_sorted(void **state)
{
    struct xb_arena *a = xb_arena_new(4096, 0);
    struct xb_tr_jnode *j = NULL;
    struct xb_buf b;
    struct xb_jsonw w;
    const char *in =
        "{\"b\":[1,2.50,true,null],\"a\":{\"y\":\"\\u00e9\\ud83d\\ude00\",\"x\":1e2},\"b\":3}";

    (void)state;
    assert_int_equal(xb_tr_jsonp_parse(in, strlen(in), a, &j), 0);
    xb_buf_init(&b, 0);
    xb_jsonw_init(&w, &b);
    xb_tr_jsonp_write(&w, j, 0);
    assert_string_equal(b.data, "{\"a\":{\"x\":100,\"y\":\"\xc3\xa9\xf0\x9f\x98\x80\"},\"b\":3}");
    assert_int_not_equal(xb_tr_jsonp_parse("{\"a\":1", 6, a, &j), 0);
    assert_int_not_equal(xb_tr_jsonp_parse("{} x", 4, a, &j), 0);
    xb_buf_cleanup(&b);
    xb_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonp_roundtrip_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
