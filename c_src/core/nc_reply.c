/* nc_reply.c: building results and ending a call, backend-neutral. A 0 value
 * means "construction failed"; it propagates through compound values so that a
 * wrapped function can build a whole result and check once, at return. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nc_backend.h"   /* this build's backend: nc_prims.h */

NC_HOT nocopy_value nocopy_make_i64(nocopy_call *c, int64_t v) { return nocopy__be_make_i64(c, v); }
NC_HOT nocopy_value nocopy_make_u64(nocopy_call *c, uint64_t v) { return nocopy__be_make_u64(c, v); }

/* Checked here for both backends: Erlang has no NaN or infinity. */
NC_HOT nocopy_value nocopy_make_double(nocopy_call *c, double v)
{
    if (!isfinite(v)) {
        nocopy__fail(c, NOCOPY_ERANGE, 0, "Erlang floats cannot be NaN or infinite");
        return 0;
    }
    return nocopy__be_make_double(c, v);
}

NC_HOT nocopy_value nocopy_make_bool(nocopy_call *c, int v)
{
    return nocopy__be_make_atom(c, v ? NOCOPY_ATOM_TRUE : NOCOPY_ATOM_FALSE);
}

NC_HOT nocopy_value nocopy_make_atom(nocopy_call *c, nocopy_atom a)
{
    if (!nocopy__atom_name(c->mod, a)) {
        nocopy__fail(c, NOCOPY_EINTERNAL, 0, "atom index %d is not in the module's table", a);
        return 0;
    }
    return nocopy__be_make_atom(c, a);
}

static inline bool all_valid(const nocopy_value *e, size_t n)
{
    /* Inlined where the arity is a literal (a tuple of 2 to 8 parts, say): no
     * early exit, so that it unrolls into a few branch-free tests. */
    bool ok = true;
#pragma GCC unroll 8
    for (size_t i = 0; i < n; i++)
        ok &= e[i] != 0;
    return ok;
}

NC_HOT nocopy_value nocopy_make_tuple(nocopy_call *c, unsigned arity, const nocopy_value *elems)
{
    if (arity && (!elems || !all_valid(elems, arity)))
        return 0;
    return nocopy__be_make_tuple(c, arity, elems);
}

NC_HOT nocopy_value nocopy_make_list(nocopy_call *c, size_t len, const nocopy_value *elems)
{
    if (len && (!elems || !all_valid(elems, len)))
        return 0;
    return nocopy__be_make_list(c, len, elems);
}

NC_HOT nocopy_value nocopy_make_buf(nocopy_call *c, nocopy_buf *buf)
{
    if (!buf)
        return 0;
    return nocopy__be_make_buf(c, (nocopy__buf *)buf);
}

NC_COLD static bool out_of_range(nocopy_call *c, size_t size, size_t offset, size_t len)
{
    nocopy__fail(c, NOCOPY_ERANGE, 0,
                 "slice of %zu bytes at offset %zu is outside a binary of %zu bytes", len,
                 offset, size);
    return false;
}

static inline bool range_ok(nocopy_call *c, size_t size, size_t offset, size_t len)
{
    if (NC_LIKELY(offset <= size && len <= size - offset))
        return true;
    return out_of_range(c, size, offset, len);
}

/* A slice of a term that is not a binary the call has read (0: an invalid
 * term, or not a binary). */
NC_COLD static nocopy_value slice_unread(nocopy_call *c, nocopy_term t, size_t offset,
                                         size_t len)
{
    nocopy_bytes view;
    if (t.raw == 0) {
        nocopy__fail(c, NOCOPY_EINTERNAL, 0, "nocopy_make_slice of an invalid term");
        return 0;
    }
    if (nocopy__be_get_bytes(c, t.raw, &view) != NC_GET_OK) {
        /* The caller passed something else where the function slices a
         * binary without reading it first: a bad argument, as if it had. */
        nocopy__fail(c, NOCOPY_EBADARG, t.argno, "expected a binary");
        return 0;
    }
    if (!range_ok(c, view.size, offset, len))
        return 0;
    return nocopy__be_make_slice(c, t.raw, &view, offset, len);
}

NC_HOT nocopy_value nocopy_make_slice(nocopy_call *c, nocopy_term t, size_t offset, size_t len)
{
    /* The common case: a slice of the binary the call has just read. */
    if (!NC_LIKELY(t.raw == c->bytes_raw && t.raw != 0))
        return slice_unread(c, t, offset, len);
    if (!range_ok(c, c->bytes_view.size, offset, len))
        return 0;
    return nocopy__be_make_slice(c, t.raw, &c->bytes_view, offset, len);
}

nocopy_value nocopy_make_kept(nocopy_call *c, const nocopy_kept *k, size_t offset, size_t len)
{
    if (!k || !range_ok(c, k->view.size, offset, len))
        return 0;
    return nocopy__be_make_kept(c, k, offset, len);
}

nocopy_value nocopy_make_foreign(nocopy_call *c, const void *data, size_t size,
                                 nocopy_release_fn release, void *obj)
{
    if (!data && size) {
        if (release)
            release(obj);
        return 0;
    }
    return nocopy__be_make_foreign(c, data, size, release, obj);
}

NC_HOT nocopy_value nocopy_make_copy(nocopy_call *c, const void *data, size_t size)
{
    if (!data && size)
        return 0;
    return nocopy__be_make_copy(c, data, size);
}

/* ---- buffers ------------------------------------------------------------ */

nocopy_buf *nocopy_buf_alloc(nocopy_call *c, size_t size)
{
    nocopy__buf *b = nocopy__be_buf_alloc(size);
    if (!b) {
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory allocating a %zu-byte buffer", size);
        return NULL;
    }
    return &b->pub;
}

int nocopy_buf_resize(nocopy_buf *buf, size_t size)
{
    nocopy__buf *b = (nocopy__buf *)buf;
    return b->resize(b, size);
}

void nocopy_buf_free(nocopy_buf *buf)
{
    if (buf) {
        nocopy__buf *b = (nocopy__buf *)buf;
        b->free(b);
    }
}

nocopy_kept *nocopy_buf_share(nocopy_call *c, nocopy_buf *buf)
{
    if (!buf)
        return NULL;
    nocopy_kept *k = nocopy__be_buf_share(c, (nocopy__buf *)buf);
    if (!k)
        nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory sharing a buffer");
    return k;
}

/* ---- ending the call ---------------------------------------------------- */

NC_HOT int nocopy_return(nocopy_call *c, nocopy_value v)
{
    if (v == 0) {
        /* A part failed: report why, if a reason was recorded. */
        if (c->err_status != NOCOPY_OK)
            return c->err_status;
        return nocopy__fail(c, NOCOPY_ENOMEM, 0, "out of memory building the result");
    }
    c->result = v;
    return NOCOPY_OK;
}

static int return_tagged(nocopy_call *c, nocopy_atom tag, nocopy_value v)
{
    if (v == 0)
        return nocopy_return(c, 0);
    nocopy_value pair[2] = {nocopy__be_make_atom(c, tag), v};
    return nocopy_return(c, nocopy_make_tuple(c, 2, pair));
}

int nocopy_return_ok(nocopy_call *c, nocopy_value v)
{
    return return_tagged(c, NOCOPY_ATOM_OK, v);
}

int nocopy_return_error(nocopy_call *c, nocopy_value reason)
{
    return return_tagged(c, NOCOPY_ATOM_ERROR, reason);
}

int nocopy_fail(nocopy_call *c, int status, const char *fmt, ...)
{
    char text[NC_ERR_TEXT_MAX];
    va_list ap;
    if (status >= 0)
        status = NOCOPY_EINTERNAL;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt ? fmt : "(no message)", ap);
    va_end(ap);
    return nocopy__fail(c, status, 0, "%s", text);
}

int nocopy_fail_badarg(nocopy_call *c, unsigned index, const char *expected)
{
    return nocopy__fail(c, NOCOPY_EBADARG, index + 1, "expected %s",
                        expected ? expected : "a valid value");
}
