/*
 * receiver/json_tree.h - read-only access to a parsed JSON tree with two back ends.
 *
 * The OTLP/JSON decoder (receiver/otlp_json.c) walks the tree through these
 * functions only, so its rules are written once for both parsers:
 *  - cJSON (the fast path): parses OTLP bodies about 4x faster than jansson (the whole
 *    decode about 3x, docs/performance.md "OTLP/JSON decoding"), but it keeps
 *    numbers only as doubles and is more lenient than RFC 8259 in places;
 *  - jansson (the exact path): exact 64-bit integers, strict UTF-8 and grammar.
 * xb_json_pick() decides per request which one may be used (docs/otlp-json.md,
 * "Parsers"); a cJSON tree is only built for bodies on which both parsers agree.
 */
#ifndef XB_RECEIVER_JSON_TREE_H
#define XB_RECEIVER_JSON_TREE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <jansson.h>

#include "core/arena.h"

/* Which parser built a tree. */
enum xb_json_backend {
    XB_JSON_CJSON = 0,
    XB_JSON_JANSSON = 1,
};

/* Node types as the decoder sees them; XB_JT_INT holds an exact int64. */
enum xb_jt_type {
    XB_JT_NULL,
    XB_JT_FALSE,
    XB_JT_TRUE,
    XB_JT_INT,
    XB_JT_REAL,
    XB_JT_STRING,
    XB_JT_ARRAY,
    XB_JT_OBJECT,
};

/* A parsed tree: its root and how to read it. Memory belongs to the parse arena. */
struct xb_jtree {
    enum xb_json_backend backend;
    int has_reals; /* cJSON only: number nodes carry the real/integer tag in valueint */
    const void *root;
};

/* What xb_json_pick() found in a body. */
struct xb_json_scan {
    size_t numbers; /* number tokens outside strings */
    int has_reals;  /* one of them has a fraction or an exponent */
};

/*
 * The per-request parser choice (pure; no allocation). Returns XB_JSON_CJSON when
 * cJSON's tree of |body| is guaranteed to read exactly like jansson's, else
 * XB_JSON_JANSSON. The body is scanned once, tracking strings; jansson is chosen for:
 *  - an integer part of 16 or more digits (10^15 < 2^53: every integer of at most 15
 *    digits is an exact double, longer ones may not be; also catches int64 overflow),
 *    an exponent of 3 or more digits (the only way a real with a shorter integer part
 *    can overflow a double, which jansson refuses), or a number token that is not
 *    RFC 8259 grammar (cJSON reads "01", "1.", "-.5" through strtod);
 *  - bytes that are not strict UTF-8 (jansson refuses them; cJSON copies them);
 *  - control bytes (< 0x20) inside strings, or outside strings other than the four
 *    JSON blanks (cJSON treats every byte <= 0x20 as a blank);
 *  - a "\u" escape of U+0000 (cJSON cuts the string there) or of a surrogate;
 *  - a UTF-8 byte order mark at the start (cJSON skips it; jansson refuses it).
 * A false positive only costs the slower parser. When |real_bits| is not NULL, bit k
 * (LSB first) is set for the k-th number token if it has a fraction or an exponent;
 * it must hold at least (len + 1) / 2 bits. |scan| receives the counts (both NULL-able).
 */
enum xb_json_backend xb_json_pick(const void *body, size_t len, uint8_t *real_bits,
                                  struct xb_json_scan *scan);

/*
 * Installs jansson's and cJSON's allocator hooks (process-wide: allocations go to the
 * calling thread's parse arena during xb_json_parse() and to the heap otherwise). Safe
 * to call more than once; xb_json_parse() calls it too. Call it before starting threads
 * that use either library (app/app.c does, first thing): the libraries' hook pointers
 * are plain globals, and cJSON documents its hooks as set before any thread uses it.
 */
void xb_json_hooks_init(void);

/*
 * Parses |body| with |backend|, allocating the tree from |arena| (so the request's
 * memory cap covers it); |real_bits| and |scan| come from xb_json_pick() (cJSON only).
 * Returns XB_OK, XB_ERR_INVALID (syntax; *|err| is jansson's description, and a cJSON
 * failure means "parse again with jansson"), XB_ERR_NOMEM.
 */
int xb_json_parse(enum xb_json_backend backend, const void *body, size_t len,
                  struct xb_arena *arena, const uint8_t *real_bits, const struct xb_json_scan *scan,
                  struct xb_jtree *out, const char **err);

/* ---- node access ------------------------------------------------------------------ */

static inline enum xb_jt_type xb_jt_type(const struct xb_jtree *t, const void *n)
{
    if (t->backend == XB_JSON_CJSON) {
        const cJSON *j = n;
        switch (j->type & 0xff) {
        case cJSON_False:
            return XB_JT_FALSE;
        case cJSON_True:
            return XB_JT_TRUE;
        case cJSON_Number:
            return t->has_reals && j->valueint ? XB_JT_REAL : XB_JT_INT;
        case cJSON_String:
            return XB_JT_STRING;
        case cJSON_Array:
            return XB_JT_ARRAY;
        case cJSON_Object:
            return XB_JT_OBJECT;
        default:
            return XB_JT_NULL;
        }
    }
    switch (json_typeof((const json_t *)n)) {
    case JSON_FALSE:
        return XB_JT_FALSE;
    case JSON_TRUE:
        return XB_JT_TRUE;
    case JSON_INTEGER:
        return XB_JT_INT;
    case JSON_REAL:
        return XB_JT_REAL;
    case JSON_STRING:
        return XB_JT_STRING;
    case JSON_ARRAY:
        return XB_JT_ARRAY;
    case JSON_OBJECT:
        return XB_JT_OBJECT;
    default:
        return XB_JT_NULL;
    }
}

/* Value of an XB_JT_INT node (cJSON: exact, xb_json_pick() allowed 15 digits at most). */
static inline int64_t xb_jt_int(const struct xb_jtree *t, const void *n)
{
    if (t->backend == XB_JSON_CJSON)
        return (int64_t)((const cJSON *)n)->valuedouble;
    return (int64_t)json_integer_value(n);
}

/* Value of an XB_JT_REAL node. */
static inline double xb_jt_real(const struct xb_jtree *t, const void *n)
{
    if (t->backend == XB_JSON_CJSON)
        return ((const cJSON *)n)->valuedouble;
    return json_real_value(n);
}

/* Bytes of an XB_JT_STRING node (NUL-terminated) and their count in *|len|. */
static inline const char *xb_jt_str(const struct xb_jtree *t, const void *n, size_t *len)
{
    if (t->backend == XB_JSON_CJSON) {
        const char *s = ((const cJSON *)n)->valuestring;
        /* No NUL inside: xb_json_pick() sends "\u0000" to jansson. */
        *len = strlen(s);
        return s;
    }
    *len = json_string_length(n);
    return json_string_value(n);
}

/* Iteration over an array's elements or an object's members, in document order. */
struct xb_jt_iter {
    const void *node; /* cJSON: current child; jansson: parent */
    void *oit;        /* jansson object iterator */
    size_t i, n;      /* jansson array index and size */
};

/* Number of elements of an XB_JT_ARRAY node. */
static inline size_t xb_jt_array_size(const struct xb_jtree *t, const void *n)
{
    if (t->backend == XB_JSON_CJSON) {
        size_t k = 0;
        for (const cJSON *e = ((const cJSON *)n)->child; e; e = e->next)
            k++;
        return k;
    }
    return json_array_size(n);
}

/* First element of array |n| (NULL when empty); then xb_jt_array_next(). */
static inline const void *xb_jt_array_first(const struct xb_jtree *t, const void *n,
                                            struct xb_jt_iter *it)
{
    *it = (struct xb_jt_iter){0};
    if (t->backend == XB_JSON_CJSON) {
        it->node = ((const cJSON *)n)->child;
        return it->node;
    }
    it->node = n;
    it->i = 0;
    it->n = json_array_size(n);
    return it->n ? json_array_get(n, 0) : NULL;
}

/* Next element or NULL. */
static inline const void *xb_jt_array_next(const struct xb_jtree *t, struct xb_jt_iter *it)
{
    if (t->backend == XB_JSON_CJSON) {
        it->node = ((const cJSON *)it->node)->next;
        return it->node;
    }
    if (++it->i >= it->n)
        return NULL;
    return json_array_get(it->node, it->i);
}

/*
 * Object members. jansson keeps one member per key (the last value, at the first
 * key's place); cJSON keeps duplicates. xb_jt_object_check() returns 0 when |n| can
 * be read the same way with both (always for jansson; for cJSON when its keys are
 * distinct and there are at most XB_JT_MAX_CHECKED_MEMBERS of them), -1 otherwise:
 * the caller then parses the body again with jansson.
 */
#define XB_JT_MAX_CHECKED_MEMBERS 32
int xb_jt_object_check(const struct xb_jtree *t, const void *n);

/* First member of object |n| (NULL when empty): key in *|key|, value returned. */
static inline const void *xb_jt_object_first(const struct xb_jtree *t, const void *n,
                                             struct xb_jt_iter *it, const char **key)
{
    *it = (struct xb_jt_iter){0};
    if (t->backend == XB_JSON_CJSON) {
        const cJSON *c = ((const cJSON *)n)->child;
        it->node = c;
        if (c)
            *key = c->string;
        return c;
    }
    it->node = n;
    it->oit = json_object_iter((json_t *)n);
    if (!it->oit)
        return NULL;
    *key = json_object_iter_key(it->oit);
    return json_object_iter_value(it->oit);
}

/* Next member or NULL. */
static inline const void *xb_jt_object_next(const struct xb_jtree *t, struct xb_jt_iter *it,
                                            const char **key)
{
    if (t->backend == XB_JSON_CJSON) {
        const cJSON *c = ((const cJSON *)it->node)->next;
        it->node = c;
        if (c)
            *key = c->string;
        return c;
    }
    it->oit = json_object_iter_next((json_t *)it->node, it->oit);
    if (!it->oit)
        return NULL;
    *key = json_object_iter_key(it->oit);
    return json_object_iter_value(it->oit);
}

#endif
