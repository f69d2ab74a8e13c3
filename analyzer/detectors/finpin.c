/* finpin.c - finalizer-pinned objects: the liveness module decides who is pinned and why;
 * this groups them by (reason, finalizer function, type) and draws the pinning path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "detectors.h"

static const char *reason_name(live_pin_reason r)
{
    switch (r) {
    case LIVE_PIN_OWN_CLOSURE: return "own_closure";
    case LIVE_PIN_CYCLE: return "cycle";
    case LIVE_PIN_OTHER_FINALIZER: return "other_finalizer";
    default: return "unknown";
    }
}

static const char *fin_func(const analysis *a, uint32_t special)
{
    const heap_finalizer *fin = &a->h->fins[a->special_fin[special]];
    return fin->fn_name != HEAP_NONE ? strpool_get(&a->h->names, fin->fn_name) : "?";
}

/* Title, holder and path of a new pinned group, from its first object x. */
static int describe_group(analysis *a, report_finding *f, uint32_t x, uint32_t special,
                          live_pin_reason why)
{
    char buf[256];
    heap_describe(a->h, x, buf, sizeof buf);
    size_t n = live_pin_path(a->live, x, NULL, 0, NULL);
    graph_step *steps = malloc((n ? n : 1) * sizeof *steps);
    if (!steps)
        return HS_ERR_NOMEM;
    uint32_t holder_special = special;
    live_pin_path(a->live, x, steps, n, &holder_special);
    char *root_name;
    switch (why) {
    case LIVE_PIN_OWN_CLOSURE:
        f->holder = report_strfmt("its own finalizer closure %s", fin_func(a, special));
        root_name = report_strfmt("finalizer %s of %s", fin_func(a, special), buf);
        f->title = report_strfmt("never finalized: its finalizer %s captures the object",
                                 fin_func(a, special));
        break;
    case LIVE_PIN_CYCLE:
        f->holder = report_strfmt("a cycle through its own referents");
        root_name = report_strfmt("finalizer %s of %s (scans its referents)",
                                  fin_func(a, special), buf);
        f->title = report_strfmt("never finalized: it lies on a reference cycle, and Go marks "
                                 "what a finalizer object points to");
        break;
    default: {
        char other[256] = "another finalizer object";
        if (holder_special < a->nspecials)
            heap_describe(a->h, a->specials[holder_special].obj, other, sizeof other);
        f->holder = report_strfmt("the finalizer of %s", other);
        root_name = report_strfmt("finalizer %s of %s",
                                  holder_special < a->nspecials ? fin_func(a, holder_special) : "?",
                                  other);
        f->title = report_strfmt("never finalized: kept reachable by another finalizer object's "
                                 "referents or closure");
        break;
    }
    }
    int rc = f->holder && root_name && f->title ? HS_OK : HS_ERR_NOMEM;
    if (rc >= 0)
        rc = describe_path(a, steps, n, "finalizer", root_name, &f->path);
    free(root_name);
    free(steps);
    return rc;
}

int finpin_detect(analysis *a, findings *out)
{
    for (size_t i = 0; i < a->nspecials; i++) {
        uint32_t x = a->specials[i].obj;
        if (live_state_of(a->live, x) != LIVE_PINNED)
            continue;
        live_pin_reason why = live_pin_reason_of(a->live, x);
        char *label = describe_label(a, x);
        int created = 0;
        report_finding *f = label ? findings_groupf(out, REPORT_FINALIZER_PINNED, &created,
                                                    "%s|%s|%s", reason_name(why),
                                                    fin_func(a, (uint32_t)i), label)
                                  : NULL;
        if (!f) {
            free(label);
            return HS_ERR_NOMEM;
        }
        int rc = HS_OK;
        if (created) {
            f->evidence = report_strdup("liveness");
            f->reason = report_strdup(reason_name(why));
            f->type = label;
            label = NULL;
            rc = describe_group(a, f, x, (uint32_t)i, why);
        }
        free(label);
        if (rc < 0 || findings_add(out, f, x) < 0)
            return HS_ERR_NOMEM;
    }
    return HS_OK;
}
