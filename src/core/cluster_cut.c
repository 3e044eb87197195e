/* cluster_cut.c — dendrogram in the metric's units and its cut. */
#include "cluster_cut.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mp_cluster_tree_free(struct mp_cluster_tree *t)
{
	if (!t)
		return;
	free(t->merge);
	free(t->score);
	free(t->order);
	free(t);
}

/* Most and least alike defined value off the diagonal (0, 0 when none). */
static void extremes(const struct mp_simmatrix *m, double *best, double *worst)
{
	bool hi = m->higher_is_more_alike, any = false;
	double b = 0, w = 0;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->n; j++) {
			double v = m->value[i * m->n + j];
			if (i == j || !isfinite(v))
				continue;
			if (!any) {
				b = w = v;
				any = true;
			}
			if (hi ? v > b : v < b)
				b = v;
			if (hi ? v < w : v > w)
				w = v;
		}
	*best = b;
	*worst = w;
}

mp_status mp_cluster_tree_build(const struct mp_simmatrix *m,
				struct mp_cluster_tree **out,
				struct mp_error *err)
{
	size_t n = m->n;
	struct mp_cluster_tree *t = calloc(1, sizeof *t);
	if (!t)
		return mp_error_set(err, MP_ENOMEM,
				    "clustering: out of memory");
	t->n = n;
	t->higher = m->higher_is_more_alike;
	t->merge = malloc((n > 1 ? n - 1 : 1) * sizeof *t->merge);
	t->score = malloc((n > 1 ? n - 1 : 1) * sizeof *t->score);
	t->order = malloc((n ? n : 1) * sizeof *t->order);
	uint64_t cells;
	double *d = NULL;
	if (t->merge && t->score && t->order && mp_mul_u64(n, n, &cells) &&
	    cells <= SIZE_MAX / sizeof *d)
		d = calloc(cells ? cells : 1, sizeof *d);
	if (!d) {
		mp_cluster_tree_free(t);
		return mp_error_set(err, MP_ENOMEM,
				    "clustering: out of memory");
	}
	double best, worst;
	extremes(m, &best, &worst);
	double sign = t->higher ? -1 : 1; /* distance = sign * (v - best) */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double a = m->value[i * n + j], b = m->value[j * n + i];
			a = isfinite(a) ? a : worst;
			b = isfinite(b) ? b : worst;
			double x = i == j ? 0 : sign * ((a + b) / 2 - best);
			d[i * n + j] = x > 0 ? x : 0; /* rounding */
		}
	mp_status st = mp_cluster_average(d, n, t->merge, t->order, err);
	free(d);
	if (st != MP_OK) {
		mp_cluster_tree_free(t);
		return st;
	}
	for (size_t k = 0; k + 1 < n; k++)
		t->score[k] = best + sign * t->merge[k].height;
	*out = t;
	return MP_OK;
}

bool mp_cluster_within(const struct mp_cluster_tree *t, double x, double c)
{
	return t->higher ? x >= c : x <= c;
}

double mp_cluster_default_cut(const struct mp_cluster_tree *t)
{
	size_t k = t->n > 1 ? t->n - 1 : 0; /* merges, sorted by height */
	if (k == 0)
		return NAN;
	return k % 2 ? t->score[k / 2]
		     : (t->score[k / 2 - 1] + t->score[k / 2]) / 2;
}

void mp_cluster_cut_free(struct mp_cluster_cut *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].member);
		free(c->v[i].families);
		free(c->v[i].types);
	}
	free(c->v);
	free(c->cluster_of);
	free(c->disagrees);
	free(c);
}

static size_t find(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

static int cmp_name(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

static int cmp_count(const void *pa, const void *pb)
{
	const struct mp_cluster_count *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Distinct non-empty names[member[i]] with counts, most first. */
static bool count_names(const struct mp_cluster *cl, const char *const *names,
			const char **tmp, struct mp_cluster_count **out,
			size_t *nout)
{
	size_t k = 0;
	for (size_t i = 0; i < cl->size; i++)
		if (names[cl->member[i]][0])
			tmp[k++] = names[cl->member[i]];
	qsort(tmp, k, sizeof *tmp, cmp_name);
	*out = malloc((k ? k : 1) * sizeof **out);
	if (!*out)
		return false;
	size_t d = 0;
	for (size_t i = 0; i < k; i++) {
		if (d && !strcmp((*out)[d - 1].name, tmp[i]))
			(*out)[d - 1].count++;
		else
			(*out)[d++] = (struct mp_cluster_count){tmp[i], 1};
	}
	qsort(*out, d, sizeof **out, cmp_count);
	*nout = d;
	return true;
}

/* Families, types, majority and purity of cluster cl. */
static bool describe(struct mp_cluster_cut *cut, struct mp_cluster *cl,
		     const char *const *family, const char *const *type,
		     const char **tmp)
{
	if (!count_names(cl, family, tmp, &cl->families, &cl->n_families) ||
	    !count_names(cl, type, tmp, &cl->types, &cl->n_types))
		return false;
	cl->majority = cl->n_families ? cl->families[0].name : NULL;
	size_t known = 0;
	for (size_t i = 0; i < cl->n_families; i++)
		known += cl->families[i].count;
	cl->purity =
	    known ? (double)cl->families[0].count / (double)known : NAN;
	for (size_t i = 0; i < cl->size; i++) {
		const char *f = family[cl->member[i]];
		bool dis = f[0] && strcmp(f, cl->majority) != 0;
		cut->disagrees[cl->member[i]] = dis;
		cl->n_disagree += dis;
	}
	return true;
}

/* Group the leaves in dendrogram order by their root in parent. */
static bool group(const struct mp_cluster_tree *t, struct mp_cluster_cut *c,
		  size_t *parent, const double *top)
{
	size_t n = t->n;
	size_t *idx = malloc(n * sizeof *idx); /* root -> cluster index */
	if (!idx)
		return false;
	for (size_t i = 0; i < n; i++)
		idx[i] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t r = find(parent, t->order[i]);
		if (idx[r] == SIZE_MAX) {
			idx[r] = c->n;
			c->v[c->n++].score = top[r];
		}
		struct mp_cluster *cl = &c->v[idx[r]];
		cl->size++;
		c->cluster_of[t->order[i]] = idx[r];
	}
	bool ok = true;
	for (size_t k = 0; k < c->n; k++) {
		c->v[k].member = malloc(c->v[k].size * sizeof(size_t));
		ok = ok && c->v[k].member;
		c->v[k].size = 0;
	}
	for (size_t i = 0; ok && i < n; i++) {
		struct mp_cluster *cl = &c->v[c->cluster_of[t->order[i]]];
		cl->member[cl->size++] = t->order[i];
	}
	free(idx);
	return ok;
}

mp_status mp_cluster_cut_make(const struct mp_cluster_tree *t, double cut,
			      const char *const *family,
			      const char *const *type,
			      struct mp_cluster_cut **out, struct mp_error *err)
{
	if (isnan(cut))
		return mp_error_set(err, MP_EINVAL,
				    "clusters: the cut is not "
				    "a number");
	size_t n = t->n, m = n ? n : 1;
	struct mp_cluster_cut *c = calloc(1, sizeof *c);
	size_t *parent = malloc(m * sizeof *parent);
	size_t *rep = malloc(2 * m * sizeof *rep); /* a leaf of each cluster */
	double *top = malloc(m * sizeof *top);	   /* per root: top merge */
	const char **tmp = malloc(m * sizeof *tmp);
	bool ok = c && parent && rep && top && tmp;
	if (ok) {
		c->cut = cut;
		c->rows = n;
		c->v = calloc(m, sizeof *c->v);
		c->cluster_of = calloc(m, sizeof *c->cluster_of);
		c->disagrees = calloc(m, sizeof *c->disagrees);
		ok = c->v && c->cluster_of && c->disagrees;
	}
	if (ok) {
		for (size_t i = 0; i < n; i++) {
			parent[i] = rep[i] = i;
			top[i] = NAN;
		}
		for (size_t k = 0; k + 1 < n; k++) {
			const struct mp_merge *g = &t->merge[k];
			rep[n + k] = rep[g->a];
			if (!mp_cluster_within(t, t->score[k], cut))
				continue;
			size_t ra = find(parent, rep[g->a]);
			size_t rb = find(parent, rep[g->b]);
			parent[ra] = rb;
			top[rb] = t->score[k];
		}
		ok = group(t, c, parent, top);
	}
	for (size_t k = 0; ok && k < c->n; k++)
		ok = describe(c, &c->v[k], family, type, tmp);
	free(parent);
	free(rep);
	free(top);
	free(tmp);
	if (!ok) {
		mp_cluster_cut_free(c);
		return mp_error_set(err, MP_ENOMEM, "clusters: out of memory");
	}
	*out = c;
	return MP_OK;
}

static bool counts_json(mp_json *o, const char *key,
			const struct mp_cluster_count *v, size_t n)
{
	mp_json *j = mp_json_add_obj(o, key);
	for (size_t i = 0; j && i < n; i++)
		if (!mp_json_add_num(j, v[i].name, (double)v[i].count))
			return false;
	return j != NULL;
}

static bool cluster_json(mp_json *o, const struct mp_cluster_cut *c,
			 const struct mp_cluster *cl, char *const *ids)
{
	mp_json *mem = mp_json_add_arr(o, "members");
	mp_json *dis = mem ? mp_json_add_arr(o, "disagreeing") : NULL;
	bool ok =
	    mp_json_add_num(o, "size", (double)cl->size) &&
	    mp_json_add_num(o, "score", cl->score) && dis &&
	    counts_json(o, "families", cl->families, cl->n_families) &&
	    counts_json(o, "types", cl->types, cl->n_types) &&
	    (cl->majority ? mp_json_add_str(o, "majority_family", cl->majority)
			  : mp_json_add_null(o, "majority_family")) &&
	    mp_json_add_num(o, "purity", cl->purity);
	for (size_t i = 0; ok && i < cl->size; i++) {
		const char *id = ids[cl->member[i]];
		ok =
		    mp_json_push_str(mem, id) &&
		    (!c->disagrees[cl->member[i]] || mp_json_push_str(dis, id));
	}
	return ok;
}

mp_json *mp_cluster_cut_to_json(const struct mp_cluster_cut *c,
				char *const *ids)
{
	mp_json *arr = mp_json_array();
	for (size_t k = 0; arr && k < c->n; k++) {
		mp_json *o = mp_json_object();
		if (!mp_json_push(arr, o) ||
		    !cluster_json(o, c, &c->v[k], ids)) {
			mp_json_free(arr);
			return NULL;
		}
	}
	return arr;
}
