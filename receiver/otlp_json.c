/* Placeholder: replaced by the OTLP/JSON decoder. */
#include "receiver/otlp_decode.h"
#include "core/err.h"
int xb_otlp_decode_json(const void *data, size_t len, struct xb_arena *arena,
                        xb_pb_export_req **out, const char **err_desc)
{ *err_desc = "OTLP/JSON not built"; return XB_ERR_INVALID; }
