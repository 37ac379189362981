/* translator/attrs.c - see attrs.h. */
#include "translator/attrs.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/err.h"

#define MAX_RAW_DEPTH 32
/* Lists up to this long are sorted by insertion instead of qsort. */
#define SMALL_SORT 32

/* First 8 bytes of the |n|-byte key |k| (no NUL among them) as a big-endian integer,
 * NUL-padded: comparing two prefixes gives the sign strcmp would give on those bytes. */
static inline uint64_t key_prefix_n(const char *k, size_t n)
{
    uint64_t p = 0;

    memcpy(&p, k, n < 8 ? n : 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    p = __builtin_bswap64(p);
#elif !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#error "unknown byte order"
#endif
    return p;
}

/* Whether the |n|-byte keys |a| and |b| are equal, given |a|'s prefix |pa|: the
 * prefix and, up to 16 bytes, the (overlapping) last 8 bytes decide without a call. */
static inline int key_eq(const char *a, uint64_t pa, const char *b, size_t n)
{
    uint64_t x, y;

    if (pa != key_prefix_n(b, n))
        return 0;
    if (n <= 8)
        return 1;
    if (n > 16)
        return memcmp(a + 8, b + 8, n - 8) == 0;
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
}

/* strcmp(a, b) given their prefixes: past an equal prefix, only keys with 8 or more
 * bytes (low byte set) can still differ. */
static int key_cmp(uint64_t pa, const char *a, uint64_t pb, const char *b)
{
    if (pa != pb)
        return pa < pb ? -1 : 1;
    return (pa & 0xFF) ? strcmp(a + 8, b + 8) : 0;
}

/* Hash of a key of |n| bytes from its length and its first and last 8 bytes (the
 * distinguishing parts of dotted semantic-convention names). */
static size_t key_hash(const char *k, size_t n)
{
    uint64_t a = 0, b = 0, h;

    if (n >= 8) {
        memcpy(&a, k, 8);
        memcpy(&b, k + n - 8, 8);
    } else {
        memcpy(&a, k, n);
    }
    h = (a ^ (b * 0x9E3779B97F4A7C15ull) ^ (uint64_t)n) * 0xBF58476D1CE4E5B9ull;
    return (size_t)(h ^ (h >> 29));
}

static int attr_cmp(const void *pa, const void *pb)
{
    const struct xb_tr_attr *a = pa, *b = pb;
    int c = key_cmp(a->pfx, a->key, b->pfx, b->key);

    if (c)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

int xb_tr_attrs_index(struct xb_tr_attrs *a, struct xb_arena *arena, xb_pb_kv *const *kv, size_t n)
{
    size_t i, m = 0, size = 16;

    a->v = NULL;
    a->n = 0;
    a->slot = NULL;
    a->mask = 0;
    a->filter[0] = a->filter[1] = 0;
    if (n == 0 || !kv)
        return XB_OK;
    a->v = xb_arena_alloc(arena, n * sizeof(*a->v));
    if (!a->v)
        return XB_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        if (!kv[i])
            continue;
        a->v[m].key = kv[i]->key ? kv[i]->key : "";
        a->v[m].len = strlen(a->v[m].key);
        a->v[m].pfx = key_prefix_n(a->v[m].key, a->v[m].len);
        a->v[m].val = kv[i]->value;
        a->v[m].pos = (uint32_t)i;
        a->v[m].consumed = 0;
        a->v[m].hidden = 0;
        m++;
    }
    if (m <= SMALL_SORT) {
        /* Insertion sort: a span's dozen or two attributes sort faster inline than
         * through qsort's callback; attr_cmp is a total order (positions differ), so
         * the result is the same. */
        for (i = 1; i < m; i++) {
            struct xb_tr_attr t = a->v[i];
            size_t j = i;
            while (j > 0 && attr_cmp(&a->v[j - 1], &t) > 0) {
                a->v[j] = a->v[j - 1];
                j--;
            }
            a->v[j] = t;
        }
    } else {
        qsort(a->v, m, sizeof(*a->v), attr_cmp);
    }
    for (i = 1; i < m; i++)
        if (key_cmp(a->v[i].pfx, a->v[i].key, a->v[i - 1].pfx, a->v[i - 1].key) == 0)
            a->v[i].hidden = 1;
    a->n = m;
    /* Hash table over the first occurrence of each key (the entries not hidden yet). */
    while (size < 2 * m)
        size *= 2;
    a->slot = xb_arena_alloc(arena, size * sizeof(*a->slot));
    if (!a->slot)
        return XB_ERR_NOMEM;
    memset(a->slot, 0, size * sizeof(*a->slot));
    a->mask = size - 1;
    for (i = 0; i < m; i++) {
        size_t h;
        if (a->v[i].hidden)
            continue;
        for (h = key_hash(a->v[i].key, a->v[i].len) & a->mask; a->slot[h]; h = (h + 1) & a->mask)
            ;
        a->slot[h] = (uint32_t)(i + 1);
        h = xb_tr_attrs_fhash(a->v[i].key, a->v[i].len);
        a->filter[0] |= 1ull << ((h >> 20) & 63);
        a->filter[1] |= 1ull << ((h >> 26) & 63);
    }
    return XB_OK;
}

struct xb_tr_attr *xb_tr_attrs_find_n(const struct xb_tr_attrs *a, const char *key, size_t len)
{
    size_t h;

    if (a->n == 0 || !a->slot)
        return NULL;
    for (h = key_hash(key, len) & a->mask; a->slot[h]; h = (h + 1) & a->mask) {
        struct xb_tr_attr *e = &a->v[a->slot[h] - 1];
        if (e->len == len && key_eq(e->key, e->pfx, key, len))
            return e->hidden ? NULL : e;
    }
    return NULL;
}

const xb_pb_any *xb_tr_attrs_entry_val(const struct xb_tr_attr *e)
{
    static const xb_pb_any none = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;

    if (!e)
        return NULL;
    return e->val ? e->val : &none;
}

int xb_tr_any_type(const xb_pb_any *v)
{
    return v ? (int)v->value_case : XB_ANY_NONE;
}

const char *xb_tr_any_str(const xb_pb_any *v)
{
    if (v && v->value_case == XB_ANY_STRING && v->string_value)
        return v->string_value;
    return "";
}

int64_t xb_tr_any_int(const xb_pb_any *v)
{
    return v && v->value_case == XB_ANY_INT ? v->int_value : 0;
}

const char *xb_tr_any_as_string(const xb_pb_any *v, struct xb_arena *arena)
{
    char tmp[400];

    switch (xb_tr_any_type(v)) {
    case XB_ANY_STRING:
        return xb_tr_any_str(v);
    case XB_ANY_INT:
        return xb_arena_strndup(arena, tmp, xb_jsonw_fmt_int(tmp, v->int_value));
    case XB_ANY_DOUBLE:
        xb_jsonw_fmt_double(tmp, v->double_value, 0);
        break;
    case XB_ANY_BOOL:
        return v->bool_value ? "true" : "false";
    default:
        return "";
    }
    return xb_arena_strndup(arena, tmp, strlen(tmp));
}

int xb_tr_any_annotatable(const xb_pb_any *v)
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

void xb_tr_any_write_scalar(struct xb_jsonw *w, const xb_pb_any *v)
{
    switch (xb_tr_any_type(v)) {
    case XB_ANY_STRING: {
        const char *s = xb_tr_any_str(v);
        xb_jsonw_str(w, s, strlen(s));
        break;
    }
    case XB_ANY_INT:
        xb_jsonw_int(w, v->int_value);
        break;
    case XB_ANY_DOUBLE:
        xb_jsonw_double(w, v->double_value);
        break;
    case XB_ANY_BOOL:
        xb_jsonw_bool(w, v->bool_value);
        break;
    default:
        xb_jsonw_null(w);
    }
}

/* bytesValue as standard padded base64, as Go's encoding/json writes []byte. The
 * encoding is OpenSSL's (EVP_EncodeBlock), not a copy of our own. */
static void write_base64(struct xb_jsonw *w, const uint8_t *p, size_t n, struct xb_arena *arena)
{
    size_t olen = (n + 2) / 3 * 4;
    char *out;
    int o;

    if (n > (size_t)INT_MAX / 4 * 3) { /* EVP_EncodeBlock takes an int length */
        if (!w->err)
            w->err = XB_ERR_TOO_LARGE;
        return;
    }
    out = xb_arena_alloc(arena, olen + 1); /* EVP_EncodeBlock writes a NUL */
    if (!out) {
        if (!w->err)
            w->err = XB_ERR_NOMEM;
        return;
    }
    o = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    xb_jsonw_str(w, out, (size_t)o);
}

struct kvref {
    const char *key;
    const xb_pb_any *val;
    size_t pos;
};

static int kvref_cmp(const void *pa, const void *pb)
{
    const struct kvref *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);

    if (c)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static void write_raw(struct xb_jsonw *w, const xb_pb_any *v, struct xb_arena *arena,
                      size_t max_items, unsigned depth)
{
    size_t i, n, m;

    if (depth > MAX_RAW_DEPTH) {
        xb_jsonw_null(w);
        return;
    }
    switch (xb_tr_any_type(v)) {
    case XB_ANY_BYTES:
        write_base64(w, v->bytes_value.data, v->bytes_value.len, arena);
        break;
    case XB_ANY_ARRAY:
        xb_jsonw_arr_begin(w);
        n = v->array_value ? v->array_value->n_values : 0;
        if (max_items && n > max_items)
            n = max_items;
        for (i = 0; i < n; i++)
            write_raw(w, v->array_value->values[i], arena, max_items, depth + 1);
        xb_jsonw_arr_end(w);
        break;
    case XB_ANY_KVLIST: {
        struct kvref *tmp = NULL;
        const char *last = NULL;
        n = v->kvlist_value ? v->kvlist_value->n_values : 0;
        m = 0;
        if (n) {
            tmp = xb_arena_alloc(arena, n * sizeof(*tmp));
            if (!tmp) {
                if (!w->err)
                    w->err = XB_ERR_NOMEM;
                xb_jsonw_null(w);
                break;
            }
            for (i = 0; i < n; i++) {
                xb_pb_kv *kv = v->kvlist_value->values[i];
                if (!kv)
                    continue;
                tmp[m].key = kv->key ? kv->key : "";
                tmp[m].val = kv->value;
                tmp[m].pos = i;
                m++;
            }
            qsort(tmp, m, sizeof(*tmp), kvref_cmp);
        }
        xb_jsonw_obj_begin(w);
        n = 0;
        for (i = 0; i < m; i++) {
            if (i + 1 < m && strcmp(tmp[i].key, tmp[i + 1].key) == 0)
                continue; /* last duplicate wins (Go map assignment) */
            if (last &&
                xb_jsonw_keys_collide(w, last, strlen(last), tmp[i].key, strlen(tmp[i].key)))
                continue; /* equal once cut by the size cap */
            if (max_items && n++ >= max_items)
                break;
            last = tmp[i].key;
            xb_jsonw_key(w, tmp[i].key, strlen(tmp[i].key));
            write_raw(w, tmp[i].val, arena, max_items, depth + 1);
        }
        xb_jsonw_obj_end(w);
        break;
    }
    default:
        xb_tr_any_write_scalar(w, v);
    }
}

void xb_tr_any_write(struct xb_jsonw *w, const xb_pb_any *v, struct xb_arena *arena,
                     size_t max_items)
{
    write_raw(w, v, arena, max_items, 0);
}

void *xb_tr_vec_push(struct xb_arena *arena, void **vec, size_t *n, size_t *cap, size_t elem)
{
    char *slot;

    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        void *nv = xb_arena_alloc(arena, ncap * elem);
        if (!nv)
            return NULL;
        if (*n)
            memcpy(nv, *vec, *n * elem);
        *vec = nv;
        *cap = ncap;
    }
    slot = (char *)*vec + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}
