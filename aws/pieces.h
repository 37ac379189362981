/*
 * aws/pieces.h - a request body described as a list of byte ranges (pieces) sent one
 * after the other, instead of one buffer: PutTraceSegments bodies are the queued
 * documents between fixed framing strings, sent without being copied together first
 * (docs/performance.md, "Body sent from the documents"). Pure: no I/O, no allocation.
 */
#ifndef XB_AWS_PIECES_H
#define XB_AWS_PIECES_H

#include <stddef.h>

/* |len| bytes at |p| (borrowed; may be NULL when |len| is 0). */
struct xb_piece {
    const void *p;
    size_t len;
};

/* A read position in a piece list: the body is the concatenation of v[0..n). */
struct xb_pieces_reader {
    const struct xb_piece *v; /* borrowed, must outlive the reader */
    size_t n;
    size_t idx;   /* piece the next byte comes from (n = at the end) */
    size_t off;   /* offset of the next byte inside v[idx] */
    size_t pos;   /* offset of the next byte in the body */
    size_t total; /* bytes in the body */
};

/* Sum of the lengths of |v[0..n)|. */
size_t xb_pieces_total(const struct xb_piece *v, size_t n);

/* Sets |r| at offset 0 of the body made of |v[0..n)| (|v| borrowed). */
void xb_pieces_reader_init(struct xb_pieces_reader *r, const struct xb_piece *v, size_t n);

/* Copies up to |max| bytes of the body from |r|'s position into |dst| and advances past
 * them. Returns how many were copied: less than |max| only at the end of the body, 0
 * there (or when |max| is 0). */
size_t xb_pieces_read(struct xb_pieces_reader *r, void *dst, size_t max);

/* Moves |r| to byte |offset| of the body (backwards or forwards; |offset| equal to the
 * length is the end). Returns 0, or XB_ERR_INVALID when |offset| is past the end (|r|
 * is then unchanged). */
int xb_pieces_seek(struct xb_pieces_reader *r, size_t offset);

#endif
