#include "exporter/xray_body.h"

#include <string.h>

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

/* Moves |i| past JSON whitespace (RFC 8259 section 2: space, tab, LF, CR). */
static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* Whether |p| at |*i| holds the token |tok| after optional whitespace; moves past it. */
static int expect(const char *p, size_t n, size_t *i, const char *tok)
{
    size_t len = strlen(tok);
    size_t at = skip_ws(p, n, *i);

    if (n - at < len || memcmp(p + at, tok, len) != 0)
        return 0;
    *i = at + len;
    return 1;
}

int xb_xray_answer_all_accepted(const char *p, size_t n)
{
    size_t i = 0;

    if (!p || skip_ws(p, n, 0) == n)
        return 1; /* empty: cJSON fails to parse it, which counts as all accepted */
    if (!expect(p, n, &i, "{"))
        return 0;
    if (!expect(p, n, &i, "}")) {
        if (!expect(p, n, &i, "\"UnprocessedTraceSegments\"") || !expect(p, n, &i, ":") ||
            !expect(p, n, &i, "[") || !expect(p, n, &i, "]") || !expect(p, n, &i, "}"))
            return 0;
    }
    return skip_ws(p, n, i) == n;
}
