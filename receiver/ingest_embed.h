/*
 * receiver/ingest_embed.h - when ingest asks the translator for documents in embedded
 * form (translator/translate.h embedded_documents): the one decision, pure.
 *
 * An embedded document is the document as the contents of a JSON string, which only the
 * awsxray exporter's PutTraceSegments body wants (exporter/xray_exporter.c copies it as
 * is instead of escaping it). Everything else that can see a queued document wants plain
 * JSON: the file exporter, an on-disk log (extension/file_storage, core/wal.h: its
 * records stay plain across versions), tail_sampling (holds and releases documents), the
 * viewer's tap (parses them). OTLP record queues (otlphttp, loadbalancing exporters)
 * never see documents, and X-Ray daemon datagrams (receiver/xray_daemon.h) are queued as
 * the SDK sent them without passing the translator, so neither changes the choice.
 */
#ifndef XB_RECEIVER_INGEST_EMBED_H
#define XB_RECEIVER_INGEST_EMBED_H

#include <stddef.h>

/* One document queue a request's documents go to. */
struct xb_embed_queue {
    int takes_embedded; /* its consumer sends embedded documents as they are (awsxray) */
    int on_disk;        /* documents are written to an on-disk log (file_storage) */
};

/* What can see the documents of one request. */
struct xb_embed_setup {
    const struct xb_embed_queue *queues; /* every document queue of the pipeline */
    size_t n_queues;
    int tail_sampling; /* processors.tail_sampling holds the documents first */
    int tap;           /* the viewer extension sees every queued document */
};

/*
 * 1 when requests' documents should be translated in embedded form: at least one
 * document queue, every one of them consumed by an exporter that takes
 * embedded documents and kept in memory only, and no tail_sampling or tap. 0 otherwise
 * (plain documents, as without this feature).
 */
int xb_ingest_embed_choose(const struct xb_embed_setup *s);

#endif
