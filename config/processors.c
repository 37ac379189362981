/* config/processors.c - see processors.h. */
#include "config/processors.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "processor/ts_policy.h"

#define OFF(field) offsetof(struct xb_config, field)

static int check_memory_limiter(const struct xb_config *cfg, char *reason, size_t len)
{
    const struct xb_config_memory_limiter *m = &cfg->processors.memory_limiter;

    if (m->limit_bytes == 0 && m->limit_percentage == 0) {
        snprintf(reason, len, "set limit_mib or limit_percentage");
        return XB_ERR_CONFIG;
    }
    if (m->limit_bytes != 0 && m->limit_percentage != 0) {
        snprintf(reason, len, "set only one of limit_mib and limit_percentage");
        return XB_ERR_CONFIG;
    }
    if (m->limit_bytes != 0 && m->spike_limit_bytes >= m->limit_bytes) {
        snprintf(reason, len, "spike_limit_mib must be below limit_mib");
        return XB_ERR_CONFIG;
    }
    if (m->limit_percentage != 0 && m->spike_limit_percentage >= m->limit_percentage) {
        snprintf(reason, len, "spike_limit_percentage must be below limit_percentage");
        return XB_ERR_CONFIG;
    }
    return XB_OK;
}

static int check_resourcedetection(const struct xb_config *cfg, char *reason, size_t len)
{
    const struct xb_config_resourcedetection *r = &cfg->processors.resourcedetection;

    for (size_t i = 0; i < r->n_detectors; i++) {
        if (!xb_detector_supported(r->detectors[i])) {
            snprintf(reason, len,
                     "detectors: \"%s\" is not supported (supported: env, ec2, eks, system; "
                     "see docs/migration.md)",
                     r->detectors[i]);
            return XB_ERR_CONFIG;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(r->detectors[j], r->detectors[i]) == 0) {
                snprintf(reason, len, "detectors: \"%s\" is listed twice", r->detectors[i]);
                return XB_ERR_CONFIG;
            }
        }
    }
    return XB_OK;
}

/* tail_sampling needs at least one policy; the policy set carries sample_on_first_match. */
static int check_tail_sampling(const struct xb_config *cfg, char *reason, size_t len)
{
    if (cfg->tail_sampling.policies == NULL) {
        snprintf(reason, len, "policies: missing: at least one policy is required");
        return XB_ERR_CONFIG;
    }
    if (cfg->otlphttp.enabled || cfg->lb.enabled) {
        /* The OTLP exporters queue the request's spans as received, beside the documents
         * that tail_sampling holds: the two would disagree on what was sampled. */
        snprintf(reason, len,
                 "cannot run with the %s exporter (it exports OTLP spans before any sampling "
                 "decision); run tail_sampling where the spans are exported to X-Ray, such as "
                 "behind loadbalancing on a gateway (docs/sampling.md)",
                 cfg->otlphttp.enabled ? "otlphttp" : "loadbalancing");
        return XB_ERR_CONFIG;
    }
    cfg->tail_sampling.policies->sample_on_first_match = cfg->tail_sampling.sample_on_first_match;
    return XB_OK;
}

static const struct xb_processor_type types[] = {
    {"batch", OFF(processors.batch.enabled), NULL},
    {"memory_limiter", OFF(processors.memory_limiter.enabled), check_memory_limiter},
    {"resourcedetection", OFF(processors.resourcedetection.enabled), check_resourcedetection},
    {"tail_sampling", OFF(tail_sampling.enabled), check_tail_sampling},
};

const struct xb_processor_type *xb_processor_type_find(const char *id)
{
    size_t n = strcspn(id, "/");

    if (id[n] == '/' && id[n + 1] == '\0')
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strlen(types[i].name) == n && strncmp(types[i].name, id, n) == 0)
            return &types[i];
    }
    return NULL;
}

/* Writes "a, b, c" of the |n| names |name_at| gives into |list| (|len| bytes). */
static void join_names(char *list, size_t len, const char *(*name_at)(size_t), size_t n)
{
    size_t off = 0;

    for (size_t i = 0; i < n && off < len; i++) {
        int w = snprintf(list + off, len - off, "%s%s", i ? ", " : "", name_at(i));
        off += w > 0 ? (size_t)w : 0;
    }
}

static const char *type_name(size_t i)
{
    return types[i].name;
}

const char *xb_processor_supported(void)
{
    static char list[256];

    if (list[0] == '\0')
        join_names(list, sizeof(list), type_name, sizeof(types) / sizeof(types[0]));
    return list;
}

/* The extensions xraybridge has, in the order messages list them. */
static const struct xb_extension_type extensions[] = {
    {"health_check", OFF(health_check.enabled)},
    {"viewer", OFF(viewer.enabled)},
    {"awsproxy", OFF(awsproxy.enabled)},
    {"file_storage", OFF(file_storage.enabled)},
    {"sigv4auth", OFF(sigv4auth.enabled)},
    {"pprof", XB_EXTENSION_NOOP},
    {"zpages", XB_EXTENSION_NOOP},
};

const struct xb_extension_type *xb_extension_find(const char *id)
{
    for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
        if (strcmp(extensions[i].name, id) == 0)
            return &extensions[i];
    return NULL;
}

static const char *extension_name(size_t i)
{
    return extensions[i].name;
}

const char *xb_extension_supported(void)
{
    static char list[256];

    if (list[0] == '\0')
        join_names(list, sizeof(list), extension_name, sizeof(extensions) / sizeof(extensions[0]));
    return list;
}

int xb_extension_is_noop(const char *id)
{
    const struct xb_extension_type *e = xb_extension_find(id);

    return e != NULL && e->enabled_offset == XB_EXTENSION_NOOP;
}

int xb_detector_supported(const char *name)
{
    static const char *const known[] = {"env", "ec2", "eks", "system"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(known[i], name) == 0)
            return 1;
    return 0;
}

uint32_t xb_batch_max_documents(uint32_t send_batch_size, uint32_t send_batch_max_size,
                                uint32_t exporter_max, int *clamped)
{
    uint32_t want = send_batch_max_size != 0 ? send_batch_max_size : send_batch_size;

    *clamped = want > exporter_max;
    if (want == 0)
        want = 1;
    return *clamped ? exporter_max : want;
}

void xb_processors_apply(struct xb_config *cfg)
{
    const struct xb_config_batch *b = &cfg->processors.batch;
    int clamped;
    uint32_t n;

    if (!b->enabled)
        return;
    if (cfg->awsxray.enabled) {
        n = xb_batch_max_documents(b->send_batch_size, b->send_batch_max_size, XB_XRAY_BATCH_MAX,
                                   &clamped);
        if (clamped)
            XB_WARN("config",
                    "processors.batch: a batch of %u documents is above PutTraceSegments' limit; "
                    "the awsxray exporter sends at most %u per call",
                    b->send_batch_max_size ? b->send_batch_max_size : b->send_batch_size, n);
        cfg->awsxray.queue.batch_max_documents = n;
        cfg->awsxray.queue.batch_timeout_ms = b->timeout_ms;
    }
    if (cfg->file.enabled) {
        n = xb_batch_max_documents(b->send_batch_size, b->send_batch_max_size, XB_FILE_BATCH_MAX,
                                   &clamped);
        cfg->file.queue.batch_max_documents = n;
        cfg->file.queue.batch_timeout_ms = b->timeout_ms;
    }
}
