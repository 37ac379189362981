/*
 * receiver/otlp_wire.h - schema-specific protobuf decoder for ExportTraceServiceRequest.
 *
 * One non-recursive pass over the protobuf wire format
 * (https://protobuf.dev/programming-guides/encoding/) that fills the same protobuf-c
 * structures as protobuf-c's generic unpacker (proto/otlp.h), so the translator does
 * not know which decoder ran. It is the fast path of xb_otlp_decode_protobuf()
 * (receiver/otlp_decode.h); protobuf-c stays the schema and the reference, and
 * tests/fuzz/fuzz_wire.c checks that the two agree.
 *
 * It handles the subset of inputs whose meaning is plain: every known field with
 * its declared wire type, unknown fields skipped by wire type, AnyValue nested at
 * most XB_OTLP_MAX_ANYVALUE_DEPTH levels. Anything else (malformed bytes, a
 * singular message or oneof given twice, which protobuf-c merges or replaces, a
 * bool sent with a non-varint wire type, Resource.entity_refs) is left to the
 * reference decoder, which then accepts or refuses it exactly as before.
 */
#ifndef XB_RECEIVER_OTLP_WIRE_H
#define XB_RECEIVER_OTLP_WIRE_H

#include <stddef.h>

#include "core/arena.h"
#include "proto/otlp.h"

/*
 * Decodes the |len| bytes at |data| (borrowed; nothing points into it afterwards)
 * into |*out|, allocating only from |arena|: blocks holding the messages and the
 * repeated fields' pointer arrays (no more, on any input, than the reference
 * decoder takes: tests/unit/receiver/test_otlp_wire.c), and one pool of at most
 * |len| bytes holding every string (NUL-terminated) and bytes field. Returns XB_OK; XB_ERR_NOMEM
 * when the arena refused an allocation; XB_ERR_INVALID when the input is outside the subset above
 * (malformed or not) and the reference decoder must decide. On error
 * |*out| is untouched and the arena may hold a partial result (see
 * xb_arena_mark()).
 */
int xb_otlp_wire_decode(const void *data, size_t len, struct xb_arena *arena,
                        xb_pb_export_req **out);

#endif
