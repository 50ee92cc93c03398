/* nc_drv_port.c: a port's life. start reads the port's options and sets up
 * its worker pool and handle table; stop cancels what is queued and drops the
 * handles, but never waits for the calls running on the port's workers (user
 * code may run for as long as it likes, and stop runs on a scheduler): the
 * port's memory goes to the janitor, a thread of the driver's own that joins
 * the workers once their calls have finished and released what they hold, and
 * then frees the port. Only unloading the driver waits for them (drv_finish
 * joins the janitor), because no thread may run the driver's code once it is
 * unloaded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nc_drv.h"

typedef struct port_options {
    unsigned long long workers;
    unsigned long long queue;               /* calls */
    unsigned long long queue_bytes;         /* bytes of decoded requests */
    unsigned long long inline_normal;       /* 0: NOCOPY_NORMAL calls go to workers too */
} port_options;

/* "NAME_drv workers=4 queue=1024 queue_bytes=67108864 inline=1": the
 * open_port command after the name (the last of a repeated option counts),
 * options and limits from nc_drv_options.h. inline=0 sends every call to the
 * workers (for ports whose callers must never run C on a scheduler, and to
 * test the worker path). */
static int parse_options(const char *cmd, port_options *o)
{
    struct {
        const char *name;                   /* with its '=' */
        unsigned long long *value, min, max;
    } known[] = {
#define XX(name, field, dflt, min, max, boolean) {#name "=", &o->field, min, max},
        NC_DRV_OPTIONS(XX)
#undef XX
    };
    const char *p = strchr(cmd, ' ');
    while (p && *p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        size_t k = 0, nknown = sizeof known / sizeof known[0];
        while (k < nknown && strncmp(p, known[k].name, strlen(known[k].name)) != 0)
            k++;
        if (k == nknown)
            return -1;
        const char *v = p + strlen(known[k].name);
        if (*v < '0' || *v > '9')           /* strtoull takes signs and blanks */
            return -1;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if ((*end != ' ' && *end != '\0') || errno || n < known[k].min || n > known[k].max)
            return -1;
        *known[k].value = n;
        p = end;
    }
    return 0;
}

ErlDrvData nocopy__drv_port_start(ErlDrvPort port, char *command)
{
    port_options o = {
#define XX(name, field, dflt, min, max, boolean) .field = dflt,
        NC_DRV_OPTIONS(XX)
#undef XX
    };
    if (parse_options(command, &o) != 0)
        return ERL_DRV_ERROR_BADARG;
    if (nocopy__drv_atoms_init() != 0)
        return ERL_DRV_ERROR_GENERAL;
    nc_drv_port *dp = driver_alloc(sizeof *dp);
    if (!dp)
        return ERL_DRV_ERROR_GENERAL;
    dp->port = port;
    dp->port_term = driver_mk_port(port);
    dp->inline_normal = (int)o.inline_normal;
    nocopy__drv_spares_init(&dp->spares);
    size_t queue_bytes = o.queue_bytes > SIZE_MAX ? SIZE_MAX : (size_t)o.queue_bytes;
    if (nocopy__drv_pool_init(&dp->pool, (unsigned)o.workers, (size_t)o.queue,
                              queue_bytes) != 0) {
        driver_free(dp);
        return ERL_DRV_ERROR_GENERAL;
    }
    if (nocopy__drv_htable_init(&dp->handles) != 0) {
        nocopy__drv_pool_close(&dp->pool);
        nocopy__drv_pool_join(&dp->pool);
        driver_free(dp);
        return ERL_DRV_ERROR_GENERAL;
    }
    return (ErlDrvData)dp;
}

static void port_free(nc_drv_port *dp)
{
    nocopy__drv_pool_join(&dp->pool);
    nocopy__drv_htable_destroy(&dp->handles);
    nocopy__drv_spares_free(&dp->spares);
    driver_free(dp);
}

/* ---- the janitor -------------------------------------------------------------- */

static struct {
    ErlDrvMutex *mu;
    ErlDrvCond *cv;
    nc_drv_port *closed;                /* ports whose workers are to be joined */
    int running, stopping;
    ErlDrvTid tid;
} janitor;

static void janitor_destroy(void)
{
    if (janitor.cv)
        erl_drv_cond_destroy(janitor.cv);
    if (janitor.mu)
        erl_drv_mutex_destroy(janitor.mu);
    janitor.cv = NULL;
    janitor.mu = NULL;
}

int nocopy__drv_janitor_init(void)
{
    janitor.closed = NULL;
    janitor.running = janitor.stopping = 0;
    janitor.mu = erl_drv_mutex_create("nocopy_janitor");
    janitor.cv = erl_drv_cond_create("nocopy_janitor");
    if (janitor.mu && janitor.cv)
        return 0;
    janitor_destroy();
    return -1;
}

static void *janitor_main(void *arg)
{
    (void)arg;
    erl_drv_mutex_lock(janitor.mu);
    for (;;) {
        while (!janitor.closed && !janitor.stopping)
            erl_drv_cond_wait(janitor.cv, janitor.mu);
        nc_drv_port *dp = janitor.closed;
        if (!dp)
            break;                      /* stopping, nothing left */
        janitor.closed = dp->next_closed;
        erl_drv_mutex_unlock(janitor.mu);
        /* Waits, here and not on a scheduler, for the calls still running. */
        port_free(dp);
        erl_drv_mutex_lock(janitor.mu);
    }
    erl_drv_mutex_unlock(janitor.mu);
    return NULL;
}

static void janitor_adopt(nc_drv_port *dp)
{
    erl_drv_mutex_lock(janitor.mu);
    if (!janitor.running &&
        erl_drv_thread_create("nocopy_janitor", &janitor.tid, janitor_main, NULL, NULL) == 0)
        janitor.running = 1;
    if (!janitor.running) {
        /* No thread to hand it to: the old way, waiting here, is still
         * correct, only slower to return. */
        erl_drv_mutex_unlock(janitor.mu);
        port_free(dp);
        return;
    }
    dp->next_closed = janitor.closed;
    janitor.closed = dp;
    erl_drv_cond_signal(janitor.cv);
    erl_drv_mutex_unlock(janitor.mu);
}

void nocopy__drv_janitor_finish(void)
{
    if (!janitor.mu || !janitor.cv)
        return;
    erl_drv_mutex_lock(janitor.mu);
    janitor.stopping = 1;
    erl_drv_cond_signal(janitor.cv);
    int running = janitor.running;
    erl_drv_mutex_unlock(janitor.mu);
    if (running)
        erl_drv_thread_join(janitor.tid, NULL);
    janitor.running = 0;
    janitor_destroy();
}

/* The port closed (port_close, owner exit, driver unload with kill_ports).
 * Queued calls are cancelled and the port's handles dropped; calls running on
 * the workers are not waited for: they finish on their threads, release what
 * they hold, and their replies go nowhere (their callers see the port go
 * down). The janitor frees the port once they are done. */
void nocopy__drv_port_stop(ErlDrvData data)
{
    nc_drv_port *dp = (nc_drv_port *)data;
    unsigned workers = nocopy__drv_pool_close(&dp->pool);
    nocopy__drv_htable_close(&dp->handles);
    if (workers == 0)
        port_free(dp);
    else
        janitor_adopt(dp);
}
