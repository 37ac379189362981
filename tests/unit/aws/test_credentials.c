#define _GNU_SOURCE /* strptime */
/*
 * tests/unit/aws/test_credentials.c - aws/credentials.c: the asynchronous
 * AWS credential chain and region resolution against in-process fakes (libevent
 * evhttp on 127.0.0.1, ephemeral port) of STS, the container credentials endpoint
 * and IMDSv2. The provider's fakes share its event loop; the blocking start-up
 * region lookup talks to a fake running in a helper thread. No sleeps: each test
 * runs the loop until its callback fires, bounded by a 10 s deadline.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "aws/credentials.h"
#include "aws/curl_loop.h"
#include "aws/region.h"
#include "aws/sigv4.h"
#include "core/clock.h"
#include "core/err.h"

/* ======================================================================== */
/* Environment save/restore                                                 */
/* ======================================================================== */

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
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                        "AWS_EC2_METADATA_DISABLED",
                                        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                                        "AWS_ENDPOINT_URL_STS",
                                        "AWS_REGION",
                                        "AWS_DEFAULT_REGION",
                                        "HOME",
                                        "HTTP_PROXY",
                                        "HTTPS_PROXY",
                                        "http_proxy",
                                        "https_proxy",
                                        "ALL_PROXY",
                                        "all_proxy",
                                        "NO_PROXY",
                                        "no_proxy"};
#define N_ENV (sizeof(env_names) / sizeof(env_names[0]))

/* ======================================================================== */
/* Fake HTTP server                                                         */
/* ======================================================================== */

struct fake;
typedef int (*route_fn)(struct fake *f, struct evbuffer *out);

struct fake {
    struct event_base *base;
    struct evhttp *http;
    int port;
    route_fn route;
    int requests;
    /* last request */
    char method[8];
    char path[256];
    char body[8192];
    char host[128];
    char ctype[128];
    char amz_date[32];
    char auth[1024];
    char sec_token[512];
    char imds_token[128];
    char imds_ttl[32];
    /* behaviour */
    int expire_s;  /* credential lifetime returned */
    int fail_from; /* answer 500 from this request number on (1-based), 0 = never */
    int bad;       /* an assertion in the fake failed (checked by the test) */
    int imds_puts, imds_gets, imds_gets_without_token;
    int webid_calls, assume_calls;
    char want_webid_token[64];
    char key_suffix[16];
};

static void copy_hdr(struct evkeyvalq *h, const char *name, char *dst, size_t n)
{
    const char *v = evhttp_find_header(h, name);
    snprintf(dst, n, "%s", v ? v : "");
}

static void on_request(struct evhttp_request *req, void *ud)
{
    struct fake *f = ud;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct evbuffer *out = evbuffer_new();
    size_t n = evbuffer_get_length(in);
    int status;

    f->requests++;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
        snprintf(f->method, sizeof(f->method), "GET");
        break;
    case EVHTTP_REQ_PUT:
        snprintf(f->method, sizeof(f->method), "PUT");
        break;
    case EVHTTP_REQ_POST:
        snprintf(f->method, sizeof(f->method), "POST");
        break;
    default:
        snprintf(f->method, sizeof(f->method), "OTHER");
        break;
    }
    snprintf(f->path, sizeof(f->path), "%s", evhttp_request_get_uri(req));
    if (n >= sizeof(f->body))
        n = sizeof(f->body) - 1;
    evbuffer_copyout(in, f->body, n);
    f->body[n] = 0;
    copy_hdr(h, "Host", f->host, sizeof(f->host));
    copy_hdr(h, "Content-Type", f->ctype, sizeof(f->ctype));
    copy_hdr(h, "X-Amz-Date", f->amz_date, sizeof(f->amz_date));
    copy_hdr(h, "Authorization", f->auth, sizeof(f->auth));
    copy_hdr(h, "X-Amz-Security-Token", f->sec_token, sizeof(f->sec_token));
    copy_hdr(h, "X-aws-ec2-metadata-token", f->imds_token, sizeof(f->imds_token));
    copy_hdr(h, "X-aws-ec2-metadata-token-ttl-seconds", f->imds_ttl, sizeof(f->imds_ttl));
    if (f->fail_from && f->requests >= f->fail_from) {
        evbuffer_add_printf(out, "internal error");
        status = 500;
    } else {
        status = f->route(f, out);
    }
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", out);
    evbuffer_free(out);
}

static void fake_start(struct fake *f, struct event_base *base, route_fn route)
{
    struct evhttp_bound_socket *bs;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);

    memset(f, 0, sizeof(*f));
    f->base = base;
    f->route = route;
    f->expire_s = 3600;
    snprintf(f->key_suffix, sizeof(f->key_suffix), "1");
    f->http = evhttp_new(base);
    assert_non_null(f->http);
    evhttp_set_allowed_methods(f->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
    evhttp_set_gencb(f->http, on_request, f);
    bs = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
    assert_non_null(bs);
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
}

static void fake_stop(struct fake *f)
{
    if (f->http)
        evhttp_free(f->http);
    f->http = NULL;
}

static void iso_in(int seconds, char *out, size_t n)
{
    time_t t = time(NULL) + seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Container endpoint: requires "Authorization: Bearer sekrit-auth". */
static int route_container(struct fake *f, struct evbuffer *out)
{
    char exp[32];
    if (strcmp(f->auth, "Bearer sekrit-auth") != 0 || strcmp(f->method, "GET") != 0 ||
        strcmp(f->path, "/v1/credentials") != 0) {
        f->bad = 1;
        evbuffer_add_printf(out, "{\"message\":\"bad request\"}");
        return 400;
    }
    iso_in(f->expire_s, exp, sizeof(exp));
    evbuffer_add_printf(out,
                        "{\"AccessKeyId\":\"ASIACONTAINER%s\",\"SecretAccessKey\":\"csecret\","
                        "\"Token\":\"ctoken\",\"Expiration\":\"%s\",\"RoleArn\":\"x\"}",
                        f->key_suffix, exp);
    return 200;
}

/* IMDSv2: token PUT with TTL header, then token-carrying GETs. */
static int route_imds(struct fake *f, struct evbuffer *out)
{
    char exp[32];
    if (strcmp(f->path, "/latest/api/token") == 0) {
        f->imds_puts++;
        if (strcmp(f->method, "PUT") != 0 || strcmp(f->imds_ttl, "21600") != 0) {
            f->bad = 1;
            return 400;
        }
        evbuffer_add_printf(out, "imds-token-xyz");
        return 200;
    }
    f->imds_gets++;
    if (strcmp(f->method, "GET") != 0)
        f->bad = 1;
    if (strcmp(f->imds_token, "imds-token-xyz") != 0) {
        f->imds_gets_without_token++;
        return 401;
    }
    if (strcmp(f->path, "/latest/meta-data/iam/security-credentials/") == 0) {
        evbuffer_add_printf(out, "ec2-node-role\n");
        return 200;
    }
    if (strcmp(f->path, "/latest/meta-data/iam/security-credentials/ec2-node-role") == 0) {
        iso_in(f->expire_s, exp, sizeof(exp));
        evbuffer_add_printf(out,
                            "{\"Code\":\"Success\",\"LastUpdated\":\"2024-01-01T00:00:00Z\","
                            "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\","
                            "\"SecretAccessKey\":\"isecret\",\"Token\":\"itoken\","
                            "\"Expiration\":\"%s\"}",
                            exp);
        return 200;
    }
    if (strcmp(f->path, "/latest/meta-data/placement/region") == 0) {
        evbuffer_add_printf(out, "ap-south-1");
        return 200;
    }
    return 404;
}

/* Checks that |f|'s last request carries a valid SigV4 signature by |c| for
 * region/sts, by re-signing what was received. */
static int sigv4_valid(struct fake *f, const struct xb_aws_creds *c, const char *region)
{
    struct xb_sigv4_header sh[3];
    struct xb_sigv4_request req;
    struct xb_sigv4_result sig;
    struct tm tm;
    size_t nsh = 0;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (strlen(f->amz_date) != 16 || !strptime(f->amz_date, "%Y%m%dT%H%M%SZ", &tm))
        return 0;
    t = timegm(&tm);
    sh[nsh++] = (struct xb_sigv4_header){"host", f->host};
    sh[nsh++] = (struct xb_sigv4_header){"content-type", f->ctype};
    if (c->session_token)
        sh[nsh++] = (struct xb_sigv4_header){"x-amz-security-token", f->sec_token};
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = f->path;
    req.headers = sh;
    req.n_headers = nsh;
    req.payload = f->body;
    req.payload_len = strlen(f->body);
    if (xb_sigv4_sign(&req, region, "sts", c, t, &sig) != XB_OK)
        return 0;
    return strcmp(sig.authorization, f->auth) == 0;
}

/* What the STS fake expects AssumeRole to be signed with. */
static struct xb_aws_creds sts_expect_creds;
static const char *sts_expect_region = "us-west-2";
static const char *sts_expect_body_part = NULL;

static void sts_reply(struct evbuffer *out, const char *action, const char *akid, int expire_s)
{
    char exp[32];
    iso_in(expire_s, exp, sizeof(exp));
    evbuffer_add_printf(out,
                        "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                        "<%sResult><Credentials><AccessKeyId>%s</AccessKeyId>"
                        "<SecretAccessKey>ssecret</SecretAccessKey>"
                        "<SessionToken>stoken&amp;1</SessionToken><Expiration>%s</Expiration>"
                        "</Credentials></%sResult></%sResponse>",
                        action, action, akid, exp, action, action);
}

static int route_sts(struct fake *f, struct evbuffer *out)
{
    if (strcmp(f->method, "POST") != 0 ||
        strcmp(f->ctype, "application/x-www-form-urlencoded; charset=utf-8") != 0) {
        f->bad = 1;
        return 400;
    }
    if (strstr(f->body, "Action=AssumeRoleWithWebIdentity&")) {
        char want[128];
        f->webid_calls++;
        snprintf(want, sizeof(want), "&WebIdentityToken=%s", f->want_webid_token);
        if (f->auth[0] || !strstr(f->body, want) || !strstr(f->body, "Version=2011-06-15") ||
            !strstr(f->body, "RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Firsa") ||
            !strstr(f->body, "RoleSessionName=pod-session")) {
            f->bad = 1;
            evbuffer_add_printf(out, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
                                     "<Message>token rejected</Message></Error></ErrorResponse>");
            return 400;
        }
        sts_reply(out, "AssumeRoleWithWebIdentity", "ASIAWEBID", f->expire_s);
        return 200;
    }
    if (strstr(f->body, "Action=AssumeRole&")) {
        f->assume_calls++;
        if (!sigv4_valid(f, &sts_expect_creds, sts_expect_region) ||
            (sts_expect_body_part && !strstr(f->body, sts_expect_body_part))) {
            f->bad = 1;
            evbuffer_add_printf(out, "<ErrorResponse><Error><Code>AccessDenied</Code>"
                                     "<Message>signature or body mismatch</Message></Error>"
                                     "</ErrorResponse>");
            return 403;
        }
        sts_reply(out, "AssumeRole", "ASIAROLE", f->expire_s);
        return 200;
    }
    f->bad = 1;
    return 400;
}

/* ======================================================================== */
/* Fixture                                                                  */
/* ======================================================================== */

struct fx {
    char dir[64];
    char *saved[N_ENV];
    struct event_base *base;
    struct xb_curl_loop *curl;
    struct event *guard;
    struct fake fake;
    struct fake fake2;
};

static void on_guard(evutil_socket_t fd, short what, void *ud)
{
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    struct timeval tv = {0, 100000};
    char path[128];
    if (!x)
        return -1;
    for (size_t i = 0; i < N_ENV; i++) {
        const char *v = getenv(env_names[i]);
        x->saved[i] = v ? strdup(v) : NULL;
        unsetenv(env_names[i]);
    }
    snprintf(x->dir, sizeof(x->dir), "/tmp/xb_creds_XXXXXX");
    if (!mkdtemp(x->dir))
        return -1;
    setenv("HOME", x->dir, 1);
    /* Never reach a real metadata service from a test. */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    snprintf(path, sizeof(path), "%s/none-credentials", x->dir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(path, sizeof(path), "%s/none-config", x->dir);
    setenv("AWS_CONFIG_FILE", path, 1);
    x->base = event_base_new();
    x->curl = xb_curl_loop_new(x->base, 0);
    x->guard = event_new(x->base, -1, EV_PERSIST, on_guard, NULL);
    if (!x->base || !x->curl || !x->guard)
        return -1;
    event_add(x->guard, &tv);
    sts_expect_creds = (struct xb_aws_creds){NULL, NULL, NULL};
    sts_expect_region = "us-west-2";
    sts_expect_body_part = NULL;
    *state = x;
    return 0;
}

static const char *const tmp_files[] = {"credentials", "config", "token", "authtoken"};

static int teardown(void **state)
{
    struct fx *x = *state;
    char path[128];
    fake_stop(&x->fake);
    fake_stop(&x->fake2);
    event_free(x->guard);
    xb_curl_loop_free(x->curl);
    event_base_free(x->base);
    for (size_t i = 0; i < sizeof(tmp_files) / sizeof(tmp_files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", x->dir, tmp_files[i]);
        unlink(path);
    }
    rmdir(x->dir);
    for (size_t i = 0; i < N_ENV; i++) {
        if (x->saved[i])
            setenv(env_names[i], x->saved[i], 1);
        else
            unsetenv(env_names[i]);
        free(x->saved[i]);
    }
    free(x);
    return 0;
}

static void write_file(struct fx *x, const char *name, const char *text, const char *env)
{
    char path[128];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", x->dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    if (env)
        setenv(env, path, 1);
}

static void remove_file(struct fx *x, const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", x->dir, name);
    unlink(path);
}

static void set_env_url(const char *name, int port, const char *path)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    setenv(name, url, 1);
}

struct got {
    int called;
    int rc;
    char akid[64];
    char secret[64];
    char token[64];
    char why[512];
};

static void on_creds(void *ud, int rc, const struct xb_aws_creds *c, const char *why)
{
    struct got *g = ud;
    g->called++;
    g->rc = rc;
    g->akid[0] = g->secret[0] = g->token[0] = g->why[0] = 0;
    if (rc == XB_OK) {
        assert_non_null(c);
        snprintf(g->akid, sizeof(g->akid), "%s", c->access_key_id);
        snprintf(g->secret, sizeof(g->secret), "%s", c->secret_access_key);
        snprintf(g->token, sizeof(g->token), "%s", c->session_token ? c->session_token : "");
    } else {
        assert_null(c);
        assert_non_null(why);
        snprintf(g->why, sizeof(g->why), "%s", why);
    }
}

static void run_until(struct fx *x, const int *flag, int want)
{
    uint64_t deadline = xb_clock_mono_ns() + 10ull * 1000000000ull;
    while (*flag < want && xb_clock_mono_ns() < deadline)
        event_base_loop(x->base, EVLOOP_ONCE);
    assert_int_equal(*flag, want);
}

static struct xb_creds_provider *new_provider(struct fx *x, const char *role_arn)
{
    struct xb_creds_provider_opts o;
    struct xb_creds_provider *p = NULL;
    char err[256] = "";
    memset(&o, 0, sizeof(o));
    o.region = "us-west-2";
    o.role_arn = role_arn;
    assert_int_equal(xb_creds_provider_new(x->base, x->curl, &o, &p, err, sizeof(err)), XB_OK);
    assert_non_null(p);
    return p;
}

/* One get() run to completion. */
static void get_once(struct fx *x, struct xb_creds_provider *p, struct got *g)
{
    int before = g->called;
    assert_int_equal(xb_creds_provider_get(p, on_creds, g), XB_OK);
    assert_int_equal(g->called, before); /* never answered inside get() */
    run_until(x, &g->called, before + 1);
}

/* ======================================================================== */
/* Tests: sources                                                           */
/* ======================================================================== */

static void test_env_static(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p = new_provider(x, NULL);
    struct got g = {0};
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    assert_null(xb_creds_provider_current(p));
    assert_string_equal(xb_creds_provider_source(p), "none");
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_string_equal(g.akid, "AKIDENV");
    assert_string_equal(g.secret, "envsecret");
    assert_string_equal(g.token, "envtoken");
    assert_string_equal(xb_creds_provider_source(p), "environment");
    assert_non_null(xb_creds_provider_current(p));
    assert_int_equal(xb_creds_provider_expiration(p), 0);
    assert_int_equal(xb_creds_provider_refreshes(p), 1);
    /* Static: a second get is answered from the cache. */
    get_once(x, p, &g);
    assert_int_equal(xb_creds_provider_refreshes(p), 1);
    xb_creds_provider_free(p);
}

static void test_shared_files_static(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    write_file(x, "credentials",
               "# comment\n[default]\naws_access_key_id = AKIDFILE\n"
               "aws_secret_access_key = filesecret ; trailing comment\n",
               "AWS_SHARED_CREDENTIALS_FILE");
    write_file(x, "config",
               "[default]\nregion = eu-west-1\n[profile other]\n"
               "aws_access_key_id=AKIDOTHER\naws_secret_access_key=othersecret\n"
               "aws_session_token=othertoken\n",
               "AWS_CONFIG_FILE");
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_string_equal(g.akid, "AKIDFILE");
    assert_string_equal(g.secret, "filesecret");
    assert_string_equal(g.token, "");
    assert_string_equal(xb_creds_provider_source(p), "shared-credentials-file");
    xb_creds_provider_free(p);

    setenv("AWS_PROFILE", "other", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_string_equal(g.akid, "AKIDOTHER");
    assert_string_equal(g.token, "othertoken");
    xb_creds_provider_free(p);

    /* An explicitly named profile that does not exist is an error, not a skip. */
    setenv("AWS_PROFILE", "missing", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_CONFIG);
    assert_non_null(strstr(g.why, "profile missing not found"));
    xb_creds_provider_free(p);
}

static void test_shared_files_malformed(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    write_file(x, "credentials", "[default]\naws_access_key_id AKID\n",
               "AWS_SHARED_CREDENTIALS_FILE");
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_CONFIG);
    assert_non_null(strstr(g.why, "credentials:2:"));
    assert_int_equal(xb_creds_provider_refresh_failures(p), 1);
    xb_creds_provider_free(p);
}

static void test_shared_files_role_source_profile(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_sts);
    set_env_url("AWS_ENDPOINT_URL_STS", x->fake.port, "/");
    write_file(x, "credentials",
               "[base]\naws_access_key_id = AKIDBASE\n"
               "aws_secret_access_key = basesecret\n",
               "AWS_SHARED_CREDENTIALS_FILE");
    write_file(x, "config",
               "[profile app]\nrole_arn = arn:aws:iam::111122223333:role/app\n"
               "source_profile = base\nrole_session_name = app-session\nexternal_id = ext-42\n",
               "AWS_CONFIG_FILE");
    setenv("AWS_PROFILE", "app", 1);
    sts_expect_creds = (struct xb_aws_creds){"AKIDBASE", "basesecret", NULL};
    sts_expect_body_part =
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
        "111122223333%3Arole%2Fapp&RoleSessionName=app-session&ExternalId=ext-42";
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.bad, 0);
    assert_int_equal(x->fake.assume_calls, 1);
    assert_string_equal(g.akid, "ASIAROLE");
    assert_string_equal(g.token, "stoken&1");
    assert_string_equal(xb_creds_provider_source(p), "assume-role");
    assert_non_null(strstr(x->fake.auth, "Credential=AKIDBASE/"));
    assert_non_null(strstr(x->fake.auth, "/us-west-2/sts/aws4_request"));
    xb_creds_provider_free(p);
}

static void test_shared_files_web_identity_profile(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    char cfg[512];
    fake_start(&x->fake, x->base, route_sts);
    set_env_url("AWS_ENDPOINT_URL_STS", x->fake.port, "/");
    write_file(x, "token", "eyJ.profile-token\n", NULL);
    snprintf(x->fake.want_webid_token, sizeof(x->fake.want_webid_token), "eyJ.profile-token");
    snprintf(cfg, sizeof(cfg),
             "[profile irsa]\nrole_arn = arn:aws:iam::111122223333:role/irsa\n"
             "web_identity_token_file = %s/token\nrole_session_name = pod-session\n"
             "[profile tool]\ncredential_process = /usr/bin/get-creds\n",
             x->dir);
    write_file(x, "config", cfg, "AWS_CONFIG_FILE");
    setenv("AWS_PROFILE", "irsa", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.bad, 0);
    assert_int_equal(x->fake.webid_calls, 1);
    assert_string_equal(g.akid, "ASIAWEBID");
    assert_string_equal(xb_creds_provider_source(p), "web-identity");
    xb_creds_provider_free(p);

    /* Unsupported profile kinds fail loudly instead of falling through to IMDS. */
    setenv("AWS_PROFILE", "tool", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_UNSUPPORTED);
    assert_non_null(strstr(g.why, "credential_process is not supported"));
    xb_creds_provider_free(p);
}

static void test_web_identity(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_sts);
    x->fake.expire_s = 240; /* inside the 5-minute margin: every get refreshes */
    set_env_url("AWS_ENDPOINT_URL_STS", x->fake.port, "/");
    setenv("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/irsa", 1);
    setenv("AWS_ROLE_SESSION_NAME", "pod-session", 1);
    write_file(x, "token", "eyJ.token-one\n", "AWS_WEB_IDENTITY_TOKEN_FILE");
    snprintf(x->fake.want_webid_token, sizeof(x->fake.want_webid_token), "eyJ.token-one");
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.bad, 0);
    assert_string_equal(g.akid, "ASIAWEBID");
    assert_string_equal(g.secret, "ssecret");
    assert_string_equal(xb_creds_provider_source(p), "web-identity");
    assert_null(xb_creds_provider_current(p));
    /* kubelet rotated the token: the next refresh must send the new one. */
    write_file(x, "token", "eyJ.token-two", NULL);
    snprintf(x->fake.want_webid_token, sizeof(x->fake.want_webid_token), "eyJ.token-two");
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.bad, 0);
    assert_int_equal(x->fake.webid_calls, 2);
    assert_int_equal(xb_creds_provider_refreshes(p), 2);
    xb_creds_provider_free(p);
}

static void test_web_identity_sts_error(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_sts);
    set_env_url("AWS_ENDPOINT_URL_STS", x->fake.port, "/");
    setenv("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/irsa", 1);
    setenv("AWS_ROLE_SESSION_NAME", "pod-session", 1);
    write_file(x, "token", "wrong-token", "AWS_WEB_IDENTITY_TOKEN_FILE");
    snprintf(x->fake.want_webid_token, sizeof(x->fake.want_webid_token), "right-token");
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_IO);
    assert_non_null(strstr(g.why, "HTTP 400"));
    assert_non_null(strstr(g.why, "InvalidIdentityToken"));
    assert_null(strstr(g.why, "wrong-token")); /* the token is a secret */
    xb_creds_provider_free(p);
}

static void test_container_full_uri(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_container);
    set_env_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", x->fake.port, "/v1/credentials");
    write_file(x, "authtoken", "Bearer sekrit-auth\n", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.bad, 0);
    assert_string_equal(g.akid, "ASIACONTAINER1");
    assert_string_equal(g.token, "ctoken");
    assert_string_equal(xb_creds_provider_source(p), "container");
    assert_non_null(xb_creds_provider_current(p));
    assert_true(xb_creds_provider_expiration(p) > (int64_t)time(NULL) + 3000);
    xb_creds_provider_free(p);

    /* Token from the variable when no file is given. */
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer sekrit-auth", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.bad, 0);
    assert_int_equal(x->fake.requests, 2);
    xb_creds_provider_free(p);
}

static void test_container_disallowed_host(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    /* TEST-NET-1: refused before any connection is attempted. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.10/v1/credentials", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_CONFIG);
    assert_non_null(strstr(g.why, "not allowed"));
    assert_null(xb_creds_provider_current(p));
    xb_creds_provider_free(p);
}

static void test_imds_v2(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_imds);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    set_env_url("AWS_EC2_METADATA_SERVICE_ENDPOINT", x->fake.port, "");
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.bad, 0);
    assert_int_equal(x->fake.imds_puts, 1);
    assert_int_equal(x->fake.imds_gets, 2);
    assert_int_equal(x->fake.imds_gets_without_token, 0);
    assert_string_equal(g.akid, "ASIAIMDS");
    assert_string_equal(g.token, "itoken");
    assert_string_equal(xb_creds_provider_source(p), "imds");
    xb_creds_provider_free(p);
}

static void test_imds_disabled(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_imds);
    set_env_url("AWS_EC2_METADATA_SERVICE_ENDPOINT", x->fake.port, "");
    setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_NOT_FOUND);
    assert_non_null(strstr(g.why, "no AWS credentials found"));
    assert_non_null(strstr(g.why, "disabled by AWS_EC2_METADATA_DISABLED"));
    assert_int_equal(x->fake.requests, 0);
    assert_int_equal(xb_creds_provider_refresh_failures(p), 1);
    /* Within the back-off window the error is repeated without a new attempt. */
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_NOT_FOUND);
    assert_int_equal(xb_creds_provider_refresh_failures(p), 1);
    xb_creds_provider_free(p);
}

static void test_precedence(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_container);
    fake_start(&x->fake2, x->base, route_imds);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    set_env_url("AWS_EC2_METADATA_SERVICE_ENDPOINT", x->fake2.port, "");
    set_env_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", x->fake.port, "/v1/credentials");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer sekrit-auth", 1);
    write_file(x, "credentials",
               "[default]\naws_access_key_id=AKIDFILE\n"
               "aws_secret_access_key=filesecret\n",
               "AWS_SHARED_CREDENTIALS_FILE");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);

    const char *want_akid[] = {"AKIDENV", "AKIDFILE", "ASIACONTAINER1", "ASIAIMDS"};
    const char *want_src[] = {"environment", "shared-credentials-file", "container", "imds"};
    for (int step = 0; step < 4; step++) {
        p = new_provider(x, NULL);
        get_once(x, p, &g);
        assert_int_equal(g.rc, XB_OK);
        assert_string_equal(g.akid, want_akid[step]);
        assert_string_equal(xb_creds_provider_source(p), want_src[step]);
        xb_creds_provider_free(p);
        if (step == 0) {
            unsetenv("AWS_ACCESS_KEY_ID");
            unsetenv("AWS_SECRET_ACCESS_KEY");
        } else if (step == 1) {
            remove_file(x, "credentials");
        } else if (step == 2) {
            unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        }
    }
    assert_int_equal(x->fake.requests, 1);
    assert_int_equal(x->fake2.imds_puts, 1);
    assert_int_equal(x->fake.bad + x->fake2.bad, 0);
}

/* ======================================================================== */
/* Tests: caching, refresh, failures                                        */
/* ======================================================================== */

static void test_expiry_triggers_refresh(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_container);
    x->fake.expire_s = 240;
    set_env_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", x->fake.port, "/v1/credentials");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer sekrit-auth", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_string_equal(g.akid, "ASIACONTAINER1");
    /* 4 minutes left is less than the 5-minute margin. */
    assert_null(xb_creds_provider_current(p));
    snprintf(x->fake.key_suffix, sizeof(x->fake.key_suffix), "2");
    x->fake.expire_s = 3600;
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_string_equal(g.akid, "ASIACONTAINER2");
    assert_int_equal(x->fake.requests, 2);
    assert_non_null(xb_creds_provider_current(p));
    assert_string_equal(xb_creds_provider_current(p)->access_key_id, "ASIACONTAINER2");
    assert_int_equal(xb_creds_provider_refreshes(p), 2);
    xb_creds_provider_free(p);
}

static void test_concurrent_gets_one_fetch(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g[3];
    int total = 0;
    memset(g, 0, sizeof(g));
    fake_start(&x->fake, x->base, route_container);
    set_env_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", x->fake.port, "/v1/credentials");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer sekrit-auth", 1);
    p = new_provider(x, NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(xb_creds_provider_get(p, on_creds, &g[i]), XB_OK);
    {
        uint64_t deadline = xb_clock_mono_ns() + 10ull * 1000000000ull;
        while ((total = g[0].called + g[1].called + g[2].called) < 3 &&
               xb_clock_mono_ns() < deadline)
            event_base_loop(x->base, EVLOOP_ONCE);
    }
    assert_int_equal(total, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g[i].called, 1);
        assert_int_equal(g[i].rc, XB_OK);
        assert_string_equal(g[i].akid, "ASIACONTAINER1");
    }
    assert_int_equal(x->fake.requests, 1);
    assert_int_equal(xb_creds_provider_refreshes(p), 1);
    xb_creds_provider_free(p);
}

static void test_refresh_failure_keeps_valid_creds(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_container);
    x->fake.expire_s = 240;
    x->fake.fail_from = 2;
    set_env_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", x->fake.port, "/v1/credentials");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer sekrit-auth", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_null(xb_creds_provider_current(p));
    /* The refresh fails (HTTP 500) but the old credentials have 4 minutes left. */
    get_once(x, p, &g);
    assert_int_equal(x->fake.requests, 2);
    assert_int_equal(g.rc, XB_OK);
    assert_string_equal(g.akid, "ASIACONTAINER1");
    assert_int_equal(xb_creds_provider_refreshes(p), 1);
    assert_int_equal(xb_creds_provider_refresh_failures(p), 1);
    /* Back-off: an immediate get does not hit the endpoint again. */
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.requests, 2);
    xb_creds_provider_free(p);
}

static void test_refresh_failure_without_creds(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_container);
    x->fake.fail_from = 1;
    set_env_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", x->fake.port, "/v1/credentials");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer sekrit-auth", 1);
    p = new_provider(x, NULL);
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_IO);
    assert_non_null(strstr(g.why, "container: HTTP 500"));
    assert_null(strstr(g.why, "sekrit"));
    assert_string_equal(xb_creds_provider_source(p), "none");
    xb_creds_provider_free(p);
}

static void test_assume_role_over_env(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_sts);
    set_env_url("AWS_ENDPOINT_URL_STS", x->fake.port, "/");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    sts_expect_creds = (struct xb_aws_creds){"AKIDENV", "envsecret", "envtoken"};
    sts_expect_body_part = "RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fxray-writer&"
                           "RoleSessionName=xraybridge";
    p = new_provider(x, "arn:aws:iam::111122223333:role/xray-writer");
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_OK);
    assert_int_equal(x->fake.bad, 0);
    assert_int_equal(x->fake.assume_calls, 1);
    assert_string_equal(g.akid, "ASIAROLE");
    assert_string_equal(xb_creds_provider_source(p), "assume-role");
    assert_true(strncmp(x->fake.auth, "AWS4-HMAC-SHA256 Credential=AKIDENV/", 36) == 0);
    assert_non_null(strstr(x->fake.auth, "/us-west-2/sts/aws4_request"));
    assert_non_null(strstr(x->fake.auth, "x-amz-security-token"));
    assert_string_equal(x->fake.sec_token, "envtoken");
    xb_creds_provider_free(p);

    /* A wrong signing key is rejected by the fake: the error carries STS's code. */
    sts_expect_creds = (struct xb_aws_creds){"AKIDENV", "other-secret", "envtoken"};
    p = new_provider(x, "arn:aws:iam::111122223333:role/xray-writer");
    get_once(x, p, &g);
    assert_int_equal(g.rc, XB_ERR_IO);
    assert_non_null(strstr(g.why, "AccessDenied"));
    assert_null(strstr(g.why, "envsecret"));
    xb_creds_provider_free(p);
}

static void test_free_during_refresh(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p;
    struct got g = {0};
    fake_start(&x->fake, x->base, route_container);
    set_env_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", x->fake.port, "/v1/credentials");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer sekrit-auth", 1);
    p = new_provider(x, NULL);
    assert_int_equal(xb_creds_provider_get(p, on_creds, &g), XB_OK);
    xb_creds_provider_free(p); /* transfer in flight: removed, callback dropped */
    for (int i = 0; i < 5; i++)
        event_base_loop(x->base, EVLOOP_NONBLOCK);
    assert_int_equal(g.called, 0);
}

static void free_in_cb(void *ud, int rc, const struct xb_aws_creds *c, const char *why)
{
    struct xb_creds_provider **pp = ud;
    xb_creds_provider_free(*pp);
    *pp = NULL;
}

static void test_free_inside_callback(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider *p = new_provider(x, NULL);
    struct got g = {0};
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    assert_int_equal(xb_creds_provider_get(p, free_in_cb, &p), XB_OK);
    assert_int_equal(xb_creds_provider_get(p, on_creds, &g), XB_OK);
    {
        uint64_t deadline = xb_clock_mono_ns() + 5ull * 1000000000ull;
        while (p && xb_clock_mono_ns() < deadline)
            event_base_loop(x->base, EVLOOP_ONCE);
    }
    assert_null(p);
    assert_int_equal(g.called, 0); /* dropped: the provider was freed first */
}

/* ======================================================================== */
/* Tests: region                                                            */
/* ======================================================================== */

struct thread_fake {
    struct event_base *base;
    struct fake fake;
    struct event *tick;
    atomic_int stop;
};

static void on_tick(evutil_socket_t fd, short what, void *ud)
{
    struct thread_fake *t = ud;
    if (atomic_load(&t->stop))
        event_base_loopbreak(t->base);
}

static void *fake_thread(void *ud)
{
    struct thread_fake *t = ud;
    event_base_dispatch(t->base);
    return NULL;
}

static void test_region_resolution(void **state)
{
    struct fx *x = *state;
    char out[64], err[512];
    struct thread_fake t;
    pthread_t th;
    struct timeval tv = {0, 20000};

    assert_int_equal(xb_region_resolve_full("eu-central-1", out, sizeof(out), err, sizeof(err)),
                     XB_OK);
    assert_string_equal(out, "eu-central-1");
    setenv("AWS_REGION", "us-east-2", 1);
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    assert_int_equal(xb_region_resolve_full("eu-central-1", out, sizeof(out), err, sizeof(err)),
                     XB_OK);
    assert_string_equal(out, "eu-central-1");
    assert_int_equal(xb_region_resolve_full(NULL, out, sizeof(out), err, sizeof(err)), XB_OK);
    assert_string_equal(out, "us-east-2");
    unsetenv("AWS_REGION");
    assert_int_equal(xb_region_resolve_full("", out, sizeof(out), err, sizeof(err)), XB_OK);
    assert_string_equal(out, "us-west-1");
    unsetenv("AWS_DEFAULT_REGION");

    /* Shared config file, active profile. */
    write_file(x, "config", "[default]\nregion = sa-east-1\n[profile p2]\nregion = ca-central-1\n",
               "AWS_CONFIG_FILE");
    assert_int_equal(xb_region_resolve_full(NULL, out, sizeof(out), err, sizeof(err)), XB_OK);
    assert_string_equal(out, "sa-east-1");
    setenv("AWS_PROFILE", "p2", 1);
    assert_int_equal(xb_region_resolve_full(NULL, out, sizeof(out), err, sizeof(err)), XB_OK);
    assert_string_equal(out, "ca-central-1");
    remove_file(x, "config");

    /* Nothing, IMDS disabled: the error lists what was tried. */
    assert_int_equal(xb_region_resolve_full(NULL, out, sizeof(out), err, sizeof(err)),
                     XB_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "AWS_REGION"));
    assert_non_null(strstr(err, "AWS_DEFAULT_REGION"));
    assert_non_null(strstr(err, "disabled by AWS_EC2_METADATA_DISABLED"));

    /* Malformed values are refused. */
    assert_int_equal(xb_region_resolve_full("us-east-1/../x", out, sizeof(out), err, sizeof(err)),
                     XB_ERR_INVALID);
    assert_int_equal(xb_region_resolve_full("us-east-1", out, 4, err, sizeof(err)),
                     XB_ERR_TOO_LARGE);

    /* IMDSv2 fake on its own thread (the lookup blocks). */
    memset(&t, 0, sizeof(t));
    t.base = event_base_new();
    assert_non_null(t.base);
    fake_start(&t.fake, t.base, route_imds);
    t.tick = event_new(t.base, -1, EV_PERSIST, on_tick, &t);
    event_add(t.tick, &tv);
    assert_int_equal(pthread_create(&th, NULL, fake_thread, &t), 0);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    set_env_url("AWS_EC2_METADATA_SERVICE_ENDPOINT", t.fake.port, "");
    err[0] = 0;
    assert_int_equal(xb_region_resolve_full(NULL, out, sizeof(out), err, sizeof(err)), XB_OK);
    assert_string_equal(out, "ap-south-1");
    atomic_store(&t.stop, 1);
    pthread_join(th, NULL);
    assert_int_equal(t.fake.imds_puts, 1);
    assert_int_equal(t.fake.imds_gets, 1);
    assert_int_equal(t.fake.imds_gets_without_token, 0);
    assert_int_equal(t.fake.bad, 0);
    fake_stop(&t.fake);
    event_free(t.tick);
    event_base_free(t.base);
}

static void test_provider_new_rejects_bad_options(void **state)
{
    struct fx *x = *state;
    struct xb_creds_provider_opts o;
    struct xb_creds_provider *p = (struct xb_creds_provider *)1;
    char err[256] = "";
    memset(&o, 0, sizeof(o));
    o.region = "us-west-2";
    o.role_arn = "not-an-arn";
    assert_int_equal(xb_creds_provider_new(x->base, x->curl, &o, &p, err, sizeof(err)),
                     XB_ERR_CONFIG);
    assert_null(p);
    assert_non_null(strstr(err, "role_arn"));
    o.role_arn = NULL;
    o.region = "US EAST";
    assert_int_equal(xb_creds_provider_new(x->base, x->curl, &o, &p, err, sizeof(err)),
                     XB_ERR_CONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_env_static, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_files_static, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_files_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_files_role_source_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_files_web_identity_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_web_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_web_identity_sts_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_full_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_disallowed_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imds_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_imds_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_triggers_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_gets_one_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_failure_keeps_valid_creds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_failure_without_creds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assume_role_over_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_during_refresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_new_rejects_bad_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
