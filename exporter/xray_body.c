#include "exporter/xray_body.h"

static const char head[] = "{\"TraceSegmentDocuments\":[\"";
static const char between[] = "\",\"";
static const char tail[] = "\"]}";

size_t xb_xray_body_pieces(struct xb_qdoc *const *docs, size_t n, struct xb_piece *out)
{
    size_t k = 0;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!docs[i]->embedded)
            return 0;
    out[k++] = (struct xb_piece){head, sizeof(head) - 1};
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[k++] = (struct xb_piece){between, sizeof(between) - 1};
        out[k++] = (struct xb_piece){docs[i]->json, docs[i]->len};
    }
    out[k++] = (struct xb_piece){tail, sizeof(tail) - 1};
    return k;
}

int xb_xray_body_as_pieces(size_t n_pieces, size_t body_len)
{
    return n_pieces > 0 && body_len >= XB_XRAY_PIECES_MIN_BYTES;
}
