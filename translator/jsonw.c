/* translator/jsonw.c - see jsonw.h. */
#include "translator/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void xb_jsonw_init(struct xb_jsonw *w, struct xb_buf *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
}

static void emit(struct xb_jsonw *w, const char *p, size_t n)
{
    int rc;

    w->written += n;
    if (w->err)
        return;
    if (w->limit && w->written > w->limit) {
        w->err = XB_ERR_TOO_LARGE;
        return;
    }
    rc = xb_buf_append(w->b, p, n);
    if (rc)
        w->err = rc;
}

/* Comma before every member/element except the first; none right after a key. */
static void pre_value(struct xb_jsonw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->need_comma[w->depth])
        emit(w, ",", 1);
    w->need_comma[w->depth] = 1;
}

static void open_c(struct xb_jsonw *w, char c)
{
    pre_value(w);
    if (w->depth >= XB_JSONW_MAX_DEPTH) {
        if (!w->err)
            w->err = XB_ERR_INVALID;
        return;
    }
    emit(w, &c, 1);
    w->depth++;
    w->need_comma[w->depth] = 0;
}

static void close_c(struct xb_jsonw *w, char c)
{
    if (w->depth == 0) {
        if (!w->err)
            w->err = XB_ERR_INVALID;
        return;
    }
    emit(w, &c, 1);
    w->depth--;
}

void xb_jsonw_obj_begin(struct xb_jsonw *w)
{
    open_c(w, '{');
}

void xb_jsonw_obj_end(struct xb_jsonw *w)
{
    close_c(w, '}');
}

void xb_jsonw_arr_begin(struct xb_jsonw *w)
{
    open_c(w, '[');
}

void xb_jsonw_arr_end(struct xb_jsonw *w)
{
    close_c(w, ']');
}

size_t xb_utf8_char(const char *str, size_t n, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c;
    uint32_t v;
    size_t len, i;
    unsigned char lo = 0x80, hi = 0xBF;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80) {
        if (cp)
            *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    v = (v << 6) | (s[1] & 0x3F);
    for (i = 2; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (cp)
        *cp = v;
    return len;
}

size_t xb_utf8_cut(const char *s, size_t n, size_t max)
{
    size_t cut;

    if (n <= max)
        return n;
    cut = max;
    /* Back up over continuation bytes so the cut lands on a lead byte. */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80 && max - cut < 3)
        cut--;
    return cut;
}

static void put_escaped(struct xb_jsonw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, start = 0;

    emit(w, "\"", 1);
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        size_t elen = 0, adv = 1;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = xb_utf8_char(s + i, n - i, NULL);
            if (l == 3 && c == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
                ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
                /* U+2028/U+2029 are valid JSON but break JavaScript parsers. */
                memcpy(esc, (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                elen = 6;
                adv = 3;
            } else if (l) {
                i += l;
                continue;
            } else {
                memcpy(esc, "\xEF\xBF\xBD", 3); /* U+FFFD for each invalid byte */
                elen = 3;
            }
        } else {
            esc[0] = '\\';
            elen = 2;
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                elen = 6;
            }
        }
        if (i > start)
            emit(w, s + start, i - start);
        emit(w, esc, elen);
        i += adv;
        start = i;
    }
    if (i > start)
        emit(w, s + start, i - start);
    emit(w, "\"", 1);
}

void xb_jsonw_key(struct xb_jsonw *w, const char *k, size_t n)
{
    pre_value(w);
    if (!k)
        k = "", n = 0;
    if (w->max_str)
        n = xb_utf8_cut(k, n, w->max_str);
    put_escaped(w, k, n);
    emit(w, ":", 1);
    w->after_key = 1;
}

int xb_jsonw_keys_collide(const struct xb_jsonw *w, const char *a, size_t an, const char *b,
                          size_t bn)
{
    if (w->max_str) {
        an = xb_utf8_cut(a, an, w->max_str);
        bn = xb_utf8_cut(b, bn, w->max_str);
    }
    return an == bn && memcmp(a, b, an) == 0;
}

void xb_jsonw_ckey(struct xb_jsonw *w, const char *k)
{
    pre_value(w);
    put_escaped(w, k, strlen(k));
    emit(w, ":", 1);
    w->after_key = 1;
}

void xb_jsonw_str(struct xb_jsonw *w, const char *s, size_t n)
{
    pre_value(w);
    if (!s)
        s = "", n = 0;
    if (w->max_str)
        n = xb_utf8_cut(s, n, w->max_str);
    put_escaped(w, s, n);
}

void xb_jsonw_str_full(struct xb_jsonw *w, const char *s, size_t n)
{
    pre_value(w);
    if (!s)
        s = "", n = 0;
    put_escaped(w, s, n);
}

void xb_jsonw_cstr(struct xb_jsonw *w, const char *s)
{
    xb_jsonw_str_full(w, s, s ? strlen(s) : 0);
}

void xb_jsonw_int(struct xb_jsonw *w, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

    pre_value(w);
    emit(w, tmp, (size_t)n);
}

void xb_jsonw_uint(struct xb_jsonw *w, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

    pre_value(w);
    emit(w, tmp, (size_t)n);
}

size_t xb_fmt_double(char *out, double v, int go_json)
{
    char tmp[40], digits[24];
    int prec, exp10, nd = 0, neg, k;
    char *e, *p;
    size_t o = 0;
    double av;

    out[0] = '\0';
    if (!isfinite(v))
        return 0;
    if (v == 0) {
        if (signbit(v))
            out[o++] = '-';
        out[o++] = '0';
        out[o] = '\0';
        return o;
    }
    /* Fewest significant digits that read back as the same double. */
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    neg = tmp[0] == '-';
    e = strchr(tmp, 'e');
    if (!e)
        return 0;
    exp10 = atoi(e + 1);
    for (p = tmp + neg; p < e; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (neg)
        out[o++] = '-';
    av = fabs(v);
    if (go_json && (av < 1e-6 || av >= 1e21)) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (k = 1; k < nd; k++)
                out[o++] = digits[k];
        }
        /* strconv writes at least two exponent digits; encoding/json drops the 0 in e-0N */
        o += (size_t)snprintf(out + o, 16, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        if (exp10 < 0 && exp10 > -10)
            snprintf(out + o - 2, 16, "%d", -exp10), o--;
        return o;
    }
    if (exp10 >= 0) {
        for (k = 0; k <= exp10; k++)
            out[o++] = k < nd ? digits[k] : '0';
        if (nd > exp10 + 1) {
            out[o++] = '.';
            for (k = exp10 + 1; k < nd; k++)
                out[o++] = digits[k];
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (k = 0; k < -exp10 - 1; k++)
            out[o++] = '0';
        for (k = 0; k < nd; k++)
            out[o++] = digits[k];
    }
    out[o] = '\0';
    return o;
}

void xb_jsonw_double(struct xb_jsonw *w, double v)
{
    char tmp[400];
    size_t n = xb_fmt_double(tmp, v, 1);

    pre_value(w);
    if (n == 0)
        emit(w, "null", 4);
    else
        emit(w, tmp, n);
}

void xb_jsonw_bool(struct xb_jsonw *w, int v)
{
    pre_value(w);
    if (v)
        emit(w, "true", 4);
    else
        emit(w, "false", 5);
}

void xb_jsonw_null(struct xb_jsonw *w)
{
    pre_value(w);
    emit(w, "null", 4);
}
