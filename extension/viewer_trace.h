/*
 * extension/viewer_trace.h - reading the documents of one stored trace (jansson, parsed
 * on demand when a page asks; the hot path never parses): the summary a trace list row
 * shows, the facts the filter evaluates (extension/viewer_filter.h), and the calls the
 * service map aggregates (extension/viewer_map.h).
 *
 * Documents are X-Ray segment documents (AWS X-Ray Developer Guide, "Segment documents"):
 * a segment, or a subsegment sent on its own ("type": "subsegment" with "parent_id"),
 * each possibly holding nested "subsegments". When several documents of a trace carry the
 * same "id" (an in-progress segment sent again when complete), the last one counts.
 * Documents that are not JSON objects are skipped and counted in |unparsed|.
 */
#ifndef XB_EXTENSION_VIEWER_TRACE_H
#define XB_EXTENSION_VIEWER_TRACE_H

#include <stddef.h>

#include "core/arena.h"
#include "core/jsonw.h"
#include "extension/viewer_filter.h"
#include "extension/viewer_map.h"
#include "extension/viewer_store.h"

/* One trace as the list shows it. Strings live in the arena given to summarize. */
struct xb_viewer_summary {
    struct xb_viewer_facts facts;
    const char *trace_id;
    const char *root_name;   /* root segment's name (the service); "" when unknown */
    const char *root_origin; /* NULL when none */
    double start, end;       /* epoch seconds; end < 0 when no document has one */
    int in_progress;         /* some segment is still in progress */
    size_t segments;         /* distinct segment and subsegment documents */
    size_t documents;        /* documents stored (resends included) */
    size_t unparsed;         /* documents that are not JSON objects */
    int truncated;           /* too large to read whole (65536 segments and subsegments,
                                or the scratch arena's cap): figures are partial */
};

/*
 * Summarises |t| into |out|, allocating strings and arrays from |a| (borrowed; reset by
 * the caller between traces). Returns XB_OK or XB_ERR_NOMEM (arena cap reached).
 */
int xb_viewer_summarize(const struct xb_viewer_trace *t, struct xb_arena *a,
                        struct xb_viewer_summary *out);

/* Writes |s| as one JSON object (the rows of GET /api/traces, docs/viewer.md). */
void xb_viewer_summary_json(const struct xb_viewer_summary *s, struct xb_jsonw *w);

/*
 * Adds the calls of |t| to |m|: a root segment is called by the "client" node; a segment
 * whose parent is a subsegment of another segment is called by that segment's service; a
 * subsegment with namespace "remote" or "aws" (or an "sql" block) that no segment answers
 * calls a remote node named after it. Uses |a| for scratch. XB_OK or XB_ERR_NOMEM.
 */
int xb_viewer_trace_calls(const struct xb_viewer_trace *t, struct xb_arena *a,
                          struct xb_viewer_map *m);

/*
 * Appends {"trace_id":...,"documents":[...],"unparsed":[...]} to |out|: every stored
 * document (resends included, arrival order) byte for byte as it was sent when it is
 * valid JSON, otherwise as a JSON string in "unparsed". XB_OK or XB_ERR_NOMEM.
 */
int xb_viewer_trace_json(const struct xb_viewer_trace *t, struct xb_buf *out);

#endif
