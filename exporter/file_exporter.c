#include "exporter/file_exporter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "exporter/batcher.h"
#include "exporter/exporter_metrics.h"

struct xb_file_exporter {
    FILE *f;
    int is_stdout;
    struct xb_queue *q;
    struct xb_batcher batcher;
};

/* Writes up to one batch; reschedules itself while more is waiting. */
static void flush(void *ud)
{
    struct xb_file_exporter *fe = ud;
    struct xb_qdoc *d;
    uint32_t n = 0;
    int failed = 0;

    while (n < fe->batcher.max_docs && (d = xb_queue_pop(fe->q)) != NULL) {
        if (!failed && (fwrite(d->json, 1, d->len, fe->f) != d->len || fputc('\n', fe->f) == EOF))
            failed = errno ? errno : EIO;
        if (failed)
            xb_exporter_metrics.send_failed_documents[XB_EXPORTER_FILE]++;
        else
            xb_exporter_metrics.sent_documents[XB_EXPORTER_FILE]++;
        xb_queue_done(fe->q, d);
        n++;
    }
    if (fflush(fe->f) != 0 && !failed)
        failed = errno;
    if (failed)
        XB_ERROR("file", "write failed: %s (documents counted as send_failed)", strerror(failed));
    xb_batcher_kick(&fe->batcher);
}

int xb_file_exporter_start(struct event_base *base, struct xb_queue *q, const char *path,
                           uint32_t batch_max_docs, uint32_t batch_timeout_ms,
                           struct xb_file_exporter **out, char *err, size_t err_len)
{
    struct xb_file_exporter *fe = calloc(1, sizeof(*fe));
    int rc;

    if (!fe)
        return XB_ERR_NOMEM;
    fe->q = q;
    if (strcmp(path, "-") == 0) {
        fe->f = stdout;
        fe->is_stdout = 1;
    } else {
        fe->f = fopen(path, "ae");
    }
    if (!fe->f) {
        snprintf(err, err_len, "file exporter: cannot open %s: %s", path, strerror(errno));
        free(fe);
        return XB_ERR_IO;
    }
    rc = xb_batcher_init(&fe->batcher, base, q, batch_max_docs, batch_timeout_ms, flush, fe);
    if (rc) {
        xb_file_exporter_free(fe);
        return rc;
    }
    XB_INFO("file", "file exporter writing segment documents to %s",
            fe->is_stdout ? "stdout" : path);
    *out = fe;
    return XB_OK;
}

void xb_file_exporter_drain(struct xb_file_exporter *fe)
{
    if (fe)
        xb_batcher_drain(&fe->batcher);
}

void xb_file_exporter_free(struct xb_file_exporter *fe)
{
    if (!fe)
        return;
    xb_batcher_cleanup(&fe->batcher);
    if (fe->f && !fe->is_stdout)
        fclose(fe->f);
    else if (fe->f)
        fflush(fe->f);
    free(fe);
}
