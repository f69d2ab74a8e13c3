/* emit.c - what the emitters share: a buffered output, cleaning of untrusted strings,
 * address and size formatting, kind labels and a sanity check of the report. */
#include "emit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_units.h"

#define EMIT_FLUSH_AT 65536

void emit_buf_init(emit_buf *b, hs_writer out)
{
    memset(b, 0, sizeof *b);
    b->out = out;
}

/* Makes room for n more bytes plus a NUL. */
static int buf_reserve(emit_buf *b, size_t n)
{
    if (b->status)
        return -1;
    if (n > SIZE_MAX / 2 - b->len) {
        b->status = HS_ERR_NOMEM;
        return -1;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->status = HS_ERR_NOMEM;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

static void buf_flush(emit_buf *b)
{
    if (b->status || !b->out.write || b->len == 0)
        return;
    int st = b->out.write(b->out.ctx, b->data, b->len);
    if (st < 0)
        b->status = st;
    b->len = 0;
}

static void buf_maybe_flush(emit_buf *b)
{
    if (b->out.write && b->len >= EMIT_FLUSH_AT)
        buf_flush(b);
}

void emit_buf_put(emit_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    buf_maybe_flush(b);
}

void emit_buf_puts(emit_buf *b, const char *s)
{
    emit_buf_put(b, s, strlen(s));
}

void emit_buf_printf(emit_buf *b, const char *fmt, ...)
{
    if (b->status)
        return;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->status = HS_ERR_ARG;
        return;
    }
    if ((size_t)n < sizeof small) {
        emit_buf_put(b, small, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    buf_maybe_flush(b);
}

void emit_buf_pad(emit_buf *b, size_t n)
{
    static const char spaces[] = "                                ";
    while (n > 0 && !b->status) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        emit_buf_put(b, spaces, k);
        n -= k;
    }
}

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0 when s does not
 * start one (stray continuation, overlong form, surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

int emit_utf8_valid(const char *s)
{
    if (!s)
        return 1;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_seq(p, &cp);
        if (n == 0)
            return 0;
        p += n;
    }
    return 1;
}

/* Code points a terminal acts on or that reorder text (bidi controls, line separators). */
static int terminal_unsafe(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void emit_buf_clean(emit_buf *b, const char *s, int mode)
{
    if (!s) {
        emit_buf_put(b, "?", 1);
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_seq(p, &cp);
        if (n > 0 && !(mode == EMIT_CLEAN_TERMINAL && terminal_unsafe(cp))) {
            p += n;
            continue;
        }
        emit_buf_put(b, (const char *)run, (size_t)(p - run));
        if (n == 0) {
            emit_buf_put(b, "\xef\xbf\xbd", 3); /* U+FFFD REPLACEMENT CHARACTER */
            p++;
        } else {
            emit_buf_put(b, "?", 1);
            p += n;
        }
        run = p;
    }
    emit_buf_put(b, (const char *)run, (size_t)(p - run));
}

void emit_buf_kind_name(emit_buf *b, const char *kind, const char *name)
{
    size_t k = kind ? strlen(kind) : 0;
    if (kind && !(name && strncmp(name, kind, k) == 0 && name[k] == ' ')) {
        emit_buf_clean(b, kind, EMIT_CLEAN_TERMINAL);
        if (name)
            emit_buf_put(b, " ", 1);
    }
    if (name)
        emit_buf_clean(b, name, EMIT_CLEAN_TERMINAL);
}

const char *emit_buf_cstr(emit_buf *b)
{
    if (b->status)
        return NULL;
    if (!b->data && buf_reserve(b, 0) < 0)
        return NULL;
    b->data[b->len] = '\0';
    return b->data;
}

int emit_buf_finish(emit_buf *b)
{
    buf_flush(b);
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    return b->status;
}

const char *emit_addr(uint64_t addr, char buf[EMIT_ADDR_MAX])
{
    snprintf(buf, EMIT_ADDR_MAX, "0x%" PRIx64, addr);
    return buf;
}

/* The report's sizes: tenths, rounded half up, in the unit that keeps the rounded value under
 * 1024 (HS_UNITS_TENTHS). */
const char *emit_size(uint64_t bytes, char buf[EMIT_SIZE_MAX])
{
    return hs_units_format_bytes(bytes, HS_UNITS_TENTHS, buf, EMIT_SIZE_MAX);
}

const char *emit_kind_label(int kind)
{
    switch (kind) {
    case REPORT_GHOST: return "ghost";
    case REPORT_FINALIZER_PINNED: return "finalizer-pinned";
    case REPORT_CLOSURE_CYCLE: return "closure cycle";
    case REPORT_TOMBSTONE: return "tombstone";
    default: return "unknown";
    }
}

int emit_steps_valid(const report_step *s, size_t n)
{
    if (n > 0 && !s)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].kind < REPORT_NODE_OBJECT || s[i].kind > REPORT_NODE_FINALIZER)
            return 0;
    return 1;
}

static int findings_valid(const report_finding *f, size_t n)
{
    if (n > 0 && !f)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].kind < 0 || f[i].kind >= REPORT_NKINDS)
            return 0;
        if ((f[i].nobjects > 0 && !f[i].objects) || (f[i].nclosures > 0 && !f[i].closures))
            return 0;
        if (!emit_steps_valid(f[i].path.steps, f[i].path.nsteps) ||
            !emit_steps_valid(f[i].cycle, f[i].ncycle))
            return 0;
    }
    return 1;
}

int emit_report_valid(const report *r)
{
    if (!r)
        return 0;
    if ((r->ncontainers > 0 && !r->containers) || (r->nnotes > 0 && !r->notes) ||
        (r->nretainers > 0 && !r->retainers) || (r->nhistogram > 0 && !r->histogram))
        return 0;
    return findings_valid(r->findings, r->nfindings) && findings_valid(r->info, r->ninfo);
}
