/*
 * translator/translate.h - OTLP spans -> AWS X-Ray segment documents.
 *
 * Pure code: no I/O, no clocks (the caller passes "now"), no global state. The
 * behaviour follows the OpenTelemetry Collector's awsxrayexporter translator as
 * written down in docs/translation.md (segment vs subsegment, naming, http/aws/sql
 * blocks, cause, annotations/metadata), plus xraybridge's own guarantees: every
 * document is valid UTF-8 JSON, never larger than max_document_bytes (metadata and
 * then the longest strings are trimmed, and the document says so), and a span that
 * cannot be translated is counted, never silently lost.
 *
 * X-Ray segment document format:
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html
 */
#ifndef XB_TRANSLATOR_TRANSLATE_H
#define XB_TRANSLATOR_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "proto/otlp.h"

/* X-Ray's per-document limit ("64 kB"); we count it as 64,000 bytes to stay clear. */
#define XB_XRAY_MAX_DOC_BYTES 64000u

/*
 * Translation options. Names match the awsxrayexporter YAML keys. The caller owns
 * every pointer; they must stay valid while the config is in use.
 */
struct xb_translator_config {
    const char *const *indexed_attributes; /* attribute keys that become annotations */
    size_t n_indexed_attributes;
    int index_all_attributes;          /* every eligible attribute becomes an annotation */
    int allow_dot_in_annotation_keys;  /* default 1; 0 rewrites '.' to '_' in keys */
    int skip_timestamp_validation;     /* default 1; 0 enforces the 28-day/5-min rule */
    const char *const *aws_log_groups; /* cloudwatch_logs fallback (aws block) */
    size_t n_aws_log_groups;
    size_t max_document_bytes; /* default XB_XRAY_MAX_DOC_BYTES */
    /*
     * Default 0 (byte-for-byte awsxrayexporter v0.156). 1 also reads the newer semantic
     * conventions where the older keys are read: db.system.name, db.namespace,
     * db.query.text, db.collection.name, messaging.destination.name,
     * messaging.message.body.size, network.peer.port (docs/translation.md).
     */
    int read_new_semantic_conventions;
    /*
     * Resource attributes added to every resource before translation (the
     * resourcedetection processor, app/resourcedetection.h): |n_extra_resource| KeyValues,
     * borrowed, keys unique. With |extra_resource_override| they replace the request's
     * attributes of the same key, else the request's own win. The merged list is built once
     * per ResourceSpans in the call's arena, never per span. Default none.
     */
    xb_pb_kv *const *extra_resource;
    size_t n_extra_resource;
    int extra_resource_override;
    /*
     * Default 0. 1: documents are emitted in embedded form, as the contents of a JSON
     * string (xb_jsonw_init_embedded(): xb_jsonw_embed() of the plain document, byte for
     * byte), ready to be copied as is into a PutTraceSegments body. Sizes, trimming and
     * max_document_bytes still count the plain document. Decided per request by the caller
     * (receiver/ingest_embed.h).
     */
    int embedded_documents;
};

/*
 * Sets |*out| to |resource| (may be NULL) with cfg->extra_resource merged in by the
 * rule above: a copy of the Resource in |arena| whose attribute list has each key once
 * (|resource| itself when there is nothing to add). Returns 0 or XB_ERR_NOMEM.
 */
int xb_translate_merge_resource(const struct xb_translator_config *cfg,
                                const xb_pb_resource *resource, struct xb_arena *arena,
                                const xb_pb_resource **out);

/* Fills |cfg| with the defaults above (no indexed attributes, no log groups). */
void xb_translator_config_defaults(struct xb_translator_config *cfg);

/*
 * Receives one finished document: |json| (|len| bytes, not NUL-terminated necessarily)
 * is borrowed and only valid during the call; the callee copies what it keeps.
 * |trace_id| is the document's own X-Ray trace id ("1-xxxxxxxx-...", 35 characters) and
 * |id| its segment id (16 hex digits), the document's top-level "trace_id" and "id",
 * never those of a link; both NUL-terminated and borrowed.
 * Return 0 to continue, or a negative xb_err to abort the translation.
 */
typedef int (*xb_translate_emit_cb)(void *ud, const char *json, size_t len, const char *trace_id,
                                    const char *id);

/* What one xb_translate_request() call did. */
struct xb_translate_result {
    size_t spans;            /* spans seen */
    size_t documents;        /* documents emitted (a local-root CLIENT span emits two) */
    size_t rejected_spans;   /* spans that could not be translated (invalid ids, ...) */
    size_t trimmed;          /* documents trimmed to fit max_document_bytes */
    const char *first_error; /* static description of the first rejection, or NULL */
};

/*
 * Translates one span of |resource| (may be NULL) and emits its document(s).
 * |now_unix_s| is used only when timestamp validation is on. |arena| is scratch memory
 * for this call and the caller's request (reset by the caller); |out| is a reusable
 * buffer the document is built in (cleared by the callee).
 * Returns 0; XB_ERR_INVALID when the span is rejected (|err_desc| says why, nothing was
 * emitted); XB_ERR_NOMEM; or the emit callback's error.
 */
int xb_translate_span(const struct xb_translator_config *cfg, const xb_pb_resource *resource,
                      const xb_pb_span *span, int64_t now_unix_s, struct xb_arena *arena,
                      struct xb_buf *out, xb_translate_emit_cb emit, void *ud,
                      const char **err_desc);

/*
 * Translates every span of |req|. Rejected spans are counted in |res| and skipped;
 * the rest are emitted in request order. Returns 0, XB_ERR_NOMEM, or the emit
 * callback's error (translation stops there). |res| is always filled.
 */
int xb_translate_request(const struct xb_translator_config *cfg, const xb_pb_export_req *req,
                         int64_t now_unix_s, struct xb_arena *arena, struct xb_buf *out,
                         xb_translate_emit_cb emit, void *ud, struct xb_translate_result *res);

#endif
