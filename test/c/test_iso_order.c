/* test_iso_order.c: messages numbered in channel order, finished out of
 * order (c_src/iso_shared/nc_iso_order.c): a deferred action (the child's
 * RELEASE_OUT) runs only once every earlier message is done, each exactly
 * once and in order; numbers wrap at 2^32; a number outside the window is
 * refused and changes nothing. */
#include <string.h>

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
