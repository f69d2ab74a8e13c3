/* hs_units.h - sizes and durations as people write and read them, one grammar for every
 * command line of heapsift (heapsift's HEAPSIFT_MAX_RECORD and --min-bytes, heapsift-dump's
 * --on-rss, --at, --every, --interval, --wait-hook).
 *
 * Grammar (no spaces, no sign, no exponent):
 *
 *   number   = digit+ [ "." digit+ ]
 *   size     = number [ size-unit ]                        case-insensitive
 *   size-unit = "B" | ( "K" | "M" | "G" | "T" ) [ "B" | "iB" ]
 *   duration = number [ time-unit ]                        lowercase, as in Go
 *   time-unit = "ns" | "us" | "ms" | "s" | "m" | "h"
 *
 * Size units are powers of 1024 whichever way they are spelled: K, KB and KiB are all 1024
 * bytes, M 1024^2, G 1024^3, T 1024^4. That is what both CLIs did and documented ("512M",
 * "--on-rss 2G  # 2 GiB", "K/M/G/T are powers of 1024"), so a threshold someone already wrote
 * keeps its meaning. A size without a unit is bytes; a duration without a unit is seconds.
 * The value is computed exactly (no floating point) and rounded down to a whole byte or
 * nanosecond ("1.5K" is 1536, "1.1K" 1126, "1.5ns" 1). Zero parses; callers that need more
 * decide so. Values over UINT64_MAX bytes or INT64_MAX nanoseconds are refused.
 */
#ifndef HS_UNITS_H
#define HS_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"

/* Parses a size (grammar above) into *bytes. Returns HS_OK, or HS_ERR_ARG with the reason in
 * err and err->offset the index in s where it went wrong (empty, negative, not a number,
 * unknown unit, trailing characters, more than UINT64_MAX bytes); *bytes is then unchanged. */
int hs_units_parse_size(const char *s, uint64_t *bytes, hs_error *err);

/* Parses a duration (grammar above) into *ns. Returns HS_OK, or HS_ERR_ARG as
 * hs_units_parse_size does (the limit is INT64_MAX ns, about 292 years). */
int hs_units_parse_duration(const char *s, int64_t *ns, hs_error *err);

/* Parses a whole number in decimal digits only (no sign, no unit) within [min, max] into *n.
 * Returns HS_OK, or HS_ERR_ARG with the reason and err->offset the index in s where it went
 * wrong (empty, not a digit, out of range); *n is then unchanged. For counts, limits and
 * process ids given on a command line. */
int hs_units_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *n, hs_error *err);

/* Precision of hs_units_format_bytes. Below 1024 bytes every precision prints "N B"; above,
 * each is one format heapsift already prints (and keeps byte-identical):
 *   HS_UNITS_TENTHS  reports: tenths rounded half up, in the unit (KiB .. EiB) that keeps the
 *                    rounded number below 1024: "1.5 KiB", "1023.9 KiB", then "1.0 MiB".
 *   HS_UNITS_FIXED1  heapsift-dump: one decimal of the value in the largest unit up to TiB in
 *                    which it is at least 1, rounded to nearest with ties to even (printf's
 *                    "%.1f"; the unit is picked before rounding, so "1024.0 KiB" occurs).
 *   HS_UNITS_SHORT   heapsift's CLI tables: as HS_UNITS_FIXED1 but one decimal only below 10
 *                    ("3.2 MiB", "512 MiB").
 * FIXED1 and SHORT equal the printf of the double they used to be up to 2^53 bytes. */
enum { HS_UNITS_TENTHS = 0, HS_UNITS_FIXED1 = 1, HS_UNITS_SHORT = 2 };

/* Room for any formatted size ("18446744073709551615 B" is the longest). */
#define HS_UNITS_BYTES_MAX 24

/* Formats bytes with precision (HS_UNITS_*) into buf (size bytes, truncated when too small).
 * Returns buf. */
const char *hs_units_format_bytes(uint64_t bytes, int precision, char *buf, size_t size);

/* Formats a duration in the grammar above: whole seconds "2s", whole milliseconds "500ms",
 * otherwise seconds to three decimals as printf rounds them ("0.002s" for 1500us). Returns
 * buf (size bytes, truncated when too small). */
const char *hs_units_format_duration(int64_t ns, char *buf, size_t size);

#endif
