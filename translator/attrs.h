/*
 * translator/attrs.h - one-pass attribute index and OTLP AnyValue helpers.
 *
 * The translator consults a span's attributes many times (naming, http, aws, sql,
 * annotations). xb_tr_attrs_index() sorts pointers to the KeyValues once (arena memory)
 * so each lookup is a binary search, and keeps a per-entry "consumed" flag that models
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

/* One indexed attribute. |val| may be NULL (KeyValue without a value = empty). */
struct xb_tr_attr {
    const char *key;      /* borrowed, NUL-terminated */
    size_t len;           /* strlen(key) */
    uint64_t pfx;         /* first 8 key bytes, big-endian, 0-padded: orders like strcmp */
    const xb_pb_any *val; /* borrowed */
    uint32_t pos;         /* position in the original list */
    uint8_t consumed;     /* taken by a block (http, aws, sql, ...) */
    uint8_t hidden;       /* duplicate or deleted: invisible to every lookup */
};

/*
 * Sorted (by key bytes, then position) view of a KeyValue list, for the passes that
 * walk it in order, plus a hash table for lookups by key: open addressing with linear
 * probing over the first occurrence of each key, hashed from the key's length and its
 * first and last 8 bytes, so a lookup costs one strlen, a multiply and usually one
 * memcmp. The table holds indexes into |v|, so a copy of |v| can share it.
 */
struct xb_tr_attrs {
    struct xb_tr_attr *v; /* arena */
    size_t n;
    uint32_t *slot;     /* arena; 0 = empty, else index into v plus 1 */
    size_t mask;        /* table size - 1 (a power of two at least twice n) */
    uint64_t filter[2]; /* one bit per word for each indexed key (xb_tr_attrs_fbits) */
};

/*
 * Indexes |n| KeyValues of |kv| (borrowed; NULL entries are skipped). Returns XB_OK or
 * XB_ERR_NOMEM (arena exhausted).
 */
int xb_tr_attrs_index(struct xb_tr_attrs *a, struct xb_arena *arena, xb_pb_kv *const *kv, size_t n);

/* Hash-table lookup behind xb_tr_attrs_get_n() (no filter). */
struct xb_tr_attr *xb_tr_attrs_find_n(const struct xb_tr_attrs *a, const char *key, size_t len);

/*
 * Filter hash of a |len|-byte key from its length, first and last byte: constant for a
 * literal key once inlined, so most lookups of absent semantic-convention keys end at
 * two bit tests, without hashing the key or touching the table.
 */
static inline uint32_t xb_tr_attrs_fhash(const char *key, size_t len)
{
    uint32_t first = len ? (unsigned char)key[0] : 0, last = len ? (unsigned char)key[len - 1] : 0;

    return ((uint32_t)len * 0x9E3779B1u) ^ (first * 0x85EBCA77u) ^ (last * 0xC2B2AE3Du);
}

/* The visible entry for the |len|-byte |key| whether consumed or not (original
 * attribute), or NULL. */
static inline struct xb_tr_attr *xb_tr_attrs_get_n(const struct xb_tr_attrs *a, const char *key,
                                                   size_t len)
{
    uint32_t h = xb_tr_attrs_fhash(key, len);

    if (!((a->filter[0] >> ((h >> 20) & 63)) & (a->filter[1] >> ((h >> 26) & 63)) & 1))
        return NULL;
    return xb_tr_attrs_find_n(a, key, len);
}

/* The value of entry |e| (NULL for NULL; a KeyValue without a value reads as an empty
 * AnyValue, never NULL). */
const xb_pb_any *xb_tr_attrs_entry_val(const struct xb_tr_attr *e);

/*
 * Lookups by NUL-terminated key. Inline so that the length of a literal key (the usual
 * case: semantic-convention names) is known at compile time.
 */

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

/* Type of |v| (XB_ANY_NONE for NULL). */
int xb_tr_any_type(const xb_pb_any *v);

/* pdata Str(): the string value, or "" for NULL/non-string values. Never NULL. */
const char *xb_tr_any_str(const xb_pb_any *v);

/* pdata Int(): the int value, or 0 for NULL/non-int values. */
int64_t xb_tr_any_int(const xb_pb_any *v);

/*
 * pdata AsString() for scalars: strings as is, ints in decimal, doubles in shortest
 * fixed notation, bools "true"/"false"; other types give "" here. Result is either
 * |v|'s own string or an arena copy; NULL only on XB_ERR_NOMEM.
 */
const char *xb_tr_any_as_string(const xb_pb_any *v, struct xb_arena *arena);

/* 1 when |v| is a string, int, double or bool (X-Ray annotation value types). */
int xb_tr_any_annotatable(const xb_pb_any *v);

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
