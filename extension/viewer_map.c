#include "extension/viewer_map.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/jsonw.h"

struct agg {
    uint64_t count, fault, error, throttle;
    double *secs; /* timed durations */
    size_t n_secs, cap_secs;
    int sorted;
};

struct node {
    char *name, *type;
    struct agg in;
};

struct edge {
    size_t from, to;
    struct agg a;
};

struct xb_viewer_map {
    struct node *nodes;
    size_t n_nodes, cap_nodes;
    struct edge *edges;
    size_t n_edges, cap_edges;
};

struct xb_viewer_map *xb_viewer_map_new(void)
{
    return calloc(1, sizeof(struct xb_viewer_map));
}

void xb_viewer_map_free(struct xb_viewer_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_nodes; i++) {
        free(m->nodes[i].name);
        free(m->nodes[i].type);
        free(m->nodes[i].in.secs);
    }
    for (size_t i = 0; i < m->n_edges; i++)
        free(m->edges[i].a.secs);
    free(m->nodes);
    free(m->edges);
    free(m);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 8;
    void *q;

    if (need <= *cap)
        return XB_OK;
    while (n < need)
        n *= 2;
    q = realloc(*p, n * elem);
    if (!q)
        return XB_ERR_NOMEM;
    *p = q;
    *cap = n;
    return XB_OK;
}

/* Index of node (name, type), created when absent; (size_t)-1 on no memory. */
static size_t node_index(struct xb_viewer_map *m, const char *name, const char *type)
{
    struct node *n;

    name = name ? name : "";
    type = type ? type : "";
    for (size_t i = 0; i < m->n_nodes; i++)
        if (strcmp(m->nodes[i].name, name) == 0 && strcmp(m->nodes[i].type, type) == 0)
            return i;
    if (grow((void **)&m->nodes, &m->cap_nodes, m->n_nodes + 1, sizeof(*m->nodes)) != XB_OK)
        return (size_t)-1;
    n = &m->nodes[m->n_nodes];
    memset(n, 0, sizeof(*n));
    n->name = strdup(name);
    n->type = strdup(type);
    if (!n->name || !n->type) {
        free(n->name);
        free(n->type);
        return (size_t)-1;
    }
    return m->n_nodes++;
}

static int agg_add(struct agg *a, const struct xb_viewer_call *c)
{
    if (c->seconds >= 0 && isfinite(c->seconds)) {
        if (grow((void **)&a->secs, &a->cap_secs, a->n_secs + 1, sizeof(double)) != XB_OK)
            return XB_ERR_NOMEM;
        a->secs[a->n_secs++] = c->seconds;
        a->sorted = 0;
    }
    a->count++;
    a->fault += c->fault != 0;
    a->error += c->error != 0;
    a->throttle += c->throttle != 0;
    return XB_OK;
}

int xb_viewer_map_add(struct xb_viewer_map *m, const struct xb_viewer_call *c)
{
    size_t from = node_index(m, c->from_name, c->from_type);
    size_t to = node_index(m, c->to_name, c->to_type);
    struct edge *e = NULL;

    if (from == (size_t)-1 || to == (size_t)-1)
        return XB_ERR_NOMEM;
    for (size_t i = 0; i < m->n_edges && !e; i++)
        if (m->edges[i].from == from && m->edges[i].to == to)
            e = &m->edges[i];
    if (!e) {
        if (grow((void **)&m->edges, &m->cap_edges, m->n_edges + 1, sizeof(*m->edges)) != XB_OK)
            return XB_ERR_NOMEM;
        e = &m->edges[m->n_edges++];
        memset(e, 0, sizeof(*e));
        e->from = from;
        e->to = to;
    }
    if (agg_add(&e->a, c) != XB_OK || agg_add(&m->nodes[to].in, c) != XB_OK)
        return XB_ERR_NOMEM;
    return XB_OK;
}

size_t xb_viewer_map_nodes(const struct xb_viewer_map *m)
{
    return m->n_nodes;
}

size_t xb_viewer_map_edges(const struct xb_viewer_map *m)
{
    return m->n_edges;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void agg_stats(struct agg *a, struct xb_viewer_map_stats *out)
{
    double sum = 0;

    memset(out, 0, sizeof(*out));
    out->count = a->count;
    out->timed = a->n_secs;
    if (a->n_secs) {
        if (!a->sorted) {
            qsort(a->secs, a->n_secs, sizeof(double), cmp_double);
            a->sorted = 1;
        }
        for (size_t i = 0; i < a->n_secs; i++)
            sum += a->secs[i];
        out->avg_seconds = sum / (double)a->n_secs;
        /* Nearest rank: the smallest value with at least 99% of values at or below it. */
        out->p99_seconds = a->secs[(size_t)ceil(0.99 * (double)a->n_secs) - 1];
    }
    if (a->count) {
        out->fault_share = (double)a->fault / (double)a->count;
        out->error_share = (double)a->error / (double)a->count;
        out->throttle_share = (double)a->throttle / (double)a->count;
    }
}

int xb_viewer_map_edge_stats(struct xb_viewer_map *m, const char *from_name, const char *from_type,
                             const char *to_name, const char *to_type,
                             struct xb_viewer_map_stats *out)
{
    for (size_t i = 0; i < m->n_edges; i++) {
        const struct node *f = &m->nodes[m->edges[i].from], *t = &m->nodes[m->edges[i].to];
        if (strcmp(f->name, from_name) == 0 && strcmp(f->type, from_type) == 0 &&
            strcmp(t->name, to_name) == 0 && strcmp(t->type, to_type) == 0) {
            agg_stats(&m->edges[i].a, out);
            return XB_OK;
        }
    }
    return XB_ERR_NOT_FOUND;
}

const char *xb_viewer_map_health(const struct xb_viewer_map_stats *in)
{
    if (in->count == 0)
        return "client";
    if (in->fault_share > 0)
        return "fault";
    if (in->throttle_share > 0)
        return "throttle";
    if (in->error_share > 0)
        return "error";
    return "ok";
}

static void stats_json(struct xb_jsonw *w, const struct xb_viewer_map_stats *s)
{
    xb_jsonw_obj_begin(w);
    xb_jsonw_ckey(w, "count");
    xb_jsonw_uint(w, s->count);
    xb_jsonw_ckey(w, "timed");
    xb_jsonw_uint(w, s->timed);
    xb_jsonw_ckey(w, "avg_ms");
    xb_jsonw_double(w, round(s->avg_seconds * 1e6) / 1e3);
    xb_jsonw_ckey(w, "p99_ms");
    xb_jsonw_double(w, round(s->p99_seconds * 1e6) / 1e3);
    xb_jsonw_ckey(w, "fault_share");
    xb_jsonw_double(w, s->fault_share);
    xb_jsonw_ckey(w, "error_share");
    xb_jsonw_double(w, s->error_share);
    xb_jsonw_ckey(w, "throttle_share");
    xb_jsonw_double(w, s->throttle_share);
    xb_jsonw_obj_end(w);
}

static void node_id(size_t i, char *out, size_t len)
{
    snprintf(out, len, "n%zu", i);
}

int xb_viewer_map_json(struct xb_viewer_map *m, struct xb_buf *out)
{
    struct xb_viewer_map_stats st;
    struct xb_jsonw w;
    char id[32];

    xb_jsonw_init(&w, out);
    xb_jsonw_obj_begin(&w);
    xb_jsonw_ckey(&w, "nodes");
    xb_jsonw_arr_begin(&w);
    for (size_t i = 0; i < m->n_nodes; i++) {
        agg_stats(&m->nodes[i].in, &st);
        xb_jsonw_obj_begin(&w);
        node_id(i, id, sizeof(id));
        xb_jsonw_ckey(&w, "id");
        xb_jsonw_cstr(&w, id);
        xb_jsonw_ckey(&w, "name");
        xb_jsonw_cstr(&w, m->nodes[i].name);
        xb_jsonw_ckey(&w, "type");
        xb_jsonw_cstr(&w, m->nodes[i].type);
        xb_jsonw_ckey(&w, "health");
        xb_jsonw_cstr(&w, xb_viewer_map_health(&st));
        xb_jsonw_ckey(&w, "stats");
        stats_json(&w, &st);
        xb_jsonw_obj_end(&w);
    }
    xb_jsonw_arr_end(&w);
    xb_jsonw_ckey(&w, "edges");
    xb_jsonw_arr_begin(&w);
    for (size_t i = 0; i < m->n_edges; i++) {
        agg_stats(&m->edges[i].a, &st);
        xb_jsonw_obj_begin(&w);
        node_id(m->edges[i].from, id, sizeof(id));
        xb_jsonw_ckey(&w, "from");
        xb_jsonw_cstr(&w, id);
        node_id(m->edges[i].to, id, sizeof(id));
        xb_jsonw_ckey(&w, "to");
        xb_jsonw_cstr(&w, id);
        xb_jsonw_ckey(&w, "stats");
        stats_json(&w, &st);
        xb_jsonw_obj_end(&w);
    }
    xb_jsonw_arr_end(&w);
    xb_jsonw_obj_end(&w);
    return w.err;
}
