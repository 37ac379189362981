/*
 * exporter/file_exporter.h - writes X-Ray segment documents to a file, one JSON
 * document per line (JSON Lines), flushed after every batch. "-" writes to stdout.
 * Needs no AWS account: it is the embedded default exporter.
 */
#ifndef XB_EXPORTER_FILE_EXPORTER_H
#define XB_EXPORTER_FILE_EXPORTER_H

#include <event2/event.h>
#include <stdint.h>

#include "core/queue.h"

struct xb_file_exporter;

/*
 * Opens |path| for appending and starts consuming |q| (borrowed) in batches of up to
 * |batch_max_docs| or every |batch_timeout_ms|. Returns 0 and sets |*out|; XB_ERR_IO
 * (cannot open: reason in |err|); XB_ERR_NOMEM.
 */
int xb_file_exporter_start(struct event_base *base, struct xb_queue *q, const char *path,
                           uint32_t batch_max_docs, uint32_t batch_timeout_ms,
                           struct xb_file_exporter **out, char *err, size_t err_len);

/* Writes everything still queued without waiting for batch timers. */
void xb_file_exporter_drain(struct xb_file_exporter *fe);

/* Closes the file and frees the exporter. NULL is a no-op. */
void xb_file_exporter_free(struct xb_file_exporter *fe);

#endif
