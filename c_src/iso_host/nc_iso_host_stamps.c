/* nc_iso_host_stamps.c: where a small call's time goes, in a measuring
 * build only (-DNC_ISO_STAMPS, c_src/iso_shared/nc_iso_stamps.h): this
 * scheduler thread's stamps of the call, the child's (copied from its reply
 * slot), and the steps' samples of the batch, printed as medians to stderr
 * every NC_ISO_STAMP_BATCH fast calls. A normal build compiles nothing here. */
#include "nc_iso_host_stamps.h"

#ifdef NC_ISO_STAMPS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_iso_slot.h"

static _Thread_local uint64_t vm_stamp[NC_ISO_STAMP_VM_N], child_stamp[NC_ISO_STAMP_CHILD_N];
static _Thread_local uint64_t last_exit;
enum { STEP_ERLANG, STEP_NIF_IN, STEP_TO_CHILD, STEP_CHILD_TAKE, STEP_CHILD_RUN,
       STEP_TO_VM, STEP_NIF_OUT, STEP_TOTAL, STEP_PREPARE, STEP_BUILD, STEP_ARM, STEP_SEND,
       STEP_SEEN, STEP_DECODE, STEPS };
static const char *const step_names[STEPS] = {
    "erlang between NIFs", "NIF entry to posted", "posted to child sees it",
    "child take+receive", "child decode+run+encode", "reply to VM sees it",
    "VM decode to NIF exit", "whole call", " NIF: pieces+allocs+register",
    " NIF: build_call", " NIF: arm", " NIF: post", " reply written to seen", " VM unregister+decode"};
static uint64_t steps[STEPS][NC_ISO_STAMP_BATCH];
static size_t nsteps;


static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void nocopy__host_stamps_record(void)
{
    uint64_t *v = vm_stamp, *c = child_stamp, prev = last_exit;
    last_exit = v[NC_ISO_STAMP_EXIT];
    if (!prev || !v[NC_ISO_STAMP_POSTED] || !v[NC_ISO_STAMP_TAKEN] || !c[NC_ISO_STAMP_SEEN])
        goto reset;
    uint64_t d[STEPS] = {
        v[NC_ISO_STAMP_ENTRY] - prev, v[NC_ISO_STAMP_POSTED] - v[NC_ISO_STAMP_ENTRY],
        c[NC_ISO_STAMP_SEEN] - v[NC_ISO_STAMP_POSTED], c[NC_ISO_STAMP_RUN] - c[NC_ISO_STAMP_SEEN],
        c[NC_ISO_STAMP_REPLY] - c[NC_ISO_STAMP_RUN], v[NC_ISO_STAMP_TAKEN] - c[NC_ISO_STAMP_REPLY],
        v[NC_ISO_STAMP_EXIT] - v[NC_ISO_STAMP_TAKEN], v[NC_ISO_STAMP_EXIT] - prev,
        v[NC_ISO_STAMP_PREPARED] - v[NC_ISO_STAMP_ENTRY],
        v[NC_ISO_STAMP_BUILT] - v[NC_ISO_STAMP_PREPARED],
        v[NC_ISO_STAMP_ARMED] - v[NC_ISO_STAMP_BUILT],
        v[NC_ISO_STAMP_POSTED] - v[NC_ISO_STAMP_ARMED],
        v[NC_ISO_STAMP_SEEN_VM] - c[NC_ISO_STAMP_REPLY],
        v[NC_ISO_STAMP_TAKEN] - v[NC_ISO_STAMP_SEEN_VM]};
    for (int k = 0; k < STEPS; k++)
        steps[k][nsteps] = d[k];
    if (++nsteps == NC_ISO_STAMP_BATCH) {
        for (int k = 0; k < STEPS; k++) {
            qsort(steps[k], nsteps, sizeof steps[k][0], cmp_u64);
            fprintf(stderr, "stamps: %-26s median %6llu ns  p90 %6llu ns\n", step_names[k],
                    (unsigned long long)steps[k][nsteps / 2],
                    (unsigned long long)steps[k][nsteps * 9 / 10]);
        }
        nsteps = 0;
    }
reset:
    memset(vm_stamp, 0, sizeof vm_stamp);
    memset(child_stamp, 0, sizeof child_stamp);
}

void nocopy__host_stamp(int k)
{
    vm_stamp[k] = nocopy__iso_now_ns();
}

void nocopy__host_stamp_child(const void *pad)
{
    memcpy(child_stamp, pad, sizeof child_stamp);
}
#else
typedef int nocopy__host_no_stamps;    /* ISO C wants a declaration */
#endif
