/* tests/unit/core/test_jsonw_embed.c - xb_jsonw_embed() (each of its paths this CPU
 * runs) gives the same bytes as the general escaper xb_jsonw_escape() on every input. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/jsonw.h"

/* One X-Ray segment document as the translator writes it. */
static const char real_doc[] =
    "{\"name\":\"checkout\",\"id\":\"53995c3f42cd8ad8\",\"start_time\":1700000000,"
    "\"trace_id\":\"1-65536180-5759e988bd862e3fe1be46a9\",\"end_time\":1700000001.5,"
    "\"parent_id\":\"7f2c1a4b9e8d6c5a\",\"type\":\"subsegment\",\"namespace\":\"remote\","
    "\"http\":{\"request\":{\"url\":\"https://api.example.com/v1/cart?id=42\","
    "\"method\":\"POST\"},\"response\":{\"status\":200,\"content_length\":1234}},"
    "\"annotations\":{\"tier\":\"gold\"},\"metadata\":{\"default\":{\"msg\":\"say \\\"hi\\\" "
    "\\\\ caf\xc3\xa9 \xe2\x80\xa8 \\u0001\"}},\"aws\":{\"xray\":{\"sdk\":\"opentelemetry for "
    "go\",\"sdk_version\":\"1.21.0\",\"auto_instrumentation\":false}}}";

typedef int (*embed_fn)(struct xb_buf *, const char *, size_t);

static int embed_scalar(struct xb_buf *b, const char *s, size_t n)
{
    return xb_jsonw_embed_path(b, s, n, XB_JSONW_EMBED_SCALAR);
}

static int embed_ssse3(struct xb_buf *b, const char *s, size_t n)
{
    return xb_jsonw_embed_path(b, s, n, XB_JSONW_EMBED_SSSE3);
}

/* Every path: the scalar loop, SSSE3 and AVX-512 where the CPU has them (else the
 * fastest it has, tested twice), and the default. */
static const embed_fn paths[] = {embed_scalar, embed_ssse3, xb_jsonw_embed};
#define N_PATHS (sizeof(paths) / sizeof(paths[0]))

/* Compares |fn| with the general escaper on |s|, appended after |prefix| bytes already in
 * the buffer, into a buffer that starts with |start_cap| bytes of room (0 = none). */
static void check_one(embed_fn fn, const char *s, size_t n, size_t prefix, size_t start_cap)
{
    struct xb_buf want, got;

    xb_buf_init(&want, 0);
    xb_buf_init(&got, 0);
    for (size_t i = 0; i < prefix; i++) {
        assert_int_equal(xb_buf_putc(&want, (char)('a' + i % 26)), XB_OK);
        assert_int_equal(xb_buf_putc(&got, (char)('a' + i % 26)), XB_OK);
    }
    if (start_cap)
        assert_int_equal(xb_buf_reserve(&got, start_cap), XB_OK);
    assert_int_equal(xb_jsonw_escape(&want, s, n), XB_OK);
    assert_int_equal(fn(&got, s, n), XB_OK);
    assert_non_null(got.data); /* NUL-terminated even when empty, as xb_jsonw_escape */
    if (got.len != want.len || memcmp(got.data, want.data, want.len) != 0) {
        fprintf(stderr, "mismatch on %zu input bytes (prefix %zu, room %zu)\n", n, prefix,
                start_cap);
        fail();
    }
    assert_int_equal(got.data[got.len], '\0');
    xb_buf_cleanup(&want);
    xb_buf_cleanup(&got);
}

static void check_both(const char *s, size_t n)
{
    static const size_t caps[] = {0, 1, 17, 40, 70, 100};

    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
        for (size_t p = 0; p < N_PATHS; p++)
            check_one(paths[p], s, n, c * 3, caps[c]);
}

/* xorshift64: reproducible random bytes. */
static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* A byte drawn from a mix that is mostly JSON-like text: letters, quotes, backslashes,
 * some control characters, UTF-8 sequences (valid or cut), stray high bytes. */
static size_t mixed_bytes(uint64_t *rng, char *out, size_t n)
{
    static const char *const pieces[] = {
        "\"",       "\\",           "\xc3\xa9", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xf0\x9f\x98\x80",
        "\xe2\x82", "\x80",         "\xff",     "\n",           "\x01",         "\x1f",
        "\x7f",     "\xed\xa0\x80", "\xc0\xaf"};
    size_t o = 0;

    while (o < n) {
        uint64_t r = rng_next(rng);
        const char *p;
        char one;
        size_t l;

        if (r % 100 < 70) {
            one = (char)(0x20 + (r >> 8) % 0x5f);
            p = &one;
            l = 1;
        } else {
            p = pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
            l = strlen(p);
        }
        if (l > n - o)
            l = n - o;
        memcpy(out + o, p, l);
        o += l;
    }
    return o;
}

static void test_embed_every_length_and_position(void **state)
{
    static const char specials[] = {'"',    '\\',       '\n',       '\x01',
                                    '\x7f', (char)0xc3, (char)0x80, (char)0xff};
    char s[80];

    (void)state;
    for (size_t n = 0; n <= 64; n++) {
        memset(s, 'x', sizeof(s));
        check_both(s, n);
        for (size_t p = 0; p < n; p++) {
            for (size_t k = 0; k < sizeof(specials); k++) {
                memset(s, 'x', sizeof(s));
                s[p] = specials[k];
                check_both(s, n);
            }
        }
        /* all quotes: the largest expansion of the fast paths */
        memset(s, '"', sizeof(s));
        check_both(s, n);
        memset(s, '\\', sizeof(s));
        check_both(s, n);
    }
}

static void test_embed_random_inputs(void **state)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    char s[3000];

    (void)state;
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)(rng_next(&rng) % sizeof(s));
        if (round % 3 == 0) {
            for (size_t i = 0; i < n; i++)
                s[i] = (char)rng_next(&rng); /* any byte */
        } else if (round % 3 == 1) {
            n = mixed_bytes(&rng, s, n);
        } else {
            for (size_t i = 0; i < n; i++) { /* printable ASCII, a quote in ~8 */
                uint64_t r = rng_next(&rng);
                s[i] = r % 8 == 0 ? '"' : r % 61 == 0 ? '\\' : (char)(0x20 + (r >> 8) % 0x5f);
            }
        }
        for (size_t p = 0; p < N_PATHS; p++)
            check_one(paths[p], s, n, round % 5, (size_t)(round % (7 + p)) * 13);
    }
}

static void test_embed_real_documents(void **state)
{
    const char *dir_name = XB_TEST_DATA_DIR "/../golden/cases";
    DIR *dir = opendir(dir_name);
    struct dirent *e;
    int files = 0;

    (void)state;
    check_both(real_doc, sizeof(real_doc) - 1);
    assert_non_null(dir);
    while ((e = readdir(dir)) != NULL) {
        char path[1024];
        char *text;
        long len;
        FILE *f;

        if (!strstr(e->d_name, ".json"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir_name, e->d_name);
        f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        text = malloc((size_t)len + 1);
        assert_non_null(text);
        assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        for (size_t p = 0; p < N_PATHS; p++)
            check_one(paths[p], text, (size_t)len, 0, 0);
        free(text);
        files++;
    }
    closedir(dir);
    assert_true(files > 100);
}

static void test_embed_capped_buffer_reports_too_large(void **state)
{
    struct xb_buf b;

    (void)state;
    fprintf(stderr, "xb_jsonw_embed path on this CPU: %d\n", (int)xb_jsonw_embed_best());
    xb_buf_init(&b, 8);
    assert_int_equal(xb_jsonw_embed(&b, "0123456789", 10), XB_ERR_TOO_LARGE);
    xb_buf_cleanup(&b);
    xb_buf_init(&b, 64);
    assert_int_equal(xb_jsonw_embed(&b, "{\"a\":1}", 7), XB_OK);
    assert_string_equal(b.data, "{\\\"a\\\":1}");
    xb_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_every_length_and_position),
        cmocka_unit_test(test_embed_random_inputs),
        cmocka_unit_test(test_embed_real_documents),
        cmocka_unit_test(test_embed_capped_buffer_reports_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
