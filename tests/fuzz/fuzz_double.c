/*
 * tests/fuzz/fuzz_double.c - the shortest round-trip double formatter
 * (xb_jsonw_fmt_double, core/jsonw.c) against an exhaustive search (test-only).
 *
 * Every 8 input bytes give three doubles: the bytes as a bit pattern, a short decimal
 * (an integer of up to 53 bits over 10^f, f <= 22: the formatter's short-decimal path)
 * and that decimal's neighbour one ulp up or down. For each, in both layouts, the output
 * must read back as the same double (strtod), and its significant digits must be the
 * fewest that do, as printf's "%.*e" finds them trying 1 to 17 digits. Non-finite
 * values must give an empty string.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "tests/fuzz/fuzz_common.h"

/* Significant digits of the decimal |s| ("-0.0012", "1.5e-10", "120"): no sign, point,
 * exponent, leading or trailing zeros. */
static void sig_digits(const char *s, char *out)
{
    size_t o = 0;
    int started = 0;

    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s == '0' && !started)
            continue;
        started = 1;
        out[o++] = *s;
    }
    while (o > 1 && out[o - 1] == '0')
        o--;
    out[o] = '\0';
}

static int check_one(double v, char *err, size_t errlen)
{
    char got[400], tmp[40], want[24], have[400];

    for (int g = 0; g <= 1; g++) {
        size_t n = xb_jsonw_fmt_double(got, v, g);
        if (!isfinite(v)) {
            if (n != 0 || got[0]) {
                snprintf(err, errlen, "non-finite value written as \"%s\"", got);
                return -1;
            }
            continue;
        }
        if (n == 0 || n != strlen(got) || strtod(got, NULL) != v) {
            snprintf(err, errlen, "%.17g written as \"%s\": does not read back", v, got);
            return -1;
        }
        if (v == 0)
            continue;
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
        sig_digits(tmp, want);
        sig_digits(got, have);
        if (strcmp(want, have) != 0) {
            snprintf(err, errlen, "%.17g written as \"%s\", shortest digits are %s", v, got, want);
            return -1;
        }
    }
    return 0;
}

int xb_fuzz_check(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t checked = 0;

    for (size_t at = 0; at < size; at += 8) {
        uint64_t x = 0;
        double v[3];
        memcpy(&x, data + at, size - at < 8 ? size - at : 8);
        memcpy(&v[0], &x, sizeof(v[0]));
        v[1] = (double)(x >> 11) / pow10[(x & 0xFF) % 23];
        v[2] = nextafter(v[1], (x & 0x100) ? INFINITY : 0);
        for (int k = 0; k < 3; k++) {
            if (check_one(v[k], err, errlen) != 0)
                return -1;
            if (signbit(v[k]) == 0 && check_one(-v[k], err, errlen) != 0)
                return -1;
            checked++;
        }
    }
    if (documents)
        *documents += checked;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];

    if (xb_fuzz_check(data, size, err, sizeof(err), NULL) != 0) {
        fprintf(stderr, "fuzz_double: %s\n", err);
        abort();
    }
    return 0;
}
