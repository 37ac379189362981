/* Placeholder: replaced by the SigV4 implementation. */
#include "exporter/sigv4.h"
#include "core/err.h"
int xb_sigv4_sign(const struct xb_sigv4_request *req, const char *region, const char *service,
                  const struct xb_aws_creds *creds, time_t now, struct xb_sigv4_result *out)
{ return XB_ERR_INVALID; }
