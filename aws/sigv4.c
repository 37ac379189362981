/*
 * aws/sigv4.c - AWS Signature Version 4 (header form, AWS4-HMAC-SHA256).
 *
 * The four steps of the AWS General Reference "Create a signed AWS API request":
 *   1. canonical request  = method, canonical URI, canonical query string,
 *                           canonical headers, signed header list, payload hash;
 *   2. string to sign     = algorithm, amz date, credential scope, hash(1);
 *   3. signing key        = HMAC chain "AWS4"+secret -> date -> region -> service ->
 *                           "aws4_request";
 *   4. signature          = hex HMAC(key(3), (2)), placed in the Authorization value.
 *
 * All hashing goes through OpenSSL (EVP_Digest, EVP_MAC). Every buffer that held the
 * secret key or a key derived from it is wiped with OPENSSL_cleanse before it is
 * released; the canonical request (which holds the session token) is wiped too. The
 * signing keys of step 3 are cached per day and scope (signing_key()); the cache
 * holds a hash of the secret, never the secret, and is wiped by xb_sigv4_forget_keys().
 */
#include "aws/sigv4.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/hex.h"

#define SHA256_LEN 32
#define ALGORITHM "AWS4-HMAC-SHA256"

/* ------------------------------------------------------------------------- */
/* Hashing helpers                                                            */
/* ------------------------------------------------------------------------- */

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/*
 * SHA-256 and HMAC fetched from the default provider once per process: OpenSSL 3 looks
 * up EVP_sha256() and "HMAC" in its provider tables on every implicit use, which cost
 * as much as hashing a small input. |hmac_tmpl| is an HMAC context with its digest set
 * and no key; each HMAC duplicates it. NULL when a fetch failed: then the implicit
 * forms are used.
 */
static EVP_MD *sha256_md;
static EVP_MAC_CTX *hmac_tmpl;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_algorithms(void)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end()};

    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (mac) {
        hmac_tmpl = EVP_MAC_CTX_new(mac);
        if (hmac_tmpl && !EVP_MAC_CTX_set_params(hmac_tmpl, params)) {
            EVP_MAC_CTX_free(hmac_tmpl);
            hmac_tmpl = NULL;
        }
        EVP_MAC_free(mac); /* the context keeps its own reference */
    }
}

static const EVP_MD *md_sha256(void)
{
    pthread_once(&fetch_once, fetch_algorithms);
    return sha256_md ? sha256_md : EVP_sha256();
}

/* Writes the SHA-256 of |data| into |out|. */
static int sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
    unsigned int md_len = 0;

    if (!EVP_Digest(data, len, out, &md_len, md_sha256(), NULL) || md_len != SHA256_LEN)
        return XB_ERR_NOMEM; /* OpenSSL only fails here on allocation failure */
    return XB_OK;
}

/* Writes the lower-case hex SHA-256 of |data| into |hex| (65 bytes). */
static int sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[SHA256_LEN];
    int rc = sha256(data, len, md);

    if (rc == XB_OK)
        hex_encode(md, SHA256_LEN, hex);
    return rc;
}

int xb_sigv4_payload_hash(const struct xb_piece *v, size_t n, char hex[65])
{
    unsigned char md[SHA256_LEN];
    unsigned int md_len = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, md_sha256(), NULL);

    for (size_t i = 0; ok && i < n; i++)
        if (v[i].len)
            ok = EVP_DigestUpdate(c, v[i].p, v[i].len);
    ok = ok && EVP_DigestFinal_ex(c, md, &md_len) && md_len == SHA256_LEN;
    EVP_MD_CTX_free(c);
    hex[0] = '\0';
    if (!ok)
        return XB_ERR_NOMEM; /* OpenSSL only fails here on allocation failure */
    hex_encode(md, SHA256_LEN, hex);
    return XB_OK;
}

/* out = HMAC-SHA256(key, msg). The duplicated context is freed with
 * EVP_MAC_CTX_free, which cleanses the key it held. */
static int hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                       unsigned char out[SHA256_LEN])
{
    unsigned int out_len = 0;
    const EVP_MD *md = md_sha256();
    EVP_MAC_CTX *c;
    size_t n = 0;
    int ok;

    if (key_len > INT_MAX)
        return XB_ERR_INVALID;
    if (!hmac_tmpl) {
        if (!HMAC(md, key, (int)key_len, msg, msg_len, out, &out_len) || out_len != SHA256_LEN)
            return XB_ERR_NOMEM;
        return XB_OK;
    }
    c = EVP_MAC_CTX_dup(hmac_tmpl);
    ok = c && EVP_MAC_init(c, key, key_len, NULL) && EVP_MAC_update(c, msg, msg_len) &&
         EVP_MAC_final(c, out, &n, SHA256_LEN) && n == SHA256_LEN;
    EVP_MAC_CTX_free(c);
    return ok ? XB_OK : XB_ERR_NOMEM;
}

/* ------------------------------------------------------------------------- */
/* Character classes and percent-encoding                                     */
/* ------------------------------------------------------------------------- */

/* RFC 3986 section 2.3 unreserved characters. */
static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* RFC 7230 token character (header field names). */
static int is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Whitespace collapsed/trimmed in header values. */
static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

int xb_sigv4_uri_encode(struct xb_buf *b, const char *s, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    char esc[3];
    size_t i;
    int rc = XB_OK;

    for (i = 0; i < n && rc == XB_OK; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_unreserved(c)) {
            rc = xb_buf_putc(b, (char)c);
        } else {
            esc[0] = '%';
            esc[1] = digits[c >> 4];
            esc[2] = digits[c & 0x0f];
            rc = xb_buf_append(b, esc, sizeof(esc));
        }
    }
    return rc;
}

/*
 * Percent-decodes |s| (|n| bytes) and appends it re-encoded with the unreserved set,
 * so "%7e", "~" and "%7E" all canonicalise to "~" and "a b"/"a%20b" to "a%20b".
 * '+' is a literal plus (it becomes %2B), not a space. Returns XB_ERR_INVALID on a
 * malformed escape ("%" not followed by two hex digits).
 */
static int append_reencoded(struct xb_buf *b, const char *s, size_t n)
{
    char c;
    size_t i;
    int hi, lo, rc = XB_OK;

    for (i = 0; i < n && rc == XB_OK; i++) {
        c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return XB_ERR_INVALID;
            hi = xb_hex_value((unsigned char)s[i + 1]);
            lo = xb_hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return XB_ERR_INVALID;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        rc = xb_sigv4_uri_encode(b, &c, 1);
    }
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Canonical URI                                                              */
/* ------------------------------------------------------------------------- */

/*
 * Canonical URI of a path as sent: RFC 3986 section 5.2.4 dot-segment removal, with
 * empty segments ("//") dropped too, then every byte outside unreserved and '/'
 * percent-encoded. Because the path is already encoded once on the wire, this is the
 * "encode each path segment twice" rule SigV4 applies to every service except S3
 * (e.g. "%20" becomes "%2520"). "" is "/". A trailing '/' is kept.
 */
static int append_canonical_path(struct xb_buf *b, const char *path)
{
    size_t n = strlen(path), i, start, seg_len, *ends = NULL, n_segs = 0;
    size_t *starts = NULL;
    int rc = XB_OK, trailing;

    if (n == 0 || (n == 1 && path[0] == '/')) {
        rc = xb_buf_putc(b, '/');
        goto out;
    }
    if (path[0] != '/') {
        rc = XB_ERR_INVALID;
        goto out;
    }
    /* At most n/2 + 1 segments; keep a stack of (start, end) of retained segments. */
    starts = malloc((n / 2 + 1) * sizeof(*starts));
    ends = malloc((n / 2 + 1) * sizeof(*ends));
    if (!starts || !ends) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    i = 0;
    while (i <= n) {
        start = i;
        while (i < n && path[i] != '/')
            i++;
        seg_len = i - start;
        if (seg_len == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (n_segs > 0)
                n_segs--;
        } else if (seg_len > 0 && !(seg_len == 1 && path[start] == '.')) {
            starts[n_segs] = start;
            ends[n_segs] = i;
            n_segs++;
        }
        i++; /* skip the '/' (or step past the end) */
    }
    trailing = path[n - 1] == '/' && n_segs > 0;
    rc = xb_buf_putc(b, '/');
    for (i = 0; i < n_segs && rc == XB_OK; i++) {
        if (i > 0)
            rc = xb_buf_putc(b, '/');
        if (rc == XB_OK)
            rc = xb_sigv4_uri_encode(b, path + starts[i], ends[i] - starts[i]);
    }
    if (rc == XB_OK && trailing)
        rc = xb_buf_putc(b, '/');
out:
    free(starts);
    free(ends);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Canonical query string                                                     */
/* ------------------------------------------------------------------------- */

struct query_param {
    size_t key_off, val_off; /* offsets into the scratch buffer (stable across growth) */
    const char *key, *val;   /* resolved once the scratch buffer stops growing */
};

static int cmp_param(const void *a, const void *b)
{
    const struct query_param *pa = a, *pb = b;
    int c = strcmp(pa->key, pb->key);

    return c ? c : strcmp(pa->val, pb->val);
}

/*
 * Appends the canonical form of the raw query |query|: '&'-separated parameters
 * (empty ones ignored), each split at its first '=' (a missing '=' means an empty
 * value), key and value decoded and re-encoded with the unreserved set, sorted by
 * encoded key then encoded value (byte order), joined as "k=v&k=v".
 */
static int append_canonical_query(struct xb_buf *b, const char *query)
{
    struct xb_buf scratch;
    struct query_param *params = NULL;
    size_t n_params = 0, cap = 0, i, seg_len, key_len;
    const char *p = query, *amp, *eq;
    int rc = XB_OK;

    xb_buf_init(&scratch, 0);
    if (!query || !*query)
        goto out;
    while (*p) {
        amp = strchr(p, '&');
        seg_len = amp ? (size_t)(amp - p) : strlen(p);
        if (seg_len > 0) {
            if (n_params == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                struct query_param *np = realloc(params, ncap * sizeof(*np));

                if (!np) {
                    rc = XB_ERR_NOMEM;
                    goto out;
                }
                params = np;
                cap = ncap;
            }
            eq = memchr(p, '=', seg_len);
            key_len = eq ? (size_t)(eq - p) : seg_len;
            params[n_params].key_off = scratch.len;
            if ((rc = append_reencoded(&scratch, p, key_len)) != XB_OK ||
                (rc = xb_buf_putc(&scratch, '\0')) != XB_OK)
                goto out;
            params[n_params].val_off = scratch.len;
            if (eq && (rc = append_reencoded(&scratch, eq + 1, seg_len - key_len - 1)) != XB_OK)
                goto out;
            if ((rc = xb_buf_putc(&scratch, '\0')) != XB_OK)
                goto out;
            n_params++;
        }
        p += seg_len;
        if (*p == '&')
            p++;
    }
    for (i = 0; i < n_params; i++) {
        params[i].key = scratch.data + params[i].key_off;
        params[i].val = scratch.data + params[i].val_off;
    }
    if (n_params > 1)
        qsort(params, n_params, sizeof(*params), cmp_param);
    for (i = 0; i < n_params && rc == XB_OK; i++)
        rc = xb_buf_printf(b, "%s%s=%s", i ? "&" : "", params[i].key, params[i].val);
out:
    free(params);
    xb_buf_cleanup(&scratch);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Canonical headers                                                          */
/* ------------------------------------------------------------------------- */

struct header_ref {
    const char *name;  /* as given by the caller (any case) */
    const char *value; /* raw value */
    size_t order;      /* position in the request: keeps duplicates in send order */
};

/* ASCII case-insensitive byte-order comparison of two header names. */
static int cmp_name(const char *a, const char *b)
{
    unsigned char ca, cb;

    do {
        ca = ascii_lower((unsigned char)*a++);
        cb = ascii_lower((unsigned char)*b++);
    } while (ca && ca == cb);
    return (int)ca - (int)cb;
}

static int cmp_header(const void *a, const void *b)
{
    const struct header_ref *ha = a, *hb = b;
    int c = cmp_name(ha->name, hb->name);

    if (c)
        return c;
    return ha->order < hb->order ? -1 : ha->order > hb->order;
}

static int append_lower(struct xb_buf *b, const char *s)
{
    int rc = XB_OK;

    for (; *s && rc == XB_OK; s++)
        rc = xb_buf_putc(b, (char)ascii_lower((unsigned char)*s));
    return rc;
}

/* Appends |v| with leading/trailing whitespace removed and inner runs collapsed to ' '. */
static int append_trimmed(struct xb_buf *b, const char *v)
{
    int rc = XB_OK, pending_space = 0, seen = 0;

    for (; *v && rc == XB_OK; v++) {
        if (is_ws((unsigned char)*v)) {
            pending_space = seen;
            continue;
        }
        if (pending_space)
            rc = xb_buf_putc(b, ' ');
        if (rc == XB_OK)
            rc = xb_buf_putc(b, *v);
        pending_space = 0;
        seen = 1;
    }
    return rc;
}

static int valid_header_name(const char *name)
{
    if (!name || !*name)
        return 0;
    for (; *name; name++)
        if (!is_tchar((unsigned char)*name))
            return 0;
    return 1;
}

/* Region, service and access key id go into the credential scope: keep them simple. */
static int valid_scope_part(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/*
 * Collects the headers to sign: the caller's, minus the ones the signer owns
 * (authorization, x-amz-date, and x-amz-security-token when a session token is
 * given), plus x-amz-date and the token. Appends "name:value\n" lines to |canon|
 * and the ';'-joined names to |signed_list|. Duplicate names are merged into one
 * line with their values joined by ',' in request order.
 */
static int build_headers(const struct xb_sigv4_request *req, const char *amz_date,
                         const char *token, struct xb_buf *canon, struct xb_buf *signed_list)
{
    struct header_ref *refs = NULL;
    size_t n = 0, i;
    int rc = XB_OK, have_host = 0;

    if (req->n_headers > SIZE_MAX / sizeof(*refs) - 2) {
        rc = XB_ERR_TOO_LARGE;
        goto out;
    }
    refs = malloc((req->n_headers + 2) * sizeof(*refs));
    if (!refs) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < req->n_headers; i++) {
        const struct xb_sigv4_header *h = &req->headers[i];

        if (!valid_header_name(h->name) || !h->value) {
            rc = XB_ERR_INVALID;
            goto out;
        }
        if (!cmp_name(h->name, "authorization") || !cmp_name(h->name, "x-amz-date") ||
            (token && !cmp_name(h->name, "x-amz-security-token")))
            continue;
        if (!cmp_name(h->name, "host"))
            have_host = 1;
        refs[n].name = h->name;
        refs[n].value = h->value;
        refs[n].order = n;
        n++;
    }
    if (!have_host) {
        rc = XB_ERR_INVALID;
        goto out;
    }
    refs[n].name = "x-amz-date";
    refs[n].value = amz_date;
    refs[n].order = n;
    n++;
    if (token) {
        refs[n].name = "x-amz-security-token";
        refs[n].value = token;
        refs[n].order = n;
        n++;
    }
    qsort(refs, n, sizeof(*refs), cmp_header);
    for (i = 0; i < n && rc == XB_OK; i++) {
        int same_as_prev = i > 0 && !cmp_name(refs[i - 1].name, refs[i].name);

        if (same_as_prev) {
            rc = xb_buf_putc(canon, ',');
        } else {
            if (i > 0)
                rc = xb_buf_putc(canon, '\n');
            if (rc == XB_OK && i > 0)
                rc = xb_buf_putc(signed_list, ';');
            if (rc == XB_OK)
                rc = append_lower(signed_list, refs[i].name);
            if (rc == XB_OK)
                rc = append_lower(canon, refs[i].name);
            if (rc == XB_OK)
                rc = xb_buf_putc(canon, ':');
        }
        if (rc == XB_OK)
            rc = append_trimmed(canon, refs[i].value);
    }
    if (rc == XB_OK)
        rc = xb_buf_putc(canon, '\n');
out:
    free(refs);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Signing                                                                    */
/* ------------------------------------------------------------------------- */

/* Writes the ISO 8601 basic form yyyymmddThhmmssZ (16 chars + NUL); year 0..9999. */
static void format_amz_date(const struct tm *tm, char out[17])
{
    unsigned year = (unsigned)(tm->tm_year + 1900);
    unsigned fields[5] = {(unsigned)tm->tm_mon + 1, (unsigned)tm->tm_mday, (unsigned)tm->tm_hour,
                          (unsigned)tm->tm_min, (unsigned)tm->tm_sec};
    size_t i, pos = 4;

    out[0] = (char)('0' + year / 1000 % 10);
    out[1] = (char)('0' + year / 100 % 10);
    out[2] = (char)('0' + year / 10 % 10);
    out[3] = (char)('0' + year % 10);
    for (i = 0; i < 5; i++) {
        if (i == 2)
            out[pos++] = 'T';
        out[pos++] = (char)('0' + fields[i] / 10 % 10);
        out[pos++] = (char)('0' + fields[i] % 10);
    }
    out[pos++] = 'Z';
    out[pos] = '\0';
}

/* kSigning = HMAC chain over "AWS4"+secret, date (yyyymmdd), region, service. */
static int derive_key(const char *secret, const char *date8, const char *region,
                      const char *service, unsigned char k_signing[SHA256_LEN])
{
    size_t secret_len = strlen(secret);
    unsigned char k1[SHA256_LEN], k2[SHA256_LEN], k3[SHA256_LEN];
    char *seed = NULL;
    int rc;

    seed = malloc(secret_len + 4);
    if (!seed) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, secret, secret_len);
    if ((rc = hmac_sha256(seed, secret_len + 4, date8, 8, k1)) != XB_OK ||
        (rc = hmac_sha256(k1, sizeof(k1), region, strlen(region), k2)) != XB_OK ||
        (rc = hmac_sha256(k2, sizeof(k2), service, strlen(service), k3)) != XB_OK ||
        (rc = hmac_sha256(k3, sizeof(k3), "aws4_request", 12, k_signing)) != XB_OK)
        goto out;
out:
    if (seed) {
        OPENSSL_cleanse(seed, secret_len + 4);
        free(seed);
    }
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    OPENSSL_cleanse(k3, sizeof(k3));
    return rc;
}

/*
 * Signing keys already derived, by (date, region, service, secret): a key is valid for
 * a whole UTC day, so the four HMACs of the chain run once a day per scope instead of
 * once per request. The secret is not kept: an entry holds its SHA-256 to recognise it.
 * A few entries, so that STS calls for another region do not evict the exporter's key.
 * Entries are wiped when replaced and by xb_sigv4_forget_keys().
 */
#define KEY_CACHE_ENTRIES 4
#define KEY_CACHE_SCOPE 64 /* longer regions or services are not cached */

struct key_entry {
    int used;
    char date8[9];
    char region[KEY_CACHE_SCOPE];
    char service[KEY_CACHE_SCOPE];
    unsigned char secret_hash[SHA256_LEN];
    unsigned char k_signing[SHA256_LEN];
};

static struct {
    pthread_mutex_t lock;
    struct key_entry e[KEY_CACHE_ENTRIES];
    unsigned next; /* entry replaced next */
    unsigned long derivations;
} keys = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int key_entry_matches(const struct key_entry *e, const unsigned char *secret_hash,
                             const char *date8, const char *region, const char *service)
{
    return e->used && memcmp(e->date8, date8, 8) == 0 && strcmp(e->region, region) == 0 &&
           strcmp(e->service, service) == 0 &&
           CRYPTO_memcmp(e->secret_hash, secret_hash, SHA256_LEN) == 0;
}

/* kSigning for the scope, from the cache or derived (then cached). */
static int signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char k_signing[SHA256_LEN])
{
    unsigned char secret_hash[SHA256_LEN];
    int cacheable = strlen(region) < KEY_CACHE_SCOPE && strlen(service) < KEY_CACHE_SCOPE;
    int rc, found = 0;

    rc = sha256(secret, strlen(secret), secret_hash);
    if (rc != XB_OK)
        goto out;
    pthread_mutex_lock(&keys.lock);
    for (unsigned i = 0; cacheable && i < KEY_CACHE_ENTRIES && !found; i++) {
        if (key_entry_matches(&keys.e[i], secret_hash, date8, region, service)) {
            memcpy(k_signing, keys.e[i].k_signing, SHA256_LEN);
            found = 1;
        }
    }
    pthread_mutex_unlock(&keys.lock);
    rc = XB_OK;
    if (found)
        goto out;
    rc = derive_key(secret, date8, region, service, k_signing);
    if (rc != XB_OK)
        goto out;
    pthread_mutex_lock(&keys.lock);
    keys.derivations++;
    if (cacheable) {
        struct key_entry *e = &keys.e[keys.next];
        keys.next = (keys.next + 1) % KEY_CACHE_ENTRIES;
        OPENSSL_cleanse(e, sizeof(*e));
        memcpy(e->date8, date8, 8);
        strcpy(e->region, region);
        strcpy(e->service, service);
        memcpy(e->secret_hash, secret_hash, SHA256_LEN);
        memcpy(e->k_signing, k_signing, SHA256_LEN);
        e->used = 1;
    }
    pthread_mutex_unlock(&keys.lock);
out:
    OPENSSL_cleanse(secret_hash, sizeof(secret_hash));
    return rc;
}

void xb_sigv4_forget_keys(void)
{
    pthread_mutex_lock(&keys.lock);
    OPENSSL_cleanse(keys.e, sizeof(keys.e));
    keys.next = 0;
    pthread_mutex_unlock(&keys.lock);
}

unsigned long xb_sigv4_key_derivations(void)
{
    unsigned long n;

    pthread_mutex_lock(&keys.lock);
    n = keys.derivations;
    pthread_mutex_unlock(&keys.lock);
    return n;
}

/* Whether every non-empty piece of |v[0..n)| has its bytes (|v| may be NULL when |n| is
 * 0). */
static int pieces_valid(const struct xb_piece *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].len && !v[i].p)
            return 0;
    return 1;
}

/* xb_sigv4_sign() and xb_sigv4_sign_pieces(): the payload is |v[0..n_pieces)| (for
 * xb_sigv4_sign(), one piece: req's own payload). */
static int sign(const struct xb_sigv4_request *req, const struct xb_piece *v, size_t n_pieces,
                const char *region, const char *service, const struct xb_aws_creds *creds,
                time_t now, struct xb_sigv4_result *out)
{
    struct xb_buf canon, signed_list, sts;
    unsigned char k_signing[SHA256_LEN], sig[SHA256_LEN];
    char canon_hash[65], date8[9];
    const char *token;
    struct tm tm;
    int rc, n;

    xb_buf_init(&canon, 0);
    xb_buf_init(&signed_list, 0);
    xb_buf_init(&sts, 0);
    if (!out) {
        rc = XB_ERR_INVALID;
        goto out;
    }
    memset(out, 0, sizeof(*out));
    if (!req || !req->method || !*req->method || !creds || !creds->secret_access_key ||
        !*creds->secret_access_key || !valid_scope_part(creds->access_key_id) ||
        !valid_scope_part(region) || !valid_scope_part(service) ||
        (req->n_headers && !req->headers) || (n_pieces && !v) || !pieces_valid(v, n_pieces)) {
        rc = XB_ERR_INVALID;
        goto out;
    }
    token = creds->session_token && *creds->session_token ? creds->session_token : NULL;

    if (!gmtime_r(&now, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        rc = XB_ERR_INVALID;
        goto out;
    }
    format_amz_date(&tm, out->amz_date);
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';

    if ((rc = xb_sigv4_payload_hash(v, n_pieces, out->payload_hash)) != XB_OK)
        goto out;

    /* 1. Canonical request. */
    if ((rc = xb_buf_puts(&canon, req->method)) != XB_OK ||
        (rc = xb_buf_putc(&canon, '\n')) != XB_OK ||
        (rc = append_canonical_path(&canon, req->path ? req->path : "")) != XB_OK ||
        (rc = xb_buf_putc(&canon, '\n')) != XB_OK ||
        (rc = append_canonical_query(&canon, req->query)) != XB_OK ||
        (rc = xb_buf_putc(&canon, '\n')) != XB_OK ||
        (rc = build_headers(req, out->amz_date, token, &canon, &signed_list)) != XB_OK ||
        (rc = xb_buf_putc(&canon, '\n')) != XB_OK ||
        (rc = xb_buf_append(&canon, signed_list.data, signed_list.len)) != XB_OK ||
        (rc = xb_buf_putc(&canon, '\n')) != XB_OK ||
        (rc = xb_buf_puts(&canon, out->payload_hash)) != XB_OK)
        goto out;
    if ((rc = sha256_hex(canon.data, canon.len, canon_hash)) != XB_OK)
        goto out;

    /* 2. String to sign. */
    if ((rc = xb_buf_printf(&sts, ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", out->amz_date, date8,
                            region, service, canon_hash)) != XB_OK)
        goto out;

    /* 3 and 4. Signing key and signature. */
    if ((rc = signing_key(creds->secret_access_key, date8, region, service, k_signing)) != XB_OK ||
        (rc = hmac_sha256(k_signing, sizeof(k_signing), sts.data, sts.len, sig)) != XB_OK)
        goto out;
    hex_encode(sig, sizeof(sig), out->signature);

    n = snprintf(out->authorization, sizeof(out->authorization),
                 ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                 creds->access_key_id, date8, region, service, signed_list.data, out->signature);
    if (n < 0 || (size_t)n >= sizeof(out->authorization)) {
        rc = XB_ERR_TOO_LARGE;
        goto out;
    }
    rc = XB_OK;
out:
    OPENSSL_cleanse(k_signing, sizeof(k_signing));
    OPENSSL_cleanse(sig, sizeof(sig));
    if (canon.data)
        OPENSSL_cleanse(canon.data, canon.cap);
    xb_buf_cleanup(&canon);
    xb_buf_cleanup(&signed_list);
    xb_buf_cleanup(&sts);
    if (rc != XB_OK && out)
        memset(out, 0, sizeof(*out));
    return rc;
}

int xb_sigv4_sign(const struct xb_sigv4_request *req, const char *region, const char *service,
                  const struct xb_aws_creds *creds, time_t now, struct xb_sigv4_result *out)
{
    struct xb_piece payload = {req ? req->payload : NULL, req ? req->payload_len : 0};

    return sign(req, &payload, 1, region, service, creds, now, out);
}

int xb_sigv4_sign_pieces(const struct xb_sigv4_request *req, const struct xb_piece *v, size_t n,
                         const char *region, const char *service, const struct xb_aws_creds *creds,
                         time_t now, struct xb_sigv4_result *out)
{
    return sign(req, v, n, region, service, creds, now, out);
}
