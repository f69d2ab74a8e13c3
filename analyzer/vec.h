/* vec.h - growable flat arrays: `VEC_PUSH(arr, len, cap, value)` appends, doubling the
 * allocation; returns 0, or -1 when out of memory (the array is then unchanged). */
#ifndef VEC_H
#define VEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Ensures room for `need` elements of `elem` bytes in *arr; returns 0 or -1 on overflow/OOM. */
static inline int vec_reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return -1;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

#define VEC_PUSH(arr, len, cap, value)                                                      \
    (vec_reserve((void **)&(arr), &(cap), (len) + 1, sizeof *(arr)) < 0                     \
         ? -1                                                                               \
         : ((arr)[(len)++] = (value), 0))

#endif
