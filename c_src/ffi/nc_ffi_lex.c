/* nc_ffi_lex.c: the tokens of C declarations, the parser's errors and its
 * string pool. Every read is bounded by the text's length: the text is not
 * NUL-terminated and may hold any byte. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_ffi_lex.h"

/* The pool grows with the text (names and spellings are parts of it, and a
 * type's name is spelled at most once per use), so this bound is never
 * reached by a text within NC_FFI_MAX_TEXT; it guards the arithmetic. */
#define POOL_MAX ((size_t)16 * NC_FFI_MAX_TEXT)

_Noreturn void nc_ffi__fail_at(nc_ffi_parser *p, size_t at, const char *fmt, ...)
{
    nc_ffi_error *e = p->err;
    if (at > p->n)
        at = p->n;
    e->offset = at;
    e->line = 1;
    e->column = 1;
    for (size_t i = 0; i < at; i++) {
        if (p->s[i] == '\n') {
            e->line++;
            e->column = 1;
        } else {
            e->column++;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    longjmp(p->fail, 1);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Skips spaces and comments from p->pos. */
static void skip_blank(nc_ffi_parser *p)
{
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (is_space(c)) {
            p->pos++;
        } else if (c == '/' && p->pos + 1 < p->n && p->s[p->pos + 1] == '*') {
            size_t start = p->pos;
            p->pos += 2;
            while (p->pos + 1 < p->n && !(p->s[p->pos] == '*' && p->s[p->pos + 1] == '/'))
                p->pos++;
            if (p->pos + 1 >= p->n)
                nc_ffi__fail_at(p, start, "unterminated comment");
            p->pos += 2;
        } else if (c == '/' && p->pos + 1 < p->n && p->s[p->pos + 1] == '/') {
            while (p->pos < p->n && p->s[p->pos] != '\n')
                p->pos++;
        } else {
            return;
        }
    }
}

static int digit_value(char c, unsigned base)
{
    int v = is_digit(c) ? c - '0'
          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
          : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
    return v < (int)base ? v : -1;
}

static void lex_int(nc_ffi_parser *p)
{
    size_t i = p->pos;
    unsigned base = 10;
    if (p->s[i] == '0' && i + 1 < p->n && (p->s[i + 1] == 'x' || p->s[i + 1] == 'X')) {
        base = 16;
        i += 2;
        if (i >= p->n || digit_value(p->s[i], 16) < 0)
            nc_ffi__fail_at(p, p->pos, "a hexadecimal number needs digits");
    } else if (p->s[i] == '0') {
        base = 8;
    }
    uint64_t v = 0;
    int d;
    for (; i < p->n && (d = digit_value(p->s[i], base)) >= 0; i++) {
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            nc_ffi__fail_at(p, p->pos, "integer too large");
        v = v * base + (uint64_t)d;
    }
    while (i < p->n && (p->s[i] == 'u' || p->s[i] == 'U' || p->s[i] == 'l' || p->s[i] == 'L'))
        i++;
    if (i < p->n && (is_alpha(p->s[i]) || is_digit(p->s[i])))
        nc_ffi__fail_at(p, i, "bad digit or suffix in a number");
    p->tok.kind = T_INT;
    p->tok.value = v;
    p->tok.len = i - p->pos;
}

void nc_ffi__next(nc_ffi_parser *p)
{
    p->prev_end = p->tok.pos + p->tok.len;
    skip_blank(p);
    nc_ffi_token *t = &p->tok;
    t->pos = p->pos;
    t->len = 0;
    if (p->pos >= p->n) {
        t->kind = T_EOF;
        return;
    }
    char c = p->s[p->pos];
    if (is_alpha(c)) {
        size_t i = p->pos;
        while (i < p->n && (is_alpha(p->s[i]) || is_digit(p->s[i])))
            i++;
        if (i - p->pos > NC_FFI_MAX_NAME)
            nc_ffi__fail_at(p, p->pos, "name longer than %d bytes", NC_FFI_MAX_NAME);
        t->kind = T_IDENT;
        t->len = i - p->pos;
    } else if (is_digit(c)) {
        lex_int(p);
    } else if (c == '.' && p->pos + 2 < p->n && p->s[p->pos + 1] == '.' && p->s[p->pos + 2] == '.') {
        t->kind = T_ELLIPSIS;
        t->len = 3;
    } else if ((c == '<' || c == '>') && p->pos + 1 < p->n && p->s[p->pos + 1] == c) {
        t->kind = c == '<' ? T_SHL : T_SHR;
        t->len = 2;
    } else if (strchr("(){}[],;*=-+|&~:", c) && c != '\0') {
        t->kind = T_PUNCT;
        t->punct = c;
        t->len = 1;
    } else if (c == '#') {
        nc_ffi__fail_at(p, p->pos, "preprocessor lines are not supported");
    } else if ((unsigned char)c >= 0x21 && (unsigned char)c < 0x7f) {
        nc_ffi__fail_at(p, p->pos, "unexpected character '%c'", c);
    } else {
        nc_ffi__fail_at(p, p->pos, "unexpected byte 0x%02x", (unsigned char)c);
    }
    p->pos += t->len;
}

int nc_ffi__is_punct(const nc_ffi_parser *p, char c)
{
    return p->tok.kind == T_PUNCT && p->tok.punct == c;
}


const char *nc_ffi__tok_desc(nc_ffi_parser *p, char *buf, size_t cap)
{
    if (p->tok.kind == T_EOF)
        snprintf(buf, cap, "the end");
    else
        snprintf(buf, cap, "'%.*s'", (int)(p->tok.len > 40 ? 40 : p->tok.len), p->s + p->tok.pos);
    return buf;
}

uint32_t nc_ffi__pool_add(nc_ffi_parser *p, const char *s, size_t len)
{
    nc_ffi_decls *d = p->d;
    if (len > POOL_MAX || d->pool_len > POOL_MAX - len - 1)
        FAIL(p, "declarations too large");
    if (d->pool_len + len + 1 > d->pool_cap) {
        size_t cap = d->pool_cap ? d->pool_cap : 256;
        while (cap < d->pool_len + len + 1)
            cap *= 2;
        char *np = realloc(d->pool, cap);
        if (!np)
            FAIL(p, "out of memory");
        d->pool = np;
        d->pool_cap = cap;
    }
    uint32_t off = (uint32_t)d->pool_len;
    memcpy(d->pool + off, s, len);
    d->pool[off + len] = '\0';
    d->pool_len += len + 1;
    return off;
}

uint32_t nc_ffi__pool_tok(nc_ffi_parser *p)
{
    return nc_ffi__pool_add(p, p->s + p->tok.pos, p->tok.len);
}

uint32_t nc_ffi__pool_spell(nc_ffi_parser *p, size_t from, size_t to)
{
    char buf[160];
    size_t n = 0;
    int space = 0;
    for (size_t i = from; i < to && i < p->n && n < sizeof buf - 1; i++) {
        char c = p->s[i];
        if (c == '/' && i + 1 < to && p->s[i + 1] == '*') {
            for (i += 2; i + 1 < to && !(p->s[i] == '*' && p->s[i + 1] == '/'); i++)
                ;
            i++;
            space = 1;
        } else if (c == '/' && i + 1 < to && p->s[i + 1] == '/') {
            while (i + 1 < to && p->s[i + 1] != '\n')
                i++;
            space = 1;
        } else if (is_space(c)) {
            space = 1;
        } else {
            if (space && n > 0)
                buf[n++] = ' ';
            if (n < sizeof buf - 1)
                buf[n++] = c;
            space = 0;
        }
    }
    return nc_ffi__pool_add(p, buf, n);
}

void nc_ffi__grow(nc_ffi_parser *p, void **arr, unsigned *cap, unsigned need,
                  size_t size, unsigned max, const char *what)
{
    if (need <= *cap)
        return;
    if (need > max)
        FAIL(p, "more than %u %s", max, what);
    unsigned nc = *cap ? *cap * 2 : 8;
    if (nc > max)
        nc = max;
    if (nc < need)
        nc = need;
    void *na = realloc(*arr, (size_t)nc * size);
    if (!na)
        FAIL(p, "out of memory");
    *arr = na;
    *cap = nc;
}

void nc_ffi__expect(nc_ffi_parser *p, char c, const char *what)
{
    char b[64];
    if (!nc_ffi__is_punct(p, c))
        FAIL(p, "expected %s, got %s", what, nc_ffi__tok_desc(p, b, sizeof b));
    nc_ffi__next(p);
}

/* Words that are never names. */
static const char *const keywords[] = {
    "typedef", "const", "volatile", "restrict", "__restrict", "extern", "static",
    "inline", "__extension__", "signed", "unsigned", "short", "long", "int", "char",
    "_Bool", "bool", "float", "double", "void", "struct", "enum", "union", NULL};

int nc_ffi__is_keyword(const nc_ffi_parser *p)
{
    for (const char *const *k = keywords; *k; k++)
        if (nc_ffi__is_table_word(p, *k))
            return 1;
    return 0;
}
