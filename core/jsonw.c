/* core/jsonw.c - see jsonw.h. */
#include "core/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void xb_jsonw_init(struct xb_jsonw *w, struct xb_buf *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
}

void xb_jsonw_init_embedded(struct xb_jsonw *w, struct xb_buf *b)
{
    xb_jsonw_init(w, b);
    w->embedded = 1;
}

void xb_jsonw_fail(struct xb_jsonw *w, int rc)
{
    if (!w->err)
        w->err = rc;
    w->room_end = 0;
    w->emb_end = 0;
}

/* Sets w->emb_end (struct xb_jsonw) after a write in embedded mode that took the
 * general path. */
static void set_emb_end(struct xb_jsonw *w)
{
    const struct xb_buf *b = w->b;

    w->emb_end = w->embedded && !w->err && !b->max && b->data && !w->limit ? b->cap : 0;
}

/*
 * Sets w->room_end from the state room_for() used to test at every write: 0 (every
 * write takes the general path) after an error or on a capped buffer; otherwise the
 * buffer's capacity, lowered when a limit is set to the length at which |written|
 * would pass it. Fast writes add the same count to b->len and |written|, so the bound
 * holds until the next general-path write sets it again.
 */
static void set_room_end(struct xb_jsonw *w)
{
    const struct xb_buf *b = w->b;
    size_t end = 0;

    /* Embedded mode: room_end stays 0, every write goes through emit_slow(). */
    if (!w->err && !b->max && b->data && !w->embedded) {
        end = b->cap;
        if (w->limit && w->written > w->limit)
            end = 0;
        else if (w->limit && b->len + (w->limit - w->written) + 1 < end)
            end = b->len + (w->limit - w->written) + 1;
    }
    w->room_end = end;
}

/*
 * Offset of the first '"' or '\\' in the |n| bytes at |s|, or |n|: 16 bytes per step with
 * SSE2. The only bytes of writer output that need escaping once more to embed it (it
 * holds no control characters and only valid UTF-8).
 */
static inline size_t next_quote_or_bs(const char *s, size_t n)
{
    size_t i = 0;

#if defined(__SSE2__)
    const __m128i qu = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (; n - i >= 16; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, qu), _mm_cmpeq_epi8(x, bs)));
        if (m)
            return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    for (; i < n; i++)
        if (s[i] == '"' || s[i] == '\\')
            break;
    return i;
}

/* Writes the |n| bytes at |p| to |d| (room for 2 * |n|) with a backslash before each
 * '"' and '\\' (the bytes xb_jsonw_embed() gives for writer output); returns the end. */
static inline char *escape_into(char *d, const char *p, size_t n)
{
    size_t i, k;

    if (n < 16) {
        for (i = 0; i < n; i++) {
            char c = p[i];
            d[0] = '\\'; /* kept only when |c| needs it, else overwritten by |c| */
            d += c == '"' || c == '\\';
            *d++ = c;
        }
        return d;
    }
    for (i = 0; i < n;) {
        k = next_quote_or_bs(p + i, n - i);
        memcpy(d, p + i, k);
        d += k;
        i += k;
        if (i < n) {
            d[0] = '\\';
            d[1] = p[i++];
            d += 2;
        }
    }
    return d;
}

/* Appends the |n| bytes of plain writer output at |p| to |b| in embedded form
 * (escape_into()). Returns XB_OK or the xb_buf_reserve() error. */
static int append_embedded(struct xb_buf *b, const char *p, size_t n)
{
    size_t need = n, i;
    char *d;
    int rc;

    if (b->max) /* a capped buffer: ask for the exact size */
        for (i = next_quote_or_bs(p, n); i < n; i += 1 + next_quote_or_bs(p + i + 1, n - i - 1))
            need++;
    else
        need = 2 * n;
    if (b->cap - b->len <= need || !b->data) {
        rc = xb_buf_reserve(b, need);
        if (rc)
            return rc;
    }
    d = escape_into(b->data + b->len, p, n);
    b->len = (size_t)(d - b->data);
    b->data[b->len] = '\0';
    return XB_OK;
}

/* Counts |n| plain bytes towards |written|. Returns 1 when they may be written: no
 * error so far, and |limit| not passed (passing it sets XB_ERR_TOO_LARGE). */
static inline int count_plain(struct xb_jsonw *w, size_t n)
{
    w->written += n;
    if (w->err)
        return 0;
    if (w->limit && w->written > w->limit) {
        w->err = XB_ERR_TOO_LARGE;
        return 0;
    }
    return 1;
}

/* Embedded mode's emit(): |n| plain bytes count towards |written| and |limit| and are
 * appended in embedded form. Embedded writers keep room_end at 0, so every emit() of
 * theirs comes here. */
static void emit_embedded(struct xb_jsonw *w, const char *p, size_t n)
{
    struct xb_buf *b = w->b;
    char *d;
    int rc;

    if (!count_plain(w, n))
        goto out;
    if (b->max || !b->data || b->cap - b->len <= 2 * n) {
        rc = append_embedded(b, p, n);
        if (rc)
            w->err = rc;
        goto out;
    }
    d = escape_into(b->data + b->len, p, n);
    b->len = (size_t)(d - b->data);
    b->data[b->len] = '\0';
out:
    set_emb_end(w);
}

/* Embedded mode: whether |out| bytes standing for |plain| plain bytes can be written in
 * place now (no error, room reserved, |limit| not passed); the caller then adds them to
 * b->len and |written|. */
static inline int emb_room(const struct xb_jsonw *w, size_t out, size_t plain)
{
    const struct xb_buf *b = w->b;

    if (b->len + out < w->emb_end)
        return 1; /* the usual case: no limit, room reserved */
    return w->limit && !w->err && !b->max && b->data && b->cap - b->len > out &&
           w->written + plain <= w->limit;
}

/* Embedded mode: the escaped quotes around |n| bytes already at d + 2, that is \" at d and
 * at d + n + 2 (no terminating NUL). */
static inline void emb_quotes(char *d, size_t n)
{
    d[0] = '\\';
    d[1] = '"';
    d[n + 2] = '\\';
    d[n + 3] = '"';
}

/* Embedded mode: finishes a string value whose |n| bytes are already at d + 2 (d is the
 * end of the output): its quotes, the NUL, and the counts (|n| + 2 plain bytes). */
static inline void emb_quoted_done(struct xb_jsonw *w, char *d, size_t n)
{
    emb_quotes(d, n);
    d[n + 4] = '\0';
    w->b->len += n + 4;
    w->written += n + 2;
}

/* General case of emit(): error state, size limit, growing the buffer; then the bound of
 * the fast paths is set again. |n| counts towards |written| and |limit|; in embedded
 * mode the bytes are appended in embedded form. */
static void emit_slow(struct xb_jsonw *w, const char *p, size_t n)
{
    int rc;

    if (w->embedded) {
        emit_embedded(w, p, n);
        return;
    }
    if (!count_plain(w, n))
        goto out;
    if (w->b->cap - w->b->len > n && !w->b->max) {
        /* Room already reserved: copy without the bookkeeping of xb_buf_append. */
        memcpy(w->b->data + w->b->len, p, n);
        w->b->len += n;
        w->b->data[w->b->len] = '\0';
        goto out;
    }
    rc = xb_buf_append(w->b, p, n);
    if (rc)
        w->err = rc;
out:
    set_room_end(w);
}

/* Whether |n| bytes (and the NUL after them) can be written in place at the end of the
 * buffer: no error so far, no capped buffer, room already reserved, and the document
 * limit not reached, all folded into w->room_end (set_room_end()). Every inline fast
 * path asks this; the others go through emit_slow(). */
static inline int room_for(const struct xb_jsonw *w, size_t n)
{
    return w->b->len + n < w->room_end;
}

void xb_jsonw_ready(struct xb_jsonw *w)
{
    set_room_end(w);
    set_emb_end(w);
}

/* Appends |n| bytes: inline when the room is reserved and no limit is near (the usual
 * case for punctuation and short values), emit_slow() otherwise. */
static inline void emit(struct xb_jsonw *w, const char *p, size_t n)
{
    struct xb_buf *b = w->b;

    if (room_for(w, n)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        w->written += n;
        return;
    }
    emit_slow(w, p, n);
}

/* emit() of bytes that never need escaping (punctuation, numbers, true, false, null):
 * the same as emit(), and in embedded mode copied in place when there is room. */
static inline void emit_noesc(struct xb_jsonw *w, const char *p, size_t n)
{
    struct xb_buf *b = w->b;

    if (room_for(w, n) || (w->embedded && emb_room(w, n, n))) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        w->written += n;
        return;
    }
    emit_slow(w, p, n);
}

/* Comma before every member/element except the first; none right after a key. */
static void pre_value(struct xb_jsonw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->need_comma[w->depth])
        emit_noesc(w, ",", 1);
    w->need_comma[w->depth] = 1;
}

static void open_c(struct xb_jsonw *w, char c)
{
    pre_value(w);
    if (w->depth >= XB_JSONW_MAX_DEPTH) {
        xb_jsonw_fail(w, XB_ERR_INVALID);
        return;
    }
    emit_noesc(w, &c, 1);
    w->depth++;
    w->need_comma[w->depth] = 0;
}

static void close_c(struct xb_jsonw *w, char c)
{
    if (w->depth == 0) {
        xb_jsonw_fail(w, XB_ERR_INVALID);
        return;
    }
    emit_noesc(w, &c, 1);
    w->depth--;
}

void xb_jsonw_obj_begin(struct xb_jsonw *w)
{
    open_c(w, '{');
}

void xb_jsonw_obj_end(struct xb_jsonw *w)
{
    struct xb_buf *b = w->b;

    if (w->depth && (room_for(w, 1) || b->len + 1 < w->emb_end)) {
        /* the usual case: one store for the brace, one for the NUL (in both forms) */
        b->data[b->len] = '}';
        b->data[++b->len] = '\0';
        w->written++;
        w->depth--;
        return;
    }
    close_c(w, '}');
}

void xb_jsonw_arr_begin(struct xb_jsonw *w)
{
    open_c(w, '[');
}

void xb_jsonw_arr_end(struct xb_jsonw *w)
{
    close_c(w, ']');
}

/*
 * 0 when none of the 8 bytes at |p| needs attention from the escaper: all are printable
 * ASCII (0x20..0x7f) other than '"' and '\\'. The tests are exact for "some byte
 * matches" (per-byte borrows only reach a byte above a matching one), so a non-zero
 * answer just sends the caller to the byte-by-byte path.
 */
static inline uint64_t needs_escape8(const char *p)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t x, q, b;

    memcpy(&x, p, sizeof(x));
    q = x ^ (ones * '"');
    b = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & high;
}

#if defined(__SSE2__)
/*
 * Bit i set when byte i of |x| needs escaping: below 0x20, '"', '\\' or >= 0x80 (negative
 * as a signed byte), as needs_escape8() decides. x ^ 2 takes '"' (0x22) to 0x20, keeps
 * 0x00-0x1f among themselves, bytes >= 0x80 negative and every other byte at or above
 * 0x24, so one signed compare with 0x21 finds all but '\\', which one equality compare
 * finds (two compares instead of three).
 */
static inline unsigned esc_mask16(__m128i x)
{
    __m128i t = _mm_xor_si128(x, _mm_set1_epi8(2));

    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(t, _mm_set1_epi8(0x21)),
                                                    _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
}
#endif

/*
 * The |n| (1 to 16) bytes that short_clean_copy() checks, given as |lo| (bytes 0-7) and
 * |hi| (bytes 8-15, only the first |n| - 8 used): non-zero when one of them needs
 * escaping, as needs_escape8() decides for each. With SSE2 both halves are tested with
 * one signed compare with 0x20 (which also catches bytes >= 0x80) and two equality
 * compares, instead of two 8-byte SWAR tests.
 */
static inline unsigned needs_escape_pair(uint64_t lo, uint64_t hi, size_t n)
{
#if defined(__SSE2__)
    return esc_mask16(_mm_set_epi64x((long long)hi, (long long)lo)) & ((1u << n) - 1);
#else
    uint64_t r = needs_escape8((const char *)&lo);

    if (n > 8)
        r |= needs_escape8((const char *)&hi);
    return r != 0;
#endif
}

/*
 * Length of the longest prefix of the |n| bytes at |s| that needs no escaping
 * (printable ASCII other than '"' and '\\'): 16 bytes per step with SSE2 (a signed
 * compare with 0x20 also catches bytes >= 0x80), then 8 with needs_escape8(), then
 * byte by byte.
 */
static inline size_t clean_prefix(const char *s, size_t n)
{
    size_t i = 0;

#if defined(__SSE2__)
    if (n >= 16) {
        for (;;) {
            /* The last block overlaps the previous one: bytes before |i| are clean, so
             * the first flagged byte is still the first one past |i|. */
            size_t at = n - i >= 16 ? i : n - 16;
            unsigned m = esc_mask16(_mm_loadu_si128((const __m128i *)(const void *)(s + at)));
            if (m)
                return at + (size_t)__builtin_ctz(m);
            if (at + 16 == n)
                return n;
            i = at + 16;
        }
    }
#endif
    while (n - i >= 8 && !needs_escape8(s + i))
        i += 8;
    /* A last 8-byte block overlapping the clean bytes before it. */
    if (n >= 8 && i < n && n - i < 8 && !needs_escape8(s + n - 8))
        return n;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            break;
    }
    return i;
}

/*
 * The one JSON string escaper: writes the contents of a JSON string (no quotes) for |n|
 * bytes of |s|. Printable ASCII and well-formed UTF-8 pass through unchanged.
 */
static void put_escaped_body(struct xb_jsonw *w, const char *s, size_t n, size_t clean)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = clean, start = 0;

    while (i < n) {
        unsigned char c;
        char esc[8];
        size_t elen = 0, adv = 1;

        /* Most text needs no escaping: skip it in blocks. */
        i += clean_prefix(s + i, n - i);
        if (i >= n)
            break;
        c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = xb_utf8_char(s + i, n - i, NULL);
            if (l == 3 && c == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
                ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
                /* U+2028/U+2029 are valid JSON but break JavaScript parsers. */
                memcpy(esc, (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                elen = 6;
                adv = 3;
            } else if (l) {
                i += l;
                continue;
            } else {
                memcpy(esc, "\xEF\xBF\xBD", 3); /* U+FFFD for each invalid byte */
                elen = 3;
            }
        } else {
            esc[0] = '\\';
            elen = 2;
            switch (c) {
            case '"':
                esc[1] = '"';
                break;
            case '\\':
                esc[1] = '\\';
                break;
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            case '\b':
                esc[1] = 'b';
                break;
            case '\f':
                esc[1] = 'f';
                break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                elen = 6;
            }
        }
        if (i > start)
            emit(w, s + start, i - start);
        emit(w, esc, elen);
        i += adv;
        start = i;
    }
    if (i > start)
        emit(w, s + start, i - start);
}

/*
 * Copies the |n| <= 16 bytes at |s| to |d| when none needs escaping, checking and
 * copying with the same fixed-size loads (two overlapping 8- or 4-byte reads, or the
 * first, middle and last byte; never past the string). Returns 1 when copied, 0 when a
 * byte needs escaping (|d| may then hold part of the string).
 */
static inline int short_clean_copy(char *d, const char *s, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        if (needs_escape_pair(x, y, 16))
            return 0;
        memcpy(d, &x, 8);
        memcpy(d + n - 8, &y, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        uint64_t v;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        v = (uint64_t)x | (uint64_t)y << 32;
        if (needs_escape_pair(v, 0, 8))
            return 0;
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n > 0) {
        /* with clean padding in the other five bytes */
        char v[8] = {s[0], s[n >> 1], s[n - 1], 'a', 'a', 'a', 'a', 'a'};
        if (needs_escape8(v))
            return 0;
        d[0] = v[0];
        d[n >> 1] = v[1];
        d[n - 1] = v[2];
    }
    return 1;
}

/*
 * Short strings (at most 16 bytes), the usual key or attribute value: written with
 * their quotes and |sfx| (0 or ':') straight into room already reserved, through
 * short_clean_copy(). Returns 0, committing nothing, when a byte needs escaping or the
 * room or limit does not allow it; the caller then takes the general path.
 */
static inline int put_short_clean(struct xb_jsonw *w, const char *s, size_t n, char sfx)
{
    struct xb_buf *b = w->b;
    size_t tot = n + 2 + (sfx != 0);
    char *d;

    if (n > 16 || !room_for(w, tot))
        return 0;
    d = b->data + b->len;
    if (!short_clean_copy(d + 1, s, n))
        return 0;
    d[0] = '"';
    d[n + 1] = '"';
    if (sfx)
        d[n + 2] = sfx;
    d[tot] = '\0';
    b->len += tot;
    w->written += tot;
    return 1;
}

/*
 * Copies the clean prefix of the |n| bytes at |s| (see clean_prefix()) to |d| while
 * scanning it, 16 bytes per load with SSE2, and returns its length; |d| has room for
 * |n| bytes. Bytes of |d| past the returned length may have been written too.
 */
static inline size_t copy_clean(char *d, const char *s, size_t n)
{
    size_t i;

#if defined(__SSE2__)
    if (n >= 16) {
        for (i = 0;;) {
            /* The last block overlaps the previous one, as in clean_prefix(). */
            size_t at = n - i >= 16 ? i : n - 16;
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + at));
            unsigned m = esc_mask16(x);
            if (m)
                return at + (size_t)__builtin_ctz(m);
            _mm_storeu_si128((__m128i *)(void *)(d + at), x);
            if (at + 16 == n)
                return n;
            i = at + 16;
        }
    }
#endif
    i = clean_prefix(s, n);
    if (i == n)
        memcpy(d, s, n);
    return i;
}

/* Copies the |n| bytes at |s| to |d| when none needs escaping: short_clean_copy() up to
 * 16 bytes, copy_clean() beyond. Returns 1 when copied, 0 otherwise (|d| may then hold
 * part of the string). */
static inline int clean_copy(char *d, const char *s, size_t n)
{
    return n <= 16 ? short_clean_copy(d, s, n) : copy_clean(d, s, n) == n;
}

/* Embedded mode's put_escaped(): a string that needs no escaping is written as \"s\" in
 * place, one scan and copy; others take the general path through emit_embedded(). */
static void put_escaped_embedded(struct xb_jsonw *w, const char *s, size_t n)
{
    struct xb_buf *b = w->b;

    if (emb_room(w, n + 4, n + 2)) {
        char *d = b->data + b->len;
        if (clean_copy(d + 2, s, n)) {
            emb_quoted_done(w, d, n);
            return;
        }
    }
    emit(w, "\"", 1);
    put_escaped_body(w, s, n, 0);
    emit(w, "\"", 1);
}

static void put_escaped(struct xb_jsonw *w, const char *s, size_t n)
{
    struct xb_buf *b = w->b;
    size_t i;

    if (w->embedded) {
        put_escaped_embedded(w, s, n);
        return;
    }
    if (put_short_clean(w, s, n, 0))
        return;
    if (room_for(w, n + 2)) {
        /* Room reserved: text that needs no escaping is scanned and copied in one pass,
         * then given its quotes (same bytes as the general path below). */
        char *d = b->data + b->len;
        i = copy_clean(d + 1, s, n);
        if (i == n) {
            d[0] = '"';
            d[n + 1] = '"';
            d[n + 2] = '\0';
            b->len += n + 2;
            w->written += n + 2;
            return;
        }
    } else {
        i = clean_prefix(s, n);
    }
    emit(w, "\"", 1);
    put_escaped_body(w, s, n, i); /* the first i bytes are known clean */
    emit(w, "\"", 1);
}

int xb_jsonw_escape(struct xb_buf *b, const char *s, size_t n)
{
    struct xb_jsonw w;
    int rc;

    /* Room for the text plus typical escaping up front: usually one allocation. */
    rc = xb_buf_reserve(b, n + n / 8 + 16);
    if (rc)
        return rc;
    xb_jsonw_init(&w, b);
    put_escaped_body(&w, s, n, 0);
    return w.err;
}

void xb_jsonw_key(struct xb_jsonw *w, const char *k, size_t n)
{
    pre_value(w);
    if (!k)
        k = "", n = 0;
    if (w->max_str)
        n = xb_utf8_cut(k, n, w->max_str);
    w->after_key = 1;
    if (put_short_clean(w, k, n, ':'))
        return;
    put_escaped(w, k, n);
    emit_noesc(w, ":", 1);
}

int xb_jsonw_keys_collide(const struct xb_jsonw *w, const char *a, size_t an, const char *b,
                          size_t bn)
{
    if (w->max_str) {
        an = xb_utf8_cut(a, an, w->max_str);
        bn = xb_utf8_cut(b, bn, w->max_str);
    }
    return an == bn && memcmp(a, b, an) == 0;
}

/* Copies |n| bytes from |s| to |d| (not overlapping) for |n| from 17 to 48 with two or
 * three 16-byte moves, the last one ending at the last byte (never past it), so that
 * ids, trace ids and numbers need no memcpy call; memcpy otherwise. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
    char x[16], y[16], z[16];

    if (n < 17 || n > 48) {
        memcpy(d, s, n);
        return;
    }
    memcpy(x, s, 16);
    memcpy(z, s + n - 16, 16);
    if (n > 32) {
        memcpy(y, s + 16, 16);
        memcpy(d + 16, y, 16);
    }
    memcpy(d, x, 16);
    memcpy(d + n - 16, z, 16);
}

/* Copies the |n|-byte field name (or id) |k| to |d|: up to 16 bytes with fixed-size
 * copies (two overlapping 8- or 4-byte moves, or the first, middle and last byte), no
 * memcpy call; longer ones through copy_bytes(). */
static inline void copy_name(char *d, const char *k, size_t n)
{
    if (n > 16) {
        copy_bytes(d, k, n);
    } else if (n >= 8) {
        memcpy(d, k, 8);
        memcpy(d + n - 8, k + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, k, 4);
        memcpy(d + n - 4, k + n - 4, 4);
    } else if (n > 0) {
        d[0] = k[0];
        d[n >> 1] = k[n >> 1];
        d[n - 1] = k[n - 1];
    }
}

/*
 * Embedded mode: writes the member [,]\"k\":\"v\" (|sn| != (size_t)-1) or the opening
 * [,]\"k\":{ (|sn| == (size_t)-1) in place, when there is room and no limit near: key
 * |k| copied as is (|check_key| 0: a field name) or when it needs no escaping, value
 * |s| when it needs none. Returns 0, committing nothing, otherwise.
 */
static inline __attribute__((always_inline)) int
emb_member(struct xb_jsonw *w, const char *k, size_t kn, int check_key, const char *s, size_t sn)
{
    struct xb_buf *b = w->b;
    size_t c = w->need_comma[w->depth] ? 1 : 0, tot, plain;
    char *d;

    if (sn == (size_t)-1)
        tot = c + kn + 6, plain = c + kn + 4;
    else
        tot = c + kn + sn + 9, plain = c + kn + sn + 5;
    if (!emb_room(w, tot, plain))
        return 0;
    d = b->data + b->len;
    if (check_key) {
        if (!clean_copy(d + c + 2, k, kn))
            return 0;
    } else {
        copy_name(d + c + 2, k, kn); /* a field name */
    }
    if (sn != (size_t)-1 && !clean_copy(d + c + kn + 7, s, sn))
        return 0;
    d[0] = ','; /* overwritten when no comma is due */
    emb_quotes(d + c, kn);
    d[c + kn + 4] = ':';
    if (sn == (size_t)-1)
        d[c + kn + 5] = '{';
    else
        emb_quotes(d + c + kn + 5, sn);
    d[tot] = '\0';
    b->len += tot;
    w->written += plain;
    w->need_comma[w->depth] = 1;
    return 1;
}

void xb_jsonw_ckey_obj_n(struct xb_jsonw *w, const char *k, size_t n)
{
    struct xb_buf *b = w->b;
    size_t c, tot;
    char *d;

    if (w->after_key || n > 16 || w->depth >= XB_JSONW_MAX_DEPTH) {
        xb_jsonw_ckey_n(w, k, n);
        xb_jsonw_obj_begin(w);
        return;
    }
    if (w->embedded) {
        if (emb_member(w, k, n, 0, NULL, (size_t)-1)) {
            w->depth++;
            w->need_comma[w->depth] = 0;
        } else {
            xb_jsonw_ckey_n(w, k, n);
            xb_jsonw_obj_begin(w);
        }
        return;
    }
    c = w->need_comma[w->depth] ? 1 : 0;
    tot = c + n + 4; /* [,]"k":{ */
    if (!room_for(w, tot)) {
        xb_jsonw_ckey_n(w, k, n);
        xb_jsonw_obj_begin(w);
        return;
    }
    d = b->data + b->len;
    d[0] = ','; /* overwritten by the quote when no comma is due */
    d[c] = '"';
    copy_name(d + c + 1, k, n); /* n <= 16: no memcpy call */
    d[c + n + 1] = '"';
    d[c + n + 2] = ':';
    d[c + n + 3] = '{';
    d[tot] = '\0';
    b->len += tot;
    w->written += tot;
    w->need_comma[w->depth] = 1;
    w->depth++;
    w->need_comma[w->depth] = 0;
}

void xb_jsonw_ckey_n(struct xb_jsonw *w, const char *k, size_t n)
{
    struct xb_buf *b = w->b;
    char tmp[64];

    pre_value(w);
    w->after_key = 1;
    if (w->embedded && emb_room(w, n + 5, n + 3)) {
        /* \"k\": in place (|k| needs no escaping, as for the plain mode's copy) */
        char *d = b->data + b->len;
        copy_name(d + 2, k, n); /* field names are short: no memcpy call */
        emb_quotes(d, n);
        d[n + 4] = ':';
        d[n + 5] = '\0';
        b->len += n + 5;
        w->written += n + 3;
        return;
    }
    if (room_for(w, n + 3)) {
        /* Room reserved: write '"', the key, '"' and ':' in place, one copy. */
        char *d = b->data + b->len;
        d[0] = '"';
        memcpy(d + 1, k, n);
        d[n + 1] = '"';
        d[n + 2] = ':';
        d[n + 3] = '\0';
        b->len += n + 3;
        w->written += n + 3;
        return;
    }
    if (n + 3 <= sizeof(tmp)) {
        tmp[0] = '"';
        memcpy(tmp + 1, k, n);
        tmp[n + 1] = '"';
        tmp[n + 2] = ':';
        emit(w, tmp, n + 3);
    } else {
        put_escaped(w, k, n);
        emit(w, ":", 1);
    }
}

/*
 * Completes a member [,]"k":"v" whose key (|kn| bytes) and value (|sn| bytes) were
 * copied to |d| + |c| + 1 and |d| + |c| + |kn| + 4, |c| being 1 when a comma is due:
 * writes the punctuation and commits the |tot| bytes.
 */
static inline void close_member(struct xb_jsonw *w, char *d, size_t c, size_t kn, size_t sn,
                                size_t tot)
{
    d[0] = ','; /* overwritten by the quote when no comma is due */
    d[c] = '"';
    d[c + kn + 1] = '"';
    d[c + kn + 2] = ':';
    d[c + kn + 3] = '"';
    d[c + kn + sn + 4] = '"';
    d[tot] = '\0';
    w->b->len += tot;
    w->written += tot;
    w->need_comma[w->depth] = 1;
}

void xb_jsonw_ckey_str(struct xb_jsonw *w, const char *k, size_t kn, const char *s, size_t sn)
{
    struct xb_buf *b = w->b;
    size_t c, tot;
    char *d;

    if (!s || w->after_key || (w->max_str && sn > w->max_str))
        goto general;
    if (w->embedded) {
        if (emb_member(w, k, kn, 0, s, sn))
            return;
        goto general;
    }
    c = w->need_comma[w->depth] ? 1 : 0;
    tot = c + kn + sn + 5; /* [,]"k":"v" */
    if (!room_for(w, tot))
        goto general;
    d = b->data + b->len;
    if (!clean_copy(d + c + kn + 4, s, sn))
        goto general;            /* nothing committed: len and written unchanged */
    copy_name(d + c + 1, k, kn); /* field names are short: no memcpy call */
    close_member(w, d, c, kn, sn, tot);
    return;
general:
    xb_jsonw_ckey_n(w, k, kn);
    xb_jsonw_str(w, s, sn);
}

void xb_jsonw_str(struct xb_jsonw *w, const char *s, size_t n)
{
    pre_value(w);
    if (!s)
        s = "", n = 0;
    if (w->max_str)
        n = xb_utf8_cut(s, n, w->max_str);
    put_escaped(w, s, n);
}

void xb_jsonw_member_str(struct xb_jsonw *w, const char *k, size_t kn, const char *s, size_t sn)
{
    struct xb_buf *b = w->b;
    size_t c, tot;
    char *d;

    if (!k || !s || w->after_key || (w->max_str && (kn > w->max_str || sn > w->max_str)))
        goto general;
    if (w->embedded) {
        if (emb_member(w, k, kn, 1, s, sn))
            return;
        goto general;
    }
    c = w->need_comma[w->depth] ? 1 : 0;
    tot = c + kn + sn + 5; /* [,]"k":"v" */
    if (!room_for(w, tot))
        goto general;
    d = b->data + b->len;
    if (!clean_copy(d + c + 1, k, kn) || !clean_copy(d + c + kn + 4, s, sn))
        goto general; /* nothing committed: len and written unchanged */
    close_member(w, d, c, kn, sn, tot);
    return;
general:
    xb_jsonw_key(w, k, kn);
    xb_jsonw_str(w, s, sn);
}

void xb_jsonw_member_raw(struct xb_jsonw *w, const char *k, size_t kn, const char *v, size_t vn)
{
    struct xb_buf *b = w->b;
    size_t c, tot;
    char *d;

    if (!k || !vn || w->after_key || (w->max_str && kn > w->max_str))
        goto general;
    c = w->need_comma[w->depth] ? 1 : 0;
    if (w->embedded) {
        /* [,]\"k\":v in place when neither needs escaping */
        tot = c + kn + vn + 5;
        if (!emb_room(w, tot, tot - 2))
            goto general;
        d = b->data + b->len;
        if (!clean_copy(d + c + 2, k, kn))
            goto general;
        copy_name(d + c + kn + 5, v, vn); /* a number, true, false or null: as is */
        d[0] = ',';
        emb_quotes(d + c, kn);
        d[c + kn + 4] = ':';
        d[tot] = '\0';
        b->len += tot;
        w->written += tot - 2;
        w->need_comma[w->depth] = 1;
        return;
    }
    tot = c + kn + vn + 3; /* [,]"k":v */
    if (!room_for(w, tot))
        goto general;
    d = b->data + b->len;
    if (!clean_copy(d + c + 1, k, kn))
        goto general; /* nothing committed: len and written unchanged */
    d[0] = ',';       /* overwritten by the quote when no comma is due */
    d[c] = '"';
    d[c + kn + 1] = '"';
    d[c + kn + 2] = ':';
    copy_name(d + c + kn + 3, v, vn); /* numbers, true, false, null: no memcpy call */
    d[tot] = '\0';
    b->len += tot;
    w->written += tot;
    w->need_comma[w->depth] = 1;
    return;
general:
    xb_jsonw_key(w, k, kn);
    if (vn) { /* plain JSON: xb_jsonw_raw_members() of a plain writer */
        pre_value(w);
        emit(w, v, vn);
    }
}

void xb_jsonw_str_full(struct xb_jsonw *w, const char *s, size_t n)
{
    pre_value(w);
    if (!s)
        s = "", n = 0;
    put_escaped(w, s, n);
}

void xb_jsonw_cstr(struct xb_jsonw *w, const char *s)
{
    xb_jsonw_str_full(w, s, s ? strlen(s) : 0);
}

size_t xb_jsonw_fmt_uint(char *out, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char tmp[24];
    size_t i = sizeof(tmp), n;

    /* Two digits per division, from the right. */
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        tmp[--i] = pairs[2 * r + 1];
        tmp[--i] = pairs[2 * r];
    }
    if (v >= 10) {
        tmp[--i] = pairs[2 * v + 1];
        tmp[--i] = pairs[2 * v];
    } else {
        tmp[--i] = (char)('0' + v);
    }
    n = sizeof(tmp) - i;
    memcpy(out, tmp + i, n);
    out[n] = '\0';
    return n;
}

size_t xb_jsonw_fmt_int(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        /* Negate in unsigned arithmetic: INT64_MIN has no positive int64. */
        return 1 + xb_jsonw_fmt_uint(out + 1, 0 - (uint64_t)v);
    }
    return xb_jsonw_fmt_uint(out, (uint64_t)v);
}

void xb_jsonw_int(struct xb_jsonw *w, int64_t v)
{
    char tmp[32];
    size_t n = xb_jsonw_fmt_int(tmp, v);

    pre_value(w);
    emit_noesc(w, tmp, n);
}

void xb_jsonw_uint(struct xb_jsonw *w, uint64_t v)
{
    char tmp[32];
    size_t n = xb_jsonw_fmt_uint(tmp, v);

    pre_value(w);
    emit_noesc(w, tmp, n);
}

/*
 * Shortest round-trip digits of |v| > 0 by exact integer arithmetic, for normal
 * doubles v = m * 2^e with -102 <= e < 0 (timestamps in seconds, durations, prices,
 * most decimals down to about 9e-16): with s = 1 - e, k = min(s, 31) and u = s - k,
 * v * 10^k * 2^u is 2m*5^k and every value in [(2m-1)*5^k, (2m+1)*5^k] reads back as
 * v (ends included when m is even: round half to even). A decimal with its last digit
 * at 10^(t-k) is a multiple of 10^t * 2^u on that scale. The fewest digits come from
 * the largest t with such a multiple in the interval (its width 2*5^k is at least
 * 2^u, so t = 0 always has one); of those multiples the one nearest v is taken (ties
 * to even), which is what correctly rounded printing to that many digits gives.
 * Writes the digits (no trailing zeros) to |digits| and the decimal exponent of the
 * first digit to |*exp10|. Returns 0 when the fast path does not apply.
 */
/* Largest t <= 38 with |pow10|[t] <= |x| (x >= 1): an estimate from the bit length
 * (1233 / 4096 is just below log10(2)), then corrected by at most a step or two. */
static inline int ilog10_u128(unsigned __int128 x, const unsigned __int128 *pow10)
{
    uint64_t hi64 = (uint64_t)(x >> 64);
    int bits = hi64 ? 128 - __builtin_clzll(hi64) : 64 - __builtin_clzll((uint64_t)x);
    int t = ((bits - 1) * 1233) >> 12;

    if (t > 38)
        t = 38;
    while (t > 0 && pow10[t] > x)
        t--;
    while (t < 38 && pow10[t + 1] <= x)
        t++;
    return t;
}

typedef unsigned __int128 xb_u128;
/* 10^0 .. 10^38 (the largest power of ten below 2^128) and 5^0 .. 5^31, filled once per
 * process by fill_pow_tabs() (pthread_once: ingest worker threads format doubles too). */
static xb_u128 pow10_tab[39];
static xb_u128 pow5_tab[32];
static pthread_once_t pow_tabs_once = PTHREAD_ONCE_INIT;

static void fill_pow_tabs(void)
{
    pow10_tab[0] = 1;
    for (int i = 1; i < 39; i++)
        pow10_tab[i] = pow10_tab[i - 1] * 10;
    pow5_tab[0] = 1;
    for (int i = 1; i < 32; i++)
        pow5_tab[i] = pow5_tab[i - 1] * 5;
}

static int shortest_exact(double v, char *digits, int *exp10)
{
    typedef xb_u128 u128;
    uint64_t bits, m, cd;
    int e, s, t, tmax, nd, found, u, k10;
    u128 lo, hi, val, c = 0;
    char rev[40];
    int inclusive;

    pthread_once(&pow_tabs_once, fill_pow_tabs);
    memcpy(&bits, &v, sizeof(bits));
    if (((bits >> 52) & 0x7FF) == 0 || ((bits >> 52) & 0x7FF) == 0x7FF)
        return 0;
    m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    e = (int)((bits >> 52) & 0x7FF) - 1075;
    if (e >= 0 || e < -102 || m == (1ull << 52))
        return 0; /* integers, tiny values, or the asymmetric power-of-two boundary */
    s = 1 - e;
    u = s > 31 ? s - 31 : 0;
    k10 = s - u;
    lo = (u128)(2 * m - 1) * pow5_tab[k10];
    hi = (u128)(2 * m + 1) * pow5_tab[k10];
    val = (u128)(2 * m) * pow5_tab[k10];
    inclusive = (m & 1) == 0;
    /* tmax: largest t with 10^t * 2^u <= hi; no larger unit has a non-zero multiple in range. */
    tmax = ilog10_u128(hi >> u, pow10_tab); /* hi >> u >= 1: the width is at least 2^u */
    /*
     * The wanted t is the largest t <= tmax with a multiple of 10^t in the interval.
     * Having a multiple of 10^(t+1) implies one of 10^t, so the property only turns off
     * as t grows: start where the interval's width (hi - lo = 2 * 5^s) guarantees a
     * multiple and step up while the next power still has one. Two or three divisions
     * instead of one round per power of ten from tmax down.
     */
    /* Largest t <= tmax with 10^t * 2^u < hi - lo, i.e. 10^t <= (hi - lo - 1) >> u. */
    t = 0;
    if ((hi - lo - 1) >> u) {
        t = ilog10_u128((hi - lo - 1) >> u, pow10_tab);
        if (t > tmax)
            t = tmax;
    }
    for (found = -1;; t++) {
        u128 p = pow10_tab[t] << u;
        u128 clo = lo / p, chi = hi / p;
        if (clo * p < lo || (!inclusive && clo * p == lo))
            clo++;
        if (!inclusive && chi * p == hi)
            chi--;
        if (clo > chi)
            break;
        found = t;
        if (t == tmax)
            break;
    }
    if (found < 0)
        return 0; /* the width guarantees a multiple; the general path if not */
    t = found;
    {
        u128 p = pow10_tab[t] << u;
        u128 clo = lo / p, chi = hi / p, q = val / p, r = val - q * p;
        if (clo * p < lo || (!inclusive && clo * p == lo))
            clo++;
        if (!inclusive && chi * p == hi)
            chi--;
        /* nearest multiple of 10^t to val, ties to even */
        c = q;
        if (r * 2 > p || (r * 2 == p && (q & 1)))
            c = q + 1;
        if (c < clo)
            c = clo;
        if (c > chi)
            c = chi;
    }
    if (c == 0 || c > UINT64_MAX)
        return 0;
    cd = (uint64_t)c; /* at most 17 digits */
    nd = (int)xb_jsonw_fmt_uint(rev, cd);
    *exp10 = nd - 1 + t - k10;
    while (nd > 1 && rev[nd - 1] == '0')
        nd--; /* drop trailing zeros */
    memcpy(digits, rev, (size_t)nd);
    digits[nd] = '\0';
    return nd;
}

/*
 * Shortest round-trip digits of |v| > 0 (not an integer) when they have at most
 * f <= 22 digits after the decimal point and the scaled value is small: prices,
 * ratios, durations. For f = 1, 2, ... with p = 10^f (exact), every double that reads
 * back as v lies within half an ulp of v; while ulp(v) * p <= 1/4 that interval, scaled
 * by p, is narrower than 1/4 and holds at most one integer, and while v * p < 2^50 the
 * product's rounding error is below 1/8, so the integer nearest the rounded product is
 * the only candidate. It reads back as v exactly when c / p (one correctly rounded
 * division, as strtod rounds) equals v. The first f with such a c is the largest unit
 * 10^-f with a multiple in the interval, the choice shortest_exact() makes, and the
 * multiple is unique, so the digits are the same. Returns the digit count, or 0 when no
 * f qualifies (the exact search decides then).
 */
static int shortest_short_decimal(double v, char *digits, int *exp10)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t bits;
    double ulp;
    int e, f, nd;

    memcpy(&bits, &v, sizeof(bits));
    e = (int)((bits >> 52) & 0x7FF);
    if (e == 0 || e == 0x7FF)
        return 0; /* subnormal or not finite */
    /* ulp(v) = 2^(e - 1075), a normal double for every normal v of interest here */
    if (e - 1075 < -1022)
        return 0;
    bits = (uint64_t)(e - 52) << 52;
    memcpy(&ulp, &bits, sizeof(ulp));
    for (f = 1; f <= 22; f++) {
        double p = pow10[f], x = v * p;
        uint64_t c;
        if (x >= 1125899906842624.0 || ulp * p > 0.25) /* 2^50 */
            return 0;
        c = (uint64_t)(x + 0.5);
        if ((double)c / p == v) {
            char tmp[24];
            nd = (int)xb_jsonw_fmt_uint(tmp, c);
            *exp10 = nd - 1 - f;
            while (nd > 1 && tmp[nd - 1] == '0')
                nd--;
            memcpy(digits, tmp, (size_t)nd);
            digits[nd] = '\0';
            return nd;
        }
    }
    return 0;
}

size_t xb_jsonw_fmt_double(char *out, double v, int go_json)
{
    char tmp[40], digits[24];
    int prec, exp10, nd = 0, neg, k;
    char *e, *p;
    size_t o = 0;
    double av;

    out[0] = '\0';
    if (!isfinite(v))
        return 0;
    if (v == 0) {
        if (signbit(v))
            out[o++] = '-';
        out[o++] = '0';
        out[o] = '\0';
        return o;
    }
    /* Integral values below 2^53 (status codes, counts, whole seconds) are exact as
     * integers: print them directly, no search needed. */
    if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v)
        return xb_jsonw_fmt_int(out, (int64_t)v);
    /* Fewest significant digits that read back as the same double. A normal double
     * whose shortest form has k <= 15 digits is printed by "%.14e" as those k digits
     * plus zeros (it lies within half an ulp of them, well below half a unit in the
     * 15th digit), and the zeros are stripped below; so for normal numbers the search
     * starts at 15 and takes at most three tries instead of seventeen. Subnormals have
     * relatively wider ulps and get the full search. */
    neg = signbit(v) != 0;
    nd = shortest_short_decimal(fabs(v), digits, &exp10);
    if (nd == 0)
        nd = shortest_exact(fabs(v), digits, &exp10);
    if (nd == 0) {
        for (prec = fpclassify(v) == FP_NORMAL ? 15 : 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        e = strchr(tmp, 'e');
        if (!e)
            return 0;
        exp10 = atoi(e + 1);
        for (p = tmp + neg; p < e; p++)
            if (*p >= '0' && *p <= '9')
                digits[nd++] = *p;
        while (nd > 1 && digits[nd - 1] == '0')
            nd--;
    }
    if (neg)
        out[o++] = '-';
    av = fabs(v);
    if (go_json && (av < 1e-6 || av >= 1e21)) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (k = 1; k < nd; k++)
                out[o++] = digits[k];
        }
        /* strconv writes at least two exponent digits; encoding/json drops the 0 in e-0N */
        o += (size_t)snprintf(out + o, 16, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        if (exp10 < 0 && exp10 > -10)
            snprintf(out + o - 2, 16, "%d", -exp10), o--;
        return o;
    }
    if (exp10 >= 0) {
        for (k = 0; k <= exp10; k++)
            out[o++] = k < nd ? digits[k] : '0';
        if (nd > exp10 + 1) {
            out[o++] = '.';
            for (k = exp10 + 1; k < nd; k++)
                out[o++] = digits[k];
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (k = 0; k < -exp10 - 1; k++)
            out[o++] = '0';
        for (k = 0; k < nd; k++)
            out[o++] = digits[k];
    }
    out[o] = '\0';
    return o;
}

void xb_jsonw_double(struct xb_jsonw *w, double v)
{
    char tmp[400];
    size_t n = xb_jsonw_fmt_double(tmp, v, 1);

    pre_value(w);
    if (n == 0)
        emit_noesc(w, "null", 4);
    else
        emit_noesc(w, tmp, n);
}

void xb_jsonw_bool(struct xb_jsonw *w, int v)
{
    pre_value(w);
    if (v)
        emit_noesc(w, "true", 4);
    else
        emit_noesc(w, "false", 5);
}

void xb_jsonw_null(struct xb_jsonw *w)
{
    pre_value(w);
    emit_noesc(w, "null", 4);
}

/* Embedded mode's xb_jsonw_raw_members(): |p| (|n| bytes) is already in embedded form;
 * it is copied as is and counts its plain length towards |written| and |limit|. */
/* Appends |n| bytes of embedded text standing for |plain| plain bytes (counted towards
 * |written| and |limit|) as they are. */
static void emit_embedded_counted(struct xb_jsonw *w, const char *p, size_t n, size_t plain)
{
    struct xb_buf *b = w->b;
    int rc;

    if (emb_room(w, n, plain)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        w->written += plain;
        return;
    }
    if (!count_plain(w, plain))
        goto out;
    rc = xb_buf_append(b, p, n);
    if (rc)
        w->err = rc;
out:
    set_emb_end(w);
}

static void emit_embedded_text(struct xb_jsonw *w, const char *p, size_t n)
{
    size_t marks = 0, i = 0, plain;

    /* Every '"' and '\\' of the text is in a pair \" or \\ (one byte less in plain form):
     * the pairs number (quotes + backslashes) / 2. */
#if defined(__SSE2__)
    {
        const __m128i qu = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), one = _mm_set1_epi8(1),
                      zero = _mm_setzero_si128();
        __m128i sum = zero;
        for (; n - i >= 16; i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i m = _mm_or_si128(_mm_cmpeq_epi8(x, qu), _mm_cmpeq_epi8(x, bs));
            /* one per marked byte, summed into the two 64-bit halves */
            sum = _mm_add_epi64(sum, _mm_sad_epu8(_mm_and_si128(m, one), zero));
        }
        marks = (size_t)_mm_cvtsi128_si64(sum) +
                (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum));
    }
#endif
    for (; i < n; i++)
        marks += p[i] == '"' || p[i] == '\\';
    plain = n - marks / 2;
    emit_embedded_counted(w, p, n, plain);
}

void xb_jsonw_raw_members(struct xb_jsonw *w, const char *p, size_t n)
{
    if (n == 0)
        return;
    pre_value(w);
    if (w->embedded)
        emit_embedded_text(w, p, n);
    else
        emit(w, p, n);
}

void xb_jsonw_raw_members_n(struct xb_jsonw *w, const char *p, size_t n, size_t plain)
{
    if (n == 0)
        return;
    pre_value(w);
    if (w->embedded)
        emit_embedded_counted(w, p, n, plain);
    else
        emit(w, p, n);
}

void xb_jsonw_str_plain(struct xb_jsonw *w, const char *s, size_t n)
{
    struct xb_buf *b = w->b;

    pre_value(w);
    if (w->embedded) {
        /* \"s\" in place: |s| needs no escaping, as for the plain mode's copy */
        char *d = emb_room(w, n + 4, n + 2) ? b->data + b->len : NULL;
        if (d) {
            copy_name(d + 2, s, n);
            emb_quoted_done(w, d, n);
            return;
        }
        emit(w, "\"", 1);
        emit(w, s, n);
        emit(w, "\"", 1);
        return;
    }
    if (room_for(w, n + 2)) {
        char *d = b->data + b->len;
        d[0] = '"';
        copy_name(d + 1, s, n); /* ids: no memcpy call */
        d[n + 1] = '"';
        d[n + 2] = '\0';
        b->len += n + 2;
        w->written += n + 2;
        return;
    }
    emit(w, "\"", 1);
    emit(w, s, n);
    emit(w, "\"", 1);
}

void xb_jsonw_ckey_plain(struct xb_jsonw *w, const char *k, size_t kn, const char *s, size_t sn)
{
    struct xb_buf *b = w->b;
    size_t c, tot;
    char *d;

    if (w->after_key)
        goto general;
    c = w->need_comma[w->depth] ? 1 : 0;
    if (w->embedded) {
        /* [,]\"k\":\"s\" in place: neither needs escaping */
        tot = c + kn + sn + 9;
        if (!emb_room(w, tot, tot - 4))
            goto general;
        d = b->data + b->len;
        copy_name(d + c + 2, k, kn);
        copy_name(d + c + kn + 7, s, sn);
        d[0] = ','; /* overwritten when no comma is due */
        emb_quotes(d + c, kn);
        d[c + kn + 4] = ':';
        emb_quotes(d + c + kn + 5, sn);
        d[tot] = '\0';
        b->len += tot;
        w->written += tot - 4;
        w->need_comma[w->depth] = 1;
        return;
    }
    tot = c + kn + sn + 5; /* [,]"k":"s" */
    if (!room_for(w, tot))
        goto general;
    d = b->data + b->len;
    copy_name(d + c + 1, k, kn);      /* field names and ids: no memcpy call */
    copy_name(d + c + kn + 4, s, sn); /* up to 48 bytes */
    close_member(w, d, c, kn, sn, tot);
    return;
general:
    xb_jsonw_ckey_n(w, k, kn);
    xb_jsonw_str_plain(w, s, sn);
}
