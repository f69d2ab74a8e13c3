/* stackobj.c - live stack objects of one goroutine, as the GC finds them (runtime/mgcmark.go
 * scanstack: a stack object is scanned when a pointer into it is found in a frame's live
 * slots or in another scanned stack object). Frame layout (amd64): the dump's frame memory
 * is [sp, fp); locals records are relative to varp (fp minus the return address, minus the
 * saved frame pointer when the frame has room for one), argument records to argp = fp. */
#include "stackobj.h"

#include <stdlib.h>
#include <string.h>

#include "hs_error.h"
#include "vec.h"

typedef struct so_frame {
    uint32_t node;
    uint64_t sp, len;
    size_t mem; /* offset of its copied memory in g->mem */
} so_frame;

typedef struct so_object {
    uint64_t addr;
    const symtab_stkobj *rec;
    int live;
} so_object;

struct stackobj_goroutine {
    const symtab *t;
    uint32_t ps;
    so_frame *frames;
    size_t nframes, capf;
    uint8_t *mem;
    size_t nmem, capm;
    so_object *objs;
    size_t nobjs, capo;
    uint64_t *work; /* pointer values still to look at */
    size_t nwork, capw;
};

stackobj_goroutine *stackobj_new(const symtab *t, uint32_t ptr_size)
{
    stackobj_goroutine *g = calloc(1, sizeof *g);
    if (g) {
        g->t = t;
        g->ps = ptr_size;
    }
    return g;
}

static uint64_t word(const stackobj_goroutine *g, const uint8_t *p)
{
    uint64_t v = 0;
    memcpy(&v, p, g->ps); /* little-endian hosts read little-endian dumps (gohd checks) */
    return v;
}

int stackobj_add_frame(stackobj_goroutine *g, uint32_t node, uint64_t sp, const uint8_t *mem,
                       size_t len, uint64_t entry, const uint64_t *ptr_offsets, size_t nptrs)
{
    size_t nrec = 0;
    const symtab_stkobj *recs = g->t ? symtab_stack_objects(g->t, entry, &nrec) : NULL;
    so_frame f = {node, sp, len, g->nmem};
    if (vec_reserve((void **)&g->mem, &g->capm, g->nmem + len + 1, 1) < 0 ||
        VEC_PUSH(g->frames, g->nframes, g->capf, f) < 0)
        return HS_ERR_NOMEM;
    memcpy(g->mem + g->nmem, mem, len);
    g->nmem += len;
    uint64_t fp = sp + len, varp = fp - g->ps;
    if (varp > sp)
        varp -= g->ps; /* the saved frame pointer */
    for (size_t i = 0; i < nrec; i++) {
        so_object o = {recs[i].off < 0 ? varp + (uint64_t)(int64_t)recs[i].off
                                        : fp + (uint64_t)recs[i].off,
                       &recs[i], 0};
        if (VEC_PUSH(g->objs, g->nobjs, g->capo, o) < 0)
            return HS_ERR_NOMEM;
    }
    for (size_t i = 0; i < nptrs; i++) {
        if (ptr_offsets[i] > len || len - ptr_offsets[i] < g->ps)
            continue;
        uint64_t v = word(g, mem + ptr_offsets[i]);
        if (v && VEC_PUSH(g->work, g->nwork, g->capw, v) < 0)
            return HS_ERR_NOMEM;
    }
    return HS_OK;
}

/* The frame whose memory holds [addr, addr + ps), or NULL. */
static const so_frame *frame_at(const stackobj_goroutine *g, uint64_t addr)
{
    for (size_t i = 0; i < g->nframes; i++) {
        const so_frame *f = &g->frames[i];
        if (addr >= f->sp && addr - f->sp + g->ps <= f->len)
            return f;
    }
    return NULL;
}

int stackobj_finish(stackobj_goroutine *g,
                    int (*emit)(void *ctx, uint32_t node, uint64_t field, uint64_t value),
                    void *ctx)
{
    int rc = HS_OK;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < g->nframes; i++) {
        lo = g->frames[i].sp < lo ? g->frames[i].sp : lo;
        hi = g->frames[i].sp + g->frames[i].len > hi ? g->frames[i].sp + g->frames[i].len : hi;
    }
    while (g->nobjs && g->nwork && rc >= 0) {
        uint64_t v = g->work[--g->nwork];
        if (v < lo || v >= hi)
            continue;
        for (size_t k = 0; k < g->nobjs && rc >= 0; k++) {
            so_object *o = &g->objs[k];
            if (o->live || v < o->addr || v - o->addr >= o->rec->size)
                continue;
            o->live = 1;
            for (uint32_t w = 0; w < o->rec->ptr_words && rc >= 0; w++) {
                if (!(o->rec->mask[w / 8] >> (w % 8) & 1))
                    continue;
                uint64_t at = o->addr + (uint64_t)w * g->ps;
                const so_frame *f = frame_at(g, at);
                if (!f)
                    continue; /* outside the dumped frames (the outermost frame's args) */
                uint64_t p = word(g, g->mem + f->mem + (at - f->sp));
                if (!p)
                    continue;
                if (p >= lo && p < hi)
                    rc = VEC_PUSH(g->work, g->nwork, g->capw, p) < 0 ? HS_ERR_NOMEM : HS_OK;
                else
                    rc = emit(ctx, f->node, at - f->sp, p);
            }
        }
    }
    g->nframes = g->nmem = g->nobjs = g->nwork = 0;
    return rc;
}

void stackobj_free(stackobj_goroutine *g)
{
    if (!g)
        return;
    free(g->frames);
    free(g->mem);
    free(g->objs);
    free(g->work);
    free(g);
}
