/* llm_io.c — the input_output fingerprint (see llm_io.h). */
#include "llm_io.h"
#include "model.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of activations and logits one forward pass may use: the probes
 * go in as few passes as fit (each pass reads every weight once), so the
 * default lists (342 probes, 2464 byte-level tokens) on a 0.85 B LLaMA
 * (hidden 2048, vocabulary 32000) take one pass. */
#define BUDGET ((size_t)256 << 20)
#define RCOND 1e-15

/* pinv of m (r x c) into p (c x r), numpy's cut-off. */
static int pinv(const gsl_matrix *m, gsl_matrix *p)
{
	bool tall = m->size1 >= m->size2;
	size_t r = tall ? m->size1 : m->size2, c = tall ? m->size2 : m->size1;
	gsl_matrix *a = gsl_matrix_alloc(r, c), *v = gsl_matrix_alloc(c, c);
	gsl_vector *s = gsl_vector_alloc(c), *w = gsl_vector_alloc(c);
	int rc = -1;
	if (!a || !v || !s || !w)
		goto done;
	if (tall)
		gsl_matrix_memcpy(a, m);
	else
		gsl_matrix_transpose_memcpy(a, m);
	if (gsl_linalg_SV_decomp(a, v, s, w) != GSL_SUCCESS)
		goto done;
	double cut = RCOND * gsl_vector_get(s, 0);
	/* tall: m = a S v^T, pinv = v S+ a^T (c x r); wide: m^T = a S v^T,
	 * pinv(m) = a S+ v^T (r x c). S+ scales the columns of the first
	 * factor (1/s_k, 0 below the cut-off); one dgemm forms the product. */
	gsl_matrix *x = tall ? v : a, *y = tall ? a : v;
	for (size_t k = 0; k < c; k++) {
		double sk = gsl_vector_get(s, k);
		gsl_vector_view col = gsl_matrix_column(x, k);
		gsl_vector_scale(&col.vector, sk > cut ? 1 / sk : 0);
	}
	rc = gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1, x, y, 0, p) ==
		     GSL_SUCCESS
		 ? 0
		 : -1;
done:
	gsl_matrix_free(a);
	gsl_matrix_free(v);
	gsl_vector_free(s);
	gsl_vector_free(w);
	return rc;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The |eigenvalues| of a (n x n) into mag[n]. */
static int eig_abs(gsl_matrix *a, double *mag)
{
	size_t n = a->size1;
	gsl_eigen_nonsymm_workspace *ws = gsl_eigen_nonsymm_alloc(n);
	gsl_vector_complex *ev = gsl_vector_complex_alloc(n);
	int rc = -1;
	if (ws && ev && gsl_eigen_nonsymm(a, ev, ws) == GSL_SUCCESS) {
		for (size_t i = 0; i < n; i++) {
			gsl_complex z = gsl_vector_complex_get(ev, i);
			mag[i] = hypot(GSL_REAL(z), GSL_IMAG(z));
		}
		rc = 0;
	}
	gsl_eigen_nonsymm_free(ws);
	gsl_vector_complex_free(ev);
	return rc;
}

/* The end of the forward pass starting at probe p0: the most probes
 * (at least one) whose activations and logits fit in BUDGET. */
static size_t pass_end(const struct mp_llm *l, const size_t *off, size_t np,
		       size_t p0)
{
	size_t voc = (size_t)mp_llm_cfg(l)->vocab, p1 = p0 + 1;
	while (p1 < np &&
	       mp_llm_forward_bytes(l, off[p1 + 1] - off[p0], p1 + 1 - p0) +
		       (p1 + 1 - p0) * voc * sizeof(float) <=
		   BUDGET)
		p1++;
	return p1;
}

/* U and V columns of probes [p0, p0+k). */
static mp_status columns(struct mp_llm *l, const int32_t *ids,
			 const size_t *off, size_t p0, size_t k,
			 const int32_t *targets, size_t nt, double *const *tE,
			 gsl_matrix *U, gsl_matrix *V, struct mp_error *err)
{
	const struct mp_llm_config *c = mp_llm_cfg(l);
	size_t n = (size_t)c->dim, voc = (size_t)c->vocab;
	size_t *o = malloc((k + 1) * sizeof *o);
	float *lg = malloc(k * voc * sizeof *lg);
	double *e = malloc(n * sizeof *e), *pj = malloc(nt * sizeof *pj);
	mp_status s = MP_OK;
	if (!o || !lg || !e || !pj) {
		s = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i <= k; i++)
		o[i] = off[p0 + i] - off[p0];
	s = mp_llm_forward(l, ids + off[p0], o, k, 0, lg, err);
	for (size_t i = 0; i < k && s == MP_OK; i++) {
		size_t col = p0 + i, len = o[i + 1] - o[i];
		for (size_t r = 0; r < n; r++)
			gsl_matrix_set(V, r, col, 0);
		for (size_t p = 0; p < len && s == MP_OK; p++) {
			s = mp_llm_embedding(l, ids[off[col] + p], e, err);
			for (size_t r = 0; r < n && s == MP_OK; r++)
				*gsl_matrix_ptr(V, r, col) +=
				    (e[r] + sin((double)p)) / (double)len;
		}
		const float *z = lg + i * voc;
		double mx = -INFINITY, sum = 0;
		for (size_t j = 0; j < voc; j++)
			if (z[j] > mx)
				mx = z[j];
		for (size_t j = 0; j < voc; j++)
			sum += exp(z[j] - mx);
		for (size_t j = 0; j < nt; j++)
			pj[j] = exp(z[targets[j]] - mx) / sum;
		for (size_t r = 0; r < n; r++) {
			double acc = 0;
			for (size_t j = 0; j < nt; j++)
				acc += pj[j] * tE[j][r];
			gsl_matrix_set(U, r, col, acc);
		}
	}
done:
	free(o);
	free(lg);
	free(e);
	free(pj);
	return s;
}

mp_status mp_io_fingerprint(struct mp_llm *l, const int32_t *ids,
			    const size_t *off, size_t np,
			    const int32_t *targets, size_t nt, int n0,
			    double **out, size_t *nout, struct mp_error *err)
{
	*out = NULL;
	*nout = 0;
	if (n0 <= 0)
		return mp_error_set(err, MP_EINVAL,
				    "input_output: n0 must be positive (got %d)",
				    n0);
	if (!np || !nt)
		return mp_error_set(err, MP_EINVAL,
				    "input_output: no %s token",
				    np ? "target" : "probe");
	const struct mp_llm_config *c = mp_llm_cfg(l);
	size_t n = (size_t)c->dim;
	gsl_error_handler_t *old = gsl_set_error_handler_off();
	gsl_matrix *U = gsl_matrix_alloc(n, np), *V = gsl_matrix_alloc(n, np);
	/* A = U P (n x n) has rank <= np: its non-zero eigenvalues are those
	 * of P U (np x np), the other n - np are zero; the smaller product
	 * is the one decomposed. */
	size_t na = np < n ? np : n;
	gsl_matrix *P = gsl_matrix_alloc(np, n), *A = gsl_matrix_alloc(na, na);
	double **tE = calloc(nt, sizeof *tE);
	double *mag = malloc(n * sizeof *mag);
	mp_status s = MP_OK;
	if (!U || !V || !P || !A || !tE || !mag)
		s = mp_error_set(err, MP_ENOMEM, "input_output: out of memory");
	for (size_t j = 0; j < nt && s == MP_OK; j++) {
		if (!(tE[j] = malloc(n * sizeof **tE)))
			s = mp_error_set(err, MP_ENOMEM,
					 "input_output: out of memory");
		else
			s = mp_llm_embedding(l, targets[j], tE[j], err);
	}
	for (size_t p0 = 0, p1; p0 < np && s == MP_OK; p0 = p1) {
		p1 = pass_end(l, off, np, p0);
		s = columns(l, ids, off, p0, p1 - p0, targets, nt, tE, U, V,
			    err);
	}
	if (s == MP_OK && pinv(V, P) != 0)
		s = mp_error_set(err, MP_EUNDEF,
				 "input_output: the SVD of V did not converge");
	if (s == MP_OK) {
		const gsl_matrix *x = np < n ? P : U, *y = np < n ? U : P;
		for (size_t i = na; i < n; i++)
			mag[i] = 0;
		if (gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1, x, y, 0, A) !=
			GSL_SUCCESS ||
		    eig_abs(A, mag) != 0)
			s = mp_error_set(err, MP_EUNDEF,
					 "input_output: the eigenvalues of A did "
					 "not converge");
	}
	if (s == MP_OK) {
		qsort(mag, n, sizeof *mag, cmp_dbl);
		size_t k = (size_t)n0 < n ? (size_t)n0 : n;
		double *v = malloc(k * sizeof *v), nrm = 0;
		if (!v) {
			s = mp_error_set(err, MP_ENOMEM,
					 "input_output: out of memory");
		} else {
			memcpy(v, mag + (n - k), k * sizeof *v);
			for (size_t i = 0; i < k; i++)
				nrm += v[i] * v[i];
			nrm = sqrt(nrm);
			for (size_t i = 0; i < k && nrm > 0; i++)
				v[i] /= nrm;
			*out = v;
			*nout = k;
		}
	}
	gsl_set_error_handler(old);
	gsl_matrix_free(U);
	gsl_matrix_free(V);
	gsl_matrix_free(P);
	gsl_matrix_free(A);
	for (size_t j = 0; tE && j < nt; j++)
		free(tE[j]);
	free(tE);
	free(mag);
	return s;
}
