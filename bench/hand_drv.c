/* hand_drv.c: the hand-written synchronous driver baseline: outputv receives the
 * request as an ErlIOVec (binaries by reference), the work runs inline, and the
 * reply goes to the caller with erl_drv_send_term, binaries as ERL_DRV_BINARY
 * (by reference). No nocopy layer. Protocol and reply: bench_proto.h. */
#include <erl_driver.h>

#include "bench_proto.h"

typedef struct hand_port {
    ErlDrvPort port;
    ErlDrvTermData port_term;       /* driver_mk_port: computed once, in start */
} hand_port;

static bp_atoms atoms;

static ErlDrvData drv_start(ErlDrvPort port, char *command)
{
    (void)command;
    hand_port *hp = driver_alloc(sizeof *hp);
    if (!hp)
        return ERL_DRV_ERROR_GENERAL;
    hp->port = port;
    hp->port_term = driver_mk_port(port);
    bp_make_atoms(&atoms);
    return (ErlDrvData)hp;
}

static void drv_stop(ErlDrvData d)
{
    driver_free(d);
}

static void drv_outputv(ErlDrvData d, ErlIOVec *ev)
{
    hand_port *hp = (hand_port *)d;
    bp_drv_reply(hp->port_term, driver_caller(hp->port), ev, &atoms);
}

static ErlDrvEntry hand_drv_entry = {
    .driver_name = "hand_drv",
    .start = drv_start,
    .stop = drv_stop,
    .outputv = drv_outputv,
    .extended_marker = ERL_DRV_EXTENDED_MARKER,
    .major_version = ERL_DRV_EXTENDED_MAJOR_VERSION,
    .minor_version = ERL_DRV_EXTENDED_MINOR_VERSION,
    .driver_flags = ERL_DRV_FLAG_USE_PORT_LOCKING,
};

DRIVER_INIT(hand_drv)
{
    return &hand_drv_entry;
}
