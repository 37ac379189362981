/*
 * tests/golden/doc_check.h - invariants every emitted X-Ray document must satisfy.
 *
 * Shared by the golden runner (tests/golden/test_golden.c) and the fuzz target
 * (tests/fuzz/fuzz_translate.c). Test-only code: not part of any library.
 *
 * The invariants are xraybridge's guarantees on top of the X-Ray segment document
 * format (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html):
 * the text is strict UTF-8, contains no raw control bytes, parses as one JSON object
 * with no duplicate keys, is at most |max_bytes| long, and carries the required
 * fields name, id (16 hex), trace_id, start_time, end_time (absent when "in_progress" is
 * true); a document whose type is
 * "subsegment" also has parent_id.
 */
#ifndef XB_TESTS_GOLDEN_DOC_CHECK_H
#define XB_TESTS_GOLDEN_DOC_CHECK_H

#include <stddef.h>

/* Returns 1 when |s| (|len| bytes) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF), else 0. */
int xb_doccheck_utf8_valid(const char *s, size_t len);

/*
 * Checks the invariants above on the document |json| (|len| bytes, borrowed, need not
 * be NUL-terminated). |max_bytes| == 0 skips the size check. Returns 0 when every
 * invariant holds; otherwise -1 and writes a one-line reason (NUL-terminated, at most
 * |errlen| bytes) into |err|.
 */
int xb_doccheck_document(const char *json, size_t len, size_t max_bytes, char *err, size_t errlen);

#endif
