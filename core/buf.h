/*
 * core/buf.h - growable heap byte buffer {data, len, cap} with an optional hard cap.
 *
 * The struct is passed by pointer, so a reallocation never leaves the caller with a
 * stale pointer: always re-read b->data after an append. data is always
 * NUL-terminated when non-NULL (the terminator is not counted in len).
 */
#ifndef XB_CORE_BUF_H
#define XB_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct xb_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = unbounded; otherwise appends that would exceed it fail */
};

/* Initialises an empty buffer capped at |max| bytes (0 = no cap). Allocates nothing. */
void xb_buf_init(struct xb_buf *b, size_t max);

/* Frees the storage and re-initialises to empty (keeps max). */
void xb_buf_cleanup(struct xb_buf *b);

/* Sets len to 0, keeping the storage. */
void xb_buf_clear(struct xb_buf *b);

/* Ensures room for |extra| more bytes (+ NUL); storage grows by doubling, but never past
 * max + 1 bytes when the buffer has a max. Returns 0, XB_ERR_NOMEM or XB_ERR_TOO_LARGE. */
int xb_buf_reserve(struct xb_buf *b, size_t extra);

/* Appends |n| bytes. Returns 0, XB_ERR_NOMEM or XB_ERR_TOO_LARGE. */
int xb_buf_append(struct xb_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. */
int xb_buf_puts(struct xb_buf *b, const char *s);

/* Appends one byte. */
int xb_buf_putc(struct xb_buf *b, char c);

/* Appends printf-formatted text. */
int xb_buf_printf(struct xb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Hands the storage to the caller (free() it) and leaves |b| empty. Returns NULL for
 * an empty buffer that never allocated. |len| (optional) receives the length.
 */
char *xb_buf_steal(struct xb_buf *b, size_t *len);

#endif
