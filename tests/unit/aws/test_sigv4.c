/*
 * tests/unit/aws/test_sigv4.c - aws/sigv4.c against known signatures.
 *
 * Oracles: AWS's published IAM ListUsers example (AWS General Reference, "Signature
 * Version 4 signing process" walk-through) and vectors signed by botocore's
 * SigV4Auth (tests/data/sigv4/vectors.json, produced by gen_vectors.py). argv[1],
 * when given, names a freshly generated vectors file to use instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <cmocka.h>

#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/err.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Signature of AWS's documented ListUsers example (doc_request, doc_creds, doc_time). */
#define DOC_SIGNATURE "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

static const char *vectors_path = XB_TEST_DATA_DIR "/sigv4/vectors.json";

/* 2015-08-30T12:36:00Z, the instant of AWS's documentation example. */
static const time_t doc_time = 1440938160;

static const struct xb_aws_creds doc_creds = {
    .access_key_id = "AKIDEXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    .session_token = NULL,
};

static const struct xb_sigv4_header doc_headers[] = {
    {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
    {"host", "iam.amazonaws.com"},
};

static struct xb_sigv4_request doc_request(void)
{
    struct xb_sigv4_request r = {
        .method = "GET",
        .path = "/",
        .query = "Action=ListUsers&Version=2010-05-08",
        .headers = doc_headers,
        .n_headers = 2,
        .payload = NULL,
        .payload_len = 0,
    };
    return r;
}

/* ------------------------------------------------------------------------- */
/* AWS documentation example                                                  */
/* ------------------------------------------------------------------------- */

static void test_sigv4_aws_doc_iam_list_users(void **state)
{
    struct xb_sigv4_request req = doc_request();
    struct xb_sigv4_result res;

    (void)state;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res), XB_OK);
    assert_string_equal(res.amz_date, "20150830T123600Z");
    assert_string_equal(res.payload_hash, EMPTY_SHA256);
    assert_string_equal(res.signature, DOC_SIGNATURE);
    assert_string_equal(res.authorization,
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
                        "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                        "Signature=" DOC_SIGNATURE);
}

/* Same request with "" as path, upper-case names, reordered headers, reordered query. */
static void test_sigv4_doc_example_is_order_and_case_insensitive(void **state)
{
    static const struct xb_sigv4_header hdrs[] = {
        {"Host", "  iam.amazonaws.com"},
        {"Content-Type", "application/x-www-form-urlencoded;   charset=utf-8 "},
    };
    struct xb_sigv4_request req = doc_request();
    struct xb_sigv4_result res;

    (void)state;
    req.path = "";
    req.query = "Version=2010-05-08&Action=ListUsers";
    req.headers = hdrs;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res), XB_OK);
    assert_string_equal(res.signature, DOC_SIGNATURE);
}

/* Caller-supplied authorization / x-amz-date headers are not signed (the signer owns them). */
static void test_sigv4_caller_date_and_authorization_are_replaced(void **state)
{
    static const struct xb_sigv4_header hdrs[] = {
        {"Authorization", "AWS4-HMAC-SHA256 stale"},
        {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"X-Amz-Date", "19990101T000000Z"},
        {"host", "iam.amazonaws.com"},
    };
    struct xb_sigv4_request req = doc_request();
    struct xb_sigv4_result res;

    (void)state;
    req.headers = hdrs;
    req.n_headers = 4;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res), XB_OK);
    assert_string_equal(res.signature, DOC_SIGNATURE);
}

/* Signature of the documentation request at |t| for |region| with |secret|. */
static void sign_doc_at(time_t t, const char *region, const char *secret, char sig[65])
{
    struct xb_aws_creds creds = doc_creds;
    struct xb_sigv4_request req = doc_request();
    struct xb_sigv4_result res;

    creds.secret_access_key = secret;
    assert_int_equal(xb_sigv4_sign(&req, region, "iam", &creds, t, &res), XB_OK);
    memcpy(sig, res.signature, 65);
}

/* The signing key is derived once per day and scope and reused; crossing midnight
 * derives the next day's key, and a cached key gives the signature a fresh one gives. */
static void test_sigv4_signing_key_reused_per_day(void **state)
{
    const char *secret = doc_creds.secret_access_key;
    const time_t next_day = doc_time + 86400;
    char sig[65], next[65], fresh[65], other[65];
    unsigned long d0;

    (void)state;
    xb_sigv4_forget_keys();
    d0 = xb_sigv4_key_derivations();
    sign_doc_at(doc_time, "us-east-1", secret, sig);
    assert_string_equal(sig, DOC_SIGNATURE);
    assert_int_equal(xb_sigv4_key_derivations(), d0 + 1);

    /* Same day, later second: key reused. The x-amz-date changed, so the signature too. */
    sign_doc_at(doc_time + 3600, "us-east-1", secret, sig);
    assert_int_equal(xb_sigv4_key_derivations(), d0 + 1);
    xb_sigv4_forget_keys();
    sign_doc_at(doc_time + 3600, "us-east-1", secret, fresh);
    assert_string_equal(sig, fresh);
    assert_int_equal(xb_sigv4_key_derivations(), d0 + 2);

    /* Midnight passed: a new key, the same signature as one derived from nothing. */
    sign_doc_at(next_day, "us-east-1", secret, next);
    assert_int_equal(xb_sigv4_key_derivations(), d0 + 3);
    assert_string_not_equal(next, DOC_SIGNATURE);
    xb_sigv4_forget_keys();
    sign_doc_at(next_day, "us-east-1", secret, fresh);
    assert_string_equal(next, fresh);
    assert_int_equal(xb_sigv4_key_derivations(), d0 + 4);

    /* Both days cached: each request gets its own day's key. */
    sign_doc_at(doc_time, "us-east-1", secret, sig);
    assert_string_equal(sig, DOC_SIGNATURE);
    sign_doc_at(next_day, "us-east-1", secret, sig);
    assert_string_equal(sig, next);
    sign_doc_at(doc_time, "us-east-1", secret, sig);
    assert_string_equal(sig, DOC_SIGNATURE);
    assert_int_equal(xb_sigv4_key_derivations(), d0 + 5);

    /* Another secret or region on the same day is another key. */
    sign_doc_at(doc_time, "us-east-1", "another-secret", other);
    assert_string_not_equal(other, DOC_SIGNATURE);
    sign_doc_at(doc_time, "eu-west-1", secret, other);
    assert_string_not_equal(other, DOC_SIGNATURE);
    assert_int_equal(xb_sigv4_key_derivations(), d0 + 7);
    sign_doc_at(doc_time, "us-east-1", secret, sig);
    assert_string_equal(sig, DOC_SIGNATURE);
    xb_sigv4_forget_keys();
}

/* An empty session token means "no token": nothing extra is signed. */
static void test_sigv4_empty_session_token_is_not_signed(void **state)
{
    struct xb_aws_creds creds = doc_creds;
    struct xb_sigv4_request req = doc_request();
    struct xb_sigv4_result res;

    (void)state;
    creds.session_token = "";
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &creds, doc_time, &res), XB_OK);
    assert_null(strstr(res.authorization, "x-amz-security-token"));
    assert_string_equal(res.signature, DOC_SIGNATURE);

    creds.session_token = "token";
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &creds, doc_time, &res), XB_OK);
    assert_non_null(strstr(res.authorization,
                           "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));
    assert_string_not_equal(res.signature, DOC_SIGNATURE);
}

/* ------------------------------------------------------------------------- */
/* botocore vectors                                                           */
/* ------------------------------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    data = malloc((size_t)len + 1);
    if (!data)
        goto out;
    if (fread(data, 1, (size_t)len, f) != (size_t)len) {
        free(data);
        data = NULL;
        goto out;
    }
    data[len] = '\0';
out:
    fclose(f);
    return data;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Field |key| of the expected block must equal |got|; prints and counts a mismatch. */
static int expect_eq(const char *vec, const cJSON *exp, const char *key, const char *got)
{
    const char *want = json_str(exp, key);

    if (want && strcmp(want, got) == 0)
        return 0;
    print_message("vector %s: %s\n  want %s\n  got  %s\n", vec, key, want ? want : "(missing)",
                  got);
    return 1;
}

/*
 * Signs vector |v| and compares with botocore's answer. Returns the number of
 * mismatches (0 = pass) rather than asserting, so nothing leaks on failure.
 */
static int check_vector(const cJSON *v)
{
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(v, "headers");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(v, "expected");
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(v, "unix_time");
    const char *name = json_str(v, "name");
    struct xb_sigv4_header *h = NULL;
    struct xb_sigv4_request req;
    struct xb_aws_creds creds;
    struct xb_sigv4_result res;
    size_t n = 0;
    const cJSON *pair;
    int rc, bad = 0;

    if (!name || !cJSON_IsArray(hdrs) || !cJSON_IsObject(exp) || !cJSON_IsNumber(when) ||
        !json_str(v, "payload")) {
        print_message("vector %s: malformed\n", name ? name : "?");
        bad = 1;
        goto out;
    }
    h = calloc((size_t)cJSON_GetArraySize(hdrs) + 1, sizeof(*h));
    if (!h) {
        bad = 1;
        goto out;
    }
    cJSON_ArrayForEach(pair, hdrs)
    {
        h[n].name = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
        h[n].value = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 1));
        n++;
    }
    memset(&req, 0, sizeof(req));
    req.method = json_str(v, "method");
    req.path = json_str(v, "path");
    req.query = json_str(v, "query");
    req.headers = h;
    req.n_headers = n;
    req.payload = json_str(v, "payload");
    req.payload_len = strlen(req.payload);
    creds.access_key_id = json_str(v, "access_key_id");
    creds.secret_access_key = json_str(v, "secret_access_key");
    creds.session_token = json_str(v, "session_token");

    rc = xb_sigv4_sign(&req, json_str(v, "region"), json_str(v, "service"), &creds,
                       (time_t)when->valuedouble, &res);
    if (rc != XB_OK) {
        print_message("vector %s: xb_sigv4_sign returned %d\n", name, rc);
        bad = 1;
        goto out;
    }
    bad += expect_eq(name, exp, "amz_date", res.amz_date);
    bad += expect_eq(name, exp, "payload_hash", res.payload_hash);
    bad += expect_eq(name, exp, "signature", res.signature);
    bad += expect_eq(name, exp, "authorization", res.authorization);
    if (bad)
        print_message("vector %s: botocore canonical request:\n%s\n", name,
                      json_str(exp, "canonical_request"));
out:
    free(h);
    return bad;
}

static void test_sigv4_matches_botocore_vectors(void **state)
{
    char *text = read_file(vectors_path);
    cJSON *doc, *vectors, *v;
    int count = 0, bad = 0;

    (void)state;
    if (!text)
        print_message("cannot read %s\n", vectors_path);
    assert_non_null(text);
    doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    vectors = cJSON_GetObjectItemCaseSensitive(doc, "vectors");
    cJSON_ArrayForEach(v, vectors)
    {
        bad += check_vector(v);
        count++;
    }
    cJSON_Delete(doc);
    assert_int_equal(bad, 0);
    assert_true(count >= 4);
}

/* ------------------------------------------------------------------------- */
/* Errors                                                                     */
/* ------------------------------------------------------------------------- */

static void test_sigv4_missing_host_is_invalid(void **state)
{
    struct xb_sigv4_request req = doc_request();
    struct xb_sigv4_result res;

    (void)state;
    req.n_headers = 1; /* content-type only */
    memset(&res, 'x', sizeof(res));
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);
    assert_string_equal(res.authorization, "");
    assert_string_equal(res.signature, "");

    req.headers = NULL;
    req.n_headers = 0;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);
}

static void test_sigv4_missing_credentials_is_invalid(void **state)
{
    struct xb_sigv4_request req = doc_request();
    struct xb_aws_creds creds;
    struct xb_sigv4_result res;

    (void)state;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", NULL, doc_time, &res), XB_ERR_INVALID);

    creds = doc_creds;
    creds.access_key_id = NULL;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &creds, doc_time, &res),
                     XB_ERR_INVALID);
    creds.access_key_id = "";
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &creds, doc_time, &res),
                     XB_ERR_INVALID);

    creds = doc_creds;
    creds.secret_access_key = NULL;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &creds, doc_time, &res),
                     XB_ERR_INVALID);
    creds.secret_access_key = "";
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &creds, doc_time, &res),
                     XB_ERR_INVALID);
}

static void test_sigv4_bad_arguments_are_invalid(void **state)
{
    static const struct xb_sigv4_header bad_name[] = {
        {"host", "iam.amazonaws.com"},
        {"bad name", "v"},
    };
    struct xb_sigv4_request req = doc_request();
    struct xb_sigv4_result res;

    (void)state;
    assert_int_equal(xb_sigv4_sign(&req, "", "iam", &doc_creds, doc_time, &res), XB_ERR_INVALID);
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", NULL, &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);
    assert_int_equal(xb_sigv4_sign(&req, "us/east", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);
    assert_int_equal(xb_sigv4_sign(NULL, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, NULL),
                     XB_ERR_INVALID);

    req.query = "Action=%zzList"; /* malformed escape */
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);
    req.query = "Action=List%2"; /* truncated escape */
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);

    req = doc_request();
    req.path = "relative/path";
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);

    req = doc_request();
    req.headers = bad_name;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);

    req = doc_request();
    req.payload_len = 3; /* payload NULL */
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_INVALID);
}

/* A signed-header list too long for the fixed Authorization buffer is refused. */
static void test_sigv4_oversize_signed_headers_is_too_large(void **state)
{
    struct xb_sigv4_header hdrs[2];
    struct xb_sigv4_request req = doc_request();
    struct xb_sigv4_result res;
    char long_name[1100];

    (void)state;
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    hdrs[0].name = "host";
    hdrs[0].value = "iam.amazonaws.com";
    hdrs[1].name = long_name;
    hdrs[1].value = "v";
    req.headers = hdrs;
    req.n_headers = 2;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "iam", &doc_creds, doc_time, &res),
                     XB_ERR_TOO_LARGE);
    assert_string_equal(res.authorization, "");
}

/* The shared percent-encoder (canonical URI/query, STS form bodies). */
static void test_sigv4_uri_encode(void **state)
{
    static const char in[] = "arn:aws:iam::1:role/a b+c~\xc3\xa9";
    struct xb_buf b;

    (void)state;
    xb_buf_init(&b, 0);
    assert_int_equal(xb_sigv4_uri_encode(&b, in, strlen(in)), XB_OK);
    assert_string_equal(b.data, "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc~%C3%A9");
    xb_buf_cleanup(&b);
    /* Unreserved characters pass through unchanged; a capped buffer reports the cap. */
    xb_buf_init(&b, 4);
    assert_int_equal(xb_sigv4_uri_encode(&b, "AZaz09-._~", 10), XB_ERR_TOO_LARGE);
    xb_buf_cleanup(&b);
    xb_buf_init(&b, 0);
    assert_int_equal(xb_sigv4_uri_encode(&b, "AZaz09-._~", 10), XB_OK);
    assert_string_equal(b.data, "AZaz09-._~");
    xb_buf_cleanup(&b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_aws_doc_iam_list_users),
        cmocka_unit_test(test_sigv4_doc_example_is_order_and_case_insensitive),
        cmocka_unit_test(test_sigv4_caller_date_and_authorization_are_replaced),
        cmocka_unit_test(test_sigv4_empty_session_token_is_not_signed),
        cmocka_unit_test(test_sigv4_matches_botocore_vectors),
        cmocka_unit_test(test_sigv4_signing_key_reused_per_day),
        cmocka_unit_test(test_sigv4_missing_host_is_invalid),
        cmocka_unit_test(test_sigv4_missing_credentials_is_invalid),
        cmocka_unit_test(test_sigv4_bad_arguments_are_invalid),
        cmocka_unit_test(test_sigv4_oversize_signed_headers_is_too_large),
        cmocka_unit_test(test_sigv4_uri_encode),
    };

    if (argc > 1)
        vectors_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
