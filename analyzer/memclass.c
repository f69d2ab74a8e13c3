/* memclass.c - memory classes and finalizer-retained bytes (see memclass.h). */
#include "memclass.h"

#include <stdlib.h>

#include "bitset.h"
#include "vec.h"

struct memclass {
    const graph *g;
    const live_result *live;
    const live_special *specials;
    size_t nspecials;
    uint64_t *held; /* not-in-use nodes a pinned object or its closure reaches */
};

static int nomem(hs_error *err, const char *what)
{
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "memclass: out of memory for %s", what);
}

/* Not in use, yet marked: what finalizer roots keep. */
static int fin_marked(const live_result *live, uint32_t v)
{
    live_state s = live_state_of(live, v);
    return s == LIVE_PINNED || s == LIVE_FIN_REACHABLE || s == LIVE_PENDING;
}

/* A breadth-first walk over finalizer-marked nodes that are not in `skip` (may be NULL),
 * marking `seen`. */
typedef struct walk {
    const graph *g;
    const live_result *live;
    const uint64_t *skip;
    uint64_t *seen;
    uint32_t *queue;
    size_t n, cap;
} walk;

static int visit(walk *w, uint32_t v)
{
    if (v == GRAPH_NONE || v >= graph_node_count(w->g) || bitset_get(w->seen, v) ||
        (w->skip && bitset_get(w->skip, v)) || !fin_marked(w->live, v))
        return HS_OK;
    bitset_set(w->seen, v);
    return VEC_PUSH(w->queue, w->n, w->cap, v) < 0 ? HS_ERR_NOMEM : HS_OK;
}

/* Seeds special s: its funcval, its object and the object's referents. */
static int seed(walk *w, const live_special *s)
{
    const uint32_t *off = graph_out_offsets(w->g), *dst = graph_out_dst(w->g);
    int rc = visit(w, s->fn);
    if (rc >= 0)
        rc = visit(w, s->obj);
    for (uint32_t e = off[s->obj]; rc >= 0 && e < off[s->obj + 1]; e++)
        rc = visit(w, dst[e]);
    return rc;
}

/* Visits everything reachable from what is queued. */
static int drain(walk *w)
{
    const uint32_t *off = graph_out_offsets(w->g), *dst = graph_out_dst(w->g);
    int rc = HS_OK;
    for (size_t head = 0; rc >= 0 && head < w->n; head++) {
        uint32_t v = w->queue[head];
        for (uint32_t e = off[v]; rc >= 0 && e < off[v + 1]; e++)
            rc = visit(w, dst[e]);
    }
    w->n = 0;
    return rc;
}

int memclass_compute(const graph *g, const live_result *live, const live_special *specials,
                     size_t nspecials, memclass **out, hs_error *err)
{
    *out = NULL;
    memclass *c = calloc(1, sizeof *c);
    walk w = {g, live, NULL, NULL, NULL, 0, 0};
    int rc = HS_OK;
    if (!c || !(c->held = bitset_new(graph_node_count(g)))) {
        rc = nomem(err, "the memory classes");
        goto out;
    }
    *c = (memclass){g, live, specials, nspecials, c->held};
    w.seen = c->held;
    for (size_t i = 0; rc >= 0 && i < nspecials; i++)
        if (live_state_of(live, specials[i].obj) == LIVE_PINNED)
            rc = seed(&w, &specials[i]);
    if (rc >= 0)
        rc = drain(&w);
    if (rc < 0) {
        rc = nomem(err, "the walk from the pinned objects");
        goto out;
    }
    *out = c;
    c = NULL;
out:
    free(w.queue);
    memclass_free(c);
    return rc;
}

void memclass_free(memclass *c)
{
    if (!c)
        return;
    free(c->held);
    free(c);
}

report_class memclass_of(const memclass *c, uint32_t v)
{
    if (v >= graph_node_count(c->g))
        return REPORT_CLASS_GARBAGE;
    switch (live_state_of(c->live, v)) {
    case LIVE_IN_USE: return REPORT_CLASS_IN_USE;
    case LIVE_GARBAGE: return REPORT_CLASS_GARBAGE;
    default: return bitset_get(c->held, v) ? REPORT_CLASS_FIN_HELD : REPORT_CLASS_PENDING;
    }
}

int memclass_retained(const memclass *c, const uint32_t *in, size_t n, uint32_t limit,
                      uint64_t *out, hs_error *err)
{
    *out = 0;
    uint32_t nodes = graph_node_count(c->g);
    uint64_t *inset = bitset_new(c->nspecials), *others = bitset_new(nodes),
             *mine = bitset_new(nodes);
    walk w = {c->g, c->live, NULL, others, NULL, 0, 0};
    int rc = HS_OK;
    if (!inset || !others || !mine) {
        rc = nomem(err, "the finalizers' retained bytes");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (in[i] < c->nspecials)
            bitset_set(inset, in[i]);
    /* What the other finalizers keep (their objects too: those stay, to be finalized). */
    for (size_t i = 0; rc >= 0 && i < c->nspecials; i++)
        if (!bitset_get(inset, (uint32_t)i))
            rc = seed(&w, &c->specials[i]);
    if (rc >= 0)
        rc = drain(&w);
    w.skip = others;
    w.seen = mine;
    for (size_t i = 0; rc >= 0 && i < n; i++)
        if (in[i] < c->nspecials)
            rc = seed(&w, &c->specials[in[i]]);
    if (rc >= 0)
        rc = drain(&w);
    if (rc < 0) {
        rc = nomem(err, "the walk from the finalizers");
        goto out;
    }
    const uint64_t *size = graph_sizes(c->g);
    for (size_t k = 0; k < bitset_words(limit); k++)
        for (uint64_t bits = mine[k]; bits; bits &= bits - 1) {
            uint32_t v = (uint32_t)(k * 64 + (size_t)__builtin_ctzll(bits));
            if (v < limit)
                *out += size[v];
        }
out:
    free(w.queue);
    free(inset);
    free(others);
    free(mine);
    return rc;
}
