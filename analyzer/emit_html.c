/* emit_html.c - the report as one self-contained HTML page for people: the text report
 * (emit_text) escaped in a <pre>, with a title and the verdict as a heading. No scripts, no
 * external resources: the page can be mailed or attached to a ticket as it is. */
#include <string.h>

#include "emit.h"

/* Appends s[0..n) with &, <, > and " escaped. */
static void put_escaped(emit_buf *b, const char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;"
                        : s[i] == '"' ? "&quot;" : NULL;
        if (!rep)
            continue;
        emit_buf_put(b, s + from, i - from);
        emit_buf_puts(b, rep);
        from = i + 1;
    }
    emit_buf_put(b, s + from, n - from);
}

int emit_html(const report *r, hs_writer out)
{
    if (!emit_report_valid(r) || !out.write)
        return HS_ERR_ARG;
    hs_mem_sink text = {0};
    emit_text_options o;
    emit_text_options_init(&o);
    o.max_objects = 50;
    int rc = emit_text(r, (hs_writer){hs_mem_write, &text}, &o);
    if (rc < 0)
        goto out;
    const char *body = text.data ? (const char *)text.data : "";
    size_t len = text.len;
    /* The first line names the dump; the verdict is the first non-empty line after it. */
    const char *nl = memchr(body, '\n', len);
    size_t title_len = nl ? (size_t)(nl - body) : len;
    emit_buf b;
    emit_buf_init(&b, out);
    emit_buf_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    put_escaped(&b, body, title_len);
    emit_buf_puts(&b, "</title>\n<style>body{font-family:sans-serif;margin:2em}"
                      "pre{font-size:13px;line-height:1.35;background:#f6f8fa;padding:1em;"
                      "overflow-x:auto}</style></head>\n<body>\n<h1>");
    put_escaped(&b, body, title_len);
    emit_buf_puts(&b, "</h1>\n<pre>");
    put_escaped(&b, body, len);
    emit_buf_puts(&b, "</pre>\n<p>" REPORT_SCHEMA " &middot; written by heapsift</p>\n"
                      "</body></html>\n");
    rc = emit_buf_finish(&b);
out:
    hs_mem_sink_release(&text);
    return rc;
}
