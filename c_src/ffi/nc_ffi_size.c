/* nc_ffi_size.c: an out-buffer's size, given at bind as an expression of the
 * function's integer parameters ("size", "n * 2 + 16", "(len + 7) / 8 * 8"):
 * compiled once into a short postfix program (nc_ffi_size), run before each
 * call on that call's values. Integers, names, + - * / and parentheses; 64-bit
 * arithmetic checked for overflow; a negative result or a division by zero
 * refuses the call. */
#include <stdio.h>
#include <string.h>

#include "nc_ffi_size.h"

enum { OP_K, OP_PARAM, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_LPAREN };

static int prec(uint8_t op)
{
    return op == OP_MUL || op == OP_DIV ? 2 : op == OP_ADD || op == OP_SUB ? 1 : 0;
}

static int emit(nc_ffi_size *s, uint8_t op, uint8_t param, int64_t k)
{
    if (s->n == NC_FFI_SIZE_OPS)
        return -1;
    s->ops[s->n].op = op;
    s->ops[s->n].param = param;
    s->ops[s->n].k = k;
    s->n++;
    return 0;
}

int nocopy__ffi_size_compile(const char *e, nc_ffi_size_lookup lookup, const void *ctx,
                             nc_ffi_size *out, char *why, size_t cap)
{
    uint8_t stack[NC_FFI_SIZE_OPS];
    unsigned sp = 0;
    int want_value = 1;           /* a value (or '(') comes next, not an operator */
    memset(out, 0, sizeof *out);
    for (size_t i = 0; e[i];) {
        char c = e[i];
        if (c == ' ' || c == '\t') {
            i++;
        } else if (want_value && c >= '0' && c <= '9') {
            int64_t v = 0;
            for (; e[i] >= '0' && e[i] <= '9'; i++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, e[i] - '0', &v))
                    goto too_large;
            if (emit(out, OP_K, 0, v))
                goto too_long;
            want_value = 0;
        } else if (want_value && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) {
            size_t j = i;
            while ((e[j] >= 'a' && e[j] <= 'z') || (e[j] >= 'A' && e[j] <= 'Z') || e[j] == '_' ||
                   (e[j] >= '0' && e[j] <= '9'))
                j++;
            int param = lookup(ctx, e + i, j - i);
            if (param < 0) {
                snprintf(why, cap, "size \"%s\": no integer parameter named %.*s", e,
                         (int)(j - i), e + i);
                return -1;
            }
            if (emit(out, OP_PARAM, (uint8_t)param, 0))
                goto too_long;
            i = j;
            want_value = 0;
        } else if (want_value && c == '(') {
            if (sp == NC_FFI_SIZE_OPS)
                goto too_long;
            stack[sp++] = OP_LPAREN;
            i++;
        } else if (!want_value && c == ')') {
            while (sp > 0 && stack[sp - 1] != OP_LPAREN)
                if (emit(out, stack[--sp], 0, 0))
                    goto too_long;
            if (sp == 0)
                goto bad;
            sp--;
            i++;
        } else if (!want_value && (c == '+' || c == '-' || c == '*' || c == '/')) {
            uint8_t op = c == '+' ? OP_ADD : c == '-' ? OP_SUB : c == '*' ? OP_MUL : OP_DIV;
            while (sp > 0 && prec(stack[sp - 1]) >= prec(op))
                if (emit(out, stack[--sp], 0, 0))
                    goto too_long;
            if (sp == NC_FFI_SIZE_OPS)
                goto too_long;
            stack[sp++] = op;
            want_value = 1;
            i++;
        } else {
            goto bad;
        }
    }
    if (want_value)
        goto bad;
    while (sp > 0) {
        if (stack[sp - 1] == OP_LPAREN)
            goto bad;
        if (emit(out, stack[--sp], 0, 0))
            goto too_long;
    }
    return 0;
bad:
    snprintf(why, cap, "size \"%s\" is not an expression of integers, parameters, + - * / ( )", e);
    return -1;
too_large:
    snprintf(why, cap, "size \"%s\": a number too large", e);
    return -1;
too_long:
    snprintf(why, cap, "size \"%s\": more than %d terms", e, NC_FFI_SIZE_OPS);
    return -1;
}

int nocopy__ffi_size_eval(const nc_ffi_size *s, nc_ffi_size_value value, const void *ctx,
                          int64_t *out)
{
    int64_t st[NC_FFI_SIZE_OPS];
    unsigned sp = 0;
    for (unsigned i = 0; i < s->n; i++) {
        uint8_t op = s->ops[i].op;
        if (op == OP_K || op == OP_PARAM) {
            st[sp++] = op == OP_K ? s->ops[i].k : value(ctx, s->ops[i].param);
            continue;
        }
        /* A compiled program is well formed: two values are on the stack. */
        int64_t b = st[--sp], a = st[--sp], r = 0;
        int bad = op == OP_ADD ? __builtin_add_overflow(a, b, &r)
                : op == OP_SUB ? __builtin_sub_overflow(a, b, &r)
                : op == OP_MUL ? __builtin_mul_overflow(a, b, &r)
                : (b == 0 || (a == INT64_MIN && b == -1)) ? 1 : (r = a / b, 0);
        if (bad)
            return -1;
        st[sp++] = r;
    }
    if (sp != 1 || st[0] < 0)
        return -1;
    *out = st[0];
    return 0;
}
