/* nc_iso_names.c: the module's atom names as the request decoder reads
 * them (built-in atoms first, then the module's), made once at start-up by
 * the child's main and by the fuzz target that runs the child's CALL reader
 * (fuzz/fuzz_iso_call.c). */
#include <stdlib.h>
#include <string.h>

#include "nc_iso.h"

int nocopy__iso_setup_names(const nocopy_module *m)
{
    int n = nocopy__module_atom_count(m);
    int total = NOCOPY_ATOM_BUILTIN_COUNT + n;
    nocopy__wire_atom_name *names = calloc((size_t)total, sizeof *names);
    if (!names)
        return -1;
    for (int i = 0; i < total; i++) {
        nocopy_atom a = i < NOCOPY_ATOM_BUILTIN_COUNT ? -i - 1 : i - NOCOPY_ATOM_BUILTIN_COUNT;
        names[i].name = nocopy__atom_name(m, a);
        names[i].len = strlen(names[i].name);
    }
    nocopy__iso.names = names;         /* for the process's life */
    nocopy__iso.natoms = n;
    return 0;
}
