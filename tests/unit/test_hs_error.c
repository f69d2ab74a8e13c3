/* Unit tests for hs_error: formatting carries status, offset and message. */
#include "check.h"
#include "hs_error.h"

int main(void)
{
    hs_error e;
    hs_error_clear(&e);
    CHECK(e.status == HS_OK);
    CHECK(hs_error_set(&e, HS_ERR_TRUNCATED, 1234, "object record: %s", "contents") ==
          HS_ERR_TRUNCATED);
    char buf[300];
    CHECK_STR(hs_error_format(&e, buf, sizeof buf),
              "truncated input at byte 1234: object record: contents");
    hs_error_prefix(&e, "section %d", 3);
    CHECK_STR(e.msg, "section 3: object record: contents");
    CHECK(hs_error_set(NULL, HS_ERR_IO, 0, "x") == HS_ERR_IO);
    uint64_t r;
    CHECK(hs_add_ovf(UINT64_MAX, 1, &r) == -1);
    CHECK(hs_mul_ovf(1ull << 40, 1ull << 30, &r) == -1);
    CHECK(hs_mul_ovf(3, 4, &r) == 0 && r == 12);
    return check_report();
}
