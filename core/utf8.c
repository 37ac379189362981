/* core/utf8.c - see utf8.h. */
#include "core/utf8.h"

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
