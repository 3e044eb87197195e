/* view_cluster.c — the average-linkage dendrogram of the current matrix
 * (cluster_cut.h) as character art, leaves on the left and merge height
 * growing to the right with the scores on the axis, and its cut: < and >
 * move the cut one merge height (tied merges together), c collapses or
 * expands a subtree, the right pane lists the clusters (size, purity, majority
 * family) and the selected one's families, types and members, models whose
 * family disagrees with their cluster's majority marked with ≠. Enter opens the
 * heatmap of the selected cluster. */
#include "cluster_cut.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clview {
	struct mp_view base;
	struct mp_cluster_tree *tree;
	struct mp_cluster_cut *cut;
	const char **family, **type; /* [n] per matrix row, borrowed */
	size_t applied;		     /* merges within the cut */
	bool *collapsed;	     /* [n-1] per merge */
	size_t *row_node, nrows;     /* visible rows: leaf or collapsed node */
	size_t *pos; /* [n] position of each leaf in the order */
	size_t cur, top;
	int rows;
	char err[MP_ERRMSG_MAX];
};

static const struct mp_tui_model *model_of(const struct clview *v, size_t row)
{
	const struct mp_tui_data *d = v->base.app->data;
	return &d->models[d->row_model[row]];
}

static size_t first_leaf(const struct clview *v, size_t node)
{
	size_t n = v->tree->n;
	while (node >= n)
		node = v->tree->merge[node - n].a;
	return node;
}

/* The rows of the tree from node, depth first (recursion depth at most
 * the tree's height). */
static void list_rows(struct clview *v, size_t node)
{
	size_t n = v->tree->n;
	if (node < n || v->collapsed[node - n]) {
		v->row_node[v->nrows++] = node;
		return;
	}
	list_rows(v, v->tree->merge[node - n].a);
	list_rows(v, v->tree->merge[node - n].b);
}

static void relist(struct clview *v)
{
	size_t keep = v->nrows ? first_leaf(v, v->row_node[v->cur]) : 0;
	v->nrows = 0;
	if (v->tree->n)
		list_rows(v, 2 * v->tree->n - 2);
	v->cur = 0;
	for (size_t i = 0; i < v->nrows; i++)
		if (v->pos[first_leaf(v, v->row_node[i])] <= v->pos[keep])
			v->cur = i;
}

static bool recut(struct clview *v)
{
	const struct mp_cluster_tree *t = v->tree;
	double c = v->applied  ? t->score[v->applied - 1]
		   : t->higher ? INFINITY
			       : -INFINITY;
	struct mp_cluster_cut *cut;
	struct mp_error err;
	if (mp_cluster_cut_make(t, c, v->family, v->type, &cut, &err) !=
	    MP_OK) {
		snprintf(v->err, sizeof v->err, "%s", err.msg);
		return false;
	}
	mp_cluster_cut_free(v->cut);
	v->cut = cut;
	return true;
}

static void drop(struct clview *v)
{
	mp_cluster_tree_free(v->tree);
	mp_cluster_cut_free(v->cut);
	free(v->family);
	free(v->type);
	free(v->collapsed);
	free(v->row_node);
	free(v->pos);
	v->pos = NULL;
	v->tree = NULL;
	v->cut = NULL;
	v->family = v->type = NULL;
	v->collapsed = NULL;
	v->row_node = NULL;
	v->nrows = v->cur = v->top = 0;
}

/* Cluster the current matrix and cut it at the default. */
static bool load(struct clview *v)
{
	struct mp_tui *t = v->base.app;
	const struct mp_simmatrix *m = mp_tui_matrix(t);
	struct mp_error err;
	drop(v);
	v->err[0] = '\0';
	mp_tui_busy(t, "clustering");
	if (mp_cluster_tree_build(m, &v->tree, &err) != MP_OK) {
		snprintf(v->err, sizeof v->err, "%s", err.msg);
		return false;
	}
	size_t n = m->n ? m->n : 1;
	v->family = malloc(n * sizeof *v->family);
	v->type = malloc(n * sizeof *v->type);
	v->collapsed = calloc(n, sizeof *v->collapsed);
	v->row_node = malloc(n * sizeof *v->row_node);
	v->pos = malloc(n * sizeof *v->pos);
	if (!v->family || !v->type || !v->collapsed || !v->row_node ||
	    !v->pos) {
		snprintf(v->err, sizeof v->err, "out of memory");
		return false;
	}
	for (size_t i = 0; i < m->n; i++) {
		v->pos[v->tree->order[i]] = i;
		v->family[i] = model_of(v, i)->family;
		v->type[i] = model_of(v, i)->type;
	}
	double c = mp_cluster_default_cut(v->tree);
	v->applied = 0;
	while (v->applied + 1 < m->n &&
	       mp_cluster_within(v->tree, v->tree->score[v->applied], c))
		v->applied++;
	relist(v);
	v->cur = v->top = 0;
	return recut(v);
}

/* Column of merge height h in a tree drawn over columns x0..x1. */
static int col_of(const struct clview *v, double h, int x0, int x1)
{
	double top = v->tree->n > 1 ? v->tree->merge[v->tree->n - 2].height : 0;
	if (!(top > 0))
		return x0;
	return x0 + (int)lround((x1 - x0) * (h / top));
}

struct art {
	struct mp_canvas *c;
	int x0, x1, y0; /* tree columns, first canvas row */
	bool uni;
};

static void put(const struct clview *v, const struct art *a, int x, long row,
		uint32_t uc, char ac)
{
	long y = row - (long)v->top;
	if (y >= 0 && y < v->rows)
		mp_canvas_put(a->c, x, a->y0 + (int)y,
			      a->uni ? uc : (uint32_t)ac, mp_style_dim);
}

/* Draw node's subtree; returns its row (times 1) and column. */
static long draw_node(const struct clview *v, const struct art *a, size_t node,
		      size_t *next, int *xout)
{
	size_t n = v->tree->n;
	if (node < n || v->collapsed[node - n]) {
		*xout = a->x0 - 1;
		return (long)(*next)++;
	}
	const struct mp_merge *m = &v->tree->merge[node - n];
	int xa, xb;
	long ya = draw_node(v, a, m->a, next, &xa);
	long yb = draw_node(v, a, m->b, next, &xb);
	int x = col_of(v, m->height, a->x0, a->x1);
	/* right of both children when there is room (ties share a column) */
	int want = (xa > xb ? xa : xb) + 1;
	if (x < want)
		x = want < a->x1 ? want : a->x1;
	for (int i = xa + 1; i < x; i++)
		put(v, a, i, ya, 0x2500, '-');
	for (int i = xb + 1; i < x; i++)
		put(v, a, i, yb, 0x2500, '-');
	long mid = (ya + yb) / 2;
	for (long y = ya + 1; y < yb; y++)
		put(v, a, x, y, y == mid ? 0x251c : 0x2502, '|');
	put(v, a, x, ya, mid == ya ? 0x252c : 0x2510, '+');
	put(v, a, x, yb, 0x2518, '+');
	*xout = x;
	return mid;
}

struct mp_simmatrix *mp_tui_submatrix(const struct mp_tui *t,
				      const size_t *models, size_t n,
				      size_t **rows)
{
	const struct mp_simmatrix *m = mp_tui_matrix(t);
	size_t *r = malloc((n ? n : 1) * sizeof *r), k = 0;
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		long row = mp_tui_data_row(t->data, models[i]);
		if (row >= 0)
			r[k++] = (size_t)row;
	}
	struct mp_simmatrix *s = mp_simmatrix_new(m->method, m->metric, k);
	if (!s) {
		free(r);
		return NULL;
	}
	s->higher_is_more_alike = m->higher_is_more_alike;
	s->estimate = m->estimate;
	s->sketch_values = m->sketch_values;
	for (size_t i = 0; i < k; i++) {
		if (!(s->ids[i] = strdup(m->ids[r[i]]))) {
			mp_simmatrix_free(s);
			free(r);
			return NULL;
		}
		for (size_t j = 0; j < k; j++) {
			s->value[i * k + j] = m->value[r[i] * m->n + r[j]];
			s->reason[i * k + j] =
			    m->reason ? m->reason[r[i] * m->n + r[j]] : NULL;
		}
	}
	*rows = r;
	return s;
}

long mp_tui_subrow(const size_t *rows, size_t n, long r)
{
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (rows[i] == (size_t)r)
			return (long)i;
	return -1;
}

/* The cluster of the cursor's row. */
static size_t sel_cluster(const struct clview *v)
{
	return v->cut->cluster_of[first_leaf(v, v->row_node[v->cur])];
}

static void draw_labels(struct clview *v, struct mp_canvas *c, int lw)
{
	size_t n = v->tree->n, sel = sel_cluster(v);
	uint32_t ne = v->base.app->caps.unicode ? 0x2260 : '!';
	for (int y = 0; y < v->rows && v->top + (size_t)y < v->nrows; y++) {
		size_t i = v->top + (size_t)y, node = v->row_node[i];
		size_t leaf = first_leaf(v, node);
		bool in_sel = v->cut->cluster_of[leaf] == sel;
		struct mp_style st = i == v->cur ? mp_style_sel
				     : in_sel	 ? mp_style_head
						 : MP_STYLE_PLAIN;
		mp_canvas_fill(c, 0, 2 + y, lw, 1, ' ', st);
		if (node >= n) {
			mp_canvas_printf(c, 0, 2 + y, lw, st, "[+%zu] %s",
					 v->tree->merge[node - n].size,
					 model_of(v, leaf)->name);
			continue;
		}
		if (v->cut->disagrees[leaf])
			mp_canvas_put(c, 0, 2 + y, ne, st);
		mp_canvas_text(c, 1, 2 + y, lw - 1, st,
			       model_of(v, leaf)->name);
	}
}

static void draw_tree(struct clview *v, struct mp_canvas *c, int lw, int w)
{
	const struct mp_cluster_tree *t = v->tree;
	struct art a = {c, lw + 1, w - 1, 2, v->base.app->caps.unicode};
	if (a.x1 <= a.x0 || t->n < 2)
		return;
	/* the cut: halfway between the last merge kept and the next */
	double lo = v->applied ? t->merge[v->applied - 1].height : 0;
	double hi = v->applied < t->n - 1 ? t->merge[v->applied].height : lo;
	int xc = col_of(v, (lo + hi) / 2, a.x0, a.x1);
	for (int y = 0; y < v->rows; y++)
		mp_canvas_put(c, xc, 2 + y, a.uni ? 0x250a : ':', mp_style_dim);
	size_t next = 0;
	int x;
	draw_node(v, &a, 2 * t->n - 2, &next, &x);
	/* the axis: scores at both ends and at the cut */
	int ya = 2 + v->rows;
	double best = t->score[0] - (t->higher ? -1 : 1) * t->merge[0].height;
	mp_canvas_printf(c, a.x0, ya, a.x1 - a.x0, mp_style_dim, "%.3g", best);
	char s[32];
	int len = snprintf(s, sizeof s, "%.3g", t->score[t->n - 2]);
	mp_canvas_text(c, a.x1 - len + 1, ya, len, mp_style_dim, s);
	int cl = snprintf(s, sizeof s, v->applied ? "^%.3g" : "^", v->cut->cut);
	int xs = xc + cl > w ? w - cl : xc;
	mp_canvas_text(c, xs, ya, cl, mp_style_head, s);
}

static void draw_counts(struct mp_canvas *c, int x, int y, int w,
			const char *what, const struct mp_cluster_count *k,
			size_t n)
{
	int used = mp_canvas_printf(c, x, y, w, mp_style_dim, "%s ", what);
	for (size_t i = 0; i < n && used < w; i++)
		used += mp_canvas_printf(c, x + used, y, w - used,
					 MP_STYLE_PLAIN, "%s %zu%s", k[i].name,
					 k[i].count, i + 1 < n ? ", " : "");
	if (!n)
		mp_canvas_text(c, x + used, y, w - used, MP_STYLE_PLAIN,
			       "unknown");
}

/* Clusters (top part) and the selected one (bottom part). */
static void draw_list(struct clview *v, struct mp_canvas *c, int x, int w)
{
	const struct mp_cluster_cut *k = v->cut;
	size_t sel = sel_cluster(v);
	int half = v->rows / 2 > 2 ? v->rows / 2 : 2;
	mp_canvas_printf(c, x, 2, w, mp_style_head, "%-4s %4s %6s  %s", "#",
			 "size", "purity", "majority family");
	size_t first = sel >= (size_t)half - 1 ? sel - (size_t)half + 2 : 0;
	for (int y = 1; y < half && first + (size_t)y - 1 < k->n; y++) {
		size_t i = first + (size_t)y - 1;
		const struct mp_cluster *cl = &k->v[i];
		char pur[16];
		snprintf(pur, sizeof pur, isnan(cl->purity) ? "-" : "%.2f",
			 cl->purity);
		mp_canvas_printf(c, x, 2 + y, w,
				 i == sel ? mp_style_sel : MP_STYLE_PLAIN,
				 "%-4zu %4zu %6s  %s%s", i + 1, cl->size, pur,
				 cl->majority ? cl->majority : "unknown",
				 cl->n_disagree ? " !" : "");
	}
	const struct mp_cluster *cl = &k->v[sel];
	int y = 2 + half;
	uint32_t ne = v->base.app->caps.unicode ? 0x2260 : '!';
	mp_canvas_printf(c, x, y++, w, mp_style_head, "cluster %zu: %zu models",
			 sel + 1, cl->size);
	draw_counts(c, x, y++, w, "families", cl->families, cl->n_families);
	draw_counts(c, x, y++, w, "types", cl->types, cl->n_types);
	for (size_t i = 0; i < cl->size && y < 2 + v->rows; i++) {
		size_t r = cl->member[i];
		const struct mp_tui_model *mo = model_of(v, r);
		if (k->disagrees[r]) {
			mp_canvas_put(c, x, y, ne, mp_style_head);
			mp_canvas_printf(c, x + 2, y++, w - 2, mp_style_head,
					 "%s (%s)", mo->name, mo->family);
		} else
			mp_canvas_printf(c, x + 2, y++, w - 2, MP_STYLE_PLAIN,
					 "%s", mo->name);
	}
}

static void draw(struct mp_view *vv, struct mp_canvas *c)
{
	struct clview *v = (struct clview *)vv;
	if (!v->tree || !v->cut || v->nrows == 0) {
		mp_canvas_text(c, 0, 2, c->w, MP_STYLE_PLAIN,
			       v->err[0] ? v->err : "no models to cluster");
		return;
	}
	v->rows = c->h - 4;
	if (v->rows < 1)
		return;
	mp_list_clamp(&v->cur, &v->top, v->nrows, v->rows);
	char name[128];
	char at[32] = "before any merge";
	if (v->applied)
		snprintf(at, sizeof at, "at %.4g", v->cut->cut);
	mp_canvas_printf(c, 0, 1, c->w, mp_style_dim,
			 "%s: %zu cluster%s %s (%s), %zu of %zu merges",
			 mp_tui_matrix_name(v->base.app, name, sizeof name),
			 v->cut->n, v->cut->n == 1 ? "" : "s", at,
			 v->tree->higher ? "higher = more alike"
					 : "lower = more alike",
			 v->applied, v->tree->n - 1);
	int left = c->w * 11 / 20, lw = left / 2 < 10 ? 10 : left / 2;
	draw_labels(v, c, lw);
	draw_tree(v, c, lw, left);
	draw_list(v, c, left + 2, c->w - left - 2);
}

/* Collapse the parent of the row's node, or expand a collapsed node. */
static void toggle(struct clview *v)
{
	size_t n = v->tree->n, node = v->row_node[v->cur];
	if (node >= n) {
		v->collapsed[node - n] = false;
	} else {
		for (size_t k = 0; k + 1 < n; k++) /* the merge holding it */
			if (v->tree->merge[k].a == node ||
			    v->tree->merge[k].b == node) {
				v->collapsed[k] = true;
				break;
			}
	}
	/* a collapsed node inside a collapsed node stays hidden: fine */
	relist(v);
}

static bool action(struct mp_view *vv, enum mp_action a)
{
	struct clview *v = (struct clview *)vv;
	if (!v->tree || !v->cut || v->nrows == 0)
		return false;
	size_t merges = v->tree->n - 1;
	const double *sc = v->tree->score;
	switch (a) {
	case MP_ACT_CUT_LOOSER: /* tied merges go together */
		if (v->applied < merges)
			v->applied++;
		while (v->applied < merges &&
		       sc[v->applied] == sc[v->applied - 1])
			v->applied++;
		break;
	case MP_ACT_CUT_TIGHTER:
		if (v->applied > 0)
			v->applied--;
		while (v->applied > 0 && sc[v->applied - 1] == sc[v->applied])
			v->applied--;
		break;
	case MP_ACT_COLLAPSE:
		toggle(v);
		return true;
	case MP_ACT_ENTER: {
		const struct mp_cluster *cl = &v->cut->v[sel_cluster(v)];
		size_t *models = malloc(cl->size * sizeof *models);
		if (!models) {
			mp_tui_message(vv->app, "out of memory");
			return true;
		}
		for (size_t i = 0; i < cl->size; i++)
			models[i] = vv->app->data->row_model[cl->member[i]];
		mp_tui_push(vv->app, mp_view_heatmap_subset_new(vv->app, models,
								cl->size));
		free(models);
		mp_tui_message(vv->app, "heatmap of cluster %zu (%zu models)",
			       sel_cluster(v) + 1, cl->size);
		return true;
	}
	default:
		return mp_list_move(&v->cur, &v->top, v->nrows, v->rows, a);
	}
	if (!recut(v))
		mp_tui_message(vv->app, "%s", v->err);
	return true;
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct clview *v = ctx;
	const struct mp_tui_model *mo =
	    model_of(v, first_leaf(v, v->row_node[i]));
	return mp_tui_match(mo->name, text) || mp_tui_match(mo->id, text) ||
	       mp_tui_match(mo->family, text);
}

static bool search(struct mp_view *vv, const char *text, int dir)
{
	struct clview *v = (struct clview *)vv;
	return v->nrows &&
	       mp_list_search(&v->cur, v->nrows, dir, hit, v, text);
}

static void matrix_changed(struct mp_view *vv)
{
	load((struct clview *)vv);
}

static void free_view(struct mp_view *vv)
{
	struct clview *v = (struct clview *)vv;
	if (!v)
		return;
	drop(v);
	free(v);
}

static const struct mp_view_ops ops = {
    "clusters", draw, action, NULL, search, matrix_changed, free_view};

struct mp_view *mp_view_cluster_new(struct mp_tui *t)
{
	if (!mp_tui_matrix(t))
		return NULL;
	struct clview *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->base.ops = &ops;
	v->base.app = t;
	v->rows = 20;
	load(v); /* on failure the view shows the error */
	return &v->base;
}
