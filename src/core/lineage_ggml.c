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
#include "fingerprint.h"
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

/* One value u of a quantized tensor, with grid spacing s at it, against
 * its source's value r. */
static void add_value(struct gacc *a, double u, double r, double s)
{
	double d = u - r;
	if (!isfinite(d))
		return;
	a->sdd += d * d;
	a->sexp += s * s / 12;
	a->srr += r * r;
	a->n++;
	a->within += fabs(d) <= 0.5 * s * (1 + HALF_TOL) + HALF_TOL * fabs(r);
}

/* Whether x, a value of an unquantized tensor of type dt, is the source's
 * value y, exactly or rounded to dt. */
static bool plain_value(double x, double y, enum mp_dtype dt)
{
	return x == y || x == mp_lineage_round(y, dt) || (isnan(x) && isnan(y));
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
		mp_lineage_side(q, 2, ts, es, (size_t)n, &b->src);
		for (size_t i = 0; i < n; i++)
			add_value(a, b->u[i], b->src.v[i], b->step[i]);
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
		mp_lineage_side(q, 1, tq, eq, (size_t)n, &b->raw);
		mp_lineage_side(q, 2, ts, es, (size_t)n, &b->src);
		for (size_t i = 0; i < n; i++)
			if (!plain_value(b->raw.v[i], b->src.v[i], tq->stored))
				return false;
	}
	return true;
}

/* Parameters per stored type, gathered tensor by tensor. */
enum { MIX_TYPES = 16 };
struct mix {
	const char *name[MIX_TYPES];
	uint64_t cnt[MIX_TYPES], total;
	int nt;
	bool blocked; /* any block-quantized */
};

static void mix_add(struct mix *x, const struct mp_ggml_type_info *g,
		    enum mp_dtype stored, uint64_t numel)
{
	const char *nm = g ? g->name : mp_dtype_name(stored);
	x->blocked |= g && g->block > 1;
	int k = 0;
	while (k < x->nt && strcmp(x->name[k], nm))
		k++;
	if (k == x->nt) {
		if (x->nt == MIX_TYPES)
			return;
		x->name[x->nt] = nm;
		x->cnt[x->nt++] = 0;
	}
	x->cnt[k] += numel;
	x->total += numel;
}

/* x as "Q4_K 95 %, F32 5 %", largest first (consumes x's counts). */
static void mix_text(struct mix *x, char *out, size_t cap)
{
	out[0] = 0;
	for (int done = 0; done < x->nt; done++) {
		int best = -1;
		for (int k = 0; k < x->nt; k++)
			if (x->cnt[k] != UINT64_MAX &&
			    (best < 0 || x->cnt[k] > x->cnt[best]))
				best = k;
		size_t len = strlen(out);
		double pc = x->total ? 100.0 * (double)x->cnt[best] /
					   (double)x->total
				     : 0;
		snprintf(out + len, cap - len, "%s%s %.*f %%", done ? ", " : "",
			 x->name[best], pc < 1 ? 2 : 0, pc);
		x->cnt[best] = UINT64_MAX;
	}
}

/* The mix of m's tensors in out; *blocked gets whether any is
 * block-quantized. */
static void mix_of(const struct mp_model *m, char *out, size_t cap,
		   bool *blocked)
{
	struct mix x = {0};
	for (size_t i = 0; i < m->ntensors; i++)
		mix_add(&x, m->tensors[i].ggml, m->tensors[i].stored,
			m->tensors[i].numel);
	*blocked = x.blocked;
	mix_text(&x, out, cap);
}

/* A general.file_type in llama.cpp's words, "" when absent or unknown. */
static void ftype_of(const struct mp_meta *meta, size_t nmeta, char out[16])
{
	const char *v = mp_meta_get(meta, nmeta, "general.file_type");
	char *end;
	unsigned long ft = v ? strtoul(v, &end, 10) : 0;
	const char *name = v && !*end ? mp_ggml_ftype_name((uint32_t)ft) : NULL;
	snprintf(out, 16, "%s", name ? name : "");
}

/* The source's own quantization, when it is block-quantized (mix x, file
 * type from its metadata): its file type, else its mix; "" otherwise. */
static void source_of(struct mix *x, const struct mp_meta *meta, size_t nmeta,
		      char *from, size_t cap)
{
	char sft[16];
	ftype_of(meta, nmeta, sft);
	if (!x->blocked)
		from[0] = 0;
	else if (sft[0])
		snprintf(from, cap, "%s", sft);
	else
		mix_text(x, from, cap);
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
	char nb[MP_NAME_SHOW + 8], at[96] = "";
	bool fits = l->kind == MP_LIN_QUANT;
	if (g->sketch)
		snprintf(at, sizeof at,
			 " at %llu sketch positions (%s's files not at hand)",
			 (unsigned long long)g->values, ls);
	if (fits)
		l->evidence[0] = 0;
	else
		EV("; ");
	EV("%s's %zu block-quantized tensors (%s%s%s) differ from %s's values%s by %.3g "
	   "times the root-mean-square error that rounding to each block's "
	   "grid leaves (worst %.3g on %s, limit %.2f), %.1f %% of values "
	   "within half a grid step, relative error %.3g",
	   lq, g->tensors, g->mix, g->ftype[0] ? "; file type " : "",
	   g->ftype, ls, at, g->ratio,
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

/* The measurement of one model against its source, tensor by tensor. */
struct gstate {
	struct mp_lineage_ggml g;
	struct gacc all;
	size_t plain; /* unquantized tensors compared */
};

/* Add quantized tensor `name`'s measurement a. */
static void tensor_done(struct gstate *st, const char *name,
			const struct gacc *a)
{
	struct mp_lineage_ggml *g = &st->g;
	if (!a->n || !(a->sexp > 0))
		return;
	double ratio = sqrt(a->sdd / a->sexp);
	if (!g->worst[0] || ratio > g->worst_ratio) {
		g->worst_ratio = ratio;
		snprintf(g->worst, sizeof g->worst, "%s", name);
	}
	g->tensors++;
	st->all.sdd += a->sdd;
	st->all.sexp += a->sexp;
	st->all.srr += a->srr;
	st->all.n += a->n;
	st->all.within += a->within;
}

/* The verdict on st (st->g.mix set; q's metadata qm[nq], the source's
 * types src and metadata sm[ns]): a quantization when every tensor's
 * ratio is at most MP_LIN_GGML_RATIO_MAX and the unquantized tensors are
 * the source's; else, when l says fine-tune, the measurement added to it.
 * *hit tells whether l changed. */
static void decide(struct gstate *st, const struct mp_meta *qm, size_t nq,
		   struct mix *src, const struct mp_meta *sm, size_t ns,
		   bool reversed, struct mp_lineage *l, bool *hit)
{
	struct mp_lineage_ggml g = st->g;
	*hit = false;
	if (!g.tensors)
		return;
	g.on = true;
	g.values = st->all.n;
	g.ratio = sqrt(st->all.sdd / st->all.sexp);
	g.within = (double)st->all.within / (double)st->all.n;
	g.rel_err = st->all.srr > 0 ? sqrt(st->all.sdd / st->all.srr) : 0;
	ftype_of(qm, nq, g.ftype);
	source_of(src, sm, ns, g.from, sizeof g.from);
	if (g.worst_ratio <= MP_LIN_GGML_RATIO_MAX && !g.other_changed) {
		l->kind = MP_LIN_QUANT;
		l->reversed = reversed;
		l->confidence = g.within >= 0.9 ? "high" : "medium";
	} else if (reversed || l->kind != MP_LIN_FINETUNE) {
		return; /* nothing the grids explain: the verdict as it was */
	}
	l->ggml = g;
	*hit = true;
	words(l, reversed, st->plain);
}

mp_status mp_lineage_ggml(const struct mp_model *q, const struct mp_model *s,
			  bool reversed, struct mp_lineage *l, bool *hit,
			  struct mp_error *err)
{
	*hit = false;
	struct gstate st = {0};
	bool blocked;
	mix_of(q, st.g.mix, sizeof st.g.mix, &blocked);
	if (!blocked)
		return MP_OK;
	struct gbuf *b = malloc(sizeof *b);
	if (!b)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    q->path);
	bool ok = true;
	for (size_t i = 0; i < q->ntensors && ok; i++) {
		const struct mp_tensor *tq = &q->tensors[i];
		const struct mp_tensor *ts = mp_model_find(s, tq->name);
		if (!ts || !mp_dtype_is_float(tq->logical) ||
		    !mp_dtype_is_float(ts->logical))
			continue;
		struct mp_lin_qk qk;
		mp_lineage_qk(q, s, tq, ts, &qk);
		if (!qk.transposed && !mp_lineage_shapes_match(tq, ts))
			continue;
		if (!is_blocked(tq)) {
			st.plain++;
			if (!plain_same(tq, ts, &qk, b))
				st.g.other_changed++;
			continue;
		}
		if (!tq->ggml->steps) { /* no grid to measure against */
			ok = false;
			break;
		}
		struct gacc a = {0};
		if ((ok = measure(tq, ts, &qk, &a, b)))
			tensor_done(&st, tq->name, &a);
	}
	free(b);
	if (!ok)
		return MP_OK;
	struct mix src = {0};
	for (size_t i = 0; i < s->ntensors; i++)
		mix_add(&src, s->tensors[i].ggml, s->tensors[i].stored,
			s->tensors[i].numel);
	decide(&st, q->meta, q->nmeta, &src, s->meta, s->nmeta, reversed, l,
	       hit);
	return MP_OK;
}

/* Sampled tensor x of q against the source's values: the quantized
 * values with their spacing into a, or whether the plain values are the
 * source's. */
/* The value x says q's element holds from the source's i-th sampled
 * value: the source's stored value, plus what q's converter added. */
static double sample_ref(const struct mp_lineage_sample *x, size_t i)
{
	double y = x->r[i] + x->r_offset;
	if (x->shift == 0)
		return y;
	y += x->shift;
	return x->r_type == MP_F16 ? mp_lineage_round(y, MP_F16)
				   : (double)(float)y;
}

static void sample_one(const struct mp_lineage_sample *x, struct gacc *a,
		       bool *plain_ok, struct gbuf *b)
{
	const struct mp_tensor *t = x->t;
	const struct mp_ggml_type_info *g = t->ggml;
	uint64_t have = UINT64_MAX; /* the block decoded in b */
	*plain_ok = true;
	for (size_t i = 0; i < x->n; i++) {
		uint64_t e = x->pos[i];
		if (e >= t->numel)
			continue;
		if (!is_blocked(t)) {
			mp_lineage_block(t, e, 1, &b->raw);
			*plain_ok &= plain_value(b->raw.v[0], sample_ref(x, i),
						 t->stored);
			continue;
		}
		uint64_t bi = e / g->block;
		if (bi != have) {
			const uint8_t *raw = mp_tensor_bytes(
			    t, bi * g->bytes, g->bytes, b->raw.scratch);
			g->dequant(raw, b->u, 1);
			g->steps(raw, b->step, 1);
			have = bi;
		}
		add_value(a, b->u[e % g->block], sample_ref(x, i),
			  b->step[e % g->block]);
	}
}

mp_status mp_lineage_ggml_sampled(const struct mp_model *q,
				  const struct mp_lineage_sample *s, size_t ns,
				  const struct mp_fingerprint *src,
				  struct mp_lineage *l, bool *hit,
				  struct mp_error *err)
{
	*hit = false;
	struct gstate st = {.g.sketch = true};
	bool blocked;
	mix_of(q, st.g.mix, sizeof st.g.mix, &blocked);
	if (!blocked)
		return MP_OK;
	struct gbuf *b = malloc(sizeof *b);
	if (!b)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    q->path);
	for (size_t i = 0; i < ns; i++) {
		const struct mp_tensor *t = s[i].t;
		if (is_blocked(t) && !t->ggml->steps) {
			free(b); /* no grid to measure against */
			return MP_OK;
		}
		struct gacc a = {0};
		bool same;
		sample_one(&s[i], &a, &same, b);
		if (is_blocked(t)) {
			tensor_done(&st, t->name, &a);
		} else {
			st.plain++;
			st.g.other_changed += !same;
		}
	}
	free(b);
	struct mix sm = {0};
	for (size_t i = 0; i < src->ntensors; i++)
		mix_add(&sm, src->tensors[i].ggml, src->tensors[i].stored,
			src->tensors[i].numel);
	decide(&st, q->meta, q->nmeta, &sm, src->meta, src->nmeta, false, l,
	       hit);
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
	mp_json_add_bool(x, "sketch_positions", g->sketch);
	mp_json_add_num(x, "error_ratio", g->ratio);
	mp_json_add_num(x, "worst_error_ratio", g->worst_ratio);
	mp_json_add_str(x, "worst", g->worst);
	mp_json_add_num(x, "error_ratio_max", MP_LIN_GGML_RATIO_MAX);
	mp_json_add_num(x, "within_half_step", g->within);
	mp_json_add_num(x, "relative_error", g->rel_err);
	mp_json_add_num(x, "other_tensors_changed", (double)g->other_changed);
	return true;
}
