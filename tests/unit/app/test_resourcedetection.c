/* tests/unit/app/test_resourcedetection.c - the detectors' pure parts (app/resourcedetection.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/resourcedetection.h"
#include "core/err.h"

static void test_env(void **state)
{
    struct xb_resdet *r = xb_resdet_new();
    size_t skipped = 9, n;

    (void)state;
    assert_int_equal(xb_resdet_parse_env(r,
                                         " service.name = checkout ,deployment.environment=prod,"
                                         "note=a%2Cb%3Dc,broken,=novalue,bad=%zz,, ",
                                         &skipped),
                     XB_OK);
    assert_int_equal(skipped, 3);
    assert_string_equal(xb_resdet_get(r, "service.name"), "checkout");
    assert_string_equal(xb_resdet_get(r, "deployment.environment"), "prod");
    assert_string_equal(xb_resdet_get(r, "note"), "a,b=c");
    assert_null(xb_resdet_get(r, "bad"));
    xb_resdet_kvs(r, &n);
    assert_int_equal(n, 3);
    xb_resdet_free(r);
}

static const char identity[] = "{\n"
                               "  \"accountId\" : \"123456789012\",\n"
                               "  \"architecture\" : \"x86_64\",\n"
                               "  \"availabilityZone\" : \"us-west-2b\",\n"
                               "  \"billingProducts\" : null,\n"
                               "  \"imageId\" : \"ami-0abcdef1234567890\",\n"
                               "  \"instanceId\" : \"i-1234567890abcdef0\",\n"
                               "  \"instanceType\" : \"m5.large\",\n"
                               "  \"pendingTime\" : \"2026-11-30T12:00:00Z\",\n"
                               "  \"privateIp\" : \"10.0.1.23\",\n"
                               "  \"region\" : \"us-west-2\",\n"
                               "  \"version\" : \"2017-09-30\"\n"
                               "}";

static void test_identity(void **state)
{
    struct xb_resdet *r = xb_resdet_new();
    size_t n;
    xb_pb_kv *const *kv;

    (void)state;
    assert_int_equal(
        xb_resdet_parse_identity(r, identity, "ip-10-0-1-23.us-west-2.compute.internal"), XB_OK);
    assert_string_equal(xb_resdet_get(r, "cloud.provider"), "aws");
    assert_string_equal(xb_resdet_get(r, "cloud.platform"), "aws_ec2");
    assert_string_equal(xb_resdet_get(r, "cloud.region"), "us-west-2");
    assert_string_equal(xb_resdet_get(r, "cloud.account.id"), "123456789012");
    assert_string_equal(xb_resdet_get(r, "cloud.availability_zone"), "us-west-2b");
    assert_string_equal(xb_resdet_get(r, "host.id"), "i-1234567890abcdef0");
    assert_string_equal(xb_resdet_get(r, "host.type"), "m5.large");
    assert_string_equal(xb_resdet_get(r, "host.image.id"), "ami-0abcdef1234567890");
    assert_string_equal(xb_resdet_get(r, "host.name"), "ip-10-0-1-23.us-west-2.compute.internal");
    kv = xb_resdet_kvs(r, &n);
    assert_int_equal(n, 9);
    assert_string_equal(kv[0]->key, "cloud.provider");
    assert_string_equal(kv[0]->value->string_value, "aws");
    assert_int_equal(xb_resdet_parse_identity(r, "not json", NULL), XB_ERR_INVALID);
    assert_int_equal(xb_resdet_parse_identity(r, "{\"region\":\"x\"}", NULL), XB_ERR_INVALID);
    xb_resdet_free(r);
}

/* An earlier detector wins on the same key: eks before ec2 keeps aws_eks. */
static void test_precedence(void **state)
{
    struct xb_resdet *r = xb_resdet_new();

    (void)state;
    assert_int_equal(xb_resdet_add(r, "cloud.region", "eu-west-1"), XB_OK); /* env */
    assert_int_equal(xb_resdet_eks(r, "prod-cluster"), XB_OK);
    assert_int_equal(xb_resdet_parse_identity(r, identity, NULL), XB_OK);
    assert_string_equal(xb_resdet_get(r, "cloud.platform"), "aws_eks");
    assert_string_equal(xb_resdet_get(r, "k8s.cluster.name"), "prod-cluster");
    assert_string_equal(xb_resdet_get(r, "cloud.region"), "eu-west-1");
    assert_string_equal(xb_resdet_get(r, "host.id"), "i-1234567890abcdef0");
    assert_null(xb_resdet_get(r, "host.name"));
    xb_resdet_free(r);
}

static void test_limits(void **state)
{
    struct xb_resdet *r = xb_resdet_new();
    char key[32], *big = malloc(XB_RESDET_MAX_LEN + 2);

    (void)state;
    memset(big, 'v', XB_RESDET_MAX_LEN + 1);
    big[XB_RESDET_MAX_LEN + 1] = '\0';
    assert_int_equal(xb_resdet_add(r, "k", big), XB_ERR_INVALID);
    assert_int_equal(xb_resdet_add(r, "", "v"), XB_ERR_INVALID);
    for (int i = 0; i < XB_RESDET_MAX_ATTRS; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(xb_resdet_add(r, key, "v"), XB_OK);
    }
    assert_int_equal(xb_resdet_add(r, "one.more", "v"), XB_ERR_FULL);
    assert_int_equal(xb_resdet_add(r, "k0", "again"), XB_OK); /* present: no change */
    assert_string_equal(xb_resdet_get(r, "k0"), "v");
    free(big);
    xb_resdet_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
