/* nocopy_entry.h: what NOCOPY_MODULE expands to for the NIF backend. Not API:
 * included by nocopy.h, used by NOCOPY_MODULE only.
 *
 * erl_nif calls a NIF with no user data, so each position of the module's
 * table needs a C function of its own: its entry. The entries are written
 * here, into the user's own translation unit, where the table is a constant.
 * There an entry's wrapped function is a direct call, which `flatten` inlines
 * into the entry; the NIF backend's part of a call (nocopy__nif_enter,
 * c_src/nif/nc_nif.c) is inlined in turn when the library is linked with
 * -flto. So a call is one C function, called by the runtime, as a
 * hand-written NIF is. Without -flto every step still works, as calls.
 *
 * Keep the wrapped functions' own helpers small or mark them noinline:
 * `flatten` inlines what a wrapped function calls in its own file too.
 *
 * The same object is linked into every backend; only the NIF backend
 * defines nocopy__nif_enter. It is declared weak here, so that another
 * backend's link (which never calls an entry) needs no definition of it. */
#ifndef NOCOPY_ENTRY_H
#define NOCOPY_ENTRY_H

#include <erl_nif.h>

/* Entries per module: the most functions a module's table may hold. */
#define NOCOPY__MAX_FUNCS 300

typedef ERL_NIF_TERM (*nocopy__nif_entry)(ErlNifEnv *env, int argc,
                                           const ERL_NIF_TERM argv[]);

/* Runs function `index` of `mod`, which is `fn` (NULL when index is past the
 * table: such an entry is never registered). */
#ifndef NOCOPY__NIF_BACKEND
__attribute__((weak))
#endif
NOCOPY_API ERL_NIF_TERM nocopy__nif_enter(ErlNifEnv *env, const ERL_NIF_TERM argv[],
                                          const nocopy_module *mod, unsigned index,
                                          nocopy_fn fn);

/* The entries, by table position; defined by NOCOPY_MODULE. */
NOCOPY_API extern const nocopy__nif_entry nocopy__nif_entries[NOCOPY__MAX_FUNCS];

#define NOCOPY__ENTRY(def, name, k)                                              \
    __attribute__((flatten)) static ERL_NIF_TERM nocopy__entry_##name(           \
        ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])                     \
    {                                                                            \
        (void)argc; /* the runtime passes exactly the function's arity */       \
        return nocopy__nif_enter(env, argv, &(def), (k),                         \
                                 (k) < (def).nfuncs ? (def).funcs[k].fn : NULL); \
    }
#define NOCOPY__ENTRY_PTR(def, name, k) nocopy__entry_##name,
#define NOCOPY__X10(F, d, p, b)                                                  \
    F(d, p##0, b + 0) F(d, p##1, b + 1) F(d, p##2, b + 2) F(d, p##3, b + 3)      \
    F(d, p##4, b + 4) F(d, p##5, b + 5) F(d, p##6, b + 6) F(d, p##7, b + 7)      \
    F(d, p##8, b + 8) F(d, p##9, b + 9)
#define NOCOPY__X100(F, d, p, b)                                                 \
    NOCOPY__X10(F, d, p##0, b + 0) NOCOPY__X10(F, d, p##1, b + 10)               \
    NOCOPY__X10(F, d, p##2, b + 20) NOCOPY__X10(F, d, p##3, b + 30)              \
    NOCOPY__X10(F, d, p##4, b + 40) NOCOPY__X10(F, d, p##5, b + 50)              \
    NOCOPY__X10(F, d, p##6, b + 60) NOCOPY__X10(F, d, p##7, b + 70)              \
    NOCOPY__X10(F, d, p##8, b + 80) NOCOPY__X10(F, d, p##9, b + 90)
#define NOCOPY__X300(F, d)                                                       \
    NOCOPY__X100(F, d, a, 0) NOCOPY__X100(F, d, b, 100) NOCOPY__X100(F, d, c, 200)

#define NOCOPY__NIF_ENTRIES(def)                                                 \
    NOCOPY__X300(NOCOPY__ENTRY, def)                                             \
    const nocopy__nif_entry nocopy__nif_entries[NOCOPY__MAX_FUNCS] = {           \
        NOCOPY__X300(NOCOPY__ENTRY_PTR, def)};

#endif /* NOCOPY_ENTRY_H */
