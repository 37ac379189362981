/*
 * extension/file_storage.h - extensions.file_storage: durable sending queues.
 *
 * The collector's file_storage extension, as used by exporterhelper's persistent queue
 * (sending_queue.storage: file_storage): each exporter that names it gets an on-disk
 * log (core/wal.h) in "<directory>/exporter_<exporter>_traces" behind its queue
 * (xb_queue_set_wal). This module owns the logs, their metrics
 * (xraybridge_file_storage_*, docs/observability.md) and, with fsync: false, the timer
 * that syncs them every fsync_interval. docs/durability.md says what survives what.
 */
#ifndef XB_EXTENSION_FILE_STORAGE_H
#define XB_EXTENSION_FILE_STORAGE_H

#include <event2/event.h>
#include <stddef.h>

#include "config/config.h"
#include "core/queue.h"

struct xb_file_storage;

/*
 * Checks |cfg->directory| (created when create_directory is set) and starts the sync
 * timer when fsync is off. |cfg| is borrowed and must outlive the extension. Returns 0
 * and |*out|; XB_ERR_IO with a message in |err| (|err_len| bytes) when the directory is
 * unusable; XB_ERR_NOMEM.
 */
int xb_file_storage_start(struct event_base *base, const struct xb_config_file_storage *cfg,
                          struct xb_file_storage **out, char *err, size_t err_len);

/*
 * Opens (recovering) the log of exporter |exporter| ("awsxray", "file", ...: a plain
 * name, borrowed) and puts it behind |q| (borrowed) before anything is pushed. Logs how
 * many documents were recovered. Returns 0; XB_ERR_IO (message in |err|) when the log
 * cannot be opened or is locked by another process; XB_ERR_FULL when more than 4
 * queues use the extension; XB_ERR_NOMEM.
 */
int xb_file_storage_attach(struct xb_file_storage *fs, const char *exporter, struct xb_queue *q,
                           char *err, size_t err_len);

/*
 * Detaches every log from its queue, so that documents the exporters release at
 * shutdown without delivering them stay in the log; syncs and closes the logs and
 * logs how many documents are kept for the next start. Call after the last push and
 * before the exporters are freed. NULL is a no-op.
 */
void xb_file_storage_detach(struct xb_file_storage *fs);

/* Detaches (if not done yet) and frees. NULL is a no-op. */
void xb_file_storage_free(struct xb_file_storage *fs);

/* Worst-case memory of one queue backed by file_storage |cfg|, bytes: the read-ahead,
 * the |in_flight_docs| documents (of at most |max_document_bytes|) the exporter can
 * hold while sending, one record being read back and the table of handed-out
 * documents (app/budget.c). */
size_t xb_file_storage_queue_memory(const struct xb_config_file_storage *cfg,
                                    size_t max_document_bytes, size_t in_flight_docs);

#endif
