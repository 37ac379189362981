/*
 * aws/region.h - the AWS region at start-up, looked up as the AWS SDKs do
 * (AWS SDKs and Tools Reference Guide, "AWS Region"): configuration, environment,
 * shared config file, then EC2 instance metadata (aws/imds.h).
 */
#ifndef XB_AWS_REGION_H
#define XB_AWS_REGION_H

#include <stddef.h>

/* Non-zero when |r| is a plausible region name: [a-z0-9-], 1..63 bytes. */
int xb_region_valid(const char *r);

/*
 * Full region resolution for start-up, in order: |configured|, AWS_REGION,
 * AWS_DEFAULT_REGION, the "region" of the active profile in the shared config file
 * (AWS_PROFILE or "default"; AWS_CONFIG_FILE or ~/.aws/config), then EC2 instance
 * metadata (IMDSv2 token, then GET /latest/meta-data/placement/region) unless
 * AWS_EC2_METADATA_DISABLED=true. The IMDS step BLOCKS: call it only at start-up,
 * before listeners open; it is bounded by 1 s per request (about 2 s in total).
 * A value must be a plausible region name ([a-z0-9-], 1..63 bytes).
 * Copies the region into |out| (|out_len| bytes). Returns 0; XB_ERR_NOT_FOUND with
 * |err_desc| naming every source tried and why it failed; XB_ERR_INVALID (a source gave a
 * malformed region, named in |err_desc|); XB_ERR_TOO_LARGE (|out| too small).
 */
int xb_region_resolve_full(const char *configured, char *out, size_t out_len, char *err_desc,
                           size_t err_desc_len);

#endif
