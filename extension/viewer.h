/*
 * extension/viewer.h - the `viewer` extension: a local, read-only, X-Ray-style web view
 * of the documents the pipeline produced (trace list, trace timeline, service map), and
 * the JSON API behind it. docs/viewer.md describes the pages and the API.
 *
 * The store (extension/viewer_store.h) is fed by xb_viewer_tap(), which the ingest path
 * calls with every document it queued for the exporters. The HTTP server is evhttp on
 * the app's event loop, GET and HEAD only; every response carries a Content-Security-
 * Policy that allows only the viewer's own script and style, and pages build their DOM
 * from text (never HTML from data). Responses being sent are bounded in bytes.
 */
#ifndef XB_EXTENSION_VIEWER_H
#define XB_EXTENSION_VIEWER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct xb_viewer_opts {
    const char *endpoint; /* "host:port" (port 0 = any free port); borrowed for the call */
    size_t max_traces;    /* store cap, traces (>= 1) */
    size_t max_bytes;     /* store cap, bytes (>= 1); also caps the bytes of responses
                             being sent at once */
};

struct xb_viewer;

/*
 * Creates the store and starts serving on |base| (borrowed; must outlive the viewer);
 * logs "viewer listening on http://IP:PORT/". Returns XB_OK and sets |*out| (free with
 * xb_viewer_free()); XB_ERR_NOMEM; XB_ERR_INVALID for a zero cap; or XB_ERR_IO when the
 * endpoint cannot be bound, with a reason in |err| (|err_len| bytes).
 */
int xb_viewer_start(struct event_base *base, const struct xb_viewer_opts *opts,
                    struct xb_viewer **out, char *err, size_t err_len);

/* "http://ip:port/" the viewer serves (owned by |v|). */
const char *xb_viewer_url(const struct xb_viewer *v);

/*
 * Keeps a copy of one queued document: |ud| is the struct xb_viewer *; |json| (|len|
 * bytes), |trace_id| and |id| are borrowed for the call. Documents the store refuses
 * (no trace id, larger than max_bytes) are counted, never fatal.
 */
void xb_viewer_tap(void *ud, const char *json, size_t len, const char *trace_id, const char *id);

/*
 * The most memory a viewer with these caps holds, bytes: the store (max_bytes and its
 * hash table), responses being sent (max_bytes, buffer growth included) and the scratch
 * used to read one document. app/budget.c counts it.
 */
uint64_t xb_viewer_budget_bytes(size_t max_traces, size_t max_bytes);

/* Stops serving, closes connections and frees the store. NULL is a no-op. */
void xb_viewer_free(struct xb_viewer *v);

#endif
