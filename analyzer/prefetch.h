/* prefetch.h - how the analyzer declares its prefetch helpers (the staged prefetches of the
 * graph walks in dom.c and typing.c). */
#ifndef PREFETCH_H
#define PREFETCH_H

/* The declaration of a function whose only effect is __builtin_prefetch: it must be inlined,
 * as GCC deems such a function free of side effects and drops the call. */
#define PREFETCH_FN static inline __attribute__((always_inline)) void

#endif
