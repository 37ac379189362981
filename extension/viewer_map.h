/*
 * extension/viewer_map.h - service map aggregation (pure, no I/O): calls between nodes
 * -> one edge per (caller, callee) with request count, average and p99 latency and the
 * error / fault / throttle shares, and one node per service or remote resource with the
 * same figures over its incoming calls (which give its health colour, as in the X-Ray
 * console's service map). The calls come from extension/viewer_trace.h.
 */
#ifndef XB_EXTENSION_VIEWER_MAP_H
#define XB_EXTENSION_VIEWER_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* One call from node (from_name, from_type) to node (to_name, to_type); strings borrowed
 * for the duration of xb_viewer_map_add(). Types: "client", "service" or the segment's
 * origin ("AWS::EC2::Instance"...), "remote", "aws", "database". */
struct xb_viewer_call {
    const char *from_name, *from_type;
    const char *to_name, *to_type;
    double seconds; /* the callee's duration; < 0 = unknown (in progress): not in latency */
    int fault, error, throttle;
};

/* Aggregated figures of one edge or one node's incoming calls. */
struct xb_viewer_map_stats {
    uint64_t count;     /* calls */
    uint64_t timed;     /* calls with a known duration */
    double avg_seconds; /* mean over timed calls; 0 when none */
    double p99_seconds; /* nearest-rank 99th percentile over timed calls; 0 when none */
    double fault_share; /* fault calls / count, 0..1 */
    double error_share; /* error calls / count */
    double throttle_share;
};

struct xb_viewer_map;

/* An empty map; NULL on no memory. */
struct xb_viewer_map *xb_viewer_map_new(void);

/* Frees |m|. NULL is a no-op. */
void xb_viewer_map_free(struct xb_viewer_map *m);

/* Adds one call (creating its nodes and edge). XB_OK or XB_ERR_NOMEM. */
int xb_viewer_map_add(struct xb_viewer_map *m, const struct xb_viewer_call *c);

/* Numbers of nodes and edges so far. */
size_t xb_viewer_map_nodes(const struct xb_viewer_map *m);
size_t xb_viewer_map_edges(const struct xb_viewer_map *m);

/*
 * Figures of the edge from (from_name, from_type) to (to_name, to_type). Returns XB_OK,
 * or XB_ERR_NOT_FOUND when there is no such edge.
 */
int xb_viewer_map_edge_stats(struct xb_viewer_map *m, const char *from_name, const char *from_type,
                             const char *to_name, const char *to_type,
                             struct xb_viewer_map_stats *out);

/*
 * The health of a node from its incoming calls, as the X-Ray console colours it:
 * "fault" when any call faulted, else "throttle", else "error", else "ok"; "client" for a
 * node nobody calls.
 */
const char *xb_viewer_map_health(const struct xb_viewer_map_stats *incoming);

/*
 * Appends the map as JSON to |out|: {"nodes":[{"id","name","type","health",
 * "stats":{...}}],"edges":[{"from","to","stats":{"count","timed","avg_ms","p99_ms",
 * "fault_share","error_share","throttle_share"}}]} (node ids are indexes as strings,
 * "n0"...). Returns XB_OK or XB_ERR_NOMEM.
 */
int xb_viewer_map_json(struct xb_viewer_map *m, struct xb_buf *out);

#endif
