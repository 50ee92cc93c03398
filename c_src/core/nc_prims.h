/* nc_prims.h: the primitives a backend gives the core, and their contract,
 * stated once. There is no table of them: the core is compiled once per
 * backend, and each core file that needs them includes "nc_backend.h", which
 * the build finds in the backend's folder (-iquote c_src/<backend>; the fuzz
 * and C-test builds have their own). That header includes this one, then
 * defines every primitive below as a static inline function, so the compiler
 * checks each definition against these declarations and inlines it into the
 * core: a call costs no indirect jump.
 *
 *   c_src/nif/nc_backend.h       erl_nif terms
 *   c_src/drv/nc_backend.h       the driver's decoded requests and result nodes
 *   c_src/describe/nc_backend.h  stubs: the describe build makes no call
 *
 * A primitive may use the backend's process-wide state (its *_state.c file,
 * data only: tools/check-layers.sh) and the core; nothing else of the backend,
 * so that the core objects of a backend depend on no other file of it.
 *
 * Terms: `raw` is a backend term word (ERL_NIF_TERM, a pointer to a decoded
 * request node, ...). Readers return NC_GET_OK or an NC_GET_* reason and
 * write their outputs only on NC_GET_OK. Builders return 0 on failure after
 * recording it (nocopy__fail, usually NOCOPY_ENOMEM). */
#ifndef NC_PRIMS_H
#define NC_PRIMS_H

#include "nc_internal.h"

/* ---- reading terms -------------------------------------------------------- */

static inline nocopy_type nocopy__be_type(nocopy_call *c, uintptr_t raw);
static inline int nocopy__be_get_i64(nocopy_call *c, uintptr_t raw, int64_t *out);
static inline int nocopy__be_get_u64(nocopy_call *c, uintptr_t raw, uint64_t *out);
static inline int nocopy__be_get_double(nocopy_call *c, uintptr_t raw, double *out);
/* NC_GET_UNKNOWN: an atom, but neither built in nor in the module's table. */
static inline int nocopy__be_get_atom(nocopy_call *c, uintptr_t raw, nocopy_atom *out);
/* *out is BORROWED: valid for the call. */
static inline int nocopy__be_get_bytes(nocopy_call *c, uintptr_t raw, nocopy_bytes *out);
static inline int nocopy__be_get_tuple(nocopy_call *c, uintptr_t raw, unsigned *arity,
                                       const uintptr_t **elems);
static inline int nocopy__be_get_list_cell(nocopy_call *c, uintptr_t raw, uintptr_t *head,
                                           uintptr_t *tail);
/* Any handle: *out is the header; the core checks type and state. */
static inline int nocopy__be_get_handle(nocopy_call *c, uintptr_t raw, nocopy__handle **out);
/* A fast path for iodata that is a proper list of binaries: fills *out
 * (pieces in the call's arena) and returns NC_GET_OK, or returns NC_GET_TYPE
 * to let the core walk the term generically (a backend without a fast path
 * always returns NC_GET_TYPE). */
static inline int nocopy__be_get_iovec(nocopy_call *c, uintptr_t raw, nocopy_iovec *out);
/* Keeps binary `raw` (already checked to be a binary viewed as `view`): a
 * reference, not a copy, where the runtime allows. NOCOPY_OK or a status. */
static inline int nocopy__be_keep(nocopy_call *c, uintptr_t raw, const nocopy_bytes *view,
                                  nocopy_kept **out);

/* ---- building results ----------------------------------------------------- */

static inline nocopy_value nocopy__be_make_i64(nocopy_call *c, int64_t v);
static inline nocopy_value nocopy__be_make_u64(nocopy_call *c, uint64_t v);
static inline nocopy_value nocopy__be_make_double(nocopy_call *c, double v);  /* v finite */
static inline nocopy_value nocopy__be_make_atom(nocopy_call *c, nocopy_atom a); /* a valid */
static inline nocopy_value nocopy__be_make_tuple(nocopy_call *c, unsigned n,
                                                 const nocopy_value *e);
static inline nocopy_value nocopy__be_make_list(nocopy_call *c, size_t n,
                                                const nocopy_value *e);
/* Consumes b, on success or failure. */
static inline nocopy_value nocopy__be_make_buf(nocopy_call *c, nocopy__buf *b);
/* `raw` is a binary viewed as `view`; offset/len already range-checked. */
static inline nocopy_value nocopy__be_make_slice(nocopy_call *c, uintptr_t raw,
                                                 const nocopy_bytes *view, size_t offset,
                                                 size_t len);
/* offset/len already range-checked against k->view. */
static inline nocopy_value nocopy__be_make_kept(nocopy_call *c, const nocopy_kept *k,
                                                size_t offset, size_t len);
/* Must call release(obj) exactly once (release may be NULL), on success or
 * failure. */
static inline nocopy_value nocopy__be_make_foreign(nocopy_call *c, const void *data,
                                                   size_t size, nocopy_release_fn release,
                                                   void *obj);
static inline nocopy_value nocopy__be_make_copy(nocopy_call *c, const void *data,
                                                size_t size);
/* Hands the C reference of `h` over to the new term. */
static inline nocopy_value nocopy__be_make_handle(nocopy_call *c, nocopy__handle *h);

/* ---- memory that outlives calls ------------------------------------------- */

/* NULL: no memory. The buffer's resize and free are the backend's. */
static inline nocopy__buf *nocopy__be_buf_alloc(size_t size);
/* Consumes b; NULL: no memory (b freed). */
static inline nocopy_kept *nocopy__be_buf_share(nocopy_call *c, nocopy__buf *b);
/* A handle of `type` (index `index` in the module's table), header
 * initialised (nocopy__handle_init), holding one OWNED reference; NULL: no
 * memory. */
static inline nocopy__handle *nocopy__be_handle_alloc(const nocopy_handle_type *type,
                                                      unsigned index);
/* One more / one less reference; the last release finalises the handle
 * (nocopy__handle_finalize) and frees it. Any thread. */
static inline void nocopy__be_handle_keep(nocopy__handle *h);
static inline void nocopy__be_handle_release(nocopy__handle *h);

/* ---- scheduling ------------------------------------------------------------- */

/* The call has processed `bytes` bytes: a backend that can yield counts it
 * against the time slice; others do nothing. */
static inline void nocopy__be_consume(nocopy_call *c, size_t bytes);

#endif /* NC_PRIMS_H */
