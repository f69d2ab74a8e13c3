/* report.c - the report model's names and lifecycle (see report.h). */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Indexed by report_kind; these strings are the JSON "kind" values of heapsift-report/1. */
static const char *const kind_names[REPORT_NKINDS] = {
    [REPORT_GHOST] = "ghost",
    [REPORT_FINALIZER_PINNED] = "finalizer_pinned",
    [REPORT_CLOSURE_CYCLE] = "closure_cycle",
    [REPORT_TOMBSTONE] = "tombstone",
};

static const char *const node_kind_names[] = {
    [REPORT_NODE_OBJECT] = "object",     [REPORT_NODE_CLOSURE] = "closure",
    [REPORT_NODE_GLOBAL] = "global",     [REPORT_NODE_FRAME] = "frame",
    [REPORT_NODE_ROOT] = "root",         [REPORT_NODE_FINALIZER] = "finalizer",
};

/* Out-of-range kinds give "unknown" so a caller can always print the result. */
const char *report_kind_name(int kind)
{
    if (kind < 0 || kind >= REPORT_NKINDS)
        return "unknown";
    return kind_names[kind];
}

/* Every spelling a report prints is accepted: "finalizer_pinned" (JSON), "finalizer-pinned"
 * and "closure cycle" (text), plurals ("ghosts"), any case. */
int report_kind_parse(const char *name)
{
    char norm[32];
    size_t n = 0;
    if (!name)
        return -1;
    for (; name[n] && n + 1 < sizeof norm; n++) {
        char ch = name[n];
        norm[n] = ch == '-' || ch == ' ' ? '_' : ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    if (name[n])
        return -1;
    norm[n] = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < REPORT_NKINDS; k++)
            if (strcmp(norm, kind_names[k]) == 0)
                return k;
        if (n < 2 || norm[n - 1] != 's')
            break;
        norm[--n] = 0; /* "ghosts", "closure cycles" */
    }
    return -1;
}

static const char *const class_labels[REPORT_NCLASSES] = {
    "in use", "finalizer-held", "pending finalization", "garbage"};
static const char *const class_keys[REPORT_NCLASSES] = {
    "in_use", "finalizer_held", "pending_finalization", "garbage"};

const char *report_class_label(int c)
{
    return c >= 0 && c < REPORT_NCLASSES ? class_labels[c] : "unknown";
}

const char *report_class_key(int c)
{
    return c >= 0 && c < REPORT_NCLASSES ? class_keys[c] : "unknown";
}

const char *report_node_kind_name(int kind)
{
    if (kind < 0 || (size_t)kind >= sizeof node_kind_names / sizeof node_kind_names[0])
        return "unknown";
    return node_kind_names[kind];
}

char *report_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *report_strfmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

/* Leaves *s's strings NULL, so releasing twice is harmless. */
void report_step_release(report_step *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->shape);
    free(s->field_name);
    s->name = s->shape = s->field_name = NULL;
}

static void steps_free(report_step *steps, size_t n)
{
    if (!steps)
        return;
    for (size_t i = 0; i < n; i++)
        report_step_release(&steps[i]);
    free(steps);
}

/* Leaves *o zeroed, so releasing twice is harmless. */
void report_object_release(report_object *o)
{
    if (!o)
        return;
    report_step_release(&o->node);
    free(o->state);
    free(o->site);
    steps_free(o->fields, o->nfields);
    steps_free(o->referrers, o->nreferrers);
    memset(o, 0, sizeof *o);
}

/* Leaves *p empty (all NULL/0), so releasing twice is harmless. */
void report_path_release(report_path *p)
{
    if (!p)
        return;
    free(p->root_kind);
    free(p->root_name);
    steps_free(p->steps, p->nsteps);
    memset(p, 0, sizeof *p);
}

/* Leaves *f zeroed, so releasing twice is harmless. */
void report_finding_release(report_finding *f)
{
    if (!f)
        return;
    free(f->title);
    free(f->signature);
    free(f->objects);
    free(f->evidence);
    free(f->reason);
    free(f->type);
    free(f->container);
    free(f->holder);
    report_path_release(&f->path);
    steps_free(f->cycle, f->ncycle);
    if (f->closures)
        for (size_t i = 0; i < f->nclosures; i++)
            free(f->closures[i].func);
    free(f->closures);
    memset(f, 0, sizeof *f);
}

static void findings_free(report_finding *fs, size_t n)
{
    if (!fs)
        return;
    for (size_t i = 0; i < n; i++)
        report_finding_release(&fs[i]);
    free(fs);
}

static void rows_free(report_row *rows, size_t n)
{
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++) {
        free(rows[i].label);
        free(rows[i].group);
    }
    free(rows);
}

static void strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void report_views_free(report_views *v)
{
    if (!v)
        return;
    rows_free(v->sites, v->nsites);
    for (size_t i = 0; v->tree && i < v->ntree; i++)
        report_step_release(&v->tree[i].node);
    for (size_t i = 0; v->objects && i < v->nobjects; i++)
        report_object_release(&v->objects[i]);
    free(v->tree);
    free(v->objects);
    free(v);
}

void report_profile_free(report_profile *p)
{
    for (size_t i = 0; p && p->samples && i < p->nsamples; i++)
        free(p->samples[i].frames);
    if (p) {
        strv_free(p->frames, p->nframes);
        free(p->samples);
    }
    free(p);
}

void report_free(report *r)
{
    if (!r)
        return;
    free(r->dump_path);
    free(r->go_version);
    free(r->goarch);
    free(r->binary);
    strv_free(r->containers, r->ncontainers);
    strv_free(r->notes, r->nnotes);
    findings_free(r->findings, r->nfindings);
    findings_free(r->info, r->ninfo);
    rows_free(r->retainers, r->nretainers);
    rows_free(r->histogram, r->nhistogram);
    rows_free(r->folded, r->nfolded);
    if (r->diff) {
        free(r->diff->before_path);
        for (size_t i = 0; i < r->diff->ngrowth; i++) {
            free(r->diff->growth[i].label);
            free(r->diff->growth[i].group);
        }
        free(r->diff->growth);
        free(r->diff);
    }
    report_views_free(r->views);
    report_profile_free(r->profile);
    free(r);
}
