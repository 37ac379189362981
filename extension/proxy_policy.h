/*
 * extension/proxy_policy.h - the decisions of the X-Ray sampling proxy (pure: no I/O,
 * no clock): which paths are forwarded, whether a request is refused, what to answer
 * once X-Ray has (or has not) answered, and the cache of good GetSamplingRules answers
 * served while X-Ray is unreachable. extension/awsproxy.c carries the bytes.
 *
 * Paths are X-Ray API operations (https://docs.aws.amazon.com/xray/latest/api/):
 * GetSamplingRules = POST /GetSamplingRules, GetSamplingTargets = POST /SamplingTargets,
 * GetSamplingStatisticSummaries = POST /SamplingStatisticSummaries,
 * PutTraceSegments = POST /TraceSegments, PutTelemetryRecords = POST /TelemetryRecords.
 * docs/migration.md ("Sampling rules (proxy)") explains the choices to operators.
 */
#ifndef XB_EXTENSION_PROXY_POLICY_H
#define XB_EXTENSION_PROXY_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* The X-Ray operations the proxy forwards; XB_PROXY_OP_OTHER is everything else. */
enum xb_proxy_op {
    XB_PROXY_OP_GET_SAMPLING_RULES = 0,     /* /GetSamplingRules */
    XB_PROXY_OP_SAMPLING_TARGETS,           /* /SamplingTargets */
    XB_PROXY_OP_SAMPLING_STATISTIC_SUMMARY, /* /SamplingStatisticSummaries */
    XB_PROXY_OP_TRACE_SEGMENTS,             /* /TraceSegments */
    XB_PROXY_OP_TELEMETRY_RECORDS,          /* /TelemetryRecords */
    XB_PROXY_OP_OTHER,                      /* not forwarded */
    XB_PROXY_OP_COUNT
};

/* Maps a request path (without query) to its operation; "/GetSamplingRules/" and
 * "/GetSamplingRules?x" are not the same path and map to XB_PROXY_OP_OTHER. NULL ->
 * XB_PROXY_OP_OTHER. */
enum xb_proxy_op xb_proxy_op_of_path(const char *path);

/* The upstream path of |op| ("/GetSamplingRules"), or NULL for XB_PROXY_OP_OTHER. The
 * path sent upstream always comes from this table, never from the client. Static. */
const char *xb_proxy_op_path(enum xb_proxy_op op);

/* Metric label of |op| ("GetSamplingRules", ..., "other"). Static. */
const char *xb_proxy_op_label(enum xb_proxy_op op);

/*
 * DNS suffix of AWS endpoints in |region|'s partition: "amazonaws.com.cn" for cn-*,
 * "c2s.ic.gov" for us-iso-*, "sc2s.sgov.gov" for us-isob-*, "cloud.adc-e.uk" for
 * eu-isoe-*, "csp.hci.ic.gov" for us-isof-*, else "amazonaws.com" (aws, aws-us-gov).
 * The default X-Ray endpoint is https://<service_name>.<region>.<suffix>. Static.
 */
const char *xb_proxy_dns_suffix(const char *region);

/* What to do with a request as it arrived. */
enum xb_proxy_action {
    XB_PROXY_FORWARD = 0,      /* sign and send it to X-Ray */
    XB_PROXY_REFUSE_METHOD,    /* 405: only POST is forwarded */
    XB_PROXY_REFUSE_PATH,      /* 404: not one of the forwarded operations */
    XB_PROXY_REFUSE_TOO_LARGE, /* 413: body over max_request_body_size */
    XB_PROXY_REFUSE_BUSY,      /* 503 with Retry-After: max_concurrent_requests reached */
};

/* Facts about an arrived request (all read from the request; nothing borrowed). */
struct xb_proxy_request_facts {
    int is_post;           /* method is POST */
    enum xb_proxy_op op;   /* from xb_proxy_op_of_path */
    size_t body_len;       /* bytes of the whole body */
    size_t max_body;       /* max_request_body_size */
    uint32_t inflight;     /* requests already being forwarded */
    uint32_t max_inflight; /* max_concurrent_requests, >= 1 */
};

/* Decides the fate of a request. Checks, in order: method, path, size, concurrency. */
enum xb_proxy_action xb_proxy_decide_request(const struct xb_proxy_request_facts *f);

/* How the upstream call ended. */
enum xb_proxy_upstream {
    XB_PROXY_UP_ANSWERED = 0,  /* X-Ray answered with an HTTP status (any) */
    XB_PROXY_UP_TIMEOUT,       /* upstream timeout reached */
    XB_PROXY_UP_UNREACHABLE,   /* connect, DNS, TLS or connection-reset failure */
    XB_PROXY_UP_TOO_LARGE,     /* answer over XB_PROXY_MAX_RESPONSE_BYTES */
    XB_PROXY_UP_NO_CREDENTIALS /* the credential chain gave nothing: nothing was sent */
};

/* What to answer the client. */
enum xb_proxy_reply {
    XB_PROXY_RELAY = 0,            /* X-Ray's status and body, unchanged */
    XB_PROXY_RELAY_AND_STORE,      /* the same, and keep the body as the last good answer */
    XB_PROXY_SERVE_CACHE,          /* the last good answer for the same request body */
    XB_PROXY_FAIL_BAD_GATEWAY,     /* 502: X-Ray could not be reached or answered badly */
    XB_PROXY_FAIL_GATEWAY_TIMEOUT, /* 504: X-Ray did not answer in time */
};

/*
 * Decides the answer after the upstream call. Only GetSamplingRules answers are kept
 * (status 200) and served from the cache, and only when X-Ray is unreachable: a timeout,
 * a transport failure, missing credentials, an oversized answer, or a 5xx status. 4xx
 * answers (throttling, a refused signature) are X-Ray's word and are relayed. Sampling
 * targets are never cached: a stale quota would let every SDK on the node sample at an
 * old rate; the SDKs keep their last targets until the TTL and then use the rule's
 * fixed rate. |status| is read only for XB_PROXY_UP_ANSWERED; |have_cache| says
 * whether a good answer for the same request body is kept.
 */
enum xb_proxy_reply xb_proxy_decide_reply(enum xb_proxy_op op, enum xb_proxy_upstream up,
                                          long status, int have_cache);

/* Largest upstream answer relayed, bytes (GetSamplingRules pages hold at most 100
 * rules of well under 1 KiB each). */
#define XB_PROXY_MAX_RESPONSE_BYTES (256u * 1024u)

/*
 * Non-zero when |body| (|len| bytes) is a GetSamplingRules answer worth keeping: a JSON
 * object with a "SamplingRuleRecords" array (API_GetSamplingRules). A 200 answer that is
 * not (an HTML page from a middlebox, a truncated body) is relayed but never kept, so it
 * cannot be replayed during an outage. Only checked, never re-serialized.
 */
int xb_proxy_rules_answer_ok(const char *body, size_t len);

/* ---- the cache of last good answers ---------------------------------------- */

/* Entries kept: distinct GetSamplingRules request bodies (the SDKs send "{}" or an
 * empty body for the first page and {"NextToken": "..."} for later pages). */
#define XB_PROXY_CACHE_ENTRIES 8

struct xb_proxy_cache_entry {
    char *key; /* request body bytes (owned); NULL = free slot */
    size_t key_len;
    char *val; /* answer body bytes (owned) */
    size_t val_len;
    uint64_t stored_ms; /* caller's clock when stored */
};

/* Zero-initialised = empty. Owned memory: free with xb_proxy_cache_cleanup. */
struct xb_proxy_cache {
    struct xb_proxy_cache_entry e[XB_PROXY_CACHE_ENTRIES];
};

/*
 * Keeps |val| (|val_len| bytes) as the answer to request body |key| (|key_len| bytes),
 * both copied, replacing an entry with the same key, else a free slot, else the oldest
 * entry. Bodies that normalise equal are the same key: a body of only whitespace and an
 * empty object "{}" both mean "first page". Returns 0, XB_ERR_TOO_LARGE (|val_len| over
 * XB_PROXY_MAX_RESPONSE_BYTES: nothing changed) or XB_ERR_NOMEM (nothing changed).
 */
int xb_proxy_cache_put(struct xb_proxy_cache *c, const char *key, size_t key_len, const char *val,
                       size_t val_len, uint64_t now_ms);

/* The kept entry for request body |key|, or NULL. Borrowed until the next put/cleanup. */
const struct xb_proxy_cache_entry *xb_proxy_cache_get(const struct xb_proxy_cache *c,
                                                      const char *key, size_t key_len);

/* Bytes a cache holds at most with request bodies up to |max_key| bytes (the budget). */
uint64_t xb_proxy_cache_max_bytes(size_t max_key);

/* Per-request state besides the body and the answer (evhttp request, easy handle,
 * headers, bookkeeping), bytes: an upper estimate for the budget. */
#define XB_PROXY_PER_REQUEST_BYTES (48u * 1024u)

/*
 * Worst-case bytes one proxy holds for requests being forwarded: |max_inflight|
 * requests, each with a body of up to |max_body| bytes, an answer of up to
 * XB_PROXY_MAX_RESPONSE_BYTES (buffered by doubling, so counted twice) and
 * XB_PROXY_PER_REQUEST_BYTES, plus the cache (xb_proxy_cache_max_bytes).
 */
uint64_t xb_proxy_budget_bytes(size_t max_body, uint32_t max_inflight);

/* Frees every entry; the cache is empty afterwards. */
void xb_proxy_cache_cleanup(struct xb_proxy_cache *c);

#endif
