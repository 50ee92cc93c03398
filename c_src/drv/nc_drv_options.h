/* nc_drv_options.h: the driver's port options, written once. The driver
 * parses them from the open_port command ("NAME_drv workers=4 queue=1024
 * queue_bytes=67108864 inline=1"); the describe build prints the same table
 * for the stub generator, so that NAME_drv:open/1 checks the same limits
 * (nocopy_port:open/3) and nothing is written twice. No runtime headers: the
 * describe program includes it too. */
#ifndef NC_DRV_OPTIONS_H
#define NC_DRV_OPTIONS_H

#define NC_DRV_WORKERS_DEFAULT     4
#define NC_DRV_WORKERS_MAX         64
#define NC_DRV_QUEUE_DEFAULT       1024
#define NC_DRV_QUEUE_MAX           (1ull << 20)
/* A decoded request takes up to NC_WIRE_TREE_BYTES_PER_BYTE (40) bytes per
 * request byte (small terms): the queue's calls are bounded in number and, by
 * this, in decoded bytes. */
#define NC_DRV_QUEUE_BYTES_DEFAULT (64ull << 20)
#define NC_DRV_QUEUE_BYTES_MAX     (1ull << 40)

/* XX(name, field of port_options, default, min, max, boolean) */
#define NC_DRV_OPTIONS(XX)                                                      \
    XX(workers, workers, NC_DRV_WORKERS_DEFAULT, 1, NC_DRV_WORKERS_MAX, 0)        \
    XX(queue, queue, NC_DRV_QUEUE_DEFAULT, 1, NC_DRV_QUEUE_MAX, 0)                \
    XX(queue_bytes, queue_bytes, NC_DRV_QUEUE_BYTES_DEFAULT, 1, NC_DRV_QUEUE_BYTES_MAX, 0) \
    XX(inline, inline_normal, 1, 0, 1, 1)

#endif /* NC_DRV_OPTIONS_H */
