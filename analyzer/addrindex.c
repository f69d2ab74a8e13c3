/* addrindex.c - rank bitmap from addresses to objects (see addrindex.h). */
#include "addrindex.h"

#include <stdlib.h>

#include "hugemem.h"


#define BLOCK_WORDS 256 /* 8-byte words of address space per block: 2 KiB */

/* One cache line per block: which words start an object, which words an object covers. */
typedef struct aix_block {
    uint64_t start[BLOCK_WORDS / 64];
    uint64_t cover[BLOCK_WORDS / 64];
} aix_block;

struct addrindex {
    uint64_t base;      /* address of word 0: the lowest object */
    uint64_t nwords;    /* words up to the end of the highest object */
    aix_block *blocks;
    uint32_t *before;   /* per block: objects starting in earlier blocks */
    size_t nblocks;
};

/* Sets bits [lo, hi) of a word-indexed bitmap spread over blocks' cover fields. */
static void cover_range(aix_block *b, uint64_t lo, uint64_t hi)
{
    while (lo < hi) {
        uint64_t blk = lo / BLOCK_WORDS, bit = lo % BLOCK_WORDS;
        uint64_t w = bit / 64, s = bit % 64;
        uint64_t n = 64 - s < hi - lo ? 64 - s : hi - lo;
        uint64_t mask = n == 64 ? ~0ull : ((1ull << n) - 1) << s;
        b[blk].cover[w] |= mask;
        lo += n;
    }
}

int addrindex_build(const uint64_t *addr, const uint64_t *size, uint32_t n, size_t max_bytes,
                    addrindex **out)
{
    *out = NULL;
    if (!n)
        return 0;
    uint64_t base = addr[0], end = 0;
    for (uint32_t i = 0; i < n; i++) {
        if ((addr[i] | size[i]) & 7 || !size[i] || addr[i] + size[i] < addr[i])
            return 0;
        if (addr[i] + size[i] > end)
            end = addr[i] + size[i];
    }
    uint64_t nwords = (end - base) / 8;
    uint64_t nblocks = nwords / BLOCK_WORDS + 1;
    if (nblocks > (max_bytes / (sizeof(aix_block) + sizeof(uint32_t))))
        return 0;
    addrindex *x = malloc(sizeof *x);
    aix_block *blocks = aligned_alloc(64, nblocks * sizeof *blocks);
    uint32_t *before = hugemem_alloc(nblocks * sizeof *before);
    if (!x || !blocks || !before) {
        free(x);
        free(blocks);
        free(before);
        return -1;
    }
    hugemem_advise(blocks, nblocks * sizeof *blocks);
    for (uint64_t k = 0; k < nblocks; k++)
        blocks[k] = (aix_block){{0}, {0}};
    /* Objects are sorted: the per-block counts fill in as the starts go by. */
    uint64_t next_block = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t w = (addr[i] - base) / 8, blk = w / BLOCK_WORDS;
        while (next_block <= blk)
            before[next_block++] = i;
        blocks[blk].start[(w % BLOCK_WORDS) / 64] |= 1ull << (w % 64);
        cover_range(blocks, w, w + size[i] / 8);
    }
    while (next_block < nblocks)
        before[next_block++] = n;
    *x = (addrindex){base, nwords, blocks, before, (size_t)nblocks};
    *out = x;
    return 0;
}

/* popcnt is an x86-64 extension: a copy of the lookup that uses it is chosen at load time. */
#if defined(__x86_64__) && defined(__GNUC__)
#define AIX_POPCNT __attribute__((target_clones("popcnt", "default")))
#else
#define AIX_POPCNT
#endif

AIX_POPCNT uint32_t addrindex_find(const addrindex *x, uint64_t a)
{
    uint64_t w = (a - x->base) / 8;
    if (a < x->base || w >= x->nwords)
        return ADDRINDEX_NONE;
    const aix_block *b = &x->blocks[w / BLOCK_WORDS];
    unsigned bit = (unsigned)(w % BLOCK_WORDS), word = bit / 64, s = bit % 64;
    if (!((b->cover[word] >> s) & 1))
        return ADDRINDEX_NONE;
    /* Starts in this block up to and including word w; the last of them contains a. */
    uint32_t r = x->before[w / BLOCK_WORDS];
    for (unsigned k = 0; k < word; k++)
        r += (uint32_t)__builtin_popcountll(b->start[k]);
    r += (uint32_t)__builtin_popcountll(b->start[word] & (s == 63 ? ~0ull : (2ull << s) - 1));
    return r - 1; /* >= 1 start: a covered word lies in an object starting at or before it */
}

int addrindex_is_start(const addrindex *x, uint64_t a)
{
    uint64_t w = (a - x->base) / 8;
    if (a < x->base || w >= x->nwords || (a & 7))
        return 0;
    return (int)((x->blocks[w / BLOCK_WORDS].start[(w % BLOCK_WORDS) / 64] >> (w % 64)) & 1);
}

void addrindex_prefetch(const addrindex *x, uint64_t a)
{
    uint64_t w = (a - x->base) / 8;
    if (a >= x->base && w < x->nwords) {
        __builtin_prefetch(&x->blocks[w / BLOCK_WORDS]);
        __builtin_prefetch(&x->before[w / BLOCK_WORDS]);
    }
}

void addrindex_free(addrindex *x)
{
    if (!x)
        return;
    free(x->blocks);
    free(x->before);
    free(x);
}
