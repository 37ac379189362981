#include "receiver/grpc_deadline.h"

/* Records |at| as a candidate for the next wake-up; returns non-zero when |at| has
 * passed (so the caller reports it). */
static int due(uint64_t at, uint64_t now_ms, uint64_t *next_ms)
{
    if (at <= now_ms)
        return 1;
    if (at < *next_ms)
        *next_ms = at;
    return 0;
}

enum xb_grpc_deadline xb_grpc_conn_deadline(const struct xb_grpc_conn_times *t,
                                            const struct xb_grpc_timeouts *to, uint64_t now_ms,
                                            uint64_t *next_ms)
{
    enum xb_grpc_deadline dl = XB_GRPC_DL_NONE;

    *next_ms = UINT64_MAX;
    if (t->close_by_ms && due(t->close_by_ms, now_ms, next_ms))
        return XB_GRPC_DL_CLOSE;
    if (t->closing)
        return XB_GRPC_DL_NONE; /* closing already: only close_by_ms matters */
    if (!t->had_request && to->connection_ms &&
        due(t->accepted_ms + to->connection_ms, now_ms, next_ms) && !dl)
        dl = XB_GRPC_DL_CONNECTION;
    if (t->open_streams == 0 && to->idle_ms &&
        due(t->idle_since_ms + to->idle_ms, now_ms, next_ms) && !dl)
        dl = XB_GRPC_DL_IDLE;
    if (!t->aged && to->age_ms && due(t->accepted_ms + to->age_ms, now_ms, next_ms) && !dl)
        dl = XB_GRPC_DL_AGE;
    return dl;
}

enum xb_grpc_stream_action xb_grpc_stream_deadline(uint64_t opened_ms, int uploading, int expired,
                                                   uint32_t upload_ms, uint64_t now_ms,
                                                   uint64_t *next_ms)
{
    uint64_t deadline = opened_ms + upload_ms;

    if (upload_ms == 0)
        return XB_GRPC_STREAM_OK;
    if (uploading && !expired && due(deadline, now_ms, next_ms))
        return XB_GRPC_STREAM_EXPIRE;
    if (due(deadline + XB_GRPC_STREAM_CLOSE_GRACE_MS, now_ms, next_ms))
        return XB_GRPC_STREAM_CLOSE_CONN;
    return XB_GRPC_STREAM_OK;
}
