/* hs_crc32.h - the CRC-32 of ISO 3309 / ITU-T V.42 (zlib's crc32(), gzip's and the .hsd
 * format's checksum), with carry-less multiplication where the CPU has it.
 *
 * The .hsd reader checks the CRC-32 of every chunk's inflated bytes (formats/HSD.md): with
 * zlib's table-driven crc32() that was 2% of an analysis. On x86-64 with PCLMULQDQ this folds
 * 64 bytes per step (V. Gopal, E. Ozturk et al., "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ Instruction", Intel, 2009, with the constants of its
 * bit-reflected form), about ten times faster; elsewhere, and for the short head and tail of a
 * buffer, it is zlib's crc32().
 */
#ifndef HS_CRC32_H
#define HS_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of p[0, n) continued from crc (0 to start), as zlib's crc32(crc, p, n). */
uint32_t hs_crc32_update(uint32_t crc, const uint8_t *p, size_t n);

#endif
