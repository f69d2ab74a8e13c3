/* typeinfo.c - distinctive type names and the owners of shapes. */
#include "typeinfo.h"

#include <stdlib.h>
#include <string.h>

struct typeinfo {
    const heap *h;         /* borrowed */
    uint32_t *shape_owner; /* per shape: see typeinfo_shape_owner */
};

int typeinfo_build(const heap *h, typeinfo **out, hs_error *err)
{
    *out = NULL;
    typeinfo *ti = calloc(1, sizeof *ti);
    uint32_t *own = malloc(((size_t)h->nshapes + 1) * sizeof *own);
    int rc = HS_OK;
    if (!ti || !own) {
        rc = hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                          "typeinfo: out of memory for the owners of %u shapes", h->nshapes);
        goto out;
    }
    const uint32_t mixed = TYPEINFO_SHAPE_MIXED;
    for (uint32_t s = 0; s < h->nshapes; s++)
        own[s] = HEAP_NONE;
    for (uint32_t v = 0; v < h->nobj; v++) {
        uint32_t t = h->obj_func[v] != HEAP_NONE ? mixed : h->obj_type[v];
        uint32_t *o = &own[h->obj_shape[v]];
        if (t == HEAP_NONE || *o == t || *o == mixed)
            continue;
        *o = *o == HEAP_NONE ? t : mixed;
    }
    ti->h = h;
    ti->shape_owner = own;
    *out = ti;
    ti = NULL;
    own = NULL;
out:
    free(own);
    typeinfo_free(ti);
    return rc;
}

void typeinfo_free(typeinfo *ti)
{
    if (!ti)
        return;
    free(ti->shape_owner);
    free(ti);
}

uint32_t typeinfo_shape_owner(const typeinfo *ti, uint32_t shape)
{
    return shape < ti->h->nshapes ? ti->shape_owner[shape] : HEAP_NONE;
}

int typeinfo_distinctive(const char *t)
{
    if (!t || !strchr(t, '.'))
        return 0;
    static const char *skip[] = {"sync.", "runtime.", "internal/", "reflect.", "unsafe."};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (!strncmp(t, skip[i], strlen(skip[i])))
            return 0;
    return 1;
}

const char *typeinfo_shape_type(const typeinfo *ti, uint32_t obj)
{
    if (!ti)
        return NULL;
    const heap *h = ti->h;
    if (obj >= h->nobj || h->obj_type[obj] != HEAP_NONE || h->obj_func[obj] != HEAP_NONE)
        return NULL;
    uint32_t t = ti->shape_owner[h->obj_shape[obj]];
    if (t == HEAP_NONE || t == TYPEINFO_SHAPE_MIXED)
        return NULL;
    const char *name = strpool_get(&h->names, h->types[t].name);
    return typeinfo_distinctive(name) ? name : NULL;
}
