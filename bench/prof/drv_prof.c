/* drv_prof.c: replays recorded requests into a driver's outputv N times, with
 * fake_erl_driver.c standing in for the VM, for callgrind:
 *
 *   valgrind --tool=callgrind --toggle-collect=run_calls \
 *       ./drv_prof_nc REQDIR seed 100000
 *
 * REQDIR holds what `nocopy_bench prof_requests` wrote: each request as the
 * runtime would hand it to outputv (runs of small data copied into one buffer,
 * each binary over 64 bytes in its own entry), as records
 * <<Kind:8, Len:32/big, Bytes/binary>> (Kind 0: copied, 1: its own binary).
 * new_ctx.req runs once first, so the seed request's handle exists; the port
 * numbers handles the same way every time. Inline functions only: the worker
 * path is a thread hand-off, not code. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <erl_driver.h>

#include "fake_erl_driver.h"

ErlDrvEntry *driver_init(void);

typedef struct request {
    ErlIOVec ev;
    SysIOVec iov[64];
    ErlDrvBinary *binv[64];
} request;

static void load(const char *dir, const char *name, request *r)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.req", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    static unsigned char buf[1 << 24];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);

    /* First pass: the copied bytes, in one buffer as the runtime's cbin. */
    size_t csize = 0;
    for (size_t p = 0; p + 5 <= n;) {
        size_t len = (size_t)buf[p + 1] << 24 | (size_t)buf[p + 2] << 16 |
                     (size_t)buf[p + 3] << 8 | buf[p + 4];
        if (buf[p] == 0)
            csize += len;
        p += 5 + len;
    }
    ErlDrvBinary *cbin = driver_alloc_binary(csize ? csize : 1);
    size_t cused = 0;
    int v = 0;
    r->iov[v].iov_base = NULL;        /* entry 0: the driver's header, empty */
    r->iov[v].iov_len = 0;
    r->binv[v++] = NULL;
    r->ev.size = 0;
    for (size_t p = 0; p + 5 <= n && v < 64;) {
        size_t len = (size_t)buf[p + 1] << 24 | (size_t)buf[p + 2] << 16 |
                     (size_t)buf[p + 3] << 8 | buf[p + 4];
        const unsigned char *data = buf + p + 5;
        if (buf[p] == 0) {
            memcpy(cbin->orig_bytes + cused, data, len);
            r->iov[v].iov_base = cbin->orig_bytes + cused;
            r->binv[v] = cbin;
            cused += len;
        } else {
            ErlDrvBinary *b = driver_alloc_binary(len);
            memcpy(b->orig_bytes, data, len);
            r->iov[v].iov_base = b->orig_bytes;
            r->binv[v] = b;
        }
        r->iov[v].iov_len = len;
        r->ev.size += len;
        v++;
        p += 5 + len;
    }
    r->ev.vsize = v;
    r->ev.iov = r->iov;
    r->ev.binv = r->binv;
}

/* The only function callgrind collects (--toggle-collect=run_calls). */
__attribute__((noinline)) void run_calls(ErlDrvEntry *e, ErlDrvData d, request *r, long n);
__attribute__((noinline)) void run_calls(ErlDrvEntry *e, ErlDrvData d, request *r, long n)
{
    for (long i = 0; i < n; i++)
        e->outputv(d, &r->ev);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s REQDIR identity|seed|seed_calls|iodata CALLS\n", argv[0]);
        return 2;
    }
    long n = atol(argv[3]);
    ErlDrvEntry *e = driver_init();
    if (e->init && e->init() != 0) {
        fprintf(stderr, "drv_prof: driver init failed\n");
        return 1;
    }
    char cmd[] = "nc_bench_drv";
    ErlDrvData d = e->start((ErlDrvPort)(uintptr_t)0x100, cmd);
    if (d == ERL_DRV_ERROR_GENERAL || d == ERL_DRV_ERROR_ERRNO || d == ERL_DRV_ERROR_BADARG) {
        fprintf(stderr, "drv_prof: start failed\n");
        return 1;
    }
    static request ctx, call;
    load(argv[1], "new_ctx", &ctx);
    load(argv[1], argv[2], &call);
    e->outputv(d, &ctx.ev);
    run_calls(e, d, &call, n);
    if (fake_errors) {
        fprintf(stderr, "drv_prof: %ld of %ld replies were errors\n", fake_errors, fake_sent);
        return 1;
    }
    printf("%s: %ld calls, %ld replies\n", argv[2], n, fake_sent);
    e->stop(d);
    if (e->finish)
        e->finish();
    return 0;
}
