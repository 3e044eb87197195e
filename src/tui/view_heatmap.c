/* view_heatmap.c — the current similarity matrix as coloured cells, a
 * legend, and the cursor's pair with its exact value. It opens fitted to
 * the window: an entry several characters wide and tall when the matrix
 * is small, a cell the mean (or on a key the most alike) of a block of
 * entries when it is larger than the screen; + and - zoom, the cursor
 * pans. Colours span the 2nd..98th percentile of the off-diagonal values
 * (min..max on a key); nulls have their own glyph. Rows are labelled by
 * name (cut in the middle), columns by vertical names where there is room
 * (or on a key). Rows are ordered by family or by average-linkage
 * clustering. */
#include "cluster.h"
#include "heat_cells.h"
#include "namecut.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPAN_MAX 16
#define NAME_MAX_W 64
#define LABEL_MIN 16

struct heatmap {
	struct mp_view base;
	const struct mp_simmatrix *m;
	size_t n;
	size_t *ord; /* [n] matrix row at each display position */
	size_t *pos; /* [n] display position of each matrix row */
	bool clustered;
	bool fitted;  /* the scale follows the window until + or - */
	bool minmax;  /* colours over min..max, not the 2nd..98th percentile */
	bool agg_max; /* blocks show their most alike value, not the mean */
	bool columns; /* column names asked for even when there is no room */
	size_t blk;   /* entries per cell, >= 1 */
	int sp;       /* character rows per entry when blk == 1, >= 1 */
	size_t cx, cy, ox, oy; /* cursor and origin, display positions */
	struct mp_heat_scale sc;
	size_t keep_r, keep_c; /* model indices under the cursor */
	/* a subset (mp_view_heatmap_subset_new): the models, their matrix
	   and its rows in the current matrix */
	size_t *only, n_only, *sub_row;
	struct mp_simmatrix *sub;
	int namew;             /* widest model name, at most NAME_MAX_W */
	/* layout of the last draw */
	int lw;           /* row label columns */
	int cw, rh;       /* characters per cell across and down */
	int gx, gy;       /* top left of the grid */
	int gcols, grows; /* cells across and down */
	int lh;           /* rows of column names */
	/* alike() of every visible cell, valid while `cached` matches */
	double *cells;
	size_t ncells;
	struct cache_key {
		size_t blk, ox, oy;
		int gcols, grows;
		bool agg_max, minmax;
		unsigned gen;
	} cached;
	unsigned gen; /* bumped when the matrix or the order changes */
};

static void remember(struct heatmap *h);

/* Cells are coloured backgrounds (else characters of the plain ramp). */
static bool painted(const struct heatmap *h)
{
	return h->base.app->caps.colors >= 256;
}

static const struct mp_tui_model *model_at(const struct heatmap *h,
					   size_t row)
{
	const struct mp_tui *t = h->base.app;
	return &t->data->models[t->data->row_model[h->sub ? h->sub_row[row]
							  : row]];
}

/* 0 = least alike .. 1 = most alike on lo..hi, clamped; NAN for null */
static double alike_in(const struct heatmap *h, double v, double lo,
		       double hi)
{
	if (isnan(v))
		return NAN;
	double span = hi - lo;
	if (!(span > 0))
		return 1;
	double t = h->m->higher_is_more_alike ? (v - lo) / span
					      : (hi - v) / span;
	return t < 0 ? 0 : t > 1 ? 1 : t;
}

/* On the colour scale shown. */
static double alike(const struct heatmap *h, double v)
{
	return h->minmax ? alike_in(h, v, h->sc.vmin, h->sc.vmax)
			 : alike_in(h, v, h->sc.q02, h->sc.q98);
}

/* Distances for clustering (on min..max, whatever the colour scale): 0
 * for the most alike value, nulls farthest. */
static mp_status cluster_order(struct heatmap *h, struct mp_error *err)
{
	size_t n = h->n;
	double *d = malloc(n * n * sizeof *d);
	struct mp_merge *mg = malloc((n > 1 ? n - 1 : 1) * sizeof *mg);
	if (!d || !mg) {
		free(d);
		free(mg);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	double lo = h->sc.vmin, hi = h->sc.vmax;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double a = alike_in(h, h->m->value[i * n + j], lo, hi);
			double b = alike_in(h, h->m->value[j * n + i], lo, hi);
			double x = isnan(a) ? 0 : a, y = isnan(b) ? 0 : b;
			d[i * n + j] = 1 - (x + y) / 2;
		}
	mp_status st = mp_cluster_average(d, n, mg, h->ord, err);
	free(d);
	free(mg);
	return st;
}

static int cmp_str(const char *a, const char *b)
{
	if (!*a != !*b) /* unknown families last */
		return *a ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_family(const void *pa, const void *pb, void *ctx)
{
	const struct heatmap *h = ctx;
	size_t ra = *(const size_t *)pa, rb = *(const size_t *)pb;
	const struct mp_tui_model *a = model_at(h, ra), *b = model_at(h, rb);
	int c = cmp_str(a->family, b->family);
	if (!c)
		c = cmp_str(a->type, b->type);
	if (!c)
		c = strcmp(a->name, b->name);
	return c ? c : ra < rb ? -1 : ra > rb;
}

static void reorder(struct heatmap *h)
{
	size_t kr = h->n ? h->ord[h->cy] : 0, kc = h->n ? h->ord[h->cx] : 0;
	bool fam = !h->clustered;
	if (h->clustered) {
		struct mp_error err;
		mp_tui_busy(h->base.app, "clustering");
		if (cluster_order(h, &err) != MP_OK) {
			mp_tui_message(h->base.app, "%s", err.msg);
			h->clustered = false;
			fam = true;
		}
	}
	if (fam) {
		for (size_t i = 0; i < h->n; i++)
			h->ord[i] = i;
		qsort_r(h->ord, h->n, sizeof *h->ord, cmp_family, h);
	}
	for (size_t i = 0; i < h->n; i++)
		h->pos[h->ord[i]] = i;
	h->gen++;
	if (h->n) {
		h->cy = h->pos[kr];
		h->cx = h->pos[kc];
	}
}

/* Take the current matrix: scale, order, cursor on the same models. */
static bool load_matrix(struct heatmap *h)
{
	const struct mp_tui *t = h->base.app;
	const struct mp_simmatrix *m = mp_tui_matrix(t);
	if (h->only) {
		mp_simmatrix_free(h->sub);
		free(h->sub_row);
		h->sub = mp_tui_submatrix(t, h->only, h->n_only, &h->sub_row);
		if (!(m = h->sub))
			return false;
	}
	size_t *ord = malloc((m->n ? m->n : 1) * sizeof *ord);
	size_t *pos = malloc((m->n ? m->n : 1) * sizeof *pos);
	struct mp_error err;
	if (!ord || !pos || mp_heat_scale_compute(m, &h->sc, &err) != MP_OK) {
		free(ord);
		free(pos);
		return false;
	}
	free(h->ord);
	free(h->pos);
	h->ord = ord;
	h->pos = pos;
	h->m = m;
	h->n = m->n;
	h->namew = 1;
	for (size_t i = 0; i < h->n; i++) {
		int w = mp_tui_text_width(model_at(h, i)->name);
		h->namew = w > h->namew ? w : h->namew;
		ord[i] = pos[i] = i;
	}
	if (h->namew > NAME_MAX_W)
		h->namew = NAME_MAX_W;
	h->cx = h->cy = 0;
	reorder(h);
	h->cx = h->cy = 0;
	long r = mp_tui_data_row(t->data, h->keep_r);
	long c = mp_tui_data_row(t->data, h->keep_c);
	if (h->sub)
		r = mp_tui_subrow(h->sub_row, h->n, r),
		c = mp_tui_subrow(h->sub_row, h->n, c);
	if (r >= 0 && c >= 0) {
		h->cy = h->pos[r];
		h->cx = h->pos[c];
	}
	return true;
}

static size_t ceil_div(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

/* Choose the scale (when fitted) and place labels and grid in a w x ch
 * canvas: rows 2 .. ch-5 hold column names and the grid. */
static void layout(struct heatmap *h, int w, int ch)
{
	int area = ch - 6;
	int lwmin = LABEL_MIN; /* room for the order and scale above */
	int gwmax = w - lwmin - 1;
	if (area < 1)
		area = 1;
	if (gwmax < 1)
		gwmax = 1;
	int forced = h->columns ? (h->namew < area / 2 ? h->namew : area / 2)
				: 0;
	int gh = area - forced > 0 ? area - forced : 1;
	size_t n = h->n;
	if (h->fitted) {
		h->blk = 1;
		h->sp = 1;
		if (n <= (size_t)gh && 2 * n <= (size_t)gwmax) {
			size_t a = (size_t)gh / n, b = (size_t)gwmax / (2 * n);
			size_t s = a < b ? a : b;
			h->sp = s > SPAN_MAX ? SPAN_MAX : (int)s;
		} else if (n > (size_t)gh || n > (size_t)gwmax) {
			size_t a = ceil_div(n, (size_t)gh);
			size_t b = ceil_div(n, (size_t)gwmax);
			h->blk = a > b ? a : b;
		}
	}
	size_t cells = ceil_div(n, h->blk);
	h->rh = h->blk == 1 ? h->sp : 1;
	h->cw = h->blk == 1 ? 2 * h->sp : 2;
	if (h->cw == 2 && cells * 2 > (size_t)gwmax)
		h->cw = 1;
	/* column names: asked for, or in the rows the grid leaves free */
	size_t need = cells * (size_t)h->rh;
	int spare = need < (size_t)area ? area - (int)need : 0;
	h->lh = forced ? forced : spare >= 4 ? spare : 0;
	if (h->lh > h->namew)
		h->lh = h->namew;
	size_t across = cells * (size_t)h->cw;
	int room = w - 1 - (across < (size_t)w ? (int)across : w);
	h->lw = h->namew < room ? h->namew : room;
	if (h->lw < lwmin)
		h->lw = lwmin;
	h->gx = h->lw + 1;
	h->gy = 2 + h->lh;
	h->gcols = (w - h->gx) / h->cw;
	h->grows = (area - h->lh) / h->rh;
	if (h->gcols < 1)
		h->gcols = 1;
	if (h->grows < 1)
		h->grows = 1;
}

static void keep_cursor_visible(struct heatmap *h)
{
	size_t vw = (size_t)h->gcols * h->blk, vh = (size_t)h->grows * h->blk;
	if (h->cx < h->ox)
		h->ox = h->cx;
	if (h->cx >= h->ox + vw)
		h->ox = h->cx - vw + 1;
	if (h->cy < h->oy)
		h->oy = h->cy;
	if (h->cy >= h->oy + vh)
		h->oy = h->cy - vh + 1;
	h->ox -= h->ox % h->blk; /* origins on block boundaries */
	h->oy -= h->oy % h->blk;
}

/* First entry (display position) of cell k from origin o; SIZE_MAX past
 * the end. */
static size_t entry_at(const struct heatmap *h, size_t o, int k)
{
	size_t e = o + (size_t)k * h->blk;
	return e < h->n ? e : SIZE_MAX;
}

static bool in_cell(const struct heatmap *h, size_t e, size_t cur)
{
	return cur >= e && cur < e + h->blk;
}

/* The value shown for the cell whose first entry is (r, c). */
static double cell_raw(const struct heatmap *h, size_t r, size_t c,
		       size_t *k)
{
	return mp_heat_block(h->m, h->ord, r, c, h->blk, h->agg_max, k);
}

static uint32_t null_glyph(const struct heatmap *h)
{
	return painted(h) && h->base.app->caps.unicode ? 0xb7u : '?';
}

static void draw_cell(struct heatmap *h, struct mp_canvas *c, int x, int y,
		      double t, bool cursor)
{
	const struct mp_caps *caps = &h->base.app->caps;
	struct mp_style st = MP_STYLE_PLAIN;
	uint32_t ch;
	if (isnan(t)) {
		ch = null_glyph(h);
	} else if (painted(h)) {
		ch = ' ';
		st.bg = mp_tui_ramp_color(caps, t);
	} else {
		ch = (uint32_t)mp_tui_plain_ramp(t);
		if (caps->colors)
			st.fg = mp_tui_ramp_color(caps, t);
	}
	for (int j = 0; j < h->rh; j++)
		for (int i = 0; i < h->cw; i++) {
			uint32_t k = ch;
			struct mp_style s = st;
			if (cursor && painted(h)) {
				/* a frame in the cell keeps its colour */
				s.fg = !isnan(t) && t > 0.6 ? 16 : 231;
				s.attr = MP_ATTR_BOLD;
				if (h->cw == 1)
					k = caps->unicode ? 0x25c6u : '+';
				else if (i == 0)
					k = '[';
				else if (i == h->cw - 1)
					k = ']';
			} else if (cursor) {
				s.attr = MP_ATTR_REVERSE;
			}
			mp_canvas_put(c, x + i, y + j, k, s);
		}
}

/* The name of the cell's row or column: the cursor's when it is in it. */
static const char *cell_name(const struct heatmap *h, size_t e, size_t cur,
			     bool *here)
{
	*here = in_cell(h, e, cur);
	return model_at(h, h->ord[*here ? cur : e])->name;
}

/* Fill the cache of visible cells unless it holds them already: a block
 * reads every entry it covers, so a frame of a large matrix costs a pass
 * over the visible part; moving the cursor alone costs nothing. */
static bool same_key(const struct cache_key *a, const struct cache_key *b)
{
	return a->blk == b->blk && a->ox == b->ox && a->oy == b->oy &&
	       a->gcols == b->gcols && a->grows == b->grows &&
	       a->agg_max == b->agg_max && a->minmax == b->minmax &&
	       a->gen == b->gen;
}

static bool fill_cells(struct heatmap *h)
{
	struct cache_key k = {h->blk, h->ox, h->oy, h->gcols, h->grows,
			      h->agg_max, h->minmax, h->gen};
	if (h->cells && same_key(&k, &h->cached))
		return true;
	size_t need = (size_t)h->gcols * (size_t)h->grows;
	if (need > h->ncells) {
		double *p = realloc(h->cells, need * sizeof *p);
		if (!p)
			return false;
		h->cells = p;
		h->ncells = need;
	}
	for (int y = 0; y < h->grows; y++)
		for (int x = 0; x < h->gcols; x++) {
			size_t r = entry_at(h, h->oy, y), col = entry_at(h, h->ox, x);
			size_t n;
			h->cells[(size_t)y * h->gcols + x] =
				r == SIZE_MAX || col == SIZE_MAX
					? NAN
					: alike(h, cell_raw(h, r, col, &n));
		}
	h->cached = k;
	return true;
}

static void draw_grid(struct heatmap *h, struct mp_canvas *c)
{
	bool uni = h->base.app->caps.unicode;
	char name[4 * NAME_MAX_W + 8];
	if (!fill_cells(h)) {
		mp_tui_message(h->base.app, "out of memory");
		return;
	}
	for (int y = 0; y < h->grows; y++) {
		size_t r = entry_at(h, h->oy, y);
		if (r == SIZE_MAX)
			break;
		int py = h->gy + y * h->rh;
		for (int x = 0; x < h->gcols; x++) {
			size_t col = entry_at(h, h->ox, x);
			if (col == SIZE_MAX)
				break;
			double t = h->cells[(size_t)y * h->gcols + x];
			draw_cell(h, c, h->gx + x * h->cw, py, t,
				  in_cell(h, col, h->cx) && in_cell(h, r, h->cy));
		}
		bool here;
		const char *s = cell_name(h, r, h->cy, &here);
		mp_canvas_text(c, 0, py, h->lw, here ? mp_style_sel : MP_STYLE_PLAIN,
			       mp_tui_cut_middle(s, h->lw, uni, name, sizeof name));
	}
}

/* Row 1: the order and scale, and a marker over the cursor's column;
 * below it the column names, vertical. */
static void draw_columns(struct heatmap *h, struct mp_canvas *c)
{
	bool uni = h->base.app->caps.unicode;
	char zoom[48], name[4 * NAME_MAX_W + 8];
	if (h->blk > 1)
		snprintf(zoom, sizeof zoom, "1:%zu %s", h->blk,
			 h->agg_max ? "max" : "mean");
	else
		snprintf(zoom, sizeof zoom, "%d:1", h->sp);
	mp_canvas_printf(c, 0, 1, h->lw, mp_style_dim, "%s %s",
			 h->clustered ? "cluster" : "family", zoom);
	for (int x = 0; x < h->gcols; x++) {
		size_t e = entry_at(h, h->ox, x);
		if (e == SIZE_MAX)
			break;
		int px = h->gx + x * h->cw;
		bool here;
		const char *s = cell_name(h, e, h->cx, &here);
		if (here)
			mp_canvas_put(c, px, 1, uni ? 0x25bcu : 'v',
				      MP_STYLE_PLAIN);
		if (h->lh == 0)
			continue;
		mp_tui_cut_middle(s, h->lh, uni, name, sizeof name);
		/* one code point per row (mp_canvas_text draws the first) */
		const char *p = name;
		for (int j = 0; *p && j < h->lh; j++) {
			size_t len = 1;
			while (p[len] && ((unsigned char)p[len] & 0xc0) == 0x80)
				len++;
			mp_canvas_text(c, px, 2 + j, 1,
				       here ? mp_style_sel : mp_style_dim, p);
			p += len;
		}
	}
}

static void draw_legend(struct heatmap *h, struct mp_canvas *c, int y)
{
	const struct mp_caps *caps = &h->base.app->caps;
	int x = 0;
	mp_canvas_put(c, x++, y, null_glyph(h), MP_STYLE_PLAIN);
	x += mp_canvas_text(c, x, y, c->w - x, MP_STYLE_PLAIN, "=null  less ");
	for (int i = 0; i < 10; i++) { /* each character of the ramp once */
		double t = i / 9.0;
		struct mp_style st = MP_STYLE_PLAIN;
		uint32_t ch = (uint32_t)mp_tui_plain_ramp(t);
		if (painted(h)) {
			st.bg = mp_tui_ramp_color(caps, t);
			ch = ' ';
		} else if (caps->colors) {
			st.fg = mp_tui_ramp_color(caps, t);
		}
		mp_canvas_put(c, x++, y, ch, st);
	}
	bool hi = h->m->higher_is_more_alike;
	double lo = h->minmax ? h->sc.vmin : h->sc.q02;
	double up = h->minmax ? h->sc.vmax : h->sc.q98;
	mp_canvas_printf(c, x, y, c->w - x, MP_STYLE_PLAIN,
			 " more alike  %s %.4g..%.4g%s",
			 h->minmax ? "min-max" : "2-98%", hi ? lo : up,
			 hi ? up : lo, hi ? "" : " (lower = more alike)");
}

/* The two models under the cursor: with ids and families when the line
 * has room, else their full names alone, else both cut in the middle. */
static void draw_pair(const struct heatmap *h, struct mp_canvas *c, int y,
		      const struct mp_tui_model *a,
		      const struct mp_tui_model *b)
{
	char line[1024], na[512], nb[512];
	snprintf(line, sizeof line, "row %s %s (%s) x col %s %s (%s)", a->id,
		 a->name, a->family, b->id, b->name, b->family);
	if (mp_tui_text_width(line) > c->w)
		snprintf(line, sizeof line, "row %s x col %s", a->name, b->name);
	if (mp_tui_text_width(line) > c->w) {
		int w = (c->w - 11) / 2; /* "row " " x col " */
		bool uni = h->base.app->caps.unicode;
		snprintf(line, sizeof line, "row %s x col %s",
			 mp_tui_cut_middle(a->name, w, uni, na, sizeof na),
			 mp_tui_cut_middle(b->name, w, uni, nb, sizeof nb));
	}
	mp_canvas_text(c, 0, y, c->w, MP_STYLE_PLAIN, line);
}

static void draw_status(struct heatmap *h, struct mp_canvas *c, int y)
{
	size_t r = h->ord[h->cy], col = h->ord[h->cx];
	const struct mp_tui_model *a = model_at(h, r), *b = model_at(h, col);
	double v = h->m->value[r * h->n + col];
	const char *why = h->m->reason ? h->m->reason[r * h->n + col] : NULL;
	char val[96];
	if (isnan(v))
		snprintf(val, sizeof val, "null (%s)", why ? why : "undefined");
	else
		snprintf(val, sizeof val, MP_SCORE_FMT, v);
	char est[96];
	int x = mp_canvas_printf(c, 0, y, c->w, mp_style_head, "%s = %s",
				 h->m->metric, val);
	if (h->blk > 1) {
		size_t k, r0 = h->cy - h->cy % h->blk, c0 = h->cx - h->cx % h->blk;
		double bv = cell_raw(h, r0, c0, &k);
		if (k == 0) /* every cell null: no mean to show */
			x += mp_canvas_printf(c, x, y, c->w - x, MP_STYLE_PLAIN,
					      "  block: every cell null");
		else
			x += mp_canvas_printf(c, x, y, c->w - x, MP_STYLE_PLAIN,
					      "  block %s " MP_SCORE_FMT " of %zu",
					      h->agg_max ? "max" : "mean", bv, k);
	}
	mp_canvas_printf(c, x, y, c->w - x, mp_style_dim, "  %s",
			 mp_simmatrix_estimate_phrase(h->m, est, sizeof est));
	draw_pair(h, c, y + 1, a, b);
}

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct heatmap *h = (struct heatmap *)v;
	if (c->h < 7 || c->w < 4 || h->n == 0)
		return;
	layout(h, c->w, c->h);
	keep_cursor_visible(h);
	remember(h);
	draw_columns(h, c);
	draw_grid(h, c);
	draw_legend(h, c, c->h - 4);
	draw_status(h, c, c->h - 3);
}

static void step(size_t *x, long d, size_t n)
{
	long v = (long)*x + d;
	*x = v < 0 ? 0 : (size_t)v >= n ? n - 1 : (size_t)v;
}

static void remember(struct heatmap *h)
{
	const struct mp_tui *t = h->base.app;
	h->keep_r = (size_t)(model_at(h, h->ord[h->cy]) - t->data->models);
	h->keep_c = (size_t)(model_at(h, h->ord[h->cx]) - t->data->models);
}

static void zoom(struct heatmap *h, bool in)
{
	h->fitted = false;
	if (in) {
		if (h->blk > 1)
			h->blk--;
		else if (h->sp < SPAN_MAX)
			h->sp++;
	} else if (h->sp > 1) {
		h->sp--;
	} else if ((size_t)h->gcols * h->blk < h->n ||
		   (size_t)h->grows * h->blk < h->n) {
		h->blk++;
	}
}

static bool action(struct mp_view *v, enum mp_action a)
{
	struct heatmap *h = (struct heatmap *)v;
	if (h->n == 0)
		return false;
	long b = (long)h->blk;
	long page = (long)((size_t)h->grows * h->blk);
	switch (a) {
	case MP_ACT_UP: step(&h->cy, -b, h->n); break;
	case MP_ACT_DOWN: step(&h->cy, b, h->n); break;
	case MP_ACT_LEFT:
		if (h->cx == 0)
			return false; /* back */
		step(&h->cx, -b, h->n);
		break;
	case MP_ACT_RIGHT: step(&h->cx, b, h->n); break;
	case MP_ACT_PAGE_UP: step(&h->cy, -page, h->n); break;
	case MP_ACT_PAGE_DOWN: step(&h->cy, page, h->n); break;
	case MP_ACT_TOP: h->cx = h->cy = 0; break;
	case MP_ACT_BOTTOM: h->cx = h->cy = h->n - 1; break;
	case MP_ACT_ZOOM_IN: zoom(h, true); break;
	case MP_ACT_ZOOM_OUT: zoom(h, false); break;
	case MP_ACT_FIT: h->fitted = true; break;
	case MP_ACT_SCALE: h->minmax = !h->minmax; break;
	case MP_ACT_AGGREGATE: h->agg_max = !h->agg_max; break;
	case MP_ACT_COLUMNS: h->columns = !h->columns; break;
	case MP_ACT_ORDER:
		h->clustered = !h->clustered;
		reorder(h);
		break;
	case MP_ACT_ENTER:
		mp_tui_push(v->app, mp_view_detail_new(v->app, h->keep_r));
		break;
	default: return false;
	}
	remember(h);
	return true;
}

static void click(struct mp_view *v, int x, int y)
{
	struct heatmap *h = (struct heatmap *)v;
	if (h->n == 0 || y < h->gy || y >= h->gy + h->grows * h->rh ||
	    x >= h->gx + h->gcols * h->cw)
		return;
	size_t r = entry_at(h, h->oy, (y - h->gy) / h->rh);
	if (r == SIZE_MAX)
		return;
	h->cy = r;
	if (x >= h->gx) {
		size_t col = entry_at(h, h->ox, (x - h->gx) / h->cw);
		if (col != SIZE_MAX)
			h->cx = col;
	}
	remember(h);
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct heatmap *h = ctx;
	const struct mp_tui_model *mo = model_at(h, h->ord[i]);
	return mp_tui_match(mo->name, text) || mp_tui_match(mo->id, text);
}

static bool search(struct mp_view *v, const char *text, int dir)
{
	struct heatmap *h = (struct heatmap *)v;
	if (!mp_list_search(&h->cy, h->n, dir, hit, h, text))
		return false;
	remember(h);
	return true;
}

static void matrix_changed(struct mp_view *v)
{
	if (!load_matrix((struct heatmap *)v))
		mp_tui_message(v->app, "out of memory");
}

static void free_view(struct mp_view *v)
{
	struct heatmap *h = (struct heatmap *)v;
	if (!h)
		return;
	free(h->ord);
	free(h->pos);
	free(h->only);
	free(h->sub_row);
	mp_simmatrix_free(h->sub);
	free(h->cells);
	free(h);
}

static const struct mp_view_ops ops = {"heatmap", draw, action, click,
				       search, matrix_changed, free_view};

/* A heatmap of the current matrix, or of its models[n] only when models is
 * not NULL (the array is copied). */
static struct mp_view *heatmap_new(struct mp_tui *t, const size_t *models,
				   size_t n)
{
	if (!mp_tui_matrix(t))
		return NULL;
	struct heatmap *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->base.ops = &ops;
	h->base.app = t;
	if (models) {
		if (!(h->only = malloc((n ? n : 1) * sizeof *h->only))) {
			free(h);
			return NULL;
		}
		memcpy(h->only, models, n * sizeof *h->only);
		h->n_only = n;
	}
	h->fitted = true;
	h->blk = 1;
	h->sp = 1;
	h->gcols = h->grows = 16;
	h->cw = 2;
	h->rh = 1;
	h->keep_r = h->keep_c = SIZE_MAX;
	if (!load_matrix(h)) {
		free_view(&h->base);
		return NULL;
	}
	return &h->base;
}

struct mp_view *mp_view_heatmap_new(struct mp_tui *t)
{
	return heatmap_new(t, NULL, 0);
}

struct mp_view *mp_view_heatmap_subset_new(struct mp_tui *t,
					   const size_t *models, size_t n)
{
	return heatmap_new(t, models, n);
}
