/*
 * app/reload.h - configuration reload without a restart: on request (SIGHUP) and when
 * the configuration file changes (polled: stat() identity and a content hash, so a
 * Kubernetes ConfigMap whose symlink is swapped is seen), the whole file is re-read and
 * validated with xb_config_load_file(). A valid one is handed to the apply callback; an
 * invalid one is logged with its FILE:LINE:COL error and the running one stays.
 * Outcomes are counted in xraybridge_config_reloads_total{result="success|failure"}.
 * docs/sampling.md lists what a reload changes.
 */
#ifndef XB_APP_RELOAD_H
#define XB_APP_RELOAD_H

#include <stdint.h>

#include "config/config.h"

struct event_base;
struct xb_reload;

/* Receives a validated new configuration (borrowed: freed after the call returns, so
 * the callee takes references to what it keeps). */
typedef void (*xb_reload_apply_cb)(void *ud, const struct xb_config *cfg);

/*
 * Watches |path| (copied) every |poll_ms| ms on |base| (0 = no polling, reload on
 * request only). Returns NULL on no memory.
 */
struct xb_reload *xb_reload_new(struct event_base *base, const char *path, uint32_t poll_ms,
                                xb_reload_apply_cb apply, void *ud);

/* Re-reads and applies the file now (SIGHUP), changed or not; |why| names the trigger
 * in the log. Returns XB_OK when applied, else what xb_config_load_file() returned. */
int xb_reload_now(struct xb_reload *r, const char *why);

/*
 * Polls once: when the file's identity or content changed since the last load, reloads.
 * Returns 1 when a reload was attempted, 0 when nothing changed.
 */
int xb_reload_check(struct xb_reload *r);

/* Stops watching and frees |r|. NULL is a no-op. */
void xb_reload_free(struct xb_reload *r);

/* Registers xraybridge_config_reloads_total (called by xb_reload_new). */
void xb_reload_metrics_register(void);

#endif
