/*
 * exporter/xray_body.h - a PutTraceSegments request body described as pieces
 * (aws/pieces.h) that point into the queued documents, so that the body is hashed and
 * sent without being copied into one buffer first. Pure.
 *
 * The body is {"TraceSegmentDocuments":["doc0","doc1",...]} (AWS X-Ray API reference,
 * PutTraceSegments), byte for byte what exporter/xray_exporter.c's build_body() writes
 * for the same documents.
 */
#ifndef XB_EXPORTER_XRAY_BODY_H
#define XB_EXPORTER_XRAY_BODY_H

#include <stddef.h>

#include "aws/pieces.h"
#include "core/queue.h"

/* Pieces a body of |n| documents takes: the documents and the framing around them. */
#define XB_XRAY_BODY_PIECES(n) (2 * (size_t)(n) + 1)

/*
 * Writes the pieces of the body of |docs[0..n)| into |out| (room for
 * XB_XRAY_BODY_PIECES(n)) and returns how many: the framing strings are static, the
 * documents' pieces point to their |json| (so |docs| must outlive the pieces). Returns
 * 0 (nothing usable in |out|) when |n| is 0 or a document is not in embedded form
 * (core/queue.h): such a body is built with escaping instead.
 */
size_t xb_xray_body_pieces(struct xb_qdoc *const *docs, size_t n, struct xb_piece *out);

/* libcurl 7.88 sends a CURLOPT_POSTFIELDS body shorter than this (its
 * MAX_INITIAL_POST_SIZE, lib/http.c) in the same send as the request headers; a body
 * read through a callback always takes sends of its own. */
#define XB_XRAY_PIECES_MIN_BYTES (64u * 1024)

/* Whether a body of |n_pieces| pieces (0: it cannot be pieces, see
 * xb_xray_body_pieces) and |body_len| bytes is sent as pieces: only when it is at least
 * XB_XRAY_PIECES_MIN_BYTES long. A shorter one is copied into one buffer, which costs
 * less than the extra system call (docs/performance.md, "Body sent from the documents
 * (eighth round)"). Pure. */
int xb_xray_body_as_pieces(size_t n_pieces, size_t body_len);

/* Whether the 200 answer |p| (|n| bytes, need not be NUL-terminated) certainly reports
 * no UnprocessedTraceSegments, decided without a JSON parser: an empty body, {} or
 * {"UnprocessedTraceSegments":[]}, with JSON whitespace (RFC 8259 section 2) anywhere
 * between tokens. Returns 1 for those; 0 for anything else, which the caller parses as
 * before (exporter/xray_exporter.c, parse_unprocessed). Each answer it accepts gives no
 * entries when parsed with cJSON too. Pure. */
int xb_xray_answer_all_accepted(const char *p, size_t n);

#endif
