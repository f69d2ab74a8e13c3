/* findings.h - groups detector results into report findings: objects that share a kind and a
 * signature (same holder, same type or closure function) become one finding, whose bytes and
 * retained bytes are computed once all members are known. */
#ifndef FINDINGS_H
#define FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "report.h"
#include "u64map.h"

typedef struct findings {
    report_finding *items;
    uint32_t **members;   /* node ids per finding */
    size_t *nmembers, *capmembers;
    size_t n, cap;
    u64map by_signature;  /* hash(kind, signature) -> index */
} findings;

/* The finding for (kind, signature), created empty on first use (*created = 1; the caller
 * then fills title, path, ...). Returns NULL when out of memory. */
report_finding *findings_group(findings *fs, int kind, const char *signature, int *created);

/* findings_group with the signature built from a printf format. NULL when out of memory. */
report_finding *findings_groupf(findings *fs, int kind, int *created, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds an object node to a finding. */
int findings_add(findings *fs, report_finding *f, uint32_t node);

/* Fills objects, bytes and retained bytes of every finding from its members (retained bytes
 * count each dominator subtree once: members dominated by another member add nothing), then
 * moves the findings into *out / *nout (appending) and empties fs. */
int findings_finish(findings *fs, const analysis *a, report_finding **out, size_t *nout);

/* Frees what fs still owns. */
void findings_release(findings *fs);

#endif
