/* nc_ffi_module.c: the FFI as a nocopy module (Erlang module nc_ffi for the
 * NIF, nc_ffi_drv for the driver): written against nocopy.h only, as a user's
 * module is, so it runs on every backend. src/nocopy_ffi.erl is the API over
 * these functions; this file reads their arguments and owns the handles.
 *
 *   open(Path) -> {ok, Lib} | {error, {dlopen, Text}}
 *   close(Lib) -> ok
 *   bind(Lib, Decls, Name | undefined, Opts) -> {ok, Fn} | {error, Reason}
 *   invoke(Fn, Args), invoke_dirty_cpu(Fn, Args), invoke_dirty_io(Fn, Args) -> Result
 *      (not "call": the driver client has its own call/3)
 *   info(Fn) -> {Name, RetType, [{Param, Spell, Type}], [OutType], Errno}
 *      (Types are Erlang type expressions, for generated specs)
 *   shapes(Fn) -> {Ret, [In], [Out]}  its structs' fields, for maps
 *   decls(Text) -> {ok, [Name], [{Const, Value}]} | {error, Reason}
 *   address(Binary) -> integer()       where C sees a binary's bytes
 *   release(Ptr) -> ok                 a pointer handle's destructor, now
 *   live_pointers() -> integer()       pointer handles not yet destroyed
 *   live_libraries() -> integer()      libraries not yet dlclose'd
 *
 * Handles: an ffi_library holds a counted nc_ffi_lib (nc_ffi.h); an
 * ffi_function holds its nc_ffi_fn, which holds a reference on its library. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_ffi.h"
#include "nc_ffi_opts.h"

static const char *const atoms[] = {
    "null", "errno", "out", "inout", "len", "return", "nul", "varargs",
    "parse", "undefined_symbol", "unsupported", "dlopen", "handle", "destructor",
    "bound", "fill", NULL};

static atomic_int live_libs;
atomic_int nocopy__ffi_live_ptrs;
#define live_ptrs nocopy__ffi_live_ptrs

void nocopy__ffi_lib_keep(nc_ffi_lib *lib)
{
    atomic_fetch_add_explicit(&lib->refs, 1, memory_order_relaxed);
}

void nocopy__ffi_lib_release(nc_ffi_lib *lib)
{
    if (lib && atomic_fetch_sub_explicit(&lib->refs, 1, memory_order_acq_rel) == 1) {
        dlclose(lib->dl);
        free(lib);
        atomic_fetch_sub(&live_libs, 1);
    }
}

typedef struct lib_obj { nc_ffi_lib *lib; } lib_obj;
typedef struct fn_obj { nc_ffi_fn *fn; } fn_obj;

/* The handle is closed (close/1) or collected: its reference goes. The
 * library stays mapped, and its functions callable, while any of them lives;
 * only close/1 stops them (ffi_close marks the library closed). */
static void lib_dtor(void *obj)
{
    nocopy__ffi_lib_release(((lib_obj *)obj)->lib);
}

static void fn_dtor(void *obj)
{
    nocopy__ffi_fn_free(((fn_obj *)obj)->fn);
}

const nc_ffi_fn *nocopy__ffi_fn_of(void *obj)
{
    return ((fn_obj *)obj)->fn;
}

void nocopy__ffi_run_dtor(void *dtor_obj, void *ptr)
{
    const nc_ffi_fn *d = nocopy__ffi_fn_of(dtor_obj);
    _Alignas(16) unsigned char ret[32];      /* a scalar or nothing (checked at bind) */
    void *arg = ptr;
    void *av[1] = {&arg};
    ffi_call((ffi_cif *)&d->cif, d->sym, ret, av);
}

/* A pointer handle's end (collected, released, or its port closed): the
 * destructor runs here, once, as nocopy runs a handle's destructor once. */
static void ptr_dtor(void *obj)
{
    nc_ffi_ptr *p = obj;
    if (p->dtor) {
        nocopy__ffi_run_dtor(p->dtor, p->ptr);
        nocopy_handle_release(p->dtor);
    }
    atomic_fetch_sub(&live_ptrs, 1);
}

static const nocopy_handle_type lib_type = {"ffi_library", sizeof(lib_obj), lib_dtor};
const nocopy_handle_type nocopy__ffi_fn_type = {"ffi_function", sizeof(fn_obj), fn_dtor};
const nocopy_handle_type nocopy__ffi_ptr_type = {"ffi_pointer", sizeof(nc_ffi_ptr), ptr_dtor};
#define fn_type nocopy__ffi_fn_type
static const nocopy_handle_type *const handle_types[] = {
    &lib_type, &nocopy__ffi_fn_type, &nocopy__ffi_ptr_type, NULL};

/* A binary argument as a NUL-terminated string in buf; fails naming it. */
static int arg_cstr(nocopy_call *call, unsigned index, char *buf, size_t cap, const char *what)
{
    nocopy_bytes b;
    if (nocopy_arg_bytes(call, index, &b) || b.size >= cap || memchr(b.data, 0, b.size))
        return nocopy_fail_badarg(call, index, what);
    memcpy(buf, b.data, b.size);
    buf[b.size] = '\0';
    return 0;
}

static int ffi_open_lib(nocopy_call *call)
{   /* (Path) */
    char path[4096];
    int rc;
    if ((rc = arg_cstr(call, 0, path, sizeof path, "a file name (a binary without NUL)")))
        return rc;
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *e = dlerror();
        nocopy_value why = nocopy_make_copy(call, e ? e : "", e ? strlen(e) : 0);
        nocopy_value r[2] = {nocopy_make_atom(call, A_DLOPEN), why};
        return nocopy_return_error(call, nocopy_make_tuple(call, 2, r));
    }
    nc_ffi_lib *lib = calloc(1, sizeof *lib);
    lib_obj *obj = lib ? nocopy_handle_new(call, &lib_type) : NULL;
    if (!obj) {
        free(lib);
        dlclose(dl);
        return NOCOPY_ENOMEM;
    }
    atomic_init(&lib->refs, 1);
    atomic_init(&lib->closed, 0);
    lib->dl = dl;
    obj->lib = lib;
    atomic_fetch_add(&live_libs, 1);
    return nocopy_return_ok(call, nocopy_make_handle(call, obj));
}

static int ffi_close(nocopy_call *call)
{   /* (Lib) */
    void *obj;
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &lib_type, &obj)))
        return rc;
    atomic_store(&((lib_obj *)obj)->lib->closed, 1);
    nocopy_handle_close(obj);
    return nocopy_return(call, nocopy_make_atom(call, NOCOPY_ATOM_OK));
}

static nocopy_value parse_error(nocopy_call *call, const nc_ffi_error *e, const char *where)
{
    char msg[200];
    snprintf(msg, sizeof msg, "%s%s", where, e->msg);
    nocopy_value r[4] = {nocopy_make_atom(call, A_PARSE), nocopy_make_u64(call, e->line),
                         nocopy_make_u64(call, e->column), nocopy_make_copy(call, msg, strlen(msg))};
    return nocopy_make_tuple(call, 4, r);
}

static nocopy_value reason(nocopy_call *call, nocopy_atom a, const char *text)
{
    nocopy_value r[2] = {nocopy_make_atom(call, a), nocopy_make_copy(call, text, strlen(text))};
    return nocopy_make_tuple(call, 2, r);
}

/* Plans function `f` of the parsed `d`, resolves its symbol in the library
 * and makes its handle: *out the handle (returns 1), or {Kind, Text}, the
 * reason it cannot be bound (returns 0); -1 out of memory. */
NC_FFI_OUTLINE static int bind_planned(nocopy_call *call, lib_obj *lo, const nc_ffi_decls *d,
                        const nc_ffi_func *f, const nc_ffi_type *extra, unsigned nextra,
                        const nc_ffi_opts *o, nocopy_value *out)
{
    nc_ffi_fn *fn = NULL;
    char why[200];
    if (nocopy__ffi_plan(d, f, extra, nextra, o, &fn, why, sizeof why) != 0) {
        *out = reason(call, A_UNSUPPORTED, why);
        return 0;
    }
    dlerror();
    void *sym = dlsym(lo->lib->dl, fn->name);
    if (!sym) {
        *out = reason(call, A_UNDEFINED_SYMBOL, fn->name);
        nocopy__ffi_fn_free(fn);
        return 0;
    }
    /* POSIX: a function's address is converted from dlsym's void *. */
    memcpy(&fn->sym, &sym, sizeof sym);
    fn_obj *fo = nocopy_handle_new(call, &fn_type);
    if (!fo) {
        nocopy__ffi_fn_free(fn);
        return -1;
    }
    /* Never closed (only collected, or gone with its port or isolate): a
     * call reads it with one load, not a counted borrow (about 20 ns of a
     * scalar call). */
    nocopy_handle_pin(fo);
    nocopy__ffi_lib_keep(lo->lib);
    fn->lib = lo->lib;
    fo->fn = fn;                  /* HANDED OVER to the handle */
    *out = nocopy_make_handle(call, fo);
    return 1;
}

static int ffi_bind(nocopy_call *call)
{   /* (Lib, Decls, Name | undefined, Opts) */
    lib_obj *lo;
    nocopy_bytes text;
    char name[NC_FFI_MAX_NAME + 1] = "";
    nc_ffi_opts *o = calloc(1, sizeof *o);
    nc_ffi_decls d = {0};
    char *full = NULL;
    char why[200];
    nocopy_atom undef;
    int rc;
    if (!o)
        return NOCOPY_ENOMEM;
    if ((rc = nocopy_arg_handle(call, 0, &lib_type, (void **)&lo)) ||
        (rc = nocopy_arg_bytes(call, 1, &text)))
        goto done;
    if (!(nocopy_term_type(call, nocopy_arg(call, 2)) == NOCOPY_T_ATOM &&
          nocopy_arg_atom(call, 2, &undef) == 0 && undef == NOCOPY_ATOM_UNDEFINED) &&
        (rc = arg_cstr(call, 2, name, sizeof name, "a function name or undefined")))
        goto done;
    nocopy_bytes vtypes = {0};
    if ((rc = nocopy__ffi_read_opts(call, 3, o, &vtypes)))
        goto done;
    /* The variadic arguments' types are parsed with the declarations, as the
     * parameters of one more prototype, so the text's typedefs apply. */
    static const char tail_head[] = "\n;void nc__varargs__(", tail_end[] = ");";
    size_t full_len = text.size + (vtypes.data ? sizeof tail_head - 1 + vtypes.size + 2 : 0);
    if (!(full = malloc(full_len + 1))) {
        rc = NOCOPY_ENOMEM;
        goto done;
    }
    memcpy(full, text.data, text.size);
    if (vtypes.data) {
        memcpy(full + text.size, tail_head, sizeof tail_head - 1);
        memcpy(full + text.size + sizeof tail_head - 1, vtypes.data, vtypes.size);
        memcpy(full + full_len - 2, tail_end, 2);
    }
    nc_ffi_error pe;
    if (nc_ffi_parse(full, full_len, &d, &pe) != 0) {
        rc = nocopy_return_error(call, parse_error(call, &pe, pe.offset > text.size
                                                   ? "in the variadic types: " : ""));
        goto done;
    }
    const nc_ffi_func *f = NULL;
    unsigned nfuncs = d.nfuncs - (vtypes.data ? 1 : 0);
    if (*name) {
        for (unsigned i = 0; i < nfuncs; i++)
            if (strcmp(nc_ffi_name(&d, d.funcs[i].name), name) == 0)
                f = &d.funcs[i];
    } else if (nfuncs == 1) {
        f = &d.funcs[0];
    }
    if (!f) {
        if (*name)
            snprintf(why, sizeof why, "the declarations declare no function %s", name);
        else
            snprintf(why, sizeof why, "the declarations declare %u functions: name one", nfuncs);
        rc = nocopy_return_error(call, reason(call, A_UNSUPPORTED, why));
        goto done;
    }
    const nc_ffi_func *va = vtypes.data ? &d.funcs[d.nfuncs - 1] : NULL;
    nc_ffi_type extra[NC_FFI_MAX_PARAMS];
    for (unsigned i = 0; va && i < va->nparams; i++)
        extra[i] = va->params[i].type;
    if (va && !f->variadic) {
        snprintf(why, sizeof why, "%s is not variadic: give no variadic types", name);
        rc = nocopy_return_error(call, reason(call, A_UNSUPPORTED, why));
        goto done;
    }
    nocopy_value v;
    int bound = bind_planned(call, lo, &d, f, extra, va ? va->nparams : 0, o, &v);
    rc = bound < 0 ? NOCOPY_ENOMEM : bound ? nocopy_return_ok(call, v) : nocopy_return_error(call, v);
done:
    nc_ffi_decls_free(&d);
    free(full);
    free(o);
    return rc;
}

/* (Lib, Decls, [{Name, Opts}]): the functions Name of one text, parsed once
 * (cdef/module). Options with variadic types are bind/4's (their types are
 * parsed with the text). {ok, [Fn]} in the list's order, or {error, {Name,
 * Reason}} for the first that cannot be bound (the others are dropped). */
static int ffi_bind_all(nocopy_call *call)
{
    lib_obj *lo;
    nocopy_bytes text;
    size_t n;
    const nocopy_term *items;
    nc_ffi_decls d = {0};
    nc_ffi_error pe;
    nc_ffi_opts *o = calloc(1, sizeof *o);
    nocopy_value *fns = NULL;
    int rc;
    if (!o)
        return NOCOPY_ENOMEM;
    if ((rc = nocopy_arg_handle(call, 0, &lib_type, (void **)&lo)) ||
        (rc = nocopy_arg_bytes(call, 1, &text)))
        goto done;
    if (nocopy_term_list(call, nocopy_arg(call, 2), &n, &items) || n > NC_FFI_MAX_FUNCS) {
        rc = nocopy_fail_badarg(call, 2, "a list of at most 256 {Name, Opts}");
        goto done;
    }
    if (!(fns = calloc(n ? n : 1, sizeof *fns))) {
        rc = NOCOPY_ENOMEM;
        goto done;
    }
    if (nc_ffi_parse((const char *)text.data, text.size, &d, &pe) != 0) {
        rc = nocopy_return_error(call, parse_error(call, &pe, ""));
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        nocopy_term e[2];
        char name[NC_FFI_MAX_NAME + 1];
        nocopy_bytes nb = {0}, vtypes = {0};
        if (nocopy_term_tuple(call, items[i], 2, e) || nocopy_term_bytes(call, e[0], &nb) ||
            nb.size == 0 || nb.size > NC_FFI_MAX_NAME) {
            rc = nocopy_fail_badarg(call, 2, "a list of {Name, Opts}");
            goto done;
        }
        memcpy(name, nb.data, nb.size);
        name[nb.size] = '\0';
        memset(o, 0, sizeof *o);
        if ((rc = nocopy__ffi_read_opts_term(call, e[1], 2, o, &vtypes)))
            goto done;
        if (vtypes.data) {
            rc = nocopy_fail_badarg(call, 2, "options without varargs (bind/4 takes those)");
            goto done;
        }
        const nc_ffi_func *f = NULL;
        for (unsigned k = 0; k < d.nfuncs && !f; k++)
            if (strcmp(nc_ffi_name(&d, d.funcs[k].name), name) == 0)
                f = &d.funcs[k];
        nocopy_value why = 0;
        int bound = 0;
        if (!f) {
            char msg[NC_FFI_MAX_NAME + 48];
            snprintf(msg, sizeof msg, "the declarations declare no function %s", name);
            why = reason(call, A_UNSUPPORTED, msg);
        } else if ((bound = bind_planned(call, lo, &d, f, NULL, 0, o, &fns[i])) < 0) {
            rc = NOCOPY_ENOMEM;
            goto done;
        } else if (!bound) {
            why = fns[i];
        }
        if (!bound) {
            nocopy_value r[2] = {nocopy_make_copy(call, name, strlen(name)), why};
            rc = nocopy_return_error(call, nocopy_make_tuple(call, 2, r));
            goto done;
        }
    }
    rc = nocopy_return_ok(call, nocopy_make_list(call, n, fns));
done:
    nc_ffi_decls_free(&d);
    free(fns);
    free(o);
    return rc;
}

static int ffi_call_fn(nocopy_call *call)
{   /* (Fn, Args) */
    fn_obj *fo;
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &fn_type, (void **)&fo)))
        return rc;
    if (atomic_load_explicit(&fo->fn->lib->closed, memory_order_relaxed))
        return nocopy_fail_badarg(call, 0, "a function of an open library (its library is closed)");
    return nocopy__ffi_call(call, fo->fn, 1);
}

/* (Fn, A1, ..., An): the values as arguments, for the hot path of
 * nocopy_ffi:call/2 and of the modules module/4 makes. */
static int ffi_invoke_args(nocopy_call *call)
{
    fn_obj *fo;
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &fn_type, (void **)&fo)))
        return rc;
    if (atomic_load_explicit(&fo->fn->lib->closed, memory_order_relaxed))
        return nocopy_fail_badarg(call, 0, "a function of an open library (its library is closed)");
    return nocopy__ffi_call_args(call, fo->fn, 1);
}

static int ffi_decls(nocopy_call *call)
{   /* (Text) */
    nocopy_bytes text;
    nc_ffi_decls d;
    nc_ffi_error e;
    int rc;
    if ((rc = nocopy_arg_bytes(call, 0, &text)))
        return rc;
    if (nc_ffi_parse((const char *)text.data, text.size, &d, &e) != 0)
        return nocopy_return_error(call, parse_error(call, &e, ""));
    nocopy_value *names = malloc((d.nfuncs + d.nconsts + 1) * sizeof *names);
    if (!names) {
        nc_ffi_decls_free(&d);
        return NOCOPY_ENOMEM;
    }
    for (unsigned i = 0; i < d.nfuncs; i++) {
        const char *n = nc_ffi_name(&d, d.funcs[i].name);
        names[i] = nocopy_make_copy(call, n, strlen(n));
    }
    nocopy_value *consts = names + d.nfuncs;
    for (unsigned i = 0; i < d.nconsts; i++) {
        const char *n = nc_ffi_name(&d, d.consts[i].name);
        nocopy_value kv[2] = {nocopy_make_copy(call, n, strlen(n)),
                              nocopy_make_i64(call, d.consts[i].value)};
        consts[i] = nocopy_make_tuple(call, 2, kv);
    }
    nocopy_value r[3] = {nocopy_make_atom(call, NOCOPY_ATOM_OK),
                         nocopy_make_list(call, d.nfuncs, names),
                         nocopy_make_list(call, d.nconsts, consts)};
    rc = nocopy_return(call, nocopy_make_tuple(call, 3, r));
    free(names);
    nc_ffi_decls_free(&d);
    return rc;
}

static int ffi_address(nocopy_call *call)
{   /* (Binary) */
    nocopy_bytes b;               /* BORROWED; only its address is returned */
    int rc;
    if ((rc = nocopy_arg_bytes(call, 0, &b)))
        return rc;
    return nocopy_return(call, nocopy_make_u64(call, (uintptr_t)b.data));
}

static int ffi_release(nocopy_call *call)
{   /* (Ptr) */
    void *obj;
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, &nocopy__ffi_ptr_type, &obj)))
        return rc;
    nocopy_handle_close(obj);
    return nocopy_return(call, nocopy_make_atom(call, NOCOPY_ATOM_OK));
}

static int ffi_live_pointers(nocopy_call *call)
{   /* () */
    return nocopy_return(call, nocopy_make_i64(call, atomic_load(&live_ptrs)));
}

static int ffi_live_libraries(nocopy_call *call)
{   /* () */
    return nocopy_return(call, nocopy_make_i64(call, atomic_load(&live_libs)));
}

#define CALL_ARGS "Fn :: nocopy:handle(), Args :: [term()]"
static const nocopy_func funcs[] = {
    {.name = "open", .arity = 1, .fn = ffi_open_lib, .args = "Path :: binary()",
     .result = "{ok, nocopy:handle()} | {error, {dlopen, binary()}}",
     .sched = NOCOPY_DIRTY_IO, .doc = "dlopen: a library handle, closed by close/1 or GC."},
    {.name = "close", .arity = 1, .fn = ffi_close, .args = "Lib :: nocopy:handle()",
     .result = "ok", .doc = "Closes a library: its functions refuse calls from now on."},
    {.name = "bind", .arity = 4, .fn = ffi_bind,
     .args = "Lib :: nocopy:handle(), Decls :: binary(), Name :: binary() | undefined, "
             "Opts :: [tuple()]",
     .result = "{ok, nocopy:handle()} | {error, term()}",
     .doc = "Parses, resolves and prepares a function once."},
    {.name = "invoke", .arity = 2, .fn = ffi_call_fn, .args = CALL_ARGS, .result = "term()",
     .doc = "Calls a bound function on a normal scheduler."},
    {.name = "invoke0", .arity = 1, .fn = ffi_invoke_args, .args = "Fn :: nocopy:handle()",
     .result = "term()", .doc = "invoke/2 with no values."},
    {.name = "invoke1", .arity = 2, .fn = ffi_invoke_args,
     .args = "Fn :: nocopy:handle(), A1 :: term()", .result = "term()",
     .doc = "invoke/2 with the values as arguments."},
    {.name = "invoke2", .arity = 3, .fn = ffi_invoke_args,
     .args = "Fn :: nocopy:handle(), A1 :: term(), A2 :: term()", .result = "term()",
     .doc = "invoke/2 with the values as arguments."},
    {.name = "invoke3", .arity = 4, .fn = ffi_invoke_args,
     .args = "Fn :: nocopy:handle(), A1 :: term(), A2 :: term(), A3 :: term()",
     .result = "term()", .doc = "invoke/2 with the values as arguments."},
    {.name = "invoke4", .arity = 5, .fn = ffi_invoke_args,
     .args = "Fn :: nocopy:handle(), A1 :: term(), A2 :: term(), A3 :: term(), A4 :: term()",
     .result = "term()", .doc = "invoke/2 with the values as arguments."},
    {.name = "invoke_dirty_cpu", .arity = 2, .fn = ffi_call_fn, .args = CALL_ARGS,
     .result = "term()", .sched = NOCOPY_DIRTY_CPU, .doc = "Calls on a dirty CPU scheduler."},
    {.name = "invoke_dirty_io", .arity = 2, .fn = ffi_call_fn, .args = CALL_ARGS,
     .result = "term()", .sched = NOCOPY_DIRTY_IO, .doc = "Calls on a dirty IO scheduler."},
    {.name = "info", .arity = 1, .fn = nocopy__ffi_info, .args = "Fn :: nocopy:handle()",
     .result = "{binary(), binary(), [{binary(), binary(), binary()}], [binary()], boolean()}",
     .doc = "A bound function's name, result type, inputs, outputs, errno capture."},
    {.name = "shapes", .arity = 1, .fn = nocopy__ffi_shapes, .args = "Fn :: nocopy:handle()",
     .result = "{term(), [term()], [term()]}",
     .doc = "The structs a function takes and returns: [{Field, Shape}] or undefined."},
    {.name = "decls", .arity = 1, .fn = ffi_decls, .args = "Text :: binary()",
     .result = "{ok, [binary()], [{binary(), integer()}]} | {error, term()}",
     .doc = "The functions and enum constants a text declares."},
    {.name = "address", .arity = 1, .fn = ffi_address, .args = "Bin :: binary()",
     .result = "non_neg_integer()", .doc = "Where C sees a binary's bytes (for tests)."},
    {.name = "release", .arity = 1, .fn = ffi_release, .args = "Ptr :: nocopy:handle()",
     .result = "ok", .doc = "Runs a pointer handle's destructor now (once no call uses it)."},
    {.name = "live_pointers", .arity = 0, .fn = ffi_live_pointers, .args = "",
     .result = "non_neg_integer()", .doc = "Pointer handles not yet destroyed."},
    {.name = "live_libraries", .arity = 0, .fn = ffi_live_libraries, .args = "",
     .result = "non_neg_integer()", .doc = "Libraries opened and not yet dlclose'd."},
    {.name = "bind_all", .arity = 3, .fn = ffi_bind_all,
     .args = "Lib :: nocopy:handle(), Decls :: binary(), Funs :: [{binary(), [tuple()]}]",
     .result = "{ok, [nocopy:handle()]} | {error, {binary(), term()}}",
     .doc = "bind/4 of several functions of one text, parsed once."},
};

static const nocopy_module nc_ffi = {
    .name = "nc_ffi", .funcs = funcs, .nfuncs = sizeof funcs / sizeof funcs[0],
    .atoms = atoms, .handle_types = handle_types};
NOCOPY_MODULE(nc_ffi)
