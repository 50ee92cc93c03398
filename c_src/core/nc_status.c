/* nc_status.c: names and messages of the status codes (nocopy_status.h). */
#include "nocopy_status.h"

const char *nocopy_status_name(int status)
{
    switch (status) {
#define XX(name, value, ename, msg) case NOCOPY_##name: return ename;
        NOCOPY_STATUS_MAP(XX)
#undef XX
    default: return "unknown";
    }
}

const char *nocopy_strerror(int status)
{
    switch (status) {
#define XX(name, value, ename, msg) case NOCOPY_##name: return msg;
        NOCOPY_STATUS_MAP(XX)
#undef XX
    default: return "unknown status";
    }
}
