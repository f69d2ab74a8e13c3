/* emit_wrap.c - line wrapping for the text report (emit_text --width): a writer that passes
 * text on line by line and breaks a line wider than its width at spaces, continuing at the
 * column its last EMIT_WRAP_MARK marked (the start of a value after its label, of a node after
 * its hop). Widths count code points; ANSI escape sequences (the headers' bold) count nothing.
 * A word wider than the room left is broken after its last '.', '/', ',' or ')' that fits
 * ("encoding/json/" + "v2.cache"), else where it reaches the edge; an EMIT_WRAP_GLUE is a
 * space that is never broken at ("16 B"). */
#include "emit.h"

#include <stdlib.h>
#include <string.h>

#include "vec.h"

void emit_wrap_init(emit_wrap *w, hs_writer out, size_t width)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->width = width;
}

/* Bytes of the character or escape sequence at s[i] (of n), and its width in *cols. */
static size_t unit(const char *s, size_t i, size_t n, size_t *cols)
{
    unsigned char c = (unsigned char)s[i];
    *cols = 0;
    if (c == '\033') { /* ESC [ params letter */
        size_t k = i + 1;
        if (k < n && s[k] == '[')
            for (k++; k < n && !(s[k] >= '@' && s[k] <= '~'); k++)
                ;
        return (k < n ? k + 1 : n) - i;
    }
    if (c == (unsigned char)EMIT_WRAP_MARK)
        return 1;
    size_t k = i + 1;
    while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80) /* continuation bytes */
        k++;
    *cols = 1;
    return k - i;
}

static void out_put(emit_wrap *w, const char *s, size_t n)
{
    if (w->status || !n)
        return;
    int st = w->out.write(w->out.ctx, s, n);
    if (st < 0)
        w->status = st;
}

/* s[from..to) without marks, glues as spaces. */
static void out_span(emit_wrap *w, const char *s, size_t from, size_t to)
{
    size_t run = from;
    for (size_t i = from; i < to; i++) {
        if (s[i] != EMIT_WRAP_MARK && s[i] != EMIT_WRAP_GLUE)
            continue;
        out_put(w, s + run, i - run);
        if (s[i] == EMIT_WRAP_GLUE)
            out_put(w, " ", 1);
        run = i + 1;
    }
    out_put(w, s + run, to - run);
}

static void out_indent(emit_wrap *w, size_t cols)
{
    static const char spaces[] = "                                ";
    out_put(w, "\n", 1);
    for (size_t k; cols > 0; cols -= k) {
        k = cols < sizeof spaces - 1 ? cols : sizeof spaces - 1;
        out_put(w, spaces, k);
    }
}

/* One line (no newline) as the file's comment says. */
static void wrap_line(emit_wrap *w, const char *s, size_t n)
{
    size_t cols = 0, indent = 0, lead = 0, total = 0, marked = 0, u;
    for (size_t i = 0; i < n; total += u)
        i += unit(s, i, n, &u);
    if (!w->width || total <= w->width) {
        out_span(w, s, 0, n);
        return;
    }
    while (lead < n && s[lead] == ' ')
        lead++;
    const char *m = memrchr(s, EMIT_WRAP_MARK, n);
    if (m) {
        marked = (size_t)(m - s);
        for (size_t i = 0; i < marked; indent += u)
            i += unit(s, i, n, &u);
    } else {
        indent = marked = lead;
    }
    if (indent > w->width / 2)
        indent = w->width / 2;
    size_t start = 0, brk = 0, soft = 0; /* the part being laid out; where to break it */
    for (size_t i = 0; i < n;) {
        size_t len = unit(s, i, n, &u);
        if (s[i] == ' ' && i > marked && i > start)
            brk = i;
        if (u && cols + u > w->width && cols > (start ? indent : 0)) {
            size_t cut = brk > start ? brk : soft > start ? soft : i;
            out_span(w, s, start, cut);
            out_indent(w, indent);
            cols = indent;
            start = cut;
            while (start < n && s[start] == ' ')
                start++;
            brk = soft = 0;
            i = start;
            continue;
        }
        if (i >= marked && (s[i] == '.' || s[i] == '/' || s[i] == ',' || s[i] == ')'))
            soft = i + 1;
        cols += u;
        i += len;
    }
    out_span(w, s, start, n);
}

int emit_wrap_write(void *ctx, const void *buf, size_t n)
{
    emit_wrap *w = ctx;
    const char *p = buf, *end = p + n;
    while (!w->status && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (vec_reserve((void **)&w->line, &w->cap, w->len + k + 1, 1) < 0) {
            w->status = HS_ERR_NOMEM;
            break;
        }
        memcpy(w->line + w->len, p, k);
        w->len += k;
        p += k;
        if (!nl)
            break;
        wrap_line(w, w->line, w->len);
        out_put(w, "\n", 1);
        w->len = 0;
        p++;
    }
    return w->status;
}

int emit_wrap_finish(emit_wrap *w)
{
    if (w->len)
        wrap_line(w, w->line, w->len);
    free(w->line);
    w->line = NULL;
    w->len = w->cap = 0;
    return w->status;
}
