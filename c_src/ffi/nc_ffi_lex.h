/* nc_ffi_lex.h: the parser's state, its tokens and the helpers the grammar
 * (nc_ffi_parse.c) uses from the lexer (nc_ffi_lex.c). Internal to the
 * parser. */
#ifndef NC_FFI_LEX_H
#define NC_FFI_LEX_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "nc_ffi_decl.h"

typedef enum tok_kind { T_EOF, T_IDENT, T_INT, T_PUNCT, T_ELLIPSIS, T_SHL, T_SHR } tok_kind;

typedef struct nc_ffi_token {
    tok_kind kind;
    size_t pos, len;              /* the token's bytes in the text */
    uint64_t value;               /* T_INT */
    char punct;                   /* T_PUNCT */
} nc_ffi_token;

/* One parse. Errors leave through `fail` (longjmp to nc_ffi_parse, which frees
 * what was made): the grammar never checks a return code. */
typedef struct nc_ffi_parser {
    const char *s;
    size_t n;
    size_t pos;                   /* the lexer's next byte */
    nc_ffi_token tok;             /* the current token */
    size_t prev_end;              /* end of the token before it */
    nc_ffi_decls *d;
    nc_ffi_error *err;
    jmp_buf fail;
    unsigned depth;               /* nesting, for NC_FFI_MAX_DEPTH */
} nc_ffi_parser;

/* Refuses the text: `at` is a byte offset, the message printf-style. */
_Noreturn void nc_ffi__fail_at(nc_ffi_parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define FAIL(p, ...) nc_ffi__fail_at((p), (p)->tok.pos, __VA_ARGS__)

void nc_ffi__next(nc_ffi_parser *p);                 /* reads the next token */
int nc_ffi__is_punct(const nc_ffi_parser *p, char c);
/* The current token is the word w. Inline: w is usually a literal, whose
 * length the compiler knows, and the parser asks this of every token many
 * times. */
static inline int nc_ffi__is_word(const nc_ffi_parser *p, const char *w)
{
    size_t n = __builtin_strlen(w);
    return p->tok.kind == T_IDENT && p->tok.len == n && __builtin_memcmp(p->s + p->tok.pos, w, n) == 0;
}
/* The same for a word from a table: its first byte is compared before any
 * length is taken (most table entries differ there). */
static inline int nc_ffi__is_table_word(const nc_ffi_parser *p, const char *w)
{
    return p->tok.kind == T_IDENT && p->s[p->tok.pos] == w[0] && nc_ffi__is_word(p, w);
}
int nc_ffi__is_keyword(const nc_ffi_parser *p);      /* a word that is never a name */
void nc_ffi__expect(nc_ffi_parser *p, char c, const char *what);  /* that punctuation, or fail */
/* `enum [tag] [{...}]`, from the word enum (nc_ffi_enum.c). */
nc_ffi_type nc_ffi__enum_spec(nc_ffi_parser *p);
/* The current token, described for a message: "'foo'", "the end". */
const char *nc_ffi__tok_desc(nc_ffi_parser *p, char *buf, size_t cap);

/* The pool: strings interned by offset. */
uint32_t nc_ffi__pool_add(nc_ffi_parser *p, const char *s, size_t len);
uint32_t nc_ffi__pool_tok(nc_ffi_parser *p);        /* the current token's text */
/* The text of [from, to), comments dropped and spaces collapsed. */
uint32_t nc_ffi__pool_spell(nc_ffi_parser *p, size_t from, size_t to);
/* Grows an array of `*cap` elements of `size` bytes to hold `need`, at most
 * `max`: fails the parse (naming `what`) above it or out of memory. */
void nc_ffi__grow(nc_ffi_parser *p, void **arr, unsigned *cap, unsigned need,
                  size_t size, unsigned max, const char *what);

#endif /* NC_FFI_LEX_H */
