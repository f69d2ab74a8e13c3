/* stackobj.h - stack objects: the address-taken locals and stack-allocated backing stores
 * (Go 1.25+ puts small slices' arrays on the stack) that a heap dump's frame pointer maps do
 * not describe. The GC scans a stack object only when a live pointer of the goroutine's
 * stack points into it; this module does the same over one goroutine's frames, with the
 * compiler's stack object records (symtab_stack_objects), and hands back the heap pointers
 * the live objects hold, as extra slots of the frame each object lies in. */
#ifndef STACKOBJ_H
#define STACKOBJ_H

#include <stddef.h>
#include <stdint.h>

#include "symtab.h"

typedef struct stackobj_goroutine stackobj_goroutine;

/* An empty accumulator for the frames of one goroutine; NULL when out of memory. */
stackobj_goroutine *stackobj_new(const symtab *t, uint32_t ptr_size);

/* Adds a frame (innermost first): its node, sp, memory [sp, sp + len) (copied), the entry
 * pc of its function, and the offsets of its described pointer slots. */
int stackobj_add_frame(stackobj_goroutine *g, uint32_t node, uint64_t sp, const uint8_t *mem,
                       size_t len, uint64_t entry, const uint64_t *ptr_offsets, size_t nptrs);

/* Marks the stack objects live pointers reach and calls emit(ctx, frame node, offset from
 * the frame's sp, value) for every non-nil pointer word they hold that points outside the
 * stack; then forgets the frames (the accumulator is reused for the next goroutine). Returns
 * HS_OK or the first negative status of emit. */
int stackobj_finish(stackobj_goroutine *g,
                    int (*emit)(void *ctx, uint32_t node, uint64_t field, uint64_t value),
                    void *ctx);

/* Frees the accumulator (NULL is accepted). */
void stackobj_free(stackobj_goroutine *g);

#endif
