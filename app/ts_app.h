/*
 * app/ts_app.h - wiring of the tail_sampling processor (processor/tail_sampling.h)
 * into the process: start-up from the configuration, and what a configuration reload
 * changes in it (docs/sampling.md, "Reload").
 */
#ifndef XB_APP_TS_APP_H
#define XB_APP_TS_APP_H

#include "config/config.h"
#include "processor/tail_sampling.h"
#include "receiver/ingest.h"

struct event_base;

/*
 * When |cfg| enables tail_sampling, creates the engine on |base| releasing into |ing|
 * and puts it into the ingest path; |*out| = NULL otherwise. Returns XB_OK or
 * XB_ERR_NOMEM.
 */
int xb_app_ts_start(struct event_base *base, const struct xb_config *cfg, struct xb_ingest *ing,
                    struct xb_ts **out);

/*
 * Applies the reloadable part of |next| to the running engine |ts| (NULL: nothing runs;
 * a newly enabled processor needs a restart, which is logged): the policies (with their
 * percentages, thresholds, sample_on_first_match) and decision_wait. Logs the
 * tail_sampling keys that changed but only take effect at a restart (num_traces,
 * max_bytes, decision_cache sizes) compared with |running|.
 */
void xb_app_ts_apply(struct xb_ts *ts, const struct xb_config *running,
                     const struct xb_config *next);

#endif
