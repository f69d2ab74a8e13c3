/* tombstone.c - sync.Map tombstones (container bloat): read-map entries of Go 1.19-1.23
 * sync.Maps whose value was deleted, which the containers module decodes; one finding per
 * container, with the path to its first tombstone. */
#include <stdio.h>
#include <stdlib.h>

#include "describe.h"
#include "detectors.h"

int tombstone_detect(analysis *a, findings *out)
{
    for (size_t c = 0; c < a->ncontainers; c++) {
        analysis_container *ct = &a->containers[c];
        if (!ct->ntombstones)
            continue;
        int created;
        report_finding *f = findings_groupf(out, REPORT_TOMBSTONE, &created, "tombstone|%s",
                                            ct->name);
        if (!f)
            return HS_ERR_NOMEM;
        f->evidence = report_strdup("sync.Map layout");
        f->container = report_strdup(ct->name);
        f->keys = ct->ntombstones;
        f->holder = report_strfmt("the read map of %s", ct->name);
        f->title = report_strfmt("%zu deleted keys still held in the read map of %s (%llu B): "
                                 "sync.Map keeps them until new keys promote the dirty map",
                                 ct->ntombstones, ct->name,
                                 (unsigned long long)ct->tombstone_bytes);
        f->type = report_strdup("sync.entry");
        int rc = f->evidence && f->container && f->holder && f->title && f->type
                     ? describe_program_path(a, ct->tombstones[0], &f->path)
                     : HS_ERR_NOMEM;
        for (size_t i = 0; i < ct->ntombstones && rc >= 0; i++)
            rc = findings_add(out, f, ct->tombstones[i]);
        if (rc < 0)
            return rc;
    }
    return HS_OK;
}
