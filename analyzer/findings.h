/* findings.h - groups detector results into report findings: objects that share a kind and a
 * signature (same holder, same type or closure function) become one finding, whose bytes and
 * retained bytes are computed once all members are known.
 *
 * A detector describes each object it flags with a findings_spec and hands it to
 * findings_note; the findings own their report_finding entries until findings_finish moves
 * them into the report.
 */
#ifndef FINDINGS_H
#define FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "hs_error.h"
#include "report.h"
#include "u64map.h"

typedef struct findings {
    report_finding *items;
    uint32_t **members;   /* node ids per finding */
    size_t *nmembers, *capmembers;
    size_t n, cap;
    u64map by_signature;  /* hash(kind, signature) -> index */
} findings;

/* What a detector says about the objects it flags. Every string is borrowed: findings_note
 * copies what it keeps. */
typedef struct findings_spec {
    int kind;              /* report_finding_kind */
    const char *signature; /* objects of one kind and signature share a finding */
    const char *evidence;  /* "type", "scc", "liveness", ... */
    const char *type;      /* what the objects are ("main.Payload", "cycle of 3 objects ...") */
    const char *reason;    /* or NULL */
    const char *container; /* or NULL */
    const char *title;     /* or NULL, when describe sets it */
    /* Called once, when the finding is created (the strings above are set): fills the rest
     * (holder, path, title, ...) and returns HS_OK, or a negative status with err set. May
     * be NULL. */
    int (*describe)(void *ctx, report_finding *f, hs_error *err);
    void *ctx;
} findings_spec;

/* Adds nodes[0..n-1] to the finding of (spec->kind, spec->signature), creating it first when
 * there is none: the new finding gets copies of spec's strings, then spec->describe. Returns
 * HS_OK, or a negative status with err set (a finding left half filled is still owned by
 * fs: findings_release frees it). */
int findings_note(findings *fs, const findings_spec *spec, const uint32_t *nodes, size_t n,
                  hs_error *err);

/* Fills objects, bytes and retained bytes of every finding from its members (retained bytes
 * count each dominator subtree once: members dominated by another member add nothing; a
 * needs its dominator tree), then moves the findings into *out / *nout (appending; the caller
 * owns them) and empties fs. Returns HS_OK, or HS_ERR_NOMEM with err set (fs then keeps what
 * it had). */
int findings_finish(findings *fs, const analysis *a, report_finding **out, size_t *nout,
                    hs_error *err);

/* Removes from the finished findings arr[0..*n-1] of `kind` the objects whose node v has
 * drop[v] != 0 (drop has an entry per heap object of a), recomputing their bytes and retained
 * bytes; a finding left with no object is freed and removed. Returns HS_OK or HS_ERR_NOMEM
 * with err set. */
int findings_drop(const analysis *a, report_finding *arr, size_t *n, int kind,
                  const uint32_t *drop, hs_error *err);

/* The hash that groups findings: of a kind and a signature (64-bit FNV-1a). */
uint64_t findings_hash(int kind, const char *signature);

/* Frees what fs still owns and empties it. */
void findings_release(findings *fs);

#endif
