/* test_status.c: the status table (nocopy_status.h, nc_status.c). Values are
 * pinned once published, so this file lists each one by hand: a renumbered or
 * renamed code fails here, and a new code fails until it is added below. */
#include <limits.h>

#include "check.h"
#include "nocopy_status.h"

static const struct {
    int value;
    int expected;
    const char *name;
} pinned[] = {
    {NOCOPY_OK, 0, "ok"},
    {NOCOPY_EBADARG, -1, "ebadarg"},
    {NOCOPY_ENOMEM, -2, "enomem"},
    {NOCOPY_ERANGE, -3, "erange"},
    {NOCOPY_ECLOSED, -4, "eclosed"},
    {NOCOPY_EPROTO, -5, "eproto"},
    {NOCOPY_EOVERLOAD, -6, "eoverload"},
    {NOCOPY_ENOTSUP, -7, "enotsup"},
    {NOCOPY_EINTERNAL, -8, "einternal"},
};
#define NPINNED (sizeof pinned / sizeof pinned[0])

/* Counts the X-macro's entries whatever its column count. */
#define COUNT_XX(name, value, ...) +1
enum { MAP_ENTRIES = 0 NOCOPY_STATUS_MAP(COUNT_XX) };
#undef COUNT_XX

TEST(status_values_pinned)
{
    CHECK_EQ(MAP_ENTRIES, NPINNED);
    for (size_t i = 0; i < NPINNED; i++)
        CHECK_EQ(pinned[i].value, pinned[i].expected);
    return 0;
}

TEST(status_names)
{
    for (size_t i = 0; i < NPINNED; i++)
        CHECK_STR_EQ(nocopy_status_name(pinned[i].value), pinned[i].name);
    return 0;
}

TEST(status_messages)
{
    for (size_t i = 0; i < NPINNED; i++) {
        const char *msg = nocopy_strerror(pinned[i].value);
        CHECK_NOT_NULL(msg);
        CHECK_GT(strlen(msg), 0);
        CHECK(strcmp(msg, "unknown status") != 0);
        /* One line, no trailing newline: it ends up inside Erlang messages. */
        CHECK_NULL(strchr(msg, '\n'));
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(msg, nocopy_strerror(pinned[j].value)) != 0);
    }
    CHECK_STR_EQ(nocopy_strerror(NOCOPY_OK), "success");
    CHECK_STR_EQ(nocopy_strerror(NOCOPY_ENOMEM), "out of memory");
    return 0;
}

TEST(status_unknown)
{
    static const int unknown[] = {1, 7, -9, -100, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK_STR_EQ(nocopy_status_name(unknown[i]), "unknown");
        CHECK_STR_EQ(nocopy_strerror(unknown[i]), "unknown status");
    }
    return 0;
}
