/*
 * tests/unit/aws/test_proxy_env.c - aws/proxy_env.c: which proxy environment variables
 * count (the names libcurl 7.88 reads, case-sensitive), and the CURLOPT_PROXY /
 * CURLOPT_NOPROXY values chosen from them for each kind of configured proxy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "aws/proxy_env.h"

extern char **environ;

static struct xb_proxy_env scan1(const char *entry)
{
    char *envp[] = {"PATH=/usr/bin", (char *)entry, "HOME=/root", NULL};
    struct xb_proxy_env e;
    xb_proxy_env_scan(envp, &e);
    return e;
}

static void test_scan_names(void **state)
{
    static const char *const proxies[] = {"http_proxy=http://p:3128",
                                          "HTTP_PROXY=http://p:3128",
                                          "https_proxy=http://p:3128",
                                          "HTTPS_PROXY=http://p:3128",
                                          "all_proxy=socks5://p:1080",
                                          "ALL_PROXY=http://p:1",
                                          "HTTPS_PROXY=",
                                          NULL};
    (void)state;
    for (size_t i = 0; proxies[i]; i++) {
        struct xb_proxy_env e = scan1(proxies[i]);
        assert_true(e.proxy_vars);
        assert_false(e.no_proxy_vars);
    }
    for (size_t i = 0; i < 2; i++) {
        struct xb_proxy_env e = scan1(i ? "NO_PROXY=127.0.0.1" : "no_proxy=");
        assert_false(e.proxy_vars);
        assert_true(e.no_proxy_vars);
    }
}

static void test_scan_near_misses(void **state)
{
    /* Names libcurl does not read (getenv is case-sensitive), prefixes, suffixes, and an
     * entry without '='. */
    static const char *const others[] = {"Https_Proxy=http://p:1",
                                         "HTTPS_PROXY_X=1",
                                         "XHTTPS_PROXY=1",
                                         "https_proxy",
                                         "ftp_proxy=http://p:1",
                                         "no_proxyx=1",
                                         "socks_proxy=p:1",
                                         "=",
                                         "",
                                         NULL};
    (void)state;
    for (size_t i = 0; others[i]; i++) {
        struct xb_proxy_env e = scan1(others[i]);
        assert_false(e.proxy_vars);
        assert_false(e.no_proxy_vars);
    }
    {
        struct xb_proxy_env e = {1, 1};
        xb_proxy_env_scan(NULL, &e); /* no environment at all */
        assert_false(e.proxy_vars);
        assert_false(e.no_proxy_vars);
    }
}

static void expect(const struct xb_proxy_env *env, const char *configured, const char *want_proxy,
                   const char *want_noproxy)
{
    const char *proxy = "unset", *noproxy = "unset";
    xb_proxy_env_opts(env, configured, &proxy, &noproxy);
    if (want_proxy)
        assert_string_equal(proxy, want_proxy);
    else
        assert_null(proxy);
    if (want_noproxy)
        assert_string_equal(noproxy, want_noproxy);
    else
        assert_null(noproxy);
}

static void test_opts(void **state)
{
    const struct xb_proxy_env none = {0, 0}, px = {1, 0}, nopx = {0, 1}, both = {1, 1};
    const char *url = "http://user:pw@proxy:3128";
    (void)state;
    /* Nothing in the environment: no look-ups, no proxy. */
    expect(&none, NULL, "", "");
    /* A proxy variable: libcurl reads the environment as before. */
    expect(&px, NULL, NULL, NULL);
    expect(&both, NULL, NULL, NULL);
    /* NO_PROXY alone only exempts hosts from a proxy there is none of. */
    expect(&nopx, NULL, "", "");
    /* "" configured: never a proxy, whatever the environment says. */
    expect(&none, "", "", "");
    expect(&px, "", "", "");
    expect(&both, "", "", "");
    /* A configured proxy: NO_PROXY still applies when set. */
    expect(&none, url, url, "");
    expect(&px, url, url, "");
    expect(&nopx, url, url, NULL);
    expect(&both, url, url, NULL);
}

/* The process's scan is the scan of environ, and the same one on every call. */
static void test_process_once(void **state)
{
    const struct xb_proxy_env *a = xb_proxy_env_process(), *b = xb_proxy_env_process();
    struct xb_proxy_env want;
    (void)state;
    xb_proxy_env_scan(environ, &want);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_int_equal(a->proxy_vars, want.proxy_vars);
    assert_int_equal(a->no_proxy_vars, want.no_proxy_vars);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_names),
        cmocka_unit_test(test_scan_near_misses),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_process_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
