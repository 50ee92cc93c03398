/* nc_error.c: recording a call's error, and the shape every backend gives it at
 * the Erlang edge ({'$nocopy_error', Reason, Cause}), written once. */
#include <stdarg.h>
#include <stdio.h>

#include "nc_internal.h"

void nocopy__record_error(nocopy_call *c, int status, unsigned argno, const char *fmt, ...)
{
    /* The last error recorded wins: a function may probe an argument one way,
     * fail, and succeed another way; the error it finally returns is the one
     * recorded last. */
    c->err_status = status;
    c->err_argno = argno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err_text, sizeof c->err_text, fmt, ap);
    va_end(ap);
}

/* Statuses are 0, -1, -2, ... without gaps, so -status indexes the table. */
#define XX(name, value, ename, msg)                                            \
    _Static_assert(-(value) == NC_REASON_SLOT_##name,                          \
                   "status " #name " breaks the run 0, -1, -2, ...");
NOCOPY_STATUS_MAP(XX)
#undef XX

/* A bad argument is reported as badarg, Erlang's own word for it; the other
 * statuses by name (enomem, erange, ...). */
#define XX(name, value, ename, msg) \
    [-(value)] = NOCOPY_##name == NOCOPY_EBADARG ? "badarg" : ename,
const char *const nocopy__reason_names[NC_REASON_COUNT] = {NOCOPY_STATUS_MAP(XX)};
#undef XX

unsigned nocopy__reason_index(int status)
{
    if (status < 0 && -status < NC_REASON_COUNT)
        return (unsigned)-status;
    return (unsigned)-NOCOPY_EINTERNAL;
}

unsigned nocopy__cause_argno(int status, unsigned argno)
{
    return status == NOCOPY_EBADARG ? argno : 0;
}
