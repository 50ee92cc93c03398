/* nc_zlib.c: zlib's deflate and inflate for Erlang, written once against
 * nocopy.h and run through either backend (module nc_zlib: NIF; nc_zlib_drv:
 * linked-in driver).
 *
 *   compress(Data[, Level]) -> binary()            zlib format (RFC 1950)
 *   gzip(Data[, Level]) -> binary()                gzip format (RFC 1952)
 *   uncompress(Data[, SizeHint]) -> {ok, [binary()]} | {error, Reason}
 *   gunzip(Data) -> {ok, [binary()]} | {error, Reason}
 *   deflate_init(Level[, Format]) -> Z       deflate(Z, Data, Flush) -> [binary()]
 *   inflate_init([Format]) -> Z              inflate(Z, Data) -> {continue | finished, [binary()]}
 *                                                                | {error, Reason}
 *   deflate_end(Z) -> ok                     inflate_end(Z) -> ok
 *
 * Data is iodata everywhere. It is read as nocopy_arg_iovec's vector of
 * pieces, each piece fed to zlib where Erlang keeps it: nothing is flattened.
 *
 * Output, allocated once and never copied:
 * - compress/gzip know a bound before they start (deflateBound), so the result
 *   is one buffer of that size, written by deflate in one pass and handed over
 *   with nocopy_make_buf. The bytes past what deflate wrote are cut off
 *   without copying the data (hand_over(): nocopy_buf_resize for a large cut,
 *   which OTP's allocator does in place for large blocks; a prefix of the
 *   buffer through nocopy_buf_share + nocopy_make_kept for a small one, which
 *   that allocator may do by moving the block). The tests check the address of
 *   the result against where zlib wrote it.
 * - inflate cannot know the size of its output. Rather than growing one buffer
 *   (every realloc that moves copies everything written so far) or
 *   decompressing twice, it writes into a list of chunks, each allocated once
 *   and filled by inflate in place: the first sized by an estimate, the next
 *   ones by the ratio seen so far, the last one cut as above. The result is a
 *   list of binaries (iodata, as OTP's zlib:inflate/2 returns), usually of one
 *   or two. It is one binary when the estimate is right: uncompress/2 takes the
 *   expected size as a hint, and gunzip uses the size a gzip trailer records.
 *   iolist_to_binary/1 flattens it if a caller needs one binary (that copy is
 *   then the caller's choice).
 * - streaming deflate writes chunks the same way, the first one sized by
 *   deflateBound for the new input plus what zlib may still hold.
 *
 * Errors. Bad input data is a value, {error, Reason}, with Reason from a closed
 * set: data_error (not a valid stream: bad header, bad block, bad checksum),
 * truncated (one-shot only: the input ends before the stream does),
 * trailing_data (bytes after the end of a zlib or raw stream),
 * need_dictionary (the stream needs a preset dictionary, unsupported here).
 * Misuse raises badarg naming the argument: wrong types, a level outside
 * 0..9, an unknown flush or format, a closed stream, a stream of the other
 * kind, a deflate stream used after finish, a stream used by two calls at
 * once. Out of memory raises enomem.
 *
 * Streams. A stream is a handle holding a z_stream; its destructor calls
 * deflateEnd/inflateEnd, exactly once (nocopy runs it once), when the last
 * reference is gone (NIF) or the port closes (driver), or at deflate_end/1 /
 * inflate_end/1 once no call uses it. A z_stream must not be used by two
 * threads at once, and two Erlang processes can call with the same handle at
 * the same time (the NIF runs them on two schedulers; the driver runs one
 * inline and one on a worker): each call takes the stream with an atomic flag
 * and a second, concurrent call is refused with badarg rather than blocking
 * its scheduler behind the first.
 *
 * Formats of inflate_init/1: zlib, gzip, raw (no header), auto (zlib or gzip,
 * detected). gzip and auto accept concatenated members, as gunzip(1) does,
 * whether the next member comes in the same call or a later one; zlib and raw
 * streams end at their end, and any byte after it is trailing_data.
 *
 * Demo instrumentation (not part of the zlib API, separate at the end):
 * compress_traced/2 and uncompress_traced/1 also report where C wrote the
 * result, where the handed-over bytes live and the name of the thread that
 * ran the call; address_of/1 gives the address of any binary as C sees it;
 * stream_count/0 the number of z_streams alive in this library. The tests
 * use them to prove that nothing was copied, where calls ran, and that every
 * stream is ended exactly once. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "nocopy.h"

/* ---- tuning ----------------------------------------------------------------- */

/* Calls run on a normal scheduler up to this many bytes of binary arguments
 * and move to a dirty CPU scheduler (driver: a worker thread) above it.
 * Measured on the reference 2-core machine at the default level: deflate runs
 * at 8 MB/s (English words drawn from 120, the slowest data tried) to
 * 160 MB/s (long repeats); inflate writes 180 MB/s to 1.5 GB/s, and text that
 * compresses 130:1 turns 4 KiB of input into half a megabyte. 4 KiB keeps a
 * call under about 0.5 ms in all of these, half the 1 ms a NIF may hold a
 * scheduler; the move itself costs about 5 us here, 1-10 % of a compress call
 * at the threshold (more for inflating stored, incompressible data, which is
 * fast). Data compressed more than 130:1 (deflate allows 1032:1) can still
 * hold a scheduler for a few ms: a threshold on the input cannot see that.
 * Its Erlang twin is ?DIRTY_ABOVE in test/nc_zlib_tests.erl. */
#define ZL_DIRTY_ABOVE (4u * 1024u)

/* nocopy_consume() charges the time slice as if each byte took about 1 ns
 * (1% per 10 KB); zlib is slower than that, so the byte counts are scaled:
 * deflate ~30 ns per input byte, inflate ~3 ns per output byte. */
#define DEFLATE_COST 32u
#define INFLATE_COST 4u

/* deflate's largest compression ratio is a little over 1032:1 (a 258-byte
 * match costs at least 2 bits), so a valid stream of n bytes inflates to at
 * most about 1032 n bytes. Estimates are capped by it, so a forged size
 * (a gzip trailer, a hint) cannot make a small input allocate gigabytes. */
#define MAX_RATIO 1032u

/* The first inflate chunk when nothing better is known: 8 times the input
 * (text and JSON usually compress 3 to 10 times; a guess too large costs
 * address space until the cut, which is in place for large chunks), or the
 * input's size when the data starts with a stored block (guess_output()),
 * within these bounds. */
#define GUESS_RATIO 8u
#define FIRST_CHUNK_MIN ((size_t)1024)
#define FIRST_CHUNK_MAX ((size_t)64 << 20)
/* Further chunks: at least 64 KiB, at most 1 GiB; streaming deflate doubles
 * them, inflate sizes them by the ratio so far (next_by_ratio). */
#define NEXT_CHUNK_MIN ((size_t)64 << 10)
#define CHUNK_MAX ((size_t)1 << 30)

/* What a deflate stream may still hold from earlier calls made with flush
 * none, once emitted: at most lit_bufsize (16384 at the default memLevel 8)
 * symbols of at most 48 bits each, plus a block header, plus the lookahead. */
#define HELD_OUT_MAX ((size_t)128 << 10)
/* Flush markers, block ends and the trailer: a few bytes. */
#define FLUSH_SLACK 64u

#define WBITS_ZLIB 15
#define WBITS_GZIP (15 + 16)
#define WBITS_RAW (-15)
#define WBITS_AUTO (15 + 32)
#define MEM_LEVEL 8

/* ---- atoms ------------------------------------------------------------------- */

enum {
    AM_DEFAULT, AM_NONE, AM_BEST_SPEED, AM_BEST_COMPRESSION,
    AM_SYNC, AM_FULL, AM_FINISH,
    AM_ZLIB, AM_GZIP, AM_RAW, AM_AUTO,
    AM_DATA_ERROR, AM_TRUNCATED, AM_TRAILING_DATA, AM_NEED_DICTIONARY,
    AM_CONTINUE, AM_FINISHED
};
static const char *const zl_atoms[] = {
    "default", "none", "best_speed", "best_compression",
    "sync", "full", "finish",
    "zlib", "gzip", "raw", "auto",
    "data_error", "truncated", "trailing_data", "need_dictionary",
    "continue", "finished", NULL};

#define LEVEL_EXPECTED "a compression level: 0..9, none, default, best_speed or best_compression"
#define FLUSH_EXPECTED "none, sync, full or finish"
#define FORMAT_EXPECTED "zlib, gzip or raw"
#define INFLATE_FORMAT_EXPECTED "zlib, gzip, raw or auto"

/* ---- streams ------------------------------------------------------------------ */

typedef struct zl_stream {
    z_stream strm;          /* zlib keeps a pointer to it: the handle object
                               never moves, so neither does the z_stream */
    atomic_int busy;        /* 1 while a call is using strm */
    int inited;             /* deflateInit2/inflateInit2 succeeded: end it */
    int multi;              /* inflate: gzip members may follow one another */
    int wbits;              /* inflate: the format's window bits */
    int at_end;             /* inflate: the (last) stream ended */
    int dead;               /* inflate: a data error; every later call says so */
    int finished;           /* deflate: finish was done; no more calls */
    size_t held;            /* deflate: bytes fed since the last flush */
} zl_stream;

/* z_streams alive in this library (a NIF build and a driver build each have
 * their own): +1 at a successful init, -1 in the destructor. */
static atomic_long live_streams;

static void deflate_dtor(void *obj)
{
    zl_stream *z = obj;
    if (z->inited) {
        deflateEnd(&z->strm);
        atomic_fetch_sub(&live_streams, 1);
    }
}

static void inflate_dtor(void *obj)
{
    zl_stream *z = obj;
    if (z->inited) {
        inflateEnd(&z->strm);
        atomic_fetch_sub(&live_streams, 1);
    }
}

static const nocopy_handle_type deflate_type = {
    .name = "zlib deflate stream", .size = sizeof(zl_stream), .dtor = deflate_dtor};
static const nocopy_handle_type inflate_type = {
    .name = "zlib inflate stream", .size = sizeof(zl_stream), .dtor = inflate_dtor};

/* ---- small helpers -------------------------------------------------------------- */

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t mul_sat(size_t a, size_t b)
{
    return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

static size_t clamp(size_t v, size_t lo, size_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static uInt uint_room(size_t n)
{
    return n > UINT_MAX ? UINT_MAX : (uInt)n;
}

/* ---- arguments ----------------------------------------------------------------- */

/* Level: 0..9 or one of zlib's named levels. */
static int arg_level(nocopy_call *call, unsigned index, int *level)
{
    nocopy_term t = nocopy_arg(call, index);
    nocopy_atom a;
    int64_t v;
    switch (nocopy_term_type(call, t)) {
    case NOCOPY_T_INTEGER:
        if (nocopy_term_int_range(call, t, 0, 9, &v) == NOCOPY_OK) {
            *level = (int)v;
            return NOCOPY_OK;
        }
        break;
    case NOCOPY_T_ATOM:
        if (nocopy_term_atom(call, t, &a) == NOCOPY_OK) {
            switch (a) {
            case AM_DEFAULT: *level = Z_DEFAULT_COMPRESSION; return NOCOPY_OK;
            case AM_NONE: *level = Z_NO_COMPRESSION; return NOCOPY_OK;
            case AM_BEST_SPEED: *level = Z_BEST_SPEED; return NOCOPY_OK;
            case AM_BEST_COMPRESSION: *level = Z_BEST_COMPRESSION; return NOCOPY_OK;
            default: break;
            }
        }
        break;
    default:
        break;
    }
    /* One message for every wrong level, whatever the reader recorded. */
    return nocopy_fail_badarg(call, index, LEVEL_EXPECTED);
}

/* An atom of `allowed` (n of them); its position in the list goes to *which. */
static int arg_choice(nocopy_call *call, unsigned index, const nocopy_atom *allowed, int n,
                      const char *expected, int *which)
{
    nocopy_term t = nocopy_arg(call, index);
    nocopy_atom a;
    if (nocopy_term_type(call, t) == NOCOPY_T_ATOM && nocopy_term_atom(call, t, &a) == NOCOPY_OK)
        for (int i = 0; i < n; i++)
            if (allowed[i] == a) {
                *which = i;
                return NOCOPY_OK;
            }
    return nocopy_fail_badarg(call, index, expected);
}

static int arg_flush(nocopy_call *call, unsigned index, int *flush)
{
    static const nocopy_atom names[] = {AM_NONE, AM_SYNC, AM_FULL, AM_FINISH};
    static const int values[] = {Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FULL_FLUSH, Z_FINISH};
    int i = 0, rc;
    if ((rc = arg_choice(call, index, names, 4, FLUSH_EXPECTED, &i)) != NOCOPY_OK)
        return rc;
    *flush = values[i];
    return NOCOPY_OK;
}

/* The window bits of a format; `with_auto` admits auto (inflate only). */
static int arg_format(nocopy_call *call, unsigned index, int with_auto, int *wbits)
{
    static const nocopy_atom names[] = {AM_ZLIB, AM_GZIP, AM_RAW, AM_AUTO};
    static const int values[] = {WBITS_ZLIB, WBITS_GZIP, WBITS_RAW, WBITS_AUTO};
    int i = 0, rc;
    if ((rc = arg_choice(call, index, names, with_auto ? 4 : 3,
                         with_auto ? INFLATE_FORMAT_EXPECTED : FORMAT_EXPECTED, &i)) != NOCOPY_OK)
        return rc;
    *wbits = values[i];
    return NOCOPY_OK;
}

/* Takes the stream `obj` (argument `index`, already read as a handle of
 * `type`) for this call: *z is BORROWED and must be given back with
 * stream_put(). A stream another call is using is refused. */
static int take_stream(nocopy_call *call, unsigned index, const nocopy_handle_type *type,
                       void *obj, zl_stream **z)
{
    zl_stream *s = obj;
    if (atomic_exchange_explicit(&s->busy, 1, memory_order_acquire))
        return nocopy_fail_badarg(call, index,
                                  type == &deflate_type
                                      ? "a zlib deflate stream handle that no other call is using"
                                      : "a zlib inflate stream handle that no other call is using");
    *z = s;
    return NOCOPY_OK;
}

static void stream_put(zl_stream *z)
{
    atomic_store_explicit(&z->busy, 0, memory_order_release);
}

/* ---- output chunks ---------------------------------------------------------------- */

/* The output of one call: buffers allocated one after the other, each filled
 * by zlib in place, all OWNED until handed over (or freed) by chunks_result()
 * or chunks_free(). Only the last one may have room left. */
#define INLINE_CHUNKS 8
typedef struct chunks {
    nocopy_buf **bufs;
    nocopy_buf *inline_bufs[INLINE_CHUNKS];
    size_t n, cap;
    size_t used;            /* bytes written in bufs[n - 1] */
    size_t next_size;       /* size of the next chunk to allocate */
    size_t full;            /* bytes in the chunks before bufs[n - 1] */
    /* inflate: the next chunk is sized by the ratio so far (output per input
     * byte) times the input left; in_base bytes of this call's in_total were
     * consumed before the slice zlib reads now, which starts at in_slice. */
    int by_ratio;
    size_t in_total, in_base;
    const uint8_t *in_slice;
    size_t in_at_last;      /* input consumed when bufs[n - 1] was added */
} chunks;

static void chunks_init(chunks *q, size_t first_size)
{
    q->bufs = q->inline_bufs;
    q->n = 0;
    q->cap = INLINE_CHUNKS;
    q->used = 0;
    q->next_size = first_size ? first_size : 1;
    q->full = 0;
    q->by_ratio = 0;
    q->in_total = q->in_base = q->in_at_last = 0;
    q->in_slice = NULL;
}

/* inflate's next chunk: what the input left should produce, plus 1/8, at
 * the higher of two ratios: the whole output so far per input consumed, and
 * the last chunk's (data often compresses better further in, as repeats
 * accumulate); at least half of what was produced so far, so the number of
 * chunks stays logarithmic however the ratio changes. With no input left
 * inflate holds back at most the tail of one match (under 300 bytes). */
static size_t next_by_ratio(const chunks *q, size_t in_done)
{
    size_t left = q->in_total > in_done ? q->in_total - in_done : 0;
    if (left == 0)
        return FIRST_CHUNK_MIN;
    double est = (double)left * (double)q->full / (double)(in_done ? in_done : 1);
    size_t last_in = in_done - q->in_at_last;
    if (q->n > 0 && last_in > 0) {
        double recent = (double)left * (double)q->bufs[q->n - 1]->size / (double)last_in;
        if (recent > est)
            est = recent;
    }
    double most = (double)left * MAX_RATIO;
    if (est > most)
        est = most;
    est += est / 8;
    size_t want = est >= (double)CHUNK_MAX ? CHUNK_MAX : (size_t)est;
    if (want < q->full / 2)
        want = q->full / 2;
    return clamp(want, NEXT_CHUNK_MIN, CHUNK_MAX);
}

static void chunks_free(chunks *q)
{
    for (size_t i = 0; i < q->n; i++)
        nocopy_buf_free(q->bufs[i]);
    q->n = 0;
    if (q->bufs != q->inline_bufs)
        free(q->bufs);
    q->bufs = q->inline_bufs;
}

static int chunks_add(nocopy_call *call, chunks *q)
{
    if (q->n == q->cap) {
        /* Only the table of pointers grows; the data never moves. */
        size_t cap = q->cap * 2;
        nocopy_buf **b = malloc(cap * sizeof *b);
        if (!b)
            return NOCOPY_ENOMEM;
        memcpy(b, q->bufs, q->n * sizeof *b);
        if (q->bufs != q->inline_bufs)
            free(q->bufs);
        q->bufs = b;
        q->cap = cap;
    }
    nocopy_buf *buf = nocopy_buf_alloc(call, q->next_size);
    if (!buf)
        return NOCOPY_ENOMEM;
    if (q->n > 0)
        q->full = add_sat(q->full, q->bufs[q->n - 1]->size);
    q->bufs[q->n++] = buf;
    q->used = 0;
    q->next_size = clamp(mul_sat(q->next_size, 2), NEXT_CHUNK_MIN, CHUNK_MAX);
    return NOCOPY_OK;
}

/* Points the stream's output at the free room of the last chunk, adding a
 * chunk when it is full. */
static int out_prepare(nocopy_call *call, chunks *q, z_stream *s)
{
    int rc;
    if (q->n == 0 || q->used == q->bufs[q->n - 1]->size) {
        if (q->by_ratio && q->n > 0) {
            size_t in_done = q->in_base + (size_t)(s->next_in - q->in_slice);
            q->full = add_sat(q->full, q->bufs[q->n - 1]->size);
            q->next_size = next_by_ratio(q, in_done);
            q->full -= q->bufs[q->n - 1]->size;       /* chunks_add counts it */
            q->in_at_last = in_done;
        }
        if ((rc = chunks_add(call, q)) != NOCOPY_OK)
            return rc;
    }
    nocopy_buf *b = q->bufs[q->n - 1];
    s->next_out = b->data + q->used;
    s->avail_out = uint_room(b->size - q->used);
    return NOCOPY_OK;
}

/* Counts what zlib wrote since out_prepare(). */
static void out_account(chunks *q, const z_stream *s)
{
    nocopy_buf *b = q->bufs[q->n - 1];
    q->used = (size_t)(s->next_out - b->data);
}

/* Where C wrote and where the result lives, for the demo probes. */
typedef struct trace {
    uint64_t last_wrote_at;     /* the last chunk's address as zlib wrote it */
    uint64_t *handed_at;        /* each chunk's address as handed over (n of them) */
    size_t n;
} trace;

/* Hands over the first `used` bytes of `buf` (OWNED, HANDED OVER here) as a
 * binary, without copying them. The slack past `used` must not reach Erlang:
 * - a slack of at least 1/8 of the buffer is cut with nocopy_buf_resize. OTP
 *   25's allocator shrinks a block of a single-block carrier (over 512 KiB)
 *   in place: 0 moves in 1,600 trials of 512 KiB to 512 MiB blocks cut by
 *   1/16 to 1/2. Smaller blocks it may move, a copy of under 512 KiB;
 * - a smaller slack on a large buffer is not cut: the same allocator moved
 *   (copied whole) about half of the large blocks it was asked to shrink by
 *   a few bytes. The binary is then a prefix of the buffer
 *   (nocopy_buf_share + nocopy_make_kept), and the slack, under 1/8, stays
 *   allocated with it. */
#define SHARE_MIN ((size_t)512 << 10)
static nocopy_value hand_over(nocopy_call *call, nocopy_buf *buf, size_t used,
                              uint64_t *wrote_at, uint64_t *handed_at)
{
    size_t slack = buf->size - used;
    if (wrote_at)
        *wrote_at = (uintptr_t)buf->data;
    if (slack > 0 && buf->size >= SHARE_MIN && slack < buf->size / 8) {
        nocopy_kept *k = nocopy_buf_share(call, buf);      /* buf HANDED OVER to k */
        if (!k)
            return 0;
        if (handed_at)
            *handed_at = (uintptr_t)nocopy_kept_bytes(k).data;
        nocopy_value v = nocopy_make_kept(call, k, 0, used);   /* holds its own reference */
        nocopy_kept_release(k);
        return v;
    }
    if (slack > 0 && nocopy_buf_resize(buf, used) != NOCOPY_OK) {
        nocopy_buf_free(buf);
        return 0;
    }
    if (handed_at)
        *handed_at = (uintptr_t)buf->data;
    return nocopy_make_buf(call, buf);                     /* HANDED OVER */
}

/* The chunks as a list of binaries, each handed over without a copy; q is
 * empty afterwards. 0 if building failed (everything is then released). */
static nocopy_value chunks_result(nocopy_call *call, chunks *q, trace *tr)
{
    if (q->n > 0 && q->used == 0) {          /* a chunk added but never written */
        nocopy_buf_free(q->bufs[--q->n]);
        q->used = q->n > 0 ? q->bufs[q->n - 1]->size : 0;
    }
    size_t n = q->n;
    nocopy_value one = 0, *vals = n <= 1 ? &one : malloc(n * sizeof *vals);
    if (tr) {
        tr->handed_at = malloc((n ? n : 1) * sizeof *tr->handed_at);
        tr->n = tr->handed_at ? n : 0;
    }
    if (!vals) {
        chunks_free(q);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t *handed = tr && tr->handed_at ? &tr->handed_at[i] : NULL;
        vals[i] = i + 1 < n ? hand_over(call, q->bufs[i], q->bufs[i]->size, NULL, handed)
                            : hand_over(call, q->bufs[i], q->used,
                                        tr ? &tr->last_wrote_at : NULL, handed);
    }
    q->n = 0;
    chunks_free(q);
    nocopy_value list = nocopy_make_list(call, n, vals);
    if (vals != &one)
        free(vals);
    return list;
}

/* ---- inflate --------------------------------------------------------------------- */

enum inflate_outcome { INF_OK, INF_DATA_ERROR, INF_NEED_DICT, INF_TRAILING };

/* Inflates the input zlib was given (next_in/avail_in) into q, until the input
 * is used up with room to spare, the stream ends, or an error. `flush` is
 * Z_FINISH when this is the last input of a one-shot call: zlib then keeps no
 * sliding window if the stream completes. */
static int inflate_run(nocopy_call *call, z_stream *s, int flush, chunks *q, int *at_end,
                       enum inflate_outcome *outcome)
{
    for (;;) {
        int rc = out_prepare(call, q, s);
        if (rc != NOCOPY_OK)
            return rc;
        uInt in_before = s->avail_in, out_before = s->avail_out;
        int r = inflate(s, flush);
        out_account(q, s);
        switch (r) {
        case Z_STREAM_END:
            *at_end = 1;
            return NOCOPY_OK;
        case Z_OK:
            break;
        case Z_BUF_ERROR:
            /* No progress was possible: out of input (handled below), or out
             * of room (the next round adds a chunk). Anything else would loop. */
            if (s->avail_in != 0 && s->avail_out != 0 && s->avail_in == in_before &&
                s->avail_out == out_before)
                return NOCOPY_EINTERNAL;
            break;
        case Z_NEED_DICT:
            *outcome = INF_NEED_DICT;
            return NOCOPY_OK;
        case Z_DATA_ERROR:
            *outcome = INF_DATA_ERROR;
            return NOCOPY_OK;
        case Z_MEM_ERROR:
            return NOCOPY_ENOMEM;
        default:
            return NOCOPY_EINTERNAL;
        }
        /* Room left means inflate wrote all it could from the input it has. */
        if (s->avail_in == 0 && s->avail_out != 0)
            return NOCOPY_OK;
    }
}

/* Feeds every piece of `in` to inflate. Bytes after the end of a stream start
 * the next gzip member when `multi`, and are trailing data otherwise. */
static int inflate_pieces(nocopy_call *call, z_stream *s, int multi, int one_shot,
                          const nocopy_iovec *in, chunks *q, int *at_end,
                          enum inflate_outcome *outcome)
{
    q->by_ratio = 1;
    q->in_total = in->total;
    q->in_base = 0;
    for (size_t i = 0; i < in->count; i++) {
        const uint8_t *p = in->pieces[i].data;
        size_t left = in->pieces[i].size;
        while (left > 0) {
            if (*at_end) {
                if (!multi) {
                    *outcome = INF_TRAILING;
                    return NOCOPY_OK;
                }
                if (inflateReset(s) != Z_OK)
                    return NOCOPY_EINTERNAL;
                *at_end = 0;
            }
            uInt n = uint_room(left);
            int last = one_shot && i + 1 == in->count && n == left;
            s->next_in = (z_const Bytef *)p;
            s->avail_in = n;
            q->in_slice = p;
            int rc = inflate_run(call, s, last ? Z_FINISH : Z_NO_FLUSH, q, at_end, outcome);
            size_t used = n - s->avail_in;
            q->in_base += used;
            s->next_in = Z_NULL;   /* the piece is BORROWED: keep no pointer to it */
            s->avail_in = 0;
            if (rc != NOCOPY_OK || *outcome != INF_OK)
                return rc;
            p += used;
            left -= used;
        }
    }
    return NOCOPY_OK;
}

/* Byte `k` of the iodata, or -1 past its end. */
static int iovec_byte(const nocopy_iovec *in, size_t k)
{
    for (size_t i = 0; i < in->count; i++) {
        if (k < in->pieces[i].size)
            return in->pieces[i].data[k];
        k -= in->pieces[i].size;
    }
    return -1;
}

/* Whether the deflate data starting at byte `at` of the input opens with a
 * stored block (BTYPE 00, RFC 1951 3.2.3): what deflate writes for data it
 * cannot compress. Such data inflates to about its own size. */
static int starts_stored(const nocopy_iovec *in, size_t at)
{
    int b = iovec_byte(in, at);
    return b >= 0 && ((b >> 1) & 3) == 0;
}

/* The output a new stream's input is expected to produce: GUESS_RATIO times
 * the input, or about the input's size when the first block is stored
 * (incompressible data: a guess 8 times too large would cost a large
 * allocation and a cut that moves it). Where the deflate data starts: after
 * the 2-byte header of the zlib format, at once for raw; gzip headers vary. */
static size_t guess_output(const nocopy_iovec *in, int wbits)
{
    size_t ratio = GUESS_RATIO;
    if ((wbits == WBITS_ZLIB && starts_stored(in, 2)) || (wbits == WBITS_RAW && starts_stored(in, 0)))
        ratio = 1;
    return clamp(mul_sat(in->total, ratio), FIRST_CHUNK_MIN, FIRST_CHUNK_MAX);
}

/* The first chunk of a one-shot inflate: the hint if there is one, else a
 * guess; never beyond what the input can produce. */
static size_t inflate_first(const nocopy_iovec *in, int wbits, size_t hint, int have_hint)
{
    size_t cap = add_sat(mul_sat(in->total, MAX_RATIO), 64);
    size_t want = have_hint ? hint : guess_output(in, wbits);
    return want < cap ? want : cap;
}

/* A gzip member ends with ISIZE, the uncompressed size mod 2^32 (RFC 1952),
 * little-endian: the last 4 bytes of the input, which may span pieces. */
static int gzip_isize(const nocopy_iovec *in, size_t *isize)
{
    if (in->total < 18)            /* less than a gzip header and trailer */
        return 0;
    uint8_t tail[4];
    size_t need = 4;
    for (size_t i = in->count; i-- > 0 && need > 0;) {
        const nocopy_bytes *b = &in->pieces[i];
        for (size_t k = b->size; k-- > 0 && need > 0;)
            tail[--need] = b->data[k];
    }
    *isize = (size_t)tail[0] | (size_t)tail[1] << 8 | (size_t)tail[2] << 16 |
             (size_t)tail[3] << 24;
    return 1;
}

static nocopy_atom inflate_reason(enum inflate_outcome o)
{
    switch (o) {
    case INF_NEED_DICT: return AM_NEED_DICTIONARY;
    case INF_TRAILING: return AM_TRAILING_DATA;
    default: return AM_DATA_ERROR;
    }
}

/* One-shot inflate of argument 0 in format `wbits`, with the size hint of
 * argument 1 if the call has one: {ok, Chunks} | {error, Reason}. */
static int do_uncompress(nocopy_call *call, int wbits, trace *tr, nocopy_value *out)
{
    nocopy_iovec in;              /* BORROWED: the caller's iodata, in pieces */
    z_stream s;
    chunks q;
    size_t hint = 0;
    int rc, at_end = 0, have_hint = nocopy_arity(call) == 2;
    enum inflate_outcome outcome = INF_OK;

    if ((rc = nocopy_arg_iovec(call, 0, &in)) != NOCOPY_OK ||
        (have_hint && (rc = nocopy_arg_size(call, 1, &hint)) != NOCOPY_OK))
        return rc;
    if (wbits == WBITS_GZIP && !have_hint)
        have_hint = gzip_isize(&in, &hint);
    memset(&s, 0, sizeof s);
    switch (inflateInit2(&s, wbits)) {
    case Z_OK: break;
    case Z_MEM_ERROR: return NOCOPY_ENOMEM;
    default: return NOCOPY_EINTERNAL;
    }
    chunks_init(&q, inflate_first(&in, wbits, hint, have_hint));
    rc = inflate_pieces(call, &s, wbits == WBITS_GZIP, 1, &in, &q, &at_end, &outcome);
    size_t produced = (size_t)s.total_out;
    inflateEnd(&s);
    nocopy_consume(call, mul_sat(produced, INFLATE_COST));
    if (rc != NOCOPY_OK) {
        chunks_free(&q);
        return rc;
    }
    if (outcome != INF_OK || !at_end) {
        chunks_free(&q);
        *out = nocopy_build(call, "{aa}", NOCOPY_ATOM_ERROR,
                            outcome != INF_OK ? inflate_reason(outcome) : AM_TRUNCATED);
        return NOCOPY_OK;
    }
    *out = nocopy_build(call, "{av}", NOCOPY_ATOM_OK, chunks_result(call, &q, tr));
    return NOCOPY_OK;
}

/* ---- deflate ------------------------------------------------------------------- */

/* Deflates every piece with Z_NO_FLUSH, then `flush` (if not Z_NO_FLUSH) until
 * zlib has written all of it: Z_STREAM_END for Z_FINISH, room left otherwise. */
static int deflate_pieces(nocopy_call *call, z_stream *s, const nocopy_iovec *in, int flush,
                          chunks *q)
{
    int rc, r;
    for (size_t i = 0; i < in->count; i++) {
        const uint8_t *p = in->pieces[i].data;
        size_t left = in->pieces[i].size;
        while (left > 0) {
            uInt n = uint_room(left);
            s->next_in = (z_const Bytef *)p;
            s->avail_in = n;
            while (s->avail_in > 0) {
                if ((rc = out_prepare(call, q, s)) != NOCOPY_OK)
                    goto fail;
                uInt in_before = s->avail_in, out_before = s->avail_out;
                r = deflate(s, Z_NO_FLUSH);
                out_account(q, s);
                /* Z_BUF_ERROR: no room was left; the next round adds a chunk.
                 * No progress with room and input both left would loop. */
                if ((r != Z_OK && r != Z_BUF_ERROR) ||
                    (s->avail_in == in_before && s->avail_out == out_before)) {
                    rc = NOCOPY_EINTERNAL;
                    goto fail;
                }
            }
            s->next_in = Z_NULL;   /* the piece is BORROWED: keep no pointer to it */
            p += n;
            left -= n;
        }
    }
    if (flush == Z_NO_FLUSH)
        return NOCOPY_OK;
    for (;;) {
        if ((rc = out_prepare(call, q, s)) != NOCOPY_OK)
            return rc;
        r = deflate(s, flush);
        out_account(q, s);
        if (r == Z_STREAM_END)
            return NOCOPY_OK;
        if (r != Z_OK && r != Z_BUF_ERROR)
            return NOCOPY_EINTERNAL;
        /* A flush is complete when zlib stops with room to spare (zlib.h:
         * "If deflate returns with avail_out == 0, this function must be
         * called again with the same value of the flush parameter"). */
        if (flush != Z_FINISH && s->avail_out != 0)
            return NOCOPY_OK;
    }
fail:
    s->next_in = Z_NULL;
    s->avail_in = 0;
    return rc;
}

/* One-shot deflate of argument 0 (at the level of argument 1, if the call
 * has one): one buffer of deflateBound bytes, written in one pass, cut to
 * size, handed over. */
static int do_compress(nocopy_call *call, int wbits, trace *tr, nocopy_value *out)
{
    nocopy_iovec in;              /* BORROWED: the caller's iodata, in pieces */
    z_stream s;
    chunks q;
    int rc, level = Z_DEFAULT_COMPRESSION;

    /* In argument order, so the first bad one is the one reported. */
    if ((rc = nocopy_arg_iovec(call, 0, &in)) != NOCOPY_OK ||
        (nocopy_arity(call) == 2 && (rc = arg_level(call, 1, &level)) != NOCOPY_OK))
        return rc;
    memset(&s, 0, sizeof s);
    switch (deflateInit2(&s, level, Z_DEFLATED, wbits, MEM_LEVEL, Z_DEFAULT_STRATEGY)) {
    case Z_OK: break;
    case Z_MEM_ERROR: return NOCOPY_ENOMEM;
    default: return NOCOPY_EINTERNAL;
    }
    /* zlib.h: deflate with Z_FINISH and at least deflateBound() bytes of room
     * completes in one pass, so this one chunk is all the output. */
    uLong bound = deflateBound(&s, (uLong)in.total);
    chunks_init(&q, (size_t)bound);
    rc = deflate_pieces(call, &s, &in, Z_FINISH, &q);
    deflateEnd(&s);
    nocopy_consume(call, mul_sat(in.total, DEFLATE_COST));
    if (rc == NOCOPY_OK && q.n != 1)
        rc = NOCOPY_EINTERNAL;    /* the bound did not hold: cannot happen */
    if (rc != NOCOPY_OK) {
        chunks_free(&q);
        return rc;
    }
    if (tr) {
        tr->handed_at = malloc(sizeof *tr->handed_at);
        tr->n = tr->handed_at ? 1 : 0;
    }
    *out = hand_over(call, q.bufs[0], q.used, tr ? &tr->last_wrote_at : NULL,
                     tr && tr->handed_at ? tr->handed_at : NULL);
    q.n = 0;
    chunks_free(&q);
    return NOCOPY_OK;
}

/* ---- the wrapped functions: one-shot ---------------------------------------------- */

static int zl_compress(nocopy_call *call)
{   /* (Data[, Level]) */
    nocopy_value v;
    int rc = do_compress(call, WBITS_ZLIB, NULL, &v);
    return rc != NOCOPY_OK ? rc : nocopy_return(call, v);
}

static int zl_gzip(nocopy_call *call)
{   /* (Data[, Level]) */
    nocopy_value v;
    int rc = do_compress(call, WBITS_GZIP, NULL, &v);
    return rc != NOCOPY_OK ? rc : nocopy_return(call, v);
}

static int zl_uncompress(nocopy_call *call)
{   /* (Data[, SizeHint]) */
    nocopy_value v;
    int rc = do_uncompress(call, WBITS_ZLIB, NULL, &v);
    return rc != NOCOPY_OK ? rc : nocopy_return(call, v);
}

static int zl_gunzip(nocopy_call *call)
{   /* (Data) */
    nocopy_value v;
    int rc = do_uncompress(call, WBITS_GZIP, NULL, &v);
    return rc != NOCOPY_OK ? rc : nocopy_return(call, v);
}

/* ---- the wrapped functions: streams --------------------------------------------- */

static int zl_deflate_init(nocopy_call *call)
{   /* (Level[, Format]) */
    int level, wbits = WBITS_ZLIB, rc;
    zl_stream *z;                 /* OWNED until handed over as the handle */
    if ((rc = arg_level(call, 0, &level)) != NOCOPY_OK)
        return rc;
    if (nocopy_arity(call) == 2 && (rc = arg_format(call, 1, 0, &wbits)) != NOCOPY_OK)
        return rc;
    if (!(z = nocopy_handle_new(call, &deflate_type)))
        return NOCOPY_ENOMEM;
    rc = deflateInit2(&z->strm, level, Z_DEFLATED, wbits, MEM_LEVEL, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        nocopy_handle_release(z);            /* not inited: the destructor does nothing */
        return rc == Z_MEM_ERROR ? NOCOPY_ENOMEM : NOCOPY_EINTERNAL;
    }
    z->inited = 1;
    atomic_fetch_add(&live_streams, 1);
    return nocopy_return(call, nocopy_make_handle(call, z));   /* HANDED OVER */
}

static int zl_deflate(nocopy_call *call)
{   /* (Z, Data, Flush) */
    zl_stream *z = NULL;
    nocopy_iovec in;              /* BORROWED */
    chunks q;
    int flush, rc;
    void *obj;

    /* Arguments in order, so the first bad one is the one reported; the
     * stream is taken last, once nothing else can fail. */
    if ((rc = nocopy_arg_handle(call, 0, &deflate_type, &obj)) != NOCOPY_OK ||
        (rc = nocopy_arg_iovec(call, 1, &in)) != NOCOPY_OK ||
        (rc = arg_flush(call, 2, &flush)) != NOCOPY_OK)
        return rc;
    if ((rc = take_stream(call, 0, &deflate_type, obj, &z)) != NOCOPY_OK)
        return rc;
    if (z->finished) {
        stream_put(z);
        return nocopy_fail_badarg(call, 0, "a zlib deflate stream handle that has not finished");
    }
    size_t pending_bytes = 0;
    unsigned pending = 0;
    int bits = 0;
    if (deflatePending(&z->strm, &pending, &bits) == Z_OK)
        pending_bytes = (size_t)pending + 1;
    size_t first = add_sat(add_sat((size_t)deflateBound(&z->strm, (uLong)in.total), pending_bytes),
                           FLUSH_SLACK);
    if (flush != Z_NO_FLUSH && z->held > 0) {
        size_t held_out = (size_t)deflateBound(&z->strm, (uLong)z->held);
        first = add_sat(first, held_out < HELD_OUT_MAX ? held_out : HELD_OUT_MAX);
    }
    chunks_init(&q, first);
    rc = deflate_pieces(call, &z->strm, &in, flush, &q);
    if (rc == NOCOPY_OK) {
        z->held = flush == Z_NO_FLUSH ? add_sat(z->held, in.total) : 0;
        z->finished = flush == Z_FINISH;
    }
    stream_put(z);
    nocopy_consume(call, mul_sat(in.total, DEFLATE_COST));
    if (rc != NOCOPY_OK) {
        chunks_free(&q);
        return rc;
    }
    return nocopy_return(call, chunks_result(call, &q, NULL));
}

static int zl_inflate_init(nocopy_call *call)
{   /* ([Format]) */
    int wbits = WBITS_ZLIB, rc;
    zl_stream *z;                 /* OWNED until handed over as the handle */
    if (nocopy_arity(call) == 1 && (rc = arg_format(call, 0, 1, &wbits)) != NOCOPY_OK)
        return rc;
    if (!(z = nocopy_handle_new(call, &inflate_type)))
        return NOCOPY_ENOMEM;
    rc = inflateInit2(&z->strm, wbits);
    if (rc != Z_OK) {
        nocopy_handle_release(z);
        return rc == Z_MEM_ERROR ? NOCOPY_ENOMEM : NOCOPY_EINTERNAL;
    }
    z->inited = 1;
    z->multi = wbits == WBITS_GZIP || wbits == WBITS_AUTO;
    z->wbits = wbits;
    atomic_fetch_add(&live_streams, 1);
    return nocopy_return(call, nocopy_make_handle(call, z));   /* HANDED OVER */
}

static int zl_inflate(nocopy_call *call)
{   /* (Z, Data) */
    zl_stream *z = NULL;
    nocopy_iovec in;              /* BORROWED */
    chunks q;
    int rc;
    void *obj;
    enum inflate_outcome outcome = INF_OK;

    if ((rc = nocopy_arg_handle(call, 0, &inflate_type, &obj)) != NOCOPY_OK ||
        (rc = nocopy_arg_iovec(call, 1, &in)) != NOCOPY_OK ||
        (rc = take_stream(call, 0, &inflate_type, obj, &z)) != NOCOPY_OK)
        return rc;
    if (z->dead) {
        stream_put(z);
        return nocopy_return_error(call, nocopy_make_atom(call, AM_DATA_ERROR));
    }
    /* The first chunk: what this input should produce at the stream's ratio
     * so far, or a guess for its first input. */
    uLong out_before = z->strm.total_out;
    size_t first;
    if (z->strm.total_in > 0) {
        double est = (double)in.total * (double)z->strm.total_out / (double)z->strm.total_in;
        est += est / 8;
        first = est >= (double)FIRST_CHUNK_MAX ? FIRST_CHUNK_MAX : (size_t)est;
        first = clamp(first, FIRST_CHUNK_MIN, FIRST_CHUNK_MAX);
    } else {
        first = guess_output(&in, z->wbits);
    }
    chunks_init(&q, first);
    rc = inflate_pieces(call, &z->strm, z->multi, 0, &in, &q, &z->at_end, &outcome);
    if (rc == NOCOPY_OK && outcome == INF_DATA_ERROR)
        z->dead = 1;
    int at_end = z->at_end;
    uLong produced = z->strm.total_out - out_before;
    stream_put(z);
    nocopy_consume(call, mul_sat(produced, INFLATE_COST));
    if (rc != NOCOPY_OK || outcome != INF_OK) {
        chunks_free(&q);
        return rc != NOCOPY_OK ? rc
                               : nocopy_return_error(call, nocopy_make_atom(call, inflate_reason(outcome)));
    }
    return nocopy_return(call, nocopy_build(call, "{av}", at_end ? AM_FINISHED : AM_CONTINUE,
                                            chunks_result(call, &q, NULL)));
}

/* deflate_end/1, inflate_end/1: the destructor ends the z_stream once no call
 * is using it. A second end raises badarg (the handle is closed). */
static int end_stream(nocopy_call *call, const nocopy_handle_type *type)
{
    void *obj;                    /* BORROWED */
    int rc;
    if ((rc = nocopy_arg_handle(call, 0, type, &obj)) != NOCOPY_OK)
        return rc;
    if ((rc = nocopy_handle_close(obj)) != NOCOPY_OK)
        return rc;
    return nocopy_return(call, nocopy_make_atom(call, NOCOPY_ATOM_OK));
}

static int zl_deflate_end(nocopy_call *call)
{   /* (Z) */
    return end_stream(call, &deflate_type);
}

static int zl_inflate_end(nocopy_call *call)
{   /* (Z) */
    return end_stream(call, &inflate_type);
}

/* ---- demo instrumentation: address and thread probes ----------------------------- */

/* The OS name of the thread running the call: the runtime names its threads
 * "N_scheduler", "N_dirty_cpu_sch"; the driver's workers have their own. */
static nocopy_value thread_name(nocopy_call *call)
{
    char name[32] = "";
    if (pthread_getname_np(pthread_self(), name, sizeof name) != 0)
        strcpy(name, "?");
    return nocopy_make_copy(call, name, strlen(name));
}

static nocopy_value addr_list(nocopy_call *call, const trace *tr)
{
    nocopy_value one = 0, *vals = tr->n <= 1 ? &one : malloc(tr->n * sizeof *vals);
    if (!vals)
        return 0;
    for (size_t i = 0; i < tr->n; i++)
        vals[i] = nocopy_make_u64(call, tr->handed_at[i]);
    nocopy_value list = nocopy_make_list(call, tr->n, vals);
    if (vals != &one)
        free(vals);
    return list;
}

static int zl_compress_traced(nocopy_call *call)
{   /* (Data, Level) */
    trace tr = {0, NULL, 0};
    nocopy_value v;
    int rc = do_compress(call, WBITS_ZLIB, &tr, &v);
    if (rc != NOCOPY_OK) {
        free(tr.handed_at);
        return rc;
    }
    uint64_t handed = tr.n ? tr.handed_at[0] : 0;
    free(tr.handed_at);
    return nocopy_return(call, nocopy_build(call, "{vIIv}", v, handed, tr.last_wrote_at,
                                            thread_name(call)));
}

static int zl_uncompress_traced(nocopy_call *call)
{   /* (Data) */
    trace tr = {0, NULL, 0};
    nocopy_value v;
    int rc = do_uncompress(call, WBITS_ZLIB, &tr, &v);
    if (rc != NOCOPY_OK) {
        free(tr.handed_at);
        return rc;
    }
    nocopy_value addrs = addr_list(call, &tr);
    free(tr.handed_at);
    return nocopy_return(call, nocopy_build(call, "{vvIv}", v, addrs, tr.last_wrote_at,
                                            thread_name(call)));
}

static int zl_address_of(nocopy_call *call)
{   /* (Binary) */
    nocopy_bytes b;               /* BORROWED; only its address is returned */
    int rc;
    if ((rc = nocopy_arg_bytes(call, 0, &b)) != NOCOPY_OK)
        return rc;
    return nocopy_return(call, nocopy_make_u64(call, (uint64_t)(uintptr_t)b.data));
}

static int zl_stream_count(nocopy_call *call)
{   /* () */
    long n = atomic_load(&live_streams);
    return nocopy_return(call, nocopy_make_i64(call, n));
}

/* ---- the table: single source of truth for the Erlang stubs ---------------------- */

#define DATA "Data :: iodata()"
#define LEVEL "Level :: nc_zlib:level()"
#define DSTREAM "Z :: nc_zlib:deflate_stream()"
#define ISTREAM "Z :: nc_zlib:inflate_stream()"
#define CHUNKS "{ok, [binary()]} | {error, nc_zlib:reason()}"
#define ABOVE .sched = NOCOPY_DIRTY_ABOVE, .dirty_above = ZL_DIRTY_ABOVE

static const nocopy_func zl_funcs[] = {
    {.name = "compress", .arity = 1, .fn = zl_compress, .args = DATA, .result = "binary()", ABOVE,
     .doc = "Compresses Data into the zlib format (RFC 1950) at the default level."},
    {.name = "compress", .arity = 2, .fn = zl_compress, .args = DATA ", " LEVEL,
     .result = "binary()", ABOVE,
     .doc = "Compresses Data into the zlib format at Level."},
    {.name = "uncompress", .arity = 1, .fn = zl_uncompress, .args = DATA, .result = CHUNKS, ABOVE,
     .doc = "Decompresses one zlib stream; the output is a list of binaries, each written once."},
    {.name = "uncompress", .arity = 2, .fn = zl_uncompress,
     .args = DATA ", SizeHint :: non_neg_integer()", .result = CHUNKS, ABOVE,
     .doc = "uncompress/1 with the expected output size: one binary when the hint is right."},
    {.name = "gzip", .arity = 1, .fn = zl_gzip, .args = DATA, .result = "binary()", ABOVE,
     .doc = "Compresses Data into the gzip format (RFC 1952) at the default level."},
    {.name = "gzip", .arity = 2, .fn = zl_gzip, .args = DATA ", " LEVEL, .result = "binary()",
     ABOVE, .doc = "Compresses Data into the gzip format at Level."},
    {.name = "gunzip", .arity = 1, .fn = zl_gunzip, .args = DATA, .result = CHUNKS, ABOVE,
     .doc = "Decompresses gzip data (one or more members); the first chunk is sized by ISIZE."},
    {.name = "deflate_init", .arity = 1, .fn = zl_deflate_init, .args = LEVEL,
     .result = "nc_zlib:deflate_stream()", .sched = NOCOPY_NORMAL,
     .doc = "A new deflate stream writing the zlib format at Level."},
    {.name = "deflate_init", .arity = 2, .fn = zl_deflate_init,
     .args = LEVEL ", Format :: nc_zlib:format()", .result = "nc_zlib:deflate_stream()",
     .sched = NOCOPY_NORMAL, .doc = "A new deflate stream writing Format at Level."},
    {.name = "deflate", .arity = 3, .fn = zl_deflate,
     .args = DSTREAM ", " DATA ", Flush :: nc_zlib:flush()", .result = "[binary()]", ABOVE,
     .doc = "Compresses Data, then flushes as asked; returns the output produced so far."},
    {.name = "deflate_end", .arity = 1, .fn = zl_deflate_end, .args = DSTREAM, .result = "ok",
     .sched = NOCOPY_NORMAL, .doc = "Ends the stream now; later use of Z raises badarg."},
    {.name = "inflate_init", .arity = 0, .fn = zl_inflate_init, .args = "",
     .result = "nc_zlib:inflate_stream()", .sched = NOCOPY_NORMAL,
     .doc = "A new inflate stream reading the zlib format."},
    {.name = "inflate_init", .arity = 1, .fn = zl_inflate_init,
     .args = "Format :: nc_zlib:inflate_format()", .result = "nc_zlib:inflate_stream()",
     .sched = NOCOPY_NORMAL, .doc = "A new inflate stream reading Format (auto: zlib or gzip)."},
    {.name = "inflate", .arity = 2, .fn = zl_inflate, .args = ISTREAM ", " DATA,
     .result = "{continue | finished, [binary()]} | {error, nc_zlib:stream_reason()}", ABOVE,
     .doc = "Decompresses Data; finished once the stream (all members so far) has ended."},
    {.name = "inflate_end", .arity = 1, .fn = zl_inflate_end, .args = ISTREAM, .result = "ok",
     .sched = NOCOPY_NORMAL, .doc = "Ends the stream now; later use of Z raises badarg."},
    {.name = "compress_traced", .arity = 2, .fn = zl_compress_traced, .args = DATA ", " LEVEL,
     .result = "{binary(), HandedAt :: non_neg_integer(), WroteAt :: non_neg_integer(),"
               " Thread :: binary()}", ABOVE,
     .doc = "Demo probe: compress/2 plus where the result lives, where C wrote it, the thread."},
    {.name = "uncompress_traced", .arity = 1, .fn = zl_uncompress_traced, .args = DATA,
     .result = "{" CHUNKS ", HandedAt :: [non_neg_integer()], LastWroteAt :: non_neg_integer(),"
               " Thread :: binary()}", ABOVE,
     .doc = "Demo probe: uncompress/1 plus where each chunk lives, where C wrote the last, the thread."},
    {.name = "address_of", .arity = 1, .fn = zl_address_of, .args = "Binary :: binary()",
     .result = "non_neg_integer()", .sched = NOCOPY_NORMAL,
     .doc = "Demo probe: the address of Binary's bytes as C sees them."},
    {.name = "stream_count", .arity = 0, .fn = zl_stream_count, .args = "",
     .result = "non_neg_integer()", .sched = NOCOPY_NORMAL,
     .doc = "Demo probe: z_streams alive in this library (this backend)."},
};

static const nocopy_handle_type *const zl_handle_types[] = {&deflate_type, &inflate_type, NULL};

static const nocopy_module nc_zlib_module = {
    .name = "nc_zlib",
    .funcs = zl_funcs,
    .nfuncs = sizeof zl_funcs / sizeof zl_funcs[0],
    .atoms = zl_atoms,
    .handle_types = zl_handle_types,
    .types =
        "-type level() :: 0..9 | none | default | best_speed | best_compression.\n"
        "-type flush() :: none | sync | full | finish.\n"
        "-type format() :: zlib | gzip | raw.\n"
        "-type inflate_format() :: format() | auto.\n"
        "-type deflate_stream() :: nocopy:handle().\n"
        "-type inflate_stream() :: nocopy:handle().\n"
        "-type reason() :: data_error | truncated | trailing_data | need_dictionary.\n"
        "-type stream_reason() :: data_error | trailing_data | need_dictionary.\n",
};

NOCOPY_MODULE(nc_zlib_module)
