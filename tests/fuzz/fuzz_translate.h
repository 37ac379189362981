/*
 * tests/fuzz/fuzz_translate.h - fuzz/replay entry points for the translator.
 *
 * Test-only code. One input is decoded twice, as a binary protobuf
 * ExportTraceServiceRequest and as OTLP/JSON; each request that decodes is translated,
 * and every emitted document is checked with xb_doccheck_document() (valid UTF-8,
 * parses as JSON, <= max_document_bytes, required fields, subsegment => parent_id).
 */
#ifndef XB_TESTS_FUZZ_FUZZ_TRANSLATE_H
#define XB_TESTS_FUZZ_FUZZ_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Runs the checks above on |data| (|size| bytes, borrowed). The last input byte selects
 * translator options (bit 0 index_all_attributes, bit 1 allow_dot_in_annotation_keys,
 * bit 2 skip_timestamp_validation, bit 3 max_document_bytes = 1500, bit 4 a fixed
 * indexed_attributes list). Returns 0 when every document is valid (inputs that do not
 * decode are fine); -1 on a violation, with a one-line reason in |err| (|errlen| bytes).
 * When |documents| is not NULL, the number of documents checked (both decodings) is
 * added to it, so a caller can tell inputs that exercised the translator from inputs
 * that did not decode.
 */
int xb_fuzz_translate_one(const uint8_t *data, size_t size, char *err, size_t errlen,
                          size_t *documents);

/* libFuzzer entry point: calls xb_fuzz_translate_one() and aborts on a violation. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
