/*
 * bench/dump_docs.c - prints every document the translator writes for a set of inputs
 * under many translator configurations, so that two builds' outputs can be compared
 * byte for byte (bench/compare_docs.sh, docs/performance.md "Output unchanged").
 *
 *   dump_docs [-E] [-p FILE_OR_DIR]... [-j FILE_OR_DIR]... [-n SPANS -s SEED]...
 *
 * -E (first): translate with embedded_documents and print each document with its
 *     embedding undone (each \" and \\ back to one byte; a bare '"' or any other
 *     backslash prints as '?'), so that the output equals a plain run's exactly when
 *     every embedded document is the plain one escaped (bench/compare_docs.sh with
 *     XB_COMPARE_EMBEDDED=1);
 * -p: raw protobuf requests (each file, or each file of a directory, in name order),
 *     decoded with xb_otlp_decode_protobuf() and with the reference decoder;
 * -j: OTLP/JSON requests, decoded with xb_otlp_decode_json();
 * -n/-s: the bench request of SPANS spans built with SEED (bench/request_builder.h, a
 *     fixed start time), as protobuf (both decoders) and as OTLP/JSON. -s applies to
 *     the -n that follows it.
 * Each input is translated under 128 configurations: the 32 of the fuzz targets
 * (index_all_attributes, allow_dot_in_annotation_keys, skip_timestamp_validation,
 * max_document_bytes 1500, an indexed_attributes list with aws_log_groups) times
 * read_new_semantic_conventions times extra resource attributes (none, merged, or
 * overriding). Output: one header line per input and configuration, the result
 * counts and first error, then each document on its own line.
 * Exit status 0, 1 on an unreadable input or out of memory, 2 on bad usage.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/request_builder.h"
#include "bench/request_json.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "receiver/otlp_decode.h"
#include "translator/translate.h"

#define NOW_UNIX 1700000100 /* fixed "now" for timestamp validation (as the fuzz targets) */
#define START_NS 1699999990000000000ull
#define ARENA_MAX (512u << 20)

static const char *const indexed[] = {"http.method", "team", "aws.operation",
                                      "otel.resource.service.name", "db.statement"};
static const char *const groups[] = {"fuzz-group"};

/* Extra resource attributes (the resourcedetection processor's shape). */
static xb_pb_any extra_vals[3] = {OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT,
                                  OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT,
                                  OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT};
static xb_pb_kv extra_kv[3] = {OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT,
                               OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT,
                               OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT};
static xb_pb_kv *extra[3];
static int embedded; /* -E */

static void extra_init(void)
{
    static const char *const keys[] = {"cloud.platform", "host.id", "service.name"};
    static const char *const vals[] = {"aws_ec2", "i-0123456789abcdef0", "detected"};

    for (size_t i = 0; i < 3; i++) {
        extra_vals[i].value_case = XB_ANY_STRING;
        extra_vals[i].string_value = (char *)vals[i];
        extra_kv[i].key = (char *)keys[i];
        extra_kv[i].value = &extra_vals[i];
        extra[i] = &extra_kv[i];
    }
}

static void config(unsigned flags, struct xb_translator_config *cfg)
{
    xb_translator_config_defaults(cfg);
    cfg->index_all_attributes = flags & 1;
    cfg->allow_dot_in_annotation_keys = (flags >> 1) & 1;
    cfg->skip_timestamp_validation = (flags >> 2) & 1;
    if (flags & 8)
        cfg->max_document_bytes = 1500;
    if (flags & 16) {
        cfg->indexed_attributes = indexed;
        cfg->n_indexed_attributes = sizeof indexed / sizeof indexed[0];
        cfg->aws_log_groups = groups;
        cfg->n_aws_log_groups = 1;
    }
    cfg->read_new_semantic_conventions = (flags >> 5) & 1;
    if ((flags >> 6) & 3) {
        cfg->extra_resource = extra;
        cfg->n_extra_resource = 3;
        cfg->extra_resource_override = ((flags >> 6) & 3) == 2;
    }
}

static int print_doc(void *ud, const char *json, size_t len, const char *trace_id, const char *id)
{
    (void)ud;
    printf("%s %s ", trace_id, id);
    if (!embedded) {
        fwrite(json, 1, len, stdout);
    } else {
        /* The exact inverse of xb_jsonw_embed(), which escapes only '"' and '\\': a bare
         * '"', or a backslash before anything else, is no embedding of a plain document
         * and prints as '?' so that the comparison fails. */
        for (size_t i = 0; i < len; i++) {
            if (json[i] == '"')
                putchar('?');
            else if (json[i] != '\\')
                putchar(json[i]);
            else if (i + 1 < len && (json[i + 1] == '"' || json[i + 1] == '\\'))
                putchar(json[++i]);
            else
                putchar('?');
        }
    }
    putchar('\n');
    return XB_OK;
}

static int translate_all(const char *name, const xb_pb_export_req *req, struct xb_arena *arena)
{
    struct xb_buf out;
    int rc = XB_OK;

    xb_buf_init(&out, 0);
    for (unsigned f = 0; f < 192; f++) {
        struct xb_translator_config cfg;
        struct xb_translate_result res;
        struct xb_arena_mark mark;
        xb_arena_mark(arena, &mark);
        if (((f >> 6) & 3) == 3)
            continue;
        config(f, &cfg);
        cfg.embedded_documents = embedded;
        printf("== %s config=%u\n", name, f);
        rc = xb_translate_request(&cfg, req, NOW_UNIX, arena, &out, print_doc, NULL, &res);
        printf("-- rc=%d spans=%zu docs=%zu rejected=%zu trimmed=%zu err=%s\n", rc, res.spans,
               res.documents, res.rejected_spans, res.trimmed,
               res.first_error ? res.first_error : "-");
        xb_arena_release(arena, &mark);
        if (rc == XB_ERR_NOMEM)
            break;
    }
    xb_buf_cleanup(&out);
    return rc == XB_ERR_NOMEM ? -1 : 0;
}

/* Decodes |data| with each decoder of |json| (0: protobuf and the reference, 1: JSON) and
 * translates. */
static int run_input(const char *name, const uint8_t *data, size_t len, int json)
{
    int (*dec[2])(const void *, size_t, struct xb_arena *, xb_pb_export_req **,
                  const char **) = {json ? xb_otlp_decode_json : xb_otlp_decode_protobuf,
                                    json ? NULL : xb_otlp_decode_protobuf_ref};
    static const char *const what[2][2] = {{"pb", "pbref"}, {"json", ""}};
    int rc = 0;

    for (int d = 0; d < 2 && dec[d] && rc == 0; d++) {
        struct xb_arena *arena = xb_arena_new(1 << 20, ARENA_MAX);
        xb_pb_export_req *req = NULL;
        const char *desc = NULL;
        char label[600];
        if (!arena)
            return -1;
        snprintf(label, sizeof label, "%s [%s]", name, what[json][d]);
        if (dec[d](data, len, arena, &req, &desc) != XB_OK)
            printf("== %s not decoded: %s\n", label, desc ? desc : "-");
        else
            rc = translate_all(label, req, arena);
        xb_arena_free(arena);
    }
    return rc;
}

static int run_file(const char *path, int json)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long sz;
    int rc = -1;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    data = malloc((size_t)sz + 1);
    if (!data || fread(data, 1, (size_t)sz, f) != (size_t)sz)
        goto out;
    rc = run_input(path, data, (size_t)sz, json);
out:
    if (rc)
        fprintf(stderr, "dump_docs: %s: cannot read or out of memory\n", path);
    free(data);
    if (f)
        fclose(f);
    return rc;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static int run_path(const char *path, int json)
{
    struct dirent **ents;
    struct stat st;
    int n, rc = 0;

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return run_file(path, json);
    n = scandir(path, &ents, not_hidden, alphasort);
    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, ents[i]->d_name);
        if (rc == 0)
            rc = run_file(full, json);
        free(ents[i]);
    }
    free(ents);
    return rc;
}

static int run_bench(size_t spans, uint64_t seed)
{
    struct xb_bench_request_opts o;
    uint8_t *pb = NULL;
    char *js = NULL, name[64];
    size_t pb_len = 0, js_len = 0;
    int rc = -1;

    xb_bench_request_opts_defaults(&o);
    o.spans = spans;
    o.seed = seed;
    o.start_unix_ns = START_NS;
    if (xb_bench_build_request(&o, &pb, &pb_len) != XB_OK ||
        xb_bench_request_to_json(pb, pb_len, &js, &js_len) != XB_OK)
        goto out;
    snprintf(name, sizeof name, "bench n=%zu s=%llu", spans, (unsigned long long)seed);
    rc = run_input(name, pb, pb_len, 0);
    if (rc == 0)
        rc = run_input(name, (const uint8_t *)js, js_len, 1);
out:
    if (rc)
        fprintf(stderr, "dump_docs: bench request n=%zu: failed\n", spans);
    free(pb);
    free(js);
    return rc;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, n;
    int rc = 0;

    extra_init();
    if (argc > 1 && strcmp(argv[1], "-E") == 0) {
        embedded = 1;
        argv++;
        argc--;
    }
    for (int i = 1; i < argc && rc == 0; i++) {
        if (i + 1 >= argc)
            goto usage;
        if (strcmp(argv[i], "-p") == 0) {
            rc = run_path(argv[++i], 0);
        } else if (strcmp(argv[i], "-j") == 0) {
            rc = run_path(argv[++i], 1);
        } else if (strcmp(argv[i], "-s") == 0) {
            if (xb_bench_parse_u64(argv[++i], &seed) != XB_OK)
                goto usage;
        } else if (strcmp(argv[i], "-n") == 0) {
            if (xb_bench_parse_u64(argv[++i], &n) != XB_OK || n == 0 || n > XB_BENCH_MAX_SPANS)
                goto usage;
            rc = run_bench((size_t)n, seed);
        } else {
            goto usage;
        }
    }
    return rc ? 1 : 0;
usage:
    fprintf(stderr, "usage: dump_docs [-E] [-p FILE_OR_DIR]... [-j FILE_OR_DIR]... "
                    "[-s SEED -n SPANS]...\n");
    return 2;
}
