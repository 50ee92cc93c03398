/* nocopy_format.h: the inline path of nocopy_build, nocopy_arg_scan and
 * nocopy_term_scan, included by nocopy.h when GCC or Clang optimises C. Not a
 * header of its own: include nocopy.h. Every name here is internal.
 *
 * A call whose format is a string literal, well formed, at most 31
 * characters and 16 values long (reading: one letter, or one tuple of
 * letters), expands to static inline steps over the format's characters.
 * The compiler knows each character, so every test on it folds away and
 * what is left is the typed calls the format stands for (nocopy_make_i64,
 * nocopy_term_bytes, ...), with the values read from an array of the call's
 * own arguments, not through va_arg. Everything else (a format built at run
 * time, a longer one, a malformed one, more values) calls the library, which
 * parses a literal once per call site (nc_format_site.c) and checks any other
 * format on every call (nc_format.c). Results, errors and ownership are the
 * same either way: the steps make the same calls in the same order as the
 * library's program would (besides, after a failed part, a nocopy_make_tuple
 * or nocopy_make_list that refuses it and does nothing else), and a malformed
 * format never takes this path. */
#ifndef NOCOPY_FORMAT_H
#define NOCOPY_FORMAT_H

/* ---- the inline path: a literal format, unrolled at compile time ---------- */

/* The values after the format, each stored by its C type (integers widened,
 * unsigned ones by their bits), so that the format's letters can read them
 * from an array: no va_list, and every read is a constant index. */
typedef union nocopy__varg {
    int64_t i;
    double f;
    void *p;
    nocopy_term t;
} nocopy__varg;

static inline nocopy__varg nocopy__v_i(long long x)
{
    nocopy__varg v;
    v.i = (int64_t)x;
    return v;
}
static inline nocopy__varg nocopy__v_u(unsigned long long x)
{
    nocopy__varg v;
    v.i = (int64_t)x;
    return v;
}
static inline nocopy__varg nocopy__v_f(double x)
{
    nocopy__varg v;
    v.f = x;
    return v;
}
static inline nocopy__varg nocopy__v_t(nocopy_term x)
{
    nocopy__varg v;
    v.t = x;
    return v;
}
static inline nocopy__varg nocopy__v_p(const void *x)
{
    nocopy__varg v;
    v.p = (void *)(uintptr_t)x;
    return v;
}
#define NOCOPY__V(x)                                                            \
    _Generic((x), _Bool: nocopy__v_i, char: nocopy__v_i, signed char: nocopy__v_i, \
             short: nocopy__v_i, int: nocopy__v_i, long: nocopy__v_i,           \
             long long: nocopy__v_i, unsigned char: nocopy__v_u,                \
             unsigned short: nocopy__v_u, unsigned: nocopy__v_u,                \
             unsigned long: nocopy__v_u, unsigned long long: nocopy__v_u,       \
             float: nocopy__v_f, double: nocopy__v_f, long double: nocopy__v_f, \
             nocopy_term: nocopy__v_t, default: nocopy__v_p)(x)

/* Formats of at most NOCOPY__FMT_MAX - 1 characters, nested at most
 * NOCOPY__FMT_DEPTH deep, with at most 16 values, take the inline path; the
 * steps below run once per character position, and with a literal format
 * every test on a character folds away, leaving the typed calls. */
#define NOCOPY__FMT_MAX 32
#define NOCOPY__FMT_DEPTH 8
#define NOCOPY__INL static inline __attribute__((always_inline))
#define NOCOPY__STEPS(S)                                                        \
    S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7) S(8) S(9) S(10) S(11) S(12) S(13)   \
    S(14) S(15) S(16) S(17) S(18) S(19) S(20) S(21) S(22) S(23) S(24) S(25)     \
    S(26) S(27) S(28) S(29) S(30) S(31)

/* Values each letter takes; 0 for none ('_'), -1 for a letter not allowed. */
NOCOPY__INL int nocopy__letter_args(char ch, int scan)
{
    switch (ch) {
    case 'i': case 'I': case 'f': case 'o': case 'a': case 'v': return 1;
    case 'h': return scan ? 2 : 1;
    case 'z': case 'b': case 't': return scan ? 1 : -1;
    case '_': return scan ? 0 : -1;
    case 'B': return scan ? -1 : 1;
    case 'c': return scan ? -1 : 2;
    case 's': case 'k': return scan ? -1 : 3;
    default: return -1;
    }
}

/* Checking a format: the steps track brackets and count values. */
typedef struct nocopy__check {
    int end, bad, depth, tops, args;
    char close[NOCOPY__FMT_DEPTH];
} nocopy__check;

NOCOPY__INL void nocopy__check_step(nocopy__check *s, const char *f, unsigned pos, int scan)
{
    if (s->end || s->bad)
        return;
    char ch = f[pos];
    if (ch == '\0') {
        s->end = 1;
        return;
    }
    if (ch == ' ' || ch == ',')
        return;
    if (s->depth == 0 && s->tops++ > 0) {        /* one term at the top */
        s->bad = 1;
        return;
    }
    if (ch == '{' || (ch == '[' && !scan)) {
        /* Reading: one tuple of letters, not nested. */
        if (s->depth == NOCOPY__FMT_DEPTH || (scan && s->depth > 0)) {
            s->bad = 1;
            return;
        }
        s->close[s->depth++] = ch == '{' ? '}' : ']';
        return;
    }
    if (ch == '}' || ch == ']') {
        if (s->depth == 0 || s->close[s->depth - 1] != ch)
            s->bad = 1;
        else
            s->depth--;
        return;
    }
    int n = nocopy__letter_args(ch, scan);
    if (n < 0)
        s->bad = 1;
    else
        s->args += n;
}

/* True when the literal f, taking exactly nargs values, can take the inline
 * path; anything else (a malformed format included) takes the library's. */
NOCOPY__INL int nocopy__fmt_fits(const char *f, int nargs, int scan)
{
    nocopy__check s = {0, 0, 0, 0, 0, {0}};
#define NOCOPY__S(p) nocopy__check_step(&s, f, p, scan);
    NOCOPY__STEPS(NOCOPY__S)
#undef NOCOPY__S
    return s.end && !s.bad && s.depth == 0 && s.tops == 1 && s.args == nargs;
}

/* Building: as the library's program does, values wait in vals, a closing
 * bracket makes the values since its group opened into one, and every letter
 * consumes its values (so every HANDED OVER one is taken) even after a
 * failure. A failed part is a 0 value, which nocopy_make_tuple and
 * nocopy_make_list refuse (returning 0, recording nothing), so a failure
 * reaches the top without a flag to test at every letter. */
typedef struct nocopy__bstate {
    int end;
    unsigned top, depth, k;
    unsigned char open[NOCOPY__FMT_DEPTH];
} nocopy__bstate;

NOCOPY__INL void nocopy__build_step(nocopy_call *c, nocopy__bstate *s, nocopy_value *vals,
                                    const char *f, unsigned pos, const nocopy__varg *a)
{
    if (s->end)
        return;
    nocopy_value v;
    unsigned k = s->k;
    switch (f[pos]) {
    case '\0': s->end = 1; return;
    case '{': case '[': s->open[s->depth++] = (unsigned char)s->top; return;
    case '}': case ']': {
        unsigned start = s->open[--s->depth];
        v = f[pos] == '}' ? nocopy_make_tuple(c, s->top - start, vals + start)
                          : nocopy_make_list(c, s->top - start, vals + start);
        s->top = start;
        break;
    }
    case 'i': v = nocopy_make_i64(c, a[k].i); s->k = k + 1; break;
    case 'I': v = nocopy_make_u64(c, (uint64_t)a[k].i); s->k = k + 1; break;
    case 'f': v = nocopy_make_double(c, a[k].f); s->k = k + 1; break;
    case 'o': v = nocopy_make_bool(c, a[k].i != 0); s->k = k + 1; break;
    case 'a': v = nocopy_make_atom(c, (nocopy_atom)a[k].i); s->k = k + 1; break;
    case 'c': v = nocopy_make_copy(c, a[k].p, (size_t)a[k + 1].i); s->k = k + 2; break;
    case 'B': v = nocopy_make_buf(c, (nocopy_buf *)a[k].p); s->k = k + 1; break;
    case 's':
        v = nocopy_make_slice(c, a[k].t, (size_t)a[k + 1].i, (size_t)a[k + 2].i);
        s->k = k + 3;
        break;
    case 'k':
        v = nocopy_make_kept(c, (const nocopy_kept *)a[k].p, (size_t)a[k + 1].i,
                             (size_t)a[k + 2].i);
        s->k = k + 3;
        break;
    case 'h': v = nocopy_make_handle(c, a[k].p); s->k = k + 1; break;
    case 'v': v = (nocopy_value)a[k].i; s->k = k + 1; break;
    default: return;                             /* blanks */
    }
    vals[s->top++] = v;
}

NOCOPY__INL nocopy_value nocopy__build_lit(nocopy_call *c, int unused, const char *f,
                                           const nocopy__varg *a)
{
    nocopy_value vals[NOCOPY__FMT_MAX];
    nocopy__bstate s = {0, 0, 0, 0, {0}};
    (void)unused;
#define NOCOPY__S(p) nocopy__build_step(c, &s, vals, f, p, a);
    NOCOPY__STEPS(NOCOPY__S)
#undef NOCOPY__S
    return vals[0];
}

/* Reading: one letter for the term itself, or one tuple of letters (what a
 * format that fits can hold). */
typedef struct nocopy__sstate {
    int end, st, tuple;
    unsigned k, e, n;
} nocopy__sstate;

/* First pass: is it a tuple, and of how many letters. */
NOCOPY__INL void nocopy__scan_shape(nocopy__sstate *s, const char *f, unsigned pos)
{
    if (s->end)
        return;
    char ch = f[pos];
    if (ch == '\0')
        s->end = 1;
    else if (ch == '{')
        s->tuple = 1;
    else if (ch != ' ' && ch != ',' && ch != '}')
        s->n++;
}

NOCOPY__INL void nocopy__scan_step(nocopy_call *c, nocopy__sstate *s, nocopy_term *elems,
                                   nocopy_term root, const char *f, unsigned pos,
                                   const nocopy__varg *a)
{
    if (s->end || s->st != NOCOPY_OK)
        return;
    char ch = f[pos];
    if (ch == '\0') {
        s->end = 1;
        return;
    }
    if (ch == ' ' || ch == ',' || ch == '}')
        return;
    if (ch == '{') {
        s->st = nocopy_term_tuple(c, root, s->n, elems);
        return;
    }
    nocopy_term t = s->tuple ? elems[s->e++] : root;
    unsigned k = s->k;
    switch (ch) {
    case 'i': s->st = nocopy_term_i64(c, t, (int64_t *)a[k].p); s->k = k + 1; break;
    case 'I': s->st = nocopy_term_u64(c, t, (uint64_t *)a[k].p); s->k = k + 1; break;
    case 'z': s->st = nocopy_term_size(c, t, (size_t *)a[k].p); s->k = k + 1; break;
    case 'f': s->st = nocopy_term_double(c, t, (double *)a[k].p); s->k = k + 1; break;
    case 'o': s->st = nocopy_term_bool(c, t, (int *)a[k].p); s->k = k + 1; break;
    case 'a': s->st = nocopy_term_atom(c, t, (nocopy_atom *)a[k].p); s->k = k + 1; break;
    case 'b': s->st = nocopy_term_bytes(c, t, (nocopy_bytes *)a[k].p); s->k = k + 1; break;
    case 'v': s->st = nocopy_term_iovec(c, t, (nocopy_iovec *)a[k].p); s->k = k + 1; break;
    case 'h':
        s->st = nocopy_term_handle(c, t, (const nocopy_handle_type *)a[k].p,
                                   (void **)a[k + 1].p);
        s->k = k + 2;
        break;
    case 't': *(nocopy_term *)a[k].p = t; s->k = k + 1; break;
    default: break;                              /* '_' */
    }
}

NOCOPY__INL int nocopy__term_scan_lit(nocopy_call *c, nocopy_term root, const char *f,
                                      const nocopy__varg *a)
{
    nocopy_term elems[NOCOPY__FMT_MAX];
    nocopy__sstate s = {0, NOCOPY_OK, 0, 0, 0, 0};
#define NOCOPY__S(p) nocopy__scan_shape(&s, f, p);
    NOCOPY__STEPS(NOCOPY__S)
#undef NOCOPY__S
    s.end = 0;
#define NOCOPY__S(p) nocopy__scan_step(c, &s, elems, root, f, p, a);
    NOCOPY__STEPS(NOCOPY__S)
#undef NOCOPY__S
    return s.st;
}

NOCOPY__INL int nocopy__arg_scan_lit(nocopy_call *c, unsigned index, const char *f,
                                     const nocopy__varg *a)
{
    return nocopy__term_scan_lit(c, nocopy_arg(c, index), f, a);
}

/* ---- the macros: count the values, pick a path ---------------------------- */

#define NOCOPY__UNPAREN(...) __VA_ARGS__
#define NOCOPY__SCAN_build 0
#define NOCOPY__SCAN_arg_scan 1
#define NOCOPY__SCAN_term_scan 1
#define NOCOPY__AT_build(call, site, x, ...) nocopy__build_at(call, site, __VA_ARGS__)
#define NOCOPY__AT_arg_scan(call, site, x, ...) nocopy__arg_scan_at(call, site, x, __VA_ARGS__)
#define NOCOPY__AT_term_scan(call, site, x, ...) nocopy__term_scan_at(call, site, x, __VA_ARGS__)

/* The inline path when the literal fits, the library's otherwise; only one
 * of the two runs, so each argument is evaluated once. */
#define NOCOPY__FMT_IF(kind, call, x, f, n, argv, ...)                           \
    (__builtin_constant_p(f) && nocopy__fmt_fits(f, n, NOCOPY__SCAN_##kind)      \
         ? nocopy__##kind##_lit(call, x, f,                                      \
                                (const nocopy__varg[]){NOCOPY__UNPAREN argv})    \
         : NOCOPY__AT_##kind(call, NOCOPY__SITE(__VA_ARGS__), x, __VA_ARGS__))

/* NOCOPY__NARGS counts the format and its values (C guarantees calls of up
 * to 127 arguments); above 17, V: the library's path. */
#define NOCOPY__NARGS(...) NOCOPY__NARGS_(__VA_ARGS__, NOCOPY__NSEQ)
#define NOCOPY__NARGS_(...) NOCOPY__NTH(__VA_ARGS__)
#define NOCOPY__NTH(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, \
    _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, \
    _32, _33, _34, _35, _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46, _47, \
    _48, _49, _50, _51, _52, _53, _54, _55, _56, _57, _58, _59, _60, _61, _62, _63, \
    _64, _65, _66, _67, _68, _69, _70, _71, _72, _73, _74, _75, _76, _77, _78, _79, \
    _80, _81, _82, _83, _84, _85, _86, _87, _88, _89, _90, _91, _92, _93, _94, _95, \
    _96, _97, _98, _99, _100, _101, _102, _103, _104, _105, _106, _107, _108, _109, \
    _110, _111, _112, _113, _114, _115, _116, _117, _118, _119, _120, _121, _122, _123, \
    _124, _125, _126, _127, N, ...) N
#define NOCOPY__NSEQ V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, \
    V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, \
    V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, \
    V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, \
    V, V, V, V, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1
#define NOCOPY__ARGV_0() {0}
#define NOCOPY__ARGV_1(a) NOCOPY__V(a), {0}
#define NOCOPY__ARGV_2(a, ...) NOCOPY__V(a), NOCOPY__ARGV_1(__VA_ARGS__)
#define NOCOPY__ARGV_3(a, ...) NOCOPY__V(a), NOCOPY__ARGV_2(__VA_ARGS__)
#define NOCOPY__ARGV_4(a, ...) NOCOPY__V(a), NOCOPY__ARGV_3(__VA_ARGS__)
#define NOCOPY__ARGV_5(a, ...) NOCOPY__V(a), NOCOPY__ARGV_4(__VA_ARGS__)
#define NOCOPY__ARGV_6(a, ...) NOCOPY__V(a), NOCOPY__ARGV_5(__VA_ARGS__)
#define NOCOPY__ARGV_7(a, ...) NOCOPY__V(a), NOCOPY__ARGV_6(__VA_ARGS__)
#define NOCOPY__ARGV_8(a, ...) NOCOPY__V(a), NOCOPY__ARGV_7(__VA_ARGS__)
#define NOCOPY__ARGV_9(a, ...) NOCOPY__V(a), NOCOPY__ARGV_8(__VA_ARGS__)
#define NOCOPY__ARGV_10(a, ...) NOCOPY__V(a), NOCOPY__ARGV_9(__VA_ARGS__)
#define NOCOPY__ARGV_11(a, ...) NOCOPY__V(a), NOCOPY__ARGV_10(__VA_ARGS__)
#define NOCOPY__ARGV_12(a, ...) NOCOPY__V(a), NOCOPY__ARGV_11(__VA_ARGS__)
#define NOCOPY__ARGV_13(a, ...) NOCOPY__V(a), NOCOPY__ARGV_12(__VA_ARGS__)
#define NOCOPY__ARGV_14(a, ...) NOCOPY__V(a), NOCOPY__ARGV_13(__VA_ARGS__)
#define NOCOPY__ARGV_15(a, ...) NOCOPY__V(a), NOCOPY__ARGV_14(__VA_ARGS__)
#define NOCOPY__ARGV_16(a, ...) NOCOPY__V(a), NOCOPY__ARGV_15(__VA_ARGS__)
#define NOCOPY__FMT_2(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 1, (NOCOPY__ARGV_1(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_3(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 2, (NOCOPY__ARGV_2(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_4(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 3, (NOCOPY__ARGV_3(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_5(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 4, (NOCOPY__ARGV_4(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_6(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 5, (NOCOPY__ARGV_5(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_7(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 6, (NOCOPY__ARGV_6(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_8(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 7, (NOCOPY__ARGV_7(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_9(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 8, (NOCOPY__ARGV_8(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_10(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 9, (NOCOPY__ARGV_9(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_11(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 10, (NOCOPY__ARGV_10(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_12(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 11, (NOCOPY__ARGV_11(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_13(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 12, (NOCOPY__ARGV_12(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_14(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 13, (NOCOPY__ARGV_13(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_15(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 14, (NOCOPY__ARGV_14(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_16(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 15, (NOCOPY__ARGV_15(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_17(kind, call, x, f, ...) \
    NOCOPY__FMT_IF(kind, call, x, f, 16, (NOCOPY__ARGV_16(__VA_ARGS__)), f, __VA_ARGS__)
#define NOCOPY__FMT_1(kind, call, x, f) \
    NOCOPY__FMT_IF(kind, call, x, f, 0, (NOCOPY__ARGV_0()), f)
#define NOCOPY__FMT_V(kind, call, x, ...) \
    NOCOPY__AT_##kind(call, NOCOPY__SITE(__VA_ARGS__), x, __VA_ARGS__)
#define NOCOPY__FMT_N_(n, ...) NOCOPY__FMT_##n(__VA_ARGS__)
#define NOCOPY__FMT_N(n, ...) NOCOPY__FMT_N_(n, __VA_ARGS__)
/* kind: build, arg_scan or term_scan; x: the index or term (0 to build). */
#define NOCOPY__FMT(kind, call, x, ...) \
    NOCOPY__FMT_N(NOCOPY__NARGS(__VA_ARGS__), kind, call, x, __VA_ARGS__)

#endif /* NOCOPY_FORMAT_H */
