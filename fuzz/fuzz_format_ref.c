/* fuzz_format_ref.c: the reference model of fuzz_format.c, written from
 * nocopy.h's description of format strings, not from nc_format.c: whether a
 * format is well formed, what each letter accepts, and what a build makes. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_format.h"

static bool blank(char ch)
{
    return ch == ' ' || ch == ',';
}

/* Items of the group opened just before p, closed by `close`: items are the
 * characters and groups at the group's own level; inner brackets only change
 * the level (their kinds are checked when that inner group is parsed). */
static int ref_group_items(const char *p, char close)
{
    int items = 0;
    int level = 0;
    while (*p) {
        char ch = *p++;
        if (blank(ch))
            continue;
        if (ch == '{' || ch == '[') {
            items += level == 0;
            level++;
        } else if (ch == '}' || ch == ']') {
            if (level-- == 0)
                return ch == close ? items : -1;
        } else {
            items += level == 0;
        }
    }
    return -1;
}

/* The documented grammar: term := letter | group; group := an opening
 * bracket, at most 64 terms, the matching closing bracket; blanks anywhere.
 * Reading knows '{' groups only, building '{' and '['. Nesting deeper than
 * NEST_MAX groups is refused by the implementation (an undocumented limit,
 * see docs/hardening-review.md) and taken as malformed here too. */
#define NEST_MAX 33

static bool ref_term_ok(const char **pp, int nest)
{
    const char *p = *pp;
    while (blank(*p))
        p++;
    char ch = *p;
    char close = ch == '{' ? '}' : (ch == '[' && fz.building) ? ']' : 0;
    if (close) {
        if (nest + 1 > NEST_MAX)
            return false;
        p++;
        int items = 0;
        for (;;) {
            while (blank(*p))
                p++;
            if (*p == close)
                break;
            if (++items > MAX_ITEMS || !ref_term_ok(&p, nest + 1))
                return false;
        }
        *pp = p + 1;
        return true;
    }
    if (ch == '\0' || !strchr(fz.building ? BUILD_LETTERS : SCAN_LETTERS "_", ch))
        return false;
    *pp = p + 1;
    return true;
}

static bool ref_format_ok(void)
{
    const char *p = fz.fmt;
    if (!p || !ref_term_ok(&p, 0))
        return false;
    while (blank(*p))
        p++;
    return *p == '\0';
}

static bool handle_open(fk_node *n)
{
    return !(atomic_load(&n->h->state) & (NC_HANDLE_CLOSED | NC_HANDLE_DESTROYED));
}

/* Does term `raw` satisfy scan letter `ch` (given its handle type)? */
static int ref_scan_value(char ch, uintptr_t raw, const nocopy_handle_type *ht)
{
    if (raw == 0)
        return ch == 't' ? R_OK : R_INVALID;
    fk_node *n = node(raw);
    switch (ch) {
    case 'i': return n->kind == FK_INT ? R_OK : R_FAIL;
    case 'I': case 'z':
        return (n->kind == FK_INT && n->i >= 0) || n->kind == FK_UINT ? R_OK : R_FAIL;
    case 'f': return n->kind == FK_FLOAT ? R_OK : R_FAIL;
    case 'o':
        return n->kind == FK_ATOM && n->atom_known &&
                       (n->atom == NOCOPY_ATOM_TRUE || n->atom == NOCOPY_ATOM_FALSE)
                   ? R_OK : R_FAIL;
    case 'a': return n->kind == FK_ATOM && n->atom_known ? R_OK : R_FAIL;
    case 'b': return n->kind == FK_BIN ? R_OK : R_FAIL;
    case 'v': {
        uint8_t *flat;
        size_t len;
        if (!fk_flatten_iodata(raw, &flat, &len))
            return R_FAIL;
        free(flat);
        return R_OK;
    }
    case 'h':
        return n->kind == FK_HANDLE && n->h->type == ht && handle_open(n) ? R_OK : R_FAIL;
    default:
        return R_OK;                             /* 't' */
    }
}

static int ref_scan_one(ref *r, uintptr_t raw)
{
    while (blank(*r->p))
        r->p++;
    char ch = *r->p;
    if (ch == '\0')
        return R_MALFORMED;
    r->p++;
    if (ch == '_')
        return R_OK;
    if (ch == '{') {
        int n = ref_group_items(r->p, '}');
        if (n < 0 || n > MAX_ITEMS)
            return R_MALFORMED;
        if (raw == 0)
            return R_INVALID;
        fk_node *t = node(raw);
        if (t->kind != FK_TUPLE || t->arity != (unsigned)n)
            return R_FAIL;
        for (int i = 0; i < n; i++) {
            int st = ref_scan_one(r, node(raw)->elems[i]);
            if (st != R_OK)
                return st;
        }
        while (blank(*r->p))
            r->p++;
        r->p++;
        return R_OK;
    }
    if (!strchr(SCAN_LETTERS, ch))
        return R_MALFORMED;
    unsigned j = r->k++;
    if (j >= NARGS)
        fk_die("harness: more value letters than arguments");
    fz.reached[j] = true;
    r->expect[j] = raw;
    return ref_scan_value(ch, raw, fz.htypes[j]);
}

int ref_scan(ref *r)
{
    r->k = 0;
    if (!ref_format_ok())
        return R_MALFORMED;
    r->p = fz.fmt;
    r->k = 0;
    int st = ref_scan_one(r, fz.root_argno ? fz.root : 0);
    if (st != R_OK)
        return st;
    while (blank(*r->p))
        r->p++;
    return *r->p ? R_MALFORMED : R_OK;
}

/* Building: is argument j, taken by letter ch, a valid value? */
static bool ref_build_valid(char ch, unsigned j)
{
    switch (ch) {
    case 'f': return isfinite(fz.fvals[j]);
    case 'a': {
        int a = fz.ints[j];
        return a < 0 ? a >= -NOCOPY_ATOM_BUILTIN_COUNT : a < FK_NATOMS;
    }
    case 'c': return fz.cptr[j] != NULL || fz.csize[j] == 0;
    case 'B': return fz.bufs[j] != NULL;
    case 's': {
        if (fz.sterm[j].raw == 0 || node(fz.sterm[j].raw)->kind != FK_BIN)
            return false;
        size_t size = node(fz.sterm[j].raw)->size;
        return fz.off[j] <= size && fz.len[j] <= size - fz.off[j];
    }
    case 'k': {
        if (!fz.kepts[j])
            return false;
        size_t size = nocopy_kept_bytes(fz.kepts[j]).size;
        return fz.off[j] <= size && fz.len[j] <= size - fz.off[j];
    }
    case 'h': return fz.handles[j] != NULL;
    case 'v': return fz.uvals[j] != 0;
    default: return true;                        /* i I o */
    }
}

static int ref_build_one(ref *r)
{
    while (blank(*r->p))
        r->p++;
    char ch = *r->p;
    if (ch == '\0')
        return R_MALFORMED;
    r->p++;
    if (ch == '{' || ch == '[') {
        int n = ref_group_items(r->p, ch == '{' ? '}' : ']');
        if (n < 0 || n > MAX_ITEMS)
            return R_MALFORMED;
        int all = R_OK;
        for (int i = 0; i < n; i++) {
            int st = ref_build_one(r);
            if (st == R_MALFORMED)
                return st;
            if (st != R_OK)
                all = R_FAIL;
        }
        while (blank(*r->p))
            r->p++;
        r->p++;
        return all;
    }
    if (!strchr(BUILD_LETTERS, ch))
        return R_MALFORMED;
    unsigned j = r->k++;
    if (j >= NARGS)
        fk_die("harness: more value letters than arguments");
    fz.reached[j] = true;
    return ref_build_valid(ch, j) ? R_OK : R_FAIL;
}

int ref_build(ref *r)
{
    r->k = 0;
    if (!ref_format_ok())
        return R_MALFORMED;
    r->p = fz.fmt;
    r->k = 0;
    int st = ref_build_one(r);
    if (st == R_MALFORMED)
        return st;
    while (blank(*r->p))
        r->p++;
    return *r->p ? R_MALFORMED : st;
}

/* Compares built term `raw` with the format from r->p (already known valid). */
void check_built(ref *r, uintptr_t raw)
{
    while (blank(*r->p))
        r->p++;
    char ch = *r->p++;
    fk_node *n = node(raw);
    if (ch == '{' || ch == '[') {
        int items = ref_group_items(r->p, ch == '{' ? '}' : ']');
        if (ch == '{') {
            FK_ASSERT(n->kind == FK_TUPLE && n->arity == (unsigned)items);
            for (int i = 0; i < items; i++)
                check_built(r, node(raw)->elems[i]);
        } else {
            uintptr_t cell = raw;
            for (int i = 0; i < items; i++) {
                FK_ASSERT(node(cell)->kind == FK_CONS);
                check_built(r, node(cell)->head);
                cell = node(cell)->tail;
            }
            FK_ASSERT(node(cell)->kind == FK_NIL);
        }
        while (blank(*r->p))
            r->p++;
        r->p++;
        return;
    }
    unsigned j = r->k++;
    n = node(raw);
    switch (ch) {
    case 'i': FK_ASSERT(n->kind == FK_INT && n->i == fz.ivals[j]); break;
    case 'I':
        FK_ASSERT((n->kind == FK_INT && (uint64_t)n->i == fz.uvals[j] && n->i >= 0) ||
                  (n->kind == FK_UINT && n->u == fz.uvals[j]));
        break;
    case 'v': FK_ASSERT(raw == fz.uvals[j]); break;
    case 'f': FK_ASSERT(n->kind == FK_FLOAT && memcmp(&n->f, &fz.fvals[j], sizeof n->f) == 0); break;
    case 'o':
        FK_ASSERT(n->kind == FK_ATOM &&
                  n->atom == (fz.ints[j] ? NOCOPY_ATOM_TRUE : NOCOPY_ATOM_FALSE));
        break;
    case 'a': FK_ASSERT(n->kind == FK_ATOM && n->atom == fz.ints[j]); break;
    case 'c':
        FK_ASSERT(n->kind == FK_BIN && n->size == fz.csize[j]);
        FK_ASSERT(n->size == 0 || memcmp(n->data, fz.cptr[j], n->size) == 0);
        break;
    case 'B':
        FK_ASSERT(n->kind == FK_BIN && n->data == fz.bufdata[j] && n->size == fz.bufsize[j]);
        break;
    case 's':
        FK_ASSERT(n->kind == FK_BIN && n->size == fz.len[j] &&
                  n->data == node(fz.sterm[j].raw)->data + fz.off[j]);
        break;
    case 'k':
        FK_ASSERT(n->kind == FK_BIN && n->size == fz.len[j] &&
                  n->data == nocopy_kept_bytes(fz.kepts[j]).data + fz.off[j]);
        break;
    case 'h': FK_ASSERT(n->kind == FK_HANDLE && NC_HANDLE_OBJ(n->h) == fz.handles[j]); break;
    default: fk_die("harness: unexpected letter");
    }
}
