/* nc_iso_host_options.h: the isolate's options that bound its VM-side queue
 * (nc_iso_host_send.c), written once. nocopy_iso:start/2 checks them
 * against this table (nocopy_iso:option_limits_nif/0 returns it), so the
 * defaults and bounds exist only here. No runtime header. */
#ifndef NC_ISO_HOST_OPTIONS_H
#define NC_ISO_HOST_OPTIONS_H

/* CALLs waiting in the VM for the channel to take them. The default serves
 * many more simultaneous callers than the channel holds (278 small CALLs
 * here), as a mailbox would; 0: no queue, a full channel is eoverload. */
#define NC_ISO_QUEUE_DEFAULT       65536
#define NC_ISO_QUEUE_MAX           (1ull << 20)
/* Their bytes (each message as sent, header included): the bound that
 * matters for calls with many inline bytes (up to 32 KiB each). */
#define NC_ISO_QUEUE_BYTES_DEFAULT (64ull << 20)
#define NC_ISO_QUEUE_BYTES_MAX     (1ull << 40)

/* XX(name, default, min, max) */
#define NC_ISO_HOST_OPTIONS(XX)                                       \
    XX(queue, NC_ISO_QUEUE_DEFAULT, 0, NC_ISO_QUEUE_MAX)              \
    XX(queue_bytes, NC_ISO_QUEUE_BYTES_DEFAULT, 0, NC_ISO_QUEUE_BYTES_MAX)

#endif /* NC_ISO_HOST_OPTIONS_H */
