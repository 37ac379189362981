#include "aws/url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

/* Start of the authority of |url|: after "scheme://", or the start when none. */
static const char *authority_start(const char *url)
{
    const char *p = strstr(url, "://");
    const char *stop = strpbrk(url, "/?#@");

    /* "://" only counts as the scheme separator when it precedes any path or '@'. */
    if (p && (!stop || stop >= p))
        return p + 3;
    return url;
}

/* End of the authority that starts at |a|. */
static const char *authority_end(const char *a)
{
    const char *e = strpbrk(a, "/?#");
    return e ? e : a + strlen(a);
}

char *xb_url_redact(const char *url, char *out, size_t out_len)
{
    const char *a, *e, *at = NULL;

    if (!out_len)
        return out;
    if (!url) {
        out[0] = '\0';
        return out;
    }
    a = authority_start(url);
    e = authority_end(a);
    for (const char *p = a; p < e; p++)
        if (*p == '@')
            at = p; /* the last '@' ends the userinfo */
    if (!at) {
        snprintf(out, out_len, "%s", url);
        return out;
    }
    snprintf(out, out_len, "%.*s***%s", (int)(a - url), url, at);
    return out;
}

/* Host part of the authority [a, e) without userinfo, port or IPv6 brackets. */
static void url_host(const char *a, const char *e, char *host, size_t host_len)
{
    const char *h = a, *he;
    size_t n;

    for (const char *p = a; p < e; p++)
        if (*p == '@')
            h = p + 1;
    if (h < e && *h == '[') {
        h++;
        he = memchr(h, ']', (size_t)(e - h));
        if (!he)
            he = e;
    } else {
        he = memchr(h, ':', (size_t)(e - h));
        if (!he)
            he = e;
    }
    n = (size_t)(he - h);
    if (n >= host_len)
        n = 0; /* too long to be a loopback name or address */
    memcpy(host, h, n);
    host[n] = '\0';
}

static int host_is_loopback(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;
    size_t n = strlen(host);

    if (n && host[n - 1] == '.')
        n--; /* "localhost." is the same name */
    if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
        return 1;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
    }
    return 0;
}

int xb_url_cleartext_remote(const char *url)
{
    const char *a, *e;
    char host[256];

    if (!url || strncasecmp(url, "http://", 7) != 0)
        return 0;
    a = url + 7;
    e = authority_end(a);
    url_host(a, e, host, sizeof(host));
    return !host_is_loopback(host);
}

int xb_url_warn_if_cleartext(const char *who, const char *what, const char *url)
{
    char shown[512];

    if (!xb_url_cleartext_remote(url))
        return 0;
    XB_WARN(who,
            "%s %s is plain http:// to a non-loopback host: signed requests and session "
            "tokens cross the network in clear text; use https://",
            what, xb_url_redact(url, shown, sizeof(shown)));
    return 1;
}
