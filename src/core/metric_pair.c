/* metric_pair.c — cosine and Pearson of one pair of tensors over the
 * positions finite on both sides, with the rules for undefined tensors, and
 * the mean over tensors that leaves undefined ones out (shared by the
 * sketch estimates in metric.c and the exact scores in metric_exact.c). */
#include "metric.h"

#include <math.h>
#include <string.h>

const char *mp_metric_why_text(enum mp_metric_why why)
{
	switch (why) {
	case MP_WHY_NO_FINITE:
		return "no finite values";
	case MP_WHY_ZERO:
		return "all zero";
	case MP_WHY_CONSTANT:
		return "constant";
	case MP_WHY_RANGE:
		return "values out of range";
	default:
		return "";
	}
}

size_t mp_metric_score_undefined(const struct mp_score *s)
{
	size_t n = 0;
	for (int i = 0; i < MP_WHY_COUNT; i++)
		n += s->nundef[i];
	return n;
}

void mp_metric_pair_init(struct mp_metric_pair *p)
{
	memset(p, 0, sizeof *p);
	p->minx = p->miny = INFINITY;
	p->maxx = p->maxy = -INFINITY;
}

/* Sums are kept in locals: p's fields are doubles like x and y, so
 * updating them through p would be reloaded and stored for every value. */
void mp_metric_pair_feed(struct mp_metric_pair *p, const double *x,
			 const double *y, size_t n)
{
	if (p->pass == 0) {
		uint64_t used = 0, skipped = 0;
		double sx = 0, sy = 0, lx = p->minx, hx = p->maxx, ly = p->miny,
		       hy = p->maxy;
		for (size_t i = 0; i < n; i++) {
			double a = x[i], b = y[i];
			if (!isfinite(a) || !isfinite(b)) {
				skipped++;
				continue;
			}
			used++;
			sx += a;
			sy += b;
			lx = a < lx ? a : lx;
			hx = a > hx ? a : hx;
			ly = b < ly ? b : ly;
			hy = b > hy ? b : hy;
		}
		p->n += used;
		p->skipped += skipped;
		p->sx += sx;
		p->sy += sy;
		p->minx = lx, p->maxx = hx, p->miny = ly, p->maxy = hy;
		return;
	}
	double dot = 0, xx = 0, yy = 0, cxy = 0, cxx = 0, cyy = 0;
	const double mx = p->mx, my = p->my, kx = p->kx, ky = p->ky;
	for (size_t i = 0; i < n; i++) {
		double a = x[i], b = y[i];
		if (!isfinite(a) || !isfinite(b))
			continue;
		double xs = a * kx, ys = b * ky;
		double cx = (a - mx) * kx, cy = (b - my) * ky;
		dot += xs * ys;
		xx += xs * xs;
		yy += ys * ys;
		cxy += cx * cy;
		cxx += cx * cx;
		cyy += cy * cy;
	}
	p->dot += dot;
	p->xx += xx;
	p->yy += yy;
	p->cxy += cxy;
	p->cxx += cxx;
	p->cyy += cyy;
}

/* The power of two that brings the largest |value| into [0.5, 1): an exact
 * scaling, so it changes no result, but keeps sums of squares finite. */
static double scale_for(double lo, double hi)
{
	double m = fmax(fabs(lo), fabs(hi));
	int e;
	if (!(m > 0))
		return 1;
	frexp(m, &e);
	if (e > 1020)
		e = 1020;
	if (e < -1020)
		e = -1020;
	return ldexp(1, -e);
}

void mp_metric_pair_next_pass(struct mp_metric_pair *p)
{
	p->pass = 1;
	if (p->n) {
		p->mx = p->sx / (double)p->n;
		p->my = p->sy / (double)p->n;
		p->kx = scale_for(p->minx, p->maxx);
		p->ky = scale_for(p->miny, p->maxy);
	}
}

/* num / sqrt(xx * yy), exactly 1 when num == xx == yy (identical sides):
 * sqrt(xx) * sqrt(xx) need not round to xx, so equal sums skip the roots. */
static double correlation(double num, double xx, double yy,
			  enum mp_metric_why *why)
{
	double den = xx == yy ? xx : sqrt(xx) * sqrt(yy);
	double r = num / den;
	if (!(den > 0) || !isfinite(r)) {
		*why = MP_WHY_RANGE;
		return NAN;
	}
	return r > 1 ? 1 : r < -1 ? -1 : r;
}

void mp_metric_pair_finish(const struct mp_metric_pair *p,
			   struct mp_metric_pair_result *r)
{
	r->used = p->n;
	r->skipped = p->skipped;
	r->cosine = r->pearson = NAN;
	r->cos_why = r->pear_why = MP_WHY_OK;
	if (p->n == 0) {
		r->cos_why = r->pear_why = MP_WHY_NO_FINITE;
		return;
	}
	if ((p->minx == 0 && p->maxx == 0) || (p->miny == 0 && p->maxy == 0))
		r->cos_why = MP_WHY_ZERO;
	else
		r->cosine = correlation(p->dot, p->xx, p->yy, &r->cos_why);
	if (p->minx == p->maxx || p->miny == p->maxy)
		r->pear_why = MP_WHY_CONSTANT;
	else if (!isfinite(p->mx) || !isfinite(p->my))
		r->pear_why = MP_WHY_RANGE;
	else
		r->pearson = correlation(p->cxy, p->cxx, p->cyy, &r->pear_why);
}

void mp_metric_mean_add(struct mp_metric_mean *m, double weight, double value,
			enum mp_metric_why why, uint64_t nonfinite)
{
	m->s.ntensors++;
	m->s.nonfinite += nonfinite;
	if (why != MP_WHY_OK) {
		m->s.nundef[why]++;
		return;
	}
	m->wsum += weight;
	m->sum += weight * value;
}

struct mp_score mp_metric_mean_score(const struct mp_metric_mean *m,
				     const char *empty, const char *none)
{
	struct mp_score s = m->s;
	s.defined = false;
	s.value = NAN;
	if (s.ntensors == 0)
		s.reason = empty;
	else if (mp_metric_score_undefined(&s) == s.ntensors || !(m->wsum > 0))
		s.reason = none;
	else {
		s.defined = true;
		s.value = m->sum / m->wsum;
		s.reason = NULL;
	}
	return s;
}
