/*
 * Unit tests for receiver/tls.c: version parsing, option checks, start-up validation of
 * the certificate files (missing, mismatched, encrypted, empty CA) and reload (a failed
 * reload keeps the old context, a good one serves the new certificate). Certificates are
 * made in-process with OpenSSL (EC P-256, self-signed) in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h> /* after the headers it needs */

#include <event2/bufferevent_ssl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config/config.h"
#include "core/err.h"
#include "receiver/tls.h"

static char dir[64];

/* Writes DIR/NAME.pem and DIR/NAME.key: a self-signed certificate with |serial|. The key
 * is encrypted with |pass| when it is non-NULL. */
static void make_cert(const char *name, long serial, const char *pass)
{
    char path[128];
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f;

    assert_non_null(pk);
    assert_non_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)name, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
    snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
    assert_non_null(f = fopen(path, "w"));
    PEM_write_X509(f, x);
    fclose(f);
    snprintf(path, sizeof(path), "%s/%s.key", dir, name);
    assert_non_null(f = fopen(path, "w"));
    if (pass)
        PEM_write_PrivateKey(f, pk, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)pass);
    else
        PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pk);
}

static const char *p(const char *name)
{
    static char bufs[4][128];
    static int i;
    char *b = bufs[i++ % 4];

    snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
    return b;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/xb-test-tls-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    make_cert("a", 0xA1, NULL);
    make_cert("b", 0xB2, NULL);
    make_cert("enc", 0xE3, "secret-passphrase");
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Serial of the certificate a new connection would be served. */
static long served_serial(struct xb_tls *t, struct event_base *base)
{
    struct bufferevent *bev = xb_tls_bufferevent(t, base, -1);
    SSL *ssl;
    long serial;

    assert_non_null(bev);
    ssl = bufferevent_openssl_get_ssl(bev);
    serial = ASN1_INTEGER_get(X509_get0_serialNumber(SSL_get_certificate(ssl)));
    bufferevent_free(bev);
    return serial;
}

static void test_tls_parse_version(void **state)
{
    int v = -1;

    (void)state;
    assert_int_equal(xb_tls_parse_version("1.2", 0, &v), XB_OK);
    assert_int_equal(v, TLS1_2_VERSION);
    assert_int_equal(xb_tls_parse_version("1.3", 0, &v), XB_OK);
    assert_int_equal(v, TLS1_3_VERSION);
    assert_int_equal(xb_tls_parse_version(NULL, 7, &v), XB_OK);
    assert_int_equal(v, 7);
    assert_int_equal(xb_tls_parse_version("", 8, &v), XB_OK);
    assert_int_equal(v, 8);
    assert_int_equal(xb_tls_parse_version("1.1", 0, &v), XB_ERR_CONFIG);
    assert_int_equal(xb_tls_parse_version("1.0", 0, &v), XB_ERR_CONFIG);
    assert_int_equal(xb_tls_parse_version("TLS1.3", 0, &v), XB_ERR_CONFIG);
    assert_int_equal(xb_tls_parse_version("1.3 ", 0, &v), XB_ERR_CONFIG);
}

static void test_tls_opts_check(void **state)
{
    char err[256];
    struct xb_tls_opts o = {.key_prefix = "x.tls"};

    (void)state;
    assert_false(xb_tls_opts_enabled(&o));
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_OK);
    o.min_version = "1.2";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_OK);

    /* Non-default settings without certificates: TLS would silently stay off. */
    o.min_version = "1.3";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_ERR_CONFIG);
    assert_string_equal(err, "x.tls: cert_file and key_file are required to turn TLS on");
    o.min_version = NULL;
    o.reload_interval_ms = 1000;
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_ERR_CONFIG);
    o.reload_interval_ms = 0;

    o.client_ca_file = "/ca.pem";
    assert_true(xb_tls_opts_enabled(&o));
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_ERR_CONFIG);
    assert_string_equal(err, "x.tls.cert_file: required when client_ca_file is set");
    o.key_file = "/k.pem";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_ERR_CONFIG);
    assert_string_equal(err, "x.tls.cert_file: required when key_file is set");
    o.key_file = NULL;
    o.cert_file = "/c.pem";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_ERR_CONFIG);
    assert_string_equal(err, "x.tls.key_file: required when cert_file is set");
    o.key_file = "/k.pem";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_OK);

    o.min_version = "1.1";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_ERR_CONFIG);
    assert_string_equal(err, "x.tls.min_version: \"1.1\": expected \"1.2\" or \"1.3\"");
    o.min_version = "1.3";
    o.max_version = "1.2";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_ERR_CONFIG);
    assert_string_equal(err, "x.tls.max_version: 1.2 is below min_version 1.3");
    o.max_version = "1.4";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_ERR_CONFIG);
    o.max_version = "1.3";
    assert_int_equal(xb_tls_opts_check(&o, err, sizeof(err)), XB_OK);
}

/* xb_tls_new fails with XB_ERR_CONFIG and a message containing |want1| and |want2|. */
static void expect_new_fails(const struct xb_tls_opts *o, const char *want1, const char *want2)
{
    struct event_base *base = event_base_new();
    struct xb_tls *t = (struct xb_tls *)1;
    char err[512] = "";

    assert_int_equal(xb_tls_new(base, o, "test", &t, err, sizeof(err)), XB_ERR_CONFIG);
    assert_null(t);
    if (!strstr(err, want1) || !strstr(err, want2))
        fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, want1, want2);
    event_base_free(base);
}

static void test_tls_startup_validation(void **state)
{
    struct xb_tls_opts o = {.key_prefix = "r.tls"};
    char empty[128];
    FILE *f;

    (void)state;
    o.cert_file = p("missing.pem");
    o.key_file = p("a.key");
    expect_new_fails(&o, "r.tls.cert_file: ", "missing.pem: No such file or directory");
    o.cert_file = p("a.pem");
    o.key_file = p("missing.key");
    expect_new_fails(&o, "r.tls.key_file: ", "missing.key: No such file");
    o.key_file = p("b.key"); /* a different key */
    expect_new_fails(&o, "r.tls.key_file: ", "b.key: does not match the certificate in");
    o.key_file = p("a.pem"); /* not a key at all */
    expect_new_fails(&o, "r.tls.key_file: ", "cannot load a PEM private key");
    o.cert_file = p("a.key"); /* not a certificate */
    o.key_file = p("a.key");
    expect_new_fails(&o, "r.tls.cert_file: ", "cannot load a PEM certificate");

    /* Encrypted key: refused, without prompting for a passphrase. */
    o.cert_file = p("enc.pem");
    o.key_file = p("enc.key");
    expect_new_fails(&o, "r.tls.key_file: ", "encrypted keys are not supported");

    o.cert_file = p("a.pem");
    o.key_file = p("a.key");
    o.client_ca_file = p("missing-ca.pem");
    expect_new_fails(&o, "r.tls.client_ca_file: ", "missing-ca.pem");
    snprintf(empty, sizeof(empty), "%s", p("empty.pem"));
    assert_non_null(f = fopen(empty, "w"));
    fclose(f);
    o.client_ca_file = empty;
    expect_new_fails(&o, "r.tls.client_ca_file: ", "empty.pem");
}

static void test_tls_new_and_reload(void **state)
{
    struct event_base *base = event_base_new();
    struct xb_tls_opts o = {.key_prefix = "r.tls", .alpn = "h2", .alpn_required = 1};
    struct xb_tls *t = NULL;
    char err[512] = "", cert[128], key[128], cmd[512];

    (void)state;
    snprintf(cert, sizeof(cert), "%s", p("live.pem"));
    snprintf(key, sizeof(key), "%s", p("live.key"));
    snprintf(cmd, sizeof(cmd), "cp %s/a.pem %s && cp %s/a.key %s", dir, cert, dir, key);
    assert_int_equal(system(cmd), 0);
    o.cert_file = cert;
    o.key_file = key;
    o.client_ca_file = p("b.pem");
    assert_int_equal(xb_tls_new(base, &o, "test", &t, err, sizeof(err)), XB_OK);
    assert_non_null(t);
    assert_int_equal(served_serial(t, base), 0xA1);

    /* Half-written rotation (new certificate, old key): refused, old context kept. */
    snprintf(cmd, sizeof(cmd), "cp %s/b.pem %s", dir, cert);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(xb_tls_reload(t), XB_ERR_CONFIG);
    assert_int_equal(xb_tls_reloads(t), 0);
    assert_int_equal(served_serial(t, base), 0xA1);

    /* Completed rotation: the new certificate is served. */
    snprintf(cmd, sizeof(cmd), "cp %s/b.key %s", dir, key);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(xb_tls_reload(t), XB_OK);
    assert_int_equal(xb_tls_reloads(t), 1);
    assert_int_equal(served_serial(t, base), 0xB2);

    /* A connection made before a reload keeps working with its own context. */
    {
        struct bufferevent *old = xb_tls_bufferevent(t, base, -1);
        SSL *ssl = bufferevent_openssl_get_ssl(old);
        snprintf(cmd, sizeof(cmd), "cp %s/a.pem %s && cp %s/a.key %s", dir, cert, dir, key);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(xb_tls_reload(t), XB_OK);
        assert_int_equal(served_serial(t, base), 0xA1);
        assert_int_equal(ASN1_INTEGER_get(X509_get0_serialNumber(SSL_get_certificate(ssl))), 0xB2);
        bufferevent_free(old);
    }
    xb_tls_free(t);
    xb_tls_reload(NULL);
    xb_tls_free(NULL);
    event_base_free(base);
}

/* The tls keys reach struct xb_config with the documented defaults. */
static void test_tls_config_keys(void **state)
{
    static const char yaml[] =
        "receivers:\n"
        "  otlp:\n"
        "    protocols:\n"
        "      grpc:\n"
        "        tls: {cert_file: /c.pem, key_file: /k.pem, client_ca_file: /ca.pem,\n"
        "              min_version: \"1.3\", max_version: \"1.3\", reload_interval: 30s}\n"
        "      http: {}\n"
        "exporters: {file: {path: /dev/null}}\n"
        "service: {pipelines: {traces: {receivers: [otlp], exporters: [file]}}}\n";
    struct xb_config *cfg = NULL;
    char err[512];

    (void)state;
    assert_int_equal(xb_config_parse(yaml, sizeof(yaml) - 1, "t", &cfg, err, sizeof(err)), XB_OK);
    assert_string_equal(cfg->grpc.tls.cert_file, "/c.pem");
    assert_string_equal(cfg->grpc.tls.key_file, "/k.pem");
    assert_string_equal(cfg->grpc.tls.client_ca_file, "/ca.pem");
    assert_string_equal(cfg->grpc.tls.min_version, "1.3");
    assert_string_equal(cfg->grpc.tls.max_version, "1.3");
    assert_int_equal(cfg->grpc.tls.reload_interval_ms, 30000);
    assert_null(cfg->http.tls.cert_file);
    assert_null(cfg->http.tls.client_ca_file);
    assert_null(cfg->http.tls.max_version);
    assert_string_equal(cfg->http.tls.min_version, "1.2");
    assert_int_equal(cfg->http.tls.reload_interval_ms, 0);
    xb_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_parse_version),      cmocka_unit_test(test_tls_opts_check),
        cmocka_unit_test(test_tls_startup_validation), cmocka_unit_test(test_tls_new_and_reload),
        cmocka_unit_test(test_tls_config_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
