#include "extension/file_storage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/wal.h"

#define MAX_STORES 4
#define MIN_SEGMENTS 4 /* segment_size is lowered so max_size holds at least this many */

/* Exporter label values: the ids of every exporter that can use a queue. */
enum { EXP_AWSXRAY, EXP_FILE, EXP_OTLPHTTP, EXP_COUNT };
static const char *const exporter_values[EXP_COUNT] = {"awsxray", "file", "otlphttp"};
static const struct xb_metric_label by_exporter[] = {{"exporter", exporter_values, EXP_COUNT}};

static uint64_t values[XB_WAL_STAT_COUNT][EXP_COUNT];

#define FAMILY(stat, n, t, h)                                                                      \
    [stat] = {.name = (n),                                                                         \
              .help = (h),                                                                         \
              .type = (t),                                                                         \
              .labels = by_exporter,                                                               \
              .n_labels = 1,                                                                       \
              .values = values[stat]}

static struct xb_metric_family families[XB_WAL_STAT_COUNT] = {
    FAMILY(XB_WAL_STAT_DISK_BYTES, "xraybridge_file_storage_queue_bytes", XB_METRIC_GAUGE,
           "Bytes of the durable queue's segment files on disk."),
    FAMILY(XB_WAL_STAT_DISK_DOCS, "xraybridge_file_storage_queue_documents", XB_METRIC_GAUGE,
           "Documents in the durable queue not yet delivered (on disk or being sent)."),
    FAMILY(XB_WAL_STAT_APPENDED, "xraybridge_file_storage_appended_documents_total",
           XB_METRIC_COUNTER, "Documents appended to the durable queue."),
    FAMILY(XB_WAL_STAT_FSYNCS, "xraybridge_file_storage_fsyncs_total", XB_METRIC_COUNTER,
           "fdatasync calls on the durable queue's segment files."),
    FAMILY(XB_WAL_STAT_RECOVERED, "xraybridge_file_storage_recovered_documents", XB_METRIC_GAUGE,
           "Documents found undelivered in the durable queue at start-up."),
    FAMILY(XB_WAL_STAT_CORRUPT, "xraybridge_file_storage_corrupt_records_total", XB_METRIC_COUNTER,
           "Damaged or incomplete records found in the durable queue and skipped."),
    FAMILY(XB_WAL_STAT_WRITE_ERRORS, "xraybridge_file_storage_write_errors_total",
           XB_METRIC_COUNTER,
           "Appends or syncs that failed on the disk (ENOSPC, EIO, ...); requests refused."),
};

struct store {
    struct xb_wal *wal;
    struct xb_queue *q; /* NULL once detached */
    char exporter[32];
};

struct xb_file_storage {
    const struct xb_config_file_storage *cfg;
    struct event *sync_ev; /* fsync: false only */
    struct store stores[MAX_STORES];
    size_t n_stores;
    size_t segment_size;
};

static void on_sync(evutil_socket_t fd, short what, void *ud)
{
    struct xb_file_storage *fs = ud;

    (void)fd;
    (void)what;
    for (size_t i = 0; i < fs->n_stores; i++)
        if (fs->stores[i].wal)
            xb_wal_sync(fs->stores[i].wal);
}

static int label_index(const char *exporter)
{
    for (int i = 0; i < EXP_COUNT; i++)
        if (strcmp(exporter_values[i], exporter) == 0)
            return i;
    return -1;
}

int xb_file_storage_start(struct event_base *base, const struct xb_config_file_storage *cfg,
                          struct xb_file_storage **out, char *err, size_t err_len)
{
    struct xb_file_storage *fs;
    struct stat st;

    *out = NULL;
    if (cfg->create_directory && mkdir(cfg->directory, 0750) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "extensions.file_storage.directory: cannot create %s: %s",
                 cfg->directory, strerror(errno));
        return XB_ERR_IO;
    }
    if (stat(cfg->directory, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len,
                 "extensions.file_storage.directory: %s is not a directory%s%s (set "
                 "create_directory: true to create it)",
                 cfg->directory, errno ? ": " : "", errno ? strerror(errno) : "");
        return XB_ERR_IO;
    }
    fs = calloc(1, sizeof(*fs));
    if (!fs)
        return XB_ERR_NOMEM;
    fs->cfg = cfg;
    fs->segment_size = cfg->segment_size;
    if (fs->segment_size > cfg->max_size / MIN_SEGMENTS)
        fs->segment_size = cfg->max_size / MIN_SEGMENTS;
    for (int i = 0; i < XB_WAL_STAT_COUNT; i++)
        xb_metrics_register(&families[i]);
    if (!cfg->fsync) {
        struct timeval tv = {cfg->fsync_interval_ms / 1000, (cfg->fsync_interval_ms % 1000) * 1000};
        fs->sync_ev = event_new(base, -1, EV_PERSIST, on_sync, fs);
        if (!fs->sync_ev || event_add(fs->sync_ev, &tv) != 0) {
            xb_file_storage_free(fs);
            return XB_ERR_NOMEM;
        }
    }
    XB_INFO("file_storage", "durable queues in %s (max_size %zu bytes, fsync %s)", cfg->directory,
            cfg->max_size, cfg->fsync ? "per request" : "by interval");
    *out = fs;
    return XB_OK;
}

int xb_file_storage_attach(struct xb_file_storage *fs, const char *exporter, struct xb_queue *q,
                           char *err, size_t err_len)
{
    struct xb_wal_opts o = {0};
    struct store *s;
    char dir[3900]; /* segment paths add "/<20 digits>.seg" within PATH_MAX */
    int label = label_index(exporter);
    int rc;

    if (fs->n_stores == MAX_STORES)
        return XB_ERR_FULL;
    if (strlen(fs->cfg->directory) + strlen(exporter) + 64 > sizeof(dir)) {
        snprintf(err, err_len, "extensions.file_storage.directory: path too long");
        return XB_ERR_IO;
    }
    s = &fs->stores[fs->n_stores];
    snprintf(s->exporter, sizeof(s->exporter), "%s", exporter);
    snprintf(dir, sizeof(dir), "%s/exporter_%s_traces", fs->cfg->directory, exporter);
    o.dir = dir;
    o.max_size = fs->cfg->max_size;
    o.segment_size = fs->segment_size;
    o.fsync = fs->cfg->fsync;
    o.lock_timeout_ms = fs->cfg->timeout_ms;
    for (int i = 0; i < XB_WAL_STAT_COUNT && label >= 0; i++)
        o.stats[i] = &values[i][label];
    rc = xb_wal_open(&o, &s->wal, err, err_len);
    if (rc)
        return rc;
    s->q = q;
    fs->n_stores++;
    xb_queue_set_wal(q, s->wal, fs->cfg->read_ahead);
    if (xb_wal_recovered(s->wal))
        XB_INFO("file_storage",
                "%s: %zu undelivered documents recovered from %s; sending them first", exporter,
                xb_wal_recovered(s->wal), dir);
    else
        XB_INFO("file_storage", "%s: durable queue in %s", exporter, dir);
    return XB_OK;
}

void xb_file_storage_detach(struct xb_file_storage *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n_stores; i++) {
        struct store *s = &fs->stores[i];
        size_t left;
        if (!s->q)
            continue;
        left = xb_wal_pending(s->wal);
        xb_queue_set_wal(s->q, NULL, 0);
        s->q = NULL;
        if (left)
            XB_INFO("file_storage", "%s: %zu undelivered documents kept on disk for the next start",
                    s->exporter, left);
        xb_wal_close(s->wal);
        s->wal = NULL;
    }
}

void xb_file_storage_free(struct xb_file_storage *fs)
{
    if (!fs)
        return;
    xb_file_storage_detach(fs);
    if (fs->sync_ev)
        event_free(fs->sync_ev);
    free(fs);
}

size_t xb_file_storage_queue_memory(const struct xb_config_file_storage *cfg,
                                    size_t max_document_bytes, size_t in_flight_docs)
{
    size_t doc = sizeof(struct xb_qdoc) + max_document_bytes + 1;

    /* read_ahead may be passed by one document; the read buffer holds one record; the
     * table of handed-out documents is allocated whole. */
    return cfg->read_ahead + doc + in_flight_docs * doc + 2 * (max_document_bytes + 512) +
           (size_t)XB_WAL_MAX_OUTSTANDING * sizeof(uint64_t);
}
