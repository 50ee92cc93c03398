/* iso_faults.c: a module whose functions fail the way C fails, for the
 * isolated backend's fault tests (test/nocopy_iso_faults_tests.erl): a
 * segfault, an abort, exit(3), a loop that never returns; and a call held
 * until a file exists, for the stress tests (test/nocopy_iso_stress_tests.erl),
 * which kill callers and the child while calls are held. Only its isolated
 * build (priv/iso_faults_iso) is ever run: on the other backends these
 * functions would take the VM down, which is the point of the isolate. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <nocopy.h>

typedef struct thing {
    int uses;
} thing;

static const nocopy_handle_type thing_type = {.name = "thing", .size = sizeof(thing)};
static const nocopy_handle_type *const handle_types[] = {&thing_type, NULL};

static int f_ok(nocopy_call *call)
{
    return nocopy_return(call, nocopy_make_atom(call, NOCOPY_ATOM_OK));
}

static int f_os_pid(nocopy_call *call)
{
    return nocopy_return(call, nocopy_make_i64(call, (int64_t)getpid()));
}

/* A store to a page with no access: a real SIGSEGV, and not undefined
 * behaviour the sanitizers would stop first (make asan builds this too). */
static int f_segv(nocopy_call *call)
{
    (void)call;
    volatile int *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NOCOPY_ENOMEM;
    *p = 1;                            /* SIGSEGV */
    return NOCOPY_EINTERNAL;
}

static int f_abort(nocopy_call *call)
{
    (void)call;
    abort();
}

static int f_exit(nocopy_call *call)
{
    int64_t code;
    int st = nocopy_arg_i64(call, 0, &code);
    if (st)
        return st;
    exit((int)code);
}

static int f_spin(nocopy_call *call)
{
    (void)call;
    for (volatile unsigned long i = 0;; i++)
        ;
    return NOCOPY_EINTERNAL;
}

/* held(Path, Bin): waits until the file Path exists (a gate the test opens
 * without a call, so it works however many calls wait in the child's queue;
 * at most two minutes, which only breaks a deadlock), then returns a copy of
 * Bin in a new result buffer (an output block when larger than 64 bytes). */
static int f_held(nocopy_call *call)
{
    nocopy_bytes path, bin;
    char name[256];
    int st = nocopy_arg_bytes(call, 0, &path);
    if (st)
        return st;
    if ((st = nocopy_arg_bytes(call, 1, &bin)))
        return st;
    if (path.size == 0 || path.size >= sizeof name || memchr(path.data, 0, path.size))
        return nocopy_fail_badarg(call, 0, "a file name");
    memcpy(name, path.data, path.size);
    name[path.size] = 0;
    for (int ms = 0; access(name, F_OK) != 0 && ms < 120000; ms++) {
        struct timespec one = {0, 1000000};
        nanosleep(&one, NULL);
    }
    nocopy_buf *b = nocopy_buf_alloc(call, bin.size);
    if (!b)
        return NOCOPY_ENOMEM;
    if (bin.size)
        memcpy(b->data, bin.data, bin.size);
    return nocopy_return(call, nocopy_make_buf(call, b));
}

static int f_new_thing(nocopy_call *call)
{
    thing *t = nocopy_handle_new(call, &thing_type);
    if (!t)
        return NOCOPY_ENOMEM;
    return nocopy_return(call, nocopy_make_handle(call, t));
}

static int f_use_thing(nocopy_call *call)
{
    thing *t;
    int st = nocopy_arg_handle(call, 0, &thing_type, (void **)&t);
    if (st)
        return st;
    return nocopy_return(call, nocopy_make_i64(call, ++t->uses));
}

/* slot_scribble(Mode): a hostile child writing its own call's reply slot
 * (the isolated backend's fast path, c_src/iso_shared/nc_iso_slot.h; the
 * layout is spelled here, as a hostile module would find it: fd 6, 16
 * slots of 4096 bytes, a state word id << 2 | state at 0, a length at 8,
 * the message at 64). Mode 1: ready with a length past the slot; 2: ready
 * with garbage bytes; 3: ready for another call (a state the VM must not
 * take), then returns ok; 4: ready with a REPLY header for this call and a
 * body the decoder must refuse. After modes 1, 2 and 4 it waits (at most 10
 * s) for the VM to take the slot, which kills this process. */
static int f_slot_scribble(nocopy_call *call)
{
    int64_t mode;
    int st = nocopy_arg_i64(call, 0, &mode);
    if (st)
        return st;
    uint8_t *m = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 6, 0);
    if (m == MAP_FAILED)
        return nocopy_fail(call, NOCOPY_EINTERNAL, "no reply slots at fd 6");
    volatile uint64_t *state = NULL;
    for (int i = 0; i < 16 && !state; i++) {
        volatile uint64_t *s = (volatile uint64_t *)(m + i * 4096);
        if ((*s & 3) == 1)             /* armed for a call: ours, the only one */
            state = s;
    }
    if (!state)
        return nocopy_fail(call, NOCOPY_EINTERNAL, "no armed reply slot");
    uint64_t id = *state >> 2;
    volatile uint32_t *len = (volatile uint32_t *)((volatile uint8_t *)state + 8);
    uint8_t *msg = (uint8_t *)state + 64;
    uint64_t wrote = (id << 2) | 3;
    switch (mode) {
    case 1: *len = 0xFFFFFFFFu; break;
    case 2: memset(msg, 0xAB, 200); *len = 200; break;
    case 3: wrote = ((id + 1) << 2) | 3; break;
    default: {
        /* A REPLY header (kind 4, seq 0, this id), outcome ok, then a tuple
         * claiming 2^32 - 1 elements in a 5-byte body. */
        uint32_t kind = 4, seq = 0;
        memcpy(msg, &kind, 4);
        memcpy(msg + 4, &seq, 4);
        memcpy(msg + 8, &id, 8);
        uint8_t body[6] = {0, 'T', 0xFF, 0xFF, 0xFF, 0xFF};
        memcpy(msg + 16, body, sizeof body);
        *len = 16 + sizeof body;
    }
    }
    __atomic_store_n(state, wrote, __ATOMIC_RELEASE);
    if (mode == 3)
        return nocopy_return(call, nocopy_make_atom(call, NOCOPY_ATOM_OK));
    for (int ms = 0; *state == wrote && ms < 10000; ms++) {
        struct timespec one = {0, 1000000};
        nanosleep(&one, NULL);
    }
    return nocopy_fail(call, NOCOPY_EINTERNAL, "the VM did not take the slot");
}

static const nocopy_func funcs[] = {
    {.name = "ok", .arity = 0, .fn = f_ok, .args = "", .result = "ok"},
    {.name = "os_pid", .arity = 0, .fn = f_os_pid, .args = "", .result = "pos_integer()",
     .doc = "The process the call runs in."},
    {.name = "segv", .arity = 0, .fn = f_segv, .args = "", .result = "no_return()",
     .doc = "Writes to a page with no access."},
    {.name = "abort", .arity = 0, .fn = f_abort, .args = "", .result = "no_return()"},
    {.name = "exit", .arity = 1, .fn = f_exit, .args = "Status :: integer()",
     .result = "no_return()"},
    {.name = "spin", .arity = 0, .fn = f_spin, .args = "", .result = "no_return()",
     .doc = "Never returns."},
    {.name = "held", .arity = 2, .fn = f_held, .args = "Path :: binary(), Bin :: binary()",
     .result = "binary()", .doc = "A copy of Bin, once the file Path exists."},
    {.name = "slot_scribble", .arity = 1, .fn = f_slot_scribble, .args = "Mode :: 1..4",
     .result = "ok", .doc = "Writes garbage into its own call's reply slot."},
    {.name = "new_thing", .arity = 0, .fn = f_new_thing, .args = "",
     .result = "nocopy:handle()"},
    {.name = "use_thing", .arity = 1, .fn = f_use_thing, .args = "T :: nocopy:handle()",
     .result = "pos_integer()", .doc = "Counts a use of T; returns the uses so far."},
};

static const nocopy_module iso_faults = {
    .name = "iso_faults",
    .funcs = funcs,
    .nfuncs = sizeof funcs / sizeof funcs[0],
    .handle_types = handle_types,
};
NOCOPY_MODULE(iso_faults)
