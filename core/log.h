/*
 * core/log.h - levelled logging to stderr.
 *
 * Lines look like `2026-11-21T14:00:00.123Z warn  exporter: message`. Never pass
 * credentials (secret keys, session tokens, Authorization headers) to these
 * functions; xb_log_redact() shortens an access key id for logging.
 */
#ifndef XB_CORE_LOG_H
#define XB_CORE_LOG_H

#include <stddef.h>

enum xb_log_level { XB_LOG_DEBUG = 0, XB_LOG_INFO = 1, XB_LOG_WARN = 2, XB_LOG_ERROR = 3 };

/* Sets the minimum level written (default XB_LOG_INFO). */
void xb_log_set_level(enum xb_log_level level);

/* Parses "debug"/"info"/"warn"/"error" into |out|. Returns 0, or XB_ERR_INVALID. */
int xb_log_parse_level(const char *name, enum xb_log_level *out);

/* Returns non-zero when |level| would be written. */
int xb_log_enabled(enum xb_log_level level);

/* printf-style log line from component |who| (a static string like "grpc"). */
void xb_log(enum xb_log_level level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Writes a loggable form of the secret-ish string |s| into |out| (|out_len| bytes,
 * NUL-terminated): the first 4 characters followed by "****". Returns |out|.
 */
char *xb_log_redact(const char *s, char *out, size_t out_len);

#define XB_DEBUG(who, ...)                                                                         \
    do {                                                                                           \
        if (xb_log_enabled(XB_LOG_DEBUG))                                                          \
            xb_log(XB_LOG_DEBUG, who, __VA_ARGS__);                                                \
    } while (0)
#define XB_INFO(who, ...) xb_log(XB_LOG_INFO, who, __VA_ARGS__)
#define XB_WARN(who, ...) xb_log(XB_LOG_WARN, who, __VA_ARGS__)
#define XB_ERROR(who, ...) xb_log(XB_LOG_ERROR, who, __VA_ARGS__)

#endif
