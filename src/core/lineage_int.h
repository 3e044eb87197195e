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

/* Permuted hidden units (lineage_perm.c): whether u's matched tensors are
 * each identical to r's or r's with slices along some axes permuted; when so,
 * fills l's kind, confidence, evidence and perm fields. Errors: out of memory.
 */
mp_status mp_lineage_perm(const struct mp_model *u, const struct mp_model *r,
			  struct mp_lineage *l, bool *hit,
			  struct mp_error *err);

#endif
