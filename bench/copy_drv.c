/* copy_drv.c: the copying driver a user often writes first: no outputv, so the
 * runtime flattens every request into one new buffer (a copy) before calling
 * output(); the reply carries its binaries as ERL_DRV_BUF2BINARY (another copy).
 * Same protocol and replies as hand_drv.c (bench_proto.h). */
#include <erl_driver.h>

#include "bench_proto.h"

typedef struct copy_port {
    ErlDrvPort port;
    ErlDrvTermData port_term;
} copy_port;

static bp_atoms atoms;

static ErlDrvData drv_start(ErlDrvPort port, char *command)
{
    (void)command;
    copy_port *cp = driver_alloc(sizeof *cp);
    if (!cp)
        return ERL_DRV_ERROR_GENERAL;
    cp->port = port;
    cp->port_term = driver_mk_port(port);
    bp_make_atoms(&atoms);
    return (ErlDrvData)cp;
}

static void drv_stop(ErlDrvData d)
{
    driver_free(d);
}

static void drv_output(ErlDrvData d, char *buf, ErlDrvSizeT len)
{
    copy_port *cp = (copy_port *)d;
    ErlDrvTermData s[24];
    ErlDrvUInt64 total;
    int n = 0;
    bp_header h;
    const char *payload = buf + BP_HEADER;
    size_t plen = len - BP_HEADER;

    s[n++] = ERL_DRV_PORT;
    s[n++] = cp->port_term;
    if (len < BP_HEADER || bp_parse_header((const uint8_t *)buf, &h) != 0) {
        s[n++] = ERL_DRV_ATOM;
        s[n++] = atoms.am_error;
        s[n++] = ERL_DRV_ATOM;
        s[n++] = atoms.am_badarg;
        s[n++] = ERL_DRV_TUPLE;
        s[n++] = 2;
    } else if (h.op == BP_IDENTITY) {
        s[n++] = ERL_DRV_BUF2BINARY;
        s[n++] = (ErlDrvTermData)payload;
        s[n++] = plen;
    } else if (h.op == BP_SEED) {
        s[n++] = ERL_DRV_UINT;
        s[n++] = 0;
        s[n++] = ERL_DRV_UINT;
        s[n++] = plen ? (uint8_t)payload[0] : 0;
        s[n++] = ERL_DRV_ATOM;
        s[n++] = h.qop ? atoms.am_true : atoms.am_false;
        s[n++] = ERL_DRV_UINT;
        s[n++] = h.qop;
        s[n++] = ERL_DRV_BUF2BINARY;
        s[n++] = (ErlDrvTermData)payload;
        s[n++] = plen;
        s[n++] = ERL_DRV_TUPLE;
        s[n++] = 5;
    } else {
        total = plen;
        s[n++] = ERL_DRV_UINT64;
        s[n++] = (ErlDrvTermData)&total;
    }
    s[n++] = ERL_DRV_TUPLE;
    s[n++] = 2;
    erl_drv_send_term(cp->port_term, driver_caller(cp->port), s, n);
}

static ErlDrvEntry copy_drv_entry = {
    .driver_name = "copy_drv",
    .start = drv_start,
    .stop = drv_stop,
    .output = drv_output,
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
    .driver_flags = ERL_DRV_FLAG_USE_PORT_LOCKING,
};

DRIVER_INIT(copy_drv)
{
    return &copy_drv_entry;
}
