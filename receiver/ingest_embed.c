/* receiver/ingest_embed.c - see ingest_embed.h. */
#include "receiver/ingest_embed.h"

int xb_ingest_embed_choose(const struct xb_embed_setup *s)
{
    if (!s || s->tail_sampling || s->tap || s->n_queues == 0 || !s->queues)
        return 0;
    for (size_t i = 0; i < s->n_queues; i++)
        if (!s->queues[i].takes_embedded || s->queues[i].on_disk)
            return 0;
    return 1;
}
