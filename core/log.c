#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

static enum xb_log_level min_level = XB_LOG_INFO;

void xb_log_set_level(enum xb_log_level level)
{
    __atomic_store_n(&min_level, level, __ATOMIC_RELAXED); /* ingest workers log too */
}

int xb_log_parse_level(const char *name, enum xb_log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum xb_log_level)i;
            return XB_OK;
        }
    }
    return XB_ERR_INVALID;
}

int xb_log_enabled(enum xb_log_level level)
{
    return level >= __atomic_load_n(&min_level, __ATOMIC_RELAXED);
}

void xb_log(enum xb_log_level level, const char *who, const char *fmt, ...)
{
    static const char *const tags[] = {"debug", "info ", "warn ", "error"};
    char line[2048];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n;

    if (level < __atomic_load_n(&min_level, __ATOMIC_RELAXED))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, sizeof(line),
                 "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, tags[level],
                 who);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap); /* room kept for '\n' */
    va_end(ap);
    /* One fputs per line so concurrent processes sharing stderr do not interleave;
     * a message cut at the buffer size still ends its line. */
    strcat(line, "\n");
    fputs(line, stderr);
}

char *xb_log_redact(const char *s, char *out, size_t out_len)
{
    if (out_len == 0)
        return out;
    snprintf(out, out_len, "%.4s****", s ? s : "");
    return out;
}
