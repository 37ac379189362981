#define _GNU_SOURCE /* timegm */
#include "exporter/otlp_outcome.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/gzip.h"
#include "core/queue.h"
#include "proto/otlp.h"

void xb_otlp_outcome_decide(const struct xb_otlp_call *c, struct xb_retry_state *st,
                            uint64_t now_ms, const struct xb_retry_opts *opts,
                            struct xb_otlp_decision *out)
{
    int retryable;

    memset(out, 0, sizeof(*out));
    if (!c->transport_failed && c->status >= 200 && c->status < 300) {
        out->verdict = XB_OTLP_DELIVERED;
        out->rejected = c->rejected_spans > 0 ? (uint64_t)c->rejected_spans : 0;
        return;
    }
    out->request_error = 1;
    retryable = c->transport_failed || c->status == 429 || c->status == 502 || c->status == 503 ||
                c->status == 504;
    if (!retryable) {
        out->verdict = XB_OTLP_DROP;
        out->why = XB_DROP_HTTP;
        return;
    }
    out->throttled = c->status == 429 || (c->status == 503 && c->retry_after_ms >= 0);
    if (c->retry_after_ms > 0)
        out->min_delay_ms = opts->max_ms && (uint64_t)c->retry_after_ms > opts->max_ms
                                ? opts->max_ms
                                : (uint64_t)c->retry_after_ms;
    if (st->failing_since_ms == 0)
        st->failing_since_ms = now_ms ? now_ms : 1;
    st->attempts++;
    if (!opts->enabled) {
        out->verdict = XB_OTLP_DROP;
        out->why = XB_DROP_RETRY_DISABLED;
    } else if (opts->max_elapsed_ms && now_ms - st->failing_since_ms > opts->max_elapsed_ms) {
        out->verdict = XB_OTLP_DROP;
        out->why = XB_DROP_MAX_ELAPSED;
    } else {
        out->verdict = XB_OTLP_RETRY;
        out->back_off = 1;
    }
}

int64_t xb_otlp_retry_after_ms(const char *v, time_t now)
{
    struct tm tm;
    const char *end;
    char *num_end;
    unsigned long long secs;

    if (!v)
        return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (isdigit((unsigned char)*v)) {
        secs = strtoull(v, &num_end, 10);
        while (*num_end == ' ' || *num_end == '\t')
            num_end++;
        if (*num_end != '\0' || secs > 86400ull * 365)
            return -1;
        return (int64_t)secs * 1000;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end)
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return -1;
    {
        time_t at = timegm(&tm);
        return at <= now ? 0 : (int64_t)(at - now) * 1000;
    }
}

int xb_otlp_parse_response(const void *body, size_t len, int64_t *rejected, char *msg,
                           size_t msg_len)
{
    xb_pb_export_resp *r;

    *rejected = 0;
    if (msg_len)
        msg[0] = '\0';
    if (len == 0)
        return XB_OK;
    r = opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, len,
                                                                                          body);
    if (!r)
        return XB_ERR_INVALID;
    if (r->partial_success) {
        *rejected = r->partial_success->rejected_spans;
        if (msg_len && r->partial_success->error_message)
            snprintf(msg, msg_len, "%s", r->partial_success->error_message);
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r,
                                                                                             NULL);
    return XB_OK;
}

/* ---- wire scan ------------------------------------------------------------ */

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Calls |each| on every length-delimited field |field| of the message in [p, end).
 * Returns the sum of what |each| returns, or -1 on malformed input. */
static int64_t each_field(const uint8_t *p, const uint8_t *end, uint64_t field, int depth)
{
    int64_t total = 0;

    while (p < end) {
        uint64_t key, len;
        if (varint(&p, end, &key))
            return -1;
        switch (key & 7) {
        case 0:
            if (varint(&p, end, &len))
                return -1;
            break;
        case 1:
            if (end - p < 8)
                return -1;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return -1;
            p += 4;
            break;
        case 2:
            if (varint(&p, end, &len) || len > (uint64_t)(end - p))
                return -1;
            if ((key >> 3) == field) {
                if (depth == 0) {
                    total++; /* a span */
                } else {
                    /* request.resource_spans = 1; resource_spans.scope_spans = 2;
                     * scope_spans.spans = 2 */
                    int64_t n = each_field(p, p + len, 2, depth - 1);
                    if (n < 0)
                        return -1;
                    total += n;
                }
            }
            p += len;
            break;
        default:
            return -1;
        }
    }
    return total;
}

int64_t xb_otlp_record_spans(const void *rec, size_t len)
{
    const uint8_t *p = rec;
    return each_field(p, p + len, 1, 2);
}

enum xb_grpc_verdict xb_grpc_call_verdict(int transport_failed, long status, int grpc_status)
{
    if (transport_failed || status != 200 || grpc_status < 0)
        return XB_GRPC_REROUTE;
    switch (grpc_status) {
    case 0:
        return XB_GRPC_DELIVERED;
    case 1:
    case 4:
    case 8:
    case 10:
    case 11:
    case 14:
    case 15:
        return XB_GRPC_RETRY;
    default:
        return XB_GRPC_DROP;
    }
}

int xb_otlp_records_body(struct xb_qdoc *const *recs, size_t n, int gzip, struct xb_buf *out)
{
    struct xb_buf raw;
    struct xb_buf *dst = gzip ? &raw : out;
    int rc = XB_OK;

    xb_buf_init(&raw, 0);
    for (size_t i = 0; i < n && rc == XB_OK; i++)
        rc = xb_buf_append(dst, recs[i]->json, recs[i]->len);
    if (rc == XB_OK && gzip)
        rc = xb_gzip(raw.data, raw.len, out);
    xb_buf_cleanup(&raw);
    return rc;
}
