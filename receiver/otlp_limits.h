/*
 * receiver/otlp_limits.h - limits shared by every OTLP decoder.
 *
 * One constant per limit so that the protobuf pre-scan (receiver/pb_scan.c), the
 * OTLP/JSON decoder (receiver/otlp_json.c) and any later decoder refuse the same
 * requests with the same message. The translator keeps its own output caps.
 */
#ifndef XB_RECEIVER_OTLP_LIMITS_H
#define XB_RECEIVER_OTLP_LIMITS_H

/*
 * Deepest AnyValue nesting accepted: a top-level attribute value is level 1 and each
 * array_value / kvlist_value adds one. Deeper requests are refused (XB_ERR_INVALID,
 * INVALID_ARGUMENT / HTTP 400) before any recursive code sees them.
 */
#define XB_OTLP_MAX_ANYVALUE_DEPTH 64

/* Turns a numeric macro into a string literal, for the static message below. */
#define XB_OTLP_STR_(x) #x
#define XB_OTLP_STR(x) XB_OTLP_STR_(x)

/* The static description returned with that refusal; it names the limit. */
#define XB_OTLP_DEPTH_ERROR                                                                        \
    "attribute value nested deeper than " XB_OTLP_STR(XB_OTLP_MAX_ANYVALUE_DEPTH) " levels"

#endif
