/* lineage_quant.c — is U a quantized copy of R: its values, stored as
 * floats, on a grid derived from R's values (see lineage_int.h)?
 *
 * The grids, tried on each tensor in the order of enum mp_quant_grid (the
 * first that fits names the tensor's grid), with q the integer code:
 *   symmetric (int8 qmax 127, int4 qmax 7), per tensor, per output channel
 *   (rows of the first axis; of the last in TF.js, whose kernels are
 *   stored input-first) or per block of 32 along the last axis: step s =
 *   max|R| / qmax over the group, U = q s with q = round(R / s) in
 *   [-qmax, qmax];
 *   asymmetric per tensor: s = (max R - min R) / 255, either with an
 *   integer zero point z = round(-min R / s), U = (q - z) s, q in [0, 255]
 *   (PyTorch, ONNX), or U = min R + q s.
 * A tensor is on a grid when every value of U is an integer multiple q of
 * the step (off the offset) within MP_LIN_QUANT_TOL step plus one unit in
 * the last place of U's type, and q is R's value re-quantized: |q - R / s|
 * at most 1/2 + MP_LIN_QUANT_TOL (clamped to the code range). For a
 * symmetric grid the step is read from U (its largest |value| / qmax) and
 * must equal R's within MP_LIN_QUANT_SCALE_TOL, so a scale stored as F16
 * (ggml) passes; noise of half a step is off every grid. Tensors with
 * identical bytes (biases kept in float) do not count against the
 * verdict; any other matched tensor off every grid means no
 * quantization. The values at a group's extremes (q = +-qmax, 0 or 255)
 * are on every grid by construction: at least MP_LIN_QUANT_MIN_INSIDE
 * codes strictly inside the range must back the verdict (a chance value
 * lands within the tolerance with probability 2 * MP_LIN_QUANT_TOL, so
 * 8 of them leave no doubt; a one-value tensor that barely moved is no
 * quantization). */
#include "lineage_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum gmode { G_TENSOR, G_ASYM, G_CHANNEL, G_BLOCK };

static const struct {
	const char *name;
	int bits;
	double qmax;
	uint64_t block;
	enum gmode mode;
} grids[MP_QGRID_N] = {
    {"int8 symmetric per tensor", 8, 127, 0, G_TENSOR},
    {"int8 asymmetric per tensor", 8, 255, 0, G_ASYM},
    {"int8 symmetric per output channel", 8, 127, 0, G_CHANNEL},
    {"int4 symmetric per output channel", 4, 7, 0, G_CHANNEL},
    {"int8 symmetric, blocks of 32 (ggml Q8_0)", 8, 127, 32, G_BLOCK},
    {"int4 symmetric, blocks of 32", 4, 7, 32, G_BLOCK},
};

const char *mp_quant_grid_name(enum mp_quant_grid g)
{
	return (unsigned)g < MP_QGRID_N ? grids[g].name : "?";
}

int mp_quant_grid_bits(enum mp_quant_grid g)
{
	return (unsigned)g < MP_QGRID_N ? grids[g].bits : 0;
}

uint64_t mp_quant_grid_block(enum mp_quant_grid g)
{
	return (unsigned)g < MP_QGRID_N ? grids[g].block : 0;
}

/* One candidate code: U = off + q s, q in [lo, hi]. */
struct code {
	double s, sr, off, lo, hi;
};

static double ulp(double x, int prec)
{
	return x == 0 || !prec ? 0 : ldexp(1.0, ilogb(x) - (prec - 1));
}

/* What the values on one grid show: the largest |U - R| / step, and how
 * many codes lie strictly inside the range (the group's extremes are on
 * any grid: they tell nothing). */
struct fitst {
	double steps;
	uint64_t inside;
};

/* Whether x (U's value) is on code c and its integer is y (R's value)
 * re-quantized. */
static bool fits(const struct code *c, double x, double y, int prec,
		 struct fitst *f)
{
	if (c->s == 0)
		return x == 0 && y == 0;
	double q = nearbyint((x - c->off) / c->s);
	if (q < c->lo || q > c->hi ||
	    fabs(x - c->off - q * c->s) >
		MP_LIN_QUANT_TOL * c->s + ulp(x, prec))
		return false;
	double t1 = fmin(fmax((y - c->off) / c->sr, c->lo), c->hi);
	double t2 = fmin(fmax((y - c->off) / c->s, c->lo), c->hi);
	if (fmin(fabs(q - t1), fabs(q - t2)) > 0.5 + MP_LIN_QUANT_TOL)
		return false;
	double d = fabs(x - y) / c->s;
	if (d > f->steps)
		f->steps = d;
	f->inside += q > c->lo && q < c->hi;
	return true;
}

/* A symmetric code from the largest |U| and |R| of a group; false when the
 * steps differ. */
static bool sym_code(double mu, double mr, double qmax, struct code *c)
{
	*c = (struct code){mu / qmax, mr / qmax, 0, -qmax, qmax};
	return fabs(c->s - c->sr) <= MP_LIN_QUANT_SCALE_TOL * c->sr;
}

/* The state of every grid on one tensor pair. */
struct qt {
	bool ok[MP_QGRID_N];
	struct fitst fs[MP_QGRID_N];
	double mu, mr, rmin, rmax; /* max|U|, max|R|, min R, max R */
	double *cu, *cr;	   /* [nch] max|U|, max|R| per channel */
	uint64_t nch, inner;	   /* channels; values per row (first axis) */
	bool last;		   /* channel is the last axis */
	struct code asym[2];
	bool asym_ok[2];
	struct fitst afs[2];
	int prec;
};

static uint64_t channel(const struct qt *t, uint64_t e)
{
	return t->last ? e % t->nch : e / t->inner;
}

/* Pass 1: the maxima; the block grids are decided here. */
static void pass1(struct qt *t, const struct mp_tensor *tq,
		  const struct mp_tensor *ts, struct mp_lin_block *bq,
		  struct mp_lin_block *bs)
{
	for (uint64_t e0 = 0; e0 < tq->numel; e0 += MP_LIN_BLK) {
		size_t n = tq->numel - e0 < MP_LIN_BLK
			       ? (size_t)(tq->numel - e0)
			       : MP_LIN_BLK;
		mp_lineage_block(tq, e0, n, bq);
		mp_lineage_block(ts, e0, n, bs);
		for (size_t i = 0; i < n; i++) {
			double x = bq->v[i], y = bs->v[i];
			if (!isfinite(x) || !isfinite(y)) {
				memset(t->ok, 0, sizeof t->ok);
				return;
			}
			t->mu = fmax(t->mu, fabs(x));
			t->mr = fmax(t->mr, fabs(y));
			t->rmin = e0 + i ? fmin(t->rmin, y) : y;
			t->rmax = e0 + i ? fmax(t->rmax, y) : y;
			if (t->cu) {
				uint64_t c = channel(t, e0 + i);
				t->cu[c] = fmax(t->cu[c], fabs(x));
				t->cr[c] = fmax(t->cr[c], fabs(y));
			}
		}
		/* blocks of 32: MP_LIN_BLK is a multiple of 32 and the rows
		 * are, so each block lies in this read */
		for (int g = 0; g < MP_QGRID_N; g++) {
			if (grids[g].mode != G_BLOCK || !t->ok[g])
				continue;
			for (size_t b = 0; b < n && t->ok[g]; b += 32) {
				double mu = 0, mr = 0;
				for (size_t i = b; i < b + 32; i++) {
					mu = fmax(mu, fabs(bq->v[i]));
					mr = fmax(mr, fabs(bs->v[i]));
				}
				struct code c;
				t->ok[g] = sym_code(mu, mr, grids[g].qmax, &c);
				for (size_t i = b; i < b + 32 && t->ok[g]; i++)
					t->ok[g] = fits(&c, bq->v[i], bs->v[i],
							t->prec, &t->fs[g]);
			}
		}
	}
}

/* Whether a grid of pass 2 still fits. */
static bool open_grids(const struct qt *t)
{
	if (t->ok[MP_QGRID_INT8_TENSOR] || t->asym_ok[0] || t->asym_ok[1])
		return true;
	for (int g = 0; g < MP_QGRID_N; g++)
		if (grids[g].mode == G_CHANNEL && t->ok[g])
			return true;
	return false;
}

/* Pass 2: per tensor and per channel grids, on the maxima of pass 1. */
static void pass2(struct qt *t, const struct mp_tensor *tq,
		  const struct mp_tensor *ts, struct mp_lin_block *bq,
		  struct mp_lin_block *bs)
{
	struct code ct[MP_QGRID_N];
	if (t->ok[MP_QGRID_INT8_TENSOR])
		t->ok[MP_QGRID_INT8_TENSOR] =
		    sym_code(t->mu, t->mr, 127, &ct[MP_QGRID_INT8_TENSOR]);
	double s = (t->rmax - t->rmin) / 255;
	t->asym_ok[0] = t->asym_ok[1] = t->ok[MP_QGRID_INT8_ASYM] && s > 0;
	if (s > 0) {
		double z = nearbyint(-t->rmin / s);
		t->asym[0] = (struct code){s, s, -z * s, 0, 255};
		t->asym[1] = (struct code){s, s, t->rmin, 0, 255};
	}
	for (uint64_t e0 = 0; e0 < tq->numel && open_grids(t);
	     e0 += MP_LIN_BLK) {
		size_t n = tq->numel - e0 < MP_LIN_BLK
			       ? (size_t)(tq->numel - e0)
			       : MP_LIN_BLK;
		mp_lineage_block(tq, e0, n, bq);
		mp_lineage_block(ts, e0, n, bs);
		for (size_t i = 0; i < n; i++) {
			double x = bq->v[i], y = bs->v[i];
			int g = MP_QGRID_INT8_TENSOR;
			if (t->ok[g])
				t->ok[g] =
				    fits(&ct[g], x, y, t->prec, &t->fs[g]);
			for (int a = 0; a < 2; a++)
				if (t->asym_ok[a])
					t->asym_ok[a] =
					    fits(&t->asym[a], x, y, t->prec,
						 &t->afs[a]);
			for (g = 0; g < MP_QGRID_N; g++) {
				if (grids[g].mode != G_CHANNEL || !t->ok[g])
					continue;
				uint64_t c = channel(t, e0 + i);
				struct code cc;
				t->ok[g] = sym_code(t->cu[c], t->cr[c],
						    grids[g].qmax, &cc) &&
					   fits(&cc, x, y, t->prec, &t->fs[g]);
			}
		}
	}
	int g = MP_QGRID_INT8_ASYM, a = t->asym_ok[0] ? 0 : 1;
	t->ok[g] = t->asym_ok[a];
	t->fs[g] = t->afs[a];
}

/* The first grid tq (a quantized ts) is on, or -1. */
static int tensor_grid(const struct mp_tensor *tq, const struct mp_tensor *ts,
		       struct mp_lin_block *b, struct fitst *f, bool *nomem)
{
	struct qt t = {.prec = mp_lineage_precision(tq)};
	for (int g = 0; g < MP_QGRID_N; g++)
		t.ok[g] = true;
	uint64_t cols = tq->ndim ? tq->shape[tq->ndim - 1] : 1;
	if (!tq->numel || cols % 32)
		t.ok[MP_QGRID_Q8_0] = t.ok[MP_QGRID_INT4_B32] = false;
	if (tq->ndim >= 2 && tq->numel) {
		t.last = tq->output_last;
		t.nch = t.last ? cols : tq->shape[0];
		t.inner = tq->numel / tq->shape[0];
		t.cu = calloc(t.nch, sizeof *t.cu);
		t.cr = calloc(t.nch, sizeof *t.cr);
		if (!t.cu || !t.cr) {
			free(t.cu);
			free(t.cr);
			*nomem = true;
			return -1;
		}
	} else
		t.ok[MP_QGRID_INT8_CHANNEL] = t.ok[MP_QGRID_INT4_CHANNEL] =
		    false;
	pass1(&t, tq, ts, &b[0], &b[1]);
	bool any = false;
	for (int g = 0; g < MP_QGRID_N; g++)
		any = any || (t.ok[g] && grids[g].mode != G_BLOCK);
	if (any)
		pass2(&t, tq, ts, &b[0], &b[1]);
	free(t.cu);
	free(t.cr);
	for (int g = 0; g < MP_QGRID_N; g++)
		if (t.ok[g]) {
			*f = t.fs[g];
			return g;
		}
	return -1;
}

#define EV(...)                                                                \
	snprintf(l->evidence + strlen(l->evidence),                            \
		 sizeof l->evidence - strlen(l->evidence), __VA_ARGS__)

/* The grid holding most values names the model's. */
static void verdict(struct mp_lineage *l, bool reversed, const size_t *by,
		    const uint64_t *vals, size_t on, double steps)
{
	const char *la = reversed ? "B" : "A", *lb = reversed ? "A" : "B";
	int best = 0;
	for (int g = 1; g < MP_QGRID_N; g++)
		if (vals[g] > vals[best])
			best = g;
	l->kind = MP_LIN_QUANT;
	l->reversed = reversed;
	l->grid = (enum mp_quant_grid)best;
	l->qbits = grids[best].bits;
	l->qblock = grids[best].block;
	l->on_grid = on;
	memcpy(l->on_grid_by, by, sizeof l->on_grid_by);
	l->max_steps = steps;
	l->confidence =
	    l->only_u || l->only_r || l->shape_differs ? "high" : "certain";
	l->evidence[0] = 0;
	EV("%zu of %zu matched tensors of %s lie on a grid derived from the "
	   "values of %s (",
	   on, l->matched, la, lb);
	const char *sep = "";
	for (int g = 0; g < MP_QGRID_N; g++)
		if (by[g]) {
			EV("%s%zu %s", sep, by[g], grids[g].name);
			sep = ", ";
		}
	EV("): every value of %s is an integer multiple of the step within "
	   "%g step and that integer is the value of %s re-quantized; largest "
	   "|%s - %s| %.4f step; %zu tensors have identical bytes",
	   la, MP_LIN_QUANT_TOL, lb, la, lb, steps, l->identical);
	mp_lineage_suffix(l, "A", "B");
}

mp_status mp_lineage_quant(const struct mp_model *q, const struct mp_model *s,
			   bool reversed, struct mp_lineage *l, bool *hit,
			   struct mp_error *err)
{
	*hit = false;
	struct mp_lin_block *b = malloc(2 * sizeof *b);
	if (!b)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    q->path);
	size_t by[MP_QGRID_N] = {0}, on = 0;
	uint64_t vals[MP_QGRID_N] = {0}, inside = 0;
	double steps = 0;
	bool nomem = false, off = false;
	for (size_t i = 0; i < q->ntensors && !off; i++) {
		const struct mp_tensor *tq = &q->tensors[i];
		const struct mp_tensor *ts = mp_model_find(s, tq->name);
		if (!ts || !mp_lineage_shapes_match(tq, ts) ||
		    mp_lineage_same_bytes(tq, ts, &b[0], &b[1]))
			continue;
		if (!mp_dtype_is_float(tq->logical) ||
		    !mp_dtype_is_float(ts->logical)) {
			off = true;
			break;
		}
		struct fitst f = {0, 0};
		int g = tensor_grid(tq, ts, b, &f, &nomem);
		if (g < 0) {
			off = true;
			break;
		}
		by[g]++;
		vals[g] += tq->numel;
		on++;
		steps = fmax(steps, f.steps);
		inside += f.inside;
	}
	free(b);
	if (nomem)
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
				    q->path);
	if (!off && on && inside >= MP_LIN_QUANT_MIN_INSIDE) {
		*hit = true;
		verdict(l, reversed, by, vals, on, steps);
	}
	return MP_OK;
}
