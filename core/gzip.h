/*
 * core/gzip.h - bounded gzip decompression for request bodies (RFC 1952, via zlib).
 */
#ifndef XB_CORE_GZIP_H
#define XB_CORE_GZIP_H

#include <stddef.h>

#include "core/buf.h"

/*
 * Inflates the gzip stream |in| (|in_len| bytes) and appends the result to |out|.
 * out->max bounds the decompressed size, so a "zip bomb" stops as soon as it passes
 * the limit. Concatenated gzip members are accepted.
 * Returns 0; XB_ERR_TOO_LARGE past out->max; XB_ERR_INVALID for corrupt or
 * truncated data; XB_ERR_NOMEM. |err_desc| (optional) gets a static description.
 */
int xb_gunzip(const void *in, size_t in_len, struct xb_buf *out, const char **err_desc);

/*
 * Compresses |in| into gzip format, appending to |out|. Used by tests and the bench
 * tools. Returns 0, XB_ERR_NOMEM or XB_ERR_TOO_LARGE.
 */
int xb_gzip(const void *in, size_t in_len, struct xb_buf *out);

#endif
