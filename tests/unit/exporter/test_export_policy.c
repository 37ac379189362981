/* Unit tests for exporter/export_policy.c: seeded jitter, back-off bounds, URL
 * redaction, the clear-text endpoint check and its warning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h> /* after the headers it needs */

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

/* ---- redaction ----------------------------------------------------------- */

static void expect_redact(const char *in, const char *want)
{
    char out[256];
    assert_string_equal(xb_url_redact(in, out, sizeof(out)), want);
}

static void test_url_redact_removes_userinfo(void **state)
{
    char small[12];

    (void)state;
    expect_redact("https://xray.us-west-2.amazonaws.com/TraceSegments",
                  "https://xray.us-west-2.amazonaws.com/TraceSegments");
    expect_redact("https://user:s3cret@xray.example.com:8443/TraceSegments",
                  "https://***@xray.example.com:8443/TraceSegments");
    expect_redact("http://onlyuser@127.0.0.1:9/x", "http://***@127.0.0.1:9/x");
    /* an '@' in the password: the last '@' of the authority ends the userinfo */
    expect_redact("http://u:p@ss@proxy:3128", "http://***@proxy:3128");
    /* proxies may be given without a scheme */
    expect_redact("puser:ppass@proxy.local:3128", "***@proxy.local:3128");
    expect_redact("proxy.local:3128", "proxy.local:3128");
    /* an '@' after the authority is not userinfo */
    expect_redact("https://host/path@x?q=a@b", "https://host/path@x?q=a@b");
    expect_redact(NULL, "");
    /* cut output never shows the password */
    xb_url_redact("https://user:topsecret@h", small, sizeof(small));
    assert_null(strstr(small, "top"));
    assert_null(strstr(small, "user"));
}

/* ---- clear-text endpoints ------------------------------------------------ */

static void test_url_cleartext_remote(void **state)
{
    (void)state;
    assert_true(xb_url_cleartext_remote("http://xray.us-east-1.amazonaws.com"));
    assert_true(xb_url_cleartext_remote("HTTP://10.0.0.5:2000/TraceSegments"));
    assert_true(xb_url_cleartext_remote("http://sts.amazonaws.com/"));
    assert_true(xb_url_cleartext_remote("http://[fd00::1]:80/"));
    assert_true(xb_url_cleartext_remote("http://128.0.0.1/"));
    assert_true(xb_url_cleartext_remote("http://localhost.example.com/"));
    assert_true(xb_url_cleartext_remote("http://127.0.0.1@evil.example/")); /* host is evil */
    assert_false(xb_url_cleartext_remote("https://xray.us-east-1.amazonaws.com"));
    assert_false(xb_url_cleartext_remote("http://127.0.0.1:2000"));
    assert_false(xb_url_cleartext_remote("http://127.45.6.7/x"));
    assert_false(xb_url_cleartext_remote("http://localhost:2000/"));
    assert_false(xb_url_cleartext_remote("http://LOCALHOST./"));
    assert_false(xb_url_cleartext_remote("http://[::1]:2000/"));
    assert_false(xb_url_cleartext_remote("http://[::ffff:127.0.0.1]:2000/"));
    assert_false(xb_url_cleartext_remote("http://user:pw@127.0.0.1:2000/"));
    assert_false(xb_url_cleartext_remote(""));
    assert_false(xb_url_cleartext_remote(NULL));
}

/* Runs xb_url_warn_if_cleartext with stderr captured; returns its result, |log| the text. */
static int warn_captured(const char *url, char *log, size_t log_len)
{
    char path[] = "/tmp/xb-policy-log-XXXXXX";
    int fd = mkstemp(path), saved = dup(2), rc;
    FILE *f;
    size_t n;

    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    rc = xb_url_warn_if_cleartext("xray", "X-Ray endpoint", url);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    f = fdopen(fd, "r");
    assert_non_null(f);
    rewind(f);
    n = fread(log, 1, log_len - 1, f);
    log[n] = '\0';
    fclose(f);
    unlink(path);
    return rc;
}

static void test_warn_if_cleartext_logs_once_redacted(void **state)
{
    char log[2048];

    (void)state;
    assert_int_equal(
        warn_captured("http://u:hunter2@xray.example.com/TraceSegments", log, sizeof(log)), 1);
    assert_non_null(strstr(log, "clear text"));
    assert_non_null(strstr(log, "X-Ray endpoint http://***@xray.example.com/TraceSegments"));
    assert_null(strstr(log, "hunter2"));
    assert_int_equal(strlen(strstr(log, "\n") + 1), 0); /* exactly one line */
    assert_int_equal(warn_captured("http://127.0.0.1:2000/TraceSegments", log, sizeof(log)), 0);
    assert_string_equal(log, "");
    assert_int_equal(warn_captured("https://xray.example.com", log, sizeof(log)), 0);
    assert_string_equal(log, "");
    assert_int_equal(warn_captured(NULL, log, sizeof(log)), 0);
}

/* ---- matching by stored id ----------------------------------------------- */

/* A document whose link carries another trace's segment id: UnprocessedTraceSegments
 * entries for that other id must not match it. */
/* ---- reuse of short-lived credentials ----------------------------------- */

static void test_creds_reusable_recent_with_time_left(void **state)
{
    const int64_t now_s = 1700000000;
    (void)state;
    /* fetched 1 s ago, 10 minutes left */
    assert_true(xb_creds_reusable(101000, 100000, now_s + 600, now_s));
    /* fetched just under / exactly XB_CREDS_REUSE_MS ago */
    assert_true(xb_creds_reusable(100000 + XB_CREDS_REUSE_MS - 1, 100000, now_s + 600, now_s));
    assert_false(xb_creds_reusable(100000 + XB_CREDS_REUSE_MS, 100000, now_s + 600, now_s));
    /* time left must be more than XB_CREDS_MIN_LEFT_S */
    assert_true(xb_creds_reusable(101000, 100000, now_s + XB_CREDS_MIN_LEFT_S + 1, now_s));
    assert_false(xb_creds_reusable(101000, 100000, now_s + XB_CREDS_MIN_LEFT_S, now_s));
    assert_false(xb_creds_reusable(101000, 100000, now_s - 5, now_s)); /* expired */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_caps_and_jitters_within_half),
        cmocka_unit_test(test_rng_fixed_seed_is_reproducible),
        cmocka_unit_test(test_rng_seeded_sources_differ),
        cmocka_unit_test(test_rng_jitter_spreads),
        cmocka_unit_test(test_url_redact_removes_userinfo),
        cmocka_unit_test(test_url_cleartext_remote),
        cmocka_unit_test(test_warn_if_cleartext_logs_once_redacted),
        cmocka_unit_test(test_creds_reusable_recent_with_time_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
