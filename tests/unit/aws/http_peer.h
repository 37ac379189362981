/*
 * tests/unit/aws/http_peer.h - test-only helpers for the loopback HTTP/1.1 servers the
 * aws/ unit tests run on a thread (test_request_reuse, test_curl_loop).
 */
#ifndef XB_TESTS_UNIT_AWS_HTTP_PEER_H
#define XB_TESTS_UNIT_AWS_HTTP_PEER_H

#include <stddef.h>

/* Reads from |fd| into |buf| (|cap| bytes, kept NUL-terminated; |*len| bytes are already
 * there and |*len| grows with each read) until one whole request is in: the headers
 * through the blank line, then as many body bytes as its Content-Length says (none
 * without one). Returns the length of the headers, or -1 at EOF, on a read error or
 * when the request does not fit in |cap| - 1 bytes. */
int xb_test_read_request(int fd, char *buf, size_t cap, size_t *len);

#endif
