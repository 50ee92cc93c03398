/* nc_iso_chan.h: the message channel between the VM and its child: one
 * AF_UNIX SOCK_SEQPACKET socket pair. Pure C, no runtime header.
 *
 * Why a socket, not a ring in the shared regions with an eventfd or a futex
 * (bench/iso_signal.c measures all of them; docs/design.md has the numbers):
 *   - the kernel copies each message, so a message the VM reads cannot change
 *     under it, and no index or lock lives where the child can write it: a
 *     ring's producer and consumer counters in shared memory would be the
 *     child's to corrupt, and a lock there the child's to hold forever;
 *   - a message arrives whole or not at all (SEQPACKET keeps boundaries), so
 *     a message is never half read;
 *   - the child's death closes its end: the VM's reader sees end of file at
 *     once, with no polling;
 *   - a send never blocks a scheduler: the VM sends with
 *     nocopy__iso_chan_try_send, and a full socket is an error the caller
 *     reports (eoverload), not a wait.
 * The bytes of binaries never travel here: messages carry offsets into the
 * regions. */
#ifndef NC_ISO_CHAN_H
#define NC_ISO_CHAN_H

#include <stddef.h>

/* Makes a connected pair, both ends close-on-exec. fds[0] is the VM's end
 * (non-blocking when nonblock_0), fds[1] the child's (blocking).
 * @return : NOCOPY_OK, or NOCOPY_ENOMEM when the system is out of fds. */
int nocopy__iso_chan_pair(int fds[2], int nonblock_0);

/* Sends one message of len bytes (at most NC_ISO_MSG_MAX). Never raises
 * SIGPIPE: a dead peer is an error.
 * @return : NOCOPY_OK; NOCOPY_EOVERLOAD if a non-blocking end is full;
 *           NOCOPY_ECLOSED if the peer is gone; NOCOPY_ERANGE for a message
 *           too long. */
int nocopy__iso_chan_send(int fd, const void *msg, size_t len);

/* The same, but never waits, even on a blocking end (MSG_DONTWAIT): the
 * VM's sends, so that its reader thread can wait in recv on the same end
 * (one system call per message, no poll).
 * @return : as nocopy__iso_chan_send; NOCOPY_EOVERLOAD when the end is full. */
int nocopy__iso_chan_try_send(int fd, const void *msg, size_t len);

/* Receives one message into buf (cap bytes), waiting for it on a blocking
 * end. A message longer than cap is consumed and refused, never cut short
 * silently.
 * @return : NOCOPY_OK with *len set; NOCOPY_EOVERLOAD if a non-blocking end
 *           has nothing yet; NOCOPY_ECLOSED at end of file (the peer closed
 *           or died); NOCOPY_EPROTO for a message longer than cap. */
int nocopy__iso_chan_recv(int fd, void *buf, size_t cap, size_t *len);
/* As nocopy__iso_chan_recv, but never waits, even on a blocking end:
 * NOCOPY_EOVERLOAD when no message is there (the child's pool threads spin
 * with it before they block). */
int nocopy__iso_chan_try_recv(int fd, void *buf, size_t cap, size_t *len);

#endif /* NC_ISO_CHAN_H */
