/* translator/ids.c - see ids.h. */
#include "translator/ids.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char hexd[] = "0123456789abcdef";

#if defined(__SSE2__)
/* Lowercase hex of the 8 bytes in the low half of |x| as 16 characters: the nibbles
 * interleaved high first, each v written as '0' + v, plus 39 ('a' - '0' - 10) above 9. */
static inline __m128i hex8(__m128i x)
{
    const __m128i m = _mm_set1_epi8(15);
    __m128i v = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(x, 4), m), _mm_and_si128(x, m));
    __m128i gt9 = _mm_cmpgt_epi8(v, _mm_set1_epi8(9));

    return _mm_add_epi8(_mm_add_epi8(v, _mm_set1_epi8('0')), _mm_and_si128(gt9, _mm_set1_epi8(39)));
}
#endif

int xb_tr_ids_valid(const uint8_t *p, size_t n, size_t want)
{
    size_t i;

    if (!p || n != want)
        return 0;
    for (i = 0; i < n; i++)
        if (p[i])
            return 1;
    return 0;
}

void xb_tr_ids_hex(const uint8_t *p, size_t n, char *out)
{
    size_t i;

#if defined(__SSE2__)
    if (n == 8) { /* span and parent ids: one load, one store */
        _mm_storeu_si128((__m128i *)(void *)out,
                         hex8(_mm_loadl_epi64((const __m128i *)(const void *)p)));
        out[16] = '\0';
        return;
    }
#endif
    for (i = 0; i < n; i++) {
        out[2 * i] = hexd[p[i] >> 4];
        out[2 * i + 1] = hexd[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void xb_tr_ids_xray_trace_id(const uint8_t *tid, char out[XB_XRAY_TRACE_ID_LEN + 1])
{
#if defined(__SSE2__)
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)tid);
    __m128i a = hex8(x), b = hex8(_mm_srli_si128(x, 8)); /* digits 0-15, 16-31 */

    out[0] = '1';
    out[1] = '-';
    _mm_storel_epi64((__m128i *)(void *)(out + 2), a); /* bytes 0..3 */
    out[10] = '-';
    _mm_storel_epi64((__m128i *)(void *)(out + 11), _mm_srli_si128(a, 8)); /* bytes 4..7 */
    _mm_storeu_si128((__m128i *)(void *)(out + 19), b);                    /* bytes 8..15 */
    out[XB_XRAY_TRACE_ID_LEN] = '\0';
#else
    out[0] = '1';
    out[1] = '-';
    xb_tr_ids_hex(tid, 4, out + 2);
    out[10] = '-';
    xb_tr_ids_hex(tid + 4, 12, out + 11);
#endif
}

void xb_tr_ids_u64_hex(uint64_t v, char out[17])
{
    int i;

#if defined(__SSE2__)
    uint8_t be[8];

    for (i = 7; i >= 0; i--, v >>= 8)
        be[i] = (uint8_t)v;
    _mm_storeu_si128((__m128i *)(void *)out,
                     hex8(_mm_loadl_epi64((const __m128i *)(const void *)be)));
    out[16] = '\0';
    return;
#endif
    for (i = 15; i >= 0; i--) {
        out[i] = hexd[v & 15];
        v >>= 4;
    }
    out[16] = '\0';
}

int xb_tr_ids_time_ok(const uint8_t *tid, int64_t now_unix_s)
{
    int64_t epoch = ((int64_t)tid[0] << 24) | ((int64_t)tid[1] << 16) | ((int64_t)tid[2] << 8) |
                    (int64_t)tid[3];
    int64_t delta = now_unix_s - epoch;

    return delta <= 2419200 && delta >= -300;
}

/* splitmix64 finaliser: a good 64-bit avalanche for a non-cryptographic derivation. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t xb_tr_ids_derive(const uint8_t *trace, const uint8_t *span, uint64_t salt)
{
    uint64_t a = 0, b = 0, c = 0, h;
    int i;

    for (i = 0; i < 8; i++) {
        a = (a << 8) | trace[i];
        b = (b << 8) | trace[8 + i];
        c = (c << 8) | span[i];
    }
    h = mix64(a ^ 0x9e3779b97f4a7c15ULL);
    h = mix64(h ^ b);
    h = mix64(h ^ c);
    h = mix64(h ^ (salt * 0x9e3779b97f4a7c15ULL + 1));
    return h ? h : 0x1;
}
