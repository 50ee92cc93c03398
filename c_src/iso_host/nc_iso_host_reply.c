/* nc_iso_host_reply.c: a REPLY from the child, decoded into the caller's
 * message. The child is hostile: every length is checked against the bytes
 * that remain before it is used, counts are charged one byte per element
 * before anything is allocated for them (so memory is linear in the
 * message, at most NC_ISO_MSG_MAX terms), nesting is walked with an explicit
 * stack, floats must be finite, atoms are indices into tables made by the VM
 * (the child never makes an atom), binaries name region bytes that are
 * checked (nc_iso_host_blocks.c), and the message must be consumed exactly.
 * No pointer is ever read from the child. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nc_iso_host.h"

typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static int get(reader *r, void *out, size_t n)
{
    if (n > r->left)
        return -1;
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

typedef struct frame {
    uint8_t kind;                      /* 'T' or 'L' */
    uint32_t n, done;
    size_t base;                       /* index of its first element */
} frame;

static ERL_NIF_TERM make_atom(nc_host_iso *iso, int32_t a)
{
    const nc_host_atoms *am = &nocopy__host_am;
    switch (a) {
    case -1: return am->ok;
    case -2: return am->error;
    case -3: return am->true_;
    case -4: return am->false_;
    case -5: return am->undefined;
    default:
        return a >= 0 && (size_t)a < iso->natoms ? iso->atoms[a] : 0;
    }
}

static ERL_NIF_TERM input_binary(ErlNifEnv *env, nc_host_inc *inc, uint64_t block, uint64_t off,
                                 uint64_t len)
{
    ERL_NIF_TERM t = 0;
    enif_mutex_lock(inc->mu);
    nc_host_block *b = nocopy__host_block_named(inc, block);
    if (b && off <= b->len && len <= b->len - off)
        t = enif_make_resource_binary(env, b, inc->in.base + b->off + off, len);
    enif_mutex_unlock(inc->mu);
    return t;
}

/* One leaf term, or 0 (why set). */
static ERL_NIF_TERM leaf(ErlNifEnv *env, nc_host_inc *inc, nc_host_call *call, uint8_t tag,
                        reader *r, const char **why)
{
    switch (tag) {
    case 'i': {
        int64_t v;
        if (get(r, &v, 8))
            break;
        return enif_make_int64(env, v);
    }
    case 'u': {
        uint64_t v;
        if (get(r, &v, 8))
            break;
        return enif_make_uint64(env, v);
    }
    case 'f': {
        double v;
        if (get(r, &v, 8))
            break;
        if (!isfinite(v)) {
            *why = "a float that is not finite";
            return 0;
        }
        return enif_make_double(env, v);
    }
    case 'a': {
        int32_t a;
        if (get(r, &a, 4))
            break;
        ERL_NIF_TERM t = make_atom(call->iso, a);
        if (!t)
            *why = "an atom index out of the module's table";
        return t;
    }
    case 'h': {
        uint64_t id;
        if (get(r, &id, 8))
            break;
        return enif_make_tuple3(env, nocopy__host_am.handle_tag,
                                enif_make_resource(env, call->iso), enif_make_uint64(env, id));
    }
    case 'b': {
        uint32_t n;
        ERL_NIF_TERM t;
        if (get(r, &n, 4) || n > r->left)
            break;
        unsigned char *p = enif_make_new_binary(env, n, &t);
        if (!p) {
            *why = "no memory for a binary";
            return 0;
        }
        memcpy(p, r->p, n);
        r->p += n;
        r->left -= n;
        return t;
    }
    case 'B': {
        uint8_t region;
        uint64_t block, off, len;
        if (get(r, &region, 1) || get(r, &block, 8) || get(r, &off, 8) || get(r, &len, 8))
            break;
        ERL_NIF_TERM t = region == NC_ISO_REGION_OUTPUT
                             ? nocopy__host_out_binary(env, inc, block, off, len)
                         : region == NC_ISO_REGION_INPUT ? input_binary(env, inc, block, off, len)
                                                         : 0;
        if (!t)
            *why = "a binary outside the blocks it may name";
        return t;
    }
    default:
        *why = "an unknown term tag";
        return 0;
    }
    *why = "a term cut short";
    return 0;
}

/* Makes room for one more entry of size `size` in *v (n used of *cap). */
static int room(void **v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *nv = realloc(*v, ncap * size);
    if (!nv)
        return -1;
    *v = nv;
    *cap = ncap;
    return 0;
}

void nocopy__host_stacks_free(nc_host_stacks *st)
{
    free(st->terms);
    free(st->frames);
    *st = (nc_host_stacks){0};
}

static ERL_NIF_TERM decode_value(ErlNifEnv *env, nc_host_inc *inc, nc_host_call *call, reader *r,
                                 nc_host_stacks *st, const char **why)
{
    /* The stacks grow with the terms decoded (each takes a byte at least),
     * never with a count the child claims. They are the caller's (kept
     * between calls: no allocation per reply) or this decode's own. */
    nc_host_stacks own = {0};
    if (!st)
        st = &own;
    ERL_NIF_TERM *terms = st->terms;
    frame *frames = st->frames;
    size_t nt = 0, nf = 0;
    ERL_NIF_TERM result = 0;
    for (;;) {
        /* Close every frame whose elements are all in. */
        while (nf > 0 && frames[nf - 1].done == frames[nf - 1].n) {
            frame *f = &frames[--nf];
            ERL_NIF_TERM t = f->kind == 'T'
                                 ? enif_make_tuple_from_array(env, terms + f->base, f->n)
                                 : enif_make_list_from_array(env, terms + f->base, f->n);
            nt = f->base;
            terms[nt++] = t;
            if (nf > 0)
                frames[nf - 1].done++;
        }
        if (nf == 0 && nt == 1) {
            result = terms[0];
            break;
        }
        uint8_t tag;
        if (get(r, &tag, 1)) {
            *why = "a term cut short";
            break;
        }
        if (tag == 'T' || tag == 'L') {
            uint32_t n;
            if (get(r, &n, 4) || n > r->left) {
                *why = "a count larger than the bytes left";
                break;
            }
            /* The frame's term will go at terms[nt] when it closes (at once,
             * if it is empty): room for it now. */
            if (room(&st->frames, nf, &st->fcap, sizeof *frames) != 0 ||
                room(&st->terms, nt, &st->tcap, sizeof *terms) != 0) {
                *why = "no memory";
                break;
            }
            terms = st->terms;
            frames = st->frames;
            frames[nf++] = (frame){.kind = tag, .n = n, .done = 0, .base = nt};
            continue;
        }
        ERL_NIF_TERM t = leaf(env, inc, call, tag, r, why);
        if (!t)
            break;
        if (room(&st->terms, nt, &st->tcap, sizeof *terms) != 0) {
            *why = "no memory";
            break;
        }
        terms = st->terms;
        terms[nt++] = t;
        if (nf > 0)
            frames[nf - 1].done++;
    }
    nocopy__host_stacks_free(&own);
    return result;
}

ERL_NIF_TERM nocopy__host_error_term(ErlNifEnv *env, nc_host_call *call, ERL_NIF_TERM reason,
                                     const char *text)
{
    ERL_NIF_TERM bin;
    size_t n = strlen(text);
    memcpy(enif_make_new_binary(env, n, &bin), text, n);
    ERL_NIF_TERM err = enif_make_tuple3(env, nocopy__host_am.error_tag, reason,
                                        enif_make_tuple2(env, nocopy__host_am.general, bin));
    return enif_make_tuple3(env, nocopy__host_am.nocopy_reply, enif_make_int64(env, call->tag),
                            err);
}

/* A spilled reply: its body in an output block the child handed over. The
 * child may still write those bytes while they are read here: every field
 * is read once, into this process, and checked, so changing bytes give a
 * wrong term or an error, never a bad access. The block is released once
 * decoded. */
static ERL_NIF_TERM spilled(ErlNifEnv *env, nc_host_inc *inc, nc_host_call *call, reader *r,
                            nc_host_stacks *st, const char **why)
{
    uint64_t block, len;
    *why = "a malformed spilled reply";
    if (get(r, &block, 8) || get(r, &len, 8) || r->left != 0 || len > NC_ISO_MAX_REPLY ||
        block > inc->out.size || len > inc->out.size - block)
        return 0;
    reader in = {.p = inc->out.base + block, .left = len};
    uint8_t outcome;
    ERL_NIF_TERM t = 0;
    if (!get(&in, &outcome, 1) && outcome == NC_ISO_OUT_OK) {
        ERL_NIF_TERM v = decode_value(env, inc, call, &in, st, why);
        if (v && in.left == 0)
            t = enif_make_tuple2(env, nocopy__host_am.ok, v);
        else if (v)
            *why = "bytes after the outcome";
    }
    nocopy__host_inc_release_out(inc, block);
    return t;
}

ERL_NIF_TERM nocopy__host_reply_term(ErlNifEnv *env, nc_host_inc *inc, nc_host_call *call,
                                     const uint8_t *body, size_t len, nc_host_stacks *st,
                                     const char **why)
{
    reader r = {.p = body, .left = len};
    uint8_t outcome;
    ERL_NIF_TERM inner;
    *why = "an empty reply";
    if (get(&r, &outcome, 1))
        return 0;
    if (outcome == NC_ISO_OUT_SPILLED) {
        inner = spilled(env, inc, call, &r, st, why);
        if (!inner)
            return 0;
    } else if (outcome == NC_ISO_OUT_OK) {
        ERL_NIF_TERM v = decode_value(env, inc, call, &r, st, why);
        if (!v)
            return 0;
        inner = enif_make_tuple2(env, nocopy__host_am.ok, v);
    } else if (outcome == NC_ISO_OUT_ERROR) {
        uint32_t reason, argno;
        uint16_t tlen;
        ERL_NIF_TERM text;
        *why = "a malformed error";
        if (get(&r, &reason, 4) || get(&r, &argno, 4) || get(&r, &tlen, 2) || tlen > r.left ||
            reason >= nocopy__host_am.nreasons)
            return 0;
        memcpy(enif_make_new_binary(env, tlen, &text), r.p, tlen);
        r.p += tlen;
        r.left -= tlen;
        ERL_NIF_TERM where = argno ? enif_make_uint(env, argno) : nocopy__host_am.general;
        inner = enif_make_tuple3(env, nocopy__host_am.error_tag,
                                 nocopy__host_am.reasons[reason],
                                 enif_make_tuple2(env, where, text));
    } else {
        *why = "an unknown outcome";
        return 0;
    }
    if (r.left != 0) {
        *why = "bytes after the outcome";
        return 0;
    }
    return enif_make_tuple3(env, nocopy__host_am.nocopy_reply, enif_make_int64(env, call->tag),
                            inner);
}
