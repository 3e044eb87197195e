/* ggml_iquants_grid.h — dequantizers of the grid i-quants (ggml_dequant.h's
 * mp_ggml_dequant_fn contract: nblocks blocks of 256 values at src into
 * dst[256 * nblocks]) and their steps; ggml_iquants.c lists them in its
 * types table. */
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

/* The steps of the same blocks (mp_ggml_steps_fn: steps[256 * nblocks]):
 * per value |scale| * the mean gap to the neighbouring levels of its
 * coordinate * 2^((p - c) / 8), p the bits of the full product grid of
 * levels and signs over 8 values, c the bits the codebook offers (grid
 * entries, sign patterns, IQ1's delta sign); the derivation is in
 * ggml_iquants_grid.c and modelprint-methods(7). */
void mp_ggml_steps_iq2_xxs(const uint8_t *src, float *steps, size_t nblocks);
void mp_ggml_steps_iq2_xs(const uint8_t *src, float *steps, size_t nblocks);
void mp_ggml_steps_iq2_s(const uint8_t *src, float *steps, size_t nblocks);
void mp_ggml_steps_iq3_xxs(const uint8_t *src, float *steps, size_t nblocks);
void mp_ggml_steps_iq3_s(const uint8_t *src, float *steps, size_t nblocks);
void mp_ggml_steps_iq1_s(const uint8_t *src, float *steps, size_t nblocks);
void mp_ggml_steps_iq1_m(const uint8_t *src, float *steps, size_t nblocks);

#endif
