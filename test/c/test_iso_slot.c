/* test_iso_slot.c: the reply slots (c_src/iso_shared/nc_iso_slot.c), both
 * sides in one process: a reply taken, a slot given up before and while
 * the child writes (the child then falls back to the channel), a slot the
 * child declined, and what a hostile child can write (a length past the
 * slot, a state for another call, garbage): never a read outside the slot. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nc_iso_slot.h"

#define ID 12345u

static nocopy__iso_slot *slots(void)
{
    nocopy__iso_slot *s = calloc(NC_ISO_SLOTS, sizeof *s);
    if (!s)
        abort();
    return s;
}

TEST(iso_slot_reply_taken)
{
    nocopy__iso_slot *s = slots();
    uint8_t msg[100], out[NC_ISO_SLOT_MSG_MAX];
    size_t len = 0;
    memset(msg, 7, sizeof msg);
    nocopy__iso_slot_arm(&s[3], ID);
    CHECK_EQ(nocopy__iso_slot_poll(&s[3], ID, out, sizeof out, &len), NC_ISO_SLOT_PENDING);
    /* The child finds the slot armed for its call among all of them. */
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID + 1, msg, sizeof msg), -1);
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID, msg, sizeof msg), 0);
    CHECK_EQ(nocopy__iso_slot_poll(&s[3], ID, out, sizeof out, &len), NC_ISO_SLOT_TAKEN);
    CHECK_EQ(len, sizeof msg);
    CHECK(memcmp(out, msg, sizeof msg) == 0);
    /* Once delivered, a second delivery for the call has no slot. */
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID, msg, sizeof msg), -1);
    free(s);
    return 0;
}

TEST(iso_slot_given_up)
{
    nocopy__iso_slot *s = slots();
    uint8_t msg[16] = {1}, out[NC_ISO_SLOT_MSG_MAX];
    size_t len = 0;
    /* Before the child writes: it must use the channel, and learns that
     * the VM was waiting (-2: it polls for the next call, nc_iso_slot.h);
     * another call's delivery does not see this one's given-up slot. */
    nocopy__iso_slot_arm(&s[0], ID);
    CHECK_EQ(nocopy__iso_slot_abandon(&s[0], ID, out, sizeof out, &len), NC_ISO_SLOT_LOST);
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID + 16, msg, sizeof msg), -1);
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID, msg, sizeof msg), -2);
    /* The slot is given back when the call ends: no trace of it then. */
    nocopy__iso_slot_disarm(&s[0]);
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID, msg, sizeof msg), -1);
    /* After it wrote: the VM takes the reply anyway. */
    nocopy__iso_slot_arm(&s[0], ID + 4);
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID + 4, msg, sizeof msg), 0);
    CHECK_EQ(nocopy__iso_slot_abandon(&s[0], ID + 4, out, sizeof out, &len), NC_ISO_SLOT_TAKEN);
    CHECK_EQ(len, sizeof msg);
    /* While it writes (the state it sets first): its final step fails. */
    nocopy__iso_slot_arm(&s[1], ID + 8);
    atomic_store(&s[1].state, (uint64_t)(ID + 8) << 2 | NC_ISO_SLOT_WRITING);
    CHECK_EQ(nocopy__iso_slot_poll(&s[1], ID + 8, out, sizeof out, &len), NC_ISO_SLOT_PENDING);
    CHECK_EQ(nocopy__iso_slot_abandon(&s[1], ID + 8, out, sizeof out, &len), NC_ISO_SLOT_LOST);
    uint64_t expect = (uint64_t)(ID + 8) << 2 | NC_ISO_SLOT_WRITING;
    CHECK(!atomic_compare_exchange_strong(&s[1].state, &expect,
                                          (uint64_t)(ID + 8) << 2 | NC_ISO_SLOT_READY));
    /* Disarmed (its call ended): no delivery. */
    nocopy__iso_slot_arm(&s[2], ID + 12);
    nocopy__iso_slot_disarm(&s[2]);
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID + 12, msg, sizeof msg), -1);
    free(s);
    return 0;
}

TEST(iso_slot_declined)
{
    nocopy__iso_slot *s = slots();
    uint8_t out[64];
    size_t len = 0;
    nocopy__iso_slot_arm(&s[5], ID);
    nocopy__iso_slot_arm(&s[6], ID + 4);
    nocopy__iso_slot_decline(s, NC_ISO_SLOTS, ID);
    CHECK_EQ(nocopy__iso_slot_poll(&s[5], ID, out, sizeof out, &len), NC_ISO_SLOT_LOST);
    /* Only that call's slot. */
    CHECK_EQ(nocopy__iso_slot_poll(&s[6], ID + 4, out, sizeof out, &len), NC_ISO_SLOT_PENDING);
    /* A message too long for a slot is refused before any write. */
    uint8_t *big = calloc(1, NC_ISO_SLOT_MSG_MAX + 1);
    CHECK(big != NULL);
    CHECK_EQ(nocopy__iso_slot_deliver(s, NC_ISO_SLOTS, ID + 4, big, NC_ISO_SLOT_MSG_MAX + 1), -1);
    CHECK_EQ(nocopy__iso_slot_poll(&s[6], ID + 4, out, sizeof out, &len), NC_ISO_SLOT_PENDING);
    free(big);
    free(s);
    return 0;
}

/* What a hostile child can write: the VM copies at most its buffer and the
 * slot's bytes, and a state that is not this call's is a lost slot. */
TEST(iso_slot_hostile_child)
{
    nocopy__iso_slot *s = slots();
    uint8_t out[64];
    size_t len = 77;
    uint64_t ready = (uint64_t)ID << 2 | NC_ISO_SLOT_READY;
    nocopy__iso_slot_arm(&s[0], ID);
    atomic_store(&s[0].state, ready);
    atomic_store(&s[0].len, UINT32_MAX);
    CHECK_EQ(nocopy__iso_slot_poll(&s[0], ID, out, sizeof out, &len), NC_ISO_SLOT_BAD);
    atomic_store(&s[0].len, (uint32_t)sizeof out + 1);   /* past the VM's buffer */
    CHECK_EQ(nocopy__iso_slot_poll(&s[0], ID, out, sizeof out, &len), NC_ISO_SLOT_BAD);
    CHECK_EQ(nocopy__iso_slot_abandon(&s[0], ID, out, sizeof out, &len), NC_ISO_SLOT_BAD);
    CHECK_EQ(len, 77u);                                  /* nothing copied */
    /* Ready for another call, or garbage: lost for this one. */
    atomic_store(&s[0].state, (uint64_t)(ID + 1) << 2 | NC_ISO_SLOT_READY);
    CHECK_EQ(nocopy__iso_slot_poll(&s[0], ID, out, sizeof out, &len), NC_ISO_SLOT_LOST);
    atomic_store(&s[0].state, UINT64_MAX);
    CHECK_EQ(nocopy__iso_slot_poll(&s[0], ID, out, sizeof out, &len), NC_ISO_SLOT_LOST);
    /* A length within bounds: copied, whatever the bytes (the decoder's job). */
    atomic_store(&s[0].state, ready);
    atomic_store(&s[0].len, (uint32_t)sizeof out);
    memset(s[0].msg, 0xAB, sizeof out);
    CHECK_EQ(nocopy__iso_slot_poll(&s[0], ID, out, sizeof out, &len), NC_ISO_SLOT_TAKEN);
    CHECK_EQ(len, sizeof out);
    CHECK_EQ(out[63], 0xAB);
    free(s);
    return 0;
}

/* The call slot: the VM posts only to a poller, once; one taker wins (the
 * poller or a NUDGEd thread); a poller that ends its turn gets no CALL. */
TEST(iso_call_slot)
{
    nocopy__iso_slot *s = slots();
    uint8_t msg[40], buf[NC_ISO_SLOT_MSG_MAX];
    size_t len = 0;
    memset(msg, 9, sizeof msg);
    CHECK_EQ(nocopy__iso_call_post(s, msg, sizeof msg), -1);        /* no poller */
    CHECK_EQ(nocopy__iso_call_poll_begin(s), 0);
    CHECK_EQ(nocopy__iso_call_poll_begin(s), -1);                   /* one poller */
    CHECK_EQ(nocopy__iso_call_take(s, buf, sizeof buf, &len), 0);   /* nothing yet */
    CHECK_EQ(nocopy__iso_call_post(s, msg, sizeof msg), 0);
    CHECK_EQ(nocopy__iso_call_post(s, msg, sizeof msg), -1);        /* posted already */
    CHECK_EQ(nocopy__iso_call_poll_end(s), -1);                     /* it must take it */
    CHECK_EQ(nocopy__iso_call_take(s, buf, sizeof buf, &len), 1);
    CHECK_EQ(len, sizeof msg);
    CHECK(memcmp(buf, msg, sizeof msg) == 0);
    CHECK_EQ(nocopy__iso_call_take(s, buf, sizeof buf, &len), 0);   /* taken once */
    CHECK_EQ(nocopy__iso_call_post(s, msg, sizeof msg), -1);        /* the role ended */
    /* A poller that ends its turn: the VM sends on the channel. */
    CHECK_EQ(nocopy__iso_call_poll_begin(s), 0);
    CHECK_EQ(nocopy__iso_call_poll_end(s), 0);
    CHECK_EQ(nocopy__iso_call_post(s, msg, sizeof msg), -1);
    /* Too long for the slot: never posted. */
    uint8_t *big = calloc(1, NC_ISO_SLOT_MSG_MAX + 1);
    CHECK(big != NULL);
    CHECK_EQ(nocopy__iso_call_poll_begin(s), 0);
    CHECK_EQ(nocopy__iso_call_post(s, big, NC_ISO_SLOT_MSG_MAX + 1), -1);
    free(big);
    free(s);
    return 0;
}
