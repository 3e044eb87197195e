/* ident_ggml.c — "quantized from R" when R's files are gone: the unknown
 * is a block-quantized GGUF at hand and R is only a fingerprint. At each
 * of R's sketch positions (they depend only on the shape and the seed;
 * a GGUF Q/K matrix's sketch[k] is the stored element holding Hugging
 * Face position k, mp_gguf_qk_off) the GGUF's block gives the value and
 * its grid spacing, R's sketch R's value; lineage_ggml.c measures and
 * decides as it does on two files. */
#include "gguf_names.h"
#include "ident_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether u has a block-quantized tensor. */
static bool blocked(const struct mp_fingerprint *u)
{
	for (size_t i = 0; i < u->ntensors; i++)
		if (u->tensors[i].ggml && u->tensors[i].ggml->block > 1)
			return true;
	return false;
}

/* The unknown's tensor for fingerprint a paired with b, with the sketch
 * positions of a in pos (as stored); NULL when they cannot be measured. */
static const struct mp_tensor *sampled(const struct ident_ctx *c,
				       const struct mp_model *m,
				       const struct mp_tensor_fp *a,
				       const struct mp_tensor_fp *b,
				       uint64_t *pos)
{
	const struct mp_tensor *t = mp_model_find(m, a->name);
	if (!t || strcmp(t->name, a->name) || t->numel != a->numel ||
	    !mp_dtype_is_float(t->logical) || !a->nsketch ||
	    a->nsketch != b->nsketch || !mp_fp_sketches_aligned(a, b) ||
	    (a->transposed && t->ndim != 2))
		return NULL;
	/* a transposed matrix's sketch holds the original's positions */
	uint64_t hf[2] = {t->ndim == 2 ? t->shape[1] : 0,
			  t->ndim == 2 ? t->shape[0] : 0};
	if (mp_sketch_positions(a->transposed ? hf : t->shape, t->ndim,
				t->numel, c->ux->seed,
				(uint32_t)c->ux->sketch_size,
				pos) != a->nsketch)
		return NULL;
	if (a->transposed)
		for (uint32_t p = 0; p < a->nsketch; p++)
			pos[p] = mp_gguf_transposed_off(pos[p], hf[0], hf[1]);
	if (a->sketch_heads) {
		uint64_t rows = t->shape[0], heads = a->sketch_heads;
		if (t->ndim != 2 || rows % (2 * heads))
			return NULL;
		for (uint32_t p = 0; p < a->nsketch; p++)
			pos[p] = mp_gguf_qk_off(pos[p], rows, t->shape[1],
						heads);
	}
	return t;
}

/* The measurement of the opened unknown m against reference ri. */
static mp_status measure(const struct ident_ctx *c, size_t ri,
			 const struct mp_model *m,
			 struct mp_ident_relation *rel, bool *decided,
			 struct mp_error *err)
{
	const struct ident_pairing *p = &c->pairs[ri];
	const struct mp_fingerprint *r = c->rx[ri].fp;
	size_t nt = c->u->ntensors, total = 0;
	for (size_t i = 0; i < nt; i++)
		total += c->u->tensors[i].nsketch;
	struct mp_lineage_sample *s = calloc(nt ? nt : 1, sizeof *s);
	uint64_t *pos = malloc((total ? total : 1) * sizeof *pos);
	if (!s || !pos) {
		free(s);
		free(pos);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    m->path);
	}
	size_t ns = 0, used = 0;
	for (size_t i = 0; i < nt; i++) {
		const struct mp_tensor_fp *a = &c->u->tensors[i];
		if (p->r_of_u[i] == ID_NONE)
			continue;
		const struct mp_tensor_fp *b = &r->tensors[p->r_of_u[i]];
		const struct mp_tensor *t = sampled(c, m, a, b, pos + used);
		if (!t)
			continue;
		s[ns++] = (struct mp_lineage_sample){
		    .t = t,
		    .pos = pos + used,
		    .r = b->sketch,
		    .n = a->nsketch,
		    .r_offset = b->sketch_offset,
		    .shift = b->sketch_offset == 0 ? a->sketch_offset : 0,
		    .r_type = b->stored};
		used += a->nsketch;
	}
	/* the measurement's words alone ("; A's ..." when not a fit): the
	 * sketches' fine-tune words follow them */
	struct mp_lineage l = {
	    .kind = rel->kind == MP_ID_FINETUNE ? MP_LIN_FINETUNE
						: MP_LIN_UNCLEAR};
	mp_status st = mp_lineage_ggml_sampled(m, s, ns, r, &l, decided, err);
	free(s);
	free(pos);
	if (st != MP_OK || !*decided)
		return st;
	rel->lineage = l;
	rel->reversed = false;
	if (l.kind == MP_LIN_QUANT) {
		rel->kind = MP_ID_QUANT;
		rel->confidence = l.confidence;
		snprintf(rel->evidence, sizeof rel->evidence,
			 "A = the unknown, B = the parent: %s", l.evidence);
	} else {
		char sk[sizeof rel->evidence];
		memcpy(sk, rel->evidence, sizeof sk);
		const char *w = l.evidence + (l.evidence[0] == ';' ? 2 : 0);
		snprintf(rel->evidence, sizeof rel->evidence,
			 "A = the unknown, B = the parent: %s; %.*s", w,
			 (int)(sizeof rel->evidence / 2), sk);
	}
	return MP_OK;
}

mp_status ident_ggml_sketch(const struct ident_ctx *c, size_t ri,
			    struct mp_ident_relation *rel, bool *decided,
			    struct mp_error *err)
{
	const char *up = c->opts->unknown_path;
	*decided = false;
	if (!up || !blocked(c->u) ||
	    !ident_sketches_comparable(c->ux, &c->rx[ri]))
		return MP_OK;
	struct mp_model *m = NULL;
	struct mp_error e2 = {0};
	if (mp_model_open(up, &m, &e2) != MP_OK)
		return MP_OK; /* the relation stays the sketches' */
	mp_status st = measure(c, ri, m, rel, decided, err);
	mp_model_free(m);
	return st;
}
