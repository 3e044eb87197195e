/* lineage_int.h — what lineage.c, lineage_quant.c and lineage_perm.c
 * share: reading a tensor in blocks and the rules each file adds to
 * mp_lineage_pair. Private to src/core. */
#ifndef MP_LINEAGE_INT_H
#define MP_LINEAGE_INT_H

#include "lineage.h"

#define MP_LIN_BLK 4096

/* One block of one tensor: its raw bytes and decoded values. */
struct mp_lin_block {
	uint8_t scratch[MP_LIN_BLK * 8];
	double v[MP_LIN_BLK];
	const uint8_t *raw;
};

/* Read n (<= MP_LIN_BLK) values of t from element e0: b->raw the bytes as
 * stored, b->v the decoded values when t is floating. */
void mp_lineage_block(const struct mp_tensor *t, uint64_t e0, size_t n,
		      struct mp_lin_block *b);

/* How the elements of a matched pair line up: a GGUF attn_q/attn_k paired
 * with a Hugging Face q_proj/k_proj carries llama.cpp's rotary row
 * permutation of `heads` heads (0: none, the elements line up), on u's
 * side (side 1) or r's (2); rows x cols the matrix. */
struct mp_lin_qk {
	int side;
	uint64_t rows, cols, heads;
	/* a GGUF norm to whose weights llama.cpp's converter added offset
	   (mp_gguf_names_offset, Gemma's 1 + w) paired with the original:
	   the GGUF on side offset_side (1: u, 2: r); 0: none */
	double offset;
	int offset_side;
	/* a GGUF matrix stored as the transpose of its Hugging Face original
	   (mp_gguf_names_transposed, GPT-2's Conv1D weights): u's element
	   (i, j) of rows x cols pairs with r's (j, i); side the GGUF's */
	bool transposed;
};

/* q for tu of u against tr of r, head counts from either model's metadata
 * or inferred (mp_metric_qk_heads). */
void mp_lineage_qk(const struct mp_model *u, const struct mp_model *r,
		   const struct mp_tensor *tu, const struct mp_tensor *tr,
		   struct mp_lin_qk *q);

/* Block b of the n values of tensor t on side (1: u, 2: r) that pair
 * with u's elements from the one mp_lineage_qk_at gave that side (at):
 * contiguous from at, or, on r's side of a transposed pair, each read
 * where r holds it (in u's order); then, when t is the original of a
 * GGUF norm q's offset applies to, each value as the converter writes
 * it (plus the offset, in F16 when t is F16, else in float32). */
void mp_lineage_side(const struct mp_lin_qk *q, int side,
		     const struct mp_tensor *t, uint64_t at, size_t n,
		     struct mp_lin_block *b);

/* The elements *eu of u and *er of r that u's element e0 pairs with, and
 * how many of the `left` that follow run on contiguously in both (to the
 * end of the row under a permutation; all of them in u's order for a
 * transposed pair, whose r side mp_lineage_side gathers). */
uint64_t mp_lineage_qk_at(const struct mp_lin_qk *q, uint64_t e0,
			  uint64_t left, uint64_t *eu, uint64_t *er);

/* Same shape, the way compare matches tensors. */
bool mp_lineage_shapes_match(const struct mp_tensor *a,
			     const struct mp_tensor *b);

/* Whether a's and b's bytes mean the same values: same stored type, size
 * and quantisation. */
bool mp_lineage_comparable(const struct mp_tensor *a,
			   const struct mp_tensor *b);

/* Whether a's and b's bytes are equal (same stored type, size and
 * quantisation, equal bytes). */
bool mp_lineage_same_bytes(const struct mp_tensor *a, const struct mp_tensor *b,
			   struct mp_lin_block *ba, struct mp_lin_block *bb);

/* Significand bits of the type that bounds t's values (24 for F32, 11
 * for F16, ...; 0 if not floating). */
int mp_lineage_precision(const struct mp_tensor *t);

/* Append "; n tensors only in A, ..." when the tensor sets differ. */
void mp_lineage_suffix(struct mp_lineage *l, const char *la, const char *lb);

/* Quantization (lineage_quant.c): whether q's matched tensors are each
 * identical to s's or on one grid derived from s's values; when so, fills
 * l's kind, confidence, evidence and grid fields (q is A unless
 * reversed). Errors: out of memory. */
mp_status mp_lineage_quant(const struct mp_model *q, const struct mp_model *s,
			   bool reversed, struct mp_lineage *l, bool *hit,
			   struct mp_error *err);

/* ggml block quantization (lineage_ggml.c): whether q's block-quantized
 * tensors are s's values rounded to their blocks' grids (see
 * MP_LIN_GGML_RATIO_MAX) and q's other tensors s's values; when so sets
 * l's kind MP_LIN_QUANT, confidence, evidence and ggml fields (q is A
 * unless reversed). When q is quantized but moved more than that and l
 * says fine-tune, the measurement is added to l's evidence and ggml
 * fields. *hit tells whether l changed. Errors: out of memory. */
mp_status mp_lineage_ggml(const struct mp_model *q, const struct mp_model *s,
			  bool reversed, struct mp_lineage *l, bool *hit,
			  struct mp_error *err);

/* Permuted hidden units (lineage_perm.c): whether u's matched tensors are
 * each identical to r's or r's with slices along some axes permuted; when so,
 * fills l's kind, confidence, evidence and perm fields. Errors: out of memory.
 */
mp_status mp_lineage_perm(const struct mp_model *u, const struct mp_model *r,
			  struct mp_lineage *l, bool *hit,
			  struct mp_error *err);

#endif
