/*
 * tests/golden/test_golden.c - table-driven golden tests for the translator.
 *
 * Every file tests/golden/cases/NNN-name.json is one cmocka test. A case holds an
 * OTLP/JSON ExportTraceServiceRequest ("input") or its protobuf encoding in hex
 * ("input_protobuf_hex"), optional translator options ("config"), and the X-Ray
 * documents awsxrayexporter v0.156.0 would produce ("expected", in emit order), as
 * described in docs/translation.md. The format is documented in tests/golden/README.md.
 *
 * Comparison is structural: both sides are parsed with cJSON, object keys are compared
 * as sets, arrays in order, numbers as doubles (start_time/end_time with a relative
 * tolerance of 1e-15). Separately, the top-level keys of each produced document must
 * appear in the order the exporter writes them (docs/translation.md, "Fields").
 *
 * Usage: test_golden [CASES_DIR [SUBSTRING]]  (SUBSTRING selects cases by file name).
 * Environment: XB_GOLDEN_DUMP=1 prints every produced document.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hex.h"
#include "core/jsonw.h"
#include "receiver/otlp_decode.h"
#include "tests/golden/doc_check.h"
#include "translator/translate.h"

#ifndef XB_GOLDEN_CASES_DIR
#define XB_GOLDEN_CASES_DIR "tests/golden/cases"
#endif

#define MSG_MAX 8192
#define DEFAULT_NOW_UNIX 1700000100

/* Top-level key order the exporter writes (docs/translation.md, "Fields"). */
static const char *const key_order[] = {
    "name",         "id",          "start_time", "service",   "origin",      "user",
    "resource_arn", "links",       "trace_id",   "end_time",  "in_progress", "http",
    "fault",        "error",       "throttle",   "cause",     "aws",         "annotations",
    "metadata",     "subsegments", "namespace",  "parent_id", "type",        "precursor_ids",
    "traced",       "sql",
};

/* One emitted document (heap copy). */
struct doc {
    char *json;
    size_t len;
};

/* Documents collected by the emit callback. */
struct doc_list {
    struct doc *v;
    size_t n, cap;
};

/* Per-case failure message, filled by the first failed check. */
struct report {
    char msg[MSG_MAX];
    int failed;
};

static void failf(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failf(struct report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->failed)
        return;
    r->failed = 1;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
}

static int collect(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    struct doc_list *l = ud;
    char *copy;

    (void)trace_id;
    (void)id;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        struct doc *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return XB_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    copy = malloc(len + 1);
    if (!copy)
        return XB_ERR_NOMEM;
    memcpy(copy, json, len);
    copy[len] = '\0';
    l->v[l->n].json = copy;
    l->v[l->n].len = len;
    l->n++;
    return XB_OK;
}

static void doc_list_free(struct doc_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].json);
    free(l->v);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long sz;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    data = malloc((size_t)sz + 1);
    if (!data)
        goto out;
    if (fread(data, 1, (size_t)sz, f) != (size_t)sz) {
        free(data);
        data = NULL;
        goto out;
    }
    data[sz] = '\0';
    *len = (size_t)sz;
out:
    fclose(f);
    return data;
}

/* ---- structural comparison -------------------------------------------------------- */

/* Per-document comparison settings. */
struct cmp_ctx {
    const cJSON *ignore; /* dotted paths ("cause.exceptions.0.id" or "1:id") */
    size_t doc;          /* index of the document being compared */
    int partial;         /* extra keys in the actual document are allowed */
    int exact_times;     /* no tolerance on start_time/end_time */
};

/* An ignore entry names |path| in every document, or "I:path" in document I only. */
static int path_ignored(const struct cmp_ctx *x, const char *path)
{
    const cJSON *it;
    char pre[32];
    size_t pl = (size_t)snprintf(pre, sizeof pre, "%zu:", x->doc);

    cJSON_ArrayForEach(it, x->ignore)
    {
        if (!cJSON_IsString(it))
            continue;
        if (strcmp(it->valuestring, path) == 0)
            return 1;
        if (strncmp(it->valuestring, pre, pl) == 0 && strcmp(it->valuestring + pl, path) == 0)
            return 1;
    }
    return 0;
}

static const char *type_name(const cJSON *n)
{
    if (!n)
        return "absent";
    if (cJSON_IsString(n))
        return "string";
    if (cJSON_IsNumber(n))
        return "number";
    if (cJSON_IsBool(n))
        return "bool";
    if (cJSON_IsNull(n))
        return "null";
    if (cJSON_IsArray(n))
        return "array";
    if (cJSON_IsObject(n))
        return "object";
    return "invalid";
}

static int is_time_key(const char *key)
{
    return key && (strcmp(key, "start_time") == 0 || strcmp(key, "end_time") == 0);
}

static void value_text(const cJSON *n, char *out, size_t outlen)
{
    char *p;

    if (!n) {
        snprintf(out, outlen, "(absent)");
        return;
    }
    p = cJSON_PrintUnformatted(n);
    snprintf(out, outlen, "%.600s%s", p ? p : "?", p && strlen(p) > 600 ? "..." : "");
    cJSON_free(p);
}

/*
 * Compares |exp| with |act| at |path| (dotted; array elements by index). With
 * |partial| set, keys of |act| that |exp| does not list are allowed.
 */
static void compare(const cJSON *exp, const cJSON *act, const char *path, const char *key,
                    const struct cmp_ctx *x, struct report *r)
{
    char et[700], at[700];
    const cJSON *c;

    if (r->failed)
        return;
    if (!act) {
        value_text(exp, et, sizeof et);
        failf(r, "at %s: key missing, expected %s", path, et);
        return;
    }
    if (path_ignored(x, path))
        return;
    if (strcmp(type_name(exp), type_name(act)) != 0 ||
        (cJSON_IsBool(exp) && cJSON_IsTrue(exp) != cJSON_IsTrue(act))) {
        goto mismatch;
    }
    if (cJSON_IsNumber(exp)) {
        double e = exp->valuedouble, a = act->valuedouble;
        if (e == a)
            return;
        if (!x->exact_times && is_time_key(key) && fabs(e - a) <= fabs(e) * 1e-15)
            return;
        goto mismatch;
    }
    if (cJSON_IsString(exp)) {
        if (strcmp(exp->valuestring, act->valuestring) != 0)
            goto mismatch;
        return;
    }
    if (cJSON_IsArray(exp)) {
        int ne = cJSON_GetArraySize(exp), na = cJSON_GetArraySize(act);
        if (ne != na) {
            value_text(exp, et, sizeof et);
            value_text(act, at, sizeof at);
            failf(r, "at %s: array has %d elements, expected %d\n  expected: %s\n  actual:   %s",
                  path, na, ne, et, at);
            return;
        }
        for (int i = 0; i < ne; i++) {
            char sub[1024];
            snprintf(sub, sizeof sub, "%s%s%d", path, *path ? "." : "", i);
            compare(cJSON_GetArrayItem(exp, i), cJSON_GetArrayItem(act, i), sub, NULL, x, r);
        }
        return;
    }
    if (cJSON_IsObject(exp)) {
        cJSON_ArrayForEach(c, exp)
        {
            char sub[1024];
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", c->string);
            compare(c, cJSON_GetObjectItemCaseSensitive(act, c->string), sub, c->string, x, r);
        }
        if (x->partial || r->failed)
            return;
        cJSON_ArrayForEach(c, act)
        {
            if (!cJSON_GetObjectItemCaseSensitive(exp, c->string)) {
                value_text(c, at, sizeof at);
                failf(r, "at %s%s%s: unexpected key, value %s", path, *path ? "." : "", c->string,
                      at);
                return;
            }
        }
        return;
    }
    return; /* null, both */
mismatch:
    value_text(exp, et, sizeof et);
    value_text(act, at, sizeof at);
    failf(r, "at %s: expected %s, got %s", *path ? path : "(document)", et, at);
}

/* Checks that the top-level keys of |doc| follow key_order (unknown keys skipped). */
static void check_key_order(const cJSON *doc, size_t idx, struct report *r)
{
    const cJSON *c;
    int last = -1;
    const char *last_key = NULL;

    cJSON_ArrayForEach(c, doc)
    {
        int pos = -1;
        for (size_t i = 0; i < sizeof key_order / sizeof key_order[0]; i++) {
            if (strcmp(c->string, key_order[i]) == 0) {
                pos = (int)i;
                break;
            }
        }
        if (pos < 0)
            continue;
        if (pos < last) {
            failf(r,
                  "document %zu: key order: \"%s\" written after \"%s\" (docs/translation.md key "
                  "order)",
                  idx, c->string, last_key);
            return;
        }
        last = pos;
        last_key = c->string;
    }
}

/* Resolves "I:dotted.path" against the parsed documents. */
static const cJSON *resolve(cJSON **docs, size_t n, const char *ref)
{
    char *end;
    unsigned long i = strtoul(ref, &end, 10);
    const cJSON *cur;
    char part[256];

    if (*end != ':' || i >= n)
        return NULL;
    cur = docs[i];
    ref = end + 1;
    while (cur && *ref) {
        const char *dot = strchr(ref, '.');
        size_t l = dot ? (size_t)(dot - ref) : strlen(ref);
        if (l >= sizeof part)
            return NULL;
        memcpy(part, ref, l);
        part[l] = '\0';
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(part));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, part);
        ref = dot ? dot + 1 : ref + l;
    }
    return cur;
}

/* ---- one case ----------------------------------------------------------------------- */

/* Fills a string array from a JSON array of strings; the strings stay owned by |arr|. */
static const char **string_array(const cJSON *arr, size_t *n)
{
    const char **v;
    const cJSON *it;
    size_t k = 0;

    *n = 0;
    if (!cJSON_IsArray(arr))
        return NULL;
    v = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *v);
    if (!v)
        return NULL;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it))
            v[k++] = it->valuestring;
    }
    *n = k;
    return v;
}

/*
 * Translates |req| with |base| in plain and in embedded form (translator config
 * embedded_documents) at the case's own max_document_bytes and at caps small enough to
 * trim: every embedded document must be xb_jsonw_embed() of the plain one, byte for
 * byte, with the same counts (documents, rejections, trimmed).
 */
static void check_embedded_form(const struct xb_translator_config *base,
                                const xb_pb_export_req *req, int64_t now, struct xb_arena *arena,
                                struct report *r)
{
    const size_t caps[] = {base->max_document_bytes, 4000, 1200, 600, 300};
    struct xb_buf out, want;

    xb_buf_init(&out, 0);
    xb_buf_init(&want, 0);
    for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]) && !r->failed; k++) {
        struct xb_translator_config cfg = *base;
        struct doc_list plain = {0}, emb = {0};
        struct xb_translate_result rp, re;
        int rcp, rce;

        cfg.max_document_bytes = caps[k];
        cfg.embedded_documents = 0;
        rcp = xb_translate_request(&cfg, req, now, arena, &out, collect, &plain, &rp);
        cfg.embedded_documents = 1;
        rce = xb_translate_request(&cfg, req, now, arena, &out, collect, &emb, &re);
        if (rcp != rce || rp.documents != re.documents || rp.spans != re.spans ||
            rp.rejected_spans != re.rejected_spans || rp.trimmed != re.trimmed ||
            plain.n != emb.n) {
            failf(r, "cap %zu: embedded form: rc %d/%d, documents %zu/%zu, trimmed %zu/%zu",
                  caps[k], rcp, rce, rp.documents, re.documents, rp.trimmed, re.trimmed);
        }
        for (size_t i = 0; i < plain.n && i < emb.n && !r->failed; i++) {
            xb_buf_clear(&want);
            if (xb_jsonw_embed(&want, plain.v[i].json, plain.v[i].len) != XB_OK ||
                want.len != emb.v[i].len || memcmp(want.data, emb.v[i].json, want.len) != 0)
                failf(r,
                      "cap %zu: document %zu in embedded form differs from the plain one "
                      "embedded:\n  %.1000s\n  %.1000s",
                      caps[k], i, emb.v[i].json, want.data ? want.data : "");
        }
        doc_list_free(&plain);
        doc_list_free(&emb);
    }
    xb_buf_cleanup(&out);
    xb_buf_cleanup(&want);
}

static void run_case_file(const char *path, struct report *r)
{
    char *text = NULL, *input_text = NULL;
    unsigned char *pb = NULL;
    size_t text_len = 0, pb_len = 0;
    cJSON *c = NULL, *cfg_j, *input, *expected, *partial_exp, *ignore, *f;
    cJSON **parsed = NULL;
    const char **indexed = NULL, **groups = NULL;
    struct xb_translator_config cfg;
    struct xb_arena *arena = NULL;
    struct xb_buf out;
    struct doc_list docs = {0};
    struct xb_translate_result res;
    xb_pb_export_req *req = NULL;
    const char *err_desc = NULL;
    int64_t now = DEFAULT_NOW_UNIX;
    long want_rejected = 0;
    size_t max_bytes;
    char why[512];
    int rc;

    xb_buf_init(&out, 0);
    text = read_file(path, &text_len);
    if (!text) {
        failf(r, "cannot read %s", path);
        goto out;
    }
    c = cJSON_ParseWithLength(text, text_len);
    if (!cJSON_IsObject(c)) {
        failf(r, "case file %s is not a JSON object", path);
        goto out;
    }

    /* Options. */
    xb_translator_config_defaults(&cfg);
    cfg_j = cJSON_GetObjectItemCaseSensitive(c, "config");
    if (cJSON_IsObject(cfg_j)) {
        indexed = string_array(cJSON_GetObjectItemCaseSensitive(cfg_j, "indexed_attributes"),
                               &cfg.n_indexed_attributes);
        cfg.indexed_attributes = indexed;
        groups = string_array(cJSON_GetObjectItemCaseSensitive(cfg_j, "aws_log_groups"),
                              &cfg.n_aws_log_groups);
        cfg.aws_log_groups = groups;
        if ((f = cJSON_GetObjectItemCaseSensitive(cfg_j, "index_all_attributes")))
            cfg.index_all_attributes = cJSON_IsTrue(f);
        if ((f = cJSON_GetObjectItemCaseSensitive(cfg_j, "allow_dot_in_annotation_keys")))
            cfg.allow_dot_in_annotation_keys = cJSON_IsTrue(f);
        if ((f = cJSON_GetObjectItemCaseSensitive(cfg_j, "skip_timestamp_validation")))
            cfg.skip_timestamp_validation = cJSON_IsTrue(f);
        if ((f = cJSON_GetObjectItemCaseSensitive(cfg_j, "read_new_semantic_conventions")))
            cfg.read_new_semantic_conventions = cJSON_IsTrue(f);
        if (cJSON_IsNumber(f = cJSON_GetObjectItemCaseSensitive(cfg_j, "now_unix")))
            now = (int64_t)f->valuedouble;
        if (cJSON_IsNumber(f = cJSON_GetObjectItemCaseSensitive(cfg_j, "max_document_bytes")))
            cfg.max_document_bytes = (size_t)f->valuedouble;
    }
    max_bytes = cfg.max_document_bytes ? cfg.max_document_bytes : XB_XRAY_MAX_DOC_BYTES;

    /* Input. */
    arena = xb_arena_new(64 * 1024, 0);
    if (!arena) {
        failf(r, "out of memory");
        goto out;
    }
    input = cJSON_GetObjectItemCaseSensitive(c, "input");
    f = cJSON_GetObjectItemCaseSensitive(c, "input_protobuf_hex");
    if (cJSON_IsString(f)) {
        size_t hl = strlen(f->valuestring);
        pb = malloc(hl / 2 + 1);
        if (!pb || hl % 2) {
            failf(r, "bad input_protobuf_hex");
            goto out;
        }
        for (size_t i = 0; i < hl / 2; i++) {
            int hi = xb_hex_value((unsigned char)f->valuestring[2 * i]),
                lo = xb_hex_value((unsigned char)f->valuestring[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                failf(r, "bad input_protobuf_hex");
                goto out;
            }
            pb[pb_len++] = (unsigned char)(hi * 16 + lo);
        }
        rc = xb_otlp_decode_protobuf(pb, pb_len, arena, &req, &err_desc);
    } else if (cJSON_IsObject(input)) {
        input_text = cJSON_PrintUnformatted(input);
        if (!input_text) {
            failf(r, "out of memory");
            goto out;
        }
        rc = xb_otlp_decode_json(input_text, strlen(input_text), arena, &req, &err_desc);
    } else {
        failf(r, "case has neither \"input\" nor \"input_protobuf_hex\"");
        goto out;
    }
    if (rc != XB_OK) {
        failf(r, "decoding the input failed: %s (%s)", xb_strerror(rc), err_desc ? err_desc : "?");
        goto out;
    }

    /* Translate. */
    rc = xb_translate_request(&cfg, req, now, arena, &out, collect, &docs, &res);
    if (rc != XB_OK) {
        failf(r, "xb_translate_request returned %d (%s)", rc, xb_strerror(rc));
        goto out;
    }
    f = cJSON_GetObjectItemCaseSensitive(c, "expected_rejected");
    if (cJSON_IsNumber(f))
        want_rejected = (long)f->valuedouble;
    if ((long)res.rejected_spans != want_rejected) {
        failf(r, "%zu span(s) rejected, expected %ld (first error: %s)", res.rejected_spans,
              want_rejected, res.first_error ? res.first_error : "none");
        goto out;
    }

    /* Generic invariants on every document. */
    parsed = calloc(docs.n + 1, sizeof *parsed);
    if (!parsed) {
        failf(r, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < docs.n; i++) {
        if (getenv("XB_GOLDEN_DUMP"))
            printf("document %zu: %s\n", i, docs.v[i].json);
        if (xb_doccheck_document(docs.v[i].json, docs.v[i].len, max_bytes, why, sizeof why)) {
            failf(r, "document %zu: %s\n  document: %.2000s", i, why, docs.v[i].json);
            goto out;
        }
        parsed[i] = cJSON_ParseWithLength(docs.v[i].json, docs.v[i].len);
        check_key_order(parsed[i], i, r);
    }
    if (r->failed)
        goto out;

    /* Expected documents: full or partial comparison. */
    ignore = cJSON_GetObjectItemCaseSensitive(c, "ignore");
    expected = cJSON_GetObjectItemCaseSensitive(c, "expected");
    partial_exp = cJSON_GetObjectItemCaseSensitive(c, "expected_partial");
    if (!expected)
        expected = partial_exp;
    if (cJSON_IsArray(expected)) {
        size_t ne = (size_t)cJSON_GetArraySize(expected);
        if (ne != docs.n) {
            failf(r, "%zu document(s) emitted, expected %zu%s%.2000s", docs.n, ne,
                  docs.n ? "\n  first: " : "", docs.n ? docs.v[0].json : "");
            goto out;
        }
        for (size_t i = 0; i < ne; i++) {
            struct cmp_ctx x = {ignore, i, expected == partial_exp,
                                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "exact_times"))};
            compare(cJSON_GetArrayItem(expected, (int)i), parsed[i], "", NULL, &x, r);
            if (r->failed) {
                char tmp[MSG_MAX];
                snprintf(tmp, sizeof tmp, "document %zu: %.4000s\n  document: %.3000s", i, r->msg,
                         docs.v[i].json);
                memcpy(r->msg, tmp, sizeof tmp);
                goto out;
            }
        }
    } else if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "expected_rejected"))) {
        failf(r, "case has no \"expected\", \"expected_partial\" or \"expected_rejected\"");
        goto out;
    } else if (docs.n != 0) {
        failf(r, "%zu document(s) emitted, expected none", docs.n);
        goto out;
    }

    /* Values that must be equal across documents (e.g. local-root parent id S). */
    f = cJSON_GetObjectItemCaseSensitive(c, "same_values");
    if (cJSON_IsArray(f)) {
        const cJSON *pair;
        cJSON_ArrayForEach(pair, f)
        {
            const cJSON *a = cJSON_GetArrayItem(pair, 0), *b = cJSON_GetArrayItem(pair, 1);
            const cJSON *va, *vb;
            if (!cJSON_IsString(a) || !cJSON_IsString(b)) {
                failf(r, "bad same_values entry");
                goto out;
            }
            va = resolve(parsed, docs.n, a->valuestring);
            vb = resolve(parsed, docs.n, b->valuestring);
            if (!va || !vb || !cJSON_Compare(va, vb, 1)) {
                char ta[256], tb[256];
                value_text(va, ta, sizeof ta);
                value_text(vb, tb, sizeof tb);
                failf(r, "%s (%s) differs from %s (%s)", a->valuestring, ta, b->valuestring, tb);
                goto out;
            }
        }
    }

    /* Raw-text expectations (int64 digits, escapes) that cJSON's doubles cannot see. */
    f = cJSON_GetObjectItemCaseSensitive(c, "expect_raw_contains");
    if (cJSON_IsArray(f)) {
        const cJSON *s;
        cJSON_ArrayForEach(s, f)
        {
            int found = 0;
            if (!cJSON_IsString(s)) {
                failf(r, "bad expect_raw_contains entry (not a string)");
                goto out;
            }
            for (size_t i = 0; i < docs.n; i++)
                found |= strstr(docs.v[i].json, s->valuestring) != NULL;
            if (!found) {
                failf(r, "no document contains the text %s\n  document: %.2000s", s->valuestring,
                      docs.n ? docs.v[0].json : "(none)");
                goto out;
            }
        }
    }
    f = cJSON_GetObjectItemCaseSensitive(c, "expect_max_bytes");
    if (cJSON_IsNumber(f)) {
        for (size_t i = 0; i < docs.n; i++) {
            if (docs.v[i].len > (size_t)f->valuedouble) {
                failf(r, "document %zu is %zu bytes, expected <= %.0f", i, docs.v[i].len,
                      f->valuedouble);
                goto out;
            }
        }
    }
    f = cJSON_GetObjectItemCaseSensitive(c, "expect_trimmed");
    if (cJSON_IsBool(f) && cJSON_IsTrue(f) != (res.trimmed > 0)) {
        failf(r, "result.trimmed = %zu, expected %s", res.trimmed, cJSON_IsTrue(f) ? "> 0" : "0");
        goto out;
    }
    check_embedded_form(&cfg, req, now, arena, r);
out:
    if (parsed) {
        for (size_t i = 0; i < docs.n; i++)
            cJSON_Delete(parsed[i]);
        free(parsed);
    }
    doc_list_free(&docs);
    xb_buf_cleanup(&out);
    xb_arena_free(arena);
    cJSON_free(input_text);
    free(indexed);
    free(groups);
    free(pb);
    cJSON_Delete(c);
    free(text);
}

static void golden_case(void **state)
{
    const char *path = *state;
    struct report *r = calloc(1, sizeof *r);

    assert_non_null(r);
    run_case_file(path, r);
    if (r->failed) {
        print_error("%s: %s\n", path, r->msg);
        free(r);
        fail();
    }
    free(r);
}

/* ---- main: one cmocka test per case file ---------------------------------------------- */

static int json_file(const struct dirent *d)
{
    size_t l = strlen(d->d_name);
    return l > 5 && d->d_name[0] != '.' && strcmp(d->d_name + l - 5, ".json") == 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : XB_GOLDEN_CASES_DIR;
    const char *filter = argc > 2 ? argv[2] : NULL;
    struct dirent **names = NULL;
    struct CMUnitTest *tests = NULL;
    char **paths = NULL;
    size_t nt = 0;
    int n, rc = 1;

    n = scandir(dir, &names, json_file, alphasort);
    if (n <= 0) {
        fprintf(stderr, "test_golden: no case files in %s\n", dir);
        goto out;
    }
    tests = calloc((size_t)n, sizeof *tests);
    paths = calloc((size_t)n, sizeof *paths);
    if (!tests || !paths)
        goto out;
    for (int i = 0; i < n; i++) {
        size_t l;
        if (filter && !strstr(names[i]->d_name, filter))
            continue;
        l = strlen(dir) + strlen(names[i]->d_name) + 2;
        paths[nt] = malloc(l);
        if (!paths[nt])
            goto out;
        snprintf(paths[nt], l, "%s/%s", dir, names[i]->d_name);
        tests[nt].name = names[i]->d_name;
        tests[nt].test_func = golden_case;
        tests[nt].initial_state = paths[nt];
        nt++;
    }
    if (nt == 0) {
        fprintf(stderr, "test_golden: no case matches \"%s\"\n", filter);
        goto out;
    }
    rc = _cmocka_run_group_tests("golden", tests, nt, NULL, NULL);
out:
    for (size_t i = 0; paths && i < nt; i++)
        free(paths[i]);
    free(paths);
    free(tests);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}
