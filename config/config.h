/*
 * config/config.h - xraybridge configuration: YAML in the OpenTelemetry Collector's
 * shape (receivers / exporters / service.pipelines), defaults, validation.
 *
 * Reference: docs/configuration.md. Sizes are bytes, durations milliseconds unless the
 * field name says otherwise. Every string and array is owned by the struct and freed by
 * xb_config_free().
 */
#ifndef XB_CONFIG_CONFIG_H
#define XB_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* X-Ray's limit on one segment document, bytes: the largest max_document_bytes accepted
 * when the awsxray exporter is enabled. app/translator_config.c checks at compile time
 * that it equals the translator's XB_XRAY_MAX_DOC_BYTES. */
#define XB_CONFIG_XRAY_MAX_DOC_BYTES 64000u

/*
 * receivers.otlp.protocols.{grpc,http}.tls: the collector's configtls ServerConfig.
 * TLS is on when cert_file, key_file or client_ca_file is set; the cross-field rules
 * and the file checks are in receiver/tls.h (xb_tls_opts_check, xb_tls_new).
 */
struct xb_config_tls {
    char *cert_file;             /* PEM certificate (chain); NULL = not set */
    char *key_file;              /* PEM private key, unencrypted; NULL = not set */
    char *client_ca_file;        /* PEM CA bundle; set = client certificates required */
    char *min_version;           /* "1.2" (default) or "1.3" */
    char *max_version;           /* NULL = highest supported; else "1.2" or "1.3" */
    uint32_t reload_interval_ms; /* re-read the files when they change; 0 = off */
};

/* receivers.otlp.protocols.grpc */
struct xb_config_grpc {
    int enabled;                          /* section present (or embedded default) */
    char *endpoint;                       /* "host:port"; default "localhost:4317" */
    size_t max_recv_msg_bytes;            /* after decompression; default 4 MiB
                                             (YAML: max_recv_msg_size_mib, in MiB) */
    uint32_t max_concurrent_streams;      /* per connection; default 100 */
    uint32_t max_connections;             /* default 256 */
    struct xb_config_tls tls;             /* tls.* */
    size_t max_header_list_size;          /* bytes; default 16 KiB */
    uint32_t connection_timeout_ms;       /* accept -> first request; default 10 s */
    uint32_t upload_timeout_ms;           /* whole request upload per call; default 30 s */
    uint32_t max_connection_idle_ms;      /* keepalive.server_parameters.*; default 60 s */
    uint32_t max_connection_age_ms;       /* default 0 = no limit */
    uint32_t max_connection_age_grace_ms; /* default 30 s */
};

/* receivers.otlp.protocols.http */
struct xb_config_http {
    int enabled;
    char *endpoint;                  /* default "localhost:4318" */
    size_t max_request_body_bytes;   /* after decompression; default 4 MiB
                                        (YAML: max_request_body_size, bytes) */
    uint32_t max_connections;        /* default 256; at the cap the connection longest
                                        without progress is evicted */
    uint32_t read_header_timeout_ms; /* default 10 s; 0 = none */
    uint32_t read_timeout_ms;        /* whole request; default 30 s; 0 = none */
    uint32_t idle_timeout_ms;        /* keep-alive wait; default 60 s; 0 = none */
    uint32_t write_timeout_ms;       /* handling + response; default 30 s; 0 = none */
    size_t max_inflight_body_bytes;  /* bodies in flight across connections; default
                                        16 MiB (YAML: max_inflight_body_size, bytes) */
    struct xb_config_tls tls;        /* tls.* */
};

/* Translation options: YAML keys of exporters.awsxray (also accepted under file). */
struct xb_config_translate {
    char **indexed_attributes;
    size_t n_indexed_attributes;
    int index_all_attributes;         /* default 0 */
    int allow_dot_in_annotation_keys; /* default 1 */
    int skip_timestamp_validation;    /* default 1 */
    char **aws_log_groups;
    size_t n_aws_log_groups;
    size_t max_document_bytes;         /* default XB_CONFIG_XRAY_MAX_DOC_BYTES */
    int read_new_semantic_conventions; /* default 0 (docs/translation.md) */
};

/* Per-exporter queue and batching (YAML: sending_queue.*, batch.*). */
struct xb_config_queue {
    size_t max_bytes;             /* sending_queue.max_bytes; default 128 MiB */
    size_t max_documents;         /* sending_queue.max_documents; default 1,000,000 */
    uint32_t batch_max_documents; /* batch.max_documents; default 50, range 1..50 for awsxray */
    uint32_t batch_timeout_ms;    /* batch.timeout; default 200 ms */
};

/* exporters.awsxray */
struct xb_config_awsxray {
    int enabled;    /* listed in service.pipelines.traces.exporters */
    char *region;   /* NULL = resolved at start-up (xb_region_resolve_full) */
    char *endpoint; /* NULL = https://xray.<region>.amazonaws.com */
    char *role_arn; /* STS AssumeRole on top of the credential chain */
    char *profile;  /* shared-config profile; NULL = AWS_PROFILE/"default" */
    char *proxy_address;
    int no_verify_ssl;                /* default 0 */
    char *ca_file;                    /* certificate_file_path */
    uint32_t request_timeout_seconds; /* default 30 */
    uint32_t max_retries;             /* accepted for compatibility; see retry */
    uint32_t num_workers;             /* concurrent PutTraceSegments calls; default 8 */
    int local_mode;                   /* accepted for compatibility */
    char *resource_arn;               /* accepted for compatibility */
    struct xb_config_queue queue;
    /* retry_on_failure: back-off between attempts of retryable failures */
    struct {
        int enabled;                  /* default 1; 0 = give up after the first failure */
        uint32_t initial_interval_ms; /* default 1 s */
        uint32_t max_interval_ms;     /* default 30 s */
        uint32_t max_elapsed_ms;      /* default 0 = keep retrying until delivered */
    } retry;
};

/* exporters.file */
struct xb_config_file {
    int enabled;
    char *path; /* one document per line; "-" = stdout */
    struct xb_config_queue queue;
};

/*
 * receivers.awsxray: the X-Ray daemon protocol receiver (UDP datagrams of segment
 * documents; receiver/awsxray_udp.h, docs/migration.md).
 */
struct xb_config_xray_udp {
    int enabled;               /* "awsxray" listed in service.pipelines.traces.receivers */
    char *endpoint;            /* "host:port"; default "localhost:2000" */
    char *transport;           /* only "udp" */
    size_t socket_buffer_size; /* SO_RCVBUF request, bytes; default 4 MiB (the kernel caps it
                                  at net.core.rmem_max) */
};

/*
 * service.telemetry.metrics: the Prometheus endpoint serving GET /metrics
 * (app/telemetry.h, docs/observability.md).
 */
struct xb_config_metrics {
    int enabled;   /* derived: address set and level is not "none" */
    char *address; /* "host:port"; default "localhost:8888"; NULL when the
                      YAML value is "" (disabled) */
    char *level;   /* none|basic|normal|detailed, lower-case; default
                      "normal"; only "none" changes anything (disables) */
};

/*
 * extensions.health_check: the collector-style health endpoint (GET / and /health,
 * app/telemetry.h, docs/observability.md).
 */
struct xb_config_health_check {
    int enabled;                            /* "health_check" listed in service.extensions */
    char *endpoint;                         /* "host:port"; default "localhost:13133" */
    uint32_t exporter_failure_threshold_ms; /* unhealthy after the exporter has failed
                                     with no delivery for longer than this; default 5 min;
                                     0 = exporter failures never make it unhealthy */
};

/*
 * extensions.viewer: the local trace viewer (extension/viewer.h, docs/viewer.md).
 */
struct xb_config_viewer {
    int enabled;       /* "viewer" listed in service.extensions */
    char *endpoint;    /* "host:port"; default "localhost:4319" */
    size_t max_traces; /* store cap, traces; default 1000 */
    size_t max_bytes;  /* store cap, bytes; default 32 MiB */
};

struct xb_config {
    char *source; /* file path, or "<embedded default>" */
    struct xb_config_grpc grpc;
    struct xb_config_http http;
    struct xb_config_translate translate;
    struct xb_config_awsxray awsxray;
    struct xb_config_file file;
    char *log_level;                  /* service.telemetry.logs.level, lower-case; default "info" */
    uint32_t shutdown_timeout_ms;     /* service.shutdown_timeout; default 10 s */
    struct xb_config_metrics metrics; /* service.telemetry.metrics */
    struct xb_config_health_check health_check; /* extensions.health_check */
    struct xb_config_xray_udp xray_udp;         /* receivers.awsxray */
    struct xb_config_viewer viewer;             /* extensions.viewer */
};

/* The embedded default configuration (YAML text, NUL-terminated, static). */
const char *xb_config_default_yaml(void);

/*
 * Parses YAML |text| (|len| bytes, borrowed) that came from |source_name| (for messages)
 * into a new config with defaults applied and everything validated. ${env:NAME}, ${NAME}
 * and ${env:NAME:-fallback} in scalar values are expanded first (unset = ""; "$$" = "$").
 * Unknown keys, duplicate keys, wrong types, out-of-range values, unknown
 * receivers/exporters and a missing or empty traces pipeline are errors. The option
 * table is config/options.c; the user reference is docs/configuration.md.
 * Returns 0 and sets |*out| (caller frees with xb_config_free()); otherwise |*out| is
 * NULL and the result is XB_ERR_CONFIG with |errbuf| (|errlen| bytes, may be NULL/0)
 * holding "FILE:LINE:COL: dotted.key: reason" (1-based line and column), or
 * XB_ERR_NOMEM. Logs a warning for each key set in |text| that is accepted only for
 * compatibility and has no effect (rows flagged XB_OPT_F_COMPAT in config/options.c).
 */
int xb_config_parse(const char *text, size_t len, const char *source_name, struct xb_config **out,
                    char *errbuf, size_t errlen);

/*
 * Reads |path| and calls xb_config_parse() (messages start with |path|). Returns what
 * that returns, XB_ERR_IO when the file cannot be opened or read, XB_ERR_CONFIG when it
 * is larger than 4 MiB.
 */
int xb_config_load_file(const char *path, struct xb_config **out, char *errbuf, size_t errlen);

/*
 * Parses the embedded default (config/default.yaml, compiled in): OTLP gRPC on
 * localhost:4317 and HTTP on localhost:4318, file exporter to ./xraybridge-segments.jsonl,
 * no AWS, Prometheus metrics on localhost:8888 and health_check on localhost:13133.
 * Same returns as xb_config_parse(); source name "<embedded default>".
 */
int xb_config_load_default(struct xb_config **out, char *errbuf, size_t errlen);

/* Frees |cfg| and everything it owns. NULL is a no-op. */
void xb_config_free(struct xb_config *cfg);

#endif
