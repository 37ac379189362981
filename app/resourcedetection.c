/* app/resourcedetection.c - see resourcedetection.h. */
#include "app/resourcedetection.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "aws/imds.h"
#include "aws/request.h"
#include "core/err.h"
#include "core/hex.h"
#include "core/log.h"

struct xb_resdet {
    xb_pb_kv kv[XB_RESDET_MAX_ATTRS];
    xb_pb_any val[XB_RESDET_MAX_ATTRS];
    xb_pb_kv *ptr[XB_RESDET_MAX_ATTRS];
    size_t n;
};

struct xb_resdet *xb_resdet_new(void)
{
    return calloc(1, sizeof(struct xb_resdet));
}

void xb_resdet_free(struct xb_resdet *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->kv[i].key);
        free(r->val[i].string_value);
    }
    free(r);
}

const char *xb_resdet_get(const struct xb_resdet *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->kv[i].key, key) == 0)
            return r->val[i].string_value;
    return NULL;
}

int xb_resdet_add(struct xb_resdet *r, const char *key, const char *value)
{
    size_t i = r->n;

    if (key[0] == '\0' || strlen(key) > XB_RESDET_MAX_LEN || strlen(value) > XB_RESDET_MAX_LEN)
        return XB_ERR_INVALID;
    if (xb_resdet_get(r, key) != NULL)
        return XB_OK;
    if (i == XB_RESDET_MAX_ATTRS)
        return XB_ERR_FULL;
    opentelemetry__proto__common__v1__key_value__init(&r->kv[i]);
    opentelemetry__proto__common__v1__any_value__init(&r->val[i]);
    r->kv[i].key = strdup(key);
    r->val[i].string_value = strdup(value);
    if (r->kv[i].key == NULL || r->val[i].string_value == NULL) {
        free(r->kv[i].key);
        free(r->val[i].string_value);
        return XB_ERR_NOMEM;
    }
    r->val[i].value_case = XB_ANY_STRING;
    r->kv[i].value = &r->val[i];
    r->ptr[i] = &r->kv[i];
    r->n++;
    return XB_OK;
}

xb_pb_kv *const *xb_resdet_kvs(const struct xb_resdet *r, size_t *n)
{
    *n = r->n;
    return r->ptr;
}

/* Adds and maps "already full / too long" to a warning; only NOMEM is an error. */
static int add_soft(struct xb_resdet *r, const char *key, const char *value)
{
    int rc = xb_resdet_add(r, key, value);

    if (rc == XB_ERR_FULL || rc == XB_ERR_INVALID) {
        XB_WARN("resourcedetection", "attribute %s not kept (%s)", key,
                rc == XB_ERR_FULL ? "too many attributes" : "key or value too long");
        rc = XB_OK;
    }
    return rc;
}

/* Copies |s|..|e| trimmed of spaces into |out|, percent-decoding when |decode|.
 * Returns 0 on a bad escape. */
static int take(const char *s, const char *e, char *out, int decode)
{
    size_t n = 0;

    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    for (; s < e; s++) {
        if (decode && *s == '%') {
            int hi, lo;
            if (e - s < 3 || (hi = xb_hex_value((unsigned char)s[1])) < 0 ||
                (lo = xb_hex_value((unsigned char)s[2])) < 0)
                return 0;
            out[n++] = (char)(hi * 16 + lo);
            s += 2;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return 1;
}

int xb_resdet_parse_env(struct xb_resdet *r, const char *s, size_t *skipped)
{
    size_t len = strlen(s);
    char *key = malloc(len + 1), *val = malloc(len + 1);
    const char *p = s;
    int rc = XB_OK;

    *skipped = 0;
    if (key == NULL || val == NULL) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    while (*p != '\0' && rc == XB_OK) {
        const char *end = strchr(p, ','), *eq;
        if (end == NULL)
            end = p + strlen(p);
        eq = memchr(p, '=', (size_t)(end - p));
        if (eq == NULL || !take(p, eq, key, 0) || key[0] == '\0' || !take(eq + 1, end, val, 1)) {
            for (const char *q = p; q < end; q++)
                if (!isspace((unsigned char)*q)) {
                    (*skipped)++;
                    break;
                }
        } else {
            rc = add_soft(r, key, val);
        }
        p = *end == ',' ? end + 1 : end;
    }
out:
    free(key);
    free(val);
    return rc;
}

int xb_resdet_parse_identity(struct xb_resdet *r, const char *json, const char *hostname)
{
    static const struct {
        const char *field, *attr;
    } map[] = {
        {"region", "cloud.region"},
        {"accountId", "cloud.account.id"},
        {"availabilityZone", "cloud.availability_zone"},
        {"instanceId", "host.id"},
        {"instanceType", "host.type"},
        {"imageId", "host.image.id"},
    };
    cJSON *doc = cJSON_Parse(json);
    int rc = XB_OK;

    if (doc == NULL || !cJSON_IsObject(doc) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "instanceId"))) {
        rc = XB_ERR_INVALID;
        goto out;
    }
    rc = add_soft(r, "cloud.provider", "aws");
    if (rc == XB_OK)
        rc = add_soft(r, "cloud.platform", "aws_ec2");
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && rc == XB_OK; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, map[i].field);
        if (cJSON_IsString(v) && v->valuestring[0] != '\0')
            rc = add_soft(r, map[i].attr, v->valuestring);
    }
    if (rc == XB_OK && hostname != NULL && hostname[0] != '\0')
        rc = add_soft(r, "host.name", hostname);
out:
    cJSON_Delete(doc);
    return rc;
}

int xb_resdet_eks(struct xb_resdet *r, const char *cluster)
{
    int rc = add_soft(r, "cloud.provider", "aws");

    if (rc == XB_OK)
        rc = add_soft(r, "cloud.platform", "aws_eks");
    if (rc == XB_OK && cluster != NULL && cluster[0] != '\0')
        rc = add_soft(r, "k8s.cluster.name", cluster);
    return rc;
}

/* ------------------------------------------------------------ metadata I/O --- */

#define IMDS_BODY_MAX 8192

struct body {
    char data[IMDS_BODY_MAX];
    size_t len;
};

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct body *b = ud;
    size_t n = size * nmemb;

    if (b->len + n >= sizeof(b->data))
        return 0; /* larger than any document read here: fail the transfer */
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* The metadata session: endpoint, token ("" = IMDSv1) and the detection deadline. */
struct imds {
    const char *endpoint;
    char token[512];
    int usable; /* the token step answered */
    struct timespec deadline;
};

static long ms_left(const struct imds *m)
{
    struct timespec now;
    long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long)(m->deadline.tv_sec - now.tv_sec) * 1000 +
         (m->deadline.tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? ms : 0;
}

/* Runs |c| into |b| within what is left of the deadline. Returns the HTTP status, -1 on
 * a transport failure or when no time is left (|err| filled). */
static long perform(const struct imds *m, struct xb_imds_call *c, struct body *b, char *err)
{
    CURL *e = NULL;
    struct curl_slist *h = NULL;
    long status = -1, left = ms_left(m);

    b->len = 0;
    b->data[0] = '\0';
    err[0] = '\0';
    if (left <= 0) {
        snprintf(err, CURL_ERROR_SIZE, "resourcedetection timeout reached");
        return -1;
    }
    c->req.timeout_ms = left < XB_IMDS_TIMEOUT_MS ? left : XB_IMDS_TIMEOUT_MS;
    c->req.connect_timeout_ms = c->req.timeout_ms < XB_IMDS_CONNECT_TIMEOUT_MS
                                    ? c->req.timeout_ms
                                    : XB_IMDS_CONNECT_TIMEOUT_MS;
    c->req.on_body = body_write;
    c->req.on_body_ud = b;
    c->req.errbuf = err;
    if (xb_aws_request_build(&c->req, &e, &h, NULL, 0) != XB_OK) {
        snprintf(err, CURL_ERROR_SIZE, "cannot build the request");
        return -1;
    }
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    else if (!err[0])
        snprintf(err, CURL_ERROR_SIZE, "transfer failed");
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    return status;
}

/* Opens the metadata session (token PUT, IMDSv1 when refused). 0 when unusable. */
static int imds_open(struct imds *m)
{
    struct xb_imds_call c;
    struct body *b = malloc(sizeof(*b));
    char err[CURL_ERROR_SIZE];
    long st;

    if (m->usable || b == NULL) {
        free(b);
        return m->usable;
    }
    m->endpoint = xb_imds_endpoint();
    if (xb_imds_token_call(&c, m->endpoint) != XB_OK) {
        free(b);
        return 0;
    }
    st = perform(m, &c, b, err);
    switch (st < 0 ? XB_IMDS_TOKEN_FAIL : xb_imds_token_classify(st, b->data, b->len)) {
    case XB_IMDS_TOKEN_V2:
        memcpy(m->token, b->data, b->len + 1); /* classify: under 512 bytes */
        m->usable = 1;
        break;
    case XB_IMDS_TOKEN_V1:
        m->token[0] = '\0';
        m->usable = 1;
        break;
    default:
        XB_WARN("resourcedetection", "instance metadata service %s not usable (%s)", m->endpoint,
                st < 0 ? err : "unexpected HTTP status on the token request");
        m->usable = -1;
        break;
    }
    memset(b, 0, sizeof(*b));
    free(b);
    return m->usable == 1;
}

/* GET |path| into |b|. Returns 1 on a 200 answer; 0 otherwise (|quiet|: no warning). */
static int imds_get(struct imds *m, const char *path, struct body *b, int quiet)
{
    struct xb_imds_call c;
    char err[CURL_ERROR_SIZE];
    long st;

    if (imds_open(m) != 1 || xb_imds_get_call(&c, m->endpoint, path, m->token) != XB_OK)
        return 0;
    st = perform(m, &c, b, err);
    if (st == 200)
        return 1;
    if (!quiet)
        XB_WARN("resourcedetection", "instance metadata %s: %s", path,
                st < 0 ? err : "unexpected HTTP status");
    return 0;
}

static int detect_ec2(struct xb_resdet *r, struct imds *m)
{
    struct body *doc = malloc(sizeof(*doc)), *host = malloc(sizeof(*host));
    int rc = XB_OK;

    if (doc == NULL || host == NULL) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    if (!imds_get(m, "/latest/dynamic/instance-identity/document", doc, 0))
        goto out;
    if (!imds_get(m, "/latest/meta-data/hostname", host, 0))
        host->data[0] = '\0';
    rc = xb_resdet_parse_identity(r, doc->data, host->data);
    if (rc == XB_ERR_INVALID) {
        XB_WARN("resourcedetection", "ec2: the instance identity document is not valid JSON");
        rc = XB_OK;
    }
out:
    free(doc);
    free(host);
    return rc;
}

static int detect_eks(struct xb_resdet *r, struct imds *m)
{
    static const char *const tags[] = {"/latest/meta-data/tags/instance/eks:cluster-name",
                                       "/latest/meta-data/tags/instance/aws:eks:cluster-name"};
    const char *cluster = getenv("K8S_CLUSTER_NAME");
    struct body *b = NULL;
    int rc;

    if (getenv("KUBERNETES_SERVICE_HOST") == NULL) {
        XB_WARN("resourcedetection", "eks: not running in Kubernetes (KUBERNETES_SERVICE_HOST "
                                     "unset); nothing detected");
        return XB_OK;
    }
    if (cluster == NULL || cluster[0] == '\0') {
        cluster = NULL;
        b = malloc(sizeof(*b));
        if (b == NULL)
            return XB_ERR_NOMEM;
        for (size_t i = 0; i < 2 && cluster == NULL; i++) {
            if (imds_get(m, tags[i], b, 1) && b->len > 0)
                cluster = b->data;
        }
        if (cluster == NULL)
            XB_WARN("resourcedetection",
                    "eks: k8s.cluster.name not found (set K8S_CLUSTER_NAME, or enable instance "
                    "tags in the instance metadata)");
    }
    rc = xb_resdet_eks(r, cluster);
    free(b);
    return rc;
}

static int detect_system(struct xb_resdet *r)
{
    char host[256];
    int rc = XB_OK;

    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        rc = add_soft(r, "host.name", host);
    }
    if (rc == XB_OK)
        rc = add_soft(r, "os.type", "linux");
    return rc;
}

int xb_resdet_run(const struct xb_config_resourcedetection *c, struct xb_resdet **out)
{
    struct xb_resdet *r = xb_resdet_new();
    struct imds m;
    char line[1024];
    size_t off = 0;
    int rc = XB_OK;

    *out = NULL;
    if (r == NULL)
        return XB_ERR_NOMEM;
    memset(&m, 0, sizeof(m));
    clock_gettime(CLOCK_MONOTONIC, &m.deadline);
    m.deadline.tv_sec += c->timeout_ms / 1000;
    m.deadline.tv_nsec += (long)(c->timeout_ms % 1000) * 1000000;
    if (m.deadline.tv_nsec >= 1000000000) {
        m.deadline.tv_sec++;
        m.deadline.tv_nsec -= 1000000000;
    }
    for (size_t i = 0; i < c->n_detectors && rc == XB_OK; i++) {
        const char *d = c->detectors[i];
        if (strcmp(d, "env") == 0) {
            const char *s = getenv("OTEL_RESOURCE_ATTRIBUTES");
            size_t skipped = 0;
            if (s != NULL)
                rc = xb_resdet_parse_env(r, s, &skipped);
            if (skipped)
                XB_WARN("resourcedetection",
                        "env: %zu malformed entries in OTEL_RESOURCE_ATTRIBUTES skipped", skipped);
        } else if (strcmp(d, "ec2") == 0) {
            rc = detect_ec2(r, &m);
        } else if (strcmp(d, "eks") == 0) {
            rc = detect_eks(r, &m);
        } else if (strcmp(d, "system") == 0) {
            rc = detect_system(r);
        }
    }
    memset(m.token, 0, sizeof(m.token));
    if (rc != XB_OK) {
        xb_resdet_free(r);
        return rc;
    }
    line[0] = '\0';
    for (size_t i = 0; i < r->n && off < sizeof(line); i++) {
        int n = snprintf(line + off, sizeof(line) - off, "%s%s=%s", i ? " " : "", r->kv[i].key,
                         r->val[i].string_value);
        off += n > 0 ? (size_t)n : 0;
    }
    XB_INFO("resourcedetection", "%zu attributes detected%s%s", r->n, r->n ? ": " : "", line);
    *out = r;
    return XB_OK;
}
