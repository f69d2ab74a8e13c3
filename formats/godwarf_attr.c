/* godwarf_attr.c - helpers of the DWARF reader: one pass over a DIE's attributes
 * (dwarf_getattrs) that keeps the ones the reader uses, the error at a DIE, and array growth. */
#include "godwarf_internal.h"

#include <dwarf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hs_io.h"

static Dwarf_Off ref_of(Dwarf_Attribute *at)
{
    Dwarf_Die d;
    return dwarf_formref_die(at, &d) ? dwarf_dieoffset(&d) : 0;
}

static uint64_t udata_of(Dwarf_Attribute *at, unsigned *ok)
{
    Dwarf_Word v = 0;
    *ok = dwarf_formudata(at, &v) == 0;
    return v;
}

static unsigned flag_of(Dwarf_Attribute *at)
{
    bool b = false;
    return dwarf_formflag(at, &b) == 0 && b;
}

/* A value the reader cannot read is left absent: DWARF from other producers may use forms
 * Go never writes, and the DIE is then taken without that attribute. */
static int keep_attr(Dwarf_Attribute *at, void *arg)
{
    gw_attrs *a = arg;
    unsigned ok = 0;
    switch (dwarf_whatattr(at)) {
    case DW_AT_name:
        a->name = dwarf_formstring(at);
        break;
    case DW_AT_type:
        a->type = ref_of(at);
        break;
    case DW_AT_abstract_origin:
        a->origin = ref_of(at);
        break;
    case GW_AT_go_elem:
        a->go_elem = ref_of(at);
        break;
    case GW_AT_go_key:
        a->go_key = ref_of(at);
        break;
    case DW_AT_byte_size:
        a->byte_size = udata_of(at, &ok);
        a->has_size = ok;
        break;
    case DW_AT_count:
        a->count = udata_of(at, &ok);
        a->has_count = ok;
        break;
    case DW_AT_data_member_location:
        a->member_loc = udata_of(at, &ok);
        a->has_member_loc = ok;
        break;
    case GW_AT_go_kind: {
        uint64_t k = udata_of(at, &ok);
        a->go_kind = ok && k < 256 ? (int)k : -1;
        break;
    }
    case DW_AT_encoding: {
        uint64_t e = udata_of(at, &ok);
        a->encoding = ok && e < 256 ? (int)e : -1;
        break;
    }
    case GW_AT_go_runtime_type: {
        Dwarf_Addr v = 0;
        if (dwarf_formaddr(at, &v) != 0)
            v = udata_of(at, &ok);
        a->go_rt = v;
        break;
    }
    case GW_AT_go_closure_offset:
        a->closure_off = udata_of(at, &ok);
        break;
    case GW_AT_go_embedded_field:
        a->embedded = flag_of(at);
        break;
    case DW_AT_variable_parameter:
        a->var_param = flag_of(at);
        break;
    case DW_AT_location:
        a->location = *at;
        a->has_location = 1;
        break;
    case DW_AT_frame_base:
        a->frame_base = *at;
        a->has_frame_base = 1;
        break;
    case DW_AT_low_pc:
        a->has_low_pc = 1;
        break;
    default:
        break;
    }
    return DWARF_CB_OK;
}

int godwarf_attrs(gw *g, Dwarf_Die *die, gw_attrs *a)
{
    memset(a, 0, sizeof *a);
    a->go_kind = a->encoding = -1;
    if (dwarf_getattrs(die, keep_attr, a, 0) < 0)
        return godwarf_fail(g, dwarf_dieoffset(die), "reading its attributes");
    return HS_OK;
}

int godwarf_fail(gw *g, Dwarf_Off die_off, const char *what)
{
    uint64_t at = g->info_at == HS_NO_OFFSET || die_off > UINT64_MAX - g->info_at
                      ? HS_NO_OFFSET : g->info_at + die_off;
    return hs_error_set(g->err, HS_ERR_FORMAT, at, "DWARF: DIE at .debug_info+0x%llx: %s: %s",
                        (unsigned long long)die_off, what, dwarf_errmsg(-1));
}

int godwarf_room(gw *g, void *arrayp, size_t n, size_t *cap, size_t more, size_t elem)
{
    if (more <= *cap - n)
        return HS_OK;
    size_t c = *cap ? *cap : 256;
    while (c - n < more && c <= SIZE_MAX / 2)
        c *= 2;
    void *p; /* the array's pointer, whatever its type (memcpy: no aliasing question) */
    memcpy(&p, arrayp, sizeof p);
    void *q = c - n >= more && c <= SIZE_MAX / elem ? realloc(p, c * elem) : NULL;
    if (!q)
        return hs_error_set(g->err, HS_ERR_NOMEM, HS_NO_OFFSET, "DWARF: reading the DIEs");
    memcpy(arrayp, &q, sizeof q);
    *cap = c;
    return HS_OK;
}

static int leb(const uint8_t **p, const uint8_t *end, int sign, uint64_t *v)
{
    uint64_t x = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        if (*p >= end || shift > 63)
            return -1;
        b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (sign && shift < 64 && (b & 0x40))
        x |= ~0ull << shift;
    *v = x;
    return 0;
}

int godwarf_block_ops(const Dwarf_Block *b, unsigned addr_size, size_t max, Dwarf_Op *ops,
                      size_t *n)
{
    const uint8_t *p = b->data, *end = b->data + b->length;
    *n = 0;
    while (p < end) {
        if (*n == max)
            return -1;
        Dwarf_Op *op = &ops[(*n)++];
        memset(op, 0, sizeof *op);
        op->offset = (Dwarf_Word)(p - b->data);
        op->atom = *p++;
        if (op->atom == DW_OP_addr) {
            if ((size_t)(end - p) < addr_size)
                return -1;
            op->number = hs_load_le(p, addr_size);
            p += addr_size;
        } else if (op->atom == DW_OP_fbreg) {
            if (leb(&p, end, 1, &op->number) < 0)
                return -1;
        } else if (op->atom == DW_OP_piece || op->atom == DW_OP_regx) {
            if (leb(&p, end, 0, &op->number) < 0)
                return -1;
        } else if (op->atom != DW_OP_call_frame_cfa &&
                   (op->atom < DW_OP_reg0 || op->atom > DW_OP_reg31)) {
            return -1;
        }
    }
    return 0;
}
