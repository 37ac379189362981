/*
 * receiver/awsxray_udp.c - the X-Ray daemon protocol receiver on the event loop
 * (awsxray_udp.h). This file only carries bytes: every decision is
 * xb_xray_daemon_check()'s.
 */
#define _GNU_SOURCE
#include "receiver/awsxray_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "receiver/listen.h"
#include "receiver/xray_daemon.h"

/* Datagrams handled per wake-up before yielding to the other events. */
#define WAKE_BUDGET (16 * XB_XRAY_UDP_BATCH)
#define CMSG_BYTES CMSG_SPACE(sizeof(uint32_t))

struct xb_xray_udp {
    struct xb_ingest *ing;
    struct event *ev;
    struct event *poll_drops; /* reads the kernel's drop count every second */
    int fd;
    uint16_t port;
    struct xb_ratelimit rl;
    struct mmsghdr msgs[XB_XRAY_UDP_BATCH];
    struct iovec iov[XB_XRAY_UDP_BATCH];
    union {
        char buf[CMSG_BYTES];
        struct cmsghdr align;
    } ctl[XB_XRAY_UDP_BATCH];
    char *bufs; /* XB_XRAY_UDP_BATCH slots of XB_XRAY_UDP_SLOT_BYTES */
    /* the valid documents of the current batch, enqueued together */
    struct xb_xray_doc checked[XB_XRAY_UDP_BATCH];
    struct xb_ingest_doc docs[XB_XRAY_UDP_BATCH];
};

/* ------------------------------------------------------------ metrics --- */

static uint64_t accepted, refused;
static uint64_t dropped[XB_UDP_VERDICT_COUNT - 1]; /* index verdict - 1 */

static const char *const drop_values[XB_UDP_VERDICT_COUNT - 1] = {
    [XB_UDP_BAD_HEADER - 1] = "bad_header",       [XB_UDP_BAD_JSON - 1] = "bad_json",
    [XB_UDP_MISSING_FIELD - 1] = "missing_field", [XB_UDP_TOO_LARGE - 1] = "too_large",
    [XB_UDP_QUEUE_FULL - 1] = "queue_full",       [XB_UDP_KERNEL_OVERFLOW - 1] = "kernel_overflow",
};
static const struct xb_metric_label by_reason[] = {
    {"reason", drop_values, XB_UDP_VERDICT_COUNT - 1},
};

#define LABELS "receiver=\"awsxray\",transport=\"udp\""

static struct xb_metric_family families[] = {
    {.name = "otelcol_receiver_accepted_spans_total",
     .help = "Spans accepted and queued for export.",
     .type = XB_METRIC_COUNTER,
     .const_labels = LABELS,
     .values = &accepted},
    {.name = "otelcol_receiver_refused_spans_total",
     .help = "Spans refused with a retryable error (queue full, out of memory).",
     .type = XB_METRIC_COUNTER,
     .const_labels = LABELS,
     .values = &refused},
    {.name = "xraybridge_receiver_udp_dropped_total",
     .help = "X-Ray daemon protocol datagrams dropped, by reason (kernel_overflow: by the "
             "kernel, SO_RXQ_OVFL).",
     .type = XB_METRIC_COUNTER,
     .const_labels = LABELS,
     .labels = by_reason,
     .n_labels = 1,
     .values = dropped},
};

void xb_xray_udp_metrics_register(void)
{
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        (void)xb_metrics_register(&families[i]); /* valid static families */
}

/* ------------------------------------------------------------ reading --- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void drop(struct xb_xray_udp *u, enum xb_udp_verdict v, const char *why)
{
    uint64_t skipped;

    dropped[v - 1]++;
    if (v == XB_UDP_QUEUE_FULL)
        refused++;
    if (xb_ratelimit_allow(&u->rl, now_ms(), &skipped))
        XB_WARN("awsxray", "dropped a datagram (%s): %s; %llu more dropped since the last line",
                xb_udp_verdict_label(v), why, (unsigned long long)skipped);
}

/* The kernel's cumulative drop counter from one message's SO_RXQ_OVFL control data. */
static void note_overflow(const struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            uint32_t n;
            memcpy(&n, CMSG_DATA(c), sizeof(n));
            if (n > dropped[XB_UDP_KERNEL_OVERFLOW - 1])
                dropped[XB_UDP_KERNEL_OVERFLOW - 1] = n;
        }
    }
}

/*
 * The socket's drop count read directly (SO_MEMINFO, SK_MEMINFO_DROPS: the same
 * sk_drops counter SO_RXQ_OVFL reports). SO_RXQ_OVFL only reports it with the next
 * datagram received, so drops at the end of a burst would stay unseen until more
 * traffic came; this reads it after each wake-up and once a second.
 */
static void read_drops(struct xb_xray_udp *u)
{
    uint32_t mi[SK_MEMINFO_VARS];
    socklen_t len = sizeof(mi);

    if (getsockopt(u->fd, SOL_SOCKET, SO_MEMINFO, mi, &len) == 0 &&
        len > SK_MEMINFO_DROPS * sizeof(uint32_t) &&
        mi[SK_MEMINFO_DROPS] > dropped[XB_UDP_KERNEL_OVERFLOW - 1])
        dropped[XB_UDP_KERNEL_OVERFLOW - 1] = mi[SK_MEMINFO_DROPS];
}

static void on_poll_drops(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    read_drops(arg);
}

/* Checks one received datagram; a valid one is appended to the batch (u->docs[*k]). */
static void handle(struct xb_xray_udp *u, const struct mmsghdr *mm, const char *buf, size_t *k)
{
    struct xb_xray_doc *d = &u->checked[*k];
    const char *why = "";
    enum xb_udp_verdict v;

    note_overflow(&mm->msg_hdr);
    if (mm->msg_hdr.msg_flags & MSG_TRUNC) {
        drop(u, XB_UDP_TOO_LARGE, "datagram larger than the receive buffer");
        return;
    }
    v = xb_xray_daemon_check(buf, mm->msg_len, d, &why);
    if (v != XB_UDP_OK) {
        drop(u, v, why);
        return;
    }
    u->docs[*k] = (struct xb_ingest_doc){
        .json = d->json, .len = d->len, .trace_id = d->trace_id, .id = d->id};
    (*k)++;
}

/* Enqueues the |k| valid documents of one recvmmsg() batch in one call; when the
 * queues cannot take them all, one by one, so that the room left is used. */
static void enqueue_batch(struct xb_xray_udp *u, size_t k)
{
    if (!k)
        return;
    if (xb_ingest_documents(u->ing, u->docs, k) == XB_OK) {
        accepted += k;
        return;
    }
    for (size_t i = 0; i < k; i++) {
        if (xb_ingest_documents(u->ing, &u->docs[i], 1) != XB_OK)
            drop(u, XB_UDP_QUEUE_FULL, "an exporter queue is full");
        else
            accepted++;
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct xb_xray_udp *u = arg;
    int total = 0;

    (void)what;
    while (total < WAKE_BUDGET) {
        size_t k = 0;
        int n;
        for (int i = 0; i < XB_XRAY_UDP_BATCH; i++) {
            u->msgs[i].msg_hdr.msg_controllen = CMSG_BYTES;
            u->msgs[i].msg_hdr.msg_flags = 0;
        }
        n = recvmmsg(fd, u->msgs, XB_XRAY_UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                XB_WARN("awsxray", "recvmmsg: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++)
            handle(u, &u->msgs[i], u->bufs + (size_t)i * XB_XRAY_UDP_SLOT_BYTES, &k);
        enqueue_batch(u, k);
        total += n;
        if (n < XB_XRAY_UDP_BATCH)
            break;
    }
    read_drops(u);
}

/* ------------------------------------------------------------ set-up --- */

/* Splits "host:port" / "[v6]:port" into |host| and |port|. */
static int split_endpoint(const char *ep, char *host, size_t hlen, char *port, size_t plen)
{
    const char *colon = strrchr(ep, ':');
    const char *h = ep;
    size_t n;

    if (!colon || !colon[1] || strlen(colon + 1) >= plen)
        return XB_ERR_INVALID;
    n = (size_t)(colon - ep);
    if (n >= 2 && ep[0] == '[' && ep[n - 1] == ']')
        h = ep + 1, n -= 2;
    if (n >= hlen)
        return XB_ERR_INVALID;
    memcpy(host, h, n);
    host[n] = '\0';
    strcpy(port, colon + 1);
    return XB_OK;
}

size_t xb_xray_udp_buffer_bytes(void)
{
    return (size_t)XB_XRAY_UDP_BATCH * XB_XRAY_UDP_SLOT_BYTES + sizeof(struct xb_xray_udp);
}

int xb_xray_udp_start(struct event_base *base, struct xb_ingest *ing,
                      const struct xb_xray_udp_opts *o, struct xb_xray_udp **out, char *err,
                      size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE}, *ai = NULL;
    char host[256], port[16];
    struct xb_xray_udp *u = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int one = 1, rc, got = 0, forced = 0;
    socklen_t gl = sizeof(got);

    xb_xray_udp_metrics_register();
    *out = NULL;
    if (split_endpoint(o->endpoint, host, sizeof(host), port, sizeof(port)) != XB_OK) {
        snprintf(err, errlen, "awsxray receiver: bad endpoint \"%s\"", o->endpoint);
        return XB_ERR_INVALID;
    }
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "awsxray receiver: %s: %s", o->endpoint, gai_strerror(rc));
        return XB_ERR_INVALID;
    }
    rc = XB_ERR_NOMEM;
    u = calloc(1, sizeof(*u));
    if (!u)
        goto fail;
    u->fd = -1;
    u->ing = ing;
    u->rl.interval_ms = 10000;
    u->bufs = malloc((size_t)XB_XRAY_UDP_BATCH * XB_XRAY_UDP_SLOT_BYTES);
    if (!u->bufs)
        goto fail;
    for (int i = 0; i < XB_XRAY_UDP_BATCH; i++) {
        u->iov[i].iov_base = u->bufs + (size_t)i * XB_XRAY_UDP_SLOT_BYTES;
        u->iov[i].iov_len = XB_XRAY_UDP_SLOT_BYTES;
        u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
        u->msgs[i].msg_hdr.msg_iovlen = 1;
        u->msgs[i].msg_hdr.msg_control = u->ctl[i].buf;
        u->msgs[i].msg_hdr.msg_controllen = CMSG_BYTES;
    }
    rc = XB_ERR_IO;
    u->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (u->fd < 0 || bind(u->fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        getsockname(u->fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(err, errlen, "awsxray receiver: cannot bind udp %s: %s", o->endpoint,
                 strerror(errno));
        goto fail;
    }
    u->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    if (o->socket_buffer_size) {
        int want = o->socket_buffer_size > (size_t)(1 << 30) ? 1 << 30 : (int)o->socket_buffer_size;
        /* SO_RCVBUFFORCE (CAP_NET_ADMIN) is not capped by net.core.rmem_max; without the
         * capability it fails and SO_RCVBUF, capped, is the fallback. */
        forced = setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) == 0;
        if (!forced && setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) != 0)
            XB_WARN("awsxray", "SO_RCVBUF %d: %s", want, strerror(errno));
    }
    if (setsockopt(u->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) != 0)
        XB_WARN("awsxray", "SO_RXQ_OVFL: %s (kernel drops will not be counted)", strerror(errno));
    (void)getsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
    u->ev = event_new(base, u->fd, EV_READ | EV_PERSIST, on_read, u);
    u->poll_drops = event_new(base, -1, EV_PERSIST, on_poll_drops, u);
    if (!u->ev || event_add(u->ev, NULL) != 0 || !u->poll_drops ||
        event_add(u->poll_drops, &(struct timeval){.tv_sec = 1}) != 0) {
        rc = XB_ERR_NOMEM;
        snprintf(err, errlen, "awsxray receiver: cannot add the socket to the event loop");
        goto fail;
    }
    XB_INFO("awsxray",
            "X-Ray daemon protocol receiver listening on udp %s (port %u); socket buffer %d "
            "bytes (asked %zu; Linux reports twice the request%s)",
            o->endpoint, (unsigned)u->port, got, o->socket_buffer_size,
            forced ? ", set with SO_RCVBUFFORCE" : ", capped by net.core.rmem_max");
    freeaddrinfo(ai);
    *out = u;
    return XB_OK;
fail:
    if (ai)
        freeaddrinfo(ai);
    xb_xray_udp_free(u);
    return rc;
}

uint16_t xb_xray_udp_port(const struct xb_xray_udp *u)
{
    return u->port;
}

void xb_xray_udp_free(struct xb_xray_udp *u)
{
    if (!u)
        return;
    if (u->ev)
        event_free(u->ev);
    if (u->poll_drops)
        event_free(u->poll_drops);
    if (u->fd >= 0)
        close(u->fd);
    free(u->bufs);
    free(u);
}
