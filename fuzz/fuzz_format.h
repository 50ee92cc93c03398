/* fuzz_format.h: what the format-string target shares between its files:
 * fuzz_format.c (the modes, the argument lists, the entry point) and
 * fuzz_format_ref.c (the reference model, written from nocopy.h). */
#ifndef NC_FUZZ_FORMAT_H
#define NC_FUZZ_FORMAT_H

#include "fake_backend.h"

#define NARGS 64
#define MAX_ITEMS 64

enum mode {
    /* reading: the letters allowed, then what each one takes */
    S_I, S_UI, S_Z, S_F, S_OA, S_B, S_V, S_T, S_H,
    /* building */
    B_I, B_UV, B_F, B_OA, B_C, B_BUF, B_S, B_K, B_H,
    NMODES
};

#define SCAN_LETTERS "iIzfoabvht"
#define BUILD_LETTERS "iIfoacBskhv"

/* ---- per-input state ------------------------------------------------------- */

typedef union slot {
    int64_t i;
    uint64_t u;
    size_t z;
    double f;
    int o;
    nocopy_bytes b;
    nocopy_iovec v;
    nocopy_term t;
    void *obj;
} slot;

typedef struct fz_state {
    const char *fmt;
    enum mode mode;
    bool building;
    uintptr_t root;              /* the term read, or the pool for building */
    unsigned root_argno;         /* 0 when reading an argument index past argc */
    /* reading */
    slot slots[NARGS];
    const nocopy_handle_type *htypes[NARGS];
    /* building */
    int64_t ivals[NARGS];
    uint64_t uvals[NARGS];
    double fvals[NARGS];
    int ints[NARGS];
    const void *cptr[NARGS];
    size_t csize[NARGS];
    nocopy_buf *bufs[NARGS];
    const uint8_t *bufdata[NARGS];
    size_t bufsize[NARGS];
    nocopy_term sterm[NARGS];
    size_t off[NARGS], len[NARGS];
    nocopy_kept *kepts[NARGS];
    void *handles[NARGS];
    char letter[NARGS];          /* the letter that takes argument j */
    bool reached[NARGS];         /* the reference reached argument j's letter */
    unsigned nvalues;
} fz_state;

extern fz_state fz;

/* ---- the reference (fuzz_format_ref.c) --------------------------------------- */

enum { R_OK, R_FAIL, R_MALFORMED, R_INVALID };

typedef struct ref {
    const char *p;
    unsigned k;                                  /* next argument (value letter) */
    uintptr_t expect[NARGS];                     /* scan: the term each letter read */
} ref;

/* The outcome the reference expects of fz.fmt over fz.root (R_*); on R_OK,
 * r->expect holds the term each scan letter read. */
int ref_scan(ref *r);
int ref_build(ref *r);
/* Checks a built term against the format and the arguments. */
void check_built(ref *r, uintptr_t raw);

static inline fk_node *node(uintptr_t raw)
{
    return fk_get(raw);
}

#endif /* NC_FUZZ_FORMAT_H */
