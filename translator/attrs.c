/* translator/attrs.c - see attrs.h. */
#include "translator/attrs.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <pthread.h>

#include "core/err.h"

#define MAX_RAW_DEPTH 32

/* First 8 bytes of the |n|-byte key |k| as a big-endian integer, zero-padded. */
static inline uint64_t key_prefix_n(const char *k, size_t n)
{
    uint64_t p = 0;

    if (n >= 8) {
        memcpy(&p, k, 8); /* a fixed-size load, no call */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        p = __builtin_bswap64(p);
#elif !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#error "unknown byte order"
#endif
        return p;
    }
    for (size_t i = 0; i < n; i++)
        p |= (uint64_t)(unsigned char)k[i] << (56 - 8 * i);
    return p;
}

/* Last 8 bytes of the |n|-byte key |k| (they overlap the prefix below 16 bytes), or 0
 * below 8 bytes. */
static inline uint64_t key_tail(const char *k, size_t n)
{
    uint64_t t = 0;

    if (n >= 8)
        memcpy(&t, k + n - 8, 8);
    return t;
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

/* ------------------------------------------------------------------ known keys */

/*
 * The known keys sit in a direct-mapped table of 2^KEY_BITS one-byte slots, indexed by
 * the top bits of a multiplicative hash of a key's length, first and last 8 bytes.
 * keys_init() picks the multiplier (the first of a fixed sequence) under which no two
 * known keys share a slot, so a lookup reads one slot and compares one entry: length,
 * prefix and tail in one test, then the middle of keys longer than 16 bytes (two
 * 8-byte loads up to 32 bytes, memcmp beyond). Unknown keys cost the same.
 */
#define KEY_BITS 11
#define KEY_TABLE (1u << KEY_BITS) /* over 20 times XB_TK_COUNT: a multiplier is found fast */

static const char *const key_names[XB_TK_COUNT] = {
#define XB_TR_KEY_NAME(e, s) [XB_TK_##e] = s,
    XB_TR_KEYS(XB_TR_KEY_NAME)
#undef XB_TR_KEY_NAME
};

struct key_ent {
    uint64_t pfx, tail; /* key_prefix_n(), key_tail() */
    uint64_t mid[2];    /* 17 to 32 bytes: the 8 bytes at 8 and at len - 16 */
    uint64_t len;
};

static struct {
    struct key_ent e[XB_TK_COUNT];
    uint64_t mul;            /* odd; no two known keys share a slot under it */
    uint8_t slot[KEY_TABLE]; /* known key plus 1, 0 = empty */
} keys;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

/* Hash of a key of |n| bytes from its length, prefix |pfx| and tail |tail| (the
 * distinguishing parts of dotted semantic-convention names); its top KEY_BITS bits
 * index the table, the 8 bits below them give the unknown-key filter's bit. */
static inline uint64_t key_hash(uint64_t pfx, uint64_t tail, size_t n)
{
    return (pfx ^ (tail * 0x9E3779B97F4A7C15ull) ^ (uint64_t)n) * keys.mul;
}

static inline unsigned key_slot(uint64_t h)
{
    return (unsigned)(h >> (64 - KEY_BITS));
}

/* The 8 bytes at |k| + |at| as an integer (any byte order: compared, not ordered). */
static inline uint64_t load8(const char *k, size_t at)
{
    uint64_t x;

    memcpy(&x, k + at, 8);
    return x;
}

static void keys_init(void)
{
    for (uint64_t mul = 0xBF58476D1CE4E5B9ull;; mul += 0x9E3779B97F4A7C16ull) {
        int k;
        memset(keys.slot, 0, sizeof(keys.slot));
        keys.mul = mul;
        for (k = 0; k < XB_TK_COUNT; k++) {
            struct key_ent *e = &keys.e[k];
            size_t n = strlen(key_names[k]);
            unsigned h;
            e->len = n;
            e->pfx = key_prefix_n(key_names[k], n);
            e->tail = key_tail(key_names[k], n);
            e->mid[0] = n > 16 ? load8(key_names[k], 8) : 0;
            e->mid[1] = n > 16 ? load8(key_names[k], n - 16) : 0;
            h = key_slot(key_hash(e->pfx, e->tail, n));
            if (keys.slot[h])
                break; /* two keys share a slot: next multiplier */
            keys.slot[h] = (uint8_t)(k + 1);
        }
        if (k == XB_TK_COUNT)
            return;
    }
}

/* The table is built when the program (or the library) is loaded, before any thread
 * can index attributes, so the per-span paths below read it without pthread_once(). */
__attribute__((constructor)) static void keys_init_at_load(void)
{
    pthread_once(&keys_once, keys_init);
}

/* Known key of the |n|-byte |k| with prefix |pfx|, tail |tail| and hash |h|, or -1. */
static inline int key_lookup(const char *k, size_t n, uint64_t pfx, uint64_t tail, uint64_t h)
{
    unsigned s = keys.slot[key_slot(h)];
    const struct key_ent *e;

    if (!s)
        return -1;
    e = &keys.e[s - 1];
    if (((e->pfx ^ pfx) | (e->tail ^ tail) | (e->len ^ (uint64_t)n)) != 0)
        return -1;
    if (n > 32)
        return memcmp(key_names[s - 1] + 8, k + 8, n - 16) == 0 ? (int)s - 1 : -1;
    if (n > 16 && ((e->mid[0] ^ load8(k, 8)) | (e->mid[1] ^ load8(k, n - 16))) != 0)
        return -1;
    return (int)s - 1;
}

int xb_tr_key_id(const char *key, size_t len)
{
    uint64_t pfx = key_prefix_n(key, len), tail = key_tail(key, len);

    pthread_once(&keys_once, keys_init);
    return key_lookup(key, len, pfx, tail, key_hash(pfx, tail, len));
}

const char *xb_tr_key_name(enum xb_tr_key k)
{
    return key_names[k];
}

/* ------------------------------------------------------------------ index */

/* Filter bit of an unknown key's hash: the 8 bits below the table index's. */
#define FILTER_BIT(h) ((unsigned)((h) >> (64 - KEY_BITS - 8)) & 255u)

int xb_tr_attrs_index(struct xb_tr_attrs *a, struct xb_arena *arena, xb_pb_kv *const *kv, size_t n)
{
    size_t i, j, m = 0;

    a->v = NULL;
    a->n = 0;
    memset(a->filter, 0, sizeof(a->filter));
    memset(a->present, 0, sizeof(a->present));
    if (n == 0 || !kv)
        return XB_OK;
    a->v = xb_arena_alloc(arena, n * sizeof(*a->v));
    if (!a->v)
        return XB_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        struct xb_tr_attr *e = &a->v[m];
        uint64_t h, tail;
        unsigned bit;
        int id;
        if (!kv[i])
            continue;
        e->key = kv[i]->key ? kv[i]->key : "";
        e->len = strlen(e->key);
        e->pfx = key_prefix_n(e->key, e->len);
        e->val = kv[i]->value;
        e->pos = (uint32_t)i;
        e->consumed = 0;
        e->hidden = 0;
        tail = key_tail(e->key, e->len);
        h = key_hash(e->pfx, tail, e->len);
        id = key_lookup(e->key, e->len, e->pfx, tail, h);
        e->kid = (int16_t)id;
        if (id >= 0) {
            /* first occurrence wins; later ones are invisible */
            if ((a->present[id >> 6] >> (id & 63)) & 1) {
                e->hidden = 1;
            } else {
                a->slot[id] = (uint32_t)(m + 1);
                a->present[id >> 6] |= 1ull << (id & 63);
            }
        } else {
            bit = FILTER_BIT(h);
            if ((a->filter[bit >> 6] >> (bit & 63)) & 1) {
                for (j = 0; j < m; j++)
                    if (a->v[j].kid < 0 && a->v[j].len == e->len && !a->v[j].hidden &&
                        key_eq(a->v[j].key, a->v[j].pfx, e->key, e->len)) {
                        e->hidden = 1;
                        break;
                    }
            }
            a->filter[bit >> 6] |= 1ull << (bit & 63);
        }
        m++;
    }
    a->n = m;
    return XB_OK;
}

struct xb_tr_attr *xb_tr_attrs_get_n(const struct xb_tr_attrs *a, const char *key, size_t len)
{
    uint64_t pfx = key_prefix_n(key, len), tail = key_tail(key, len);
    uint64_t h = key_hash(pfx, tail, len);
    unsigned bit;
    int id;
    size_t i;

    id = key_lookup(key, len, pfx, tail, h);
    if (id >= 0)
        return xb_tr_attrs_k(a, (enum xb_tr_key)id);
    bit = FILTER_BIT(h);
    if (!((a->filter[bit >> 6] >> (bit & 63)) & 1))
        return NULL;
    /* the first occurrence: the later ones are duplicates */
    for (i = 0; i < a->n; i++) {
        const struct xb_tr_attr *e = &a->v[i];
        if (e->kid < 0 && e->len == len && key_eq(e->key, e->pfx, key, len))
            return e->hidden ? NULL : &a->v[i];
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
        xb_jsonw_fail(w, XB_ERR_TOO_LARGE);
        return;
    }
    out = xb_arena_alloc(arena, olen + 1); /* EVP_EncodeBlock writes a NUL */
    if (!out) {
        xb_jsonw_fail(w, XB_ERR_NOMEM);
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
                xb_jsonw_fail(w, XB_ERR_NOMEM);
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
