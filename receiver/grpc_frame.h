/*
 * receiver/grpc_frame.h - gRPC length-prefixed message framing (pure, no I/O).
 *
 * gRPC over HTTP/2 ("PROTOCOL-HTTP2.md", Length-Prefixed-Message): each message is
 * a 1-byte Compressed-Flag (0 or 1), a 4-byte big-endian Message-Length, then the
 * message bytes. A unary request body carries exactly one message.
 */
#ifndef XB_RECEIVER_GRPC_FRAME_H
#define XB_RECEIVER_GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define XB_GRPC_FRAME_HDR 5u

/* One parsed message; data points into the caller's buffer (borrowed). */
struct xb_grpc_msg {
    int compressed; /* Compressed-Flag: 1 = encoded with the grpc-encoding */
    const uint8_t *data;
    size_t len;
};

/*
 * Parses the message at the start of |buf| (|len| bytes). Messages longer than
 * |max_len| bytes (0 = no limit) are refused as soon as the header is seen.
 * Returns 0 with |*msg| and |*consumed| (header + message bytes) set;
 * XB_ERR_AGAIN when |buf| holds only part of a message (feed more bytes);
 * XB_ERR_TOO_LARGE when the declared length exceeds |max_len|;
 * XB_ERR_INVALID when the flag byte is neither 0 nor 1.
 * |err_desc| receives a static description on errors.
 */
int xb_grpc_frame_parse(const uint8_t *buf, size_t len, size_t max_len, struct xb_grpc_msg *msg,
                        size_t *consumed, const char **err_desc);

/*
 * Size of the whole framed message (prefix + declared length) when its 5-byte prefix
 * becomes complete with these bytes: |have| bytes already stored (|have_len| < 5) and
 * |more| (|more_len|) just received. Lets the receiver size the body once instead of
 * growing it as DATA frames arrive. Returns 0 when the prefix is not complete yet, was
 * complete before, has an invalid flag byte, or declares more than |max_len| bytes
 * (0 = no limit is not accepted here: returns 0); those cases are left to
 * xb_grpc_frame_parse().
 */
size_t xb_grpc_frame_whole_size(const uint8_t *have, size_t have_len, const uint8_t *more,
                                size_t more_len, size_t max_len);

/* Writes the 5-byte prefix for a message of |len| bytes into |out|. */
void xb_grpc_frame_header(uint8_t out[XB_GRPC_FRAME_HDR], int compressed, uint32_t len);

/*
 * Percent-encodes |msg| for the grpc-message trailer (bytes outside 0x20..0x7E and
 * '%' become %XX), writing at most |out_len| - 1 bytes plus NUL into |out|. Returns
 * |out|. Truncates on a character boundary of the encoding.
 */
char *xb_grpc_percent_encode(const char *msg, char *out, size_t out_len);

#endif
