/*
 * receiver/json_tree.c - the parser choice for OTLP/JSON bodies and the two parsers'
 * arena-backed entry points (receiver/json_tree.h).
 */
#include "receiver/json_tree.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hex.h"
#include "core/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- the choice ---------------------------------------------------------------- */

static int is_digit(uint8_t ch)
{
    return ch >= '0' && ch <= '9';
}

/* Number of digits starting at |*i| (advanced past them). */
static size_t digit_run(const uint8_t *p, size_t end, size_t *i)
{
    size_t start = *i;
    while (*i < end && is_digit(p[*i]))
        (*i)++;
    return *i - start;
}

/*
 * Checks the number token p[start, end) (a maximal run of [0-9+-.eE] starting with
 * '-' or a digit). Returns 0 = integer, 1 = real, -1 = send the body to jansson.
 */
static int number_token(const uint8_t *p, size_t start, size_t end)
{
    size_t i = start, d;
    int real = 0;

    if (p[i] == '-')
        i++;
    d = digit_run(p, end, &i);
    if (d == 0 || d >= 16 || (d > 1 && p[i - d] == '0'))
        return -1;
    if (i < end && p[i] == '.') {
        i++;
        if (digit_run(p, end, &i) == 0)
            return -1;
        real = 1;
    }
    if (i < end && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < end && (p[i] == '+' || p[i] == '-'))
            i++;
        d = digit_run(p, end, &i);
        if (d == 0 || d >= 3)
            return -1;
        real = 1;
    }
    return i == end ? real : -1;
}

static int number_char(uint8_t ch)
{
    return is_digit(ch) || ch == '+' || ch == '-' || ch == '.' || ch == 'e' || ch == 'E';
}

/*
 * Index of the first byte at or after |i| that needs a look inside a string: '"',
 * '\\', a control byte or a non-ASCII byte (|len| if none). SSE2 tests 16 bytes at a
 * time where available; most of an OTLP/JSON body is plain ASCII inside strings.
 */
static size_t skip_plain(const uint8_t *p, size_t len, size_t i)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);

    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too. */
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmplt_epi8(v, space));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < len && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}

/*
 * Scans a string body starting at |i| (just past the opening quote). Returns the
 * index past the closing quote (or |len| when there is none: cJSON refuses the body),
 * or SIZE_MAX when the body must go to jansson.
 */
static size_t scan_string(const uint8_t *p, size_t len, size_t i)
{
    for (;;) {
        uint8_t ch;

        i = skip_plain(p, len, i);
        if (i >= len)
            return len;
        ch = p[i];
        if (ch == '"')
            return i + 1;
        if (ch == '\\') {
            if (i + 1 < len && p[i + 1] == 'u') {
                long v = i + 6 > len ? -1 : xb_hex4(p + i + 2);
                if (v <= 0 || (v >= 0xd800 && v <= 0xdfff))
                    return SIZE_MAX;
                i += 6;
            } else {
                i += 2; /* the escaped character; cJSON refuses unknown ones */
            }
        } else if (ch < 0x20) {
            return SIZE_MAX;
        } else {
            /* Strict UTF-8 (RFC 3629), as jansson checks it. */
            size_t n = xb_utf8_char((const char *)p + i, len - i, NULL);
            if (n == 0)
                return SIZE_MAX;
            i += n;
        }
    }
}

enum xb_json_backend xb_json_pick(const void *body, size_t len, uint8_t *real_bits,
                                  struct xb_json_scan *scan)
{
    const uint8_t *p = body;
    size_t i = 0, numbers = 0;
    int has_reals = 0;
    enum xb_json_backend pick = XB_JSON_JANSSON;

    if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        goto out;
    while (i < len) {
        uint8_t ch = p[i];

        if (ch == '"') {
            i = scan_string(p, len, i + 1);
            if (i == SIZE_MAX)
                goto out;
        } else if (ch == '-' || is_digit(ch)) {
            size_t start = i;
            int kind;

            while (i < len && number_char(p[i]))
                i++;
            kind = number_token(p, start, i);
            if (kind < 0)
                goto out;
            if (kind) {
                has_reals = 1;
                if (real_bits)
                    real_bits[numbers / 8] |= (uint8_t)(1u << (numbers % 8));
            }
            numbers++;
        } else if (ch >= 0x80 || (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')) {
            goto out;
        } else {
            i++;
        }
    }
    pick = XB_JSON_CJSON;
out:
    if (scan) {
        scan->numbers = numbers;
        scan->has_reals = has_reals;
    }
    return pick;
}

/* ---- allocation ------------------------------------------------------------------ */

/*
 * jansson's and cJSON's allocator hooks take no user pointer and are process-wide,
 * so the arena of the parse in progress is kept per thread (ingest workers parse at
 * once, app/workers.h). The hooks, installed once, use it while a parse runs on the
 * calling thread and the heap otherwise (receiver/status.c, the exporter and the
 * credential code parse with these libraries too, outside any request).
 */
static _Thread_local struct xb_arena *parse_arena;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static json_malloc_t heap_malloc;
static json_free_t heap_free;

/* Both libraries' hooks: jansson's previous allocator is the heap (malloc/free). */
static void *arena_malloc(size_t size)
{
    return parse_arena ? xb_arena_alloc(parse_arena, size) : heap_malloc(size);
}

static void arena_free(void *p)
{
    if (!parse_arena) /* else released with the arena when the request is done */
        heap_free(p);
}

static void install_hooks(void)
{
    cJSON_Hooks h = {arena_malloc, arena_free};

    json_get_alloc_funcs(&heap_malloc, &heap_free);
    json_set_alloc_funcs(arena_malloc, arena_free);
    cJSON_InitHooks(&h);
}

void xb_json_hooks_init(void)
{
    pthread_once(&hooks_once, install_hooks);
}

/* ---- parsing ----------------------------------------------------------------------- */

static const char *jansson_error(const json_error_t *jerr, int *rc)
{
    *rc = XB_ERR_INVALID;
    switch (json_error_code(jerr)) {
    case json_error_out_of_memory:
        *rc = XB_ERR_NOMEM;
        return "out of memory while parsing JSON";
    case json_error_invalid_utf8:
        return "invalid JSON: invalid UTF-8";
    case json_error_stack_overflow:
        return "invalid JSON: nesting too deep";
    case json_error_numeric_overflow:
        return "invalid JSON: number out of range (send 64-bit values as decimal strings)";
    case json_error_null_byte_in_key:
        return "invalid JSON: NUL character in object key";
    default:
        return "invalid JSON";
    }
}

/*
 * Tags cJSON's number nodes in document order: valueint = 1 for a real token, 0 for
 * an integer one (bit k of |bits|). Returns the next token index; the recursion is
 * bounded by cJSON's nesting limit (CJSON_NESTING_LIMIT, 1000).
 */
static size_t tag_numbers(cJSON *n, const uint8_t *bits, size_t k)
{
    for (; n; n = n->next) {
        if (n->type & cJSON_Number) {
            n->valueint = (bits[k / 8] >> (k % 8)) & 1;
            k++;
        } else if (n->child) {
            k = tag_numbers(n->child, bits, k);
        }
    }
    return k;
}

static int only_blanks(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            return 0;
    return 1;
}

int xb_json_parse(enum xb_json_backend backend, const void *body, size_t len,
                  struct xb_arena *arena, const uint8_t *real_bits, const struct xb_json_scan *scan,
                  struct xb_jtree *out, const char **err)
{
    int rc = XB_OK;

    xb_json_hooks_init();
    parse_arena = arena;
    out->backend = backend;
    out->has_reals = 0;
    if (backend == XB_JSON_CJSON) {
        const char *end = NULL;
        cJSON *root = len ? cJSON_ParseWithLengthOpts(body, len, &end, 0) : NULL;

        /* cJSON reports no reason: the caller parses again with jansson for one. */
        if (!root || !end ||
            !only_blanks((const uint8_t *)end, len - (size_t)(end - (const char *)body))) {
            rc = xb_arena_exhausted(arena) ? XB_ERR_NOMEM : XB_ERR_INVALID;
            *err = rc == XB_ERR_NOMEM ? "out of memory while parsing JSON" : "invalid JSON";
            goto out;
        }
        if (scan->has_reals) {
            if (tag_numbers(root, real_bits, 0) != scan->numbers) {
                rc = XB_ERR_INVALID; /* cannot happen: the scan follows cJSON's grammar */
                *err = "invalid JSON";
                goto out;
            }
            out->has_reals = 1;
        }
        out->root = root;
    } else {
        json_error_t jerr;
        /*
         * JSON_DECODE_ANY so a scalar top level gets the decoder's own message rather
         * than a parse error; JSON_ALLOW_NUL so a "\u0000" inside a string value does
         * not fail the whole request (the C string simply ends there, as with
         * protobuf-c).
         */
        json_t *root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!root) {
            *err = jansson_error(&jerr, &rc);
            /* jansson does not report every allocation failure as one: the arena knows. */
            if (xb_arena_exhausted(arena)) {
                rc = XB_ERR_NOMEM;
                *err = "out of memory while parsing JSON";
            }
            goto out;
        }
        out->root = root;
    }
out:
    parse_arena = NULL;
    return rc;
}

int xb_jt_object_check(const struct xb_jtree *t, const void *n)
{
    const char *keys[XB_JT_MAX_CHECKED_MEMBERS];
    size_t k = 0;

    if (t->backend != XB_JSON_CJSON)
        return 0;
    for (const cJSON *c = ((const cJSON *)n)->child; c; c = c->next) {
        if (k == XB_JT_MAX_CHECKED_MEMBERS)
            return -1;
        for (size_t j = 0; j < k; j++)
            if (keys[j][0] == c->string[0] && strcmp(keys[j], c->string) == 0)
                return -1;
        keys[k++] = c->string;
    }
    return 0;
}
