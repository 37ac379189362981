/* translator/doc.c - see doc.h. */
#include "translator/doc.h"

#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "translator/attrs.h"

#define RES_PREFIX "otel.resource."

/* The multiple of 10^-f nearest m / 2^22 (ties to even), scaled by 10^f: exact. When
 * |dist| is not NULL it receives |c * 2^22 - m * 10^f|, the distance between that
 * multiple and m / 2^22 in units of 2^-22 / 10^f. */
static inline uint64_t nearest_scaled(uint64_t m, uint64_t pow10f, uint64_t *dist)
{
    unsigned __int128 x = (unsigned __int128)m * pow10f;
    uint64_t r = (uint64_t)x & ((1u << 22) - 1), c = (uint64_t)(x >> 22);

    if (r > (1u << 21) || (r == (1u << 21) && (c & 1))) {
        c++;
        r = (1u << 22) - r;
    }
    if (dist)
        *dist = r;
    return c;
}

static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324"
                                  "25262728293031323334353637383940414243444546474849"
                                  "50515253545556575859606162636465666768697071727374"
                                  "75767778798081828384858687888990919293949596979899";

/* |v| < 100 as two digits at |o|. */
static inline void put2(char *o, uint32_t v)
{
    memcpy(o, digit_pairs + 2 * v, 2);
}

/* |v| < 10^4 as four digits at |o|, leading zeros kept. */
static inline void put4(char *o, uint32_t v)
{
    put2(o, v / 100);
    put2(o + 2, v % 100);
}

size_t xb_tr_doc_fmt_seconds(char *out, double v)
{
    uint64_t bits, m, c, dist;
    uint32_t ip, frac;
    size_t n;
    int f;

    memcpy(&bits, &v, sizeof(bits));
    if ((bits >> 52) != 1023 + 30) /* sign 0, 2^30 <= v < 2^31 */
        return 0;
    m = (bits & ((1ull << 52) - 1)) | (1ull << 52); /* v = m / 2^22 */
    /*
     * With 6 decimals or fewer the candidates' spacing (>= 1e-6) exceeds v's rounding
     * interval (2^-22 wide), so each length has at most one candidate, the nearest
     * multiple, and one with fewer decimals is also one with 6 (trailing zeros). So:
     * the 6-decimal candidate, if it reads back as v (c < 2^53 and 10^6 are exact, the
     * division is correctly rounded), without its trailing zeros; else none with 6 or
     * fewer exists and the nearest 7-decimal one, always inside the interval, is the
     * shortest (it cannot end in 0, or the 6-decimal one would have read back).
     * The integer part (2^30 <= ip < 2^31) always has 10 digits; the digits are
     * written from fixed-width groups with constant divisors.
     *
     * "Reads back as v" without a division: strtod rounds c / 10^6 to the nearest
     * double, ties to even, and the doubles around v are 2^-22 apart (at v = 2^30
     * itself the candidate is exact), so it gives v exactly when the distance
     * |c / 10^6 - m / 2^22| is below half of 2^-22, or equal to it with m even; in the
     * units of nearest_scaled()'s distance that half is 10^6 / 2.
     */
    c = nearest_scaled(m, 1000000, &dist);
    if (dist < 500000 || (dist == 500000 && (m & 1) == 0)) {
        ip = (uint32_t)(c / 1000000);
        frac = (uint32_t)(c % 1000000);
        put2(out + 11, frac / 10000);
        put4(out + 13, frac % 10000);
        for (f = 6; f > 0 && out[10 + f] == '0'; f--)
            ;
    } else {
        c = nearest_scaled(m, 10000000, NULL);
        ip = (uint32_t)(c / 10000000);
        frac = (uint32_t)(c % 10000000);
        out[11] = (char)('0' + frac / 1000000);
        put2(out + 12, frac / 10000 % 100);
        put4(out + 14, frac % 10000);
        f = 7;
    }
    /* digits written in place: no copy that would reload them */
    put2(out, ip / 100000000);
    put4(out + 2, ip / 10000 % 10000);
    put4(out + 6, ip % 10000);
    out[10] = '.'; /* overwritten by the NUL when there are no decimals */
    n = f > 0 ? 11 + (size_t)f : 10;
    out[n] = '\0';
    return n;
}

/* Field |key| (a string literal) and a time in seconds, as xb_jsonw_ckey() then
 * xb_jsonw_double() write them: in one step in the usual range. */
#define write_seconds(w, key, v) write_seconds_n((w), (key), sizeof("" key) - 1, (v))
static void write_seconds_n(struct xb_jsonw *w, const char *key, size_t kn, double v)
{
    char tmp[32];
    size_t n = xb_tr_doc_fmt_seconds(tmp, v);

    if (n) {
        xb_jsonw_member_raw(w, key, kn, tmp, n);
        return;
    }
    xb_jsonw_ckey_n(w, key, kn);
    xb_jsonw_double(w, v);
}

/* A string value written without escaping: ids, trace ids, enumerations (never user
 * text). */
static void plain(struct xb_jsonw *w, const char *s)
{
    xb_jsonw_str_plain(w, s, strlen(s));
}

static int has_str(struct xb_str s)
{
    return s.p && s.n;
}

/* "key": "value" when the value is a non-empty string (the exporter's String() helper).
 * |key| must be a string literal (its length is taken at compile time). */
#define kv_str(w, key, s) kv_str_n((w), (key), sizeof("" key) - 1, (s))
static void kv_str_n(struct xb_jsonw *w, const char *key, size_t kn, struct xb_str s)
{
    if (!has_str(s))
        return;
    xb_jsonw_ckey_str(w, key, kn, s.p, s.n);
}

/* "key": "value" or "key": null (struct fields without omitempty). */
static void kv_str_or_null(struct xb_jsonw *w, const char *key, struct xb_str s)
{
    xb_jsonw_ckey(w, key);
    if (has_str(s))
        xb_jsonw_str(w, s.p, s.n);
    else
        xb_jsonw_null(w);
}

static size_t cap_items(size_t n, const struct xb_tr_doc_wopts *o)
{
    return o->max_items && n > o->max_items ? o->max_items : n;
}

static void write_links(struct xb_jsonw *w, const struct xb_tr_xdoc *d,
                        const struct xb_tr_doc_wopts *o, struct xb_arena *arena)
{
    size_t i, n = cap_items(d->n_links, o);

    xb_jsonw_ckey(w, "links");
    xb_jsonw_arr_begin(w);
    for (i = 0; i < n; i++) {
        const xb_pb_link *l = d->links[i];
        char tid[XB_XRAY_TRACE_ID_LEN + 1], sid[17];
        xb_jsonw_obj_begin(w);
        xb_jsonw_ckey(w, "trace_id");
        if (l->trace_id.len == 16) {
            xb_tr_ids_xray_trace_id(l->trace_id.data, tid);
            plain(w, tid);
        } else {
            xb_jsonw_null(w);
        }
        xb_jsonw_ckey(w, "id");
        if (l->span_id.len == 8) {
            xb_tr_ids_hex(l->span_id.data, 8, sid);
            plain(w, sid);
        } else {
            xb_jsonw_null(w);
        }
        if (l->n_attributes) {
            /* Map of raw values, sorted: reuse the kvlist writer through a shim value. */
            xb_pb_kvlist list = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;
            xb_pb_any v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
            list.n_values = l->n_attributes;
            list.values = l->attributes;
            v.value_case = XB_ANY_KVLIST;
            v.kvlist_value = &list;
            xb_jsonw_ckey(w, "attributes");
            xb_tr_any_write(w, &v, arena, o->max_items);
        }
        xb_jsonw_obj_end(w);
    }
    xb_jsonw_arr_end(w);
}

static void write_http(struct xb_jsonw *w, const struct xb_tr_xhttp *h)
{
    xb_jsonw_ckey_obj(w, "http");
    xb_jsonw_ckey_obj(w, "request");
    kv_str(w, "method", h->method);
    kv_str(w, "url", h->url);
    kv_str(w, "client_ip", h->client_ip);
    kv_str(w, "user_agent", h->user_agent);
    if (h->x_forwarded_for) {
        xb_jsonw_ckey(w, "x_forwarded_for");
        xb_jsonw_bool(w, 1);
    }
    xb_jsonw_obj_end(w);
    xb_jsonw_ckey_obj(w, "response");
    if (h->has_status) {
        xb_jsonw_ckey(w, "status");
        xb_jsonw_int(w, h->status);
    }
    xb_jsonw_ckey(w, "content_length");
    xb_jsonw_int(w, h->content_length);
    xb_jsonw_obj_end(w);
    xb_jsonw_obj_end(w);
}

static void write_cause(struct xb_jsonw *w, const struct xb_tr_xcause *c,
                        const struct xb_tr_doc_wopts *o)
{
    size_t i, k, n = cap_items(c->n, o);

    xb_jsonw_ckey_obj(w, "cause");
    xb_jsonw_ckey(w, "exceptions");
    xb_jsonw_arr_begin(w);
    for (i = 0; i < n; i++) {
        const struct xb_tr_xexc *e = &c->exc[i];
        size_t nf = cap_items(e->n_frames, o);
        xb_jsonw_obj_begin(w);
        xb_jsonw_ckey_plain(w, "id", 2, e->id, 16); /* 16 hex digits (translator/cause.c) */
        /* field name and string in one step, as ckey then str write them */
        xb_jsonw_ckey_str(w, "message", 7, e->message.p, e->message.n);
        xb_jsonw_ckey_str(w, "type", 4, e->type.p, e->type.n);
        if (e->remote >= 0) {
            xb_jsonw_ckey(w, "remote");
            xb_jsonw_bool(w, e->remote);
        }
        if (e->cause >= 0 && (size_t)e->cause < c->n) {
            xb_jsonw_ckey_plain(w, "cause", 5, c->exc[e->cause].id, strlen(c->exc[e->cause].id));
        }
        if (nf) {
            xb_jsonw_ckey(w, "stack");
            xb_jsonw_arr_begin(w);
            for (k = 0; k < nf; k++) {
                const struct xb_tr_xframe *f = &e->frames[k];
                xb_jsonw_obj_begin(w);
                /* strings with their field names in one step, as ckey then str write them */
                xb_jsonw_ckey_str(w, "path", 4, f->path.p, f->path.n);
                xb_jsonw_ckey(w, "line");
                xb_jsonw_int(w, f->line);
                xb_jsonw_ckey_str(w, "label", 5, f->label.p, f->label.n);
                xb_jsonw_obj_end(w);
            }
            xb_jsonw_arr_end(w);
        }
        xb_jsonw_obj_end(w);
    }
    xb_jsonw_arr_end(w);
    xb_jsonw_obj_end(w);
}

/* The members of the aws block that come from the resource alone, elastic_beanstalk
 * through xray. */
static void write_aws_resource(struct xb_jsonw *w, const struct xb_tr_xaws *a,
                               const struct xb_tr_doc_wopts *o)
{
    size_t i, n;

    if (a->has_beanstalk) {
        xb_jsonw_ckey_obj(w, "elastic_beanstalk");
        kv_str_or_null(w, "environment_name", a->eb_environment);
        kv_str_or_null(w, "version_label", a->eb_version_label);
        xb_jsonw_ckey(w, "deployment_id");
        xb_jsonw_int(w, a->eb_deployment_id);
        xb_jsonw_obj_end(w);
    }
    n = cap_items(a->n_log_groups, o);
    if (n) {
        xb_jsonw_ckey(w, "cloudwatch_logs");
        xb_jsonw_arr_begin(w);
        for (i = 0; i < n; i++) {
            xb_jsonw_obj_begin(w);
            kv_str_or_null(w, "log_group", a->log_groups[i].log_group);
            kv_str(w, "arn", a->log_groups[i].arn);
            xb_jsonw_obj_end(w);
        }
        xb_jsonw_arr_end(w);
    }
    if (a->has_ecs) {
        xb_jsonw_ckey_obj(w, "ecs");
        kv_str(w, "container", a->ecs_container);
        kv_str(w, "container_id", a->ecs_container_id);
        kv_str(w, "task_arn", a->ecs_task_arn);
        kv_str(w, "task_family", a->ecs_task_family);
        kv_str(w, "cluster_arn", a->ecs_cluster_arn);
        kv_str(w, "container_arn", a->ecs_container_arn);
        kv_str(w, "availability_zone", a->ecs_az);
        kv_str(w, "launch_type", a->ecs_launch_type);
        xb_jsonw_obj_end(w);
    }
    if (a->has_ec2) {
        xb_jsonw_ckey(w, "ec2");
        xb_jsonw_obj_begin(w);
        kv_str_or_null(w, "instance_id", a->ec2_instance_id);
        kv_str_or_null(w, "availability_zone", a->ec2_az);
        kv_str_or_null(w, "instance_size", a->ec2_instance_size);
        kv_str_or_null(w, "ami_id", a->ec2_ami_id);
        xb_jsonw_obj_end(w);
    }
    if (a->has_eks) {
        xb_jsonw_ckey_obj(w, "eks");
        kv_str_or_null(w, "cluster_name", a->eks_cluster);
        kv_str_or_null(w, "pod", a->eks_pod);
        kv_str_or_null(w, "container_id", a->eks_container_id);
        xb_jsonw_obj_end(w);
    }
    xb_jsonw_ckey_obj(w, "xray");
    kv_str(w, "sdk", a->xray_sdk);
    kv_str(w, "sdk_version", a->xray_sdk_version);
    xb_jsonw_ckey(w, "auto_instrumentation");
    xb_jsonw_bool(w, a->xray_auto);
    xb_jsonw_obj_end(w);
}

int xb_tr_doc_aws_resource_raw(struct xb_tr_xaws *a, struct xb_arena *arena, int embedded)
{
    static const struct xb_tr_doc_wopts plain = {0};
    struct xb_buf b;
    struct xb_jsonw w;
    char *raw = NULL;
    int rc;

    a->raw = NULL;
    a->raw_n = 0;
    a->raw_plain = 0;
    xb_buf_init(&b, 0);
    if (embedded)
        xb_jsonw_init_embedded(&w, &b);
    else
        xb_jsonw_init(&w, &b);
    xb_jsonw_obj_begin(&w);
    write_aws_resource(&w, a, &plain);
    rc = w.err;
    /* the members without the object's opening brace */
    if (rc == XB_OK && b.len > 1 && !(raw = xb_arena_alloc(arena, b.len - 1)))
        rc = XB_ERR_NOMEM;
    if (raw) {
        memcpy(raw, b.data + 1, b.len - 1);
        a->raw = raw;
        a->raw_n = b.len - 1;
        a->raw_plain = w.written - 1;
    }
    xb_buf_cleanup(&b);
    return rc;
}

static void write_aws(struct xb_jsonw *w, const struct xb_tr_xaws *a,
                      const struct xb_tr_doc_wopts *o, struct xb_arena *arena)
{
    size_t i, n;

    xb_jsonw_ckey_obj(w, "aws");
    if (a->raw && !o->max_str && !o->max_items)
        xb_jsonw_raw_members_n(w, a->raw, a->raw_n, a->raw_plain);
    else
        write_aws_resource(w, a, o);
    kv_str(w, "account_id", a->account_id);
    kv_str(w, "operation", a->operation);
    kv_str(w, "region", a->region);
    kv_str(w, "request_id", a->request_id);
    kv_str(w, "queue_url", a->queue_url);
    kv_str(w, "table_name", a->table_name);
    if (a->table_names && a->table_names->array_value) {
        const xb_pb_array *arr = a->table_names->array_value;
        n = cap_items(arr->n_values, o);
        xb_jsonw_ckey(w, "table_names");
        xb_jsonw_arr_begin(w);
        for (i = 0; i < n; i++) {
            const char *s = xb_tr_any_str(arr->values[i]);
            xb_jsonw_str(w, s, strlen(s));
        }
        xb_jsonw_arr_end(w);
    }
    (void)arena;
    xb_jsonw_obj_end(w);
}

static int keep_meta_key(const struct xb_tr_xdoc *d, struct xb_str k)
{
    return !d->meta_only_resource ||
           (k.n >= sizeof(RES_PREFIX) - 1 && memcmp(k.p, RES_PREFIX, sizeof(RES_PREFIX) - 1) == 0);
}

static void write_meta_default(struct xb_jsonw *w, const struct xb_tr_xdoc *d,
                               const struct xb_tr_doc_wopts *o, struct xb_arena *arena)
{
    size_t i, written = 0;

    xb_jsonw_ckey_obj(w, "default");
    for (i = 0; i < d->n_meta; i++) {
        const struct xb_tr_xmeta *m = &d->meta[i];
        if (!keep_meta_key(d, m->key))
            continue;
        if (o->max_items && written++ >= o->max_items)
            break;
        if (m->raw && !o->max_str && !o->max_items) {
            /* rendered once per resource; entries adjacent there go in one copy */
            size_t n = m->raw_n, plain = m->raw_plain;
            while (i + 1 < d->n_meta && d->meta[i + 1].raw == m->raw + n + 1 &&
                   keep_meta_key(d, d->meta[i + 1].key)) {
                i++;
                n += 1 + d->meta[i].raw_n;
                plain += 1 + d->meta[i].raw_plain;
            }
            xb_jsonw_raw_members_n(w, m->raw, n, plain);
            continue;
        }
        if (m->val && xb_tr_any_type(m->val) == XB_ANY_STRING) {
            const char *s = xb_tr_any_str(m->val); /* as xb_tr_any_write_scalar() writes it */
            xb_jsonw_member_str(w, m->key.p, m->key.n, s, strlen(s));
            continue;
        }
        if (m->val && xb_tr_any_annotatable(m->val)) {
            /* formatted as xb_tr_any_write_scalar() does, written with the key in one step */
            char tmp[400];
            size_t n;
            switch (xb_tr_any_type(m->val)) {
            case XB_ANY_INT:
                n = xb_jsonw_fmt_int(tmp, m->val->int_value);
                break;
            case XB_ANY_DOUBLE:
                n = xb_jsonw_fmt_double(tmp, m->val->double_value, 1);
                if (n == 0)
                    n = 4, memcpy(tmp, "null", 4);
                break;
            default: /* XB_ANY_BOOL */
                if (m->val->bool_value)
                    n = 4, memcpy(tmp, "true", 4);
                else
                    n = 5, memcpy(tmp, "false", 5);
            }
            xb_jsonw_member_raw(w, m->key.p, m->key.n, tmp, n);
            continue;
        }
        xb_jsonw_key(w, m->key.p, m->key.n);
        if (m->val)
            xb_tr_any_write(w, m->val, arena, o->max_items);
        else
            xb_tr_jsonp_write(w, m->j, o->max_items);
    }
    xb_jsonw_obj_end(w);
}

static void write_ns(struct xb_jsonw *w, const struct xb_tr_xdoc *d, const struct xb_tr_xns *ns,
                     const struct xb_tr_doc_wopts *o)
{
    size_t i;

    xb_jsonw_key(w, ns->name.p, ns->name.n);
    if (!ns->obj || ns->obj->t != XB_TR_J_OBJ || !d->meta_only_resource) {
        xb_tr_jsonp_write(w, ns->obj, o->max_items);
        return;
    }
    xb_jsonw_obj_begin(w);
    for (i = 0; i < ns->obj->n_kids; i++) {
        const struct xb_tr_jnode *k = &ns->obj->kids[i];
        if (!keep_meta_key(d, k->key))
            continue;
        xb_jsonw_key(w, k->key.p, k->key.n);
        xb_tr_jsonp_write(w, k, o->max_items);
    }
    xb_jsonw_obj_end(w);
}

static int str_lt(struct xb_str a, const char *b)
{
    size_t bn = strlen(b), n = a.n < bn ? a.n : bn;
    int c = memcmp(a.p, b, n);

    return c < 0 || (c == 0 && a.n < bn);
}

static void write_metadata(struct xb_jsonw *w, const struct xb_tr_xdoc *d,
                           const struct xb_tr_doc_wopts *o, struct xb_arena *arena)
{
    size_t i;
    int has_default = d->n_meta > 0 || d->meta_default_present;
    int default_done = !has_default;

    if (o->drop_metadata) {
        xb_jsonw_ckey_obj(w, "metadata");
        xb_jsonw_ckey_obj(w, "xraybridge");
        xb_jsonw_ckey(w, "trimmed");
        xb_jsonw_bool(w, 1);
        xb_jsonw_ckey(w, "original_bytes");
        xb_jsonw_uint(w, o->original_bytes);
        xb_jsonw_obj_end(w);
        xb_jsonw_obj_end(w);
        return;
    }
    if (!has_default && d->n_ns == 0)
        return;
    xb_jsonw_ckey_obj(w, "metadata");
    /* Namespaces in byte order, "default" merged into its sorted place. */
    for (i = 0; i < d->n_ns; i++) {
        if (!default_done && !str_lt(d->ns[i].name, "default")) {
            write_meta_default(w, d, o, arena);
            default_done = 1;
        }
        write_ns(w, d, &d->ns[i], o);
    }
    if (!default_done)
        write_meta_default(w, d, o, arena);
    xb_jsonw_obj_end(w);
}

static void write_sql(struct xb_jsonw *w, const struct xb_tr_xsql *s)
{
    xb_jsonw_ckey_obj(w, "sql");
    kv_str(w, "connection_string", s->connection_string);
    kv_str(w, "url", s->url);
    kv_str(w, "sanitized_query", s->sanitized_query);
    kv_str(w, "database_type", s->database_type);
    kv_str(w, "user", s->user);
    xb_jsonw_obj_end(w);
}

/* "fault", "error" and "throttle" (each 0 or 1) as three xb_jsonw_ckey() and
 * xb_jsonw_bool() calls write them, spliced as one piece of members (in the writer's
 * form: plain or embedded). */
static void write_flags(struct xb_jsonw *w, int fault, int error, int throttle)
{
#define XB_FLAG_0 "false"
#define XB_FLAG_1 "true"
#define XB_FLAGS(f, e, t)                                                                          \
    "\"fault\":" XB_FLAG_##f ",\"error\":" XB_FLAG_##e ",\"throttle\":" XB_FLAG_##t
#define XB_EFLAGS(f, e, t)                                                                         \
    "\\\"fault\\\":" XB_FLAG_##f ",\\\"error\\\":" XB_FLAG_##e ",\\\"throttle\\\":" XB_FLAG_##t
#define XB_FLAGS_ENTRY(f, e, t)                                                                    \
    {                                                                                              \
        XB_FLAGS(f, e, t), sizeof(XB_FLAGS(f, e, t)) - 1, XB_EFLAGS(f, e, t),                      \
            sizeof(XB_EFLAGS(f, e, t)) - 1                                                         \
    }
    static const struct {
        const char *p;
        size_t n;
        const char *ep; /* embedded form */
        size_t en;
    } all[8] = {
        XB_FLAGS_ENTRY(0, 0, 0), XB_FLAGS_ENTRY(0, 0, 1), XB_FLAGS_ENTRY(0, 1, 0),
        XB_FLAGS_ENTRY(0, 1, 1), XB_FLAGS_ENTRY(1, 0, 0), XB_FLAGS_ENTRY(1, 0, 1),
        XB_FLAGS_ENTRY(1, 1, 0), XB_FLAGS_ENTRY(1, 1, 1),
    };
#undef XB_FLAGS_ENTRY
#undef XB_EFLAGS
#undef XB_FLAGS
#undef XB_FLAG_1
#undef XB_FLAG_0
    unsigned i = (fault ? 4u : 0u) | (error ? 2u : 0u) | (throttle ? 1u : 0u);

    if (w->embedded)
        xb_jsonw_raw_members_n(w, all[i].ep, all[i].en, all[i].n);
    else
        xb_jsonw_raw_members(w, all[i].p, all[i].n);
}

int xb_tr_doc_write(const struct xb_tr_xdoc *d, const struct xb_tr_doc_wopts *o, struct xb_buf *out,
                    struct xb_arena *arena, size_t *written)
{
    struct xb_jsonw w;
    size_t i, n;

    if (o->embedded)
        xb_jsonw_init_embedded(&w, out);
    else
        xb_jsonw_init(&w, out);
    w.limit = o->limit;
    w.max_str = o->max_str;
    xb_jsonw_ready(&w); /* the buffer usually has room from the previous document */

    xb_jsonw_obj_begin(&w);
    xb_jsonw_ckey_str(&w, "name", 4, d->name.p, d->name.n);     /* empty or NULL: "" */
    xb_jsonw_ckey_plain(&w, "id", 2, d->id, d->id[0] ? 16 : 0); /* no strlen: doc.h */
    write_seconds(&w, "start_time", d->start_time);
    if (d->has_service) {
        xb_jsonw_ckey_obj(&w, "service");
        kv_str(&w, "version", d->service_version);
        xb_jsonw_obj_end(&w);
    }
    if (d->origin && *d->origin) {
        xb_jsonw_ckey_plain(&w, "origin", 6, d->origin, strlen(d->origin));
    }
    kv_str(&w, "user", d->user);
    if (d->n_links)
        write_links(&w, d, o, arena);
    xb_jsonw_ckey_plain(&w, "trace_id", 8, d->trace_id, d->trace_id[0] ? XB_XRAY_TRACE_ID_LEN : 0);
    if (d->in_progress) {
        xb_jsonw_ckey(&w, "in_progress");
        xb_jsonw_bool(&w, 1);
    } else {
        write_seconds(&w, "end_time", d->end_time);
    }
    if (d->http)
        write_http(&w, d->http);
    write_flags(&w, d->fault, d->error, d->throttle);
    if (d->cause && d->cause->n)
        write_cause(&w, d->cause, o);
    if (d->aws)
        write_aws(&w, d->aws, o, arena);
    n = cap_items(d->n_annots, o);
    if (n) {
        xb_jsonw_ckey_obj(&w, "annotations");
        for (i = 0; i < n; i++) {
            if (i > 0 && xb_jsonw_keys_collide(&w, d->annots[i - 1].key.p, d->annots[i - 1].key.n,
                                               d->annots[i].key.p, d->annots[i].key.n))
                continue;
            xb_jsonw_key(&w, d->annots[i].key.p, d->annots[i].key.n);
            xb_tr_any_write_scalar(&w, d->annots[i].val);
        }
        xb_jsonw_obj_end(&w);
    }
    write_metadata(&w, d, o, arena);
    if (d->namespace_ && *d->namespace_) {
        xb_jsonw_ckey_plain(&w, "namespace", 9, d->namespace_, strlen(d->namespace_));
    }
    if (d->parent_id[0]) {
        xb_jsonw_ckey_plain(&w, "parent_id", 9, d->parent_id, 16); /* 16 hex digits */
    }
    if (d->subsegment) {
        xb_jsonw_ckey_plain(&w, "type", 4, "subsegment", 10);
    }
    if (d->sql)
        write_sql(&w, d->sql);
    xb_jsonw_obj_end(&w);
    if (written)
        *written = w.written;
    return w.err;
}
