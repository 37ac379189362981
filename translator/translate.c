/*
 * translator/translate.c - the per-span pipeline (awsxrayexporter order), local roots,
 * naming, namespace, the size cap, and request iteration. See translate.h and
 * docs/translation.md.
 */
#include "translator/translate.h"

#include <string.h>

#include "core/err.h"
#include "translator/attrs.h"
#include "translator/aws.h"
#include "translator/cause.h"
#include "translator/doc.h"
#include "translator/http.h"
#include "translator/ids.h"
#include "translator/meta.h"
#include "translator/name.h"
#include "translator/sql.h"

void xb_translator_config_defaults(struct xb_translator_config *cfg)
{
    *cfg = (struct xb_translator_config){0};
    cfg->allow_dot_in_annotation_keys = 1;
    cfg->skip_timestamp_validation = 1;
    cfg->max_document_bytes = XB_XRAY_MAX_DOC_BYTES;
}

/* ------------------------------------------------------------------ naming */

static struct xb_str cs(const char *s)
{
    struct xb_str r = {s, s ? strlen(s) : 0};
    return r;
}

static int starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static int is_scheme_char(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/*
 * Hostname of a connection string parsed like Go's url.Parse + URL.Hostname(): needs
 * "scheme://authority"; userinfo and a numeric port are removed, IPv6 brackets stripped.
 * Returns 0 when there is no hostname (or the URL would not parse).
 */
static int url_hostname(const char *s, struct xb_str *host)
{
    size_t i = 0, n = strcspn(s, "#"), a, e, at, k;
    const char *h;
    size_t hn;

    n = strcspn(s, "?#") < n ? strcspn(s, "?#") : n;
    while (i < n && is_scheme_char(s[i], i == 0))
        i++;
    if (i == 0 || i >= n || s[i] != ':')
        return 0;
    if (i + 2 >= n + 1 || s[i + 1] != '/' || s[i + 2] != '/')
        return 0;
    a = i + 3;
    e = a;
    while (e < n && s[e] != '/')
        e++;
    at = a;
    for (k = a; k < e; k++)
        if (s[k] == '@')
            at = k + 1;
    h = s + at;
    hn = e - at;
    if (hn && h[0] == '[') {
        const char *rb = memchr(h, ']', hn);
        if (!rb)
            return 0;
        for (k = (size_t)(rb - h) + 1; k < hn; k++)
            if (!(k == (size_t)(rb - h) + 1 ? h[k] == ':' : (h[k] >= '0' && h[k] <= '9')))
                return 0;
        host->p = h + 1;
        host->n = (size_t)(rb - h) - 1;
        return host->n > 0;
    }
    for (k = hn; k > 0; k--) {
        if (h[k - 1] == ':') {
            size_t d;
            for (d = k; d < hn; d++)
                if (h[d] < '0' || h[d] > '9')
                    return 0; /* invalid port: url.Parse fails */
            hn = k - 1;
            break;
        }
    }
    host->p = h;
    host->n = hn;
    return hn > 0;
}

/* String of the span attribute |key| (original attributes), or NULL when absent. */
static const char *orig(const struct xb_tr_attrs *a, enum xb_tr_key key)
{
    const xb_pb_any *v = xb_tr_attrs_val_k(a, key);
    return v ? xb_tr_any_str(v) : NULL;
}

static int is_dependency_kind(int kind)
{
    return kind == XB_KIND_CLIENT || kind == XB_KIND_PRODUCER || kind == XB_KIND_CONSUMER;
}

static const char *trim_sdk_prefix(const char *name, int aws_sdk)
{
    if (aws_sdk && starts_with(name, "AWS.SDK."))
        return name + 8;
    if (aws_sdk && starts_with(name, "AWS::"))
        return name + 5;
    return name;
}

/* Segment name and namespace (docs/translation.md, "Fields"). Returns XB_OK or XB_ERR_NOMEM. */
static int name_and_namespace(const struct xb_tr_attrs *a, const struct xb_tr_attrs *res,
                              const xb_pb_span *span, int aws_sdk, int new_semconv,
                              struct xb_arena *arena, struct xb_tr_xdoc *d)
{
    int kind = span->kind, from_aws_service = 0;
    const char *name = "", *v;
    char *buf;

    if (kind == XB_KIND_SERVER && (v = orig(a, XB_TK_AWS_LOCAL_SERVICE)))
        name = v;
    if (!*name && kind == XB_KIND_INTERNAL && (v = orig(a, XB_TK_AWS_SPAN_KIND)) &&
        strcmp(v, "LOCAL_ROOT") == 0 && (v = orig(a, XB_TK_AWS_LOCAL_SERVICE)))
        name = v;
    if (!*name && is_dependency_kind(kind) && (v = orig(a, XB_TK_AWS_REMOTE_SERVICE)))
        name = trim_sdk_prefix(v, aws_sdk);
    if (!*name && (v = orig(a, XB_TK_PEER_SERVICE)))
        name = v;
    if (!*name && (v = orig(a, XB_TK_AWS_SERVICE))) {
        name = v;
        from_aws_service = 1;
    }
    if (!*name &&
        ((v = orig(a, XB_TK_DB_NAME)) || (new_semconv && (v = orig(a, XB_TK_DB_NAMESPACE))))) {
        const char *conn = orig(a, XB_TK_DB_CONNECTION_STRING);
        struct xb_str host;
        name = v;
        if (conn) {
            if (starts_with(conn, "jdbc:"))
                conn += 5;
            if (url_hostname(conn, &host)) {
                size_t n = strlen(v);
                buf = xb_arena_alloc(arena, n + 1 + host.n + 1);
                if (!buf)
                    return XB_ERR_NOMEM;
                memcpy(buf, v, n);
                buf[n] = '@';
                memcpy(buf + n + 1, host.p, host.n);
                buf[n + 1 + host.n] = '\0';
                name = buf;
            }
        }
    }
    if (!*name && kind == XB_KIND_SERVER &&
        (v = xb_tr_any_str(xb_tr_attrs_val_k(res, XB_TK_SERVICE_NAME))))
        name = v;
    if (!*name && (v = orig(a, XB_TK_RPC_SERVICE)))
        name = v;
    if (!*name && (v = orig(a, XB_TK_HTTP_HOST)))
        name = v;
    if (!*name && (v = orig(a, XB_TK_NET_PEER_NAME)))
        name = v;
    if (!*name && new_semconv && (kind == XB_KIND_PRODUCER || kind == XB_KIND_CONSUMER) &&
        (v = orig(a, XB_TK_MESSAGING_DESTINATION_NAME)))
        name = v;
    if (*name) {
        d->name = cs(name);
    } else {
        const char *sn = span->name ? span->name : "";
        size_t n = strlen(sn);
        buf = xb_arena_alloc(arena, n + 5);
        if (!buf)
            return XB_ERR_NOMEM;
        d->name.n = xb_tr_name_sanitize(sn, n, buf);
        d->name.p = buf;
    }
    if (aws_sdk || from_aws_service)
        d->namespace_ = "aws";
    else if (kind == XB_KIND_CLIENT || kind == XB_KIND_PRODUCER)
        d->namespace_ = "remote"; /* PRODUCER since v0.141 */
    return XB_OK;
}

/* ------------------------------------------------------------------ one document */

/* What every span of one ResourceSpans shares, built once (res_state_init). */
struct res_state {
    const xb_pb_resource *resource; /* with cfg->extra_resource merged */
    struct xb_tr_attrs idx;
    struct xb_tr_aws_res aws;
    struct xb_tr_res_meta meta; /* built by the first segment that stores the resource */
};

struct ctx {
    const struct xb_translator_config *cfg;
    const xb_pb_resource *resource;
    struct res_state *rs;
    const struct xb_tr_attrs *res; /* &rs->idx */
    int64_t now;
    struct xb_arena *arena;
    const char **err_desc;
};

/* How this document sees the span (local roots translate a modified copy). */
struct span_view {
    const xb_pb_span *span;
    const uint8_t *span_id;   /* 8 bytes */
    const uint8_t *parent_id; /* 8 bytes, or NULL for none */
    int hide_remote;          /* delete aws.remote.* / remoteTarget / K8s.RemoteNamespace */
};

static const enum xb_tr_key remote_keys[] = {XB_TK_AWS_REMOTE_SERVICE, XB_TK_AWS_REMOTE_OPERATION,
                                             XB_TK_REMOTE_TARGET, XB_TK_K8S_REMOTE_NAMESPACE};

/* Fills |d| from the span seen through |v|; |attrs| is the span's fresh index (this
 * document's blocks mark entries consumed). */
static int build_doc(struct ctx *c, const struct span_view *v, struct xb_tr_attrs *attrs,
                     struct xb_tr_xdoc *d)
{
    const xb_pb_span *span = v->span;
    struct xb_tr_idgen ids = {span->trace_id.data, span->span_id.data, 0};
    const struct xb_translator_config *cfg = c->cfg;
    struct xb_tr_attr *in_progress;
    int aws_sdk, rc;
    size_t i, k;

    memset(d, 0, sizeof(*d));
    if (v->hide_remote)
        for (i = 0; i < sizeof(remote_keys) / sizeof(remote_keys[0]); i++)
            xb_tr_attrs_hide_k(attrs, remote_keys[i]);
    aws_sdk = strcmp(xb_tr_any_str(xb_tr_attrs_val_k(attrs, XB_TK_RPC_SYSTEM)), "aws-api") == 0;

    /* 1-3: kind of document, ids, times. CONSUMER spans are segments since v0.141. */
    d->subsegment = span->kind != XB_KIND_SERVER && span->kind != XB_KIND_CONSUMER && v->parent_id;
    xb_tr_ids_hex(v->span_id, 8, d->id);
    if (v->parent_id)
        xb_tr_ids_hex(v->parent_id, 8, d->parent_id);
    xb_tr_ids_xray_trace_id(span->trace_id.data, d->trace_id);
    if (!cfg->skip_timestamp_validation && !xb_tr_ids_time_ok(span->trace_id.data, c->now)) {
        *c->err_desc = "invalid xray traceid: timestamp outside the 28-day/5-minute window";
        rc = XB_ERR_INVALID;
        goto out;
    }
    d->start_time = (double)span->start_time_unix_nano / 1e9;
    d->end_time = (double)span->end_time_unix_nano / 1e9;
    /* A bool aws.xray.inprogress is removed before any block sees it (v0.141); true means
     * "in_progress": true and no end_time. Hidden in this document's index only: the
     * request itself is never modified. */
    in_progress = xb_tr_attrs_k(attrs, XB_TK_AWS_XRAY_INPROGRESS);
    if (in_progress && xb_tr_any_type(in_progress->val) == XB_ANY_BOOL) {
        d->in_progress = in_progress->val->bool_value != 0;
        xb_tr_attrs_hide_k(attrs, XB_TK_AWS_XRAY_INPROGRESS);
    }

    /* 4-9: blocks, each consuming what it understands */
    rc = xb_tr_http_build(attrs, span, cfg->read_new_semantic_conventions, c->arena, &d->http);
    if (rc == XB_OK)
        rc = xb_tr_cause_build(attrs, span, c->res, c->arena, &ids, d);
    if (rc)
        goto out;
    d->origin = c->rs->aws.origin;
    rc = xb_tr_aws_build(attrs, &c->rs->aws, cfg, c->arena, &d->aws);
    if (rc)
        goto out;
    d->has_service = c->rs->aws.has_service;
    d->service_version = c->rs->aws.service_version;
    rc = xb_tr_sql_build(attrs, span, cfg->read_new_semantic_conventions, c->arena, &d->sql);
    if (rc)
        goto out;

    /* 10: indexed keys consumed above come back so they can still be annotated */
    for (i = 0; i < cfg->n_indexed_attributes; i++) {
        struct xb_tr_attr *e;
        if (cfg->indexed_attributes[i] && (e = xb_tr_attrs_get(attrs, cfg->indexed_attributes[i])))
            e->consumed = 0;
    }

    /* 11: user, annotations, metadata */
    if (!d->subsegment && !c->rs->meta.ready) {
        rc = xb_tr_meta_resource(c->resource, cfg, c->arena, &c->rs->meta);
        if (rc)
            goto out;
    }
    rc = xb_tr_meta_build(attrs, c->resource, !d->subsegment, &c->rs->meta, cfg, c->arena, d);
    if (rc)
        goto out;

    /* 12: links */
    for (k = 0; k < span->n_links; k++) {
        const xb_pb_link *l = span->links[k];
        if (!l || l->trace_id.len != 16 || (l->span_id.len != 8 && l->span_id.len != 0)) {
            *c->err_desc = "invalid span link id";
            rc = XB_ERR_INVALID;
            goto out;
        }
        if (!cfg->skip_timestamp_validation && !xb_tr_ids_time_ok(l->trace_id.data, c->now)) {
            *c->err_desc = "invalid xray traceid in span link";
            rc = XB_ERR_INVALID;
            goto out;
        }
    }
    d->links = span->links;
    d->n_links = span->n_links;

    /* 13: name and namespace from the original attributes */
    rc = name_and_namespace(attrs, c->res, span, aws_sdk, cfg->read_new_semantic_conventions,
                            c->arena, d);
out:
    return rc;
}

/* ------------------------------------------------------------------ size cap */

static const struct {
    int drop;
    size_t max_str, max_items;
} trim_levels[] = {
    {0, 0, 0}, {1, 0, 0}, {1, 8192, 1000}, {1, 1024, 100}, {1, 256, 25}, {1, 64, 8}, {1, 16, 2},
};
#define N_LEVELS (sizeof(trim_levels) / sizeof(trim_levels[0]))

/*
 * Renders |d| into |out| at the first trimming level >= |*level| whose output fits the
 * cap; *|level| receives it. Returns XB_OK, XB_ERR_NOMEM or XB_ERR_TOO_LARGE (no level
 * fits).
 */
static int render(struct ctx *c, const struct xb_tr_xdoc *d, struct xb_buf *out, size_t *level,
                  size_t *original)
{
    size_t cap = c->cfg->max_document_bytes ? c->cfg->max_document_bytes : XB_XRAY_MAX_DOC_BYTES;
    size_t lv, written = 0;
    int rc = XB_ERR_TOO_LARGE;

    for (lv = *level; lv < N_LEVELS; lv++) {
        struct xb_tr_doc_wopts o = {0};
        o.drop_metadata = trim_levels[lv].drop;
        o.max_str = trim_levels[lv].max_str;
        o.max_items = trim_levels[lv].max_items;
        o.original_bytes = *original;
        o.limit = lv == 0 ? 0 : cap;
        o.embedded = c->cfg->embedded_documents;
        xb_buf_clear(out);
        rc = xb_tr_doc_write(d, &o, out, c->arena, &written);
        if (lv == 0)
            *original = written;
        /* |written| counts the plain document in both forms (out->len in plain form) */
        if (rc == XB_OK && written <= cap) {
            *level = lv;
            goto out;
        }
        if (rc == XB_ERR_NOMEM)
            goto out;
        rc = XB_ERR_TOO_LARGE;
    }
out:
    return rc;
}

/* ------------------------------------------------------------------ spans */

/* Builds |rs| for |resource| (already merged with cfg->extra_resource; may be NULL).
 * Returns XB_OK or XB_ERR_NOMEM. */
static int res_state_init(const struct xb_translator_config *cfg, const xb_pb_resource *resource,
                          struct xb_arena *arena, struct res_state *rs)
{
    int rc;

    rs->resource = resource;
    xb_tr_res_meta_init(&rs->meta);
    rc = xb_tr_attrs_index(&rs->idx, arena, resource ? resource->attributes : NULL,
                           resource ? resource->n_attributes : 0);
    if (rc == XB_OK)
        rc = xb_tr_aws_resource(&rs->idx, cfg, arena, &rs->aws);
    return rc;
}

static int translate_one(const struct xb_translator_config *cfg, struct res_state *rs,
                         const xb_pb_span *span, int64_t now_unix_s, struct xb_arena *arena,
                         struct xb_buf *out, xb_translate_emit_cb emit, void *ud,
                         const char **err_desc, size_t *docs, size_t *trimmed)
{
    static const char *ignored;
    struct ctx c;
    struct xb_tr_attrs attrs1, attrs2;
    struct xb_tr_xdoc d1, d2;
    struct span_view v1 = {0}, v2 = {0};
    const uint8_t *parent = NULL;
    uint8_t sbytes[8];
    size_t lv1 = 0, lv2 = 0, orig1 = 0, orig2 = 0, i;
    int rc, local_root, two_docs = 0;

    if (!err_desc)
        err_desc = &ignored;
    *err_desc = NULL;
    if (!cfg || !span || !out || !arena) {
        *err_desc = "missing argument";
        rc = XB_ERR_INVALID;
        goto out;
    }
    if (!xb_tr_ids_valid(span->trace_id.data, span->trace_id.len, 16)) {
        *err_desc = "invalid trace id (must be 16 bytes, not all zero)";
        rc = XB_ERR_INVALID;
        goto out;
    }
    if (!xb_tr_ids_valid(span->span_id.data, span->span_id.len, 8)) {
        *err_desc = "invalid span id (must be 8 bytes, not all zero)";
        rc = XB_ERR_INVALID;
        goto out;
    }
    if (span->parent_span_id.len != 0 && span->parent_span_id.len != 8) {
        *err_desc = "invalid parent span id (must be empty or 8 bytes)";
        rc = XB_ERR_INVALID;
        goto out;
    }
    if (xb_tr_ids_valid(span->parent_span_id.data, span->parent_span_id.len, 8))
        parent = span->parent_span_id.data;

    memset(&c, 0, sizeof(c));
    c.cfg = cfg;
    c.resource = rs->resource;
    c.rs = rs;
    c.res = &rs->idx;
    c.now = now_unix_s;
    c.arena = arena;
    c.err_desc = err_desc;

    v1.span = span;
    v1.span_id = span->span_id.data;
    v1.parent_id = parent;

    rc = xb_tr_attrs_index(&attrs1, arena, span->attributes, span->n_attributes);
    if (rc)
        goto out;
    /* aws.span.kind = LOCAL_ROOT (string) changes the shape of the output (docs/translation.md,
     * "Local roots"). */
    local_root =
        strcmp(xb_tr_any_str(xb_tr_attrs_val_k(&attrs1, XB_TK_AWS_SPAN_KIND)), "LOCAL_ROOT") == 0;
    two_docs = local_root && is_dependency_kind(span->kind);
    if (two_docs) {
        uint64_t s = xb_tr_ids_derive(span->trace_id.data, span->span_id.data, 0x10CA1);
        uint64_t own = 0;
        for (i = 0; i < 8; i++)
            own = (own << 8) | span->span_id.data[i];
        if (s == own)
            s = xb_tr_ids_derive(span->trace_id.data, span->span_id.data, 0x10CA2);
        for (i = 0; i < 8; i++)
            sbytes[i] = (uint8_t)(s >> (56 - 8 * i));
        v1.parent_id = sbytes;
        v2.span = span;
        v2.span_id = sbytes;
        v2.parent_id = parent;
        v2.hide_remote = 1;
        /* The second document starts from the same untouched index. */
        attrs2 = attrs1;
        if (attrs1.n) {
            attrs2.v = xb_arena_alloc(arena, attrs1.n * sizeof(*attrs1.v));
            if (!attrs2.v) {
                rc = XB_ERR_NOMEM;
                goto out;
            }
            memcpy(attrs2.v, attrs1.v, attrs1.n * sizeof(*attrs1.v));
        }
    }

    rc = build_doc(&c, &v1, &attrs1, &d1);
    if (rc)
        goto out;
    if (!local_root) {
        if (is_dependency_kind(span->kind) && d1.subsegment && !d1.namespace_ &&
            xb_tr_attrs_k(&attrs1, XB_TK_AWS_REMOTE_SERVICE))
            d1.namespace_ = "remote";
    } else if (!two_docs) {
        d1.subsegment = 0;
        d1.namespace_ = NULL;
    } else {
        const char *v;
        /* dependency subsegment */
        d1.subsegment = 1;
        if (!d1.namespace_)
            d1.namespace_ = "remote";
        if (span->kind == XB_KIND_CONSUMER)
            d1.n_links = 0;
        /* service segment */
        rc = build_doc(&c, &v2, &attrs2, &d2);
        if (rc)
            goto out;
        /* v0.156: aws.local.service, else the resource's service.name, else the name
         * computed above. An empty service.name counts as missing (upstream writes
         * "name": null, which X-Ray rejects). */
        v = orig(&attrs2, XB_TK_AWS_LOCAL_SERVICE);
        if (!v || !*v)
            v = xb_tr_any_str(xb_tr_attrs_val_k(c.res, XB_TK_SERVICE_NAME));
        if (v && *v)
            d2.name = cs(v);
        d2.http = NULL;
        if (d2.aws) {
            struct xb_str none = {NULL, 0};
            d2.aws->operation = d2.aws->account_id = d2.aws->region = none;
            d2.aws->request_id = d2.aws->queue_url = d2.aws->table_name = none;
            d2.aws->table_names = NULL;
        }
        d2.meta_only_resource = 1;
        d2.meta_default_present = d2.n_meta > 0;
        d2.subsegment = 0;
        d2.namespace_ = NULL;
        if (span->kind != XB_KIND_CONSUMER)
            d2.n_links = 0;
        d2.fault = d1.fault;
        d2.error = d1.error;
        d2.throttle = d1.throttle;
        d2.cause = d1.cause;
        /* Size the second document first so that neither is emitted if one cannot fit. */
        rc = render(&c, &d2, out, &lv2, &orig2);
        if (rc == XB_ERR_TOO_LARGE)
            goto too_large;
        if (rc)
            goto out;
    }

    rc = render(&c, &d1, out, &lv1, &orig1);
    if (rc == XB_ERR_TOO_LARGE)
        goto too_large;
    if (rc)
        goto out;
    rc = emit ? emit(ud, out->data, out->len, d1.trace_id, d1.id) : XB_OK;
    if (rc)
        goto out;
    (*docs)++;
    *trimmed += lv1 > 0;
    if (two_docs) {
        rc = render(&c, &d2, out, &lv2, &orig2);
        if (rc == XB_ERR_TOO_LARGE)
            goto too_large;
        if (rc)
            goto out;
        rc = emit ? emit(ud, out->data, out->len, d2.trace_id, d2.id) : XB_OK;
        if (rc)
            goto out;
        (*docs)++;
        *trimmed += lv2 > 0;
    }
    goto out;
too_large:
    *err_desc = "span cannot fit max_document_bytes even after trimming";
    rc = XB_ERR_INVALID;
out:
    if (out)
        xb_buf_clear(out);
    return rc;
}

int xb_translate_span(const struct xb_translator_config *cfg, const xb_pb_resource *resource,
                      const xb_pb_span *span, int64_t now_unix_s, struct xb_arena *arena,
                      struct xb_buf *out, xb_translate_emit_cb emit, void *ud,
                      const char **err_desc)
{
    size_t docs = 0, trimmed = 0;
    const xb_pb_resource *merged = resource;
    struct res_state rs;

    if (!cfg || !arena)
        return translate_one(cfg, NULL, span, now_unix_s, arena, out, emit, ud, err_desc, &docs,
                             &trimmed);
    if (xb_translate_merge_resource(cfg, resource, arena, &merged) != XB_OK ||
        res_state_init(cfg, merged, arena, &rs) != XB_OK)
        return XB_ERR_NOMEM;
    return translate_one(cfg, &rs, span, now_unix_s, arena, out, emit, ud, err_desc, &docs,
                         &trimmed);
}

/* Non-zero when one of the |n| KeyValues of |kv| has key |key|. */
static int has_key(xb_pb_kv *const *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i] && kv[i]->key && strcmp(kv[i]->key, key) == 0)
            return 1;
    return 0;
}

int xb_translate_merge_resource(const struct xb_translator_config *cfg,
                                const xb_pb_resource *resource, struct xb_arena *arena,
                                const xb_pb_resource **out)
{
    xb_pb_kv *const *first, *const *second;
    size_t n_first, n_second, n_orig = resource ? resource->n_attributes : 0, n = 0;
    xb_pb_resource *r;
    xb_pb_kv **list;

    *out = resource;
    if (!cfg->n_extra_resource)
        return XB_OK;
    r = xb_arena_calloc(arena, sizeof(*r));
    list = xb_arena_alloc(arena, (n_orig + cfg->n_extra_resource) * sizeof(*list));
    if (!r || !list)
        return XB_ERR_NOMEM;
    if (resource)
        *r = *resource;
    /* The winning side first, then the other side's keys the first does not have. */
    first = cfg->extra_resource_override ? cfg->extra_resource
                                         : (resource ? resource->attributes : NULL);
    n_first = cfg->extra_resource_override ? cfg->n_extra_resource : n_orig;
    second = cfg->extra_resource_override ? (resource ? resource->attributes : NULL)
                                          : cfg->extra_resource;
    n_second = cfg->extra_resource_override ? n_orig : cfg->n_extra_resource;
    for (size_t i = 0; i < n_first; i++)
        list[n++] = first[i];
    for (size_t i = 0; i < n_second; i++)
        if (second[i] && second[i]->key && !has_key(first, n_first, second[i]->key))
            list[n++] = second[i];
    r->attributes = list;
    r->n_attributes = n;
    *out = r;
    return XB_OK;
}

int xb_translate_request(const struct xb_translator_config *cfg, const xb_pb_export_req *req,
                         int64_t now_unix_s, struct xb_arena *arena, struct xb_buf *out,
                         xb_translate_emit_cb emit, void *ud, struct xb_translate_result *res)
{
    size_t r, s, k;
    int rc = XB_OK;

    *res = (struct xb_translate_result){0};
    if (!req)
        goto out;
    for (r = 0; r < req->n_resource_spans; r++) {
        const xb_pb_resource_spans *rs = req->resource_spans[r];
        const xb_pb_resource *resource;
        struct res_state state;
        if (!rs)
            continue;
        rc = xb_translate_merge_resource(cfg, rs->resource, arena, &resource);
        if (rc)
            goto out;
        /* What the resource gives is shared by all of its spans (read-only). */
        rc = res_state_init(cfg, resource, arena, &state);
        if (rc)
            goto out;
        for (s = 0; s < rs->n_scope_spans; s++) {
            const xb_pb_scope_spans *ss = rs->scope_spans[s];
            if (!ss)
                continue;
            for (k = 0; k < ss->n_spans; k++) {
                const char *span_err_desc = NULL;
                if (!ss->spans[k])
                    continue;
                res->spans++;
                rc = translate_one(cfg, &state, ss->spans[k], now_unix_s, arena, out, emit, ud,
                                   &span_err_desc, &res->documents, &res->trimmed);
                if (rc == XB_ERR_INVALID) {
                    res->rejected_spans++;
                    if (!res->first_error)
                        res->first_error = span_err_desc ? span_err_desc : "invalid span";
                    rc = XB_OK;
                    continue;
                }
                if (rc)
                    goto out;
            }
        }
    }
out:
    return rc;
}
