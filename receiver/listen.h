/*
 * receiver/listen.h - "host:port" endpoints -> listening sockets on the event loop.
 */
#ifndef XB_RECEIVER_LISTEN_H
#define XB_RECEIVER_LISTEN_H

#include <event2/event.h>
#include <event2/listener.h>
#include <stddef.h>

/*
 * Binds and listens on |endpoint| ("host:port", "[v6addr]:port"; port 0 picks a free
 * port) and wraps it in a libevent listener calling |cb| with |ud| for each new
 * connection. The listener starts enabled (pass it to evhttp, or use it directly).
 * Names resolving to several addresses bind the first IPv4 one (else the first).
 * On success returns the listener (free with evconnlistener_free(), which closes the
 * socket) and writes the bound "ip:port" into |bound| (|bound_len| bytes).
 * On failure returns NULL and writes a reason into |bound|.
 */
struct evconnlistener *xb_listen(struct event_base *base, const char *endpoint,
                                 evconnlistener_cb cb, void *ud, char *bound, size_t bound_len);

#endif
