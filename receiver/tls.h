/*
 * receiver/tls.h - TLS and mTLS for the OTLP receivers: options, the server SSL_CTX,
 * certificate reload, and server-side TLS bufferevents.
 *
 * Options follow the OpenTelemetry Collector's configtls ServerConfig (cert_file,
 * key_file, client_ca_file, min_version, max_version, reload_interval; see
 * docs/configuration.md and docs/security.md). One struct xb_tls per receiver owns
 * the current SSL_CTX. A reload builds a complete new SSL_CTX from the files and swaps
 * it in: connections accepted afterwards use the new one, connections already open keep
 * the SSL_CTX they started with (each SSL holds a reference, OpenSSL frees the context
 * with its last connection). A reload that fails is logged and changes nothing.
 * Key material and passphrases are never logged; only file names, subjects, serials
 * and expiry dates are.
 */
#ifndef XB_RECEIVER_TLS_H
#define XB_RECEIVER_TLS_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stddef.h>
#include <stdint.h>

/* TLS settings of one receiver. Strings are borrowed (copied by xb_tls_new). */
struct xb_tls_opts {
    const char *cert_file;       /* PEM certificate chain, leaf first; NULL = not set */
    const char *key_file;        /* PEM private key, unencrypted; NULL = not set */
    const char *client_ca_file;  /* PEM CA bundle; non-NULL = client certificate required */
    const char *min_version;     /* "1.2" or "1.3"; NULL or "" = "1.2" */
    const char *max_version;     /* "1.2" or "1.3"; NULL or "" = highest supported */
    uint32_t reload_interval_ms; /* check the files this often, reload on change; 0 = off */
    const char *alpn;            /* protocol to select by ALPN ("h2" for gRPC,
                                    "http/1.1" for OTLP/HTTP); NULL = no ALPN */
    int alpn_required;           /* 1: refuse clients whose ALPN list lacks |alpn|
                                    (clients sending no ALPN at all are still accepted) */
    const char *key_prefix;      /* YAML path of the tls block, for messages, e.g.
                                    "receivers.otlp.protocols.grpc.tls" */
};

struct xb_tls;

/*
 * Parses a configtls version string. "1.2" -> 0x0303 (TLS1_2_VERSION), "1.3" -> 0x0304
 * (TLS1_3_VERSION); NULL or "" -> |dflt|. Returns XB_OK and sets |*out|, or
 * XB_ERR_CONFIG for anything else ("1.0" and "1.1" are refused as insecure).
 */
int xb_tls_parse_version(const char *s, int dflt, int *out);

/* Non-zero when |o| asks for TLS: cert_file, key_file or client_ca_file is set. */
int xb_tls_opts_enabled(const struct xb_tls_opts *o);

/*
 * Pure checks of |o| (no file access): when TLS is on, cert_file and key_file are both
 * set; versions parse and min <= max; when TLS is off, no other tls key is set to a
 * non-default value. Returns XB_OK, or XB_ERR_CONFIG with "KEY: reason" (KEY starting
 * with o->key_prefix) in |err| (|err_len| bytes).
 */
int xb_tls_opts_check(const struct xb_tls_opts *o, char *err, size_t err_len);

/*
 * Checks |o| (xb_tls_opts_check), then builds the first SSL_CTX from the files: each
 * file must be readable, the key must match the certificate, the CA file must hold at
 * least one certificate. When o->reload_interval_ms > 0 a timer on |base| (borrowed,
 * must outlive the object) checks the files' size, mtime and inode and reloads when
 * one changed. |who| ("grpc", "http", static) names the receiver in logs.
 * Returns XB_OK and sets |*out|; XB_ERR_CONFIG with "KEY: FILE: reason" in |err|;
 * XB_ERR_NOMEM.
 */
int xb_tls_new(struct event_base *base, const struct xb_tls_opts *o, const char *who,
               struct xb_tls **out, char *err, size_t err_len);

/*
 * Rebuilds the SSL_CTX from the files now (SIGHUP). On success the new context serves
 * new connections, the old one is released (open connections keep it alive), and the
 * new certificate's subject, serial and expiry are logged. On failure an error naming
 * the file is logged and the current context stays. Returns XB_OK or XB_ERR_CONFIG /
 * XB_ERR_NOMEM. NULL |t| is a no-op returning XB_OK.
 */
int xb_tls_reload(struct xb_tls *t);

/* Number of successful reloads since xb_tls_new (for tests and logs). */
uint64_t xb_tls_reloads(const struct xb_tls *t);

/*
 * A server-side TLS bufferevent on |base| for an accepted socket |fd| (-1: evhttp sets
 * it later with bufferevent_setfd), using the current SSL_CTX; BEV_OPT_CLOSE_ON_FREE,
 * dirty shutdowns from clients allowed, TCP_NODELAY set on |fd| (see
 * xb_tls_listener_nodelay). Returns NULL on allocation failure, in which
 * case |fd| has not been closed.
 */
struct bufferevent *xb_tls_bufferevent(struct xb_tls *t, struct event_base *base, int fd);

/*
 * Sets TCP_NODELAY on the listening socket of |l| (accepted sockets inherit it on
 * Linux). A TLS bufferevent sends each TLS record with its own write, so with Nagle's
 * algorithm the last record of a response (evhttp writes headers and body apart) waits
 * for the client's delayed ACK, about 40 ms per request. Errors are ignored.
 */
void xb_tls_listener_nodelay(struct evconnlistener *l);

/* Stops the reload timer and releases the current SSL_CTX. NULL is a no-op. */
void xb_tls_free(struct xb_tls *t);

#endif
