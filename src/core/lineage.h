/* lineage.h — the relation between two models whose files are at hand: an
 * unknown U and a reference R (exact copy, dtype conversion, pruning,
 * quantization, permuted hidden units, fine-tune, unrelated weights,
 * nothing in common), decided from their
 * values tensor by tensor, with the evidence in words a person can check;
 * and the coefficients of U as a non-negative mix of 2..4 references. */
#ifndef MP_LINEAGE_H
#define MP_LINEAGE_H

#include "model.h"
#include "nnls.h"

/* Thresholds of the verdict (see lineage.c for why each value). */
/* Fine-tune: every matched tensor's Pearson correlation with R at least. */
#define MP_LIN_FINETUNE_MIN 0.9
/* Unrelated: the mean |Pearson| over matched tensors, weighted by their
 * number of values, at most. */
#define MP_LIN_UNRELATED_MAX 0.1
/* Fine-tune with "high" confidence when the lowest Pearson is at least. */
#define MP_LIN_HIGH 0.98
/* A linear merge: the overall coefficients sum to 1 within. */
#define MP_LIN_MERGE_SUM_TOL 0.02
/* Tensors listed as moved most. */
#define MP_LIN_TOP 5
/* References of a merge. */
#define MP_MERGE_MAX MP_NNLS_MAX
/* Quantization: a value is on the grid when it is an integer multiple of
 * the step within this share of the step (plus one unit in the last place
 * of its type), and that integer is R's value re-quantized: within 1/2 +
 * this of R / step. */
#define MP_LIN_QUANT_TOL 1e-3
/* Quantization: codes strictly inside the range (not a group's extreme,
 * which is on every grid) needed over all tensors on a grid. */
#define MP_LIN_QUANT_MIN_INSIDE 8
/* Quantization: the step a symmetric grid shows in U (its largest |value|
 * / qmax) equals R's largest |value| / qmax within this relative share
 * (2^-10: scales stored as F16, as ggml does, pass). */
#define MP_LIN_QUANT_SCALE_TOL 0x1p-10
/* ggml block quantization: U's quantized values differ from R's by at
 * most this many times the root-mean-square error that rounding to the
 * nearest code of each block's grid leaves (spacing / sqrt(12), see
 * ggml_dequant.h); above it the weights moved by more than quantization
 * explains. */
#define MP_LIN_GGML_RATIO_MAX 1.25
/* Permuted units: permutations kept in struct mp_lineage, tensors named
 * per permutation, entries of each permutation shown. */
#define MP_LIN_PERM_MAX 8
#define MP_LIN_PERM_TENSORS 4
#define MP_LIN_PERM_SHOW 16

/* A GGUF's block-quantized tensors measured against the values they were
 * quantized from (lineage_ggml.c). */
struct mp_lineage_ggml {
	bool on;	 /* U's (R's when reversed) tensors are ggml blocks */
	bool sketch;	 /* measured at R's sketch positions only (R's
			    fingerprint: its files not at hand) */
	char mix[160];	 /* stored types by parameters: "Q4_K 95 %, Q6_K 5 %" */
	char ftype[16];	 /* general.file_type in words ("Q4_K_M"), or "" */
	char from[160];	 /* requantization: the source's file type or mix, else "" */
	size_t tensors;	 /* quantized tensors measured */
	uint64_t values; /* their values */
	/* root-mean-square |U - R| over the expected error of the grids,
	 * over all quantized values and on the worst tensor; the share of
	 * values within half a spacing of R's; ||U - R|| / ||R|| */
	double ratio, worst_ratio, within, rel_err;
	/* a copy: the result outlives the models (identify) */
	char worst[256];
	/* unquantized tensors neither identical nor a dtype rounding */
	size_t other_changed;
};

enum mp_lineage_kind {
	MP_LIN_COPY,	  /* every matched tensor's bytes equal */
	MP_LIN_DTYPE,	  /* values equal after rounding to the narrower type */
	MP_LIN_PRUNE,	  /* zeros added, every survivor equal to R's value */
	MP_LIN_QUANT,	  /* U's values on a grid derived from R's */
	MP_LIN_PERMUTED,  /* R with hidden units (rows/columns) permuted */
	MP_LIN_FINETUNE,  /* every tensor highly but imperfectly correlated */
	MP_LIN_UNRELATED, /* tensors in common, correlations near 0 */
	MP_LIN_UNCLEAR,	  /* tensors in common, none of the above */
	MP_LIN_NONE,	  /* no tensor of the same name and shape */
};

/* Prune structure, tightest first. */
enum mp_prune_shape {
	MP_PRUNE_2_4,	  /* at most 2 nonzero in each 4 along the last axis */
	MP_PRUNE_4_8,	  /* at most 4 nonzero in each 8 along the last axis */
	MP_PRUNE_ROWS,	  /* whole rows (all but the last axis) zeroed */
	MP_PRUNE_COLUMNS, /* whole columns (last axis) zeroed */
	MP_PRUNE_UNSTRUCTURED,
};

/* Quantization grids, tried in this order on each tensor (see
 * lineage_quant.c for the formulas). */
enum mp_quant_grid {
	MP_QGRID_INT8_TENSOR,  /* int8 symmetric per tensor: max|R| / 127 */
	MP_QGRID_INT8_ASYM,    /* int8 asymmetric per tensor: (max-min) / 255 */
	MP_QGRID_INT8_CHANNEL, /* int8 symmetric per output channel */
	MP_QGRID_INT4_CHANNEL, /* int4 symmetric per output channel: max / 7 */
	MP_QGRID_Q8_0,	       /* int8 symmetric, blocks of 32 (ggml Q8_0) */
	MP_QGRID_INT4_B32,     /* int4 symmetric, blocks of 32: max / 7 */
	MP_QGRID_N
};

/* One permutation of hidden units shared by some tensors' axes: U's unit
 * i is R's unit perm[i]. */
struct mp_lineage_perm {
	uint64_t units, moved; /* length; units with perm[i] != i */
	size_t ntensors;       /* tensor axes carrying it */
	/* the first tensors (borrowed from U) and their axes (0 the first:
	 * rows of a matrix; 1 its columns) */
	const char *tensor[MP_LIN_PERM_TENSORS];
	int axis[MP_LIN_PERM_TENSORS];
	uint64_t first[MP_LIN_PERM_SHOW]; /* perm[0..min(units, SHOW)) */
};

/* One tensor that moved (fine-tune): 1 - cosine and ||U-R|| / ||R||. */
struct mp_lineage_moved {
	const char *name; /* borrowed from U */
	double change, rel_l2, pearson;
};

struct mp_lineage {
	enum mp_lineage_kind kind;
	/* R derives from U (MP_LIN_PRUNE, MP_LIN_QUANT: R is the pruned or
	 * quantized one) */
	bool reversed;
	const char *confidence; /* "certain", "high", "medium" or "low" */
	char evidence[1024];	/* one line of plain words */
	/* Tensor counts: matched by name and shape, same name other shape,
	 * only in U, only in R; matched with identical bytes. */
	size_t matched, shape_differs, only_u, only_r, identical;
	/* of the matched: GGUF Q/K tensors compared with llama.cpp's rotary
	 * row permutation undone (mp_metric_qk_heads) */
	size_t unpermuted_qk;
	/* matched GGUF norms compared as llama.cpp's converter writes them:
	 * the other side's weights plus norm_offset (Gemma's 1 + w,
	 * mp_gguf_names_offset) */
	size_t offset_norms;
	double norm_offset;
	/* matched GGUF matrices stored as the transpose of the other side's
	 * (GPT-2's Conv1D weights, mp_gguf_names_transposed) */
	size_t transposed;
	/* dtype conversion: from R's type to U's. */
	enum mp_dtype from, to;
	/* pruning: weights zeroed in U where R's were not, of all matched
	 * values; the structure found on every tensor that lost weights. */
	uint64_t zeroed, values;
	double sparsity_added;
	enum mp_prune_shape structure;
	/* correlations: lowest Pearson and its tensor, the tensors that moved
	 * most (largest 1 - cosine first). */
	double min_pearson, mean_abs_pearson;
	const char *worst; /* borrowed from U */
	struct mp_lineage_moved moved[MP_LIN_TOP];
	int nmoved;
	/* quantization (R quantized when reversed): the grid holding most
	 * values, its bits and block (values per block; 0 per tensor or
	 * per channel); tensors on each grid and on any; the largest |U - R|
	 * in steps of the grid (at most 1/2 + rounding). */
	enum mp_quant_grid grid;
	int qbits;
	uint64_t qblock;
	size_t on_grid, on_grid_by[MP_QGRID_N];
	double max_steps;
	/* permuted units: the permutations (the first MP_LIN_PERM_MAX of
	 * nperm_all), the tensors that carry one */
	struct mp_lineage_perm perm[MP_LIN_PERM_MAX];
	int nperm, nperm_all;
	size_t permuted;
	/* ggml blocks (MP_LIN_QUANT, and MP_LIN_FINETUNE when the error is
	 * more than quantization explains) */
	struct mp_lineage_ggml ggml;
};

/* Decide the relation of u to r (tensors matched by name and shape; values
 * read in blocks). Rules from the tightest: copy, dtype conversion,
 * pruning, quantization (u on a grid of r; then r on a grid of u,
 * out->reversed), permuted units, r pruned from u (out->reversed),
 * fine-tune, unrelated, unclear. *out owns nothing and borrows tensor
 * names from u and r, so it is valid while both are open. Errors: out of
 * memory. The evidence calls u "A" and r "B". */
mp_status mp_lineage_pair(const struct mp_model *u, const struct mp_model *r,
			  struct mp_lineage *out, struct mp_error *err);

/* Words for a kind ("exact copy", "dtype conversion", ...) and a structure
 * ("2:4", "whole rows", ...). */
const char *mp_lineage_kind_name(enum mp_lineage_kind k);
const char *mp_prune_shape_name(enum mp_prune_shape s);
/* Words for a grid ("int8 symmetric per tensor", ...), its bits and its
 * block (0 when per tensor or per channel). */
const char *mp_quant_grid_name(enum mp_quant_grid g);
int mp_quant_grid_bits(enum mp_quant_grid g);
uint64_t mp_quant_grid_block(enum mp_quant_grid g);

/* The whole permutation number layer (0 <= layer < nperm_all of
 * mp_lineage_pair(u, r)) of U's hidden units against R's: *perm [*n]
 * allocated (free() it), U's unit i is R's unit (*perm)[i]. Errors: no
 * such permutation (MP_ENOENT: u is no permutation of r, or layer out of
 * range), out of memory. */
mp_status mp_lineage_permutation(const struct mp_model *u,
				 const struct mp_model *r, int layer,
				 uint64_t **perm, uint64_t *n,
				 struct mp_error *err);

/* Mixing coefficients of one tensor, or of the whole model. */
struct mp_merge_tensor {
	const char *name; /* borrowed from U */
	double coef[MP_MERGE_MAX];
	double residual; /* ||U - sum coef_i R_i|| / ||U|| */
};

struct mp_merge {
	int k;
	double coef[MP_MERGE_MAX]; /* overall, from the summed Gram matrix */
	double sum, residual;
	bool linear;		  /* |sum - 1| <= MP_LIN_MERGE_SUM_TOL */
	size_t ntensors, skipped; /* used; U's tensors not in every ref */
	struct mp_merge_tensor *tensors; /* [ntensors], owned */
};

/* U as a non-negative combination of refs[0..k) (2 <= k <= 4): for every
 * floating tensor of U that each reference has under the same name and
 * shape, the k x k Gram matrix and the products with U are gathered in one
 * pass and solved by Lawson-Hanson NNLS, per tensor and summed over all.
 * Errors: k out of range (MP_EINVAL), no such tensor (MP_ENOENT, naming
 * u's path), out of memory. Free with mp_merge_free. */
mp_status mp_lineage_merge(const struct mp_model *u,
			   const struct mp_model *const *refs, int k,
			   struct mp_merge *out, struct mp_error *err);
void mp_merge_free(struct mp_merge *m);

/* The stored types of a ggml quantization in words: "Q4_K_M: Q4_K 95 %,
 * F32 5 %", with "FROM -> " before it for a requantization. */
void mp_lineage_ggml_text(const struct mp_lineage_ggml *g, char *buf,
			  size_t cap);

/* One tensor t of a GGUF and its source's values r[i] at elements pos[i]
 * of t (as stored): the source's sketch. */
struct mp_lineage_sample {
	const struct mp_tensor *t;
	const uint64_t *pos;
	const float *r;
	size_t n;
	/* r[i] + r_offset is the source's stored value (the sketch of a
	   GGUF norm has the converter's offset taken off, sketch_offset);
	   q's converter added shift to it (a Gemma norm of q against an
	   original; 0: none), in F16 when r_type is MP_F16, else in
	   float32 */
	double r_offset, shift;
	enum mp_dtype r_type;
};

/* mp_lineage_ggml's measurement and verdict when only the source's
 * fingerprint src is at hand: q's tensors s[0..ns) measured at the
 * sampled elements (the quantized ones against their grid spacing, the
 * others for the source's values exactly or rounded), the same
 * thresholds and words, l->ggml.sketch set; src's stored types and
 * metadata tell a requantization. l holds the relation the sketches gave
 * (q is A): when q is quantized but moved more than that and l says
 * fine-tune, the measurement is added to it. *hit tells whether l
 * changed. Errors: out of memory. */
struct mp_fingerprint;
mp_status mp_lineage_ggml_sampled(const struct mp_model *q,
				  const struct mp_lineage_sample *s, size_t ns,
				  const struct mp_fingerprint *src,
				  struct mp_lineage *l, bool *hit,
				  struct mp_error *err);

/* Add o.ggml, the measurement of g as modelprint-files(5) documents it;
 * false when out of memory. */
struct cJSON;
bool mp_lineage_ggml_json(struct cJSON *o, const struct mp_lineage_ggml *g,
			  bool reversed);

/* Round x to the nearest value of type dt (F64, F32, F16, BF16), ties to
 * even, overflowing to infinity; other types return x. */
double mp_lineage_round(double x, enum mp_dtype dt);

#endif
