/* ggml_iquants_grid.h — dequantizers of the grid i-quants (ggml_dequant.h's
 * mp_ggml_dequant_fn contract: nblocks blocks of 256 values at src into
 * dst[256 * nblocks]); ggml_iquants.c lists them in its types table. */
#ifndef MP_GGML_IQUANTS_GRID_H
#define MP_GGML_IQUANTS_GRID_H

#include <stddef.h>
#include <stdint.h>

/* IQ2_XXS, 66 bytes a block. */
void mp_ggml_dequant_iq2_xxs(const uint8_t *src, float *dst, size_t nblocks);
/* IQ2_XS, 74 bytes a block. */
void mp_ggml_dequant_iq2_xs(const uint8_t *src, float *dst, size_t nblocks);
/* IQ2_S, 82 bytes a block. */
void mp_ggml_dequant_iq2_s(const uint8_t *src, float *dst, size_t nblocks);
/* IQ3_XXS, 98 bytes a block. */
void mp_ggml_dequant_iq3_xxs(const uint8_t *src, float *dst, size_t nblocks);
/* IQ3_S, 110 bytes a block. */
void mp_ggml_dequant_iq3_s(const uint8_t *src, float *dst, size_t nblocks);
/* IQ1_S, 50 bytes a block. */
void mp_ggml_dequant_iq1_s(const uint8_t *src, float *dst, size_t nblocks);
/* IQ1_M, 56 bytes a block. */
void mp_ggml_dequant_iq1_m(const uint8_t *src, float *dst, size_t nblocks);

#endif
