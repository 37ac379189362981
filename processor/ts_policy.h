/*
 * processor/ts_policy.h - tail sampling policies and their evaluation (pure).
 *
 * The policy types, keys and decision rules follow the OpenTelemetry Collector's
 * tail_sampling processor (collector-contrib processor/tailsamplingprocessor, README
 * and the files under internal/sampling; docs/sampling.md lists what is implemented).
 *
 * A trace is never re-parsed: at ingest time every span of a waiting trace is folded
 * into a compact struct xb_ts_summary (span count, first start, last end, status codes
 * seen, and one "matched" bit per attribute policy), and policies are evaluated on that
 * summary plus the 16-byte trace id. Attribute policies (numeric / string / boolean)
 * are "leaves": each gets a bit index in its policy set, at most XB_TS_MAX_LEAVES.
 *
 * A policy set is reference counted: the config owns one reference, each waiting trace
 * another (a trace is decided with the policies that were in force when its first span
 * arrived, so a reload never mixes the leaf bits of two sets).
 */
#ifndef XB_PROCESSOR_TS_POLICY_H
#define XB_PROCESSOR_TS_POLICY_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/otlp.h"

/* Most attribute policies (numeric/string/boolean, nested ones included) in one set. */
#define XB_TS_MAX_LEAVES 64
/* Deepest nesting of and / not / drop sub-policies. */
#define XB_TS_MAX_DEPTH 4
/* The collector's default hash_salt for probabilistic. */
#define XB_TS_DEFAULT_SALT "default-hash-seed"

enum xb_ts_policy_type {
    XB_TS_ALWAYS_SAMPLE = 0,
    XB_TS_STATUS_CODE,
    XB_TS_LATENCY,
    XB_TS_NUMERIC_ATTRIBUTE,
    XB_TS_STRING_ATTRIBUTE,
    XB_TS_BOOLEAN_ATTRIBUTE,
    XB_TS_PROBABILISTIC,
    XB_TS_RATE_LIMITING,
    XB_TS_SPAN_COUNT,
    XB_TS_AND,
    XB_TS_NOT,
    XB_TS_DROP,
    XB_TS_POLICY_TYPE_COUNT
};

/* A policy's verdict (the collector's samplingpolicy.Decision values that matter). */
enum xb_ts_decision {
    XB_TS_NOT_SAMPLED = 0,
    XB_TS_SAMPLED,
    XB_TS_INVERT_SAMPLED,     /* invert_match policy: nothing matched */
    XB_TS_INVERT_NOT_SAMPLED, /* invert_match policy: something matched */
    XB_TS_DROPPED,            /* drop policy: every sub-policy sampled */
    XB_TS_DECISION_COUNT
};

/* One configured policy (a tree for and / not / drop). Owned by its set. */
struct xb_ts_policy {
    char *name;
    enum xb_ts_policy_type type;
    unsigned status_mask;         /* status_code: bit (1 << XB_STATUS_*) per listed code */
    int64_t threshold_ms;         /* latency */
    int64_t upper_threshold_ms;   /* latency; 0 = no upper bound */
    char *key;                    /* attribute policies */
    int has_min, has_max;         /* numeric_attribute: bound set */
    int64_t min_value, max_value; /* numeric_attribute, inclusive */
    char **values;                /* string_attribute */
    size_t n_values;
    int regex;                     /* string_attribute: enabled_regex_matching */
    regex_t *res;                  /* compiled values when regex (n_values entries) */
    size_t cache_max_size;         /* string_attribute: accepted (no cache is needed here) */
    int bool_value;                /* boolean_attribute: value */
    int invert_match;              /* attribute policies */
    double sampling_percentage;    /* probabilistic, 0..100 */
    char *hash_salt;               /* probabilistic; NULL = XB_TS_DEFAULT_SALT */
    uint64_t hash_threshold;       /* probabilistic: hash <= this samples */
    uint64_t spans_per_second;     /* rate_limiting */
    uint64_t min_spans, max_spans; /* span_count; max 0 = no upper bound */
    struct xb_ts_policy *subs;     /* and / drop: n_subs; not: 1 */
    size_t n_subs;
    int leaf;          /* attribute policies: bit index, else -1 */
    int64_t rl_second; /* rate_limiting state: current second */
    uint64_t rl_spans; /* rate_limiting state: spans sampled in it */
};

/* The policies of one tail_sampling configuration. */
struct xb_ts_policy_set {
    struct xb_ts_policy *policies; /* top-level, in configuration order */
    size_t n;
    const struct xb_ts_policy *leaves[XB_TS_MAX_LEAVES]; /* attribute policies by bit */
    size_t n_leaves;
    int sample_on_first_match;
    unsigned refs;
};

/* Per-trace facts gathered at ingest (one per waiting trace). */
struct xb_ts_summary {
    uint64_t spans;        /* spans seen */
    uint64_t start_ns_min; /* earliest start_time_unix_nano; UINT64_MAX when none */
    uint64_t end_ns_max;   /* latest end_time_unix_nano */
    unsigned status_seen;  /* bit (1 << code) for every span status code seen */
    uint64_t matched;      /* bit i: leaf i matched on some span or its resource */
};

/* Static name of |t| as in YAML ("status_code", ...). */
const char *xb_ts_policy_type_name(enum xb_ts_policy_type t);

/* The type called |name| in YAML; returns 0 and sets |*out|, or XB_ERR_NOT_FOUND. */
int xb_ts_policy_type_parse(const char *name, enum xb_ts_policy_type *out);

/* Static name of |d| ("sampled", "not_sampled", "dropped", ...). */
const char *xb_ts_decision_name(enum xb_ts_decision d);

/*
 * Prepares a set after its policies were filled in: numbers the attribute leaves,
 * compiles string regexes, computes probabilistic thresholds, sets refs to 1. Returns
 * 0, XB_ERR_INVALID with |err| (|errlen| bytes) naming the policy (bad regex, too many
 * attribute policies), or XB_ERR_NOMEM.
 */
int xb_ts_policy_set_prepare(struct xb_ts_policy_set *ps, char *err, size_t errlen);

/* Takes one more reference on |ps| (NULL is a no-op) and returns it. */
struct xb_ts_policy_set *xb_ts_policy_set_ref(struct xb_ts_policy_set *ps);

/* Drops one reference; the last frees the set and everything it owns. NULL: no-op. */
void xb_ts_policy_set_unref(struct xb_ts_policy_set *ps);

/* Frees the contents of one policy (not the struct itself). */
void xb_ts_policy_cleanup(struct xb_ts_policy *p);

/*
 * FNV-1a 64 over |salt| then the 16 bytes of |trace_id|, the collector's hashTraceID
 * (probabilistic.go), so every node and every restart agrees on a trace.
 */
uint64_t xb_ts_hash_trace_id(const char *salt, const uint8_t trace_id[16]);

/* The threshold for |percentage| (0..100): UINT64_MAX x percentage / 100, rounded
 * down; 100 and above = UINT64_MAX. A trace is sampled when its hash <= threshold. */
uint64_t xb_ts_probability_threshold(double percentage);

/* An empty summary (no spans). */
void xb_ts_summary_init(struct xb_ts_summary *s);

/* Folds |b| into |a| (counts add, times widen, bits OR). */
void xb_ts_summary_merge(struct xb_ts_summary *a, const struct xb_ts_summary *b);

/*
 * Folds one OTLP |span| with its |resource| (may be NULL) into |s|: span count, start
 * and end, status code, and the leaf bits of |ps| whose predicate holds on the span's
 * or the resource's attributes (the collector looks at both).
 */
void xb_ts_summary_add_span(const struct xb_ts_policy_set *ps, const xb_pb_resource *resource,
                            const xb_pb_span *span, struct xb_ts_summary *s);

/*
 * Folds one span known only by its facts (X-Ray daemon documents): |status| is an
 * XB_STATUS_* code, times in ns. No attribute bits.
 */
void xb_ts_summary_add_facts(struct xb_ts_summary *s, int status, uint64_t start_ns,
                             uint64_t end_ns);

/* One policy's verdict for a trace. |now_s| (Unix seconds) drives rate_limiting,
 * whose state it updates. */
enum xb_ts_decision xb_ts_policy_evaluate(struct xb_ts_policy *p, const uint8_t trace_id[16],
                                          const struct xb_ts_summary *s, int64_t now_s);

/*
 * The final decision for a trace with every top-level policy of |ps|, the collector's
 * precedence (processor.go makeDecision): dropped > inverted not-sampled (NOT_SAMPLED)
 * > sampled > inverted sampled when no policy said not-sampled > NOT_SAMPLED. Stops
 * early on a drop, and on the first sample when sample_on_first_match. Writes each
 * evaluated policy's verdict to |verdicts| (n entries, XB_TS_DECISION_COUNT for
 * policies not evaluated) when not NULL. Returns XB_TS_SAMPLED, XB_TS_NOT_SAMPLED or
 * XB_TS_DROPPED.
 */
enum xb_ts_decision xb_ts_decide(struct xb_ts_policy_set *ps, const uint8_t trace_id[16],
                                 const struct xb_ts_summary *s, int64_t now_s,
                                 enum xb_ts_decision *verdicts);

#endif
