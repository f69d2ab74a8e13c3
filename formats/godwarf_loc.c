/* godwarf_loc.c - location lists for the DWARF reader, read straight from .debug_loc (DWARF 4:
 * Go 1.19) and .debug_loclists (DWARF 5: Go 1.26, 1.27; base addresses from .debug_addr).
 * libdw's reader interns every expression it returns in a search tree, a malloc and a
 * tsearch each: half the time of reading a large binary. Every read is bounds-checked; a list
 * that runs past its section or uses an entry kind DWARF 5 does not define is an error
 * naming the list's section offset. */
#include "godwarf_internal.h"

#include <dwarf.h>
#include <string.h>

#include "hs_io.h"

typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static int rd(cursor *c, unsigned n, uint64_t *v)
{
    if ((size_t)(c->end - c->p) < n)
        return -1;
    *v = hs_load_le(c->p, n);
    c->p += n;
    return 0;
}

static int uleb(cursor *c, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (c->p >= c->end || shift > 63)
            return -1;
        uint8_t b = *c->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *v = x;
    return 0;
}

/* The address of entry idx of the unit's .debug_addr table. */
static int addrx(const gw *g, uint64_t idx, uint64_t *v)
{
    const unsigned A = g->cu_addr_size;
    if (!g->cu_has_addr_base || idx > (UINT64_MAX - g->cu_addr_base) / A ||
        g->cu_addr_base + idx * A > g->addr_len || g->addr_len - (g->cu_addr_base + idx * A) < A)
        return -1;
    *v = hs_load_le(g->addr + g->cu_addr_base + idx * A, A);
    return 0;
}

static int fail(gw *g, Dwarf_Off die, const char *sec, uint64_t off)
{
    uint64_t at = g->info_at == HS_NO_OFFSET ? HS_NO_OFFSET : g->info_at + die;
    return hs_error_set(g->err, HS_ERR_FORMAT, at, "DWARF: DIE at .debug_info+0x%llx: its "
                        "location list at %s+0x%llx is broken", (unsigned long long)die, sec,
                        (unsigned long long)off);
}

/* DWARF 4: (start, end) pairs of addresses from the unit's base, a base selection entry
 * (start all ones), (0, 0) at the end; each pair followed by a 2-byte length and the
 * expression. */
static int loc4(gw *g, Dwarf_Off die, uint64_t off, godwarf_loc_fn fn, void *ctx)
{
    const unsigned A = g->cu_addr_size;
    const uint64_t ones = A == 8 ? UINT64_MAX : UINT32_MAX;
    if (off >= g->loc_len)
        return fail(g, die, ".debug_loc", off);
    cursor c = {g->loc + off, g->loc + g->loc_len};
    uint64_t base = g->cu_base;
    for (;;) {
        uint64_t start, end, len;
        if (rd(&c, A, &start) < 0 || rd(&c, A, &end) < 0)
            return fail(g, die, ".debug_loc", off);
        if (start == 0 && end == 0)
            return HS_OK;
        if (start == ones) {
            base = end;
            continue;
        }
        if (rd(&c, 2, &len) < 0 || len > (size_t)(c.end - c.p))
            return fail(g, die, ".debug_loc", off);
        int rc = fn(ctx, base + start, base + end, c.p, (size_t)len);
        if (rc < 0)
            return rc;
        c.p += len;
    }
}

/* DWARF 5: DW_LLE_* entries (Go writes base_addressx, offset_pair and end_of_list). */
static int loc5(gw *g, Dwarf_Off die, uint64_t off, godwarf_loc_fn fn, void *ctx)
{
    const unsigned A = g->cu_addr_size;
    if (off >= g->loclists_len)
        return fail(g, die, ".debug_loclists", off);
    cursor c = {g->loclists + off, g->loclists + g->loclists_len};
    uint64_t base = g->cu_base;
    for (;;) {
        uint64_t kind, a = 0, b = 0, lo = 0, hi = 0, len;
        if (rd(&c, 1, &kind) < 0)
            return fail(g, die, ".debug_loclists", off);
        int bad = 0;
        switch (kind) {
        case DW_LLE_end_of_list:
            return HS_OK;
        case DW_LLE_base_addressx:
            bad = uleb(&c, &a) < 0 || addrx(g, a, &base) < 0;
            break;
        case DW_LLE_base_address:
            bad = rd(&c, A, &base) < 0;
            break;
        case DW_LLE_startx_endx:
            bad = uleb(&c, &a) < 0 || uleb(&c, &b) < 0 || addrx(g, a, &lo) < 0 ||
                  addrx(g, b, &hi) < 0;
            break;
        case DW_LLE_startx_length:
            bad = uleb(&c, &a) < 0 || uleb(&c, &b) < 0 || addrx(g, a, &lo) < 0;
            hi = lo + b;
            break;
        case DW_LLE_offset_pair:
            bad = uleb(&c, &a) < 0 || uleb(&c, &b) < 0;
            lo = base + a;
            hi = base + b;
            break;
        case DW_LLE_default_location:
            lo = 0;
            hi = UINT64_MAX; /* wherever no other entry holds: taken as everywhere */
            break;
        case DW_LLE_start_end:
            bad = rd(&c, A, &lo) < 0 || rd(&c, A, &hi) < 0;
            break;
        case DW_LLE_start_length:
            bad = rd(&c, A, &lo) < 0 || uleb(&c, &b) < 0;
            hi = lo + b;
            break;
        default:
            bad = 1;
            break;
        }
        if (bad)
            return fail(g, die, ".debug_loclists", off);
        if (kind == DW_LLE_base_addressx || kind == DW_LLE_base_address)
            continue;
        if (uleb(&c, &len) < 0 || len > (size_t)(c.end - c.p))
            return fail(g, die, ".debug_loclists", off);
        int rc = fn(ctx, lo, hi, c.p, (size_t)len);
        if (rc < 0)
            return rc;
        c.p += len;
    }
}

int godwarf_loclist(gw *g, Dwarf_Die *die, Dwarf_Attribute *loc, godwarf_loc_fn fn, void *ctx)
{
    Dwarf_Word off;
    if (!g->cu_addr_size || dwarf_formudata(loc, &off) != 0)
        return godwarf_fail(g, dwarf_dieoffset(die), "its location list");
    if (g->cu_version >= 5)
        return loc5(g, dwarf_dieoffset(die), off, fn, ctx);
    return loc4(g, dwarf_dieoffset(die), off, fn, ctx);
}
