/* fake_erl_driver.c: just enough of erl_driver, outside the VM, to run a
 * driver's outputv under valgrind --tool=callgrind (see fake_erl_nif.c for
 * why). Allocation is malloc, locks are pthreads, and erl_drv_send_term only
 * walks the term spec (the VM builds and sends the term: far more work), so
 * the counts of these stand-ins are a floor for the VM's, reported apart from
 * the driver's own. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <erl_driver.h>

#include "fake_erl_driver.h"

/* ---- binaries: a refcount in front of the public part --------------------- */

typedef struct fake_bin {
    long refc;
    ErlDrvBinary pub;                 /* orig_bytes runs on past the struct */
} fake_bin;

static fake_bin *fb(ErlDrvBinary *b)
{
    return (fake_bin *)((char *)b - offsetof(fake_bin, pub));
}

ErlDrvBinary *driver_alloc_binary(ErlDrvSizeT size)
{
    fake_bin *f = malloc(sizeof *f + size);
    if (!f)
        return NULL;
    f->refc = 1;
    f->pub.orig_size = (ErlDrvSInt)size;
    return &f->pub;
}

ErlDrvBinary *driver_realloc_binary(ErlDrvBinary *bin, ErlDrvSizeT size)
{
    fake_bin *f = realloc(fb(bin), sizeof *f + size);
    if (!f)
        return NULL;
    f->pub.orig_size = (ErlDrvSInt)size;
    return &f->pub;
}

ErlDrvSInt driver_binary_inc_refc(ErlDrvBinary *b)
{
    return __atomic_add_fetch(&fb(b)->refc, 1, __ATOMIC_RELAXED);
}

void driver_free_binary(ErlDrvBinary *b)
{
    if (__atomic_sub_fetch(&fb(b)->refc, 1, __ATOMIC_ACQ_REL) == 0)
        free(fb(b));
}

/* ---- memory, terms ------------------------------------------------------------ */

void *driver_alloc(ErlDrvSizeT size) { return malloc(size); }
void *driver_realloc(void *p, ErlDrvSizeT size) { return realloc(p, size); }
void driver_free(void *p) { free(p); }

static char *atom_names[256];
static int natoms;

ErlDrvTermData driver_mk_atom(char *name)
{
    for (int i = 0; i < natoms; i++)
        if (strcmp(atom_names[i], name) == 0)
            return (ErlDrvTermData)(i + 1) << 4;
    if (natoms == 256)
        abort();
    atom_names[natoms++] = strdup(name);
    return (ErlDrvTermData)natoms << 4;
}

ErlDrvTermData driver_mk_port(ErlDrvPort port)
{
    return (ErlDrvTermData)(uintptr_t)port | 1;
}

ErlDrvTermData driver_caller(ErlDrvPort port)
{
    (void)port;
    return 0x1233;                    /* a "pid" */
}

long fake_sent, fake_errors;

/* Walks the spec as the VM's first pass does, and counts replies whose term
 * holds the atom '$nocopy_error' (nocopy) or badarg (the hand-written driver). */
int erl_drv_send_term(ErlDrvTermData port, ErlDrvTermData to, ErlDrvTermData *d, int n)
{
    (void)port;
    (void)to;
    static ErlDrvTermData err, badarg;
    if (!err) {
        err = driver_mk_atom("$nocopy_error");
        badarg = driver_mk_atom("badarg");
    }
    int i = 0;
    while (i < n) {
        switch (d[i]) {
        case ERL_DRV_NIL: i += 1; break;
        case ERL_DRV_ATOM:
            if (d[i + 1] == err || d[i + 1] == badarg)
                fake_errors++;
            i += 2;
            break;
        case ERL_DRV_INT: case ERL_DRV_PORT: case ERL_DRV_TUPLE: case ERL_DRV_LIST:
        case ERL_DRV_PID: case ERL_DRV_FLOAT: case ERL_DRV_UINT: case ERL_DRV_INT64:
        case ERL_DRV_UINT64: case ERL_DRV_MAP:
            i += 2;
            break;
        case ERL_DRV_BINARY: i += 4; break;
        case ERL_DRV_STRING: case ERL_DRV_STRING_CONS: case ERL_DRV_EXT2TERM:
        case ERL_DRV_BUF2BINARY:
            i += 3;
            break;
        default:
            fprintf(stderr, "fake_erl_driver: bad term spec op %lu at %d\n",
                    (unsigned long)d[i], i);
            abort();
        }
    }
    fake_sent++;
    return 1;
}

/* ---- threads ------------------------------------------------------------------ */

struct ErlDrvMutex_ { pthread_mutex_t m; };
struct ErlDrvCond_ { pthread_cond_t c; };

ErlDrvMutex *erl_drv_mutex_create(char *name)
{
    (void)name;
    ErlDrvMutex *m = malloc(sizeof *m);
    pthread_mutex_init(&m->m, NULL);
    return m;
}

void erl_drv_mutex_destroy(ErlDrvMutex *m)
{
    pthread_mutex_destroy(&m->m);
    free(m);
}

void erl_drv_mutex_lock(ErlDrvMutex *m) { pthread_mutex_lock(&m->m); }
void erl_drv_mutex_unlock(ErlDrvMutex *m) { pthread_mutex_unlock(&m->m); }

ErlDrvCond *erl_drv_cond_create(char *name)
{
    (void)name;
    ErlDrvCond *c = malloc(sizeof *c);
    pthread_cond_init(&c->c, NULL);
    return c;
}

void erl_drv_cond_destroy(ErlDrvCond *c)
{
    pthread_cond_destroy(&c->c);
    free(c);
}

void erl_drv_cond_signal(ErlDrvCond *c) { pthread_cond_signal(&c->c); }
void erl_drv_cond_broadcast(ErlDrvCond *c) { pthread_cond_broadcast(&c->c); }
void erl_drv_cond_wait(ErlDrvCond *c, ErlDrvMutex *m) { pthread_cond_wait(&c->c, &m->m); }

ErlDrvThreadOpts *erl_drv_thread_opts_create(char *name)
{
    (void)name;
    return calloc(1, sizeof(ErlDrvThreadOpts));
}

void erl_drv_thread_opts_destroy(ErlDrvThreadOpts *o) { free(o); }

int erl_drv_thread_create(char *name, ErlDrvTid *tid, void *(*func)(void *), void *args,
                          ErlDrvThreadOpts *opts)
{
    (void)name;
    (void)opts;
    pthread_t *t = malloc(sizeof *t);
    if (!t || pthread_create(t, NULL, func, args) != 0) {
        free(t);
        return -1;
    }
    *tid = (ErlDrvTid)t;
    return 0;
}

int erl_drv_thread_join(ErlDrvTid tid, void **respp)
{
    pthread_t *t = (pthread_t *)tid;
    int r = pthread_join(*t, respp);
    free(t);
    return r;
}
