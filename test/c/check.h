/* check.h: asserts for the C unit tests, in the style of libuv's task.h. Each
 * failed check prints the file, the line, the expression and both values,
 * then makes the test function return 1. run_tests.c runs every test in its
 * own forked child, so a crash fails one test and the rest still run.
 *
 * Writing a test:
 *     #include "check.h"
 *     TEST(arena_zero_size) {
 *         nocopy__arena a = {0};
 *         CHECK_NOT_NULL(nocopy__arena_alloc(&a, 0));
 *         nocopy__arena_free(&a);
 *         return 0;
 *     }
 *
 * Adding a test: write TEST(name) in any test/c/test_*.c file (the Makefile
 * compiles them all), then add one line X(name) to TEST_LIST in
 * test/c/test_list.h. There is no other registration: no constructors, no
 * linker sections, so the list is the one place that says what runs.
 *
 * Running: `make c-test`, or `_build/c_tests [substring]` to run only the tests
 * whose names contain the substring. The last line of the output is always
 * "N passed, N failed". */
#ifndef NC_CHECK_H
#define NC_CHECK_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TEST(name) int test_##name(void)

#define CHECK_FAIL_(...)                                                       \
    do {                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        return 1;                                                              \
    } while (0)

/* Integer comparisons: both sides are widened to intmax_t (signed) or
 * uintmax_t (the _U forms), evaluated once, and printed on failure. The
 * expression text is taken here, before macro expansion, so the message shows
 * what the test wrote. */
#define CHECK_CMP_(a, op, b, sa, sb)                                           \
    do {                                                                       \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                       \
        if (!(a_ op b_))                                                       \
            CHECK_FAIL_("CHECK(%s %s %s): %jd vs %jd", sa, #op, sb, a_, b_);   \
    } while (0)

#define CHECK_CMP_U_(a, op, b, sa, sb)                                         \
    do {                                                                       \
        uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b);                    \
        if (!(a_ op b_))                                                       \
            CHECK_FAIL_("CHECK(%s %s %s): %ju vs %ju", sa, #op, sb, a_, b_);   \
    } while (0)

#define CHECK_EQ(a, b) CHECK_CMP_(a, ==, b, #a, #b)
#define CHECK_NE(a, b) CHECK_CMP_(a, !=, b, #a, #b)
#define CHECK_LT(a, b) CHECK_CMP_(a, <, b, #a, #b)
#define CHECK_LE(a, b) CHECK_CMP_(a, <=, b, #a, #b)
#define CHECK_GT(a, b) CHECK_CMP_(a, >, b, #a, #b)
#define CHECK_GE(a, b) CHECK_CMP_(a, >=, b, #a, #b)
#define CHECK_EQ_U(a, b) CHECK_CMP_U_(a, ==, b, #a, #b)
#define CHECK_LE_U(a, b) CHECK_CMP_U_(a, <=, b, #a, #b)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            CHECK_FAIL_("CHECK(%s) failed", #cond);                            \
    } while (0)

#define CHECK_NULL(p)                                                          \
    do {                                                                       \
        const void *p_ = (const void *)(p);                                    \
        if (p_ != NULL)                                                        \
            CHECK_FAIL_("CHECK_NULL(%s): %p", #p, p_);                         \
    } while (0)

#define CHECK_NOT_NULL(p)                                                      \
    do {                                                                       \
        if ((const void *)(p) == NULL)                                         \
            CHECK_FAIL_("CHECK_NOT_NULL(%s): NULL", #p);                       \
    } while (0)

#define CHECK_PTR_EQ(a, b)                                                     \
    do {                                                                       \
        const void *a_ = (const void *)(a), *b_ = (const void *)(b);           \
        if (a_ != b_)                                                          \
            CHECK_FAIL_("CHECK_PTR_EQ(%s, %s): %p != %p", #a, #b, a_, b_);     \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                     \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                 \
            CHECK_FAIL_("CHECK_STR_EQ(%s, %s): \"%s\" != \"%s\"", #a, #b,      \
                        a_ ? a_ : "(null)", b_ ? b_ : "(null)");               \
    } while (0)

/* Runs a helper that returns 0 or 1 the way tests do, failing the test with
 * the helper's own message and then this line. */
#define CHECK_OK(call)                                                         \
    do {                                                                       \
        if ((call) != 0)                                                       \
            CHECK_FAIL_("in %s", #call);                                       \
    } while (0)

#endif /* NC_CHECK_H */
