/*
 * tests/unit/aws/test_credentials_parse.c - aws/creds_parse.c: the shared
 * file INI parser, STS XML and metadata JSON credential documents, ISO 8601
 * instants, form encoding and the container-endpoint host rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aws/creds_parse.h"
#include "core/err.h"

static struct xb_creds_ini *parse_ok(const char *text)
{
    struct xb_creds_ini *ini = NULL;
    int line = -1;
    const char *desc = NULL;
    assert_int_equal(xb_creds_ini_parse(text, strlen(text), &ini, &line, &desc), XB_OK);
    assert_non_null(ini);
    return ini;
}

static void test_ini_sections_comments_trim(void **state)
{
    const char *text = "# leading comment\n"
                       "; another\n"
                       "[default]\n"
                       "aws_access_key_id   =   AKIDDEFAULT   \r\n"
                       "AWS_Secret_Access_Key=secret/with+chars ; inline comment\n"
                       "\n"
                       "[  profile    dev  ]  # comment after header\n"
                       "region = eu-west-1\n"
                       "s3 =\n"
                       "    max_concurrent_requests = 10\n"
                       "role_arn = arn:aws:iam::1:role/x#not-a-comment\n"
                       "[default]\n"
                       "aws_access_key_id = AKIDLATER\n";
    struct xb_creds_ini *ini = parse_ok(text);
    assert_true(xb_creds_ini_has_section(ini, "default"));
    assert_true(xb_creds_ini_has_section(ini, "profile dev"));
    assert_false(xb_creds_ini_has_section(ini, "dev"));
    /* Last one wins, keys case-insensitive, inline comments need leading blank. */
    assert_string_equal(xb_creds_ini_get(ini, "default", "aws_access_key_id"), "AKIDLATER");
    assert_string_equal(xb_creds_ini_get(ini, "default", "aws_secret_access_key"),
                        "secret/with+chars");
    assert_string_equal(xb_creds_ini_get(ini, "profile dev", "region"), "eu-west-1");
    assert_string_equal(xb_creds_ini_get(ini, "profile dev", "s3"), "");
    assert_null(xb_creds_ini_get(ini, "profile dev", "max_concurrent_requests"));
    assert_string_equal(xb_creds_ini_get(ini, "profile dev", "role_arn"),
                        "arn:aws:iam::1:role/x#not-a-comment");
    assert_null(xb_creds_ini_get(ini, "nope", "region"));
    xb_creds_ini_free(ini);
    assert_null(xb_creds_ini_get(NULL, "default", "x"));
}

static void expect_ini_error(const char *text, int want_line)
{
    struct xb_creds_ini *ini = (struct xb_creds_ini *)1;
    int line = 0;
    const char *desc = NULL;
    assert_int_equal(xb_creds_ini_parse(text, strlen(text), &ini, &line, &desc), XB_ERR_INVALID);
    assert_null(ini);
    assert_int_equal(line, want_line);
    assert_non_null(desc);
}

static void test_ini_rejects_malformed(void **state)
{
    expect_ini_error("key = before section\n", 1);
    expect_ini_error("[default]\nno equals sign here\n", 2);
    expect_ini_error("[default\nx=1\n", 1);
    expect_ini_error("[default]\n[]\n", 2);
    expect_ini_error("[a] trailing\n", 1);
    expect_ini_error("[a]\n= value\n", 2);
    expect_ini_error("   indented = first\n", 1);
    {
        const char nul[] = "[a]\nx=1\0y\n";
        struct xb_creds_ini *ini = NULL;
        int line = 0;
        const char *desc = NULL;
        assert_int_equal(xb_creds_ini_parse(nul, sizeof(nul) - 1, &ini, &line, &desc),
                         XB_ERR_INVALID);
        assert_int_equal(line, 2);
    }
}

static void test_iso8601(void **state)
{
    int64_t t = 0;
    assert_int_equal(xb_creds_parse_iso8601("2024-01-02T03:04:05Z", &t), XB_OK);
    assert_int_equal(t, 1704164645);
    assert_int_equal(xb_creds_parse_iso8601("2024-01-02T03:04:05.123456Z", &t), XB_OK);
    assert_int_equal(t, 1704164645);
    assert_int_equal(xb_creds_parse_iso8601("2024-01-02T05:04:05+02:00", &t), XB_OK);
    assert_int_equal(t, 1704164645);
    assert_int_equal(xb_creds_parse_iso8601("2024-01-02T03:04:05", &t), XB_ERR_INVALID);
    assert_int_equal(xb_creds_parse_iso8601("2024-13-02T03:04:05Z", &t), XB_ERR_INVALID);
    assert_int_equal(xb_creds_parse_iso8601("2024-01-02T03:04:05Zjunk", &t), XB_ERR_INVALID);
    assert_int_equal(xb_creds_parse_iso8601("", &t), XB_ERR_INVALID);
}

static const char sts_ok[] =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>se&amp;cr&#x2F;et&#43;</SecretAccessKey>\n"
    "      <SessionToken>\n  TOKEN&lt;1&gt;\n  </SessionToken>\n"
    "      <Expiration>2030-05-06T07:08:09Z</Expiration>\n"
    "    </Credentials>\n"
    "  </AssumeRoleResult>\n"
    "</AssumeRoleResponse>\n";

static void test_sts_xml_ok(void **state)
{
    struct xb_creds_parsed c;
    char why[128] = "";
    assert_int_equal(xb_creds_parse_sts(sts_ok, strlen(sts_ok), &c, why, sizeof(why)), XB_OK);
    assert_string_equal(c.access_key_id, "ASIAEXAMPLE");
    assert_string_equal(c.secret_access_key, "se&cr/et+");
    assert_string_equal(c.session_token, "TOKEN<1>");
    assert_int_equal(c.expiration, 1904281689);
    xb_creds_parsed_cleanup(&c);
    assert_null(c.access_key_id);
}

static void test_sts_xml_errors(void **state)
{
    struct xb_creds_parsed c;
    char why[256] = "";
    const char *err = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                      "<Message>not authorized to perform sts:AssumeRole</Message></Error>"
                      "</ErrorResponse>";
    const char *no_token = "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
                           "</SecretAccessKey><Expiration>2030-05-06T07:08:09Z</Expiration>"
                           "</Credentials></R>";
    const char *bad_entity = "<R><Credentials><AccessKeyId>A&bogus;</AccessKeyId>"
                             "<SecretAccessKey>S</SecretAccessKey><SessionToken>T"
                             "</SessionToken><Expiration>2030-05-06T07:08:09Z</Expiration>"
                             "</Credentials></R>";
    assert_int_equal(xb_creds_parse_sts(err, strlen(err), &c, why, sizeof(why)), XB_ERR_NOT_FOUND);
    assert_string_equal(why, "AccessDenied: not authorized to perform sts:AssumeRole");
    assert_int_equal(xb_creds_parse_sts(no_token, strlen(no_token), &c, why, sizeof(why)),
                     XB_ERR_INVALID);
    assert_non_null(strstr(why, "SessionToken"));
    assert_int_equal(xb_creds_parse_sts(bad_entity, strlen(bad_entity), &c, why, sizeof(why)),
                     XB_ERR_INVALID);
    assert_int_equal(xb_creds_parse_sts("<x/>", 4, &c, why, sizeof(why)), XB_ERR_INVALID);
    /* Truncated: the closing tag is past the given length. */
    assert_int_equal(xb_creds_parse_sts(sts_ok, 200, &c, why, sizeof(why)), XB_ERR_INVALID);
}

/* AssumeRoleWithWebIdentity as STS sends it: the credentials sit after other elements
 * that also have text, and a <Credentials> outside the result must not be taken. */
static void test_sts_xml_web_identity(void **state)
{
    struct xb_creds_parsed c;
    char why[256] = "";
    const char *doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        "<AssumeRoleWithWebIdentityResult>"
        "<SubjectFromWebIdentityToken>system:serviceaccount:ns:sa</SubjectFromWebIdentityToken>"
        "<Audience>sts.amazonaws.com</Audience>"
        "<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn>"
        "<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>"
        "<Credentials><SessionToken><![CDATA[tok&en]]></SessionToken>"
        "<SecretAccessKey>sec</SecretAccessKey>"
        "<Expiration>2030-05-06T07:08:09Z</Expiration>"
        "<AccessKeyId>ASIAWEB</AccessKeyId></Credentials>"
        "<Provider>arn:aws:iam::1:oidc-provider/x</Provider>"
        "</AssumeRoleWithWebIdentityResult>"
        "<ResponseMetadata><RequestId>c6104cbe</RequestId></ResponseMetadata>"
        "</AssumeRoleWithWebIdentityResponse>";
    (void)state;
    assert_int_equal(xb_creds_parse_sts(doc, strlen(doc), &c, why, sizeof(why)), XB_OK);
    assert_string_equal(c.access_key_id, "ASIAWEB");
    assert_string_equal(c.secret_access_key, "sec");
    assert_string_equal(c.session_token, "tok&en");
    assert_int_equal(c.expiration, 1904281689);
    xb_creds_parsed_cleanup(&c);
}

/* What a real parser refuses that a substring search accepted or misread. */
static void test_sts_xml_refusals(void **state)
{
    struct xb_creds_parsed c;
    char why[256] = "";
    const char *doctype =
        "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>"
        "<R><Credentials><AccessKeyId>&b;</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
        "<SessionToken>T</SessionToken><Expiration>2030-05-06T07:08:09Z</Expiration>"
        "</Credentials></R>";
    const char *mismatched = "<R><Credentials><AccessKeyId>A</SecretAccessKey>"
                             "</Credentials></R>";
    const char *nested = "<R><Credentials><X><AccessKeyId>A</AccessKeyId></X>"
                         "<SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken>"
                         "<Expiration>2030-05-06T07:08:09Z</Expiration></Credentials></R>";
    const char *error_no_message =
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
        "<Type>Sender</Type><Code>ExpiredTokenException</Code></Error>"
        "<RequestId>1</RequestId></ErrorResponse>";
    (void)state;
    assert_int_equal(xb_creds_parse_sts(doctype, strlen(doctype), &c, why, sizeof(why)),
                     XB_ERR_INVALID);
    assert_string_equal(why, "STS answer carries a document type declaration");
    assert_int_equal(xb_creds_parse_sts(mismatched, strlen(mismatched), &c, why, sizeof(why)),
                     XB_ERR_INVALID);
    assert_non_null(strstr(why, "not well-formed XML"));
    /* Only direct children of <Credentials> count. */
    assert_int_equal(xb_creds_parse_sts(nested, strlen(nested), &c, why, sizeof(why)),
                     XB_ERR_INVALID);
    assert_string_equal(why, "STS answer lacks a valid <AccessKeyId>");
    assert_int_equal(
        xb_creds_parse_sts(error_no_message, strlen(error_no_message), &c, why, sizeof(why)),
        XB_ERR_NOT_FOUND);
    assert_string_equal(why, "ExpiredTokenException: (no message)");
    assert_null(c.access_key_id);
}

static void test_json_docs(void **state)
{
    struct xb_creds_parsed c;
    char why[256] = "";
    const char *ok = "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAJ\","
                     "\"SecretAccessKey\":\"sec\",\"Token\":\"tok\","
                     "\"Expiration\":\"2030-05-06T07:08:09Z\"}";
    const char *no_exp = "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"sec\"}";
    const char *bad_code =
        "{\"Code\":\"Failure\",\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"s\"}";
    assert_int_equal(xb_creds_parse_json(ok, strlen(ok), 1, &c, why, sizeof(why)), XB_OK);
    assert_string_equal(c.access_key_id, "ASIAJ");
    assert_string_equal(c.secret_access_key, "sec");
    assert_string_equal(c.session_token, "tok");
    assert_int_equal(c.expiration, 1904281689);
    xb_creds_parsed_cleanup(&c);
    assert_int_equal(xb_creds_parse_json(no_exp, strlen(no_exp), 0, &c, why, sizeof(why)), XB_OK);
    assert_null(c.session_token);
    assert_int_equal(c.expiration, 0);
    xb_creds_parsed_cleanup(&c);
    assert_int_equal(xb_creds_parse_json(no_exp, strlen(no_exp), 1, &c, why, sizeof(why)),
                     XB_ERR_INVALID);
    assert_non_null(strstr(why, "Expiration"));
    assert_int_equal(xb_creds_parse_json(bad_code, strlen(bad_code), 0, &c, why, sizeof(why)),
                     XB_ERR_INVALID);
    assert_int_equal(xb_creds_parse_json("[1]", 3, 0, &c, why, sizeof(why)), XB_ERR_INVALID);
    assert_int_equal(xb_creds_parse_json("{\"AccessKeyId\":1}", 17, 0, &c, why, sizeof(why)),
                     XB_ERR_INVALID);
}

static void test_container_host_rule(void **state)
{
    const char *why = NULL;
    assert_int_equal(xb_creds_container_uri_allowed("http://127.0.0.1:8080/creds", &why), XB_OK);
    assert_int_equal(xb_creds_container_uri_allowed("http://127.1.2.3/creds", &why), XB_OK);
    assert_int_equal(xb_creds_container_uri_allowed("http://localhost/creds", &why), XB_OK);
    assert_int_equal(xb_creds_container_uri_allowed("http://[::1]:80/creds", &why), XB_OK);
    assert_int_equal(xb_creds_container_uri_allowed("http://169.254.170.2/v2/creds", &why), XB_OK);
    assert_int_equal(xb_creds_container_uri_allowed("http://169.254.170.23/v1/credentials", &why),
                     XB_OK);
    assert_int_equal(xb_creds_container_uri_allowed("http://[fd00:ec2::23]/v1/credentials", &why),
                     XB_OK);
    assert_int_equal(xb_creds_container_uri_allowed("https://creds.example.com/x", &why), XB_OK);
    assert_null(why);
    assert_int_equal(xb_creds_container_uri_allowed("http://169.254.170.3/creds", &why),
                     XB_ERR_UNSUPPORTED);
    assert_non_null(why);
    assert_int_equal(xb_creds_container_uri_allowed("http://192.0.2.1/creds", &why),
                     XB_ERR_UNSUPPORTED);
    assert_int_equal(xb_creds_container_uri_allowed("http://creds.example.com/x", &why),
                     XB_ERR_UNSUPPORTED);
    assert_int_equal(xb_creds_container_uri_allowed("http://[fd00:ec2::24]/x", &why),
                     XB_ERR_UNSUPPORTED);
    assert_int_equal(xb_creds_container_uri_allowed("ftp://127.0.0.1/x", &why), XB_ERR_INVALID);
    assert_int_equal(xb_creds_container_uri_allowed("not a url", &why), XB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ini_sections_comments_trim),
        cmocka_unit_test(test_ini_rejects_malformed),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_sts_xml_ok),
        cmocka_unit_test(test_sts_xml_errors),
        cmocka_unit_test(test_sts_xml_web_identity),
        cmocka_unit_test(test_sts_xml_refusals),
        cmocka_unit_test(test_json_docs),
        cmocka_unit_test(test_container_host_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
