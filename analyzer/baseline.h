/* baseline.h - the findings a team has accepted: `heapsift check --baseline OLD.json` ignores
 * every finding whose kind and signature OLD.json (a heapsift-report/1 from analyze, check or
 * diff) lists among its findings. A signature holds no addresses, goroutine ids or indexes,
 * so the same leak has the same signature in every capture of one binary.
 */
#ifndef BASELINE_H
#define BASELINE_H

#include <stddef.h>

#include "hs_error.h"

typedef struct baseline baseline;

/* Parses a JSON report of `size` bytes; *out receives its findings' (kind, signature)
 * pairs. HS_ERR_FORMAT when it is not JSON or not a heapsift-report/1 (the message says
 * which), HS_ERR_NOMEM. Free with baseline_free. */
int baseline_parse(const char *json, size_t size, baseline **out, hs_error *err);

/* Frees a baseline (NULL is accepted). */
void baseline_free(baseline *b);

/* 1 when the baseline lists a finding of this kind (report_kind) and signature. */
int baseline_has(const baseline *b, int kind, const char *signature);

/* How many findings the baseline lists. */
size_t baseline_count(const baseline *b);

#endif
