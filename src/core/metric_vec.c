/* metric_vec.c — scores between the vector fingerprints of seed 000's
 * methods (weight, input_output; DESIGN.md §5). */
#include "metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_asc(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static struct mp_score undefined(const char *why)
{
	return (struct mp_score){.defined = false, .value = NAN, .reason = why};
}

static struct mp_score defined(double v)
{
	return (struct mp_score){.defined = true, .value = v};
}

/* Sorted copies of both vectors into *sa, *sb (NULL, with the reason in
 * *why, when the score is undefined or memory runs out). */
static bool sorted_pair(const struct mp_fingerprint *a,
			const struct mp_fingerprint *b, double **sa, double **sb,
			const char **why)
{
	*sa = *sb = NULL;
	if (!a->nvec || !b->nvec) {
		*why = MP_REASON_VEC_NONE;
		return false;
	}
	if (a->nvec != b->nvec) {
		*why = MP_REASON_VEC_LEN;
		return false;
	}
	size_t n = a->nvec;
	*sa = malloc(n * sizeof(double));
	*sb = malloc(n * sizeof(double));
	if (!*sa || !*sb) {
		free(*sa);
		free(*sb);
		*sa = *sb = NULL;
		*why = MP_REASON_VEC_MEMORY;
		return false;
	}
	memcpy(*sa, a->vec, n * sizeof(double));
	memcpy(*sb, b->vec, n * sizeof(double));
	qsort(*sa, n, sizeof(double), cmp_asc);
	qsort(*sb, n, sizeof(double), cmp_asc);
	return true;
}

struct mp_score mp_metric_vec_l1(const struct mp_fingerprint *a,
				 const struct mp_fingerprint *b)
{
	double *x, *y;
	const char *why;
	if (!sorted_pair(a, b, &x, &y, &why))
		return undefined(why);
	double dif = 0, sum = 0;
	for (size_t i = 0; i < a->nvec; i++) {
		dif += fabs(x[i] - y[i]);
		sum += fabs(x[i]) + fabs(y[i]);
	}
	free(x);
	free(y);
	if (!(sum > 0))
		return undefined(MP_REASON_VEC_ZERO);
	return defined(1 - dif / sum);
}

struct mp_score mp_metric_vec_cosine(const struct mp_fingerprint *a,
				     const struct mp_fingerprint *b)
{
	double *x, *y;
	const char *why;
	if (!sorted_pair(a, b, &x, &y, &why))
		return undefined(why);
	double xy = 0, xx = 0, yy = 0;
	for (size_t i = 0; i < a->nvec; i++) {
		xy += x[i] * y[i];
		xx += x[i] * x[i];
		yy += y[i] * y[i];
	}
	free(x);
	free(y);
	if (!(xx > 0) || !(yy > 0))
		return undefined(MP_REASON_VEC_ZERO);
	double c = xy / sqrt(xx * yy);
	return defined(c > 1 ? 1 : c < -1 ? -1 : c);
}

struct mp_score mp_metric_vec_exact(const struct mp_fingerprint *a,
				    const struct mp_fingerprint *b)
{
	if (!a->nvec || !b->nvec)
		return undefined(MP_REASON_VEC_NONE);
	bool same = a->nvec == b->nvec;
	for (size_t i = 0; same && i < a->nvec; i++)
		same = a->vec[i] == b->vec[i];
	return defined(same ? 1 : 0);
}
