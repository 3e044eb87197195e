/* lineage_ggml.c — whether a GGUF's block-quantized tensors hold another
 * model's values rounded to the grid of each block (lineage_int.h).
 *
 * A quantizer that rounds to the nearest code leaves an error of at most
 * half the grid spacing at each value, and spacing / sqrt(12) in root mean
 * square when values spread evenly between codes; the spacing of every
 * block is read from its own scales (mp_ggml_type_info.steps). So the
 * error a Q4_K tensor is expected to show is known from the tensor itself,
 * whatever the quantizer's choice of scales. Measured against its source,
 * a quantization shows about that error (ggml's scale search makes it a
 * little less, clipping a little more); a fine-tune quantized afterwards
 * shows more, because the weights moved as well. The ratio of the two is
 * the evidence: at most MP_LIN_GGML_RATIO_MAX on every tensor says
 * "quantized from R". The unquantized tensors (norms, often F32) must be
 * R's values, exactly or rounded to their type. When R is itself
 * quantized the relation is a requantization. */
#include "json.h"
#include "lineage_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK MP_LIN_BLK

/* Tolerance of "within half a spacing": relative, for the float rounding
 * of the value and of R's. */
#define HALF_TOL 1e-3

struct gacc {
	double sdd, sexp, srr;
	uint64_t n, within;
	bool other_bad; /* an unquantized tensor that is not R's values */
};

struct gbuf {
	struct mp_lin_block raw, src;
	float u[BLK], step[BLK];
};

static bool is_blocked(const struct mp_tensor *t)
{
	return t->ggml && t->ggml->block > 1;
}

/* One quantized tensor tq against its source ts. False when its blocks do
 * not line up with the chunks (cannot happen for a valid GGUF). */
static bool measure(const struct mp_tensor *tq, const struct mp_tensor *ts,
		    const struct mp_lin_qk *q, struct gacc *a, struct gbuf *b)
{
	const struct mp_ggml_type_info *g = tq->ggml;
	for (uint64_t e0 = 0, n; e0 < tq->numel; e0 += n) {
		uint64_t eq, es, left = tq->numel - e0;
		n = mp_lineage_qk_at(q, e0, left < BLK ? left : BLK, &eq, &es);
		if (n % g->block || eq % g->block)
			return false;
		size_t nb = (size_t)(n / g->block);
		const uint8_t *raw =
		    mp_tensor_bytes(tq, eq / g->block * g->bytes,
				    (uint64_t)nb * g->bytes, b->raw.scratch);
		g->dequant(raw, b->u, nb);
		g->steps(raw, b->step, nb);
		mp_lineage_block(ts, es, (size_t)n, &b->src);
		for (size_t i = 0; i < n; i++) {
			double r = b->src.v[i], d = (double)b->u[i] - r;
			double s = b->step[i];
			if (!isfinite(d))
				continue;
			a->sdd += d * d;
			a->sexp += s * s / 12;
			a->srr += r * r;
			a->n++;
			a->within += fabs(d) <= 0.5 * s * (1 + HALF_TOL) +
						    HALF_TOL * fabs(r);
		}
	}
	return true;
}

/* An unquantized tensor of the quantized model: R's values, exactly or
 * rounded to tq's type. */
static bool plain_same(const struct mp_tensor *tq, const struct mp_tensor *ts,
		       const struct mp_lin_qk *q, struct gbuf *b)
{
	for (uint64_t e0 = 0, n; e0 < tq->numel; e0 += n) {
		uint64_t eq, es, left = tq->numel - e0;
		n = mp_lineage_qk_at(q, e0, left < BLK ? left : BLK, &eq, &es);
		mp_lineage_block(tq, eq, (size_t)n, &b->raw);
		mp_lineage_block(ts, es, (size_t)n, &b->src);
		for (size_t i = 0; i < n; i++) {
			double x = b->raw.v[i], y = b->src.v[i];
			if (x != y && x != mp_lineage_round(y, tq->stored) &&
			    !(isnan(x) && isnan(y)))
				return false;
		}
	}
	return true;
}

/* Parameters per stored type of m's tensors, largest first, as
 * "Q4_K 95 %, F32 5 %"; *blocked gets whether any is block-quantized. */
static void mix_of(const struct mp_model *m, char *out, size_t cap,
		   bool *blocked)
{
	enum { MAXT = 16 };
	const char *name[MAXT];
	uint64_t cnt[MAXT], total = 0;
	int nt = 0;
	*blocked = false;
	for (size_t i = 0; i < m->ntensors; i++) {
		const struct mp_tensor *t = &m->tensors[i];
		const char *nm = t->ggml ? t->ggml->name
					 : mp_dtype_name(t->stored);
		*blocked |= is_blocked(t);
		int k = 0;
		while (k < nt && strcmp(name[k], nm))
			k++;
		if (k == nt) {
			if (nt == MAXT)
				continue;
			name[nt] = nm;
			cnt[nt++] = 0;
		}
		cnt[k] += t->numel;
		total += t->numel;
	}
	out[0] = 0;
	for (int done = 0; done < nt; done++) {
		int best = -1;
		for (int k = 0; k < nt; k++)
			if (cnt[k] != UINT64_MAX &&
			    (best < 0 || cnt[k] > cnt[best]))
				best = k;
		size_t len = strlen(out);
		double pc = total ? 100.0 * (double)cnt[best] / (double)total
				  : 0;
		snprintf(out + len, cap - len, "%s%s %.*f %%", done ? ", " : "",
			 name[best], pc < 1 ? 2 : 0, pc);
		cnt[best] = UINT64_MAX;
	}
}

/* The quantized model's general.file_type in llama.cpp's words. */
static void ftype_of(const struct mp_model *m, char out[16])
{
	const char *v = mp_meta_get(m->meta, m->nmeta, "general.file_type");
	char *end;
	unsigned long ft = v ? strtoul(v, &end, 10) : 0;
	const char *name = v && !*end ? mp_ggml_ftype_name((uint32_t)ft) : NULL;
	snprintf(out, 16, "%s", name ? name : "");
}

#define EV(...)                                                                \
	snprintf(l->evidence + strlen(l->evidence),                            \
		 sizeof l->evidence - strlen(l->evidence), __VA_ARGS__)

/* The evidence: replaces the fine-tune words when the grids explain the
 * differences, else is appended to them. */
static void words(struct mp_lineage *l, bool reversed, size_t plain)
{
	const struct mp_lineage_ggml *g = &l->ggml;
	const char *lq = reversed ? "B" : "A", *ls = reversed ? "A" : "B";
	char nb[MP_NAME_SHOW + 8];
	bool fits = l->kind == MP_LIN_QUANT;
	if (fits)
		l->evidence[0] = 0;
	else
		EV("; ");
	EV("%s's %zu block-quantized tensors (%s%s%s) differ from %s's values by %.3g "
	   "times the root-mean-square error that rounding to each block's "
	   "grid leaves (worst %.3g on %s, limit %.2f), %.1f %% of values "
	   "within half a grid step, relative error %.3g",
	   lq, g->tensors, g->mix, g->ftype[0] ? "; file type " : "",
	   g->ftype, ls, g->ratio,
	   g->worst_ratio, mp_printable(g->worst, nb), MP_LIN_GGML_RATIO_MAX,
	   100 * g->within, g->rel_err);
	if (fits)
		EV(": %s's values quantized; the %zu other tensors hold %s's "
		   "values, exactly or rounded to their type",
		   ls, plain, ls);
	else if (g->worst_ratio <= MP_LIN_GGML_RATIO_MAX)
		EV(": what quantization leaves, but %zu unquantized tensors do "
		   "not hold %s's values",
		   g->other_changed, ls);
	else
		EV(": more than quantization explains, the weights moved "
		   "before or after quantizing");
	if (g->from[0])
		EV("; %s is itself quantized (%s): a requantization", ls,
		   g->from);
	if (fits)
		mp_lineage_suffix(l, "A", "B");
}

mp_status mp_lineage_ggml(const struct mp_model *q, const struct mp_model *s,
			  bool reversed, struct mp_lineage *l, bool *hit,
			  struct mp_error *err)
{
	*hit = false;
	struct mp_lineage_ggml g = {0};
	bool blocked;
	mix_of(q, g.mix, sizeof g.mix, &blocked);
	if (!blocked)
		return MP_OK;
	struct gbuf *b = malloc(sizeof *b);
	if (!b)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    q->path);
	struct gacc all = {0};
	size_t plain = 0;
	bool ok = true;
	for (size_t i = 0; i < q->ntensors && ok; i++) {
		const struct mp_tensor *tq = &q->tensors[i];
		const struct mp_tensor *ts = mp_model_find(s, tq->name);
		if (!ts || !mp_lineage_shapes_match(tq, ts) ||
		    !mp_dtype_is_float(tq->logical) ||
		    !mp_dtype_is_float(ts->logical))
			continue;
		struct mp_lin_qk qk;
		mp_lineage_qk(q, s, tq, ts, &qk);
		if (!is_blocked(tq)) {
			plain++;
			if (!plain_same(tq, ts, &qk, b))
				g.other_changed++;
			continue;
		}
		if (!tq->ggml->steps) { /* no grid to measure against */
			ok = false;
			break;
		}
		struct gacc a = {0};
		ok = measure(tq, ts, &qk, &a, b);
		if (!ok || !a.n || !(a.sexp > 0))
			continue;
		double ratio = sqrt(a.sdd / a.sexp);
		if (!g.worst[0] || ratio > g.worst_ratio) {
			g.worst_ratio = ratio;
			snprintf(g.worst, sizeof g.worst, "%s", tq->name);
		}
		g.tensors++;
		all.sdd += a.sdd;
		all.sexp += a.sexp;
		all.srr += a.srr;
		all.n += a.n;
		all.within += a.within;
	}
	free(b);
	if (!ok || !g.tensors)
		return MP_OK;
	g.on = true;
	g.values = all.n;
	g.ratio = sqrt(all.sdd / all.sexp);
	g.within = (double)all.within / (double)all.n;
	g.rel_err = all.srr > 0 ? sqrt(all.sdd / all.srr) : 0;
	ftype_of(q, g.ftype);
	bool src_blocked;
	mix_of(s, g.from, sizeof g.from, &src_blocked);
	char sft[16];
	ftype_of(s, sft);
	if (!src_blocked)
		g.from[0] = 0;
	else if (sft[0])
		snprintf(g.from, sizeof g.from, "%s", sft);
	l->ggml = g;
	*hit = true;
	if (g.worst_ratio <= MP_LIN_GGML_RATIO_MAX && !g.other_changed) {
		l->kind = MP_LIN_QUANT;
		l->reversed = reversed;
		l->confidence = g.within >= 0.9 ? "high" : "medium";
	} else if (reversed || l->kind != MP_LIN_FINETUNE) {
		/* nothing the grids explain: leave the verdict as it was */
		l->ggml = (struct mp_lineage_ggml){0};
		*hit = false;
		return MP_OK;
	}
	words(l, reversed, plain);
	return MP_OK;
}

void mp_lineage_ggml_text(const struct mp_lineage_ggml *g, char *buf,
			  size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s%s%s", g->from, g->from[0] ? " -> " : "",
		 g->ftype, g->ftype[0] ? ": " : "", g->mix,
		 g->ftype[0] ? "" : " mix");
}

bool mp_lineage_ggml_json(mp_json *o, const struct mp_lineage_ggml *g,
		     bool reversed)
{
	mp_json *x = mp_json_add_obj(o, "ggml");
	if (!x)
		return false;
	mp_json_add_bool(x, "reversed", reversed);
	mp_json_add_str(x, "types", g->mix);
	if (g->ftype[0])
		mp_json_add_str(x, "file_type", g->ftype);
	else
		mp_json_add_null(x, "file_type");
	if (g->from[0])
		mp_json_add_str(x, "requantized_from", g->from);
	else
		mp_json_add_null(x, "requantized_from");
	mp_json_add_num(x, "tensors", (double)g->tensors);
	mp_json_add_num(x, "values", (double)g->values);
	mp_json_add_num(x, "error_ratio", g->ratio);
	mp_json_add_num(x, "worst_error_ratio", g->worst_ratio);
	mp_json_add_str(x, "worst", g->worst);
	mp_json_add_num(x, "error_ratio_max", MP_LIN_GGML_RATIO_MAX);
	mp_json_add_num(x, "within_half_step", g->within);
	mp_json_add_num(x, "relative_error", g->rel_err);
	mp_json_add_num(x, "other_tensors_changed", (double)g->other_changed);
	return true;
}
