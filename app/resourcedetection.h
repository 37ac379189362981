/*
 * app/resourcedetection.h - the resourcedetection processor: resource attributes
 * detected once at start-up and added to every OTLP request's resource by the
 * translator (struct xb_translator_config.extra_resource, translator/translate.h).
 *
 * Detectors and the attributes they set follow the OpenTelemetry Collector's
 * resourcedetectionprocessor (env, ec2, eks, system) and the semantic conventions
 * (cloud.*, host.*, k8s.cluster.name); docs/configuration.md "Resource detection" says
 * what each one reads. An earlier detector wins on the same key. The parsers are pure
 * and unit-tested (tests/unit/app/test_resourcedetection.c); xb_resdet_run() does the
 * I/O (environment, instance metadata service, hostname).
 */
#ifndef XB_APP_RESOURCEDETECTION_H
#define XB_APP_RESOURCEDETECTION_H

#include <stddef.h>

#include "config/config.h"
#include "proto/otlp.h"

/* Most attributes one detection keeps; more are dropped with a warning. */
#define XB_RESDET_MAX_ATTRS 48
/* Longest key or value kept, bytes; longer ones are dropped with a warning. */
#define XB_RESDET_MAX_LEN 1024

/* Detected attributes: string KeyValues, each key once. Owns its strings. */
struct xb_resdet;

/* An empty set. NULL when out of memory. */
struct xb_resdet *xb_resdet_new(void);

/* Frees |r| and its strings. NULL is a no-op. */
void xb_resdet_free(struct xb_resdet *r);

/*
 * Adds |key| = |value| (copied) unless |key| is already present (an earlier detector
 * wins). Returns XB_OK (added or already present), XB_ERR_INVALID (empty key, or key or
 * value longer than XB_RESDET_MAX_LEN), XB_ERR_FULL (XB_RESDET_MAX_ATTRS reached),
 * XB_ERR_NOMEM.
 */
int xb_resdet_add(struct xb_resdet *r, const char *key, const char *value);

/* The value of |key|, or NULL. Borrowed from |r|. */
const char *xb_resdet_get(const struct xb_resdet *r, const char *key);

/* The attributes as KeyValues (borrowed from |r|, valid until it is freed) and their count. */
xb_pb_kv *const *xb_resdet_kvs(const struct xb_resdet *r, size_t *n);

/*
 * The env detector: parses |s| in OTEL_RESOURCE_ATTRIBUTES form ("k1=v1,k2=v2"; spaces
 * around keys and values trimmed, values percent-decoded, per the OpenTelemetry
 * resource SDK specification) into |r|. Malformed entries (no '=', empty key, bad
 * percent escape) are skipped and counted in |*skipped|. Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_resdet_parse_env(struct xb_resdet *r, const char *s, size_t *skipped);

/*
 * The ec2 detector's mapping: the instance identity document |json| (NUL-terminated,
 * from /latest/dynamic/instance-identity/document) and |hostname| (may be NULL) ->
 * cloud.provider=aws, cloud.platform=aws_ec2, cloud.region, cloud.account.id,
 * cloud.availability_zone, host.id, host.type, host.image.id, host.name.
 * Returns XB_OK, XB_ERR_INVALID (not a JSON object with instanceId), XB_ERR_NOMEM.
 */
int xb_resdet_parse_identity(struct xb_resdet *r, const char *json, const char *hostname);

/* The eks detector's mapping: cloud.provider=aws, cloud.platform=aws_eks and, when
 * |cluster| is non-NULL and non-empty, k8s.cluster.name. Returns as xb_resdet_add. */
int xb_resdet_eks(struct xb_resdet *r, const char *cluster);

/*
 * Runs the detectors of |c| in order, all within c->timeout_ms. A detector that finds
 * nothing (metadata service unreachable, not in Kubernetes) logs a warning and the rest
 * go on. Logs the detected attributes. Returns XB_OK with |*out| (free with
 * xb_resdet_free) or XB_ERR_NOMEM.
 */
int xb_resdet_run(const struct xb_config_resourcedetection *c, struct xb_resdet **out);

#endif
