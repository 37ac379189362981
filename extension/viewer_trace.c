#define _GNU_SOURCE /* qsort_r */
#include "extension/viewer_trace.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Nesting deeper than this is not walked (X-Ray documents are shallow). */
#define MAX_DEPTH 32
/* Parent links followed at most this far when looking for a subsegment's segment. */
#define MAX_HOPS 64
/* Segments and subsegments read from one trace at most (bounds the scratch memory,
 * docs/viewer.md); the rest are left out of its summary and map. */
#define MAX_ENTRIES 65536

/* One segment or subsegment, top-level document or nested. Strings in the arena. */
struct entry {
    const char *id, *parent_id, *name, *origin, *ns;
    const char *http_method, *http_url;
    int http_status;
    double start, end; /* end < 0 when absent */
    int in_progress, fault, error, throttle;
    int top;        /* a stored document itself, not nested */
    int is_segment; /* top-level and not "type": "subsegment" */
    int sql;        /* has an "sql" block */
    long container; /* nested: index of the enclosing entry; -1 for top-level */
    int linked;     /* a segment names it as parent: its call is that segment's */
    struct xb_viewer_ann *ann;
    size_t n_ann;
};

struct entries {
    struct entry *v;
    size_t n, cap;
    size_t unparsed;
    int truncated; /* MAX_ENTRIES reached */
    struct xb_arena *a;
    int err;
    long *by_id; /* indexes of entries with an id, sorted by id */
    size_t n_by_id;
};

static const char *dup_str(struct entries *es, const char *s)
{
    char *c;

    if (!s)
        return NULL;
    c = xb_arena_strndup(es->a, s, strlen(s));
    if (!c)
        es->err = XB_ERR_NOMEM;
    return c;
}

static const char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double get_num(json_t *o, const char *key, double def)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : def;
}

static int get_bool(json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

static void read_annotations(struct entries *es, struct entry *e, json_t *obj)
{
    json_t *ann = json_object_get(obj, "annotations");
    const char *key;
    json_t *v;
    size_t i = 0;

    if (!json_is_object(ann) || json_object_size(ann) == 0)
        return;
    e->ann = xb_arena_calloc(es->a, json_object_size(ann) * sizeof(*e->ann));
    if (!e->ann) {
        es->err = XB_ERR_NOMEM;
        return;
    }
    json_object_foreach(ann, key, v)
    {
        struct xb_viewer_ann *x = &e->ann[i];
        if (json_is_string(v)) {
            x->type = XB_VIEWER_V_STRING;
            x->str = dup_str(es, json_string_value(v));
        } else if (json_is_number(v)) {
            x->type = XB_VIEWER_V_NUMBER;
            x->num = json_number_value(v);
        } else if (json_is_boolean(v)) {
            x->type = XB_VIEWER_V_BOOL;
            x->boolean = json_is_true(v);
        } else {
            continue;
        }
        x->key = dup_str(es, key);
        i++;
    }
    e->n_ann = i;
}

static void walk(struct entries *es, json_t *obj, int top, long container, int depth)
{
    struct entry *e;
    json_t *http, *subs, *sub;
    size_t idx, i;
    const char *type;

    if (!json_is_object(obj) || depth > MAX_DEPTH || es->err)
        return;
    if (es->n == MAX_ENTRIES) {
        es->truncated = 1;
        return;
    }
    if (es->n == es->cap) {
        size_t cap = es->cap ? es->cap * 2 : 16;
        struct entry *v = realloc(es->v, cap * sizeof(*v));
        if (!v) {
            es->err = XB_ERR_NOMEM;
            return;
        }
        es->v = v;
        es->cap = cap;
    }
    idx = es->n++;
    e = &es->v[idx];
    memset(e, 0, sizeof(*e));
    type = get_str(obj, "type");
    e->top = top;
    e->is_segment = top && !(type && strcmp(type, "subsegment") == 0);
    e->container = container;
    e->id = dup_str(es, get_str(obj, "id"));
    e->parent_id = dup_str(es, get_str(obj, "parent_id"));
    e->name = dup_str(es, get_str(obj, "name"));
    e->origin = dup_str(es, get_str(obj, "origin"));
    e->ns = dup_str(es, get_str(obj, "namespace"));
    e->start = get_num(obj, "start_time", -1);
    e->end = get_num(obj, "end_time", -1);
    e->in_progress = get_bool(obj, "in_progress") || e->end < 0;
    e->fault = get_bool(obj, "fault");
    e->error = get_bool(obj, "error");
    e->throttle = get_bool(obj, "throttle");
    e->sql = json_is_object(json_object_get(obj, "sql"));
    http = json_object_get(obj, "http");
    if (json_is_object(http)) {
        json_t *req = json_object_get(http, "request"), *resp = json_object_get(http, "response");
        if (json_is_object(req)) {
            e->http_method = dup_str(es, get_str(req, "method"));
            e->http_url = dup_str(es, get_str(req, "url"));
        }
        if (json_is_object(resp))
            e->http_status = (int)get_num(resp, "status", 0);
    }
    read_annotations(es, e, obj);
    subs = json_object_get(obj, "subsegments");
    if (json_is_array(subs))
        json_array_foreach(subs, i, sub) walk(es, sub, 0, (long)idx, depth + 1);
}

/* Stored documents with the later ones of a repeated id left out. */
static int cmp_doc(const void *a, const void *b)
{
    const struct xb_viewer_doc *x = *(const struct xb_viewer_doc *const *)a;
    const struct xb_viewer_doc *y = *(const struct xb_viewer_doc *const *)b;
    int c = strcmp(x->id, y->id);

    if (c)
        return c;
    return (x->seq < y->seq) - (x->seq > y->seq); /* newest first */
}

static int cmp_by_id(const void *a, const void *b, void *ud)
{
    const struct entries *es = ud;
    return strcmp(es->v[*(const long *)a].id, es->v[*(const long *)b].id);
}

static int collect(const struct xb_viewer_trace *t, struct xb_arena *a, struct entries *es)
{
    const struct xb_viewer_doc **docs;
    size_t n = 0;

    memset(es, 0, sizeof(*es));
    es->a = a;
    docs = malloc((t->n_docs ? t->n_docs : 1) * sizeof(*docs));
    if (!docs)
        return XB_ERR_NOMEM;
    for (const struct xb_viewer_doc *d = t->head; d; d = d->next)
        docs[n++] = d;
    qsort(docs, n, sizeof(*docs), cmp_doc);
    for (size_t i = 0; i < n && !es->err; i++) {
        json_t *j;
        if (i > 0 && docs[i]->id[0] != '\0' && strcmp(docs[i]->id, docs[i - 1]->id) == 0)
            continue; /* an older copy of the same segment */
        j = json_loadb(docs[i]->json, docs[i]->len, 0, NULL);
        if (!json_is_object(j))
            es->unparsed++;
        else
            walk(es, j, 1, -1, 0);
        json_decref(j);
    }
    free(docs);
    if (es->err)
        return es->err;
    es->by_id = malloc((es->n ? es->n : 1) * sizeof(long));
    if (!es->by_id)
        return XB_ERR_NOMEM;
    for (size_t i = 0; i < es->n; i++)
        if (es->v[i].id)
            es->by_id[es->n_by_id++] = (long)i;
    qsort_r(es->by_id, es->n_by_id, sizeof(long), cmp_by_id, es);
    return XB_OK;
}

static void entries_free(struct entries *es)
{
    free(es->v);
    free(es->by_id);
}

static long find_id(const struct entries *es, const char *id)
{
    size_t lo = 0, hi = es->n_by_id;

    while (id && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(es->v[es->by_id[mid]].id, id);
        if (c == 0)
            return es->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The segment entry that |i| belongs to, or -1. */
static long owner_segment(const struct entries *es, long i)
{
    for (int hops = 0; i >= 0 && hops < MAX_HOPS; hops++) {
        const struct entry *e = &es->v[i];
        if (e->is_segment)
            return i;
        i = e->top ? find_id(es, e->parent_id) : e->container;
    }
    return -1;
}

int xb_viewer_summarize(const struct xb_viewer_trace *t, struct xb_arena *a,
                        struct xb_viewer_summary *out)
{
    struct entries es;
    const char **services;
    struct xb_viewer_ann *ann;
    long root = -1;
    size_t n_ann = 0, k = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    out->trace_id = t->trace_id;
    out->documents = t->n_docs;
    out->root_name = "";
    out->start = -1;
    out->end = -1;
    out->facts.responsetime = -1;
    out->facts.duration = -1;
    rc = collect(t, a, &es);
    if (rc)
        goto out;
    out->unparsed = es.unparsed;
    out->truncated = es.truncated;
    services = xb_arena_calloc(a, (es.n ? es.n : 1) * sizeof(*services));
    if (!services) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < es.n; i++) {
        const struct entry *e = &es.v[i];
        out->facts.fault |= e->fault;
        out->facts.error |= e->error;
        out->facts.throttle |= e->throttle;
        n_ann += e->n_ann;
        if (!e->top)
            continue;
        out->segments++;
        out->in_progress |= e->in_progress;
        if (e->start >= 0 && (out->start < 0 || e->start < out->start))
            out->start = e->start;
        if (e->end > out->end)
            out->end = e->end;
        if (e->is_segment && e->name) {
            size_t j = 0;
            while (j < out->facts.n_services && strcmp(services[j], e->name) != 0)
                j++;
            if (j == out->facts.n_services)
                services[out->facts.n_services++] = e->name;
        }
        /* Root: a segment without parent, else any segment, else any document;
         * the earliest of its kind. */
        if (root < 0) {
            root = (long)i;
        } else {
            const struct entry *r = &es.v[root];
            int rank_e = e->is_segment * 2 + (e->is_segment && !e->parent_id);
            int rank_r = r->is_segment * 2 + (r->is_segment && !r->parent_id);
            if (rank_e > rank_r || (rank_e == rank_r && e->start < r->start))
                root = (long)i;
        }
    }
    out->facts.services = services;
    ann = xb_arena_calloc(a, (n_ann ? n_ann : 1) * sizeof(*ann));
    if (!ann) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < es.n; i++)
        for (size_t j = 0; j < es.v[i].n_ann; j++)
            ann[k++] = es.v[i].ann[j];
    out->facts.ann = ann;
    out->facts.n_ann = k;
    if (root >= 0) {
        const struct entry *r = &es.v[root];
        out->root_name = r->name ? r->name : "";
        out->root_origin = r->origin;
        out->facts.http_method = r->http_method;
        out->facts.http_url = r->http_url;
        out->facts.http_status = r->http_status;
        if (!r->in_progress && r->start >= 0)
            out->facts.responsetime = r->end - r->start;
    }
    if (!out->in_progress && out->start >= 0 && out->end >= out->start)
        out->facts.duration = out->end - out->start;
out:
    entries_free(&es);
    return rc;
}

void xb_viewer_summary_json(const struct xb_viewer_summary *s, struct xb_jsonw *w)
{
    xb_jsonw_obj_begin(w);
    xb_jsonw_ckey(w, "trace_id");
    xb_jsonw_cstr(w, s->trace_id);
    xb_jsonw_ckey(w, "root");
    xb_jsonw_obj_begin(w);
    xb_jsonw_ckey(w, "name");
    xb_jsonw_cstr(w, s->root_name);
    if (s->root_origin) {
        xb_jsonw_ckey(w, "origin");
        xb_jsonw_cstr(w, s->root_origin);
    }
    if (s->facts.http_method) {
        xb_jsonw_ckey(w, "method");
        xb_jsonw_cstr(w, s->facts.http_method);
    }
    if (s->facts.http_url) {
        xb_jsonw_ckey(w, "url");
        xb_jsonw_cstr(w, s->facts.http_url);
    }
    if (s->facts.http_status) {
        xb_jsonw_ckey(w, "status");
        xb_jsonw_int(w, s->facts.http_status);
    }
    xb_jsonw_obj_end(w);
    xb_jsonw_ckey(w, "start");
    if (s->start >= 0)
        xb_jsonw_double(w, s->start);
    else
        xb_jsonw_null(w);
    xb_jsonw_ckey(w, "duration");
    if (s->facts.duration >= 0)
        xb_jsonw_double(w, s->facts.duration);
    else
        xb_jsonw_null(w);
    xb_jsonw_ckey(w, "responsetime");
    if (s->facts.responsetime >= 0)
        xb_jsonw_double(w, s->facts.responsetime);
    else
        xb_jsonw_null(w);
    xb_jsonw_ckey(w, "in_progress");
    xb_jsonw_bool(w, s->in_progress);
    xb_jsonw_ckey(w, "fault");
    xb_jsonw_bool(w, s->facts.fault);
    xb_jsonw_ckey(w, "error");
    xb_jsonw_bool(w, s->facts.error);
    xb_jsonw_ckey(w, "throttle");
    xb_jsonw_bool(w, s->facts.throttle);
    if (s->truncated) {
        xb_jsonw_ckey(w, "truncated");
        xb_jsonw_bool(w, 1);
    }
    xb_jsonw_ckey(w, "segments");
    xb_jsonw_uint(w, s->segments);
    xb_jsonw_ckey(w, "documents");
    xb_jsonw_uint(w, s->documents);
    xb_jsonw_ckey(w, "services");
    xb_jsonw_arr_begin(w);
    for (size_t i = 0; i < s->facts.n_services; i++)
        xb_jsonw_cstr(w, s->facts.services[i]);
    xb_jsonw_arr_end(w);
    xb_jsonw_obj_end(w);
}

static double seconds_of(const struct entry *e)
{
    return (!e->in_progress && e->start >= 0 && e->end >= e->start) ? e->end - e->start : -1;
}

static const char *service_type(const struct entry *e)
{
    return e->origin ? e->origin : "service";
}

int xb_viewer_trace_calls(const struct xb_viewer_trace *t, struct xb_arena *a,
                          struct xb_viewer_map *m)
{
    struct entries es;
    int rc = collect(t, a, &es);

    for (size_t i = 0; i < es.n && rc == XB_OK; i++) {
        struct entry *e = &es.v[i];
        struct xb_viewer_call c = {.to_name = e->name ? e->name : "",
                                   .to_type = service_type(e),
                                   .from_name = "client",
                                   .from_type = "client",
                                   .seconds = seconds_of(e),
                                   .fault = e->fault,
                                   .error = e->error,
                                   .throttle = e->throttle};
        long p, caller;

        if (!e->is_segment)
            continue;
        if (e->parent_id) {
            p = find_id(&es, e->parent_id);
            caller = p >= 0 ? owner_segment(&es, p) : -1;
            if (p >= 0)
                es.v[p].linked = 1;
            if (caller >= 0) {
                c.from_name = es.v[caller].name ? es.v[caller].name : "";
                c.from_type = service_type(&es.v[caller]);
            }
        }
        rc = xb_viewer_map_add(m, &c);
    }
    for (size_t i = 0; i < es.n && rc == XB_OK; i++) {
        const struct entry *e = &es.v[i];
        int is_aws = e->ns && strcmp(e->ns, "aws") == 0;
        int is_remote = e->ns && strcmp(e->ns, "remote") == 0;
        long owner;

        if (e->is_segment || e->linked || !(is_aws || is_remote || e->sql))
            continue;
        owner = owner_segment(&es, (long)i);
        if (owner < 0)
            continue;
        struct xb_viewer_call c = {.from_name = es.v[owner].name ? es.v[owner].name : "",
                                   .from_type = service_type(&es.v[owner]),
                                   .to_name = e->name ? e->name : "",
                                   .to_type = e->sql   ? "database"
                                              : is_aws ? "aws"
                                                       : "remote",
                                   .seconds = seconds_of(e),
                                   .fault = e->fault,
                                   .error = e->error,
                                   .throttle = e->throttle};
        rc = xb_viewer_map_add(m, &c);
    }
    entries_free(&es);
    return rc;
}

int xb_viewer_trace_json(const struct xb_viewer_trace *t, struct xb_buf *out)
{
    int rc = 0, first = 1;

    rc |= xb_buf_puts(out, "{\"trace_id\":\"");
    rc |= xb_jsonw_escape(out, t->trace_id, strlen(t->trace_id));
    rc |= xb_buf_puts(out, "\",\"documents\":[");
    for (const struct xb_viewer_doc *d = t->head; d; d = d->next) {
        json_t *j = json_loadb(d->json, d->len, 0, NULL);
        if (j) {
            rc |= xb_buf_puts(out, first ? "" : ",");
            rc |= xb_buf_append(out, d->json, d->len);
            first = 0;
        }
        json_decref(j);
    }
    rc |= xb_buf_puts(out, "],\"unparsed\":[");
    first = 1;
    for (const struct xb_viewer_doc *d = t->head; d; d = d->next) {
        json_t *j = json_loadb(d->json, d->len, 0, NULL);
        if (!j) {
            rc |= xb_buf_puts(out, first ? "\"" : ",\"");
            rc |= xb_jsonw_escape(out, d->json, d->len);
            rc |= xb_buf_putc(out, '"');
            first = 0;
        }
        json_decref(j);
    }
    rc |= xb_buf_puts(out, "]}");
    return rc ? XB_ERR_NOMEM : XB_OK;
}
