/*
 * core/jsonw_embed.c - xb_jsonw_embed(): the escaper of core/jsonw.c, fast for text that
 * is mostly printable ASCII with many '"' (a serialised JSON document embedded as a
 * string, as PutTraceSegments wants it).
 *
 * The common bytes (printable ASCII) take one of three paths, picked once from the CPU's
 * features: with AVX-512 VBMI2, 32 bytes per step, each byte widened to a (backslash,
 * byte) pair and one compress per 16 keeping every byte and the backslash of each '"'
 * and '\\'; with SSSE3, 16 bytes per step, each half of 8 widened by one shuffle (a table
 * entry per mask of quote and backslash positions puts a '\\' in front of each);
 * otherwise 8 bytes per step, written in 8-byte pieces that end at each '"' or '\\'
 * (exact SWAR tests find them), with a backslash between pieces. Every other byte
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
#define XB_EMBED_X86 1
#include <immintrin.h>
#endif

/* The path xb_jsonw_embed() takes: set at load time from the CPU's features on x86-64. */
static enum xb_jsonw_embed_path embed_best = XB_JSONW_EMBED_SCALAR;

/* 1 for the bytes the fast paths leave to the general escaper. */
static inline int embed_other(unsigned char c)
{
    return c < 0x20 || c >= 0x80;
}

/* High bit of each byte of |x| that is zero; exact per byte (no carry crosses bytes). */
static inline uint64_t zero_bytes(uint64_t x)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;

    return ~(((x & low7) + low7) | x | low7);
}

/* 1 when all 8 bytes of |x| are printable ASCII (0x20..0x7f); 0 otherwise. */
static inline int printable8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;

    /* (b & 0x7f) + 0x60 has its high bit set iff b & 0x7f >= 0x20 (no carry out) */
    return ((x & high) | (~((x & ~high) + ones * 0x60) & high)) == 0;
}

/*
 * Scalar fast path: escapes |s| (|n| bytes) into |d| while the next byte is printable
 * ASCII and enough |room| is left (24 bytes per 8-byte word, 2 per byte after). A word
 * is written in pieces of 8 bytes that end at each '"' or '\\', with a backslash
 * between them. Sets |*used| to the input bytes taken; returns the bytes written.
 */
static size_t embed_scalar(char *d, size_t room, const unsigned char *s, size_t n, size_t *used)
{
    const uint64_t ones = 0x0101010101010101ull;
    size_t i = 0, o = 0;

    /* A word writes at most 16 bytes and its stores reach 8 past its last escape. */
    while (n - i >= 8 && room - o >= 24) {
        uint64_t x, e;

        memcpy(&x, s + i, sizeof(x));
        if (!printable8(x))
            break;
        e = zero_bytes(x ^ (ones * '"')) | zero_bytes(x ^ (ones * '\\'));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* The word's bytes from |at| on, 8 at a time (the extra bytes are overwritten
         * later): up to each escape, then its backslash. */
        for (unsigned at = 0;;) {
            uint64_t rest = at ? x >> (8 * at) : x;
            unsigned k;

            memcpy(d + o, &rest, sizeof(rest));
            if (!e) {
                o += 8 - at;
                break;
            }
            k = (unsigned)__builtin_ctzll(e) >> 3;
            o += k - at;
            d[o++] = '\\';
            at = k;
            e &= e - 1;
        }
        i += 8;
#else
        for (size_t end = i + 8; i < end; i++) {
            unsigned char c = s[i];
            d[o] = '\\';
            o += (size_t)((c == '"') | (c == '\\'));
            d[o++] = (char)c;
        }
#endif
    }
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

#if XB_EMBED_X86
/* Shuffle controls for 8 input bytes in lanes 0-7 and '\\' in lanes 8-15: entry m puts
 * lane 8 before every lane j whose bit j of m is set. Filled once at load time. */
static unsigned char embed_shuf[256][16] __attribute__((aligned(16)));
static unsigned char embed_len[256]; /* 8 + bits set in m: the bytes entry m writes */

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
    if (__builtin_cpu_supports("ssse3"))
        embed_best = XB_JSONW_EMBED_SSSE3;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi2") &&
        __builtin_cpu_supports("bmi2"))
        embed_best = XB_JSONW_EMBED_AVX512;
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

/*
 * AVX-512 fast path (VBMI2 compress on 256-bit registers, so no 512-bit frequency
 * penalty): like embed_ssse3(). Each input byte c becomes the pair ('\\', c); bit 2j+1
 * of the keep mask (byte j) is always set, bit 2j (its backslash) when byte j is '"' or
 * '\\'.
 */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2"))) static size_t
embed_avx512(char *d, size_t room, const unsigned char *s, size_t n, size_t *used)
{
    const __m128i sp = _mm_set1_epi8(0x20), qu = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    const __m256i pair = _mm256_set1_epi16('\\'), sp2 = _mm256_set1_epi8(0x20),
                  qu2 = _mm256_set1_epi8('"'), bs2 = _mm256_set1_epi8('\\');
    size_t i = 0, o = 0;

    /* 32 bytes per step while they last, each half compressed on its own */
    while (n - i >= 32 && room - o >= 64) {
        __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        unsigned m, lo, hi;

        if (_mm256_cmplt_epi8_mask(y, sp2))
            break;
        m = (unsigned)(_mm256_cmpeq_epi8_mask(y, qu2) | _mm256_cmpeq_epi8_mask(y, bs2));
        lo = m & 0xffff;
        hi = m >> 16;
        _mm256_storeu_si256(
            (__m256i *)(void *)(d + o),
            _mm256_maskz_compress_epi8(
                (__mmask32)(_pdep_u32(lo, 0x55555555u) | 0xAAAAAAAAu),
                _mm256_or_si256(
                    _mm256_slli_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(y)), 8), pair)));
        o += 16 + (size_t)__builtin_popcount(lo);
        _mm256_storeu_si256(
            (__m256i *)(void *)(d + o),
            _mm256_maskz_compress_epi8(
                (__mmask32)(_pdep_u32(hi, 0x55555555u) | 0xAAAAAAAAu),
                _mm256_or_si256(
                    _mm256_slli_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(y, 1)), 8),
                    pair)));
        o += 16 + (size_t)__builtin_popcount(hi);
        i += 32;
    }
    while (n - i >= 16 && room - o >= 32) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned m;
        __m256i w;

        if (_mm_movemask_epi8(_mm_cmplt_epi8(x, sp)))
            break;
        m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, qu), _mm_cmpeq_epi8(x, bs)));
        w = _mm256_or_si256(_mm256_slli_epi16(_mm256_cvtepu8_epi16(x), 8), pair);
        _mm256_storeu_si256(
            (__m256i *)(void *)(d + o),
            _mm256_maskz_compress_epi8((__mmask32)(_pdep_u32(m, 0x55555555u) | 0xAAAAAAAAu), w));
        o += 16 + (size_t)__builtin_popcount(m);
        i += 16;
    }
    *used = i;
    return o;
}
#endif

/* The fast paths over as much of |s| as |room| allows; see embed_scalar(). */
static size_t embed_run(char *d, size_t room, const unsigned char *s, size_t n, size_t *used,
                        enum xb_jsonw_embed_path path)
{
    size_t o = 0, i = 0, k;

#if XB_EMBED_X86
    if (path == XB_JSONW_EMBED_AVX512)
        o = embed_avx512(d, room, s, n, &i);
    else if (path == XB_JSONW_EMBED_SSSE3)
        o = embed_ssse3(d, room, s, n, &i);
#else
    (void)path;
#endif
    o += embed_scalar(d + o, room - o, s + i, n - i, &k);
    *used = i + k;
    return o;
}

/* xb_jsonw_embed() on |path|, which this CPU runs. */
static int embed(struct xb_buf *b, const char *str, size_t n, enum xb_jsonw_embed_path path)
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
        o = embed_run(b->data + b->len, room, s + i, n - i, &used, path);
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
    return embed(b, s, n, embed_best);
}

int xb_jsonw_embed_path(struct xb_buf *b, const char *s, size_t n, enum xb_jsonw_embed_path path)
{
    return embed(b, s, n, path < embed_best ? path : embed_best);
}

enum xb_jsonw_embed_path xb_jsonw_embed_best(void)
{
    return embed_best;
}
