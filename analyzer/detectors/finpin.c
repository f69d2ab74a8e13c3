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

typedef struct group_ctx {
    analysis *a;
    uint32_t x;       /* the group's first object */
    uint32_t special; /* its finalizer special */
    live_pin_reason why;
} group_ctx;

/* Holder, title and path of a new pinned group, from its first object (findings_spec's
 * describe). */
static int describe_group(void *ctx, report_finding *f, hs_error *err)
{
    const group_ctx *g = ctx;
    analysis *a = g->a;
    uint32_t special = g->special;
    char buf[256];
    heap_describe(a->h, g->x, buf, sizeof buf);
    int rc = HS_OK;
    char *root_name = NULL;
    size_t n = live_pin_path(a->live, g->x, NULL, 0, NULL);
    graph_step *steps = malloc((n ? n : 1) * sizeof *steps);
    if (!steps) {
        rc = HS_ERR_NOMEM;
        goto out;
    }
    uint32_t holder_special = special;
    live_pin_path(a->live, g->x, steps, n, &holder_special);
    switch (g->why) {
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
    if (!f->holder || !root_name || !f->title)
        rc = HS_ERR_NOMEM;
    else
        rc = describe_path(a, steps, n, "finalizer", root_name, &f->path);
out:
    free(root_name);
    free(steps);
    if (rc < 0)
        return hs_error_set(err, rc, HS_NO_OFFSET, "finpin: describing the pinned %s", buf);
    return HS_OK;
}

int finpin_detect(analysis *a, findings *out, hs_error *err)
{
    for (size_t i = 0; i < a->nspecials; i++) {
        uint32_t x = a->specials[i].obj;
        if (live_state_of(a->live, x) != LIVE_PINNED)
            continue;
        live_pin_reason why = live_pin_reason_of(a->live, x);
        group_ctx g = {a, x, (uint32_t)i, why};
        char *label = describe_label(a, x);
        char *sig = label ? report_strfmt("%s|%s|%s", reason_name(why),
                                          fin_func(a, (uint32_t)i), label)
                          : NULL;
        int rc;
        if (!sig) {
            rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                              "finpin: out of memory for the label of object %u", x);
        } else {
            findings_spec spec = {.kind = REPORT_FINALIZER_PINNED, .signature = sig,
                                  .evidence = "liveness", .type = label,
                                  .reason = reason_name(why), .describe = describe_group,
                                  .ctx = &g};
            rc = findings_note(out, &spec, &x, 1, err);
        }
        free(sig);
        free(label);
        if (rc < 0)
            return rc;
    }
    return HS_OK;
}
