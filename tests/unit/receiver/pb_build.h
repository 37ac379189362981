/*
 * tests/unit/receiver/pb_build.h - test-only builder of OTLP protobuf bytes, written
 * back to front so that nesting thousands of messages deep costs one pass.
 *
 * Content is prepended: write the innermost bytes first, then wrap everything written
 * since a mark with xb_pbb_wrap() (length prefix + tag). Buffers are malloc'ed and
 * grow on demand; allocation failure aborts (tests only).
 */
#ifndef XB_TESTS_UNIT_RECEIVER_PB_BUILD_H
#define XB_TESTS_UNIT_RECEIVER_PB_BUILD_H

#include <stddef.h>
#include <stdint.h>

/* Bytes live in buf[pos .. cap). */
struct xb_pbb {
    uint8_t *buf;
    size_t cap;
    size_t pos;
};

/* Starts an empty builder. Free with xb_pbb_free(). */
void xb_pbb_init(struct xb_pbb *b);
void xb_pbb_free(struct xb_pbb *b);

/* Current length; xb_pbb_wrap(b, field, mark) wraps what was written since |mark|. */
size_t xb_pbb_len(const struct xb_pbb *b);
const uint8_t *xb_pbb_data(const struct xb_pbb *b);

/* Prepends |n| raw bytes from |p|. */
void xb_pbb_raw(struct xb_pbb *b, const void *p, size_t n);
/* Prepends |v| as a base-128 varint. */
void xb_pbb_varint(struct xb_pbb *b, uint64_t v);
/* Prepends the tag of field |field| with wire type |wire_type| (0 varint, 1 i64, 2 len,
 * 5 i32; others on purpose for malformed input). */
void xb_pbb_tag(struct xb_pbb *b, unsigned field, unsigned wire_type);
/* Length-delimited field |field| holding |n| bytes at |p|. */
void xb_pbb_bytes(struct xb_pbb *b, unsigned field, const void *p, size_t n);
/* Wraps everything written since the length was |mark| as sub-message |field|. */
void xb_pbb_wrap(struct xb_pbb *b, unsigned field, size_t mark);

/* What sits around an attribute value in xb_pbb_request(). */
enum xb_pbb_where { XB_PBB_SPAN_ATTR, XB_PBB_RESOURCE_ATTR, XB_PBB_EVENT_ATTR, XB_PBB_LINK_ATTR };

/*
 * Writes an AnyValue chain |levels| AnyValues deep (1 = a plain string value) into
 * |b|: each level is array_value{values: [next]}, or kvlist_value{values: [{key "k",
 * value: next}]} when |kvlist| is 1, or alternating when it is 2.
 */
void xb_pbb_nested_value(struct xb_pbb *b, int levels, int kvlist);

/*
 * Wraps the AnyValue written since |mark| as the value of attribute "k" at |where|,
 * inside one valid span of one ExportTraceServiceRequest.
 */
void xb_pbb_request(struct xb_pbb *b, size_t mark, enum xb_pbb_where where);

/* Convenience: a whole request whose one attribute nests |levels| deep. */
void xb_pbb_nested_request(struct xb_pbb *b, int levels, int kvlist, enum xb_pbb_where where);

#endif
