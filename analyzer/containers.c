/* containers.c - container discovery: which structures are containers and their names.
 *
 * sync.Maps are found wherever they are (a global, an anonymous static, a field of a heap
 * object) by their internal root, whose layout is distinctive for each Go version: the
 * readOnly typed by its interface word (1.19), the readOnly/hmap pair (1.20-1.23), the
 * HashTrieMap root node (1.24+). The holder is whatever points at that root. Go maps are
 * containers when a global of the program reaches them and their values include the
 * program's own types, or when --container names them (a global or a Go expression through
 * fields). cdecode.c decodes them. */
#include "containers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitset.h"
#include "cdecode.h"
#include "describe.h"
#include "lasting.h"
#include "goexpr.h"
#include "placeexpr.h"
#include "typing.h"
#include "vec.h"

/* ---- containers ---- */


/* Is name (a global, "*global" or "global+0x10") in the standard library? Its caches
 * (encoding/json's, reflect's, unique's) only grow and are not the program's containers:
 * they are decoded for their objects' role labels, and not searched for ghosts.
 * Standard packages have no dot in their first path element; "main" is the program's. */
static int is_std_name(const char *name)
{
    if (*name == '*')
        name++;
    const char *slash = strchr(name, '/'), *dot = strchr(name, '.');
    if (!dot)
        return 0; /* not a Go symbol: an unnamed object */
    if (slash)
        return slash < dot; /* "encoding/json.x" is, "example.com/p.x" is not */
    return strncmp(name, "main.", 5) != 0;
}

/* The Go expression of heap object m by its path from a global of the program
 * ("main.srv.sessions.cache.items"); NULL when it has none (what only stacks hold is work in
 * flight, what the standard library's globals hold is its cache: neither is a container) or
 * out of memory (*nomem). */
static char *node_expr(analysis *a, uint32_t m, int *nomem)
{
    report_path p;
    const paths_tree *t;
    *nomem = 0;
    /* The shortest path mostly starts at a global already; the paths from the lasting roots
     * (a BFS of their own) are needed only when it starts at a goroutine. */
    if (describe_program_path(a, m, &p) < 0) {
        *nomem = 1;
        return NULL;
    }
    if (!p.nsteps || !p.root_kind || strcmp(p.root_kind, "global") != 0) {
        report_path_release(&p);
        if (lasting_tree(a, &t, NULL) < 0 || describe_tree_path(a, t, m, &p) < 0) {
            *nomem = 1;
            return NULL;
        }
    }
    char *s = NULL;
    if (p.nsteps && p.root_kind && !strcmp(p.root_kind, "global") && !is_std_name(p.root_name)) {
        s = report_strdup(p.root_name);
        for (size_t i = 1; s && i < p.nsteps; i++) {
            const char *f = p.steps[i].field_name;
            char *next = f ? report_strfmt("%s%s", s, f)
                           : report_strfmt("%s[+0x%x]", s, p.steps[i].field);
            free(s);
            s = next;
        }
        *nomem = !s;
    }
    report_path_release(&p);
    return s;
}

/* A container's name: the Go expression of the value of type `type` at `offset` in holder
 * ("main.srv.uploads", "main.svc.sessions", "main.store"), else describe_place's
 * ("*main.registry"). NULL when out of memory. */
static char *container_name(analysis *a, uint32_t holder, uint64_t offset, const char *type)
{
    const heap *h = a->h;
    char field[256];
    uint32_t hdr = holder < h->nobj ? h->obj_hdr[holder] : 0;
    const char *f = type ? goexpr_node_value(h, holder, offset + hdr, type, field, sizeof field)
                         : NULL;
    int nomem = 0;
    char *base = NULL;
    if (f && holder < h->nobj) {
        base = node_expr(a, holder, &nomem);
    } else if (f && !h->aux[holder - h->nobj].anonymous) {
        base = report_strdup(strpool_get(&h->names, h->aux[holder - h->nobj].name));
        nomem = !base;
    } else if (f && *f) { /* an anonymous static: its part a global points to */
        uint64_t start;
        char *place = typing_static_part(h, holder, offset, &start) != HEAP_NONE
                          ? describe_place(a, holder, start) : NULL;
        nomem = !place;
        if (place && *place == '*' && !strchr(place, '+'))
            base = report_strdup(place + 1); /* main.svc.sessions: Go dereferences */
        free(place);
    }
    if (base) {
        char *name = report_strfmt("%s%s", base, f);
        free(base);
        return name;
    }
    return nomem ? NULL : describe_place(a, holder, offset);
}

/* The container at (holder, offset), added when new; *out points at it. */
static int add_container(analysis *a, size_t *cap, uint32_t holder, uint64_t offset,
                         const char *type, analysis_container **out)
{
    const heap *h = a->h;
    for (size_t i = 0; i < a->ncontainers; i++)
        if (a->containers[i].node == holder && a->containers[i].offset == offset) {
            *out = &a->containers[i];
            return HS_OK;
        }
    uint64_t base = holder < h->nobj ? heap_obj_ptr(h, holder) : h->aux[holder - h->nobj].addr;
    analysis_container c = {.node = holder, .offset = offset, .addr = base + offset};
    if (!(c.name = container_name(a, holder, offset, type)))
        return HS_ERR_NOMEM;
    if (VEC_PUSH(a->containers, a->ncontainers, *cap, c) < 0) {
        free(c.name);
        return HS_ERR_NOMEM;
    }
    *out = &a->containers[a->ncontainers - 1];
    return HS_OK;
}

/* Finds every sync.Map by its internal root and decodes it; its holder is each global or
 * object that points at the root from the field where a sync.Map keeps it. */
static int find_syncmaps(analysis *a, size_t *cap)
{
    const heap *h = a->h;
    const uint32_t *in = graph_in_offsets(h->g), *src = graph_in_src(h->g);
    for (uint32_t r = 0; r < h->nobj; r++) {
        uint64_t field;
        if (!cdecode_syncmap_root(a, r, &field))
            continue;
        for (uint32_t e = in[r]; e < in[r + 1]; e++) {
            uint32_t x = src[e];
            if (x >= h->nobj && h->aux[x - h->nobj].kind != HEAP_NODE_GLOBAL)
                continue;
            if (cdecode_is_trie_node(h, x)) /* a child's parent pointer */
                continue;
            const uint32_t *off = graph_out_offsets(h->g), *dst = graph_out_dst(h->g),
                           *fld = graph_out_field(h->g);
            for (uint32_t k = off[x]; k < off[x + 1]; k++) {
                if (dst[k] != r || fld[k] < heap_node_hdr(h, x) + field)
                    continue;
                uint64_t at = fld[k] - heap_node_hdr(h, x) - field;
                char *name = container_name(a, x, at, "sync.Map");
                if (!name)
                    return HS_ERR_NOMEM;
                int std = is_std_name(name);
                free(name);
                if (std) { /* decoded for its role labels only */
                    analysis_container scratch = {.node = x, .offset = at};
                    int rc = cdecode_syncmap(a, &scratch, r);
                    free(scratch.values);
                    free(scratch.tombstones);
                    if (rc < 0)
                        return rc;
                    continue;
                }
                analysis_container *c;
                int rc = add_container(a, cap, x, at, "sync.Map", &c);
                if (rc < 0 || (!c->nseeds && (rc = cdecode_syncmap(a, c, r)) < 0))
                    return rc;
            }
        }
    }
    return HS_OK;
}

/* A container named by a Go expression through fields (main.srv.sessions.items): a Go map or
 * sync.Map is decoded; any other value (a slice, an array, a pointer) holds what it
 * reaches. */
static int add_expr(analysis *a, size_t *cap, const char *expr, hs_error *err)
{
    const heap *h = a->h;
    placeexpr_place p;
    int rc = placeexpr_resolve(h, expr, &p, err);
    if (rc < 0) {
        hs_error_prefix(err, "container");
        return rc;
    }
    const typetab_type *t = typetab_type_get(h->tt, p.type);
    uint32_t to = placeexpr_target(h, &p), root = GRAPH_NONE;
    int syncmap = t && t->name && !strcmp(t->name, "sync.Map");
    for (uint64_t f = 8; syncmap && f <= CDECODE_SYNCMAP_ROOT_MAX && root == GRAPH_NONE; f += 8) {
        placeexpr_place q = {p.node, p.offset + f, p.type};
        uint32_t r = placeexpr_target(h, &q);
        uint64_t field;
        if (r < h->nobj && cdecode_syncmap_root(a, r, &field) && field == f)
            root = r;
    }
    if (to == GRAPH_NONE && root == GRAPH_NONE)
        return hs_error_set(err, HS_ERR_NOTFOUND, HS_NO_OFFSET,
                            "container %s: a nil or empty %s holds nothing", expr,
                            t && t->name ? t->name : "value");
    analysis_container *c;
    if ((rc = add_container(a, cap, p.node, p.offset, NULL, &c)) < 0)
        goto nomem;
    char *name = report_strdup(expr);
    if (!name)
        goto nomem;
    free(c->name);
    c->name = name;
    if (c->nseeds)
        return HS_OK; /* found already */
    if (root != GRAPH_NONE)
        rc = cdecode_syncmap(a, c, root);
    else if (t && t->kind == TYPETAB_MAP && cdecode_is_map_header(a, to))
        rc = cdecode_map(a, c, to, NULL);
    else
        c->seeds[c->nseeds++] = to;
    if (rc >= 0)
        return HS_OK;
nomem:
    return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET, "containers: out of memory adding %s",
                        expr);
}

/* A --container: a global (a sync.Map found already, a Go map it points at, decoded, or any
 * other structure: everything it reaches is inside), or a Go expression through fields. */
static int add_named(analysis *a, size_t *cap, const char *name, hs_error *err)
{
    const heap *h = a->h;
    uint32_t node = heap_global(h, name);
    if (node == GRAPH_NONE)
        return add_expr(a, cap, name, err);
    for (size_t i = 0; i < a->ncontainers; i++)
        if (a->containers[i].node == node)
            return HS_OK;
    analysis_container *c;
    if (add_container(a, cap, node, 0, NULL, &c) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "containers: out of memory adding %s", name);
    uint32_t m = cdecode_edge_at(h->g, node, 0);
    if (cdecode_is_map_header(a, m) && cdecode_map(a, c, m, NULL) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "containers: out of memory decoding map %s", name);
    return HS_OK;
}

/* Is a value's type the program's own (package main, or a module whose path has a dot in its
 * first element), a named type rather than a backing array or a runtime-made name? */
static int program_type(const char *t)
{
    if (!t || *t == '[' || strchr(t, '<') || !strchr(t, '.'))
        return 0; /* "string bytes", a backing array, a runtime-made name */
    return !is_std_name(t);
}

/* Writes type name s into out (cap bytes) with each qualified name shortened to the package
 * name a user writes: "map[string]github.com/patrickmn/go-cache.Item" reads
 * "map[string]cache.Item" (the last path element, before a /vN suffix, without a "go-" or
 * "golang-" prefix). */
static void short_type(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    while (*s && n + 1 < cap) {
        size_t k = strcspn(s, "[]*(),{}<> ;");
        if (!k) {
            out[n++] = *s++;
            continue;
        }
        const char *dot = NULL;
        for (size_t i = 0; i < k; i++)
            if (s[i] == '.')
                dot = s + i;
        const char *pkg = s, *end = dot ? dot : s;
        for (const char *q = s; q < end; q++) /* the last element, or the one before /vN */
            if (*q == '/' && !(q[1] == 'v' && q + 2 <= end && strspn(q + 2, "0123456789") ==
                                                                  (size_t)(end - q - 2)))
                pkg = q + 1;
        size_t plen = dot ? (size_t)(end - pkg) : 0;
        const char *slash = plen ? memchr(pkg, '/', plen) : NULL;
        if (slash)
            plen = (size_t)(slash - pkg); /* "golang-lru/v2" -> "golang-lru" */
        static const char *const prefixes[] = {"golang-", "go-"};
        for (size_t i = 0; plen && i < 2; i++) {
            size_t pl = strlen(prefixes[i]);
            if (plen > pl && !strncmp(pkg, prefixes[i], pl)) {
                pkg += pl;
                plen -= pl;
                break;
            }
        }
        int w = dot ? snprintf(out + n, cap - n, "%.*s%.*s", (int)plen, pkg,
                               (int)(s + k - dot), dot)
                    : snprintf(out + n, cap - n, "%.*s", (int)k, s);
        n = w < 0 ? n : n + (size_t)w < cap ? n + (size_t)w : cap - 1;
        s += k;
    }
    out[n] = '\0';
}

/* Is map type t one --container-type names? */
static int wanted_type(const analysis *a, const typetab_type *t)
{
    char got[512], want[512];
    if (!t->name || !a->opts.ncontainer_types)
        return 0;
    short_type(t->name, got, sizeof got);
    for (size_t k = 0; k < a->opts.ncontainer_types; k++) {
        short_type(a->opts.container_types[k], want, sizeof want);
        if (!strcmp(got, want))
            return 1;
    }
    return 0;
}

/* What a map's header type says of its maps (find_typed_maps). */
enum { MAP_NO_PTRS = 1, MAP_PTRS = 2, MAP_WANTED = 4 };

/* Go maps found through their types: every in-use map header ("hash<K,V>" up to Go 1.23,
 * "map<K,V>" from 1.24) that a global reaches and whose values include the program's own
 * types is a container of those types, named by its Go expression. Maps of the standard
 * library's types (its caches, net/http's connection sets) are not. */
static int find_typed_maps(analysis *a, size_t *cap)
{
    const heap *h = a->h;
    int rc = HS_OK;
    /* Per header type (map<K,V>, hash<K,V>), from the map types that name it: whether their
     * values hold pointers (a map whose values hold none holds no objects: a record's
     * map[string]int is skipped before decoding; 0: unknown, decoded) and whether
     * --container-type names one. */
    size_t ntt = h->tt ? typetab_type_count(h->tt) : 0;
    uint8_t *hdr_info = calloc(ntt + 1, 1);
    uint64_t *seen = bitset_new(h->nnodes); /* one scratch for every decoding */
    if (!hdr_info || !seen) {
        free(hdr_info);
        free(seen);
        return HS_ERR_NOMEM;
    }
    for (size_t i = 0; i < ntt; i++) {
        const typetab_type *t = typetab_type_get(h->tt, (uint32_t)i);
        const typetab_type *e = t->kind == TYPETAB_MAP ? typetab_type_get(h->tt, t->elem) : NULL;
        if (e && t->hdr < ntt)
            hdr_info[t->hdr] |= (e->ptr_words ? MAP_PTRS : MAP_NO_PTRS) |
                                (wanted_type(a, t) ? MAP_WANTED : 0);
    }
    for (uint32_t v = 0; v < h->nobj && rc >= 0; v++) {
        const char *t = heap_type_name(h, v);
        uint32_t tt = h->obj_type[v] != HEAP_NONE ? h->types[h->obj_type[v]].ttype : HEAP_NONE;
        int info = tt < ntt ? hdr_info[tt] : 0;
        if (!t || (strncmp(t, "map<", 4) && strncmp(t, "hash<", 5)) ||
            (info & (MAP_NO_PTRS | MAP_PTRS | MAP_WANTED)) == MAP_NO_PTRS ||
            live_state_of(a->live, v) != LIVE_IN_USE || !cdecode_is_map_header(a, v))
            continue;
        int known = 0;
        for (size_t i = 0; i < a->ncontainers; i++)
            known |= a->containers[i].seeds[0] == v && a->containers[i].nseeds;
        if (known)
            continue;
        analysis_container c = {.node = v};
        rc = cdecode_map(a, &c, v, seen);
        int mine = (info & MAP_WANTED) != 0, nomem = 0;
        for (size_t i = 0; i < c.nvalues && !mine && !a->opts.no_auto_containers; i++)
            mine = program_type(heap_type_name(h, c.values[i]));
        if (rc >= 0 && mine && (c.name = node_expr(a, v, &nomem)) != NULL &&
            VEC_PUSH(a->containers, a->ncontainers, *cap, c) == 0)
            continue;
        if (rc >= 0 && (nomem || c.name))
            rc = HS_ERR_NOMEM;
        free(c.name);
        free(c.values);
    }
    free(hdr_info);
    free(seen);
    return rc;
}

int containers_find(analysis *a, hs_error *err)
{
    size_t cap = 0;
    if (!a->opts.no_auto_containers && find_syncmaps(a, &cap) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "containers: out of memory decoding sync.Maps");
    for (size_t i = 0; i < a->opts.ncontainers; i++) {
        int rc = add_named(a, &cap, a->opts.containers[i], err);
        if (rc < 0)
            return rc;
    }
    if ((!a->opts.no_auto_containers || a->opts.ncontainer_types) &&
        find_typed_maps(a, &cap) < 0)
        return hs_error_set(err, HS_ERR_NOMEM, HS_NO_OFFSET,
                            "containers: out of memory decoding Go maps");
    if (a->opts.nvalue_types && !a->ncontainers)
        return hs_error_set(err, HS_ERR_ARG, HS_NO_OFFSET,
                            "--value-type %s: no container holds values (name one with "
                            "--container EXPR or --container-type TYPE): without one, every "
                            "live %s would be a ghost", a->opts.value_types[0],
                            a->opts.value_types[0]);
    return HS_OK;
}

void containers_release(analysis *a)
{
    for (size_t i = 0; i < a->ncontainers; i++) {
        free(a->containers[i].name);
        free(a->containers[i].values);
        free(a->containers[i].tombstones);
    }
    free(a->containers);
    a->containers = NULL;
    a->ncontainers = 0;
}
