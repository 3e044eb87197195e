/* ggml_dequant.h — the ggml tensor types of GGUF files and their
 * dequantization to float32, block by block, exactly as ggml's to_float
 * does (the block layouts of ggml-common.h are the spec). Pure functions,
 * no state: a block of `block` values stored in `bytes` bytes decodes to
 * `block` floats.
 *
 * The types are split over three files by family, each answering for its
 * own types: ggml_quants.c (float and integer types, Q4_0..Q8_1),
 * ggml_kquants.c (Q2_K..Q8_K), ggml_iquants.c (IQ*, TQ*, MXFP4).
 * mp_ggml_type asks each in turn. */
#ifndef MP_GGML_DEQUANT_H
#define MP_GGML_DEQUANT_H

#include <stddef.h>
#include <stdint.h>

#include "affine_sums.h"

/* ggml type ids as GGUF stores them (ggml.h's enum ggml_type). */
enum mp_ggml_id {
	MP_GGML_F32 = 0,
	MP_GGML_F16 = 1,
	MP_GGML_Q4_0 = 2,
	MP_GGML_Q4_1 = 3,
	MP_GGML_Q5_0 = 6,
	MP_GGML_Q5_1 = 7,
	MP_GGML_Q8_0 = 8,
	MP_GGML_Q8_1 = 9,
	MP_GGML_Q2_K = 10,
	MP_GGML_Q3_K = 11,
	MP_GGML_Q4_K = 12,
	MP_GGML_Q5_K = 13,
	MP_GGML_Q6_K = 14,
	MP_GGML_Q8_K = 15,
	MP_GGML_IQ2_XXS = 16,
	MP_GGML_IQ2_XS = 17,
	MP_GGML_IQ3_XXS = 18,
	MP_GGML_IQ1_S = 19,
	MP_GGML_IQ4_NL = 20,
	MP_GGML_IQ3_S = 21,
	MP_GGML_IQ2_S = 22,
	MP_GGML_IQ4_XS = 23,
	MP_GGML_I8 = 24,
	MP_GGML_I16 = 25,
	MP_GGML_I32 = 26,
	MP_GGML_I64 = 27,
	MP_GGML_F64 = 28,
	MP_GGML_IQ1_M = 29,
	MP_GGML_BF16 = 30,
	MP_GGML_TQ1_0 = 34,
	MP_GGML_TQ2_0 = 35,
	MP_GGML_MXFP4 = 39,
};

/* Decode nblocks consecutive blocks at src into dst[nblocks * block]. */
typedef void (*mp_ggml_dequant_fn)(const uint8_t *src, float *dst,
				   size_t nblocks);

/* The grid spacing at each of the nblocks * block values the blocks at src
 * decode to: the distance between the block's representable values around
 * the value's code. On a uniform grid that is the (sub-)block's step
 * |d * scale|; on a table of levels the mean of the gaps to the two
 * neighbouring levels (the one gap at either end), times the scale. A
 * value rounded to its nearest code moved by at most about half the
 * spacing, and by spacing / sqrt(12) in root mean square when the values
 * are spread evenly between codes. On a lattice codebook (IQ1_*, IQ2_*,
 * IQ3_*: only some combinations of levels over 8 values representable) the
 * level spacing widened by the codebook's density, 2^((p - c) / 8)
 * (ggml_iquants_grid.h), so that the same holds of a nearest-point
 * quantizer in root mean square. */
typedef void (*mp_ggml_steps_fn)(const uint8_t *src, float *steps,
				 size_t nblocks);

/* The block-code form of nblocks blocks at src: each block runs in
 * sub-blocks of 32 values that all are f(sub-block scales, code) over 16
 * codes (MP_GGML_RUN pairs a sub-block); for every sub-block in turn,
 * v[i] is the float32 value the dequantizer gives a code there (the same
 * arithmetic, bit for bit) and c[i] how many of the sub-block's values
 * have it (0 allowed), the codes in the order that makes v ascending when
 * the values are finite; run[j] tells whether sub-block j's values are
 * exactly affine in the pair index (affine_sums.h). Writes nblocks *
 * npairs entries of v and c and nblocks * npairs / MP_GGML_RUN of run;
 * with run NULL the pairs come in code order, faster. */
#define MP_GGML_PAIRS_MAX 256 /* the most pairs a block gives */
#define MP_GGML_RUN 16	      /* pairs a sub-block gives */
typedef void (*mp_ggml_pairs_fn)(const uint8_t *src, float *v, uint32_t *c,
				 struct mp_affine_run *run, size_t nblocks);
struct mp_ggml_type_info {
	uint32_t id;
	const char *name;   /* ggml's spelling: "Q4_K", "F16", "IQ4_XS" */
	unsigned block;	    /* values per block (1 for F32, F16, I8, ...) */
	unsigned bytes;	    /* bytes per block */
	mp_ggml_dequant_fn dequant;
	/* NULL for the unquantized types */
	mp_ggml_steps_fn steps;
	/* NULL when a block has about as many codes as values: statistics
	   then take the dequantized values */
	mp_ggml_pairs_fn pairs;
	unsigned npairs; /* (value, count) pairs per block */
};

/* How many of the nbytes (at most 255) bytes at q have each low nibble
 * (lo[code]) and each high nibble (hi[code]): the counts of 4-bit codes for
 * the pairs hooks. */
void mp_ggml_nibble_counts(const uint8_t *q, unsigned nbytes, uint32_t lo[16],
			   uint32_t hi[16]);

/* One sub-block of a pairs hook from its 16 codes' values lv[q] (the
 * dequantizer's arithmetic), which are fl(A * q - B) with A * q exact, and
 * its counts cnt[q]: v, c and *run as ggml_dequant.h's pairs hooks give
 * them. */
void mp_ggml_run16(float A, float B, const float lv[16], const uint32_t cnt[16],
		   float *v, uint32_t *c, struct mp_affine_run *run);
/* The IEEE half stored little-endian at p, as a float, exactly
 * (subnormals, infinities and NaN payloads kept). */
float mp_ggml_half(const uint8_t *p);

/* The type with ggml id `id`, or NULL when no file knows it. */
const struct mp_ggml_type_info *mp_ggml_type(uint32_t id);

/* llama.cpp's name of a GGUF general.file_type ("Q4_K_M", "F16", ...),
 * NULL when unknown. */
const char *mp_ggml_ftype_name(uint32_t ftype);

/* Each family's answer (NULL: not one of mine); mp_ggml_type asks them. */
const struct mp_ggml_type_info *mp_ggml_quants_type(uint32_t id);
const struct mp_ggml_type_info *mp_ggml_kquants_type(uint32_t id);
const struct mp_ggml_type_info *mp_ggml_iquants_type(uint32_t id);

#endif
