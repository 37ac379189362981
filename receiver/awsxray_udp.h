/*
 * receiver/awsxray_udp.h - the X-Ray daemon protocol receiver (receivers.awsxray): UDP
 * datagrams of {"format": "json", "version": 1}\n<segment document>, as the AWS X-Ray
 * SDKs send them to the daemon. Each datagram is checked by xb_xray_daemon_check()
 * (receiver/xray_daemon.h); a valid document goes unchanged into the exporter queues
 * through xb_ingest_documents(), all the valid documents of one recvmmsg() batch in one
 * call. UDP has no back-pressure: when a queue is full the
 * datagram is dropped and counted. docs/migration.md describes it for operators.
 */
#ifndef XB_RECEIVER_AWSXRAY_UDP_H
#define XB_RECEIVER_AWSXRAY_UDP_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "receiver/ingest.h"

/* Datagrams read per recvmmsg() call, and the receive buffers' total size. */
#define XB_XRAY_UDP_BATCH 64
#define XB_XRAY_UDP_SLOT_BYTES (64u * 1024u)

/* Options of xb_xray_udp_start(). */
struct xb_xray_udp_opts {
    const char *endpoint;      /* "host:port" or "[v6]:port"; port 0 = any free port */
    size_t socket_buffer_size; /* SO_RCVBUF to request, bytes; 0 = the system default.
                                  Set with SO_RCVBUFFORCE when the process may (root or
                                  CAP_NET_ADMIN: net.core.rmem_max does not cap it), else
                                  with SO_RCVBUF (capped) */
};

struct xb_xray_udp;

/*
 * Binds the UDP socket and starts reading on |base|. |ing| is borrowed and must
 * outlive the receiver. On success stores the receiver in |*out| and returns XB_OK;
 * otherwise XB_ERR_INVALID (bad endpoint), XB_ERR_IO (socket/bind failed),
 * XB_ERR_NOMEM, with a message in |err|.
 */
int xb_xray_udp_start(struct event_base *base, struct xb_ingest *ing,
                      const struct xb_xray_udp_opts *o, struct xb_xray_udp **out, char *err,
                      size_t errlen);

/* The bound UDP port (host order). */
uint16_t xb_xray_udp_port(const struct xb_xray_udp *u);

/* Receive buffer memory one receiver holds, bytes (app/budget.c counts it). */
size_t xb_xray_udp_buffer_bytes(void);

/* Stops reading, closes the socket and frees |u|. NULL is a no-op. */
void xb_xray_udp_free(struct xb_xray_udp *u);

/* Registers the receiver's metric families (idempotent; xb_xray_udp_start calls it). */
void xb_xray_udp_metrics_register(void);

#endif
