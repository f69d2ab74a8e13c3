/* Unit tests for line wrapping (emit_wrap.c) and the text report's --width (emit_text.c): exact
 * output for breaks at spaces under the marked column, lines without a mark, long names broken
 * after a dot or slash and at the edge, escapes and UTF-8 widths, glued spaces, text arriving
 * in pieces, a failing writer; then a whole report wrapped, and unwrapped without a marker. */
#include <stdlib.h>

#include "check.h"
#include "emit.h"
#include "report.h"

/* The text s written through a wrapper of width w, in pieces of at most `piece` bytes. */
static char *wrap(const char *s, size_t w, size_t piece)
{
    static char out[1024];
    hs_mem_sink sink = {0};
    emit_wrap x;
    emit_wrap_init(&x, (hs_writer){hs_mem_write, &sink}, w);
    for (size_t n = strlen(s), k; n > 0; s += k, n -= k) {
        k = n < piece ? n : piece;
        CHECK(emit_wrap_write(&x, s, k) == HS_OK);
    }
    CHECK(emit_wrap_finish(&x) == HS_OK);
    snprintf(out, sizeof out, "%.*s", (int)sink.len, sink.data ? (const char *)sink.data : "");
    hs_mem_sink_release(&sink);
    return out;
}

static void test_lines(void)
{
    CHECK_STR(wrap("short\n", 20, 100), "short\n");
    CHECK_STR(wrap("  a: \001not wrapped at width 0\n", 0, 100), "  a: not wrapped at width 0\n");
    CHECK_STR(wrap("  a: \001value\n", 20, 100), "  a: value\n"); /* the mark is not printed */
    CHECK_STR(wrap("   label:  \001aaa bbb ccc ddd eee\n", 24, 100),
              "   label:  aaa bbb ccc\n           ddd eee\n");
    /* a mark past half the width: the continuations start at the half */
    CHECK_STR(wrap("   label:  \001aaa bbb ccc ddd eee\n", 20, 100),
              "   label:  aaa bbb\n          ccc ddd\n          eee\n");
    CHECK_STR(wrap("  no mark here at all\n", 12, 100), "  no mark\n  here at\n  all\n");
    CHECK_STR(wrap("x \001encoding/json/v2.lookupArshalerCache\n", 22, 100),
              "x encoding/json/v2.\n  lookupArshalerCache\n");
    CHECK_STR(wrap("\001abcdefghij\n", 4, 100), "abcd\nefgh\nij\n");
    CHECK_STR(wrap("\033[1m#1 ghost: aaa bbb\033[0m\n", 12, 100),
              "\033[1m#1 ghost:\naaa bbb\033[0m\n");
    CHECK_STR(wrap("\001\xce\xb1\xce\xb2\xce\xb3 \xce\xb4\xce\xb5\xce\xb6\n", 5, 100),
              "\xce\xb1\xce\xb2\xce\xb3\n\xce\xb4\xce\xb5\xce\xb6\n");
    CHECK_STR(wrap("\001size (16\002B) x\n", 100, 100), "size (16 B) x\n");
    CHECK_STR(wrap("\001size (16\002B) x\n", 10, 100), "size\n(16 B) x\n");
    /* in pieces of 3 bytes, the last line unfinished */
    CHECK_STR(wrap("   label:  \001aaa bbb ccc ddd eee\nlast", 24, 3),
              "   label:  aaa bbb ccc\n           ddd eee\nlast");
}

static int fail_write(void *ctx, const void *buf, size_t n)
{
    (void)ctx, (void)buf, (void)n;
    return HS_ERR_IO;
}

static void test_failing_writer(void)
{
    emit_wrap x;
    emit_wrap_init(&x, (hs_writer){fail_write, NULL}, 10);
    CHECK(emit_wrap_write(&x, "abc\n", 4) == HS_ERR_IO);
    CHECK(emit_wrap_write(&x, "abc\n", 4) == HS_ERR_IO);
    CHECK(emit_wrap_finish(&x) == HS_ERR_IO);
}

static char *xdup(const char *s)
{
    char *p = report_strdup(s);
    if (!p)
        exit(2);
    return p;
}

/* The longest line of text, in bytes (the report here is ASCII). */
static size_t longest(const char *text)
{
    size_t best = 0;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        best = n > best ? n : best;
        p += n + (p[n] == '\n');
    }
    return best;
}

static void test_report(void)
{
    report *r = calloc(1, sizeof *r);
    if (!r || !(r->findings = calloc(1, sizeof *r->findings)))
        exit(2);
    r->dump_path = xdup("a.hsd");
    r->nfindings = 1;
    report_finding *f = &r->findings[0];
    f->kind = REPORT_GHOST;
    f->title = xdup("main.Payload not in container main.store but still held by global "
                    "main.onShutdown via closure main.armShutdown.func1");
    f->holder = xdup("global main.onShutdown via closure main.armShutdown.func1");
    f->objects = calloc(1, sizeof *f->objects);
    f->nobjects = 1;
    emit_text_options o;
    emit_text_options_init(&o);
    CHECK(o.width == 0);
    hs_mem_sink plain = {0}, wrapped = {0};
    CHECK(emit_text(r, (hs_writer){hs_mem_write, &plain}, &o) == HS_OK);
    o.width = 50;
    CHECK(emit_text(r, (hs_writer){hs_mem_write, &wrapped}, &o) == HS_OK);
    CHECK(hs_mem_write(&plain, "", 1) == HS_OK && hs_mem_write(&wrapped, "", 1) == HS_OK);
    const char *p = (const char *)plain.data, *w = (const char *)wrapped.data;
    CHECK(!strchr(p, EMIT_WRAP_MARK) && !strchr(p, EMIT_WRAP_GLUE));
    CHECK(!strchr(w, EMIT_WRAP_MARK) && !strchr(w, EMIT_WRAP_GLUE));
    CHECK(longest(p) > 100);
    CHECK(longest(w) <= 50);
    CHECK(strstr(w, "   main.Payload not in container main.store but\n"
                    "   still held by global main.onShutdown via\n"
                    "   closure main.armShutdown.func1\n") != NULL);
    CHECK(strstr(w, "   holder:    global main.onShutdown via closure\n"
                    "              main.armShutdown.func1\n") != NULL);
    hs_mem_sink_release(&plain);
    hs_mem_sink_release(&wrapped);
    report_free(r);
}

int main(void)
{
    test_lines();
    test_failing_writer();
    test_report();
    return check_report();
}
