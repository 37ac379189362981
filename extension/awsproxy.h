/*
 * extension/awsproxy.h - the X-Ray sampling proxy: a plain-HTTP server on the node
 * (extensions.awsproxy, and receivers.awsxray.proxy_server) that takes the X-Ray API
 * calls SDKs make without credentials (POST /GetSamplingRules, /SamplingTargets, ...;
 * the list is in extension/proxy_policy.h), signs them with SigV4 using the node's
 * credentials (aws/credentials.h) and forwards them to the one configured X-Ray
 * endpoint, whatever Host header the client sent. Request and answer bodies pass
 * through byte for byte. While X-Ray is unreachable, the last good GetSamplingRules
 * answer for the same request body is served instead (counted, logged at most once a
 * minute). Everything runs on the libevent loop: evhttp for the clients, libcurl multi
 * (aws/curl_loop.h) for X-Ray. Decisions are in extension/proxy_policy.h.
 * docs/migration.md ("Sampling rules (proxy)") is the operator's view.
 */
#ifndef XB_EXTENSION_AWSPROXY_H
#define XB_EXTENSION_AWSPROXY_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Which configuration block a proxy comes from: the metric label "component". */
enum xb_awsproxy_component {
    XB_AWSPROXY_EXTENSION = 0, /* extensions.awsproxy: component="awsproxy" */
    XB_AWSPROXY_RECEIVER,      /* receivers.awsxray.proxy_server: component="awsxray" */
    XB_AWSPROXY_COMPONENT_COUNT
};

struct xb_awsproxy;

/*
 * Starts the proxy described by |c| (borrowed for the call) on |base|. The region is
 * |c->region| or resolved as the SDKs do (xb_region_resolve_full: this may block up to
 * about 2 s on EC2 instance metadata; call it at start-up only). Credentials are
 * fetched at the first forwarded call. Returns XB_OK and |*out|; XB_ERR_CONFIG (no
 * region, bad endpoint), XB_ERR_IO (cannot listen), XB_ERR_NOMEM, with a reason in
 * |err| (never a secret).
 */
int xb_awsproxy_start(struct event_base *base, const struct xb_config_awsproxy *c,
                      enum xb_awsproxy_component component, struct xb_awsproxy **out, char *err,
                      size_t err_len);

/* The bound TCP port (host order). */
uint16_t xb_awsproxy_port(const struct xb_awsproxy *p);

/*
 * Shutdown has begun (SIGTERM): calls in flight are answered 503 now, while the event
 * loop still runs to write the answers, and new calls get 503 (Retry-After: 1) until
 * xb_awsproxy_free. NULL is a no-op.
 */
void xb_awsproxy_drain(struct xb_awsproxy *p);

/*
 * Stops listening, aborts calls in flight (their clients get 503), frees |p| and its
 * credentials. NULL is a no-op.
 */
void xb_awsproxy_free(struct xb_awsproxy *p);

/* Registers the proxy's metric families (idempotent; xb_awsproxy_start calls it). */
void xb_awsproxy_metrics_register(void);

#endif
