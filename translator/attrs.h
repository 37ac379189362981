/*
 * translator/attrs.h - one-pass attribute index and OTLP AnyValue helpers.
 *
 * The translator consults a span's attributes many times (naming, http, aws, sql,
 * annotations). xb_tr_attrs_index() resolves every key once against the keys the
 * translator names (translator/keys.h), so each lookup is one load, and keeps a
 * per-entry "consumed" flag that models
 * the exporter's pipeline: each block consumes the keys it understands and whatever is
 * left becomes annotations/metadata (docs/translation.md).
 *
 * Duplicate keys (possible in protobuf input): the first occurrence wins, later ones are
 * ignored everywhere (pdata's Map.Get behaviour).
 */
#ifndef XB_TRANSLATOR_ATTRS_H
#define XB_TRANSLATOR_ATTRS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonw.h"
#include "proto/otlp.h"
#include "translator/keys.h"

/* One indexed attribute. |val| may be NULL (KeyValue without a value = empty). */
struct xb_tr_attr {
    const char *key;      /* borrowed, NUL-terminated */
    size_t len;           /* strlen(key) */
    uint64_t pfx;         /* first 8 key bytes, big-endian, 0-padded */
    const xb_pb_any *val; /* borrowed */
    uint32_t pos;         /* position in the original list */
    int16_t kid;          /* enum xb_tr_key, or -1 for a key the translator does not name */
    uint8_t consumed;     /* taken by a block (http, aws, sql, ...) */
    uint8_t hidden;       /* duplicate or deleted: invisible to every lookup */
};

/* 64-bit words of xb_tr_attrs.present: one bit per known key. */
#define XB_TR_PRESENT_WORDS ((XB_TK_COUNT + 63) / 64)

/*
 * The KeyValue list in its original order (NULL entries left out), each key resolved
 * once against the translator's known keys (translator/keys.h): |slot| holds, per
 * known key in |present|, the index in |v| plus 1 of its first occurrence, so a block
 * reads a known key with a bit test and one load. Keys the translator does not name are found by a
 * scan behind a 256-bit filter of their hashes (used for configured key lists and
 * duplicate detection). A copy of the struct with a copy of |v| is an independent
 * index (the second document of a local root).
 */
struct xb_tr_attrs {
    struct xb_tr_attr *v; /* arena */
    size_t n;
    uint64_t filter[4]; /* one bit per unknown key's hash */
    /* known key -> index in v plus 1; valid only where |present| has the key's bit
     * (the table is not cleared per list) */
    uint32_t slot[XB_TK_COUNT];
    /* bit k % 64 of word k / 64: known key k is in the list and slot[k] is valid, so a
     * block that reads many known keys can visit only those present (the entry may
     * still be hidden or consumed) */
    uint64_t present[XB_TR_PRESENT_WORDS];
};

/*
 * Indexes |n| KeyValues of |kv| (borrowed; NULL entries are skipped). Returns XB_OK or
 * XB_ERR_NOMEM (arena exhausted).
 */
int xb_tr_attrs_index(struct xb_tr_attrs *a, struct xb_arena *arena, xb_pb_kv *const *kv, size_t n);

/* The visible entry for the |len|-byte |key| whether consumed or not (original
 * attribute), or NULL. Any key; known keys are cheaper through xb_tr_attrs_k(). */
struct xb_tr_attr *xb_tr_attrs_get_n(const struct xb_tr_attrs *a, const char *key, size_t len);

/* The visible entry for known key |k| whether consumed or not, or NULL. */
static inline struct xb_tr_attr *xb_tr_attrs_k(const struct xb_tr_attrs *a, enum xb_tr_key k)
{
    struct xb_tr_attr *e;

    if (!((a->present[k >> 6] >> (k & 63)) & 1))
        return NULL;
    e = &a->v[a->slot[k] - 1];
    return e->hidden ? NULL : e;
}

/* The entry for known key |k| if present and not consumed, or NULL. */
static inline struct xb_tr_attr *xb_tr_attrs_live_k(const struct xb_tr_attrs *a, enum xb_tr_key k)
{
    struct xb_tr_attr *e = xb_tr_attrs_k(a, k);

    return e && !e->consumed ? e : NULL;
}

/* Marks known key |k| consumed (no-op when absent). */
static inline void xb_tr_attrs_consume_k(struct xb_tr_attrs *a, enum xb_tr_key k)
{
    struct xb_tr_attr *e = xb_tr_attrs_k(a, k);

    if (e)
        e->consumed = 1;
}

/* Makes known key |k| invisible (attribute deleted before translation). */
static inline void xb_tr_attrs_hide_k(struct xb_tr_attrs *a, enum xb_tr_key k)
{
    struct xb_tr_attr *e = xb_tr_attrs_k(a, k);

    if (e)
        e->hidden = 1;
}

/* The value of entry |e| (NULL for NULL; a KeyValue without a value reads as an empty
 * AnyValue, never NULL). */
const xb_pb_any *xb_tr_attrs_entry_val(const struct xb_tr_attr *e);

/* Lookups by NUL-terminated key (any key). */

/* The visible entry for |key| whether consumed or not (original attribute), or NULL. */
static inline struct xb_tr_attr *xb_tr_attrs_get(const struct xb_tr_attrs *a, const char *key)
{
    return xb_tr_attrs_get_n(a, key, strlen(key));
}

/* The entry for |key| if present and not consumed, or NULL. */
static inline struct xb_tr_attr *xb_tr_attrs_live(const struct xb_tr_attrs *a, const char *key)
{
    struct xb_tr_attr *e = xb_tr_attrs_get(a, key);

    return e && !e->consumed ? e : NULL;
}

/* Marks |key| consumed (no-op when absent). */
static inline void xb_tr_attrs_consume(struct xb_tr_attrs *a, const char *key)
{
    struct xb_tr_attr *e = xb_tr_attrs_get(a, key);

    if (e)
        e->consumed = 1;
}

/* Makes |key| invisible (attribute deleted before translation). */
static inline void xb_tr_attrs_hide(struct xb_tr_attrs *a, const char *key)
{
    struct xb_tr_attr *e = xb_tr_attrs_get(a, key);

    if (e)
        e->hidden = 1;
}

/* Visible attribute's value or NULL. */
static inline const xb_pb_any *xb_tr_attrs_val(const struct xb_tr_attrs *a, const char *key)
{
    return xb_tr_attrs_entry_val(xb_tr_attrs_get(a, key));
}

/* Visible value of known key |k| or NULL. */
static inline const xb_pb_any *xb_tr_attrs_val_k(const struct xb_tr_attrs *a, enum xb_tr_key k)
{
    return xb_tr_attrs_entry_val(xb_tr_attrs_k(a, k));
}

/* Type of |v| (XB_ANY_NONE for NULL). Inline: asked several times per attribute. */
static inline int xb_tr_any_type(const xb_pb_any *v)
{
    return v ? (int)v->value_case : XB_ANY_NONE;
}

/* pdata Str(): the string value, or "" for NULL/non-string values. Never NULL. */
static inline const char *xb_tr_any_str(const xb_pb_any *v)
{
    if (v && v->value_case == XB_ANY_STRING && v->string_value)
        return v->string_value;
    return "";
}

/* pdata Int(): the int value, or 0 for NULL/non-int values. */
int64_t xb_tr_any_int(const xb_pb_any *v);

/*
 * pdata AsString() for scalars: strings as is, ints in decimal, doubles in shortest
 * fixed notation, bools "true"/"false"; other types give "" here. Result is either
 * |v|'s own string or an arena copy; NULL only on XB_ERR_NOMEM.
 */
const char *xb_tr_any_as_string(const xb_pb_any *v, struct xb_arena *arena);

/* 1 when |v| is a string, int, double or bool (X-Ray annotation value types). */
static inline int xb_tr_any_annotatable(const xb_pb_any *v)
{
    switch (xb_tr_any_type(v)) {
    case XB_ANY_STRING:
    case XB_ANY_INT:
    case XB_ANY_DOUBLE:
    case XB_ANY_BOOL:
        return 1;
    default:
        return 0;
    }
}

/*
 * Writes |v| the way pdata's AsRaw() marshals with encoding/json: scalars as JSON
 * scalars, bytes as base64, arrays and maps recursively (map keys sorted, last
 * duplicate wins), empty as null. At most |max_items| elements per container (0 = all);
 * nesting deeper than 32 levels is written as null. Scratch memory from |arena|.
 */
void xb_tr_any_write(struct xb_jsonw *w, const xb_pb_any *v, struct xb_arena *arena,
                     size_t max_items);

/* Writes an annotation value (string/int/double/bool; caller checked annotatable). */
void xb_tr_any_write_scalar(struct xb_jsonw *w, const xb_pb_any *v);

/*
 * Appends one |elem|-byte element slot to the arena vector (*|vec|, *|n|, *|cap|),
 * doubling into a new arena block when full (old blocks are simply abandoned).
 * Returns the new zeroed slot, or NULL on XB_ERR_NOMEM.
 */
void *xb_tr_vec_push(struct xb_arena *arena, void **vec, size_t *n, size_t *cap, size_t elem);

#endif
