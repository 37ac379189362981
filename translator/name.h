/*
 * translator/name.h - X-Ray segment name sanitising: the last step of the name order in
 * docs/translation.md ("Fields", name), where the span name itself becomes the segment name.
 */
#ifndef XB_TRANSLATOR_NAME_H
#define XB_TRANSLATOR_NAME_H

#include <stddef.h>
#include <stdint.h>

/* Longest segment name, in bytes, that the sanitiser produces. */
#define XB_XRAY_MAX_NAME_BYTES 200

/* 1 when code point |cp| is a Unicode letter (general category L*, Unicode 14). */
int xb_tr_name_is_letter(uint32_t cp);

/*
 * Sanitises |n| bytes of |in| into |out| (at least |n| + 5 bytes): keeps ASCII space,
 * digits, Unicode letters and the characters _ . : / % & # = + - @ N, drops everything
 * else (including invalid UTF-8), cuts the result to 200 bytes without splitting a
 * character (xraybridge deviation: the exporter may split one), and returns "span" when
 * nothing is left. Returns the output length; |out| is NUL-terminated.
 */
size_t xb_tr_name_sanitize(const char *in, size_t n, char *out);

#endif
