/* nc_iso_chan.c: the VM <-> child message channel (see nc_iso_chan.h). */
#include "nc_iso_chan.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nc_iso_limits.h"
#include "nocopy_status.h"

int nocopy__iso_chan_pair(int fds[2], int nonblock_0)
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        return NOCOPY_ENOMEM;
    if (nonblock_0) {
        int fl = fcntl(fds[0], F_GETFL);
        if (fl < 0 || fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) != 0) {
            close(fds[0]);
            close(fds[1]);
            return NOCOPY_ENOMEM;
        }
    }
    return NOCOPY_OK;
}

static int chan_send(int fd, const void *msg, size_t len, int flags)
{
    if (len > NC_ISO_MSG_MAX)
        return NOCOPY_ERANGE;
    for (;;) {
        /* MSG_NOSIGNAL: a dead child must not take the VM down with SIGPIPE. */
        ssize_t n = send(fd, msg, len, MSG_NOSIGNAL | flags);
        if (n == (ssize_t)len)
            return NOCOPY_OK;
        if (n >= 0)                 /* SEQPACKET sends all or nothing */
            return NOCOPY_ECLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return NOCOPY_EOVERLOAD;
        return NOCOPY_ECLOSED;
    }
}

int nocopy__iso_chan_send(int fd, const void *msg, size_t len)
{
    return chan_send(fd, msg, len, 0);
}

int nocopy__iso_chan_try_send(int fd, const void *msg, size_t len)
{
    return chan_send(fd, msg, len, MSG_DONTWAIT);
}

static int chan_recv(int fd, void *buf, size_t cap, size_t *len, int flags)
{
    for (;;) {
        /* MSG_TRUNC makes recv return the message's real length, so a
         * message longer than the buffer is seen as such (and dropped whole:
         * the rest of a SEQPACKET message is discarded). */
        ssize_t n = recv(fd, buf, cap, MSG_TRUNC | flags);
        if (n > 0 && (size_t)n <= cap) {
            *len = (size_t)n;
            return NOCOPY_OK;
        }
        if (n > 0)
            return NOCOPY_EPROTO;
        if (n == 0)
            /* End of file. An empty message would read the same, so the
             * protocol never sends one (every message has a header). */
            return NOCOPY_ECLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return NOCOPY_EOVERLOAD;
        return NOCOPY_ECLOSED;
    }
}

int nocopy__iso_chan_recv(int fd, void *buf, size_t cap, size_t *len)
{
    return chan_recv(fd, buf, cap, len, 0);
}

int nocopy__iso_chan_try_recv(int fd, void *buf, size_t cap, size_t *len)
{
    return chan_recv(fd, buf, cap, len, MSG_DONTWAIT);
}
