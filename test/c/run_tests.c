/* run_tests.c: runs the C unit tests listed in test_list.h, each in its own
 * forked child (libuv style), so a crash or a hang fails that test only.
 *
 * Usage: c_tests [substring]   runs the tests whose names contain substring.
 * Prints one line per test and ends with exactly "N passed, N failed".
 * Exits 0 when nothing failed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "test_list.h"

#define DECLARE(name) TEST(name);
TEST_LIST(DECLARE)
#undef DECLARE

typedef struct {
    const char *name;
    int (*fn)(void);
} test_entry;

#define ENTRY(name) {#name, test_##name},
static const test_entry tests[] = {TEST_LIST(ENTRY)};
#undef ENTRY

/* A test that runs this long is deadlocked: the limit only turns a hang into
 * a failure, it is never what a test asserts. */
#define HANG_SECONDS 60

static int run_one(const test_entry *t)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        alarm(HANG_SECONDS);
        int rc = t->fn();
        fflush(stdout);
        fflush(stderr);
        _exit(rc == 0 ? 0 : 1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok      %s\n", t->name);
        return 0;
    }
    if (WIFSIGNALED(status))
        printf("FAILED  %s (killed by signal %d%s)\n", t->name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? ": hung" : "");
    else
        printf("FAILED  %s (exit status %d)\n", t->name, WEXITSTATUS(status));
    return 1;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        if (run_one(&tests[i]) == 0)
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
