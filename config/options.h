/*
 * config/options.h - the declarative option table behind struct xb_config.
 *
 * One row per YAML leaf key: its full dotted path, value type, default (as YAML text),
 * bounds, where the value lives in struct xb_config, and a one-line description.
 * config.c walks the YAML tree against this table: a key is a leaf if its path is a
 * row, a section if it is a proper prefix of some row's path, and unknown otherwise.
 * Defaults are applied by parsing each row's default text with the same code that
 * parses user values, so the table is the single source of truth (Fluent Bit's
 * "config map" idea); docs/configuration.md documents every row and a unit test checks
 * that it does.
 */
#ifndef XB_CONFIG_OPTIONS_H
#define XB_CONFIG_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

/* Value types. Bounds (min/max) apply to the stored value, in the stored unit. */
enum xb_config_opt_type {
    XB_OPT_STRING,        /* char *; any text */
    XB_OPT_ENDPOINT,      /* char *; "host:port" or "[v6]:port", port 0..65535 */
    XB_OPT_URL,           /* char *; "http://..." or "https://..." */
    XB_OPT_REGION,        /* char *; lower-case letters, digits and '-' */
    XB_OPT_LOG_LEVEL,     /* char *; debug|info|warn|error (stored lower-case) */
    XB_OPT_METRICS_LEVEL, /* char *; none|basic|normal|detailed (stored lower-case) */
    XB_OPT_BOOL,          /* int 0/1; true/false/yes/no/on/off, any case */
    XB_OPT_U32,           /* uint32_t; plain decimal integer */
    XB_OPT_SIZE,          /* size_t; plain decimal integer (a count) */
    XB_OPT_BYTES,         /* size_t bytes; integer with optional B/KB/MB/GB/KiB/MiB/GiB */
    XB_OPT_MIB,           /* size_t bytes; YAML value is an integer number of MiB */
    XB_OPT_DURATION_MS,   /* uint32_t ms; "250ms", "2s", "1m", "1h", "1m30s"; plain = ms */
    XB_OPT_STRLIST,       /* char ** + size_t count (count_offset); YAML sequence */
    XB_OPT_RECEIVERS,     /* pipeline receiver ids (sequence); stored by the parser */
    XB_OPT_EXPORTERS,     /* pipeline exporter ids (sequence); stored by the parser */
    XB_OPT_EXTENSIONS,    /* service.extensions ids (sequence); stored by the parser */
    XB_OPT_PROCESSORS,    /* pipeline processor ids (sequence): char ** + count, in order */
    XB_OPT_IGNORED,       /* any node; not stored (rows carry XB_OPT_F_COMPAT) */
    XB_OPT_TS_POLICIES,   /* processors.tail_sampling.policies (config/tail_sampling_config.h) */
    XB_OPT_STRMAP,        /* char ** of "key: value" + size_t count; YAML mapping of scalars */
};

/* Row flags. */
#define XB_OPT_F_EMPTY_NULL 0x1u /* empty string is stored as NULL ("not set") */
#define XB_OPT_F_SHARED                                                                            \
    0x2u /* translation key: awsxray and file rows share the                                       \
            field; setting both to different values is an error */
#define XB_OPT_F_COMPAT                                                                            \
    0x4u /* accepted for compatibility, has no effect: setting                                     \
            it in the file logs a warning */

/* One YAML leaf key. All strings are static. */
struct xb_config_option {
    const char *path; /* full dotted path, e.g. "exporters.awsxray.region" */
    enum xb_config_opt_type type;
    const char *def;     /* default as YAML scalar text; NULL = NULL / empty list */
    uint64_t min, max;   /* inclusive bounds for numeric types (stored unit) */
    size_t offset;       /* offset of the field in struct xb_config */
    size_t count_offset; /* XB_OPT_STRLIST: offset of the size_t element count */
    unsigned flags;      /* XB_OPT_F_* */
    const char *doc;     /* one-line description */
};

/* Returns the static option table and stores its length in |*n|. Never NULL. */
const struct xb_config_option *xb_config_options(size_t *n);

/* Returns the row whose path is exactly |path|, or NULL. */
const struct xb_config_option *xb_config_option_find(const char *path);

/* Returns a static name of |type| as used in docs ("string", "bool", ...). */
const char *xb_config_opt_type_name(enum xb_config_opt_type type);

#endif
