/* translator/cause.c - see cause.h. */
#include "translator/cause.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "translator/ids.h"

/* ------------------------------------------------------------------ helpers */

static struct xb_str sv(const char *p, size_t n)
{
    struct xb_str s = {p, n};
    return s;
}

static int starts(struct xb_str s, const char *pfx)
{
    size_t n = strlen(pfx);
    return s.n >= n && memcmp(s.p, pfx, n) == 0;
}

static int ends(struct xb_str s, char c)
{
    return s.n > 0 && s.p[s.n - 1] == c;
}

static long find(struct xb_str s, size_t from, char c)
{
    const char *q = from < s.n ? memchr(s.p + from, c, s.n - from) : NULL;

    return q ? (long)(q - s.p) : -1;
}

static long rfind(struct xb_str s, char c)
{
    size_t i = s.n;

    while (i > 0)
        if (s.p[--i] == c)
            return (long)i;
    return -1;
}

static long find_str(struct xb_str s, const char *needle)
{
    size_t m = strlen(needle), i;

    for (i = 0; i + m <= s.n; i++)
        if (memcmp(s.p + i, needle, m) == 0)
            return (long)i;
    return -1;
}

static struct xb_str sub(struct xb_str s, size_t a, size_t b)
{
    if (a > s.n)
        a = s.n;
    if (b > s.n)
        b = s.n;
    if (b < a)
        b = a;
    return sv(s.p + a, b - a);
}

/* Go strconv.Atoi: optional sign then decimal digits only, else 0; clamps on overflow. */
static int64_t atoi_strict(struct xb_str s)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;

    if (s.n && (s.p[0] == '+' || s.p[0] == '-')) {
        neg = s.p[0] == '-';
        i = 1;
    }
    if (i == s.n)
        return 0;
    for (; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
        if (v > (UINT64_MAX - 9) / 10)
            return neg ? INT64_MIN : INT64_MAX;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (!neg)
        return v > INT64_MAX ? INT64_MAX : (int64_t)v;
    return v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
}

/* textproto-style line reader: lines end at '\n', a trailing '\r' is removed, no empty
 * final line after a trailing newline. */
struct lines {
    const char *s;
    size_t n, pos;
};

static int next_line(struct lines *it, struct xb_str *line)
{
    size_t start = it->pos, end;
    const char *nl;

    if (it->pos >= it->n)
        return 0;
    nl = memchr(it->s + it->pos, '\n', it->n - it->pos);
    it->pos = nl ? (size_t)(nl - it->s) : it->n;
    end = it->pos;
    if (it->pos < it->n)
        it->pos++;
    if (end > start && it->s[end - 1] == '\r')
        end--;
    *line = sv(it->s + start, end - start);
    return 1;
}

int xb_tr_cause_add(struct xb_tr_xcause *c, struct xb_arena *arena, struct xb_tr_idgen *ids,
                    struct xb_str type, struct xb_str message, int remote)
{
    void *vec = c->exc;
    struct xb_tr_xexc *e = xb_tr_vec_push(arena, &vec, &c->n, &c->cap, sizeof(*e));

    c->exc = vec;
    if (!e)
        return -1;
    xb_tr_ids_u64_hex(xb_tr_ids_derive(ids->trace_id, ids->span_id, 0x1000 + ids->counter++),
                      e->id);
    e->type = type;
    e->message = message;
    e->remote = remote;
    e->cause = -1;
    return (int)(c->n - 1);
}

static int add_frame(struct xb_tr_xcause *c, size_t ei, struct xb_arena *arena, struct xb_str path,
                     struct xb_str label, int64_t line)
{
    struct xb_tr_xexc *e = &c->exc[ei];
    void *vec = e->frames;
    struct xb_tr_xframe *f = xb_tr_vec_push(arena, &vec, &e->n_frames, &e->cap_frames, sizeof(*f));

    e->frames = vec;
    if (!f)
        return XB_ERR_NOMEM;
    f->path = path;
    f->label = label;
    f->line = line;
    return XB_OK;
}

/* Appends a chained exception caused-by-linked from |cur|; returns its index or -1. */
static int chain(struct xb_tr_xcause *c, size_t cur, struct xb_arena *arena,
                 struct xb_tr_idgen *ids, struct xb_str type, struct xb_str msg)
{
    int remote = c->exc[0].remote;
    int ni = xb_tr_cause_add(c, arena, ids, type, msg, remote);

    if (ni >= 0)
        c->exc[cur].cause = ni;
    return ni;
}

/* ------------------------------------------------------------------ Java / PHP */

/* Position of the first '(' of a Java frame line ("\tat label(path:line)"), or -1 when
 * |l| is not one. */
static long java_frame_paren(struct xb_str l)
{
    return starts(l, "\tat ") && ends(l, ')') ? find(l, 0, '(') : -1;
}

static int java_is_frame(struct xb_str l)
{
    return java_frame_paren(l) >= 0;
}

/* Adds the frame of line |l| whose first '(' is at |paren| (java_frame_paren()). */
static int java_frame(struct xb_tr_xcause *c, size_t ei, struct xb_arena *arena, struct xb_str l,
                      long paren)
{
    long slash, colon;
    struct xb_str label = sub(l, 4, (size_t)paren), path = sub(l, (size_t)paren + 1, l.n - 1);
    int64_t line = 0;

    slash = find(label, 0, '/');
    if (slash >= 0)
        label = sub(label, (size_t)slash + 1, label.n);
    colon = find(path, 0, ':');
    if (colon >= 0) {
        line = atoi_strict(sub(path, (size_t)colon + 1, path.n));
        path = sub(path, 0, (size_t)colon);
    }
    return add_frame(c, ei, arena, path, label, line);
}

static int parse_java(struct xb_tr_xcause *c, size_t first, const char *s, size_t n,
                      struct xb_arena *arena, struct xb_tr_idgen *ids)
{
    struct lines it = {s, n, 0};
    struct xb_str l;
    size_t cur = first;
    int rc = XB_OK;

    if (!next_line(&it, &l))
        goto out;
    while (rc == XB_OK && next_line(&it, &l)) {
        long paren = java_frame_paren(l);
        if (paren >= 0) {
            rc = java_frame(c, cur, arena, l, paren);
        } else if (starts(l, "Caused by: ")) {
            struct xb_str type = sub(l, 11, l.n), msg = sv("", 0), cont;
            struct lines peek;
            long colon = find(type, 0, ':');
            size_t total, o;
            int have_frame = 0, ni;
            char *buf;

            if (colon >= 0) {
                msg = sub(type, (size_t)colon + 2, type.n);
                type = sub(type, 0, (size_t)colon);
            }
            /* The message may continue on the following non-frame lines: measure, then copy. */
            peek = it;
            total = msg.n;
            while (next_line(&peek, &cont)) {
                if (java_is_frame(cont)) {
                    have_frame = 1;
                    break;
                }
                total += cont.n;
            }
            buf = NULL;
            if (total != msg.n) {
                buf = xb_arena_alloc(arena, total + 1);
                if (!buf) {
                    rc = XB_ERR_NOMEM;
                    goto out;
                }
                memcpy(buf, msg.p, msg.n);
            }
            o = msg.n;
            while (next_line(&it, &cont) && !java_is_frame(cont)) {
                if (buf && cont.n) {
                    memcpy(buf + o, cont.p, cont.n);
                    o += cont.n;
                }
            }
            if (buf)
                msg = sv(buf, o);
            ni = chain(c, cur, arena, ids, type, msg);
            if (ni < 0) {
                rc = XB_ERR_NOMEM;
                goto out;
            }
            cur = (size_t)ni;
            if (have_frame)
                rc = java_frame(c, cur, arena, cont, java_frame_paren(cont));
        }
    }
out:
    return rc;
}

/* ------------------------------------------------------------------ Python */

#define PY_DURING "During handling of the above exception, another exception occurred:"

static int parse_python(struct xb_tr_xcause *c, size_t first, const char *s, size_t n,
                        struct xb_arena *arena, struct xb_tr_idgen *ids)
{
    struct xb_str *lines;
    size_t count = 1, i, k, cur = first;
    long idx;
    int rc = XB_OK;

    for (i = 0; i < n; i++)
        count += s[i] == '\n';
    lines = xb_arena_alloc(arena, count * sizeof(*lines));
    if (!lines)
        return XB_ERR_NOMEM;
    for (i = 0, k = 0; k < count; k++) {
        size_t start = i;
        while (i < n && s[i] != '\n')
            i++;
        lines[k] = sv(s + start, i - start);
        i++;
    }
    /* Bottom-up, skipping the last line (the exception text). */
    for (idx = (long)count - 2; idx >= 0 && rc == XB_OK; idx--) {
        struct xb_str l = lines[idx];
        if (starts(l, "  File ")) {
            long c1 = find(l, 0, ','), c2 = c1 >= 0 ? find(l, (size_t)c1 + 1, ',') : -1;
            struct xb_str p0, p1, p2, path, label = sv("", 0);
            int64_t line = 0;
            if (c1 < 0 || c2 < 0 || find(l, (size_t)c2 + 1, ',') >= 0)
                continue; /* needs exactly three comma-separated parts */
            p0 = sub(l, 0, (size_t)c1);
            p1 = sub(l, (size_t)c1 + 1, (size_t)c2);
            p2 = sub(l, (size_t)c2 + 1, l.n);
            path = p0.n >= 9 ? sub(p0, 8, p0.n - 1) : sv("", 0);
            if (starts(p1, " line "))
                line = atoi_strict(sub(p1, 6, p1.n));
            if (starts(p2, " in "))
                label = sub(p2, 4, p2.n);
            rc = add_frame(c, cur, arena, path, label, line);
        } else if (starts(l, PY_DURING)) {
            long f = idx - 1, colon, a, b;
            struct xb_str text = sv("", 0);
            int ni;
            while (f >= 0 && !starts(lines[f], "  File "))
                f--;
            if (f < 0)
                break; /* malformed: keep what was found */
            a = f + 2;
            b = idx - 2;
            if (a <= b)
                text = sv(lines[a].p, (size_t)(lines[b].p + lines[b].n - lines[a].p));
            colon = find(text, 0, ':');
            if (colon < 0)
                break;
            ni = chain(c, cur, arena, ids, sub(text, 0, (size_t)colon),
                       sub(text, (size_t)colon + 2, text.n));
            if (ni < 0)
                return XB_ERR_NOMEM;
            cur = (size_t)ni;
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ JavaScript */

static int parse_js(struct xb_tr_xcause *c, size_t first, const char *s, size_t n,
                    struct xb_arena *arena)
{
    struct lines it = {s, n, 0};
    struct xb_str l;
    int rc = XB_OK;

    if (!next_line(&it, &l))
        return XB_OK;
    while (rc == XB_OK && next_line(&it, &l)) {
        struct xb_str label = sv("", 0), path = sv("", 0);
        int64_t line = 0;
        long paren, c1, c2;
        if (!starts(l, "    at "))
            continue;
        paren = find(l, 0, '(');
        if (paren >= 0 && ends(l, ')')) {
            label = sub(l, 7, (size_t)paren);
            path = sub(l, (size_t)paren + 1, l.n - 1);
        } else if (paren < 0) {
            path = sub(l, 7, l.n);
        }
        c1 = find(path, 0, ':');
        c2 = c1 >= 0 ? find(path, (size_t)c1 + 1, ':') : -1;
        if (c1 >= 0 && c2 >= 0) {
            line = atoi_strict(sub(path, (size_t)c1 + 1, (size_t)c2));
            path = sub(path, 0, (size_t)c1);
        } else if (c1 < 0 && find_str(path, "native") >= 0) {
            path = sv("native", 6);
        }
        if (path.n || label.n || line)
            rc = add_frame(c, first, arena, path, label, line);
    }
    return rc;
}

/* ------------------------------------------------------------------ .NET */

static struct xb_str trim_space(struct xb_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '\r' || s.p[0] == '\n' ||
                   s.p[0] == '\v' || s.p[0] == '\f'))
        s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r' ||
                   s.p[s.n - 1] == '\n' || s.p[s.n - 1] == '\v' || s.p[s.n - 1] == '\f'))
        s.n--;
    return s;
}

static int parse_dotnet(struct xb_tr_xcause *c, size_t first, const char *s, size_t n,
                        struct xb_arena *arena)
{
    struct lines it = {s, n, 0};
    struct xb_str l;
    int rc = XB_OK;

    if (!next_line(&it, &l))
        return XB_OK;
    while (rc == XB_OK && next_line(&it, &l)) {
        long in, colon, rp;
        l = trim_space(l);
        if (!starts(l, "at "))
            continue;
        in = find_str(l, " in ");
        if (in >= 0) {
            struct xb_str label = in >= 3 ? sub(l, 3, (size_t)in) : sv("", 0);
            struct xb_str path = sub(l, (size_t)in + 4, l.n);
            int64_t line = 0;
            colon = rfind(path, ':');
            if (colon >= 0) {
                struct xb_str ls = sub(path, (size_t)colon + 1, path.n);
                if (starts(ls, "line"))
                    ls = sub(ls, 5, ls.n);
                path = sub(path, 0, (size_t)colon);
                line = atoi_strict(ls);
            }
            rc = add_frame(c, first, arena, path, label, line);
        } else {
            rp = rfind(l, ')');
            if (rp >= 0)
                rc = add_frame(c, first, arena, sv("", 0), sub(l, 3, (size_t)rp + 1), 0);
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ Go */

static int is_word(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* ^goroutine.*\brunning\b.*:$ */
static int go_running_header(struct xb_str l)
{
    size_t i;

    if (!starts(l, "goroutine") || !ends(l, ':'))
        return 0;
    for (i = 9; i + 7 <= l.n; i++) {
        if (memcmp(l.p + i, "running", 7) != 0)
            continue;
        if (i > 0 && is_word(l.p[i - 1]))
            continue;
        if (i + 7 < l.n && is_word(l.p[i + 7]))
            continue;
        return 1;
    }
    return 0;
}

static int is_go_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* First ([^:\s]+):(\d+) match in |l|. */
static int go_path_line(struct xb_str l, struct xb_str *path, int64_t *line)
{
    size_t p = 0;

    while (p < l.n) {
        size_t q = p, d;
        if (l.p[p] == ':' || is_go_space(l.p[p])) {
            p++;
            continue;
        }
        while (q < l.n && l.p[q] != ':' && !is_go_space(l.p[q]))
            q++;
        if (q + 1 < l.n && l.p[q] == ':' && l.p[q + 1] >= '0' && l.p[q + 1] <= '9') {
            d = q + 1;
            while (d < l.n && l.p[d] >= '0' && l.p[d] <= '9')
                d++;
            *path = sub(l, p, q);
            *line = atoi_strict(sub(l, q + 1, d));
            return 1;
        }
        p = q; /* any start inside this run fails the same way */
    }
    return 0;
}

static int parse_go(struct xb_tr_xcause *c, size_t first, const char *s, size_t n,
                    struct xb_arena *arena)
{
    struct lines it = {s, n, 0};
    struct xb_str l, l2, path = sv("", 0);
    int64_t line = 0;
    int rc = XB_OK;

    next_line(&it, &l);
    while (rc == XB_OK && next_line(&it, &l)) {
        if (go_running_header(l) && !next_line(&it, &l))
            l = sv("", 0);
        if (!next_line(&it, &l2))
            l2 = sv("", 0);
        go_path_line(l2, &path, &line);
        rc = add_frame(c, first, arena, path, l, line);
    }
    return rc;
}

int xb_tr_cause_parse_stack(struct xb_tr_xcause *c, size_t first, const char *lang,
                            const char *stack, size_t n, struct xb_arena *arena,
                            struct xb_tr_idgen *ids)
{
    if (!stack || n == 0 || !lang)
        return XB_OK;
    if (strcmp(lang, "java") == 0 || strcmp(lang, "php") == 0)
        return parse_java(c, first, stack, n, arena, ids);
    if (strcmp(lang, "python") == 0)
        return parse_python(c, first, stack, n, arena, ids);
    /* Upstream checks only "javascript"; the OpenTelemetry JS SDK reports "nodejs" or
     * "webjs" (deliberate difference, docs/translation.md). */
    if (strcmp(lang, "javascript") == 0 || strcmp(lang, "nodejs") == 0 ||
        strcmp(lang, "webjs") == 0)
        return parse_js(c, first, stack, n, arena);
    if (strcmp(lang, "dotnet") == 0)
        return parse_dotnet(c, first, stack, n, arena);
    if (strcmp(lang, "go") == 0)
        return parse_go(c, first, stack, n, arena);
    return XB_OK;
}

/* ------------------------------------------------------------------ cause block */

static const xb_pb_any *event_attr(const xb_pb_event *ev, const char *key)
{
    size_t i;
    static const xb_pb_any none = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;

    for (i = 0; i < ev->n_attributes; i++)
        if (ev->attributes[i] && ev->attributes[i]->key && strcmp(ev->attributes[i]->key, key) == 0)
            return ev->attributes[i]->value ? ev->attributes[i]->value : &none;
    return NULL;
}

static struct xb_str cstr(const char *s)
{
    return sv(s, strlen(s));
}

static int add_http_failure(struct xb_tr_xcause *c, const xb_pb_event *ev, struct xb_arena *arena,
                            struct xb_tr_idgen *ids)
{
    const xb_pb_any *code = event_attr(ev, "http.response.status_code");
    const xb_pb_any *msg = event_attr(ev, "aws.http.error_message");
    const char *code_s, *msg_s;
    size_t len;
    char *buf;

    if (!code || !msg)
        return XB_OK;
    code_s = xb_tr_any_as_string(code, arena);
    if (!code_s)
        return XB_ERR_NOMEM;
    msg_s = xb_tr_any_str(msg);
    len = strlen(code_s) + strlen(msg_s) + 48;
    buf = xb_arena_alloc(arena, len);
    if (!buf)
        return XB_ERR_NOMEM;
    len = (size_t)snprintf(buf, len, "%s@%" PRIu64 ".%06" PRIu64 "@%s", code_s,
                           ev->time_unix_nano / 1000000000u,
                           (ev->time_unix_nano % 1000000000u) / 1000u, msg_s);
    if (xb_tr_cause_add(c, arena, ids, cstr("aws.http.error.event"), sv(buf, len), 1) < 0)
        return XB_ERR_NOMEM;
    return XB_OK;
}

int xb_tr_cause_build(struct xb_tr_attrs *attrs, const xb_pb_span *span,
                      const struct xb_tr_attrs *res, struct xb_arena *arena,
                      struct xb_tr_idgen *ids, struct xb_tr_xdoc *d)
{
    struct xb_tr_attr *st = xb_tr_attrs_k(attrs, XB_TK_HTTP_STATUS_CODE);
    int status_err = span->status && span->status->code == XB_STATUS_ERROR;
    int aws_sdk = strcmp(xb_tr_any_str(xb_tr_attrs_val_k(attrs, XB_TK_RPC_SYSTEM)), "aws-api") == 0;
    const char *lang = xb_tr_any_str(xb_tr_attrs_val_k(res, XB_TK_TELEMETRY_SDK_LANGUAGE));
    struct xb_tr_xcause *c = NULL;
    size_t i;
    int64_t code;
    int rc = XB_OK, any_event = 0;

    if (!st)
        st = xb_tr_attrs_k(attrs, XB_TK_HTTP_RESPONSE_STATUS_CODE);
    code = st ? xb_tr_any_int(st->val) : 0;
    d->fault = d->error = d->throttle = 0;
    if (st && code >= 400 && code <= 499) {
        d->error = 1;
        d->throttle = code == 429;
    } else if (st && code >= 500 && code <= 599) {
        d->fault = 1;
    } else {
        d->fault = status_err;
    }

    for (i = 0; i < span->n_events; i++) {
        const xb_pb_event *ev = span->events[i];
        if (ev && ev->name &&
            (strcmp(ev->name, "exception") == 0 ||
             (aws_sdk && strcmp(ev->name, "HTTP request failure") == 0)))
            any_event = 1;
    }
    if (any_event || status_err) {
        c = xb_arena_calloc(arena, sizeof(*c));
        if (!c) {
            rc = XB_ERR_NOMEM;
            goto out;
        }
    }
    if (any_event) {
        int remote = span->kind == XB_KIND_CLIENT || span->kind == XB_KIND_PRODUCER;
        for (i = 0; i < span->n_events && rc == XB_OK; i++) {
            const xb_pb_event *ev = span->events[i];
            if (!ev || !ev->name)
                continue;
            if (strcmp(ev->name, "exception") == 0) {
                const char *stack = xb_tr_any_str(event_attr(ev, "exception.stacktrace"));
                int ei = xb_tr_cause_add(
                    c, arena, ids, cstr(xb_tr_any_str(event_attr(ev, "exception.type"))),
                    cstr(xb_tr_any_str(event_attr(ev, "exception.message"))), remote);
                if (ei < 0) {
                    rc = XB_ERR_NOMEM;
                    goto out;
                }
                rc = xb_tr_cause_parse_stack(c, (size_t)ei, lang, stack, strlen(stack), arena, ids);
            } else if (aws_sdk && strcmp(ev->name, "HTTP request failure") == 0) {
                rc = add_http_failure(c, ev, arena, ids);
            }
        }
    } else if (status_err) {
        const char *msg = span->status->message ? span->status->message : "";
        struct xb_tr_attr *text = xb_tr_attrs_live_k(attrs, XB_TK_HTTP_STATUS_TEXT);
        if (!*msg && text)
            msg = xb_tr_any_str(text->val);
        xb_tr_attrs_consume_k(attrs, XB_TK_HTTP_STATUS_TEXT);
        if (*msg && xb_tr_cause_add(c, arena, ids, cstr(""), cstr(msg), -1) < 0) {
            rc = XB_ERR_NOMEM;
            goto out;
        }
    }
    if (c && c->n)
        d->cause = c;
out:
    return rc;
}
