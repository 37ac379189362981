/*
 * tests/unit/aws/test_chain.c - aws/chain.c: which credential source a refresh
 * plans, from the environment and shared files only (no network); aws/request.c:
 * the headers and signature of a built request; aws/imds.c: the IMDSv2 requests and
 * how a token answer continues.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/chain.h"
#include "aws/imds.h"
#include "aws/request.h"
#include "aws/sigv4.h"
#include "core/err.h"

static const char *const env_names[] = {"AWS_ACCESS_KEY_ID",
                                        "AWS_SECRET_ACCESS_KEY",
                                        "AWS_SESSION_TOKEN",
                                        "AWS_PROFILE",
                                        "AWS_SHARED_CREDENTIALS_FILE",
                                        "AWS_CONFIG_FILE",
                                        "AWS_ROLE_ARN",
                                        "AWS_WEB_IDENTITY_TOKEN_FILE",
                                        "AWS_ROLE_SESSION_NAME",
                                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                        "AWS_EC2_METADATA_DISABLED",
                                        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                                        "HOME"};
#define N_ENV (sizeof(env_names) / sizeof(env_names[0]))

static char dir[64];

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ENV; i++)
        unsetenv(env_names[i]);
    snprintf(dir, sizeof(dir), "/tmp/xb_chain_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    setenv("HOME", dir, 1); /* no ~/.aws: the shared files are absent */
    return 0;
}

static int teardown(void **state)
{
    char path[128];
    (void)state;
    snprintf(path, sizeof(path), "%s/credentials", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void write_file(const char *name, const char *text, char *path, size_t path_len)
{
    FILE *f;
    snprintf(path, path_len, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_env_first(void **state)
{
    struct xb_creds_plan_opts o = {NULL, NULL, NULL, XB_CREDS_SRC_NONE};
    struct xb_creds_plan pl;
    char err[512] = "";
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/ignored", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent", 1);
    assert_int_equal(xb_creds_plan_build(&o, &pl, err, sizeof(err)), XB_OK);
    assert_int_equal(pl.kind, XB_CREDS_SRC_ENV);
    assert_int_equal(pl.origin, XB_CREDS_SRC_ENV);
    assert_string_equal(pl.base_static.access_key_id, "AKIDENV");
    assert_null(pl.base_static.session_token);
    assert_int_equal(pl.n_hops, 0);
    xb_creds_plan_cleanup(&pl);
    assert_null(pl.base_static.access_key_id);
}

static void test_profile_role_chain_then_configured_role(void **state)
{
    struct xb_creds_plan_opts o = {"dev", "arn:aws:iam::1:role/top", "xraybridge",
                                   XB_CREDS_SRC_NONE};
    struct xb_creds_plan pl;
    char err[512] = "", path[128];
    (void)state;
    write_file("credentials",
               "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
               "[dev]\nrole_arn = arn:aws:iam::1:role/dev\nsource_profile = base\n"
               "external_id = ext\n",
               path, sizeof(path));
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    assert_int_equal(xb_creds_plan_build(&o, &pl, err, sizeof(err)), XB_OK);
    assert_int_equal(pl.kind, XB_CREDS_SRC_FILES);
    assert_string_equal(pl.base_static.access_key_id, "AKIDBASE");
    assert_int_equal(pl.n_hops, 2);
    assert_string_equal(pl.hops[0].role_arn, "arn:aws:iam::1:role/dev");
    assert_string_equal(pl.hops[0].external_id, "ext");
    assert_string_equal(pl.hops[1].role_arn, "arn:aws:iam::1:role/top");
    assert_string_equal(pl.hops[1].session_name, "xraybridge");
    xb_creds_plan_cleanup(&pl);

    /* An explicit profile that does not exist is a configuration error. */
    o.profile = "nope";
    assert_int_equal(xb_creds_plan_build(&o, &pl, err, sizeof(err)), XB_ERR_CONFIG);
    assert_non_null(strstr(err, "profile nope not found"));
}

static void test_web_identity_and_pinning(void **state)
{
    struct xb_creds_plan_opts o = {NULL, NULL, NULL, XB_CREDS_SRC_NONE};
    struct xb_creds_plan pl;
    char err[512] = "";
    (void)state;
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/irsa", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token", 1);
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds", 1);
    assert_int_equal(xb_creds_plan_build(&o, &pl, err, sizeof(err)), XB_OK);
    assert_int_equal(pl.kind, XB_CREDS_SRC_WEBID);
    assert_string_equal(pl.webid_role, "arn:aws:iam::1:role/irsa");
    assert_string_equal(pl.url, "/var/run/token");
    assert_null(pl.webid_session);
    xb_creds_plan_cleanup(&pl);

    /* Pinned to the container link: the web identity settings are not looked at. */
    o.only = XB_CREDS_SRC_CONTAINER;
    assert_int_equal(xb_creds_plan_build(&o, &pl, err, sizeof(err)), XB_OK);
    assert_int_equal(pl.kind, XB_CREDS_SRC_CONTAINER);
    assert_string_equal(pl.url, "http://169.254.170.2/v2/creds");
    xb_creds_plan_cleanup(&pl);

    /* Pinned to a link that went away. */
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    assert_int_equal(xb_creds_plan_build(&o, &pl, err, sizeof(err)), XB_ERR_NOT_FOUND);
    assert_string_equal(err, "container: no longer configured");
}

static void test_nothing_configured(void **state)
{
    struct xb_creds_plan_opts o = {NULL, NULL, NULL, XB_CREDS_SRC_NONE};
    struct xb_creds_plan pl;
    char err[512] = "";
    (void)state;
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    assert_int_equal(xb_creds_plan_build(&o, &pl, err, sizeof(err)), XB_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "no AWS credentials found"));
    assert_non_null(strstr(err, "disabled by AWS_EC2_METADATA_DISABLED"));
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
    assert_int_equal(xb_creds_plan_build(&o, &pl, err, sizeof(err)), XB_OK);
    assert_int_equal(pl.kind, XB_CREDS_SRC_IMDS);
    assert_string_equal(pl.url, "http://127.0.0.1:9");
    assert_string_equal(xb_creds_plan_source_name(pl.kind), "imds");
    xb_creds_plan_cleanup(&pl);
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

/* The builder signs exactly what the signer signs, sends Host as signed, and puts the
 * token header and "Expect:" on the request. */
static void test_request_build_signed(void **state)
{
    static const struct xb_sigv4_header ct = {"Content-Type", "application/json"};
    struct xb_aws_creds creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                 "TOKEN"};
    struct xb_sigv4_header sh[3] = {{"host", "127.0.0.1:8080"},
                                    {"content-type", "application/json"},
                                    {"x-amz-security-token", "TOKEN"}};
    struct xb_sigv4_request sreq = {"POST", "/TraceSegments", NULL, sh, 3, "{}", 2};
    struct xb_sigv4_result sig;
    struct xb_aws_request r = {.method = "POST",
                               .url = "http://127.0.0.1:8080/TraceSegments",
                               .headers = &ct,
                               .n_headers = 1,
                               .body = "{}",
                               .body_len = 2,
                               .sign = {"xray", "us-west-2", &creds, 1709296496},
                               .on_body = sink};
    const char *want[] = {"Host: 127.0.0.1:8080",
                          "Content-Type: application/json",
                          "X-Amz-Date: 20240301T123456Z",
                          "X-Amz-Security-Token: TOKEN",
                          NULL,
                          "Expect:"};
    char auth[1100], err[256] = "";
    struct curl_slist *h, *l;
    CURL *e;
    size_t i = 0;
    (void)state;
    assert_int_equal(xb_sigv4_sign(&sreq, "us-west-2", "xray", &creds, 1709296496, &sig), XB_OK);
    snprintf(auth, sizeof(auth), "Authorization: %s", sig.authorization);
    want[4] = auth;
    assert_int_equal(xb_aws_request_build(&r, &e, &h, err, sizeof(err)), XB_OK);
    for (l = h; l; l = l->next, i++) {
        assert_true(i < 6);
        assert_string_equal(l->data, want[i]);
    }
    assert_int_equal(i, 6);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);

    /* Unsigned GET: only the caller's headers, no Expect. */
    r = (struct xb_aws_request){
        .method = "GET", .url = "http://x/", .headers = &ct, .n_headers = 1, .on_body = sink};
    assert_int_equal(xb_aws_request_build(&r, &e, &h, err, sizeof(err)), XB_OK);
    assert_string_equal(h->data, "Content-Type: application/json");
    assert_null(h->next);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);

    /* A URL that does not parse is refused before anything is allocated; userinfo is
     * not repeated in the error text. */
    r = (struct xb_aws_request){.method = "POST",
                                .url = "http://user:pw@[bad/x",
                                .sign = {"xray", "us-west-2", &creds, 1709296496}};
    assert_int_equal(xb_aws_request_build(&r, &e, &h, err, sizeof(err)), XB_ERR_CONFIG);
    assert_null(e);
    assert_null(h);
    assert_non_null(strstr(err, "is not a valid URL"));
    assert_null(strstr(err, "pw"));
}

static void test_imds_protocol(void **state)
{
    struct xb_imds_call c;
    char big[1100];
    (void)state;
    assert_int_equal(xb_imds_token_call(&c, "http://127.0.0.1:9"), XB_OK);
    assert_string_equal(c.req.method, "PUT");
    assert_string_equal(c.req.url, "http://127.0.0.1:9/latest/api/token");
    assert_int_equal(c.req.n_headers, 1);
    assert_string_equal(c.req.headers[0].name, "X-aws-ec2-metadata-token-ttl-seconds");
    assert_string_equal(c.req.headers[0].value, "21600");
    assert_string_equal(c.req.proxy, ""); /* never through a proxy */
    assert_int_equal(c.req.timeout_ms, XB_IMDS_TIMEOUT_MS);

    assert_int_equal(xb_imds_get_call(&c, "http://e", "/latest/meta-data/x", "TOK"), XB_OK);
    assert_string_equal(c.req.method, "GET");
    assert_string_equal(c.req.url, "http://e/latest/meta-data/x");
    assert_string_equal(c.req.headers[0].name, "X-aws-ec2-metadata-token");
    assert_string_equal(c.req.headers[0].value, "TOK");
    assert_int_equal(xb_imds_get_call(&c, "http://e", "/p", ""), XB_OK);
    assert_int_equal(c.req.n_headers, 0); /* IMDSv1 fallback: no token header */

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(xb_imds_token_call(&c, big), XB_ERR_TOO_LARGE);

    assert_int_equal(xb_imds_token_classify(200, "tok", 3), XB_IMDS_TOKEN_V2);
    assert_int_equal(xb_imds_token_classify(200, "", 0), XB_IMDS_TOKEN_FAIL);
    assert_int_equal(xb_imds_token_classify(200, "a\nb", 3), XB_IMDS_TOKEN_FAIL);
    assert_int_equal(xb_imds_token_classify(403, "", 0), XB_IMDS_TOKEN_V1);
    assert_int_equal(xb_imds_token_classify(405, "", 0), XB_IMDS_TOKEN_V1);
    assert_int_equal(xb_imds_token_classify(500, "", 0), XB_IMDS_TOKEN_FAIL);

    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6", 1);
    assert_string_equal(xb_imds_endpoint(), "http://[fd00:ec2::254]");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    assert_string_equal(xb_imds_endpoint(), "http://127.0.0.1:1");
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    assert_string_equal(xb_imds_endpoint(), "http://169.254.169.254");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_env_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_role_chain_then_configured_role, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_web_identity_and_pinning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_configured, setup, teardown),
        cmocka_unit_test(test_request_build_signed),
        cmocka_unit_test_setup_teardown(test_imds_protocol, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
