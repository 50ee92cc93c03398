/* nocopy_status.h: status codes shared by every nocopy function.
 *
 * Values are pinned: once published, a code keeps its number. New codes get new
 * numbers at the end. Every function that can fail returns NOCOPY_OK (0) or one of
 * the negative codes below. */
#ifndef NOCOPY_STATUS_H
#define NOCOPY_STATUS_H

/* The API is linked into each library with the user's code, never shared
 * between libraries: nothing is exported but the runtime's entry point
 * (nif_init, driver_init). So calls into nocopy are direct (no PLT), and two
 * nocopy libraries in one VM never see each other's symbols. */
#if defined(__GNUC__) && __GNUC__ >= 4
#  define NOCOPY_API __attribute__((visibility("hidden")))
#else
#  define NOCOPY_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* XX(NAME, value, erlang_name, message). The Erlang side sees a status as the atom
 * erlang_name (NOCOPY_ENOMEM -> enomem). */
#define NOCOPY_STATUS_MAP(XX)                                                  \
    XX(OK,         0, "ok",        "success")                                 \
    XX(EBADARG,   -1, "ebadarg",   "argument has the wrong type or value")    \
    XX(ENOMEM,    -2, "enomem",    "out of memory")                           \
    XX(ERANGE,    -3, "erange",    "integer or size out of range")            \
    XX(ECLOSED,   -4, "eclosed",   "handle has been closed")                  \
    XX(EPROTO,    -5, "eproto",    "malformed request")                       \
    XX(EOVERLOAD, -6, "eoverload", "too many calls in flight")                \
    XX(ENOTSUP,   -7, "enotsup",   "not supported by this backend")           \
    XX(EINTERNAL, -8, "einternal", "internal error in a wrapped function")

typedef enum nocopy_status {
#define NOCOPY_XX_(name, value, ename, msg) NOCOPY_##name = (value),
    NOCOPY_STATUS_MAP(NOCOPY_XX_)
#undef NOCOPY_XX_
} nocopy_status;

/*! nocopy_status_name() :
 *  @return : the lower-case name of `status` ("ok", "ebadarg", ...), a static
 *            string; "unknown" for a value that is not a status. */
NOCOPY_API const char *nocopy_status_name(int status);

/*! nocopy_strerror() :
 *  @return : a one-line English message for `status`, a static string. */
NOCOPY_API const char *nocopy_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif /* NOCOPY_STATUS_H */
