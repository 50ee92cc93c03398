/* ext_port.c: the external port program alternative: a separate OS process
 * spoken to over pipes with {packet, 4} framing (open_port({spawn_executable,
 * ...}, [{packet, 4}, binary])). Every byte crosses two pipes and is copied in
 * and out of the kernel and into new binaries.
 *
 * Requests are bench_proto.h's <<Op, Ctx:32, Qop:32, Payload/binary>>.
 * Replies: identity  Payload
 *          seed      <<Major:32, Minor:32, Conf:8, Qop:32, Payload/binary>>
 *          iodata    <<TotalBytes:64>>
 *          bad       <<>>
 * Exits when stdin closes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench_proto.h"

static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_full(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t k = writev(fd, iov, cnt);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        while (cnt > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    return 0;
}

int main(void)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (;;) {
        uint8_t lenb[4], head[4 + 13];
        if (read_full(0, lenb, 4) != 0)
            return 0;
        size_t len = bp_get32(lenb);
        if (len > cap) {
            free(buf);
            cap = len;
            if (!(buf = malloc(cap))) {
                fprintf(stderr, "ext_port: out of memory\n");
                return 1;
            }
        }
        if (read_full(0, buf, len) != 0)
            return 1;

        struct iovec iov[2];
        int cnt = 1;
        bp_header h;
        size_t hlen = 0, rlen = 0;     /* reply header bytes after the length */
        const uint8_t *payload = buf + BP_HEADER;
        size_t plen = len >= BP_HEADER ? len - BP_HEADER : 0;
        iov[1].iov_base = (void *)payload;
        iov[1].iov_len = plen;
        if (len < BP_HEADER || bp_parse_header(buf, &h) != 0) {
            rlen = 0;                  /* <<>>: bad request */
        } else if (h.op == BP_IDENTITY) {
            rlen = plen;
            cnt = 2;
        } else if (h.op == BP_SEED) {
            bp_put32(head + 4, 0);
            bp_put32(head + 8, plen ? payload[0] : 0);
            head[12] = h.qop != 0;
            bp_put32(head + 13, h.qop);
            hlen = 13;
            rlen = hlen + plen;
            cnt = 2;
        } else {
            uint64_t total = plen;
            bp_put32(head + 4, (uint32_t)(total >> 32));
            bp_put32(head + 8, (uint32_t)total);
            hlen = 8;
            rlen = hlen;
        }
        bp_put32(head, (uint32_t)rlen);
        iov[0].iov_base = head;
        iov[0].iov_len = 4 + hlen;
        if (write_full(1, iov, cnt) != 0)
            return 1;
    }
}
