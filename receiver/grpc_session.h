/*
 * receiver/grpc_session.h - one OTLP/gRPC server connection without I/O: bytes in,
 * bytes out, deadlines on a clock the caller passes in.
 *
 * Wraps an nghttp2 server session (h2c with prior knowledge) and its open streams; each
 * stream is one unary Export call (grpc/doc/PROTOCOL-HTTP2.md). The owner feeds received
 * bytes to xb_grpc_session_recv(), lets xb_grpc_session_service() act on deadlines and
 * write output through env.write, and closes the socket when told. receiver/otlp_grpc.c
 * is the socket owner; tests and the fuzz target drive sessions from memory.
 */
#ifndef XB_RECEIVER_GRPC_SESSION_H
#define XB_RECEIVER_GRPC_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "receiver/grpc_deadline.h"
#include "receiver/ingest.h"
#include "receiver/receiver_metrics.h"

/* SETTINGS_MAX_HEADER_LIST_SIZE when the limits leave it 0. */
#define XB_GRPC_DEFAULT_MAX_HEADER_LIST (16 * 1024)

struct xb_grpc_session;

/* Limits of one session (copied at creation). */
struct xb_grpc_session_limits {
    size_t max_msg_bytes;             /* request message limit after decompression */
    uint32_t max_concurrent_streams;  /* SETTINGS_MAX_CONCURRENT_STREAMS */
    size_t max_header_list_size;      /* SETTINGS_MAX_HEADER_LIST_SIZE, enforced per call
                                         (RESOURCE_EXHAUSTED); 0 = 16 KiB */
    size_t max_inflight_bytes;        /* cap of *env.inflight (0 = none) */
    struct xb_grpc_timeouts timeouts; /* connection, upload, idle, age deadlines */
};

/* What a session needs from its owner. Callbacks run inside xb_grpc_session_recv() and
 * xb_grpc_session_service(). */
struct xb_grpc_session_env {
    /* Takes |len| output bytes: returns how many it took (0 = output full for now; the
     * owner calls xb_grpc_session_service() again once it drained), or -1 on error. */
    ssize_t (*write)(void *ud, const uint8_t *data, size_t len);
    /* Runs one well-framed Export message (|gzip|: compressed, grpc-encoding gzip)
     * through the ingest path and fills |o| (always). |msg| is borrowed for the call. */
    void (*export_msg)(void *ud, int gzip, const uint8_t *msg, size_t len,
                       struct xb_ingest_outcome *o);
    /* The connection made progress (a complete request, an answer sent). May be NULL. */
    void (*progress)(void *ud, uint64_t now_ms);
    void *ud;
    size_t *inflight; /* request bytes held, shared by the owner's sessions (required) */
};

/* What the owner should do after xb_grpc_session_service(). */
enum xb_grpc_session_status {
    XB_GRPC_SESSION_OPEN = 0, /* keep the connection */
    XB_GRPC_SESSION_FINISHED, /* nothing more to read or write (e.g. GOAWAY queued): close
                                 once the owner's output has been flushed */
    XB_GRPC_SESSION_CLOSE,    /* close now (a deadline passed, or output failed) */
};

/*
 * Creates a server session at monotonic time |now_ms| and queues the server's SETTINGS
 * (max concurrent streams, 1 MiB stream window, max header list size) and a 16 MiB
 * connection window. |lim| and |env| are copied. Returns XB_OK and sets |*out|, or
 * XB_ERR_NOMEM.
 */
int xb_grpc_session_new(const struct xb_grpc_session_limits *lim,
                        const struct xb_grpc_session_env *env, uint64_t now_ms,
                        struct xb_grpc_session **out);

/*
 * Frees the session and every open stream, giving their bytes back to *env.inflight.
 * NULL is a no-op. Nothing is written.
 */
void xb_grpc_session_free(struct xb_grpc_session *s);

/*
 * Feeds |len| received bytes at |now_ms|. Answers to complete calls are queued.
 * Returns XB_OK (all bytes consumed) or XB_ERR_INVALID: the peer broke HTTP/2 or was
 * cut off for a flood (nghttp2 error); close the connection (counted by the caller).
 */
int xb_grpc_session_recv(struct xb_grpc_session *s, const uint8_t *data, size_t len,
                         uint64_t now_ms);

/*
 * Acts on expired deadlines at |now_ms| (DEADLINE_EXCEEDED answers, GOAWAY) and writes
 * queued output through env.write. Sets |*next_ms| to when to call again for the next
 * deadline (UINT64_MAX: none).
 */
enum xb_grpc_session_status xb_grpc_session_service(struct xb_grpc_session *s, uint64_t now_ms,
                                                    uint64_t *next_ms);

/* Queues GOAWAY(NO_ERROR): no new calls; calls in progress finish (graceful drain). */
void xb_grpc_session_goaway(struct xb_grpc_session *s);

/* Non-zero while a call whose upload is complete is being answered. */
int xb_grpc_session_busy(const struct xb_grpc_session *s);

/*
 * Why the session is ending, for xraybridge_receiver_connections_refused_total:
 * XB_CONN_REFUSED_TIMEOUT (a connection, idle or call deadline), XB_CONN_REFUSED_
 * PROTOCOL_ABUSE (nghttp2 sent GOAWAY with an error), or XB_CONN_REFUSED_COUNT for a
 * normal end.
 */
enum xb_conn_refused xb_grpc_session_close_reason(const struct xb_grpc_session *s);

#endif
