#include "extension/viewer_filter.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

/* Parser state over the expression text. */
struct lex {
    const char *s; /* whole text */
    size_t pos;
    char *err;
    size_t err_len;
};

static void skip_ws(struct lex *lx)
{
    while (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t' || lx->s[lx->pos] == '\n' ||
           lx->s[lx->pos] == '\r')
        lx->pos++;
}

static int fail(struct lex *lx, const char *what)
{
    snprintf(lx->err, lx->err_len, "at %zu: %s", lx->pos + 1, what);
    return XB_ERR_INVALID;
}

static int is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == ':' || c == '/';
}

/* Reads a word (letters, digits, _ . - : /) into |out|; 0 when there is none. */
static size_t read_word(struct lex *lx, char *out, size_t out_len)
{
    size_t n = 0;

    skip_ws(lx);
    while (is_word_char(lx->s[lx->pos]) && n + 1 < out_len)
        out[n++] = lx->s[lx->pos++];
    out[n] = '\0';
    return n;
}

/* Consumes |tok| (exact characters) when next; returns 1 if it did. */
static int accept(struct lex *lx, const char *tok)
{
    size_t n = strlen(tok);

    skip_ws(lx);
    if (strncmp(lx->s + lx->pos, tok, n) != 0)
        return 0;
    lx->pos += n;
    return 1;
}

/* A double-quoted string with \" and \\ escapes into |out|. */
static int read_string(struct lex *lx, char *out)
{
    size_t n = 0;

    skip_ws(lx);
    if (lx->s[lx->pos] != '"')
        return fail(lx, "expected a double-quoted string");
    lx->pos++;
    for (;;) {
        char c = lx->s[lx->pos];
        if (c == '\0')
            return fail(lx, "unterminated string");
        lx->pos++;
        if (c == '"')
            break;
        if (c == '\\' && (lx->s[lx->pos] == '"' || lx->s[lx->pos] == '\\'))
            c = lx->s[lx->pos++];
        if (n >= XB_VIEWER_FILTER_MAX_STR)
            return fail(lx, "string too long");
        out[n++] = c;
    }
    out[n] = '\0';
    return XB_OK;
}

static int read_number(struct lex *lx, double *out)
{
    char *end;
    double v;

    skip_ws(lx);
    v = strtod(lx->s + lx->pos, &end);
    if (end == lx->s + lx->pos || !isfinite(v))
        return fail(lx, "expected a number");
    lx->pos = (size_t)(end - lx->s);
    *out = v;
    return XB_OK;
}

static int read_op(struct lex *lx, enum xb_viewer_op *op, int strings)
{
    static const struct {
        const char *tok;
        enum xb_viewer_op op;
    } ops[] = {{"!=", XB_VIEWER_OP_NE}, {"<=", XB_VIEWER_OP_LE}, {">=", XB_VIEWER_OP_GE},
               {"=", XB_VIEWER_OP_EQ},  {"<", XB_VIEWER_OP_LT},  {">", XB_VIEWER_OP_GT}};
    static const struct {
        const char *word;
        enum xb_viewer_op op;
    } words[] = {{"CONTAINS", XB_VIEWER_OP_CONTAINS},
                 {"BEGINSWITH", XB_VIEWER_OP_BEGINSWITH},
                 {"ENDSWITH", XB_VIEWER_OP_ENDSWITH}};
    size_t save;
    char w[16];

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (accept(lx, ops[i].tok)) {
            *op = ops[i].op;
            return XB_OK;
        }
    save = lx->pos;
    if (strings && read_word(lx, w, sizeof(w)))
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strcasecmp(w, words[i].word) == 0) {
                *op = words[i].op;
                return XB_OK;
            }
    lx->pos = save;
    return fail(lx, strings ? "expected an operator (= != < <= > >= CONTAINS BEGINSWITH "
                              "ENDSWITH)"
                            : "expected an operator (= != < <= > >=)");
}

/* A literal: "string", number, true or false. */
static int read_value(struct lex *lx, struct xb_viewer_term *t)
{
    size_t save;
    char w[8];

    skip_ws(lx);
    if (lx->s[lx->pos] == '"') {
        t->type = XB_VIEWER_V_STRING;
        return read_string(lx, t->str);
    }
    save = lx->pos;
    if (read_word(lx, w, sizeof(w)) &&
        (strcasecmp(w, "true") == 0 || strcasecmp(w, "false") == 0)) {
        t->type = XB_VIEWER_V_BOOL;
        t->boolean = strcasecmp(w, "true") == 0;
        return XB_OK;
    }
    lx->pos = save;
    t->type = XB_VIEWER_V_NUMBER;
    return read_number(lx, &t->num);
}

static int parse_term(struct lex *lx, struct xb_viewer_term *t)
{
    char word[XB_VIEWER_FILTER_MAX_STR + 16];
    int negate = accept(lx, "!");
    size_t n;
    int rc;

    memset(t, 0, sizeof(*t));
    n = read_word(lx, word, sizeof(word));
    if (n == 0)
        return fail(lx, "expected a term (service(\"name\"), fault, error, throttle, ok, "
                        "responsetime, duration, http.status, http.method, http.url, "
                        "annotation.KEY)");
    if (n + 1 >= sizeof(word))
        return fail(lx, "name too long");
    if (strcasecmp(word, "fault") == 0 || strcasecmp(word, "error") == 0 ||
        strcasecmp(word, "throttle") == 0 || strcasecmp(word, "ok") == 0) {
        t->kind = strcasecmp(word, "fault") == 0      ? XB_VIEWER_T_FAULT
                  : strcasecmp(word, "error") == 0    ? XB_VIEWER_T_ERROR
                  : strcasecmp(word, "throttle") == 0 ? XB_VIEWER_T_THROTTLE
                                                      : XB_VIEWER_T_OK;
        t->type = XB_VIEWER_V_BOOL;
        t->boolean = 1;
        t->op = XB_VIEWER_OP_EQ;
        skip_ws(lx);
        if (!negate && (lx->s[lx->pos] == '=' || strncmp(lx->s + lx->pos, "!=", 2) == 0)) {
            rc = read_op(lx, &t->op, 0);
            if (rc == XB_OK)
                rc = read_value(lx, t);
            if (rc != XB_OK)
                return rc;
            if (t->type != XB_VIEWER_V_BOOL)
                return fail(lx, "expected true or false");
        }
        if (negate)
            t->boolean = 0;
        return XB_OK;
    }
    if (negate)
        return fail(lx, "! applies only to fault, error, throttle and ok");
    if (strcasecmp(word, "service") == 0) {
        t->kind = XB_VIEWER_T_SERVICE;
        if (!accept(lx, "("))
            return fail(lx, "expected ( after service");
        skip_ws(lx);
        if (lx->s[lx->pos] == '"' && (rc = read_string(lx, t->str)) != XB_OK)
            return rc;
        if (!accept(lx, ")"))
            return fail(lx, "expected )");
        return XB_OK;
    }
    if (strcasecmp(word, "responsetime") == 0 || strcasecmp(word, "duration") == 0 ||
        strcasecmp(word, "http.status") == 0) {
        t->kind = strcasecmp(word, "responsetime") == 0 ? XB_VIEWER_T_RESPONSETIME
                  : strcasecmp(word, "duration") == 0   ? XB_VIEWER_T_DURATION
                                                        : XB_VIEWER_T_HTTP_STATUS;
        t->type = XB_VIEWER_V_NUMBER;
        rc = read_op(lx, &t->op, 0);
        return rc != XB_OK ? rc : read_number(lx, &t->num);
    }
    if (strcasecmp(word, "http.method") == 0 || strcasecmp(word, "http.url") == 0) {
        t->kind =
            strcasecmp(word, "http.method") == 0 ? XB_VIEWER_T_HTTP_METHOD : XB_VIEWER_T_HTTP_URL;
        t->type = XB_VIEWER_V_STRING;
        rc = read_op(lx, &t->op, 1);
        if (rc == XB_OK && t->op != XB_VIEWER_OP_EQ && t->op != XB_VIEWER_OP_NE &&
            t->op < XB_VIEWER_OP_CONTAINS)
            return fail(lx, "strings compare with = != CONTAINS BEGINSWITH ENDSWITH");
        return rc != XB_OK ? rc : read_string(lx, t->str);
    }
    if (strncasecmp(word, "annotation.", 11) == 0 && word[11] != '\0') {
        t->kind = XB_VIEWER_T_ANNOTATION;
        if (strlen(word + 11) >= sizeof(t->key))
            return fail(lx, "annotation key too long");
        memcpy(t->key, word + 11, strlen(word + 11) + 1);
        rc = read_op(lx, &t->op, 1);
        if (rc == XB_OK)
            rc = read_value(lx, t);
        if (rc != XB_OK)
            return rc;
        if (t->type != XB_VIEWER_V_STRING && t->op >= XB_VIEWER_OP_CONTAINS)
            return fail(lx, "CONTAINS, BEGINSWITH and ENDSWITH need a string");
        if (t->type == XB_VIEWER_V_BOOL && t->op != XB_VIEWER_OP_EQ && t->op != XB_VIEWER_OP_NE)
            return fail(lx, "true and false compare with = or !=");
        return XB_OK;
    }
    lx->pos -= n;
    return fail(lx, "unknown term");
}

int xb_viewer_filter_parse(const char *text, struct xb_viewer_filter *out, char *err,
                           size_t err_len)
{
    struct lex lx = {.s = text ? text : "", .err = err, .err_len = err_len};
    char w[8];
    int rc;

    memset(out, 0, sizeof(*out));
    if (err_len)
        err[0] = '\0';
    if (strlen(lx.s) > XB_VIEWER_FILTER_MAX_TEXT) {
        snprintf(err, err_len, "filter longer than %d bytes", XB_VIEWER_FILTER_MAX_TEXT);
        return XB_ERR_TOO_LARGE;
    }
    skip_ws(&lx);
    if (lx.s[lx.pos] == '\0')
        return XB_OK;
    for (;;) {
        if (out->n == XB_VIEWER_FILTER_MAX_TERMS) {
            snprintf(err, err_len, "more than %d terms", XB_VIEWER_FILTER_MAX_TERMS);
            return XB_ERR_TOO_LARGE;
        }
        rc = parse_term(&lx, &out->terms[out->n]);
        if (rc != XB_OK)
            return rc;
        out->n++;
        skip_ws(&lx);
        if (lx.s[lx.pos] == '\0')
            return XB_OK;
        if (accept(&lx, "&&"))
            continue;
        if (read_word(&lx, w, sizeof(w)) && strcasecmp(w, "and") == 0)
            continue;
        return fail(&lx, "expected AND or the end of the expression");
    }
}

static int cmp_num(double a, enum xb_viewer_op op, double b)
{
    switch (op) {
    case XB_VIEWER_OP_EQ:
        return a == b;
    case XB_VIEWER_OP_NE:
        return a != b;
    case XB_VIEWER_OP_LT:
        return a < b;
    case XB_VIEWER_OP_LE:
        return a <= b;
    case XB_VIEWER_OP_GT:
        return a > b;
    case XB_VIEWER_OP_GE:
        return a >= b;
    default:
        return 0;
    }
}

static int cmp_str(const char *a, enum xb_viewer_op op, const char *b)
{
    size_t al, bl;

    if (!a)
        return op == XB_VIEWER_OP_NE;
    al = strlen(a);
    bl = strlen(b);
    switch (op) {
    case XB_VIEWER_OP_EQ:
        return strcmp(a, b) == 0;
    case XB_VIEWER_OP_NE:
        return strcmp(a, b) != 0;
    case XB_VIEWER_OP_CONTAINS:
        return strstr(a, b) != NULL;
    case XB_VIEWER_OP_BEGINSWITH:
        return strncmp(a, b, bl) == 0;
    case XB_VIEWER_OP_ENDSWITH:
        return al >= bl && strcmp(a + al - bl, b) == 0;
    default: /* ordering of strings: lexical */
        return cmp_num((double)strcmp(a, b), op, 0.0);
    }
}

static int ann_matches(const struct xb_viewer_term *t, const struct xb_viewer_ann *a)
{
    if (strcmp(a->key, t->key) != 0 || a->type != t->type)
        return 0;
    switch (t->type) {
    case XB_VIEWER_V_STRING:
        return cmp_str(a->str, t->op, t->str);
    case XB_VIEWER_V_NUMBER:
        return cmp_num(a->num, t->op, t->num);
    default:
        return cmp_num(a->boolean != 0, t->op, t->boolean != 0);
    }
}

static int term_matches(const struct xb_viewer_term *t, const struct xb_viewer_facts *f)
{
    int flag;

    switch (t->kind) {
    case XB_VIEWER_T_SERVICE:
        for (size_t i = 0; i < f->n_services; i++)
            if (t->str[0] == '\0' || strcmp(f->services[i], t->str) == 0)
                return 1;
        return 0;
    case XB_VIEWER_T_FAULT:
    case XB_VIEWER_T_ERROR:
    case XB_VIEWER_T_THROTTLE:
    case XB_VIEWER_T_OK:
        flag = t->kind == XB_VIEWER_T_FAULT      ? f->fault
               : t->kind == XB_VIEWER_T_ERROR    ? f->error
               : t->kind == XB_VIEWER_T_THROTTLE ? f->throttle
                                                 : !(f->fault || f->error || f->throttle);
        return t->op == XB_VIEWER_OP_EQ ? (flag != 0) == (t->boolean != 0)
                                        : (flag != 0) != (t->boolean != 0);
    case XB_VIEWER_T_RESPONSETIME:
        return f->responsetime >= 0 && cmp_num(f->responsetime, t->op, t->num);
    case XB_VIEWER_T_DURATION:
        return f->duration >= 0 && cmp_num(f->duration, t->op, t->num);
    case XB_VIEWER_T_HTTP_STATUS:
        return f->http_status != 0 && cmp_num(f->http_status, t->op, t->num);
    case XB_VIEWER_T_HTTP_METHOD:
        return cmp_str(f->http_method, t->op, t->str);
    case XB_VIEWER_T_HTTP_URL:
        return cmp_str(f->http_url, t->op, t->str);
    case XB_VIEWER_T_ANNOTATION:
        for (size_t i = 0; i < f->n_ann; i++)
            if (ann_matches(t, &f->ann[i]))
                return 1;
        return 0;
    }
    return 0;
}

int xb_viewer_filter_match(const struct xb_viewer_filter *f, const struct xb_viewer_facts *facts)
{
    for (size_t i = 0; i < f->n; i++)
        if (!term_matches(&f->terms[i], facts))
            return 0;
    return 1;
}
