/*
 * config/config.c - YAML (libyaml document API) -> struct xb_config.
 *
 * The YAML tree is walked against the option table in config/options.c: a key whose
 * dotted path is a row is a leaf and parsed by type; a key that is a prefix of some
 * row's path is a section and walked recursively; anything else is an error. Every
 * error names the source, the 1-based line and column (libyaml marks), the dotted key
 * path and a reason, and parsing stops at the first one.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "config/options.h"
#include "config/processors.h"
#include "config/tail_sampling_config.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

#define EMBEDDED_SOURCE "<embedded default>"
#define MAX_PATH_LEN 256
#define MAX_FILE_BYTES (4u * 1024 * 1024)
#define MAX_SHARED 16
#define MAX_PROCESSORS 32
#define MIGRATION_HINT "; see docs/migration.md"

/* Generated at build time from config/default.yaml by config/embed.cmake. */
static const char default_yaml[] = {
#include "config/default_yaml.inc"
    0x00};

/* A user-set translation key (shared by the awsxray and file sections). */
struct shared_set {
    size_t offset;
    const char *path; /* static, from the option table */
    yaml_mark_t mark;
};

/* A parsed value before it is stored into the config. */
struct value {
    char *s;     /* string types */
    uint64_t u;  /* numeric and bool types */
    char **list; /* XB_OPT_STRLIST */
    size_t n;
};

struct parse_state {
    const char *source;
    yaml_document_t *doc;
    struct xb_config *cfg;
    char *errbuf;
    size_t errlen;
    yaml_mark_t root_mark;
    /* sections seen, with the mark of their key */
    int seen_otlp, seen_grpc, seen_http, seen_traces;
    yaml_mark_t otlp_mark, grpc_mark, http_mark, traces_mark;
    /* pipeline lists */
    int receivers_set, exporters_set;
    size_t n_receivers, n_exporters;
    yaml_mark_t receivers_mark, exporters_mark;
    int otlp_listed;
    struct shared_set shared[MAX_SHARED];
    size_t n_shared;
    /* mark of the user value of translate.max_document_bytes (for cross-checks) */
    int max_doc_set;
    yaml_mark_t max_doc_mark;
    const char *max_doc_path;
    /* marks of user-set telemetry addresses (for clash messages); root mark if unset */
    yaml_mark_t metrics_addr_mark, health_ep_mark;
    /* processor instances under processors:, walked after the pipeline list is known */
    struct {
        const char *id; /* the YAML key (borrowed from the document) */
        yaml_mark_t mark;
        yaml_node_t *value;
    } procs[MAX_PROCESSORS];
    size_t n_procs;
    int processors_set;
    yaml_mark_t processors_mark;
    /* marks of sending_queue.storage of awsxray, file and otlphttp, and of
     * service.extensions */
    yaml_mark_t storage_mark[3], extensions_mark;
    /* the tail_sampling section was seen (mark for messages) */
    int seen_ts;
    yaml_mark_t ts_mark;
};

const char *xb_config_default_yaml(void)
{
    return default_yaml;
}

/* ---------------------------------------------------------------- errors --- */

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* Writes "SOURCE:LINE:COL: PATH: reason" and returns XB_ERR_CONFIG. */
static int fail_at(struct parse_state *st, yaml_mark_t mark, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct parse_state *st, yaml_mark_t mark, const char *path, const char *fmt, ...)
{
    char reason[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    set_err(st->errbuf, st->errlen, "%s:%zu:%zu: %s: %s", st->source, mark.line + 1,
            mark.column + 1, path, reason);
    return XB_ERR_CONFIG;
}

/* ------------------------------------------------------- scalar helpers --- */

static int is_null_scalar(const yaml_node_t *node)
{
    const char *v;

    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    v = (const char *)node->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static int is_env_name_char(char c, int first)
{
    return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/*
 * Expands ${env:NAME}, ${NAME} and ${env:NAME:-fallback} (collector syntax) in |in|;
 * "$$" is a literal '$'. An unset variable expands to "" (or to the fallback).
 * Anything else that starts with '$' is copied as is. Caller frees |*out|.
 */
static int expand_env(const char *in, char **out)
{
    struct xb_buf b;
    const char *p = in;
    int rc = XB_OK;

    xb_buf_init(&b, 0);
    while (*p != '\0' && rc == XB_OK) {
        const char *name, *end, *fallback = NULL;
        size_t name_len, fb_len = 0;
        char namebuf[256];
        const char *val;

        if (p[0] == '$' && p[1] == '$') {
            rc = xb_buf_putc(&b, '$');
            p += 2;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            rc = xb_buf_putc(&b, *p++);
            continue;
        }
        name = p + 2;
        if (strncmp(name, "env:", 4) == 0)
            name += 4;
        end = name;
        while (is_env_name_char(*end, end == name))
            end++;
        name_len = (size_t)(end - name);
        if (end[0] == ':' && end[1] == '-') {
            fallback = end + 2;
            end = strchr(fallback, '}');
            if (end != NULL)
                fb_len = (size_t)(end - fallback);
        }
        if (name_len == 0 || name_len >= sizeof(namebuf) || end == NULL || *end != '}') {
            rc = xb_buf_putc(&b, *p++); /* not a reference: keep the '$' literally */
            continue;
        }
        memcpy(namebuf, name, name_len);
        namebuf[name_len] = '\0';
        val = getenv(namebuf);
        if (val != NULL && val[0] != '\0')
            rc = xb_buf_puts(&b, val);
        else if (fallback != NULL)
            rc = xb_buf_append(&b, fallback, fb_len);
        p = end + 1;
    }
    if (rc != XB_OK)
        goto out;
    *out = xb_buf_steal(&b, NULL);
    if (*out == NULL)
        *out = strdup("");
    if (*out == NULL)
        rc = XB_ERR_NOMEM;
out:
    xb_buf_cleanup(&b); /* no-op after a steal */
    return rc;
}

/* Parses a run of decimal digits at |*p| into |*v|, advancing |*p|. 0 if none/overflow. */
static int take_digits(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t acc = 0;

    if (!isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (acc > (UINT64_MAX - d) / 10)
            return 0;
        acc = acc * 10 + d;
        s++;
    }
    *p = s;
    *v = acc;
    return 1;
}

static int mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b != 0 && a > UINT64_MAX / b)
        return 0;
    *out = a * b;
    return 1;
}

static int parse_plain_uint(const char *s, uint64_t *v)
{
    const char *p = s;

    return take_digits(&p, v) && *p == '\0';
}

/* Integer bytes with an optional unit: B, KB, MB, GB (powers of 1000), KiB, MiB, GiB. */
static int parse_bytes(const char *s, uint64_t *v)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"kb", 1000},
        {"mb", 1000000},
        {"gb", 1000000000},
        {"kib", 1024},
        {"mib", 1024 * 1024},
        {"gib", 1024 * 1024 * 1024},
    };
    const char *p = s;
    uint64_t n;

    if (!take_digits(&p, &n))
        return 0;
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(p, units[i].unit) == 0)
            return mul_ok(n, units[i].mult, v);
    }
    return 0;
}

/* Go-style duration of integer parts ("1m30s", "250ms", "2h"); plain integer = ms. */
static int parse_duration_ms(const char *s, uint64_t *v)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {
        {"ms", 1},
        {"s", 1000},
        {"m", 60000},
        {"h", 3600000},
    };
    const char *p = s;
    uint64_t total = 0, n, part;

    if (parse_plain_uint(s, v))
        return 1;
    if (*p == '\0')
        return 0;
    while (*p != '\0') {
        size_t best = SIZE_MAX, best_len = 0;
        if (!take_digits(&p, &n))
            return 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t ul = strlen(units[i].unit);
            /* longest unit that matches and is not followed by a letter */
            if (strncmp(p, units[i].unit, ul) == 0 && !isalpha((unsigned char)p[ul]) &&
                ul > best_len) {
                best = i;
                best_len = ul;
            }
        }
        if (best == SIZE_MAX || !mul_ok(n, units[best].ms, &part) || total > UINT64_MAX - part)
            return 0;
        total += part;
        p += best_len;
    }
    *v = total;
    return 1;
}

static int parse_bool(const char *s, uint64_t *v)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};

    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *v = 1;
            return 1;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *v = 0;
            return 1;
        }
    }
    return 0;
}

/* Returns NULL when |s| is "host:port" / "[v6]:port" with port 0..65535, else a reason. */
static const char *check_endpoint(const char *s)
{
    const char *colon, *host_end;
    uint64_t port;

    if (s[0] == '[') {
        host_end = strchr(s, ']');
        if (host_end == NULL || host_end == s + 1)
            return "IPv6 host must be written as [address]:port";
        for (const char *q = s + 1; q < host_end; q++) {
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.' && *q != '%' &&
                !isalnum((unsigned char)*q))
                return "invalid character in IPv6 address";
        }
        colon = host_end + 1;
        if (*colon != ':')
            return "expected host:port";
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return "expected host:port (e.g. localhost:4317)";
        if (colon == s)
            return "host is empty (use 0.0.0.0:PORT to listen on every interface)";
        if (memchr(s, ':', (size_t)(colon - s)) != NULL)
            return "IPv6 addresses must be in brackets, e.g. [::1]:4317";
        for (const char *q = s; q < colon; q++) {
            if (isspace((unsigned char)*q) || *q == '/' || *q == '[' || *q == ']')
                return "invalid character in host";
        }
    }
    if (!parse_plain_uint(colon + 1, &port) || strlen(colon + 1) > 5 || port > 65535)
        return "port must be an integer from 0 to 65535";
    return NULL;
}

static const char *check_url(const char *s)
{
    const char *rest;

    if (strncasecmp(s, "https://", 8) == 0)
        rest = s + 8;
    else if (strncasecmp(s, "http://", 7) == 0)
        rest = s + 7;
    else
        return "must start with https:// or http://";
    if (*rest == '\0' || *rest == '/')
        return "URL has no host";
    for (const char *q = s; *q != '\0'; q++) {
        if (isspace((unsigned char)*q) || iscntrl((unsigned char)*q))
            return "URL contains whitespace";
    }
    return NULL;
}

static const char *check_region(const char *s)
{
    for (const char *q = s; *q != '\0'; q++) {
        if (!islower((unsigned char)*q) && !isdigit((unsigned char)*q) && *q != '-')
            return "must look like us-west-2 (lower-case letters, digits, '-')";
    }
    return NULL;
}

/* ------------------------------------------------------- typed values --- */

static void value_cleanup(struct value *v)
{
    free(v->s);
    for (size_t i = 0; i < v->n; i++)
        free(v->list[i]);
    free(v->list);
    memset(v, 0, sizeof(*v));
}

static int is_string_type(enum xb_config_opt_type t)
{
    return t == XB_OPT_STRING || t == XB_OPT_ENDPOINT || t == XB_OPT_URL || t == XB_OPT_REGION ||
           t == XB_OPT_LOG_LEVEL || t == XB_OPT_METRICS_LEVEL;
}

/*
 * Parses scalar |text| (already env-expanded; ownership taken) for |opt| into |v|.
 * On failure returns XB_ERR_CONFIG with |reason| filled; |text| is freed either way.
 */
static int parse_scalar(const struct xb_config_option *opt, char *text, struct value *v,
                        char *reason, size_t rlen)
{
    const char *bad = NULL;
    int ok = 1;

    memset(v, 0, sizeof(*v));
    if (is_string_type(opt->type)) {
        if (text[0] == '\0') {
            if (!(opt->flags & XB_OPT_F_EMPTY_NULL))
                bad = "must not be empty";
        } else if (opt->type == XB_OPT_ENDPOINT) {
            bad = check_endpoint(text);
        } else if (opt->type == XB_OPT_URL) {
            bad = check_url(text);
        } else if (opt->type == XB_OPT_REGION) {
            bad = check_region(text);
        } else if (opt->type == XB_OPT_LOG_LEVEL) {
            enum xb_log_level lvl;
            for (char *q = text; *q != '\0'; q++)
                *q = (char)tolower((unsigned char)*q);
            if (xb_log_parse_level(text, &lvl) != XB_OK)
                bad = "must be one of debug, info, warn, error";
        } else if (opt->type == XB_OPT_METRICS_LEVEL) {
            for (char *q = text; *q != '\0'; q++)
                *q = (char)tolower((unsigned char)*q);
            if (strcmp(text, "none") != 0 && strcmp(text, "basic") != 0 &&
                strcmp(text, "normal") != 0 && strcmp(text, "detailed") != 0)
                bad = "must be one of none, basic, normal, detailed";
        }
        if (bad != NULL) {
            snprintf(reason, rlen, "\"%s\": %s", text, bad);
            goto fail;
        }
        if (text[0] == '\0' && (opt->flags & XB_OPT_F_EMPTY_NULL)) {
            free(text);
            text = NULL;
        }
        v->s = text;
        return XB_OK;
    }

    switch (opt->type) {
    case XB_OPT_BOOL:
        ok = parse_bool(text, &v->u);
        bad = "expected a boolean (true/false, yes/no, on/off)";
        break;
    case XB_OPT_U32:
    case XB_OPT_SIZE:
        ok = parse_plain_uint(text, &v->u);
        bad = "expected a non-negative integer";
        break;
    case XB_OPT_BYTES:
        ok = parse_bytes(text, &v->u);
        bad = "expected a size: an integer number of bytes, optionally with KiB, MiB, GiB, "
              "KB, MB or GB";
        break;
    case XB_OPT_MIB:
        ok = parse_plain_uint(text, &v->u) && mul_ok(v->u, 1024 * 1024, &v->u);
        bad = "expected an integer number of MiB";
        break;
    case XB_OPT_DURATION_MS:
        ok = parse_duration_ms(text, &v->u);
        bad = "expected a duration such as 200ms, 5s, 1m or 1m30s (plain integer = ms)";
        break;
    default:
        ok = 0;
        bad = "internal error: not a scalar option";
        break;
    }
    if (!ok) {
        snprintf(reason, rlen, "\"%s\": %s", text, bad);
        goto fail;
    }
    if (opt->type != XB_OPT_BOOL && (v->u < opt->min || v->u > opt->max)) {
        if (opt->type == XB_OPT_MIB)
            snprintf(reason, rlen, "\"%s\": must be between %llu and %llu", text,
                     (unsigned long long)(opt->min >> 20), (unsigned long long)(opt->max >> 20));
        else
            snprintf(reason, rlen, "\"%s\": must be between %llu and %llu", text,
                     (unsigned long long)opt->min, (unsigned long long)opt->max);
        goto fail;
    }
    if ((opt->type == XB_OPT_U32 || opt->type == XB_OPT_DURATION_MS) && v->u > UINT32_MAX) {
        snprintf(reason, rlen, "\"%s\": too large", text);
        goto fail;
    }
    if (v->u > SIZE_MAX) {
        snprintf(reason, rlen, "\"%s\": too large for this platform", text);
        goto fail;
    }
    free(text);
    return XB_OK;
fail:
    free(text);
    return XB_ERR_CONFIG;
}

static void *field(struct xb_config *cfg, size_t offset)
{
    return (char *)cfg + offset;
}

/* Frees what the field of |opt| holds and sets it to NULL / empty. */
static void field_release(struct xb_config *cfg, const struct xb_config_option *opt)
{
    if (is_string_type(opt->type)) {
        char **sp = field(cfg, opt->offset);
        free(*sp);
        *sp = NULL;
    } else if (opt->type == XB_OPT_STRLIST || opt->type == XB_OPT_PROCESSORS ||
               opt->type == XB_OPT_STRMAP) {
        char ***lp = field(cfg, opt->offset);
        size_t *np = field(cfg, opt->count_offset);
        if (*lp != NULL) {
            for (size_t i = 0; i < *np; i++)
                free((*lp)[i]);
            free(*lp);
        }
        *lp = NULL;
        *np = 0;
    } else if (opt->type == XB_OPT_TS_POLICIES) {
        struct xb_ts_policy_set **pp = field(cfg, opt->offset);
        xb_ts_policy_set_unref(*pp);
        *pp = NULL;
    }
}

/* Moves |v| into the field of |opt| (ownership passes to |cfg|). */
static void field_store(struct xb_config *cfg, const struct xb_config_option *opt, struct value *v)
{
    field_release(cfg, opt);
    switch (opt->type) {
    case XB_OPT_BOOL:
        *(int *)field(cfg, opt->offset) = (int)v->u;
        break;
    case XB_OPT_U32:
    case XB_OPT_DURATION_MS:
        *(uint32_t *)field(cfg, opt->offset) = (uint32_t)v->u;
        break;
    case XB_OPT_SIZE:
    case XB_OPT_BYTES:
    case XB_OPT_MIB:
        *(size_t *)field(cfg, opt->offset) = (size_t)v->u;
        break;
    case XB_OPT_STRLIST:
    case XB_OPT_PROCESSORS:
    case XB_OPT_STRMAP:
        *(char ***)field(cfg, opt->offset) = v->list;
        *(size_t *)field(cfg, opt->count_offset) = v->n;
        v->list = NULL;
        v->n = 0;
        break;
    default:
        if (is_string_type(opt->type)) {
            *(char **)field(cfg, opt->offset) = v->s;
            v->s = NULL;
        }
        break;
    }
}

static int str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Non-zero when |v| equals what the field of |opt| holds now. */
static int field_equals(struct xb_config *cfg, const struct xb_config_option *opt,
                        const struct value *v)
{
    switch (opt->type) {
    case XB_OPT_BOOL:
        return *(int *)field(cfg, opt->offset) == (int)v->u;
    case XB_OPT_U32:
    case XB_OPT_DURATION_MS:
        return *(uint32_t *)field(cfg, opt->offset) == v->u;
    case XB_OPT_SIZE:
    case XB_OPT_BYTES:
    case XB_OPT_MIB:
        return *(size_t *)field(cfg, opt->offset) == v->u;
    case XB_OPT_STRLIST: {
        char **l = *(char ***)field(cfg, opt->offset);
        size_t n = *(size_t *)field(cfg, opt->count_offset);
        if (n != v->n)
            return 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(l[i], v->list[i]) != 0)
                return 0;
        }
        return 1;
    }
    default:
        return str_eq(*(char **)field(cfg, opt->offset), v->s);
    }
}

/* ------------------------------------------------------- defaults --- */

/*
 * Stores the default of row |opt| (config/options.c) in |cfg|; a row without one is
 * left alone. Returns XB_OK, XB_ERR_NOMEM, or XB_ERR_CONFIG with |reason| filled when
 * the default text does not parse.
 */
static int store_default(struct xb_config *cfg, const struct xb_config_option *opt, char *reason,
                         size_t reason_len)
{
    struct value v;
    char *text;
    int rc;

    if (opt->def == NULL)
        return XB_OK;
    text = strdup(opt->def);
    if (text == NULL)
        return XB_ERR_NOMEM;
    rc = parse_scalar(opt, text, &v, reason, reason_len);
    if (rc != XB_OK)
        return rc;
    field_store(cfg, opt, &v);
    value_cleanup(&v);
    return XB_OK;
}

static int apply_defaults(struct xb_config *cfg, char *errbuf, size_t errlen)
{
    size_t n;
    const struct xb_config_option *opts = xb_config_options(&n);
    char reason[256];
    int rc = XB_OK;

    for (size_t i = 0; i < n && rc == XB_OK; i++) {
        rc = store_default(cfg, &opts[i], reason, sizeof(reason));
        if (rc == XB_ERR_CONFIG)
            set_err(errbuf, errlen, "internal: bad default for %s: %s", opts[i].path, reason);
    }
    return rc;
}

/* ------------------------------------------------------- leaves --- */

static yaml_node_t *node_at(struct parse_state *st, int id)
{
    return yaml_document_get_node(st->doc, id);
}

/* Env-expanded copy of scalar |node|; "" for a null scalar. Caller frees |*out|. */
static int scalar_text(const yaml_node_t *node, char **out)
{
    if (is_null_scalar(node)) {
        *out = strdup("");
        return *out != NULL ? XB_OK : XB_ERR_NOMEM;
    }
    return expand_env((const char *)node->data.scalar.value, out);
}

/*
 * Starts |v| (zeroed) as the list of strings read from |node|, a YAML node of |type|
 * (sequence or mapping) or a null scalar: allocates one slot per item, and leaves
 * v->list NULL when there is none. A node of another type fails with "expected
 * |expected|". Returns XB_OK, XB_ERR_NOMEM or the error of fail_at().
 */
static int list_start(struct parse_state *st, const char *path, yaml_node_t *node,
                      yaml_node_type_t type, const char *expected, struct value *v)
{
    size_t cap;

    memset(v, 0, sizeof(*v));
    if (is_null_scalar(node))
        return XB_OK;
    if (node->type != type)
        return fail_at(st, node->start_mark, path, "expected %s", expected);
    if (type == YAML_SEQUENCE_NODE)
        cap = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    else
        cap = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (cap == 0)
        return XB_OK;
    v->list = calloc(cap, sizeof(char *));
    return v->list != NULL ? XB_OK : XB_ERR_NOMEM;
}

/*
 * Reads sequence |node| of scalars into |v->list| (env-expanded). A null scalar is an
 * empty list.
 */
static int read_string_list(struct parse_state *st, const char *path, yaml_node_t *node,
                            struct value *v)
{
    yaml_node_item_t *it;
    int rc = list_start(st, path, node, YAML_SEQUENCE_NODE, "a list (e.g. [a, b])", v);

    if (rc != XB_OK || v->list == NULL)
        return rc;
    for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
        yaml_node_t *item = node_at(st, *it);
        if (item == NULL || item->type != YAML_SCALAR_NODE) {
            rc = fail_at(st, item != NULL ? item->start_mark : node->start_mark, path,
                         "list items must be strings");
            goto fail;
        }
        rc = scalar_text(item, &v->list[v->n]);
        if (rc != XB_OK)
            goto fail;
        v->n++;
        if (v->list[v->n - 1][0] == '\0') {
            rc = fail_at(st, item->start_mark, path, "list items must not be empty");
            goto fail;
        }
    }
    return XB_OK;
fail:
    value_cleanup(v);
    return rc;
}

/* A mapping of scalars (e.g. exporters.otlphttp.headers) as "key: value" strings. */
static int read_string_map(struct parse_state *st, const char *path, yaml_node_t *node,
                           struct value *v)
{
    yaml_node_pair_t *pair;
    int rc = list_start(st, path, node, YAML_MAPPING_NODE, "a mapping (name: value)", v);

    if (rc != XB_OK || v->list == NULL)
        return rc;
    for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(st, pair->key);
        yaml_node_t *val = node_at(st, pair->value);
        char *kt = NULL, *vt = NULL;
        struct xb_buf b;

        if (k == NULL || val == NULL || k->type != YAML_SCALAR_NODE ||
            val->type != YAML_SCALAR_NODE) {
            rc = fail_at(st, k != NULL ? k->start_mark : node->start_mark, path,
                         "keys and values must be strings");
            goto fail;
        }
        rc = scalar_text(k, &kt);
        if (rc == XB_OK)
            rc = scalar_text(val, &vt);
        if (rc == XB_OK && (kt[0] == '\0' || strpbrk(kt, ": \r\n") || strpbrk(vt, "\r\n")))
            rc = fail_at(st, k->start_mark, path, "invalid header name or value \"%s\"", kt);
        xb_buf_init(&b, 0);
        if (rc == XB_OK && xb_buf_printf(&b, "%s: %s", kt, vt) != XB_OK)
            rc = XB_ERR_NOMEM;
        free(kt);
        free(vt);
        if (rc != XB_OK) {
            xb_buf_cleanup(&b);
            goto fail;
        }
        v->list[v->n++] = xb_buf_steal(&b, NULL);
        if (v->list[v->n - 1] == NULL) {
            v->n--;
            rc = XB_ERR_NOMEM;
            goto fail;
        }
    }
    return XB_OK;
fail:
    value_cleanup(v);
    return rc;
}

/* Cross-field rules of exporters.otlphttp and extensions.sigv4auth. */
static int validate_otlphttp(struct parse_state *st)
{
    const struct xb_config_otlphttp *o = &st->cfg->otlphttp;

    if (!o->enabled)
        return XB_OK;
    if (!o->endpoint && !o->traces_endpoint)
        return fail_at(st, st->root_mark, "exporters.otlphttp.endpoint",
                       "otlphttp is in the pipeline: set endpoint or traces_endpoint");
    if (strcmp(o->compression, "gzip") != 0 && strcmp(o->compression, "none") != 0)
        return fail_at(st, st->root_mark, "exporters.otlphttp.compression",
                       "\"%s\" is not supported (gzip or none)", o->compression);
    if (strcmp(o->encoding, "proto") != 0)
        return fail_at(st, st->root_mark, "exporters.otlphttp.encoding",
                       "\"%s\" is not supported (proto)", o->encoding);
    if (o->authenticator && strcmp(o->authenticator, "sigv4auth") != 0)
        return fail_at(st, st->root_mark, "exporters.otlphttp.auth.authenticator",
                       "unknown authenticator \"%s\" (supported: sigv4auth)", o->authenticator);
    if (o->authenticator && !st->cfg->sigv4auth.enabled)
        return fail_at(st, st->root_mark, "service.extensions",
                       "otlphttp uses sigv4auth: list sigv4auth in service.extensions");
    if (st->cfg->xray_udp.enabled && !st->cfg->awsxray.enabled && !st->cfg->file.enabled)
        return fail_at(st, st->exporters_mark, "service.pipelines.traces.exporters",
                       "receiver awsxray sends segment documents, which otlphttp cannot carry: "
                       "add awsxray or file");
    if (!o->queue_enabled)
        XB_WARN("config",
                "%s: exporters.otlphttp.sending_queue.enabled: false is not "
                "supported, the queue stays on (retries wait there)",
                st->source);
    return XB_OK;
}

/* Cross-field rules of exporters.loadbalancing. */
static int validate_lb(struct parse_state *st)
{
    const struct xb_config_loadbalancing *l = &st->cfg->lb;

    if (!l->enabled)
        return XB_OK;
    if (strcmp(l->routing_key, "traceID") != 0)
        return fail_at(st, st->root_mark, "exporters.loadbalancing.routing_key",
                       "\"%s\" is not supported (traceID)", l->routing_key);
    if (strcmp(l->compression, "gzip") != 0 && strcmp(l->compression, "none") != 0)
        return fail_at(st, st->root_mark, "exporters.loadbalancing.protocol.otlp.compression",
                       "\"%s\" is not supported (gzip or none)", l->compression);
    if ((l->n_hostnames > 0) == (l->dns_hostname != NULL))
        return fail_at(st, st->root_mark, "exporters.loadbalancing.resolver",
                       "configure exactly one resolver: static.hostnames or dns.hostname");
    if (st->cfg->xray_udp.enabled && !st->cfg->awsxray.enabled && !st->cfg->file.enabled)
        return fail_at(st, st->exporters_mark, "service.pipelines.traces.exporters",
                       "receiver awsxray sends segment documents, which loadbalancing cannot "
                       "carry: add awsxray or file");
    return XB_OK;
}

/* Non-zero when item |i| of list |v| equals an earlier item. */
static int listed_before(const struct value *v, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (strcmp(v->list[j], v->list[i]) == 0)
            return 1;
    }
    return 0;
}

/* service.pipelines.traces.receivers / .exporters */
static int set_pipeline_list(struct parse_state *st, const struct xb_config_option *opt,
                             const char *path, yaml_node_t *node)
{
    struct value v;
    int rc;
    int is_recv = opt->type == XB_OPT_RECEIVERS;

    rc = read_string_list(st, path, node, &v);
    if (rc != XB_OK)
        return rc;
    for (size_t i = 0; i < v.n && rc == XB_OK; i++) {
        const char *id = v.list[i];
        if (listed_before(&v, i))
            rc = fail_at(st, node->start_mark, path, "\"%s\" is listed twice", id);
        else if (is_recv && strcmp(id, "otlp") == 0)
            st->otlp_listed = 1;
        else if (is_recv && strcmp(id, "awsxray") == 0)
            st->cfg->xray_udp.enabled = 1;
        else if (!is_recv && strcmp(id, "awsxray") == 0)
            st->cfg->awsxray.enabled = 1;
        else if (!is_recv && strcmp(id, "file") == 0)
            st->cfg->file.enabled = 1;
        else if (!is_recv && strcmp(id, "otlphttp") == 0)
            st->cfg->otlphttp.enabled = 1;
        else if (!is_recv &&
                 (strcmp(id, "loadbalancing") == 0 || strcmp(id, "load_balancing") == 0)) {
            if (st->cfg->lb.enabled)
                rc = fail_at(st, node->start_mark, path,
                             "\"%s\" is listed twice (loadbalancing and load_balancing)", id);
            st->cfg->lb.enabled = 1;
        } else if (is_recv)
            rc =
                fail_at(st, node->start_mark, path,
                        "unknown receiver \"%s\" (supported: otlp, awsxray" MIGRATION_HINT ")", id);
        else
            rc = fail_at(st, node->start_mark, path,
                         "unknown exporter \"%s\" (supported: awsxray, file, otlphttp, "
                         "loadbalancing" MIGRATION_HINT ")",
                         id);
    }
    if (rc == XB_OK) {
        if (is_recv) {
            st->receivers_set = 1;
            st->n_receivers = v.n;
            st->receivers_mark = node->start_mark;
        } else {
            st->exporters_set = 1;
            st->n_exporters = v.n;
            st->exporters_mark = node->start_mark;
        }
    }
    value_cleanup(&v);
    return rc;
}

/* service.extensions: ids of extensions to run (docs/configuration.md). */
static int set_extensions_list(struct parse_state *st, const char *path, yaml_node_t *node)
{
    const struct xb_extension_type *e;
    struct value v;
    int rc;

    rc = read_string_list(st, path, node, &v);
    if (rc != XB_OK)
        return rc;
    for (size_t i = 0; i < v.n && rc == XB_OK; i++) {
        if (listed_before(&v, i))
            rc = fail_at(st, node->start_mark, path, "\"%s\" is listed twice", v.list[i]);
        else if ((e = xb_extension_find(v.list[i])) == NULL)
            rc = fail_at(st, node->start_mark, path,
                         "unknown extension \"%s\" (supported: %s" MIGRATION_HINT ")", v.list[i],
                         xb_extension_supported());
        else if (e->enabled_offset == XB_EXTENSION_NOOP)
            XB_WARN("config", "%s:%zu:%zu: %s: extension %s is accepted and does nothing",
                    st->source, node->start_mark.line + 1, node->start_mark.column + 1, path,
                    v.list[i]);
        else
            *(int *)((char *)st->cfg + e->enabled_offset) = 1;
    }
    value_cleanup(&v);
    return rc;
}

/* service.pipelines.traces.processors: known processor types, each id once, in order. */
static int set_processors_list(struct parse_state *st, const struct xb_config_option *opt,
                               const char *path, yaml_node_t *node)
{
    struct value v;
    int rc;

    rc = read_string_list(st, path, node, &v);
    if (rc != XB_OK)
        return rc;
    for (size_t i = 0; i < v.n && rc == XB_OK; i++) {
        if (listed_before(&v, i))
            rc = fail_at(st, node->start_mark, path, "\"%s\" is listed twice", v.list[i]);
        else if (xb_processor_type_find(v.list[i]) == NULL)
            rc = fail_at(st, node->start_mark, path,
                         "unknown processor \"%s\" (supported: %s" MIGRATION_HINT ")", v.list[i],
                         xb_processor_supported());
    }
    if (rc == XB_OK) {
        field_store(st->cfg, opt, &v);
        st->processors_set = 1;
        st->processors_mark = node->start_mark;
    }
    value_cleanup(&v);
    return rc;
}

/* Stores |v| for a shared translation key, refusing a different earlier value. */
static int store_shared(struct parse_state *st, const struct xb_config_option *opt,
                        const char *path, yaml_mark_t mark, struct value *v)
{
    for (size_t i = 0; i < st->n_shared; i++) {
        const struct shared_set *prev = &st->shared[i];
        if (prev->offset != opt->offset)
            continue;
        if (!field_equals(st->cfg, opt, v))
            return fail_at(st, mark, path,
                           "conflicts with %s (line %zu): translation keys set in both "
                           "awsxray and file must be equal",
                           prev->path, prev->mark.line + 1);
        return XB_OK;
    }
    if (st->n_shared < MAX_SHARED) {
        st->shared[st->n_shared].offset = opt->offset;
        st->shared[st->n_shared].path = opt->path;
        st->shared[st->n_shared].mark = mark;
        st->n_shared++;
    }
    field_store(st->cfg, opt, v);
    return XB_OK;
}

static int set_option(struct parse_state *st, const struct xb_config_option *opt, const char *path,
                      yaml_node_t *node)
{
    struct value v;
    char reason[384];
    char *text = NULL;
    int rc = XB_OK;

    memset(&v, 0, sizeof(v));
    if (opt->flags & XB_OPT_F_COMPAT)
        XB_WARN("config", "%s:%zu:%zu: %s is accepted for compatibility and has no effect",
                st->source, node->start_mark.line + 1, node->start_mark.column + 1, path);
    switch (opt->type) {
    case XB_OPT_IGNORED:
        goto out;
    case XB_OPT_RECEIVERS:
    case XB_OPT_EXPORTERS:
        rc = set_pipeline_list(st, opt, path, node);
        goto out;
    case XB_OPT_EXTENSIONS:
        st->extensions_mark = node->start_mark;
        rc = set_extensions_list(st, path, node);
        goto out;
    case XB_OPT_PROCESSORS:
        rc = set_processors_list(st, opt, path, node);
        goto out;
    case XB_OPT_TS_POLICIES:
        rc = xb_ts_config_policies(st->doc, node, st->source, path, field(st->cfg, opt->offset),
                                   st->errbuf, st->errlen);
        goto out;
    case XB_OPT_STRLIST:
        rc = read_string_list(st, path, node, &v);
        break;
    case XB_OPT_STRMAP:
        rc = read_string_map(st, path, node, &v);
        break;
    default:
        if (node->type != YAML_SCALAR_NODE) {
            rc = fail_at(st, node->start_mark, path, "expected a single value (%s), got a %s",
                         xb_config_opt_type_name(opt->type),
                         node->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
            goto out;
        }
        rc = scalar_text(node, &text);
        if (rc != XB_OK)
            goto out;
        rc = parse_scalar(opt, text, &v, reason, sizeof(reason));
        if (rc != XB_OK)
            rc = fail_at(st, node->start_mark, path, "%s", reason);
        break;
    }
    if (rc != XB_OK)
        goto out;
    if (opt->offset == offsetof(struct xb_config, translate.max_document_bytes)) {
        st->max_doc_set = 1;
        st->max_doc_mark = node->start_mark;
        st->max_doc_path = opt->path;
    }
    if (opt->offset == offsetof(struct xb_config, metrics.address))
        st->metrics_addr_mark = node->start_mark;
    if (opt->offset == offsetof(struct xb_config, health_check.endpoint))
        st->health_ep_mark = node->start_mark;
    if (opt->offset == offsetof(struct xb_config, awsxray.queue.storage))
        st->storage_mark[0] = node->start_mark;
    if (opt->offset == offsetof(struct xb_config, file.queue.storage))
        st->storage_mark[1] = node->start_mark;
    if (opt->offset == offsetof(struct xb_config, otlphttp.queue.storage))
        st->storage_mark[2] = node->start_mark;
    if (opt->flags & XB_OPT_F_SHARED)
        rc = store_shared(st, opt, path, node->start_mark, &v);
    else
        field_store(st->cfg, opt, &v);
out:
    value_cleanup(&v);
    return rc;
}

/* ------------------------------------------------------- walking --- */

/* Non-zero when |path| is a proper prefix (at a '.' boundary) of some option's path. */
static int is_section(const char *path)
{
    size_t n, len = strlen(path);
    const struct xb_config_option *opts = xb_config_options(&n);

    for (size_t i = 0; i < n; i++) {
        if (strncmp(opts[i].path, path, len) == 0 && opts[i].path[len] == '.')
            return 1;
    }
    return 0;
}

static void note_section(struct parse_state *st, const char *path, yaml_mark_t mark)
{
    if (strcmp(path, "receivers.otlp") == 0) {
        st->seen_otlp = 1;
        st->otlp_mark = mark;
    } else if (strcmp(path, "receivers.otlp.protocols.grpc") == 0) {
        st->seen_grpc = 1;
        st->grpc_mark = mark;
    } else if (strcmp(path, "receivers.otlp.protocols.http") == 0) {
        st->seen_http = 1;
        st->http_mark = mark;
    } else if (strcmp(path, "receivers.awsxray.proxy_server") == 0) {
        st->cfg->xray_udp_proxy.enabled = 1; /* the receiver's proxy runs when configured */
    } else if (strcmp(path, "processors.tail_sampling") == 0) {
        st->seen_ts = 1;
        st->ts_mark = mark;
    } else if (strcmp(path, "service.pipelines.traces") == 0) {
        st->seen_traces = 1;
        st->traces_mark = mark;
    }
}

static int unknown_key(struct parse_state *st, const char *parent, const char *key,
                       const char *path, yaml_mark_t mark)
{
    if (strcmp(parent, "receivers") == 0)
        return fail_at(st, mark, path,
                       "unknown receiver \"%s\" (supported: otlp, awsxray" MIGRATION_HINT ")", key);
    if (strcmp(parent, "exporters") == 0)
        return fail_at(st, mark, path,
                       "unknown exporter \"%s\" (supported: awsxray, file, otlphttp, "
                       "loadbalancing" MIGRATION_HINT ")",
                       key);
    if (strcmp(parent, "extensions") == 0)
        return fail_at(st, mark, path, "unknown extension \"%s\" (supported: %s" MIGRATION_HINT ")",
                       key, xb_extension_supported());
    if (strcmp(parent, "processors") == 0)
        return fail_at(st, mark, path, "unknown processor \"%s\" (supported: %s" MIGRATION_HINT ")",
                       key, xb_processor_supported());
    if (strcmp(parent, "connectors") == 0)
        return fail_at(st, mark, path,
                       "unknown connector \"%s\" (xraybridge has no connectors" MIGRATION_HINT ")",
                       key);
    if (strcmp(parent, "service.pipelines") == 0)
        return fail_at(st, mark, path,
                       "unknown pipeline \"%s\" (xraybridge carries traces only" MIGRATION_HINT ")",
                       key);
    return fail_at(st, mark, path, "unknown key \"%s\"", key);
}

/*
 * The option-table path of |path|: a processor id's "/name" suffix is dropped
 * ("processors.batch/traces.timeout" -> "processors.batch.timeout").
 */
static void lookup_path(const char *path, char *out, size_t len)
{
    static const char pre[] = "processors.";
    const char *slash, *dot;

    snprintf(out, len, "%s", path);
    if (strncmp(path, pre, sizeof(pre) - 1) != 0)
        return;
    slash = strchr(path + sizeof(pre) - 1, '/');
    dot = strchr(path + sizeof(pre) - 1, '.');
    if (slash == NULL || (dot != NULL && dot < slash))
        return;
    snprintf(out, len, "%.*s%s", (int)(slash - path), path, dot != NULL ? dot : "");
}

/*
 * A key under processors: (or the top-level connectors: section). Processor ids must
 * name a known type; their settings are walked later by walk_processors(), once the
 * pipeline says which instance is used. Every connector is refused.
 */
static int note_component(struct parse_state *st, const char *parent, const char *key,
                          const char *path, yaml_mark_t mark, yaml_node_t *v)
{
    if (parent[0] == '\0') { /* connectors: an empty section is harmless */
        yaml_node_t *k;
        if (is_null_scalar(v) || (v->type == YAML_MAPPING_NODE &&
                                  v->data.mapping.pairs.top == v->data.mapping.pairs.start))
            return XB_OK;
        if (v->type != YAML_MAPPING_NODE)
            return fail_at(st, v->start_mark, path, "expected a mapping of keys");
        k = node_at(st, v->data.mapping.pairs.start->key);
        if (k == NULL || k->type != YAML_SCALAR_NODE)
            return fail_at(st, v->start_mark, path, "mapping keys must be plain strings");
        return unknown_key(st, "connectors", (const char *)k->data.scalar.value, "connectors",
                           k->start_mark);
    }
    if (key[0] == '\0' || strchr(key, '.') != NULL || xb_processor_type_find(key) == NULL)
        return unknown_key(st, parent, key, path, mark);
    if (st->n_procs == MAX_PROCESSORS)
        return fail_at(st, mark, path, "more than %d processors", MAX_PROCESSORS);
    if (!is_null_scalar(v) && v->type != YAML_MAPPING_NODE)
        return fail_at(st, v->start_mark, path, "expected a mapping of keys");
    st->procs[st->n_procs].id = key;
    st->procs[st->n_procs].mark = mark;
    st->procs[st->n_procs].value = v;
    st->n_procs++;
    return XB_OK;
}

static int walk_mapping(struct parse_state *st, yaml_node_t *map, const char *parent)
{
    yaml_node_pair_t *pair, *prev;
    char path[MAX_PATH_LEN], lpath[MAX_PATH_LEN];
    int rc = XB_OK;

    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = node_at(st, pair->key);
        yaml_node_t *v = node_at(st, pair->value);
        const struct xb_config_option *opt;
        const char *key;

        if (k == NULL || v == NULL) {
            rc = fail_at(st, map->start_mark, parent[0] ? parent : "(top level)",
                         "malformed mapping");
            goto out;
        }
        if (k->type != YAML_SCALAR_NODE) {
            rc = fail_at(st, k->start_mark, parent[0] ? parent : "(top level)",
                         "mapping keys must be plain strings");
            goto out;
        }
        key = (const char *)k->data.scalar.value;
        if (snprintf(path, sizeof(path), "%s%s%s", parent, parent[0] ? "." : "", key) >=
            (int)sizeof(path)) {
            rc = fail_at(st, k->start_mark, parent, "key too long");
            goto out;
        }
        for (prev = map->data.mapping.pairs.start; prev < pair; prev++) {
            yaml_node_t *pk = node_at(st, prev->key);
            if (pk != NULL && pk->type == YAML_SCALAR_NODE &&
                strcmp((const char *)pk->data.scalar.value, key) == 0) {
                rc = fail_at(st, k->start_mark, path, "duplicate key (first at line %zu)",
                             pk->start_mark.line + 1);
                goto out;
            }
        }
        if (strcmp(parent, "processors") == 0 ||
            (parent[0] == '\0' && strcmp(key, "connectors") == 0)) {
            rc = note_component(st, parent, key, path, k->start_mark, v);
            if (rc != XB_OK)
                goto out;
            continue;
        }
        lookup_path(path, lpath, sizeof(lpath));
        opt = (key[0] != '\0' && strchr(key, '.') == NULL) ? xb_config_option_find(lpath) : NULL;
        if (opt != NULL) {
            rc = set_option(st, opt, path, v);
        } else if (key[0] != '\0' && strchr(key, '.') == NULL && is_section(lpath)) {
            note_section(st, path, k->start_mark);
            if (v->type == YAML_MAPPING_NODE)
                rc = walk_mapping(st, v, path);
            else if (!is_null_scalar(v))
                rc = fail_at(st, v->start_mark, path, "expected a mapping of keys");
        } else {
            rc = unknown_key(st, parent, key, path, k->start_mark);
        }
        if (rc != XB_OK)
            goto out;
    }
out:
    return rc;
}

/* Non-zero when listeners |a| and |b| (NULL = not enabled) would bind the same address
 * (port 0 is a fresh port each time, so never a clash). */
static int same_listen_address(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0 && strcmp(strrchr(a, ':'), ":0") != 0;
}

/* Telemetry endpoints must not take an address a receiver or each other uses. */
static int validate_telemetry(struct parse_state *st)
{
    struct xb_config *cfg = st->cfg;
    const char *metrics = cfg->metrics.enabled ? cfg->metrics.address : NULL;
    const char *health = cfg->health_check.enabled ? cfg->health_check.endpoint : NULL;
    const char *grpc = cfg->grpc.enabled ? cfg->grpc.endpoint : NULL;
    const char *http = cfg->http.enabled ? cfg->http.endpoint : NULL;
    const char *clash = NULL, *with = NULL, *value;
    yaml_mark_t mark;

    if (same_listen_address(metrics, grpc) || same_listen_address(metrics, http)) {
        clash = "service.telemetry.metrics.address";
        with = "an OTLP receiver endpoint";
    } else if (same_listen_address(health, grpc) || same_listen_address(health, http)) {
        clash = "extensions.health_check.endpoint";
        with = "an OTLP receiver endpoint";
    } else if (same_listen_address(health, metrics)) {
        clash = "extensions.health_check.endpoint";
        with = "service.telemetry.metrics.address";
    }
    if (clash == NULL)
        return XB_OK;
    if (strcmp(clash, "extensions.health_check.endpoint") == 0) {
        mark = st->health_ep_mark;
        value = health;
    } else {
        mark = st->metrics_addr_mark;
        value = metrics;
    }
    return fail_at(st, mark, clash, "same address as %s (%s)", with, value);
}

/* Sets every row under |prefix| back to its default (an unused instance's values). */
static int reset_rows(struct xb_config *cfg, const char *prefix)
{
    size_t n, plen = strlen(prefix);
    const struct xb_config_option *opts = xb_config_options(&n);
    char reason[256];
    int rc = XB_OK;

    for (size_t i = 0; i < n && rc == XB_OK; i++) {
        if (strncmp(opts[i].path, prefix, plen) != 0 || opts[i].type == XB_OPT_IGNORED)
            continue;
        field_release(cfg, &opts[i]);
        rc = store_default(cfg, &opts[i], reason, sizeof(reason));
    }
    return rc;
}

/* Index of the processor instance |id| listed in the pipeline, or -1. */
static int pipeline_index(const struct xb_config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->processors.n_pipeline; i++)
        if (strcmp(cfg->processors.pipeline[i], id) == 0)
            return (int)i;
    return -1;
}

/*
 * Walks the settings of every processor instance: those the pipeline does not list
 * first (validated, then reset to defaults), then the listed ones, so the config holds
 * the listed instance's values. Then checks the pipeline list against the instances and
 * runs each listed type's own checks (config/processors.c).
 */
static int walk_processors(struct parse_state *st)
{
    struct xb_config *cfg = st->cfg;
    char path[MAX_PATH_LEN], reason[384];
    int rc = XB_OK;

    for (int pass = 0; pass < 2 && rc == XB_OK; pass++) {
        for (size_t i = 0; i < st->n_procs && rc == XB_OK; i++) {
            if ((pipeline_index(cfg, st->procs[i].id) >= 0) != pass)
                continue;
            snprintf(path, sizeof(path), "processors.%s", st->procs[i].id);
            if (st->procs[i].value->type == YAML_MAPPING_NODE)
                rc = walk_mapping(st, st->procs[i].value, path);
        }
        if (pass == 0 && rc == XB_OK)
            rc = reset_rows(cfg, "processors.");
    }
    for (size_t i = 0; i < cfg->processors.n_pipeline && rc == XB_OK; i++) {
        const char *id = cfg->processors.pipeline[i];
        const struct xb_processor_type *t = xb_processor_type_find(id);
        size_t j;
        int *enabled;

        for (j = 0; j < st->n_procs && strcmp(st->procs[j].id, id) != 0; j++)
            ;
        if (j == st->n_procs)
            return fail_at(st, st->processors_mark, "service.pipelines.traces.processors",
                           "processor \"%s\" is not configured under processors", id);
        enabled = (int *)((char *)cfg + t->enabled_offset);
        if (*enabled)
            return fail_at(st, st->processors_mark, "service.pipelines.traces.processors",
                           "\"%s\": only one %s processor can be in the pipeline", id, t->name);
        *enabled = 1;
        snprintf(path, sizeof(path), "processors.%s", id);
        if (t->check != NULL && t->check(cfg, reason, sizeof(reason)) != XB_OK)
            return fail_at(st, st->procs[j].mark, path, "%s", reason);
    }
    return rc;
}

/* The sampling proxies listen on TCP: not on an address another TCP listener uses. */
static int validate_proxies(struct parse_state *st)
{
    const struct xb_config *cfg = st->cfg;
    const char *ext = cfg->awsproxy.enabled ? cfg->awsproxy.endpoint : NULL;
    const char *rcv = cfg->xray_udp_proxy.enabled ? cfg->xray_udp_proxy.endpoint : NULL;
    const char *others[] = {cfg->grpc.enabled ? cfg->grpc.endpoint : NULL,
                            cfg->http.enabled ? cfg->http.endpoint : NULL,
                            cfg->metrics.enabled ? cfg->metrics.address : NULL,
                            cfg->health_check.enabled ? cfg->health_check.endpoint : NULL};

    if (same_listen_address(ext, rcv))
        return fail_at(st, st->root_mark, "extensions.awsproxy.endpoint",
                       "same address as receivers.awsxray.proxy_server.endpoint (%s): run one "
                       "of the two proxies, or give them different ports",
                       ext);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        if (same_listen_address(ext, others[i]) || same_listen_address(rcv, others[i]))
            return fail_at(st, st->root_mark,
                           same_listen_address(ext, others[i])
                               ? "extensions.awsproxy.endpoint"
                               : "receivers.awsxray.proxy_server.endpoint",
                           "same address as another listener (%s)", others[i]);
    }
    return XB_OK;
}

/* sending_queue.storage names the file_storage extension, which must be configured and
 * listed in service.extensions; file_storage needs a directory. */
static int validate_storage(struct parse_state *st)
{
    struct xb_config *cfg = st->cfg;
    const struct {
        const char *path;
        const char *value;
    } refs[] = {{"exporters.awsxray.sending_queue.storage", cfg->awsxray.queue.storage},
                {"exporters.file.sending_queue.storage", cfg->file.queue.storage},
                {"exporters.otlphttp.sending_queue.storage", cfg->otlphttp.queue.storage}};

    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        if (refs[i].value == NULL)
            continue;
        if (strcmp(refs[i].value, "file_storage") != 0)
            return fail_at(st, st->storage_mark[i], refs[i].path,
                           "unknown storage extension \"%s\" (supported: file_storage)",
                           refs[i].value);
        if (!cfg->file_storage.enabled)
            return fail_at(st, st->storage_mark[i], refs[i].path,
                           "file_storage is not listed in service.extensions");
    }
    if (cfg->file_storage.enabled && cfg->file_storage.directory == NULL)
        return fail_at(st, st->extensions_mark, "extensions.file_storage.directory",
                       "required when file_storage is listed in service.extensions");
    if (cfg->lb.queue.storage)
        return fail_at(st, st->exporters_mark, "exporters.loadbalancing.sending_queue.storage",
                       "the durable queue is available for the awsxray, file and otlphttp "
                       "exporters only (docs/durability.md)");
    return XB_OK;
}

/* Pipeline rules and cross-field checks, after the whole tree was read. */
static int validate(struct parse_state *st)
{
    struct xb_config *cfg = st->cfg;
    const char *pipe = "service.pipelines.traces";
    int rc;

    if (!st->seen_traces)
        return fail_at(st, st->root_mark, pipe,
                       "missing: a traces pipeline listing receivers and exporters is required");
    if (!st->receivers_set || st->n_receivers == 0)
        return fail_at(st, st->receivers_set ? st->receivers_mark : st->traces_mark,
                       "service.pipelines.traces.receivers", "at least one receiver is required");
    if (!st->exporters_set || st->n_exporters == 0)
        return fail_at(st, st->exporters_set ? st->exporters_mark : st->traces_mark,
                       "service.pipelines.traces.exporters", "at least one exporter is required");
    rc = walk_processors(st);
    if (rc != XB_OK)
        return rc;
    xb_processors_apply(cfg);
    if (st->otlp_listed) {
        if (!st->seen_otlp)
            return fail_at(st, st->receivers_mark, "receivers.otlp",
                           "receiver otlp is in the pipeline but not configured under "
                           "receivers (add receivers.otlp.protocols.grpc and/or http)");
        if (!st->seen_grpc && !st->seen_http)
            return fail_at(st, st->otlp_mark, "receivers.otlp.protocols",
                           "enable at least one protocol: grpc or http");
        cfg->grpc.enabled = st->seen_grpc;
        cfg->http.enabled = st->seen_http;
    }
    if (cfg->xray_udp.enabled && strcmp(cfg->xray_udp.transport, "udp") != 0)
        return fail_at(st, st->root_mark, "receivers.awsxray.transport",
                       "\"%s\" is not supported (only udp)", cfg->xray_udp.transport);
    if (same_listen_address(cfg->grpc.enabled ? cfg->grpc.endpoint : NULL,
                            cfg->http.enabled ? cfg->http.endpoint : NULL))
        return fail_at(st, st->http_mark, "receivers.otlp.protocols.http.endpoint",
                       "same address as the grpc endpoint (%s)", cfg->grpc.endpoint);
    if (cfg->awsxray.enabled && cfg->translate.max_document_bytes > XB_CONFIG_XRAY_MAX_DOC_BYTES)
        return fail_at(st, st->max_doc_set ? st->max_doc_mark : st->root_mark,
                       st->max_doc_set ? st->max_doc_path : "exporters.awsxray.max_document_bytes",
                       "%zu is above X-Ray's document limit of %u bytes",
                       cfg->translate.max_document_bytes, XB_CONFIG_XRAY_MAX_DOC_BYTES);
    cfg->xray_udp_proxy.enabled = cfg->xray_udp_proxy.enabled && cfg->xray_udp.enabled;
    cfg->metrics.enabled = cfg->metrics.address != NULL && strcmp(cfg->metrics.level, "none") != 0;
    if (validate_proxies(st) != XB_OK)
        return XB_ERR_CONFIG;
    rc = validate_storage(st);
    if (rc != XB_OK)
        return rc;
    if (validate_otlphttp(st) != XB_OK || validate_lb(st) != XB_OK)
        return XB_ERR_CONFIG;
    return validate_telemetry(st);
}

/* ------------------------------------------------------- public --- */

void xb_config_free(struct xb_config *cfg)
{
    size_t n;
    const struct xb_config_option *opts;

    if (cfg == NULL)
        return;
    /* Shared rows point at the same field; field_release() NULLs it, so no double free. */
    opts = xb_config_options(&n);
    for (size_t i = 0; i < n; i++)
        field_release(cfg, &opts[i]);
    free(cfg->source);
    free(cfg);
}

int xb_config_parse(const char *text, size_t len, const char *source_name, struct xb_config **out,
                    char *errbuf, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    int have_parser = 0, have_doc = 0;
    struct parse_state st;
    struct xb_config *cfg = NULL;
    yaml_node_t *root;
    int rc = XB_OK;

    *out = NULL;
    memset(&st, 0, sizeof(st));
    st.source = source_name != NULL ? source_name : "<config>";
    st.errbuf = errbuf;
    st.errlen = errlen;
    set_err(errbuf, errlen, "%s", "");

    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL || (cfg->source = strdup(st.source)) == NULL) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    rc = apply_defaults(cfg, errbuf, errlen);
    if (rc != XB_OK)
        goto out;
    st.cfg = cfg;

    if (!yaml_parser_initialize(&parser)) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    have_parser = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        set_err(errbuf, errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", st.source,
                parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                parser.problem != NULL ? parser.problem : "invalid document",
                parser.context != NULL ? " " : "", parser.context != NULL ? parser.context : "");
        rc = parser.error == YAML_MEMORY_ERROR ? XB_ERR_NOMEM : XB_ERR_CONFIG;
        goto out;
    }
    have_doc = 1;
    st.doc = &doc;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        st.root_mark = doc.start_mark;
        rc = fail_at(&st, st.root_mark, "service.pipelines.traces",
                     "configuration is empty; a traces pipeline is required");
        goto out;
    }
    st.root_mark = root->start_mark;
    st.metrics_addr_mark = root->start_mark;
    st.health_ep_mark = root->start_mark;
    if (!is_null_scalar(root)) {
        if (root->type != YAML_MAPPING_NODE) {
            rc = fail_at(&st, root->start_mark, "(top level)", "expected a mapping of keys");
            goto out;
        }
        rc = walk_mapping(&st, root, "");
        if (rc != XB_OK)
            goto out;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        set_err(errbuf, errlen, "%s:%zu:%zu: YAML syntax error: %s", st.source,
                parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                parser.problem != NULL ? parser.problem : "invalid document");
        rc = XB_ERR_CONFIG;
        goto out;
    }
    if (yaml_document_get_root_node(&extra) != NULL) {
        yaml_mark_t m = extra.start_mark;
        yaml_document_delete(&extra);
        rc = fail_at(&st, m, "(document)", "only one YAML document is allowed");
        goto out;
    }
    yaml_document_delete(&extra);
    rc = validate(&st);
    if (rc != XB_OK)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    if (rc == XB_ERR_NOMEM)
        set_err(errbuf, errlen, "%s: out of memory", st.source);
    xb_config_free(cfg); /* NULL on success */
    return rc;
}

int xb_config_load_file(const char *path, struct xb_config **out, char *errbuf, size_t errlen)
{
    FILE *f;
    char *data = NULL;
    size_t len = 0, cap = 0;
    int rc = XB_OK;

    *out = NULL;
    f = fopen(path, "rb");
    if (f == NULL) {
        set_err(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
        return XB_ERR_IO;
    }
    for (;;) {
        size_t got;
        if (len == cap) {
            char *nd;
            cap = cap ? cap * 2 : 8192;
            if (cap > MAX_FILE_BYTES + 1)
                cap = MAX_FILE_BYTES + 1;
            nd = realloc(data, cap);
            if (nd == NULL) {
                rc = XB_ERR_NOMEM;
                set_err(errbuf, errlen, "%s: out of memory", path);
                goto out;
            }
            data = nd;
        }
        got = fread(data + len, 1, cap - len, f);
        len += got;
        if (len > MAX_FILE_BYTES) {
            rc = XB_ERR_CONFIG;
            set_err(errbuf, errlen, "%s: larger than %u bytes", path, MAX_FILE_BYTES);
            goto out;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = XB_ERR_IO;
        set_err(errbuf, errlen, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    rc = xb_config_parse(data != NULL ? data : "", len, path, out, errbuf, errlen);
out:
    free(data);
    fclose(f);
    return rc;
}

int xb_config_load_default(struct xb_config **out, char *errbuf, size_t errlen)
{
    return xb_config_parse(default_yaml, sizeof(default_yaml) - 1, EMBEDDED_SOURCE, out, errbuf,
                           errlen);
}
