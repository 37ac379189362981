/* translator/name.c - see name.h. */
#include "translator/name.h"

#include <string.h>

#include "core/utf8.h"

#include "translator/unicode_letters.inc"

int xb_tr_name_is_letter(uint32_t cp)
{
    size_t lo = 0, hi = sizeof(letter_ranges) / sizeof(letter_ranges[0]);

    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < letter_ranges[mid][0])
            hi = mid;
        else if (cp > letter_ranges[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

/* Whether the ASCII byte |c| (below 0x80) is kept: letters, digits and " _.:/%&#=+-@"
 * (bit c of the 128-bit set; test_name_sanitize_ascii_bytes checks it byte by byte). */
static inline int allowed_ascii(unsigned char c)
{
    static const uint64_t ok[2] = {0x27ffe86900000000ull, 0x07fffffe87ffffffull};

    return (int)(ok[c >> 6] >> (c & 63)) & 1;
}

size_t xb_tr_name_sanitize(const char *in, size_t n, char *out)
{
    size_t i = 0, o = 0;

    while (i < n) {
        uint32_t cp;
        size_t l;
        if ((unsigned char)in[i] < 0x80) { /* the usual byte: kept or dropped, no decoding */
            if (allowed_ascii((unsigned char)in[i])) {
                if (o + 1 > XB_XRAY_MAX_NAME_BYTES)
                    break;
                out[o++] = in[i];
            }
            i++;
            continue;
        }
        l = xb_utf8_char(in + i, n - i, &cp);
        if (l == 0) {
            i++; /* invalid byte: reads as U+FFFD, not a letter -> dropped */
            continue;
        }
        if (l > 1 && xb_tr_name_is_letter(cp)) {
            if (o + l > XB_XRAY_MAX_NAME_BYTES)
                break; /* never split a character at the 200-byte cap */
            memcpy(out + o, in + i, l);
            o += l;
        }
        i += l;
    }
    if (o == 0) {
        memcpy(out, "span", 4);
        o = 4;
    }
    out[o] = '\0';
    return o;
}
