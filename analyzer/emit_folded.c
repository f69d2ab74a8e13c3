/* emit_folded.c - the report's flame-graph rows as folded stacks ("root;A;B bytes" per
 * line), the input format of flamegraph.pl and speedscope. */
#include <inttypes.h>

#include "emit.h"

int emit_folded(const report *r, hs_writer out)
{
    if (!r || !out.write)
        return HS_ERR_ARG;
    emit_buf b;
    emit_buf_init(&b, out);
    for (size_t i = 0; i < r->nfolded; i++) {
        emit_buf_clean(&b, r->folded[i].label, EMIT_CLEAN_TERMINAL);
        emit_buf_printf(&b, " %" PRIu64 "\n", r->folded[i].bytes);
    }
    return emit_buf_finish(&b);
}
