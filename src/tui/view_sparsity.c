/* view_sparsity.c — the cluster explorer: on the left the matrices of a
 * model with their share of zeros (measured as they come into view), on
 * the right the chosen matrix's zero profile and pruning pattern, the
 * chosen feature, the k-means clusters of its nearest features and those
 * features as Hamming-distance bars. j/k move in the list, Enter analyses
 * the tensor of the row, PgUp/PgDn scroll the right pane; the settings
 * (feature, clusters, nearest features, seed, axis) change with keys of
 * their own and everything is recomputed at once (tui_sparsity.c). */
#include "namecut.h"
#include "registry.h"
#include "tui_sparsity.h"
#include "view.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { L_TEXT, L_HEAD, L_BAR };

struct line {
	enum kind kind;
	size_t idx; /* L_BAR: position among the nearest features */
	char text[200];
};

struct spview {
	struct mp_view base;
	struct mp_tui_sp *sp;
	size_t cur, top;   /* the tensor list */
	int rows;	   /* tensor rows visible at the last draw */
	struct line *lines; /* the right pane, rebuilt at every draw */
	size_t nlines, cap, atop;
	int arows;	   /* right-pane rows at the last draw */
};

static struct line *add(struct spview *v, enum kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct line *add(struct spview *v, enum kind k, const char *fmt, ...)
{
	static struct line dummy;
	struct line *l = mp_tui_grow(&v->lines, &v->nlines, &v->cap,
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

/* s wrapped at spaces into lines of at most w columns after indent
 * spaces (a word longer than a line is cut). */
static void wrap(struct spview *v, const char *s, int indent, int w)
{
	int room = w - indent, most = (int)sizeof v->lines[0].text - 1 - indent;
	if (room > most)
		room = most;
	if (room < 10)
		room = 10;
	while (*s == ' ')
		s++;
	while (*s) {
		int n = (int)strlen(s), cut = n;
		if (n > room) {
			cut = room;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = room;
		}
		add(v, L_TEXT, "%*s%.*s", indent, "", cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
}

/* printf-style wrap. */
static void addw(struct spview *v, int w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void addw(struct spview *v, int w, const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	wrap(v, buf, 0, w);
}

static const struct mp_tensor *tensor_of(const struct spview *v, size_t i)
{
	return &v->sp->m->tensors[v->sp->mat[i]];
}

static void shape_text(const struct mp_tensor *t, char *buf, size_t size)
{
	size_t at = 0;
	buf[0] = '\0';
	for (int d = 0; d < t->ndim && at < size; d++) {
		int n = snprintf(buf + at, size - at, "%s%llu", d ? "x" : "",
				 (unsigned long long)t->shape[d]);
		at += n > 0 ? (size_t)n : 0;
	}
}

static void add_profile(struct spview *v, int w)
{
	const struct mp_tui_sp *sp = v->sp;
	const struct mp_mask *rk = &sp->rows, *mk = mp_tui_sp_mask(sp);
	const struct mp_prune_profile *p = &sp->prof;
	char shape[8 * 21], buf[400];
	uint64_t numel = rk->rows * rk->cols;
	shape_text(tensor_of(v, sp->sel), shape, sizeof shape);
	add(v, L_HEAD, "%s", tensor_of(v, sp->sel)->name);
	addw(v, w, "%s (%llu x %llu), %s: %llu features of %llu", shape,
	    (unsigned long long)rk->rows, (unsigned long long)rk->cols,
	    sp->axis ? "cols" : "rows", (unsigned long long)mk->nfeat,
	    (unsigned long long)mk->width);
	addw(v, w, "zeros %.2f%% (%llu of %llu), below 1e-6 %.2f%%",
	    100.0 * (double)rk->nzero / (double)numel,
	    (unsigned long long)rk->nzero, (unsigned long long)numel,
	    100.0 * (double)rk->ntiny / (double)numel);
	addw(v, w, "zeros per row %llu..%llu, per column %llu..%llu",
	    (unsigned long long)p->row_zero_min,
	    (unsigned long long)p->row_zero_max,
	    (unsigned long long)p->col_zero_min,
	    (unsigned long long)p->col_zero_max);
	if (p->m)
		snprintf(buf, sizeof buf, "pattern %u:%u %s: %s", p->n, p->m,
			 p->pattern == MP_PRUNE_NM_ROWS ? "rows" : "cols",
			 p->evidence);
	else
		snprintf(buf, sizeof buf, "pattern %s: %s",
			 mp_prune_name(p->pattern), p->evidence);
	wrap(v, buf, 0, w);
}

static void add_clusters(struct spview *v, int w)
{
	const struct mp_tui_sp *sp = v->sp;
	const struct mp_kmeans *km = &sp->km;
	add(v, L_HEAD, "Clusters: k-means, k %zu, seed %llu, %d restarts",
	    km->k, (unsigned long long)sp->seed, sp->ninit);
	add(v, L_TEXT, "  cluster  size  within");
	for (size_t c = 0; c < km->k; c++)
		add(v, L_TEXT, "  %7zu %5zu %7.3f", c + 1, km->size[c],
		    sp->within[c]);
	if (isfinite(km->ratio))
		addw(v, w, "between %.3f, within %.3f, separation %.3f (%s)",
		    km->between, km->within, km->ratio,
		    mp_sparsity_grade(km->ratio));
	else
		addw(v, w, "between %.3f, within %.3f, separation "
		    "undefined", km->between, km->within);
	addw(v, w, "inertia %.3f, balance %.3f (size std %.3f)",
	    km->inertia, km->balance, km->size_std);
}

static void build(struct spview *v, int w)
{
	const struct mp_tui_sp *sp = v->sp;
	v->nlines = 0;
	if (sp->sel >= sp->nmat) {
		add(v, L_TEXT, "Enter: analyse the tensor of the row");
		return;
	}
	add_profile(v, w);
	add(v, L_TEXT, "%s", "");
	const struct mp_mask *mk = mp_tui_sp_mask(sp);
	if (!sp->idx) {
		wrap(v, sp->note, 0, w);
		return;
	}
	add(v, L_HEAD, "Feature %llu (%llu non-zeros): %zu nearest",
	    (unsigned long long)sp->feature,
	    (unsigned long long)mp_mask_count(mk, sp->feature), sp->n);
	addw(v, w, "Hamming distance %llu..%llu (range %llu)",
	    (unsigned long long)sp->dist[0],
	    (unsigned long long)sp->dist[sp->n - 1],
	    (unsigned long long)(sp->dist[sp->n - 1] - sp->dist[0]));
	if (sp->note[0])
		wrap(v, sp->note, 0, w);
	if (sp->clustered)
		add_clusters(v, w);
	add(v, L_TEXT, "%s", "");
	add(v, L_HEAD, "Nearest: feature, distance%s",
	    sp->clustered ? ", cluster" : "");
	for (size_t i = 0; i < sp->n; i++)
		add(v, L_BAR, "%s", "")->idx = i;
}

static int digits(unsigned long long x)
{
	int n = 1;
	while (x >= 10) {
		x /= 10;
		n++;
	}
	return n;
}

/* "feature distance [cCLUSTER] " then a bar of round(d / dmax * area)
 * cells over the rest of the pane, dmax the largest distance shown. */
static void draw_bar(struct spview *v, struct mp_canvas *c, int x, int y,
		     int w, size_t i)
{
	const struct mp_tui_sp *sp = v->sp;
	const struct mp_caps *caps = &v->base.app->caps;
	uint64_t dmax = sp->dist[sp->n - 1], d = sp->dist[i];
	const struct mp_mask *mk = mp_tui_sp_mask(sp);
	char label[64];
	int n = snprintf(label, sizeof label, "%*llu %*llu ",
			 digits(mk->nfeat - 1), (unsigned long long)sp->idx[i],
			 digits(dmax), (unsigned long long)d);
	if (sp->clustered && n > 0 && (size_t)n < sizeof label)
		snprintf(label + n, sizeof label - (size_t)n, "c%-*zu ",
			 digits(sp->k), sp->km.label[i] + 1);
	int lw = mp_canvas_text(c, x, y, w, MP_STYLE_PLAIN, label);
	int area = w - lw;
	if (area < 1)
		return;
	long cells = dmax ? lround((double)d * area / (double)dmax) : 0;
	struct mp_style st = MP_STYLE_PLAIN;
	if (caps->colors)
		st.fg = mp_tui_ramp_color(caps, dmax ? 1.0 - (double)d /
							      (double)dmax
						     : 1.0);
	uint32_t full = caps->unicode ? 0x2588u : '#';
	for (long k = 0; k < cells && k < area; k++)
		mp_canvas_put(c, x + lw + (int)k, y, full, st);
}

/* Measure the shares of the visible rows still unknown (-1: failed). */
static void measure_visible(struct spview *v)
{
	struct mp_tui_sp *sp = v->sp;
	bool told = false;
	for (int r = 0; r < v->rows && v->top + (size_t)r < sp->nmat; r++) {
		size_t i = v->top + (size_t)r;
		struct mp_error err;
		if (!isnan(sp->share[i]))
			continue;
		if (!told)
			mp_tui_busy(v->base.app, "measuring the zeros");
		told = true;
		if (mp_tui_sp_measure(sp, i, &err) != MP_OK) {
			sp->share[i] = -1;
			mp_tui_message(v->base.app, "%s", err.msg);
		}
	}
}

/* Width of the tensor list (its separator included). */
static int list_w(int w)
{
	return w >= 100 ? 34 : w >= 60 ? 26 : w / 3;
}

static void draw_list(struct spview *v, struct mp_canvas *c, int lw)
{
	const struct mp_tui_sp *sp = v->sp;
	const struct mp_caps *caps = &v->base.app->caps;
	mp_canvas_printf(c, 0, 1, lw - 1, mp_style_head, "Matrices (%zu)",
			 sp->nmat);
	for (int r = 0; r < v->rows && v->top + (size_t)r < sp->nmat; r++) {
		size_t i = v->top + (size_t)r;
		int y = 2 + r;
		struct mp_style st = i == v->cur ? mp_style_sel : MP_STYLE_PLAIN;
		if (i == v->cur)
			mp_canvas_fill(c, 0, y, lw - 1, 1, ' ', st);
		if (i == sp->sel)
			mp_canvas_put(c, 0, y, '*', st);
		mp_canvas_fit_middle(c, 1, y, lw - 9, st, caps,
				     tensor_of(v, i)->name);
		double s = sp->share[i];
		if (isnan(s))
			mp_canvas_text(c, lw - 7, y, 6, st, "     -");
		else if (s < 0)
			mp_canvas_text(c, lw - 7, y, 6, st, "     ?");
		else
			mp_canvas_printf(c, lw - 7, y, 6, st, "%5.1f%%",
					 100 * s);
	}
	for (int y = 1; y < c->h - 2; y++)
		mp_canvas_put(c, lw - 1, y, caps->unicode ? 0x2502u : '|',
			      mp_style_dim);
}

static void draw(struct mp_view *v0, struct mp_canvas *c)
{
	struct spview *v = (struct spview *)v0;
	const struct mp_tui_sp *sp = v->sp;
	int lw = list_w(c->w), x0 = lw + 1, rw = c->w - x0;
	v->rows = c->h - 4;
	v->arows = c->h - 3;
	mp_list_clamp(&v->cur, &v->top, sp->nmat, v->rows);
	measure_visible(v);
	draw_list(v, c, lw);
	build(v, rw);
	size_t most = v->nlines > (size_t)(v->arows > 0 ? v->arows : 0)
			      ? v->nlines - (size_t)v->arows
			      : 0;
	if (v->atop > most)
		v->atop = most;
	for (int r = 0; r < v->arows && v->atop + (size_t)r < v->nlines; r++) {
		const struct line *l = &v->lines[v->atop + (size_t)r];
		int y = 1 + r;
		if (l->kind == L_BAR)
			draw_bar(v, c, x0, y, rw, l->idx);
		else
			mp_canvas_text(c, x0, y, rw,
				       l->kind == L_HEAD ? mp_style_head
							 : MP_STYLE_PLAIN,
				       l->text);
	}
	mp_canvas_printf(c, 0, c->h - 2, c->w, mp_style_dim,
			 "%s, n-features %zu, clusters %zu, seed %llu  "
			 "Enter: analyse  PgDn: scroll  ?: keys",
			 sp->axis ? "cols" : "rows", sp->nfeat, sp->nclus,
			 (unsigned long long)sp->seed);
}

/* Show err's message unless st is MP_OK. */
static void report(struct spview *v, mp_status st, const struct mp_error *err)
{
	if (st != MP_OK)
		mp_tui_message(v->base.app, "%s", err->msg);
}

static void choose(struct spview *v)
{
	struct mp_error err;
	char show[MP_NAME_SHOW + 8];
	char what[sizeof show + 32];
	snprintf(what, sizeof what, "computing the masks of %s",
		 mp_printable(tensor_of(v, v->cur)->name, show));
	mp_tui_busy(v->base.app, what);
	report(v, mp_tui_sp_choose(v->sp, v->cur, &err), &err);
	v->atop = 0;
}

/* Run again with the settings changed, when a tensor is chosen. */
static void rerun(struct spview *v)
{
	struct mp_error err;
	if (v->sp->sel >= v->sp->nmat)
		return;
	mp_tui_busy(v->base.app, "computing");
	report(v, mp_tui_sp_run(v->sp, &err), &err);
}

static void step_feature(struct spview *v, int dir)
{
	const struct mp_mask *mk = mp_tui_sp_mask(v->sp);
	struct mp_error err;
	if (!mk || !mk->nfeat)
		return;
	uint64_t f = v->sp->feature;
	f = dir > 0 ? (f + 1) % mk->nfeat : (f + mk->nfeat - 1) % mk->nfeat;
	mp_tui_busy(v->base.app, "computing");
	report(v, mp_tui_sp_feature(v->sp, f, &err), &err);
}

static void set_clusters(struct spview *v, size_t k)
{
	if (k < 2) {
		mp_tui_message(v->base.app, "k-means needs 2 clusters or more");
		return;
	}
	v->sp->nclus = k;
	rerun(v);
}

static void set_nfeat(struct spview *v, size_t n)
{
	if (n < 1) {
		mp_tui_message(v->base.app, "at least 1 nearest feature");
		return;
	}
	v->sp->nfeat = n;
	rerun(v);
}

static bool scroll(struct spview *v, enum mp_action a)
{
	size_t page = v->arows > 1 ? (size_t)v->arows - 1 : 1,
	       half = v->arows > 1 ? (size_t)v->arows / 2 : 1;
	switch (a) {
	case MP_ACT_PAGE_UP: v->atop = v->atop > page ? v->atop - page : 0; break;
	case MP_ACT_HALF_UP: v->atop = v->atop > half ? v->atop - half : 0; break;
	case MP_ACT_PAGE_DOWN: v->atop += page; break; /* draw clamps it */
	case MP_ACT_HALF_DOWN: v->atop += half; break;
	default: return false;
	}
	return true;
}

static bool action(struct mp_view *v0, enum mp_action a)
{
	struct spview *v = (struct spview *)v0;
	struct mp_tui_sp *sp = v->sp;
	struct mp_tui *t = v->base.app;
	struct mp_error err;
	if (scroll(v, a) || mp_list_move(&v->cur, &v->top, sp->nmat, v->rows, a))
		return true;
	switch (a) {
	case MP_ACT_ENTER:
	case MP_ACT_RIGHT: choose(v); return true;
	case MP_ACT_FEATURE_NEXT: step_feature(v, 1); return true;
	case MP_ACT_FEATURE_PREV: step_feature(v, -1); return true;
	case MP_ACT_FEATURE_ASK: mp_tui_ask(t, 'f', "feature index: "); return true;
	case MP_ACT_CLUSTERS_MORE: set_clusters(v, sp->nclus + 1); return true;
	case MP_ACT_CLUSTERS_FEWER: set_clusters(v, sp->nclus - 1); return true;
	case MP_ACT_CLUSTERS_ASK: mp_tui_ask(t, 'k', "clusters: "); return true;
	case MP_ACT_NFEAT_MORE:
		set_nfeat(v, sp->nfeat < (1u << 29) ? 2 * sp->nfeat : sp->nfeat);
		return true;
	case MP_ACT_NFEAT_FEWER: set_nfeat(v, sp->nfeat / 2); return true;
	case MP_ACT_NFEAT_ASK:
		mp_tui_ask(t, 'n', "nearest features: ");
		return true;
	case MP_ACT_SEED_NEXT:
		mp_tui_busy(t, "computing");
		report(v, mp_tui_sp_reseed(sp, sp->seed + 1, &err), &err);
		return true;
	case MP_ACT_SEED_ASK: mp_tui_ask(t, 's', "seed: "); return true;
	case MP_ACT_AXIS:
		mp_tui_busy(t, "computing");
		report(v, mp_tui_sp_toggle_axis(sp, &err), &err);
		return true;
	default: return false;
	}
}

static void answer(struct mp_view *v0, char kind, const char *text)
{
	struct spview *v = (struct spview *)v0;
	struct mp_error err;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(text, &end, 10);
	if (!*text || *end || errno || text[0] == '-' ||
	    (kind != 's' && x > (1u << 30))) {
		char show[MP_NAME_SHOW + 8];
		mp_tui_message(v->base.app, "not a number in range: %s",
			       mp_printable(text, show));
		return;
	}
	if (kind == 'f') {
		mp_tui_busy(v->base.app, "computing");
		report(v, mp_tui_sp_feature(v->sp, x, &err), &err);
	} else if (kind == 'k') {
		set_clusters(v, (size_t)x);
	} else if (kind == 'n') {
		set_nfeat(v, (size_t)x);
	} else if (kind == 's') {
		mp_tui_busy(v->base.app, "computing");
		report(v, mp_tui_sp_reseed(v->sp, x, &err), &err);
	}
}

static void click(struct mp_view *v0, int x, int y)
{
	struct spview *v = (struct spview *)v0;
	if (x >= list_w(v->base.app->w))
		return;
	if (mp_list_click(&v->cur, v->top, v->sp->nmat, v->rows, 2, y))
		choose(v);
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	return mp_tui_match(tensor_of(ctx, i)->name, text);
}

static bool search(struct mp_view *v0, const char *text, int dir)
{
	struct spview *v = (struct spview *)v0;
	if (!mp_list_search(&v->cur, v->sp->nmat, dir, hit, v, text))
		return false;
	mp_list_clamp(&v->cur, &v->top, v->sp->nmat, v->rows);
	return true;
}

static void free_view(struct mp_view *v0)
{
	struct spview *v = (struct spview *)v0;
	if (!v)
		return;
	mp_tui_sp_free(v->sp);
	free(v->lines);
	free(v);
}

static const struct mp_view_ops ops = {"sparsity", draw, action, click,
				       search, NULL, free_view};

struct mp_view *mp_view_sparsity_new(struct mp_tui *t, struct mp_tui_sp *sp)
{
	struct spview *v = calloc(1, sizeof *v);
	if (!v || !sp) {
		free(v);
		mp_tui_sp_free(sp);
		return NULL;
	}
	v->base.ops = &ops;
	v->base.app = t;
	v->base.pos_cur = &v->cur;
	v->base.pos_n = &sp->nmat;
	v->base.answer = answer;
	v->sp = sp;
	v->rows = t->h - 4;
	v->arows = t->h - 3;
	if (sp->sel >= sp->nmat)
		choose(v); /* the first matrix */
	return &v->base;
}

mp_status mp_tui_sparsity_file(struct mp_tui *t, const char *path,
			       struct mp_error *err)
{
	struct mp_tui_sp *sp;
	mp_tui_busy(t, "opening the model");
	mp_status st = mp_tui_sp_open(path, &sp, err);
	if (st != MP_OK)
		return st;
	struct mp_view *v = mp_view_sparsity_new(t, sp);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_tui_push(t, v);
	return MP_OK;
}

bool mp_tui_sparsity_model(struct mp_tui *t, size_t mi)
{
	const struct mp_tui_model *mm = &t->data->models[mi];
	struct mp_reg_model *rm = NULL;
	struct mp_error err;
	mp_status st;
	if (!t->data->registry || !mm->in_registry)
		st = mp_error_set(&err, MP_ENOENT, "%s is not in the registry: "
				  "its files are not known (modelprint tui "
				  "--sparsity FILE)",
				  mm->name);
	else if ((st = mp_regdb_get(t->data->registry, mm->id, &rm, &err)) ==
		 MP_OK)
		st = rm->path && rm->path[0]
			     ? mp_tui_sparsity_file(t, rm->path, &err)
			     : mp_error_set(&err, MP_ENOENT, "%s: the registry "
					    "has no path for it", mm->name);
	mp_reg_model_free(rm);
	if (st != MP_OK)
		mp_tui_message(t, "%s", err.msg);
	return st == MP_OK;
}
