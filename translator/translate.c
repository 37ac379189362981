/* Placeholder: replaced by the translator implementation. */
#include "translator/translate.h"
#include "core/err.h"
void xb_translator_config_defaults(struct xb_translator_config *cfg)
{
    *cfg = (struct xb_translator_config){0};
    cfg->allow_dot_in_annotation_keys = 1;
    cfg->skip_timestamp_validation = 1;
    cfg->max_document_bytes = XB_XRAY_MAX_DOC_BYTES;
}
int xb_translate_span(const struct xb_translator_config *cfg, const xb_pb_resource *resource,
                      const xb_pb_span *span, int64_t now_unix_s, struct xb_arena *arena,
                      struct xb_buf *out, xb_translate_emit_cb emit, void *ud,
                      const char **err_desc)
{
    *err_desc = "translator not built";
    return XB_ERR_INVALID;
}
int xb_translate_request(const struct xb_translator_config *cfg, const xb_pb_export_req *req,
                         int64_t now_unix_s, struct xb_arena *arena, struct xb_buf *out,
                         xb_translate_emit_cb emit, void *ud, struct xb_translate_result *res)
{
    *res = (struct xb_translate_result){0};
    return XB_OK;
}
