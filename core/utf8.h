/*
 * core/utf8.h - UTF-8 checks (RFC 3629): the length of one well-formed character, and
 * cutting a string without splitting a character. Used by the JSON writer and the
 * translator's string handling.
 */
#ifndef XB_CORE_UTF8_H
#define XB_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length in bytes of the well-formed UTF-8 character at |s| (|n| bytes available), or
 * 0 if the bytes there are not a valid sequence (overlong, surrogate, > U+10FFFF,
 * truncated). Stores the code point in |*cp| when non-NULL and valid.
 */
size_t xb_utf8_char(const char *s, size_t n, uint32_t *cp);

/* Largest prefix length <= |max| of |s| (|n| bytes) that does not split a character. */
size_t xb_utf8_cut(const char *s, size_t n, size_t max);

#endif
