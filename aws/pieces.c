#include "aws/pieces.h"

#include <string.h>

#include "core/err.h"

size_t xb_pieces_total(const struct xb_piece *v, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += v[i].len;
    return total;
}

void xb_pieces_reader_init(struct xb_pieces_reader *r, const struct xb_piece *v, size_t n)
{
    r->v = v;
    r->n = n;
    r->idx = 0;
    r->off = 0;
    r->pos = 0;
    r->total = xb_pieces_total(v, n);
}

size_t xb_pieces_read(struct xb_pieces_reader *r, void *dst, size_t max)
{
    unsigned char *out = dst;
    size_t done = 0;

    while (done < max && r->idx < r->n) {
        const struct xb_piece *pc = &r->v[r->idx];
        size_t k = pc->len - r->off;
        if (k > max - done)
            k = max - done;
        if (k) {
            memcpy(out + done, (const unsigned char *)pc->p + r->off, k);
            done += k;
            r->off += k;
        }
        if (r->off == pc->len) { /* also steps over empty pieces */
            r->idx++;
            r->off = 0;
        }
    }
    r->pos += done;
    return done;
}

int xb_pieces_seek(struct xb_pieces_reader *r, size_t offset)
{
    size_t i = 0, at = 0;

    if (offset > r->total)
        return XB_ERR_INVALID;
    /* From the start: a body has a hundred pieces or so, and libcurl seeks only to
     * rewind a whole request. */
    while (i < r->n && at + r->v[i].len <= offset) {
        at += r->v[i].len;
        i++;
    }
    r->idx = i;
    r->off = offset - at;
    r->pos = offset;
    return XB_OK;
}
