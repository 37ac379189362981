#include "aws/creds_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/err.h"

/* ======================================================================== */
/* INI                                                                      */
/* ======================================================================== */

struct ini_entry {
    char *section;
    char *key;
    char *value;
};

struct xb_ini {
    struct ini_entry *e;
    size_t n, cap;
    char **sections;
    size_t n_sections, cap_sections;
};

void xb_creds_wipe_free(char *s)
{
    if (!s)
        return;
    /* volatile stops the compiler from dropping the wipe of memory about to be freed. */
    for (volatile char *p = s; *p; p++)
        *p = 0;
    free(s);
}

void xb_ini_free(struct xb_ini *ini)
{
    if (!ini)
        return;
    for (size_t i = 0; i < ini->n; i++) {
        free(ini->e[i].key);
        xb_creds_wipe_free(ini->e[i].value);
    }
    for (size_t i = 0; i < ini->n_sections; i++)
        free(ini->sections[i]);
    free(ini->sections);
    free(ini->e);
    free(ini);
}

/* Narrows [*b, *e) to exclude leading and trailing blanks. */
static void trim_span(const char **b, const char **e)
{
    while (*b < *e && isspace((unsigned char)**b))
        (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* Copies [b, e) with blanks trimmed at both ends. */
static char *dup_trim(const char *b, const char *e)
{
    char *s;
    trim_span(&b, &e);
    s = malloc((size_t)(e - b) + 1);
    if (!s)
        return NULL;
    memcpy(s, b, (size_t)(e - b));
    s[e - b] = 0;
    return s;
}

/* Section name: trimmed, inner runs of blanks collapsed to one space. */
static char *dup_section(const char *b, const char *e)
{
    char *s = dup_trim(b, e), *w, *r;
    int blank = 0;
    if (!s)
        return NULL;
    for (w = r = s; *r; r++) {
        if (isspace((unsigned char)*r)) {
            blank = 1;
            continue;
        }
        if (blank && w != s)
            *w++ = ' ';
        blank = 0;
        *w++ = *r;
    }
    *w = 0;
    return s;
}

static int add_section(struct xb_ini *ini, char *name)
{
    if (ini->n_sections == ini->cap_sections) {
        size_t nc = ini->cap_sections ? ini->cap_sections * 2 : 8;
        char **ns = realloc(ini->sections, nc * sizeof(*ns));
        if (!ns)
            return XB_ERR_NOMEM;
        ini->sections = ns;
        ini->cap_sections = nc;
    }
    ini->sections[ini->n_sections++] = name;
    return XB_OK;
}

static int add_entry(struct xb_ini *ini, const char *section, char *key, char *value)
{
    if (ini->n == ini->cap) {
        size_t nc = ini->cap ? ini->cap * 2 : 16;
        struct ini_entry *ne = realloc(ini->e, nc * sizeof(*ne));
        if (!ne)
            return XB_ERR_NOMEM;
        ini->e = ne;
        ini->cap = nc;
    }
    ini->e[ini->n].section = (char *)section;
    ini->e[ini->n].key = key;
    ini->e[ini->n].value = value;
    ini->n++;
    return XB_OK;
}

/* End of the value part of a line: an inline comment needs whitespace before it. */
static const char *strip_inline_comment(const char *b, const char *e)
{
    for (const char *p = b; p < e; p++)
        if ((*p == '#' || *p == ';') && p > b && isspace((unsigned char)p[-1]))
            return p;
    return e;
}

int xb_ini_parse(const char *text, size_t len, struct xb_ini **out, int *err_line,
                 const char **err_desc)
{
    struct xb_ini *ini = calloc(1, sizeof(*ini));
    const char *p = text, *end = text + len;
    const char *section = NULL;
    int line = 0, have_key = 0, rc = XB_OK;
    char *key = NULL, *value = NULL, *sec = NULL;

    *out = NULL;
    *err_line = 0;
    *err_desc = NULL;
    if (!ini)
        return XB_ERR_NOMEM;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le, *b = p, *eq;
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        p = nl ? nl + 1 : end;
        if (ll && b[ll - 1] == '\r')
            ll--;
        le = b + ll;
        if (memchr(b, 0, ll)) {
            rc = XB_ERR_INVALID;
            *err_desc = "NUL byte in file";
            goto fail;
        }
        if (b < le && (*b == ' ' || *b == '\t')) {
            /* Indented: a continuation of the previous key, or a blank line. */
            const char *q = b;
            while (q < le && isspace((unsigned char)*q))
                q++;
            if (q == le || *q == '#' || *q == ';')
                continue;
            if (!have_key) {
                rc = XB_ERR_INVALID;
                *err_desc = "indented line without a preceding key";
                goto fail;
            }
            continue;
        }
        while (b < le && isspace((unsigned char)*b))
            b++;
        if (b == le || *b == '#' || *b == ';')
            continue;
        if (*b == '[') {
            const char *close = memchr(b, ']', (size_t)(le - b));
            const char *rest;
            if (!close) {
                rc = XB_ERR_INVALID;
                *err_desc = "section header without ']'";
                goto fail;
            }
            rest = close + 1;
            while (rest < le && isspace((unsigned char)*rest))
                rest++;
            if (rest < le && *rest != '#' && *rest != ';') {
                rc = XB_ERR_INVALID;
                *err_desc = "text after section header";
                goto fail;
            }
            sec = dup_section(b + 1, close);
            if (!sec) {
                rc = XB_ERR_NOMEM;
                goto fail;
            }
            if (!*sec) {
                rc = XB_ERR_INVALID;
                *err_desc = "empty section name";
                goto fail;
            }
            if ((rc = add_section(ini, sec)) != XB_OK)
                goto fail;
            section = sec;
            sec = NULL;
            have_key = 0;
            continue;
        }
        if (!section) {
            rc = XB_ERR_INVALID;
            *err_desc = "setting before any section header";
            goto fail;
        }
        eq = memchr(b, '=', (size_t)(le - b));
        if (!eq) {
            rc = XB_ERR_INVALID;
            *err_desc = "line is neither a section, a setting nor a comment";
            goto fail;
        }
        key = dup_trim(b, eq);
        value = dup_trim(eq + 1, strip_inline_comment(eq + 1, le));
        if (!key || !value) {
            rc = XB_ERR_NOMEM;
            goto fail;
        }
        if (!*key) {
            rc = XB_ERR_INVALID;
            *err_desc = "empty key";
            goto fail;
        }
        if ((rc = add_entry(ini, section, key, value)) != XB_OK)
            goto fail;
        key = value = NULL;
        have_key = 1;
    }
    *out = ini;
    return XB_OK;
fail:
    *err_line = line;
    free(key);
    xb_creds_wipe_free(value);
    free(sec);
    xb_ini_free(ini);
    return rc;
}

int xb_ini_has_section(const struct xb_ini *ini, const char *section)
{
    if (!ini)
        return 0;
    for (size_t i = 0; i < ini->n_sections; i++)
        if (strcmp(ini->sections[i], section) == 0)
            return 1;
    return 0;
}

const char *xb_ini_get(const struct xb_ini *ini, const char *section, const char *key)
{
    const char *v = NULL;
    if (!ini)
        return NULL;
    for (size_t i = 0; i < ini->n; i++)
        if (strcmp(ini->e[i].section, section) == 0 && strcasecmp(ini->e[i].key, key) == 0)
            v = ini->e[i].value;
    return v;
}

/* ======================================================================== */
/* Credential documents                                                     */
/* ======================================================================== */

void xb_creds_parsed_cleanup(struct xb_creds_parsed *c)
{
    xb_creds_wipe_free(c->access_key_id);
    xb_creds_wipe_free(c->secret_access_key);
    xb_creds_wipe_free(c->session_token);
    memset(c, 0, sizeof(*c));
}

static int two(const char *s, int *v)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return -1;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

int xb_iso8601_parse(const char *s, int64_t *out)
{
    struct tm tm;
    int y1, y2, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (strlen(s) < 19 || two(s, &y1) || two(s + 2, &y2) || s[4] != '-' || two(s + 5, &mo) ||
        s[7] != '-' || two(s + 8, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        two(s + 11, &h) || s[13] != ':' || two(s + 14, &mi) || s[16] != ':' ||
        two(s + 17, &se))
        return XB_ERR_INVALID;
    s += 19;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return XB_ERR_INVALID;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '+' ? 1 : -1;
        if (two(s + 1, &oh) || s[3] != ':' || two(s + 4, &om))
            return XB_ERR_INVALID;
        s += 6;
    } else {
        return XB_ERR_INVALID;
    }
    if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || oh > 23 ||
        om > 59)
        return XB_ERR_INVALID;
    tm.tm_year = y1 * 100 + y2 - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return XB_ERR_INVALID;
    *out = (int64_t)t - sign * (int64_t)(oh * 3600 + om * 60);
    return XB_OK;
}

static void set_why(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    if (!why || !why_len)
        return;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* Finds the first "<name>" element (no attributes expected) in [b, e); returns the
 * start of its content and sets |*cend| to the start of "</name>". */
static const char *xml_find(const char *b, const char *e, const char *name, const char **cend)
{
    size_t nl = strlen(name);
    for (const char *p = b; p + nl + 2 <= e; p++) {
        const char *c, *q;
        if (*p != '<' || memcmp(p + 1, name, nl) != 0)
            continue;
        q = p + 1 + nl;
        if (*q == '/' && q + 1 < e && q[1] == '>') {
            *cend = q; /* <Name/>: empty content */
            return q;
        }
        if (*q != '>' && *q != ' ')
            continue;
        while (q < e && *q != '>')
            q++;
        if (q >= e)
            return NULL;
        c = q + 1;
        for (const char *r = c; r + nl + 3 <= e; r++)
            if (r[0] == '<' && r[1] == '/' && memcmp(r + 2, name, nl) == 0 && r[2 + nl] == '>') {
                *cend = r;
                return c;
            }
        return NULL;
    }
    return NULL;
}

static void put_utf8(char **w, unsigned long cp)
{
    char *o = *w;
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    *w = o;
}

/* Copies XML text [b, e) trimmed, decoding entities. NULL on bad entity / NOMEM
 * (|*bad| tells which). Decoded text is never longer than the source. */
static char *xml_text(const char *b, const char *e, int *bad)
{
    char *s, *w;
    *bad = 0;
    trim_span(&b, &e);
    s = malloc((size_t)(e - b) + 1);
    if (!s)
        return NULL;
    w = s;
    while (b < e) {
        const char *semi;
        size_t n;
        if (*b != '&') {
            if (*b == '<' || *b == 0)
                goto bad_entity;
            *w++ = *b++;
            continue;
        }
        semi = memchr(b, ';', (size_t)(e - b));
        if (!semi)
            goto bad_entity;
        n = (size_t)(semi - b - 1);
        if (n == 3 && !memcmp(b + 1, "amp", 3))
            *w++ = '&';
        else if (n == 2 && !memcmp(b + 1, "lt", 2))
            *w++ = '<';
        else if (n == 2 && !memcmp(b + 1, "gt", 2))
            *w++ = '>';
        else if (n == 4 && !memcmp(b + 1, "quot", 4))
            *w++ = '"';
        else if (n == 4 && !memcmp(b + 1, "apos", 4))
            *w++ = '\'';
        else if (n >= 2 && n <= 8 && b[1] == '#') {
            int hex = b[2] == 'x' || b[2] == 'X';
            unsigned long cp = 0;
            const char *d = b + 2 + hex;
            if (d == semi)
                goto bad_entity;
            for (; d < semi; d++) {
                int v;
                if (isdigit((unsigned char)*d))
                    v = *d - '0';
                else if (hex && isxdigit((unsigned char)*d))
                    v = (tolower((unsigned char)*d) - 'a') + 10;
                else
                    goto bad_entity;
                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            }
            if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                goto bad_entity;
            /* "&#N;" is at least 4 bytes, its UTF-8 at most 4: never longer. */
            put_utf8(&w, cp);
        } else {
            goto bad_entity;
        }
        b = semi + 1;
    }
    *w = 0;
    return s;
bad_entity:
    free(s);
    *bad = 1;
    return NULL;
}

/* Extracts child |name| of [b, e) into |*out| (heap). 0, NOT_FOUND, INVALID, NOMEM. */
static int xml_child(const char *b, const char *e, const char *name, char **out)
{
    const char *ce, *c = xml_find(b, e, name, &ce);
    int bad;
    *out = NULL;
    if (!c)
        return XB_ERR_NOT_FOUND;
    *out = xml_text(c, ce, &bad);
    if (!*out)
        return bad ? XB_ERR_INVALID : XB_ERR_NOMEM;
    return XB_OK;
}

int xb_sts_parse_credentials(const char *xml, size_t len, struct xb_creds_parsed *out,
                             char *why, size_t why_len)
{
    const char *end = xml + len, *cb, *ce;
    char *exp = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (xml_find(xml, end, "ErrorResponse", &ce)) {
        char *code = NULL, *msg = NULL;
        xml_child(xml, end, "Code", &code);
        xml_child(xml, end, "Message", &msg);
        if (why && why_len)
            snprintf(why, why_len, "%s: %s", code ? code : "unknown error",
                     msg ? msg : "(no message)");
        free(code);
        free(msg);
        return XB_ERR_NOT_FOUND;
    }
    cb = xml_find(xml, end, "Credentials", &ce);
    if (!cb) {
        set_why(why, why_len, "STS answer has no <Credentials> element");
        return XB_ERR_INVALID;
    }
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                        "Expiration"};
    char **dst[] = {&out->access_key_id, &out->secret_access_key, &out->session_token, &exp};
    for (size_t i = 0; i < 4; i++) {
        rc = xml_child(cb, ce, names[i], dst[i]);
        if (rc == XB_ERR_NOMEM)
            goto fail;
        if (rc != XB_OK || !**dst[i]) {
            rc = XB_ERR_INVALID;
            set_why(why, why_len, "STS answer lacks a valid <%s>", names[i]);
            goto fail;
        }
    }
    if (xb_iso8601_parse(exp, &out->expiration) != XB_OK) {
        rc = XB_ERR_INVALID;
        set_why(why, why_len, "STS answer has an unparseable <Expiration>");
        goto fail;
    }
    free(exp);
    return XB_OK;
fail:
    free(exp);
    xb_creds_parsed_cleanup(out);
    return rc;
}

static int json_str(const cJSON *o, const char *name, int required, char **out, char *why,
                    size_t why_len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (!required)
            return XB_OK;
        set_why(why, why_len, "credential document lacks \"%s\"", name);
        return XB_ERR_INVALID;
    }
    if (!cJSON_IsString(v) || !v->valuestring || (required && !*v->valuestring)) {
        set_why(why, why_len, "credential document has an invalid \"%s\"", name);
        return XB_ERR_INVALID;
    }
    *out = strdup(v->valuestring);
    return *out ? XB_OK : XB_ERR_NOMEM;
}

/* Frees a parse tree after wiping the secrets it holds. */
static void delete_wiped(cJSON *root)
{
    cJSON *sk = cJSON_GetObjectItemCaseSensitive(root, "SecretAccessKey");
    cJSON *tk = cJSON_GetObjectItemCaseSensitive(root, "Token");
    if (cJSON_IsString(sk))
        memset(sk->valuestring, 0, strlen(sk->valuestring));
    if (cJSON_IsString(tk))
        memset(tk->valuestring, 0, strlen(tk->valuestring));
    cJSON_Delete(root);
}

int xb_creds_parse_json(const char *json, size_t len, int require_expiration,
                        struct xb_creds_parsed *out, char *why, size_t why_len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *code;
    char *exp = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!root || !cJSON_IsObject(root)) {
        rc = XB_ERR_INVALID;
        set_why(why, why_len, "credential document is not a JSON object");
        goto fail;
    }
    code = cJSON_GetObjectItemCaseSensitive(root, "Code");
    if (code && !(cJSON_IsString(code) && strcmp(code->valuestring, "Success") == 0)) {
        rc = XB_ERR_INVALID;
        set_why(why, why_len, "credential document Code is \"%s\", not Success",
                cJSON_IsString(code) ? code->valuestring : "?");
        goto fail;
    }
    if ((rc = json_str(root, "AccessKeyId", 1, &out->access_key_id, why, why_len)) ||
        (rc = json_str(root, "SecretAccessKey", 1, &out->secret_access_key, why, why_len)) ||
        (rc = json_str(root, "Token", 0, &out->session_token, why, why_len)) ||
        (rc = json_str(root, "Expiration", require_expiration, &exp, why, why_len)))
        goto fail;
    if (out->session_token && !*out->session_token) {
        free(out->session_token);
        out->session_token = NULL;
    }
    if (exp && xb_iso8601_parse(exp, &out->expiration) != XB_OK) {
        rc = XB_ERR_INVALID;
        set_why(why, why_len, "credential document has an unparseable \"Expiration\"");
        goto fail;
    }
    free(exp);
    delete_wiped(root);
    return XB_OK;
fail:
    free(exp);
    delete_wiped(root);
    xb_creds_parsed_cleanup(out);
    return rc;
}

/* ======================================================================== */
/* Encoding and host rules                                                  */
/* ======================================================================== */

int xb_container_uri_allowed(const char *url, const char **why)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = XB_ERR_INVALID;
    size_t hl;
    unsigned char a[16];

    *why = "container credentials URI is not a valid http(s) URL";
    if (!u)
        return XB_ERR_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strcasecmp(scheme, "https") == 0) {
        rc = XB_OK;
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0)
        goto out;
    rc = XB_ERR_UNSUPPORTED;
    *why = "container credentials URI host is not allowed over http (allowed: loopback, "
           "169.254.170.2, 169.254.170.23, fd00:ec2::23; or use https)";
    hl = strlen(host);
    if (strcasecmp(host, "localhost") == 0) {
        rc = XB_OK;
    } else if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        /* fd00:ec2::23 */
        static const unsigned char eks6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
                                               0,    0,    0,    0,    0, 0, 0, 0x23};
        host[hl - 1] = 0;
        if (inet_pton(AF_INET6, host + 1, a) == 1 &&
            (memcmp(a, loop6, 16) == 0 || memcmp(a, eks6, 16) == 0))
            rc = XB_OK;
    } else if (inet_pton(AF_INET, host, a) == 1) {
        if (a[0] == 127 || (a[0] == 169 && a[1] == 254 && a[2] == 170 && (a[3] == 2 || a[3] == 23)))
            rc = XB_OK;
    }
out:
    if (rc == XB_OK)
        *why = NULL;
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}
