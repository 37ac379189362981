/* translator/aws.c - see aws.h. */
#include "translator/aws.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static struct xb_str rstr(const struct xb_tr_attrs *res, enum xb_tr_key key)
{
    const char *s = xb_tr_any_str(xb_tr_attrs_val_k(res, key));
    struct xb_str r = {s, strlen(s)};
    return r;
}

static struct xb_str cs(const char *s)
{
    struct xb_str r = {s, strlen(s)};
    return r;
}

/* First live key of two alternatives (|k2| < 0: none), consuming both. Absent: p == NULL. */
static struct xb_str take2(struct xb_tr_attrs *a, enum xb_tr_key k1, int k2)
{
    struct xb_tr_attr *e1 = xb_tr_attrs_k(a, k1);
    struct xb_tr_attr *e2 = k2 >= 0 ? xb_tr_attrs_k(a, (enum xb_tr_key)k2) : NULL;
    struct xb_tr_attr *e = e1 && !e1->consumed ? e1 : e2 && !e2->consumed ? e2 : NULL;
    struct xb_str r = {NULL, 0};

    if (e)
        r = cs(xb_tr_any_str(e->val));
    if (e1)
        e1->consumed = 1;
    if (e2)
        e2->consumed = 1;
    return r;
}

static int push_group(struct xb_tr_xaws *aws, struct xb_arena *arena, struct xb_str name,
                      struct xb_str arn)
{
    void *vec = aws->log_groups;
    struct xb_tr_xlog_group *g =
        xb_tr_vec_push(arena, &vec, &aws->n_log_groups, &aws->cap_log_groups, sizeof(*g));

    aws->log_groups = vec;
    if (!g)
        return XB_ERR_NOMEM;
    g->log_group = name;
    g->arn = arn;
    return XB_OK;
}

/* One log group entry from a name or an ARN (name = 7th ':' field of the ARN). */
static int add_group(struct xb_tr_xaws *aws, struct xb_arena *arena, struct xb_str v, int is_arn)
{
    struct xb_str name = v, none = {NULL, 0};
    size_t i, field = 0, start = 0;

    if (!is_arn)
        return push_group(aws, arena, v, none);
    for (i = 0; i <= v.n; i++) {
        if (i == v.n || v.p[i] == ':') {
            if (field == 6) {
                name.p = v.p + start;
                name.n = i - start;
                break;
            }
            field++;
            start = i + 1;
        }
    }
    return push_group(aws, arena, name, v);
}

/* Log groups from a resource value: array of strings, or a '&'-separated string. */
static int log_groups(struct xb_tr_xaws *aws, struct xb_arena *arena, const xb_pb_any *v,
                      int is_arn)
{
    size_t i, start;
    int rc = XB_OK;

    if (xb_tr_any_type(v) == XB_ANY_ARRAY && v->array_value) {
        for (i = 0; i < v->array_value->n_values && rc == XB_OK; i++)
            rc = add_group(aws, arena, cs(xb_tr_any_str(v->array_value->values[i])), is_arn);
    } else if (xb_tr_any_type(v) == XB_ANY_STRING) {
        const char *s = xb_tr_any_str(v);
        size_t n = strlen(s);
        for (i = 0, start = 0; i <= n && rc == XB_OK; i++) {
            if (i == n || s[i] == '&') {
                if (i > start) {
                    struct xb_str piece = {s + start, i - start};
                    rc = add_group(aws, arena, piece, is_arn);
                }
                start = i + 1;
            }
        }
    }
    return rc;
}

int xb_tr_aws_resource(const struct xb_tr_attrs *res, const struct xb_translator_config *cfg,
                       struct xb_arena *arena, struct xb_tr_aws_res *r)
{
    const char *cloud = xb_tr_any_str(xb_tr_attrs_val_k(res, XB_TK_CLOUD_PROVIDER));
    const char *platform = xb_tr_any_str(xb_tr_attrs_val_k(res, XB_TK_CLOUD_PLATFORM));
    struct xb_str host_id, deploy;
    struct xb_tr_xaws *aws = &r->tmpl;
    struct xb_tr_xdoc svc;
    const xb_pb_any *v;
    const char *sdk_name, *sdk_lang;
    int rc = XB_OK;

    memset(r, 0, sizeof(*r));
    r->origin = xb_tr_aws_origin(res);
    memset(&svc, 0, sizeof(svc));
    xb_tr_aws_service(res, &svc);
    r->has_service = svc.has_service;
    r->service_version = svc.service_version;
    if (*cloud && strcmp(cloud, "aws") != 0)
        goto out;
    r->present = 1;
    aws->account_id = rstr(res, XB_TK_CLOUD_ACCOUNT_ID);
    host_id = rstr(res, XB_TK_HOST_ID);
    if (strcmp(platform, "aws_ec2") == 0 || host_id.n) {
        aws->has_ec2 = 1;
        aws->ec2_instance_id = host_id;
        aws->ec2_az = rstr(res, XB_TK_CLOUD_AVAILABILITY_ZONE);
        aws->ec2_instance_size = rstr(res, XB_TK_HOST_TYPE);
        aws->ec2_ami_id = rstr(res, XB_TK_HOST_IMAGE_ID);
    }
    if (strcmp(platform, "aws_ecs") == 0) {
        aws->has_ecs = 1;
        aws->ecs_container = rstr(res, XB_TK_CONTAINER_NAME);
        aws->ecs_container_id = rstr(res, XB_TK_CONTAINER_ID);
        aws->ecs_task_arn = rstr(res, XB_TK_AWS_ECS_TASK_ARN);
        aws->ecs_task_family = rstr(res, XB_TK_AWS_ECS_TASK_FAMILY);
        aws->ecs_cluster_arn = rstr(res, XB_TK_AWS_ECS_CLUSTER_ARN);
        aws->ecs_container_arn = rstr(res, XB_TK_AWS_ECS_CONTAINER_ARN);
        aws->ecs_az = rstr(res, XB_TK_CLOUD_AVAILABILITY_ZONE);
        aws->ecs_launch_type = rstr(res, XB_TK_AWS_ECS_LAUNCHTYPE);
    }
    deploy = rstr(res, XB_TK_SERVICE_INSTANCE_ID);
    if (strcmp(platform, "aws_elastic_beanstalk") == 0 && deploy.n) {
        char *end;
        long long id;
        aws->has_beanstalk = 1;
        aws->eb_environment = rstr(res, XB_TK_SERVICE_NAMESPACE);
        aws->eb_version_label = rstr(res, XB_TK_SERVICE_VERSION);
        errno = 0;
        id = strtoll(deploy.p, &end, 10);
        /* ParseInt: optional sign + digits only, in range; anything else gives 0 */
        if (errno || *end || end == deploy.p || deploy.p[0] == ' ' || deploy.p[0] == '\t' ||
            deploy.p[0] == '\n')
            id = 0;
        aws->eb_deployment_id = id;
    }
    if (strcmp(platform, "aws_eks") == 0 || rstr(res, XB_TK_K8S_CLUSTER_NAME).n) {
        aws->has_eks = 1;
        aws->eks_cluster = rstr(res, XB_TK_K8S_CLUSTER_NAME);
        aws->eks_pod = rstr(res, XB_TK_K8S_POD_NAME);
        aws->eks_container_id = rstr(res, XB_TK_CONTAINER_ID);
    }

    v = xb_tr_attrs_val_k(res, XB_TK_AWS_LOG_GROUP_ARNS);
    if (v)
        rc = log_groups(aws, arena, v, 1);
    if (rc == XB_OK && aws->n_log_groups == 0) {
        v = xb_tr_attrs_val_k(res, XB_TK_AWS_LOG_GROUP_NAMES);
        if (v)
            rc = log_groups(aws, arena, v, 0);
    }
    if (rc == XB_OK && aws->n_log_groups == 0 && cfg) {
        size_t i;
        for (i = 0; i < cfg->n_aws_log_groups && rc == XB_OK; i++) {
            struct xb_str none = {NULL, 0};
            if (cfg->aws_log_groups[i])
                rc = push_group(aws, arena, cs(cfg->aws_log_groups[i]), none);
        }
    }
    if (rc)
        goto out;

    sdk_name = xb_tr_any_str(xb_tr_attrs_val_k(res, XB_TK_TELEMETRY_SDK_NAME));
    sdk_lang = xb_tr_any_str(xb_tr_attrs_val_k(res, XB_TK_TELEMETRY_SDK_LANGUAGE));
    if (*sdk_name && *sdk_lang) {
        size_t n = strlen(sdk_name) + strlen(sdk_lang) + 5;
        char *s = xb_arena_alloc(arena, n + 1);
        if (!s) {
            rc = XB_ERR_NOMEM;
            goto out;
        }
        strcpy(s, sdk_name);
        strcat(s, " for ");
        strcat(s, sdk_lang);
        aws->xray_sdk = cs(s);
    } else {
        aws->xray_sdk = cs(sdk_name);
    }
    aws->xray_sdk_version = rstr(res, XB_TK_TELEMETRY_SDK_VERSION);
    aws->xray_auto =
        rstr(res, XB_TK_TELEMETRY_AUTO_VERSION).n || rstr(res, XB_TK_TELEMETRY_DISTRO_VERSION).n;
    rc = xb_tr_doc_aws_resource_raw(aws, arena, cfg && cfg->embedded_documents);
out:
    return rc;
}

int xb_tr_aws_build(struct xb_tr_attrs *a, const struct xb_tr_aws_res *r,
                    const struct xb_translator_config *cfg, struct xb_arena *arena,
                    struct xb_tr_xaws **out)
{
    struct xb_str op, account, region, request_id, queue_url, table_name;
    const xb_pb_any *v;
    struct xb_tr_attr *e;
    struct xb_tr_xaws *aws;
    int rc = XB_OK;

    *out = NULL;
    op = take2(a, XB_TK_AWS_OPERATION, XB_TK_RPC_METHOD);
    account = take2(a, XB_TK_AWS_ACCOUNT_ID, -1);
    region = take2(a, XB_TK_AWS_REGION, -1);
    request_id = take2(a, XB_TK_AWS_REQUEST_ID, XB_TK_AWS_REQUESTID);
    queue_url = take2(a, XB_TK_AWS_QUEUE_URL, XB_TK_AWS_QUEUE_DOT_URL);
    table_name = take2(a, XB_TK_AWS_TABLE_NAME, XB_TK_AWS_TABLE_DOT_NAME);
    /* Opt-in: the newer DynamoDB convention names the table in db.collection.name. */
    if (cfg->read_new_semantic_conventions && !table_name.p &&
        (e = xb_tr_attrs_live_k(a, XB_TK_DB_COLLECTION_NAME)) &&
        (strcmp(xb_tr_any_str(xb_tr_attrs_val_k(a, XB_TK_DB_SYSTEM)), "aws.dynamodb") == 0 ||
         strcmp(xb_tr_any_str(xb_tr_attrs_val_k(a, XB_TK_DB_SYSTEM_NAME)), "aws.dynamodb") == 0)) {
        table_name = cs(xb_tr_any_str(e->val));
        e->consumed = 1;
    }
    if (!r->present)
        goto out;

    aws = xb_arena_alloc(arena, sizeof(*aws));
    if (!aws) {
        rc = XB_ERR_NOMEM;
        goto out;
    }
    *aws = r->tmpl;
    aws->operation = op;
    if (account.p)
        aws->account_id = account;
    aws->region = region;
    aws->request_id = request_id;
    aws->queue_url = queue_url;
    if ((e = xb_tr_attrs_live_k(a, XB_TK_MESSAGING_URL)))
        aws->queue_url = cs(xb_tr_any_str(e->val));
    aws->table_name = table_name;
    if ((e = xb_tr_attrs_live_k(a, XB_TK_AWS_DYNAMODB_TABLE_NAMES))) {
        v = e->val;
        if (xb_tr_any_type(v) == XB_ANY_ARRAY) {
            size_t n = v->array_value ? v->array_value->n_values : 0;
            if (n == 1) {
                aws->table_name = cs(xb_tr_any_str(v->array_value->values[0]));
            } else if (n > 1) {
                aws->table_name.p = NULL;
                aws->table_name.n = 0;
                aws->table_names = v;
            }
        } else {
            aws->table_name = cs(xb_tr_any_str(v));
        }
    }
    *out = aws;
out:
    return rc;
}

const char *xb_tr_aws_origin(const struct xb_tr_attrs *res)
{
    const xb_pb_any *provider, *platform;
    const char *p, *lt;

    if (res->n == 0)
        return NULL;
    provider = xb_tr_attrs_val_k(res, XB_TK_CLOUD_PROVIDER);
    if (provider && strcmp(xb_tr_any_str(provider), "aws") != 0)
        return NULL;
    platform = xb_tr_attrs_val_k(res, XB_TK_CLOUD_PLATFORM);
    if (!platform)
        return NULL;
    p = xb_tr_any_str(platform);
    if (strcmp(p, "aws_app_runner") == 0)
        return "AWS::AppRunner::Service";
    if (strcmp(p, "aws_eks") == 0)
        return "AWS::EKS::Container";
    if (strcmp(p, "aws_elastic_beanstalk") == 0)
        return "AWS::ElasticBeanstalk::Environment";
    if (strcmp(p, "aws_ec2") == 0)
        return "AWS::EC2::Instance";
    if (strcmp(p, "aws_ecs") == 0) {
        lt = xb_tr_any_str(xb_tr_attrs_val_k(res, XB_TK_AWS_ECS_LAUNCHTYPE));
        if (strcmp(lt, "ec2") == 0)
            return "AWS::ECS::EC2";
        if (strcmp(lt, "fargate") == 0)
            return "AWS::ECS::Fargate";
        return "AWS::ECS::Container";
    }
    return NULL;
}

void xb_tr_aws_service(const struct xb_tr_attrs *res, struct xb_tr_xdoc *d)
{
    const xb_pb_any *v = xb_tr_attrs_val_k(res, XB_TK_SERVICE_VERSION);
    const xb_pb_any *tags;

    /* v0.155: first element of a non-empty container.image.tags array, then
     * container.image.tag. A non-string element gives an empty (absent) version. */
    if (!v && (tags = xb_tr_attrs_val_k(res, XB_TK_CONTAINER_IMAGE_TAGS)) &&
        xb_tr_any_type(tags) == XB_ANY_ARRAY && tags->array_value &&
        tags->array_value->n_values > 0) {
        d->has_service = 1;
        d->service_version = cs(xb_tr_any_str(tags->array_value->values[0]));
        return;
    }
    if (!v)
        v = xb_tr_attrs_val_k(res, XB_TK_CONTAINER_IMAGE_TAG);
    d->has_service = v != NULL;
    if (v)
        d->service_version = cs(xb_tr_any_str(v));
}
