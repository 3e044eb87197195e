/* view_sweep.c — a sweep of bilinear models (modelprint-sweep(1)): on the
 * left the heatmap of one of its three metrics (m and p switch), rows and
 * columns labelled by width d, and under it the accuracy of each model as a
 * character plot whose columns are those of the heatmap; on the right the
 * value under the cursor, the Pearson correlation of the metrics and the
 * profile of the cursor's row model: its value against every width under
 * each metric. The cursor moves with the arrows (hjkl), PgUp/PgDn scroll
 * the right pane. The state (tui_sweep.c) is computed once on open. */
#include "tui_sweep.h"
#include "view.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_W 3  /* columns per heatmap cell: the width of a d label */
#define LABEL_W 7 /* "d=1024 " and "1.00 |" */
#define PLOT_MAX 8

struct swview {
	struct mp_view base;
	struct mp_tui_sw *sw;
	int metric;
	size_t r, c;	    /* cursor: row and column model */
	size_t rtop, cleft; /* first row and column shown */
	size_t atop;	    /* first right-pane line shown */
	int arows;	    /* right-pane rows at the last draw */
};

static size_t nmod(const struct swview *v)
{
	return v->sw->s->n;
}

static uint32_t width_of(const struct swview *v, size_t i)
{
	return v->sw->s->m[i].d;
}

/* 0 = least alike .. 1 = most alike on the metric's min..max; NAN for
 * null. */
static double alike(const struct swview *v, double x)
{
	const struct mp_heat_scale *sc = &v->sw->sc[v->metric];
	if (isnan(x))
		return NAN;
	double span = sc->vmax - sc->vmin;
	if (!(span > 0))
		return 1;
	double t = v->sw->ms[v->metric]->higher_is_more_alike
			   ? (x - sc->vmin) / span
			   : (sc->vmax - x) / span;
	return t < 0 ? 0 : t > 1 ? 1 : t;
}

/* One cell of CELL_W columns: a coloured background with 256 colours or
 * more, else the plain ramp (in colour when there is some); the cursor is
 * framed by [ ]. */
static void draw_cell(const struct swview *v, struct mp_canvas *c, int x,
		      int y, double t, bool cursor)
{
	const struct mp_caps *caps = &v->base.app->caps;
	struct mp_style st = MP_STYLE_PLAIN;
	uint32_t ch = '?';
	if (!isnan(t) && caps->colors >= 256) {
		ch = ' ';
		st.bg = mp_tui_ramp_color(caps, t);
	} else if (!isnan(t)) {
		ch = (uint32_t)mp_tui_plain_ramp(t);
		if (caps->colors)
			st.fg = mp_tui_ramp_color(caps, t);
	}
	for (int i = 0; i < CELL_W; i++)
		mp_canvas_put(c, x + i, y, ch, st);
	if (cursor) {
		if (caps->colors >= 256) {
			st.fg = !isnan(t) && t > 0.6 ? 16 : 231;
			st.attr = MP_ATTR_BOLD;
		}
		mp_canvas_put(c, x, y, '[', st);
		mp_canvas_put(c, x + CELL_W - 1, y, ']', st);
	}
}

/* Keep *cur within [*first, *first + vis). */
static void keep_visible(size_t cur, size_t *first, size_t vis)
{
	if (vis == 0)
		return;
	if (cur < *first)
		*first = cur;
	if (cur >= *first + vis)
		*first = cur - vis + 1;
}

/* The heatmap from row y0: title, column labels, vr rows of vc cells. */
static void draw_heatmap(struct swview *v, struct mp_canvas *c, int lw,
			 size_t vr, size_t vc)
{
	const struct mp_simmatrix *m = v->sw->ms[v->metric];
	const struct mp_heat_scale *sc = &v->sw->sc[v->metric];
	size_t n = nmod(v);
	mp_canvas_printf(c, 0, 1, lw, mp_style_head, "%s %.3g..%.3g",
			 mp_tui_sw_title[v->metric], sc->vmin, sc->vmax);
	mp_canvas_text(c, 0, 2, LABEL_W, mp_style_dim, "d");
	for (size_t j = 0; j < vc && v->cleft + j < n; j++)
		mp_canvas_printf(c, LABEL_W + (int)j * CELL_W, 2, CELL_W,
				 v->cleft + j == v->c ? mp_style_sel
						      : mp_style_dim,
				 "%*u", CELL_W, width_of(v, v->cleft + j));
	for (size_t i = 0; i < vr && v->rtop + i < n; i++) {
		size_t row = v->rtop + i;
		int y = 3 + (int)i;
		mp_canvas_printf(c, 0, y, LABEL_W - 1,
				 row == v->r ? mp_style_sel : MP_STYLE_PLAIN,
				 "d=%u", width_of(v, row));
		for (size_t j = 0; j < vc && v->cleft + j < n; j++) {
			size_t col = v->cleft + j;
			draw_cell(v, c, LABEL_W + (int)j * CELL_W, y,
				  alike(v, m->value[row * n + col]),
				  row == v->r && col == v->c);
		}
	}
}

/* Accuracy (0..1) of every shown column as a '*' in ph rows from y0, the
 * cursor's column highlighted, and the widths under it. */
static void draw_plot(struct swview *v, struct mp_canvas *c, int y0, int ph,
		      size_t vc, int lw)
{
	size_t n = nmod(v);
	const double *acc = v->sw->r.acc;
	mp_canvas_text(c, 0, y0, lw, mp_style_head, "Accuracy by width d");
	for (int k = 0; k < ph; k++) {
		int y = y0 + 1 + k;
		if (k == 0 || k == ph - 1 || k == (ph - 1) / 2)
			mp_canvas_printf(c, 0, y, LABEL_W, mp_style_dim,
					 "%4.2f |", 1.0 - (double)k / (ph - 1));
		else
			mp_canvas_text(c, 0, y, LABEL_W, mp_style_dim,
				       "     |");
	}
	for (size_t j = 0; j < vc && v->cleft + j < n; j++) {
		size_t i = v->cleft + j;
		int x = LABEL_W + (int)j * CELL_W + CELL_W - 1;
		bool cur = i == v->c;
		mp_canvas_printf(c, LABEL_W + (int)j * CELL_W, y0 + ph + 1,
				 CELL_W, cur ? mp_style_sel : mp_style_dim,
				 "%*u", CELL_W, width_of(v, i));
		if (isnan(acc[i]))
			continue;
		long k = lround((1.0 - acc[i]) * (ph - 1));
		mp_canvas_put(c, x, y0 + 1 + (int)k, '*',
			      cur ? mp_style_sel : MP_STYLE_PLAIN);
	}
}

/* printf-style text line i of the right pane (counted from 0) at row
 * 1 + i - atop when visible; returns i + 1. */
static int line(struct swview *v, struct mp_canvas *c, int x, int w, int i,
		struct mp_style st, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static int line(struct swview *v, struct mp_canvas *c, int x, int w, int i,
		struct mp_style st, const char *fmt, ...)
{
	long y = 1 + (long)i - (long)v->atop;
	if (y >= 1 && y < 1 + v->arows) {
		char buf[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf, sizeof buf, fmt, ap);
		va_end(ap);
		mp_canvas_text(c, x, (int)y, w, st, buf);
	}
	return i + 1;
}

/* "%.4f" of x into buf, "-" for NaN. */
static const char *num(double x, char buf[32])
{
	if (isnan(x))
		snprintf(buf, 32, "-");
	else
		snprintf(buf, 32, "%.4f", x);
	return buf;
}

/* The right pane; returns its line count. */
static int draw_pane(struct swview *v, struct mp_canvas *c, int x, int w)
{
	const struct mp_tui_sw *sw = v->sw;
	size_t n = nmod(v);
	const struct mp_sweep_model *mr = &sw->s->m[v->r];
	char a[32], b[32], e[32];
	int i = 0;
	struct mp_style pl = MP_STYLE_PLAIN;
	i = line(v, c, x, w, i, mp_style_head, "Sweep %s, P = %u, %zu model%s",
		 sw->s->name, sw->s->P, n, n == 1 ? "" : "s");
	i = line(v, c, x, w, i, pl, "%s(d=%u, d=%u) = %s (%s: more alike)",
		 mp_tui_sw_label[v->metric], mr->d, width_of(v, v->c),
		 num(sw->ms[v->metric]->value[v->r * n + v->c], a),
		 sw->ms[v->metric]->higher_is_more_alike ? "higher" : "lower");
	i = line(v, c, x, w, i, pl, "accuracy of d=%u: %s%s%s", mr->d,
		 num(sw->r.acc[v->r], a), mr->has_val_acc ? ", val_acc " : "",
		 mr->has_val_acc ? num(mr->val_acc, b) : "");
	i = line(v, c, x, w, i, pl, "%s", "");
	if (sw->corr) {
		i = line(v, c, x, w, i, mp_style_head,
			 "Correlation, %zu pairs (JS negated)",
			 sw->corr->npairs);
		i = line(v, c, x, w, i, pl, "%-14s %9s", "Metrics", "Pearson");
		for (int p = 0; p < MP_TUI_SW_NMET; p++)
			for (int q = p + 1; q < MP_TUI_SW_NMET; q++) {
				char lb[32];
				snprintf(lb, sizeof lb, "%s vs %s%s",
					 mp_tui_sw_label[p], q == 2 ? "-" : "",
					 mp_tui_sw_label[q]);
				i = line(v, c, x, w, i, pl, "%-14s %9s", lb,
					 num(sw->corr->r[p * MP_TUI_SW_NMET + q],
					     a));
			}
	} else {
		i = line(v, c, x, w, i, mp_style_head, "No correlation:");
		i = line(v, c, x, w, i, pl, "%s", sw->note.msg);
	}
	i = line(v, c, x, w, i, pl, "%s", "");
	i = line(v, c, x, w, i, mp_style_head, "Profile of d=%u by width",
		 mr->d);
	i = line(v, c, x, w, i, pl, "%-7s %7s %7s %7s", "", "TN", "logit",
		 "JS");
	for (size_t j = 0; j < n; j++)
		i = line(v, c, x, w, i, j == v->c ? mp_style_sel : pl,
			 "d=%-5u %7s %7s %7s", width_of(v, j),
			 num(sw->ms[0]->value[v->r * n + j], a),
			 num(sw->ms[1]->value[v->r * n + j], b),
			 num(sw->ms[2]->value[v->r * n + j], e));
	return i;
}

static void draw(struct mp_view *v0, struct mp_canvas *c)
{
	struct swview *v = (struct swview *)v0;
	size_t n = nmod(v);
	int last = c->h - 3; /* the hint is on c->h - 2 */
	size_t fit = c->w > 2 * (LABEL_W + 4 * CELL_W)
			     ? (size_t)((c->w * 11 / 20 - LABEL_W) / CELL_W)
			     : 1;
	size_t vc = n < fit ? n : fit;
	/* the plot below takes at least 4 rows, its title and axis 2 more,
	 * a blank row 1 */
	long room = (long)last - 3 + 1 - 7;
	size_t vr = room < 1 ? 1 : n < (size_t)room ? n : (size_t)room;
	keep_visible(v->r, &v->rtop, vr);
	keep_visible(v->c, &v->cleft, vc);
	int lw = LABEL_W + (int)vc * CELL_W;
	if (lw < 24)
		lw = 24;
	draw_heatmap(v, c, lw, vr, vc);
	int y0 = 3 + (int)vr + 1, ph = last - y0 - 1;
	if (ph > PLOT_MAX)
		ph = PLOT_MAX;
	if (ph > 2 && ph % 2 == 0)
		ph--; /* a middle row for 0.50 */
	if (ph >= 2)
		draw_plot(v, c, y0, ph, vc, lw);
	int x0 = lw + 2, rw = c->w - x0;
	v->arows = c->h - 3;
	for (int y = 1; y < c->h - 2; y++)
		mp_canvas_put(c, lw, y, v->base.app->caps.unicode ? 0x2502u : '|',
			      mp_style_dim);
	int nl = draw_pane(v, c, x0, rw);
	size_t most = nl > v->arows ? (size_t)(nl - v->arows) : 0;
	if (v->atop > most) {
		v->atop = most;
		mp_canvas_fill(c, x0, 1, rw, v->arows, ' ', MP_STYLE_PLAIN);
		draw_pane(v, c, x0, rw);
	}
	mp_canvas_printf(c, 0, c->h - 2, c->w, mp_style_dim,
			 "%s  m/p: metric  arrows: cursor  PgDn: scroll  ?: keys",
			 mp_tui_sw_label[v->metric]);
}

static bool action(struct mp_view *v0, enum mp_action a)
{
	struct swview *v = (struct swview *)v0;
	size_t n = nmod(v);
	size_t page = v->arows > 1 ? (size_t)v->arows - 1 : 1;
	switch (a) {
	case MP_ACT_SWEEP_METRIC: v->metric = (v->metric + 1) % MP_TUI_SW_NMET; break;
	case MP_ACT_SWEEP_METRIC_PREV:
		v->metric = (v->metric + MP_TUI_SW_NMET - 1) % MP_TUI_SW_NMET;
		break;
	case MP_ACT_UP: if (v->r > 0) v->r--; break;
	case MP_ACT_DOWN: if (v->r + 1 < n) v->r++; break;
	case MP_ACT_LEFT:
		if (v->c == 0)
			return false; /* back */
		v->c--;
		break;
	case MP_ACT_RIGHT: if (v->c + 1 < n) v->c++; break;
	case MP_ACT_TOP: v->r = 0; break;
	case MP_ACT_BOTTOM: v->r = n - 1; break;
	case MP_ACT_PAGE_UP: v->atop = v->atop > page ? v->atop - page : 0; break;
	case MP_ACT_PAGE_DOWN: v->atop += page; break; /* draw clamps it */
	default: return false;
	}
	return true;
}

static void free_view(struct mp_view *v0)
{
	struct swview *v = (struct swview *)v0;
	if (!v)
		return;
	mp_tui_sw_free(v->sw);
	free(v);
}

static const struct mp_view_ops ops = {"sweep", draw, action, NULL, NULL,
				       NULL, free_view};

struct mp_view *mp_view_sweep_new(struct mp_tui *t, struct mp_tui_sw *sw)
{
	struct swview *v = calloc(1, sizeof *v);
	if (!v || !sw || !sw->s->n) {
		free(v);
		mp_tui_sw_free(sw);
		return NULL;
	}
	v->base.ops = &ops;
	v->base.app = t;
	v->base.pos_cur = &v->r;
	v->base.pos_n = &sw->s->n;
	v->sw = sw;
	v->arows = t->h - 3;
	return &v->base;
}

mp_status mp_tui_sweep_file(struct mp_tui *t, const char *path,
			    struct mp_error *err)
{
	struct mp_tui_sw *sw;
	mp_tui_busy(t, "computing the sweep");
	mp_status st = mp_tui_sw_open(path, &sw, err);
	if (st != MP_OK)
		return st;
	struct mp_view *v = mp_view_sweep_new(t, sw);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_tui_push(t, v);
	return MP_OK;
}
