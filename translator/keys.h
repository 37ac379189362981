/*
 * translator/keys.h - the attribute keys the translator reads by name (semantic
 * conventions and AWS keys; docs/translation.md). xb_tr_attrs_index() resolves each
 * span and resource attribute key against this list once, so the blocks read a slot
 * per key instead of looking a string up (translator/attrs.h).
 */
#ifndef XB_TRANSLATOR_KEYS_H
#define XB_TRANSLATOR_KEYS_H

#include <stddef.h>

/* X(enum suffix, key). Keys are unique; the order is free. */
#define XB_TR_KEYS(X)                                                                              \
    /* naming, local roots (translate.c) */                                                        \
    X(AWS_LOCAL_SERVICE, "aws.local.service")                                                      \
    X(AWS_SPAN_KIND, "aws.span.kind")                                                              \
    X(AWS_REMOTE_SERVICE, "aws.remote.service")                                                    \
    X(AWS_REMOTE_OPERATION, "aws.remote.operation")                                                \
    X(REMOTE_TARGET, "remoteTarget")                                                               \
    X(K8S_REMOTE_NAMESPACE, "K8s.RemoteNamespace")                                                 \
    X(PEER_SERVICE, "peer.service")                                                                \
    X(AWS_SERVICE, "aws.service")                                                                  \
    X(RPC_SERVICE, "rpc.service")                                                                  \
    X(RPC_SYSTEM, "rpc.system")                                                                    \
    X(MESSAGING_DESTINATION_NAME, "messaging.destination.name")                                    \
    X(AWS_XRAY_INPROGRESS, "aws.xray.inprogress")                                                  \
    /* http block (http.c) */                                                                      \
    X(HTTP_METHOD, "http.method")                                                                  \
    X(HTTP_REQUEST_METHOD, "http.request.method")                                                  \
    X(HTTP_CLIENT_IP, "http.client_ip")                                                            \
    X(HTTP_USER_AGENT, "http.user_agent")                                                          \
    X(USER_AGENT_ORIGINAL, "user_agent.original")                                                  \
    X(HTTP_STATUS_CODE, "http.status_code")                                                        \
    X(HTTP_RESPONSE_STATUS_CODE, "http.response.status_code")                                      \
    X(HTTP_URL, "http.url")                                                                        \
    X(URL_FULL, "url.full")                                                                        \
    X(HTTP_SCHEME, "http.scheme")                                                                  \
    X(URL_SCHEME, "url.scheme")                                                                    \
    X(HTTP_HOST, "http.host")                                                                      \
    X(HTTP_TARGET, "http.target")                                                                  \
    X(HTTP_SERVER_NAME, "http.server_name")                                                        \
    X(NET_HOST_PORT, "net.host.port")                                                              \
    X(HOST_NAME, "host.name")                                                                      \
    X(NET_HOST_NAME, "net.host.name")                                                              \
    X(NET_PEER_NAME, "net.peer.name")                                                              \
    X(NET_PEER_PORT, "net.peer.port")                                                              \
    X(NET_PEER_IP, "net.peer.ip")                                                                  \
    X(NETWORK_PEER_ADDRESS, "network.peer.address")                                                \
    X(NETWORK_PEER_PORT, "network.peer.port")                                                      \
    X(CLIENT_ADDRESS, "client.address")                                                            \
    X(URL_PATH, "url.path")                                                                        \
    X(URL_QUERY, "url.query")                                                                      \
    X(SERVER_ADDRESS, "server.address")                                                            \
    X(SERVER_PORT, "server.port")                                                                  \
    X(MESSAGING_PAYLOAD_SIZE, "messaging.message_payload_size_bytes")                              \
    X(MESSAGING_BODY_SIZE, "messaging.message.body.size")                                          \
    X(MESSAGE_TYPE, "message.type")                                                                \
    X(HTTP_STATUS_TEXT, "http.status_text")                                                        \
    /* aws block (aws.c) */                                                                        \
    X(AWS_OPERATION, "aws.operation")                                                              \
    X(RPC_METHOD, "rpc.method")                                                                    \
    X(AWS_ACCOUNT_ID, "aws.account_id")                                                            \
    X(AWS_REGION, "aws.region")                                                                    \
    X(AWS_REQUEST_ID, "aws.request_id")                                                            \
    X(AWS_REQUESTID, "aws.requestId")                                                              \
    X(AWS_QUEUE_URL, "aws.queue_url")                                                              \
    X(AWS_QUEUE_DOT_URL, "aws.queue.url")                                                          \
    X(AWS_TABLE_NAME, "aws.table_name")                                                            \
    X(AWS_TABLE_DOT_NAME, "aws.table.name")                                                        \
    X(DB_COLLECTION_NAME, "db.collection.name")                                                    \
    X(MESSAGING_URL, "messaging.url")                                                              \
    X(AWS_DYNAMODB_TABLE_NAMES, "aws.dynamodb.table_names")                                        \
    /* sql block (sql.c) and db naming */                                                          \
    X(DB_SYSTEM, "db.system")                                                                      \
    X(DB_SYSTEM_NAME, "db.system.name")                                                            \
    X(DB_CONNECTION_STRING, "db.connection_string")                                                \
    X(DB_NAME, "db.name")                                                                          \
    X(DB_NAMESPACE, "db.namespace")                                                                \
    X(DB_STATEMENT, "db.statement")                                                                \
    X(DB_QUERY_TEXT, "db.query.text")                                                              \
    X(DB_USER, "db.user")                                                                          \
    /* user, annotations (meta.c) */                                                               \
    X(ENDUSER_ID, "enduser.id")                                                                    \
    X(AWS_XRAY_ANNOTATIONS, "aws.xray.annotations")                                                \
    /* resource attributes (aws.c, cause.c, translate.c) */                                        \
    X(SERVICE_NAME, "service.name")                                                                \
    X(SERVICE_NAMESPACE, "service.namespace")                                                      \
    X(SERVICE_VERSION, "service.version")                                                          \
    X(SERVICE_INSTANCE_ID, "service.instance.id")                                                  \
    X(CLOUD_PROVIDER, "cloud.provider")                                                            \
    X(CLOUD_PLATFORM, "cloud.platform")                                                            \
    X(CLOUD_ACCOUNT_ID, "cloud.account.id")                                                        \
    X(CLOUD_AVAILABILITY_ZONE, "cloud.availability_zone")                                          \
    X(HOST_ID, "host.id")                                                                          \
    X(HOST_TYPE, "host.type")                                                                      \
    X(HOST_IMAGE_ID, "host.image.id")                                                              \
    X(CONTAINER_NAME, "container.name")                                                            \
    X(CONTAINER_ID, "container.id")                                                                \
    X(CONTAINER_IMAGE_TAGS, "container.image.tags")                                                \
    X(CONTAINER_IMAGE_TAG, "container.image.tag")                                                  \
    X(AWS_ECS_TASK_ARN, "aws.ecs.task.arn")                                                        \
    X(AWS_ECS_TASK_FAMILY, "aws.ecs.task.family")                                                  \
    X(AWS_ECS_CLUSTER_ARN, "aws.ecs.cluster.arn")                                                  \
    X(AWS_ECS_CONTAINER_ARN, "aws.ecs.container.arn")                                              \
    X(AWS_ECS_LAUNCHTYPE, "aws.ecs.launchtype")                                                    \
    X(K8S_CLUSTER_NAME, "k8s.cluster.name")                                                        \
    X(K8S_POD_NAME, "k8s.pod.name")                                                                \
    X(AWS_LOG_GROUP_ARNS, "aws.log.group.arns")                                                    \
    X(AWS_LOG_GROUP_NAMES, "aws.log.group.names")                                                  \
    X(TELEMETRY_SDK_NAME, "telemetry.sdk.name")                                                    \
    X(TELEMETRY_SDK_LANGUAGE, "telemetry.sdk.language")                                            \
    X(TELEMETRY_SDK_VERSION, "telemetry.sdk.version")                                              \
    X(TELEMETRY_AUTO_VERSION, "telemetry.auto.version")                                            \
    X(TELEMETRY_DISTRO_VERSION, "telemetry.distro.version")

/* XB_TK_<suffix>: index of a known key; XB_TK_COUNT of them. */
enum xb_tr_key {
#define XB_TR_KEY_ENUM(e, s) XB_TK_##e,
    XB_TR_KEYS(XB_TR_KEY_ENUM)
#undef XB_TR_KEY_ENUM
        XB_TK_COUNT
};

/*
 * The known key of the |len|-byte |key| (not NUL-terminated), or -1 when it is not in
 * the list. One slot of a fixed table without collisions between known keys (hash of
 * the length and first and last 8 bytes) and one comparison. Thread-safe.
 */
int xb_tr_key_id(const char *key, size_t len);

/* The NUL-terminated text of known key |k|. */
const char *xb_tr_key_name(enum xb_tr_key k);

#endif
