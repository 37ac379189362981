/* Unit tests for core/qdoc_block.c: placement, slack charge, release order, large
 * documents, copy-out on requeue, and release from two threads. Leaks and double frees
 * are the sanitizers' and valgrind's to find (test_qdoc_block_valgrind; XB_SANITIZE=
 * address,undefined or thread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/qdoc_block.h"
#include "core/queue.h"

/* Own size of a document of |len| JSON bytes. */
#define OWN(len) (sizeof(struct xb_qdoc) + (len) + 1)

/* Places |n| documents of |len| bytes ("trace N" as trace id) through |b| into |l|. */
static void place(struct xb_qdoc_blocks *b, struct xb_qdoc_list *l, int n, size_t len)
{
    static char buf[XB_QDOC_BLOCK_SIZE];

    for (int i = 0; i < n; i++) {
        char tid[32];
        struct xb_qdoc *d;
        memset(buf, 'a' + i % 26, len);
        snprintf(tid, sizeof(tid), "trace %d", i);
        d = xb_qdoc_blocks_new(b, l, buf, len, tid, "0123456789abcdef");
        assert_non_null(d);
        xb_qdoc_list_add(l, d);
    }
}

static size_t sum_charges(const struct xb_qdoc_list *l)
{
    size_t s = 0;
    for (const struct xb_qdoc *d = l->head; d; d = d->next)
        s += xb_qdoc_charge(d);
    return s;
}

/* Documents follow each other in one block, keep their content, and only the last one
 * carries the block's slack, which sealing adds to the list's bytes. */
static void test_block_placement_and_slack(void **state)
{
    struct xb_qdoc_blocks b = {0};
    struct xb_qdoc_list l = {0};
    const struct xb_qdoc *prev = NULL;
    int i = 0;
    (void)state;

    place(&b, &l, 10, 100);
    assert_int_equal(l.bytes, 10 * OWN(100)); /* not sealed: own sizes only */
    for (const struct xb_qdoc *d = l.head; d; d = d->next, i++) {
        char tid[32];
        snprintf(tid, sizeof(tid), "trace %d", i);
        assert_true(d->block_off != 0);
        assert_string_equal(d->trace_id, tid);
        assert_string_equal(d->id, "0123456789abcdef");
        assert_int_equal(d->len, 100);
        assert_int_equal(d->json[0], 'a' + i);
        assert_int_equal(d->json[100], '\0');
        if (prev) /* next one along, 8-byte aligned */
            assert_int_equal((const char *)d - (const char *)prev, (OWN(100) + 7) / 8 * 8);
        prev = d;
    }
    xb_qdoc_blocks_seal(&b, &l);
    assert_null(b.open);
    assert_true(l.bytes > 10 * OWN(100));
    assert_int_equal(l.bytes, sum_charges(&l)); /* what the queue will count */
    for (const struct xb_qdoc *d = l.head; d; d = d->next)
        assert_int_equal(xb_qdoc_charge(d) > OWN(100), d == l.tail);
    /* The tail was given back: the slack is the header and the padding only. */
    assert_true(l.bytes - 10 * OWN(100) < 128);
    xb_qdoc_blocks_seal(&b, &l); /* twice: nothing */
    assert_int_equal(l.bytes, sum_charges(&l));
    assert_int_equal(xb_qdoc_block_refs(l.head), 10); /* sealed: its own one dropped */
    xb_qdoc_list_clear(&l);
}

/* A realloc that always moves the block, as the C library may. */
static void *moving_realloc(void *p, size_t size)
{
    void *n = malloc(size);
    if (n) {
        memcpy(n, p, size);
        free(p);
    }
    return n;
}

/* A block that moves when sealed: the list's links into it follow, across blocks. */
static void test_block_moves_when_sealed(void **state)
{
    struct xb_qdoc_blocks b = {0};
    struct xb_qdoc_list l = {0};
    size_t n = 0;
    (void)state;

    xb_qdoc_block_realloc = moving_realloc;
    place(&b, &l, 3, 100);
    place(&b, &l, 1, XB_QDOC_BLOCK_MAX_DOC); /* its own allocation, linked in between */
    place(&b, &l, 3, 100);
    xb_qdoc_blocks_seal(&b, &l);
    xb_qdoc_block_realloc = realloc;
    for (const struct xb_qdoc *d = l.head; d; d = d->next, n++) {
        static const int want[7] = {0, 1, 2, 0, 0, 1, 2}; /* place() counts from 0 */
        char tid[32];
        assert_true(n < 7);
        snprintf(tid, sizeof(tid), "trace %d", want[n]);
        assert_string_equal(d->trace_id, tid);
        assert_int_equal(d->json[0], 'a' + want[n]);
        if (!d->next)
            assert_ptr_equal(d, l.tail);
    }
    assert_int_equal(n, 7);
    assert_int_equal(l.bytes, sum_charges(&l));
    assert_int_equal(xb_qdoc_block_refs(l.head), 6);
    xb_qdoc_list_clear(&l);
}

/* A request filling several blocks: each full block's last document carries its slack,
 * and the charges of all documents still add up to the list's bytes. */
static void test_block_full_blocks(void **state)
{
    struct xb_qdoc_blocks b = {0};
    struct xb_qdoc_list l = {0};
    size_t len = 3000, n_blocks = 0, n = 0;
    (void)state;

    place(&b, &l, 100, len); /* about 4.6 blocks */
    xb_qdoc_blocks_seal(&b, &l);
    assert_int_equal(l.bytes, sum_charges(&l));
    for (const struct xb_qdoc *d = l.head; d; d = d->next, n++) {
        /* the last of its block: the list ends or the next one starts a new block */
        int last = !d->next || d->next->block_off <= d->block_off;
        assert_int_equal(xb_qdoc_charge(d) > OWN(len), last);
        n_blocks += last;
    }
    assert_int_equal(n, 100);
    assert_int_equal(n_blocks, 5);
    /* The charges cover every block whole: the full ones were not shrunk (their tails
     * are under a document), the last one was. */
    assert_true(l.bytes >= 4 * XB_QDOC_BLOCK_SIZE + 8 * OWN(len));
    assert_true(l.bytes <= 5 * XB_QDOC_BLOCK_SIZE);
    xb_qdoc_list_clear(&l);
}

/* Freeing a block's documents in any order frees the block once, with the last one. */
static void test_block_release_order(void **state)
{
    const int orders[3][5] = {{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 4, 0, 3, 1}};
    (void)state;

    for (int o = 0; o < 3; o++) {
        struct xb_qdoc_blocks b = {0};
        struct xb_qdoc_list l = {0};
        struct xb_qdoc *docs[5];
        size_t i = 0;

        place(&b, &l, 5, 50);
        xb_qdoc_blocks_seal(&b, &l);
        for (struct xb_qdoc *d = l.head; d; d = d->next)
            docs[i++] = d;
        for (int k = 0; k < 5; k++) {
            /* what is left holds the block: one reference per document */
            assert_int_equal(xb_qdoc_block_refs(docs[orders[o][4]]), 5 - k);
            xb_qdoc_free(docs[orders[o][k]]);
        }
    }
}

/* A failure path: the list is cleared before sealing; sealing then frees the block. */
static void test_block_abandoned(void **state)
{
    struct xb_qdoc_blocks b = {0};
    struct xb_qdoc_list l = {0};
    (void)state;

    place(&b, &l, 7, 200);
    assert_int_equal(xb_qdoc_block_refs(l.head), 8); /* 7 documents + the open block */
    xb_qdoc_list_clear(&l);
    xb_qdoc_blocks_seal(&b, &l); /* the last reference: frees the block */
    assert_null(b.open);
    assert_int_equal(l.bytes, 0);
}

/* A document over a quarter of a block gets its own allocation, between block ones. */
static void test_block_large_document(void **state)
{
    struct xb_qdoc_blocks b = {0};
    struct xb_qdoc_list l = {0};
    (void)state;

    place(&b, &l, 2, 100);
    place(&b, &l, 1, XB_QDOC_BLOCK_MAX_DOC);
    place(&b, &l, 2, 100);
    xb_qdoc_blocks_seal(&b, &l);
    assert_int_equal(l.n, 5);
    assert_int_equal(l.head->next->next->block_off, 0);
    assert_int_equal(xb_qdoc_charge(l.head->next->next), OWN(XB_QDOC_BLOCK_MAX_DOC));
    assert_true(l.head->next->block_off != 0);
    assert_true(l.tail->block_off != 0);
    assert_int_equal(l.bytes, sum_charges(&l));
    xb_qdoc_list_clear(&l);
}

/* A requeued block document is copied out: same content, identity and log position, its
 * own allocation, charged its own size; the queue's charges stay exact. */
static void test_block_requeue_copies_out(void **state)
{
    struct xb_queue *q = xb_queue_new(0, 0);
    struct xb_qdoc_blocks b = {0};
    struct xb_qdoc_list l = {0};
    struct xb_qdoc *d, *back;
    size_t total;
    (void)state;

    place(&b, &l, 3, 80);
    xb_qdoc_blocks_seal(&b, &l);
    total = l.bytes;
    assert_int_equal(xb_queue_push_list(q, &l), XB_OK);
    assert_int_equal(xb_queue_charged_bytes(q), total);
    for (int i = 0; i < 2; i++) /* the first two go: the last, with the slack, stays */
        xb_queue_done(q, xb_queue_pop(q));
    d = xb_queue_pop(q);
    assert_true(d->block_off != 0);
    assert_true(xb_qdoc_charge(d) > OWN(80));
    d->seq = 42;
    back = xb_queue_requeue(q, d); /* frees |d| and with it the block */
    assert_ptr_not_equal(back, d);
    assert_int_equal(back->block_off, 0);
    assert_int_equal(back->seq, 42);
    assert_string_equal(back->trace_id, "trace 2");
    assert_string_equal(back->id, "0123456789abcdef");
    assert_int_equal(back->len, 80);
    assert_int_equal(back->json[0], 'c');
    assert_int_equal(xb_queue_charged_bytes(q), OWN(80));
    assert_ptr_equal(xb_queue_pop(q), back);
    assert_ptr_equal(xb_queue_requeue(q, back), back); /* its own already: kept */
    xb_queue_done(q, xb_queue_pop(q));
    assert_int_equal(xb_queue_charged_bytes(q), 0);
    assert_int_equal(xb_queue_charged_docs(q), 0);
    {
        struct xb_qdoc *own = xb_qdoc_new_ids("{}", 2, "t", "i");
        struct xb_qdoc *copy = xb_qdoc_own(own);
        assert_int_equal(copy->block_off, 0);
        assert_string_equal(copy->json, "{}");
        xb_qdoc_free(own);
        xb_qdoc_free(copy);
    }
    xb_queue_free(q);
}

#define MT_DOCS 4000

struct mt_arg {
    struct xb_qdoc **docs;
    size_t n;
};

static void *mt_free(void *p)
{
    struct mt_arg *a = p;
    for (size_t i = 0; i < a->n; i++)
        xb_qdoc_free(a->docs[i]);
    return NULL;
}

/* Block sizes follow the body: powers of two from 4 KiB, twice the body plus 1 KiB,
 * at most 64 KiB. */
static void test_block_size_for(void **state)
{
    (void)state;
    assert_int_equal(xb_qdoc_block_size_for(0), XB_QDOC_BLOCK_MIN_SIZE);
    assert_int_equal(xb_qdoc_block_size_for(1536), 4096);                /* 4,096 wanted */
    assert_int_equal(xb_qdoc_block_size_for(1537), 8192);                /* 4,098 wanted */
    assert_int_equal(xb_qdoc_block_size_for(7364), 16384);               /* a 10-span request */
    assert_int_equal(xb_qdoc_block_size_for(32000), 65536);              /* 65,024 wanted */
    assert_int_equal(xb_qdoc_block_size_for(73635), XB_QDOC_BLOCK_SIZE); /* 100 spans */
    assert_int_equal(xb_qdoc_block_size_for((size_t)-1), XB_QDOC_BLOCK_SIZE);
    for (size_t len = 0; len < 200000; len += 97) {
        size_t s = xb_qdoc_block_size_for(len);
        assert_true(s >= XB_QDOC_BLOCK_MIN_SIZE && s <= XB_QDOC_BLOCK_SIZE);
        assert_true((s & (s - 1)) == 0);
        assert_true(s == XB_QDOC_BLOCK_SIZE || s >= 2 * len + 1024);
    }
}

/* With a small block size, documents fill blocks of that size; a document larger than
 * the size (but within XB_QDOC_BLOCK_MAX_DOC) gets a block that holds it; charges still
 * add up to the allocations. */
static void test_block_small_size(void **state)
{
    struct xb_qdoc_blocks b = {.size = XB_QDOC_BLOCK_MIN_SIZE};
    struct xb_qdoc_list l = {0};
    size_t placed;
    (void)state;

    place(&b, &l, 10, 1000); /* about 1,090 bytes each: 3 per 4 KiB block */
    placed = l.bytes;        /* own sizes, plus the slack of the blocks sealed when full */
    assert_true(placed > 10 * OWN(1000));
    assert_true(placed <= 3 * XB_QDOC_BLOCK_MIN_SIZE + 1 * OWN(1000));
    place(&b, &l, 1, 10000); /* larger than a 4 KiB block */
    assert_int_equal(xb_qdoc_charge(l.tail) >= OWN(10000), 1);
    xb_qdoc_blocks_seal(&b, &l);
    assert_int_equal(sum_charges(&l), l.bytes);
    /* 4 blocks of at most 4 KiB for the 10 small ones, then one for the large one */
    assert_true(l.bytes <= 4 * XB_QDOC_BLOCK_MIN_SIZE + OWN(10000) + 256);
    assert_int_equal(memcmp(l.tail->json, "aaaa", 4), 0);
    xb_qdoc_list_clear(&l);
}

/* Two threads free interleaved documents of the same blocks, filled and sealed before
 * they start, so each block's last reference is dropped on either thread. Nothing is
 * asserted here: the sanitizers (and test_qdoc_block_valgrind) check that every block is
 * freed exactly once and none is used after. */
static void test_block_release_two_threads(void **state)
{
    static struct xb_qdoc *even[MT_DOCS / 2], *odd[MT_DOCS / 2];
    struct xb_qdoc_blocks b = {0};
    struct xb_qdoc_list l = {0};
    struct mt_arg a = {even, 0}, c = {odd, 0};
    pthread_t t1, t2;
    size_t i = 0;
    (void)state;

    place(&b, &l, MT_DOCS, 120);
    xb_qdoc_blocks_seal(&b, &l);
    for (struct xb_qdoc *d = l.head, *next; d; d = next, i++) {
        next = d->next;
        if (i % 2)
            odd[c.n++] = d;
        else
            even[a.n++] = d;
    }
    assert_int_equal(pthread_create(&t1, NULL, mt_free, &a), 0);
    assert_int_equal(pthread_create(&t2, NULL, mt_free, &c), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_placement_and_slack),
        cmocka_unit_test(test_block_moves_when_sealed),
        cmocka_unit_test(test_block_full_blocks),
        cmocka_unit_test(test_block_release_order),
        cmocka_unit_test(test_block_abandoned),
        cmocka_unit_test(test_block_large_document),
        cmocka_unit_test(test_block_requeue_copies_out),
        cmocka_unit_test(test_block_size_for),
        cmocka_unit_test(test_block_small_size),
        cmocka_unit_test(test_block_release_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
