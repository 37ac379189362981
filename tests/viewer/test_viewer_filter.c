/*
 * tests/viewer/test_viewer_filter.c - extension/viewer_filter.c: the X-Ray filter
 * expression subset, parsing (accepted forms, errors with positions, limits) and
 * evaluation against trace facts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "extension/viewer_filter.h"

static const char *const services[] = {"parcel-api", "billing"};
static const struct xb_viewer_ann anns[] = {
    {.key = "parcel_id", .type = XB_VIEWER_V_STRING, .str = "p-1"},
    {.key = "weight", .type = XB_VIEWER_V_NUMBER, .num = 2.5},
    {.key = "express", .type = XB_VIEWER_V_BOOL, .boolean = 1},
};

/* A trace of parcel-api calling billing, 1.5 s, root answered 500 (fault). */
static const struct xb_viewer_facts facts = {
    .services = services,
    .n_services = 2,
    .fault = 1,
    .responsetime = 1.2,
    .duration = 1.5,
    .http_status = 500,
    .http_method = "POST",
    .http_url = "https://api.example.com/parcels/p-1",
    .ann = anns,
    .n_ann = 3,
};

static const struct xb_viewer_facts ok_facts = {.services = services,
                                                .n_services = 1,
                                                .responsetime = 0.1,
                                                .duration = 0.1,
                                                .http_status = 200,
                                                .http_method = "GET"};

static char err[256];

static int match(const char *expr, const struct xb_viewer_facts *f)
{
    struct xb_viewer_filter flt;
    int rc = xb_viewer_filter_parse(expr, &flt, err, sizeof(err));

    if (rc != XB_OK)
        print_error("%s: %s\n", expr, err);
    assert_int_equal(rc, XB_OK);
    return xb_viewer_filter_match(&flt, f);
}

static void bad(const char *expr, const char *want)
{
    struct xb_viewer_filter flt;
    int rc = xb_viewer_filter_parse(expr, &flt, err, sizeof(err));

    if (rc == XB_OK || !strstr(err, want))
        print_error("%s: rc %d err \"%s\", want \"%s\"\n", expr, rc, err, want);
    assert_int_not_equal(rc, XB_OK);
    assert_non_null(strstr(err, want));
}

static void test_empty_matches_all(void **state)
{
    assert_true(match("", &facts));
    assert_true(match("   ", &ok_facts));
    assert_true(match(NULL, &ok_facts));
}

static void test_service(void **state)
{
    assert_true(match("service(\"parcel-api\")", &facts));
    assert_true(match("service(\"billing\")", &facts));
    assert_false(match("service(\"billing\")", &ok_facts));
    assert_false(match("service(\"parcel\")", &facts)); /* whole name */
    assert_true(match("service()", &facts));
    assert_true(match("SERVICE( \"parcel-api\" )", &facts));
}

static void test_flags(void **state)
{
    assert_true(match("fault", &facts));
    assert_false(match("error", &facts));
    assert_false(match("throttle", &facts));
    assert_false(match("ok", &facts));
    assert_true(match("ok", &ok_facts));
    assert_true(match("!ok", &facts));
    assert_true(match("!error", &facts));
    assert_true(match("fault = true", &facts));
    assert_false(match("fault = false", &facts));
    assert_true(match("error != true", &facts));
    assert_true(match("Fault", &facts));
}

static void test_numbers(void **state)
{
    assert_true(match("responsetime > 1", &facts));
    assert_false(match("responsetime > 1", &ok_facts));
    assert_true(match("responsetime <= 1.2", &facts));
    assert_true(match("duration >= 1.5", &facts));
    assert_false(match("duration < 1.5", &facts));
    assert_true(match("http.status = 500", &facts));
    assert_true(match("http.status >= 500", &facts));
    assert_false(match("http.status != 500", &facts));
    assert_true(match("http.status = 200", &ok_facts));
    /* Unknown values never match a comparison. */
    struct xb_viewer_facts unknown = {.responsetime = -1, .duration = -1};
    assert_false(match("responsetime >= 0", &unknown));
    assert_false(match("duration < 100", &unknown));
    assert_false(match("http.status != 500", &unknown));
}

static void test_http_strings(void **state)
{
    assert_true(match("http.method = \"POST\"", &facts));
    assert_false(match("http.method = \"post\"", &facts));
    assert_true(match("http.url CONTAINS \"/parcels/\"", &facts));
    assert_true(match("http.url BEGINSWITH \"https://api\"", &facts));
    assert_true(match("http.url endswith \"p-1\"", &facts));
    assert_false(match("http.url ENDSWITH \"p-2\"", &facts));
    assert_false(match("http.url CONTAINS \"x\"", &ok_facts)); /* no URL */
}

static void test_annotations(void **state)
{
    assert_true(match("annotation.parcel_id = \"p-1\"", &facts));
    assert_false(match("annotation.parcel_id = \"p-2\"", &facts));
    assert_true(match("annotation.parcel_id != \"p-2\"", &facts));
    assert_false(match("annotation.parcel_id = \"p-1\"", &ok_facts));
    assert_true(match("annotation.weight > 2", &facts));
    assert_true(match("annotation.weight = 2.5", &facts));
    assert_false(match("annotation.weight = \"2.5\"", &facts)); /* types differ */
    assert_true(match("annotation.express = true", &facts));
    assert_false(match("annotation.express = false", &facts));
    assert_true(match("annotation.parcel_id BEGINSWITH \"p-\"", &facts));
    /* Escaped quotes and backslashes inside string literals. */
    static const struct xb_viewer_ann q = {
        .key = "note", .type = XB_VIEWER_V_STRING, .str = "say \"hi\" \\o/"};
    struct xb_viewer_facts qf = {.ann = &q, .n_ann = 1, .responsetime = -1, .duration = -1};
    assert_true(match("annotation.note = \"say \\\"hi\\\" \\\\o/\"", &qf));
}

static void test_and(void **state)
{
    assert_true(match("service(\"parcel-api\") AND fault AND responsetime > 1", &facts));
    assert_false(match("service(\"parcel-api\") AND error", &facts));
    assert_true(match("fault and http.status = 500 && annotation.weight < 3", &facts));
}

static void test_errors(void **state)
{
    char long_text[XB_VIEWER_FILTER_MAX_TEXT + 10];
    struct xb_viewer_filter flt;

    bad("bogus", "at 1: unknown term");
    bad("fault AND", "at 10: expected a term");
    bad("fault OR error", "expected AND");
    bad("responsetime >", "expected a number");
    bad("responsetime ~ 1", "expected an operator");
    bad("service(parcel)", "expected )");
    bad("service(\"x", "unterminated string");
    bad("annotation.k CONTAINS 3", "need a string");
    bad("annotation.k > true", "true and false");
    bad("http.method < \"a\"", "strings compare");
    bad("fault = 3", "true or false");
    bad("!responsetime > 1", "! applies only");
    memset(long_text, 'a', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_int_equal(xb_viewer_filter_parse(long_text, &flt, err, sizeof(err)), XB_ERR_TOO_LARGE);
    assert_int_equal(xb_viewer_filter_parse("fault AND fault AND fault AND fault AND fault AND "
                                            "fault AND fault AND fault AND fault AND fault AND "
                                            "fault AND fault AND fault AND fault AND fault AND "
                                            "fault AND fault",
                                            &flt, err, sizeof(err)),
                     XB_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_matches_all),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_http_strings),
        cmocka_unit_test(test_annotations),
        cmocka_unit_test(test_and),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
