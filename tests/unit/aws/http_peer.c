/*
 * tests/unit/aws/http_peer.c - see http_peer.h.
 */
#include "tests/unit/aws/http_peer.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int xb_test_read_request(int fd, char *buf, size_t cap, size_t *len)
{
    for (;;) {
        char *end = NULL;
        ssize_t got;
        buf[*len] = '\0';
        if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t head = (size_t)(end - buf) + 4, body = cl ? strtoul(cl + 16, NULL, 10) : 0;
            if (*len >= head + body)
                return (int)head;
        }
        if (*len + 1 >= cap)
            return -1;
        got = read(fd, buf + *len, cap - 1 - *len);
        if (got <= 0)
            return -1;
        *len += (size_t)got;
    }
}
