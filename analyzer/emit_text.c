/* emit_text.c - the report for people.
 *
 * Layout: a dump line; a findings line (or "no leaks found: ..."); one block per finding; the
 * collectable, in-flight and singleton cycles as "not leaks"; the summary; the top-retainers and histogram tables.
 *
 * A finding block:
 *
 *   #1 ghost: 12 objects, 6.8 KiB, retains 13.5 KiB
 *      12 main.Item deleted from main.registry, held by global main.audit
 *      evidence:  type
 *      holder:    global main.audit
 *      path:      global main.audit 0x5a1b20 (24 B)
 *                  +0x8 -> []*main.Item 0xc000100000 (192 B)
 *                 +0x18 -> main.Item 0xc000123000 (576 B)
 *      objects:   0xc000123000 0xc000123240 0xc000123480 0xc0001236c0
 *                 0xc000123900 ... and 7 more
 *
 * Paths and cycles are drawn one node per line, root first. "+0x18 -> X" means: the pointer
 * at byte offset 0x18 of the node on the line above points to X. The path's first line is the
 * root (root kind and name); when the first step is that root itself its address and size go
 * on the same line instead of a line of their own (root "global" + "main.audit" and a first
 * step "global main.audit" are the same root). A node reads "<kind> <name> <addr> (<size>)":
 * the kind word is left out for typed objects and never repeated when the name starts with
 * it; untyped objects read "object [<shape>]".
 * Every string from the dump or binary is cleaned of control characters before printing.
 */
#include "emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define LABEL_WIDTH 11 /* "container: " */
#define BLOCK_INDENT 3
#define ADDRS_PER_LINE 4

typedef struct tctx {
    emit_buf b;
    emit_text_options o;
} tctx;

void emit_text_options_init(emit_text_options *opts)
{
    opts->max_objects = 5;
    opts->tables = 1;
    opts->color = 0;
    opts->width = 0;
}

/* An untrusted string, cleaned for a terminal. */
static void put_clean(tctx *t, const char *s)
{
    emit_buf_clean(&t->b, s, EMIT_CLEAN_TERMINAL);
}

static void bold_on(tctx *t)
{
    if (t->o.color)
        emit_buf_puts(&t->b, "\033[1m");
}

static void bold_off(tctx *t)
{
    if (t->o.color)
        emit_buf_puts(&t->b, "\033[0m");
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Where a wrapped line continues (emit_wrap.c): only written when the text wraps. */
static void put_mark(tctx *t)
{
    if (t->o.width)
        emit_buf_put(&t->b, (const char[]){EMIT_WRAP_MARK}, 1);
}

/* " (SIZE)", whose space does not break when the text wraps. */
static void put_size(tctx *t, uint64_t bytes)
{
    char z[EMIT_SIZE_MAX];
    char *sp = strchr(emit_size(bytes, z), ' ');
    if (sp && t->o.width)
        *sp = EMIT_WRAP_GLUE;
    emit_buf_printf(&t->b, " (%s)", z);
}

/* "   label:     " at the block's label column. */
static void put_label(tctx *t, const char *label)
{
    emit_buf_pad(&t->b, BLOCK_INDENT);
    emit_buf_puts(&t->b, label);
    size_t n = strlen(label);
    emit_buf_pad(&t->b, n < LABEL_WIDTH ? LABEL_WIDTH - n : 1);
    put_mark(t);
}

static void put_field(tctx *t, const char *label, const char *value)
{
    if (!value)
        return;
    put_label(t, label);
    put_clean(t, value);
    emit_buf_put(&t->b, "\n", 1);
}

static void put_kind_name(tctx *t, const char *kind, const char *name)
{
    emit_buf_kind_name(&t->b, kind, name);
}

/* Whether the path's first step is its root as the reader sees it: "global" + "main.x" and
 * the step "global main.x" (or global + "main.x") print the same. */
static int step_is_root(const report_path *p)
{
    const report_step *s = p->steps;
    if (p->nsteps == 0 || s[0].field != REPORT_NO_FIELD || !s[0].name || !p->root_name)
        return 0;
    emit_buf a, b;
    emit_buf_init(&a, (hs_writer){0});
    emit_buf_init(&b, (hs_writer){0});
    emit_buf_kind_name(&a, p->root_kind, p->root_name);
    const char *kind = s[0].kind == REPORT_NODE_OBJECT ? NULL : report_node_kind_name(s[0].kind);
    emit_buf_kind_name(&b, kind, s[0].name);
    const char *x = emit_buf_cstr(&a), *y = emit_buf_cstr(&b);
    int same = x && y && (strcmp(x, y) == 0 || strcmp(p->root_name, s[0].name) == 0);
    emit_buf_finish(&a);
    emit_buf_finish(&b);
    return same;
}

/* "<kind> <name> <addr> (<size>)" as the header comment describes. */
static void put_node(tctx *t, const report_step *s)
{
    char a[EMIT_ADDR_MAX];
    const char *kind = report_node_kind_name(s->kind);
    if (s->name) {
        put_kind_name(t, s->kind == REPORT_NODE_OBJECT ? NULL : kind, s->name);
    } else if (s->shape) {
        emit_buf_printf(&t->b, "%s [", kind);
        put_clean(t, s->shape);
        emit_buf_put(&t->b, "]", 1);
    } else {
        emit_buf_puts(&t->b, kind);
    }
    if (s->addr)
        emit_buf_printf(&t->b, " %s", emit_addr(s->addr, a));
    if (s->size)
        put_size(t, s->size);
}

#define HOP_MAX 96

/* "+0x418" or, when the field's Go name is known, "+0x418 .onEvict". */
static int hop_text(char buf[HOP_MAX], const report_step *s)
{
    if (s->field == REPORT_NO_FIELD) {
        buf[0] = '\0';
        return 0;
    }
    int n = snprintf(buf, HOP_MAX, "+0x%" PRIx32, s->field);
    if (s->field_name && emit_utf8_valid(s->field_name)) {
        /* only printable ASCII: the name comes from the binary */
        int ok = 1;
        for (const char *c = s->field_name; *c && ok; c++)
            ok = *c > 0x20 && *c < 0x7f;
        if (ok)
            n = snprintf(buf, HOP_MAX, "+0x%" PRIx32 " %s", s->field, s->field_name);
    }
    return n < 0 ? 0 : n >= HOP_MAX ? HOP_MAX - 1 : n;
}

/* Steps one per line, continuation lines starting at column col; the first line continues
 * the current line. */
static void put_steps(tctx *t, const report_step *s, size_t n, size_t col)
{
    size_t w = 0;
    char hop[HOP_MAX];
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)hop_text(hop, &s[i]);
        if (k > w)
            w = k;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            emit_buf_pad(&t->b, col);
        size_t k = (size_t)hop_text(hop, &s[i]);
        if (k) {
            emit_buf_pad(&t->b, w - k);
            emit_buf_printf(&t->b, "%s -> ", hop);
        } else if (w) {
            emit_buf_pad(&t->b, w + 4);
        }
        put_mark(t);
        put_node(t, &s[i]);
        emit_buf_put(&t->b, "\n", 1);
    }
}

/* The path at column col (after a label when col > 0): the root line, then the steps. */
static void put_path(tctx *t, const report_path *p, size_t col)
{
    if (!p->root_kind && !p->root_name && p->nsteps == 0)
        return;
    if (col)
        put_label(t, "path:");
    const report_step *s = p->steps;
    size_t n = p->nsteps;
    put_kind_name(t, p->root_kind, p->root_name);
    if (step_is_root(p)) {
        char a[EMIT_ADDR_MAX];
        if (s[0].addr)
            emit_buf_printf(&t->b, " %s", emit_addr(s[0].addr, a));
        if (s[0].size)
            put_size(t, s[0].size);
        s++, n--;
    }
    emit_buf_put(&t->b, "\n", 1);
    if (n > 0) {
        emit_buf_pad(&t->b, col);
        put_steps(t, s, n, col);
    }
}

/* At most max addresses, ADDRS_PER_LINE a line, then "... and K more". */
static void put_objects(tctx *t, const report_finding *f)
{
    put_label(t, "objects:");
    if (f->nobjects == 0) {
        emit_buf_puts(&t->b, "none\n");
        return;
    }
    size_t shown = f->nobjects < t->o.max_objects ? f->nobjects : t->o.max_objects;
    char a[EMIT_ADDR_MAX];
    for (size_t i = 0; i < shown; i++) {
        if (i > 0 && i % ADDRS_PER_LINE == 0) {
            emit_buf_put(&t->b, "\n", 1);
            emit_buf_pad(&t->b, BLOCK_INDENT + LABEL_WIDTH);
        } else if (i > 0) {
            emit_buf_put(&t->b, " ", 1);
        }
        emit_buf_puts(&t->b, emit_addr(f->objects[i], a));
    }
    if (shown < f->nobjects)
        emit_buf_printf(&t->b, "%s... and %zu more", shown ? " " : "", f->nobjects - shown);
    emit_buf_put(&t->b, "\n", 1);
}

static void put_closures(tctx *t, const report_finding *f)
{
    if (f->nclosures == 0)
        return;
    put_label(t, "closures:");
    size_t shown = f->nclosures < t->o.max_objects ? f->nclosures : t->o.max_objects;
    char a[EMIT_ADDR_MAX];
    for (size_t i = 0; i < shown; i++) {
        if (i > 0)
            emit_buf_pad(&t->b, BLOCK_INDENT + LABEL_WIDTH);
        emit_buf_printf(&t->b, "%s ", emit_addr(f->closures[i].addr, a));
        put_clean(t, f->closures[i].func);
        emit_buf_put(&t->b, "\n", 1);
    }
    if (shown < f->nclosures) {
        if (shown)
            emit_buf_pad(&t->b, BLOCK_INDENT + LABEL_WIDTH);
        emit_buf_printf(&t->b, "... and %zu more\n", f->nclosures - shown);
    }
}

/* "<kind>: N objects, X, retains Y" */
static void put_counts(tctx *t, const report_finding *f)
{
    char z1[EMIT_SIZE_MAX], z2[EMIT_SIZE_MAX];
    emit_buf_printf(&t->b, "%s: %zu %s, %s, retains %s", emit_kind_label(f->kind), f->nobjects,
                    plural(f->nobjects, "object", "objects"), emit_size(f->bytes, z1),
                    emit_size(f->retained_bytes, z2));
}

static void put_finding(tctx *t, const report_finding *f, size_t index)
{
    emit_buf_put(&t->b, "\n", 1);
    bold_on(t);
    emit_buf_printf(&t->b, "#%zu ", index);
    put_counts(t, f);
    bold_off(t);
    emit_buf_put(&t->b, "\n", 1);
    if (f->title) {
        emit_buf_pad(&t->b, BLOCK_INDENT);
        put_mark(t);
        put_clean(t, f->title);
        emit_buf_put(&t->b, "\n", 1);
    }
    put_field(t, "evidence:", f->evidence);
    put_field(t, "reason:", f->reason);
    put_field(t, "type:", f->type);
    put_field(t, "container:", f->container);
    if (f->kind == REPORT_TOMBSTONE) {
        put_label(t, "keys:");
        emit_buf_printf(&t->b, "%" PRIu64 " deleted, still in the read map\n", f->keys);
    }
    if (f->kind == REPORT_CLOSURE_CYCLE) {
        char z1[EMIT_SIZE_MAX], z2[EMIT_SIZE_MAX];
        put_label(t, "instances:");
        emit_buf_printf(&t->b, "%" PRIu64, f->instances);
        if (f->has_before)
            emit_buf_printf(&t->b, " (%" PRIu64 " before: %s -> %s)", f->instances_before,
                            emit_size(f->bytes_before, z1), emit_size(f->bytes, z2));
        emit_buf_put(&t->b, "\n", 1);
    }
    put_field(t, "holder:", f->holder);
    put_path(t, &f->path, BLOCK_INDENT + LABEL_WIDTH);
    if (f->kind == REPORT_CLOSURE_CYCLE && f->ncycle > 0) {
        put_label(t, "cycle:");
        put_steps(t, f->cycle, f->ncycle, BLOCK_INDENT + LABEL_WIDTH);
    }
    put_closures(t, f);
    put_objects(t, f);
}

/* The one-line verdict; ghosts and pinned count objects, cycles and tombstones findings. */
static void put_verdict(tctx *t, const report *r)
{
    uint64_t ghosts = 0, pinned = 0, cycles = 0, tombstones = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
        const report_finding *f = &r->findings[i];
        switch (f->kind) {
        case REPORT_GHOST: ghosts += f->nobjects; break;
        case REPORT_FINALIZER_PINNED: pinned += f->nobjects; break;
        case REPORT_CLOSURE_CYCLE: cycles++; break;
        default: tombstones++; break;
        }
    }
    bold_on(t);
    if (r->nfindings == 0)
        emit_buf_puts(&t->b, "no leaks found: ");
    else
        emit_buf_printf(&t->b, "%zu %s: ", r->nfindings,
                        plural(r->nfindings, "finding", "findings"));
    emit_buf_printf(&t->b, "%" PRIu64 " %s, %" PRIu64 " finalizer-pinned %s, %" PRIu64 " %s",
                    ghosts, plural(ghosts, "ghost", "ghosts"), pinned,
                    plural(pinned, "object", "objects"), cycles,
                    plural(cycles, "closure cycle", "closure cycles"));
    if (tombstones)
        emit_buf_printf(&t->b, ", %" PRIu64 " %s", tombstones,
                        plural(tombstones, "container with tombstoned keys",
                               "containers with tombstoned keys"));
    bold_off(t);
    emit_buf_put(&t->b, "\n", 1);
    if (r->nnotes) /* a limited analysis must not read as a clean bill of health */
        emit_buf_printf(&t->b, "(%zu %s below on what this analysis could not see)\n",
                        r->nnotes, plural(r->nnotes, "note", "notes"));
}

static void put_info(tctx *t, const report *r)
{
    if (r->ninfo == 0)
        return;
    emit_buf_put(&t->b, "\n", 1);
    bold_on(t);
    emit_buf_printf(&t->b, "Not leaks: %zu %s (collectable, in flight or singletons)",
                    r->ninfo, plural(r->ninfo, "item", "items"));
    bold_off(t);
    emit_buf_put(&t->b, "\n", 1);
    for (size_t i = 0; i < r->ninfo; i++) {
        emit_buf_pad(&t->b, 2);
        put_counts(t, &r->info[i]);
        if (r->info[i].title) {
            emit_buf_puts(&t->b, ": ");
            put_clean(t, r->info[i].title);
        }
        emit_buf_put(&t->b, "\n", 1);
    }
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 100.0;
}

/* "typed  N  SIZE (P% of in-use bytes, from DWARF)" and the evidence, largest first as found. */
static void put_typing(tctx *t, const report *r, size_t lw, int w)
{
    const report_typing *ty = &r->typing;
    char z[EMIT_SIZE_MAX];
    emit_buf_printf(&t->b, "  %-*s", (int)lw, "typed");
    put_mark(t);
    emit_buf_printf(&t->b, "%*" PRIu64 "  %s (%.1f%% of in-use bytes, from %s)\n", w,
                    ty->objects, emit_size(ty->bytes, z), pct(ty->bytes, r->in_use_bytes),
                    ty->from);
    if (!ty->nby)
        return;
    emit_buf_printf(&t->b, "  %-*s", (int)lw, "typed by");
    put_mark(t);
    for (size_t i = 0; i < ty->nby; i++)
        emit_buf_printf(&t->b, "%s%s %.1f%%", i ? ", " : "", ty->by[i].evidence,
                        pct(ty->by[i].bytes, r->in_use_bytes));
    if (ty->refused)
        emit_buf_printf(&t->b, " (%" PRIu64 " refused: did not fit)", ty->refused);
    emit_buf_put(&t->b, "\n", 1);
}

typedef struct sum_line {
    const char *label;
    uint64_t count;
    int has_bytes;
    uint64_t bytes;
} sum_line;

static void put_summary(tctx *t, const report *r)
{
    const sum_line lines[] = {
        {"objects", r->objects, 1, r->object_bytes},
        {"in use", r->class_objects[REPORT_CLASS_IN_USE], 1, r->class_bytes[REPORT_CLASS_IN_USE]},
        {"finalizer-held", r->class_objects[REPORT_CLASS_FIN_HELD], 1,
         r->class_bytes[REPORT_CLASS_FIN_HELD]},
        {"pending finalization", r->class_objects[REPORT_CLASS_PENDING], 1,
         r->class_bytes[REPORT_CLASS_PENDING]},
        {"garbage", r->class_objects[REPORT_CLASS_GARBAGE], 1, r->class_bytes[REPORT_CLASS_GARBAGE]},
        {"  finalizer-pinned", r->pinned_objects, 0, 0},
        {"goroutines", r->goroutines, 0, 0},
        {"finalizers", r->finalizers, 0, 0},
        {"roots", r->roots, 0, 0},
        {"pointer edges", r->pointer_edges, 0, 0},
    };
    const size_t nlines = sizeof lines / sizeof lines[0], lw = 21;
    int w = 1;
    for (size_t i = 0; i < nlines; i++) {
        int k = snprintf(NULL, 0, "%" PRIu64, lines[i].count);
        if (k > w)
            w = k;
    }
    emit_buf_put(&t->b, "\n", 1);
    bold_on(t);
    emit_buf_puts(&t->b, "Summary");
    bold_off(t);
    emit_buf_put(&t->b, "\n", 1);
    char z[EMIT_SIZE_MAX];
    for (size_t i = 0; i < nlines; i++) {
        emit_buf_printf(&t->b, "  %-*s%*" PRIu64, (int)lw, lines[i].label, w, lines[i].count);
        if (lines[i].has_bytes)
            emit_buf_printf(&t->b, "  %s", emit_size(lines[i].bytes, z));
        emit_buf_put(&t->b, "\n", 1);
    }
    if (r->typing.from)
        put_typing(t, r, lw, w);
    for (size_t i = 0; i < r->ncontainers; i++) { /* one per line, aligned */
        emit_buf_printf(&t->b, "  %-*s", (int)lw, i ? "" : "containers");
        put_mark(t);
        put_clean(t, r->containers[i]);
        emit_buf_put(&t->b, "\n", 1);
    }
    for (size_t i = 0; i < r->nnotes; i++) {
        emit_buf_puts(&t->b, "  note: ");
        put_mark(t);
        put_clean(t, r->notes[i]);
        emit_buf_put(&t->b, "\n", 1);
    }
}

/* Columns RETAINED BYTES COUNT GROUP CLASS NAME; numbers right-aligned, NAME last and
 * unpadded; CLASS only when the rows have one (the histogram). */
enum { COL_RETAINED, COL_BYTES, COL_COUNT, COL_GROUP, COL_CLASS, NCOLS };

static size_t row_cell(const report_row *row, int col, char buf[EMIT_SIZE_MAX])
{
    switch (col) {
    case COL_RETAINED: emit_size(row->retained_bytes, buf); break;
    case COL_BYTES: emit_size(row->bytes, buf); break;
    case COL_COUNT: snprintf(buf, EMIT_SIZE_MAX, "%" PRIu64, row->count); break;
    case COL_CLASS: return strlen(report_class_label(row->cls - 1));
    default: return row->group ? strlen(row->group) : 1;
    }
    return strlen(buf);
}

/* A table after a blank line and its title (no title: the bare table). */
static void put_table(tctx *t, const char *title, const report_row *rows, size_t n,
                      int with_addr)
{
    if (n == 0)
        return;
    static const char *const heads[NCOLS] = {"RETAINED", "BYTES", "COUNT", "GROUP", "CLASS"};
    /* Histogram groups have no retained size (their members' subtrees overlap). */
    const int first = with_addr ? COL_RETAINED : COL_BYTES;
    const int last = rows[0].cls ? COL_CLASS : COL_GROUP;
    size_t w[NCOLS];
    char cell[EMIT_SIZE_MAX], a[EMIT_ADDR_MAX];
    for (int c = 0; c < NCOLS; c++)
        w[c] = strlen(heads[c]);
    for (size_t i = 0; i < n; i++)
        for (int c = first; c <= last; c++) {
            size_t k = row_cell(&rows[i], c, cell);
            if (k > w[c])
                w[c] = k;
        }
    if (title) {
        emit_buf_put(&t->b, "\n", 1);
        bold_on(t);
        emit_buf_puts(&t->b, title);
        bold_off(t);
        emit_buf_put(&t->b, "\n", 1);
    }
    for (int c = first; c <= last; c++) {
        emit_buf_pad(&t->b, 2);
        if (c < COL_GROUP)
            emit_buf_pad(&t->b, w[c] - strlen(heads[c]));
        emit_buf_puts(&t->b, heads[c]);
        if (c >= COL_GROUP)
            emit_buf_pad(&t->b, w[c] - strlen(heads[c]));
    }
    emit_buf_puts(&t->b, "  NAME\n");
    for (size_t i = 0; i < n; i++) {
        for (int c = first; c <= last; c++) {
            size_t k = row_cell(&rows[i], c, cell);
            emit_buf_pad(&t->b, 2);
            if (c >= COL_GROUP) {
                put_clean(t, c == COL_GROUP ? rows[i].group : report_class_label(rows[i].cls - 1));
                emit_buf_pad(&t->b, w[c] - k);
            } else {
                emit_buf_pad(&t->b, w[c] - k);
                emit_buf_puts(&t->b, cell);
            }
        }
        emit_buf_pad(&t->b, 2);
        put_mark(t);
        put_clean(t, rows[i].label);
        if (with_addr && rows[i].addr)
            emit_buf_printf(&t->b, " %s", emit_addr(rows[i].addr, a));
        emit_buf_put(&t->b, "\n", 1);
    }
}

/* What `heapsift diff` found changed, and the largest changes by group. */
static void put_diff(tctx *t, const report_diff *d)
{
    char a[EMIT_SIZE_MAX], b[EMIT_SIZE_MAX], c[EMIT_SIZE_MAX];
    emit_buf_put(&t->b, "\n", 1);
    bold_on(t);
    emit_buf_puts(&t->b, "Changes since ");
    put_clean(t, d->before_path);
    bold_off(t);
    emit_buf_printf(&t->b, "\n  %" PRIu64 " objects gone (%s), %" PRIu64 " new (%s), %" PRIu64
                           " kept (%s)\n",
                    d->gone_objects, emit_size(d->gone_bytes, a), d->new_objects,
                    emit_size(d->new_bytes, b), d->kept_objects, emit_size(d->kept_bytes, c));
    if (!d->ngrowth)
        return;
    emit_buf_printf(&t->b, "  %12s %12s %12s  %-8s %-21s NAME\n", "BEFORE", "AFTER", "CHANGE",
                    "GROUP", "CLASS");
    for (size_t i = 0; i < d->ngrowth; i++) {
        const report_delta *g = &d->growth[i];
        int grew = g->bytes_after >= g->bytes_before;
        uint64_t delta = grew ? g->bytes_after - g->bytes_before : g->bytes_before - g->bytes_after;
        emit_buf_printf(&t->b, "  %12s %12s %c%11s  %-8s %-21s ", emit_size(g->bytes_before, a),
                        emit_size(g->bytes_after, b), grew ? '+' : '-', emit_size(delta, c),
                        g->group ? g->group : "?", report_class_label(g->cls));
        put_mark(t);
        put_clean(t, g->label);
        emit_buf_printf(&t->b, " (%" PRIu64 " -> %" PRIu64 ")\n", g->count_before, g->count_after);
    }
}

static void put_dump(tctx *t, const report *r)
{
    char z[EMIT_SIZE_MAX];
    bold_on(t);
    emit_buf_puts(&t->b, "heapsift report for ");
    put_clean(t, r->dump_path ? r->dump_path : "(unnamed dump)");
    bold_off(t);
    emit_buf_printf(&t->b, "\n  %s dump, ", emit_size(r->dump_bytes, z));
    put_clean(t, r->go_version ? r->go_version : "unknown Go version");
    if (r->goarch) {
        emit_buf_put(&t->b, " ", 1);
        put_clean(t, r->goarch);
    }
    if (r->binary) {
        emit_buf_puts(&t->b, ", symbols from ");
        put_clean(t, r->binary);
    } else {
        emit_buf_puts(&t->b, ", no symbols");
    }
    emit_buf_puts(&t->b, "\n\n");
}

int emit_text(const report *r, hs_writer out, const emit_text_options *opts)
{
    if (!emit_report_valid(r) || !out.write)
        return HS_ERR_ARG;
    tctx t;
    emit_wrap wrap;
    if (opts)
        t.o = *opts;
    else
        emit_text_options_init(&t.o);
    emit_wrap_init(&wrap, out, t.o.width);
    emit_buf_init(&t.b, t.o.width ? (hs_writer){emit_wrap_write, &wrap} : out);
    put_dump(&t, r);
    put_verdict(&t, r);
    for (size_t i = 0; i < r->nfindings; i++)
        put_finding(&t, &r->findings[i], i + 1);
    put_info(&t, r);
    put_summary(&t, r);
    if (r->diff)
        put_diff(&t, r->diff);
    if (t.o.tables) {
        put_table(&t, "Top retainers", r->retainers, r->nretainers, 1);
        put_table(&t, "Histogram", r->histogram, r->nhistogram, 0);
    }
    int rc = emit_buf_finish(&t.b), wrc = emit_wrap_finish(&wrap);
    return rc < 0 ? rc : wrc;
}

int emit_text_path(const report_path *p, hs_writer out)
{
    if (!p || !out.write || !emit_steps_valid(p->steps, p->nsteps))
        return HS_ERR_ARG;
    tctx t;
    emit_buf_init(&t.b, out);
    emit_text_options_init(&t.o);
    put_path(&t, p, 0);
    return emit_buf_finish(&t.b);
}

int emit_text_rows(const report_row *rows, size_t n, int with_addr, hs_writer out)
{
    if ((n > 0 && !rows) || !out.write)
        return HS_ERR_ARG;
    tctx t;
    emit_buf_init(&t.b, out);
    emit_text_options_init(&t.o);
    put_table(&t, NULL, rows, n, with_addr);
    return emit_buf_finish(&t.b);
}
