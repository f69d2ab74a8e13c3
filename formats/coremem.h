/* coremem.h - the memory of a stopped process, read by address: its mapped segments, its
 * threads' registers and a few facts about it (pid, executable, auxiliary vector). One model,
 * two producers: an ELF core file (coremem_from_core: the kernel's core after a crash, or
 * gdb's gcore) and a live snapshot, which the dumper fills with coremem_add_* while the
 * process is stopped (dumper/dump_snap.c). The Go runtime walker (gocore.h) reads only this.
 *
 * Segments never overlap; a segment may hold fewer bytes than it spans (a core stores no
 * bytes for a mapping the kernel left out, such as read-only file pages): reads of the
 * missing part fail with HS_ERR_NOTFOUND, they never invent zeros.
 */
#ifndef COREMEM_H
#define COREMEM_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"

/* Segment flags. */
#define COREMEM_R 1u
#define COREMEM_W 2u
#define COREMEM_X 4u

typedef struct coremem_segment {
    uint64_t vaddr;       /* first address */
    uint64_t memsz;       /* bytes of address space */
    uint64_t filesz;      /* bytes held (<= memsz); [vaddr + filesz, vaddr + memsz) unknown */
    const uint8_t *bytes; /* the held bytes; borrowed from the core image or owned by the
                           * coremem (coremem_add_segment) */
    uint64_t file_off;    /* core file offset of bytes[0] (for messages); 0 for a snapshot */
    uint32_t flags;       /* COREMEM_R | W | X */
} coremem_segment;

/* The registers of one thread (amd64: the general registers of NT_PRSTATUS or
 * PTRACE_GETREGS). */
typedef struct coremem_thread {
    int64_t tid;
    uint64_t pc, sp, bp; /* rip, rsp, rbp */
    uint64_t fs_base;    /* the thread pointer (Go keeps g in TLS at fs_base - 8 on amd64) */
} coremem_thread;

/* A file mapping the process had (NT_FILE, or /proc/PID/maps). */
typedef struct coremem_file {
    uint64_t start, end, file_off; /* file_off: bytes into the file */
    const char *path;             /* owned by the coremem */
} coremem_file;

typedef struct coremem_info {
    int64_t pid;          /* 0 when unknown */
    char exe[4096];       /* the executable's path as the process saw it, "" when unknown */
    char comm[17];        /* the kernel's command name (PRPSINFO fname), "" when unknown */
    int signal;           /* the signal that ended the process (core), 0 otherwise */
    uint64_t at_entry;    /* auxv AT_ENTRY, 0 when unknown */
    uint64_t at_phdr;     /* auxv AT_PHDR, 0 when unknown */
    unsigned machine;     /* ELF e_machine (EM_X86_64) */
    int from_core;        /* 1: read from a core file; 0: a live snapshot */
} coremem_info;

typedef struct coremem coremem;

/* Reads an ELF core file held in memory (data must outlive the coremem): PT_LOAD segments,
 * NT_PRSTATUS (threads), NT_PRPSINFO, NT_AUXV and NT_FILE notes. Fails with HS_ERR_FORMAT /
 * HS_ERR_TRUNCATED naming the byte offset for anything that is not a well-formed ELF core
 * (ET_CORE) of a 64-bit little-endian amd64 process, HS_ERR_UNSUPPORTED for another machine.
 * A segment whose bytes the file cuts short is kept with the bytes present (a truncated core
 * is an error: HS_ERR_TRUNCATED naming the first missing byte). The caller frees *out with
 * coremem_free. */
int coremem_from_core(const uint8_t *data, size_t size, coremem **out, hs_error *err);

/* An empty image for a producer that adds segments and threads itself (a live snapshot);
 * NULL when out of memory. */
coremem *coremem_new(void);

/* Adds a segment whose bytes (filesz of them, malloc'd) the coremem takes over (freed by
 * coremem_free, also on failure). Before coremem_finish only. */
int coremem_add_segment(coremem *m, uint64_t vaddr, uint64_t memsz, uint8_t *bytes,
                        uint64_t filesz, uint32_t flags, hs_error *err);

/* Adds a thread, a file mapping (path copied). Before coremem_finish only. */
int coremem_add_thread(coremem *m, const coremem_thread *t, hs_error *err);
int coremem_add_file(coremem *m, uint64_t start, uint64_t end, uint64_t file_off,
                     const char *path, hs_error *err);

/* The facts; the mutable form is for producers before coremem_finish. */
const coremem_info *coremem_get_info(const coremem *m);
coremem_info *coremem_info_mut(coremem *m);

/* Sorts the segments and checks that none overlap (HS_ERR_FORMAT naming both). Call once
 * after the last add (coremem_from_core calls it itself). */
int coremem_finish(coremem *m, hs_error *err);

/* Frees the image (NULL is accepted). */
void coremem_free(coremem *m);

/* Copies len bytes at addr into buf. HS_ERR_NOTFOUND naming the first address that no
 * segment holds (the message says whether it is mapped without bytes or not mapped). */
int coremem_read(const coremem *m, uint64_t addr, void *buf, size_t len, hs_error *err);

/* The held bytes at [addr, addr + len) when one segment holds them all, else NULL (borrowed:
 * valid while m lives). The fast path for word reads and whole objects. */
const uint8_t *coremem_ptr(const coremem *m, uint64_t addr, uint64_t len);

/* Reads a little-endian 64-bit word; HS_ERR_NOTFOUND as coremem_read. */
int coremem_u64(const coremem *m, uint64_t addr, uint64_t *v, hs_error *err);

/* Segments in address order, threads in the order added (a core: note order), files. */
size_t coremem_segment_count(const coremem *m);
const coremem_segment *coremem_segment_get(const coremem *m, size_t i);
size_t coremem_thread_count(const coremem *m);
const coremem_thread *coremem_thread_get(const coremem *m, size_t i);
size_t coremem_file_count(const coremem *m);
const coremem_file *coremem_file_get(const coremem *m, size_t i);

#endif
