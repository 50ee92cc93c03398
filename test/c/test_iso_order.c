/* test_iso_order.c: messages numbered in channel order, finished out of
 * order (c_src/iso_shared/nc_iso_order.c): a deferred action (the child's
 * RELEASE_OUT) runs only once every earlier message is done, each exactly
 * once and in order; numbers wrap at 2^32; a number outside the window is
 * refused and changes nothing; the no-lock mark of a message whose
 * predecessors are all done, racing threads that mark later ones. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "nc_iso_order.h"

static uint64_t ran[64];
static size_t nran;

static void record(uint64_t arg)
{
    if (nran < sizeof ran / sizeof ran[0])
        ran[nran++] = arg;
}

TEST(iso_order_in_order_runs_at_once)
{
    nocopy__iso_order o;
    memset(&o, 0, sizeof o);
    nran = 0;
    CHECK_EQ(nocopy__iso_order_done(&o, 0, 0, 0, record), 0);
    CHECK_EQ(nocopy__iso_order_done(&o, 1, 1, 11, record), 0);
    CHECK_EQ(nran, 1);
    CHECK_EQ_U(ran[0], 11);
    CHECK_EQ_U(o.next, 2);
    return 0;
}

/* A CALL (0) read by one thread, a RELEASE_OUT (1) read by another and
 * handled first: the release waits for the CALL. */
TEST(iso_order_release_waits_for_earlier_messages)
{
    nocopy__iso_order o;
    memset(&o, 0, sizeof o);
    nran = 0;
    CHECK_EQ(nocopy__iso_order_done(&o, 1, 1, 7, record), 0);
    CHECK_EQ(nocopy__iso_order_done(&o, 3, 1, 9, record), 0);
    CHECK_EQ(nran, 0);                 /* 0 and 2 not done yet */
    CHECK_EQ(nocopy__iso_order_done(&o, 0, 0, 0, record), 0);
    CHECK_EQ(nran, 1);                 /* 1 ran; 3 still waits for 2 */
    CHECK_EQ_U(ran[0], 7);
    CHECK_EQ(nocopy__iso_order_done(&o, 2, 0, 0, record), 0);
    CHECK_EQ(nran, 2);
    CHECK_EQ_U(ran[1], 9);
    CHECK_EQ_U(o.next, 4);
    return 0;
}

TEST(iso_order_wraps_and_refuses_outside_the_window)
{
    nocopy__iso_order o;
    memset(&o, 0, sizeof o);
    nran = 0;
    o.next = UINT32_MAX - 1;
    CHECK_EQ(nocopy__iso_order_done(&o, 0, 1, 5, record), 0);   /* after the wrap */
    CHECK_EQ(nocopy__iso_order_done(&o, UINT32_MAX, 0, 0, record), 0);
    CHECK_EQ(nran, 0);
    CHECK_EQ(nocopy__iso_order_done(&o, UINT32_MAX - 1, 0, 0, record), 0);
    CHECK_EQ(nran, 1);
    CHECK_EQ_U(ran[0], 5);
    CHECK_EQ_U(o.next, 1);
    /* Behind next (done already) or a window ahead: refused, nothing run. */
    CHECK_EQ(nocopy__iso_order_done(&o, 0, 1, 6, record), -1);
    CHECK_EQ(nocopy__iso_order_done(&o, 1 + NC_ISO_ORDER_WINDOW, 1, 6, record), -1);
    CHECK_EQ(nocopy__iso_order_done(&o, NC_ISO_ORDER_WINDOW, 1, 8, record), 0);
    CHECK_EQ(nran, 1);
    CHECK_EQ_U(o.next, 1);
    return 0;
}

/* ---- the no-lock mark racing the locked readers ------------------------------- */

/* As the child runs it: a poller marks its messages (every 4th, each once
 * every earlier one is done) with nocopy__iso_order_done_first, no lock,
 * while reader threads mark the others under a mutex, each with a deferred
 * action, as the channel's readers mark RELEASE_OUTs. Every action must run
 * exactly once, in order, when every earlier message is done (next is its
 * number then), and next must reach the end. A no-lock mark that missed a
 * later message marked meanwhile (a plain store of next, no look at seq +
 * 1's flag) leaves next stuck behind it: the threads give up at a deadline
 * and the test fails. */
#define RACE_MSGS 40000u
#define RACE_READERS 3

static nocopy__iso_order race_order;
static pthread_mutex_t race_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t race_handout;   /* the next number a reader takes */
static _Atomic int race_stuck;
static uint64_t race_last_run;          /* with race_mu */
static unsigned long race_runs, race_bad_runs;   /* with race_mu */
static unsigned long race_lock_free, race_caught_up;   /* the poller's */

static uint64_t race_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

/* Runs with race_mu held (catch_up, order_done). */
static void race_run(uint64_t arg)
{
    if (arg != atomic_load(&race_order.next) || (race_runs > 0 && arg <= race_last_run))
        race_bad_runs++;
    race_last_run = arg;
    race_runs++;
}

/* Waits (yielding) until cond(seq) holds, or sets race_stuck at a deadline. */
static int race_wait(uint32_t seq, int (*cond)(uint32_t), uint64_t deadline)
{
    while (!cond(seq)) {
        if (atomic_load(&race_stuck) || race_now_s() > deadline) {
            atomic_store(&race_stuck, 1);
            return -1;
        }
        sched_yield();
    }
    return 0;
}

static int race_in_window(uint32_t seq)
{
    return seq - nocopy__iso_order_next(&race_order) < NC_ISO_ORDER_WINDOW;
}

static int race_is_next(uint32_t seq)
{
    return nocopy__iso_order_next(&race_order) == seq;
}

static void *race_reader(void *arg)
{
    uint64_t deadline = *(const uint64_t *)arg;
    for (;;) {
        uint32_t seq = atomic_fetch_add(&race_handout, 1);
        if (seq >= RACE_MSGS)
            return NULL;
        if (seq % 4 == 0)
            continue;                  /* the poller's */
        if (race_wait(seq, race_in_window, deadline) != 0)
            return NULL;
        pthread_mutex_lock(&race_mu);
        (void)nocopy__iso_order_done(&race_order, seq, 1, seq, race_run);
        pthread_mutex_unlock(&race_mu);
    }
}

TEST(iso_order_lock_free_mark_races_the_readers)
{
    memset(&race_order, 0, sizeof race_order);
    atomic_store(&race_handout, 0);
    atomic_store(&race_stuck, 0);
    race_runs = race_bad_runs = race_lock_free = race_caught_up = 0;
    uint64_t deadline = race_now_s() + 20;   /* under the runner's hang alarm */
    pthread_t t[RACE_READERS];
    for (int i = 0; i < RACE_READERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, race_reader, &deadline), 0);
    for (uint32_t seq = 0; seq < RACE_MSGS; seq += 4) {
        if (race_wait(seq, race_is_next, deadline) != 0)
            break;
        int r = nocopy__iso_order_done_first(&race_order, seq);
        if (r == 1) {
            pthread_mutex_lock(&race_mu);
            nocopy__iso_order_catch_up(&race_order, race_run);
            pthread_mutex_unlock(&race_mu);
            race_caught_up++;
        }
        race_lock_free += r >= 0;
    }
    for (int i = 0; i < RACE_READERS; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(atomic_load(&race_stuck), 0);
    CHECK_EQ_U(race_lock_free, RACE_MSGS / 4);
    CHECK_EQ_U(atomic_load(&race_order.next), RACE_MSGS);
    CHECK_EQ_U(race_runs, RACE_MSGS - RACE_MSGS / 4);
    CHECK_EQ_U(race_bad_runs, 0);
    /* Not its own number, or one behind: refused, nothing changed. */
    CHECK_EQ(nocopy__iso_order_done_first(&race_order, RACE_MSGS + 1), -1);
    CHECK_EQ(nocopy__iso_order_done_first(&race_order, RACE_MSGS - 1), -1);
    CHECK_EQ_U(atomic_load(&race_order.next), RACE_MSGS);
    return 0;
}
