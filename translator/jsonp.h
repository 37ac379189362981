/*
 * translator/jsonp.h - minimal JSON (RFC 8259) parser into an arena tree.
 *
 * Used only for the `aws.xray.metadata.<namespace>` span attributes, whose string value
 * is a JSON object that becomes an X-Ray metadata namespace. Numbers are kept as doubles
 * (the exporter decodes into Go's map[string]any, so 12 and 12.0 both print as 12);
 * object members are sorted by key with the last duplicate kept, as Go re-encodes maps.
 */
#ifndef XB_TRANSLATOR_JSONP_H
#define XB_TRANSLATOR_JSONP_H

#include <stddef.h>

#include "core/arena.h"
#include "core/jsonw.h"
#include "core/str.h"

enum xb_tr_jtype {
    XB_TR_J_NULL,
    XB_TR_J_FALSE,
    XB_TR_J_TRUE,
    XB_TR_J_NUM,
    XB_TR_J_STR,
    XB_TR_J_ARR,
    XB_TR_J_OBJ
};

/* One JSON value; object members carry their key. All memory is in the arena. */
struct xb_tr_jnode {
    enum xb_tr_jtype t;
    double num;               /* XB_TR_J_NUM */
    struct xb_str s;          /* XB_TR_J_STR: decoded bytes */
    struct xb_str key;        /* member key when inside an object */
    struct xb_tr_jnode *kids; /* XB_TR_J_ARR / XB_TR_J_OBJ children */
    size_t n_kids, cap_kids;
};

/* Deepest nesting accepted; deeper documents fail to parse. */
#define XB_TR_JSONP_MAX_DEPTH 48

/*
 * Parses |n| bytes of |s| (borrowed) into an arena tree at *|out|. Returns XB_OK,
 * XB_ERR_INVALID (syntax error, trailing garbage, too deep) or XB_ERR_NOMEM.
 */
int xb_tr_jsonp_parse(const char *s, size_t n, struct xb_arena *arena, struct xb_tr_jnode **out);

/* Writes |j| with |w|; arrays/objects capped at |max_items| elements (0 = all). */
void xb_tr_jsonp_write(struct xb_jsonw *w, const struct xb_tr_jnode *j, size_t max_items);

#endif
