/*
 * core/hex.h - one hexadecimal digit's value.
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

#endif
