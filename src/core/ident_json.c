/* ident_json.c — identify's result as JSON (modelprint-files(5)). */
#include "ident_int.h"

#include <math.h>

static void str_or_null(mp_json *o, const char *key, const char *s)
{
	if (s)
		mp_json_add_str(o, key, s);
	else
		mp_json_add_null(o, key);
}

static bool ranking(mp_json *doc, const struct mp_ident_result *r,
		    const struct mp_ident_ref *refs)
{
	mp_json *a = mp_json_add_arr(doc, "ranking");
	if (!a)
		return false;
	for (size_t i = 0; i < r->nscores; i++) {
		const struct mp_ident_score *s = &r->scores[i];
		const struct mp_ident_ref *f = &refs[s->ref];
		mp_json *o = mp_json_object();
		if (!o || !mp_json_push(a, o))
			return false;
		mp_json_add_num(o, "rank", (double)(i + 1));
		mp_json_add_str(o, "id", f->id);
		mp_json_add_str(o, "name", f->name);
		str_or_null(o, "path", f->path);
		mp_json_add_bool(o, "compatible", s->compatible);
		str_or_null(o, "why", s->compatible ? NULL : s->why);
		str_or_null(o, "architecture", s->arch);
		mp_json_add_num(o, "matched", (double)s->matched);
		mp_json_add_num(o, "renamed", (double)s->renamed);
		mp_json_add_num(o, "overlap", s->overlap);
		mp_json_add_num(o, "shape", s->shape);
		mp_json_add_num(o, "exact", s->exact);
		mp_json_add_num(o, "stats", s->stats);
		mp_json_add_num(o, "cosine", s->cosine);
		mp_json_add_num(o, "pearson", s->pearson);
		mp_json_add_num(o, "coverage", s->coverage);
		mp_json_add_num(o, "raw_final", s->raw_final);
		mp_json_add_num(o, "final", s->final);
	}
	return true;
}

/* What the files showed beyond the evidence: the dtypes, the pruning's
 * share and structure, the quantization grid, the permutations. */
static bool lineage_details(mp_json *o, const struct mp_ident_relation *rel)
{
	const struct mp_lineage *l = &rel->lineage;
	mp_json *d = mp_json_add_obj(o, "details");
	if (!d)
		return false;
	mp_json_add_bool(d, "reversed", l->reversed);
	switch (rel->kind) {
	case MP_ID_DTYPE:
		mp_json_add_str(d, "from", mp_dtype_name(l->from));
		mp_json_add_str(d, "to", mp_dtype_name(l->to));
		break;
	case MP_ID_PRUNE:
		mp_json_add_num(d, "sparsity_added", l->sparsity_added);
		mp_json_add_num(d, "zeroed", (double)l->zeroed);
		mp_json_add_str(d, "structure", mp_prune_shape_name(l->structure));
		break;
	case MP_ID_QUANT:
		if (l->ggml.on)
			return mp_lineage_ggml_json(d, &l->ggml, l->reversed);
		mp_json_add_str(d, "grid", mp_quant_grid_name(l->grid));
		mp_json_add_num(d, "bits", l->qbits);
		mp_json_add_num(d, "block", (double)l->qblock);
		mp_json_add_num(d, "on_grid", (double)l->on_grid);
		mp_json_add_num(d, "max_steps", l->max_steps);
		break;
	case MP_ID_FINETUNE:
		if (l->ggml.on)
			return mp_lineage_ggml_json(d, &l->ggml, l->reversed);
		break;
	case MP_ID_PERMUTED: {
		mp_json *a = mp_json_add_arr(d, "permutations");
		for (int i = 0; a && i < l->nperm; i++) {
			const struct mp_lineage_perm *p = &l->perm[i];
			mp_json *e = mp_json_object();
			if (!e || !mp_json_push(a, e))
				return false;
			mp_json_add_num(e, "units", (double)p->units);
			mp_json_add_num(e, "moved", (double)p->moved);
			mp_json *t = mp_json_add_arr(e, "tensors");
			for (size_t j = 0; t && j < p->ntensors &&
					   j < MP_LIN_PERM_TENSORS;
			     j++) {
				mp_json *x = mp_json_object();
				if (!x || !mp_json_push(t, x))
					return false;
				str_or_null(x, "name", p->tensor[j]);
				mp_json_add_num(x, "axis", p->axis[j]);
			}
			mp_json *f = mp_json_add_arr(e, "first");
			for (uint64_t j = 0; f && j < p->units &&
					     j < MP_LIN_PERM_SHOW;
			     j++)
				mp_json_push_num(f, (double)p->first[j]);
		}
		return a != NULL;
	}
	default:
		break;
	}
	return true;
}

static void tri(mp_json *o, const char *key, int v)
{
	if (v < 0)
		mp_json_add_null(o, key);
	else
		mp_json_add_bool(o, key, v);
}

/* doc.declared: what the unknown says of its origin. */
static bool declared(mp_json *doc, const struct mp_ident_declared *d)
{
	mp_json *o = mp_json_add_obj(doc, "declared");
	if (!o)
		return false;
	str_or_null(o, "base_model", d->base[0] ? d->base : NULL);
	str_or_null(o, "repo_url", d->repo[0] ? d->repo : NULL);
	tri(o, "base_model_agrees", d->agrees);
	str_or_null(o, "architecture", d->arch[0] ? d->arch : NULL);
	tri(o, "architecture_agrees", d->arch_agrees);
	return true;
}

static bool relation(mp_json *doc, const struct mp_ident_result *r,
		     const struct mp_ident_ref *refs)
{
	const struct mp_ident_relation *rel = &r->relation;
	const struct mp_ident_ref *p = r->match ? &refs[rel->parent] : NULL;
	mp_json *v = mp_json_add_obj(doc, "verdict");
	mp_json *o = mp_json_add_obj(doc, "relation");
	if (!v || !o)
		return false;
	mp_json_add_bool(v, "match", r->match);
	str_or_null(v, "id", p ? p->id : NULL);
	str_or_null(v, "name", p ? p->name : NULL);
	mp_json_add_str(v, "relation", mp_ident_kind_key(rel->kind));
	mp_json_add_str(v, "confidence", rel->confidence);
	char text[768];
	mp_ident_verdict_text(r, refs, text, sizeof text);
	mp_json_add_str(v, "text", text);
	mp_json_add_str(o, "kind", mp_ident_kind_key(rel->kind));
	mp_json_add_str(o, "text", mp_ident_kind_name(rel->kind));
	str_or_null(o, "parent", p ? p->id : NULL);
	mp_json_add_str(o, "confidence", rel->confidence);
	mp_json_add_str(o, "source", rel->from_files ? "files" : "sketches");
	mp_json_add_bool(o, "reversed", rel->reversed);
	mp_json_add_bool(o, "partial", rel->partial);
	mp_json_add_str(o, "evidence", rel->evidence);
	if (rel->kind == MP_ID_MERGE) {
		mp_json *m = mp_json_add_obj(o, "merge");
		mp_json *a = m ? mp_json_add_arr(m, "parents") : NULL;
		if (!a)
			return false;
		for (int i = 0; i < rel->nparents; i++) {
			mp_json *e = mp_json_object();
			if (!e || !mp_json_push(a, e))
				return false;
			mp_json_add_str(e, "id", refs[rel->parents[i]].id);
			mp_json_add_str(e, "name", refs[rel->parents[i]].name);
			mp_json_add_num(e, "coef", rel->coef[i]);
		}
		mp_json_add_num(m, "sum", rel->merge_sum);
		mp_json_add_num(m, "residual", rel->merge_residual);
		mp_json_add_num(m, "single_residual", rel->single_residual);
		mp_json_add_bool(m, "linear", rel->linear);
	}
	if (rel->kind == MP_ID_RENAMED) {
		mp_json *a = mp_json_add_arr(o, "renames");
		for (size_t i = 0; a && i < rel->nrenames; i++) {
			mp_json *e = mp_json_object();
			if (!e || !mp_json_push(a, e))
				return false;
			mp_json_add_str(e, "from", rel->renames[i].from);
			mp_json_add_str(e, "to", rel->renames[i].to);
		}
	}
	if ((rel->from_files || rel->lineage.ggml.on) &&
	    !lineage_details(o, rel))
		return false;
	mp_json *t = mp_json_add_arr(o, "tensors");
	for (int i = 0; t && i < rel->ntop; i++) {
		mp_json *e = mp_json_object();
		if (!e || !mp_json_push(t, e))
			return false;
		mp_json_add_str(e, "name", rel->top[i].name);
		mp_json_add_num(e, "value", rel->top[i].value);
	}
	return t != NULL;
}

mp_json *mp_ident_result_json(const struct mp_ident_result *r,
			      const struct mp_ident_ref *refs)
{
	mp_json *doc = mp_json_object();
	if (!doc)
		return NULL;
	mp_json *arch = mp_arch_result_json(r->arch);
	bool ok = arch && mp_json_set(doc, "architecture", arch);
	if (!ok)
		mp_json_free(arch);
	mp_json *sel = ok ? mp_json_add_obj(doc, "selection") : NULL;
	if (sel) {
		mp_json_add_str(sel, "mode",
				mp_ident_selection_name(r->selection));
		mp_json *a = mp_json_add_arr(sel, "tensors");
		for (size_t i = 0; a && i < r->nkeys; i++) {
			mp_json *e = mp_json_object();
			if (!e || !mp_json_push(a, e)) {
				a = NULL;
				break;
			}
			mp_json_add_str(e, "name", r->keys[i].name);
			mp_json_add_num(e, "weight", r->keys[i].weight);
		}
		ok = a != NULL;
	}
	ok = ok && sel;
	if (ok) {
		mp_json_add_num(doc, "references", (double)r->nscores);
		mp_json_add_num(doc, "compatible", (double)r->ncompatible);
		ok = ranking(doc, r, refs) && relation(doc, r, refs) &&
		     declared(doc, &r->declared);
	}
	mp_json *w = ok ? mp_json_add_arr(doc, "warnings") : NULL;
	for (size_t i = 0; w && i < r->nwarnings; i++)
		if (!mp_json_push_str(w, r->warnings[i]))
			w = NULL;
	if (!w) {
		mp_json_free(doc);
		return NULL;
	}
	return doc;
}
