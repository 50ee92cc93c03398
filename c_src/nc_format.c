/* nc_format.c: format strings for reading and building terms in one line
 * (nocopy_arg_scan, nocopy_term_scan, nocopy_build), on top of the typed calls.
 * Letters are documented in nocopy.h. Spaces and commas are ignored, so
 * "{i, a}" reads as "{ia}". Formats are written by programmers, not users:
 * a malformed one is an internal error, reported, never undefined behaviour. */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "nc_internal.h"

#define MAX_ITEMS 64

static void skip_blank(const char **p)
{
    while (**p == ' ' || **p == ',')
        (*p)++;
}

/* Number of items in the group that starts after an opening bracket, or -1 if
 * the group is not closed by `close`. */
int nocopy__format_group_items(const char *p, char close)
{
    int n = 0, depth = 0;
    for (; *p; p++) {
        switch (*p) {
        case ' ': case ',':
            break;
        case '{': case '[':
            if (depth == 0)
                n++;
            depth++;
            break;
        case '}': case ']':
            if (depth == 0)
                return *p == close ? n : -1;
            depth--;
            break;
        default:
            if (depth == 0)
                n++;
        }
    }
    return -1;
}

/* The letters each direction accepts, as tables: validation then costs one
 * load per character, cheap enough to run on every call. */
static const bool scan_letter[256] = {
    ['i'] = 1, ['I'] = 1, ['z'] = 1, ['f'] = 1, ['o'] = 1, ['a'] = 1,
    ['b'] = 1, ['v'] = 1, ['h'] = 1, ['t'] = 1, ['_'] = 1,
};
static const bool build_letter[256] = {
    ['i'] = 1, ['I'] = 1, ['f'] = 1, ['o'] = 1, ['a'] = 1, ['c'] = 1,
    ['B'] = 1, ['s'] = 1, ['k'] = 1, ['h'] = 1, ['v'] = 1,
};

/* Checks that `p` holds exactly one term of `letters` and brackets ("[" only
 * when `lists`), before any argument is consumed: a malformed format then takes
 * ownership of nothing. Every call checks its format: formats can be built at
 * run time, and a pointer seen before may hold other text now. */
static const char *check_term(const char *p, const bool *letters, bool lists, int depth)
{
    while (*p == ' ' || *p == ',')
        p++;
    if (*p == '{' || (*p == '[' && lists)) {
        char close = *p == '{' ? '}' : ']';
        if (depth > 32)
            return NULL;
        p++;
        for (int items = 0;; items++) {
            while (*p == ' ' || *p == ',')
                p++;
            if (*p == close)
                return p + 1;
            if (items == MAX_ITEMS || !(p = check_term(p, letters, lists, depth + 1)))
                return NULL;
        }
    }
    return letters[(unsigned char)*p] ? p + 1 : NULL;
}

static bool format_ok(const char *fmt, const bool *letters, bool lists)
{
    const char *end = fmt ? check_term(fmt, letters, lists, 0) : NULL;
    if (!end)
        return false;
    while (*end == ' ' || *end == ',')
        end++;
    return *end == '\0';
}

bool nocopy__format_ok(const char *fmt, bool scan)
{
    return scan ? format_ok(fmt, scan_letter, false) : format_ok(fmt, build_letter, true);
}

static int bad_format(nocopy_call *c, const char *fmt)
{
    return nocopy__fail(c, NOCOPY_EINTERNAL, 0, "malformed nocopy format string \"%s\"", fmt);
}

/* ---- reading ------------------------------------------------------------ */

static int scan_one(nocopy_call *c, nocopy_term t, const char **p, va_list *ap,
                    const char *fmt)
{
    skip_blank(p);
    char ch = **p;
    if (ch)                                      /* never step past the end */
        (*p)++;
    switch (ch) {
    case 'i': return nocopy_term_i64(c, t, va_arg(*ap, int64_t *));
    case 'I': return nocopy_term_u64(c, t, va_arg(*ap, uint64_t *));
    case 'z': return nocopy_term_size(c, t, va_arg(*ap, size_t *));
    case 'f': return nocopy_term_double(c, t, va_arg(*ap, double *));
    case 'o': return nocopy_term_bool(c, t, va_arg(*ap, int *));
    case 'a': return nocopy_term_atom(c, t, va_arg(*ap, nocopy_atom *));
    case 'b': return nocopy_term_bytes(c, t, va_arg(*ap, nocopy_bytes *));
    case 'v': return nocopy_term_iovec(c, t, va_arg(*ap, nocopy_iovec *));
    case 'h': {
        const nocopy_handle_type *type = va_arg(*ap, const nocopy_handle_type *);
        return nocopy_term_handle(c, t, type, va_arg(*ap, void **));
    }
    case 't':
        *va_arg(*ap, nocopy_term *) = t;
        return NOCOPY_OK;
    case '_':
        return NOCOPY_OK;
    case '{': {
        int n = nocopy__format_group_items(*p, '}');
        if (n < 0 || n > MAX_ITEMS)
            return bad_format(c, fmt);
        nocopy_term elems[MAX_ITEMS];
        int st = nocopy_term_tuple(c, t, (unsigned)n, elems);
        if (st)
            return st;
        for (int i = 0; i < n; i++)
            if ((st = scan_one(c, elems[i], p, ap, fmt)))
                return st;
        skip_blank(p);
        (*p)++;                                  /* the closing brace */
        return NOCOPY_OK;
    }
    default:
        return bad_format(c, fmt);
    }
}

int nocopy__vscan(nocopy_call *c, nocopy_term t, const char *fmt, va_list *ap)
{
    if (!format_ok(fmt, scan_letter, false))
        return bad_format(c, fmt ? fmt : "(null)");
    const char *p = fmt;
    int st = scan_one(c, t, &p, ap, fmt);
    if (st)
        return st;
    skip_blank(&p);
    return *p ? bad_format(c, fmt) : NOCOPY_OK;
}

/* The names in parentheses: nocopy.h defines macros of the same names. */
int (nocopy_term_scan)(nocopy_call *c, nocopy_term t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = nocopy__vscan(c, t, fmt, &ap);
    va_end(ap);
    return st;
}

int (nocopy_arg_scan)(nocopy_call *c, unsigned index, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = nocopy__vscan(c, nocopy_arg(c, index), fmt, &ap);
    va_end(ap);
    return st;
}

/* ---- building ----------------------------------------------------------- */

static nocopy_value build_one(nocopy_call *c, const char **p, va_list *ap, const char *fmt,
                              bool *malformed);

static nocopy_value build_group(nocopy_call *c, const char **p, va_list *ap, const char *fmt,
                                char close, bool *malformed)
{
    nocopy_value elems[MAX_ITEMS];
    int n = 0;
    bool ok = true;
    /* The format was checked, so the group is closed by `close`. Every item is
     * built even after a failed one, so that every HANDED OVER argument is
     * consumed and nothing leaks. */
    for (;;) {
        skip_blank(p);
        if (**p == close)
            break;
        if (n == MAX_ITEMS) {
            *malformed = true;
            return 0;
        }
        elems[n] = build_one(c, p, ap, fmt, malformed);
        if (*malformed)
            return 0;
        ok = ok && elems[n] != 0;
        n++;
    }
    (*p)++;
    if (!ok)
        return 0;
    return close == '}' ? nocopy_make_tuple(c, (unsigned)n, elems)
                        : nocopy_make_list(c, (size_t)n, elems);
}

static nocopy_value build_one(nocopy_call *c, const char **p, va_list *ap, const char *fmt,
                              bool *malformed)
{
    skip_blank(p);
    char ch = **p;
    if (ch)                                      /* never step past the end */
        (*p)++;
    switch (ch) {
    case 'i': return nocopy_make_i64(c, va_arg(*ap, int64_t));
    case 'I': return nocopy_make_u64(c, va_arg(*ap, uint64_t));
    case 'f': return nocopy_make_double(c, va_arg(*ap, double));
    case 'o': return nocopy_make_bool(c, va_arg(*ap, int));
    case 'a': return nocopy_make_atom(c, va_arg(*ap, nocopy_atom));
    case 'c': {
        const void *data = va_arg(*ap, const void *);
        return nocopy_make_copy(c, data, va_arg(*ap, size_t));
    }
    case 'B': return nocopy_make_buf(c, va_arg(*ap, nocopy_buf *));
    case 's': {
        nocopy_term t = va_arg(*ap, nocopy_term);
        size_t off = va_arg(*ap, size_t);
        return nocopy_make_slice(c, t, off, va_arg(*ap, size_t));
    }
    case 'k': {
        const nocopy_kept *k = va_arg(*ap, const nocopy_kept *);
        size_t off = va_arg(*ap, size_t);
        return nocopy_make_kept(c, k, off, va_arg(*ap, size_t));
    }
    case 'h': return nocopy_make_handle(c, va_arg(*ap, void *));
    case 'v': return va_arg(*ap, nocopy_value);
    case '{': return build_group(c, p, ap, fmt, '}', malformed);
    case '[': return build_group(c, p, ap, fmt, ']', malformed);
    default:
        *malformed = true;
        return 0;
    }
}

nocopy_value nocopy__vbuild(nocopy_call *c, const char *fmt, va_list *ap)
{
    if (!format_ok(fmt, build_letter, true)) {
        bad_format(c, fmt ? fmt : "(null)");
        return 0;
    }
    const char *p = fmt;
    bool malformed = false;
    nocopy_value v = build_one(c, &p, ap, fmt, &malformed);
    skip_blank(&p);
    if (malformed || *p) {
        bad_format(c, fmt);
        return 0;
    }
    return v;
}

nocopy_value (nocopy_build)(nocopy_call *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nocopy_value v = nocopy__vbuild(c, fmt, &ap);
    va_end(ap);
    return v;
}
