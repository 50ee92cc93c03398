/* fake_terms.c: synthetic terms for the fake backend (fake_backend.h): the
 * parser that turns fuzz bytes into terms, and the reference iodata flattening
 * the iodata walker is compared with. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"

#define FK_MAX_DEPTH 48          /* recursion of the parser itself */

/* Every binary gets its own block of exactly `size` bytes (never NULL). */
static uint8_t *exact_alloc(size_t size)
{
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        fk_die("out of memory in the harness");
    return p;
}

/* ---- input ---------------------------------------------------------------- */

uint8_t fk_u8(fk_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

uint16_t fk_u16(fk_in *in)
{
    uint16_t v = fk_u8(in);
    return (uint16_t)(v | (uint16_t)fk_u8(in) << 8);
}

uint64_t fk_u64(fk_in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)fk_u8(in) << (8 * i);
    return v;
}

/* Binary contents: taken from the input while it lasts, then a pattern, so a
 * 4 KB binary costs the fuzzer two bytes. */
static uintptr_t parse_bin(fk_in *in, size_t size)
{
    uint8_t *p = exact_alloc(size);
    size_t take = size < in->n ? size : in->n;
    if (take)
        memcpy(p, in->p, take);
    in->p += take;
    in->n -= take;
    for (size_t i = take; i < size; i++)
        p[i] = (uint8_t)(i * 131u + 7u);
    uintptr_t r = fk_new(FK_BIN);
    fk_get(r)->data = p;
    fk_get(r)->size = size;
    fk_get(r)->owns_data = true;
    return r;
}

static uintptr_t parse(fk_in *in, unsigned depth, bool big);

/* `big` allows the ops whose logical size is not paid for by input bytes
 * (4 KB binaries, repeated list elements, deep nests). They are refused
 * below a repeated element, which the walkers visit once per repetition.
 * Repetitions count towards fk.max_nodes too: a 20000-element list of a
 * 50-node element, a 75-byte input, used to cost a million visits per walk
 * (100 ms), and the fuzzer spent most of its time on such inputs. */
static uintptr_t parse_list(fk_in *in, unsigned depth, size_t count, bool repeat, bool big)
{
    if (fk.logical >= fk.max_nodes)
        count = 0;
    else if (count > fk.max_nodes - fk.logical)
        count = fk.max_nodes - fk.logical;
    uintptr_t *heads = malloc((count ? count : 1) * sizeof *heads);
    if (!heads)
        fk_die("out of memory in the harness");
    size_t before = fk.logical;
    uintptr_t first = count ? parse(in, depth + 1, big && !repeat) : 0;
    if (repeat && count > 1) {
        size_t element = fk.logical - before;          /* at least 1 */
        size_t room = fk.logical < fk.max_nodes ? fk.max_nodes - fk.logical : 0;
        if (count - 1 > room / element)
            count = 1 + room / element;
        fk.logical += (count - 1) * element;
    }
    for (size_t i = 0; i < count; i++)
        heads[i] = repeat || i == 0 ? first : parse(in, depth + 1, big);
    uintptr_t tail = fk_u8(in) & 1 ? parse(in, depth + 1, big) : fk_new(FK_NIL);
    for (size_t i = count; i-- > 0;) {
        uintptr_t cell = fk_new(FK_CONS);
        fk_get(cell)->head = heads[i];
        fk_get(cell)->tail = tail;
        tail = cell;
    }
    free(heads);
    return tail;
}

/* An iodata-flavoured element: most often valid, sometimes one off. */
static uintptr_t parse_io_elem(fk_in *in, unsigned depth, bool big)
{
    uint8_t b = fk_u8(in);
    switch (b % 8) {
    case 0: case 1: case 2: return fk_new_int(fk_u8(in));
    case 3: return parse_bin(in, fk_u8(in) % 80);
    case 4: return parse_bin(in, 250 + fk_u8(in) % 11);
    case 5: return parse(in, depth + 1, big);
    case 6: return fk_new_int(b & 0x80 ? 256 : -1);
    default: {
        size_t n = fk_u8(in) % 6;
        uintptr_t tail = fk_u8(in) & 1 ? parse_bin(in, fk_u8(in) % 8) : fk_new(FK_NIL);
        for (size_t i = 0; i < n; i++) {
            uintptr_t head = parse_io_elem(in, depth + 1, big);
            uintptr_t cell = fk_new(FK_CONS);
            fk_get(cell)->head = head;
            fk_get(cell)->tail = tail;
            tail = cell;
        }
        return tail;
    }
    }
}

static uintptr_t parse(fk_in *in, unsigned depth, bool big)
{
    if (depth > FK_MAX_DEPTH || fk.logical > fk.max_nodes)
        return fk_new(FK_NIL);
    uint8_t op = fk_u8(in);
    uintptr_t r;
    if (!big && (op % 20 == 9 || op % 20 == 15 || op % 20 == 18))
        op = 6;
    switch (op % 20) {
    case 0: return fk_new_int((int8_t)fk_u8(in));
    case 1: return fk_new_int((int64_t)fk_u64(in));
    case 2:
        r = fk_new(FK_UINT);
        fk_get(r)->u = fk_u64(in) | (UINT64_C(1) << 63);
        return r;
    case 3: return fk_new(FK_BIG);
    case 4: {
        uint64_t bits = fk_u64(in);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            d = (double)(int64_t)bits;
        r = fk_new(FK_FLOAT);
        fk_get(r)->f = d;
        return r;
    }
    case 5: {
        uint8_t b = fk_u8(in);
        r = fk_new(FK_ATOM);
        fk_node *n = fk_get(r);
        unsigned k = b % 24;
        if (k < NOCOPY_ATOM_BUILTIN_COUNT) {
            n->atom = -(int)k - 1;
            n->atom_known = true;
        } else if (k < NOCOPY_ATOM_BUILTIN_COUNT + FK_NATOMS) {
            n->atom = (int)(k - NOCOPY_ATOM_BUILTIN_COUNT);
            n->atom_known = true;
        }
        return r;
    }
    case 6: case 7: return parse_bin(in, fk_u8(in) % 80);
    case 8: return parse_bin(in, 250 + fk_u8(in) % 11);
    case 9: return parse_bin(in, fk_u16(in) % 4097);
    case 10: return fk_new(FK_BITS);
    case 11: {
        uint8_t b = fk_u8(in);
        unsigned arity = b & 0x80 ? b % 70 : b % 6;
        uintptr_t *el = malloc((arity ? arity : 1) * sizeof *el);
        if (!el)
            fk_die("out of memory in the harness");
        for (unsigned i = 0; i < arity; i++)
            el[i] = parse(in, depth + 1, big);
        r = fk_new(FK_TUPLE);
        fk_get(r)->elems = el;
        fk_get(r)->arity = arity;
        return r;
    }
    case 12: {
        uintptr_t h = parse(in, depth + 1, big);
        uintptr_t t = parse(in, depth + 1, big);
        r = fk_new(FK_CONS);
        fk_get(r)->head = h;
        fk_get(r)->tail = t;
        return r;
    }
    case 13: return fk_new(FK_NIL);
    case 14: return parse_list(in, depth, fk_u8(in) % 24, false, big);
    case 15: {
        /* Long lists are cheap in input bytes but cost a walk each: keep most
         * of them short so the fuzzer spends its time on shapes. */
        uint16_t n = fk_u16(in);
        return parse_list(in, depth, (n & 0xFFF0) == 0x7A00 ? 20000u - n % 16 : n % 300u, true, big);
    }
    case 16: {
        uint8_t b = fk_u8(in);
        return fk_new_handle(b & 1 ? &fk_type_b : &fk_type_a, (b & 6) == 6);
    }
    case 17: return fk_new(FK_OTHER);
    case 18: {
        /* A deep nest, [[[...X...]]] or {{{...X...}}}, built without recursion. */
        uint16_t l = fk_u16(in);
        unsigned levels = (l & 0xFFF0) == 0x5C00 ? 70000u - l % 16 : l % 300u;
        bool tuple = fk_u8(in) & 1;
        uintptr_t cur = parse(in, depth + 1, big);
        for (unsigned i = 0; i < levels && fk.logical < fk.max_nodes; i++) {
            if (tuple) {
                uintptr_t *el = malloc(sizeof *el);
                if (!el)
                    fk_die("out of memory in the harness");
                el[0] = cur;
                r = fk_new(FK_TUPLE);
                fk_get(r)->elems = el;
                fk_get(r)->arity = 1;
            } else {
                uintptr_t nil = fk_new(FK_NIL);
                r = fk_new(FK_CONS);
                fk_get(r)->head = cur;
                fk_get(r)->tail = nil;
            }
            cur = r;
        }
        return cur;
    }
    default:
        return parse_io_elem(in, depth, big);
    }
}

uintptr_t fk_parse_term(fk_in *in)
{
    return parse(in, 0, true);
}

/* ---- reference iodata flattening ------------------------------------------ */

/* Erlang's definition: iodata is a binary or an iolist; an iolist is [] or a
 * cell whose head is a byte (0..255), a binary or an iolist, and whose tail is
 * an iolist or a binary. Heads come before tails. Explicit stack: the input
 * may be nested tens of thousands deep. */
int fk_flatten_iodata(uintptr_t raw, uint8_t **out, size_t *size)
{
    size_t cap = 64, len = 0, sp = 0, scap = 64;
    uint8_t *buf = malloc(cap);
    struct item { uintptr_t raw; bool elem; } *stack = malloc(scap * sizeof *stack);
    if (!buf || !stack)
        fk_die("out of memory in the harness");
    int ok = 1;
    stack[sp++] = (struct item){raw, false};
    while (sp > 0 && ok) {
        struct item it = stack[--sp];
        fk_node *n = fk_get(it.raw);
        const uint8_t *src = NULL;
        size_t add = 0;
        uint8_t byte;
        switch (n->kind) {
        case FK_BIN:
            src = n->data;
            add = n->size;
            break;
        case FK_NIL:
            break;
        case FK_INT:
            if (!it.elem || n->i < 0 || n->i > 255) {
                ok = 0;
                break;
            }
            byte = (uint8_t)n->i;
            src = &byte;
            add = 1;
            break;
        case FK_CONS:
            if (sp + 2 > scap) {
                scap *= 2;
                stack = realloc(stack, scap * sizeof *stack);
                if (!stack)
                    fk_die("out of memory in the harness");
            }
            stack[sp++] = (struct item){n->tail, false};
            stack[sp++] = (struct item){n->head, true};
            break;
        default:
            ok = 0;
        }
        if (add) {
            while (len + add > cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                if (!buf)
                    fk_die("out of memory in the harness");
            }
            memcpy(buf + len, src, add);
            len += add;
        }
    }
    free(stack);
    if (!ok) {
        free(buf);
        return 0;
    }
    *out = buf;
    *size = len;
    return 1;
}
