/* Unit tests for the protocol buffers encoder (formats/pb.c): the encodings of the protobuf
 * documentation's examples byte for byte, varint edge values, nested messages whose length
 * needs one, two and three bytes (the body moves), and a nested message of every field kind
 * read back by the tests' own decoder (pb_read.h). */
#include <stdlib.h>

#include "check.h"
#include "hs_error.h"
#include "pb.h"
#include "pb_read.h"

static int bytes_eq(const pb_buf *b, const uint8_t *want, size_t n)
{
    return b->status == HS_OK && b->out.len == n && memcmp(b->out.data, want, n) == 0;
}

static void test_varints(void)
{
    static const struct {
        uint64_t v;
        uint8_t enc[10];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {127, {0x7f}, 1},
        {128, {0x80, 0x01}, 2},
        {150, {0x96, 0x01}, 2},
        {300, {0xac, 0x02}, 2},
        {16383, {0xff, 0x7f}, 2},
        {16384, {0x80, 0x80, 0x01}, 3},
        {UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
        {UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pb_buf b;
        pb_init(&b);
        pb_varint(&b, cases[i].v);
        CHECK(bytes_eq(&b, cases[i].enc, cases[i].n));
        pb_release(&b);
    }
}

/* The examples of https://protobuf.dev/programming-guides/encoding/. */
static void test_documented(void)
{
    pb_buf b;
    pb_init(&b);
    pb_uint(&b, 1, 150); /* Test1 { int32 a = 1; } a = 150 */
    static const uint8_t t1[] = {0x08, 0x96, 0x01};
    CHECK(bytes_eq(&b, t1, sizeof t1));
    pb_release(&b);

    pb_string(&b, 2, "testing"); /* Test2 { string b = 2; } */
    static const uint8_t t2[] = {0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'};
    CHECK(bytes_eq(&b, t2, sizeof t2));
    pb_release(&b);

    size_t m = pb_begin(&b, 3); /* Test3 { Test1 c = 3; } */
    pb_uint(&b, 1, 150);
    pb_end(&b, m);
    static const uint8_t t3[] = {0x1a, 0x03, 0x08, 0x96, 0x01};
    CHECK(bytes_eq(&b, t3, sizeof t3));
    pb_release(&b);

    uint64_t packed[] = {3, 270, 86942}; /* Test5 { repeated int32 f = 6 [packed] } */
    pb_packed(&b, 6, packed, 3);
    static const uint8_t t5[] = {0x32, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05};
    CHECK(bytes_eq(&b, t5, sizeof t5));
    pb_release(&b);

    pb_int(&b, 1, -2); /* negative int64: ten bytes */
    static const uint8_t neg[] = {0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK(bytes_eq(&b, neg, sizeof neg));
    pb_release(&b);

    pb_packed(&b, 6, packed, 0); /* an empty packed field is left out */
    pb_string(&b, 1, NULL);
    static const uint8_t empty[] = {0x0a, 0x00};
    CHECK(bytes_eq(&b, empty, sizeof empty));
    pb_release(&b);

    pb_uint(&b, PB_MAX_FIELD, 1); /* the largest field number: a five-byte tag */
    static const uint8_t big[] = {0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01};
    CHECK(bytes_eq(&b, big, sizeof big));
    pb_release(&b);
}

static void test_bad_field(void)
{
    pb_buf b;
    pb_init(&b);
    pb_uint(&b, 0, 1);
    CHECK(b.status == HS_ERR_ARG);
    pb_uint(&b, 1, 1); /* sticky: nothing more is written */
    CHECK(b.out.len == 0);
    pb_release(&b);
    pb_uint(&b, PB_MAX_FIELD + 1, 1);
    CHECK(b.status == HS_ERR_ARG);
    pb_release(&b);
    CHECK(b.status == HS_OK && b.out.data == NULL && b.out.len == 0);
}

/* Outer { repeated Inner inner = 1; string name = 2; }
 * Inner { uint64 id = 1; repeated uint64 v = 2 [packed]; bytes blob = 3; Leaf leaf = 4; }
 * Leaf  { int64 x = 1; }
 * with blobs sized so that lengths need one, two and three bytes at every level. */
static void test_nested_roundtrip(void)
{
    static const size_t blob_sizes[] = {0, 5, 127, 128, 300, 16383, 16384, 70000};
    const size_t ninner = sizeof blob_sizes / sizeof blob_sizes[0];
    uint8_t *blob = malloc(70000);
    CHECK(blob != NULL);
    if (!blob)
        return;
    for (size_t i = 0; i < 70000; i++)
        blob[i] = (uint8_t)(i * 7 + 3);
    pb_buf b;
    pb_init(&b);
    size_t outer = pb_begin(&b, 9); /* the whole Outer, nested once more */
    for (size_t i = 0; i < ninner; i++) {
        size_t m = pb_begin(&b, 1);
        pb_uint(&b, 1, i + 1);
        uint64_t v[3] = {i, i * 1000, UINT64_MAX - i};
        pb_packed(&b, 2, v, 3);
        pb_bytes(&b, 3, blob, blob_sizes[i]);
        size_t leaf = pb_begin(&b, 4);
        pb_int(&b, 1, -(int64_t)i);
        pb_end(&b, leaf);
        pb_end(&b, m);
    }
    pb_string(&b, 2, "outer");
    pb_end(&b, outer);
    CHECK(b.status == HS_OK);

    pb_rd top = {b.out.data, b.out.data + b.out.len, 0};
    int wire;
    CHECK(pb_rd_tag(&top, &wire) == 9 && wire == PB_LEN);
    pb_rd o = pb_rd_len(&top);
    CHECK(!top.bad && top.p == top.end);
    size_t seen = 0;
    int named = 0;
    for (uint32_t f; (f = pb_rd_tag(&o, &wire)) != 0 && !o.bad;) {
        if (f == 2) {
            pb_rd s = pb_rd_len(&o);
            named = s.end - s.p == 5 && memcmp(s.p, "outer", 5) == 0;
            continue;
        }
        CHECK(f == 1 && wire == PB_LEN);
        pb_rd in = pb_rd_len(&o);
        size_t i = seen++;
        int got_id = 0, got_v = 0, got_blob = 0, got_leaf = 0;
        for (uint32_t g; (g = pb_rd_tag(&in, &wire)) != 0 && !in.bad;) {
            if (g == 1) {
                got_id = pb_rd_varint(&in) == i + 1;
            } else if (g == 2) {
                pb_rd pv = pb_rd_len(&in);
                got_v = pb_rd_varint(&pv) == i && pb_rd_varint(&pv) == i * 1000 &&
                        pb_rd_varint(&pv) == UINT64_MAX - i && pv.p == pv.end && !pv.bad;
            } else if (g == 3) {
                pb_rd bl = pb_rd_len(&in);
                got_blob = (size_t)(bl.end - bl.p) == blob_sizes[i] &&
                           (blob_sizes[i] == 0 || memcmp(bl.p, blob, blob_sizes[i]) == 0);
            } else if (g == 4) {
                pb_rd lf = pb_rd_len(&in);
                got_leaf = pb_rd_tag(&lf, &wire) == 1 &&
                           (int64_t)pb_rd_varint(&lf) == -(int64_t)i &&
                           lf.p == lf.end;
            }
        }
        CHECK(!in.bad && got_id && got_v && got_blob && got_leaf);
    }
    CHECK(!o.bad && seen == ninner && named);
    pb_release(&b);
    free(blob);
}

int main(void)
{
    test_varints();
    test_documented();
    test_bad_field();
    test_nested_roundtrip();
    return check_report();
}
