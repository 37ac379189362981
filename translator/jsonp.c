/* translator/jsonp.c - see jsonp.h. */
#include "translator/jsonp.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hex.h"
#include "translator/attrs.h"

struct parser {
    const char *s;
    size_t n, i;
    struct xb_arena *arena;
    int err;
};

static void ws(struct parser *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

/* The four hex digits at |s| into |out| (xb_hex4()): 0, or -1 when malformed. */
static int hex4(const char *s, unsigned *out)
{
    long v = xb_hex4((const unsigned char *)s);

    if (v < 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the string starting at the opening quote. Escapes only shrink the text, except
 * \uXXXX of a lone surrogate (6 bytes -> 3), so |len| bytes of output always suffice. */
static int parse_string(struct parser *p, struct xb_str *out)
{
    size_t start = ++p->i, o = 0;
    char *buf;

    while (p->i < p->n && p->s[p->i] != '"') {
        if (p->s[p->i] == '\\')
            p->i++;
        else if ((unsigned char)p->s[p->i] < 0x20)
            return XB_ERR_INVALID;
        p->i++;
    }
    if (p->i >= p->n)
        return XB_ERR_INVALID;
    buf = xb_arena_alloc(p->arena, p->i - start + 1);
    if (!buf)
        return XB_ERR_NOMEM;
    for (size_t k = start; k < p->i; k++) {
        char c = p->s[k];
        unsigned cp, lo;
        if (c != '\\') {
            buf[o++] = c;
            continue;
        }
        c = p->s[++k];
        switch (c) {
        case '"':
            buf[o++] = '"';
            break;
        case '\\':
            buf[o++] = '\\';
            break;
        case '/':
            buf[o++] = '/';
            break;
        case 'b':
            buf[o++] = '\b';
            break;
        case 'f':
            buf[o++] = '\f';
            break;
        case 'n':
            buf[o++] = '\n';
            break;
        case 'r':
            buf[o++] = '\r';
            break;
        case 't':
            buf[o++] = '\t';
            break;
        case 'u':
            if (k + 4 >= p->i || hex4(p->s + k + 1, &cp))
                return XB_ERR_INVALID;
            k += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && k + 6 < p->i && p->s[k + 1] == '\\' &&
                p->s[k + 2] == 'u' && hex4(p->s + k + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                k += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD; /* lone surrogate, as Go decodes it */
            }
            o += put_utf8(buf + o, cp);
            break;
        default:
            return XB_ERR_INVALID;
        }
    }
    p->i++;
    out->p = buf;
    out->n = o;
    return XB_OK;
}

static int parse_number(struct parser *p, double *out)
{
    size_t start = p->i;
    char tmp[64], *heap = NULL, *num;
    size_t len;

    if (p->i < p->n && p->s[p->i] == '-')
        p->i++;
    if (p->i >= p->n)
        return XB_ERR_INVALID;
    if (p->s[p->i] == '0') {
        p->i++;
    } else if (p->s[p->i] >= '1' && p->s[p->i] <= '9') {
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
    } else {
        return XB_ERR_INVALID;
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
            return XB_ERR_INVALID;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
            return XB_ERR_INVALID;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
    }
    len = p->i - start;
    if (len < sizeof(tmp)) {
        num = tmp;
    } else {
        heap = xb_arena_alloc(p->arena, len + 1);
        if (!heap)
            return XB_ERR_NOMEM;
        num = heap;
    }
    memcpy(num, p->s + start, len);
    num[len] = '\0';
    *out = strtod(num, NULL);
    return XB_OK;
}

static int member_cmp(const void *pa, const void *pb)
{
    const struct xb_tr_jnode *a = pa, *b = pb;
    size_t n = a->key.n < b->key.n ? a->key.n : b->key.n;
    int c = memcmp(a->key.p, b->key.p, n);

    if (c)
        return c;
    if (a->key.n != b->key.n)
        return a->key.n < b->key.n ? -1 : 1;
    /* equal keys: input order (cap_kids is reused as the input position) */
    return a->cap_kids < b->cap_kids ? -1 : a->cap_kids > b->cap_kids;
}

static int parse_value(struct parser *p, struct xb_tr_jnode *j, unsigned depth)
{
    int rc;

    ws(p);
    if (p->i >= p->n || depth > XB_TR_JSONP_MAX_DEPTH)
        return XB_ERR_INVALID;
    switch (p->s[p->i]) {
    case '{':
    case '[': {
        int obj = p->s[p->i] == '{';
        char close = obj ? '}' : ']';
        void *vec = NULL;
        j->t = obj ? XB_TR_J_OBJ : XB_TR_J_ARR;
        p->i++;
        ws(p);
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return XB_OK;
        }
        for (;;) {
            struct xb_tr_jnode *kid;
            struct xb_str key = {0};
            ws(p);
            if (obj) {
                if (p->i >= p->n || p->s[p->i] != '"')
                    return XB_ERR_INVALID;
                rc = parse_string(p, &key);
                if (rc)
                    return rc;
                ws(p);
                if (p->i >= p->n || p->s[p->i] != ':')
                    return XB_ERR_INVALID;
                p->i++;
            }
            vec = j->kids;
            kid = xb_tr_vec_push(p->arena, &vec, &j->n_kids, &j->cap_kids, sizeof(*kid));
            j->kids = vec;
            if (!kid)
                return XB_ERR_NOMEM;
            rc = parse_value(p, kid, depth + 1);
            if (rc)
                return rc;
            j->kids[j->n_kids - 1].key = key;
            ws(p);
            if (p->i < p->n && p->s[p->i] == ',') {
                p->i++;
                continue;
            }
            if (p->i < p->n && p->s[p->i] == close) {
                p->i++;
                break;
            }
            return XB_ERR_INVALID;
        }
        if (obj && j->n_kids > 1) {
            size_t k, m = 0;
            /* Sort members; children's own cap_kids are saved and restored around the
             * sort because the comparison uses a temporary position slot. */
            size_t *caps = xb_arena_alloc(p->arena, j->n_kids * sizeof(size_t));
            if (!caps)
                return XB_ERR_NOMEM;
            for (k = 0; k < j->n_kids; k++) {
                caps[k] = j->kids[k].cap_kids;
                j->kids[k].cap_kids = k;
            }
            qsort(j->kids, j->n_kids, sizeof(*j->kids), member_cmp);
            for (k = 0; k < j->n_kids; k++)
                j->kids[k].cap_kids = caps[j->kids[k].cap_kids];
            for (k = 0; k < j->n_kids; k++) {
                if (k + 1 < j->n_kids && j->kids[k].key.n == j->kids[k + 1].key.n &&
                    memcmp(j->kids[k].key.p, j->kids[k + 1].key.p, j->kids[k].key.n) == 0)
                    continue; /* keep the last duplicate */
                j->kids[m++] = j->kids[k];
            }
            j->n_kids = m;
        }
        return XB_OK;
    }
    case '"':
        j->t = XB_TR_J_STR;
        return parse_string(p, &j->s);
    case 't':
        if (p->n - p->i >= 4 && memcmp(p->s + p->i, "true", 4) == 0) {
            j->t = XB_TR_J_TRUE;
            p->i += 4;
            return XB_OK;
        }
        return XB_ERR_INVALID;
    case 'f':
        if (p->n - p->i >= 5 && memcmp(p->s + p->i, "false", 5) == 0) {
            j->t = XB_TR_J_FALSE;
            p->i += 5;
            return XB_OK;
        }
        return XB_ERR_INVALID;
    case 'n':
        if (p->n - p->i >= 4 && memcmp(p->s + p->i, "null", 4) == 0) {
            j->t = XB_TR_J_NULL;
            p->i += 4;
            return XB_OK;
        }
        return XB_ERR_INVALID;
    default:
        j->t = XB_TR_J_NUM;
        return parse_number(p, &j->num);
    }
}

int xb_tr_jsonp_parse(const char *s, size_t n, struct xb_arena *arena, struct xb_tr_jnode **out)
{
    struct parser p = {.s = s, .n = n, .arena = arena};
    struct xb_tr_jnode *j = xb_arena_calloc(arena, sizeof(*j));
    int rc;

    *out = NULL;
    if (!j)
        return XB_ERR_NOMEM;
    rc = parse_value(&p, j, 0);
    if (rc)
        goto out;
    ws(&p);
    if (p.i != p.n) {
        rc = XB_ERR_INVALID;
        goto out;
    }
    *out = j;
out:
    return rc;
}

static void write_node(struct xb_jsonw *w, const struct xb_tr_jnode *j, size_t max_items)
{
    size_t k, n;

    switch (j->t) {
    case XB_TR_J_NULL:
        xb_jsonw_null(w);
        break;
    case XB_TR_J_TRUE:
        xb_jsonw_bool(w, 1);
        break;
    case XB_TR_J_FALSE:
        xb_jsonw_bool(w, 0);
        break;
    case XB_TR_J_NUM:
        xb_jsonw_double(w, j->num);
        break;
    case XB_TR_J_STR:
        xb_jsonw_str(w, j->s.p, j->s.n);
        break;
    case XB_TR_J_ARR:
    case XB_TR_J_OBJ:
        n = j->n_kids;
        if (max_items && n > max_items)
            n = max_items;
        if (j->t == XB_TR_J_ARR)
            xb_jsonw_arr_begin(w);
        else
            xb_jsonw_obj_begin(w);
        for (k = 0; k < n; k++) {
            if (j->t == XB_TR_J_OBJ)
                xb_jsonw_key(w, j->kids[k].key.p, j->kids[k].key.n);
            write_node(w, &j->kids[k], max_items);
        }
        if (j->t == XB_TR_J_ARR)
            xb_jsonw_arr_end(w);
        else
            xb_jsonw_obj_end(w);
        break;
    }
}

void xb_tr_jsonp_write(struct xb_jsonw *w, const struct xb_tr_jnode *j, size_t max_items)
{
    if (!j)
        xb_jsonw_null(w);
    else
        write_node(w, j, max_items);
}
