/* nc_format_site.c: format strings parsed once per call site.
 *
 * nocopy.h's nocopy_build, nocopy_arg_scan and nocopy_term_scan macros give
 * every call site whose format is a string literal a zeroed static
 * nocopy__format_site. The first call there checks the format exactly as
 * nc_format.c does and keeps it compacted: blanks dropped, and when reading,
 * each tuple's item count stored after its brace. Later calls run that program
 * with one switch per letter: no parsing, no validation, no recursion.
 *
 * A literal's text cannot change, so a program stays true for as long as the
 * site sees the same pointer. Only literals: a cache keyed by the pointer
 * alone was unsound (F3 in docs/hardening-review.md: a buffer reused for
 * another format skipped the check). The macros pass a site only when
 * __builtin_constant_p holds for the format, which GCC 12 and Clang 14 grant
 * to string literals and to nothing else (not to arrays, const or not, at
 * -O0 to -O3). A site that sees another pointer (one static
 * shared by several inlined callers), a format too long for the site, or a
 * malformed one takes nc_format.c's path, which checks on every call and
 * reports malformed formats; so does a site whose first use is still being
 * compiled on another thread. Results and errors are the same either way. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "nc_internal.h"

#define PROG_MAX 47                      /* program bytes; the site is 64 */

enum { SITE_EMPTY = 0, SITE_BUSY, SITE_READY, SITE_SLOW };

typedef struct site {
    _Atomic unsigned state;             /* EMPTY -> BUSY -> READY or SLOW, once */
    const char *fmt;                    /* the literal the program was made from */
    unsigned char len;
    unsigned char prog[PROG_MAX];
} site;

_Static_assert(sizeof(site) <= sizeof(nocopy__format_site), "site does not fit");
_Static_assert(_Alignof(site) <= _Alignof(nocopy__format_site), "site misaligned");

/* Compacts a checked format into s->prog; false if it does not fit. */
static bool compile(site *s, const char *fmt, bool scan)
{
    unsigned n = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p == ' ' || *p == ',')
            continue;
        if (n + 2 > PROG_MAX)
            return false;
        s->prog[n++] = (unsigned char)*p;
        if (scan && *p == '{')           /* checked: at most 64 items */
            s->prog[n++] = (unsigned char)nocopy__format_group_items(p + 1, '}');
    }
    s->len = (unsigned char)n;
    return true;
}

/* The program for `fmt` at site `s`, or NULL: take nc_format.c's path. */
static const site *site_program(nocopy__format_site *pub, const char *fmt, bool scan)
{
    site *s = (site *)pub;
    if (!s)
        return NULL;
    unsigned st = atomic_load_explicit(&s->state, memory_order_acquire);
    if (st == SITE_READY)
        return s->fmt == fmt ? s : NULL;
    unsigned expect = SITE_EMPTY;
    if (st != SITE_EMPTY ||
        !atomic_compare_exchange_strong_explicit(&s->state, &expect, SITE_BUSY,
                                                 memory_order_acquire, memory_order_relaxed))
        return NULL;
    if (!fmt || !nocopy__format_ok(fmt, scan) || !compile(s, fmt, scan)) {
        atomic_store_explicit(&s->state, SITE_SLOW, memory_order_release);
        return NULL;
    }
    s->fmt = fmt;
    atomic_store_explicit(&s->state, SITE_READY, memory_order_release);
    return s;
}

/* ---- building ----------------------------------------------------------- */

/* Values wait in a flat array; a closing bracket turns the values since its
 * group opened into one. As in nc_format.c, every letter consumes its
 * arguments (so every HANDED OVER one is taken) even after a failure. */
static nocopy_value run_build(nocopy_call *c, const site *s, va_list *ap)
{
    nocopy_value vals[PROG_MAX];
    unsigned char open[PROG_MAX];
    unsigned top = 0, depth = 0;
    bool ok = true;
    for (unsigned i = 0; i < s->len; i++) {
        nocopy_value v;
        switch (s->prog[i]) {
        case '{':
        case '[':
            open[depth++] = (unsigned char)top;
            continue;
        case '}':
        case ']': {
            unsigned start = open[--depth];
            v = !ok ? 0
                : s->prog[i] == '}' ? nocopy_make_tuple(c, top - start, vals + start)
                                    : nocopy_make_list(c, top - start, vals + start);
            top = start;
            break;
        }
        case 'i': v = nocopy_make_i64(c, va_arg(*ap, int64_t)); break;
        case 'I': v = nocopy_make_u64(c, va_arg(*ap, uint64_t)); break;
        case 'f': v = nocopy_make_double(c, va_arg(*ap, double)); break;
        case 'o': v = nocopy_make_bool(c, va_arg(*ap, int)); break;
        case 'a': v = nocopy_make_atom(c, va_arg(*ap, nocopy_atom)); break;
        case 'c': {
            const void *data = va_arg(*ap, const void *);
            v = nocopy_make_copy(c, data, va_arg(*ap, size_t));
            break;
        }
        case 'B': v = nocopy_make_buf(c, va_arg(*ap, nocopy_buf *)); break;
        case 's': {
            nocopy_term t = va_arg(*ap, nocopy_term);
            size_t off = va_arg(*ap, size_t);
            v = nocopy_make_slice(c, t, off, va_arg(*ap, size_t));
            break;
        }
        case 'k': {
            const nocopy_kept *k = va_arg(*ap, const nocopy_kept *);
            size_t off = va_arg(*ap, size_t);
            v = nocopy_make_kept(c, k, off, va_arg(*ap, size_t));
            break;
        }
        case 'h': v = nocopy_make_handle(c, va_arg(*ap, void *)); break;
        default: /* 'v', the only letter left in a checked build format */
            v = va_arg(*ap, nocopy_value);
            break;
        }
        ok = ok && v != 0;
        vals[top++] = v;
    }
    return ok ? vals[0] : 0;
}

nocopy_value nocopy__build_at(nocopy_call *c, nocopy__format_site *pub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const site *s = site_program(pub, fmt, false);
    nocopy_value v = s ? run_build(c, s, &ap) : nocopy__vbuild(c, fmt, &ap);
    va_end(ap);
    return v;
}

/* ---- reading ------------------------------------------------------------ */

/* Each open tuple is a frame over its elements in `terms`; a letter reads the
 * root term, or the next element of the innermost open tuple. */
static int run_scan(nocopy_call *c, nocopy_term root, const site *s, va_list *ap)
{
    nocopy_term terms[PROG_MAX];
    unsigned char frame[PROG_MAX];      /* next element of each open tuple */
    unsigned depth = 0, used = 0;
    int st = NOCOPY_OK;
    for (unsigned i = 0; i < s->len && st == NOCOPY_OK; i++) {
        unsigned char op = s->prog[i];
        if (op == '}') {                 /* checked: all its items were read */
            depth--;
            continue;
        }
        nocopy_term t = depth ? terms[frame[depth - 1]++] : root;
        switch (op) {
        case '{': {
            unsigned n = s->prog[++i];
            /* Elements are never reused: a program has fewer items than
             * PROG_MAX in all. */
            if ((st = nocopy_term_tuple(c, t, n, terms + used)) == NOCOPY_OK) {
                frame[depth++] = (unsigned char)used;
                used += n;
            }
            break;
        }
        case 'i': st = nocopy_term_i64(c, t, va_arg(*ap, int64_t *)); break;
        case 'I': st = nocopy_term_u64(c, t, va_arg(*ap, uint64_t *)); break;
        case 'z': st = nocopy_term_size(c, t, va_arg(*ap, size_t *)); break;
        case 'f': st = nocopy_term_double(c, t, va_arg(*ap, double *)); break;
        case 'o': st = nocopy_term_bool(c, t, va_arg(*ap, int *)); break;
        case 'a': st = nocopy_term_atom(c, t, va_arg(*ap, nocopy_atom *)); break;
        case 'b': st = nocopy_term_bytes(c, t, va_arg(*ap, nocopy_bytes *)); break;
        case 'v': st = nocopy_term_iovec(c, t, va_arg(*ap, nocopy_iovec *)); break;
        case 'h': {
            const nocopy_handle_type *type = va_arg(*ap, const nocopy_handle_type *);
            st = nocopy_term_handle(c, t, type, va_arg(*ap, void **));
            break;
        }
        case 't': *va_arg(*ap, nocopy_term *) = t; break;
        default: /* '_', the only letter left in a checked scan format */
            break;
        }
    }
    return st;
}

int nocopy__term_scan_at(nocopy_call *c, nocopy__format_site *pub, nocopy_term t,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const site *s = site_program(pub, fmt, true);
    int st = s ? run_scan(c, t, s, &ap) : nocopy__vscan(c, t, fmt, &ap);
    va_end(ap);
    return st;
}

int nocopy__arg_scan_at(nocopy_call *c, nocopy__format_site *pub, unsigned index,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const site *s = site_program(pub, fmt, true);
    nocopy_term t = nocopy_arg(c, index);
    int st = s ? run_scan(c, t, s, &ap) : nocopy__vscan(c, t, fmt, &ap);
    va_end(ap);
    return st;
}
