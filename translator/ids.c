/* translator/ids.c - see ids.h. */
#include "translator/ids.h"

static const char hexd[] = "0123456789abcdef";

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

    for (i = 0; i < n; i++) {
        out[2 * i] = hexd[p[i] >> 4];
        out[2 * i + 1] = hexd[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void xb_tr_ids_xray_trace_id(const uint8_t *tid, char out[XB_XRAY_TRACE_ID_LEN + 1])
{
    out[0] = '1';
    out[1] = '-';
    xb_tr_ids_hex(tid, 4, out + 2);
    out[10] = '-';
    xb_tr_ids_hex(tid + 4, 12, out + 11);
}

void xb_tr_ids_u64_hex(uint64_t v, char out[17])
{
    int i;

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
