/*
 * bench/udp_send.c - load generator for the X-Ray daemon protocol receiver
 * (receivers.awsxray): sends N datagrams, each the daemon header and one realistic
 * segment document of about 1 KB (the shape the X-Ray SDK for Node writes for an HTTP
 * request with a DynamoDB call and an HTTP call: aws.xray, service, http, annotations,
 * metadata and two subsegments), with a distinct id and trace id in every datagram.
 *
 * usage: udp_send -p PORT [-h HOST] [-n COUNT] [-r RATE]
 *   -r RATE  datagrams per second, paced in 1 ms steps; 0 (default) = flat out, in
 *            sendmmsg() batches of 64.
 * Prints one line: "RESULT sent=N seconds=S rate=R bytes=B" (B = bytes of one
 * datagram). Exit status 1 on a socket error (ENOBUFS / EAGAIN are retried).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM_MAX 2048

/* The segment; %08x (start second), %024llx (trace random part), %016llx (id) and two
 * %016llx subsegment ids are filled in per datagram. */
static const char TEMPLATE[] =
    "{\"format\":\"json\",\"version\":1}\n"
    "{\"trace_id\":\"1-%08x-%024llx\",\"id\":\"%016llx\",\"name\":\"orders-api\","
    "\"start_time\":%u.125,\"end_time\":%u.342,"
    "\"service\":{\"version\":\"1.4.2\",\"name\":\"orders-api\",\"runtime\":\"node\","
    "\"runtime_version\":\"v20.20.2\"},"
    "\"aws\":{\"xray\":{\"sdk\":\"X-Ray for Node.js\",\"sdk_version\":\"3.12.0\","
    "\"package\":\"aws-xray-sdk-core\"}},"
    "\"http\":{\"request\":{\"method\":\"POST\",\"user_agent\":\"Mozilla/5.0 (X11; Linux "
    "x86_64)\",\"client_ip\":\"10.0.12.34\",\"url\":\"https://orders.example.com/api/v2/orders\","
    "\"x_forwarded_for\":true},\"response\":{\"status\":200,\"content_length\":512}},"
    "\"annotations\":{\"customer_tier\":\"gold\",\"items\":3},"
    "\"metadata\":{\"default\":{\"cart\":{\"sku\":\"A-1042\",\"qty\":2,\"note\":\"gift wrap\"}}},"
    "\"subsegments\":[{\"id\":\"%016llx\",\"name\":\"DynamoDB\",\"start_time\":%u.130,"
    "\"end_time\":%u.162,\"namespace\":\"aws\",\"http\":{\"response\":{\"status\":200}},"
    "\"aws\":{\"operation\":\"PutItem\",\"region\":\"us-west-2\",\"request_id\":"
    "\"8Q3J6C0PQ1S3M1F7L5B0AV2KOBVV4KQNSO5AEMVJF66Q9ASUAAJG\",\"retries\":0,\"table_name\":"
    "\"orders\",\"resource_names\":[\"orders\"]}},"
    "{\"id\":\"%016llx\",\"name\":\"payments.example.com\",\"start_time\":%u.170,"
    "\"end_time\":%u.330,\"namespace\":\"remote\",\"http\":{\"request\":{\"url\":"
    "\"https://payments.example.com/v1/charge\",\"method\":\"POST\"},\"response\":"
    "{\"status\":200,\"content_length\":87}}}]}";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: distinct, well-spread ids from a counter. */
static unsigned long long mix(unsigned long long x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int fill(char *buf, unsigned long long i, unsigned t)
{
    unsigned long long r = mix(i * 4 + 1);
    return snprintf(buf, DGRAM_MAX, TEMPLATE, t, mix(i * 4), mix(i * 4 + 2) | 1, t, t,
                    mix(i * 4 + 3) | 1, t, t, r | 1, t, t);
}

/* Sends |n| datagrams of |msgs|, retrying on a full socket. 0, or -1 on an error. */
static int send_all(int fd, struct mmsghdr *msgs, int n)
{
    int done = 0;
    while (done < n) {
        int k = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
        if (k < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
                continue;
            perror("sendmmsg");
            return -1;
        }
        done += k;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 0, count = 100000, rate = 0;
    static char bufs[BATCH][DGRAM_MAX];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in dst = {.sin_family = AF_INET};
    unsigned t = (unsigned)time(NULL);
    double t0, t1;
    long sent = 0;
    int opt, fd, len = 0;

    while ((opt = getopt(argc, argv, "h:p:n:r:")) != -1) {
        switch (opt) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = strtol(optarg, NULL, 10);
            break;
        case 'n':
            count = strtol(optarg, NULL, 10);
            break;
        case 'r':
            rate = strtol(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: udp_send -p PORT [-h HOST] [-n COUNT] [-r RATE]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || count <= 0 || rate < 0 ||
        inet_pton(AF_INET, host, &dst.sin_addr) != 1) {
        fprintf(stderr, "udp_send: bad -p, -h, -n or -r\n");
        return 2;
    }
    dst.sin_port = htons((unsigned short)port);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = bufs[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &dst;
        msgs[i].msg_hdr.msg_namelen = sizeof(dst);
    }
    t0 = now_s();
    while (sent < count) {
        /* flat out: a full batch; paced: what is due by now, at least one 1 ms step */
        long due = rate ? (long)((now_s() - t0) * (double)rate) + 1 - sent : BATCH;
        int n;
        if (due <= 0) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            continue;
        }
        n = (int)(due < BATCH ? due : BATCH);
        if (n > count - sent)
            n = (int)(count - sent);
        for (int i = 0; i < n; i++) {
            len = fill(bufs[i], (unsigned long long)(sent + i), t);
            iov[i].iov_len = (size_t)len;
        }
        if (send_all(fd, msgs, n) != 0)
            return 1;
        sent += n;
    }
    t1 = now_s();
    printf("RESULT sent=%ld seconds=%.3f rate=%.0f bytes=%d\n", sent, t1 - t0,
           (double)sent / (t1 - t0), len);
    close(fd);
    return 0;
}
