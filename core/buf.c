#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void xb_buf_init(struct xb_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void xb_buf_cleanup(struct xb_buf *b)
{
    free(b->data);
    xb_buf_init(b, b->max);
}

void xb_buf_clear(struct xb_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int xb_buf_reserve(struct xb_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - b->len - 1)
        return XB_ERR_TOO_LARGE;
    if (b->max && b->len + extra > b->max)
        return XB_ERR_TOO_LARGE;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return XB_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->max && cap > b->max + 1)
        cap = b->max + 1; /* a capped buffer never holds more than its cap (+ NUL) */
    p = realloc(b->data, cap);
    if (!p)
        return XB_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return XB_OK;
}

int xb_buf_append(struct xb_buf *b, const void *p, size_t n)
{
    int rc = xb_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return XB_OK;
}

int xb_buf_puts(struct xb_buf *b, const char *s)
{
    return xb_buf_append(b, s, strlen(s));
}

int xb_buf_putc(struct xb_buf *b, char c)
{
    if (b->len + 1 < b->cap && (!b->max || b->len + 1 <= b->max)) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return XB_OK;
    }
    return xb_buf_append(b, &c, 1);
}

int xb_buf_printf(struct xb_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return XB_ERR_INVALID;
    rc = xb_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return XB_OK;
}

char *xb_buf_steal(struct xb_buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = b->len;
    xb_buf_init(b, b->max);
    return p;
}
