/* bad_table.c: module tables that must stop the build at the describe step
 * (make check-bad-tables, test/bad_table/bad_table.mk). BAD_dup, BAD_atom or
 * BAD_funcs picks one; the module is named after it. Every other table
 * mistake is covered by test/c/test_module.c, without a build. */
#include "nocopy.h"

static int fn(nocopy_call *c)
{
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

#if defined(BAD_dup)
#define NAME "bad_dup"
static const nocopy_func funcs[] = {
    {"f", 1, fn, "X :: term()", "ok", NOCOPY_NORMAL, 0, NULL},
    {"f", 1, fn, "Y :: term()", "ok", NOCOPY_DIRTY_CPU, 0, NULL},
};
#define NFUNCS 2
static const char *const atoms[] = {NULL};
#elif defined(BAD_atom)
#define NAME "bad_atom"
static const nocopy_func funcs[] = {
    {"f", 0, fn, "", "ok", NOCOPY_NORMAL, 0, NULL},
};
#define NFUNCS 1
#define X16 "xxxxxxxxxxxxxxxx"
static const char *const atoms[] = {X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16
                                    X16 X16 X16 "x", NULL};
#elif defined(BAD_funcs)
#define NAME "bad_funcs"
/* One more than the NIF backend has entries for; the check stops at the
 * count, before it reads an entry. */
static const nocopy_func funcs[301] = {
    {"f", 0, fn, "", "ok", NOCOPY_NORMAL, 0, NULL},
};
#define NFUNCS 301
static const char *const atoms[] = {NULL};
#else
#error "define BAD_dup, BAD_atom or BAD_funcs"
#endif

static const nocopy_module bad_module = {
    .name = NAME,
    .funcs = funcs,
    .nfuncs = NFUNCS,
    .atoms = atoms,
};

NOCOPY_MODULE(bad_module)
