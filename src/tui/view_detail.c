/* view_detail.c — one model: who it is, its nearest models by the current
 * matrix, its spectral histogram as a bar chart, and its tensors with
 * shape, dtype, statistics and a distribution sparkline drawn from the
 * sketch values. A line cursor moves over everything; Enter on a nearest
 * model opens it; the bottom line gives every statistic of the tensor under
 * the cursor. */
#include "namecut.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEAREST 10
#define BARS_H 8
#define SPARK_W 10

enum kind { L_TEXT, L_HEAD, L_NEAR, L_BARS, L_AXIS, L_TCOLS, L_TENSOR };

struct line {
	enum kind kind;
	size_t idx; /* L_NEAR: matrix row, L_BARS: bar row, L_TENSOR: tensor */
	double value;
	char text[160];
};

struct detail {
	struct mp_view base;
	size_t model;
	struct mp_fingerprint *tfp, *sfp; /* may be NULL */
	char tfp_err[MP_ERRMSG_MAX], sfp_err[MP_ERRMSG_MAX];
	struct line *lines;
	size_t nlines, cap, cur, top;
	int rows;
};

static struct line *add(struct detail *d, enum kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct line *add(struct detail *d, enum kind k, const char *fmt, ...)
{
	static struct line dummy;
	struct line *l = mp_tui_grow(&d->lines, &d->nlines, &d->cap,
				      sizeof *l);
	if (!l)
		l = &dummy; /* the line is lost, nothing else */
	l->kind = k;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->text, sizeof l->text, fmt, ap);
	va_end(ap);
	return l;
}

struct near {
	size_t row;
	double v;
	bool hi;
};

static int cmp_near(const void *pa, const void *pb)
{
	const struct near *a = pa, *b = pb;
	if (a->v != b->v)
		return (a->v > b->v) == a->hi ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

static void add_nearest(struct detail *d)
{
	struct mp_tui *t = d->base.app;
	const struct mp_simmatrix *m = mp_tui_matrix(t);
	char name[96];
	add(d, L_HEAD, "Nearest models by %s",
	    mp_tui_matrix_name(t, name, sizeof name));
	long r = m ? mp_tui_data_row(t->data, d->model) : -1;
	if (!m) {
		add(d, L_TEXT, "  no similarity matrix (give --results)");
		return;
	}
	if (r < 0) {
		add(d, L_TEXT, "  not in this matrix");
		return;
	}
	struct near *nb = malloc((m->n ? m->n : 1) * sizeof *nb);
	if (!nb) {
		add(d, L_TEXT, "  out of memory");
		return;
	}
	size_t k = 0;
	for (size_t j = 0; j < m->n; j++) {
		double v = m->value[(size_t)r * m->n + j];
		if (j != (size_t)r && !isnan(v))
			nb[k++] = (struct near){j, v, m->higher_is_more_alike};
	}
	qsort(nb, k, sizeof *nb, cmp_near);
	if (k == 0)
		add(d, L_TEXT, "  no defined score with any other model");
	for (size_t i = 0; i < k && i < NEAREST; i++) {
		const struct mp_tui_model *o =
			&t->data->models[t->data->row_model[nb[i].row]];
		struct line *l = add(d, L_NEAR, "  %10.6g  %s (%s/%s)", nb[i].v,
				     o->name, o->family, o->type);
		l->idx = nb[i].row;
	}
	free(nb);
}

/* "stored types: Q4_K 2097152 (99.9%), F32 1280 (0.1%)": the exact
 * parameter count of each stored type, largest first, as many as fit. */
static void stored_line(struct detail *d)
{
	struct mp_tui_stored st[MP_TUI_STORED_MAX];
	size_t k = mp_tui_stored_types(d->tfp, st);
	char buf[256];
	size_t n = (size_t)snprintf(buf, sizeof buf, "stored types:");
	for (size_t i = 0; i < k; i++) {
		double pct = d->tfp->params ? 100.0 * (double)st[i].params /
						  (double)d->tfp->params
					    : 0;
		int w = snprintf(buf + n, sizeof buf - n, "%s %s %llu (%s%.1f%%)",
				 i ? "," : "", st[i].name,
				 (unsigned long long)st[i].params,
				 pct < 0.05 ? "<" : "", pct < 0.05 ? 0.1 : pct);
		if (w < 0 || (size_t)w >= sizeof buf - n) {
			buf[n] = '\0';
			break;
		}
		n += (size_t)w;
	}
	add(d, L_TEXT, "%s", buf);
}

static void build(struct detail *d)
{
	struct mp_tui *t = d->base.app;
	const struct mp_tui_model *mo = &t->data->models[d->model];
	d->nlines = 0;
	char pb[16];
	add(d, L_HEAD, "%s", mo->name);
	add(d, L_TEXT, "id %s | family %s | type %s | format %s", mo->id,
	    *mo->family ? mo->family : "-", *mo->type ? mo->type : "-",
	    *mo->format ? mo->format : "-");
	if (d->tfp) {
		char dt[sizeof mo->dtypes];
		mp_tui_dtype_mix(d->tfp, dt, sizeof dt);
		add(d, L_TEXT, "%s parameters in %zu tensors | %s",
		    mp_tui_fmt_count(d->tfp->params, pb), d->tfp->ntensors, dt);
		stored_line(d);
	}
	add(d, L_TEXT, "%s", "");
	add_nearest(d);
	add(d, L_TEXT, "%s", "");
	add(d, L_HEAD, "Spectral histogram (sigma_i / sigma_1, 64 log bins)");
	if (d->sfp && d->sfp->has_hist) {
		double mx = 0;
		for (int i = 0; i < MP_SPECTRAL_BINS; i++)
			mx = fmax(mx, d->sfp->hist[i]);
		for (int k = 0; k < BARS_H; k++) {
			struct line *l = add(d, L_BARS, "%s", "");
			l->idx = (size_t)k;
			l->value = mx;
		}
		add(d, L_AXIS, "%s", "");
	} else {
		add(d, L_TEXT, "  %s", d->sfp ? "no histogram" : d->sfp_err);
	}
	add(d, L_TEXT, "%s", "");
	if (!d->tfp) {
		add(d, L_HEAD, "Tensors");
		add(d, L_TEXT, "  %s", d->tfp_err);
		return;
	}
	add(d, L_HEAD, "Tensors (%zu)", d->tfp->ntensors);
	add(d, L_TCOLS, "%s", "");
	for (size_t i = 0; i < d->tfp->ntensors; i++)
		add(d, L_TENSOR, "%s", "")->idx = i;
}

/* A SPARK_W-bin histogram of the sketch values as bar characters. */
static void sparkline(struct mp_canvas *c, int x, int y, struct mp_style st,
		      const struct mp_caps *caps, const struct mp_tensor_fp *tf)
{
	double lo = INFINITY, hi = -INFINITY;
	for (uint32_t i = 0; i < tf->nsketch; i++)
		if (isfinite(tf->sketch[i])) {
			lo = fmin(lo, tf->sketch[i]);
			hi = fmax(hi, tf->sketch[i]);
		}
	if (!(hi >= lo))
		return;
	unsigned count[SPARK_W] = {0}, mx = 0;
	for (uint32_t i = 0; i < tf->nsketch; i++) {
		double v = tf->sketch[i];
		if (!isfinite(v))
			continue;
		int b = hi > lo ? (int)((v - lo) / (hi - lo) * SPARK_W) : SPARK_W / 2;
		b = b >= SPARK_W ? SPARK_W - 1 : b;
		if (++count[b] > mx)
			mx = count[b];
	}
	for (int b = 0; b < SPARK_W; b++)
		mp_canvas_put(c, x + b, y,
			      mp_tui_bar_char(caps, (double)count[b] / mx), st);
}

static const char *stored_type(const struct mp_tensor_fp *tf)
{
	return tf->ggml ? tf->ggml->name : mp_dtype_name(tf->dtype);
}

/* The stored-type column: as wide as the longest type name of the model
 * (IQ2_XXS is 7), at least 5 ("dtype"). */
static int type_width(const struct detail *d)
{
	int tw = 5;
	for (size_t i = 0; d->tfp && i < d->tfp->ntensors; i++) {
		int n = (int)strlen(stored_type(&d->tfp->tensors[i]));
		tw = n > tw ? n : tw;
	}
	return tw;
}

/* The name column: as wide as the longest tensor name, at most what the
 * other columns (53 and the type column) leave of the screen, at least
 * 12. */
static int name_width(const struct detail *d, int w, int tw)
{
	int nw = 4;
	for (size_t i = 0; d->tfp && i < d->tfp->ntensors; i++) {
		int n = mp_tui_text_width(d->tfp->tensors[i].name);
		nw = n > nw ? n : nw;
	}
	int room = w - 53 - tw > 12 ? w - 53 - tw : 12;
	return nw < room ? nw : room;
}

static void draw_tensor(struct detail *d, struct mp_canvas *c, int y,
			const struct line *l, struct mp_style st)
{
	int tw = type_width(d);
	int nw = name_width(d, c->w, tw);
	if (l->kind == L_TCOLS) {
		mp_canvas_printf(c, 0, y, c->w, mp_style_head,
				 "%-*s %-12s %-*s %9s %9s %6s %s", nw, "name",
				 "shape", tw, "dtype", "mean", "std", "sparse",
				 "histogram");
		return;
	}
	const struct mp_tensor_fp *tf = &d->tfp->tensors[l->idx];
	char shape[64];
	mp_shape_text(tf->ndim, tf->shape, shape, sizeof shape);
	mp_canvas_fit_middle(c, 0, y, nw, st, &d->base.app->caps, tf->name);
	int x = nw + 1;
	mp_canvas_printf(c, x, y, 12, st, "%s", shape);
	mp_canvas_printf(c, x + 13, y, tw, st, "%s", stored_type(tf));
	x += 13 + tw;
	if (tf->stats) {
		mp_canvas_printf(c, x, y, c->w, st, "%10.3g %9.3g %5.1f%%",
				 tf->stats->mean, tf->stats->std,
				 100 * tf->stats->sparsity);
		sparkline(c, x + 28, y, st, &d->base.app->caps, tf);
	} else {
		mp_canvas_text(c, x + 1, y, c->w, st, "no statistics");
	}
}

static void draw_bars(struct detail *d, struct mp_canvas *c, int y,
		      const struct line *l)
{
	const struct mp_caps *caps = &d->base.app->caps;
	if (l->kind == L_AXIS) {
		mp_canvas_text(c, 2, y, c->w, mp_style_dim, "1e-4");
		mp_canvas_text(c, 2 + 30, y, c->w, mp_style_dim, "1e-2");
		mp_canvas_text(c, 2 + 63, y, c->w, mp_style_dim, "1");
		return;
	}
	int k = (int)l->idx;
	if (k == 0)
		mp_canvas_printf(c, 68, y, c->w, mp_style_dim, "%.1f%%",
				 100 * l->value);
	for (int i = 0; i < MP_SPECTRAL_BINS; i++) {
		double t = l->value > 0 ? d->sfp->hist[i] / l->value : 0;
		double fill = t * BARS_H - (BARS_H - 1 - k); /* of this row */
		if (fill > 0)
			mp_canvas_put(c, 2 + i, y,
				      mp_tui_bar_char(caps, fill > 1 ? 1 : fill),
				      MP_STYLE_PLAIN);
	}
}

static void draw_stats(struct detail *d, struct mp_canvas *c, int y)
{
	const struct line *l = d->nlines ? &d->lines[d->cur] : NULL;
	if (l && l->kind == L_TENSOR) /* the full name, never cut */
		mp_canvas_text(c, 0, y - 1, c->w, mp_style_dim,
			       d->tfp->tensors[l->idx].name);
	if (l && l->kind == L_TENSOR && d->tfp->tensors[l->idx].stats) {
		const struct mp_tstats *s = d->tfp->tensors[l->idx].stats;
		mp_canvas_printf(c, 0, y, c->w, mp_style_dim,
				 "min %.3g max %.3g med %.3g iqr %.3g mad %.3g "
				 "skew %.3g kurt %.3g l2 %.3g energy %.3g",
				 s->min, s->max, s->median, s->iqr, s->mad,
				 s->skew, s->kurtosis, s->l2_norm,
				 s->energy_concentration);
	} else if (l && l->kind == L_NEAR) {
		const struct mp_tui_data *td = d->base.app->data;
		mp_canvas_text(c, 0, y - 1, c->w, mp_style_dim,
			       td->models[td->row_model[l->idx]].name);
		mp_canvas_text(c, 0, y, c->w, mp_style_dim,
			       "Enter: open this model");
	}
}

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct detail *d = (struct detail *)v;
	d->rows = c->h - 4; /* rows c->h-3 and c->h-2: the cursor's line */
	mp_list_clamp(&d->cur, &d->top, d->nlines, d->rows);
	for (int r = 0; r < d->rows && d->top + (size_t)r < d->nlines; r++) {
		size_t i = d->top + (size_t)r;
		const struct line *l = &d->lines[i];
		int y = 1 + r;
		struct mp_style st = i == d->cur ? mp_style_sel : MP_STYLE_PLAIN;
		if (i == d->cur)
			mp_canvas_fill(c, 0, y, c->w, 1, ' ', st);
		switch (l->kind) {
		case L_TENSOR:
		case L_TCOLS: draw_tensor(d, c, y, l, st); break;
		case L_BARS:
		case L_AXIS: draw_bars(d, c, y, l); break;
		case L_HEAD:
			mp_canvas_text(c, 0, y, c->w,
				       i == d->cur ? st : mp_style_head, l->text);
			break;
		default: mp_canvas_text(c, 0, y, c->w, st, l->text); break;
		}
	}
	draw_stats(d, c, c->h - 2);
}

static void open_near(struct detail *d)
{
	const struct line *l = &d->lines[d->cur];
	struct mp_tui *t = d->base.app;
	if (l->kind == L_NEAR)
		mp_tui_push(t, mp_view_detail_new(t, t->data->row_model[l->idx]));
}

static bool action(struct mp_view *v, enum mp_action a)
{
	struct detail *d = (struct detail *)v;
	if (mp_list_move(&d->cur, &d->top, d->nlines, d->rows, a))
		return true;
	if ((a == MP_ACT_ENTER || a == MP_ACT_RIGHT) && d->nlines) {
		open_near(d);
		return true;
	}
	if (a == MP_ACT_SPARSITY) {
		mp_tui_sparsity_model(d->base.app, d->model);
		return true;
	}
	return false;
}

static void click(struct mp_view *v, int x, int y)
{
	struct detail *d = (struct detail *)v;
	if (mp_list_click(&d->cur, d->top, d->nlines, d->rows, 1, y))
		open_near(d);
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct detail *d = ctx;
	const struct line *l = &d->lines[i];
	return mp_tui_match(l->kind == L_TENSOR ? d->tfp->tensors[l->idx].name
						: l->text,
			    text);
}

static bool search(struct mp_view *v, const char *text, int dir)
{
	struct detail *d = (struct detail *)v;
	if (!mp_list_search(&d->cur, d->nlines, dir, hit, d, text))
		return false;
	mp_list_clamp(&d->cur, &d->top, d->nlines, d->rows);
	return true;
}

static void matrix_changed(struct mp_view *v)
{
	struct detail *d = (struct detail *)v;
	build(d);
	mp_list_clamp(&d->cur, &d->top, d->nlines, d->rows);
}

static void free_view(struct mp_view *v)
{
	struct detail *d = (struct detail *)v;
	if (!d)
		return;
	mp_fp_free(d->tfp);
	mp_fp_free(d->sfp);
	free(d->lines);
	free(d);
}

static const struct mp_view_ops ops = {"detail", draw, action, click,
				       search, matrix_changed, free_view};

struct mp_view *mp_view_detail_new(struct mp_tui *t, size_t model)
{
	if (model >= t->data->n)
		return NULL;
	struct detail *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->base.ops = &ops;
	d->base.app = t;
	d->base.pos_cur = &d->cur;
	d->base.pos_n = &d->nlines;
	d->model = model;
	d->rows = 20;
	mp_tui_busy(t, "reading fingerprints");
	mp_tui_data_fp(t->data, model, "tensors", &d->tfp, d->tfp_err);
	mp_tui_data_fp(t->data, model, "spectral", &d->sfp, d->sfp_err);
	build(d);
	return &d->base;
}
