/*
 * translator/doc.h - in-memory X-Ray segment document and its serialiser.
 *
 * Translation fills a struct xb_tr_xdoc (all strings are borrowed views into the span,
 * the resource or the arena); xb_tr_doc_write() turns it into JSON. Keeping the model
 * apart from the bytes lets the size cap rebuild the same document with metadata
 * dropped and strings cut, without translating again.
 *
 * Field order follows awsxrayexporter's encoder: name, id, start_time, service, origin,
 * user, links, trace_id, end_time (or in_progress), http, fault, error, throttle, cause, aws,
 * annotations, metadata, namespace, parent_id, type, sql.
 * X-Ray segment documents:
 * https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html
 */
#ifndef XB_TRANSLATOR_DOC_H
#define XB_TRANSLATOR_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/jsonw.h"
#include "core/str.h"
#include "proto/otlp.h"
#include "translator/ids.h"
#include "translator/jsonp.h"

/* cause.exceptions[].stack[] entry. */
struct xb_tr_xframe {
    struct xb_str path, label;
    int64_t line;
};

/* cause.exceptions[] entry. type/message are always written ("" allowed). */
struct xb_tr_xexc {
    char id[17]; /* 16 hex digits */
    struct xb_str type, message;
    int remote;                  /* -1 absent, else 0/1 */
    int cause;                   /* index of the exception this one was caused by, or -1 */
    struct xb_tr_xframe *frames; /* arena; n_frames == 0 -> "stack" absent */
    size_t n_frames, cap_frames;
};

struct xb_tr_xcause {
    struct xb_tr_xexc *exc; /* arena */
    size_t n, cap;
};

/* http block; request/response objects are always written when the block exists. */
struct xb_tr_xhttp {
    struct xb_str method, url, client_ip, user_agent; /* p == NULL or n == 0: absent */
    int x_forwarded_for;                              /* 1: write true */
    int has_status;
    int64_t status;
    int64_t content_length; /* always written */
};

struct xb_tr_xlog_group {
    struct xb_str log_group, arn; /* arn absent when p == NULL */
};

/* aws block. Strings with p == NULL or n == 0 are absent unless noted. */
struct xb_tr_xaws {
    int has_beanstalk;
    struct xb_str eb_environment, eb_version_label; /* written as null when empty */
    int64_t eb_deployment_id;
    struct xb_tr_xlog_group *log_groups;
    size_t n_log_groups, cap_log_groups;
    int has_ecs;
    struct xb_str ecs_container, ecs_container_id, ecs_task_arn, ecs_task_family, ecs_cluster_arn,
        ecs_container_arn, ecs_az, ecs_launch_type;
    int has_ec2;
    struct xb_str ec2_instance_id, ec2_az, ec2_instance_size, ec2_ami_id; /* null if empty */
    int has_eks;
    struct xb_str eks_cluster, eks_pod, eks_container_id; /* null if empty */
    struct xb_str xray_sdk, xray_sdk_version;
    int xray_auto;
    struct xb_str account_id, operation, region, request_id, queue_url, table_name;
    const xb_pb_any *table_names; /* array value (>= 2 elements) or NULL */
    /* The members elastic_beanstalk through xray as written without trimming, or NULL
     * (xb_tr_doc_aws_resource_raw); spliced in when the document is not trimmed. */
    const char *raw;
    size_t raw_n;
    size_t raw_plain; /* raw_n in plain form; less when |raw| is in embedded form */
};

/* sql block. */
struct xb_tr_xsql {
    struct xb_str connection_string, url, sanitized_query, database_type, user;
};

/* annotations entry; key already sanitised. */
struct xb_tr_xannot {
    struct xb_str key;
    const xb_pb_any *val;
};

/* metadata entry: either an OTLP value or a parsed JSON value. */
struct xb_tr_xmeta {
    struct xb_str key;
    const xb_pb_any *val;
    const struct xb_tr_jnode *j; /* used when val == NULL */
    /* '"key":value' as written without trimming, or NULL (resource entries: spliced in
     * when the document is not trimmed; translator/meta.h) */
    const char *raw;
    /* bytes of |raw|, and of |raw| in plain form (less when |raw| is in embedded form);
     * 32 bits keep the entry at 48 bytes (xb_tr_meta_resource() keeps no |raw| past
     * 4 GiB) */
    uint32_t raw_n, raw_plain;
};

/* metadata namespace other than "default": a parsed JSON object (or JSON null). */
struct xb_tr_xns {
    struct xb_str name;
    const struct xb_tr_jnode *obj;
};

struct xb_tr_xdoc {
    struct xb_str name;
    char id[17]; /* 16 hex digits, or "" */
    double start_time, end_time;
    int in_progress; /* 1: write "in_progress": true and no end_time */
    int has_service;
    struct xb_str service_version;
    const char *origin;
    struct xb_str user;
    xb_pb_link *const *links; /* borrowed from the span; n_links == 0: absent */
    size_t n_links;
    char trace_id[XB_XRAY_TRACE_ID_LEN + 1]; /* complete, or "" */
    struct xb_tr_xhttp *http;
    int fault, error, throttle;
    struct xb_tr_xcause *cause;
    struct xb_tr_xaws *aws;
    struct xb_tr_xannot *annots; /* sorted by key, unique */
    size_t n_annots;
    struct xb_tr_xmeta *meta; /* "default" namespace, sorted by key, unique */
    size_t n_meta;
    struct xb_tr_xns *ns; /* other namespaces, sorted by name, unique */
    size_t n_ns;
    int meta_default_present; /* write "default" even when n_meta == 0 (filtered) */
    int meta_only_resource;   /* keep only keys starting with "otel.resource." */
    const char *namespace_;
    char parent_id[17]; /* 16 hex digits; "" = absent */
    int subsegment;
    struct xb_tr_xsql *sql;
};

/* How to serialise: the size cap's trimming levels. */
struct xb_tr_doc_wopts {
    int drop_metadata;     /* replace metadata by the "xraybridge" trim marker */
    size_t max_str;        /* 0 = no cut; else trimmable strings cut to this many bytes */
    size_t max_items;      /* 0 = all; else arrays/maps/annotations/frames capped */
    size_t original_bytes; /* reported in the trim marker */
    size_t limit;          /* stop (XB_ERR_TOO_LARGE) once the output passes this */
    int embedded;          /* 1: write the embedded form (xb_jsonw_init_embedded()); the
                            * pre-rendered parts of the model must be in that form too */
};

/*
 * Appends the JSON for |d| to |out| (borrowed). |arena| is scratch (map sorting,
 * base64). |*written| (optional) receives the full size even when the limit was hit.
 * Returns XB_OK, XB_ERR_TOO_LARGE (limit or buffer cap), XB_ERR_NOMEM.
 */
int xb_tr_doc_write(const struct xb_tr_xdoc *d, const struct xb_tr_doc_wopts *o, struct xb_buf *out,
                    struct xb_arena *arena, size_t *written);

/*
 * Formats |v| into |out| (>= 32 bytes), NUL-terminated, exactly as xb_jsonw_fmt_double()
 * with go_json = 1 does, when 2^30 <= |v| < 2^31 (Unix times in seconds from 2004 to
 * 2038: the document's start and end times), without its 128-bit search: at most 7
 * decimals are needed in that range, and the nearest multiples of 10^-6 and 10^-7
 * decide (doc.c). Returns the length, or 0 (|out| untouched) outside that range.
 */
size_t xb_tr_doc_fmt_seconds(char *out, double v);

/*
 * Renders the resource members of |a| (elastic_beanstalk, cloudwatch_logs, ecs, ec2, eks,
 * xray: the fields that depend on the resource alone) as xb_tr_doc_write() writes them
 * without trimming, into |arena|, and points a->raw at them (NULL when there are none).
 * Done once per ResourceSpans so that each document copies bytes instead of writing the
 * same members again. Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_tr_doc_aws_resource_raw(struct xb_tr_xaws *a, struct xb_arena *arena, int embedded);

#endif
