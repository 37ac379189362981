/*
 * core/hex.h - hexadecimal digits' values.
 */
#ifndef XB_CORE_HEX_H
#define XB_CORE_HEX_H

/* The value (0-15) of the hexadecimal digit |c| ('0'-'9', 'a'-'f', 'A'-'F'), or -1 when
 * |c| is not one. */
static inline int xb_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* 'A'-'F' -> 'a'-'f'; no other byte becomes a letter digit */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The value (0-0xffff) of the four hexadecimal digits at |p| (the XXXX of a JSON \uXXXX
 * escape, RFC 8259 section 7), or -1 when one is not a digit. Reads exactly 4 bytes. */
static inline long xb_hex4(const unsigned char *p)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        int h = xb_hex_value(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

#endif
