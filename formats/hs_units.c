/* hs_units.c - parsing and formatting of sizes and durations (grammar in hs_units.h). */
#include "hs_units.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A number at the start of s: its whole part, its fraction digits and where its unit starts. */
typedef struct number {
    uint64_t whole;
    int whole_over; /* the whole part is over UINT64_MAX */
    const char *frac;
    size_t nfrac;
    const char *unit;
} number;

/* Reads the number at the start of s into *n. Returns HS_OK or HS_ERR_ARG. */
static int parse_number(const char *s, number *n, hs_error *err)
{
    if (!*s)
        return hs_error_set(err, HS_ERR_ARG, 0, "empty");
    if (*s == '-')
        return hs_error_set(err, HS_ERR_ARG, 0, "negative");
    if (!is_digit(*s))
        return hs_error_set(err, HS_ERR_ARG, 0, "not a number");
    const char *p = s;
    uint64_t w = 0;
    int over = 0;
    for (; is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        over |= hs_mul_ovf(w, 10, &w) < 0 || hs_add_ovf(w, d, &w) < 0;
    }
    const char *f = p;
    if (*p == '.') {
        f = ++p;
        if (!is_digit(*p))
            return hs_error_set(err, HS_ERR_ARG, (uint64_t)(p - s),
                                "no digit after the decimal point");
        while (is_digit(*p))
            p++;
    }
    *n = (number){.whole = w, .whole_over = over, .frac = f, .nfrac = (size_t)(p - f), .unit = p};
    return HS_OK;
}

/* n * mul rounded down, exactly (the fraction is multiplied digit by digit from the last,
 * keeping only the carry into the whole part). Returns 0, or -1 when over max. */
static int scale(const number *n, uint64_t mul, uint64_t max, uint64_t *out)
{
    uint64_t carry = 0; /* stays below mul: (9 * mul + carry) / 10 < mul */
    for (size_t i = n->nfrac; i-- > 0;)
        carry = ((uint64_t)(n->frac[i] - '0') * mul + carry) / 10;
    uint64_t v;
    if (n->whole_over || hs_mul_ovf(n->whole, mul, &v) < 0 || hs_add_ovf(v, carry, &v) < 0 ||
        v > max)
        return -1;
    *out = v;
    return 0;
}

/* Bytes per size unit (case-insensitive), 0 when u is not one. */
static uint64_t size_unit(const char *u)
{
    if (!*u || strcasecmp(u, "b") == 0)
        return 1;
    static const char prefixes[] = "kmgt";
    const char *at = strchr(prefixes, u[0] | 0x20);
    if (!at || !*at)
        return 0;
    const char *rest = u + 1;
    if (*rest && strcasecmp(rest, "b") != 0 && strcasecmp(rest, "ib") != 0)
        return 0;
    return 1ull << (10 * (at - prefixes + 1));
}

/* Parses s as a number and a unit unit_of knows (its multiplier, 0 for none), scaled to at
 * most max, into *out. The errors list the units (`units`) and say what is over max. */
static int parse_scaled(const char *s, uint64_t (*unit_of)(const char *), const char *units,
                        uint64_t max, const char *over, uint64_t *out, hs_error *err)
{
    number n = {0}; /* set on success: GCC cannot tell that failures return < 0 */
    uint64_t v;
    int rc = parse_number(s, &n, err);
    if (rc < 0)
        return rc;
    uint64_t mul = unit_of(n.unit);
    if (!mul)
        return hs_error_set(err, HS_ERR_ARG, (uint64_t)(n.unit - s),
                            "unknown unit \"%.16s\" (use %s)", n.unit, units);
    if (scale(&n, mul, max, &v) < 0)
        return hs_error_set(err, HS_ERR_ARG, 0, "%s", over);
    *out = v;
    return HS_OK;
}

int hs_units_parse_size(const char *s, uint64_t *bytes, hs_error *err)
{
    return parse_scaled(s, size_unit, "B, K, M, G or T, optionally followed by B or iB",
                        UINT64_MAX, "too large (over 16 EiB)", bytes, err);
}

/* Nanoseconds per duration unit, 0 when u is not one. */
static uint64_t time_unit(const char *u)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"", 1000000000}, {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
        {"m", 60ull * 1000000000}, {"h", 3600ull * 1000000000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(u, units[i].name) == 0)
            return units[i].ns;
    return 0;
}

int hs_units_parse_duration(const char *s, int64_t *ns, hs_error *err)
{
    uint64_t v = 0;
    int rc = parse_scaled(s, time_unit, "ns, us, ms, s, m or h", INT64_MAX,
                          "too long (over 292 years)", &v, err);
    if (rc >= 0)
        *ns = (int64_t)v;
    return rc;
}

int hs_units_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *n, hs_error *err)
{
    uint64_t v = 0;
    size_t i = 0;
    if (!s[0])
        return hs_error_set(err, HS_ERR_ARG, 0, "empty");
    for (; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return hs_error_set(err, HS_ERR_ARG, i, "not a whole number");
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return hs_error_set(err, HS_ERR_ARG, 0, "over %" PRIu64, max);
        v = v * 10 + d;
    }
    if (v < min)
        return hs_error_set(err, HS_ERR_ARG, 0, "under %" PRIu64, min);
    if (v > max)
        return hs_error_set(err, HS_ERR_ARG, 0, "over %" PRIu64, max);
    *n = v;
    return HS_OK;
}

const char *hs_units_format_bytes(uint64_t bytes, int precision, char *buf, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, size, "%" PRIu64 " B", bytes);
        return buf;
    }
    int tenths_up = precision == HS_UNITS_TENTHS;
    unsigned top = tenths_up ? 6 : 4, i = 1;
    if (!tenths_up) /* the largest unit in which the value is at least 1 */
        while (i < top && bytes >> (10 * (i + 1)) > 0)
            i++;
    for (;; i++) {
        unsigned shift = 10 * i;
        uint64_t unit_mask = (1ull << shift) - 1, half = 1ull << (shift - 1);
        uint64_t whole = bytes >> shift;
        int decimals = precision == HS_UNITS_SHORT && whole >= 10 ? 0 : 1;
        uint64_t mul = decimals ? 10 : 1;
        /* q + r / 2^shift is the value times mul; rest * 10 < 2^64 since rest < 2^60 */
        uint64_t part = (bytes & unit_mask) * mul;
        uint64_t q = whole * mul + (part >> shift), r = part & unit_mask;
        if (r > half || (r == half && (tenths_up || (q & 1))))
            q++;
        if (tenths_up && q >= 10240 && i < top)
            continue; /* rounds to 1024.0: the next unit */
        if (decimals)
            snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " %s", q / 10, q % 10, units[i]);
        else
            snprintf(buf, size, "%" PRIu64 " %s", q, units[i]);
        return buf;
    }
}

const char *hs_units_format_duration(int64_t ns, char *buf, size_t size)
{
    if (ns % 1000000000 == 0)
        snprintf(buf, size, "%llds", (long long)(ns / 1000000000));
    else if (ns % 1000000 == 0)
        snprintf(buf, size, "%lldms", (long long)(ns / 1000000));
    else
        snprintf(buf, size, "%.3fs", (double)ns / 1e9);
    return buf;
}
