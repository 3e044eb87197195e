/* ident_int.h — identify's internals shared by identify.c (scores,
 * selection, verdict), ident_match.c (pairing tensors), ident_relation.c
 * (the relation to the parent) and ident_json.c. */
#ifndef MP_IDENT_INT_H
#define MP_IDENT_INT_H

#include "identify.h"

#define ID_NONE ((size_t)-1)

/* Sketches correlated at least this much pair renamed tensors. */
#define ID_RENAME_PEARSON 0.9
/* ... of tensors of at least this many values (a correlation or a hash
 * of a handful of values pairs unrelated tensors by chance). */
#define ID_RENAME_MIN_VALUES 16
/* Pairing by position (shapes in file order) counts when it pairs at
 * least this share of the smaller model's tensors. */
#define ID_POSITION_SHARE 0.9

/* A fingerprint with its tensors sorted by normalised name. */
struct ident_norm {
	const char *name; /* normalised, points into the tensor's name */
	size_t idx;
};
struct ident_fpx {
	const struct mp_fingerprint *fp;
	struct ident_norm *by; /* [fp->ntensors] sorted by name, then idx */
	const char **norm;     /* [fp->ntensors] normalised name by index */
	size_t nfloat;	       /* tensors with a sketch */
	uint64_t sketch_size, seed; /* the method's arguments */
};

mp_status ident_fpx_build(const struct mp_arch_set *s,
			  const struct mp_fingerprint *fp, struct ident_fpx *x,
			  struct mp_error *err);
void ident_fpx_free(struct ident_fpx *x);
/* Index of the first tensor of normalised name, or ID_NONE. */
size_t ident_fpx_find(const struct ident_fpx *x, const char *norm);
/* Whether the sketches of two fingerprints are comparable. */
bool ident_sketches_comparable(const struct ident_fpx *a,
			       const struct ident_fpx *b);

/* U's tensors paired with R's: r_of_u[i] is R's tensor for U's tensor i
 * (ID_NONE when unpaired). Pairs by normalised name and shape; when that
 * leaves the overlap under MP_ID_MIN_OVERLAP and rename is true, the
 * unpaired ones by content (identical bytes, then the best sketch
 * correlation of at least ID_RENAME_PEARSON among tensors of the same
 * shape, both only for tensors of ID_RENAME_MIN_VALUES values or more),
 * or all by position (the longest common subsequence of the shapes in
 * file order, when it pairs ID_POSITION_SHARE of the smaller model),
 * whichever pairs most (renamed counts those paired under another
 * name). */
enum ident_paired_by { BY_NAME, BY_CONTENT, BY_POSITION };
struct ident_pairing {
	size_t *r_of_u;
	size_t matched, renamed;
	enum ident_paired_by by;
};
mp_status ident_pair(const struct ident_fpx *u, const struct ident_fpx *r,
		     bool rename, struct ident_pairing *p, struct mp_error *err);
void ident_pairing_free(struct ident_pairing *p);

/* Cosine and Pearson of two sketches of equal length (NAN when
 * undefined, or when their positions differ: mp_fp_sketches_aligned). */
void ident_sketch_corr(const struct mp_tensor_fp *a,
		       const struct mp_tensor_fp *b, double *cosine,
		       double *pearson);

/* What identify.c hands to ident_relation.c. */
struct ident_ctx {
	const struct mp_fingerprint *u;
	const struct ident_fpx *ux;
	const struct mp_ident_ref *refs;
	size_t nrefs;
	const struct ident_fpx *rx;	     /* [nrefs] */
	const struct ident_pairing *pairs; /* [nrefs] */
	const struct mp_ident_opts *opts;
	struct mp_ident_result *res;
};

/* Decide res->relation for the ranking in res (res->match set when a
 * parent was found). Warnings go to res. */
mp_status ident_relation(struct ident_ctx *c, struct mp_error *err);

/* When the unknown is a block-quantized GGUF at hand and reference ri
 * only a fingerprint: its quantization measured at ri's sketch positions
 * (ident_ggml.c, mp_lineage_ggml_sampled). *decided when rel changed: a
 * quantization (rel->kind MP_ID_QUANT, rel->lineage.ggml), or the
 * measurement added to the fine-tune rel held. Errors: out of memory. */
mp_status ident_ggml_sketch(const struct ident_ctx *c, size_t ri,
			    struct mp_ident_relation *rel, bool *decided,
			    struct mp_error *err);

/* Fill c->res->declared from the unknown's metadata, once the relation
 * is decided. */
void ident_declared(struct ident_ctx *c);

/* Append a formatted warning to r. */
mp_status ident_warn(struct mp_ident_result *r, struct mp_error *err,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
