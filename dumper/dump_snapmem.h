/* dump_snapmem.h - the memory half of a live snapshot (dump_snap.h): which mappings of
 * /proc/PID/maps are copied, their buffers allocated and faulted in before the process stops
 * (so the pause pays for the copy alone), and the copy itself while it is stopped:
 * process_vm_readv (else /proc/PID/mem), skipping the pages of private anonymous mappings
 * that /proc/PID/pagemap shows the process never touched (they read as zeros: the buffer's
 * own zeros, never read). */
#ifndef DUMP_SNAPMEM_H
#define DUMP_SNAPMEM_H

#include <stdint.h>

#include "coremem.h"
#include "dump_err.h"

typedef struct dump_snapmem dump_snapmem;

typedef struct dump_snapmem_stats {
    uint64_t bytes_held;      /* bytes of the segments added */
    uint64_t bytes_untouched; /* of those, zeros of pages the process never touched */
    uint64_t bytes_missing;   /* bytes of mappings meant to be copied that could not be read */
} dump_snapmem_stats;

/* Before the process stops: reads its maps and prepares a buffer for every mapping to be
 * copied (exe: /proc/PID/exe, whose mappings are copied whole). Fails like dump_proc_maps.
 * The caller frees *out with dump_snapmem_free. */
int dump_snapmem_prepare(int pid, const char *exe, dump_snapmem **out, dump_err *err);

/* While every thread is stopped: reads the maps again and adds each mapping to m, as a
 * segment with its bytes (into the prepared buffer when the mapping is unchanged) or without
 * (dump_snap.h: what is copied), and each file mapping. Once only. */
int dump_snapmem_copy(dump_snapmem *sm, coremem *m, dump_snapmem_stats *st, dump_err *err);

/* Frees the buffers not handed to a coremem and closes the files (NULL is accepted). */
void dump_snapmem_free(dump_snapmem *sm);

#endif
