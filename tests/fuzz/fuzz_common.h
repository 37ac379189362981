/*
 * tests/fuzz/fuzz_common.h - shared parts of the decoder fuzz targets (test-only).
 *
 * Four libFuzzer targets use these (docs/fuzzing.md): fuzz_pb (protobuf pre-scan +
 * decode + translate), fuzz_json (OTLP/JSON decode + translate), fuzz_diff
 * (protobuf request -> OTLP/JSON -> both paths must give identical documents) and
 * fuzz_wire (schema-specific protobuf decoder against protobuf-c). Each
 * target file defines xb_fuzz_check(); the libFuzzer entry point and the corpus replay
 * program (replay_main.c) both call it.
 */
#ifndef XB_TESTS_FUZZ_FUZZ_COMMON_H
#define XB_TESTS_FUZZ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "proto/otlp.h"
#include "translator/translate.h"

/* Bytes an input may make a decoder hold (the arena cap used by every target). */
#define XB_FUZZ_ARENA_CAP (64u << 20)

/*
 * Runs the target's checks on |data| (|size| bytes, borrowed). Returns 0 when every
 * invariant holds (inputs that do not decode are fine), -1 on a violation with a
 * one-line reason in |err| (|errlen| bytes). Adds the number of documents checked to
 * |*documents| when it is not NULL, so the replay can tell a corpus that exercises
 * the translator from one that no longer decodes. Defined by each target.
 */
int xb_fuzz_check(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *documents);

/*
 * Translator options from one byte (the last input byte): bit 0 index_all_attributes,
 * bit 1 allow_dot_in_annotation_keys, bit 2 skip_timestamp_validation, bit 3
 * max_document_bytes = 1500 (trimming), bit 4 a fixed indexed_attributes list.
 */
void xb_fuzz_config(unsigned flags, struct xb_translator_config *cfg);

/*
 * Translates |req| with |cfg| at a fixed "now" using |arena|, and checks every
 * emitted document with xb_doccheck_document() (UTF-8, one JSON object, size, required
 * fields). When |docs| is not NULL each document is appended to it followed by a
 * '\n'. Then translates it again with embedded_documents: every document must be
 * xb_jsonw_embed() of the plain one, with the same counts (trimmed, rejected). Returns 0, 1 when
 * the translator ran out of memory (not a finding), or -1 on a violation (|err| set). Adds the
 * document count to |*documents|.
 */
int xb_fuzz_translate(const xb_pb_export_req *req, const struct xb_translator_config *cfg,
                      struct xb_arena *arena, struct xb_buf *docs, char *err, size_t errlen,
                      size_t *documents);

/*
 * Returns -1 (|err| set) when a decoded request holds an AnyValue nested deeper than
 * XB_OTLP_MAX_ANYVALUE_DEPTH: both decoders must refuse those. 0 otherwise.
 */
int xb_fuzz_check_depth(const xb_pb_export_req *req, char *err, size_t errlen);

/* libFuzzer entry point: calls xb_fuzz_check() and aborts on a violation. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
