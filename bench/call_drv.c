/* call_drv.c: the erlang:port_call/3 alternative. The runtime encodes the
 * argument in the external term format (a copy), the driver decodes it with
 * erl_interface's ei and encodes its result the same way into the reply buffer
 * (a copy), which the runtime decodes into new terms (a copy). This driver
 * takes the cheapest route ei offers: ei_decode_bitstring points into the
 * request instead of copying, and ei_decode_iodata only measures.
 *
 *   port_call(P, 1, Bin) -> Bin
 *   port_call(P, 2, {Ctx, Qop, Message}) -> {0, Minor, Conf, Qop, Message}
 *   port_call(P, 3, IoData) -> TotalBytes
 * Any malformed request answers the atom error. */
#include <string.h>

#include <ei.h>
#include <erl_driver.h>

#include "bench_proto.h"

typedef struct call_port {
    ErlDrvPort port;
} call_port;

static int drv_init(void)
{
    return ei_init() == 0 ? 0 : -1;
}

static ErlDrvData drv_start(ErlDrvPort port, char *command)
{
    (void)command;
    call_port *cp = driver_alloc(sizeof *cp);
    if (!cp)
        return ERL_DRV_ERROR_GENERAL;
    cp->port = port;
    return (ErlDrvData)cp;
}

static void drv_stop(ErlDrvData d)
{
    driver_free(d);
}

/* Reads a whole binary; *data points into buf. */
static int get_binary(const char *buf, int *idx, const char **data, size_t *len)
{
    unsigned int bitoffs;
    size_t nbits;
    if (ei_decode_bitstring(buf, idx, data, &bitoffs, &nbits) != 0 || bitoffs || nbits % 8)
        return -1;
    *len = nbits / 8;
    return 0;
}

/* The reply buffer: the runtime's own if it is big enough, else ours (the
 * runtime frees it with driver_free). */
static char *reply_buf(char **rbuf, ErlDrvSizeT rlen, size_t need)
{
    if (need <= rlen)
        return *rbuf;
    char *b = driver_alloc(need);
    if (b)
        *rbuf = b;
    return b;
}

static ErlDrvSSizeT drv_call(ErlDrvData d, unsigned int command, char *buf, ErlDrvSizeT len,
                             char **rbuf, ErlDrvSizeT rlen, unsigned int *flags)
{
    (void)d;
    (void)len;
    (void)flags;
    int idx = 0, ver, arity, out = 0;
    long ctx, qop;
    const char *data = NULL;
    size_t dlen = 0;
    char *r;

    if (ei_decode_version(buf, &idx, &ver) != 0)
        goto error;
    switch (command) {
    case BP_IDENTITY:
        if (get_binary(buf, &idx, &data, &dlen) != 0 || !(r = reply_buf(rbuf, rlen, dlen + 16)))
            goto error;
        ei_encode_version(r, &out);
        ei_encode_binary(r, &out, data, (long)dlen);
        return out;
    case BP_SEED:
        if (ei_decode_tuple_header(buf, &idx, &arity) != 0 || arity != 3 ||
            ei_decode_long(buf, &idx, &ctx) != 0 || ctx < 0 || ctx >= BP_NCTX ||
            ei_decode_long(buf, &idx, &qop) != 0 || qop < 0 || qop > (long)UINT32_MAX ||
            get_binary(buf, &idx, &data, &dlen) != 0 || !(r = reply_buf(rbuf, rlen, dlen + 64)))
            goto error;
        ei_encode_version(r, &out);
        ei_encode_tuple_header(r, &out, 5);
        ei_encode_ulong(r, &out, 0);
        ei_encode_ulong(r, &out, dlen ? (uint8_t)data[0] : 0);
        ei_encode_boolean(r, &out, qop != 0);
        ei_encode_ulong(r, &out, (unsigned long)qop);
        ei_encode_binary(r, &out, data, (long)dlen);
        return out;
    case BP_IODATA: {
        int size;
        if (ei_decode_iodata(buf, &idx, &size, NULL) != 0 || !(r = reply_buf(rbuf, rlen, 16)))
            goto error;
        ei_encode_version(r, &out);
        ei_encode_ulonglong(r, &out, (EI_ULONGLONG)size);
        return out;
    }
    default:
        break;
    }
error:
    if (rlen < 16)
        return -1;
    out = 0;
    ei_encode_version(*rbuf, &out);
    ei_encode_atom(*rbuf, &out, "error");
    return out;
}

static ErlDrvEntry call_drv_entry = {
    .init = drv_init,
    .driver_name = "call_drv",
    .start = drv_start,
    .stop = drv_stop,
    .call = drv_call,
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
    .driver_flags = ERL_DRV_FLAG_USE_PORT_LOCKING,
};

DRIVER_INIT(call_drv)
{
    return &call_drv_entry;
}
