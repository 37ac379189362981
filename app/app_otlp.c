#include "app/app_otlp.h"

#include <stdio.h>
#include <string.h>

#include "aws/region.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "exporter/lb_exporter.h"
#include "extension/file_storage.h"

int xb_app_otlp_start(struct event_base *base, const struct xb_config *cfg,
                      struct xb_file_storage *fs, struct xb_queue **q, struct xb_otlp_exporter **x,
                      struct xb_otlp_limits *lim, char *err, size_t err_len)
{
    const struct xb_config_otlphttp *c = &cfg->otlphttp;
    struct xb_otlp_opts o = {0};
    struct xb_buf url;
    char region[64] = "", rerr[256];
    int rc = XB_ERR_NOMEM;

    *q = NULL;
    *x = NULL;
    *lim = (struct xb_otlp_limits){XB_OTLP_XRAY_MAX_REQUEST_BYTES, XB_OTLP_XRAY_MAX_SPANS,
                                   XB_OTLP_XRAY_MAX_SPAN_BYTES, 0};
    xb_buf_init(&url, 0);
    if (c->traces_endpoint) {
        rc = xb_buf_puts(&url, c->traces_endpoint);
    } else {
        rc = xb_buf_puts(&url, c->endpoint);
        while (rc == XB_OK && url.len && url.data[url.len - 1] == '/')
            url.data[--url.len] = '\0';
        if (rc == XB_OK)
            rc = xb_buf_puts(&url, "/v1/traces");
    }
    if (rc)
        goto out;
    if (c->authenticator) {
        if (xb_region_resolve_full(cfg->sigv4auth.region, region, sizeof(region), rerr,
                                   sizeof(rerr)) != XB_OK) {
            snprintf(err, err_len, "sigv4auth: no region: %s", rerr);
            rc = XB_ERR_CONFIG;
            goto out;
        }
        o.sign_service = cfg->sigv4auth.service ? cfg->sigv4auth.service : "xray";
        o.sign_region = region;
        o.role_arn = cfg->sigv4auth.role_arn;
        o.role_session_name = cfg->sigv4auth.session_name;
    }
    rc = XB_ERR_NOMEM;
    *q = xb_queue_new(c->queue.max_bytes, c->queue_size ? c->queue_size : c->queue.max_documents);
    if (!*q)
        goto out;
    if (c->queue.storage) {
        /* Before the exporter starts: recovered records are sent first. */
        rc = fs ? xb_file_storage_attach(fs, "otlphttp", *q, err, err_len) : XB_ERR_CONFIG;
        if (rc)
            goto out;
    }
    o.url = url.data;
    o.gzip = strcmp(c->compression, "gzip") == 0;
    o.timeout_ms = c->timeout_ms;
    o.headers = (const char *const *)c->headers;
    o.n_headers = c->n_headers;
    o.num_consumers = c->num_consumers;
    o.batch_max_records = c->queue.batch_max_documents;
    o.batch_timeout_ms = c->queue.batch_timeout_ms;
    o.max_request_bytes = lim->max_request_bytes;
    o.max_spans = lim->max_spans;
    o.retry_enabled = c->retry.enabled;
    o.retry_initial_ms = c->retry.initial_interval_ms;
    o.retry_max_ms = c->retry.max_interval_ms;
    o.retry_max_elapsed_ms = c->retry.max_elapsed_ms;
    o.ca_file = c->ca_file;
    o.insecure_skip_verify = c->insecure_skip_verify;
    rc = xb_otlp_exporter_start(base, *q, &o, x, err, err_len);
out:
    xb_buf_cleanup(&url);
    return rc;
}

int xb_app_lb_start(struct event_base *base, const struct xb_config *cfg, struct xb_queue **q,
                    struct xb_lb_exporter **x, struct xb_otlp_limits *lim, char *err,
                    size_t err_len)
{
    const struct xb_config_loadbalancing *c = &cfg->lb;
    struct xb_lb_opts o = {
        .hostnames = (const char *const *)c->hostnames,
        .n_hostnames = c->n_hostnames,
        .dns_hostname = c->dns_hostname,
        .dns_port = c->dns_port,
        .dns_interval_ms = c->dns_interval_ms,
        .dns_timeout_ms = c->dns_timeout_ms,
        .insecure = c->tls_insecure,
        .gzip = strcmp(c->compression, "gzip") == 0,
        .timeout_ms = c->timeout_ms,
        .batch_max_records = c->queue.batch_max_documents,
        .batch_timeout_ms = c->queue.batch_timeout_ms,
        .retry_enabled = c->retry.enabled,
        .retry_initial_ms = c->retry.initial_interval_ms,
        .retry_max_ms = c->retry.max_interval_ms,
        .retry_max_elapsed_ms = c->retry.max_elapsed_ms,
    };

    *x = NULL;
    *lim = (struct xb_otlp_limits){0, 0, 0, 1};
    *q = xb_queue_new(c->queue.max_bytes, c->queue.max_documents);
    if (!*q)
        return XB_ERR_NOMEM;
    return xb_lb_exporter_start(base, *q, &o, x, err, err_len);
}
