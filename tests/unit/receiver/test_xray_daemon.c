/*
 * Unit tests for receiver/xray_daemon.c: the X-Ray daemon datagram check, every
 * refusal reason, a 60,000-byte document, in-progress then completed segments and a
 * standalone subsegment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "receiver/xray_daemon.h"

#define HDR "{\"format\": \"json\", \"version\": 1}\n"
#define TID "1-5f84c7a1-0123456789abcdef01234567"
#define SEG "{\"name\":\"svc\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" TID "\""

static enum xb_udp_verdict check(const char *s, struct xb_xray_doc *d)
{
    return xb_xray_daemon_check(s, strlen(s), d, NULL);
}

static void accepts_completed_segment(void **state)
{
    const char *s = HDR SEG ",\"start_time\":1.5,\"end_time\":2.25}";
    struct xb_xray_doc d;
    (void)state;
    assert_int_equal(check(s, &d), XB_UDP_OK);
    assert_ptr_equal(d.json, s + strlen(HDR));
    assert_int_equal(d.len, strlen(s) - strlen(HDR));
    assert_string_equal(d.trace_id, TID);
    assert_string_equal(d.id, "70de5b6f19ff9a0a");
    assert_int_equal(d.in_progress, 0);
    assert_int_equal(d.subsegment, 0);
}

static void accepts_in_progress_then_completed(void **state)
{
    struct xb_xray_doc d;
    (void)state;
    assert_int_equal(check(HDR SEG ",\"start_time\":1,\"in_progress\":true}", &d), XB_UDP_OK);
    assert_int_equal(d.in_progress, 1);
    assert_int_equal(check(HDR SEG ",\"start_time\":1,\"end_time\":3}", &d), XB_UDP_OK);
    assert_int_equal(d.in_progress, 0);
    /* completed without end_time: X-Ray would refuse it */
    assert_int_equal(check(HDR SEG ",\"start_time\":1}", &d), XB_UDP_MISSING_FIELD);
}

static void accepts_standalone_subsegment(void **state)
{
    struct xb_xray_doc d;
    (void)state;
    assert_int_equal(check(HDR SEG ",\"type\":\"subsegment\",\"parent_id\":\"1111222233334444\","
                                   "\"start_time\":1,\"end_time\":2}",
                           &d),
                     XB_UDP_OK);
    assert_int_equal(d.subsegment, 1);
    assert_int_equal(check(HDR SEG ",\"type\":\"subsegment\",\"start_time\":1,\"end_time\":2}", &d),
                     XB_UDP_MISSING_FIELD);
    assert_int_equal(check(HDR SEG ",\"type\":\"subsegment\",\"parent_id\":\"xyz\","
                                   "\"start_time\":1,\"end_time\":2}",
                           &d),
                     XB_UDP_MISSING_FIELD);
}

static void header_variants(void **state)
{
    const char *doc = SEG ",\"start_time\":1,\"end_time\":2}";
    const char *good[] = {"{\"format\":\"json\",\"version\":1}\n",
                          " { \"version\" : 1 ,\t\"format\" : \"json\" } \n"};
    const char *bad[] = {"",
                         "\n",
                         "{\"format\":\"json\",\"version\":2}\n",
                         "{\"format\":\"xml\",\"version\":1}\n",
                         "{\"format\":\"json\",\"version\":\"1\"}\n",
                         "{\"format\":\"json\"}\n",
                         "[1]\n",
                         "garbage\n"};
    char buf[512];
    struct xb_xray_doc d;
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s", good[i], doc);
        assert_int_equal(check(buf, &d), XB_UDP_OK);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s", bad[i], doc);
        assert_int_equal(check(buf, &d), XB_UDP_BAD_HEADER);
    }
    assert_int_equal(check(doc, &d), XB_UDP_BAD_HEADER); /* no header */
    assert_int_equal(check("{\"format\":\"json\",\"version\":1}", &d), XB_UDP_BAD_HEADER);
    assert_int_equal(xb_xray_daemon_check(NULL, 0, &d, NULL), XB_UDP_BAD_HEADER);
}

static void bad_json(void **state)
{
    struct xb_xray_doc d;
    const char *why = NULL;
    static const char junk[] = "{\"format\":\"json\",\"version\":1}\n\x00\xff\xfe\x01\x80";
    (void)state;
    assert_int_equal(check(HDR, &d), XB_UDP_BAD_JSON); /* header only */
    assert_int_equal(check(HDR SEG ",\"start_time\":1,\"end", &d), XB_UDP_BAD_JSON);
    assert_int_equal(check(HDR "[1,2]", &d), XB_UDP_BAD_JSON);
    assert_int_equal(check(HDR "{} {}", &d), XB_UDP_BAD_JSON);
    assert_int_equal(xb_xray_daemon_check(junk, sizeof(junk) - 1, &d, &why), XB_UDP_BAD_JSON);
    assert_non_null(why);
    assert_null(d.json);
}

static void missing_fields(void **state)
{
    struct xb_xray_doc d;
    const char *cases[] = {
        HDR "{\"name\":\"s\",\"trace_id\":\"" TID "\",\"start_time\":1,\"end_time\":2}",
        HDR "{\"name\":\"s\",\"id\":\"70de5b6f19ff9a0\",\"trace_id\":\"" TID
            "\",\"start_time\":1,\"end_time\":2}",
        HDR "{\"name\":\"s\",\"id\":\"70de5b6f19ff9a0a\",\"start_time\":1,\"end_time\":2}",
        HDR "{\"name\":\"s\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"2-5f84c7a1-"
            "0123456789abcdef01234567\",\"start_time\":1,\"end_time\":2}",
        HDR "{\"name\":\"s\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"1-5f84c7a1-"
            "0123456789abcdef0123456\",\"start_time\":1,\"end_time\":2}",
        HDR "{\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" TID
            "\",\"start_time\":1,\"end_time\":2}",
        HDR "{\"name\":\"\",\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"" TID
            "\",\"start_time\":1,\"end_time\":2}",
        HDR SEG ",\"end_time\":2}",
        HDR SEG ",\"start_time\":\"1\",\"end_time\":2}",
        HDR SEG ",\"type\":7,\"start_time\":1,\"end_time\":2}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(check(cases[i], &d), XB_UDP_MISSING_FIELD);
}

/* A document of exactly |n| bytes, padded in an annotation. Caller frees. */
static char *doc_of(size_t n)
{
    const char *head = HDR SEG ",\"start_time\":1,\"end_time\":2,\"annotations\":{\"pad\":\"";
    size_t hl = strlen(head), dl = n + strlen(HDR);
    char *s = malloc(dl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    memset(s + hl, 'x', dl - hl - 3);
    memcpy(s + dl - 3, "\"}}", 3);
    s[dl] = '\0';
    return s;
}

static void sizes(void **state)
{
    struct xb_xray_doc d;
    char *s;
    (void)state;
    s = doc_of(60000);
    assert_int_equal(check(s, &d), XB_UDP_OK);
    assert_int_equal(d.len, 60000);
    free(s);
    s = doc_of(XB_XRAY_MAX_DOCUMENT_BYTES);
    assert_int_equal(check(s, &d), XB_UDP_OK);
    free(s);
    s = doc_of(XB_XRAY_MAX_DOCUMENT_BYTES + 1);
    assert_int_equal(check(s, &d), XB_UDP_TOO_LARGE);
    free(s);
}

static void labels(void **state)
{
    (void)state;
    assert_string_equal(xb_udp_verdict_label(XB_UDP_BAD_HEADER), "bad_header");
    assert_string_equal(xb_udp_verdict_label(XB_UDP_BAD_JSON), "bad_json");
    assert_string_equal(xb_udp_verdict_label(XB_UDP_MISSING_FIELD), "missing_field");
    assert_string_equal(xb_udp_verdict_label(XB_UDP_TOO_LARGE), "too_large");
    assert_string_equal(xb_udp_verdict_label(XB_UDP_QUEUE_FULL), "queue_full");
    assert_string_equal(xb_udp_verdict_label(XB_UDP_KERNEL_OVERFLOW), "kernel_overflow");
}

/* Both checks agree on |s| (|n| bytes): verdict, reason and the accepted document. */
static void same_decision(const char *s, size_t n)
{
    struct xb_xray_doc a, b;
    const char *wa = NULL, *wb = NULL;
    enum xb_udp_verdict va = xb_xray_daemon_check(s, n, &a, &wa);
    enum xb_udp_verdict vb = xb_xray_daemon_check_reference(s, n, &b, &wb);

    assert_int_equal(va, vb);
    if (va != XB_UDP_OK) {
        assert_string_equal(wa, wb);
        return;
    }
    assert_ptr_equal(a.json, b.json);
    assert_int_equal(a.len, b.len);
    assert_string_equal(a.id, b.id);
    assert_string_equal(a.trace_id, b.trace_id);
    assert_int_equal(a.subsegment, b.subsegment);
    assert_int_equal(a.in_progress, b.in_progress);
}

/* The one-pass scanner against jansson on edge cases and 200,000 random mutations
 * (byte flips, JSON-significant bytes, cuts) of SDK-like documents. */
static void scanner_matches_jansson(void **state)
{
    static const char *const cases[] = {
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"x\":\"\\ud83d\\ude00\\u00e9\"}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"x\":\"\\ud83d\"}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"x\":\"\\ude00\"}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"x\":\"\\u0000\"}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"x\":\"\xc0\xaf\"}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"x\":\"\xed\xa0\x80\"}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"x\":\"\xf4\x90\x80\x80\"}",
        HDR SEG ",\"start_time\":9223372036854775807,\"end_time\":-9223372036854775808}",
        HDR SEG ",\"start_time\":9223372036854775808,\"end_time\":2}",
        HDR SEG ",\"start_time\":1e308,\"end_time\":1e309}",
        HDR SEG ",\"start_time\":1.7976931348623157e308,\"end_time\":1.8e308}",
        HDR SEG ",\"start_time\":1e-999,\"end_time\":-0.0e0}",
        HDR SEG ",\"start_time\":01,\"end_time\":2}",
        HDR SEG ",\"start_time\":1.,\"end_time\":2}",
        HDR SEG ",\"start_time\":-,\"end_time\":2}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"id\":\"0000000000000001\"}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"\\u0069d\":\"00000000000000\\u0031\\u0032\"}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"type\":\"sub\\u0073egment\","
                "\"parent_id\":\"1111222233334444\"}",
        HDR SEG ",\"start_time\":1,\"in_progress\":true,\"in_progress\":false}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,}",
        HDR SEG ",\"start_time\":1,\"end_time\":2} ",
        HDR SEG ",\"start_time\":1,\"end_time\":2}x",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"a\":[1,]}",
        HDR SEG ",\"start_time\":1,\"end_time\":2,\"a\":[true,false,null,{},[],\"\"]}",
        HDR "[" SEG ",\"start_time\":1,\"end_time\":2}]",
        HDR "\"x\"",
        HDR "",
        HDR " ",
        "{\"format\":\"json\",\"format\":\"json\",\"version\":1}\n" SEG
        ",\"start_time\":1,\"end_time\":2}",
    };
    const char *seed = HDR SEG ",\"type\":\"subsegment\",\"parent_id\":\"1111222233334444\","
                               "\"start_time\":1700000000.125,\"in_progress\":true,\"http\":{"
                               "\"request\":{\"url\":\"http://a/\\u00e9\"},\"response\":"
                               "{\"status\":500}},\"a\":[1,-2.5e3,true,null,\"\\\"\"]}";
    static const char alphabet[] = "{}[]\",:\\u0-9eE.+ \ntfn\x00\x80\xc3\xa9";
    size_t n = strlen(seed);
    char *buf = malloc(n + 1);
    unsigned r = 12345;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        same_decision(cases[i], strlen(cases[i]));
    {
        /* nesting: 2047 containers around a value are fine, 2048 are not */
        for (int depth = 2046; depth <= 2049; depth++) {
            size_t m = strlen(HDR) + 2 * (size_t)depth + 1;
            char *d = malloc(m);
            memcpy(d, HDR, strlen(HDR));
            memset(d + strlen(HDR), '[', (size_t)depth);
            d[strlen(HDR) + (size_t)depth] = '1';
            memset(d + strlen(HDR) + (size_t)depth + 1, ']', (size_t)depth);
            same_decision(d, m);
            free(d);
        }
    }
    for (int i = 0; i < 200000; i++) {
        size_t len = n;
        memcpy(buf, seed, n + 1);
        for (int k = 0; k < 1 + i % 3; k++) {
            r = r * 1103515245u + 12345u;
            size_t at = strlen(HDR) + (r >> 8) % (n - strlen(HDR));
            r = r * 1103515245u + 12345u;
            if ((r >> 16) % 8 == 0)
                len = at; /* cut */
            else
                buf[at] = alphabet[(r >> 8) % (sizeof(alphabet) - 1)];
        }
        same_decision(buf, len);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_completed_segment),
        cmocka_unit_test(accepts_in_progress_then_completed),
        cmocka_unit_test(accepts_standalone_subsegment),
        cmocka_unit_test(header_variants),
        cmocka_unit_test(bad_json),
        cmocka_unit_test(missing_fields),
        cmocka_unit_test(sizes),
        cmocka_unit_test(labels),
        cmocka_unit_test(scanner_matches_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
