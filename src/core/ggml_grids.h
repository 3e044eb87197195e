/* ggml_grids.h — the codebooks of ggml's grid i-quants (data in
 * ggml_grids.c, from ggml's ggml-common.h, MIT). Entry i of a grid is a
 * 16-bit code: for the IQ1/IQ2 grids 8 fields of 2 bits, for the IQ3 grids
 * 4 fields of 4 bits, lowest first; field j indexes the level table and
 * gives value j of the entry (ggml's byte j). */
#ifndef MP_GGML_GRIDS_H
#define MP_GGML_GRIDS_H

#include <stdint.h>

/* Levels of a 2-bit field (IQ2_*), of a 4-bit field (IQ3_XXS, IQ3_S) and
 * of a 2-bit IQ1 field (-1, 0, 1). */
extern const uint8_t mp_ggml_iq2_levels[3];
extern const uint8_t mp_ggml_iq3xxs_levels[8];
extern const uint8_t mp_ggml_iq3s_levels[8];
extern const int8_t mp_ggml_iq1_levels[3];

/* The grids, in ggml's order. */
extern const uint16_t mp_ggml_iq2xxs_grid[256];
extern const uint16_t mp_ggml_iq2xs_grid[512];
extern const uint16_t mp_ggml_iq2s_grid[1024];
extern const uint16_t mp_ggml_iq3xxs_grid[256];
extern const uint16_t mp_ggml_iq3s_grid[512];
extern const uint16_t mp_ggml_iq1s_grid[2048];

/* ksigns_iq2xs: entry i is i with bit 7 set when i has an odd number of
 * bits (8 signs of even parity from 7 stored bits). */
extern const uint8_t mp_ggml_ksigns_iq2xs[128];

#endif
