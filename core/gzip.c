#include "core/gzip.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "core/err.h"

int xb_gunzip(const void *in, size_t in_len, struct xb_buf *out, const char **err_desc)
{
    unsigned char chunk[16384];
    z_stream zs;
    int rc = XB_OK, zrc;
    const char *desc = NULL;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        rc = XB_ERR_NOMEM;
        desc = "gzip: cannot initialise decoder";
        goto done;
    }
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)in_len; /* bodies are capped far below 4 GiB by the receivers */
    for (;;) {
        size_t produced;
        zs.next_out = chunk;
        zs.avail_out = sizeof(chunk);
        zrc = inflate(&zs, Z_NO_FLUSH);
        produced = sizeof(chunk) - zs.avail_out;
        /* out->max makes the append fail as soon as the output passes the limit. */
        rc = xb_buf_append(out, chunk, produced);
        if (rc) {
            desc = rc == XB_ERR_TOO_LARGE ? "decompressed body exceeds the size limit"
                                          : "out of memory while decompressing";
            goto out;
        }
        if (zrc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            /* Another gzip member follows. */
            if (inflateReset(&zs) != Z_OK) {
                rc = XB_ERR_INVALID;
                desc = "gzip: corrupt stream";
                goto out;
            }
            continue;
        }
        if (zrc == Z_BUF_ERROR || (zrc == Z_OK && produced == 0 && zs.avail_in == 0)) {
            /* No progress possible: the input ended before the stream did. */
            rc = XB_ERR_INVALID;
            desc = "gzip: truncated stream";
            goto out;
        }
        if (zrc != Z_OK) {
            rc = zrc == Z_MEM_ERROR ? XB_ERR_NOMEM : XB_ERR_INVALID;
            desc = "gzip: corrupt stream";
            goto out;
        }
    }
out:
    inflateEnd(&zs);
done:
    if (err_desc && desc)
        *err_desc = desc;
    return rc;
}

int xb_gzip(const void *in, size_t in_len, struct xb_buf *out)
{
    z_stream zs;
    int rc = XB_OK, zrc;

    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return XB_ERR_NOMEM;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)in_len;
    do {
        size_t room;
        rc = xb_buf_reserve(out, 16384);
        if (rc)
            goto out;
        room = out->cap - out->len - 1;
        zs.next_out = (Bytef *)out->data + out->len;
        zs.avail_out = (uInt)room;
        zrc = deflate(&zs, Z_FINISH);
        out->len += room - zs.avail_out;
        out->data[out->len] = '\0';
    } while (zrc == Z_OK || zrc == Z_BUF_ERROR);
    if (zrc != Z_STREAM_END)
        rc = XB_ERR_INVALID;
out:
    deflateEnd(&zs);
    return rc;
}
