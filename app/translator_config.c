#include "app/translator_config.h"

#include <string.h>

_Static_assert(XB_CONFIG_XRAY_MAX_DOC_BYTES == XB_XRAY_MAX_DOC_BYTES,
               "config/ and translator/ disagree on X-Ray's document size limit");

void xb_app_translator_config(const struct xb_config *cfg, struct xb_translator_config *tc)
{
    const struct xb_config_translate *t = &cfg->translate;

    memset(tc, 0, sizeof(*tc));
    tc->indexed_attributes = (const char *const *)t->indexed_attributes;
    tc->n_indexed_attributes = t->n_indexed_attributes;
    tc->index_all_attributes = t->index_all_attributes;
    tc->allow_dot_in_annotation_keys = t->allow_dot_in_annotation_keys;
    tc->skip_timestamp_validation = t->skip_timestamp_validation;
    tc->aws_log_groups = (const char *const *)t->aws_log_groups;
    tc->n_aws_log_groups = t->n_aws_log_groups;
    tc->max_document_bytes = t->max_document_bytes;
    tc->read_new_semantic_conventions = t->read_new_semantic_conventions;
}
