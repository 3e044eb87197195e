/* nnls.c — Lawson-Hanson non-negative least squares (nnls.h). */
#include "nnls.h"

#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

void mp_nnls(int k, const double G[][MP_NNLS_MAX], const double *b, double *c)
{
	bool in[MP_NNLS_MAX] = {false};
	double z[MP_NNLS_MAX], w[MP_NNLS_MAX], bmax = 0;
	for (int i = 0; i < k; i++) {
		c[i] = 0;
		bmax = fmax(bmax, fabs(b[i]));
	}
	double tol = 1e-12 * (bmax > 0 ? bmax : 1);
	for (int iter = 0; iter < 4 * k; iter++) {
		int j = -1;
		for (int i = 0; i < k; i++) {
			w[i] = b[i];
			for (int q = 0; q < k; q++)
				w[i] -= G[i][q] * c[q];
			if (!in[i] && w[i] > tol && (j < 0 || w[i] > w[j]))
				j = i;
		}
		if (j < 0)
			return;
		in[j] = true;
		for (int inner = 0; inner < 4 * k; inner++) {
			int idx[MP_NNLS_MAX], p = 0;
			for (int i = 0; i < k; i++)
				if (in[i])
					idx[p++] = i;
			gsl_matrix *A = gsl_matrix_alloc((size_t)p, (size_t)p);
			gsl_matrix *V = gsl_matrix_alloc((size_t)p, (size_t)p);
			gsl_vector *S = gsl_vector_alloc((size_t)p);
			gsl_vector *W = gsl_vector_alloc((size_t)p);
			gsl_vector *B = gsl_vector_alloc((size_t)p);
			gsl_vector *X = gsl_vector_alloc((size_t)p);
			if (!A || !V || !S || !W || !B || !X) {
				gsl_matrix_free(A), gsl_matrix_free(V);
				gsl_vector_free(S), gsl_vector_free(W);
				gsl_vector_free(B), gsl_vector_free(X);
				return;
			}
			for (int x = 0; x < p; x++) {
				gsl_vector_set(B, (size_t)x, b[idx[x]]);
				for (int y = 0; y < p; y++)
					gsl_matrix_set(A, (size_t)x, (size_t)y,
						       G[idx[x]][idx[y]]);
			}
			gsl_linalg_SV_decomp(A, V, S, W);
			double s0 = gsl_vector_get(S, 0);
			for (int x = 0; x < p; x++)
				if (gsl_vector_get(S, (size_t)x) <= 1e-12 * s0)
					gsl_vector_set(S, (size_t)x, 0);
			gsl_linalg_SV_solve(A, V, S, B, X);
			for (int i = 0; i < k; i++)
				z[i] = 0;
			for (int x = 0; x < p; x++)
				z[idx[x]] = gsl_vector_get(X, (size_t)x);
			gsl_matrix_free(A), gsl_matrix_free(V);
			gsl_vector_free(S), gsl_vector_free(W);
			gsl_vector_free(B), gsl_vector_free(X);
			double alpha = 2;
			for (int i = 0; i < k; i++)
				if (in[i] && z[i] <= 0 && c[i] - z[i] > 0)
					alpha =
					    fmin(alpha, c[i] / (c[i] - z[i]));
			if (alpha > 1) {
				memcpy(c, z, (size_t)k * sizeof *c);
				break;
			}
			for (int i = 0; i < k; i++) {
				c[i] += alpha * (z[i] - c[i]);
				if (in[i] && c[i] <= 1e-15) {
					in[i] = false;
					c[i] = 0;
				}
			}
		}
	}
}

