/* fuzz_typetab - typetab_decode (formats/TYPETAB.md) over arbitrary bytes; a refused input
 * names an offset inside it; an accepted one goes through fuzz_typetab_check (every record,
 * lookup and mask; a stable re-encoding). */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_typetab_check.h"

volatile unsigned fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    typetab *t;
    hs_error err;
    if (typetab_decode(data, size, &t, &err) < 0) {
        if (err.offset != HS_NO_OFFSET && err.offset > size)
            abort();
        return 0;
    }
    fuzz_typetab_check(t);
    typetab_free(t);
    return 0;
}
