/* sweep.c — the metrics of a bilinear sweep: TN similarity, logit cosine,
 * frequency distributions and their JS divergence, validation accuracy
 * (definitions in sweep.h and man/modelprint-sweep.1). */
#include "sweep.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_real.h>
#include <gsl/gsl_linalg.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The logits of the P inputs (a, 0..P) into out[b*P + c]; H is scratch
 * of P * d values. */
static void logits_a(const struct mp_sweep_model *m, size_t P, size_t a,
		     double *H, double *out)
{
	size_t d = m->d, w = 2 * P;
	for (size_t b = 0; b < P; b++)
		for (size_t h = 0; h < d; h++)
			H[b * d + h] = (m->L[h * w + a] + m->L[h * w + P + b]) *
				       (m->R[h * w + a] + m->R[h * w + P + b]);
	/* logits[b][c] = sum_h H[b][h] D[c][h] */
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)P, (int)P,
		    (int)d, 1.0, H, (int)d, m->D, (int)d, 0.0, out, (int)P);
}

mp_status mp_sweep_logits(const struct mp_sweep *s, size_t i, double *out,
			  struct mp_error *err)
{
	size_t P = s->P;
	double *H = alloc_n(P * s->m[i].d, sizeof *H);
	if (!H)
		return mp_error_set(err, MP_ENOMEM,
				    "sweep %s: out of memory for the logits",
				    s->name);
	for (size_t a = 0; a < P; a++)
		logits_a(&s->m[i], P, a, H, out + a * P * P);
	free(H);
	return MP_OK;
}

/* Inputs (a, 0..P) whose first largest logit (lg[b*P + c]) is (a+b) mod P. */
static size_t right_of(const double *lg, size_t P, size_t a)
{
	size_t right = 0;
	for (size_t b = 0; b < P; b++) {
		const double *v = lg + b * P;
		size_t best = 0;
		for (size_t c = 1; c < P; c++)
			if (v[c] > v[best])
				best = c;
		right += best == (a + b) % P;
	}
	return right;
}

/* Accuracy from logits [P*P][P]. */
static double accuracy_of(const double *lg, size_t P)
{
	size_t right = 0;
	for (size_t a = 0; a < P; a++)
		right += right_of(lg + a * P * P, P, a);
	return (double)right / (double)(P * P);
}

mp_status mp_sweep_accuracy(const struct mp_sweep *s, size_t i, double *acc,
			    struct mp_error *err)
{
	size_t P = s->P, right = 0;
	double *H = alloc_n(P * s->m[i].d, sizeof *H);
	double *lg = alloc_n(P * P, sizeof *lg);
	if (!H || !lg) {
		free(H);
		free(lg);
		return mp_error_set(err, MP_ENOMEM,
				    "sweep %s: out of memory for the logits",
				    s->name);
	}
	for (size_t a = 0; a < P; a++) {
		logits_a(&s->m[i], P, a, H, lg);
		right += right_of(lg, P, a);
	}
	free(H);
	free(lg);
	*acc = (double)right / (double)(P * P);
	return MP_OK;
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

/* [L; R]^T = Q Rq (Householder QR) for a model with 2d < 2P: Qp (P x 2d)
 * holds the first P rows of Q's first 2d columns, A and Bm (2d x d) the
 * two halves of Rq's first 2d rows, so that [L; R] = [A Bm]^T Q^T and
 * B_r = Q K_r Q^T with K_r = (A D_r Bm^T + Bm D_r A^T) / 2. */
struct reduced {
	gsl_matrix *Qp, *A, *Bm;
};

static bool reduce(const struct mp_sweep_model *m, size_t P,
		   struct reduced *rd)
{
	size_t w = 2 * P, d = m->d, k = 2 * d;
	gsl_matrix *Mt = gsl_matrix_alloc(w, k), *Q = gsl_matrix_alloc(w, w);
	gsl_matrix *Rq = gsl_matrix_alloc(w, k);
	gsl_vector *tau = gsl_vector_alloc(k);
	rd->Qp = gsl_matrix_alloc(P, k);
	rd->A = gsl_matrix_alloc(k, d);
	rd->Bm = gsl_matrix_alloc(k, d);
	bool ok = Mt && Q && Rq && tau && rd->Qp && rd->A && rd->Bm;
	if (ok) {
		for (size_t t = 0; t < w; t++)
			for (size_t h = 0; h < d; h++) {
				gsl_matrix_set(Mt, t, h, m->L[h * w + t]);
				gsl_matrix_set(Mt, t, d + h, m->R[h * w + t]);
			}
		ok = gsl_linalg_QR_decomp(Mt, tau) == GSL_SUCCESS &&
		     gsl_linalg_QR_unpack(Mt, tau, Q, Rq) == GSL_SUCCESS;
	}
	if (ok) {
		for (size_t a = 0; a < P; a++)
			for (size_t q = 0; q < k; q++)
				gsl_matrix_set(rd->Qp, a, q,
					       gsl_matrix_get(Q, a, q));
		for (size_t q = 0; q < k; q++)
			for (size_t h = 0; h < d; h++) {
				gsl_matrix_set(rd->A, q, h,
					       gsl_matrix_get(Rq, q, h));
				gsl_matrix_set(rd->Bm, q, h,
					       gsl_matrix_get(Rq, q, d + h));
			}
	}
	gsl_matrix_free(Mt);
	gsl_matrix_free(Q);
	gsl_matrix_free(Rq);
	gsl_vector_free(tau);
	return ok;
}

/* The symmetric k x k matrix of class r into B: B_r itself (k = 2P), or
 * K_r of the reduced form (k = 2d); LD is scratch of d * k values. */
static void class_matrix(const struct mp_sweep_model *m, size_t P, size_t r,
			 const struct reduced *rd, double *LD, gsl_matrix *B)
{
	size_t w = 2 * P, d = m->d, k = B->size1;
	const double *Dr = m->D + r * d;
	if (rd->Qp) {
		/* X = (A D_r) Bm^T */
		for (size_t q = 0; q < k; q++) {
			const double *Aq = rd->A->data + q * rd->A->tda;
			for (size_t h = 0; h < d; h++)
				LD[q * d + h] = Aq[h] * Dr[h];
		}
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)k,
			    (int)k, (int)d, 1.0, LD, (int)d, rd->Bm->data,
			    (int)rd->Bm->tda, 0.0, B->data, (int)B->tda);
	} else {
		/* C = L^T diag(D[r]) R */
		for (size_t h = 0; h < d; h++)
			for (size_t t = 0; t < w; t++)
				LD[h * w + t] = m->L[h * w + t] * Dr[h];
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)w,
			    (int)w, (int)d, 1.0, LD, (int)w, m->R, (int)w, 0.0,
			    B->data, (int)B->tda);
	}
	double *b = B->data;
	size_t tda = B->tda;
	for (size_t a = 0; a < k; a++)
		for (size_t c = a; c < k; c++) {
			double x = 0.5 * (b[a * tda + c] + b[c * tda + a]);
			b[a * tda + c] = b[c * tda + a] = x;
		}
}

/* The eigenvalues of ranks rank[0..nc) (0: smallest) of the symmetric
 * tridiagonal matrix (diagonal a[0..k), squared off-diagonal b2[0..k-1))
 * into val[], by bisection inside the Gershgorin interval [lo, hi] with
 * Sturm sequence counts, all nc in lockstep (independent recurrences
 * overlap); lh, q, below: scratch of 2 nc, nc and nc values. */
static void tri_eigenvalues(const double *a, const double *b2, size_t k,
			    const size_t *rank, size_t nc, double lo,
			    double hi, double tiny, double *val, double *lh,
			    double *q, size_t *below)
{
	for (size_t c = 0; c < nc; c++) {
		lh[2 * c] = lo;
		lh[2 * c + 1] = hi;
	}
	for (int it = 0; it < 200; it++) {
		bool busy = false;
		for (size_t c = 0; c < nc; c++) {
			double l = lh[2 * c], h = lh[2 * c + 1];
			val[c] = 0.5 * (l + h);
			busy |= val[c] > l && val[c] < h &&
				h - l > 2 * DBL_EPSILON * fmax(fabs(l), fabs(h)) +
						tiny;
			q[c] = 1;
		}
		if (!busy)
			break;
		memset(below, 0, nc * sizeof *below);
		for (size_t i = 0; i < k; i++) {
			double bb = i ? b2[i - 1] : 0;
			for (size_t c = 0; c < nc; c++) {
				double x = a[i] - val[c] - bb / q[c];
				x = fabs(x) < tiny ? -tiny : x;
				below[c] += x < 0;
				q[c] = x;
			}
		}
		for (size_t c = 0; c < nc; c++)
			lh[2 * c + (below[c] > rank[c])] = val[c];
	}
}

/* One solve of (T - lam I) y = y in place by Gaussian elimination with
 * partial pivoting (zero pivots replaced by tiny); u, l: scratch of 3k
 * and k values, p: k pivot flags. */
static void tri_solve(const double *a, const double *b, size_t k, double lam,
		      double tiny, double *y, double *u, double *l,
		      unsigned char *p)
{
	/* rows i: u[3i] diagonal, u[3i+1] first, u[3i+2] second super */
	double d = a[0] - lam, e = k > 1 ? b[0] : 0;
	for (size_t i = 0; i < k; i++) {
		double sub = i + 1 < k ? b[i] : 0;
		double nd = i + 1 < k ? a[i + 1] - lam : 0;
		double ne = i + 2 < k ? b[i + 1] : 0;
		p[i] = i + 1 < k && fabs(sub) > fabs(d);
		if (p[i]) { /* swap rows i and i+1 */
			double m = d / sub;
			u[3 * i] = sub;
			u[3 * i + 1] = nd;
			u[3 * i + 2] = ne;
			l[i] = m;
			d = e - m * nd;
			e = -m * ne;
		} else {
			if (fabs(d) < tiny)
				d = d < 0 ? -tiny : tiny;
			double m = i + 1 < k ? sub / d : 0;
			u[3 * i] = d;
			u[3 * i + 1] = e;
			u[3 * i + 2] = 0;
			l[i] = m;
			d = nd - m * e;
			e = ne;
		}
	}
	for (size_t i = 0; i + 1 < k; i++) {
		if (p[i]) {
			double t = y[i];
			y[i] = y[i + 1];
			y[i + 1] = t;
		}
		y[i + 1] -= l[i] * y[i];
	}
	for (size_t i = k; i-- > 0;) {
		double x = y[i];
		if (i + 1 < k)
			x -= u[3 * i + 1] * y[i + 1];
		if (i + 2 < k)
			x -= u[3 * i + 2] * y[i + 2];
		y[i] = x / u[3 * i];
	}
}

static void normalise(double *y, size_t k)
{
	double n = cblas_dnrm2((int)k, y, 1);
	if (n > 0)
		cblas_dscal((int)k, 1 / n, y, 1);
}

/* The n eigenpairs of largest |eigenvalue| of the symmetric k x k matrix B
 * (destroyed), in descending |eigenvalue|: lam[0..n), Y (k x n, column t
 * the unit eigenvector of lam[t]). Householder tridiagonalisation, then
 * bisection for the eigenvalues and inverse iteration (orthogonalised
 * within clusters) for the vectors, instead of all k eigenvectors: the
 * same pairs as gsl_eigen_symmv to rounding where eigenvalues are apart.
 * w: scratch (struct below). */
struct topeig {
	gsl_vector *tau, *diag, *sub;
	double *u, *l, *cand, *y, *b2, *lh, *q;
	size_t *rank, *below;
	unsigned char *p;
};

static bool topeig_alloc(struct topeig *w, size_t k, size_t n)
{
	w->tau = gsl_vector_alloc(k - 1);
	w->diag = gsl_vector_alloc(k);
	w->sub = gsl_vector_alloc(k - 1);
	w->u = alloc_n(3 * k, sizeof *w->u);
	w->l = alloc_n(k, sizeof *w->l);
	w->cand = alloc_n(2 * n, sizeof *w->cand);
	w->y = alloc_n(k * n, sizeof *w->y);
	w->p = alloc_n(k, 1);
	w->b2 = alloc_n(k, sizeof *w->b2);
	w->lh = alloc_n(4 * n, sizeof *w->lh);
	w->q = alloc_n(2 * n, sizeof *w->q);
	w->rank = alloc_n(2 * n, sizeof *w->rank);
	w->below = alloc_n(2 * n, sizeof *w->below);
	return w->tau && w->diag && w->sub && w->u && w->l &&
	       w->cand && w->y && w->p && w->b2 && w->lh && w->q && w->rank &&
	       w->below;
}

static void topeig_free(struct topeig *w)
{
	gsl_vector_free(w->tau);
	gsl_vector_free(w->diag);
	gsl_vector_free(w->sub);
	free(w->u);
	free(w->l);
	free(w->cand);
	free(w->y);
	free(w->p);
	free(w->b2);
	free(w->lh);
	free(w->q);
	free(w->rank);
	free(w->below);
}

static bool top_eigen(gsl_matrix *B, size_t n, struct topeig *w, double *lam,
		      double *Y)
{
	size_t k = B->size1;
	if (gsl_linalg_symmtd_decomp(B, w->tau) != GSL_SUCCESS ||
	    gsl_linalg_symmtd_unpack_T(B, w->diag, w->sub) != GSL_SUCCESS)
		return false;
	const double *a = w->diag->data, *b = w->sub->data;
	double lo = a[0], hi = a[0], norm = 0;
	for (size_t i = 0; i < k; i++) {
		double r = (i ? fabs(b[i - 1]) : 0) + (i + 1 < k ? fabs(b[i]) : 0);
		lo = fmin(lo, a[i] - r);
		hi = fmax(hi, a[i] + r);
		norm = fmax(norm, fabs(a[i]) + r);
	}
	if (norm == 0) { /* B = 0: eigenvalues 0, the unit vectors */
		memset(Y, 0, k * n * sizeof *Y);
		for (size_t t = 0; t < n; t++) {
			lam[t] = 0;
			Y[t * n + t] = 1;
		}
		return true;
	}
	double tiny = fmax(norm * DBL_EPSILON, DBL_MIN);
	lo -= tiny;
	hi += tiny;
	/* candidates: the n smallest and the n largest eigenvalues */
	size_t nc = 0, low = k < n ? k : n;
	for (size_t r = 0; r < low; r++)
		w->rank[nc++] = r;
	for (size_t r = k - low > low ? k - low : low; r < k; r++)
		w->rank[nc++] = r;
	for (size_t i = 0; i + 1 < k; i++)
		w->b2[i] = b[i] * b[i];
	tri_eigenvalues(a, w->b2, k, w->rank, nc, lo, hi, tiny, w->cand,
			w->lh, w->q, w->below);
	/* the n of largest |value|, descending (ties: the larger value) */
	for (size_t t = 0; t < n; t++) {
		size_t best = t;
		for (size_t c = t + 1; c < nc; c++)
			if (fabs(w->cand[c]) > fabs(w->cand[best]) ||
			    (fabs(w->cand[c]) == fabs(w->cand[best]) &&
			     w->cand[c] > w->cand[best]))
				best = c;
		double x = w->cand[t];
		w->cand[t] = w->cand[best];
		w->cand[best] = x;
	}
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (size_t t = 0; t < n; t++) {
		double *y = w->y + t * k, l = w->cand[t];
		lam[t] = l;
		/* equal eigenvalues of a cluster: shift apart as LAPACK does */
		for (size_t s = 0; s < t; s++)
			if (fabs(lam[s] - l) < 10 * tiny)
				l += 10 * tiny;
		for (size_t i = 0; i < k; i++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			y[i] = (double)(rng >> 11) * 0x1p-53 - 0.5;
		}
		for (int it = 0; it < 4; it++) {
			tri_solve(a, b, k, l, tiny, y, w->u, w->l, w->p);
			for (size_t s = 0; s < t; s++)
				if (fabs(lam[s] - lam[t]) < 1e-3 * norm) {
					const double *z = w->y + s * k;
					double dot = cblas_ddot((int)k, y, 1, z, 1);
					cblas_daxpy((int)k, -dot, z, 1, y, 1);
				}
			normalise(y, k);
		}
	}
	/* back to B's basis: Y = Q y with Q = H_0 ... H_{k-2}, H_i = I -
	 * tau_i v v^T acting on rows i+1.., v = (1, B[i+2.., i]) (the storage
	 * of gsl_linalg_symmtd_decomp, as LAPACK's) */
	for (size_t i = 0; i < k; i++)
		for (size_t t = 0; t < n; t++)
			Y[i * n + t] = w->y[t * k + i];
	size_t tda = B->tda;
	/* as gsl_linalg_symmtd_unpack, from H_{k-3}: H_{k-2} acts on one row */
	for (size_t i = k - 2; i-- > 0;) {
		double tau = w->tau->data[i];
		if (tau == 0)
			continue;
		const double *v = B->data + (i + 1) * tda + i;
		for (size_t t = 0; t < n; t++) {
			double *y = Y + (i + 1) * n + t, dot = y[0];
			for (size_t r = 1; r + i + 1 < k; r++)
				dot += v[r * tda] * y[r * n];
			dot *= tau;
			y[0] -= dot;
			for (size_t r = 1; r + i + 1 < k; r++)
				y[r * n] -= dot * v[r * tda];
		}
	}
	return true;
}

static mp_status freq_dist(const struct mp_sweep *s, size_t i, size_t n_evecs,
			   double *out, struct mp_error *err)
{
	const struct mp_sweep_model *m = &s->m[i];
	size_t P = s->P, w = 2 * P, d = m->d, nk = P / 2 + 1;
	size_t k = 2 * d < w ? 2 * d : w;
	struct reduced rd = {0};
	struct topeig te = {0};
	if (n_evecs == 0 || n_evecs > k)
		n_evecs = k; /* the other eigenvalues are 0 and weigh nothing */
	double *LD = alloc_n(d * (k > w ? k : w), sizeof *LD);
	gsl_matrix *B = gsl_matrix_alloc(k, k);
	double *lam = alloc_n(n_evecs, sizeof *lam);
	double *Y = alloc_n(k * n_evecs, sizeof *Y);
	double *V = alloc_n(P * n_evecs, sizeof *V);
	gsl_fft_real_wavetable *wt = gsl_fft_real_wavetable_alloc(P);
	gsl_fft_real_workspace *fw = gsl_fft_real_workspace_alloc(P);
	double *v = alloc_n(P, sizeof *v), *mag = alloc_n(nk, sizeof *mag);
	mp_status st = MP_OK;
	if (!LD || !B || !lam || !Y || !V || !wt || !fw || !v || !mag ||
	    !topeig_alloc(&te, k, n_evecs) || (k < w && !reduce(m, P, &rd))) {
		st = mp_error_set(err, MP_ENOMEM,
				  "sweep %s: out of memory for the frequency "
				  "distributions",
				  s->name);
		goto done;
	}
	for (size_t r = 0; r < P && st == MP_OK; r++) {
		class_matrix(m, P, r, &rd, LD, B);
		if (!top_eigen(B, n_evecs, &te, lam, Y)) {
			st = mp_error_set(err, MP_EUNDEF,
					  "sweep %s: model d=%u: eigen-"
					  "decomposition failed for class %zu",
					  s->name, m->d, r);
			break;
		}
		/* the first P entries of the eigenvectors in the 2P space */
		if (rd.Qp)
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
				    (int)P, (int)n_evecs, (int)k, 1.0,
				    rd.Qp->data, (int)rd.Qp->tda, Y,
				    (int)n_evecs, 0.0, V, (int)n_evecs);
		else
			memcpy(V, Y, P * n_evecs * sizeof *V);
		double *dist = out + r * nk, sum = 0;
		memset(dist, 0, nk * sizeof *dist);
		for (size_t t = 0; t < n_evecs; t++) {
			double l = fabs(lam[t]);
			for (size_t a = 0; a < P; a++)
				v[a] = V[a * n_evecs + t];
			rfft_abs(v, P, wt, fw, mag);
			for (size_t q = 0; q < nk; q++)
				dist[q] += l * mag[q];
		}
		for (size_t q = 0; q < nk; q++)
			sum += dist[q];
		if (sum > 0)
			for (size_t q = 0; q < nk; q++)
				dist[q] /= sum;
	}
done:
	free(LD);
	free(lam);
	free(Y);
	free(V);
	free(v);
	free(mag);
	topeig_free(&te);
	gsl_matrix_free(rd.Qp);
	gsl_matrix_free(rd.A);
	gsl_matrix_free(rd.Bm);
	gsl_matrix_free(B);
	gsl_fft_real_wavetable_free(wt);
	gsl_fft_real_workspace_free(fw);
	return st;
}

mp_status mp_sweep_freq_dist(const struct mp_sweep *s, size_t i,
			     size_t n_evecs, double *out, struct mp_error *err)
{
	gsl_set_error_handler_off();
	return freq_dist(s, i, n_evecs, out, err);
}

double mp_sweep_js(const double *p, const double *q, size_t nk)
{
	double js = 0, sp = 0, sq = 0;
	for (size_t k = 0; k < nk; k++) {
		sp += p[k];
		sq += q[k];
	}
	if (!(sp > 0 && sq > 0))
		return NAN;
	for (size_t k = 0; k < nk; k++) {
		double m = fmax(0.5 * (p[k] + q[k]), MP_SWEEP_JS_FLOOR);
		if (p[k] > MP_SWEEP_JS_FLOOR)
			js += 0.5 * p[k] * log(p[k] / m);
		if (q[k] > MP_SWEEP_JS_FLOOR)
			js += 0.5 * q[k] * log(q[k] / m);
	}
	/* never below 0 (nor -0): rounding of two equal distributions (libm's
	   log differs in its last bit between CPUs) can leave -1e-17 */
	return js > 0 ? js : 0;
}

void mp_sweep_result_done(struct mp_sweep_result *res)
{
	free(res->tn);
	free(res->logit);
	free(res->js);
	free(res->acc);
	memset(res, 0, sizeof *res);
}

/* OpenBLAS (when GSL is linked with it) would thread each small product
 * and oversubscribe the cores under our own workers; it runs
 * single-threaded during the computation, as in fp_spectral.c. Weak:
 * absent with the reference gslcblas. */
extern void openblas_set_num_threads(int n) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

/* The state of one computation, shared by the workers. Every item writes
 * only its own outputs, so results do not depend on the thread count. */
struct job {
	const struct mp_sweep *s;
	size_t n_evecs, P, nk, threads;
	double *lg, *nrm, *dist, *self; /* per model */
	size_t *order;   /* items by decreasing cost */
	size_t nch;      /* chunks of inputs for the logit cosine */
	double *partial; /* [nch][n*n] its sums over each chunk */
	struct mp_sweep_result *res;
	mp_status (*item)(struct job *j, size_t i, struct mp_error *err);
	size_t n;	  /* items of the current phase */
	size_t next;	  /* next item (under lock) */
	pthread_mutex_t lock;
	mp_status status; /* of the lowest failed item */
	size_t failed;
	struct mp_error err;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	struct mp_error err;
	for (;;) {
		pthread_mutex_lock(&j->lock);
		size_t i = j->next < j->n && j->status == MP_OK ? j->next++
							       : j->n;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->n)
			return NULL;
		mp_status st = j->item(j, j->order ? j->order[i] : i, &err);
		if (st != MP_OK) {
			pthread_mutex_lock(&j->lock);
			if (j->status == MP_OK || i < j->failed) {
				j->status = st;
				j->failed = i;
				j->err = err;
			}
			pthread_mutex_unlock(&j->lock);
		}
	}
}

static mp_status run_phase(struct job *j, size_t n, size_t *order,
			   mp_status (*item)(struct job *, size_t,
					     struct mp_error *),
			   struct mp_error *err)
{
	j->order = order;
	size_t threads = j->threads;
	if (threads > n)
		threads = n;
	j->item = item;
	j->n = n;
	j->next = 0;
	pthread_t tid[64];
	size_t started = 0;
	for (; threads > 1 && started < threads && started < 64; started++)
		if (pthread_create(&tid[started], NULL, worker, j) != 0)
			break;
	if (started == 0)
		worker(j);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (j->status != MP_OK && err)
		*err = j->err;
	return j->status;
}

/* Per model: logits, their norms, accuracy, frequency distributions and
 * the TN self inner product. */
static mp_status model_item(struct job *j, size_t i, struct mp_error *err)
{
	size_t P = j->P, per = P * P * P;
	double *l = j->lg + i * per;
	mp_status st = mp_sweep_logits(j->s, i, l, err);
	if (st != MP_OK)
		return st;
	for (size_t x = 0; x < P * P; x++)
		j->nrm[i * P * P + x] = cblas_dnrm2((int)P, l + x * P, 1);
	j->res->acc[i] = accuracy_of(l, P);
	st = freq_dist(j->s, i, j->n_evecs, j->dist + i * P * j->nk, err);
	if (st == MP_OK)
		st = mp_sweep_tn_inner(j->s, i, i, &j->self[i], err);
	return st;
}

/* Chunk c of the inputs: for every pair i <= j of models, the sum over
 * the chunk's inputs x (in order) of the cosine of their logits at x,
 * from the Gram matrix of the models' logits at x (dsyrk). */
static mp_status chunk_item(struct job *jb, size_t c, struct mp_error *err)
{
	size_t n = jb->s->n, P = jb->P, per = P * P * P, nx = P * P;
	size_t x0 = c * nx / jb->nch, x1 = (c + 1) * nx / jb->nch;
	double *sum = jb->partial + c * n * n;
	double *G = alloc_n(n * n, sizeof *G);
	if (!G)
		return mp_error_set(err, MP_ENOMEM,
				    "sweep %s: out of memory for the logit "
				    "cosine",
				    jb->s->name);
	memset(sum, 0, n * n * sizeof *sum);
	for (size_t x = x0; x < x1; x++) {
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)n,
			    (int)P, 1.0, jb->lg + x * P, (int)per, 0.0, G,
			    (int)n);
		for (size_t i = 0; i < n; i++) {
			double na = jb->nrm[i * nx + x];
			for (size_t j = i; j < n; j++)
				sum[i * n + j] +=
					G[i * n + j] /
					fmax(na * jb->nrm[j * nx + x],
					     MP_SWEEP_LOGIT_EPS);
		}
	}
	free(G);
	return MP_OK;
}

struct cost {
	double cost;
	size_t i;
};

static int by_cost_desc(const void *a, const void *b)
{
	const struct cost *x = a, *y = b;
	if (x->cost != y->cost)
		return x->cost < y->cost ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The models (rows = 0) or the rows (rows = 1) in decreasing order of
 * their work (d^3 per model; d_i times the widths of j >= i per row), so
 * the largest items do not come last; NULL when out of memory. */
static size_t *work_order(const struct mp_sweep *s, int rows)
{
	size_t n = s->n;
	struct cost *c = alloc_n(n, sizeof *c);
	size_t *order = alloc_n(n, sizeof *order);
	if (!c || !order) {
		free(c);
		free(order);
		return NULL;
	}
	double after = 0;
	for (size_t i = n; i-- > 0;) {
		double d = s->m[i].d;
		after += d;
		c[i].cost = rows ? d * after : d * d * d;
		c[i].i = i;
	}
	qsort(c, n, sizeof *c, by_cost_desc);
	for (size_t i = 0; i < n; i++)
		order[i] = c[i].i;
	free(c);
	return order;
}

/* Row i of the three matrices, columns j >= i (mirrored). */
static mp_status row_item(struct job *jb, size_t i, struct mp_error *err)
{
	const struct mp_sweep *s = jb->s;
	size_t n = s->n, P = jb->P, nk = jb->nk;
	struct mp_sweep_result *r = jb->res;
	for (size_t j = i; j < n; j++) {
		double ip = jb->self[i];
		if (j != i) {
			mp_status st = mp_sweep_tn_inner(s, i, j, &ip, err);
			if (st != MP_OK)
				return st;
		}
		double den = sqrt(jb->self[i] * jb->self[j]);
		r->tn[i * n + j] = r->tn[j * n + i] = den > 0 ? ip / den : NAN;
		double sum = 0;
		for (size_t c = 0; c < jb->nch; c++)
			sum += jb->partial[c * n * n + i * n + j];
		r->logit[i * n + j] = r->logit[j * n + i] = sum / (double)(P * P);
		double js = 0;
		for (size_t c = 0; c < P; c++)
			js += mp_sweep_js(jb->dist + (i * P + c) * nk,
					  jb->dist + (j * P + c) * nk, nk);
		r->js[i * n + j] = r->js[j * n + i] = js;
	}
	return MP_OK;
}

mp_status mp_sweep_compute(const struct mp_sweep *s, size_t n_evecs,
			   struct mp_sweep_result *res, struct mp_error *err)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return mp_sweep_compute_threads(s, n_evecs, cpus > 1 ? (size_t)cpus : 1,
					res, err);
}

mp_status mp_sweep_compute_threads(const struct mp_sweep *s, size_t n_evecs,
				   size_t threads, struct mp_sweep_result *res,
				   struct mp_error *err)
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
	size_t P = s->P;
	if ((double)n * (double)P * (double)P * (double)P >
	    (double)MP_SWEEP_LOGITS_MAX) {
		mp_sweep_result_done(res);
		return mp_error_set(err, MP_ERANGE,
				    "sweep %s: %zu models of P = %zu need %.3g "
				    "logits at once, more than the %llu allowed",
				    s->name, n, P,
				    (double)n * (double)P * (double)P * (double)P,
				    (unsigned long long)MP_SWEEP_LOGITS_MAX);
	}
	struct job j = {.s = s, .n_evecs = n_evecs, .P = P, .nk = P / 2 + 1,
			.threads = threads ? threads : 1, .res = res,
			.status = MP_OK};
	j.lg = alloc_n(n, P * P * P * sizeof(double));
	j.nrm = alloc_n(n, P * P * sizeof(double));
	j.dist = alloc_n(n, P * j.nk * sizeof(double));
	j.self = alloc_n(n, sizeof(double));
	/* chunks of the inputs: P, fewer when their n x n sums would pass
	 * 2^25 values; they depend on n and P only, not on the threads */
	j.nch = P;
	while (j.nch > 1 && (double)j.nch * (double)n * (double)n > 0x1p25)
		j.nch /= 2;
	j.partial = alloc_n(j.nch, n * n * sizeof(double));
	mp_status st = MP_OK;
	if (!j.lg || !j.nrm || !j.dist || !j.self || !j.partial)
		st = mp_error_set(err, MP_ENOMEM,
				  "sweep %s: out of memory for the logits of "
				  "%zu models",
				  s->name, n);
	int blas_threads = 0;
	if (openblas_set_num_threads && openblas_get_num_threads) {
		blas_threads = openblas_get_num_threads();
		openblas_set_num_threads(1);
	}
	gsl_set_error_handler_off();
	pthread_mutex_init(&j.lock, NULL);
	size_t *models = work_order(s, 0), *rows = work_order(s, 1);
	if (st == MP_OK && (!models || !rows))
		st = mp_error_set(err, MP_ENOMEM,
				  "sweep %s: out of memory for %zu models",
				  s->name, n);
	if (st == MP_OK)
		st = run_phase(&j, n, models, model_item, err);
	if (st == MP_OK)
		st = run_phase(&j, j.nch, NULL, chunk_item, err);
	if (st == MP_OK)
		st = run_phase(&j, n, rows, row_item, err);
	free(models);
	free(rows);
	pthread_mutex_destroy(&j.lock);
	if (blas_threads > 0)
		openblas_set_num_threads(blas_threads);
	free(j.lg);
	free(j.nrm);
	free(j.dist);
	free(j.self);
	free(j.partial);
	if (st != MP_OK)
		mp_sweep_result_done(res);
	return st;
}
