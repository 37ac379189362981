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
    char *storage; /* sending_queue.storage: "file_storage" = durable queue; NULL = memory */
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
 * processors.* and service.pipelines.traces.processors (config/processors.h,
 * docs/configuration.md "Processors"). One instance of each processor type can be in
 * the traces pipeline; ids may carry a "/name" suffix (batch/traces) as in the
 * collector. The fields hold the settings of the instance the pipeline lists.
 */
struct xb_config_processors {
    char **pipeline; /* ids in service.pipelines.traces.processors, in order */
    size_t n_pipeline;
    struct xb_config_batch {
        int enabled;                  /* a batch instance is in the pipeline */
        uint32_t timeout_ms;          /* timeout; default 200 ms */
        uint32_t send_batch_size;     /* default 8192 */
        uint32_t send_batch_max_size; /* default 0 = send_batch_size bounds the batch */
    } batch;
    struct xb_config_memory_limiter {
        int enabled;
        uint32_t check_interval_ms;      /* RSS read period; default 1 s */
        size_t limit_bytes;              /* limit_mib (MiB in YAML); 0 = not set */
        size_t spike_limit_bytes;        /* spike_limit_mib; 0 = 20% of the limit */
        uint32_t limit_percentage;       /* of the cgroup (else host) memory; 0 = not set */
        uint32_t spike_limit_percentage; /* 0 = 20% of the limit */
    } memory_limiter;
    struct xb_config_resourcedetection {
        int enabled;
        char **detectors; /* env, ec2, eks, system; in precedence order */
        size_t n_detectors;
        uint32_t timeout_ms; /* whole detection at start-up; default 5 s */
        int override;        /* default 1: detected attributes replace the
                                request's own; 0: the request's keys win */
    } resourcedetection;
};

/*
 * extensions.awsproxy and receivers.awsxray.proxy_server: the X-Ray sampling proxy
 * (extension/awsproxy.h, docs/migration.md "Sampling rules (proxy)").
 */
struct xb_config_awsproxy {
    int enabled;         /* extension listed in service.extensions / proxy_server present */
    char *endpoint;      /* TCP "host:port"; default "localhost:2000" */
    char *proxy_address; /* HTTPS proxy for the X-Ray calls; NULL = libcurl's environment */
    char *region;        /* NULL = resolved at start-up (xb_region_resolve_full) */
    char *role_arn;      /* STS AssumeRole on top of the credential chain */
    char *aws_endpoint;  /* NULL = https://<service_name>.<region>.amazonaws.com */
    char *service_name;  /* SigV4 service and endpoint prefix; default "xray" */
    int local_mode;      /* region from config or environment only, never metadata */
    int tls_insecure;    /* tls.insecure: do not verify X-Ray's certificate */
    char *tls_server_name_override;   /* accepted for compatibility */
    char *tls_ca_file;                /* tls.ca_file; NULL = system store */
    size_t max_request_body_bytes;    /* max_request_body_size; default 64 KiB */
    uint32_t max_concurrent_requests; /* forwarded at once; default 16 */
    uint32_t timeout_ms;              /* per upstream call; default 5 s */
};

/*
 * extensions.file_storage: the on-disk log behind sending_queue.storage
 * (extension/file_storage.h, core/wal.h, docs/durability.md).
 */
struct xb_config_file_storage {
    int enabled;                /* "file_storage" listed in service.extensions */
    char *directory;            /* required; must exist unless create_directory */
    int create_directory;       /* default 0 */
    uint32_t timeout_ms;        /* wait for another process's lock; default 1 s */
    int fsync;                  /* default 1: fdatasync before acknowledging */
    uint32_t fsync_interval_ms; /* fsync: false: sync this often; default 1 s */
    size_t max_size;            /* bytes on disk per queue; default 1 GiB */
    size_t segment_size;        /* segment file roll-over, bytes; default 8 MiB */
    size_t read_ahead;          /* bytes read back into memory at once; default 4 MiB */
};

/*
 * processors.tail_sampling (processor/tail_sampling.h, docs/sampling.md). The policies
 * are parsed by config/tail_sampling_config.c; the set is reference counted.
 */
struct xb_ts_policy_set;
struct xb_config_tail_sampling {
    int enabled;                        /* "tail_sampling" listed in pipelines.traces.processors */
    uint32_t decision_wait_ms;          /* default 30 s */
    size_t num_traces;                  /* default 50000 */
    size_t expected_new_traces_per_sec; /* accepted; sizes nothing here */
    size_t sampled_cache_size;          /* decision_cache.*; default 50000 each */
    size_t non_sampled_cache_size;
    int sample_on_first_match;         /* default false */
    size_t max_bytes;                  /* xraybridge: bytes of held traces; default 128 MiB */
    struct xb_ts_policy_set *policies; /* NULL when the section is absent */
};

/*
 * exporters.otlphttp: OTLP/HTTP protobuf of the spans as received, e.g. to X-Ray's OTLP
 * endpoint (exporter/otlp_exporter.h, docs/otlp-export.md). Keys as in the collector's
 * otlphttp exporter.
 */
struct xb_config_otlphttp {
    int enabled;           /* "otlphttp" listed in service.pipelines.traces.exporters */
    char *endpoint;        /* base URL; "/v1/traces" is appended; NULL = not set */
    char *traces_endpoint; /* full URL, used as is; wins over endpoint */
    char *compression;     /* "gzip" (default) or "none" */
    char *encoding;        /* "proto" (default) or "json" (refused: not supported) */
    uint32_t timeout_ms;   /* per request; default 30 s */
    char **headers;        /* "Name: value" strings from the headers map */
    size_t n_headers;
    char *authenticator;      /* auth.authenticator: NULL or "sigv4auth" */
    char *ca_file;            /* tls.ca_file; NULL = system store */
    int insecure_skip_verify; /* tls.insecure_skip_verify; default 0 */
    int queue_enabled;        /* sending_queue.enabled; default 1 */
    size_t queue_size;        /* sending_queue.queue_size: records; 0 = max_documents */
    uint32_t num_consumers;   /* sending_queue.num_consumers: requests in flight; default 10 */
    struct xb_config_queue queue;
    struct {
        int enabled;
        uint32_t initial_interval_ms; /* default 5 s (collector) */
        uint32_t max_interval_ms;     /* default 30 s */
        uint32_t max_elapsed_ms;      /* default 0 = keep retrying */
    } retry;
};

/* extensions.sigv4auth: SigV4 signing for the otlphttp exporter (docs/otlp-export.md). */
struct xb_config_sigv4auth {
    int enabled;        /* listed in service.extensions or named by auth.authenticator */
    char *region;       /* NULL = resolved at start-up like the awsxray exporter's */
    char *service;      /* NULL = "xray" */
    char *role_arn;     /* assume_role.arn */
    char *sts_region;   /* assume_role.sts_region; accepted, STS uses the region */
    char *session_name; /* assume_role.session_name; NULL = "xraybridge" */
};

/*
 * exporters.loadbalancing (also load_balancing): spans routed by trace id over a
 * consistent hash ring to OTLP/gRPC gateways (exporter/lb_exporter.h,
 * docs/otlp-export.md). Keys as in the collector's loadbalancing exporter.
 */
struct xb_config_loadbalancing {
    int enabled;         /* "loadbalancing" or "load_balancing" in the pipeline */
    char *routing_key;   /* only "traceID" */
    uint32_t timeout_ms; /* protocol.otlp.timeout; default 10 s */
    char *compression;   /* protocol.otlp.compression: gzip (default) | none */
    int tls_insecure;    /* protocol.otlp.tls.insecure: 1 = plaintext h2c; default 0 */
    char **hostnames;    /* resolver.static.hostnames: "host[:port]" */
    size_t n_hostnames;
    char *dns_hostname;       /* resolver.dns.hostname */
    uint32_t dns_port;        /* resolver.dns.port; default 4317 */
    uint32_t dns_interval_ms; /* resolver.dns.interval; default 5 s */
    uint32_t dns_timeout_ms;  /* resolver.dns.timeout; default 1 s */
    struct xb_config_queue queue;
    struct {
        int enabled;
        uint32_t initial_interval_ms;
        uint32_t max_interval_ms;
        uint32_t max_elapsed_ms;
    } retry;
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
    struct xb_config_health_check health_check;   /* extensions.health_check */
    struct xb_config_xray_udp xray_udp;           /* receivers.awsxray */
    struct xb_config_processors processors;       /* processors.*, pipeline processors */
    struct xb_config_awsproxy awsproxy;           /* extensions.awsproxy */
    struct xb_config_awsproxy xray_udp_proxy;     /* receivers.awsxray.proxy_server */
    struct xb_config_file_storage file_storage;   /* extensions.file_storage */
    struct xb_config_tail_sampling tail_sampling; /* processors.tail_sampling */
    uint32_t config_watch_interval_ms;    /* service.config_watch_interval; default 5 s; 0 = off */
    struct xb_config_otlphttp otlphttp;   /* exporters.otlphttp */
    struct xb_config_sigv4auth sigv4auth; /* extensions.sigv4auth */
    struct xb_config_loadbalancing lb;    /* exporters.loadbalancing */
    uint32_t workers; /* service.workers; 0 (default) = available cores (app/workers.h) */
    int sched_batch;  /* service.sched_batch; default 1: threads under SCHED_BATCH (app/sched.h) */
    struct xb_config_viewer viewer; /* extensions.viewer */
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
