/* sweep.c — the metrics of a bilinear sweep: TN similarity, logit cosine,
 * frequency distributions and their JS divergence, validation accuracy
 * (definitions in sweep.h and man/modelprint-sweep.1). */
#include "sweep.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_real.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mp_sweep *mp_sweep_new(const char *name, uint32_t P, size_t n,
			      const uint32_t *d)
{
	if (P < 2 || P > MP_SWEEP_P_MAX || n == 0)
		return NULL;
	struct mp_sweep *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->P = P;
	s->name = mp_strdup(name ? name : "sweep");
	s->m = calloc(n, sizeof *s->m);
	if (!s->name || !s->m) {
		mp_sweep_free(s);
		return NULL;
	}
	s->n = n;
	for (size_t i = 0; d && i < n; i++) {
		uint64_t lr, dd;
		if (d[i] == 0 || !mp_mul_u64(d[i], 2ull * P, &lr) ||
		    !mp_mul_u64(d[i], P, &dd) || lr > SIZE_MAX / 8) {
			mp_sweep_free(s);
			return NULL;
		}
		s->m[i].d = d[i];
		s->m[i].L = calloc(lr, sizeof(double));
		s->m[i].R = calloc(lr, sizeof(double));
		s->m[i].D = calloc(dd, sizeof(double));
		if (!s->m[i].L || !s->m[i].R || !s->m[i].D) {
			mp_sweep_free(s);
			return NULL;
		}
	}
	return s;
}

void mp_sweep_free(struct mp_sweep *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->m && i < s->n; i++) {
		free(s->m[i].file);
		free(s->m[i].L);
		free(s->m[i].R);
		free(s->m[i].D);
	}
	free(s->m);
	free(s->name);
	free(s);
}

static void *alloc_n(size_t n, size_t size)
{
	return n && size && n <= SIZE_MAX / size ? malloc(n * size) : NULL;
}

mp_status mp_sweep_logits(const struct mp_sweep *s, size_t i, double *out,
			  struct mp_error *err)
{
	const struct mp_sweep_model *m = &s->m[i];
	size_t P = s->P, d = m->d, w = 2 * P;
	double *H = alloc_n(P * d, sizeof *H); /* [b][h] hidden of (a, b) */
	if (!H)
		return mp_error_set(err, MP_ENOMEM,
				    "sweep %s: out of memory for the logits",
				    s->name);
	for (size_t a = 0; a < P; a++) {
		for (size_t b = 0; b < P; b++)
			for (size_t h = 0; h < d; h++)
				H[b * d + h] =
					(m->L[h * w + a] + m->L[h * w + P + b]) *
					(m->R[h * w + a] + m->R[h * w + P + b]);
		/* logits[b][c] = sum_h H[b][h] D[c][h] */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)P,
			    (int)P, (int)d, 1.0, H, (int)d, m->D, (int)d, 0.0,
			    out + a * P * P, (int)P);
	}
	free(H);
	return MP_OK;
}

/* Accuracy from logits [P*P][P]: first argmax against (a+b) mod P. */
static double accuracy_of(const double *lg, size_t P)
{
	size_t right = 0;
	for (size_t a = 0; a < P; a++)
		for (size_t b = 0; b < P; b++) {
			const double *v = lg + (a * P + b) * P;
			size_t best = 0;
			for (size_t c = 1; c < P; c++)
				if (v[c] > v[best])
					best = c;
			right += best == (a + b) % P;
		}
	return (double)right / (double)(P * P);
}

mp_status mp_sweep_accuracy(const struct mp_sweep *s, size_t i, double *acc,
			    struct mp_error *err)
{
	size_t P = s->P;
	double *lg = alloc_n(P * P * P, sizeof *lg);
	if (!lg)
		return mp_error_set(err, MP_ENOMEM,
				    "sweep %s: out of memory for the logits",
				    s->name);
	mp_status st = mp_sweep_logits(s, i, lg, err);
	if (st == MP_OK)
		*acc = accuracy_of(lg, P);
	free(lg);
	return st;
}

mp_status mp_sweep_tn_inner(const struct mp_sweep *s, size_t i, size_t j,
			    double *out, struct mp_error *err)
{
	const struct mp_sweep_model *x = &s->m[i], *y = &s->m[j];
	int d1 = (int)x->d, d2 = (int)y->d, w = 2 * (int)s->P, P = (int)s->P;
	size_t nn = (size_t)x->d * y->d;
	double *buf = alloc_n(nn, 5 * sizeof *buf);
	if (!buf)
		return mp_error_set(err, MP_ENOMEM,
				    "sweep %s: out of memory for TN", s->name);
	double *LL = buf, *RR = buf + nn, *LR = buf + 2 * nn,
	       *RL = buf + 3 * nn, *DD = buf + 4 * nn;
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d1, d2, w, 1.0,
		    x->L, w, y->L, w, 0.0, LL, d2);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d1, d2, w, 1.0,
		    x->R, w, y->R, w, 0.0, RR, d2);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d1, d2, w, 1.0,
		    x->L, w, y->R, w, 0.0, LR, d2);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d1, d2, w, 1.0,
		    x->R, w, y->L, w, 0.0, RL, d2);
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d1, d2, P, 1.0,
		    x->D, d1, y->D, d2, 0.0, DD, d2);
	double sum = 0;
	for (size_t t = 0; t < nn; t++)
		sum += 0.5 * (LL[t] * RR[t] + LR[t] * RL[t]) * DD[t];
	free(buf);
	*out = sum;
	return MP_OK;
}

/* |rfft| of v[0..P) into mag[0..P/2], v destroyed. */
static void rfft_abs(double *v, size_t P, const gsl_fft_real_wavetable *wt,
		     gsl_fft_real_workspace *ws, double *mag)
{
	gsl_fft_real_transform(v, 1, P, wt, ws);
	mag[0] = fabs(v[0]);
	for (size_t k = 1; 2 * k < P; k++)
		mag[k] = hypot(v[2 * k - 1], v[2 * k]);
	if (P % 2 == 0)
		mag[P / 2] = fabs(v[P - 1]);
}

mp_status mp_sweep_freq_dist(const struct mp_sweep *s, size_t i,
			     size_t n_evecs, double *out, struct mp_error *err)
{
	const struct mp_sweep_model *m = &s->m[i];
	size_t P = s->P, w = 2 * P, d = m->d, nk = P / 2 + 1;
	if (n_evecs == 0 || n_evecs > w)
		n_evecs = w;
	double *LD = alloc_n(d * w, sizeof *LD);
	gsl_matrix *B = gsl_matrix_alloc(w, w), *V = gsl_matrix_alloc(w, w);
	gsl_vector *ev = gsl_vector_alloc(w);
	gsl_eigen_symmv_workspace *es = gsl_eigen_symmv_alloc(w);
	gsl_fft_real_wavetable *wt = gsl_fft_real_wavetable_alloc(P);
	gsl_fft_real_workspace *fw = gsl_fft_real_workspace_alloc(P);
	double *v = alloc_n(P, sizeof *v), *mag = alloc_n(nk, sizeof *mag);
	mp_status st = MP_OK;
	gsl_set_error_handler_off();
	if (!LD || !B || !V || !ev || !es || !wt || !fw || !v || !mag) {
		st = mp_error_set(err, MP_ENOMEM,
				  "sweep %s: out of memory for the frequency "
				  "distributions",
				  s->name);
		goto done;
	}
	for (size_t r = 0; r < P && st == MP_OK; r++) {
		/* C = L^T diag(D[r]) R; B = (C + C^T) / 2 */
		for (size_t h = 0; h < d; h++)
			for (size_t t = 0; t < w; t++)
				LD[h * w + t] = m->L[h * w + t] * m->D[r * d + h];
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)w,
			    (int)w, (int)d, 1.0, LD, (int)w, m->R, (int)w, 0.0,
			    B->data, (int)B->tda);
		for (size_t a = 0; a < w; a++)
			for (size_t b = a; b < w; b++) {
				double x = 0.5 * (gsl_matrix_get(B, a, b) +
						  gsl_matrix_get(B, b, a));
				gsl_matrix_set(B, a, b, x);
				gsl_matrix_set(B, b, a, x);
			}
		if (gsl_eigen_symmv(B, ev, V, es) != GSL_SUCCESS ||
		    gsl_eigen_symmv_sort(ev, V, GSL_EIGEN_SORT_ABS_DESC) !=
			    GSL_SUCCESS) {
			st = mp_error_set(err, MP_EUNDEF,
					  "sweep %s: model d=%u: eigen-"
					  "decomposition failed for class %zu",
					  s->name, m->d, r);
			break;
		}
		double *dist = out + r * nk, sum = 0;
		memset(dist, 0, nk * sizeof *dist);
		for (size_t t = 0; t < n_evecs; t++) {
			double lam = fabs(gsl_vector_get(ev, t));
			for (size_t a = 0; a < P; a++)
				v[a] = gsl_matrix_get(V, a, t);
			rfft_abs(v, P, wt, fw, mag);
			for (size_t k = 0; k < nk; k++)
				dist[k] += lam * mag[k];
		}
		for (size_t k = 0; k < nk; k++)
			sum += dist[k];
		if (sum > 0)
			for (size_t k = 0; k < nk; k++)
				dist[k] /= sum;
	}
done:
	free(LD);
	free(v);
	free(mag);
	gsl_matrix_free(B);
	gsl_matrix_free(V);
	gsl_vector_free(ev);
	gsl_eigen_symmv_free(es);
	gsl_fft_real_wavetable_free(wt);
	gsl_fft_real_workspace_free(fw);
	return st;
}

double mp_sweep_js(const double *p, const double *q, size_t nk)
{
	double js = 0;
	for (size_t k = 0; k < nk; k++) {
		double m = fmax(0.5 * (p[k] + q[k]), MP_SWEEP_JS_FLOOR);
		if (p[k] > MP_SWEEP_JS_FLOOR)
			js += 0.5 * p[k] * log(p[k] / m);
		if (q[k] > MP_SWEEP_JS_FLOOR)
			js += 0.5 * q[k] * log(q[k] / m);
	}
	return js;
}

void mp_sweep_result_done(struct mp_sweep_result *res)
{
	free(res->tn);
	free(res->logit);
	free(res->js);
	free(res->acc);
	memset(res, 0, sizeof *res);
}

static mp_status compute_tn(const struct mp_sweep *s, double *tn,
			    struct mp_error *err)
{
	size_t n = s->n;
	double *self = alloc_n(n, sizeof *self);
	if (!self)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_status st = MP_OK;
	for (size_t i = 0; i < n && st == MP_OK; i++)
		st = mp_sweep_tn_inner(s, i, i, &self[i], err);
	for (size_t i = 0; i < n && st == MP_OK; i++)
		for (size_t j = i; j < n && st == MP_OK; j++) {
			double ip = self[i];
			if (j != i)
				st = mp_sweep_tn_inner(s, i, j, &ip, err);
			double den = sqrt(self[i] * self[j]);
			double v = den > 0 ? ip / den : NAN;
			tn[i * n + j] = tn[j * n + i] = v;
		}
	free(self);
	return st;
}

static mp_status compute_logit(const struct mp_sweep *s, double *out,
			       double *acc, struct mp_error *err)
{
	size_t n = s->n, P = s->P, per = P * P * P;
	double *lg = alloc_n(n, per * sizeof *lg);
	double *nrm = alloc_n(n, P * P * sizeof *nrm);
	mp_status st = MP_OK;
	if (!lg || !nrm) {
		st = mp_error_set(err, MP_ENOMEM,
				  "sweep %s: out of memory for the logits of "
				  "%zu models",
				  s->name, n);
		goto done;
	}
	for (size_t i = 0; i < n && st == MP_OK; i++) {
		double *l = lg + i * per;
		st = mp_sweep_logits(s, i, l, err);
		for (size_t x = 0; x < P * P; x++)
			nrm[i * P * P + x] = cblas_dnrm2((int)P, l + x * P, 1);
		if (acc)
			acc[i] = accuracy_of(l, P);
	}
	for (size_t i = 0; i < n && st == MP_OK; i++)
		for (size_t j = i; j < n; j++) {
			double sum = 0;
			for (size_t x = 0; x < P * P; x++) {
				double dot = cblas_ddot((int)P, lg + i * per + x * P,
							1, lg + j * per + x * P, 1);
				double den = nrm[i * P * P + x] *
					     nrm[j * P * P + x];
				sum += dot / fmax(den, MP_SWEEP_LOGIT_EPS);
			}
			out[i * n + j] = out[j * n + i] =
				sum / (double)(P * P);
		}
done:
	free(lg);
	free(nrm);
	return st;
}

static mp_status compute_js(const struct mp_sweep *s, size_t n_evecs,
			    double *js, struct mp_error *err)
{
	size_t n = s->n, P = s->P, nk = P / 2 + 1, per = P * nk;
	double *dist = alloc_n(n, per * sizeof *dist);
	if (!dist)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_status st = MP_OK;
	for (size_t i = 0; i < n && st == MP_OK; i++)
		st = mp_sweep_freq_dist(s, i, n_evecs, dist + i * per, err);
	for (size_t i = 0; i < n && st == MP_OK; i++)
		for (size_t j = i; j < n; j++) {
			double sum = 0;
			for (size_t r = 0; r < P; r++)
				sum += mp_sweep_js(dist + i * per + r * nk,
						   dist + j * per + r * nk, nk);
			js[i * n + j] = js[j * n + i] = sum;
		}
	free(dist);
	return st;
}

mp_status mp_sweep_compute(const struct mp_sweep *s, size_t n_evecs,
			   struct mp_sweep_result *res, struct mp_error *err)
{
	size_t n = s->n;
	memset(res, 0, sizeof *res);
	res->n = n;
	res->tn = alloc_n(n * n, sizeof(double));
	res->logit = alloc_n(n * n, sizeof(double));
	res->js = alloc_n(n * n, sizeof(double));
	res->acc = alloc_n(n, sizeof(double));
	if (!res->tn || !res->logit || !res->js || !res->acc) {
		mp_sweep_result_done(res);
		return mp_error_set(err, MP_ENOMEM,
				    "sweep %s: out of memory for %zu models",
				    s->name, n);
	}
	mp_status st = compute_tn(s, res->tn, err);
	if (st == MP_OK)
		st = compute_logit(s, res->logit, res->acc, err);
	if (st == MP_OK)
		st = compute_js(s, n_evecs, res->js, err);
	if (st != MP_OK)
		mp_sweep_result_done(res);
	return st;
}
