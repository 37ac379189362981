/*
 * receiver/grpc_deadline.h - when an OTLP/gRPC connection or call has run out of time.
 *
 * Pure decisions (no I/O) for receiver/otlp_grpc.c. Every deadline counts from a fixed
 * event (accept, stream open, the last stream closing, GOAWAY), never from the last byte
 * received, so a client trickling bytes cannot extend it. Times are monotonic ms.
 */
#ifndef XB_RECEIVER_GRPC_DEADLINE_H
#define XB_RECEIVER_GRPC_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

/* How long a connection that has been told to go away may take to flush and close. */
#define XB_GRPC_CLOSE_FLUSH_MS 1000

/* Extra time after a call's upload deadline before its connection is closed because
 * the call is still open (the answer cannot be delivered: the client does not read). */
#define XB_GRPC_STREAM_CLOSE_GRACE_MS 5000

/* Time limits of one gRPC receiver, ms; 0 disables a limit. */
struct xb_grpc_timeouts {
    uint32_t connection_ms; /* accept -> first request HEADERS (connection_timeout) */
    uint32_t upload_ms;     /* stream HEADERS -> end of the upload (upload_timeout) */
    uint32_t idle_ms;       /* no open stream this long -> GOAWAY, close
                               (keepalive.server_parameters.max_connection_idle) */
    uint32_t age_ms;        /* connection age -> GOAWAY (max_connection_age) */
    uint32_t age_grace_ms;  /* GOAWAY for age -> close (max_connection_age_grace) */
};

/* What the receiver knows about one connection's timing. */
struct xb_grpc_conn_times {
    uint64_t accepted_ms;   /* accept */
    int had_request;        /* a request's HEADERS have been received */
    size_t open_streams;    /* streams open now */
    uint64_t idle_since_ms; /* when open_streams last became 0 (accepted_ms at first) */
    int aged;               /* GOAWAY for max_connection_age has been sent */
    int closing;            /* GOAWAY for a connection or idle deadline has been sent:
                               only close_by_ms counts from then on */
    uint64_t close_by_ms;   /* close at this time whatever happens; 0 = not set */
};

/* The deadline that has expired, most urgent first. */
enum xb_grpc_deadline {
    XB_GRPC_DL_NONE = 0,   /* nothing expired */
    XB_GRPC_DL_CLOSE,      /* close_by_ms passed: close the socket now */
    XB_GRPC_DL_CONNECTION, /* no request within connection_ms: GOAWAY, close */
    XB_GRPC_DL_IDLE,       /* no open stream for idle_ms: GOAWAY, close */
    XB_GRPC_DL_AGE,        /* older than age_ms: GOAWAY, let calls finish within grace */
};

/*
 * The first expired deadline of a connection described by |t| at |now_ms| under |to|,
 * in the order of enum xb_grpc_deadline; once |t->closing| is set only XB_GRPC_DL_CLOSE
 * remains. Sets |*next_ms| to the earliest deadline still
 * ahead (UINT64_MAX when none), for the timer. Stream deadlines are separate
 * (xb_grpc_stream_deadline).
 */
enum xb_grpc_deadline xb_grpc_conn_deadline(const struct xb_grpc_conn_times *t,
                                            const struct xb_grpc_timeouts *to, uint64_t now_ms,
                                            uint64_t *next_ms);

/* What to do with one open stream. */
enum xb_grpc_stream_action {
    XB_GRPC_STREAM_OK = 0,    /* within its time */
    XB_GRPC_STREAM_EXPIRE,    /* upload_ms passed while uploading: answer
                                 DEADLINE_EXCEEDED and reset the upload */
    XB_GRPC_STREAM_CLOSE_CONN /* still open XB_GRPC_STREAM_CLOSE_GRACE_MS after its
                                 deadline: close the connection */
};

/*
 * Decides for a stream opened at |opened_ms|; |uploading| is non-zero while the client
 * has not finished sending and no answer was given, |expired| when it was already
 * answered for the deadline. Lowers |*next_ms| to the stream's next deadline if sooner.
 * With |upload_ms| 0 streams never expire.
 */
enum xb_grpc_stream_action xb_grpc_stream_deadline(uint64_t opened_ms, int uploading, int expired,
                                                   uint32_t upload_ms, uint64_t now_ms,
                                                   uint64_t *next_ms);

#endif
