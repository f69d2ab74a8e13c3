/* fuzz_coremem - coremem_from_core (formats/coremem.h) over arbitrary bytes. A failure must
 * carry its status, a message and an offset inside the input (or at its end). A core that
 * reads is checked: segments sorted, apart and holding bytes of the input; every segment's
 * first and last held bytes through coremem_ptr, coremem_read and coremem_u64; reads across
 * every segment's end; reads at addresses made from the input agree with coremem_ptr; every
 * thread, file and fact touched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coremem.h"
#include "fuzz_util.h"

volatile unsigned fuzz_sink;

/* A read of len bytes at addr: when coremem_ptr has them, coremem_read gives the same. */
static void check_read(const coremem *m, uint64_t addr, size_t len)
{
    uint8_t buf[80];
    hs_error err;
    const uint8_t *p = coremem_ptr(m, addr, len);
    int rc = coremem_read(m, addr, buf, len, &err);
    if (p && (rc != HS_OK || memcmp(p, buf, len) != 0))
        abort();
    if (rc < 0 && (rc != HS_ERR_NOTFOUND || !err.msg[0]))
        abort();
    fuzz_sink += rc == HS_OK && len ? buf[len - 1] : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    coremem *m;
    hs_error err;
    int rc = coremem_from_core(data, size, &m, &err);
    if (rc < 0) {
        if (err.status != rc || !err.msg[0] || m != NULL)
            abort();
        if (err.offset == HS_NO_OFFSET ? rc != HS_ERR_NOMEM : err.offset > size)
            abort();
        return 0;
    }
    size_t n = coremem_segment_count(m);
    const coremem_segment *prev = NULL;
    for (size_t i = 0; i < n && i < 4096; i++) {
        const coremem_segment *s = coremem_segment_get(m, i);
        if (s->filesz > s->memsz || s->memsz == 0 ||
            (prev && s->vaddr - prev->vaddr < prev->memsz))
            abort();
        if (s->filesz && (s->bytes < data || s->bytes + s->filesz > data + size))
            abort();
        prev = s;
        if (s->filesz) {
            fuzz_sink += fuzz_touch(s->bytes, s->filesz);
            if (coremem_ptr(m, s->vaddr, 1) != s->bytes ||
                coremem_ptr(m, s->vaddr + s->filesz - 1, 1) != s->bytes + s->filesz - 1)
                abort();
            uint64_t w;
            if (s->filesz >= 8 && (coremem_u64(m, s->vaddr, &w, &err) != HS_OK ||
                                   memcmp(&w, s->bytes, 8) != 0))
                abort();
        }
        /* across the end of the held bytes, and of the span */
        uint64_t held_end = s->vaddr + s->filesz, end = s->vaddr + s->memsz;
        check_read(m, held_end - (s->filesz < 8 ? s->filesz : 8), 16);
        check_read(m, end - (s->memsz < 4 ? s->memsz : 4), 8);
        check_read(m, end, 1);
    }
    /* addresses made from the input: around segments and anywhere */
    for (size_t k = 0; k + 8 <= size && k < 64 * 8; k += 8) {
        uint64_t v = hs_load_le64(data + k);
        size_t len = 1 + data[k] % 64;
        if (n) {
            const coremem_segment *s = coremem_segment_get(m, (size_t)(v % n));
            uint64_t span = s->memsz + 16 ? s->memsz + 16 : s->memsz;
            check_read(m, s->vaddr + (v >> 8) % span, len);
        }
        check_read(m, v, len);
    }
    for (size_t i = 0; i < coremem_thread_count(m) && i < 4096; i++) {
        const coremem_thread *t = coremem_thread_get(m, i);
        fuzz_sink += (unsigned)(t->tid + t->pc + t->sp + t->bp + t->fs_base);
    }
    for (size_t i = 0; i < coremem_file_count(m) && i < 4096; i++) {
        const coremem_file *f = coremem_file_get(m, i);
        fuzz_sink += (unsigned)strlen(f->path) + (unsigned)(f->start + f->end + f->file_off);
    }
    const coremem_info *in = coremem_get_info(m);
    if (strlen(in->comm) > 16 || !in->from_core)
        abort();
    fuzz_sink += (unsigned)strlen(in->exe) + (unsigned)in->signal + (unsigned)in->at_entry;
    coremem_free(m);
    return 0;
}
