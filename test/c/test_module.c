/* test_module.c: the module table as the core reads it (nc_module.c) and the
 * error edge both backends share (nc_error.c). The table check is the one the
 * describe build runs (make check-bad-tables shows it stopping a build) and
 * both backends run again at load: each bad table below is refused with a
 * reason that names what is wrong, and a table at every limit passes. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nc_internal.h"

static int fn(nocopy_call *c)
{
    return nocopy_return(c, nocopy_make_atom(c, NOCOPY_ATOM_OK));
}

static const nocopy_handle_type type_a = {"alpha", 8, NULL};
static const nocopy_handle_type type_b = {"beta", 8, NULL};
static const nocopy_handle_type type_noname = {NULL, 8, NULL};

/* A good table, modified per case below. */
static nocopy_func funcs[NC_MAX_FUNCS + 1];
static const char *atoms[4];
static const nocopy_handle_type *types[NC_MAX_HANDLE_TYPES + 2];
static char long_name[512];
static nocopy_module mod;

static void reset(void)
{
    for (size_t i = 0; i < sizeof funcs / sizeof *funcs; i++) {
        /* Distinct names/arities: f/0, f/1, ..., wrapping before the limit. */
        funcs[i] = (nocopy_func){"f", (unsigned)(i % (NC_MAX_ARITY + 1)), fn, "", "ok",
                                 NOCOPY_NORMAL, 0, NULL};
        if (i > NC_MAX_ARITY)
            funcs[i].name = "g";
    }
    atoms[0] = "red";
    atoms[1] = "green";
    atoms[2] = NULL;
    types[0] = &type_a;
    types[1] = &type_b;
    types[2] = NULL;
    mod = (nocopy_module){"colours", funcs, 3, atoms, types, NULL, NULL, NULL};
}

static const char *long_string(size_t n)
{
    memset(long_name, 'x', n);
    long_name[n] = '\0';
    return long_name;
}

/* Checks that the table is refused with a reason containing `expected`. */
static int refused(const char *expected)
{
    char err[NC_MODULE_ERR_MAX];
    CHECK_EQ(nocopy__module_check(&mod, err), -1);
    if (!strstr(err, expected))
        CHECK_FAIL_("reason \"%s\" does not say \"%s\"", err, expected);
    reset();
    return 0;
}

TEST(module_check_accepts_good_tables)
{
    char err[NC_MODULE_ERR_MAX];
    reset();
    CHECK_EQ(nocopy__module_check(&mod, err), 0);
    CHECK_STR_EQ(err, "");
    /* Every limit reached, none passed. */
    mod.nfuncs = NC_MAX_FUNCS;
    funcs[0].name = long_string(NC_MAX_FUNC_NAME);
    funcs[1].sched = NOCOPY_DIRTY_ABOVE;
    atoms[2] = "";                           /* '' is an atom */
    atoms[3] = NULL;
    static nocopy_handle_type many[NC_MAX_HANDLE_TYPES];
    for (int i = 0; i < NC_MAX_HANDLE_TYPES; i++) {
        many[i] = (nocopy_handle_type){"t", 8, NULL};
        types[i] = &many[i];
    }
    types[NC_MAX_HANDLE_TYPES] = NULL;
    CHECK_EQ(nocopy__module_check(&mod, err), 0);
    mod.name = "m";
    mod.nfuncs = 0;
    mod.funcs = NULL;
    mod.atoms = NULL;
    mod.handle_types = NULL;
    CHECK_EQ(nocopy__module_check(&mod, err), 0);
    return 0;
}

TEST(module_check_refuses_bad_tables)
{
    char err[NC_MODULE_ERR_MAX];
    reset();
    CHECK_EQ(nocopy__module_check(NULL, err), -1);

    mod.name = NULL;
    CHECK_OK(refused("no name"));
    mod.name = "";
    CHECK_OK(refused("no name"));
    mod.name = long_string(NC_MAX_MODULE_NAME + 1);
    CHECK_OK(refused("module name"));

    mod.nfuncs = NC_MAX_FUNCS + 1;
    CHECK_OK(refused("301 functions; at most 300"));
    mod.funcs = NULL;
    CHECK_OK(refused("funcs is NULL"));
    funcs[1].name = NULL;
    CHECK_OK(refused("function 1 has no name"));
    funcs[2].name = long_string(NC_MAX_FUNC_NAME + 1);
    CHECK_OK(refused("function name"));
    funcs[0].fn = NULL;
    CHECK_OK(refused("f/0 has no C function"));
    funcs[2].arity = NC_MAX_ARITY + 1;
    CHECK_OK(refused("f/254: at most 253 arguments"));
    funcs[1].sched = (nocopy_sched)7;
    CHECK_OK(refused("f/1: 7 is not a nocopy_sched"));
    funcs[2].arity = 0;
    CHECK_OK(refused("f/0 is listed twice (functions 0 and 2)"));

    atoms[1] = long_string(NC_MAX_ATOM_CHARS + 1);
    CHECK_OK(refused("longer than 255 characters"));

    types[1] = &type_noname;
    CHECK_OK(refused("handle type 1 has no name"));
    types[1] = &type_a;
    CHECK_OK(refused("handle type alpha is listed twice"));
    static nocopy_handle_type many[NC_MAX_HANDLE_TYPES + 1];
    for (int i = 0; i <= NC_MAX_HANDLE_TYPES; i++) {
        many[i] = (nocopy_handle_type){"t", 8, NULL};
        types[i] = &many[i];
    }
    types[NC_MAX_HANDLE_TYPES + 1] = NULL;
    CHECK_OK(refused("more than 256 handle types"));
    return 0;
}

TEST(module_builtin_atoms)
{
    reset();
    CHECK_STR_EQ(nocopy__atom_name(&mod, NOCOPY_ATOM_OK), "ok");
    CHECK_STR_EQ(nocopy__atom_name(&mod, NOCOPY_ATOM_ERROR), "error");
    CHECK_STR_EQ(nocopy__atom_name(&mod, NOCOPY_ATOM_TRUE), "true");
    CHECK_STR_EQ(nocopy__atom_name(&mod, NOCOPY_ATOM_FALSE), "false");
    CHECK_STR_EQ(nocopy__atom_name(&mod, NOCOPY_ATOM_UNDEFINED), "undefined");
    CHECK_STR_EQ(nocopy__atom_name(&mod, 1), "green");
    CHECK_NULL(nocopy__atom_name(&mod, 2));
    CHECK_NULL(nocopy__atom_name(&mod, -NOCOPY_ATOM_BUILTIN_COUNT - 1));
    return 0;
}

/* The Reason and Cause of {'$nocopy_error', Reason, Cause}, on both backends. */
TEST(error_reasons)
{
    CHECK_STR_EQ(nocopy__reason_names[nocopy__reason_index(NOCOPY_EBADARG)], "badarg");
    CHECK_STR_EQ(nocopy__reason_names[nocopy__reason_index(NOCOPY_ENOMEM)], "enomem");
    CHECK_STR_EQ(nocopy__reason_names[nocopy__reason_index(NOCOPY_EOVERLOAD)], "eoverload");
    CHECK_STR_EQ(nocopy__reason_names[nocopy__reason_index(NOCOPY_EINTERNAL)], "einternal");
    /* Not an error status: reported as an internal error. */
    CHECK_STR_EQ(nocopy__reason_names[nocopy__reason_index(NOCOPY_OK)], "einternal");
    CHECK_STR_EQ(nocopy__reason_names[nocopy__reason_index(5)], "einternal");
    CHECK_STR_EQ(nocopy__reason_names[nocopy__reason_index(-NC_REASON_COUNT)], "einternal");
    /* Every other status by its name. */
    for (int i = 2; i < NC_REASON_COUNT; i++)
        CHECK_STR_EQ(nocopy__reason_names[nocopy__reason_index(-i)], nocopy_status_name(-i));
    CHECK_EQ(nocopy__cause_argno(NOCOPY_EBADARG, 3), 3);
    CHECK_EQ(nocopy__cause_argno(NOCOPY_EBADARG, 0), 0);
    CHECK_EQ(nocopy__cause_argno(NOCOPY_ERANGE, 3), 0);
    return 0;
}
