#include "core/err.h"

const char *xb_strerror(int err)
{
    switch (err) {
    case XB_OK:
        return "success";
    case XB_ERR_NOMEM:
        return "out of memory";
    case XB_ERR_INVALID:
        return "invalid input";
    case XB_ERR_TOO_LARGE:
        return "too large";
    case XB_ERR_FULL:
        return "queue full";
    case XB_ERR_IO:
        return "I/O error";
    case XB_ERR_AGAIN:
        return "temporarily unavailable";
    case XB_ERR_UNSUPPORTED:
        return "unsupported";
    case XB_ERR_NOT_FOUND:
        return "not found";
    case XB_ERR_CONFIG:
        return "invalid configuration";
    }
    return "unknown error";
}
