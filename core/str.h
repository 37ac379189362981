/*
 * core/str.h - a borrowed byte-string view, used wherever text is passed without being
 * copied (attribute values, document fields, JSON keys).
 */
#ifndef XB_CORE_STR_H
#define XB_CORE_STR_H

#include <stddef.h>

/* A borrowed byte string view. p == NULL means "absent"; p != NULL with n == 0 is "". */
struct xb_str {
    const char *p;
    size_t n;
};

#endif
