/*
 * core/jsonw.h - streaming JSON writer into a struct xb_buf, and the number formatting
 * it is built on (UTF-8 checks are in core/utf8.h).
 *
 * Guarantees (RFC 8259): output is valid UTF-8 (invalid input sequences become U+FFFD,
 * one replacement per offending byte), '"', '\\' and control characters are escaped,
 * non-finite doubles are written as null, and doubles use the shortest decimal form
 * that round-trips, laid out like Go's encoding/json (fixed notation for
 * 1e-6 <= |x| < 1e21, otherwise exponent notation such as 1e+21 or 1e-7).
 *
 * Errors are sticky: the first failure is kept in w->err and later calls only count
 * bytes, so callers check once at the end.
 */
#ifndef XB_CORE_JSONW_H
#define XB_CORE_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"

/* Deepest container nesting the writer accepts (deeper input is the caller's problem). */
#define XB_JSONW_MAX_DEPTH 64

/* Writer state. Initialise with xb_jsonw_init(); all fields may be read afterwards. */
struct xb_jsonw {
    struct xb_buf *b; /* borrowed output buffer; bytes are appended */
    int err;          /* first error: 0, XB_ERR_NOMEM, XB_ERR_TOO_LARGE, XB_ERR_INVALID */
    size_t written;   /* bytes produced so far, still counted after an error; in embedded
                       * mode the bytes the plain mode would have produced */
    size_t limit;     /* 0 = none; appending past |limit| bytes sets XB_ERR_TOO_LARGE */
    size_t max_str;   /* 0 = none; trimmable strings are cut to this many bytes */
    unsigned depth;
    unsigned char need_comma[XB_JSONW_MAX_DEPTH + 1];
    unsigned char after_key;
    /* Writes that keep b->len + n below room_end need no other check: no error, no capped
     * buffer, room reserved and |limit| not reached (see room_for() in core/jsonw.c). 0
     * until the first write, so |limit| may be set between xb_jsonw_init() and it; set
     * again after every write that took the general path, and 0 once |err| is set. */
    size_t room_end;
    unsigned char embedded; /* 1: output in embedded form (xb_jsonw_init_embedded()) */
    /* Embedded mode's room_end: writes in embedded form that keep b->len + n below it
     * need no other check (no error, no capped buffer, room reserved, no |limit|). 0 in
     * plain mode, until the first write, with a limit, and once |err| is set. */
    size_t emb_end;
};

/*
 * Starts writing into |b| (borrowed, not cleared). No limits. |limit| and |max_str| may
 * be set before the first write; |err| is set from outside only through
 * xb_jsonw_fail(). Between two writes |b| may be appended to, never shortened.
 */
void xb_jsonw_init(struct xb_jsonw *w, struct xb_buf *b);

/*
 * Starts writing into |b| like xb_jsonw_init(), in embedded mode: every call appends to
 * |b| exactly the bytes xb_jsonw_embed() would make of what the plain mode appends (the
 * document as the contents of a JSON string: a backslash before every quote and every
 * backslash of the plain output), so that the document can be copied as is into a PutTraceSegments
 * body. |written|, |limit| and |max_str| keep their plain-mode meaning (bytes of the
 * plain document), so every size decision is the same in both modes; b->len counts the
 * embedded bytes. Text given to xb_jsonw_raw_members() must be in embedded form too.
 * The common calls have in-place paths of their own (bounded by |emb_end|); a call costs
 * a little more than in plain mode, and the document needs no second pass.
 */
void xb_jsonw_init_embedded(struct xb_jsonw *w, struct xb_buf *b);

/* Sets the fast-path bounds (|room_end|, |emb_end|) from the buffer's reserved room and
 * |limit| now, as the first general-path write would, so that a writer on a buffer that
 * already has room (reused for one document after another) writes its first bytes in
 * place. Call after setting |limit|, before the first write; optional. */
void xb_jsonw_ready(struct xb_jsonw *w);

/* Records the error |rc| (kept only when none is set yet) and stops further output, as
 * the writer does on its own errors. */
void xb_jsonw_fail(struct xb_jsonw *w, int rc);

/* Container delimiters. Opening beyond XB_JSONW_MAX_DEPTH sets XB_ERR_INVALID. */
void xb_jsonw_obj_begin(struct xb_jsonw *w);
void xb_jsonw_obj_end(struct xb_jsonw *w);
void xb_jsonw_arr_begin(struct xb_jsonw *w);
void xb_jsonw_arr_end(struct xb_jsonw *w);

/* Writes an object key (|n| bytes of |k|, escaped, subject to max_str). */
void xb_jsonw_key(struct xb_jsonw *w, const char *k, size_t n);
/*
 * 1 when keys |a| (|an| bytes) and |b| (|bn| bytes) would be written identically under
 * the writer's max_str cut. Sorted-key writers use it to skip keys that collide once cut,
 * so trimmed objects never contain duplicate keys.
 */
int xb_jsonw_keys_collide(const struct xb_jsonw *w, const char *a, size_t an, const char *b,
                          size_t bn);

/* Writes the |n|-byte key |k| that is never trimmed (field names). |k| must be a
 * constant without characters that need JSON escaping: it is copied as is. */
void xb_jsonw_ckey_n(struct xb_jsonw *w, const char *k, size_t n);

/* NUL-terminated form of xb_jsonw_ckey_n(); inline so that the length of a string
 * literal is known at compile time and, in the common case (not right after a key,
 * room reserved, no size limit near), the separator and the quoted key are written
 * here with a fixed-size copy. Same bytes and state as xb_jsonw_ckey_n(). */
static inline __attribute__((always_inline)) void xb_jsonw_ckey(struct xb_jsonw *w, const char *k)
{
    size_t n = strlen(k), c;
    struct xb_buf *b = w->b;
    char *d;

    if (w->after_key || b->len + n + 4 >= w->room_end) {
        if (!w->after_key && b->len + n + 6 < w->emb_end) {
            /* embedded mode: [,]\"k\": */
            d = b->data + b->len;
            c = w->need_comma[w->depth] ? 1 : 0;
            d[0] = ',';
            d[c] = '\\';
            d[c + 1] = '"';
            memcpy(d + c + 2, k, n);
            d[c + n + 2] = '\\';
            d[c + n + 3] = '"';
            d[c + n + 4] = ':';
            d[c + n + 5] = '\0';
            b->len += c + n + 5;
            w->written += c + n + 3;
            w->need_comma[w->depth] = 1;
            w->after_key = 1;
            return;
        }
        xb_jsonw_ckey_n(w, k, n);
        return;
    }
    d = b->data + b->len;
    c = w->need_comma[w->depth] ? 1 : 0;
    d[0] = ','; /* overwritten by the quote when no comma is due */
    d[c] = '"';
    memcpy(d + c + 1, k, n);
    d[c + n + 1] = '"';
    d[c + n + 2] = ':';
    d[c + n + 3] = '\0';
    b->len += c + n + 3;
    w->written += c + n + 3;
    w->need_comma[w->depth] = 1;
    w->after_key = 1;
}

/* Field name then an opening '{': the same bytes and state as xb_jsonw_ckey_n(|k|,
 * |n|) then xb_jsonw_obj_begin(), in one step (one room check, no memcpy call) when
 * not right after a key, |n| <= 16 and room is reserved. |k| as for xb_jsonw_ckey_n(). */
void xb_jsonw_ckey_obj_n(struct xb_jsonw *w, const char *k, size_t n);

/* NUL-terminated form of xb_jsonw_ckey_obj_n(); inline so that the length of a string
 * literal is known at compile time. */
static inline void xb_jsonw_ckey_obj(struct xb_jsonw *w, const char *k)
{
    xb_jsonw_ckey_obj_n(w, k, strlen(k));
}

/* String value of |n| bytes; cut to max_str bytes (at a character boundary) when set. */
void xb_jsonw_str(struct xb_jsonw *w, const char *s, size_t n);
/* Object member with a string value: the same bytes and state as xb_jsonw_key(|k|,
 * |kn|) then xb_jsonw_str(|s|, |sn|), written in one step when neither needs escaping
 * or cutting and both fit the reserved room (metadata entries). */
void xb_jsonw_member_str(struct xb_jsonw *w, const char *k, size_t kn, const char *s, size_t sn);
/* Object member with a value already formatted by the caller (|vn| bytes of JSON: a
 * number, true, false or null): the same bytes and state as xb_jsonw_key(|k|, |kn|) then
 * xb_jsonw_raw_members(|v|, |vn|), written in one step when the key needs no escaping
 * or cutting and the member fits the reserved room (scalar metadata entries). */
void xb_jsonw_member_raw(struct xb_jsonw *w, const char *k, size_t kn, const char *v, size_t vn);
/* Field name and string value: the same bytes and state as xb_jsonw_ckey_n(|k|, |kn|)
 * then xb_jsonw_str(|s|, |sn|), written in one step when the value needs no escaping,
 * is not cut and fits the reserved room. |k| as for xb_jsonw_ckey_n(). */
void xb_jsonw_ckey_str(struct xb_jsonw *w, const char *k, size_t kn, const char *s, size_t sn);
/* String value that is never trimmed (ids, enumerations). */
void xb_jsonw_str_full(struct xb_jsonw *w, const char *s, size_t n);
/* NUL-terminated convenience form of xb_jsonw_str_full(). */
void xb_jsonw_cstr(struct xb_jsonw *w, const char *s);

/*
 * Appends |n| bytes of |s| to |b| as the contents of a JSON string, without the quotes,
 * escaped exactly as the writer escapes string values (used to embed one JSON document
 * as a string inside another). For writer output (valid UTF-8, no control characters)
 * only '"' and '\\' are escaped, so at most 2 * |n| bytes are added. Returns XB_OK or the
 * xb_buf_reserve()/xb_buf_append() error (XB_ERR_NOMEM, XB_ERR_TOO_LARGE); on error |b|
 * may hold part of the output.
 */
int xb_jsonw_escape(struct xb_buf *b, const char *s, size_t n);

/*
 * Same bytes and return codes as xb_jsonw_escape(), faster on text that is mostly
 * printable ASCII with many '"' or '\\' (a JSON document embedded as a string): those
 * take a fast path (AVX-512 VBMI2 or SSSE3 when the CPU has it, else 8-byte words), other
 * bytes the general escaper (core/jsonw_embed.c). |b| is NUL-terminated after success.
 */
int xb_jsonw_embed(struct xb_buf *b, const char *s, size_t n);

/* The code paths of xb_jsonw_embed(), slowest first. */
enum xb_jsonw_embed_path {
    XB_JSONW_EMBED_SCALAR = 0, /* any CPU: 8-byte words, pieces between escapes */
    XB_JSONW_EMBED_SSSE3 = 1,  /* x86-64 with SSSE3: shuffles, 16 bytes per step */
    XB_JSONW_EMBED_AVX512 = 2, /* x86-64 with AVX-512 VBMI2 and BMI2: compress, 32 bytes */
};

/* xb_jsonw_embed() on |path|, or on the fastest path this CPU runs when that is slower
 * (tests and benchmarks compare the paths). Same bytes and return codes. */
int xb_jsonw_embed_path(struct xb_buf *b, const char *s, size_t n, enum xb_jsonw_embed_path path);

/* The path xb_jsonw_embed() takes on this CPU. */
enum xb_jsonw_embed_path xb_jsonw_embed_best(void);

void xb_jsonw_int(struct xb_jsonw *w, int64_t v);   /* exact decimal */
void xb_jsonw_uint(struct xb_jsonw *w, uint64_t v); /* exact decimal */
void xb_jsonw_double(struct xb_jsonw *w, double v); /* Go layout; NaN/Inf -> null */
void xb_jsonw_bool(struct xb_jsonw *w, int v);
void xb_jsonw_null(struct xb_jsonw *w);

/*
 * Appends |n| bytes of pre-rendered JSON that form one or more complete members of the
 * current object, elements of the current array, or the value right after a key, as
 * this writer would have written them: a separating comma is added when needed. |n| == 0
 * writes nothing. Used to splice parts that are identical in many documents, rendered
 * once, and values formatted by the caller. In embedded mode |p| is in embedded form
 * (rendered by an embedded writer, or xb_jsonw_embed() of plain JSON) and is copied as
 * is; |written| grows by its plain length (|n| less one byte per backslash pair).
 */
void xb_jsonw_raw_members(struct xb_jsonw *w, const char *p, size_t n);

/* xb_jsonw_raw_members() with the plain length of |p| given by the caller (|plain| ==
 * |n| for plain text; in embedded mode the length of the plain text |p| stands for, as
 * the rendering writer's |written| counted it), so that it is not counted again. */
void xb_jsonw_raw_members_n(struct xb_jsonw *w, const char *p, size_t n, size_t plain);

/*
 * String value of |n| bytes that needs no escaping: printable ASCII without '"' or '\\'
 * (hex ids, constants). Never trimmed. The same bytes as xb_jsonw_str_full() on such
 * input, without scanning it.
 */
void xb_jsonw_str_plain(struct xb_jsonw *w, const char *s, size_t n);

/*
 * Field name |k| (|kn| bytes, as for xb_jsonw_ckey_n()) and a string value of |sn| bytes
 * that needs no escaping (as for xb_jsonw_str_plain(): ids, trace ids, enumerations):
 * the same bytes and state as xb_jsonw_ckey_n() then xb_jsonw_str_plain(), in one step
 * when the room is reserved and no limit is near.
 */
void xb_jsonw_ckey_plain(struct xb_jsonw *w, const char *k, size_t kn, const char *s, size_t sn);

/*
 * Formats |v| in decimal (the bytes printf's "%" PRId64 / "%" PRIu64 gives) into |out|
 * (>= 21 bytes), NUL-terminated, without going through printf. Returns the length.
 */
size_t xb_jsonw_fmt_int(char *out, int64_t v);
size_t xb_jsonw_fmt_uint(char *out, uint64_t v);

/*
 * Formats |v| as the shortest decimal that parses back to |v|, into |out| (>= 400 bytes),
 * NUL-terminated. |go_json| = 1: Go encoding/json layout (exponent form outside
 * [1e-6, 1e21)); 0: always fixed notation (Go strconv 'f', -1, used for AsString).
 * Returns the length, or 0 for NaN/Inf (out = "").
 */
size_t xb_jsonw_fmt_double(char *out, double v, int go_json);

#endif
