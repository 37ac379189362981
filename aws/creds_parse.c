#include "aws/creds_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <expat.h>

#include "core/err.h"

/* ======================================================================== */
/* INI                                                                      */
/* ======================================================================== */

struct ini_entry {
    char *section;
    char *key;
    char *value;
};

struct xb_creds_ini {
    struct ini_entry *e;
    size_t n, cap;
    char **sections;
    size_t n_sections, cap_sections;
};

int xb_creds_parsed_copy(struct xb_creds_parsed *dst, const struct xb_creds_parsed *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->access_key_id = strdup(src->access_key_id);
    dst->secret_access_key = strdup(src->secret_access_key);
    dst->session_token = src->session_token ? strdup(src->session_token) : NULL;
    dst->expiration = src->expiration;
    if (!dst->access_key_id || !dst->secret_access_key ||
        (src->session_token && !dst->session_token)) {
        xb_creds_parsed_cleanup(dst);
        return XB_ERR_NOMEM;
    }
    return XB_OK;
}

void xb_creds_wipe_free(char *s)
{
    if (!s)
        return;
    /* volatile stops the compiler from dropping the wipe of memory about to be freed. */
    for (volatile char *p = s; *p; p++)
        *p = 0;
    free(s);
}

void xb_creds_ini_free(struct xb_creds_ini *ini)
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

static int add_section(struct xb_creds_ini *ini, char *name)
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

static int add_entry(struct xb_creds_ini *ini, const char *section, char *key, char *value)
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

int xb_creds_ini_parse(const char *text, size_t len, struct xb_creds_ini **out, int *err_line,
                       const char **err_desc)
{
    struct xb_creds_ini *ini = calloc(1, sizeof(*ini));
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
    xb_creds_ini_free(ini);
    return rc;
}

int xb_creds_ini_has_section(const struct xb_creds_ini *ini, const char *section)
{
    if (!ini)
        return 0;
    for (size_t i = 0; i < ini->n_sections; i++)
        if (strcmp(ini->sections[i], section) == 0)
            return 1;
    return 0;
}

const char *xb_creds_ini_get(const struct xb_creds_ini *ini, const char *section, const char *key)
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

int xb_creds_parse_iso8601(const char *s, int64_t *out)
{
    struct tm tm;
    int y1, y2, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (strlen(s) < 19 || two(s, &y1) || two(s + 2, &y2) || s[4] != '-' || two(s + 5, &mo) ||
        s[7] != '-' || two(s + 8, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        two(s + 11, &h) || s[13] != ':' || two(s + 14, &mi) || s[16] != ':' || two(s + 17, &se))
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

/*
 * STS answers (AssumeRole, AssumeRoleWithWebIdentity, ErrorResponse) read with expat.
 * Kept: the first <Credentials> element and its direct children AccessKeyId,
 * SecretAccessKey, SessionToken and Expiration; in an <ErrorResponse>, the first
 * <Code> and <Message>. Element names are matched without namespace processing (STS
 * uses a default namespace, no prefixes). A document type declaration stops the
 * parse: STS never sends one, and it is where entity expansion attacks live.
 */
#define STS_MAX_TEXT 16384 /* bytes of one kept element's text (tokens are ~1-2 KiB) */

enum sts_field { STS_AKID, STS_SECRET, STS_TOKEN, STS_EXPIRATION, STS_CODE, STS_MESSAGE, STS_N };

static const char *const sts_field_names[STS_N] = {
    "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "Code", "Message"};

struct sts_parse {
    XML_Parser parser;
    unsigned depth;
    unsigned creds_depth; /* depth of the <Credentials> being read; 0 = outside */
    int creds_seen, error_seen, has_doctype, nomem, too_long;
    int capturing;          /* field being read + 1; 0 = none */
    unsigned capture_depth; /* depth of the element being read */
    char *text;             /* text of the field being read */
    size_t text_len;
    char *field[STS_N]; /* kept values, trimmed */
};

static void sts_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct sts_parse *sp = ud;
    (void)attrs;
    sp->depth++;
    if (sp->capturing)
        return; /* markup inside a kept value: its text still counts */
    if (strcmp(name, "ErrorResponse") == 0) {
        sp->error_seen = 1;
    } else if (strcmp(name, "Credentials") == 0 && !sp->creds_seen) {
        sp->creds_seen = 1;
        sp->creds_depth = sp->depth;
    } else {
        for (int f = 0; f < STS_N; f++) {
            int in_creds =
                f <= STS_EXPIRATION && sp->creds_depth && sp->depth == sp->creds_depth + 1;
            int in_error = f >= STS_CODE && sp->error_seen;
            if ((in_creds || in_error) && !sp->field[f] && strcmp(name, sts_field_names[f]) == 0) {
                sp->capturing = f + 1;
                sp->capture_depth = sp->depth;
                sp->text_len = 0;
                break;
            }
        }
    }
}

static void sts_end(void *ud, const XML_Char *name)
{
    struct sts_parse *sp = ud;
    int f = sp->capturing - 1;
    (void)name;
    if (sp->capturing && sp->depth == sp->capture_depth) {
        const char *b = sp->text ? sp->text : "", *e = b + sp->text_len;
        char *v;
        trim_span(&b, &e);
        v = malloc((size_t)(e - b) + 1);
        if (!v) {
            sp->nomem = 1;
            XML_StopParser(sp->parser, XML_FALSE);
        } else {
            memcpy(v, b, (size_t)(e - b));
            v[e - b] = 0;
            sp->field[f] = v;
        }
        if (sp->text)
            memset(sp->text, 0, sp->text_len);
        sp->text_len = 0;
        sp->capturing = 0;
    }
    if (sp->creds_depth == sp->depth)
        sp->creds_depth = 0;
    sp->depth--;
}

static void sts_chars(void *ud, const XML_Char *s, int len)
{
    struct sts_parse *sp = ud;
    if (!sp->capturing || len <= 0)
        return;
    if (sp->text_len + (size_t)len > STS_MAX_TEXT) {
        sp->too_long = 1;
        XML_StopParser(sp->parser, XML_FALSE);
        return;
    }
    if (!sp->text && !(sp->text = malloc(STS_MAX_TEXT + 1))) {
        sp->nomem = 1;
        XML_StopParser(sp->parser, XML_FALSE);
        return;
    }
    memcpy(sp->text + sp->text_len, s, (size_t)len);
    sp->text_len += (size_t)len;
}

static void sts_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                        const XML_Char *pubid, int has_internal_subset)
{
    struct sts_parse *sp = ud;
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    sp->has_doctype = 1;
    XML_StopParser(sp->parser, XML_FALSE);
}

static void sts_parse_cleanup(struct sts_parse *sp)
{
    for (int f = 0; f < STS_N; f++)
        xb_creds_wipe_free(sp->field[f]);
    if (sp->text) {
        memset(sp->text, 0, STS_MAX_TEXT + 1);
        free(sp->text);
    }
    if (sp->parser)
        XML_ParserFree(sp->parser);
}

int xb_creds_parse_sts(const char *xml, size_t len, struct xb_creds_parsed *out, char *err_desc,
                       size_t err_desc_len)
{
    struct sts_parse sp;
    int rc = XB_ERR_INVALID;

    memset(out, 0, sizeof(*out));
    memset(&sp, 0, sizeof(sp));
    if (len > INT_MAX) {
        set_why(err_desc, err_desc_len, "STS answer too large");
        return XB_ERR_INVALID;
    }
    sp.parser = XML_ParserCreate("UTF-8");
    if (!sp.parser)
        return XB_ERR_NOMEM;
    XML_SetUserData(sp.parser, &sp);
    XML_SetElementHandler(sp.parser, sts_start, sts_end);
    XML_SetCharacterDataHandler(sp.parser, sts_chars);
    XML_SetStartDoctypeDeclHandler(sp.parser, sts_doctype);
    if (XML_Parse(sp.parser, xml, (int)len, XML_TRUE) != XML_STATUS_OK) {
        if (sp.nomem) {
            rc = XB_ERR_NOMEM;
        } else if (sp.has_doctype) {
            set_why(err_desc, err_desc_len, "STS answer carries a document type declaration");
        } else if (sp.too_long) {
            set_why(err_desc, err_desc_len, "STS answer has an element longer than %d bytes",
                    STS_MAX_TEXT);
        } else {
            set_why(err_desc, err_desc_len, "STS answer is not well-formed XML (line %lu: %s)",
                    (unsigned long)XML_GetCurrentLineNumber(sp.parser),
                    XML_ErrorString(XML_GetErrorCode(sp.parser)));
        }
        goto out;
    }
    if (sp.error_seen) {
        set_why(err_desc, err_desc_len, "%s: %s",
                sp.field[STS_CODE] ? sp.field[STS_CODE] : "unknown error",
                sp.field[STS_MESSAGE] ? sp.field[STS_MESSAGE] : "(no message)");
        rc = XB_ERR_NOT_FOUND;
        goto out;
    }
    if (!sp.creds_seen) {
        set_why(err_desc, err_desc_len, "STS answer has no <Credentials> element");
        goto out;
    }
    for (int f = STS_AKID; f <= STS_EXPIRATION; f++)
        if (!sp.field[f] || !*sp.field[f]) {
            set_why(err_desc, err_desc_len, "STS answer lacks a valid <%s>", sts_field_names[f]);
            goto out;
        }
    if (xb_creds_parse_iso8601(sp.field[STS_EXPIRATION], &out->expiration) != XB_OK) {
        set_why(err_desc, err_desc_len, "STS answer has an unparseable <Expiration>");
        goto out;
    }
    out->access_key_id = sp.field[STS_AKID];
    out->secret_access_key = sp.field[STS_SECRET];
    out->session_token = sp.field[STS_TOKEN];
    sp.field[STS_AKID] = sp.field[STS_SECRET] = sp.field[STS_TOKEN] = NULL;
    rc = XB_OK;
out:
    sts_parse_cleanup(&sp);
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
                        struct xb_creds_parsed *out, char *err_desc, size_t err_desc_len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *code;
    char *exp = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!root || !cJSON_IsObject(root)) {
        rc = XB_ERR_INVALID;
        set_why(err_desc, err_desc_len, "credential document is not a JSON object");
        goto fail;
    }
    code = cJSON_GetObjectItemCaseSensitive(root, "Code");
    if (code && !(cJSON_IsString(code) && strcmp(code->valuestring, "Success") == 0)) {
        rc = XB_ERR_INVALID;
        set_why(err_desc, err_desc_len, "credential document Code is \"%s\", not Success",
                cJSON_IsString(code) ? code->valuestring : "?");
        goto fail;
    }
    if ((rc = json_str(root, "AccessKeyId", 1, &out->access_key_id, err_desc, err_desc_len)) ||
        (rc = json_str(root, "SecretAccessKey", 1, &out->secret_access_key, err_desc,
                       err_desc_len)) ||
        (rc = json_str(root, "Token", 0, &out->session_token, err_desc, err_desc_len)) ||
        (rc = json_str(root, "Expiration", require_expiration, &exp, err_desc, err_desc_len)))
        goto fail;
    if (out->session_token && !*out->session_token) {
        free(out->session_token);
        out->session_token = NULL;
    }
    if (exp && xb_creds_parse_iso8601(exp, &out->expiration) != XB_OK) {
        rc = XB_ERR_INVALID;
        set_why(err_desc, err_desc_len, "credential document has an unparseable \"Expiration\"");
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

int xb_creds_container_uri_allowed(const char *url, const char **err_desc)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = XB_ERR_INVALID;
    size_t hl;
    unsigned char a[16];

    *err_desc = "container credentials URI is not a valid http(s) URL";
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
    *err_desc = "container credentials URI host is not allowed over http (allowed: loopback, "
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
        *err_desc = NULL;
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}
