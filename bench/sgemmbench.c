/* sgemmbench.c — the sgemm rate of the forward pass's shapes, with the
 * kernel modelprint uses (mp_blas_tune, as main does):
 *   sgemmbench M SECONDS OUTxIN...
 * times y[M, OUT] = x[M, IN] W^T (W [OUT, IN], row-major, as
 * llm_forward.c's apply) for each OUTxIN in turn, repeated until at least
 * SECONDS have passed (at least once), and prints "GFLOPS CORE": the
 * rate 2 M IN OUT per product in GFLOP/s, and the BLAS kernel's name.
 * Inputs are uniform in [-1, 1); wall time (CLOCK_MONOTONIC). */
#include "blas.h"

#include <gsl/gsl_cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static float *filled(size_t n, unsigned *seed)
{
	float *v = malloc(n * sizeof *v);
	for (size_t i = 0; v && i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		v[i] = (float)((*seed >> 8) / 8388608.0 - 1.0);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: sgemmbench M SECONDS OUTxIN...\n");
		return 2;
	}
	const char *core = mp_blas_tune();
	long M = atol(argv[1]);
	double secs = atof(argv[2]), flops = 0, t0 = now(), t = 0;
	int ns = argc - 3;
	long *out = malloc((size_t)ns * sizeof *out),
	     *in = malloc((size_t)ns * sizeof *in);
	size_t nw = 0, nx = 0, ny = 0;
	for (int i = 0; out && in && i < ns; i++) {
		if (sscanf(argv[3 + i], "%ldx%ld", &out[i], &in[i]) != 2 ||
		    out[i] < 1 || in[i] < 1 || M < 1) {
			fprintf(stderr, "sgemmbench: bad shape '%s'\n",
				argv[3 + i]);
			return 2;
		}
		size_t o = (size_t)out[i], k = (size_t)in[i], m = (size_t)M;
		nw = o * k > nw ? o * k : nw;
		nx = m * k > nx ? m * k : nx;
		ny = m * o > ny ? m * o : ny;
	}
	unsigned seed = 1;
	float *w = filled(nw, &seed), *x = filled(nx, &seed);
	float *y = filled(ny, &seed);
	if (!out || !in || !w || !x || !y) {
		fprintf(stderr, "sgemmbench: out of memory\n");
		return 1;
	}
	do {
		for (int i = 0; i < ns; i++) {
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
				    (int)M, (int)out[i], (int)in[i], 1.0f, x,
				    (int)in[i], w, (int)in[i], 0.0f, y,
				    (int)out[i]);
			flops += 2.0 * (double)M * (double)in[i] * (double)out[i];
		}
		t = now() - t0;
	} while (t < secs);
	printf("%.1f %s\n", flops / t / 1e9, *core ? core : "unknown");
	free(w);
	free(x);
	free(y);
	free(out);
	free(in);
	return 0;
}
