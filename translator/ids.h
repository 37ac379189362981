/*
 * translator/ids.h - OTLP trace/span ids -> X-Ray id strings, trace-id timestamp rule,
 * and the deterministic ids xraybridge uses where awsxrayexporter draws random ones.
 *
 * X-Ray trace id: "1-" + 8 hex (bytes 0..3) + "-" + 24 hex (bytes 4..15), lowercase.
 * Segment/subsegment/exception ids: 16 lowercase hex digits.
 */
#ifndef XB_TRANSLATOR_IDS_H
#define XB_TRANSLATOR_IDS_H

#include <stddef.h>
#include <stdint.h>

/* Length of an X-Ray trace id string without the NUL ("1-xxxxxxxx-" + 24). */
#define XB_XRAY_TRACE_ID_LEN 35

/* 1 when |p| holds exactly |n| == |want| bytes and not all of them are zero. */
int xb_tr_ids_valid(const uint8_t *p, size_t n, size_t want);

/* Writes the X-Ray form of the 16-byte |tid| into |out| (36 bytes incl. NUL). */
void xb_tr_ids_xray_trace_id(const uint8_t *tid, char out[XB_XRAY_TRACE_ID_LEN + 1]);

/* Lowercase hex of |n| bytes into |out| (2n+1 bytes incl. NUL). */
void xb_tr_ids_hex(const uint8_t *p, size_t n, char *out);

/* Lowercase 16-digit hex of |v| into |out| (17 bytes). */
void xb_tr_ids_u64_hex(uint64_t v, char out[17]);

/*
 * Trace-id timestamp rule (awsxrayexporter when its skip gate is off): bytes 0..3 of the
 * 16-byte |tid| are big-endian epoch seconds; returns 1 when
 * -300 <= |now_unix_s| - epoch <= 2,419,200 (28 days), else 0.
 */
int xb_tr_ids_time_ok(const uint8_t *tid, int64_t now_unix_s);

/*
 * Deterministic 64-bit id from |trace| (16 bytes), |span| (8 bytes) and |salt|: a keyed
 * mix, never 0. Replaces the exporter's random ids (local-root parent, exception ids) so
 * that the translator stays pure and retries produce identical documents.
 */
uint64_t xb_tr_ids_derive(const uint8_t *trace, const uint8_t *span, uint64_t salt);

#endif
