/* spare.c - the pool of dead arrays (see spare.h for who owns what). */
#include "spare.h"

#include <stdlib.h>

#include "vec.h"

void spare_add(spare_pool *pool, void *p, size_t bytes)
{
    if (!p)
        return;
    for (int i = 0; i < SPARE_SLOTS; i++)
        if (!pool->block[i]) {
            pool->block[i] = p;
            pool->bytes[i] = bytes;
            return;
        }
    free(p);
}

void *spare_take(spare_pool *pool, size_t bytes)
{
    int best = -1;
    for (int i = 0; i < SPARE_SLOTS; i++)
        if (pool->block[i] && pool->bytes[i] >= bytes &&
            (best < 0 || pool->bytes[i] < pool->bytes[best]))
            best = i;
    if (best < 0)
        return NULL;
    void *p = vec_shrink(pool->block[best], bytes);
    pool->block[best] = NULL;
    return p;
}

void spare_release(spare_pool *pool)
{
    if (!pool)
        return;
    for (int i = 0; i < SPARE_SLOTS; i++) {
        free(pool->block[i]);
        pool->block[i] = NULL;
    }
}
