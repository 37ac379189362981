/*
 * aws/curl_loop.h - drives libcurl's multi interface from the libevent loop
 * (curl_multi_socket_action with socket and timer callbacks), so HTTP calls to AWS
 * (PutTraceSegments, STS, IMDS, container credentials) never block the receivers.
 */
#ifndef XB_AWS_CURL_LOOP_H
#define XB_AWS_CURL_LOOP_H

#include <curl/curl.h>
#include <event2/event.h>

/* Called once per finished transfer with its easy handle and libcurl result. The
 * handle has already been removed from the multi; the callee owns it again. */
typedef void (*xb_curl_done_cb)(void *ud, CURL *easy, CURLcode result);

struct xb_curl_loop;

/*
 * Priorities of the main event loop (libevent: of the active events, only those of the
 * lowest priority number run in a loop pass). The main loop has XB_LOOP_PRIORITIES
 * queues (app/app.c); everything is created at the default, the middle one, except the
 * sending side: libcurl's sockets and timer (here) and the exporters' batchers
 * (exporter/batcher.c), at XB_LOOP_PRIO_SEND. So while a call can make progress, it
 * runs before more requests are read and admitted on that loop: when the CPU is short,
 * ingest is paced by sending instead of filling the export queue up to its cap; when
 * the exporters have nothing to do (idle, or waiting out a back-off) ingest is not held
 * back at all. Priority 0 is valid on any loop, also one with a single queue.
 */
#define XB_LOOP_PRIORITIES 2
#define XB_LOOP_PRIO_SEND 0

/*
 * Creates a multi handle bound to |base|. |max_host_connections| caps parallel
 * connections per host (0 = libcurl default). Returns NULL on allocation failure.
 * Calls curl_global_init (reference counted by libcurl).
 */
struct xb_curl_loop *xb_curl_loop_new(struct event_base *base, long max_host_connections);

/*
 * Starts |easy| (configured by the caller). |done| is called with |ud| when it
 * finishes, from the event loop, never from inside this call. Returns 0 or
 * XB_ERR_NOMEM (the handle was not added and is still the caller's).
 * Sets |easy|'s CURLOPT_OPENSOCKETFUNCTION and CURLOPT_CLOSESOCKETFUNCTION (and their
 * data) to the loop's own: a connection's socket keeps its event while the connection
 * waits idle in libcurl's cache, until libcurl closes it. The caller sets neither.
 */
int xb_curl_loop_add(struct xb_curl_loop *l, CURL *easy, xb_curl_done_cb done, void *ud);

/* Removes an unfinished |easy| (no callback). The caller cleans it up. */
void xb_curl_loop_remove(struct xb_curl_loop *l, CURL *easy);

/* Frees the loop. Transfers still running must have been removed first. */
void xb_curl_loop_free(struct xb_curl_loop *l);

#endif
