/* fuzz_godwarf - godwarf_read (formats/godwarf.h) over arbitrary bytes taken as an ELF file
 * with DWARF; an accepted one goes through fuzz_typetab_check (every record, lookup and mask;
 * a stable re-encoding). (An error may name an offset past the end: where a section header
 * says a section lies.) */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_typetab_check.h"
#include "godwarf.h"

volatile unsigned fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    typetab *t = NULL;
    hs_error err;
    int rc = godwarf_read(data, size, &t, &err);
    if (rc < 0) {
        if (t)
            abort();
        return 0;
    }
    fuzz_typetab_check(t);
    typetab_free(t);
    return 0;
}
