/*
 * core/jsonw_embed.c - xb_jsonw_embed(): the escaper of core/jsonw.c, fast for text that
 * is mostly printable ASCII with many '"' (a serialised JSON document embedded as a
 * string, as PutTraceSegments wants it).
 *
 * The common bytes take a branch-free path: with SSSE3, 16 bytes are checked at once and
 * each half of 8 is widened by one shuffle (a table entry per mask of quote and
 * backslash positions puts a '\\' in front of each); without it, a scalar loop writes a
 * '\\' at every position and advances past it only for '"' and '\\'. Every other byte
 * (control characters, bytes >= 0x80) goes to xb_jsonw_escape() in a segment that ends
 * at the next ASCII byte. No UTF-8 sequence spans an ASCII byte and control characters
 * are escaped one by one, so the general escaper gives the same bytes on such a segment
 * as inside the whole text.
 */
#include "core/jsonw.h"

#include <stdint.h>
#include <string.h>

#include "core/err.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define XB_EMBED_SSSE3 1
#include <immintrin.h>
#endif

/* 1 for the bytes the fast paths leave to the general escaper. */
static inline int embed_other(unsigned char c)
{
    return c < 0x20 || c >= 0x80;
}

/*
 * Scalar fast path: escapes |s| (|n| bytes) into |d| while the next byte is printable
 * ASCII and at least 2 bytes of |room| are left. Sets |*used| to the input bytes taken;
 * returns the bytes written.
 */
static size_t embed_scalar(char *d, size_t room, const unsigned char *s, size_t n, size_t *used)
{
    size_t i = 0, o = 0;

    for (; i < n && room - o >= 2; i++) {
        unsigned char c = s[i];
        if (embed_other(c))
            break;
        d[o] = '\\';
        o += (size_t)((c == '"') | (c == '\\'));
        d[o++] = (char)c;
    }
    *used = i;
    return o;
}

#if XB_EMBED_SSSE3
/* Shuffle controls for 8 input bytes in lanes 0-7 and '\\' in lanes 8-15: entry m puts
 * lane 8 before every lane j whose bit j of m is set. Filled once at load time. */
static unsigned char embed_shuf[256][16] __attribute__((aligned(16)));
static unsigned char embed_len[256]; /* 8 + bits set in m: the bytes entry m writes */
static int embed_have_ssse3;

__attribute__((constructor)) static void embed_init(void)
{
    for (unsigned m = 0; m < 256; m++) {
        unsigned o = 0;
        for (unsigned j = 0; j < 8; j++) {
            if (m & (1u << j))
                embed_shuf[m][o++] = 8;
            embed_shuf[m][o++] = (unsigned char)j;
        }
        embed_len[m] = (unsigned char)o;
        for (; o < 16; o++)
            embed_shuf[m][o] = 8;
    }
    __builtin_cpu_init();
    embed_have_ssse3 = __builtin_cpu_supports("ssse3");
}

/*
 * SSSE3 fast path: like embed_scalar() for 16-byte blocks of printable ASCII, while at
 * least 32 bytes of |room| are left (a block writes at most 32). Stops at the first
 * block holding another byte, or with fewer than 16 bytes left.
 */
__attribute__((target("ssse3"))) static size_t
embed_ssse3(char *d, size_t room, const unsigned char *s, size_t n, size_t *used)
{
    const __m128i sp = _mm_set1_epi8(0x20), qu = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    size_t i = 0, o = 0;

    while (n - i >= 16 && room - o >= 32) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        /* signed compare: bytes >= 0x80 are negative, so below 0x20 too */
        unsigned m, lo, hi;

        if (_mm_movemask_epi8(_mm_cmplt_epi8(x, sp)))
            break;
        m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, qu), _mm_cmpeq_epi8(x, bs)));
        if (!m) {
            _mm_storeu_si128((__m128i *)(void *)(d + o), x);
            o += 16;
            i += 16;
            continue;
        }
        lo = m & 0xff;
        hi = m >> 8;
        _mm_storeu_si128(
            (__m128i *)(void *)(d + o),
            _mm_shuffle_epi8(_mm_unpacklo_epi64(x, bs),
                             _mm_load_si128((const __m128i *)(const void *)embed_shuf[lo])));
        o += embed_len[lo];
        _mm_storeu_si128(
            (__m128i *)(void *)(d + o),
            _mm_shuffle_epi8(_mm_unpackhi_epi64(x, bs),
                             _mm_load_si128((const __m128i *)(const void *)embed_shuf[hi])));
        o += embed_len[hi];
        i += 16;
    }
    *used = i;
    return o;
}
#endif

/* The fast paths over as much of |s| as |room| allows; see embed_scalar(). */
static size_t embed_run(char *d, size_t room, const unsigned char *s, size_t n, size_t *used,
                        int simd)
{
    size_t o = 0, i = 0, k;

#if XB_EMBED_SSSE3
    if (simd && embed_have_ssse3)
        o = embed_ssse3(d, room, s, n, &i);
#else
    (void)simd;
#endif
    o += embed_scalar(d + o, room - o, s + i, n - i, &k);
    *used = i + k;
    return o;
}

/* xb_jsonw_embed() with the SIMD path allowed (|simd| = 1) or not (0, for tests). */
static int embed(struct xb_buf *b, const char *str, size_t n, int simd)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    int rc;

    if (b->max)
        return xb_jsonw_escape(b, str, n); /* a capped buffer: its error rules */
    if (!b->data) {
        /* Like xb_jsonw_escape, leave a NUL-terminated buffer even for n = 0. */
        rc = xb_buf_reserve(b, n + n / 8 + 16);
        if (rc)
            return rc;
    }
    while (i < n) {
        size_t room = b->cap > b->len + 1 ? b->cap - b->len - 1 : 0, used, o;

        if (room < 64) {
            /* The rest plus a typical share of escapes: usually one growth per call. */
            rc = xb_buf_reserve(b, (n - i) + (n - i) / 8 + 64);
            if (rc)
                return rc;
            room = b->cap - b->len - 1;
        }
        o = embed_run(b->data + b->len, room, s + i, n - i, &used, simd);
        b->len += o;
        i += used;
        if (i < n && embed_other(s[i])) {
            /* A control character alone; a run of bytes >= 0x80 up to the next ASCII. */
            size_t j = i + 1;
            if (s[i] >= 0x80)
                while (j < n && s[j] >= 0x80)
                    j++;
            rc = xb_jsonw_escape(b, str + i, j - i);
            if (rc)
                return rc;
            i = j;
        }
    }
    if (b->data)
        b->data[b->len] = '\0';
    return XB_OK;
}

int xb_jsonw_embed(struct xb_buf *b, const char *s, size_t n)
{
    return embed(b, s, n, 1);
}

int xb_jsonw_embed_scalar(struct xb_buf *b, const char *s, size_t n)
{
    return embed(b, s, n, 0);
}
