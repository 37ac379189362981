#include "app/ts_app.h"

#include "core/err.h"
#include "core/log.h"

int xb_app_ts_start(struct event_base *base, const struct xb_config *cfg, struct xb_ingest *ing,
                    struct xb_ts **out)
{
    const struct xb_config_tail_sampling *c = &cfg->tail_sampling;
    struct xb_ts_opts o = {
        .decision_wait_ms = c->decision_wait_ms,
        .num_traces = c->num_traces,
        .max_bytes = c->max_bytes,
        .sampled_cache_size = c->sampled_cache_size,
        .non_sampled_cache_size = c->non_sampled_cache_size,
    };

    *out = NULL;
    if (!c->enabled)
        return XB_OK;
    *out = xb_ts_new(base, &o, c->policies, xb_ingest_release, ing);
    if (!*out)
        return XB_ERR_NOMEM;
    xb_ingest_set_tail_sampling(ing, *out);
    XB_INFO("tail_sampling", "%zu policies, decision_wait %u ms, num_traces %zu, max_bytes %zu",
            c->policies->n, c->decision_wait_ms, c->num_traces, c->max_bytes);
    return XB_OK;
}

void xb_app_ts_apply(struct xb_ts *ts, const struct xb_config *running,
                     const struct xb_config *next)
{
    const struct xb_config_tail_sampling *o = &running->tail_sampling, *n = &next->tail_sampling;

    if (!ts) {
        if (n->enabled)
            XB_WARN("reload", "tail_sampling was not running at start-up: restart to enable it");
        return;
    }
    if (!n->enabled) {
        XB_WARN("reload", "tail_sampling removed from the pipeline: takes effect at the next "
                          "restart; the running policies stay");
        return;
    }
    xb_ts_set_policies(ts, n->policies, n->decision_wait_ms);
    XB_INFO("reload", "tail_sampling: %zu policies and decision_wait %u ms in force for new traces",
            n->policies->n, n->decision_wait_ms);
    if (o->num_traces != n->num_traces || o->max_bytes != n->max_bytes ||
        o->sampled_cache_size != n->sampled_cache_size ||
        o->non_sampled_cache_size != n->non_sampled_cache_size)
        XB_WARN("reload", "tail_sampling num_traces, max_bytes and decision_cache changes take "
                          "effect at the next restart");
}
