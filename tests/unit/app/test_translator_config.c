/* tests/unit/app/test_translator_config.c - app/translator_config.c: the translator's
 * options taken from a parsed configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "app/translator_config.h"
#include "core/err.h"

static const char yaml[] = "receivers:\n"
                           "  otlp:\n"
                           "    protocols:\n"
                           "      grpc:\n"
                           "exporters:\n"
                           "  file:\n"
                           "    path: \"-\"\n"
                           "    indexed_attributes: [http.method, \"user.id\"]\n"
                           "    index_all_attributes: true\n"
                           "    allow_dot_in_annotation_keys: false\n"
                           "    skip_timestamp_validation: off\n"
                           "    aws_log_groups:\n"
                           "      - group-a\n"
                           "      - group-b\n"
                           "    max_document_bytes: 32000\n"
                           "service:\n"
                           "  pipelines:\n"
                           "    traces:\n"
                           "      receivers: [otlp]\n"
                           "      exporters: [file]\n";

static void test_translator_config_from_cfg(void **state)
{
    struct xb_config *cfg = NULL;
    struct xb_translator_config tc;
    char err[512];

    (void)state;
    assert_int_equal(xb_config_parse(yaml, strlen(yaml), "t.yaml", &cfg, err, sizeof(err)), XB_OK);
    xb_app_translator_config(cfg, &tc);
    assert_int_equal(tc.n_indexed_attributes, 2);
    assert_ptr_equal(tc.indexed_attributes[0], cfg->translate.indexed_attributes[0]);
    assert_string_equal(tc.indexed_attributes[1], "user.id");
    assert_true(tc.index_all_attributes);
    assert_false(tc.allow_dot_in_annotation_keys);
    assert_false(tc.skip_timestamp_validation);
    assert_int_equal(tc.n_aws_log_groups, 2);
    assert_string_equal(tc.aws_log_groups[0], "group-a");
    assert_int_equal(tc.max_document_bytes, 32000);
    assert_false(tc.read_new_semantic_conventions);
    xb_config_free(cfg);
}

static void test_translator_config_defaults(void **state)
{
    struct xb_config *cfg = NULL;
    struct xb_translator_config tc;
    char err[512];

    (void)state;
    assert_int_equal(xb_config_load_default(&cfg, err, sizeof(err)), XB_OK);
    xb_app_translator_config(cfg, &tc);
    assert_int_equal(tc.max_document_bytes, XB_XRAY_MAX_DOC_BYTES);
    assert_true(tc.allow_dot_in_annotation_keys);
    assert_true(tc.skip_timestamp_validation);
    assert_false(tc.index_all_attributes);
    xb_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translator_config_from_cfg),
        cmocka_unit_test(test_translator_config_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
