/* translator/meta.c - see meta.h. */
#include "translator/meta.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/buf.h"
#include "core/err.h"
#include "core/jsonw.h"
#include "core/utf8.h"
#include "translator/jsonp.h"

#define RES_PREFIX "otel.resource."
#define META_PREFIX "aws.xray.metadata."

size_t xb_tr_meta_fix_key(const char *k, size_t n, int allow_dot, char *out)
{
    size_t i = 0, o = 0;

    while (i < n) {
        unsigned char c = (unsigned char)k[i];
        size_t l;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c == '.' && allow_dot)) {
            out[o++] = (char)c;
            i++;
            continue;
        }
        l = xb_utf8_char(k + i, n - i, NULL);
        out[o++] = '_';
        i += l ? l : 1;
    }
    out[o] = '\0';
    return o;
}

struct builder {
    struct xb_arena *arena;
    const struct xb_translator_config *cfg;
    struct xb_tr_xannot *annots;
    size_t n_annots, cap_annots;
    struct xb_tr_xmeta *meta;
    size_t n_meta, cap_meta;
    struct xb_tr_xns *ns;
    size_t n_ns, cap_ns;
    const xb_pb_any *ann_list; /* aws.xray.annotations array, or NULL */
};

static int in_list(const struct builder *b, const char *key)
{
    size_t i;

    if (!b->cfg->index_all_attributes)
        for (i = 0; i < b->cfg->n_indexed_attributes; i++)
            if (b->cfg->indexed_attributes[i] && strcmp(b->cfg->indexed_attributes[i], key) == 0)
                return 1;
    if (b->ann_list && b->ann_list->array_value) {
        const xb_pb_array *arr = b->ann_list->array_value;
        for (i = 0; i < arr->n_values; i++)
            if (xb_tr_any_type(arr->values[i]) == XB_ANY_STRING &&
                strcmp(xb_tr_any_str(arr->values[i]), key) == 0)
                return 1;
    }
    return 0;
}

static int add_annot(struct builder *b, const char *key, size_t n, const xb_pb_any *v)
{
    void *vec = b->annots;
    struct xb_tr_xannot *a;
    char *k = xb_arena_alloc(b->arena, n + 1);

    if (!k)
        return XB_ERR_NOMEM;
    a = xb_tr_vec_push(b->arena, &vec, &b->n_annots, &b->cap_annots, sizeof(*a));
    b->annots = vec;
    if (!a)
        return XB_ERR_NOMEM;
    a->key.n = xb_tr_meta_fix_key(key, n, b->cfg->allow_dot_in_annotation_keys, k);
    a->key.p = k;
    a->val = v;
    return XB_OK;
}

/* Whether the |n| bytes at |k| are all ASCII (below 0x80): from 16 bytes on, 16 per SSE2
 * load with the sign bits gathered once (the last load ending at the last byte); 8 bytes
 * per load otherwise, the last load overlapping the one before it; two overlapping 4-byte
 * loads below 8 bytes. */
static inline int all_ascii(const char *k, size_t n)
{
    const uint64_t high = 0x8080808080808080ull;
    uint64_t acc = 0, x;
    size_t i;

#if defined(__SSE2__)
    if (n >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(k + n - 16));
        for (i = 0; i + 16 < n; i += 16)
            v = _mm_or_si128(v, _mm_loadu_si128((const __m128i *)(const void *)(k + i)));
        return _mm_movemask_epi8(v) == 0;
    }
#endif
    if (n >= 8) {
        for (i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, k + i, 8);
            acc |= x;
        }
        memcpy(&x, k + n - 8, 8);
        return ((acc | x) & high) == 0;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, k, 4);
        memcpy(&b, k + n - 4, 4);
        return ((a | b) & 0x80808080u) == 0;
    }
    for (i = 0; i < n; i++)
        acc |= (unsigned char)k[i];
    return (acc & 0x80) == 0;
}

/*
 * |key| (|*n| bytes) as the JSON writer will print it: each byte that is not part of
 * well-formed UTF-8 becomes U+FFFD (core/jsonw.c does the same). Keys are compared and
 * deduplicated in this form, so two keys that differ only in invalid bytes cannot give
 * one object the same member twice. Returns |key| itself when it is well-formed (the
 * usual case), an arena copy otherwise, or NULL when the arena is exhausted.
 */
static const char *printable_key_slow(struct xb_arena *arena, const char *key, size_t *n)
{
    size_t i = 0, bad = 0, o = 0;
    char *out;

    while (i < *n && (unsigned char)key[i] < 0x80)
        i++;
    for (size_t j = i; j < *n;) {
        size_t l = (unsigned char)key[j] < 0x80 ? 1 : xb_utf8_char(key + j, *n - j, NULL);
        bad += l == 0;
        j += l ? l : 1;
    }
    if (!bad)
        return key;
    out = xb_arena_alloc(arena, *n + 2 * bad + 1);
    if (!out)
        return NULL;
    memcpy(out, key, i);
    o = i;
    while (i < *n) {
        size_t l = (unsigned char)key[i] < 0x80 ? 1 : xb_utf8_char(key + i, *n - i, NULL);
        if (l) {
            memcpy(out + o, key + i, l);
            o += l;
            i += l;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    *n = o;
    return out;
}

/* printable_key_slow() with ASCII keys (the usual case: nothing to replace) decided
 * inline. */
static inline const char *printable_key(struct xb_arena *arena, const char *key, size_t *n)
{
    return all_ascii(key, *n) ? key : printable_key_slow(arena, key, n);
}

static inline __attribute__((always_inline)) int add_meta(struct builder *b, const char *key,
                                                          size_t n, const xb_pb_any *v,
                                                          const struct xb_tr_jnode *j)
{
    struct xb_tr_xmeta *m;

    if (!(key = printable_key(b->arena, key, &n)))
        return XB_ERR_NOMEM;

    if (b->n_meta < b->cap_meta) {
        /* the usual case: xb_tr_meta_build() reserved room for every attribute; every
         * field is set below */
        m = &b->meta[b->n_meta++];
        m->raw = NULL;
        m->raw_n = 0;
        m->raw_plain = 0;
    } else {
        void *vec = b->meta;
        m = xb_tr_vec_push(b->arena, &vec, &b->n_meta, &b->cap_meta, sizeof(*m));
        b->meta = vec;
        if (!m)
            return XB_ERR_NOMEM;
    }
    m->key.p = key;
    m->key.n = n;
    m->val = v;
    m->j = j;
    return XB_OK;
}

static int add_ns(struct builder *b, const char *name, size_t n, const struct xb_tr_jnode *obj)
{
    void *vec = b->ns;
    struct xb_tr_xns *x;

    if (!(name = printable_key(b->arena, name, &n)))
        return XB_ERR_NOMEM;
    x = xb_tr_vec_push(b->arena, &vec, &b->n_ns, &b->cap_ns, sizeof(*x));

    b->ns = vec;
    if (!x)
        return XB_ERR_NOMEM;
    x->name.p = name;
    x->name.n = n;
    x->obj = obj;
    return XB_OK;
}

/* |n| <= 8 bytes at |p| as a big-endian integer, zero-padded: integer order is byte
 * order. */
static inline uint64_t load_be(const char *p, size_t n)
{
    uint64_t x = 0;

    memcpy(&x, p, n);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap64(x);
#elif !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#error "unknown byte order"
#endif
    return x;
}

/* memcmp() order over the common length, then the shorter first; eight bytes per
 * step inline (keys are short and often share an "otel.resource." prefix). */
static int str_cmp(struct xb_str a, struct xb_str b)
{
    size_t n = a.n < b.n ? a.n : b.n, i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t x = load_be(a.p + i, 8), y = load_be(b.p + i, 8);
        if (x != y)
            return x < y ? -1 : 1;
    }
    for (; i < n; i++)
        if (a.p[i] != b.p[i])
            return (unsigned char)a.p[i] < (unsigned char)b.p[i] ? -1 : 1;
    return a.n < b.n ? -1 : a.n > b.n;
}

/* Sorting helpers: stable by insertion order so that the last duplicate can win. */
struct sortent {
    uint64_t pfx; /* key_pfx(key): decides most comparisons */
    struct xb_str key;
    size_t pos;
};

/* The first 8 bytes of |k| big-endian, zero-padded: when two prefixes differ they
 * order the keys as str_cmp() does; when equal, str_cmp() decides. */
static inline uint64_t key_pfx(struct xb_str k)
{
    uint64_t p = 0;

    if (k.n >= 8)
        return load_be(k.p, 8);
    for (size_t i = 0; i < k.n; i++)
        p |= (uint64_t)(unsigned char)k.p[i] << (56 - 8 * i);
    return p;
}

static inline int sortent_cmp_inline(const struct sortent *a, const struct sortent *b)
{
    int c;

    if (a->pfx != b->pfx)
        return a->pfx < b->pfx ? -1 : 1;
    c = str_cmp(a->key, b->key);
    if (c)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int sortent_cmp(const void *pa, const void *pb)
{
    return sortent_cmp_inline(pa, pb);
}

/* sort_unique() for lists of more than 32 entries: the keys and positions sorted on
 * the side (qsort), then the entries put in that order. */
static size_t sort_unique_long(struct xb_arena *arena, void *base, size_t n, size_t elem)
{
    struct sortent *se;
    char *tmp, *b = base;
    size_t i, m = 0;

    if (n < 2)
        return n;
    se = xb_arena_alloc(arena, n * sizeof(*se));
    tmp = xb_arena_alloc(arena, n * elem);
    if (!se || !tmp)
        return (size_t)-1;
    for (i = 0; i < n; i++) {
        memcpy(&se[i].key, b + i * elem, sizeof(struct xb_str));
        se[i].pfx = key_pfx(se[i].key);
        se[i].pos = i;
    }
    qsort(se, n, sizeof(*se), sortent_cmp);
    memcpy(tmp, b, n * elem);
    for (i = 0; i < n; i++) {
        if (i + 1 < n && se[i].pfx == se[i + 1].pfx && str_cmp(se[i].key, se[i + 1].key) == 0)
            continue;
        memcpy(b + m * elem, tmp + se[i].pos * elem, elem);
        m++;
    }
    return m;
}

/*
 * Sorts |n| elements of |elem| bytes at *|base| whose first member is a struct xb_str
 * key, keeping only the last of equal keys; *|base| then points at the result (an arena
 * copy for short lists). Returns the new count or (size_t)-1 on NOMEM. Short lists (the
 * usual metadata list has about ten entries) are sorted as 16-byte records of key
 * prefix and position by insertion, stable like sort_unique_long(), and each entry is
 * copied once into place; inlined into each caller so that the copies have a constant
 * size.
 */
static inline __attribute__((always_inline)) size_t
sort_unique(struct xb_arena *arena, void **base, size_t n, size_t elem, uint8_t *keep)
{
    struct rec {
        uint64_t pfx;
        size_t pos;
    } r[32];
    const char *b = *base;
    char *out;
    size_t i, j, m = 0;

    if (n < 2)
        return n;
    if (n > 32)
        return sort_unique_long(arena, *base, n, elem);
    out = xb_arena_alloc(arena, n * elem);
    if (!out)
        return (size_t)-1;
    for (i = 0; i < n; i++) {
        struct xb_str k;
        struct rec t;
        memcpy(&k, b + i * elem, sizeof(k));
        t.pfx = key_pfx(k);
        t.pos = i;
        /* after the records of keys that are smaller or equal (equal ones came first) */
        for (j = i; j > 0; j--) {
            struct xb_str pk;
            if (r[j - 1].pfx < t.pfx)
                break;
            if (r[j - 1].pfx == t.pfx) {
                memcpy(&pk, b + r[j - 1].pos * elem, sizeof(pk));
                if (str_cmp(pk, k) <= 0)
                    break;
            }
            r[j] = r[j - 1];
        }
        r[j] = t;
    }
    for (i = 0; i < n; i++) {
        if (i + 1 < n && r[i].pfx == r[i + 1].pfx) {
            struct xb_str x, y;
            memcpy(&x, b + r[i].pos * elem, sizeof(x));
            memcpy(&y, b + r[i + 1].pos * elem, sizeof(y));
            if (str_cmp(x, y) == 0)
                continue; /* the later one wins */
        }
        if (keep)
            keep[m] = (uint8_t)r[i].pos;
        memcpy(out + m * elem, b + r[i].pos * elem, elem);
        m++;
    }
    *base = out;
    return m;
}

/* Whether the |n|-byte keys |a| and |b| are equal: fixed-size loads up to 16 bytes. */
static inline int same_key(const char *a, const char *b, size_t n)
{
    uint64_t x, y, u, v;

    if (n < 8)
        return key_pfx((struct xb_str){a, n}) == key_pfx((struct xb_str){b, n});
    if (n > 16)
        return memcmp(a, b, n) == 0;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    memcpy(&u, a + n - 8, 8);
    memcpy(&v, b + n - 8, 8);
    return x == y && u == v;
}

/*
 * sort_unique() of a span's metadata list (*|base|, |n| entries) through |rm|'s
 * remembered orders: a list with the keys of a remembered one, in the same order, is
 * put in that one's order (the sort depends on the keys and their order alone), any
 * other is sorted and its order remembered in place of the slot's. Same result and
 * return values as sort_unique().
 */
static size_t sort_meta(struct xb_arena *arena, struct xb_tr_res_meta *rm, void **base, size_t n)
{
    const struct xb_tr_xmeta *e = *base;
    struct xb_tr_meta_order *o, *slot[2];
    struct xb_tr_xmeta *out;
    uint8_t keep[XB_TR_META_ORDER_MAX];
    size_t i, m;
    uint64_t h = n;

    if (!rm || n < 2 || n > XB_TR_META_ORDER_MAX)
        return sort_unique(arena, base, n, sizeof(*e), NULL);
    /* two candidate slots, from the key lengths */
    for (i = 0; i < n; i++)
        h = (h + e[i].key.n) * 0x9E3779B97F4A7C15ull;
    slot[0] = &rm->orders[(h >> 59) % XB_TR_META_ORDERS];
    slot[1] = &rm->orders[(h >> 43) % XB_TR_META_ORDERS];
    for (int s = 0; s < 2; s++) {
        o = slot[s];
        if (o->n != n)
            continue;
        for (i = 0; i < n; i++)
            if (o->key[i].n != e[i].key.n || !same_key(o->key[i].p, e[i].key.p, e[i].key.n))
                break;
        if (i < n)
            continue;
        out = xb_arena_alloc(arena, o->m * sizeof(*out));
        if (!out)
            return (size_t)-1;
        for (i = 0; i < o->m; i++)
            out[i] = e[o->keep[i]];
        *base = out;
        return o->m;
    }
    /* remembered in an unused candidate slot, else in the second one */
    o = slot[0]->n == 0 ? slot[0] : slot[1];
    m = sort_unique(arena, base, n, sizeof(*e), keep);
    if (m == (size_t)-1)
        return m;
    o->n = (uint32_t)n;
    o->m = (uint32_t)m;
    for (i = 0; i < n; i++)
        o->key[i] = e[i].key;
    memcpy(o->keep, keep, m);
    return m;
}

static int span_attr(struct builder *b, const struct xb_tr_attr *e)
{
    size_t klen = e->len;
    const char *ns;
    size_t nslen;
    struct xb_tr_jnode *j;
    int rc;

    if (b->cfg->index_all_attributes) {
        if (xb_tr_any_annotatable(e->val))
            return add_annot(b, e->key, klen, e->val);
        return XB_OK;
    }
    if ((b->cfg->n_indexed_attributes || b->ann_list) && in_list(b, e->key)) {
        if (xb_tr_any_annotatable(e->val))
            return add_annot(b, e->key, klen, e->val);
        return XB_OK; /* indexed but not annotatable: dropped */
    }
    /* the key is longer than the prefix: a fixed-size comparison, no call */
    if (klen > sizeof(META_PREFIX) - 1 &&
        memcmp(e->key, META_PREFIX, sizeof(META_PREFIX) - 1) == 0 &&
        xb_tr_any_type(e->val) == XB_ANY_STRING) {
        const char *s = xb_tr_any_str(e->val);
        ns = e->key + sizeof(META_PREFIX) - 1;
        nslen = klen - (sizeof(META_PREFIX) - 1);
        rc = xb_tr_jsonp_parse(s, strlen(s), b->arena, &j);
        if (rc == XB_ERR_NOMEM)
            return rc;
        if (rc || (j->t != XB_TR_J_OBJ && j->t != XB_TR_J_NULL))
            return add_meta(b, e->key, klen, e->val, NULL); /* not a JSON object: keep text */
        if (nslen == 7 && strncasecmp(ns, "default", 7) == 0) {
            size_t i;
            if (j->t == XB_TR_J_OBJ)
                for (i = 0; i < j->n_kids; i++) {
                    rc = add_meta(b, j->kids[i].key.p, j->kids[i].key.n, NULL, &j->kids[i]);
                    if (rc)
                        return rc;
                }
            return XB_OK;
        }
        return add_ns(b, ns, nslen, j);
    }
    if (xb_tr_any_type(e->val) == XB_ANY_NONE)
        return XB_OK;
    return add_meta(b, e->key, klen, e->val, NULL);
}

/* Adds the attributes of |resource| with the "otel.resource." prefix: annotations when
 * indexed (b->ann_list included), else metadata. */
static int add_resource(struct builder *b, const xb_pb_resource *resource)
{
    size_t i, n_res = resource ? resource->n_attributes : 0;
    int rc = XB_OK;

    for (i = 0; i < n_res && rc == XB_OK; i++) {
        const xb_pb_kv *kv = resource->attributes[i];
        const char *k;
        size_t kl;
        char *full;
        if (!kv)
            continue;
        k = kv->key ? kv->key : "";
        kl = strlen(k);
        full = xb_arena_alloc(b->arena, sizeof(RES_PREFIX) + kl);
        if (!full)
            return XB_ERR_NOMEM;
        memcpy(full, RES_PREFIX, sizeof(RES_PREFIX) - 1);
        memcpy(full + sizeof(RES_PREFIX) - 1, k, kl + 1);
        if (xb_tr_any_annotatable(kv->value) && (b->cfg->index_all_attributes || in_list(b, full)))
            rc = add_annot(b, full, sizeof(RES_PREFIX) - 1 + kl, kv->value);
        else if (xb_tr_any_type(kv->value) != XB_ANY_NONE)
            rc = add_meta(b, full, sizeof(RES_PREFIX) - 1 + kl, kv->value, NULL);
    }
    return rc;
}

/* Forgets what xb_tr_meta_resource() built; the remembered orders stay (they do not
 * depend on the resource). */
static void res_meta_clear(struct xb_tr_res_meta *rm)
{
    rm->ready = 0;
    rm->annots = NULL;
    rm->n_annots = 0;
    rm->meta = NULL;
    rm->n_meta = 0;
}

void xb_tr_res_meta_init(struct xb_tr_res_meta *rm)
{
    res_meta_clear(rm);
    for (size_t i = 0; i < XB_TR_META_ORDERS; i++)
        rm->orders[i].n = 0; /* the rest of a slot is read only when n matches */
}

int xb_tr_meta_resource(const xb_pb_resource *resource, const struct xb_translator_config *cfg,
                        struct xb_arena *arena, struct xb_tr_res_meta *rm)
{
    struct builder b;
    struct xb_buf tmp;
    struct xb_jsonw w;
    size_t i, m, *off = NULL;
    char *raw;
    int rc;

    res_meta_clear(rm);
    memset(&b, 0, sizeof(b));
    b.arena = arena;
    b.cfg = cfg;
    xb_buf_init(&tmp, 0);
    rc = add_resource(&b, resource);
    if (rc)
        goto out;
    {
        void *v = b.annots;
        m = sort_unique(arena, &v, b.n_annots, sizeof(*b.annots), NULL);
        b.annots = v;
    }
    if (m == (size_t)-1)
        goto nomem;
    rm->annots = b.annots;
    rm->n_annots = m;
    {
        void *v = b.meta;
        m = sort_unique(arena, &v, b.n_meta, sizeof(*b.meta), NULL);
        b.meta = v;
    }
    if (m == (size_t)-1)
        goto nomem;
    rm->meta = b.meta;
    rm->n_meta = m;
    /* Each entry as the untrimmed writer puts it in "default", all of them as members of
     * one object, so entries that stay adjacent are spliced with one copy. */
    if (m == 0)
        goto done;
    off = xb_arena_alloc(arena, m * sizeof(*off));
    if (!off)
        goto nomem;
    if (cfg && cfg->embedded_documents) /* the form the documents are written in */
        xb_jsonw_init_embedded(&w, &tmp);
    else
        xb_jsonw_init(&w, &tmp);
    xb_jsonw_obj_begin(&w);
    for (i = 0; i < m; i++) {
        size_t plain = w.written + (i > 0);
        off[i] = tmp.len + (i > 0); /* past the separating comma */
        xb_jsonw_key(&w, b.meta[i].key.p, b.meta[i].key.n);
        xb_tr_any_write(&w, b.meta[i].val, arena, 0);
        b.meta[i].raw_n = (uint32_t)(tmp.len - off[i]);
        b.meta[i].raw_plain = (uint32_t)(w.written - plain);
    }
    rc = w.err;
    if (rc)
        goto out;
    if (tmp.len > UINT32_MAX)
        goto done; /* lengths kept in 32 bits (struct xb_tr_xmeta): written per document */
    raw = xb_arena_alloc(arena, tmp.len);
    if (!raw)
        goto nomem;
    memcpy(raw, tmp.data, tmp.len);
    for (i = 0; i < m; i++)
        b.meta[i].raw = raw + off[i];
done:
    rm->ready = 1;
    goto out;
nomem:
    rc = XB_ERR_NOMEM;
out:
    xb_buf_cleanup(&tmp);
    return rc;
}

/* Sorted, unique |a| (|na| entries) and |b| merged into |*out| (arena): on equal keys
 * |b|'s entry wins. Entries are |elem| bytes with a struct xb_str key first. Returns
 * the count or (size_t)-1 on NOMEM. */
static inline __attribute__((always_inline)) size_t merge_sorted(struct xb_arena *arena,
                                                                 const void *a, size_t na,
                                                                 const void *b, size_t nb,
                                                                 size_t elem, void **out)
{
    const char *pa = a, *pb = b;
    char *o;
    size_t i = 0, j = 0, n = 0;

    if (na == 0) {
        *out = (void *)b;
        return nb;
    }
    o = xb_arena_alloc(arena, (na + nb) * elem);
    if (!o)
        return (size_t)-1;
    while (i < na || j < nb) {
        int c;
        if (i == na)
            c = 1;
        else if (j == nb)
            c = -1;
        else
            c = str_cmp(*(const struct xb_str *)(pa + i * elem),
                        *(const struct xb_str *)(pb + j * elem));
        if (c < 0) {
            memcpy(o + n++ * elem, pa + i++ * elem, elem);
        } else {
            memcpy(o + n++ * elem, pb + j++ * elem, elem);
            i += c == 0;
        }
    }
    *out = o;
    return n;
}

/* Entries of xb_tr_meta_build()'s list on its stack (48 bytes each). */
#define META_LOCAL 32

int xb_tr_meta_build(struct xb_tr_attrs *attrs, const xb_pb_resource *resource, int store_resource,
                     struct xb_tr_res_meta *rm, const struct xb_translator_config *cfg,
                     struct xb_arena *arena, struct xb_tr_xdoc *d)
{
    struct builder b;
    struct xb_tr_attr *e;
    /* the metadata list while it is built, without annotation keys (the usual case): the
     * sort copies it into the arena, so the live attributes need not be counted first */
    struct xb_tr_xmeta local[META_LOCAL];
    size_t i, live = 0, n_res = resource ? resource->n_attributes : 0, m;
    int rc = XB_OK, cached, indexing;

    memset(&b, 0, sizeof(b));
    b.arena = arena;
    b.cfg = cfg;
    e = xb_tr_attrs_live_k(attrs, XB_TK_ENDUSER_ID);
    if (e) {
        const char *u = xb_tr_any_str(e->val);
        d->user.p = u;
        d->user.n = strlen(u);
        e->consumed = 1;
    }
    /* a live list counts as a live attribute, so this is the same when nothing is */
    e = xb_tr_attrs_live_k(attrs, XB_TK_AWS_XRAY_ANNOTATIONS);
    if (e && xb_tr_any_type(e->val) == XB_ANY_ARRAY) {
        b.ann_list = e->val;
        e->consumed = 1;
        live = 1;
    }
    indexing = cfg->index_all_attributes || cfg->n_indexed_attributes || b.ann_list;
    if (indexing) {
        for (i = 0; i < attrs->n; i++)
            live += !attrs->v[i].consumed && !attrs->v[i].hidden;
    } else {
        live = attrs->n; /* an upper bound: only whether it is 0 matters below */
    }
    if (live == 0 && (!store_resource || n_res == 0))
        goto out;

    /* The resource's entries come first, so the span's win on equal keys. Without a
     * span-level annotation list they are the same for every segment: merged below
     * from the lists built once per ResourceSpans. */
    cached = store_resource && rm && rm->ready && !b.ann_list;
    if (indexing) {
        /* Room for every entry up front: no regrowth while adding. */
        b.cap_meta = live + (store_resource && !cached ? n_res : 0);
        b.meta = b.cap_meta ? xb_arena_alloc(arena, b.cap_meta * sizeof(*b.meta)) : NULL;
    } else {
        /* on the stack; a longer list moves to the arena (xb_tr_vec_push()) */
        b.cap_meta = META_LOCAL;
        b.meta = local;
    }
    b.cap_annots = indexing ? b.cap_meta : 0;
    b.annots = b.cap_annots ? xb_arena_alloc(arena, b.cap_annots * sizeof(*b.annots)) : NULL;
    if ((b.cap_meta && !b.meta) || (b.cap_annots && !b.annots)) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    if (store_resource && !cached) {
        rc = add_resource(&b, resource);
        if (rc)
            goto out;
    }
    /* Span attributes in their original order (the index keeps it), so "last duplicate
     * wins" is well defined. */
    for (i = 0; live && i < attrs->n && rc == XB_OK; i++)
        if (!attrs->v[i].consumed && !attrs->v[i].hidden)
            rc = span_attr(&b, &attrs->v[i]);
    if (rc)
        goto out;

    {
        void *v = b.annots;
        m = sort_unique(arena, &v, b.n_annots, sizeof(*b.annots), NULL);
        b.annots = v;
    }
    if (m == (size_t)-1)
        goto nomem;
    d->annots = b.annots;
    d->n_annots = m;
    if (cached) {
        void *v;
        m = merge_sorted(arena, rm->annots, rm->n_annots, b.annots, m, sizeof(*b.annots), &v);
        if (m == (size_t)-1)
            goto nomem;
        d->annots = v;
        d->n_annots = m;
    }
    {
        void *v = b.meta;
        m = sort_meta(arena, rm, &v, b.n_meta);
        b.meta = v;
    }
    if (m == (size_t)-1)
        goto nomem;
    if (b.meta == local) { /* left in place: fewer than two entries */
        struct xb_tr_xmeta *copy = m ? xb_arena_alloc(arena, m * sizeof(*copy)) : NULL;
        if (m && !copy)
            goto nomem;
        if (m)
            memcpy(copy, local, m * sizeof(*copy));
        b.meta = copy;
    }
    d->meta = b.meta;
    d->n_meta = m;
    if (cached) {
        void *v;
        m = merge_sorted(arena, rm->meta, rm->n_meta, b.meta, m, sizeof(*b.meta), &v);
        if (m == (size_t)-1)
            goto nomem;
        d->meta = v;
        d->n_meta = m;
    }
    {
        void *v = b.ns;
        m = sort_unique(arena, &v, b.n_ns, sizeof(*b.ns), NULL);
        b.ns = v;
    }
    if (m == (size_t)-1)
        goto nomem;
    d->ns = b.ns;
    d->n_ns = m;
    goto out;
nomem:
    rc = XB_ERR_NOMEM;
out:
    return rc;
}
