/*
 * config/tail_sampling_config.h - processors.tail_sampling.policies: the YAML list of
 * policies (the OpenTelemetry Collector's tail_sampling shape, docs/sampling.md) into a
 * prepared struct xb_ts_policy_set (processor/ts_policy.h).
 */
#ifndef XB_CONFIG_TAIL_SAMPLING_CONFIG_H
#define XB_CONFIG_TAIL_SAMPLING_CONFIG_H

#include <stddef.h>
#include <yaml.h>

#include "processor/ts_policy.h"

/*
 * Parses the sequence |node| of document |doc| (both borrowed) found at dotted |path|
 * of |source| into a new policy set (refs = 1; sample_on_first_match left 0) stored in
 * |*out|, replacing and releasing a previous one. Returns 0; XB_ERR_CONFIG with
 * "SOURCE:LINE:COL: path: reason" in |errbuf| (|errlen| bytes) for unknown keys, wrong
 * types, out-of-range values, duplicate names, bad regexes; or XB_ERR_NOMEM.
 */
int xb_ts_config_policies(yaml_document_t *doc, yaml_node_t *node, const char *source,
                          const char *path, struct xb_ts_policy_set **out, char *errbuf,
                          size_t errlen);

#endif
