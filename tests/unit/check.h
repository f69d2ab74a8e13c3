/* check.h - the unit-test harness: CHECK* macros count failures and say where; a test
 * program's main ends with `return check_report();` (exit 1 when any check failed). */
#ifndef CHECK_H
#define CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures_;
static int check_count_;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        check_count_++;                                                                 \
        if (!(cond)) {                                                                  \
            check_failures_++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                               \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                              \
    do {                                                                                \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                \
        check_count_++;                                                                 \
        if (a_ != b_) {                                                                 \
            check_failures_++;                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n",     \
                    __FILE__, __LINE__, #a, #b, a_, b_);                                \
        }                                                                               \
    } while (0)

#define CHECK_STR(a, b)                                                                 \
    do {                                                                                \
        const char *a_ = (a), *b_ = (b);                                                \
        check_count_++;                                                                 \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                        \
            check_failures_++;                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,     \
                    __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");          \
        }                                                                               \
    } while (0)

static int check_skips_;

/* Notes that part of the test could not run here (why, on stderr): check_report then exits
 * 77, which Meson counts as skipped, unless a check failed. */
static inline void check_skip(const char *why)
{
    check_skips_++;
    fprintf(stderr, "SKIP: %s\n", why);
}

static inline int check_report(void)
{
    fprintf(stderr, "%d checks, %d failed, %d parts skipped\n", check_count_, check_failures_,
            check_skips_);
    return check_failures_ ? 1 : check_skips_ ? 77 : 0;
}

#endif
