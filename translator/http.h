/*
 * translator/http.h - the X-Ray "http" block from span attributes (old and new HTTP
 * semantic conventions), as awsxrayexporter builds it (docs/translation.md, "http").
 */
#ifndef XB_TRANSLATOR_HTTP_H
#define XB_TRANSLATOR_HTTP_H

#include "core/arena.h"
#include "proto/otlp.h"
#include "translator/attrs.h"
#include "translator/doc.h"

/*
 * Reads the HTTP attributes of |span| from |attrs| (consuming every HTTP/URL key it
 * knows, whether used or not) and sets *|out| to an arena block, or NULL when the span
 * has no attribute that creates one. |new_semconv| (read_new_semantic_conventions) also
 * reads network.peer.port after net.peer.port and messaging.message.body.size after
 * messaging.message_payload_size_bytes. A non-SERVER URL without an older host key takes
 * its host from server.address (and port from server.port), unlike upstream.
 * Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_tr_http_build(struct xb_tr_attrs *attrs, const xb_pb_span *span, int new_semconv,
                     struct xb_arena *arena, struct xb_tr_xhttp **out);

#endif
