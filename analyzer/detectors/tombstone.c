/* tombstone.c - sync.Map tombstones (container bloat): read-map entries of Go 1.19-1.23
 * sync.Maps whose value was deleted, which the containers module decodes; one finding per
 * container, with the path to its first tombstone. */
#include <stdio.h>
#include <stdlib.h>

#include "describe.h"
#include "detectors.h"

typedef struct tomb_ctx {
    analysis *a;
    const analysis_container *ct;
} tomb_ctx;

/* Keys, holder, title and path of a container's tombstone finding (findings_spec's
 * describe). */
static int describe_tombstones(void *ctx, report_finding *f, hs_error *err)
{
    const tomb_ctx *t = ctx;
    const analysis_container *ct = t->ct;
    f->keys = ct->ntombstones;
    f->holder = report_strfmt("the read map of %s", ct->name);
    f->title = report_strfmt("%zu deleted keys still held in the read map of %s (%llu B): "
                             "sync.Map keeps them until new keys promote the dirty map",
                             ct->ntombstones, ct->name, (unsigned long long)ct->tombstone_bytes);
    int rc = f->holder && f->title ? describe_program_path(t->a, ct->tombstones[0], &f->path)
                                   : HS_ERR_NOMEM;
    if (rc < 0)
        return hs_error_set(err, rc, HS_NO_OFFSET, "tombstones: describing those of %s",
                            ct->name);
    return HS_OK;
}

int tombstone_detect(analysis *a, findings *out, hs_error *err)
{
    for (size_t c = 0; c < a->ncontainers; c++) {
        const analysis_container *ct = &a->containers[c];
        if (!ct->ntombstones)
            continue;
        char *sig = report_strfmt("tombstone|%s", ct->name);
        if (!sig)
            return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                                "tombstones: out of memory naming those of %s", ct->name);
        tomb_ctx t = {a, ct};
        findings_spec spec = {.kind = REPORT_TOMBSTONE, .signature = sig,
                              .evidence = "sync.Map layout", .type = "sync.entry",
                              .container = ct->name, .describe = describe_tombstones,
                              .ctx = &t};
        int rc = findings_note(out, &spec, ct->tombstones, ct->ntombstones, err);
        free(sig);
        if (rc < 0)
            return rc;
    }
    return HS_OK;
}
