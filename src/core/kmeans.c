/* kmeans.c — k-means++ and Lloyd iterations over the bit vectors of a
 * mask, with float centres, and the cluster metrics (sparsity.h). */
#include "sparsity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITER 300

struct work {
	const struct mp_mask *mk;
	const uint64_t *pts;
	size_t n, k;
	uint64_t width;
	size_t *label, *size; /* [n], [k] */
	double *centre;	      /* [k * width] */
	double *cnorm;	      /* [k] sum of squares of each centre */
	double *d2;	      /* [n] work: squared distances */
};

/* ||x_p - centre c||^2 = ||c||^2 + sum over the set bits j of x_p of
 * (1 - 2 c_j). */
static double dist2(const struct work *w, size_t p, size_t c)
{
	const uint64_t *x = w->mk->bits + w->pts[p] * w->mk->words;
	const double *cc = w->centre + c * w->width;
	double s = w->cnorm[c];
	for (uint64_t i = 0; i < w->mk->words; i++)
		for (uint64_t b = x[i]; b; b &= b - 1)
			s += 1 - 2 * cc[i * 64 + (uint64_t)__builtin_ctzll(b)];
	return s > 0 ? s : 0;
}

static void set_norm(struct work *w, size_t c)
{
	const double *cc = w->centre + c * w->width;
	double s = 0;
	for (uint64_t j = 0; j < w->width; j++)
		s += cc[j] * cc[j];
	w->cnorm[c] = s;
}

static void centre_from_point(struct work *w, size_t c, size_t p)
{
	double *cc = w->centre + c * w->width;
	for (uint64_t j = 0; j < w->width; j++)
		cc[j] = mp_mask_get(w->mk, w->pts[p], j);
	set_norm(w, c);
}

/* k-means++: the first centre a uniform point, each next one a point
 * drawn with probability d2 / sum d2 (d2 to the nearest centre so far);
 * uniform when every d2 is 0 (duplicates). */
static void init_pp(struct work *w, struct mp_rng *r)
{
	size_t p = (size_t)(mp_rng_next(r) % w->n);
	centre_from_point(w, 0, p);
	for (size_t i = 0; i < w->n; i++)
		w->d2[i] = (double)mp_mask_hamming(w->mk, w->pts[i], w->pts[p]);
	for (size_t c = 1; c < w->k; c++) {
		double tot = 0;
		for (size_t i = 0; i < w->n; i++)
			tot += w->d2[i];
		if (tot > 0) {
			double u = mp_rng_unit(r) * tot, acc = 0;
			p = w->n - 1;
			for (size_t i = 0; i < w->n; i++) {
				acc += w->d2[i];
				if (w->d2[i] > 0 && u < acc) {
					p = i;
					break;
				}
			}
		} else {
			p = (size_t)(mp_rng_next(r) % w->n);
		}
		centre_from_point(w, c, p);
		for (size_t i = 0; i < w->n; i++) {
			double d = (double)mp_mask_hamming(w->mk, w->pts[i],
							   w->pts[p]);
			if (d < w->d2[i])
				w->d2[i] = d;
		}
	}
}

/* Label every point with its nearest centre (lowest index on ties);
 * returns the number of labels that changed. */
static size_t assign(struct work *w)
{
	size_t changed = 0;
	for (size_t p = 0; p < w->n; p++) {
		size_t best = 0;
		double bd = dist2(w, p, 0);
		for (size_t c = 1; c < w->k; c++) {
			double d = dist2(w, p, c);
			if (d < bd) {
				bd = d;
				best = c;
			}
		}
		if (best != w->label[p])
			changed++;
		w->label[p] = best;
		w->d2[p] = bd;
	}
	return changed;
}

static void means(struct work *w)
{
	memset(w->centre, 0, w->k * w->width * sizeof *w->centre);
	memset(w->size, 0, w->k * sizeof *w->size);
	for (size_t p = 0; p < w->n; p++) {
		double *cc = w->centre + w->label[p] * w->width;
		const uint64_t *x = w->mk->bits + w->pts[p] * w->mk->words;
		w->size[w->label[p]]++;
		for (uint64_t i = 0; i < w->mk->words; i++)
			for (uint64_t b = x[i]; b; b &= b - 1)
				cc[i * 64 + (uint64_t)__builtin_ctzll(b)] += 1;
	}
	for (size_t c = 0; c < w->k; c++) {
		double *cc = w->centre + c * w->width;
		if (w->size[c])
			for (uint64_t j = 0; j < w->width; j++)
				cc[j] /= (double)w->size[c];
		set_norm(w, c);
	}
}

/* New centres as means; an empty cluster takes the point farthest from
 * its centre among clusters of two or more (first on ties). */
static void update(struct work *w)
{
	for (;;) {
		means(w);
		size_t e = w->k;
		for (size_t c = 0; c < w->k && e == w->k; c++)
			if (!w->size[c])
				e = c;
		if (e == w->k)
			return;
		size_t far = 0;
		double fd = -1;
		for (size_t p = 0; p < w->n; p++) {
			if (w->size[w->label[p]] < 2)
				continue;
			double d = dist2(w, p, w->label[p]);
			if (d > fd) {
				fd = d;
				far = p;
			}
		}
		w->label[far] = e;
	}
}

static double centre_dist(const struct work *w, size_t a, size_t b)
{
	const double *x = w->centre + a * w->width, *y = w->centre + b * w->width;
	double s = 0;
	for (uint64_t j = 0; j < w->width; j++)
		s += (x[j] - y[j]) * (x[j] - y[j]);
	return sqrt(s);
}

static void metrics(const struct work *w, struct mp_kmeans *o)
{
	double in = 0, iner = 0;
	for (size_t p = 0; p < w->n; p++) {
		double d = dist2(w, p, w->label[p]);
		iner += d;
		in += sqrt(d);
	}
	o->inertia = iner;
	o->within = in / (double)w->n;
	double bt = 0;
	for (size_t a = 0; a < w->k; a++)
		for (size_t b = a + 1; b < w->k; b++)
			bt += centre_dist(w, a, b);
	o->between = bt / ((double)w->k * (double)(w->k - 1) / 2);
	o->ratio = o->within > 0 ? o->between / o->within : NAN;
	size_t lo = w->size[0], hi = w->size[0];
	double mean = (double)w->n / (double)w->k, var = 0;
	for (size_t c = 0; c < w->k; c++) {
		if (w->size[c] < lo)
			lo = w->size[c];
		if (w->size[c] > hi)
			hi = w->size[c];
		var += ((double)w->size[c] - mean) * ((double)w->size[c] - mean);
	}
	o->balance = (double)lo / (double)hi;
	o->size_std = sqrt(var / (double)w->k);
}

void mp_kmeans_done(struct mp_kmeans *km)
{
	if (!km)
		return;
	free(km->label);
	free(km->centre);
	free(km->size);
	memset(km, 0, sizeof *km);
}

mp_status mp_kmeans_run(const struct mp_mask *mk, const uint64_t *pts,
			size_t n, size_t k, uint64_t seed, int n_init,
			struct mp_kmeans *out, struct mp_error *err)
{
	memset(out, 0, sizeof *out);
	if (k < 2 || k > n)
		return mp_error_set(err, MP_EINVAL,
				    "%zu clusters asked for %zu features: "
				    "give between 2 and %zu",
				    k, n, n);
	if (n_init < 1)
		return mp_error_set(err, MP_EINVAL, "n_init must be at least 1");
	if (mk->width > SIZE_MAX / sizeof(double) / k)
		return mp_error_set(err, MP_ERANGE, "features too wide");
	struct work w = {mk, pts, n, k, mk->width, NULL, NULL, NULL, NULL, NULL};
	w.label = calloc(n, sizeof *w.label);
	w.size = calloc(k, sizeof *w.size);
	w.centre = calloc(k * mk->width + 1, sizeof *w.centre);
	w.cnorm = calloc(k, sizeof *w.cnorm);
	w.d2 = calloc(n, sizeof *w.d2);
	out->label = calloc(n, sizeof *out->label);
	out->size = calloc(k, sizeof *out->size);
	out->centre = calloc(k * mk->width + 1, sizeof *out->centre);
	mp_status st = MP_OK;
	if (!w.label || !w.size || !w.centre || !w.cnorm || !w.d2 ||
	    !out->label || !out->size || !out->centre) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory for k-means");
		mp_kmeans_done(out);
		goto done;
	}
	out->n = n;
	out->k = k;
	out->width = mk->width;
	struct mp_rng r;
	mp_rng_init(&r, seed);
	double best = INFINITY;
	for (int run = 0; run < n_init; run++) {
		init_pp(&w, &r);
		for (size_t p = 0; p < n; p++)
			w.label[p] = k; /* none yet: the first pass changes all */
		int it = 0;
		while (it < MAX_ITER) {
			it++;
			if (assign(&w) == 0)
				break;
			update(&w);
		}
		struct mp_kmeans m;
		metrics(&w, &m);
		if (m.inertia < best) {
			best = m.inertia;
			memcpy(out->label, w.label, n * sizeof *w.label);
			memcpy(out->size, w.size, k * sizeof *w.size);
			memcpy(out->centre, w.centre,
			       k * mk->width * sizeof *w.centre);
			out->inertia = m.inertia;
			out->within = m.within;
			out->between = m.between;
			out->ratio = m.ratio;
			out->balance = m.balance;
			out->size_std = m.size_std;
			out->iterations = it;
		}
	}
done:
	free(w.label);
	free(w.size);
	free(w.centre);
	free(w.cnorm);
	free(w.d2);
	return st;
}
