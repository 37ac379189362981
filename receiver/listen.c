#include "receiver/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Splits "host:port" / "[v6]:port" into |host| and |port|. Returns 0 or -1. */
static int split_endpoint(const char *ep, char *host, size_t host_len, char *port,
                          size_t port_len)
{
    const char *colon;
    size_t hl;

    if (ep[0] == '[') {
        const char *end = strchr(ep, ']');
        if (!end || end[1] != ':')
            return -1;
        hl = (size_t)(end - ep - 1);
        if (hl >= host_len)
            return -1;
        memcpy(host, ep + 1, hl);
        host[hl] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(ep, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - ep);
        if (hl >= host_len)
            return -1;
        memcpy(host, ep, hl);
        host[hl] = '\0';
    }
    if (strlen(colon + 1) == 0 || strlen(colon + 1) >= port_len)
        return -1;
    strcpy(port, colon + 1);
    return 0;
}

struct evconnlistener *xb_listen(struct event_base *base, const char *endpoint,
                                 evconnlistener_cb cb, void *ud, char *bound, size_t bound_len)
{
    struct addrinfo hints, *res = NULL, *pick = NULL;
    struct evconnlistener *l = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[256], port[16], ip[INET6_ADDRSTRLEN];
    int rc;

    if (split_endpoint(endpoint, host, sizeof(host), port, sizeof(port))) {
        snprintf(bound, bound_len, "invalid endpoint \"%s\" (want host:port)", endpoint);
        return NULL;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc) {
        snprintf(bound, bound_len, "cannot resolve \"%s\": %s", endpoint, gai_strerror(rc));
        return NULL;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    }
    if (!pick)
        pick = res;
    l = evconnlistener_new_bind(base, cb, ud,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                -1, pick->ai_addr, (int)pick->ai_addrlen);
    if (!l) {
        snprintf(bound, bound_len, "cannot listen on %s: %s", endpoint, strerror(errno));
        goto out;
    }
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
            snprintf(bound, bound_len, "[%s]:%u", ip, ntohs(s6->sin6_port));
        } else {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
            snprintf(bound, bound_len, "%s:%u", ip, ntohs(s4->sin_port));
        }
    } else {
        snprintf(bound, bound_len, "%s", endpoint);
    }
out:
    freeaddrinfo(res);
    return l;
}
