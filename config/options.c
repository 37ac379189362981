/*
 * config/options.c - the option table: every YAML key xraybridge accepts.
 *
 * Adding a key: add the field to config/config.h, a row here, and a line to
 * docs/configuration.md (tests/unit/config checks that every path is documented).
 */
#include "config/options.h"

#include <stddef.h>
#include <string.h>

#include "config/config.h"

#define OFF(field) offsetof(struct xb_config, field)
#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* Rows for one exporter's translation keys; both exporters write the same fields. */
#define TRANSLATE_ROWS(sec)                                                                        \
    {.path = "exporters." sec ".indexed_attributes",                                               \
     .type = XB_OPT_STRLIST,                                                                       \
     .offset = OFF(translate.indexed_attributes),                                                  \
     .count_offset = OFF(translate.n_indexed_attributes),                                          \
     .flags = XB_OPT_F_SHARED,                                                                     \
     .doc = "span/resource attribute keys that become X-Ray annotations"},                         \
        {.path = "exporters." sec ".index_all_attributes",                                         \
         .type = XB_OPT_BOOL,                                                                      \
         .def = "false",                                                                           \
         .max = 1,                                                                                 \
         .offset = OFF(translate.index_all_attributes),                                            \
         .flags = XB_OPT_F_SHARED,                                                                 \
         .doc = "turn every eligible attribute into an annotation"},                               \
        {.path = "exporters." sec ".allow_dot_in_annotation_keys",                                 \
         .type = XB_OPT_BOOL,                                                                      \
         .def = "true",                                                                            \
         .max = 1,                                                                                 \
         .offset = OFF(translate.allow_dot_in_annotation_keys),                                    \
         .flags = XB_OPT_F_SHARED,                                                                 \
         .doc = "keep '.' in annotation keys (false: rewrite to '_')"},                            \
        {.path = "exporters." sec ".skip_timestamp_validation",                                    \
         .type = XB_OPT_BOOL,                                                                      \
         .def = "true",                                                                            \
         .max = 1,                                                                                 \
         .offset = OFF(translate.skip_timestamp_validation),                                       \
         .flags = XB_OPT_F_SHARED,                                                                 \
         .doc = "do not reject spans outside X-Ray's time window"},                                \
        {.path = "exporters." sec ".aws_log_groups",                                               \
         .type = XB_OPT_STRLIST,                                                                   \
         .offset = OFF(translate.aws_log_groups),                                                  \
         .count_offset = OFF(translate.n_aws_log_groups),                                          \
         .flags = XB_OPT_F_SHARED,                                                                 \
         .doc = "CloudWatch log group names for the aws block"},                                   \
        {.path = "exporters." sec ".max_document_bytes",                                           \
         .type = XB_OPT_BYTES,                                                                     \
         .def = "64000",                                                                           \
         .min = 1024,                                                                              \
         .max = 1 * MIB,                                                                           \
         .offset = OFF(translate.max_document_bytes),                                              \
         .flags = XB_OPT_F_SHARED,                                                                 \
         .doc = "upper bound of one segment document, bytes"},                                     \
    {                                                                                              \
        .path = "exporters." sec ".read_new_semantic_conventions", .type = XB_OPT_BOOL,            \
        .def = "false", .max = 1, .offset = OFF(translate.read_new_semantic_conventions),          \
        .flags = XB_OPT_F_SHARED,                                                                  \
        .doc = "also read db.query.text, db.namespace, ... where the older keys are read"          \
    }

/* Rows of one sampling proxy (extensions.awsproxy, receivers.awsxray.proxy_server). */
#define PROXY_ROWS(sec, field)                                                                     \
    {.path = sec ".endpoint",                                                                      \
     .type = XB_OPT_ENDPOINT,                                                                      \
     .def = "localhost:2000",                                                                      \
     .offset = OFF(field.endpoint),                                                                \
     .doc = "TCP listen address of the X-Ray sampling proxy"},                                     \
        {.path = sec ".proxy_address",                                                             \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(field.proxy_address),                                                       \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "HTTP(S) proxy for the calls to X-Ray"},                                           \
        {.path = sec ".region",                                                                    \
         .type = XB_OPT_REGION,                                                                    \
         .offset = OFF(field.region),                                                              \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "AWS region of X-Ray and of the signature"},                                       \
        {.path = sec ".role_arn",                                                                  \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(field.role_arn),                                                            \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "IAM role assumed (STS) for the forwarded calls"},                                 \
        {.path = sec ".aws_endpoint",                                                              \
         .type = XB_OPT_URL,                                                                       \
         .offset = OFF(field.aws_endpoint),                                                        \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "X-Ray endpoint URL; default https://<service_name>.<region>.amazonaws.com"},      \
        {.path = sec ".service_name",                                                              \
         .type = XB_OPT_STRING,                                                                    \
         .def = "xray",                                                                            \
         .min = 1,                                                                                 \
         .offset = OFF(field.service_name),                                                        \
         .doc = "SigV4 service name and endpoint prefix"},                                         \
        {.path = sec ".local_mode",                                                                \
         .type = XB_OPT_BOOL,                                                                      \
         .def = "false",                                                                           \
         .max = 1,                                                                                 \
         .offset = OFF(field.local_mode),                                                          \
         .doc = "do not read instance metadata for the region"},                                   \
        {.path = sec ".tls.insecure",                                                              \
         .type = XB_OPT_BOOL,                                                                      \
         .def = "false",                                                                           \
         .max = 1,                                                                                 \
         .offset = OFF(field.tls_insecure),                                                        \
         .doc = "do not verify X-Ray's TLS certificate"},                                          \
        {.path = sec ".tls.server_name_override",                                                  \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(field.tls_server_name_override),                                            \
         .flags = XB_OPT_F_EMPTY_NULL | XB_OPT_F_COMPAT,                                           \
         .doc = "collector: TLS server name (no effect here)"},                                    \
        {.path = sec ".tls.ca_file",                                                               \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(field.tls_ca_file),                                                         \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "CA bundle verifying X-Ray's certificate; default the system store"},              \
        {.path = sec ".max_request_body_size",                                                     \
         .type = XB_OPT_BYTES,                                                                     \
         .def = "64KiB",                                                                           \
         .min = 1024,                                                                              \
         .max = 4 * MIB,                                                                           \
         .offset = OFF(field.max_request_body_bytes),                                              \
         .doc = "largest request body forwarded, bytes (larger: 413)"},                            \
        {.path = sec ".max_concurrent_requests",                                                   \
         .type = XB_OPT_U32,                                                                       \
         .def = "16",                                                                              \
         .min = 1,                                                                                 \
         .max = 4096,                                                                              \
         .offset = OFF(field.max_concurrent_requests),                                             \
         .doc = "requests forwarded at once (more: 503)"},                                         \
    {                                                                                              \
        .path = sec ".timeout", .type = XB_OPT_DURATION_MS, .def = "5s", .min = 100,               \
        .max = 300000, .offset = OFF(field.timeout_ms),                                            \
        .doc = "time allowed for one call to X-Ray, ms"                                            \
    }

/* Rows for one exporter's sending_queue and batch blocks. */
#define QUEUE_ROWS(sec, field, batch_max)                                                          \
    {.path = "exporters." sec ".sending_queue.max_bytes",                                          \
     .type = XB_OPT_BYTES,                                                                         \
     .def = "128MiB",                                                                              \
     .min = KIB,                                                                                   \
     .max = 64 * GIB,                                                                              \
     .offset = OFF(field.queue.max_bytes),                                                         \
     .doc = "bytes of documents held in the queue before new ones are refused"},                   \
        {.path = "exporters." sec ".sending_queue.max_documents",                                  \
         .type = XB_OPT_SIZE,                                                                      \
         .def = "1000000",                                                                         \
         .min = 1,                                                                                 \
         .max = 100000000,                                                                         \
         .offset = OFF(field.queue.max_documents),                                                 \
         .doc = "documents held in the queue before new ones are refused"},                        \
        {.path = "exporters." sec ".sending_queue.storage",                                        \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(field.queue.storage),                                                       \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "file_storage: keep the queue on disk (extensions.file_storage)"},                 \
        {.path = "exporters." sec ".batch.max_documents",                                          \
         .type = XB_OPT_U32,                                                                       \
         .def = "50",                                                                              \
         .min = 1,                                                                                 \
         .max = (batch_max),                                                                       \
         .offset = OFF(field.queue.batch_max_documents),                                           \
         .doc = "documents per batch (one PutTraceSegments call or one write)"},                   \
    {                                                                                              \
        .path = "exporters." sec ".batch.timeout", .type = XB_OPT_DURATION_MS, .def = "200ms",     \
        .min = 1, .max = 60000, .offset = OFF(field.queue.batch_timeout_ms),                       \
        .doc = "longest time a document waits for its batch to fill, ms"                           \
    }

/* Rows of exporters.loadbalancing, accepted under both of the collector's names. */
#define LB_ROWS(sec)                                                                               \
    {.path = "exporters." sec ".routing_key",                                                      \
     .type = XB_OPT_STRING,                                                                        \
     .def = "traceID",                                                                             \
     .offset = OFF(lb.routing_key),                                                                \
     .doc = "traceID (the only key supported)"},                                                   \
        {.path = "exporters." sec ".protocol.otlp.timeout",                                        \
         .type = XB_OPT_DURATION_MS,                                                               \
         .def = "10s",                                                                             \
         .min = 1,                                                                                 \
         .max = 600000,                                                                            \
         .offset = OFF(lb.timeout_ms),                                                             \
         .doc = "per OTLP/gRPC call, ms"},                                                         \
        {.path = "exporters." sec ".protocol.otlp.compression",                                    \
         .type = XB_OPT_STRING,                                                                    \
         .def = "gzip",                                                                            \
         .offset = OFF(lb.compression),                                                            \
         .doc = "gzip or none"},                                                                   \
        {.path = "exporters." sec ".protocol.otlp.tls.insecure",                                   \
         .type = XB_OPT_BOOL,                                                                      \
         .def = "false",                                                                           \
         .max = 1,                                                                                 \
         .offset = OFF(lb.tls_insecure),                                                           \
         .doc = "true: plaintext HTTP/2 (h2c) to the gateways"},                                   \
        {.path = "exporters." sec ".resolver.static.hostnames",                                    \
         .type = XB_OPT_STRLIST,                                                                   \
         .offset = OFF(lb.hostnames),                                                              \
         .count_offset = OFF(lb.n_hostnames),                                                      \
         .doc = "gateway endpoints host[:port]"},                                                  \
        {.path = "exporters." sec ".resolver.dns.hostname",                                        \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(lb.dns_hostname),                                                           \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "name resolved to the gateways' addresses"},                                       \
        {.path = "exporters." sec ".resolver.dns.port",                                            \
         .type = XB_OPT_U32,                                                                       \
         .def = "4317",                                                                            \
         .min = 1,                                                                                 \
         .max = 65535,                                                                             \
         .offset = OFF(lb.dns_port),                                                               \
         .doc = "gateway port"},                                                                   \
        {.path = "exporters." sec ".resolver.dns.interval",                                        \
         .type = XB_OPT_DURATION_MS,                                                               \
         .def = "5s",                                                                              \
         .min = 100,                                                                               \
         .max = 3600000,                                                                           \
         .offset = OFF(lb.dns_interval_ms),                                                        \
         .doc = "re-resolve period, ms"},                                                          \
        {.path = "exporters." sec ".resolver.dns.timeout",                                         \
         .type = XB_OPT_DURATION_MS,                                                               \
         .def = "1s",                                                                              \
         .min = 10,                                                                                \
         .max = 60000,                                                                             \
         .offset = OFF(lb.dns_timeout_ms),                                                         \
         .doc = "one resolution, ms"},                                                             \
        QUEUE_ROWS(sec, lb, 1000),                                                                 \
        {.path = "exporters." sec ".retry_on_failure.enabled",                                     \
         .type = XB_OPT_BOOL,                                                                      \
         .def = "true",                                                                            \
         .max = 1,                                                                                 \
         .offset = OFF(lb.retry.enabled),                                                          \
         .doc = "retry retryable failures"},                                                       \
        {.path = "exporters." sec ".retry_on_failure.initial_interval",                            \
         .type = XB_OPT_DURATION_MS,                                                               \
         .def = "1s",                                                                              \
         .min = 1,                                                                                 \
         .max = 60000,                                                                             \
         .offset = OFF(lb.retry.initial_interval_ms),                                              \
         .doc = "first back-off delay, ms"},                                                       \
        {.path = "exporters." sec ".retry_on_failure.max_interval",                                \
         .type = XB_OPT_DURATION_MS,                                                               \
         .def = "30s",                                                                             \
         .min = 1,                                                                                 \
         .max = 600000,                                                                            \
         .offset = OFF(lb.retry.max_interval_ms),                                                  \
         .doc = "longest back-off delay, ms"},                                                     \
    {                                                                                              \
        .path = "exporters." sec ".retry_on_failure.max_elapsed_time", .type = XB_OPT_DURATION_MS, \
        .def = "0", .min = 0, .max = 604800000, .offset = OFF(lb.retry.max_elapsed_ms),            \
        .doc = "give spans up after failing this long, ms; 0 = never"                              \
    }

/* Rows for one receiver's tls block (the collector's configtls ServerConfig keys). */
#define TLS_ROWS(sec, field)                                                                       \
    {.path = "receivers.otlp.protocols." sec ".tls.cert_file",                                     \
     .type = XB_OPT_STRING,                                                                        \
     .offset = OFF(field.tls.cert_file),                                                           \
     .flags = XB_OPT_F_EMPTY_NULL,                                                                 \
     .doc = "PEM server certificate (chain); setting it turns TLS on"},                            \
        {.path = "receivers.otlp.protocols." sec ".tls.key_file",                                  \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(field.tls.key_file),                                                        \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "PEM private key of cert_file (unencrypted)"},                                     \
        {.path = "receivers.otlp.protocols." sec ".tls.client_ca_file",                            \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(field.tls.client_ca_file),                                                  \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "PEM CA bundle; when set, clients must present a certificate it signed (mTLS)"},   \
        {.path = "receivers.otlp.protocols." sec ".tls.min_version",                               \
         .type = XB_OPT_STRING,                                                                    \
         .def = "1.2",                                                                             \
         .min = 1,                                                                                 \
         .offset = OFF(field.tls.min_version),                                                     \
         .doc = "lowest TLS version accepted: 1.2 or 1.3"},                                        \
        {.path = "receivers.otlp.protocols." sec ".tls.max_version",                               \
         .type = XB_OPT_STRING,                                                                    \
         .offset = OFF(field.tls.max_version),                                                     \
         .flags = XB_OPT_F_EMPTY_NULL,                                                             \
         .doc = "highest TLS version accepted: 1.2 or 1.3; empty = highest supported"},            \
    {                                                                                              \
        .path = "receivers.otlp.protocols." sec ".tls.reload_interval",                            \
        .type = XB_OPT_DURATION_MS, .def = "0", .min = 0, .max = 86400000,                         \
        .offset = OFF(field.tls.reload_interval_ms),                                               \
        .doc = "how often to check the files and reload them when changed, ms; 0 = off"            \
    }

static const struct xb_config_option options[] = {
    /* receivers.otlp.protocols.grpc */
    {.path = "receivers.otlp.protocols.grpc.endpoint",
     .type = XB_OPT_ENDPOINT,
     .def = "localhost:4317",
     .offset = OFF(grpc.endpoint),
     .doc = "listen address of the OTLP/gRPC receiver"},
    {.path = "receivers.otlp.protocols.grpc.max_recv_msg_size_mib",
     .type = XB_OPT_MIB,
     .def = "4",
     .min = 1 * MIB,
     .max = 1024 * MIB,
     .offset = OFF(grpc.max_recv_msg_bytes),
     .doc = "largest request message after decompression, MiB"},
    {.path = "receivers.otlp.protocols.grpc.max_concurrent_streams",
     .type = XB_OPT_U32,
     .def = "100",
     .min = 1,
     .max = 2147483647u,
     .offset = OFF(grpc.max_concurrent_streams),
     .doc = "HTTP/2 streams in flight per connection"},
    {.path = "receivers.otlp.protocols.grpc.max_connections",
     .type = XB_OPT_U32,
     .def = "256",
     .min = 1,
     .max = 1000000,
     .offset = OFF(grpc.max_connections),
     .doc = "simultaneous client connections"},
    TLS_ROWS("grpc", grpc),
    {.path = "receivers.otlp.protocols.grpc.max_header_list_size",
     .type = XB_OPT_BYTES,
     .def = "16KiB",
     .min = 1024,
     .max = 1 * MIB,
     .offset = OFF(grpc.max_header_list_size),
     .doc = "largest request header list (SETTINGS_MAX_HEADER_LIST_SIZE), bytes"},
    {.path = "receivers.otlp.protocols.grpc.connection_timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "10s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(grpc.connection_timeout_ms),
     .doc = "time from accept to the first request's headers; 0 = no limit"},
    {.path = "receivers.otlp.protocols.grpc.upload_timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "30s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(grpc.upload_timeout_ms),
     .doc = "time for one call to deliver its whole request; 0 = no limit"},
    {.path = "receivers.otlp.protocols.grpc.keepalive.server_parameters.max_connection_idle",
     .type = XB_OPT_DURATION_MS,
     .def = "60s",
     .min = 0,
     .max = 86400000,
     .offset = OFF(grpc.max_connection_idle_ms),
     .doc = "close a connection with no open call for this long; 0 = never"},
    {.path = "receivers.otlp.protocols.grpc.keepalive.server_parameters.max_connection_age",
     .type = XB_OPT_DURATION_MS,
     .def = "0",
     .min = 0,
     .max = 604800000,
     .offset = OFF(grpc.max_connection_age_ms),
     .doc = "send GOAWAY to a connection this old; 0 = never"},
    {.path = "receivers.otlp.protocols.grpc.keepalive.server_parameters.max_connection_age_grace",
     .type = XB_OPT_DURATION_MS,
     .def = "30s",
     .min = 0,
     .max = 86400000,
     .offset = OFF(grpc.max_connection_age_grace_ms),
     .doc = "after max_connection_age, time for calls to finish before the close; 0 = no limit"},

    /* receivers.otlp.protocols.http */
    {.path = "receivers.otlp.protocols.http.endpoint",
     .type = XB_OPT_ENDPOINT,
     .def = "localhost:4318",
     .offset = OFF(http.endpoint),
     .doc = "listen address of the OTLP/HTTP receiver"},
    {.path = "receivers.otlp.protocols.http.max_request_body_size",
     .type = XB_OPT_BYTES,
     .def = "4194304",
     .min = KIB,
     .max = 1 * GIB,
     .offset = OFF(http.max_request_body_bytes),
     .doc = "largest request body after decompression, bytes"},
    {.path = "receivers.otlp.protocols.http.max_connections",
     .type = XB_OPT_U32,
     .def = "256",
     .min = 1,
     .max = 1000000,
     .offset = OFF(http.max_connections),
     .doc = "simultaneous client connections; at the cap the stalest is evicted"},
    {.path = "receivers.otlp.protocols.http.read_header_timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "10s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(http.read_header_timeout_ms),
     .doc = "time from accept (or a keep-alive request's first byte) to complete headers"},
    {.path = "receivers.otlp.protocols.http.read_timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "30s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(http.read_timeout_ms),
     .doc = "time to receive a whole request, headers and body"},
    {.path = "receivers.otlp.protocols.http.idle_timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "60s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(http.idle_timeout_ms),
     .doc = "keep-alive wait for the next request"},
    {.path = "receivers.otlp.protocols.http.write_timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "30s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(http.write_timeout_ms),
     .doc = "time from a complete request to its response written"},
    {.path = "receivers.otlp.protocols.http.max_inflight_body_size",
     .type = XB_OPT_BYTES,
     .def = "16MiB",
     .min = 0,
     .max = 64 * GIB,
     .offset = OFF(http.max_inflight_body_bytes),
     .doc = "request body bytes in flight across all connections; 0 = no limit"},
    TLS_ROWS("http", http),

    /* exporters.awsxray */
    {.path = "exporters.awsxray.region",
     .type = XB_OPT_REGION,
     .offset = OFF(awsxray.region),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "AWS region; empty = environment, shared config, then EC2 metadata"},
    {.path = "exporters.awsxray.endpoint",
     .type = XB_OPT_URL,
     .offset = OFF(awsxray.endpoint),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "X-Ray API URL; empty = https://xray.<region>.amazonaws.com"},
    {.path = "exporters.awsxray.role_arn",
     .type = XB_OPT_STRING,
     .offset = OFF(awsxray.role_arn),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "IAM role to assume (STS AssumeRole)"},
    {.path = "exporters.awsxray.profile",
     .type = XB_OPT_STRING,
     .offset = OFF(awsxray.profile),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "profile of the shared config/credentials files; empty = AWS_PROFILE"},
    {.path = "exporters.awsxray.proxy_address",
     .type = XB_OPT_STRING,
     .offset = OFF(awsxray.proxy_address),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "HTTP(S) proxy URL for X-Ray calls"},
    {.path = "exporters.awsxray.no_verify_ssl",
     .type = XB_OPT_BOOL,
     .def = "false",
     .max = 1,
     .offset = OFF(awsxray.no_verify_ssl),
     .doc = "skip TLS certificate verification"},
    {.path = "exporters.awsxray.certificate_file_path",
     .type = XB_OPT_STRING,
     .offset = OFF(awsxray.ca_file),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "PEM file of CA certificates to trust instead of the system store"},
    {.path = "exporters.awsxray.request_timeout_seconds",
     .type = XB_OPT_U32,
     .def = "30",
     .min = 1,
     .max = 3600,
     .offset = OFF(awsxray.request_timeout_seconds),
     .doc = "timeout of one PutTraceSegments call, seconds"},
    {.path = "exporters.awsxray.max_retries",
     .type = XB_OPT_U32,
     .def = "2",
     .min = 0,
     .max = 100,
     .offset = OFF(awsxray.max_retries),
     .flags = XB_OPT_F_COMPAT,
     .doc = "accepted for compatibility; retries follow retry_on_failure"},
    {.path = "exporters.awsxray.retry_on_failure.enabled",
     .type = XB_OPT_BOOL,
     .def = "true",
     .max = 1,
     .offset = OFF(awsxray.retry.enabled),
     .doc = "retry throttling, 5xx, timeouts and connection errors"},
    {.path = "exporters.awsxray.retry_on_failure.initial_interval",
     .type = XB_OPT_DURATION_MS,
     .def = "1s",
     .min = 1,
     .max = 60000,
     .offset = OFF(awsxray.retry.initial_interval_ms),
     .doc = "first back-off delay (doubles per consecutive failure, +/-50% jitter)"},
    {.path = "exporters.awsxray.retry_on_failure.max_interval",
     .type = XB_OPT_DURATION_MS,
     .def = "30s",
     .min = 1,
     .max = 600000,
     .offset = OFF(awsxray.retry.max_interval_ms),
     .doc = "longest back-off delay"},
    {.path = "exporters.awsxray.retry_on_failure.max_elapsed_time",
     .type = XB_OPT_DURATION_MS,
     .def = "0",
     .min = 0,
     .max = 604800000,
     .offset = OFF(awsxray.retry.max_elapsed_ms),
     .doc = "give a document up after failing this long; 0 = retry until delivered"},
    {.path = "exporters.awsxray.num_workers",
     .type = XB_OPT_U32,
     .def = "8",
     .min = 1,
     .max = 256,
     .offset = OFF(awsxray.num_workers),
     .doc = "concurrent PutTraceSegments calls"},
    {.path = "exporters.awsxray.local_mode",
     .type = XB_OPT_BOOL,
     .def = "false",
     .max = 1,
     .offset = OFF(awsxray.local_mode),
     .flags = XB_OPT_F_COMPAT,
     .doc = "awsxrayexporter: do not read EC2 instance metadata (no effect here)"},
    {.path = "exporters.awsxray.resource_arn",
     .type = XB_OPT_STRING,
     .offset = OFF(awsxray.resource_arn),
     .flags = XB_OPT_F_EMPTY_NULL | XB_OPT_F_COMPAT,
     .doc = "awsxrayexporter: ARN of the resource running the collector (no effect here)"},
    TRANSLATE_ROWS("awsxray"),
    QUEUE_ROWS("awsxray", awsxray, 50),
    {.path = "exporters.awsxray.telemetry",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "exporter self-telemetry (ignored with a warning)"},

    /* receivers.awsxray (the X-Ray daemon protocol) */
    {.path = "receivers.awsxray.endpoint",
     .type = XB_OPT_ENDPOINT,
     .def = "localhost:2000",
     .offset = OFF(xray_udp.endpoint),
     .doc = "UDP listen address of the X-Ray daemon protocol receiver"},
    {.path = "receivers.awsxray.transport",
     .type = XB_OPT_STRING,
     .def = "udp",
     .min = 1,
     .offset = OFF(xray_udp.transport),
     .doc = "only \"udp\""},
    {.path = "receivers.awsxray.socket_buffer_size",
     .type = XB_OPT_BYTES,
     .def = "4194304",
     .min = 64 * 1024,
     .max = 256 * MIB,
     .offset = OFF(xray_udp.socket_buffer_size),
     .doc = "receive buffer to request, bytes (SO_RCVBUFFORCE when allowed, else SO_RCVBUF, "
            "capped at net.core.rmem_max)"},

    PROXY_ROWS("receivers.awsxray.proxy_server", xray_udp_proxy),

    /* exporters.file */
    {.path = "exporters.file.path",
     .type = XB_OPT_STRING,
     .def = "./xraybridge-segments.jsonl",
     .min = 1,
     .offset = OFF(file.path),
     .doc = "output file, one document per line; \"-\" = stdout"},
    TRANSLATE_ROWS("file"),
    QUEUE_ROWS("file", file, 10000),

    /* exporters.otlphttp (docs/otlp-export.md) */
    {.path = "exporters.otlphttp.endpoint",
     .type = XB_OPT_URL,
     .offset = OFF(otlphttp.endpoint),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "base URL; /v1/traces is appended"},
    {.path = "exporters.otlphttp.traces_endpoint",
     .type = XB_OPT_URL,
     .offset = OFF(otlphttp.traces_endpoint),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "full URL of the traces endpoint; wins over endpoint"},
    {.path = "exporters.otlphttp.compression",
     .type = XB_OPT_STRING,
     .def = "gzip",
     .offset = OFF(otlphttp.compression),
     .doc = "gzip or none"},
    {.path = "exporters.otlphttp.encoding",
     .type = XB_OPT_STRING,
     .def = "proto",
     .offset = OFF(otlphttp.encoding),
     .doc = "proto (json is not supported)"},
    {.path = "exporters.otlphttp.timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "30s",
     .min = 1,
     .max = 600000,
     .offset = OFF(otlphttp.timeout_ms),
     .doc = "per request, ms"},
    {.path = "exporters.otlphttp.headers",
     .type = XB_OPT_STRMAP,
     .offset = OFF(otlphttp.headers),
     .count_offset = OFF(otlphttp.n_headers),
     .doc = "extra request headers (name: value)"},
    {.path = "exporters.otlphttp.auth.authenticator",
     .type = XB_OPT_STRING,
     .offset = OFF(otlphttp.authenticator),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "sigv4auth, or empty for no signing"},
    {.path = "exporters.otlphttp.tls.ca_file",
     .type = XB_OPT_STRING,
     .offset = OFF(otlphttp.ca_file),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "PEM CA bundle; empty = system store"},
    {.path = "exporters.otlphttp.tls.insecure_skip_verify",
     .type = XB_OPT_BOOL,
     .def = "false",
     .max = 1,
     .offset = OFF(otlphttp.insecure_skip_verify),
     .doc = "do not verify the server certificate"},
    {.path = "exporters.otlphttp.sending_queue.enabled",
     .type = XB_OPT_BOOL,
     .def = "true",
     .max = 1,
     .offset = OFF(otlphttp.queue_enabled),
     .doc = "must stay true: the queue is where retries wait"},
    {.path = "exporters.otlphttp.sending_queue.queue_size",
     .type = XB_OPT_SIZE,
     .def = "0",
     .max = 100000000,
     .offset = OFF(otlphttp.queue_size),
     .doc = "records (OTLP requests) held; 0 = sending_queue.max_documents"},
    {.path = "exporters.otlphttp.sending_queue.num_consumers",
     .type = XB_OPT_U32,
     .def = "10",
     .min = 1,
     .max = 256,
     .offset = OFF(otlphttp.num_consumers),
     .doc = "requests in flight at once"},
    QUEUE_ROWS("otlphttp", otlphttp, 1000),
    {.path = "exporters.otlphttp.retry_on_failure.enabled",
     .type = XB_OPT_BOOL,
     .def = "true",
     .max = 1,
     .offset = OFF(otlphttp.retry.enabled),
     .doc = "retry 429/502/503/504, timeouts and connection errors"},
    {.path = "exporters.otlphttp.retry_on_failure.initial_interval",
     .type = XB_OPT_DURATION_MS,
     .def = "5s",
     .min = 1,
     .max = 60000,
     .offset = OFF(otlphttp.retry.initial_interval_ms),
     .doc = "first back-off delay, ms"},
    {.path = "exporters.otlphttp.retry_on_failure.max_interval",
     .type = XB_OPT_DURATION_MS,
     .def = "30s",
     .min = 1,
     .max = 600000,
     .offset = OFF(otlphttp.retry.max_interval_ms),
     .doc = "longest back-off delay, ms"},
    {.path = "exporters.otlphttp.retry_on_failure.max_elapsed_time",
     .type = XB_OPT_DURATION_MS,
     .def = "0",
     .min = 0,
     .max = 604800000,
     .offset = OFF(otlphttp.retry.max_elapsed_ms),
     .doc = "give a request up after failing this long, ms; 0 = never"},

    /* exporters.loadbalancing / load_balancing */
    LB_ROWS("loadbalancing"),
    LB_ROWS("load_balancing"),

    /* extensions.sigv4auth */
    {.path = "extensions.sigv4auth.region",
     .type = XB_OPT_REGION,
     .offset = OFF(sigv4auth.region),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "signing region; empty = resolved like the awsxray exporter's"},
    {.path = "extensions.sigv4auth.service",
     .type = XB_OPT_STRING,
     .def = "xray",
     .offset = OFF(sigv4auth.service),
     .doc = "signing service name"},
    {.path = "extensions.sigv4auth.assume_role.arn",
     .type = XB_OPT_STRING,
     .offset = OFF(sigv4auth.role_arn),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "role assumed with STS on top of the credential chain"},
    {.path = "extensions.sigv4auth.assume_role.sts_region",
     .type = XB_OPT_REGION,
     .offset = OFF(sigv4auth.sts_region),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "STS region (accepted; STS is called in the signing region)"},
    {.path = "extensions.sigv4auth.assume_role.session_name",
     .type = XB_OPT_STRING,
     .offset = OFF(sigv4auth.session_name),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "STS session name for assume_role.arn"},

    /* service */
    {.path = "service.pipelines.traces.receivers",
     .type = XB_OPT_RECEIVERS,
     .doc = "receivers feeding the traces pipeline (otlp, awsxray)"},
    {.path = "service.pipelines.traces.exporters",
     .type = XB_OPT_EXPORTERS,
     .doc = "exporters of the traces pipeline (awsxray, file, otlphttp, loadbalancing)"},
    {.path = "service.telemetry.logs.level",
     .type = XB_OPT_LOG_LEVEL,
     .def = "info",
     .offset = OFF(log_level),
     .doc = "minimum log level: debug, info, warn, error"},
    {.path = "service.extensions",
     .type = XB_OPT_EXTENSIONS,
     .doc = "extensions to run (health_check, viewer, awsproxy, file_storage, sigv4auth, pprof, "
            "zpages)"},
    {.path = "service.telemetry.metrics.address",
     .type = XB_OPT_ENDPOINT,
     .def = "localhost:8888",
     .offset = OFF(metrics.address),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "listen address of the Prometheus /metrics endpoint; empty = off"},
    {.path = "service.telemetry.metrics.level",
     .type = XB_OPT_METRICS_LEVEL,
     .def = "normal",
     .offset = OFF(metrics.level),
     .doc = "none turns the metrics endpoint off"},

    /* extensions */
    {.path = "extensions.health_check.endpoint",
     .type = XB_OPT_ENDPOINT,
     .def = "localhost:13133",
     .offset = OFF(health_check.endpoint),
     .doc = "listen address of the health endpoint (GET / and /health)"},
    {.path = "extensions.health_check.exporter_failure_threshold",
     .type = XB_OPT_DURATION_MS,
     .def = "5m",
     .min = 0,
     .max = 86400000,
     .offset = OFF(health_check.exporter_failure_threshold_ms),
     .doc = "unhealthy after the exporters failed this long with no delivery, ms; 0 = never"},
    {.path = "extensions.viewer.endpoint",
     .type = XB_OPT_ENDPOINT,
     .def = "localhost:4319",
     .offset = OFF(viewer.endpoint),
     .doc = "listen address of the trace viewer (docs/viewer.md)"},
    {.path = "extensions.viewer.max_traces",
     .type = XB_OPT_SIZE,
     .def = "1000",
     .min = 1,
     .max = 1000000,
     .offset = OFF(viewer.max_traces),
     .doc = "traces the viewer keeps; the least recently updated are evicted first"},
    {.path = "extensions.viewer.max_bytes",
     .type = XB_OPT_BYTES,
     .def = "32MiB",
     .min = 65536,
     .max = (uint64_t)16 << 30,
     .offset = OFF(viewer.max_bytes),
     .doc = "bytes of documents the viewer keeps"},
    {.path = "extensions.health_check.check_collector_pipeline",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "the collector's pipeline check (ignored with a warning)"},
    PROXY_ROWS("extensions.awsproxy", awsproxy),

    /* processors (config/processors.c); ids may carry a "/name" suffix */
    {.path = "service.pipelines.traces.processors",
     .type = XB_OPT_PROCESSORS,
     .offset = OFF(processors.pipeline),
     .count_offset = OFF(processors.n_pipeline),
     .doc = "processors of the traces pipeline, in order (batch, memory_limiter, "
            "resourcedetection)"},
    {.path = "processors.batch.timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "200ms",
     .min = 1,
     .max = 60000,
     .offset = OFF(processors.batch.timeout_ms),
     .doc = "becomes every exporter's batch.timeout, ms"},
    {.path = "processors.batch.send_batch_size",
     .type = XB_OPT_U32,
     .def = "8192",
     .min = 1,
     .max = 1000000,
     .offset = OFF(processors.batch.send_batch_size),
     .doc = "becomes batch.max_documents (clamped to 50 for awsxray, 10000 for file)"},
    {.path = "processors.batch.send_batch_max_size",
     .type = XB_OPT_U32,
     .def = "0",
     .max = 1000000,
     .offset = OFF(processors.batch.send_batch_max_size),
     .doc = "when set, bounds batch.max_documents instead of send_batch_size; 0 = unset"},
    {.path = "processors.batch.metadata_keys",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "per-client batching (ignored with a warning)"},
    {.path = "processors.batch.metadata_cardinality_limit",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "per-client batching (ignored with a warning)"},
    {.path = "processors.memory_limiter.check_interval",
     .type = XB_OPT_DURATION_MS,
     .def = "1s",
     .min = 10,
     .max = 600000,
     .offset = OFF(processors.memory_limiter.check_interval_ms),
     .doc = "how often the process RSS is read, ms"},
    {.path = "processors.memory_limiter.limit_mib",
     .type = XB_OPT_MIB,
     .def = "0",
     .max = 1024 * 1024 * MIB,
     .offset = OFF(processors.memory_limiter.limit_bytes),
     .doc = "hard limit of the process RSS, MiB; 0 = use limit_percentage"},
    {.path = "processors.memory_limiter.spike_limit_mib",
     .type = XB_OPT_MIB,
     .def = "0",
     .max = 1024 * 1024 * MIB,
     .offset = OFF(processors.memory_limiter.spike_limit_bytes),
     .doc = "headroom below the limit; requests are refused above limit - spike; 0 = 20%"},
    {.path = "processors.memory_limiter.limit_percentage",
     .type = XB_OPT_U32,
     .def = "0",
     .max = 100,
     .offset = OFF(processors.memory_limiter.limit_percentage),
     .doc = "hard limit as a percentage of the cgroup (else host) memory; 0 = unset"},
    {.path = "processors.memory_limiter.spike_limit_percentage",
     .type = XB_OPT_U32,
     .def = "0",
     .max = 100,
     .offset = OFF(processors.memory_limiter.spike_limit_percentage),
     .doc = "headroom as a percentage of the same memory; 0 = 20% of the limit"},
    {.path = "processors.resourcedetection.detectors",
     .type = XB_OPT_STRLIST,
     .offset = OFF(processors.resourcedetection.detectors),
     .count_offset = OFF(processors.resourcedetection.n_detectors),
     .doc = "env, ec2, eks, system; earlier detectors win on the same key"},
    {.path = "processors.resourcedetection.timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "5s",
     .min = 1,
     .max = 600000,
     .offset = OFF(processors.resourcedetection.timeout_ms),
     .doc = "bound of the whole start-up detection, ms"},
    {.path = "processors.resourcedetection.override",
     .type = XB_OPT_BOOL,
     .def = "true",
     .max = 1,
     .offset = OFF(processors.resourcedetection.override),
     .doc = "detected attributes replace the request's own (false: the request's win)"},
    {.path = "processors.resourcedetection.ec2",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "ec2 detector options such as tags (ignored with a warning)"},
    {.path = "processors.resourcedetection.eks",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "eks detector options (ignored with a warning)"},
    {.path = "processors.resourcedetection.system",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "system detector options such as hostname_sources (ignored with a warning)"},
    {.path = "extensions.pprof",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "the collector's profiling endpoint (accepted, does nothing, warns)"},
    {.path = "extensions.zpages",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "the collector's zPages endpoint (accepted, does nothing, warns)"},
    {.path = "extensions.file_storage.directory",
     .type = XB_OPT_STRING,
     .offset = OFF(file_storage.directory),
     .flags = XB_OPT_F_EMPTY_NULL,
     .doc = "directory of the durable sending queues (required)"},
    {.path = "extensions.file_storage.create_directory",
     .type = XB_OPT_BOOL,
     .def = "false",
     .max = 1,
     .offset = OFF(file_storage.create_directory),
     .doc = "create directory (mode 0750) when missing"},
    {.path = "extensions.file_storage.timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "1s",
     .min = 0,
     .max = 600000,
     .offset = OFF(file_storage.timeout_ms),
     .doc = "wait this long for another process's lock on a queue directory, ms"},
    {.path = "extensions.file_storage.fsync",
     .type = XB_OPT_BOOL,
     .def = "true",
     .max = 1,
     .offset = OFF(file_storage.fsync),
     .doc = "fdatasync each request's documents before acknowledging it"},
    {.path = "extensions.file_storage.fsync_interval",
     .type = XB_OPT_DURATION_MS,
     .def = "1s",
     .min = 10,
     .max = 60000,
     .offset = OFF(file_storage.fsync_interval_ms),
     .doc = "with fsync: false, fdatasync unsynced appends this often, ms"},
    {.path = "extensions.file_storage.max_size",
     .type = XB_OPT_BYTES,
     .def = "1GiB",
     .min = 64 * KIB,
     .max = 1024 * GIB,
     .offset = OFF(file_storage.max_size),
     .doc = "bytes of segment files per queue before requests are refused"},
    {.path = "extensions.file_storage.segment_size",
     .type = XB_OPT_BYTES,
     .def = "8MiB",
     .min = 4 * KIB,
     .max = 1 * GIB,
     .offset = OFF(file_storage.segment_size),
     .doc = "segment file size at which a new one is started"},
    {.path = "extensions.file_storage.read_ahead",
     .type = XB_OPT_BYTES,
     .def = "4MiB",
     .min = 4 * KIB,
     .max = 1 * GIB,
     .offset = OFF(file_storage.read_ahead),
     .doc = "bytes of queued documents read back from disk into memory at once"},
    {.path = "extensions.file_storage.compaction.on_start",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "the collector's database compaction (ignored: segments are deleted instead)"},
    {.path = "extensions.file_storage.compaction.on_rebound",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "the collector's database compaction (ignored)"},
    {.path = "extensions.file_storage.compaction.directory",
     .type = XB_OPT_IGNORED,
     .flags = XB_OPT_F_COMPAT,
     .doc = "the collector's compaction scratch directory (ignored)"},

    /* processors.tail_sampling (docs/sampling.md) */
    {.path = "processors.tail_sampling.decision_wait",
     .type = XB_OPT_DURATION_MS,
     .def = "30s",
     .min = 1,
     .max = 3600000,
     .offset = OFF(tail_sampling.decision_wait_ms),
     .doc = "wait after a trace's first span before deciding it"},
    {.path = "processors.tail_sampling.num_traces",
     .type = XB_OPT_SIZE,
     .def = "50000",
     .min = 1,
     .max = 50000000,
     .offset = OFF(tail_sampling.num_traces),
     .doc = "most traces waiting for a decision; past it the oldest is decided early"},
    {.path = "processors.tail_sampling.expected_new_traces_per_sec",
     .type = XB_OPT_SIZE,
     .def = "0",
     .max = 100000000,
     .offset = OFF(tail_sampling.expected_new_traces_per_sec),
     .flags = XB_OPT_F_COMPAT,
     .doc = "accepted for compatibility (a sizing hint in the collector)"},
    {.path = "processors.tail_sampling.decision_cache.sampled_cache_size",
     .type = XB_OPT_SIZE,
     .def = "50000",
     .max = 50000000,
     .offset = OFF(tail_sampling.sampled_cache_size),
     .doc = "trace ids remembered as sampled, for late spans; 0 = none"},
    {.path = "processors.tail_sampling.decision_cache.non_sampled_cache_size",
     .type = XB_OPT_SIZE,
     .def = "50000",
     .max = 50000000,
     .offset = OFF(tail_sampling.non_sampled_cache_size),
     .doc = "trace ids remembered as not sampled, for late spans; 0 = none"},
    {.path = "processors.tail_sampling.sample_on_first_match",
     .type = XB_OPT_BOOL,
     .def = "false",
     .max = 1,
     .offset = OFF(tail_sampling.sample_on_first_match),
     .doc = "stop evaluating policies at the first one that samples"},
    {.path = "processors.tail_sampling.max_bytes",
     .type = XB_OPT_BYTES,
     .def = "128MiB",
     .min = 1 * MIB,
     .max = 64 * GIB,
     .offset = OFF(tail_sampling.max_bytes),
     .doc = "bytes of documents held for waiting traces; past it the oldest is decided early"},
    {.path = "processors.tail_sampling.policies",
     .type = XB_OPT_TS_POLICIES,
     .offset = OFF(tail_sampling.policies),
     .doc = "the sampling policies (docs/sampling.md)"},

    {.path = "service.config_watch_interval",
     .type = XB_OPT_DURATION_MS,
     .def = "5s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(config_watch_interval_ms),
     .doc = "how often the config file is checked for changes to reload; 0 = SIGHUP only"},
    {.path = "service.shutdown_timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "10s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(shutdown_timeout_ms),
     .doc = "time allowed to drain queues on SIGTERM/SIGINT, ms"},
    {.path = "service.workers",
     .type = XB_OPT_U32,
     .def = "0",
     .min = 0,
     .max = 64,
     .offset = OFF(workers),
     .doc = "ingest threads (decode, translate); 0 = available cores within the CPU quota"},
    {.path = "service.sched_batch",
     .type = XB_OPT_BOOL,
     .def = "true",
     .max = 1,
     .offset = OFF(sched_batch),
     .doc = "run every thread under SCHED_BATCH: wake-ups do not preempt other tasks"},
};

const struct xb_config_option *xb_config_options(size_t *n)
{
    *n = sizeof(options) / sizeof(options[0]);
    return options;
}

const struct xb_config_option *xb_config_option_find(const char *path)
{
    const struct xb_config_option *found = NULL;

    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        if (strcmp(options[i].path, path) == 0) {
            found = &options[i];
            break;
        }
    }
    return found;
}

const char *xb_config_opt_type_name(enum xb_config_opt_type type)
{
    switch (type) {
    case XB_OPT_STRING:
        return "string";
    case XB_OPT_ENDPOINT:
        return "host:port";
    case XB_OPT_URL:
        return "URL";
    case XB_OPT_REGION:
        return "region";
    case XB_OPT_LOG_LEVEL:
        return "level";
    case XB_OPT_METRICS_LEVEL:
        return "metrics level";
    case XB_OPT_BOOL:
        return "bool";
    case XB_OPT_U32:
        return "integer";
    case XB_OPT_SIZE:
        return "integer";
    case XB_OPT_BYTES:
        return "size";
    case XB_OPT_MIB:
        return "integer (MiB)";
    case XB_OPT_DURATION_MS:
        return "duration";
    case XB_OPT_STRLIST:
        return "list of strings";
    case XB_OPT_RECEIVERS:
        return "list of receiver ids";
    case XB_OPT_EXPORTERS:
        return "list of exporter ids";
    case XB_OPT_EXTENSIONS:
        return "list of extension ids";
    case XB_OPT_PROCESSORS:
        return "list of processor ids";
    case XB_OPT_IGNORED:
        return "any";
    case XB_OPT_TS_POLICIES:
        return "list of policies";
    case XB_OPT_STRMAP:
        return "map of strings";
    }
    return "?";
}
