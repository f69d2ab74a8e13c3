/* emit_dot.c - the report as a Graphviz digraph: one cluster per finding ("f1", "f2", ...)
 * and per info item ("i1", ...), holding its path from the root and, for closure cycles, the
 * cycle. A node's id is the cluster prefix, a node-kind letter and its address, so the path's
 * last object and the same object on the cycle are one node; nodes without an address get
 * an id from their position. Edges carry the field offset ("+0x18") of the pointer; the graph
 * is strict, so an edge on both the path and the cycle is drawn once.
 */
#include "emit.h"

#include <inttypes.h>
#include <stdio.h>

typedef struct dctx {
    emit_buf b;
    emit_buf tmp; /* string builder for one label */
} dctx;

/* Writes what d->tmp holds into the open DOT string with '"' and '\' escaped, and empties
 * d->tmp. Labels are written as '"', pieces of text, "\\n" line breaks, '"'. */
static void put_tmp(dctx *d)
{
    const char *c = emit_buf_cstr(&d->tmp);
    if (!c) {
        if (!d->b.status)
            d->b.status = d->tmp.status;
        return;
    }
    for (const char *p = c, *run = c;; p++) {
        if (*p == '"' || *p == '\\' || *p == '\0') {
            emit_buf_put(&d->b, run, (size_t)(p - run));
            if (!*p)
                break;
            emit_buf_put(&d->b, "\\", 1);
            run = p;
        }
    }
    d->tmp.len = 0;
}

/* An untrusted string, cleaned and escaped, into the open DOT string. */
static void put_text(dctx *d, const char *s)
{
    emit_buf_clean(&d->tmp, s, EMIT_CLEAN_TERMINAL);
    put_tmp(d);
}

static void node_id(const char *prefix, char part, size_t i, const report_step *s, char *buf,
                    size_t n)
{
    static const char letters[] = "ocgfrz"; /* by report_node_kind */
    if (s->addr)
        snprintf(buf, n, "%s_%c%" PRIx64, prefix, letters[s->kind], s->addr);
    else
        snprintf(buf, n, "%s_%c%zu", prefix, part, i);
}

/* Declares the steps' nodes and the edges between consecutive steps. */
static void put_chain(dctx *d, const char *prefix, char part, const report_step *s, size_t n)
{
    char id[64], prev[64], a[EMIT_ADDR_MAX], z[EMIT_SIZE_MAX];
    for (size_t i = 0; i < n; i++) {
        node_id(prefix, part, i, &s[i], id, sizeof id);
        emit_buf_printf(&d->b, "    %s [label=\"", id);
        put_text(d, s[i].name ? s[i].name : s[i].shape ? s[i].shape : "?");
        emit_buf_printf(&d->b, "\\n%s", report_node_kind_name(s[i].kind));
        if (s[i].addr)
            emit_buf_printf(&d->b, " %s", emit_addr(s[i].addr, a));
        if (s[i].size)
            emit_buf_printf(&d->b, " (%s)", emit_size(s[i].size, z));
        emit_buf_put(&d->b, "\"", 1);
        if (s[i].kind == REPORT_NODE_CLOSURE)
            emit_buf_puts(&d->b, ", shape=octagon");
        else if (s[i].kind != REPORT_NODE_OBJECT)
            emit_buf_puts(&d->b, ", shape=ellipse");
        emit_buf_puts(&d->b, "];\n");
        if (i > 0) {
            emit_buf_printf(&d->b, "    %s -> %s", prev, id);
            if (s[i].field != REPORT_NO_FIELD)
                emit_buf_printf(&d->b, " [label=\"+0x%" PRIx32 "\"]", s[i].field);
            emit_buf_puts(&d->b, ";\n");
        }
        snprintf(prev, sizeof prev, "%s", id);
    }
}

static void put_cluster(dctx *d, const char *prefix, const report_finding *f, int info)
{
    char z1[EMIT_SIZE_MAX], z2[EMIT_SIZE_MAX];
    emit_buf_printf(&d->b, "  subgraph cluster_%s {\n    label=\"%s%s: %zu objects, %s, "
                    "retains %s\\n", prefix, info ? "not a leak: " : "",
                    emit_kind_label(f->kind), f->nobjects, emit_size(f->bytes, z1),
                    emit_size(f->retained_bytes, z2));
    put_text(d, f->title ? f->title : "");
    emit_buf_puts(&d->b, "\";\n");
    if (f->path.root_kind || f->path.root_name) {
        /* the root as its own node, so a path whose first step is an object still shows it */
        emit_buf_printf(&d->b, "    %s_root [shape=plaintext, label=\"", prefix);
        emit_buf_kind_name(&d->tmp, f->path.root_kind, f->path.root_name);
        put_tmp(d);
        emit_buf_puts(&d->b, "\"];\n");
        if (f->path.nsteps > 0) {
            char id[64];
            node_id(prefix, 'p', 0, &f->path.steps[0], id, sizeof id);
            emit_buf_printf(&d->b, "    %s_root -> %s [style=dashed];\n", prefix, id);
        }
    }
    put_chain(d, prefix, 'p', f->path.steps, f->path.nsteps);
    if (f->kind == REPORT_CLOSURE_CYCLE)
        put_chain(d, prefix, 'c', f->cycle, f->ncycle);
    emit_buf_puts(&d->b, "  }\n");
}

int emit_dot(const report *r, hs_writer out)
{
    if (!emit_report_valid(r) || !out.write)
        return HS_ERR_ARG;
    dctx d;
    emit_buf_init(&d.b, out);
    emit_buf_init(&d.tmp, (hs_writer){0});
    emit_buf_puts(&d.b, "strict digraph heapsift {\n  rankdir=LR;\n"
                        "  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
                        "  edge [fontname=\"monospace\", fontsize=9];\n");
    char prefix[32];
    for (size_t i = 0; i < r->nfindings; i++) {
        snprintf(prefix, sizeof prefix, "f%zu", i + 1);
        put_cluster(&d, prefix, &r->findings[i], 0);
    }
    for (size_t i = 0; i < r->ninfo; i++) {
        snprintf(prefix, sizeof prefix, "i%zu", i + 1);
        put_cluster(&d, prefix, &r->info[i], 1);
    }
    emit_buf_puts(&d.b, "}\n");
    int st = emit_buf_finish(&d.tmp);
    int st2 = emit_buf_finish(&d.b);
    return st2 ? st2 : st;
}
