#include "receiver/tls.h"

#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/log.h"

/* Identity of one file as seen by stat(): a change of any field triggers a reload. */
struct file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int missing;
};

enum { F_CERT, F_KEY, F_CA, F_COUNT };

struct xb_tls {
    char *files[F_COUNT];         /* owned copies; NULL = not set */
    char *key_prefix;             /* owned */
    const char *who;              /* static */
    int min_version, max_version; /* TLS1_x_VERSION; max 0 = highest supported */
    unsigned char alpn_wire[32];  /* server's ALPN list in wire format (length-prefixed) */
    size_t alpn_len;              /* 0 = no ALPN */
    int alpn_required;
    SSL_CTX *ctx;                 /* current context; SSL objects hold their own refs */
    pthread_mutex_t ctx_lock;     /* ingest workers (app/workers.h) read ctx, reload swaps it */
    struct file_id seen[F_COUNT]; /* files as of the last (attempted) load */
    struct event *timer;          /* reload_interval check; NULL when off */
    uint64_t reloads;
};

static const char *const file_keys[F_COUNT] = {"cert_file", "key_file", "client_ca_file"};

static void set_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!err || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static int is_unset(const char *s)
{
    return s == NULL || s[0] == '\0';
}

int xb_tls_parse_version(const char *s, int dflt, int *out)
{
    if (is_unset(s))
        *out = dflt;
    else if (strcmp(s, "1.2") == 0)
        *out = TLS1_2_VERSION;
    else if (strcmp(s, "1.3") == 0)
        *out = TLS1_3_VERSION;
    else
        return XB_ERR_CONFIG;
    return XB_OK;
}

int xb_tls_opts_enabled(const struct xb_tls_opts *o)
{
    return !is_unset(o->cert_file) || !is_unset(o->key_file) || !is_unset(o->client_ca_file);
}

int xb_tls_opts_check(const struct xb_tls_opts *o, char *err, size_t err_len)
{
    const char *p = o->key_prefix ? o->key_prefix : "tls";
    int minv, maxv;

    if (xb_tls_parse_version(o->min_version, TLS1_2_VERSION, &minv) != XB_OK) {
        set_err(err, err_len, "%s.min_version: \"%s\": expected \"1.2\" or \"1.3\"", p,
                o->min_version);
        return XB_ERR_CONFIG;
    }
    if (xb_tls_parse_version(o->max_version, 0, &maxv) != XB_OK) {
        set_err(err, err_len, "%s.max_version: \"%s\": expected \"1.2\" or \"1.3\"", p,
                o->max_version);
        return XB_ERR_CONFIG;
    }
    if (maxv != 0 && maxv < minv) {
        set_err(err, err_len, "%s.max_version: %s is below min_version %s", p, o->max_version,
                is_unset(o->min_version) ? "1.2" : o->min_version);
        return XB_ERR_CONFIG;
    }
    if (!xb_tls_opts_enabled(o)) {
        if (minv != TLS1_2_VERSION || maxv != 0 || o->reload_interval_ms != 0) {
            set_err(err, err_len, "%s: cert_file and key_file are required to turn TLS on", p);
            return XB_ERR_CONFIG;
        }
        return XB_OK;
    }
    if (is_unset(o->cert_file)) {
        set_err(err, err_len, "%s.cert_file: required when %s is set", p,
                is_unset(o->key_file) ? "client_ca_file" : "key_file");
        return XB_ERR_CONFIG;
    }
    if (is_unset(o->key_file)) {
        set_err(err, err_len, "%s.key_file: required when cert_file is set", p);
        return XB_ERR_CONFIG;
    }
    return XB_OK;
}

/* The first queued OpenSSL error as text (the root cause: "no start line" rather
 * than "PEM lib"), and clears the queue. Error strings carry no key material. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error();

    if (e == 0)
        snprintf(buf, len, "unknown error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* Refuses to ask for a passphrase (OpenSSL would otherwise prompt on the terminal). */
static int no_passphrase(char *buf, int size, int rwflag, void *ud)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)ud;
    return 0;
}

/* ALPN: select our protocol if the client offers it; see xb_tls_opts.alpn_required. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *ud)
{
    const struct xb_tls *t = ud;
    unsigned char *sel = NULL;

    (void)ssl;
    if (SSL_select_next_proto(&sel, outlen, t->alpn_wire, (unsigned int)t->alpn_len, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    return t->alpn_required ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
}

/* Logs handshakes we refuse (fatal alerts we send) at debug level. */
static void on_ssl_info(const SSL *ssl, int where, int ret)
{
    const struct xb_tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

    if ((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE) && (ret >> 8) == SSL3_AL_FATAL)
        XB_DEBUG("tls", "%s: refused a TLS connection: %s", t ? t->who : "?",
                 SSL_alert_desc_string_long(ret));
}

/* Fails with "KEY: FILE: strerror" when |path| cannot be opened for reading. */
static int check_readable(const struct xb_tls *t, int which, char *err, size_t err_len)
{
    FILE *f = fopen(t->files[which], "r");

    if (!f) {
        set_err(err, err_len, "%s.%s: %s: %s", t->key_prefix, file_keys[which], t->files[which],
                strerror(errno));
        return XB_ERR_CONFIG;
    }
    fclose(f);
    return XB_OK;
}

/* Builds a complete server SSL_CTX from the files. NULL with |err| set on failure. */
static SSL_CTX *build_ctx(struct xb_tls *t, char *err, size_t err_len)
{
    char why[256];
    SSL_CTX *ctx = NULL;
    STACK_OF(X509_NAME) *cas = NULL;
    EVP_PKEY *pkey = NULL;
    BIO *bio;
    const char *p = t->key_prefix;

    ERR_clear_error();
    for (int i = 0; i < F_COUNT; i++)
        if (t->files[i] && check_readable(t, i, err, err_len) != XB_OK)
            goto fail;
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        set_err(err, err_len, "%s: cannot create a TLS context: %s", p,
                ssl_reason(why, sizeof(why)));
        goto fail;
    }
    SSL_CTX_set_app_data(ctx, t);
    if (!SSL_CTX_set_min_proto_version(ctx, t->min_version) ||
        !SSL_CTX_set_max_proto_version(ctx, t->max_version)) {
        set_err(err, err_len, "%s: TLS version range not supported: %s", p,
                ssl_reason(why, sizeof(why)));
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Idle connections give their 16 KiB+ record buffers back (many idle clients). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    SSL_CTX_set_info_callback(ctx, on_ssl_info);
    if (SSL_CTX_use_certificate_chain_file(ctx, t->files[F_CERT]) != 1) {
        set_err(err, err_len, "%s.cert_file: %s: cannot load a PEM certificate: %s", p,
                t->files[F_CERT], ssl_reason(why, sizeof(why)));
        goto fail;
    }
    /* Read the key apart from installing it, to tell "unreadable" from "wrong key". */
    bio = BIO_new_file(t->files[F_KEY], "r");
    pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (!pkey) {
        set_err(err, err_len,
                "%s.key_file: %s: cannot load a PEM private key (encrypted keys are not "
                "supported): %s",
                p, t->files[F_KEY], ssl_reason(why, sizeof(why)));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        set_err(err, err_len, "%s.key_file: %s: does not match the certificate in %s", p,
                t->files[F_KEY], t->files[F_CERT]);
        goto fail;
    }
    if (t->files[F_CA]) {
        if (SSL_CTX_load_verify_locations(ctx, t->files[F_CA], NULL) != 1) {
            set_err(err, err_len, "%s.client_ca_file: %s: cannot load PEM certificates: %s", p,
                    t->files[F_CA], ssl_reason(why, sizeof(why)));
            goto fail;
        }
        cas = SSL_load_client_CA_file(t->files[F_CA]);
        if (!cas || sk_X509_NAME_num(cas) == 0) {
            ERR_clear_error();
            set_err(err, err_len, "%s.client_ca_file: %s: holds no CA certificate", p,
                    t->files[F_CA]);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, cas); /* takes ownership */
        cas = NULL;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    /* Needed for session resumption when client certificates are verified. */
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"xraybridge", 10);
    if (t->alpn_len)
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select, t);
    EVP_PKEY_free(pkey);
    return ctx;
fail:
    EVP_PKEY_free(pkey);
    if (cas)
        sk_X509_NAME_pop_free(cas, X509_NAME_free);
    SSL_CTX_free(ctx);
    return NULL;
}

/* Logs which certificate |t| now serves (subject, serial, expiry; never key material). */
static void log_cert(const struct xb_tls *t, const char *what)
{
    X509 *x = SSL_CTX_get0_certificate(t->ctx);
    char subject[256] = "?", expires[64] = "?";
    char *serial = NULL;
    BIGNUM *bn = NULL;
    BIO *mem;

    if (!x)
        return;
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    serial = bn ? BN_bn2hex(bn) : NULL;
    mem = BIO_new(BIO_s_mem());
    if (mem && ASN1_TIME_print(mem, X509_get0_notAfter(x)) == 1) {
        int n = BIO_read(mem, expires, sizeof(expires) - 1);
        expires[n > 0 ? n : 0] = '\0';
    }
    XB_INFO("tls", "%s: %s certificate %s (subject %s, serial %s, expires %s)%s%s, TLS %s..%s",
            t->who, what, t->files[F_CERT], subject, serial ? serial : "?", expires,
            t->files[F_CA] ? "; client certificates required, CA file " : "",
            t->files[F_CA] ? t->files[F_CA] : "", t->min_version == TLS1_3_VERSION ? "1.3" : "1.2",
            t->max_version == TLS1_2_VERSION ? "1.2" : "1.3");
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        XB_WARN("tls", "%s: certificate %s has expired (%s)", t->who, t->files[F_CERT], expires);
    BIO_free(mem);
    OPENSSL_free(serial);
    BN_free(bn);
}

static void stat_files(const struct xb_tls *t, struct file_id out[F_COUNT])
{
    struct stat st;

    memset(out, 0, sizeof(struct file_id) * F_COUNT);
    for (int i = 0; i < F_COUNT; i++) {
        if (!t->files[i])
            continue;
        if (stat(t->files[i], &st) != 0) {
            out[i].missing = 1;
            continue;
        }
        out[i].dev = st.st_dev;
        out[i].ino = st.st_ino;
        out[i].size = st.st_size;
        out[i].mtime = st.st_mtim;
    }
}

static int same_files(const struct file_id a[F_COUNT], const struct file_id b[F_COUNT])
{
    for (int i = 0; i < F_COUNT; i++) {
        if (a[i].missing != b[i].missing || a[i].dev != b[i].dev || a[i].ino != b[i].ino ||
            a[i].size != b[i].size || a[i].mtime.tv_sec != b[i].mtime.tv_sec ||
            a[i].mtime.tv_nsec != b[i].mtime.tv_nsec)
            return 0;
    }
    return 1;
}

int xb_tls_reload(struct xb_tls *t)
{
    char err[512];
    SSL_CTX *ctx, *old;

    if (!t)
        return XB_OK;
    stat_files(t, t->seen); /* a failed load is reported once per change, not per tick */
    ctx = build_ctx(t, err, sizeof(err));
    if (!ctx) {
        XB_ERROR("tls", "%s: reload failed, still serving the previous certificate: %s", t->who,
                 err);
        return XB_ERR_CONFIG;
    }
    pthread_mutex_lock(&t->ctx_lock);
    old = t->ctx;
    t->ctx = ctx;
    pthread_mutex_unlock(&t->ctx_lock);
    SSL_CTX_free(old); /* open connections hold their own reference */
    t->reloads++;
    log_cert(t, "reloaded");
    return XB_OK;
}

uint64_t xb_tls_reloads(const struct xb_tls *t)
{
    return t ? t->reloads : 0;
}

static void on_reload_timer(evutil_socket_t fd, short what, void *ud)
{
    struct xb_tls *t = ud;
    struct file_id now[F_COUNT];

    (void)fd;
    (void)what;
    stat_files(t, now);
    if (!same_files(now, t->seen)) {
        XB_INFO("tls", "%s: certificate files changed: reloading", t->who);
        xb_tls_reload(t);
    }
}

/* ALPN wire format of one protocol name: length byte + name. */
static int set_alpn(struct xb_tls *t, const char *proto)
{
    size_t n = proto ? strlen(proto) : 0;

    if (n == 0)
        return XB_OK;
    if (n > sizeof(t->alpn_wire) - 1)
        return XB_ERR_CONFIG;
    t->alpn_wire[0] = (unsigned char)n;
    memcpy(t->alpn_wire + 1, proto, n);
    t->alpn_len = n + 1;
    return XB_OK;
}

int xb_tls_new(struct event_base *base, const struct xb_tls_opts *o, const char *who,
               struct xb_tls **out, char *err, size_t err_len)
{
    const char *given[F_COUNT] = {o->cert_file, o->key_file, o->client_ca_file};
    struct xb_tls *t = NULL;
    int rc;

    *out = NULL;
    rc = xb_tls_opts_check(o, err, err_len);
    if (rc != XB_OK)
        goto fail;
    rc = XB_ERR_NOMEM;
    t = calloc(1, sizeof(*t));
    if (!t)
        goto fail;
    pthread_mutex_init(&t->ctx_lock, NULL);
    t->who = who;
    t->alpn_required = o->alpn_required;
    t->key_prefix = strdup(o->key_prefix ? o->key_prefix : "tls");
    if (!t->key_prefix)
        goto fail;
    for (int i = 0; i < F_COUNT; i++)
        if (!is_unset(given[i]) && !(t->files[i] = strdup(given[i])))
            goto fail;
    xb_tls_parse_version(o->min_version, TLS1_2_VERSION, &t->min_version);
    xb_tls_parse_version(o->max_version, 0, &t->max_version);
    rc = set_alpn(t, o->alpn);
    if (rc != XB_OK) {
        set_err(err, err_len, "%s: ALPN protocol name too long", t->key_prefix);
        goto fail;
    }
    stat_files(t, t->seen);
    t->ctx = build_ctx(t, err, err_len);
    if (!t->ctx) {
        rc = XB_ERR_CONFIG;
        goto fail;
    }
    if (o->reload_interval_ms) {
        struct timeval tv = {o->reload_interval_ms / 1000, (o->reload_interval_ms % 1000) * 1000};
        t->timer = event_new(base, -1, EV_PERSIST, on_reload_timer, t);
        if (!t->timer || event_add(t->timer, &tv) != 0) {
            rc = XB_ERR_NOMEM;
            goto fail;
        }
    }
    log_cert(t, "serving");
    *out = t;
    return XB_OK;
fail:
    xb_tls_free(t);
    return rc;
}

static void set_nodelay(evutil_socket_t fd)
{
    int one = 1;

    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct bufferevent *xb_tls_bufferevent(struct xb_tls *t, struct event_base *base, int fd)
{
    struct bufferevent *bev;
    SSL *ssl;

    pthread_mutex_lock(&t->ctx_lock);
    ssl = SSL_new(t->ctx);
    pthread_mutex_unlock(&t->ctx_lock);
    if (!ssl)
        return NULL;
    /* Created without the socket, then given it, so that no failure path closes |fd|. */
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    if (fd >= 0) {
        if (bufferevent_setfd(bev, fd) != 0) {
            bufferevent_free(bev);
            return NULL;
        }
        set_nodelay(fd);
    }
    return bev;
}

void xb_tls_listener_nodelay(struct evconnlistener *l)
{
    if (l)
        set_nodelay(evconnlistener_get_fd(l));
}

void xb_tls_free(struct xb_tls *t)
{
    if (!t)
        return;
    if (t->timer)
        event_free(t->timer);
    SSL_CTX_free(t->ctx);
    for (int i = 0; i < F_COUNT; i++)
        free(t->files[i]);
    free(t->key_prefix);
    pthread_mutex_destroy(&t->ctx_lock);
    free(t);
}
