#include "receiver/grpc_frame.h"

#include <string.h>

#include "core/err.h"

int xb_grpc_frame_parse(const uint8_t *buf, size_t len, size_t max_len, struct xb_grpc_msg *msg,
                        size_t *consumed, const char **err_desc)
{
    uint32_t n;

    if (len < XB_GRPC_FRAME_HDR)
        return XB_ERR_AGAIN;
    if (buf[0] > 1) {
        *err_desc = "gRPC message has an invalid compressed-flag byte";
        return XB_ERR_INVALID;
    }
    n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
    if (max_len && n > max_len) {
        *err_desc = "gRPC message larger than the configured maximum";
        return XB_ERR_TOO_LARGE;
    }
    if (len - XB_GRPC_FRAME_HDR < n)
        return XB_ERR_AGAIN;
    msg->compressed = buf[0];
    msg->data = buf + XB_GRPC_FRAME_HDR;
    msg->len = n;
    *consumed = XB_GRPC_FRAME_HDR + (size_t)n;
    return XB_OK;
}

size_t xb_grpc_frame_whole_size(const uint8_t *have, size_t have_len, const uint8_t *more,
                                size_t more_len, size_t max_len)
{
    uint8_t hdr[XB_GRPC_FRAME_HDR];
    uint32_t n;

    if (have_len >= XB_GRPC_FRAME_HDR || more_len < XB_GRPC_FRAME_HDR - have_len || !max_len)
        return 0;
    if (have_len)
        memcpy(hdr, have, have_len);
    memcpy(hdr + have_len, more, XB_GRPC_FRAME_HDR - have_len);
    n = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 | hdr[4];
    if (hdr[0] > 1 || n > max_len)
        return 0;
    return XB_GRPC_FRAME_HDR + (size_t)n;
}

void xb_grpc_frame_header(uint8_t out[XB_GRPC_FRAME_HDR], int compressed, uint32_t len)
{
    out[0] = compressed ? 1 : 0;
    out[1] = (uint8_t)(len >> 24);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
}

char *xb_grpc_percent_encode(const char *msg, char *out, size_t out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    if (out_len == 0)
        return out;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p >= 0x20 && *p <= 0x7E && *p != '%') {
            if (o + 1 >= out_len)
                break;
            out[o++] = (char)*p;
        } else {
            if (o + 3 >= out_len)
                break;
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}
