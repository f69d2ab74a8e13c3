/* golayout.h - which runtime layouts a Go version uses: sync.Map, maps, malloc headers, weak
 * handles, cleanups. One table keyed on the dump's Go version, so that no other module
 * compares version numbers (docs/go-runtime.md has the layouts themselves). */
#ifndef GOLAYOUT_H
#define GOLAYOUT_H

/* The oldest and newest Go minor versions heapsift is tested on (real dumps of each). */
#define GOLAYOUT_OLDEST_TESTED 19
#define GOLAYOUT_NEWEST_TESTED 27

typedef enum golayout_syncmap {
    GOLAYOUT_SYNCMAP_VALUE = 0, /* 1.9-1.19: read is an atomic.Value holding a readOnly */
    GOLAYOUT_SYNCMAP_POINTER,   /* 1.20-1.23: read is an atomic.Pointer[readOnly] */
    GOLAYOUT_SYNCMAP_TRIE,      /* 1.24+: internal/sync.HashTrieMap, no tombstones */
} golayout_syncmap;

typedef enum golayout_map {
    GOLAYOUT_MAP_HMAP = 0, /* up to 1.23: hmap, buckets of 8, incremental growth */
    GOLAYOUT_MAP_SWISS,    /* 1.24+: directory of tables of groups (internal/runtime/maps) */
} golayout_map;

typedef struct golayout {
    int minor;           /* N of go1.N; 0 when the version is unknown */
    int tested;          /* 1 when minor lies in the tested range */
    golayout_syncmap syncmap;
    golayout_map maps;
    int malloc_headers;  /* 1.22+: small objects above 512 B start with their *_type */
    int weak_handles;    /* 1.24+: weak.Pointer points at a pointer-free handle */
    int weak_box;        /* 1.26+: the handle is a 16-byte box of its own (before: 8 bytes,
                            maybe inside a tiny block) */
    int cleanups;        /* 1.24+: runtime.AddCleanup exists (not in heap dumps) */
} golayout;

/* The layouts of Go minor version `minor` (from symtab_go_minor; <= 0: unknown, which gets
 * the newest tested layouts, as a dump without a version is most likely a recent one). */
golayout golayout_of(int minor);

#endif
