/* groups.c — intrafamily, interfamily and type-pair groups of one
 * similarity matrix, with their summary statistics. */
#include "groups.h"
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const EMPTY = "";

/* A pair of the upper triangle with its sort key (radix sorted). */
struct rec {
	uint64_t key;
	uint32_t i, j;
};

/* Order-preserving unsigned key of a finite double. */
static uint64_t ordkey(double x)
{
	uint64_t b;
	memcpy(&b, &x, sizeof b);
	return (b >> 63) ? ~b : b | (1ULL << 63);
}

/* Stable LSD radix sort of r[0..n) by key, 16 bits per pass; count has
 * 1 << 16 slots. */
static void radix_sort(struct rec *r, struct rec *tmp, size_t *count, size_t n)
{
	for (int shift = 0; shift < 64; shift += 16) {
		memset(count, 0, ((size_t)1 << 16) * sizeof *count);
		for (size_t k = 0; k < n; k++)
			count[(r[k].key >> shift) & 0xffff]++;
		bool trivial = false;
		for (size_t d = 0; d < (1 << 16); d++)
			if (count[d] == n)
				trivial = true;
		if (trivial)
			continue;
		size_t sum = 0;
		for (size_t d = 0; d < (1 << 16); d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t k = 0; k < n; k++)
			tmp[count[(r[k].key >> shift) & 0xffff]++] = r[k];
		memcpy(r, tmp, n * sizeof *r);
	}
}

bool mp_analysis_more_alike(const struct mp_analysis *a, double x, double y)
{
	return a->m->higher_is_more_alike ? x > y : x < y;
}

static void free_groups(struct mp_group_stats *g, size_t n)
{
	for (size_t i = 0; i < n && g; i++) {
		free(g[i].label);
		free(g[i].pairs);
	}
	free(g);
}

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n && v; i++)
		free(v[i]);
	free(v);
}

void mp_analysis_free(struct mp_analysis *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->family);
	free(a->type);
	free(a->in_info);
	free(a->order);
	free_strs(a->missing_in_info, a->n_missing_in_info);
	free_strs(a->missing_in_results, a->n_missing_in_results);
	free(a->pairs);
	free_groups(a->intra, a->n_intra);
	free_groups(a->inter, a->n_inter);
	free_groups(a->typepair, a->n_typepair);
	free_strs(a->families, a->n_families);
	free_strs(a->types, a->n_types);
	free(a);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int cmp_row(const void *x, const void *y, void *ctx)
{
	const struct mp_analysis *a = ctx;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	/* models without a family go last */
	int ei = !*a->family[i], ej = !*a->family[j];
	if (ei != ej)
		return ei - ej;
	int c = strcmp(a->family[i], a->family[j]);
	if (!c)
		c = strcmp(a->type[i], a->type[j]);
	if (!c)
		c = strcmp(a->name[i], a->name[j]);
	return c ? c : (i > j) - (i < j);
}

/* Distinct non-empty strings of s[0..n) into a sorted owned table; idx[i]
 * gets the position of s[i] there, -1 for "". */
static bool distinct(const char *const *s, size_t n, char ***out, size_t *nout,
		     long *idx)
{
	const char **tmp = malloc((n ? n : 1) * sizeof *tmp);
	if (!tmp)
		return false;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (*s[i])
			tmp[k++] = s[i];
	qsort(tmp, k, sizeof *tmp, cmp_str);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (u == 0 || strcmp(tmp[u - 1], tmp[i]) != 0)
			tmp[u++] = tmp[i];
	char **t = calloc(u ? u : 1, sizeof *t);
	bool ok = t != NULL;
	for (size_t i = 0; i < u && ok; i++)
		ok = (t[i] = mp_strdup(tmp[i])) != NULL;
	for (size_t i = 0; i < n && ok; i++) {
		idx[i] = -1;
		if (!*s[i])
			continue;
		const char **hit = bsearch(&s[i], t, u, sizeof *t, cmp_str);
		idx[i] = (long)(hit - (const char **)t);
	}
	free(tmp);
	if (!ok) {
		free_strs(t, u);
		return false;
	}
	*out = t;
	*nout = u;
	return true;
}

/* Ids of the matrix missing from info, and the reverse. */
static bool find_missing(struct mp_analysis *a,
			 const struct mp_model_info_set *info)
{
	const struct mp_simmatrix *m = a->m;
	size_t ninfo = info ? info->n : 0;
	a->missing_in_info = calloc(m->n + 1, sizeof(char *));
	a->missing_in_results = calloc(ninfo + 1, sizeof(char *));
	size_t *by = mp_simmatrix_id_index(m);
	bool ok = a->missing_in_info && a->missing_in_results && by;
	for (size_t i = 0; i < m->n && ok; i++)
		if (!a->in_info[i])
			ok = (a->missing_in_info[a->n_missing_in_info++] =
				      mp_strdup(m->ids[i])) != NULL;
	for (size_t k = 0; k < ninfo && ok; k++)
		if (mp_simmatrix_find_row(m, by, info->v[k].id) < 0)
			ok = (a->missing_in_results[a->n_missing_in_results++] =
				      mp_strdup(info->v[k].id)) != NULL;
	free(by);
	return ok;
}

/* Statistics of group g from its sorted pair list. */
static void group_stats(const struct mp_analysis *a, struct mp_group_stats *g)
{
	size_t n = g->n_pairs;
	if (n == 0) {
		g->min = g->max = g->mean = g->variance = NAN;
		g->q25 = g->median = g->q75 = NAN;
		return;
	}
	bool desc = a->m->higher_is_more_alike;
#define ASC(k) (a->pairs[g->pairs[desc ? n - 1 - (k) : (k)]].value)
	double sum = 0;
	for (size_t k = 0; k < n; k++)
		sum += ASC(k);
	g->mean = sum / (double)n;
	double ss = 0;
	for (size_t k = 0; k < n; k++) {
		double d = ASC(k) - g->mean;
		ss += d * d;
	}
	g->variance = n > 1 ? ss / (double)(n - 1) : 0;
	g->min = ASC(0);
	g->max = ASC(n - 1);
	double q[3] = {0.25, 0.5, 0.75}, *dst[3] = {&g->q25, &g->median, &g->q75};
	for (int t = 0; t < 3; t++) {
		double h = (double)(n - 1) * q[t];
		size_t lo = (size_t)floor(h);
		double v = ASC(lo);
		if (lo + 1 < n)
			v += (h - (double)lo) * (ASC(lo + 1) - v);
		*dst[t] = v;
	}
#undef ASC
}

static int cmp_group(const void *x, const void *y, void *ctx)
{
	const struct mp_group_stats *g = x, *h = y;
	bool higher = *(const bool *)ctx;
	if ((g->n_pairs == 0) != (h->n_pairs == 0))
		return g->n_pairs == 0 ? 1 : -1;
	if (g->n_pairs && g->mean != h->mean)
		return (higher ? g->mean > h->mean : g->mean < h->mean) ? -1 : 1;
	return strcmp(g->label, h->label);
}

/* Sort groups by mean; returns the inverse permutation (old index -> new),
 * NULL when out of memory. */
static long *sort_groups(struct mp_group_stats *g, size_t n, bool higher)
{
	struct tagged {
		struct mp_group_stats g;
		size_t old;
	} *t = malloc((n ? n : 1) * sizeof *t);
	long *inv = malloc((n ? n : 1) * sizeof *inv);
	if (!t || !inv) {
		free(t);
		free(inv);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		t[i].g = g[i];
		t[i].old = i;
	}
	qsort_r(t, n, sizeof *t, cmp_group, &higher);
	for (size_t i = 0; i < n; i++) {
		g[i] = t[i].g;
		inv[t[i].old] = (long)i;
	}
	free(t);
	return inv;
}

static char *label2(const char *x, const char *sep, const char *y)
{
	size_t n = strlen(x) + strlen(sep) + strlen(y) + 1;
	char *s = malloc(n);
	if (s) {
		strcpy(s, x);
		strcat(s, sep);
		strcat(s, y);
	}
	return s;
}

/* Work arrays of one computation. */
struct work {
	long *fam, *typ;   /* [n] family / type index per row, -1 unknown */
	long *intra_id;    /* [F] group of a family, -1 under two models */
	long *inter_id;    /* [F*F] group of families f < g */
	long *tp_id;       /* [T*T] group of types t < u, -1 until seen */
	size_t *fam_count; /* [F] */
};

static void work_done(struct work *w)
{
	free(w->fam);
	free(w->typ);
	free(w->intra_id);
	free(w->inter_id);
	free(w->tp_id);
	free(w->fam_count);
}

static mp_status nomem(struct mp_analysis *a, struct work *w,
		       struct mp_error *err)
{
	work_done(w);
	mp_analysis_free(a);
	return mp_error_set(err, MP_ENOMEM, "out of memory analysing the "
					    "matrix");
}

/* Create the family groups (intra for families of >= 2 models, inter for
 * every two families). */
static bool make_family_groups(struct mp_analysis *a, struct work *w)
{
	size_t F = a->n_families;
	w->intra_id = malloc((F ? F : 1) * sizeof *w->intra_id);
	w->inter_id = malloc((F ? F * F : 1) * sizeof *w->inter_id);
	a->intra = calloc(F ? F : 1, sizeof *a->intra);
	a->inter = calloc(F > 1 ? F * (F - 1) / 2 : 1, sizeof *a->inter);
	if (!w->intra_id || !w->inter_id || !a->intra || !a->inter)
		return false;
	for (size_t f = 0; f < F; f++) {
		w->intra_id[f] = -1;
		if (w->fam_count[f] < 2)
			continue;
		struct mp_group_stats *g = &a->intra[a->n_intra];
		g->kind = MP_GROUP_INTRA;
		g->key[0] = g->key[1] = a->families[f];
		if (!(g->label = mp_strdup(a->families[f])))
			return false;
		w->intra_id[f] = (long)a->n_intra++;
	}
	for (size_t f = 0; f < F; f++)
		for (size_t h = f + 1; h < F; h++) {
			struct mp_group_stats *g = &a->inter[a->n_inter];
			g->kind = MP_GROUP_INTER;
			g->key[0] = a->families[f];
			g->key[1] = a->families[h];
			if (!(g->label = label2(g->key[0], " vs ", g->key[1])))
				return false;
			w->inter_id[f * F + h] = (long)a->n_inter++;
		}
	return true;
}

/* The type-pair group of types t < u, created on first use; -1 when out
 * of memory (then *oom is set). */
static long typepair_group(struct mp_analysis *a, struct work *w, long t,
			   long u, size_t *cap, bool *oom)
{
	size_t T = a->n_types;
	long *slot = &w->tp_id[(size_t)t * T + (size_t)u];
	if (*slot >= 0)
		return *slot;
	if (a->n_typepair == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct mp_group_stats *g =
			realloc(a->typepair, nc * sizeof *g);
		if (!g) {
			*oom = true;
			return -1;
		}
		a->typepair = g;
		*cap = nc;
	}
	struct mp_group_stats *g = &a->typepair[a->n_typepair];
	memset(g, 0, sizeof *g);
	g->kind = MP_GROUP_TYPEPAIR;
	g->key[0] = a->types[t];
	g->key[1] = a->types[u];
	if (!(g->label = label2(g->key[0], "-", g->key[1]))) {
		*oom = true;
		return -1;
	}
	*slot = (long)a->n_typepair++;
	return *slot;
}

/* Allocate each group's pair list and fill it in the global order. */
static bool fill_group_lists(struct mp_analysis *a)
{
	struct {
		struct mp_group_stats *g;
		size_t n;
	} kinds[3] = {{a->intra, a->n_intra},
		      {a->inter, a->n_inter},
		      {a->typepair, a->n_typepair}};
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < kinds[k].n; i++) {
			struct mp_group_stats *g = &kinds[k].g[i];
			size_t tot = g->n_pairs + g->n_null;
			g->pairs = malloc((tot ? tot : 1) * sizeof *g->pairs);
			if (!g->pairs)
				return false;
			g->n_pairs = g->n_null = 0;
		}
	for (size_t k = 0; k < a->npairs; k++) {
		const struct mp_pair *p = &a->pairs[k];
		struct mp_group_stats *gs[2] = {NULL, NULL};
		if (p->intra_or_inter >= 0)
			gs[0] = p->same_family ? &a->intra[p->intra_or_inter]
					       : &a->inter[p->intra_or_inter];
		if (p->typepair >= 0)
			gs[1] = &a->typepair[p->typepair];
		for (int t = 0; t < 2; t++) {
			if (!gs[t])
				continue;
			gs[t]->pairs[gs[t]->n_pairs + gs[t]->n_null] = k;
			if (p->defined)
				gs[t]->n_pairs++;
			else
				gs[t]->n_null++;
		}
	}
	return true;
}

/* Sort every table by mean and renumber the pairs' group indices. */
static bool sort_tables(struct mp_analysis *a)
{
	bool higher = a->m->higher_is_more_alike;
	for (size_t i = 0; i < a->n_intra; i++)
		group_stats(a, &a->intra[i]);
	for (size_t i = 0; i < a->n_inter; i++)
		group_stats(a, &a->inter[i]);
	for (size_t i = 0; i < a->n_typepair; i++)
		group_stats(a, &a->typepair[i]);
	long *inv_intra = sort_groups(a->intra, a->n_intra, higher);
	long *inv_inter = sort_groups(a->inter, a->n_inter, higher);
	long *inv_tp = sort_groups(a->typepair, a->n_typepair, higher);
	bool ok = inv_intra && inv_inter && inv_tp;
	for (size_t k = 0; k < a->npairs && ok; k++) {
		struct mp_pair *p = &a->pairs[k];
		if (p->intra_or_inter >= 0)
			p->intra_or_inter = p->same_family
						    ? inv_intra[p->intra_or_inter]
						    : inv_inter[p->intra_or_inter];
		if (p->typepair >= 0)
			p->typepair = inv_tp[p->typepair];
	}
	free(inv_intra);
	free(inv_inter);
	free(inv_tp);
	return ok;
}

/* Sorted pairs of the upper triangle, most alike first, nulls last. */
static struct rec *sorted_pairs(const struct mp_simmatrix *m, size_t npairs)
{
	struct rec *r = malloc((npairs ? npairs : 1) * sizeof *r);
	struct rec *tmp = malloc((npairs ? npairs : 1) * sizeof *tmp);
	size_t *count = malloc(((size_t)1 << 16) * sizeof *count);
	if (!r || !tmp || !count) {
		free(r);
		free(tmp);
		free(count);
		return NULL;
	}
	size_t k = 0, n = m->n;
	bool higher = m->higher_is_more_alike;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++, k++) {
			double v = m->value[i * n + j];
			r[k].i = (uint32_t)i;
			r[k].j = (uint32_t)j;
			if (isnan(v))
				r[k].key = UINT64_MAX;
			else
				r[k].key = higher ? ~ordkey(v) : ordkey(v);
		}
	radix_sort(r, tmp, count, npairs);
	free(tmp);
	free(count);
	return r;
}

mp_status mp_analysis_compute(const struct mp_simmatrix *m,
			      const struct mp_model_info_set *info,
			      struct mp_analysis **out, struct mp_error *err)
{
	*out = NULL;
	struct work w = {0};
	size_t n = m->n;
	if (n > UINT32_MAX)
		return mp_error_set(err, MP_ERANGE, "%s/%s: %zu models are too "
						    "many to analyse",
				    m->method, m->metric, n);
	struct mp_analysis *a = calloc(1, sizeof *a);
	if (!a)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	a->m = m;
	a->n = n;
	size_t n1 = n ? n : 1;
	a->name = malloc(n1 * sizeof *a->name);
	a->family = malloc(n1 * sizeof *a->family);
	a->type = malloc(n1 * sizeof *a->type);
	a->in_info = malloc(n1 * sizeof *a->in_info);
	a->order = malloc(n1 * sizeof *a->order);
	w.fam = malloc(n1 * sizeof *w.fam);
	w.typ = malloc(n1 * sizeof *w.typ);
	if (!a->name || !a->family || !a->type || !a->in_info || !a->order ||
	    !w.fam || !w.typ)
		return nomem(a, &w, err);
	for (size_t i = 0; i < n; i++) {
		const struct mp_model_info *mi = mp_model_info_find(info, m->ids[i]);
		a->in_info[i] = mi != NULL;
		a->name[i] = mi ? mi->name : m->ids[i];
		a->family[i] = mi ? mi->family : EMPTY;
		a->type[i] = mi ? mi->type : EMPTY;
		a->order[i] = i;
	}
	qsort_r(a->order, n, sizeof *a->order, cmp_row, a);
	if (!find_missing(a, info) ||
	    !distinct(a->family, n, &a->families, &a->n_families, w.fam) ||
	    !distinct(a->type, n, &a->types, &a->n_types, w.typ))
		return nomem(a, &w, err);
	size_t F = a->n_families, T = a->n_types;
	w.fam_count = calloc(F ? F : 1, sizeof *w.fam_count);
	w.tp_id = malloc((T ? T * T : 1) * sizeof *w.tp_id);
	if (!w.fam_count || !w.tp_id)
		return nomem(a, &w, err);
	for (size_t i = 0; i < T * T; i++)
		w.tp_id[i] = -1;
	for (size_t i = 0; i < n; i++)
		if (w.fam[i] >= 0)
			w.fam_count[w.fam[i]]++;
	if (!make_family_groups(a, &w))
		return nomem(a, &w, err);

	a->npairs = n > 1 ? n * (n - 1) / 2 : 0;
	struct rec *r = sorted_pairs(m, a->npairs);
	a->pairs = malloc((a->npairs ? a->npairs : 1) * sizeof *a->pairs);
	if (!r || !a->pairs) {
		free(r);
		return nomem(a, &w, err);
	}
	size_t tp_cap = 0;
	bool oom = false;
	for (size_t k = 0; k < a->npairs && !oom; k++) {
		struct mp_pair *p = &a->pairs[k];
		size_t i = r[k].i, j = r[k].j;
		p->i = i;
		p->j = j;
		p->value = m->value[i * n + j];
		p->defined = !isnan(p->value);
		p->reason = p->defined ? NULL : m->reason[i * n + j];
		if (!p->defined && !p->reason)
			p->reason = "undefined";
		a->n_null += !p->defined;
		long fi = w.fam[i], fj = w.fam[j];
		p->same_family = fi >= 0 && fi == fj;
		p->intra_or_inter = -1;
		p->typepair = -1;
		struct mp_group_stats *g = NULL;
		if (p->same_family && w.intra_id[fi] >= 0) {
			p->intra_or_inter = w.intra_id[fi];
			g = &a->intra[p->intra_or_inter];
		} else if (fi >= 0 && fj >= 0 && fi != fj) {
			long lo = fi < fj ? fi : fj, hi = fi < fj ? fj : fi;
			p->intra_or_inter = w.inter_id[(size_t)lo * F + (size_t)hi];
			g = &a->inter[p->intra_or_inter];
		}
		if (g)
			*(p->defined ? &g->n_pairs : &g->n_null) += 1;
		long ti = w.typ[i], tj = w.typ[j];
		if (p->same_family && ti >= 0 && tj >= 0 && ti != tj) {
			p->typepair = typepair_group(a, &w, ti < tj ? ti : tj,
						     ti < tj ? tj : ti, &tp_cap,
						     &oom);
			if (p->typepair >= 0) {
				g = &a->typepair[p->typepair];
				*(p->defined ? &g->n_pairs : &g->n_null) += 1;
			}
		}
	}
	free(r);
	if (oom || !fill_group_lists(a) || !sort_tables(a))
		return nomem(a, &w, err);
	work_done(&w);
	*out = a;
	return MP_OK;
}

/* {"a": id, "b": id, "value": v} of pair index k. */
static bool add_pair(mp_json *o, const char *key, const struct mp_analysis *a,
		     size_t k)
{
	mp_json *p = mp_json_add_obj(o, key);
	const struct mp_pair *pr = &a->pairs[k];
	return p && mp_json_add_str(p, "a", a->m->ids[pr->i]) &&
	       mp_json_add_str(p, "b", a->m->ids[pr->j]) &&
	       mp_json_add_num(p, "value", pr->value);
}

static bool add_groups(mp_json *root, const char *key,
		       const struct mp_analysis *a,
		       const struct mp_group_stats *g, size_t n)
{
	mp_json *arr = mp_json_add_arr(root, key);
	if (!arr)
		return false;
	for (size_t i = 0; i < n; i++) {
		mp_json *o = mp_json_object();
		if (!mp_json_push(arr, o))
			return false;
		mp_json *keys;
		bool ok = mp_json_add_str(o, "label", g[i].label) &&
			  (keys = mp_json_add_arr(o, "keys")) &&
			  mp_json_push_str(keys, g[i].key[0]) &&
			  mp_json_push_str(keys, g[i].key[1]) &&
			  mp_json_add_num(o, "n_pairs", (double)g[i].n_pairs) &&
			  mp_json_add_num(o, "n_null", (double)g[i].n_null);
		const char *names[] = {"min", "max", "mean", "variance",
				       "q25", "median", "q75"};
		double vals[] = {g[i].min, g[i].max, g[i].mean, g[i].variance,
				 g[i].q25, g[i].median, g[i].q75};
		for (int t = 0; t < 7 && ok; t++)
			ok = mp_json_add_num(o, names[t], vals[t]) != NULL;
		if (ok && g[i].n_pairs)
			ok = add_pair(o, "most_alike", a, g[i].pairs[0]) &&
			     add_pair(o, "least_alike", a,
				      g[i].pairs[g[i].n_pairs - 1]);
		else if (ok)
			ok = mp_json_add_null(o, "most_alike") &&
			     mp_json_add_null(o, "least_alike");
		if (!ok)
			return false;
	}
	return true;
}

static bool add_ids(mp_json *root, const char *key, char *const *ids, size_t n)
{
	mp_json *arr = mp_json_add_arr(root, key);
	for (size_t i = 0; i < n && arr; i++)
		if (!mp_json_push_str(arr, ids[i]))
			return false;
	return arr != NULL;
}

mp_json *mp_analysis_to_json(const struct mp_analysis *a)
{
	mp_json *root = mp_json_object();
	char est[160];
	bool ok = root && mp_json_add_str(root, "method", a->m->method) &&
		  mp_json_add_str(root, "metric", a->m->metric) &&
		  mp_json_add_bool(root, "higher_is_more_alike",
				   a->m->higher_is_more_alike) &&
		  mp_simmatrix_estimate_to_json(a->m, root) &&
		  mp_json_add_str(root, "estimate_text",
				  mp_simmatrix_estimate_text(a->m, est,
							     sizeof est));
	mp_json *models = ok ? mp_json_add_arr(root, "models") : NULL;
	ok = models != NULL;
	for (size_t i = 0; i < a->n && ok; i++) {
		mp_json *o = mp_json_object();
		ok = mp_json_push(models, o) &&
		     mp_json_add_str(o, "id", a->m->ids[i]) &&
		     mp_json_add_str(o, "name", a->name[i]) &&
		     mp_json_add_str(o, "family", a->family[i]) &&
		     mp_json_add_str(o, "type", a->type[i]) &&
		     mp_json_add_bool(o, "in_model_info", a->in_info[i]);
	}
	mp_json *order = ok ? mp_json_add_arr(root, "order") : NULL;
	ok = order != NULL;
	for (size_t i = 0; i < a->n && ok; i++)
		ok = mp_json_push_num(order, (double)a->order[i]) != NULL;
	ok = ok &&
	     add_ids(root, "missing_in_model_info", a->missing_in_info,
		     a->n_missing_in_info) &&
	     add_ids(root, "missing_in_results", a->missing_in_results,
		     a->n_missing_in_results);
	mp_json *pc = ok ? mp_json_add_obj(root, "pairs") : NULL;
	ok = pc && mp_json_add_num(pc, "total", (double)a->npairs) &&
	     mp_json_add_num(pc, "defined", (double)(a->npairs - a->n_null)) &&
	     mp_json_add_num(pc, "null", (double)a->n_null) &&
	     add_groups(root, "intrafamily", a, a->intra, a->n_intra) &&
	     add_groups(root, "interfamily", a, a->inter, a->n_inter) &&
	     add_groups(root, "type_pairs", a, a->typepair, a->n_typepair);
	if (!ok) {
		mp_json_free(root);
		return NULL;
	}
	return root;
}
