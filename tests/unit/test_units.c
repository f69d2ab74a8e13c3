/* Unit tests for hs_units: the size and duration grammar (edge cases of both former parsers),
 * and the byte formats, checked against the formatters they replaced (kept here as oracles). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hs_units.h"

/* ---- parsing ---- */

static void size_ok(const char *s, uint64_t want)
{
    hs_error e;
    hs_error_clear(&e);
    uint64_t got = 12345;
    int rc = hs_units_parse_size(s, &got, &e);
    CHECK(rc == HS_OK);
    if (rc != HS_OK)
        fprintf(stderr, "  size \"%s\": %s\n", s, e.msg);
    CHECK_EQ_U64(got, want);
}

/* Refused with HS_ERR_ARG, *bytes untouched, the message containing why, at byte off. */
static void size_bad(const char *s, const char *why, uint64_t off)
{
    hs_error e;
    hs_error_clear(&e);
    uint64_t got = 12345;
    CHECK(hs_units_parse_size(s, &got, &e) == HS_ERR_ARG);
    CHECK(e.status == HS_ERR_ARG);
    CHECK_EQ_U64(got, 12345);
    if (!strstr(e.msg, why)) {
        CHECK(!"message");
        fprintf(stderr, "  size \"%s\": \"%s\" lacks \"%s\"\n", s, e.msg, why);
    }
    CHECK_EQ_U64(e.offset, off);
    CHECK(hs_units_parse_size(s, &got, NULL) == HS_ERR_ARG); /* err is optional */
}

static void dur_ok(const char *s, int64_t want)
{
    hs_error e;
    hs_error_clear(&e);
    int64_t got = -7;
    int rc = hs_units_parse_duration(s, &got, &e);
    CHECK(rc == HS_OK);
    if (rc != HS_OK)
        fprintf(stderr, "  duration \"%s\": %s\n", s, e.msg);
    CHECK_EQ_U64(got, want);
}

static void dur_bad(const char *s, const char *why)
{
    hs_error e;
    hs_error_clear(&e);
    int64_t got = -7;
    CHECK(hs_units_parse_duration(s, &got, &e) == HS_ERR_ARG);
    CHECK(got == -7);
    if (!strstr(e.msg, why)) {
        CHECK(!"message");
        fprintf(stderr, "  duration \"%s\": \"%s\" lacks \"%s\"\n", s, e.msg, why);
    }
}

static void test_parse_size(void)
{
    const uint64_t K = 1024, M = K * K, G = M * K, T = G * K;
    size_ok("0", 0);
    size_ok("4096", 4096);
    size_ok("18446744073709551615", UINT64_MAX);
    size_ok("000000000000000000000000000064", 64);
    /* every spelling of every unit, any case: all powers of 1024 */
    const char *spell[] = {"", "B", "iB"};
    const char *pre[] = {"k", "m", "g", "t"};
    const uint64_t mul[] = {K, M, G, T};
    for (size_t p = 0; p < 4; p++)
        for (size_t s = 0; s < 3; s++)
            for (int upper = 0; upper < 2; upper++) {
                char unit[8], text[16];
                snprintf(unit, sizeof unit, "%s%s", pre[p], spell[s]);
                for (char *c = unit; upper && *c; c++)
                    *c = (char)(*c & ~0x20);
                snprintf(text, sizeof text, "3%s", unit);
                size_ok(text, 3 * mul[p]);
            }
    size_ok("7b", 7);
    size_ok("7B", 7);
    size_ok("64K", 64 * K);
    size_ok("64kb", 64 * K);
    size_ok("64KiB", 64 * K);
    size_ok("1.5kib", 1536); /* the dumper's old parser refused this */
    size_ok("1.5KIB", 1536);
    size_ok("1.5M", 3 * M / 2);
    size_ok("512M", 512 * M);
    size_ok("100MB", 100 * M);
    size_ok("2G", 2 * G);
    size_ok("1.1K", 1126);    /* 1126.4, rounded down */
    size_ok("1.9", 1);        /* whole bytes */
    size_ok("0.5", 0);
    size_ok("0.0009765625K", 1);                     /* exactly 1 byte */
    size_ok("0.0000000000009094947017729282379150390625T", 1); /* 2^-40 TiB */
    size_ok("0.00000000000090949470177292823791503906249999T", 0);
    size_ok("15.99999999999999999999999999T", 16 * T - 1);
    size_ok("16777215.999999999999999T", UINT64_MAX); /* 2^64 - 0.001 */
    size_ok("16777215.9999999999999999999999999999999999999999999999T", UINT64_MAX);

    size_bad("", "empty", 0);
    size_bad("64i", "unknown unit \"i\"", 2); /* heapsift's old parser took this */
    size_bad("64I", "unknown unit", 2);
    size_bad("64ki", "unknown unit", 2);
    size_bad("64kibb", "unknown unit", 2);
    size_bad("64bb", "unknown unit", 2);
    size_bad("64x", "unknown unit", 2);
    size_bad("64P", "unknown unit", 2);
    size_bad("64 K", "unknown unit", 2);
    size_bad("64K ", "unknown unit", 2);
    size_bad("1K2", "unknown unit", 1);
    size_bad("1e3", "unknown unit", 1);
    size_bad("0x10", "unknown unit", 1);
    size_bad("-1", "negative", 0);
    size_bad("-0", "negative", 0);
    size_bad("+1", "not a number", 0);
    size_bad(" 1", "not a number", 0);
    size_bad(".5", "not a number", 0);
    size_bad("K", "not a number", 0);
    size_bad("inf", "not a number", 0);
    size_bad("nan", "not a number", 0);
    size_bad("1.", "no digit after the decimal point", 2);
    size_bad("1.K", "no digit after the decimal point", 2);
    size_bad("1..5", "no digit after the decimal point", 2);
    size_bad("18446744073709551616", "too large", 0);
    size_bad("99999999999999999999999", "too large", 0);
    size_bad("16777216T", "too large", 0);
    size_bad("16777216TiB", "too large", 0);
    size_bad("17179869184G", "too large", 0);
}

static void test_parse_duration(void)
{
    const int64_t MS = 1000000, S = 1000 * MS;
    dur_ok("2", 2 * S); /* a bare number is seconds */
    dur_ok("2s", 2 * S);
    dur_ok("200ms", 200 * MS);
    dur_ok("500us", 500000);
    dur_ok("10ns", 10);
    dur_ok("1.5m", 90 * S);
    dur_ok("1h", 3600 * S);
    dur_ok("0.3s", 300 * MS);
    dur_ok("1.1s", 1100 * MS);
    dur_ok("2.2s", 2200 * MS);
    dur_ok("0.1ms", 100000);
    dur_ok("1.5ns", 1); /* rounded down */
    dur_ok("0", 0);     /* zero parses; the dumper refuses it itself */
    dur_ok("0.5ns", 0);
    dur_ok("0.0000000000000000000000001h", 0);
    dur_ok("9223372036854775807ns", INT64_MAX);
    dur_ok("9223372036.854775807s", INT64_MAX);
    dur_ok("2562047.788015215h", 9223372036854774000);

    dur_bad("", "empty");
    dur_bad("-1s", "negative");
    dur_bad("s", "not a number");
    dur_bad("1.s", "no digit after the decimal point");
    dur_bad("2S", "unknown unit \"S\"");
    dur_bad("2MS", "unknown unit");
    dur_bad("2sec", "unknown unit");
    dur_bad("2 s", "unknown unit");
    dur_bad("2s,", "unknown unit");
    dur_bad("1d", "unknown unit");
    dur_bad("1e3ms", "unknown unit");
    dur_bad("9223372036854775808ns", "too long");
    dur_bad("9223372036.854775808s", "too long");
    dur_bad("2562048h", "too long");
    dur_bad("99999999999999999999999999s", "too long");
}

/* ---- formatting: the formatters hs_units_format_bytes replaced ---- */

/* heapsift-dump's dump_cli_bytes and dump_capture.c's fmt_size. */
static const char *old_dump_bytes(uint64_t b, char *buf, size_t size)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(buf, size, i ? "%.1f %s" : "%.0f %s", v, u[i]);
    return buf;
}

/* heapsift's cli_size. */
static const char *old_cli_size(uint64_t n, char *buf, size_t cap)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (n < 1024) {
        snprintf(buf, cap, "%llu B", (unsigned long long)n);
        return buf;
    }
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

/* The report's emit_size. */
static const char *old_emit_size(char *buf, uint64_t bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, 24, "%" PRIu64 " B", bytes);
        return buf;
    }
    for (unsigned i = 0; i < 6; i++) {
        uint64_t unit = 1ull << (10 * (i + 1));
        uint64_t tenths = bytes / unit * 10 + ((bytes % unit) * 10 + unit / 2) / unit;
        if (tenths < 10240 || i == 5) {
            snprintf(buf, 24, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10, tenths % 10, units[i]);
            return buf;
        }
    }
    return buf;
}

static int mismatches;

/* All three precisions of v against their oracles (the double ones only up to 2^53). */
static void same_as_before(uint64_t v)
{
    char got[HS_UNITS_BYTES_MAX], want[64];
    const char *g;
    g = hs_units_format_bytes(v, HS_UNITS_TENTHS, got, sizeof got);
    if (strcmp(g, old_emit_size(want, v)) != 0 && mismatches++ < 20)
        fprintf(stderr, "  TENTHS %" PRIu64 ": %s != %s\n", v, g, want);
    if (v > (1ull << 53))
        return;
    g = hs_units_format_bytes(v, HS_UNITS_FIXED1, got, sizeof got);
    if (strcmp(g, old_dump_bytes(v, want, sizeof want)) != 0 && mismatches++ < 20)
        fprintf(stderr, "  FIXED1 %" PRIu64 ": %s != %s\n", v, g, want);
    g = hs_units_format_bytes(v, HS_UNITS_SHORT, got, sizeof got);
    if (strcmp(g, old_cli_size(v, want, sizeof want)) != 0 && mismatches++ < 20)
        fprintf(stderr, "  SHORT %" PRIu64 ": %s != %s\n", v, g, want);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_format_bytes(void)
{
    char b[HS_UNITS_BYTES_MAX];
    CHECK_STR(hs_units_format_bytes(0, HS_UNITS_TENTHS, b, sizeof b), "0 B");
    CHECK_STR(hs_units_format_bytes(1023, HS_UNITS_FIXED1, b, sizeof b), "1023 B");
    CHECK_STR(hs_units_format_bytes(1023, HS_UNITS_SHORT, b, sizeof b), "1023 B");
    CHECK_STR(hs_units_format_bytes(1024, HS_UNITS_TENTHS, b, sizeof b), "1.0 KiB");
    CHECK_STR(hs_units_format_bytes(1024, HS_UNITS_FIXED1, b, sizeof b), "1.0 KiB");
    CHECK_STR(hs_units_format_bytes(1024, HS_UNITS_SHORT, b, sizeof b), "1.0 KiB");
    /* 1.25 KiB: a tie, half up in reports, to even elsewhere */
    CHECK_STR(hs_units_format_bytes(1280, HS_UNITS_TENTHS, b, sizeof b), "1.3 KiB");
    CHECK_STR(hs_units_format_bytes(1280, HS_UNITS_FIXED1, b, sizeof b), "1.2 KiB");
    CHECK_STR(hs_units_format_bytes(1280, HS_UNITS_SHORT, b, sizeof b), "1.2 KiB");
    /* 1023.999 KiB: the report moves up a unit, the others keep the unit picked first */
    CHECK_STR(hs_units_format_bytes(1048575, HS_UNITS_TENTHS, b, sizeof b), "1.0 MiB");
    CHECK_STR(hs_units_format_bytes(1048575, HS_UNITS_FIXED1, b, sizeof b), "1024.0 KiB");
    CHECK_STR(hs_units_format_bytes(1048575, HS_UNITS_SHORT, b, sizeof b), "1024 KiB");
    CHECK_STR(hs_units_format_bytes(512ull << 20, HS_UNITS_SHORT, b, sizeof b), "512 MiB");
    CHECK_STR(hs_units_format_bytes(80ull << 20, HS_UNITS_FIXED1, b, sizeof b), "80.0 MiB");
    CHECK_STR(hs_units_format_bytes(10188, HS_UNITS_SHORT, b, sizeof b), "9.9 KiB");
    CHECK_STR(hs_units_format_bytes(10189, HS_UNITS_SHORT, b, sizeof b), "10.0 KiB");
    CHECK_STR(hs_units_format_bytes(10200, HS_UNITS_SHORT, b, sizeof b), "10.0 KiB");
    CHECK_STR(hs_units_format_bytes(10240, HS_UNITS_SHORT, b, sizeof b), "10 KiB");
    CHECK_STR(hs_units_format_bytes(UINT64_MAX, HS_UNITS_TENTHS, b, sizeof b), "16.0 EiB");
    CHECK_STR(hs_units_format_bytes(UINT64_MAX, HS_UNITS_FIXED1, b, sizeof b), "16777216.0 TiB");
    CHECK_STR(hs_units_format_bytes(UINT64_MAX, HS_UNITS_SHORT, b, sizeof b), "16777216 TiB");
    CHECK_STR(hs_units_format_bytes(1ull << 50, HS_UNITS_TENTHS, b, sizeof b), "1.0 PiB");
    CHECK_STR(hs_units_format_bytes(1ull << 50, HS_UNITS_FIXED1, b, sizeof b), "1024.0 TiB");
    char small[6];
    CHECK_STR(hs_units_format_bytes(1536, HS_UNITS_TENTHS, small, sizeof small), "1.5 K");

    /* Byte-identical to the formatters replaced: every value below 2^21, the neighbourhood of
     * every power of two and of every tie and unit edge, and random values of every width. */
    mismatches = 0;
    for (uint64_t v = 0; v < (1u << 21); v++)
        same_as_before(v);
    for (unsigned p = 10; p < 64; p++)
        for (int64_t d = -2048; d <= 2048; d++)
            same_as_before((1ull << p) + (uint64_t)d);
    for (unsigned i = 1; i <= 6; i++) {
        uint64_t unit = 1ull << (10 * i);
        for (uint64_t k = 1; k < 20480; k++) {
            uint64_t at = unit / 20 * k + (unit % 20) * k / 20; /* unit * k / 20 */
            if (i == 6 && k >= 320)
                break;
            for (int d = -2; d <= 2; d++)
                same_as_before(at + (uint64_t)d);
        }
    }
    for (int n = 0; n < 1000000; n++)
        same_as_before(next_rand() >> (next_rand() % 64));
    CHECK(mismatches == 0);
}

static void test_format_duration(void)
{
    char b[32];
    CHECK_STR(hs_units_format_duration(2000000000, b, sizeof b), "2s");
    CHECK_STR(hs_units_format_duration(500000000, b, sizeof b), "500ms");
    CHECK_STR(hs_units_format_duration(1500000000, b, sizeof b), "1500ms");
    CHECK_STR(hs_units_format_duration(60000000000, b, sizeof b), "60s");
    CHECK_STR(hs_units_format_duration(1500000, b, sizeof b), "0.002s");
    CHECK_STR(hs_units_format_duration(1, b, sizeof b), "0.000s");
    /* what it prints for whole ms or s reads back as the same duration */
    const int64_t back[] = {1000000, 250000000, 3600000000000, 20000000};
    for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
        int64_t ns = 0;
        CHECK(hs_units_parse_duration(hs_units_format_duration(back[i], b, sizeof b), &ns,
                                      NULL) == HS_OK);
        CHECK_EQ_U64(ns, back[i]);
    }
}

/* Whole numbers for counts and pids: digits only, within [min, max]; refusals name where. */
static void test_parse_count(void)
{
    static const struct {
        const char *s;
        uint64_t min, max;
        int ok;
        uint64_t want_or_off;
        const char *why;
    } cases[] = {
        {"1", 1, 10, 1, 1, NULL},
        {"10", 1, 10, 1, 10, NULL},
        {"0", 0, 5, 1, 0, NULL},
        {"18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX, NULL},
        {"", 1, 10, 0, 0, "empty"},
        {"0", 1, 10, 0, 0, "under 1"},
        {"11", 1, 10, 0, 0, "over 10"},
        {"12x", 1, 100, 0, 2, "not a whole number"},
        {"-3", 0, 10, 0, 0, "not a whole number"},
        {"+3", 0, 10, 0, 0, "not a whole number"},
        {" 3", 0, 10, 0, 0, "not a whole number"},
        {"3k", 0, 10000, 0, 1, "not a whole number"},
        {"18446744073709551616", 0, UINT64_MAX, 0, 0, "over"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hs_error e;
        hs_error_clear(&e);
        uint64_t got = 777;
        int rc = hs_units_parse_count(cases[i].s, cases[i].min, cases[i].max, &got, &e);
        if (cases[i].ok) {
            CHECK(rc == HS_OK);
            CHECK_EQ_U64(got, cases[i].want_or_off);
            continue;
        }
        CHECK(rc == HS_ERR_ARG);
        CHECK_EQ_U64(got, 777);
        CHECK_EQ_U64(e.offset, cases[i].want_or_off);
        if (!strstr(e.msg, cases[i].why)) {
            CHECK(!"message");
            fprintf(stderr, "  count \"%s\": \"%s\" lacks \"%s\"\n", cases[i].s, e.msg,
                    cases[i].why);
        }
    }
}

int main(void)
{
    test_parse_count();
    test_parse_size();
    test_parse_duration();
    test_format_bytes();
    test_format_duration();
    return check_report();
}
