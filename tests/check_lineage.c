/* check_lineage.c — the relation of two models built here from one random
 * base: copy, F16/BF16 conversions, pruning (50 % magnitude, 2:4, rows),
 * fine-tune, unrelated weights, merges with known coefficients, and
 * models with nothing in common. Expected values are computed here
 * independently (the F16 rounding by the compiler's _Float16, the BF16 one
 * by integer bit arithmetic). */
#include "check_suites.h"
#include "lineage.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NT 3
static const char *const names[NT] = {"layer.w1", "layer.w2", "layer.b"};
static const uint64_t shapes[NT][2] = {{16, 32}, {32, 64}, {64, 1}};
static const int ndims[NT] = {2, 2, 1};

static size_t numel(int t)
{
	return (size_t)(shapes[t][0] * shapes[t][1]);
}

/* Values of one model: NT float arrays. */
struct vals {
	float *v[NT];
};

static void vals_random(struct vals *m, uint64_t seed)
{
	for (int t = 0; t < NT; t++) {
		m->v[t] = malloc(numel(t) * sizeof(float));
		for (size_t i = 0; i < numel(t); i++)
			m->v[t][i] = (float)(0.1 * tu_rand_normal(&seed));
	}
}

static void vals_copy(struct vals *d, const struct vals *s)
{
	for (int t = 0; t < NT; t++) {
		d->v[t] = malloc(numel(t) * sizeof(float));
		memcpy(d->v[t], s->v[t], numel(t) * sizeof(float));
	}
}

static void vals_free(struct vals *m)
{
	for (int t = 0; t < NT; t++)
		free(m->v[t]);
}

static uint16_t f16_bits(float x)
{
	_Float16 h = (_Float16)x; /* the compiler's own rounding */
	uint16_t b;
	memcpy(&b, &h, 2);
	return b;
}

static uint16_t bf16_bits(float x)
{
	uint32_t b;
	memcpy(&b, &x, 4);
	b += 0x7fffu + ((b >> 16) & 1u); /* round to nearest, ties to even */
	return (uint16_t)(b >> 16);
}

/* Write m as dir/file in dtype ("F32", "F16" or "BF16"); order reverses
 * the tensors' order; first_name renames tensor 0; bump adds one unit to
 * the last place of tensor 0's first 16-bit value. */
static struct mp_model *put(const char *dir, const char *file,
			    const struct vals *m, const char *dtype,
			    const char *meta, int order, int bump)
{
	struct tu_tensor tt[NT];
	void *buf[NT];
	for (int t = 0; t < NT; t++) {
		int s = order ? NT - 1 - t : t;
		size_t n = numel(s);
		if (!strcmp(dtype, "F32")) {
			buf[t] = malloc(n * 4);
			memcpy(buf[t], m->v[s], n * 4);
		} else {
			uint16_t *h = malloc(n * 2);
			for (size_t i = 0; i < n; i++)
				h[i] = dtype[0] == 'F' ? f16_bits(m->v[s][i])
						       : bf16_bits(m->v[s][i]);
			if (bump && s == 0)
				h[0]++;
			buf[t] = h;
		}
		tt[t] = (struct tu_tensor){
		    names[s], dtype,
		    ndims[s], {shapes[s][0], shapes[s][1]},
		    buf[t],   n * (strcmp(dtype, "F32") ? 2 : 4)};
	}
	char *p = tu_path(dir, file);
	tu_write_safetensors(p, tt, NT, meta);
	struct mp_model *mo;
	struct mp_error err;
	ck_assert_msg(mp_model_open(p, &mo, &err) == MP_OK, "%s", err.msg);
	for (int t = 0; t < NT; t++)
		free(buf[t]);
	free(p);
	return mo;
}

static void pair(const struct mp_model *u, const struct mp_model *r,
		 struct mp_lineage *l)
{
	struct mp_error err;
	ck_assert_msg(mp_lineage_pair(u, r, l, &err) == MP_OK, "%s", err.msg);
}

static struct vals base;
static char *dir;
static struct mp_model *R;

static void setup(void)
{
	dir = tu_tmpdir();
	vals_random(&base, 42);
	R = put(dir, "base.safetensors", &base, "F32", "\"name\":\"base\"", 0,
		0);
}

static void teardown(void)
{
	mp_model_free(R);
	vals_free(&base);
	tu_rmtree(dir);
	free(dir);
}

START_TEST(test_copy)
{
	struct mp_model *u = put(dir, "other-name.safetensors", &base, "F32",
				 "\"x\":\"y\",\"z\":\"w\"", 1, 0);
	struct mp_lineage l;
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_COPY);
	ck_assert_str_eq(l.confidence, "certain");
	ck_assert_uint_eq(l.matched, NT);
	ck_assert_uint_eq(l.identical, NT);
	ck_assert_ptr_nonnull(strstr(l.evidence, "all 3 matched tensors"));
	mp_model_free(u);
}
END_TEST

START_TEST(test_f16_bf16)
{
	static const char *const dt[2] = {"F16", "BF16"};
	for (int d = 0; d < 2; d++) {
		struct mp_model *u =
		    put(dir, "h.safetensors", &base, dt[d], NULL, 0, 0);
		struct mp_lineage l;
		pair(u, R, &l);
		ck_assert_int_eq(l.kind, MP_LIN_DTYPE);
		ck_assert_int_eq(l.from, MP_F32);
		ck_assert_int_eq(l.to, d ? MP_BF16 : MP_F16);
		ck_assert_str_eq(l.confidence, "certain");
		char want[64];
		snprintf(want, sizeof want,
			 "F32 value of B rounded (to nearest, "
			 "ties to even) to %s;",
			 dt[d]);
		ck_assert_msg(strstr(l.evidence, want), "%s", l.evidence);
		/* the reverse: R's values widened exactly to F32 */
		pair(R, u, &l);
		ck_assert_int_ne(l.kind, MP_LIN_DTYPE);
		/* widening: the half model read as F32 */
		struct vals w;
		vals_copy(&w, &base);
		for (int t = 0; t < NT; t++)
			for (size_t i = 0; i < numel(t); i++) {
				uint16_t b = d ? bf16_bits(w.v[t][i])
					       : f16_bits(w.v[t][i]);
				if (d) {
					uint32_t x = (uint32_t)b << 16;
					memcpy(&w.v[t][i], &x, 4);
				} else {
					_Float16 h;
					memcpy(&h, &b, 2);
					w.v[t][i] = (float)h;
				}
			}
		struct mp_model *wide =
		    put(dir, "w.safetensors", &w, "F32", NULL, 0, 0);
		pair(wide, u, &l);
		ck_assert_int_eq(l.kind, MP_LIN_DTYPE);
		ck_assert_int_eq(l.from, d ? MP_BF16 : MP_F16);
		ck_assert_int_eq(l.to, MP_F32);
		mp_model_free(wide);
		vals_free(&w);
		mp_model_free(u);
		/* one value one unit off: no longer a conversion */
		u = put(dir, "h.safetensors", &base, dt[d], NULL, 0, 1);
		pair(u, R, &l);
		ck_assert_int_ne(l.kind, MP_LIN_DTYPE);
		mp_model_free(u);
	}
}
END_TEST

static int cmp_abs(const void *a, const void *b)
{
	float x = fabsf(*(const float *)a), y = fabsf(*(const float *)b);
	return (x > y) - (x < y);
}

START_TEST(test_prune_magnitude)
{
	struct vals p;
	vals_copy(&p, &base);
	uint64_t zeroed = 0, total = 0;
	for (int t = 0; t < NT; t++) {
		size_t n = numel(t);
		total += n;
		if (t == 2)
			continue; /* the bias keeps its values */
		float *s = malloc(n * sizeof *s);
		memcpy(s, p.v[t], n * sizeof *s);
		qsort(s, n, sizeof *s, cmp_abs);
		float thr = fabsf(s[n / 2]);
		for (size_t i = 0; i < n; i++)
			if (fabsf(p.v[t][i]) < thr) {
				p.v[t][i] = 0;
				zeroed++;
			}
		free(s);
	}
	ck_assert_uint_eq(zeroed, (512 + 2048) / 2);
	struct mp_model *u = put(dir, "p.safetensors", &p, "F32", NULL, 0, 0);
	struct mp_lineage l;
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_PRUNE);
	ck_assert_uint_eq(l.zeroed, zeroed);
	ck_assert_uint_eq(l.values, total);
	ck_assert_double_eq_tol(l.sparsity_added, 1280.0 / 2624.0, 1e-12);
	ck_assert_int_eq(l.structure, MP_PRUNE_UNSTRUCTURED);
	ck_assert_ptr_nonnull(strstr(l.evidence, "48.8 %"));
	ck_assert(!l.reversed);
	/* the other way round: R is the pruned one */
	pair(R, u, &l);
	ck_assert_int_eq(l.kind, MP_LIN_PRUNE);
	ck_assert(l.reversed);
	ck_assert_uint_eq(l.zeroed, zeroed);
	mp_model_free(u);
	vals_free(&p);
}
END_TEST

START_TEST(test_prune_structured)
{
	/* 2:4: the two smallest of each group of 4 along the last axis */
	struct vals p;
	vals_copy(&p, &base);
	for (int t = 0; t < 2; t++)
		for (size_t g = 0; g < numel(t); g += 4) {
			float s[4];
			memcpy(s, p.v[t] + g, sizeof s);
			qsort(s, 4, sizeof *s, cmp_abs);
			for (int i = 0; i < 4; i++)
				if (fabsf(p.v[t][g + i]) <= fabsf(s[1]))
					p.v[t][g + i] = 0;
		}
	struct mp_model *u = put(dir, "p.safetensors", &p, "F32", NULL, 0, 0);
	struct mp_lineage l;
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_PRUNE);
	ck_assert_int_eq(l.structure, MP_PRUNE_2_4);
	ck_assert_ptr_nonnull(strstr(l.evidence, "2:4 along the last axis"));
	ck_assert_uint_eq(l.zeroed, (512 + 2048) / 2);
	mp_model_free(u);
	vals_free(&p);
	/* 4:8: the four smallest of each group of 8 */
	vals_copy(&p, &base);
	for (int t = 0; t < 2; t++)
		for (size_t g = 0; g < numel(t); g += 8) {
			float s[8];
			memcpy(s, p.v[t] + g, sizeof s);
			qsort(s, 8, sizeof *s, cmp_abs);
			for (int i = 0; i < 8; i++)
				if (fabsf(p.v[t][g + i]) <= fabsf(s[3]))
					p.v[t][g + i] = 0;
		}
	u = put(dir, "p.safetensors", &p, "F32", NULL, 0, 0);
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_PRUNE);
	ck_assert_int_eq(l.structure, MP_PRUNE_4_8);
	ck_assert_uint_eq(l.zeroed, (512 + 2048) / 2);
	mp_model_free(u);
	vals_free(&p);
	/* whole rows 0 and 5 of w1 and row 7 of w2 */
	vals_copy(&p, &base);
	memset(p.v[0], 0, 32 * sizeof(float));
	memset(p.v[0] + 5 * 32, 0, 32 * sizeof(float));
	memset(p.v[1] + 7 * 64, 0, 64 * sizeof(float));
	u = put(dir, "p.safetensors", &p, "F32", NULL, 0, 0);
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_PRUNE);
	ck_assert_int_eq(l.structure, MP_PRUNE_ROWS);
	ck_assert_uint_eq(l.zeroed, 128);
	mp_model_free(u);
	vals_free(&p);
	/* whole column 3 of w2 */
	vals_copy(&p, &base);
	for (int i = 0; i < 32; i++)
		p.v[1][i * 64 + 3] = 0;
	u = put(dir, "p.safetensors", &p, "F32", NULL, 0, 0);
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_PRUNE);
	ck_assert_int_eq(l.structure, MP_PRUNE_COLUMNS);
	mp_model_free(u);
	vals_free(&p);
}
END_TEST

START_TEST(test_finetune)
{
	struct vals f;
	vals_copy(&f, &base);
	uint64_t s = 7;
	for (int t = 0; t < NT; t++)
		for (size_t i = 0; i < numel(t); i++)
			f.v[t][i] += (float)((t == 1 ? 0.03 : 0.005) *
					     tu_rand_normal(&s));
	struct mp_model *u = put(dir, "f.safetensors", &f, "F32", NULL, 0, 0);
	struct mp_lineage l;
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_FINETUNE);
	ck_assert_int_eq(l.nmoved, NT);
	ck_assert_str_eq(l.moved[0].name, "layer.w2");
	ck_assert_str_eq(l.worst, "layer.w2");
	/* noise 0.03 on weights of sd 0.1: Pearson 1/sqrt(1.09) = 0.958 */
	ck_assert_double_eq_tol(l.min_pearson, 1 / sqrt(1.09), 0.01);
	ck_assert_double_eq_tol(l.moved[0].rel_l2, 0.3, 0.02);
	ck_assert_str_eq(l.confidence, "medium");
	mp_model_free(u);
	vals_free(&f);
}
END_TEST

START_TEST(test_unrelated)
{
	struct vals o;
	vals_random(&o, 1234);
	struct mp_model *u = put(dir, "o.safetensors", &o, "F32", NULL, 0, 0);
	struct mp_lineage l;
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_UNRELATED);
	ck_assert_uint_eq(l.matched, NT);
	ck_assert(l.mean_abs_pearson < 0.1);
	mp_model_free(u);
	vals_free(&o);
}
END_TEST

static void check_merge(int k, const double *coef)
{
	struct vals p[MP_MERGE_MAX], mix;
	struct mp_model *refs[MP_MERGE_MAX];
	char file[32];
	for (int i = 0; i < k; i++) {
		vals_random(&p[i], 100 + (uint64_t)i);
		snprintf(file, sizeof file, "r%d.safetensors", i);
		refs[i] = put(dir, file, &p[i], "F32", NULL, 0, 0);
	}
	vals_copy(&mix, &p[0]);
	for (int t = 0; t < NT; t++)
		for (size_t v = 0; v < numel(t); v++) {
			double x = 0;
			for (int i = 0; i < k; i++)
				x += coef[i] * p[i].v[t][v];
			mix.v[t][v] = (float)x;
		}
	struct mp_model *u = put(dir, "m.safetensors", &mix, "F32", NULL, 0, 0);
	struct mp_merge m;
	struct mp_error err;
	ck_assert_msg(mp_lineage_merge(u, (const struct mp_model *const *)refs,
				       k, &m, &err) == MP_OK,
		      "%s", err.msg);
	ck_assert_uint_eq(m.ntensors, NT);
	double sum = 0;
	for (int i = 0; i < k; i++) {
		ck_assert_double_eq_tol(m.coef[i], coef[i], 0.02);
		for (size_t t = 0; t < m.ntensors; t++)
			ck_assert_double_eq_tol(m.tensors[t].coef[i], coef[i],
						0.02);
		sum += coef[i];
	}
	ck_assert_int_eq(m.linear, fabs(sum - 1) <= 0.02);
	ck_assert(m.residual < 1e-3);
	mp_merge_free(&m);
	mp_model_free(u);
	vals_free(&mix);
	for (int i = 0; i < k; i++) {
		mp_model_free(refs[i]);
		vals_free(&p[i]);
	}
}

START_TEST(test_merge)
{
	check_merge(2, (const double[]){0.3, 0.7});
	check_merge(3, (const double[]){0.2, 0.5, 0.3});
	/* not linear, and one reference not used at all */
	check_merge(3, (const double[]){0.6, 0.0, 0.8});
}
END_TEST

START_TEST(test_hostile)
{
	/* same names, other shapes */
	struct tu_tensor tt[NT];
	float z[2048] = {0};
	for (int t = 0; t < NT; t++)
		tt[t] = (struct tu_tensor){names[t],	   "F32", 1,
					   {numel(t) / 2}, z,	  numel(t) * 2};
	char *p = tu_path(dir, "s.safetensors");
	tu_write_safetensors(p, tt, NT, NULL);
	struct mp_model *u;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(p, &u, &err), MP_OK);
	struct mp_lineage l;
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_NONE);
	ck_assert_uint_eq(l.shape_differs, NT);
	ck_assert_ptr_nonnull(strstr(l.evidence, "3 share a name"));
	const struct mp_model *refs[2] = {R, R};
	struct mp_merge m;
	ck_assert_int_eq(mp_lineage_merge(u, refs, 2, &m, &err), MP_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "s.safetensors"));
	ck_assert_int_eq(mp_lineage_merge(u, refs, 1, &m, &err), MP_EINVAL);
	mp_model_free(u);
	/* no names in common */
	for (int t = 0; t < NT; t++)
		tt[t].name = t ? "other.x" : "other.y";
	tu_write_safetensors(p, tt, 2, NULL);
	ck_assert_int_eq(mp_model_open(p, &u, &err), MP_OK);
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_NONE);
	ck_assert_uint_eq(l.only_u, 2);
	ck_assert_uint_eq(l.only_r, NT);
	mp_model_free(u);
	free(p);
}
END_TEST

/* Quantization, done here in float arithmetic as numpy would on float32
 * arrays: group g of n values of x (stride 1, or every stride-th value
 * from x) symmetric with qmax, the scale optionally rounded to F16. The
 * largest |U - R| / (max|R| / qmax) goes to *steps. */
static void quant_sym(float *x, size_t n, size_t stride, float qmax, int f16,
		      double *steps)
{
	float m = 0;
	for (size_t i = 0; i < n; i++)
		m = fmaxf(m, fabsf(x[i * stride]));
	float s = m / qmax, d = f16 ? (float)(_Float16)s : s;
	for (size_t i = 0; i < n; i++) {
		float *v = &x[i * stride], q = rintf(*v / s);
		q = fminf(fmaxf(q, -qmax), qmax);
		float u = q * d;
		*steps = fmax(*steps, fabs((double)u - *v) / (m / qmax));
		*v = u;
	}
}

/* Asymmetric per tensor, 255 steps: with an integer zero point (zp) or
 * as min + q s. */
static void quant_asym(float *x, size_t n, int zp, double *steps)
{
	float lo = x[0], hi = x[0];
	for (size_t i = 0; i < n; i++)
		lo = fminf(lo, x[i]), hi = fmaxf(hi, x[i]);
	float s = (hi - lo) / 255, z = rintf(-lo / s);
	for (size_t i = 0; i < n; i++) {
		float u;
		if (zp) {
			float q = fminf(fmaxf(rintf(x[i] / s) + z, 0), 255);
			u = (q - z) * s;
		} else
			u = lo + rintf((x[i] - lo) / s) * s;
		*steps = fmax(*steps, fabs((double)u - x[i]) / s);
		x[i] = u;
	}
}

/* U quantized from base as mode says on tensors 0 and 1 (the bias [64, 1]
 * kept): its relation to R. */
enum qmode { Q_TENSOR, Q_CHANNEL, Q_ASYM, Q_INT4_B32, Q_Q8_0_F16, Q_NOISE };

static struct mp_model *quantized(enum qmode mode, double *steps)
{
	struct vals q;
	vals_copy(&q, &base);
	uint64_t seed = 99;
	*steps = 0;
	for (int t = 0; t < 2; t++) {
		size_t n = numel(t), cols = (size_t)shapes[t][1];
		float *x = q.v[t];
		switch (mode) {
		case Q_TENSOR:
			quant_sym(x, n, 1, 127, 0, steps);
			break;
		case Q_CHANNEL: /* rows: the output axis of safetensors */
			for (size_t r = 0; r < n / cols; r++)
				quant_sym(x + r * cols, cols, 1, 127, 0, steps);
			break;
		case Q_ASYM:
			quant_asym(x, n, t == 0, steps);
			break;
		case Q_INT4_B32:
			for (size_t b = 0; b < n; b += 32)
				quant_sym(x + b, 32, 1, 7, 0, steps);
			break;
		case Q_Q8_0_F16:
			if (t == 1) /* w1 kept: only w2, rows of two blocks */
				for (size_t b = 0; b < n; b += 32)
					quant_sym(x + b, 32, 1, 127, 1, steps);
			break;
		case Q_NOISE: { /* half a step of int8 per tensor, uniform */
			float m = 0;
			for (size_t i = 0; i < n; i++)
				m = fmaxf(m, fabsf(x[i]));
			for (size_t i = 0; i < n; i++) {
				seed = seed * 6364136223846793005u + 1;
				double r = (double)(seed >> 11) * 0x1p-53;
				x[i] += (float)((r - 0.5) * m / 127);
			}
			break;
		}
		}
	}
	struct mp_model *u = put(dir, "q.safetensors", &q, "F32", NULL, 0, 0);
	vals_free(&q);
	return u;
}

START_TEST(test_quant)
{
	static const struct {
		enum qmode mode;
		enum mp_quant_grid grid;
		int bits, block;
		const char *words;
	} c[] = {
	    {Q_TENSOR, MP_QGRID_INT8_TENSOR, 8, 0, "int8 symmetric per tensor"},
	    {Q_CHANNEL, MP_QGRID_INT8_CHANNEL, 8, 0,
	     "int8 symmetric per output channel"},
	    {Q_ASYM, MP_QGRID_INT8_ASYM, 8, 0, "int8 asymmetric per tensor"},
	    {Q_INT4_B32, MP_QGRID_INT4_B32, 4, 32,
	     "int4 symmetric, blocks of 32"},
	    {Q_Q8_0_F16, MP_QGRID_Q8_0, 8, 32,
	     "int8 symmetric, blocks of 32 (ggml Q8_0)"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		double steps;
		struct mp_model *u = quantized(c[i].mode, &steps);
		struct mp_lineage l;
		pair(u, R, &l);
		ck_assert_msg(l.kind == MP_LIN_QUANT, "%zu: %s %s", i,
			      mp_lineage_kind_name(l.kind), l.evidence);
		ck_assert_int_eq(l.grid, c[i].grid);
		ck_assert_str_eq(mp_quant_grid_name(l.grid), c[i].words);
		ck_assert_int_eq(l.qbits, c[i].bits);
		ck_assert_uint_eq(l.qblock, (uint64_t)c[i].block);
		ck_assert(!l.reversed);
		ck_assert_str_eq(l.confidence, "certain");
		/* the bias [64, 1] kept its bytes; only w2 in the Q8_0 case
		 * (w1 kept too) */
		size_t on = c[i].mode == Q_Q8_0_F16 ? 1 : 2;
		ck_assert_uint_eq(l.on_grid, on);
		ck_assert_uint_eq(l.identical, NT - on);
		ck_assert_double_eq_tol(l.max_steps, steps, 1e-3);
		ck_assert(l.max_steps <= 0.5 + 0.07);
		char want[128];
		snprintf(want, sizeof want, "%zu of 3 matched tensors of A lie",
			 on);
		ck_assert_msg(strstr(l.evidence, want), "%s", l.evidence);
		ck_assert_msg(strstr(l.evidence, c[i].words), "%s", l.evidence);
		/* the other way round: R is the quantized one */
		pair(R, u, &l);
		ck_assert_int_eq(l.kind, MP_LIN_QUANT);
		ck_assert(l.reversed);
		ck_assert_int_eq(l.grid, c[i].grid);
		ck_assert_msg(strstr(l.evidence,
				     "tensors of B lie on a grid "
				     "derived from the values of A"),
			      "%s", l.evidence);
		mp_model_free(u);
	}
	/* on the grid of a quantization with per-channel scales, the int4
	 * rows of w1 (32 values: one block) are int4 per channel, w2's
	 * blocks of 32 hold most values */
	double steps;
	struct mp_model *u = quantized(Q_INT4_B32, &steps);
	struct mp_lineage l;
	pair(u, R, &l);
	ck_assert_uint_eq(l.on_grid_by[MP_QGRID_INT4_CHANNEL], 1);
	ck_assert_uint_eq(l.on_grid_by[MP_QGRID_INT4_B32], 1);
	mp_model_free(u);
	/* half a step of noise is on no grid: a fine-tune */
	u = quantized(Q_NOISE, &steps);
	pair(u, R, &l);
	ck_assert_int_eq(l.kind, MP_LIN_FINETUNE);
	mp_model_free(u);
}
END_TEST

/* One value of an int8 quantization moved by one step: still on the grid's
 * points, but no longer R's value re-quantized. */
START_TEST(test_quant_off_by_one)
{
	struct vals q;
	vals_copy(&q, &base);
	double steps = 0;
	float m = 0;
	for (int t = 0; t < 2; t++)
		quant_sym(q.v[t], numel(t), 1, 127, 0, &steps);
	for (size_t i = 0; i < numel(0); i++)
		m = fmaxf(m, fabsf(base.v[0][i]));
	q.v[0][5] += m / 127;
	struct mp_model *u = put(dir, "q.safetensors", &q, "F32", NULL, 0, 0);
	struct mp_lineage l;
	pair(u, R, &l);
	ck_assert_int_ne(l.kind, MP_LIN_QUANT);
	mp_model_free(u);
	vals_free(&q);
	/* one value, 0.05 % off: on the grid of any one-value tensor (its
	 * own maximum, q = 127), which proves nothing */
	float x = 0.5f, y = 0.50025f;
	struct tu_tensor t = {"s", "F32", 1, {1}, &x, 4};
	char *pu = tu_path(dir, "s1.safetensors"), *pr = tu_path(dir, "s2.safetensors");
	tu_write_safetensors(pu, &t, 1, NULL);
	t.data = &y;
	tu_write_safetensors(pr, &t, 1, NULL);
	struct mp_model *a, *b;
	struct mp_error err;
	ck_assert_int_eq(mp_model_open(pu, &a, &err), MP_OK);
	ck_assert_int_eq(mp_model_open(pr, &b, &err), MP_OK);
	pair(a, b, &l);
	ck_assert_int_ne(l.kind, MP_LIN_QUANT);
	mp_model_free(a);
	mp_model_free(b);
	free(pu);
	free(pr);
}
END_TEST

/* A 16-32-24-8 MLP: W1 [32, 16], b1 [32], W2 [24, 32], b2 [24], W3 [8, 24]
 * as safetensors ([out, in]), or its transpose in TF.js ([in, out]). */
#define MLP_T 5
static const char *const mlp_st[MLP_T] = {
    "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight"};
static const char *const mlp_tf[MLP_T] = {"dense/kernel", "dense/bias",
					  "dense_1/kernel", "dense_1/bias",
					  "dense_2/kernel"};
static const uint64_t mlp_shape[MLP_T][2] = {
    {32, 16}, {32, 1}, {24, 32}, {24, 1}, {8, 24}};

static size_t mlp_n(int t)
{
	return (size_t)(mlp_shape[t][0] * mlp_shape[t][1]);
}

/* Write w (each tensor [out][in] row-major) as safetensors file, or as the
 * TF.js model dir/file/model.json with transposed kernels. */
static struct mp_model *put_mlp(const char *file, float *const *w, int tfjs)
{
	char *p = tu_path(dir, file);
	if (!tfjs) {
		struct tu_tensor tt[MLP_T];
		for (int t = 0; t < MLP_T; t++) {
			int nd = mlp_shape[t][1] == 1 ? 1 : 2;
			tt[t] = (struct tu_tensor){
			    mlp_st[t], "F32",
			    nd,	       {mlp_shape[t][0], mlp_shape[t][1]},
			    w[t],      mlp_n(t) * 4};
		}
		tu_write_safetensors(p, tt, MLP_T, NULL);
	} else {
		mkdir(p, 0777);
		char *bin = tu_path(p, "w.bin"), *js = tu_path(p, "model.json");
		char json[2048] =
		    "{\"weightsManifest\":[{\"paths\":[\"w.bin\"],"
		    "\"weights\":[";
		size_t tot = 0;
		for (int t = 0; t < MLP_T; t++)
			tot += mlp_n(t);
		float *all = malloc(tot * 4), *o = all;
		for (int t = 0; t < MLP_T; t++) {
			uint64_t r = mlp_shape[t][0], c = mlp_shape[t][1];
			char one[128];
			if (c == 1)
				snprintf(one, sizeof one,
					 "%s{\"name\":\"%s\",\"shape\":[%llu],"
					 "\"dtype\":\"float32\"}",
					 t ? "," : "", mlp_tf[t],
					 (unsigned long long)r);
			else
				snprintf(one, sizeof one,
					 "%s{\"name\":\"%s\",\"shape\":[%llu,"
					 "%llu],\"dtype\":\"float32\"}",
					 t ? "," : "", mlp_tf[t],
					 (unsigned long long)c,
					 (unsigned long long)r);
			strcat(json, one);
			for (uint64_t i = 0; i < c; i++) /* [in][out] */
				for (uint64_t j = 0; j < r; j++)
					*o++ = w[t][j * c + i];
		}
		strcat(json, "]}]}");
		tu_write_str(js, json);
		tu_write(bin, all, tot * 4);
		free(all);
		free(bin);
		free(js);
	}
	struct mp_model *m;
	struct mp_error err;
	ck_assert_msg(mp_model_open(p, &m, &err) == MP_OK, "%s", err.msg);
	free(p);
	return m;
}

static void shuffle(uint64_t *p, uint64_t n, uint64_t seed)
{
	for (uint64_t i = 0; i < n; i++)
		p[i] = i;
	for (uint64_t i = n - 1; i > 0; i--) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		uint64_t j = (seed >> 33) % (i + 1), x = p[i];
		p[i] = p[j];
		p[j] = x;
	}
}

static uint64_t moved(const uint64_t *p, uint64_t n)
{
	uint64_t m = 0;
	for (uint64_t i = 0; i < n; i++)
		m += p[i] != i;
	return m;
}

START_TEST(test_permuted)
{
	float *w[MLP_T], *v[MLP_T];
	uint64_t s = 5;
	for (int t = 0; t < MLP_T; t++) {
		w[t] = malloc(mlp_n(t) * 4);
		v[t] = malloc(mlp_n(t) * 4);
		for (size_t i = 0; i < mlp_n(t); i++)
			w[t][i] = (float)(0.1 * tu_rand_normal(&s));
	}
	w[1][7] = w[1][3]; /* b1 has two equal values */
	/* hidden layer 1 (32 units) by p1, layer 2 (24 units) by p2: U's
	 * unit i is R's unit p[i] */
	uint64_t p1[32], p2[24];
	shuffle(p1, 32, 11);
	shuffle(p2, 24, 12);
	for (int i = 0; i < 32; i++) {
		memcpy(v[0] + i * 16, w[0] + p1[i] * 16, 16 * 4);
		v[1][i] = w[1][p1[i]];
	}
	for (int i = 0; i < 24; i++) {
		for (int j = 0; j < 32; j++)
			v[2][i * 32 + j] = w[2][p2[i] * 32 + p1[j]];
		v[3][i] = w[3][p2[i]];
	}
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 24; j++)
			v[4][i * 24 + j] = w[4][i * 24 + p2[j]];
	for (int tf = 0; tf < 2; tf++) {
		struct mp_model *r = put_mlp(tf ? "r" : "r.safetensors", w, tf);
		struct mp_model *u = put_mlp(tf ? "u" : "u.safetensors", v, tf);
		const char *const *nm = tf ? mlp_tf : mlp_st;
		struct mp_lineage l;
		pair(u, r, &l);
		ck_assert_msg(l.kind == MP_LIN_PERMUTED, "%s: %s",
			      mp_lineage_kind_name(l.kind), l.evidence);
		ck_assert_str_eq(l.confidence, "certain");
		ck_assert_int_eq(l.nperm_all, 2);
		ck_assert_int_eq(l.nperm, 2);
		ck_assert_uint_eq(l.permuted, MLP_T);
		/* layer 1: rows of W1, b1, columns of W2 (safetensors);
		 * columns of W1, b1, rows of W2 (TF.js) */
		const struct mp_lineage_perm *a = &l.perm[0], *b = &l.perm[1];
		ck_assert_uint_eq(a->units, 32);
		ck_assert_uint_eq(a->moved, moved(p1, 32));
		ck_assert_uint_eq(a->ntensors, 3);
		ck_assert_str_eq(a->tensor[0], nm[0]);
		ck_assert_int_eq(a->axis[0], tf);
		ck_assert_str_eq(a->tensor[1], nm[1]);
		ck_assert_int_eq(a->axis[1], 0);
		ck_assert_str_eq(a->tensor[2], nm[2]);
		ck_assert_int_eq(a->axis[2], !tf);
		for (int i = 0; i < MP_LIN_PERM_SHOW; i++)
			ck_assert_uint_eq(a->first[i], p1[i]);
		ck_assert_uint_eq(b->units, 24);
		ck_assert_uint_eq(b->moved, moved(p2, 24));
		ck_assert_uint_eq(b->ntensors, 3);
		ck_assert_str_eq(b->tensor[0], nm[2]);
		ck_assert_int_eq(b->axis[0], tf);
		ck_assert_str_eq(b->tensor[2], nm[4]);
		ck_assert_int_eq(b->axis[2], !tf);
		char want[128];
		snprintf(want, sizeof want, "p = %llu %llu ",
			 (unsigned long long)p1[0], (unsigned long long)p1[1]);
		ck_assert_msg(strstr(l.evidence, want), "%s", l.evidence);
		/* the whole permutations */
		uint64_t *full, n;
		struct mp_error err;
		ck_assert_int_eq(
		    mp_lineage_permutation(u, r, 1, &full, &n, &err), MP_OK);
		ck_assert_uint_eq(n, 24);
		for (int i = 0; i < 24; i++)
			ck_assert_uint_eq(full[i], p2[i]);
		free(full);
		ck_assert_int_eq(
		    mp_lineage_permutation(u, r, 2, &full, &n, &err),
		    MP_ENOENT);
		ck_assert_ptr_null(full);
		/* R is no permutation of itself */
		ck_assert_int_eq(
		    mp_lineage_permutation(r, r, 0, &full, &n, &err),
		    MP_ENOENT);
		pair(r, r, &l);
		ck_assert_int_eq(l.kind, MP_LIN_COPY);
		mp_model_free(u);
		mp_model_free(r);
	}
	/* one value of b2 changed as well: no longer a permutation */
	v[3][0] += 0.25f;
	struct mp_model *r = put_mlp("r.safetensors", w, 0);
	struct mp_model *u = put_mlp("u.safetensors", v, 0);
	struct mp_lineage l;
	pair(u, r, &l);
	ck_assert_int_ne(l.kind, MP_LIN_PERMUTED);
	/* rows of W1 alone permuted (b1 and W2 kept): one permutation on one
	 * tensor */
	mp_model_free(u);
	for (int t = 1; t < MLP_T; t++)
		memcpy(v[t], w[t], mlp_n(t) * 4);
	u = put_mlp("u.safetensors", v, 0);
	pair(u, r, &l);
	ck_assert_int_eq(l.kind, MP_LIN_PERMUTED);
	ck_assert_int_eq(l.nperm_all, 1);
	ck_assert_uint_eq(l.permuted, 1);
	ck_assert_uint_eq(l.perm[0].ntensors, 1);
	ck_assert_ptr_nonnull(strstr(l.evidence, "rows of fc1.weight"));
	mp_model_free(u);
	mp_model_free(r);
	for (int t = 0; t < MLP_T; t++) {
		free(w[t]);
		free(v[t]);
	}
}
END_TEST

/* Per output channel in both layouts: the rows of [out, in] are the first
 * axis in safetensors and the last in TF.js; per input channel is no
 * per-channel grid in either. Biases kept. */
START_TEST(test_quant_channel_layouts)
{
	float *w[MLP_T], *v[MLP_T];
	uint64_t s = 21;
	for (int by_in = 0; by_in < 2; by_in++)
		for (int tf = 0; tf < 2; tf++) {
			double steps = 0;
			for (int t = 0; t < MLP_T; t++) {
				w[t] = malloc(mlp_n(t) * 4);
				v[t] = malloc(mlp_n(t) * 4);
				for (size_t i = 0; i < mlp_n(t); i++)
					v[t][i] = w[t][i] =
					    (float)(0.1 * tu_rand_normal(&s));
				size_t r = (size_t)mlp_shape[t][0],
				       c = (size_t)mlp_shape[t][1];
				if (c == 1)
					continue;
				if (!by_in)
					for (size_t i = 0; i < r; i++)
						quant_sym(v[t] + i * c, c, 1,
							  127, 0, &steps);
				else
					for (size_t j = 0; j < c; j++)
						quant_sym(v[t] + j, r, c, 127,
							  0, &steps);
			}
			struct mp_model *r =
			    put_mlp(tf ? "r" : "r.safetensors", w, tf);
			struct mp_model *u =
			    put_mlp(tf ? "u" : "u.safetensors", v, tf);
			struct mp_lineage l;
			pair(u, r, &l);
			if (!by_in) {
				ck_assert_msg(l.kind == MP_LIN_QUANT, "%s",
					      l.evidence);
				ck_assert_int_eq(l.grid, MP_QGRID_INT8_CHANNEL);
				ck_assert_uint_eq(l.on_grid, 3);
				ck_assert_double_eq_tol(l.max_steps, steps,
							1e-3);
			} else
				ck_assert_int_ne(l.kind, MP_LIN_QUANT);
			mp_model_free(u);
			mp_model_free(r);
			for (int t = 0; t < MLP_T; t++) {
				free(w[t]);
				free(v[t]);
			}
		}
}
END_TEST

/* A convolution's output channels (and bias) and the next one's input
 * channels permuted: [out, in, h, w] (PyTorch: axes 0 and 1) and
 * [h, w, in, out] (TF: axes 3 and 2). */
START_TEST(test_permuted_conv)
{
	enum { C0 = 3, C1 = 8, C2 = 4, K = 9 };
	static const uint64_t pt[2][4] = {{C1, C0, 3, 3}, {C2, C1, 3, 3}};
	static const uint64_t tf[2][4] = {{3, 3, C0, C1}, {3, 3, C1, C2}};
	float w1[C1 * C0 * K], w2[C2 * C1 * K], b[C1];
	float v1[C1 * C0 * K], v2[C2 * C1 * K], c[C1];
	uint64_t s = 77, p[C1];
	shuffle(p, C1, 3);
	for (int i = 0; i < C1 * C0 * K; i++)
		w1[i] = (float)tu_rand_normal(&s);
	for (int i = 0; i < C2 * C1 * K; i++)
		w2[i] = (float)tu_rand_normal(&s);
	for (int i = 0; i < C1; i++)
		b[i] = (float)tu_rand_normal(&s);
	for (int i = 0; i < C1; i++)
		c[i] = b[p[i]];
	for (int lay = 0; lay < 2; lay++) {
		/* element (o, i, k) of a kernel in either layout */
#define AT(o, i, k, ci, co)                                                    \
	(lay ? ((k) * (ci) + (i)) * (co) + (o) : ((o) * (ci) + (i)) * K + (k))
		for (int o = 0; o < C1; o++)
			for (int i = 0; i < C0; i++)
				for (int k = 0; k < K; k++)
					v1[AT(o, i, k, C0, C1)] =
					    w1[AT(p[o], i, k, C0, C1)];
		for (int o = 0; o < C2; o++)
			for (int i = 0; i < C1; i++)
				for (int k = 0; k < K; k++)
					v2[AT(o, i, k, C1, C2)] =
					    w2[AT(o, p[i], k, C1, C2)];
#undef AT
		const uint64_t(*sh)[4] = lay ? tf : pt;
		struct tu_tensor tt[3] = {
		    {"b", "F32", 1, {C1}, b, sizeof b},
		    {"conv1",
		     "F32",
		     4,
		     {sh[0][0], sh[0][1], sh[0][2], sh[0][3]},
		     w1,
		     sizeof w1},
		    {"conv2",
		     "F32",
		     4,
		     {sh[1][0], sh[1][1], sh[1][2], sh[1][3]},
		     w2,
		     sizeof w2}};
		char *pr = tu_path(dir, "cr.safetensors"),
		     *pu = tu_path(dir, "cu.safetensors");
		tu_write_safetensors(pr, tt, 3, NULL);
		tt[0].data = c, tt[1].data = v1, tt[2].data = v2;
		tu_write_safetensors(pu, tt, 3, NULL);
		struct mp_model *r, *u;
		struct mp_error err;
		ck_assert_int_eq(mp_model_open(pr, &r, &err), MP_OK);
		ck_assert_int_eq(mp_model_open(pu, &u, &err), MP_OK);
		struct mp_lineage l;
		pair(u, r, &l);
		ck_assert_msg(l.kind == MP_LIN_PERMUTED, "%d: %s", lay,
			      l.evidence);
		ck_assert_int_eq(l.nperm_all, 1);
		ck_assert_uint_eq(l.perm[0].ntensors, 3);
		ck_assert_int_eq(l.perm[0].axis[0], 0);
		ck_assert_int_eq(l.perm[0].axis[1], lay ? 3 : 0);
		ck_assert_int_eq(l.perm[0].axis[2], lay ? 2 : 1);
		for (int i = 0; i < C1; i++)
			ck_assert_uint_eq(l.perm[0].first[i], p[i]);
		char want[64];
		snprintf(want, sizeof want, "axis %d of conv2", lay ? 2 : 1);
		ck_assert_msg(strstr(l.evidence, want), "%s", l.evidence);
		mp_model_free(u);
		mp_model_free(r);
		free(pr);
		free(pu);
	}
}
END_TEST

START_TEST(test_round)
{
	/* 1 + 2^-11 is halfway between two F16 values: ties to even (1) */
	ck_assert(mp_lineage_round(1 + 0x1p-11, MP_F16) == 1);
	ck_assert(mp_lineage_round(1 + 3 * 0x1p-11, MP_F16) == 1 + 0x1p-9);
	ck_assert(mp_lineage_round(65520, MP_F16) == INFINITY);
	ck_assert(mp_lineage_round(65519, MP_F16) == 65504);
	ck_assert(mp_lineage_round(0x1p-25, MP_F16) == 0); /* tie: even */
	ck_assert(mp_lineage_round(0x1.8p-25, MP_F16) ==
		  0x1p-24); /* subnormal */
	ck_assert(mp_lineage_round(1 + 0x1p-8, MP_BF16) == 1);
}
END_TEST

Suite *suite_lineage(void)
{
	Suite *s = suite_create("lineage");
	TCase *tc = tcase_create("lineage");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_f16_bf16);
	tcase_add_test(tc, test_prune_magnitude);
	tcase_add_test(tc, test_prune_structured);
	tcase_add_test(tc, test_finetune);
	tcase_add_test(tc, test_unrelated);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_round);
	tcase_add_test(tc, test_quant);
	tcase_add_test(tc, test_quant_off_by_one);
	tcase_add_test(tc, test_permuted);
	tcase_add_test(tc, test_quant_channel_layouts);
	tcase_add_test(tc, test_permuted_conv);
	suite_add_tcase(s, tc);
	return s;
}
