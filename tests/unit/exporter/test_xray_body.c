/*
 * tests/unit/exporter/test_xray_body.c - exporter/xray_body.c: the pieces of a
 * PutTraceSegments body put together are the body build_body() writes
 * ({"TraceSegmentDocuments":["doc","doc"]}, each document as stored), for 1 to 50
 * documents; bodies with a plain document, or without documents, are not made of pieces,
 * and bodies under 64 KiB are not sent as pieces. The answers decided without cJSON
 * (xb_xray_answer_all_accepted) are exactly the empty ones, each of which cJSON also
 * reads as having no UnprocessedTraceSegments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "aws/pieces.h"
#include "core/buf.h"
#include "exporter/xray_body.h"

static struct xb_qdoc *doc(const char *json, int embedded)
{
    size_t n = strlen(json);
    struct xb_qdoc *d = calloc(1, sizeof(*d) + n + 1);
    assert_non_null(d);
    memcpy(d->json, json, n + 1);
    d->len = n;
    d->embedded = (uint8_t)embedded;
    return d;
}

/* The concatenation of |v[0..n)| as a NUL-terminated string the caller frees. */
static char *joined(const struct xb_piece *v, size_t n)
{
    struct xb_pieces_reader r;
    char *out;
    xb_pieces_reader_init(&r, v, n);
    out = calloc(1, r.total + 1);
    assert_non_null(out);
    assert_int_equal(xb_pieces_read(&r, out, r.total), r.total);
    return out;
}

static void test_one_and_many(void **state)
{
    struct xb_qdoc *docs[50];
    struct xb_piece v[XB_XRAY_BODY_PIECES(50)];
    (void)state;
    for (size_t i = 0; i < 50; i++) {
        char json[64];
        snprintf(json, sizeof(json), "{\\\"id\\\":\\\"%016zx\\\",\\\"n\\\":%zu}", i, i);
        docs[i] = doc(json, 1);
    }
    for (size_t n = 1; n <= 50; n++) {
        struct xb_buf want;
        char *got;
        xb_buf_init(&want, 0);
        /* What build_body() writes for embedded documents. */
        assert_int_equal(xb_buf_puts(&want, "{\"TraceSegmentDocuments\":["), 0);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(xb_buf_puts(&want, i ? ",\"" : "\""), 0);
            assert_int_equal(xb_buf_append(&want, docs[i]->json, docs[i]->len), 0);
            assert_int_equal(xb_buf_putc(&want, '"'), 0);
        }
        assert_int_equal(xb_buf_puts(&want, "]}"), 0);
        assert_int_equal(xb_xray_body_pieces(docs, n, v), XB_XRAY_BODY_PIECES(n));
        got = joined(v, XB_XRAY_BODY_PIECES(n));
        assert_string_equal(got, want.data);
        /* The documents are pointed to, not copied. */
        assert_ptr_equal(v[1].p, docs[0]->json);
        assert_ptr_equal(v[2 * n - 1].p, docs[n - 1]->json);
        free(got);
        xb_buf_cleanup(&want);
    }
    /* One document, written out. */
    assert_int_equal(xb_xray_body_pieces(docs, 1, v), 3);
    {
        char *got = joined(v, 3);
        assert_string_equal(got,
                            "{\"TraceSegmentDocuments\":[\"{\\\"id\\\":\\\"0000000000000000\\\","
                            "\\\"n\\\":0}\"]}");
        free(got);
    }
    for (size_t i = 0; i < 50; i++)
        free(docs[i]);
}

static void test_not_pieces(void **state)
{
    struct xb_qdoc *docs[3] = {doc("a", 1), doc("{\"plain\":1}", 0), doc("c", 1)};
    struct xb_piece v[XB_XRAY_BODY_PIECES(3)];
    (void)state;
    assert_int_equal(xb_xray_body_pieces(docs, 3, v), 0); /* one plain document */
    assert_int_equal(xb_xray_body_pieces(docs + 1, 1, v), 0);
    assert_int_equal(xb_xray_body_pieces(docs, 0, v), 0); /* no documents */
    assert_int_equal(xb_xray_body_pieces(docs + 2, 1, v), 3);
    /* An empty embedded document is an empty piece. */
    docs[2]->len = 0;
    assert_int_equal(xb_xray_body_pieces(docs + 2, 1, v), 3);
    {
        char *got = joined(v, 3);
        assert_string_equal(got, "{\"TraceSegmentDocuments\":[\"\"]}");
        free(got);
    }
    for (size_t i = 0; i < 3; i++)
        free(docs[i]);
}

static void test_as_pieces(void **state)
{
    (void)state;
    assert_true(xb_xray_body_as_pieces(3, XB_XRAY_PIECES_MIN_BYTES));
    assert_true(xb_xray_body_as_pieces(101, 400000));
    assert_false(xb_xray_body_as_pieces(3, XB_XRAY_PIECES_MIN_BYTES - 1)); /* with the headers */
    assert_false(xb_xray_body_as_pieces(3, 2000));
    assert_false(xb_xray_body_as_pieces(0, 400000)); /* a plain document: escaped */
}

/* What finish() gets from cJSON for |s|: the number of UnprocessedTraceSegments entries
 * (0 when it does not parse or has no such array). */
static int cjson_entries(const char *s)
{
    cJSON *root = cJSON_ParseWithLength(s, strlen(s));
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "UnprocessedTraceSegments");
    int n = list ? cJSON_GetArraySize(list) : 0;
    cJSON_Delete(root);
    return n;
}

static void test_answer_all_accepted(void **state)
{
    static const char *const yes[] = {
        "",
        " \r\n\t",
        "{}",
        "{\"UnprocessedTraceSegments\":[]}",
        " { \"UnprocessedTraceSegments\" : [ ] } \n",
        "{\n  \"UnprocessedTraceSegments\": []\n}\n",
        "\t{\r}\r\n",
    };
    static const char *const no[] = {
        "{\"UnprocessedTraceSegments\":[{\"Id\":\"a\",\"ErrorCode\":\"x\"}]}",
        "{\"UnprocessedTraceSegments\":[],\"x\":1}",
        "{\"x\":1}",
        "{\"unprocessedTraceSegments\":[]}",
        "{\"UnprocessedTraceSegments\":[]",
        "{\"UnprocessedTraceSegments\":[]}}",
        "{} x",
        "{",
        "}",
        "[]",
        "null",
        "{\"UnprocessedTraceSegments\":{}}",
        "{\"UnprocessedTraceSegments\":null}",
        "\v{}",
        "{\"UnprocessedTraceSegments\" [] }",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_true(xb_xray_answer_all_accepted(yes[i], strlen(yes[i])));
        assert_int_equal(cjson_entries(yes[i]), 0);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(xb_xray_answer_all_accepted(no[i], strlen(no[i])));
    assert_true(xb_xray_answer_all_accepted(NULL, 0));
    /* The length counts, not a terminating NUL: a cut answer is not accepted. */
    assert_false(xb_xray_answer_all_accepted("{\"UnprocessedTraceSegments\":[]}", 20));
    assert_true(xb_xray_answer_all_accepted("{}{\"Unprocessed", 2));
    /* Every prefix of the long form but the whole is refused (except the empty one). */
    {
        const char *full = "{\"UnprocessedTraceSegments\":[]}";
        for (size_t n = 1; n < strlen(full); n++)
            assert_false(xb_xray_answer_all_accepted(full, n));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_and_many),
        cmocka_unit_test(test_not_pieces),
        cmocka_unit_test(test_as_pieces),
        cmocka_unit_test(test_answer_all_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
