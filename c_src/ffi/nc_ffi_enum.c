/* nc_ffi_enum.c: enum definitions and the constant expressions of their
 * values: integers, earlier constants, ( ), unary - and ~, and binary
 * * + - << >> & | with C's precedence, in 64-bit arithmetic checked for
 * overflow; a value must fit in int. Parentheses nest at most
 * NC_FFI_MAX_DEPTH deep. */
#include <limits.h>
#include <string.h>

#include "nc_ffi_lex.h"

#define NEXT(p) nc_ffi__next(p)
#define IS(p, c) nc_ffi__is_punct((p), (c))

static const nc_ffi_const *lookup_const(const nc_ffi_parser *p)
{
    for (unsigned i = 0; i < p->d->nconsts; i++)
        if (nc_ffi__is_table_word(p, nc_ffi_name(p->d, p->d->consts[i].name)))
            return &p->d->consts[i];
    return NULL;
}


static int64_t expr(nc_ffi_parser *p, int min_prec);

static int64_t unary(nc_ffi_parser *p)
{
    char b[64];
    size_t at = p->tok.pos;
    if (IS(p, '-') || IS(p, '~')) {
        char op = p->tok.punct;
        NEXT(p);
        int64_t v = unary(p);
        if (op == '~')
            return ~v;
        if (v == INT64_MIN)
            nc_ffi__fail_at(p, at, "enum value out of range");
        return -v;
    }
    if (IS(p, '(')) {
        if (++p->depth > NC_FFI_MAX_DEPTH)
            FAIL(p, "nested deeper than %d", NC_FFI_MAX_DEPTH);
        NEXT(p);
        int64_t v = expr(p, 0);
        nc_ffi__expect(p, ')', "')'");
        p->depth--;
        return v;
    }
    if (p->tok.kind == T_INT) {
        uint64_t v = p->tok.value;
        if (v > INT64_MAX)
            FAIL(p, "enum value out of range");
        NEXT(p);
        return (int64_t)v;
    }
    if (p->tok.kind == T_IDENT) {
        const nc_ffi_const *c = lookup_const(p);
        if (!c)
            FAIL(p, "unknown constant %s", nc_ffi__tok_desc(p, b, sizeof b));
        NEXT(p);
        return c->value;
    }
    FAIL(p, "expected a value, got %s", nc_ffi__tok_desc(p, b, sizeof b));
}

/* Binary operators by precedence, C's order. */
static int prec_of(const nc_ffi_parser *p)
{
    if (p->tok.kind == T_SHL || p->tok.kind == T_SHR)
        return 3;
    if (p->tok.kind != T_PUNCT)
        return -1;
    switch (p->tok.punct) {
    case '|': return 1;
    case '&': return 2;
    case '+': case '-': return 4;
    case '*': return 5;
    default: return -1;
    }
}

static int64_t expr(nc_ffi_parser *p, int min_prec)
{
    int64_t v = unary(p);
    int prec;
    while ((prec = prec_of(p)) > min_prec) {
        size_t at = p->tok.pos;
        tok_kind k = p->tok.kind;
        char op = p->tok.punct;
        NEXT(p);
        int64_t r = expr(p, prec);
        int over = 0;
        if (k == T_SHL || k == T_SHR) {
            if (r < 0 || r > 62)
                nc_ffi__fail_at(p, at, "shift by %lld", (long long)r);
            if (k == T_SHR)
                v >>= r;
            else if (v < 0 || v > (INT64_MAX >> r))
                over = 1;
            else
                v <<= r;
        } else if (op == '|') {
            v |= r;
        } else if (op == '&') {
            v &= r;
        } else if (op == '+') {
            over = __builtin_add_overflow(v, r, &v);
        } else if (op == '-') {
            over = __builtin_sub_overflow(v, r, &v);
        } else {
            over = __builtin_mul_overflow(v, r, &v);
        }
        if (over)
            nc_ffi__fail_at(p, at, "enum value out of range");
    }
    return v;
}

nc_ffi_type nc_ffi__enum_spec(nc_ffi_parser *p)
{
    char b[64];
    NEXT(p);  /* 'enum' */
    uint32_t tag = 0;
    int named = 0;
    if (p->tok.kind == T_IDENT && !nc_ffi__is_keyword(p)) {
        tag = nc_ffi__pool_tok(p);
        named = 1;
        NEXT(p);
    } else if (!IS(p, '{')) {
        FAIL(p, "expected an enum name or '{', got %s", nc_ffi__tok_desc(p, b, sizeof b));
    } else {
        tag = nc_ffi__pool_add(p, "", 0);
    }
    if (IS(p, '{')) {
        NEXT(p);
        int64_t next = 0;
        while (!IS(p, '}')) {
            if (p->tok.kind != T_IDENT || nc_ffi__is_keyword(p))
                FAIL(p, "expected an enum constant, got %s", nc_ffi__tok_desc(p, b, sizeof b));
            size_t at = p->tok.pos;
            if (lookup_const(p))
                FAIL(p, "constant %s declared twice", nc_ffi__tok_desc(p, b, sizeof b));
            uint32_t name = nc_ffi__pool_tok(p);
            NEXT(p);
            if (IS(p, '=')) {
                NEXT(p);
                at = p->tok.pos;
                next = expr(p, 0);
            }
            if (next < INT_MIN || next > INT_MAX)
                nc_ffi__fail_at(p, at, "enum value %lld is out of int's range", (long long)next);
            nc_ffi_decls *d = p->d;
            nc_ffi__grow(p, (void **)&d->consts, &d->cap_consts, d->nconsts + 1,
                         sizeof *d->consts, NC_FFI_MAX_CONSTS, "enum constants");
            d->consts[d->nconsts++] = (nc_ffi_const){.name = name, .value = next,
                                                     .enum_name = tag};
            next++;
            if (IS(p, ','))
                NEXT(p);
            else if (!IS(p, '}'))
                FAIL(p, "expected ',' or '}', got %s", nc_ffi__tok_desc(p, b, sizeof b));
        }
        NEXT(p);
    }
    return (nc_ffi_type){.kind = NC_FFI_SINT, .size = sizeof(int), .flags = NC_FFI_ENUM,
                         .name = named ? (int32_t)tag : -1};
}
