/*
 * core/err.h - xraybridge error codes.
 *
 * Fallible functions return XB_OK (0) or one of the negative codes below. Decoders
 * also return a static human-readable description through a `const char **err_desc`
 * out-parameter; receivers turn (code, description) into a gRPC/HTTP status in one
 * place (receiver/status.c).
 */
#ifndef XB_CORE_ERR_H
#define XB_CORE_ERR_H

enum xb_err {
    XB_OK = 0,
    XB_ERR_NOMEM = -1,       /* allocation failed or an arena/buffer cap was hit */
    XB_ERR_INVALID = -2,     /* malformed input (bad protobuf, JSON, ids, config value) */
    XB_ERR_TOO_LARGE = -3,   /* input larger than the configured limit */
    XB_ERR_FULL = -4,        /* bounded queue has no room: retry later (backpressure) */
    XB_ERR_IO = -5,          /* system call or library I/O failure */
    XB_ERR_AGAIN = -6,       /* transient condition, try again */
    XB_ERR_UNSUPPORTED = -7, /* recognised but unsupported (encoding, content type) */
    XB_ERR_NOT_FOUND = -8,   /* lookup found nothing */
    XB_ERR_CONFIG = -9,      /* configuration is invalid */
};

/* Returns a static English description of |err| (an enum xb_err value). Never NULL. */
const char *xb_strerror(int err);

#endif
