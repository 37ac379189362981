/*
 * translator/meta.h - X-Ray "user", "annotations" and "metadata" from the attributes no
 * earlier block consumed, plus resource attributes on segments (awsxrayexporter,
 * docs/translation.md "annotations and metadata").
 */
#ifndef XB_TRANSLATOR_META_H
#define XB_TRANSLATOR_META_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "translator/attrs.h"
#include "translator/doc.h"
#include "translator/translate.h"

/*
 * Rewrites annotation key |k| (|n| bytes) into |out| (>= |n| + 1 bytes): each character
 * that is not an ASCII letter or digit becomes '_' (one '_' per character, invalid
 * UTF-8 bytes count as one character each), except '.' when |allow_dot|. Returns the
 * output length.
 */
size_t xb_tr_meta_fix_key(const char *k, size_t n, int allow_dot, char *out);

/* Most entries of a span's metadata list whose order is remembered. */
#define XB_TR_META_ORDER_MAX 16
/* Metadata orders remembered per ResourceSpans (spans of one kind repeat a key list). */
#define XB_TR_META_ORDERS 16

/* The sorted order of one span metadata list (xb_tr_meta_build()): the list's keys as
 * first seen, in list order (borrowed from the request being translated, which outlives
 * the struct), and the list positions kept, in output order. n == 0: unused. */
struct xb_tr_meta_order {
    uint32_t n, m; /* keys in the list; positions kept (m <= n) */
    struct xb_str key[XB_TR_META_ORDER_MAX];
    uint8_t keep[XB_TR_META_ORDER_MAX];
};

/* A resource's annotations and metadata entries ("otel.resource."-prefixed keys),
 * sorted and unique, as every segment of its ResourceSpans stores them when the span
 * has no aws.xray.annotations list; metadata entries carry their untrimmed rendering
 * (xb_tr_xmeta.raw), adjacent entries adjacent in memory with a comma between. */
struct xb_tr_res_meta {
    int ready; /* built by xb_tr_meta_resource() */
    struct xb_tr_xannot *annots;
    size_t n_annots;
    struct xb_tr_xmeta *meta;
    size_t n_meta;
    /* written by xb_tr_meta_build() whether ready or not; a list with the same keys in
     * the same order gets the same order without sorting */
    struct xb_tr_meta_order orders[XB_TR_META_ORDERS];
};

/* Empties |rm|: not ready, no remembered orders (without clearing the orders' arrays:
 * a few KB per ResourceSpans). */
void xb_tr_res_meta_init(struct xb_tr_res_meta *rm);

/*
 * Builds |rm| from |resource| (borrowed, may be NULL) under |cfg| in |arena|, keeping
 * its remembered orders (|rm| must have been through xb_tr_res_meta_init() or be
 * zeroed). Returns XB_OK or XB_ERR_NOMEM (|rm| not ready).
 */
int xb_tr_meta_resource(const xb_pb_resource *resource, const struct xb_translator_config *cfg,
                        struct xb_arena *arena, struct xb_tr_res_meta *rm);

/*
 * Fills d->user, d->annots, d->meta, d->ns from the live attributes of |attrs| (consuming
 * enduser.id and an array-valued aws.xray.annotations) and, when |store_resource|, from
 * |resource| (borrowed): through |rm| (may be NULL or not ready) when the span has no
 * annotation list, the result being the same. |rm|'s metadata orders are read and
 * updated (when not NULL); the result is the same as without them. Returns XB_OK or
 * XB_ERR_NOMEM.
 */
int xb_tr_meta_build(struct xb_tr_attrs *attrs, const xb_pb_resource *resource, int store_resource,
                     struct xb_tr_res_meta *rm, const struct xb_translator_config *cfg,
                     struct xb_arena *arena, struct xb_tr_xdoc *d);

#endif
