/* kmeans.c — k-means++ and Lloyd iterations over the bit vectors of a
 * mask, with float centres, and the cluster metrics (sparsity.h). The
 * restarts run on threads, each from its own place in the one random
 * sequence, so the result does not depend on the thread count. */
#include "sparsity.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ITER 300

/* The points as lists of their set bits, shared by the restarts. */
struct points {
	const struct mp_mask *mk;
	const uint64_t *pts;
	size_t n;
	size_t *start; /* [n + 1] bits of point p: bit[start[p] .. start[p+1]) */
	uint32_t *bit; /* the set bits, ascending within a point */
};

struct work {
	const struct mp_mask *mk;
	const uint64_t *pts;
	const struct points *pl;
	size_t n, k;
	uint64_t width;
	size_t *label, *size; /* [n], [k] */
	double *centre;	      /* [k * width] */
	uint32_t *cnt;	      /* [k * width] members with bit j set */
	double *csq;	      /* [k] sum over j of cnt_j^2 */
	double *den;	      /* [k] members (centre = cnt / den); 0: empty */
	size_t *cpt;	      /* [k] the point a centre is, or SIZE_MAX */
	unsigned nb;	      /* bits of the largest count (of n) */
	uint64_t *plane;      /* [k * nb * words] cnt as bit planes */
	double *d2;	      /* [n] work: squared distances */
};

/* ||x_p - centre c||^2 with centre c = cnt / m (m members):
 * (sum_j cnt_j^2 + |x_p| m^2 - 2 m sum over the set bits j of x_p of
 * cnt_j) / m^2, that sum by popcounts over the bit planes of cnt, the
 * numerator in integers (exact in a double below
 * 2^53), so the distance is the same however it is summed. */
static double dist2(const struct work *w, size_t p, size_t c)
{
	size_t s0 = w->pl->start[p], s1 = w->pl->start[p + 1];
	double m = w->den[c], nx = (double)(s1 - s0);
	if (m == 0)
		return nx;
	if (w->cpt[c] != SIZE_MAX) /* a point: the Hamming distance */
		return (double)mp_mask_hamming(w->mk, w->pts[p],
					       w->pts[w->cpt[c]]);
	uint64_t words = w->mk->words;
	double t = (double)mp_bits_dot_planes(
	    w->mk->bits + w->pts[p] * words, w->plane + c * w->nb * words,
	    w->nb, words);
	double num = w->csq[c] + nx * m * m - 2 * m * t;
	return num > 0 ? num / (m * m) : 0;
}

static void set_norm(struct work *w, size_t c)
{
	const uint32_t *cc = w->cnt + c * w->width;
	uint64_t s = 0;
	for (uint64_t j = 0; j < w->width; j++)
		s += (uint64_t)cc[j] * cc[j];
	w->csq[c] = (double)s;
}

static void centre_from_point(struct work *w, size_t c, size_t p)
{
	double *cc = w->centre + c * w->width;
	uint32_t *ct = w->cnt + c * w->width;
	memset(ct, 0, w->width * sizeof *ct);
	memset(cc, 0, w->width * sizeof *cc);
	for (size_t i = w->pl->start[p]; i < w->pl->start[p + 1]; i++) {
		ct[w->pl->bit[i]] = 1;
		cc[w->pl->bit[i]] = 1;
	}
	w->den[c] = 1;
	w->cpt[c] = p;
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
	memset(w->cnt, 0, w->k * w->width * sizeof *w->cnt);
	memset(w->size, 0, w->k * sizeof *w->size);
	for (size_t p = 0; p < w->n; p++) {
		uint32_t *ct = w->cnt + w->label[p] * w->width;
		w->size[w->label[p]]++;
		for (size_t i = w->pl->start[p]; i < w->pl->start[p + 1]; i++)
			ct[w->pl->bit[i]]++;
	}
	for (size_t c = 0; c < w->k; c++) {
		double *cc = w->centre + c * w->width;
		const uint32_t *ct = w->cnt + c * w->width;
		double m = (double)w->size[c];
		for (uint64_t j = 0; j < w->width; j++)
			cc[j] = m > 0 ? ct[j] / m : 0;
		w->den[c] = m;
		w->cpt[c] = SIZE_MAX;
		set_norm(w, c);
		uint64_t words = w->mk->words;
		uint64_t *pl = w->plane + c * w->nb * words;
		memset(pl, 0, w->nb * words * sizeof *pl);
		for (uint64_t j = 0; j < w->width; j++)
			for (uint32_t v = ct[j], b = 0; v; v >>= 1, b++)
				pl[b * words + j / 64] |= (uint64_t)(v & 1)
							  << (j % 64);
	}
}

/* New centres as means; an empty cluster takes the point farthest from
 * its centre among clusters of two or more (first on ties). When every
 * such point sits on its centre (fewer distinct features than clusters)
 * the cluster stays empty: moving a duplicate would only send it back,
 * iteration after iteration. */
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
		if (fd <= 0)
			return;
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
	double bt = 0, pairs = 0;
	for (size_t a = 0; a < w->k; a++)
		for (size_t b = a + 1; b < w->k; b++)
			if (w->size[a] && w->size[b]) {
				bt += centre_dist(w, a, b);
				pairs++;
			}
	o->between = pairs > 0 ? bt / pairs : NAN;
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

static void points_done(struct points *pl)
{
	free(pl->start);
	free(pl->bit);
}

static bool points_init(struct points *pl, const struct mp_mask *mk,
			const uint64_t *pts, size_t n)
{
	*pl = (struct points){mk, pts, n, calloc(n + 1, sizeof(size_t)), NULL};
	if (!pl->start)
		return false;
	size_t tot = 0;
	for (size_t p = 0; p < n; p++)
		tot += (size_t)mp_mask_count(mk, pts[p]);
	pl->bit = malloc((tot ? tot : 1) * sizeof *pl->bit);
	if (!pl->bit)
		return false;
	size_t at = 0;
	for (size_t p = 0; p < n; p++) {
		const uint64_t *x = mk->bits + pts[p] * mk->words;
		pl->start[p] = at;
		for (uint64_t i = 0; i < mk->words; i++)
			for (uint64_t b = x[i]; b; b &= b - 1)
				pl->bit[at++] = (uint32_t)(
				    i * 64 + (uint64_t)__builtin_ctzll(b));
	}
	pl->start[n] = at;
	return true;
}

/* One worker: the restarts run, run + stride, ... of n_init, keeping the
 * one of least inertia (the first on ties) in best. */
struct job {
	const struct points *pl;
	size_t k;
	uint64_t seed;
	int n_init, first, stride;
	struct work w;
	struct mp_kmeans best; /* label, size, centre owned; n == 0: none */
	int best_run;
	bool nomem;
};

static void work_free(struct work *w)
{
	free(w->label);
	free(w->size);
	free(w->centre);
	free(w->cnt);
	free(w->csq);
	free(w->den);
	free(w->cpt);
	free(w->plane);
	free(w->d2);
}

static void *restarts(void *arg)
{
	struct job *j = arg;
	const struct points *pl = j->pl;
	size_t n = pl->n, k = j->k;
	uint64_t width = pl->mk->width;
	struct work *w = &j->w;
	*w = (struct work){.mk = pl->mk, .pts = pl->pts, .pl = pl, .n = n,
			   .k = k, .width = width};
	w->label = calloc(n, sizeof *w->label);
	w->size = calloc(k, sizeof *w->size);
	w->centre = calloc(k * width + 1, sizeof *w->centre);
	w->cnt = calloc(k * width + 1, sizeof *w->cnt);
	w->csq = calloc(k, sizeof *w->csq);
	w->den = calloc(k, sizeof *w->den);
	w->cpt = calloc(k, sizeof *w->cpt);
	w->nb = (unsigned)(64 - __builtin_clzll((unsigned long long)n));
	w->plane = calloc(k * w->nb * pl->mk->words + 1, sizeof *w->plane);
	w->d2 = calloc(n, sizeof *w->d2);
	struct mp_kmeans *o = &j->best;
	o->label = calloc(n, sizeof *o->label);
	o->size = calloc(k, sizeof *o->size);
	o->centre = calloc(k * width + 1, sizeof *o->centre);
	j->best_run = -1;
	if (!w->label || !w->size || !w->centre || !w->cnt ||
	    !w->csq || !w->den || !w->cpt || !w->plane || !w->d2 ||
	    !o->label || !o->size || !o->centre) {
		j->nomem = true;
		return NULL;
	}
	for (int run = j->first; run < j->n_init; run += j->stride) {
		/* init_pp draws k numbers: restart run starts k * run
		 * draws into the sequence of the seed */
		struct mp_rng r;
		mp_rng_init(&r, j->seed);
		mp_rng_skip(&r, (uint64_t)run * k);
		init_pp(w, &r);
		for (size_t p = 0; p < n; p++)
			w->label[p] = k; /* none yet: the first pass changes all */
		int it = 0;
		while (it < MAX_ITER) {
			it++;
			if (assign(w) == 0)
				break;
			update(w);
		}
		struct mp_kmeans m;
		metrics(w, &m);
		if (j->best_run < 0 || m.inertia < o->inertia) {
			j->best_run = run;
			memcpy(o->label, w->label, n * sizeof *w->label);
			memcpy(o->size, w->size, k * sizeof *w->size);
			memcpy(o->centre, w->centre, k * width * sizeof *w->centre);
			o->inertia = m.inertia;
			o->within = m.within;
			o->between = m.between;
			o->ratio = m.ratio;
			o->balance = m.balance;
			o->size_std = m.size_std;
			o->iterations = it;
		}
	}
	return NULL;
}

mp_status mp_kmeans_run(const struct mp_mask *mk, const uint64_t *pts,
			size_t n, size_t k, uint64_t seed, int n_init,
			struct mp_kmeans *out, struct mp_error *err)
{
	return mp_kmeans_run_mt(mk, pts, n, k, seed, n_init, 0, out, err);
}

mp_status mp_kmeans_run_mt(const struct mp_mask *mk, const uint64_t *pts,
			   size_t n, size_t k, uint64_t seed, int n_init,
			   int threads, struct mp_kmeans *out,
			   struct mp_error *err)
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
	if (threads <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c > 0 ? (int)c : 1;
	}
	if (threads > n_init)
		threads = n_init;
	struct points pl;
	struct job *jobs = calloc((size_t)threads, sizeof *jobs);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	bool *started = calloc((size_t)threads, sizeof *started);
	mp_status st = MP_OK;
	if (!points_init(&pl, mk, pts, n) || !jobs || !tid || !started) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory for k-means");
		goto done;
	}
	for (int t = 0; t < threads; t++) {
		jobs[t] = (struct job){.pl = &pl, .k = k, .seed = seed,
				       .n_init = n_init, .first = t,
				       .stride = threads};
		/* job 0 runs on this thread; a thread that cannot start
		 * leaves its restarts to job 0's loop below */
		if (t > 0)
			started[t] = pthread_create(&tid[t], NULL, restarts,
						    &jobs[t]) == 0;
	}
	restarts(&jobs[0]);
	for (int t = 1; t < threads; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			restarts(&jobs[t]);
	}
	int pick = -1;
	for (int t = 0; t < threads; t++) {
		const struct job *j = &jobs[t];
		if (j->nomem)
			st = MP_ENOMEM;
		else if (pick < 0 ||
			 j->best.inertia < jobs[pick].best.inertia ||
			 (j->best.inertia == jobs[pick].best.inertia &&
			  j->best_run < jobs[pick].best_run))
			pick = t;
	}
	if (st != MP_OK) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory for k-means");
		goto done;
	}
	*out = jobs[pick].best;
	memset(&jobs[pick].best, 0, sizeof jobs[pick].best);
	out->n = n;
	out->k = k;
	out->width = mk->width;
done:
	for (int t = 0; jobs && t < threads; t++) {
		work_free(&jobs[t].w);
		mp_kmeans_done(&jobs[t].best);
	}
	free(jobs);
	free(tid);
	free(started);
	points_done(&pl);
	return st;
}
