/* fuzz/fuzz_check.h: CHECK(cond), the fuzz targets' assertion: a failed
 * check prints where and aborts, which libFuzzer (and fuzz/replay.c) report
 * as a crash with the input that caused it. Unlike assert(), never compiled
 * out. */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                             \
        }                                                                        \
    } while (0)

#endif /* FUZZ_CHECK_H */
