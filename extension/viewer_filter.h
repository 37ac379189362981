/*
 * extension/viewer_filter.h - the viewer's trace filter: a subset of X-Ray's filter
 * expressions, parsed once and evaluated against the facts of one trace (pure, no I/O).
 *
 * Grammar (keywords in any case; terms joined by AND, all must hold):
 *   service("name")   some segment of the trace has this name; service() = any
 *   fault | error | throttle | ok        the trace has a fault / error / throttle / none
 *   KEYWORD = true|false, KEYWORD != true|false, !KEYWORD   (KEYWORD one of the four)
 *   responsetime OP N   root segment's end - start, seconds
 *   duration OP N       first start to last end of the whole trace, seconds
 *   http.status OP N    the root segment's HTTP response status
 *   http.method = "GET" | http.url SOP "text"
 *   annotation.KEY OP VALUE   some segment or subsegment has annotation KEY with a value
 *                             that matches; VALUE is "text", a number, true or false
 * OP is one of = != < <= > >=; SOP (strings) one of = != CONTAINS BEGINSWITH ENDSWITH.
 * An empty expression matches every trace. Reference: X-Ray's "Using filter expressions"
 * (AWS X-Ray Developer Guide); docs/viewer.md lists what is supported here.
 */
#ifndef XB_EXTENSION_VIEWER_FILTER_H
#define XB_EXTENSION_VIEWER_FILTER_H

#include <stddef.h>

/* Longest filter expression accepted, bytes. */
#define XB_VIEWER_FILTER_MAX_TEXT 1024
/* Most terms in one expression. */
#define XB_VIEWER_FILTER_MAX_TERMS 16
/* Longest string literal or annotation key, bytes (NUL excluded). */
#define XB_VIEWER_FILTER_MAX_STR 255

enum xb_viewer_value_type { XB_VIEWER_V_STRING = 0, XB_VIEWER_V_NUMBER, XB_VIEWER_V_BOOL };

/* One annotation of a trace (borrowed strings). */
struct xb_viewer_ann {
    const char *key;
    enum xb_viewer_value_type type;
    const char *str; /* XB_VIEWER_V_STRING */
    double num;      /* XB_VIEWER_V_NUMBER */
    int boolean;     /* XB_VIEWER_V_BOOL */
};

/* What the filter can ask about one trace (all borrowed; built by viewer_trace.c). */
struct xb_viewer_facts {
    const char *const *services; /* names of the trace's segments */
    size_t n_services;
    int fault, error, throttle; /* set on any segment or subsegment */
    double responsetime;        /* seconds; < 0 when unknown (no root, in progress) */
    double duration;            /* seconds; < 0 when unknown */
    int http_status;            /* root's response status; 0 = none */
    const char *http_method;    /* root's; NULL = none */
    const char *http_url;       /* root's; NULL = none */
    const struct xb_viewer_ann *ann;
    size_t n_ann;
};

enum xb_viewer_term_kind {
    XB_VIEWER_T_SERVICE = 0,
    XB_VIEWER_T_FAULT,
    XB_VIEWER_T_ERROR,
    XB_VIEWER_T_THROTTLE,
    XB_VIEWER_T_OK,
    XB_VIEWER_T_RESPONSETIME,
    XB_VIEWER_T_DURATION,
    XB_VIEWER_T_HTTP_STATUS,
    XB_VIEWER_T_HTTP_METHOD,
    XB_VIEWER_T_HTTP_URL,
    XB_VIEWER_T_ANNOTATION,
};

enum xb_viewer_op {
    XB_VIEWER_OP_EQ = 0,
    XB_VIEWER_OP_NE,
    XB_VIEWER_OP_LT,
    XB_VIEWER_OP_LE,
    XB_VIEWER_OP_GT,
    XB_VIEWER_OP_GE,
    XB_VIEWER_OP_CONTAINS,
    XB_VIEWER_OP_BEGINSWITH,
    XB_VIEWER_OP_ENDSWITH,
};

/* One parsed term. */
struct xb_viewer_term {
    enum xb_viewer_term_kind kind;
    enum xb_viewer_op op;
    enum xb_viewer_value_type type;         /* of the literal */
    char key[XB_VIEWER_FILTER_MAX_STR + 1]; /* annotation key */
    char str[XB_VIEWER_FILTER_MAX_STR + 1]; /* string literal; service name ("" = any) */
    double num;
    int boolean;
};

/* A parsed expression: the AND of its terms. */
struct xb_viewer_filter {
    struct xb_viewer_term terms[XB_VIEWER_FILTER_MAX_TERMS];
    size_t n;
};

/*
 * Parses |text| (NUL-terminated; NULL = empty) into |out|. Returns XB_OK; or
 * XB_ERR_INVALID with an English reason naming the position ("at 12: expected ...") in
 * |err| (|err_len| bytes), or XB_ERR_TOO_LARGE for text or terms over the limits above.
 */
int xb_viewer_filter_parse(const char *text, struct xb_viewer_filter *out, char *err,
                           size_t err_len);

/* 1 when the trace described by |facts| satisfies every term of |f|, else 0. */
int xb_viewer_filter_match(const struct xb_viewer_filter *f, const struct xb_viewer_facts *facts);

#endif
