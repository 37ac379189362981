/*
 * config/processors.h - the processors and extensions xraybridge has (processors: and
 * extensions: in the collector's configuration shape) and what each processor's settings
 * mean for the rest of the config. Adding an extension = one row in its table.
 *
 * The table in config/processors.c is the one list of processor types: config.c asks
 * it whether a processor id exists, which flag marks the type as used, and which
 * cross-field check to run. Adding a processor = one row there, rows in
 * config/options.c, and its fields in struct xb_config_processors.
 * Reference: docs/configuration.md "Processors", docs/migration.md.
 */
#ifndef XB_CONFIG_PROCESSORS_H
#define XB_CONFIG_PROCESSORS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* One processor type. All fields static. */
struct xb_processor_type {
    const char *name;      /* type name as in YAML ("batch") */
    size_t enabled_offset; /* offset of its int enabled flag in struct xb_config */
    /* Cross-field checks of the listed instance (NULL = none). Returns 0, or
     * XB_ERR_CONFIG with |reason| (|len| bytes) filled. */
    int (*check)(const struct xb_config *cfg, char *reason, size_t len);
};

/*
 * The type of processor id |id| ("batch" or "batch/traces": the part before '/'), or
 * NULL when xraybridge has no such processor or the "/name" part is empty.
 */
const struct xb_processor_type *xb_processor_type_find(const char *id);

/* The supported types from the table, comma-separated ("batch, memory_limiter, ..."), for
 * messages. Static storage, built on the first call (config parsing is single-threaded). */
const char *xb_processor_supported(void);

/* One extension xraybridge knows. All fields static. */
struct xb_extension_type {
    const char *name;      /* id as listed in service.extensions ("health_check") */
    size_t enabled_offset; /* offset of its int enabled flag in struct xb_config;
                              XB_EXTENSION_NOOP for those accepted with a warning */
};
#define XB_EXTENSION_NOOP ((size_t)-1)

/*
 * The extension named |id| (service.extensions, extensions.<id>), or NULL when
 * xraybridge has none. Extensions with enabled_offset XB_EXTENSION_NOOP (pprof, zpages)
 * are accepted and do nothing.
 */
const struct xb_extension_type *xb_extension_find(const char *id);

/* The known extension ids, comma-separated, for messages. Static storage, built on the
 * first call (config parsing is single-threaded). */
const char *xb_extension_supported(void);

/* Non-zero for extensions that are accepted and do nothing (pprof, zpages). */
int xb_extension_is_noop(const char *id);

/* Non-zero when |name| is a resourcedetection detector xraybridge runs. */
int xb_detector_supported(const char *name);

/*
 * The exporter batch size a batch processor maps to: send_batch_max_size when set
 * (non-zero), else send_batch_size, clamped to |exporter_max| (50 for awsxray: one
 * PutTraceSegments call takes at most 50 documents). Sets |*clamped| to 1 when the
 * value was lowered, else 0.
 */
uint32_t xb_batch_max_documents(uint32_t send_batch_size, uint32_t send_batch_max_size,
                                uint32_t exporter_max, int *clamped);

/* Upper bound of batch.max_documents of the file exporter (config/options.c). */
#define XB_FILE_BATCH_MAX 10000u
/* PutTraceSegments' limit of documents per call. */
#define XB_XRAY_BATCH_MAX 50u

/*
 * Applies the enabled processors' settings to the rest of |cfg|: batch sets every
 * exporter's batch.timeout and batch.max_documents (xb_batch_max_documents), with a
 * warning when a size is clamped. Cannot fail.
 */
void xb_processors_apply(struct xb_config *cfg);

#endif
