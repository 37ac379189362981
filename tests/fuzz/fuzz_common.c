/* tests/fuzz/fuzz_common.c - see fuzz_common.h. */
#include "tests/fuzz/fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/jsonw.h"
#include "receiver/otlp_limits.h"
#include "tests/golden/doc_check.h"

#define FUZZ_SMALL_DOC 1500u /* bytes; exercises the trimming path */
#define FUZZ_NOW 1700000100  /* fixed "now" (Unix seconds) for timestamp validation */

static const char *const fuzz_indexed[] = {"http.method", "team", "aws.operation",
                                           "otel.resource.service.name", "db.statement"};
static const char *const fuzz_groups[] = {"fuzz-group"};

void xb_fuzz_config(unsigned flags, struct xb_translator_config *cfg)
{
    xb_translator_config_defaults(cfg);
    cfg->index_all_attributes = flags & 1;
    cfg->allow_dot_in_annotation_keys = (flags >> 1) & 1;
    cfg->skip_timestamp_validation = (flags >> 2) & 1;
    if (flags & 8)
        cfg->max_document_bytes = FUZZ_SMALL_DOC;
    if (flags & 16) {
        cfg->indexed_attributes = fuzz_indexed;
        cfg->n_indexed_attributes = sizeof fuzz_indexed / sizeof fuzz_indexed[0];
        cfg->aws_log_groups = fuzz_groups;
        cfg->n_aws_log_groups = 1;
    }
}

/* State shared with the emit callback. */
struct emit_ctx {
    size_t max_bytes;
    size_t emitted;
    int failed;
    int nomem;
    struct xb_buf *docs;
    char *err;
    size_t errlen;
    struct xb_buf plain; /* every document, '\n' after each, for compare_embedded() */
};

static int check_doc(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    struct emit_ctx *x = ud;
    char why[256];

    x->emitted++;
    if (x->failed)
        return XB_OK;
    if (xb_doccheck_document(json, len, x->max_bytes, why, sizeof why) != 0) {
        x->failed = 1;
        snprintf(x->err, x->errlen, "%s", why);
    } else if (!trace_id || strlen(trace_id) != 35) {
        x->failed = 1;
        snprintf(x->err, x->errlen, "emit callback got a bad trace_id argument");
    } else if (!id || strlen(id) != 16) {
        x->failed = 1;
        snprintf(x->err, x->errlen, "emit callback got a bad id argument");
    } else if (x->docs &&
               (xb_buf_append(x->docs, json, len) != XB_OK || xb_buf_putc(x->docs, '\n'))) {
        x->nomem = 1;
    }
    if (xb_buf_append(&x->plain, json, len) != XB_OK || xb_buf_putc(&x->plain, '\n'))
        x->nomem = 1;
    return XB_OK;
}

/* Emit callback of the embedded run: documents joined by '\n' (neither form holds one). */
static int collect_embedded(void *ud, const char *json, size_t len, const char *trace_id,
                            const char *id)
{
    struct xb_buf *b = ud;

    (void)trace_id;
    (void)id;
    if (xb_buf_append(b, json, len) != XB_OK || xb_buf_putc(b, '\n') != XB_OK)
        return XB_ERR_NOMEM;
    return XB_OK;
}

/*
 * Translates |req| again with embedded_documents and compares with the plain run's
 * documents (|x|->plain) and result |rp|: each embedded document must be
 * xb_jsonw_embed() of the plain one, with the same counts. Returns 0, 1 (out of memory,
 * not a finding) or -1 (|x|->err set).
 */
static int compare_embedded(const xb_pb_export_req *req, const struct xb_translator_config *cfg,
                            struct xb_arena *arena, struct emit_ctx *x,
                            const struct xb_translate_result *rp)
{
    struct xb_translator_config ecfg = *cfg;
    struct xb_translate_result re;
    struct xb_buf emb, want, out;
    size_t i, start;
    int rc = 0;

    ecfg.embedded_documents = 1;
    xb_buf_init(&emb, 0);
    xb_buf_init(&want, 0);
    xb_buf_init(&out, 0);
    if (xb_translate_request(&ecfg, req, FUZZ_NOW, arena, &out, collect_embedded, &emb, &re) ==
        XB_ERR_NOMEM) {
        rc = 1;
        goto out;
    }
    if (re.documents != rp->documents || re.trimmed != rp->trimmed ||
        re.rejected_spans != rp->rejected_spans) {
        snprintf(x->err, x->errlen, "embedded form: documents %zu/%zu, trimmed %zu/%zu",
                 re.documents, rp->documents, re.trimmed, rp->trimmed);
        rc = -1;
        goto out;
    }
    for (i = start = 0; i < x->plain.len; i++) {
        if (x->plain.data[i] != '\n')
            continue;
        if (xb_jsonw_embed(&want, x->plain.data + start, i - start) != XB_OK ||
            xb_buf_putc(&want, '\n') != XB_OK) {
            rc = 1;
            goto out;
        }
        start = i + 1;
    }
    if (want.len != emb.len || (want.len && memcmp(want.data, emb.data, want.len) != 0)) {
        snprintf(x->err, x->errlen,
                 "embedded documents (%zu bytes) differ from the plain ones embedded (%zu)",
                 emb.len, want.len);
        rc = -1;
    }
out:
    xb_buf_cleanup(&emb);
    xb_buf_cleanup(&want);
    xb_buf_cleanup(&out);
    return rc;
}

int xb_fuzz_translate(const xb_pb_export_req *req, const struct xb_translator_config *cfg,
                      struct xb_arena *arena, struct xb_buf *docs, char *err, size_t errlen,
                      size_t *documents)
{
    struct emit_ctx x = {cfg->max_document_bytes, 0, 0, 0, docs, err, errlen, {0}};
    struct xb_translate_result res;
    struct xb_buf out;
    int rc = 0;

    xb_buf_init(&out, 0);
    xb_buf_init(&x.plain, 0);
    if (xb_translate_request(cfg, req, FUZZ_NOW, arena, &out, check_doc, &x, &res) ==
        XB_ERR_NOMEM) {
        rc = 1;
        goto out;
    }
    if (!x.failed && res.documents != x.emitted) {
        snprintf(err, errlen, "result.documents = %zu but %zu emitted", res.documents, x.emitted);
        x.failed = 1;
    }
    if (x.failed)
        rc = -1;
    else if (x.nomem)
        rc = 1;
    else
        rc = compare_embedded(req, cfg, arena, &x, &res);
out:
    if (documents)
        *documents += x.emitted;
    xb_buf_cleanup(&out);
    xb_buf_cleanup(&x.plain);
    return rc;
}

/* Deepest AnyValue chain under |v|, which is at level |level|; stops past the limit. */
static unsigned any_depth(const xb_pb_any *v, unsigned level)
{
    unsigned best = level;

    if (!v) /* a KeyValue without a value: no AnyValue at this level */
        return level - 1;
    if (level > XB_OTLP_MAX_ANYVALUE_DEPTH)
        return level;
    if (v->value_case == XB_ANY_ARRAY && v->array_value) {
        for (size_t i = 0; i < v->array_value->n_values; i++) {
            unsigned d = any_depth(v->array_value->values[i], level + 1);
            best = d > best ? d : best;
        }
    } else if (v->value_case == XB_ANY_KVLIST && v->kvlist_value) {
        for (size_t i = 0; i < v->kvlist_value->n_values; i++) {
            unsigned d = any_depth(v->kvlist_value->values[i]->value, level + 1);
            best = d > best ? d : best;
        }
    }
    return best;
}

static unsigned attrs_depth(xb_pb_kv *const *kv, size_t n)
{
    unsigned best = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = any_depth(kv[i]->value, 1);
        best = d > best ? d : best;
    }
    return best;
}

int xb_fuzz_check_depth(const xb_pb_export_req *req, char *err, size_t errlen)
{
    unsigned best = 0, d;

    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const xb_pb_resource_spans *rs = req->resource_spans[i];
        if (rs->resource) {
            d = attrs_depth(rs->resource->attributes, rs->resource->n_attributes);
            best = d > best ? d : best;
        }
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            const xb_pb_scope_spans *ss = rs->scope_spans[j];
            if (ss->scope) {
                d = attrs_depth(ss->scope->attributes, ss->scope->n_attributes);
                best = d > best ? d : best;
            }
            for (size_t k = 0; k < ss->n_spans; k++) {
                const xb_pb_span *s = ss->spans[k];
                d = attrs_depth(s->attributes, s->n_attributes);
                best = d > best ? d : best;
                for (size_t e = 0; e < s->n_events; e++) {
                    d = attrs_depth(s->events[e]->attributes, s->events[e]->n_attributes);
                    best = d > best ? d : best;
                }
                for (size_t l = 0; l < s->n_links; l++) {
                    d = attrs_depth(s->links[l]->attributes, s->links[l]->n_attributes);
                    best = d > best ? d : best;
                }
            }
        }
    }
    if (best > XB_OTLP_MAX_ANYVALUE_DEPTH) {
        snprintf(err, errlen, "decoded an AnyValue nested deeper than %d levels",
                 XB_OTLP_MAX_ANYVALUE_DEPTH);
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];

    err[0] = '\0';
    if (xb_fuzz_check(data, size, err, sizeof err, NULL) != 0) {
        fprintf(stderr, "fuzz: invariant violated: %s\n", err);
        abort(); /* test harness only: tells libFuzzer this input is a finding */
    }
    return 0;
}
