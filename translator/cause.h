/*
 * translator/cause.h - fault/error/throttle flags, the X-Ray "cause" block from span
 * status and exception events, and the stack-trace parsers (Java/PHP, Python,
 * JavaScript, .NET, Go) that turn `exception.stacktrace` text into stack frames and
 * chained exceptions, following awsxrayexporter (docs/translation.md, "cause").
 *
 * Exception ids are derived deterministically from trace id, span id and a counter
 * (the exporter uses random ids; see "Deliberate differences").
 */
#ifndef XB_TRANSLATOR_CAUSE_H
#define XB_TRANSLATOR_CAUSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "proto/otlp.h"
#include "translator/attrs.h"
#include "translator/doc.h"

/* Source of exception ids: (trace id, span id, running counter). */
struct xb_tr_idgen {
    const uint8_t *trace_id; /* 16 bytes, borrowed */
    const uint8_t *span_id;  /* 8 bytes, borrowed */
    uint64_t counter;
};

/*
 * Appends a new exception with a fresh id to |c| and returns its index, or -1 on
 * XB_ERR_NOMEM. type/message are copied as views; remote -1 means absent.
 */
int xb_tr_cause_add(struct xb_tr_xcause *c, struct xb_arena *arena, struct xb_tr_idgen *ids,
                    struct xb_str type, struct xb_str message, int remote);

/*
 * Parses |stack| (|n| bytes, borrowed: frames point into it) for resource language
 * |lang| ("java", "php", "python", "javascript" or "nodejs" or "webjs", "dotnet", "go";
 * anything else is a no-op) and fills exception |first| of |c| with frames, appending chained
 * exceptions. Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_tr_cause_parse_stack(struct xb_tr_xcause *c, size_t first, const char *lang,
                            const char *stack, size_t n, struct xb_arena *arena,
                            struct xb_tr_idgen *ids);

/*
 * Sets d->fault/error/throttle and d->cause for |span|. |orig| holds the span's
 * attributes (http.status_text is consumed in the status-only path); |res| the resource's.
 * Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_tr_cause_build(struct xb_tr_attrs *attrs, const xb_pb_span *span,
                      const struct xb_tr_attrs *res, struct xb_arena *arena,
                      struct xb_tr_idgen *ids, struct xb_tr_xdoc *d);

#endif
