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
     .doc = "SO_RCVBUF to request, bytes (the kernel caps it at net.core.rmem_max)"},

    /* exporters.file */
    {.path = "exporters.file.path",
     .type = XB_OPT_STRING,
     .def = "./xraybridge-segments.jsonl",
     .min = 1,
     .offset = OFF(file.path),
     .doc = "output file, one document per line; \"-\" = stdout"},
    TRANSLATE_ROWS("file"),
    QUEUE_ROWS("file", file, 10000),

    /* service */
    {.path = "service.pipelines.traces.receivers",
     .type = XB_OPT_RECEIVERS,
     .doc = "receivers feeding the traces pipeline (otlp, awsxray)"},
    {.path = "service.pipelines.traces.exporters",
     .type = XB_OPT_EXPORTERS,
     .doc = "exporters of the traces pipeline (awsxray, file)"},
    {.path = "service.telemetry.logs.level",
     .type = XB_OPT_LOG_LEVEL,
     .def = "info",
     .offset = OFF(log_level),
     .doc = "minimum log level: debug, info, warn, error"},
    {.path = "service.extensions",
     .type = XB_OPT_EXTENSIONS,
     .doc = "extensions to run (health_check, viewer)"},
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

    {.path = "service.shutdown_timeout",
     .type = XB_OPT_DURATION_MS,
     .def = "10s",
     .min = 0,
     .max = 3600000,
     .offset = OFF(shutdown_timeout_ms),
     .doc = "time allowed to drain queues on SIGTERM/SIGINT, ms"},
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
    case XB_OPT_IGNORED:
        return "any";
    }
    return "?";
}
