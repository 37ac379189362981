/*
 * tests/unit/aws/test_pieces.c - aws/pieces.c (reading a body of pieces at any split,
 * seeking back and forth) and xb_sigv4_payload_hash / xb_sigv4_sign_pieces (the hash
 * and signature of pieces equal those of their concatenation, aws/sigv4.c's own
 * xb_sigv4_sign being the oracle).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aws/pieces.h"
#include "aws/sigv4.h"
#include "core/err.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* "abcdefghij" in pieces, with empty ones at the start, in the middle and at the end. */
static const struct xb_piece body[] = {{NULL, 0},   {"abc", 3}, {"", 0},   {"d", 1},
                                       {"efgh", 4}, {NULL, 0},  {"ij", 2}, {"", 0}};
#define N_BODY (sizeof(body) / sizeof(body[0]))
static const char whole[] = "abcdefghij";

static void test_total(void **state)
{
    (void)state;
    assert_int_equal(xb_pieces_total(body, N_BODY), 10);
    assert_int_equal(xb_pieces_total(NULL, 0), 0);
}

/* Reading in steps of |step| bytes gives the whole body, whatever the step. */
static void test_read_in_steps(void **state)
{
    (void)state;
    for (size_t step = 1; step <= 12; step++) {
        struct xb_pieces_reader r;
        char out[16];
        size_t got = 0, k;
        xb_pieces_reader_init(&r, body, N_BODY);
        assert_int_equal(r.total, 10);
        while ((k = xb_pieces_read(&r, out + got, step)) > 0) {
            assert_true(k <= step);
            got += k;
            assert_int_equal(r.pos, got);
            assert_true(got <= 10);
        }
        assert_int_equal(got, 10);
        assert_memory_equal(out, whole, 10);
        assert_int_equal(xb_pieces_read(&r, out, 4), 0); /* at the end, stays there */
    }
}

/* Every split point: the first |a| bytes, then the rest, equal the body. */
static void test_every_split(void **state)
{
    (void)state;
    for (size_t a = 0; a <= 10; a++) {
        struct xb_pieces_reader r;
        char out[16];
        xb_pieces_reader_init(&r, body, N_BODY);
        assert_int_equal(xb_pieces_read(&r, out, a), a);
        assert_int_equal(xb_pieces_read(&r, out + a, 16), 10 - a);
        assert_memory_equal(out, whole, 10);
    }
}

/* Seeking to every offset from every position, then reading the rest. */
static void test_seek_anywhere(void **state)
{
    (void)state;
    for (size_t from = 0; from <= 10; from++) {
        for (size_t to = 0; to <= 10; to++) {
            struct xb_pieces_reader r;
            char out[16];
            xb_pieces_reader_init(&r, body, N_BODY);
            assert_int_equal(xb_pieces_read(&r, out, from), from);
            assert_int_equal(xb_pieces_seek(&r, to), XB_OK);
            assert_int_equal(r.pos, to);
            assert_int_equal(xb_pieces_read(&r, out, 16), 10 - to);
            assert_memory_equal(out, whole + to, 10 - to);
        }
    }
}

static void test_seek_past_end(void **state)
{
    struct xb_pieces_reader r;
    char c;
    (void)state;
    xb_pieces_reader_init(&r, body, N_BODY);
    assert_int_equal(xb_pieces_read(&r, &c, 1), 1);
    assert_int_equal(xb_pieces_seek(&r, 11), XB_ERR_INVALID);
    assert_int_equal(xb_pieces_seek(&r, SIZE_MAX), XB_ERR_INVALID);
    assert_int_equal(r.pos, 1); /* unchanged */
    assert_int_equal(xb_pieces_read(&r, &c, 1), 1);
    assert_int_equal(c, 'b');
}

static void test_empty_bodies(void **state)
{
    static const struct xb_piece empties[] = {{NULL, 0}, {"", 0}};
    struct xb_pieces_reader r;
    char c = 'x';
    (void)state;
    xb_pieces_reader_init(&r, empties, 2);
    assert_int_equal(r.total, 0);
    assert_int_equal(xb_pieces_read(&r, &c, 1), 0);
    assert_int_equal(xb_pieces_seek(&r, 0), XB_OK);
    assert_int_equal(xb_pieces_seek(&r, 1), XB_ERR_INVALID);
    xb_pieces_reader_init(&r, NULL, 0);
    assert_int_equal(xb_pieces_read(&r, &c, 1), 0);
    assert_int_equal(c, 'x');
}

/* A body of pieces larger than one read, as libcurl reads it (64 KiB at a time). */
static void test_large_body(void **state)
{
    enum { N = 50, DOC = 3001 };
    static char docs[N][DOC];
    static char flat[N * DOC], out[N * DOC];
    struct xb_piece v[N];
    struct xb_pieces_reader r;
    size_t got = 0, k;
    (void)state;
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < DOC; j++)
            docs[i][j] = (char)('a' + (i * 7 + j) % 26);
        v[i] = (struct xb_piece){docs[i], DOC};
        memcpy(flat + i * DOC, docs[i], DOC);
    }
    xb_pieces_reader_init(&r, v, N);
    while ((k = xb_pieces_read(&r, out + got, 65536)) > 0)
        got += k;
    assert_int_equal(got, sizeof(flat));
    assert_memory_equal(out, flat, sizeof(flat));
    /* Rewound, as libcurl does to send the request again. */
    assert_int_equal(xb_pieces_seek(&r, 0), XB_OK);
    memset(out, 0, sizeof(out));
    got = 0;
    while ((k = xb_pieces_read(&r, out + got, 16384)) > 0)
        got += k;
    assert_memory_equal(out, flat, sizeof(flat));
}

/* The payload hash of pieces is the SHA-256 of their concatenation. */
static void test_hash_equals_concatenation(void **state)
{
    static const struct xb_sigv4_header h[] = {{"host", "example.amazonaws.com"}};
    static const struct xb_aws_creds creds = {"AKIDEXAMPLE", "secret", NULL};
    struct xb_sigv4_request req = {"POST", "/TraceSegments", NULL, h, 1, whole, 10};
    struct xb_sigv4_result flat, pieces;
    char hex[65];
    (void)state;
    assert_int_equal(xb_sigv4_sign(&req, "us-east-1", "xray", &creds, 1709296496, &flat), XB_OK);
    assert_int_equal(xb_sigv4_payload_hash(body, N_BODY, hex), XB_OK);
    assert_string_equal(hex, flat.payload_hash);
    /* The payload given in |req| is ignored: only the pieces count. */
    req.payload = "something else";
    req.payload_len = 14;
    assert_int_equal(
        xb_sigv4_sign_pieces(&req, body, N_BODY, "us-east-1", "xray", &creds, 1709296496, &pieces),
        XB_OK);
    assert_string_equal(pieces.payload_hash, flat.payload_hash);
    assert_string_equal(pieces.authorization, flat.authorization);
    /* No pieces: the hash of the empty payload. */
    assert_int_equal(xb_sigv4_payload_hash(NULL, 0, hex), XB_OK);
    assert_string_equal(hex, EMPTY_SHA256);
}

/* Every split of a body into two pieces hashes alike. */
static void test_hash_every_split(void **state)
{
    char want[65], hex[65];
    struct xb_piece one = {whole, 10};
    (void)state;
    assert_int_equal(xb_sigv4_payload_hash(&one, 1, want), XB_OK);
    for (size_t a = 0; a <= 10; a++) {
        struct xb_piece two[2] = {{whole, a}, {whole + a, 10 - a}};
        assert_int_equal(xb_sigv4_payload_hash(two, 2, hex), XB_OK);
        assert_string_equal(hex, want);
    }
}

static void test_sign_pieces_refuses_missing_bytes(void **state)
{
    static const struct xb_sigv4_header h[] = {{"host", "example.amazonaws.com"}};
    static const struct xb_aws_creds creds = {"AKIDEXAMPLE", "secret", NULL};
    static const struct xb_piece bad[] = {{"ab", 2}, {NULL, 3}};
    struct xb_sigv4_request req = {"POST", "/", NULL, h, 1, NULL, 0};
    struct xb_sigv4_result out;
    (void)state;
    assert_int_equal(
        xb_sigv4_sign_pieces(&req, bad, 2, "us-east-1", "xray", &creds, 1709296496, &out),
        XB_ERR_INVALID);
    assert_int_equal(
        xb_sigv4_sign_pieces(&req, NULL, 1, "us-east-1", "xray", &creds, 1709296496, &out),
        XB_ERR_INVALID);
    assert_int_equal(
        xb_sigv4_sign_pieces(&req, NULL, 0, "us-east-1", "xray", &creds, 1709296496, &out), XB_OK);
    assert_string_equal(out.payload_hash, EMPTY_SHA256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_total),
        cmocka_unit_test(test_read_in_steps),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_seek_anywhere),
        cmocka_unit_test(test_seek_past_end),
        cmocka_unit_test(test_empty_bodies),
        cmocka_unit_test(test_large_body),
        cmocka_unit_test(test_hash_equals_concatenation),
        cmocka_unit_test(test_hash_every_split),
        cmocka_unit_test(test_sign_pieces_refuses_missing_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
