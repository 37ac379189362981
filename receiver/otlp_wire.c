/*
 * receiver/otlp_wire.c - see otlp_wire.h. Wire format:
 * https://protobuf.dev/programming-guides/encoding/ Field numbers and types:
 * proto/opentelemetry/proto/{collector/trace,trace,resource,common}/v1/. The values
 * stored follow protobuf-c 1.4's unpacker (protobuf-c/protobuf-c.c:
 * parse_required_member): int32/uint32/enum keep the low 32 bits of the varint, a
 * bool is true when any of its varint's 7-bit groups is non-zero, empty bytes are
 * {0, NULL}, strings are NUL-terminated copies, repeated elements keep wire order.
 */
#include "receiver/otlp_wire.h"

#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "receiver/otlp_limits.h"

/* The messages decoded here. */
enum msg {
    M_REQUEST,  /* ExportTraceServiceRequest */
    M_RS,       /* ResourceSpans */
    M_RESOURCE, /* Resource */
    M_SS,       /* ScopeSpans */
    M_SCOPE,    /* InstrumentationScope */
    M_SPAN,     /* Span */
    M_EVENT,    /* Span.Event */
    M_LINK,     /* Span.Link */
    M_STATUS,   /* Status */
    M_KV,       /* KeyValue */
    M_ANY,      /* AnyValue */
    M_ARRAY,    /* ArrayValue */
    M_KVLIST,   /* KeyValueList */
    M_COUNT
};

/* Protobuf wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* Initial values, as protobuf-c's message_init sets them. */
static const xb_pb_export_req T_REQ =
    OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
static const xb_pb_resource_spans T_RS = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
static const xb_pb_resource T_RESOURCE = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
static const xb_pb_scope_spans T_SS = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
static const xb_pb_scope T_SCOPE = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
static const xb_pb_span T_SPAN = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
static const xb_pb_event T_EVENT = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__EVENT__INIT;
static const xb_pb_link T_LINK = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__LINK__INIT;
static const xb_pb_status T_STATUS = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__INIT;
static const xb_pb_kv T_KV = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
static const xb_pb_any T_ANY = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
static const xb_pb_array T_ARRAY = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
static const xb_pb_kvlist T_KVLIST = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;

/* A KeyValue and the AnyValue its |value| points to, allocated together. */
struct kv_elem {
    xb_pb_kv kv;
    xb_pb_any any;
};

/* Initialise a KeyValue / AnyValue like their templates, member by member: a
 * struct copy of these small templates compiles to "rep movsq" here, whose start-up
 * cost dominated the per-attribute work. */
static inline void init_kv(xb_pb_kv *kv)
{
    kv->base.descriptor = T_KV.base.descriptor;
    kv->base.n_unknown_fields = 0;
    kv->base.unknown_fields = NULL;
    kv->key = T_KV.key;
    kv->value = NULL;
}

static inline void init_any(xb_pb_any *a)
{
    a->base.descriptor = T_ANY.base.descriptor;
    a->base.n_unknown_fields = 0;
    a->base.unknown_fields = NULL;
    a->value_case = XB_ANY_NONE;
    a->bytes_value.len = 0;
    a->bytes_value.data = NULL;
}

/* One repeated message field: its element type and where the count and the pointer
 * array live in the parent structure. */
struct rep {
    uint8_t child;
    uint8_t region; /* which pointer region holds its array (struct dec) */
    uint16_t elem_size;
    uint16_t n_off;
    uint16_t arr_off;
};

/* Pointer regions: containers of spans, of events and links, of attributes and
 * values. A message's own repeated fields then rarely interleave in one region with
 * its children's, and each array grows in place (grow_rep()). */
#define REGION(c) ((c) == M_KV || (c) == M_ANY ? 2 : (c) == M_EVENT || (c) == M_LINK ? 1 : 0)

#define REP(c, etype, ptype, member)                                                               \
    {                                                                                              \
        (c), REGION(c), sizeof(etype), offsetof(ptype, n_##member), offsetof(ptype, member)        \
    }

/* Repeated message fields per message type (at most three: Span), in slots that
 * fields[] below names by FD_REP(slot) with their field numbers. */
static const struct rep reps[M_COUNT][3] = {
    [M_REQUEST] = {REP(M_RS, xb_pb_resource_spans, xb_pb_export_req, resource_spans)},
    [M_RS] = {REP(M_SS, xb_pb_scope_spans, xb_pb_resource_spans, scope_spans)},
    [M_RESOURCE] = {REP(M_KV, struct kv_elem, xb_pb_resource, attributes)},
    [M_SS] = {REP(M_SPAN, xb_pb_span, xb_pb_scope_spans, spans)},
    [M_SCOPE] = {REP(M_KV, struct kv_elem, xb_pb_scope, attributes)},
    [M_SPAN] = {REP(M_KV, struct kv_elem, xb_pb_span, attributes),
                REP(M_EVENT, xb_pb_event, xb_pb_span, events),
                REP(M_LINK, xb_pb_link, xb_pb_span, links)},
    [M_EVENT] = {REP(M_KV, struct kv_elem, xb_pb_event, attributes)},
    [M_LINK] = {REP(M_KV, struct kv_elem, xb_pb_link, attributes)},
    [M_ARRAY] = {REP(M_ANY, xb_pb_any, xb_pb_array, values)},
    [M_KVLIST] = {REP(M_KV, struct kv_elem, xb_pb_kvlist, values)},
};

/*
 * Deepest stack of accepted input, as in receiver/pb_scan.c: request, ResourceSpans,
 * ScopeSpans, Span, Event/Link, KeyValue (6), then per AnyValue level at most
 * AnyValue + KeyValueList + KeyValue (3).
 */
#define MAX_FRAMES (6 + 3 * XB_OTLP_MAX_ANYVALUE_DEPTH + 2)

/* How one field of a message is decoded. */
enum fkind {
    F_SKIP,         /* unknown here: skipped */
    F_STR,          /* string: take_str() */
    F_BYTES,        /* bytes: take_bytes() */
    F_U32,          /* int32, uint32, enum: take_u32() */
    F_FIX64,        /* fixed64, double: take_fixed64() */
    F_FIX32,        /* fixed32: take_fixed32() */
    F_BOOL,         /* bool, as protobuf-c's parse_boolean */
    F_I64,          /* int64 */
    F_REP,          /* repeated message: slot |arg| of reps[] */
    F_SUB,          /* singular message of type |arg|, pointer at |off| */
    F_KVVAL,        /* KeyValue.value: the AnyValue next to it in struct kv_elem */
    F_REFUSE,       /* left to protobuf-c: the whole request falls back */
    F_ONEOF = 0x80, /* flag: an AnyValue oneof member */
};

/* One field: its kind (with F_ONEOF), an argument (repeated slot or message type)
 * and the offset of its member in the message structure. */
struct fdesc {
    uint8_t kind;
    uint8_t arg;
    uint16_t off;
};

/* Field numbers above this are unknown in every message decoded here. */
#define MAX_FIELD 16

#define FD(kind, type, member)                                                                     \
    {                                                                                              \
        (kind), 0, offsetof(type, member)                                                          \
    }
#define FD_REP(slot)                                                                               \
    {                                                                                              \
        F_REP, (slot), 0                                                                           \
    }
#define FD_SUB(child, type, member)                                                                \
    {                                                                                              \
        F_SUB, (child), offsetof(type, member)                                                     \
    }
#define FD_ONEOF(kind, arg, member)                                                                \
    {                                                                                              \
        (kind) | F_ONEOF, (arg), offsetof(xb_pb_any, member)                                       \
    }

/* Fields per message type, indexed by field number (proto files cited at the top). */
static const struct fdesc fields[M_COUNT][MAX_FIELD + 1] = {
    [M_REQUEST] = {[1] = FD_REP(0)},
    [M_RS] = {[1] = FD_SUB(M_RESOURCE, xb_pb_resource_spans, resource),
              [2] = FD_REP(0),
              [3] = FD(F_STR, xb_pb_resource_spans, schema_url)},
    [M_RESOURCE] = {[1] = FD_REP(0),
                    [2] = FD(F_U32, xb_pb_resource, dropped_attributes_count),
                    [3] = {F_REFUSE, 0, 0}}, /* entity_refs */
    [M_SS] = {[1] = FD_SUB(M_SCOPE, xb_pb_scope_spans, scope),
              [2] = FD_REP(0),
              [3] = FD(F_STR, xb_pb_scope_spans, schema_url)},
    [M_SCOPE] = {[1] = FD(F_STR, xb_pb_scope, name),
                 [2] = FD(F_STR, xb_pb_scope, version),
                 [3] = FD_REP(0),
                 [4] = FD(F_U32, xb_pb_scope, dropped_attributes_count)},
    [M_SPAN] = {[1] = FD(F_BYTES, xb_pb_span, trace_id),
                [2] = FD(F_BYTES, xb_pb_span, span_id),
                [3] = FD(F_STR, xb_pb_span, trace_state),
                [4] = FD(F_BYTES, xb_pb_span, parent_span_id),
                [5] = FD(F_STR, xb_pb_span, name),
                [6] = FD(F_U32, xb_pb_span, kind),
                [7] = FD(F_FIX64, xb_pb_span, start_time_unix_nano),
                [8] = FD(F_FIX64, xb_pb_span, end_time_unix_nano),
                [9] = FD_REP(0),
                [10] = FD(F_U32, xb_pb_span, dropped_attributes_count),
                [11] = FD_REP(1),
                [12] = FD(F_U32, xb_pb_span, dropped_events_count),
                [13] = FD_REP(2),
                [14] = FD(F_U32, xb_pb_span, dropped_links_count),
                [15] = FD_SUB(M_STATUS, xb_pb_span, status),
                [16] = FD(F_FIX32, xb_pb_span, flags)},
    [M_EVENT] = {[1] = FD(F_FIX64, xb_pb_event, time_unix_nano),
                 [2] = FD(F_STR, xb_pb_event, name),
                 [3] = FD_REP(0),
                 [4] = FD(F_U32, xb_pb_event, dropped_attributes_count)},
    [M_LINK] = {[1] = FD(F_BYTES, xb_pb_link, trace_id),
                [2] = FD(F_BYTES, xb_pb_link, span_id),
                [3] = FD(F_STR, xb_pb_link, trace_state),
                [4] = FD_REP(0),
                [5] = FD(F_U32, xb_pb_link, dropped_attributes_count),
                [6] = FD(F_FIX32, xb_pb_link, flags)},
    [M_STATUS] = {[2] = FD(F_STR, xb_pb_status, message), [3] = FD(F_U32, xb_pb_status, code)},
    [M_KV] = {[1] = FD(F_STR, xb_pb_kv, key), [2] = {F_KVVAL, 0, 0}},
    [M_ANY] = {[1] = FD_ONEOF(F_STR, 0, string_value),
               [2] = FD_ONEOF(F_BOOL, 0, bool_value),
               [3] = FD_ONEOF(F_I64, 0, int_value),
               [4] = FD_ONEOF(F_FIX64, 0, double_value),
               [5] = FD_ONEOF(F_SUB, M_ARRAY, array_value),
               [6] = FD_ONEOF(F_SUB, M_KVLIST, kvlist_value),
               [7] = FD_ONEOF(F_BYTES, 0, bytes_value)},
    [M_ARRAY] = {[1] = FD_REP(0)},
    [M_KVLIST] = {[1] = FD_REP(0)},
};

/* One open message. */
struct frame {
    const uint8_t *end;
    void *msg;
    unsigned type;
    const struct fdesc *fields; /* fields[type] */
    size_t cap[3];              /* room in each repeated field's pointer array */
};

/* Bytes of the pool past its |len| that put_bytes() may write. */
#define POOL_SLACK 16

/* A bump region carved from blocks taken from the arena. */
struct bump {
    char *p;
    char *end;
};

/* Decoding state shared by the helpers. */
struct dec {
    struct xb_arena *arena;
    char *pool; /* strings and bytes: never overflows, see xb_otlp_wire_decode() */
    char *pool_end;
    const uint8_t *in_end; /* the input's end */
    struct bump msgs;      /* messages */
    struct bump ptrs[3];   /* repeated fields' pointer arrays, per region (REGION()) */
    void **top[3];         /* per region, the array that ends where it continues */
    size_t msgs_block;     /* bytes per block of |msgs| */
    size_t ptrs_block;     /* least bytes per block of |ptrs| */
};

/*
 * Messages are carved from blocks taken from the arena, pointer arrays from blocks of
 * at least a minimum size (struct dec: msgs_block, ptrs_block), so that most
 * allocations are a pointer bump. The sizes follow the input's length between these
 * bounds (a small request's decoded form is about four times its length, its
 * pointers a tenth of that), so that a small request does not take a large block. A
 * block's unused tail (less than the largest request carved from it) is wasted.
 */
#define MSGS_BLOCK_MIN 1024
#define MSGS_BLOCK_MAX 8192
#define PTRS_BLOCK_MIN 256
#define PTRS_BLOCK_MAX 2048

/* bump() keeps 8-byte alignment: every size carved is a multiple of 8. */
_Static_assert(sizeof(xb_pb_export_req) % 8 == 0 && sizeof(xb_pb_resource_spans) % 8 == 0 &&
                   sizeof(xb_pb_resource) % 8 == 0 && sizeof(xb_pb_scope_spans) % 8 == 0 &&
                   sizeof(xb_pb_scope) % 8 == 0 && sizeof(xb_pb_span) % 8 == 0 &&
                   sizeof(xb_pb_event) % 8 == 0 && sizeof(xb_pb_link) % 8 == 0 &&
                   sizeof(xb_pb_status) % 8 == 0 && sizeof(struct kv_elem) % 8 == 0 &&
                   sizeof(xb_pb_any) % 8 == 0 && sizeof(xb_pb_array) % 8 == 0 &&
                   sizeof(xb_pb_kvlist) % 8 == 0,
               "message sizes are multiples of 8");
_Static_assert(sizeof(xb_pb_span) <= MSGS_BLOCK_MIN / 4, "a block holds several spans");

/* Takes a new |block|-byte block for |b| and carves |n| bytes from it. */
static void *bump_slow(struct xb_arena *arena, struct bump *b, size_t n, size_t block)
{
    char *blk = xb_arena_alloc(arena, block);

    if (!blk)
        return NULL;
    b->p = blk + n;
    b->end = blk + block;
    return blk;
}

/* Carves |n| bytes (a multiple of 8, at most |block|) from |b|; NULL when the arena
 * refuses a new block. */
static inline void *bump(struct xb_arena *arena, struct bump *b, size_t n, size_t block)
{
    char *r = b->p;

    if ((size_t)(b->end - r) < n)
        return bump_slow(arena, b, n, block);
    b->p = r + n;
    return r;
}

/* Reads a varint of at most |max| bytes into |*v|. Returns 0, or -1 if truncated or
 * longer. Bits past 64 are dropped, like protobuf-c's parse_uint64(). */
static inline int rd_varint(const uint8_t **pp, const uint8_t *end, unsigned max, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t r = 0;

    if (p < end && *p < 0x80) {
        *v = *p;
        *pp = p + 1;
        return 0;
    }
    for (unsigned n = 0; n < max && p < end; n++, p++) {
        r |= (uint64_t)(*p & 0x7f) << (7 * n);
        if (!(*p & 0x80)) {
            *pp = p + 1;
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Reads a length prefix (at most 5 bytes, like protobuf-c) that fits before |end|. */
static inline int rd_len(const uint8_t **pp, const uint8_t *end, size_t *n)
{
    uint64_t v;

    if (rd_varint(pp, end, 5, &v) != 0 || v > (uint64_t)(end - *pp))
        return -1;
    *n = (size_t)v;
    return 0;
}

/* Skips one field value of wire type |wt|. Returns -1 when it is malformed or of a
 * wire type protobuf-c refuses (groups, 6, 7). */
static inline int skip_value(const uint8_t **pp, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    size_t n;

    switch (wt) {
    case WT_VARINT:
        return rd_varint(pp, end, 10, &v);
    case WT_I64:
    case WT_I32:
        n = wt == WT_I64 ? 8 : 4;
        if ((size_t)(end - *pp) < n)
            return -1;
        *pp += n;
        return 0;
    case WT_LEN:
        if (rd_len(pp, end, &n) != 0)
            return -1;
        *pp += n;
        return 0;
    default:
        return -1;
    }
}

/* Reads a field tag: a uint32 varint with a non-zero field number. */
static inline int rd_tag(const uint8_t **pp, const uint8_t *end, unsigned *field, unsigned *wt)
{
    uint64_t tag;

    if (rd_varint(pp, end, 5, &tag) != 0 || tag > UINT32_MAX || (tag >> 3) == 0)
        return -1;
    *field = (unsigned)(tag >> 3);
    *wt = (unsigned)(tag & 7);
    return 0;
}

/*
 * Hides |n|'s range from the compiler. Lengths below 128 (one-byte prefixes) make GCC
 * expand memcpy() inline as "rep movsq", several times slower for short strings than
 * the library's vector copy.
 */
static inline size_t opaque_len(size_t n)
{
    __asm__("" : "+r"(n));
    return n;
}

/*
 * Copies the |n| input bytes at |s| to |dst| in the pool. Up to 32 bytes take one or
 * two 16-byte moves: a string shorter than 16 bytes is moved with the input bytes
 * after it when 16 are left before |d->in_end|, and the up to 15 bytes written past
 * |dst + n| land in the pool's room for later strings or its POOL_SLACK bytes.
 */
static inline void put_bytes(const struct dec *d, char *dst, const uint8_t *s, size_t n)
{
    if (n <= 16 && (size_t)(d->in_end - s) >= 16) {
        memcpy(dst, s, 16);
    } else if (n - 17 < 16) { /* 17..32 */
        memcpy(dst, s, 16);
        memcpy(dst + n - 16, s + n - 16, 16);
    } else {
        memcpy(dst, s, opaque_len(n));
    }
}

/*
 * put_bytes() for a KeyValue run, whose strings all have 16 input bytes after their
 * start (kv_run()): the same moves without the check.
 */
static inline void put_run_bytes(char *dst, const uint8_t *s, size_t n)
{
    if (n <= 16) {
        memcpy(dst, s, 16);
    } else if (n - 17 < 16) { /* 17..32 */
        memcpy(dst, s, 16);
        memcpy(dst + n - 16, s + n - 16, 16);
    } else {
        memcpy(dst, s, opaque_len(n));
    }
}

/* A length-delimited string: NUL-terminated copy in the pool. */
static inline int take_str(struct dec *d, const uint8_t **pp, const uint8_t *end, unsigned wt,
                           char **dst)
{
    size_t n;

    if (wt != WT_LEN || rd_len(pp, end, &n) != 0 || (size_t)(d->pool_end - d->pool) < n + 1)
        return -1;
    put_bytes(d, d->pool, *pp, n);
    d->pool[n] = '\0';
    *dst = d->pool;
    d->pool += n + 1;
    *pp += n;
    return 0;
}

/* A bytes field: a copy in the pool, {0, NULL} when empty. */
static inline int take_bytes(struct dec *d, const uint8_t **pp, const uint8_t *end, unsigned wt,
                             ProtobufCBinaryData *dst)
{
    size_t n;

    if (wt != WT_LEN || rd_len(pp, end, &n) != 0 || (size_t)(d->pool_end - d->pool) < n)
        return -1;
    dst->len = n;
    dst->data = NULL;
    if (n) {
        put_bytes(d, d->pool, *pp, n);
        dst->data = (uint8_t *)d->pool;
        d->pool += n;
        *pp += n;
    }
    return 0;
}

/* A varint field's low 32 bits (int32, uint32, enum). */
static inline int take_u32(const uint8_t **pp, const uint8_t *end, unsigned wt, uint32_t *dst)
{
    uint64_t v;

    if (wt != WT_VARINT || rd_varint(pp, end, 10, &v) != 0)
        return -1;
    *dst = (uint32_t)v;
    return 0;
}

/* A fixed64 or double field. */
static inline int take_fixed64(const uint8_t **pp, const uint8_t *end, unsigned wt, void *dst)
{
    if (wt != WT_I64 || end - *pp < 8)
        return -1;
    memcpy(dst, *pp, 8);
    *pp += 8;
    return 0;
}

/* A fixed32 field. */
static inline int take_fixed32(const uint8_t **pp, const uint8_t *end, unsigned wt, uint32_t *dst)
{
    if (wt != WT_I32 || end - *pp < 4)
        return -1;
    memcpy(dst, *pp, 4);
    *pp += 4;
    return 0;
}

/* Opens message |msg| of |type| spanning up to |end| in frame |f|. */
static inline void open_frame(struct frame *f, unsigned type, void *msg, const uint8_t *end)
{
    f->end = end;
    f->msg = msg;
    f->type = type;
    f->fields = fields[type];
    f->cap[0] = f->cap[1] = f->cap[2] = 0;
}

/*
 * Counts the elements of repeated slot |k| of frame |f| from the one whose tag ends
 * at |p| to the end of the message. Returns the count, or 0 when the rest of the
 * message is malformed (the request is then left to the reference decoder).
 */
static size_t count_rest(const struct frame *f, int k, const uint8_t *p)
{
    const uint8_t *end = f->end;
    size_t n;
    size_t cnt = 1;

    if (rd_len(&p, end, &n) != 0)
        return 0;
    p += n;
    while (p < end) {
        unsigned field, wt;
        if (rd_tag(&p, end, &field, &wt) != 0)
            return 0;
        if (wt == WT_LEN && field <= MAX_FIELD && f->fields[field].kind == F_REP &&
            f->fields[field].arg == k)
            cnt++;
        if (skip_value(&p, end, wt) != 0)
            return 0;
    }
    return cnt;
}

/*
 * Moves the array of repeated slot |k| of frame |f|, which holds |n| == f->cap[k]
 * pointers (none yet: a first array), to the end of its region, with room for one
 * (a first array) or for exactly all its elements, counted from the new one, whose
 * tag ends at |p|, to the end of the message. An array moves at most once after its
 * first, so a field costs at most twice its pointers and the counting at most one
 * more pass over the message. Returns XB_OK, XB_ERR_NOMEM or XB_ERR_INVALID.
 */
static int move_rep(struct dec *d, struct frame *f, int k, size_t n, const uint8_t *p)
{
    const struct rep *r = &reps[f->type][k];
    void ***arr = (void ***)((char *)f->msg + r->arr_off);
    struct bump *b = &d->ptrs[r->region];
    size_t need = sizeof(void *);
    void **na;

    if (n) {
        size_t rest = count_rest(f, k, p);
        if (!rest)
            return XB_ERR_INVALID;
        /* (n + rest is below the input length, so this cannot overflow.) */
        need = (n + rest) * sizeof(void *);
    }
    if ((size_t)(b->end - b->p) < need) {
        size_t size = need > d->ptrs_block ? need : d->ptrs_block;
        char *blk = xb_arena_alloc(d->arena, size);
        if (!blk)
            return XB_ERR_NOMEM;
        b->p = blk;
        b->end = blk + size;
    }
    na = (void **)(void *)b->p;
    b->p += need;
    d->top[r->region] = na;
    if (n)
        memcpy(na, *arr, n * sizeof(void *));
    *arr = na;
    f->cap[k] = need / sizeof(void *);
    return XB_OK;
}

/*
 * Makes room for one more pointer in repeated slot |k| of frame |f|, whose array
 * holds |n| == f->cap[k] pointers; the new element's tag ends at |p|. The array that
 * ends where its region continues (the usual case: one message's elements arrive
 * together) grows there by one pointer; any other one moves (move_rep()). Returns
 * XB_OK, XB_ERR_NOMEM or XB_ERR_INVALID.
 */
static inline int grow_rep(struct dec *d, struct frame *f, int k, size_t n, const uint8_t *p)
{
    const struct rep *r = &reps[f->type][k];
    struct bump *b = &d->ptrs[r->region];

    if (n && *(void ***)((char *)f->msg + r->arr_off) == d->top[r->region] && b->p != b->end) {
        b->p += sizeof(void *);
        f->cap[k] = n + 1;
        return XB_OK;
    }
    return move_rep(d, f, k, n, p);
}

/* Starts the next element of repeated slot |k| of frame |f|, whose tag ends at |p|:
 * allocates and initialises it and appends it to the parent's array. Returns it, or
 * NULL with |*rc| set to XB_ERR_NOMEM or XB_ERR_INVALID. */
static void *next_elem(struct dec *d, struct frame *f, int k, const uint8_t *p, int *rc)
{
    const struct rep *r = &reps[f->type][k];
    size_t *n = (size_t *)((char *)f->msg + r->n_off);
    char *e;

    if (*n == f->cap[k] && (*rc = grow_rep(d, f, k, *n, p)) != XB_OK)
        return NULL;
    e = bump(d->arena, &d->msgs, r->elem_size, d->msgs_block);
    if (!e) {
        *rc = XB_ERR_NOMEM;
        return NULL;
    }
    (*(void ***)((char *)f->msg + r->arr_off))[(*n)++] = e;
    switch (r->child) {
    case M_RS:
        memcpy(e, &T_RS, sizeof(T_RS));
        break;
    case M_SS:
        memcpy(e, &T_SS, sizeof(T_SS));
        break;
    case M_SPAN:
        memcpy(e, &T_SPAN, sizeof(T_SPAN));
        break;
    case M_EVENT:
        memcpy(e, &T_EVENT, sizeof(T_EVENT));
        break;
    case M_LINK:
        memcpy(e, &T_LINK, sizeof(T_LINK));
        break;
    case M_KV:
        init_kv((xb_pb_kv *)(void *)e);
        break;
    default: /* M_ANY */
        init_any((xb_pb_any *)(void *)e);
        break;
    }
    return e;
}

/* Allocates and initialises a singular sub-message. */
static void *new_msg(struct dec *d, const void *tmpl, size_t size)
{
    void *m = bump(d->arena, &d->msgs, size, d->msgs_block);
    if (m)
        memcpy(m, tmpl, size);
    return m;
}

/* Copies a KeyValue's key (|n| bytes at |s|) into the pool and points |e| at it. */
static inline void put_key(struct dec *d, xb_pb_kv *kv, const uint8_t *s, size_t n)
{
    char *pool = d->pool;

    put_run_bytes(pool, s, n);
    pool[n] = '\0';
    init_kv(kv);
    kv->key = pool;
    d->pool = pool + n + 1;
}

/*
 * Decodes the common KeyValue shape into |e|: key (field 1), then value (field 2)
 * holding at most one scalar member, spanning exactly the |len| (below 128) bytes at
 * |p|. Every length inside is then below 128 too, so a byte read as a length that is
 * 128 or more (the start of a longer varint) fails the length checks. The pool has
 * room for the key and a string value, NUL-terminated (|len| bytes), and 16 input
 * bytes follow each string's start (kv_run() checks both for the whole run). Returns
 * 1 when |e| was filled, 0 when the general path must decode the message (nothing is
 * consumed or copied then, so each string is still copied once).
 */
static inline int kv_one(struct dec *d, const uint8_t *p, size_t len, struct kv_elem *e)
{
    const uint8_t *v;
    size_t klen, rest, vlen;

    if (len < 2 || p[0] != 0x0a || (klen = p[1]) > len - 2)
        return 0;
    rest = len - 2 - klen;
    if (!rest) {
        put_key(d, &e->kv, p + 2, klen);
        return 1;
    }
    v = p + 2 + klen;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* The most common value, a string: its four header bytes (value tag and length,
     * string_value tag and length) follow from |rest| alone, checked as one word. */
    if (rest >= 4) {
        uint32_t w;
        memcpy(&w, v, 4);
        if (w == (0x0a0012u | (uint32_t)(rest - 2) << 8 | (uint32_t)(rest - 4) << 24)) {
            size_t slen = rest - 4;
            char *pool;
            put_key(d, &e->kv, p + 2, klen);
            init_any(&e->any);
            e->kv.value = &e->any;
            pool = d->pool;
            put_run_bytes(pool, v + 4, slen);
            pool[slen] = '\0';
            e->any.string_value = pool;
            e->any.value_case = XB_ANY_STRING;
            d->pool = pool + slen + 1;
            return 1;
        }
    }
#endif
    if (rest < 2 || v[0] != 0x12 || (vlen = v[1]) != rest - 2)
        return 0;
    v += 2;
    if (!vlen) {
        put_key(d, &e->kv, p + 2, klen);
        init_any(&e->any);
        e->kv.value = &e->any;
        return 1;
    }
    switch (v[0]) {
    case 0x0a:   /* string_value */
    case 0x3a: { /* bytes_value */
        size_t slen = v[1];
        char *pool;
        if (vlen < 2 || slen != vlen - 2)
            return 0;
        put_key(d, &e->kv, p + 2, klen);
        init_any(&e->any);
        e->kv.value = &e->any;
        pool = d->pool;
        put_run_bytes(pool, v + 2, slen);
        if (v[0] == 0x0a) {
            pool[slen] = '\0';
            e->any.string_value = pool;
            e->any.value_case = XB_ANY_STRING;
            d->pool = pool + slen + 1;
        } else {
            e->any.bytes_value.len = slen;
            if (slen)
                e->any.bytes_value.data = (uint8_t *)pool;
            e->any.value_case = XB_ANY_BYTES;
            d->pool = pool + slen;
        }
        return 1;
    }
    case 0x10: /* bool_value: one-byte varint */
        if (vlen != 2 || v[1] >= 0x80)
            return 0;
        put_key(d, &e->kv, p + 2, klen);
        init_any(&e->any);
        e->kv.value = &e->any;
        e->any.bool_value = (v[1] & 0x7f) != 0;
        e->any.value_case = XB_ANY_BOOL;
        return 1;
    case 0x18: { /* int_value */
        const uint8_t *q = v + 1;
        uint64_t x;
        if (rd_varint(&q, v + vlen, 10, &x) != 0 || q != v + vlen)
            return 0;
        put_key(d, &e->kv, p + 2, klen);
        init_any(&e->any);
        e->kv.value = &e->any;
        e->any.int_value = (int64_t)x;
        e->any.value_case = XB_ANY_INT;
        return 1;
    }
    case 0x21: /* double_value */
        if (vlen != 9)
            return 0;
        put_key(d, &e->kv, p + 2, klen);
        init_any(&e->any);
        e->kv.value = &e->any;
        memcpy(&e->any.double_value, v + 1, 8);
        e->any.value_case = XB_ANY_DOUBLE;
        return 1;
    default:
        return 0;
    }
}

/*
 * Decodes a run of KeyValues of the common shape (kv_one()), elements of repeated
 * slot |k| of frame |f| with the one-byte tag |tag|, from the tag at |*pp| on, without
 * returning to the main loop between them. Stops before the first element that is
 * not of that shape (or not tagged |tag|), leaving it to the main loop, and sets
 * |*pp| there. Returns XB_OK, XB_ERR_NOMEM or XB_ERR_INVALID.
 *
 * Nothing else takes pointer room in the array's region during a run, so a first
 * array, or one that ends where its region continues, claims the rest of the
 * region's block at once, and gives back what it did not use when the run ends.
 *
 * Checked once for the run rather than per KeyValue: the pool has room for the rest
 * of the message's bytes (always, see xb_otlp_wire_decode(); a KeyValue of |len|
 * bytes stores at most |len|), and the run ends where less than 16 input bytes would
 * follow a KeyValue's end, so that kv_one() copies short strings with 16-byte moves
 * unchecked (the last KeyValues of the input go to the general path).
 */
static int kv_run(struct dec *d, struct frame *f, int k, uint8_t tag, const uint8_t **pp)
{
    const struct rep *r = &reps[f->type][k];
    size_t *np = (size_t *)((char *)f->msg + r->n_off);
    void ***arr = (void ***)((char *)f->msg + r->arr_off);
    struct bump *b = &d->ptrs[r->region];
    const uint8_t *p = *pp, *end = f->end;
    size_t n = *np, cap = f->cap[k];
    int rc = XB_OK, claimed = 0;

    if ((size_t)(d->pool_end - d->pool) < (size_t)(end - p) || d->in_end - p < 16 + 2)
        return XB_OK;
    if (d->in_end - end < 16)
        end = d->in_end - 16;
    while (end - p >= 2 && p[0] == tag && p[1] < 0x80 && (size_t)(end - p - 2) >= p[1]) {
        const uint8_t *next = p + 2 + p[1];
        struct kv_elem *e;

        if (n == cap) {
            if (!n && b->p != b->end) { /* a first array: the rest of the block */
                *arr = d->top[r->region] = (void **)(void *)b->p;
                cap = (size_t)(b->end - b->p) / sizeof(void *);
                b->p = b->end;
                claimed = 1;
            } else if (n && *arr == d->top[r->region] && b->p != b->end) {
                cap = n + (size_t)(b->end - b->p) / sizeof(void *);
                b->p = b->end;
                claimed = 1;
            } else {
                if ((rc = move_rep(d, f, k, n, p + 1)) != XB_OK)
                    break;
                cap = f->cap[k];
                claimed = 0;
            }
        }
        e = (struct kv_elem *)(void *)d->msgs.p;
        if ((size_t)(d->msgs.end - d->msgs.p) >= sizeof(*e)) {
            d->msgs.p += sizeof(*e);
        } else if (!(e = bump(d->arena, &d->msgs, sizeof(*e), d->msgs_block))) {
            rc = XB_ERR_NOMEM;
            break;
        }
        if (!kv_one(d, p + 2, p[1], e)) {
            d->msgs.p = (char *)e; /* the element goes back: nothing was carved since */
            break;
        }
        (*arr)[n++] = &e->kv;
        p = next;
    }
    if (claimed) {
        b->p = (char *)(*arr + n);
        cap = n;
    }
    *np = n;
    f->cap[k] = cap;
    *pp = p;
    return rc;
}

/*
 * A bytes field (|tag| ends before |p|) whose length is one byte: a copy in the pool,
 * {0, NULL} when empty, as take_bytes(). Returns the byte after it, or NULL when the
 * length is longer or does not fit before |end| (the general path decides then).
 */
static inline const uint8_t *fast_bytes(struct dec *d, const uint8_t *p, const uint8_t *end,
                                        ProtobufCBinaryData *dst)
{
    size_t n = p[0];

    if (n >= 0x80 || n > (size_t)(end - p - 1) || (size_t)(d->pool_end - d->pool) < n)
        return NULL;
    dst->len = n;
    dst->data = NULL;
    if (n) {
        put_bytes(d, d->pool, p + 1, n);
        dst->data = (uint8_t *)d->pool;
        d->pool += n;
    }
    return p + 1 + n;
}

/* A string field whose length is the one byte at |p|: as take_str(). Returns the
 * byte after it, or NULL as fast_bytes(). */
static inline const uint8_t *fast_str(struct dec *d, const uint8_t *p, const uint8_t *end,
                                      char **dst)
{
    size_t n = p[0];

    if (n >= 0x80 || n > (size_t)(end - p - 1) || (size_t)(d->pool_end - d->pool) < n + 1)
        return NULL;
    put_bytes(d, d->pool, p + 1, n);
    d->pool[n] = '\0';
    *dst = d->pool;
    d->pool += n + 1;
    return p + 1 + n;
}

/*
 * Decodes Span.status from the |n| (below 128) bytes at |p| when it holds only
 * message (field 2) and code (field 3) with one-byte lengths and values, and
 * |s->status| is not set yet. Returns XB_OK with |*done| set when it did; XB_OK with
 * |*done| 0 when the general path must decode it (nothing is allocated then),
 * XB_ERR_NOMEM.
 */
static int fast_status(struct dec *d, xb_pb_span *s, const uint8_t *p, size_t n, int *done)
{
    const uint8_t *q = p, *end = p + n;
    xb_pb_status *st;

    *done = 0;
    if (s->status)
        return XB_OK;
    while (q < end) {
        if (end - q < 2 || q[1] >= 0x80)
            return XB_OK;
        if (q[0] == 0x12 && q[1] <= (size_t)(end - q - 2))
            q += 2 + q[1];
        else if (q[0] == 0x18)
            q += 2;
        else
            return XB_OK;
    }
    st = s->status = new_msg(d, &T_STATUS, sizeof(T_STATUS));
    if (!st)
        return XB_ERR_NOMEM;
    for (q = p; q < end;) {
        if (q[0] == 0x18) {
            st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)q[1];
            q += 2;
        } else if (!(q = fast_str(d, q + 1, end, &st->message))) {
            return XB_ERR_INVALID; /* no room in the pool: as take_str() */
        }
    }
    *done = 1;
    return XB_OK;
}

/*
 * Decodes a Span's own fields from |*pp| on while each has the shape SDKs write: a
 * one-byte tag of the field's own wire type, one-byte lengths and varints, the
 * attributes in KeyValue runs (kv_run()), the status as fast_status(). Stops at the
 * first other field (events, links, a longer length or value, an unknown field,
 * another wire type, a second status), or at the span's end, and sets |*pp| there:
 * the general path decodes that field and calls it again after it. Whatever it
 * decodes, it stores as the general path would, in any order and as often as a field
 * repeats (a later scalar replaces an earlier one). Returns XB_OK, XB_ERR_NOMEM or
 * XB_ERR_INVALID.
 */
static int span_run(struct dec *d, struct frame *f, const uint8_t **pp)
{
    xb_pb_span *s = f->msg;
    const uint8_t *p = *pp, *q, *end = f->end;
    int rc = XB_OK, done;

    /* A span from its start: the fields in the order SDKs write them (field-number
     * order), each tested once; a missing one is passed over, anything else goes on
     * to the loop below. */
    if (end - p >= 2 && p[0] == 0x0a) {
        if (!(q = fast_bytes(d, p + 1, end, &s->trace_id)))
            goto out;
        p = q;
        if (end - p >= 2 && p[0] == 0x12) {
            if (!(q = fast_bytes(d, p + 1, end, &s->span_id)))
                goto out;
            p = q;
        }
        if (end - p >= 2 && p[0] == 0x1a) {
            if (!(q = fast_str(d, p + 1, end, &s->trace_state)))
                goto out;
            p = q;
        }
        if (end - p >= 2 && p[0] == 0x22) {
            if (!(q = fast_bytes(d, p + 1, end, &s->parent_span_id)))
                goto out;
            p = q;
        }
        if (end - p >= 2 && p[0] == 0x2a) {
            if (!(q = fast_str(d, p + 1, end, &s->name)))
                goto out;
            p = q;
        }
        if (end - p >= 2 && p[0] == 0x30 && p[1] < 0x80) {
            s->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)p[1];
            p += 2;
        }
        if (end - p >= 18 && p[0] == 0x39 && p[9] == 0x41) {
            memcpy(&s->start_time_unix_nano, p + 1, 8);
            memcpy(&s->end_time_unix_nano, p + 10, 8);
            p += 18;
        }
    }
    while (end - p >= 2) {
        switch (p[0]) {
        case 0x0a: /* trace_id */
            q = fast_bytes(d, p + 1, end, &s->trace_id);
            break;
        case 0x12: /* span_id */
            q = fast_bytes(d, p + 1, end, &s->span_id);
            break;
        case 0x1a: /* trace_state */
            q = fast_str(d, p + 1, end, &s->trace_state);
            break;
        case 0x22: /* parent_span_id */
            q = fast_bytes(d, p + 1, end, &s->parent_span_id);
            break;
        case 0x2a: /* name */
            q = fast_str(d, p + 1, end, &s->name);
            break;
        case 0x30: /* kind */
            if (p[1] >= 0x80)
                goto out;
            s->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)p[1];
            q = p + 2;
            break;
        case 0x39: /* start_time_unix_nano */
            if (end - p < 9)
                goto out;
            memcpy(&s->start_time_unix_nano, p + 1, 8);
            q = p + 9;
            break;
        case 0x41: /* end_time_unix_nano */
            if (end - p < 9)
                goto out;
            memcpy(&s->end_time_unix_nano, p + 1, 8);
            q = p + 9;
            break;
        case 0x4a: /* attributes */
            q = p;
            if ((rc = kv_run(d, f, 0, 0x4a, &q)) != XB_OK || q == p)
                goto out;
            break;
        case 0x7a: /* status */
            if (p[1] >= 0x80 || p[1] > (size_t)(end - p - 2))
                goto out;
            if ((rc = fast_status(d, s, p + 2, p[1], &done)) != XB_OK || !done)
                goto out;
            q = p + 2 + p[1];
            break;
        case 0x85: /* flags: field 16, fixed32 */
            if (p[1] != 0x01 || end - p < 6)
                goto out;
            memcpy(&s->flags, p + 2, 4);
            q = p + 6;
            break;
        default:
            goto out;
        }
        if (!q)
            goto out;
        p = q;
    }
out:
    *pp = p;
    return rc;
}

/* Allocates and initialises a singular sub-message of |type| (one of those F_SUB
 * names), each copy with its constant size. */
static void *new_sub(struct dec *d, unsigned type)
{
    switch (type) {
    case M_RESOURCE:
        return new_msg(d, &T_RESOURCE, sizeof(T_RESOURCE));
    case M_SCOPE:
        return new_msg(d, &T_SCOPE, sizeof(T_SCOPE));
    case M_STATUS:
        return new_msg(d, &T_STATUS, sizeof(T_STATUS));
    case M_ARRAY:
        return new_msg(d, &T_ARRAY, sizeof(T_ARRAY));
    default: /* M_KVLIST */
        return new_msg(d, &T_KVLIST, sizeof(T_KVLIST));
    }
}

int xb_otlp_wire_decode(const void *data, size_t len, struct xb_arena *arena,
                        xb_pb_export_req **out)
{
    const uint8_t *p = data;
    struct frame stack[MAX_FRAMES];
    struct frame *f = stack;
    unsigned any_open = 0;
    struct dec d = {arena, NULL, NULL, p + len, {NULL, NULL}, {{NULL, NULL}}, {NULL}, 0, 0};
    xb_pb_export_req *req;
    int rc = XB_OK;

    /* Every string of n bytes costs at least n + 2 bytes of input (tag, length,
     * data) and needs n + 1 here; a bytes field needs n. So |len| bytes hold them
     * all, whatever the nesting or repetition (put_bytes() may write into the
     * POOL_SLACK bytes after them). */
    if (len) {
        d.pool = xb_arena_alloc(arena, len + POOL_SLACK);
        if (!d.pool)
            return XB_ERR_NOMEM;
        d.pool_end = d.pool + len;
    }
    d.msgs_block =
        len < MSGS_BLOCK_MAX / 4 ? MSGS_BLOCK_MIN + (len * 4 & ~(size_t)7) : MSGS_BLOCK_MAX;
    d.ptrs_block =
        len < PTRS_BLOCK_MAX * 2 ? PTRS_BLOCK_MIN + (len / 2 & ~(size_t)7) : PTRS_BLOCK_MAX;
    req = new_msg(&d, &T_REQ, sizeof(T_REQ));
    if (!req)
        return XB_ERR_NOMEM;
    open_frame(f, M_REQUEST, req, p + len);

    for (;;) {
        const uint8_t *end = f->end;
        const uint8_t *tagp;
        unsigned field, wt, child = M_COUNT;
        void *cmsg = NULL;
        const struct fdesc *fd;
        unsigned kind;
        char *m;
        size_t n;
        int k = -1;

        if (p == end) {
            if (f == stack)
                break;
            if (f->type == M_ANY)
                any_open--;
            f--;
            continue;
        }
        if (f->type == M_SPAN) {
            if ((rc = span_run(&d, f, &p)) != XB_OK)
                return rc;
            if (p == end)
                continue;
        }
        tagp = p;
        if (*p < 0x80) {
            field = *p >> 3;
            wt = *p & 7;
            p++;
            if (!field)
                return XB_ERR_INVALID;
        } else if (rd_tag(&p, end, &field, &wt) != 0) {
            return XB_ERR_INVALID;
        }

        fd = &f->fields[field <= MAX_FIELD ? field : 0];
        m = f->msg;
        kind = fd->kind;
        if (kind & F_ONEOF) {
            /* A second oneof member: protobuf-c replaces the first; leave it to it. */
            if (((xb_pb_any *)m)->value_case != XB_ANY_NONE)
                return XB_ERR_INVALID;
            kind &= ~F_ONEOF;
            ((xb_pb_any *)m)->value_case =
                (Opentelemetry__Proto__Common__V1__AnyValue__ValueCase)field;
        }
        switch (kind) {
        case F_SKIP: /* unknown field (or one this message does not have) */
            if (skip_value(&p, end, wt) != 0)
                return XB_ERR_INVALID;
            continue;
        case F_STR:
            if (take_str(&d, &p, end, wt, (char **)(void *)(m + fd->off)) != 0)
                return XB_ERR_INVALID;
            continue;
        case F_BYTES:
            if (take_bytes(&d, &p, end, wt, (ProtobufCBinaryData *)(void *)(m + fd->off)) != 0)
                return XB_ERR_INVALID;
            continue;
        case F_U32: {
            /* enums too: the same 32 bits protobuf-c stores */
            uint32_t v = 0;
            if (take_u32(&p, end, wt, &v) != 0)
                return XB_ERR_INVALID;
            memcpy(m + fd->off, &v, sizeof(v));
            continue;
        }
        case F_FIX64:
            if (take_fixed64(&p, end, wt, m + fd->off) != 0)
                return XB_ERR_INVALID;
            continue;
        case F_FIX32:
            if (take_fixed32(&p, end, wt, (uint32_t *)(void *)(m + fd->off)) != 0)
                return XB_ERR_INVALID;
            continue;
        case F_BOOL: {
            /* protobuf-c's parse_boolean: any non-zero 7-bit group. */
            const uint8_t *b = p;
            uint64_t v;
            unsigned nz = 0;
            if (wt != WT_VARINT || rd_varint(&p, end, 10, &v) != 0)
                return XB_ERR_INVALID;
            for (; b < p; b++)
                nz |= *b & 0x7f;
            *(protobuf_c_boolean *)(void *)(m + fd->off) = nz != 0;
            continue;
        }
        case F_I64: {
            uint64_t v;
            if (wt != WT_VARINT || rd_varint(&p, end, 10, &v) != 0)
                return XB_ERR_INVALID;
            *(int64_t *)(void *)(m + fd->off) = (int64_t)v;
            continue;
        }
        case F_REP:
            if (wt != WT_LEN)
                return XB_ERR_INVALID;
            k = fd->arg;
            child = reps[f->type][k].child;
            /* (A value here is one AnyValue level deeper: the limit still applies.) */
            if (child == M_KV && p == tagp + 1 && any_open < XB_OTLP_MAX_ANYVALUE_DEPTH) {
                rc = kv_run(&d, f, k, *tagp, &tagp);
                if (rc != XB_OK)
                    return rc;
                if (tagp != p - 1) {
                    p = tagp;
                    continue;
                }
            }
            cmsg = next_elem(&d, f, k, p, &rc);
            if (!cmsg)
                return rc;
            break;
        case F_SUB: {
            /* (An AnyValue member's pointer is still NULL: the oneof check above.) */
            void **slot = (void **)(void *)(m + fd->off);
            if (*slot || wt != WT_LEN)
                return XB_ERR_INVALID;
            child = fd->arg;
            cmsg = *slot = new_sub(&d, child);
            if (!cmsg)
                return XB_ERR_NOMEM;
            break;
        }
        case F_KVVAL: {
            xb_pb_kv *kv = (xb_pb_kv *)(void *)m;
            if (kv->value || wt != WT_LEN)
                return XB_ERR_INVALID;
            init_any(&((struct kv_elem *)(void *)kv)->any);
            cmsg = kv->value = &((struct kv_elem *)(void *)kv)->any;
            child = M_ANY;
            break;
        }
        default: /* F_REFUSE */
            return XB_ERR_INVALID;
        }
        /* Open the sub-message |cmsg| of type |child|. */
        if (rd_len(&p, end, &n) != 0)
            return XB_ERR_INVALID;
        if (child == M_ANY && ++any_open > XB_OTLP_MAX_ANYVALUE_DEPTH)
            return XB_ERR_INVALID;
        if (f + 1 >= stack + MAX_FRAMES)
            return XB_ERR_INVALID;
        f++;
        open_frame(f, child, cmsg, p + n);
    }
    *out = req;
    return XB_OK;
}
