/*
 * translator/aws.h - the X-Ray "aws" block (span AWS attributes + resource ec2/ecs/eks/
 * elastic_beanstalk/xray/cloudwatch_logs), "origin" and "service", following
 * awsxrayexporter (docs/translation.md, "aws", "origin", "service").
 */
#ifndef XB_TRANSLATOR_AWS_H
#define XB_TRANSLATOR_AWS_H

#include "core/arena.h"
#include "translator/attrs.h"
#include "translator/doc.h"
#include "translator/translate.h"

/* What the aws block, "origin" and "service" take from one resource: the same for
 * every span of a ResourceSpans, so built once (xb_tr_aws_resource). */
struct xb_tr_aws_res {
    int present;            /* 0: the resource's cloud.provider is set and is not "aws" */
    struct xb_tr_xaws tmpl; /* resource fields (ec2, ecs, eks, elastic_beanstalk, xray,
                             * cloudwatch_logs, account_id), rendered (tmpl.raw) */
    const char *origin;     /* xb_tr_aws_origin() */
    int has_service;        /* xb_tr_aws_service() */
    struct xb_str service_version;
};

/*
 * Fills |r| from the resource index |res| (borrowed, as are the strings |r| points to)
 * and |cfg| (log group fallback). |arena| holds the log group list and the rendered
 * members. Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_tr_aws_resource(const struct xb_tr_attrs *res, const struct xb_translator_config *cfg,
                       struct xb_arena *arena, struct xb_tr_aws_res *r);

/*
 * Builds the aws block into *|out| (arena; NULL when r->present is 0): a copy of r->tmpl
 * with the span's fields. Consumes aws.operation, rpc.method, aws.account_id, aws.region,
 * aws.request_id/aws.requestId, aws.queue_url/aws.queue.url, aws.table_name/
 * aws.table.name from |attrs| in every case. Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_tr_aws_build(struct xb_tr_attrs *attrs, const struct xb_tr_aws_res *r,
                    const struct xb_translator_config *cfg, struct xb_arena *arena,
                    struct xb_tr_xaws **out);

/* X-Ray origin for the resource ("AWS::EC2::Instance", ...) or NULL. Static string. */
const char *xb_tr_aws_origin(const struct xb_tr_attrs *res);

/*
 * Fills d->has_service / d->service_version from the resource's service.version, else the
 * first element of a non-empty container.image.tags array, else container.image.tag
 * (awsxrayexporter v0.155 makeService).
 */
void xb_tr_aws_service(const struct xb_tr_attrs *res, struct xb_tr_xdoc *d);

#endif
