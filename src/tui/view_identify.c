/* view_identify.c — where an unknown model comes from (mp_identify): its
 * architecture, the verdict, the relation to the best match with its
 * evidence wrapped to the screen, the merge coefficients as bars, the
 * ranking of the references, and the tensors that matched, moved most,
 * were zeroed or renamed. A line cursor moves over everything; Enter on a
 * ranking row shows or hides that reference's scores. */
#include "tui_ident.h"
#include "view.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Merge bars: names from column 2 in BAR_NAME_W columns, the bar from
 * column BAR_X over the screen width less BAR_RIGHT columns, the value
 * after it. */
#define BAR_NAME_W 18
#define BAR_X 21
#define BAR_RIGHT 30

enum kind { L_TEXT, L_HEAD, L_COLS, L_RANK, L_BAR };

struct line {
	enum kind kind;
	size_t idx; /* L_RANK: score, L_BAR: merge parent */
	char text[200];
};

struct ident {
	struct mp_view base;
	struct mp_tui_ident *id;
	bool *open; /* [nscores] the score breakdown is shown */
	struct line *lines;
	size_t nlines, cap, cur, top;
	int rows, width; /* at the last draw; lines are wrapped to width */
};

static struct line *add(struct ident *v, enum kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct line *add(struct ident *v, enum kind k, const char *fmt, ...)
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

/* s wrapped at spaces into lines of kind k of at most w columns after
 * indent spaces (a word longer than a line is cut). */
static void wrap_kind(struct ident *v, enum kind k, const char *s,
		      int indent, int w)
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
		add(v, k, "%*s%.*s", indent, "", cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
}

static void wrap(struct ident *v, const char *s, int indent, int w)
{
	wrap_kind(v, L_TEXT, s, indent, w);
}

static const char *ref_name(const struct ident *v, size_t ref)
{
	const struct mp_tui_ident *id = v->id;
	if (ref >= id->nrefs)
		return "?";
	return id->refs[ref].name ? id->refs[ref].name : id->refs[ref].id;
}

/* "0.912", or "-" when undefined. */
static const char *num(double x, char buf[16])
{
	if (isnan(x))
		snprintf(buf, 16, "-");
	else
		snprintf(buf, 16, "%.3f", x);
	return buf;
}

static void add_arch(struct ident *v)
{
	const struct mp_ident_result *r = v->id->result;
	const struct mp_arch_result *a = r->arch;
	const struct mp_arch_match *b = a && a->n ? &a->m[0] : NULL;
	if (!b || !a->known) {
		add(v, L_TEXT, "Architecture  unknown%s%s%s",
		    b ? " (nearest: " : "", b ? b->name : "", b ? ")" : "");
		return;
	}
	char size[96] = "";
	if (b->hidden)
		snprintf(size, sizeof size, ", hidden %llu",
			 (unsigned long long)b->hidden);
	if (b->layers)
		snprintf(size + strlen(size), sizeof size - strlen(size),
			 ", %llu layers", (unsigned long long)b->layers);
	add(v, L_TEXT, "Architecture  %s (%s)%s, coverage %.0f%% (%zu of %zu)",
	    b->name, b->family ? b->family : "-", size, 100 * b->coverage,
	    b->present, b->expected);
}

/* mp_ident_verdict_text and the confidence. */
static void verdict(const struct ident *v, char *buf, size_t size)
{
	const struct mp_ident_result *r = v->id->result;
	const char *conf = r->relation.confidence;
	mp_ident_verdict_text(r, v->id->refs, buf, size);
	size_t n = strlen(buf);
	if (conf && n < size)
		snprintf(buf + n, size - n, " (%s confidence)", conf);
}

static const struct mp_ident_score *parent_score(const struct ident *v)
{
	const struct mp_ident_result *r = v->id->result;
	for (size_t i = 0; i < r->nscores; i++)
		if (r->scores[i].ref == r->relation.parent)
			return &r->scores[i];
	return NULL;
}

/* Which tensors matched exactly, moved, were zeroed or renamed. */
static void add_tensors(struct ident *v, int w)
{
	const struct mp_ident_result *r = v->id->result;
	const struct mp_ident_relation *rel = &r->relation;
	const struct mp_ident_score *ps = parent_score(v);
	add(v, L_HEAD, "Tensor evidence");
	if (rel->from_files)
		add(v, L_TEXT, "  matched exactly: %zu of %zu tensors in common "
		    "(identical bytes)", rel->lineage.identical,
		    rel->lineage.matched);
	else if (ps && !isnan(ps->exact))
		add(v, L_TEXT, "  matched exactly: exact score %.3f over %zu "
		    "matched tensors (sketches)", ps->exact, ps->matched);
	else
		add(v, L_TEXT, "  matched exactly: -");
	if (rel->ntop > 0) {
		bool prune = rel->kind == MP_ID_PRUNE;
		add(v, L_TEXT, "  %s", prune ? "zeroed (share of its weights):"
					     : "moved most (1 - Pearson):");
		for (int k = 0; k < rel->ntop; k++) {
			char val[16];
			if (prune)
				snprintf(val, sizeof val, "%5.1f%%",
					 100 * rel->top[k].value);
			else
				snprintf(val, sizeof val, "%6.4f",
					 rel->top[k].value);
			add(v, L_TEXT, "    %s  %s", val,
			    rel->top[k].name ? rel->top[k].name : "?");
		}
	}
	if (rel->nrenames > 0) {
		add(v, L_TEXT, "  renamed (%zu, unknown -> reference):",
		    rel->nrenames);
		for (size_t k = 0; k < rel->nrenames; k++) {
			char s[400];
			snprintf(s, sizeof s, "%s -> %s", rel->renames[k].from,
				 rel->renames[k].to);
			wrap(v, s, 4, w);
		}
	}
}

static void add_merge(struct ident *v)
{
	const struct mp_ident_relation *rel = &v->id->result->relation;
	if (rel->kind != MP_ID_MERGE || rel->nparents < 1)
		return;
	add(v, L_TEXT, "%s", "");
	add(v, L_HEAD, "Merge coefficients (sum %.3f, residual %.3f, best "
	    "single %.3f, %s)", rel->merge_sum, rel->merge_residual,
	    rel->single_residual, rel->linear ? "linear" : "not linear");
	for (int k = 0; k < rel->nparents && k < MP_MERGE_MAX; k++)
		add(v, L_BAR, "%s", "")->idx = (size_t)k;
}

static void add_score_detail(struct ident *v, const struct mp_ident_score *s,
			     int w)
{
	char b[6][16];
	add(v, L_TEXT, "      shape %s  exact %s  stats %s  cosine %s  "
	    "pearson %s", num(s->shape, b[0]), num(s->exact, b[1]),
	    num(s->stats, b[2]), num(s->cosine, b[3]), num(s->pearson, b[4]));
	add(v, L_TEXT, "      coverage %s  final %s before the coverage "
	    "penalty, %s after", num(s->coverage, b[0]), num(s->raw_final, b[1]),
	    num(s->final, b[2]));
	add(v, L_TEXT, "      %zu tensors matched (%zu by content, renamed), "
	    "overlap %s", s->matched, s->renamed, num(s->overlap, b[5]));
	const struct mp_ident_ref *ref = &v->id->refs[s->ref];
	char idl[400];
	snprintf(idl, sizeof idl, "id %s%s%s", ref->id ? ref->id : "?",
		 ref->path ? ", files " : "", ref->path ? ref->path : "");
	wrap(v, idl, 6, w);
	if (!s->compatible && s->why[0]) {
		char why[200];
		snprintf(why, sizeof why, "not compatible: %s", s->why);
		wrap(v, why, 6, w);
	}
}

static void build(struct ident *v, int w)
{
	const struct mp_tui_ident *id = v->id;
	const struct mp_ident_result *r = id->result;
	const struct mp_ident_relation *rel = &r->relation;
	v->nlines = 0;
	v->width = w;
	char buf[1400];
	if (id->ufp) {
		char pb[16];
		add(v, L_HEAD, "Unknown  %s: %zu tensors, %s parameters",
		    id->unknown ? id->unknown : "?", id->ufp->ntensors,
		    mp_tui_fmt_count(id->ufp->params, pb));
	} else {
		add(v, L_HEAD, "Unknown  %s", id->unknown ? id->unknown : "?");
	}
	add_arch(v);
	memcpy(buf, "Verdict: ", 9);
	verdict(v, buf + 9, sizeof buf - 9);
	wrap_kind(v, L_HEAD, buf, 0, w);
	snprintf(buf, sizeof buf, "Relation: %s, decided on the %s. %s",
		 mp_ident_kind_name(rel->kind),
		 rel->from_files ? "files" : "sketches", rel->evidence);
	wrap(v, buf, 0, w);
	add_merge(v);
	add(v, L_TEXT, "%s", "");
	add(v, L_HEAD, "Ranking (%zu references, %zu compatible)", r->nscores,
	    r->ncompatible);
	if (r->nscores == 0)
		add(v, L_TEXT, "  no reference: nothing to compare with");
	else
		add(v, L_COLS, "%s", "");
	for (size_t i = 0; i < r->nscores; i++) {
		add(v, L_RANK, "%s", ref_name(v, r->scores[i].ref))->idx = i;
		if (v->open[i])
			add_score_detail(v, &r->scores[i], w);
	}
	add(v, L_TEXT, "%s", "");
	add_tensors(v, w);
	if (r->nkeys) {
		add(v, L_TEXT, "%s", "");
		size_t n = (size_t)snprintf(buf, sizeof buf,
					    "Key tensors (%s, %zu):",
					    mp_ident_selection_name(r->selection),
					    r->nkeys);
		for (size_t k = 0; k < r->nkeys && n < sizeof buf; k++)
			n += (size_t)snprintf(buf + n, sizeof buf - n, " %s",
					      r->keys[k].name);
		wrap(v, buf, 0, w);
	}
	if (r->nwarnings) {
		add(v, L_TEXT, "%s", "");
		add(v, L_HEAD, "Warnings");
		for (size_t k = 0; k < r->nwarnings; k++)
			wrap(v, r->warnings[k], 2, w);
	}
}

/* Ranking columns: rank, name (wider on wide screens), architecture,
 * final, pearson, coverage, then compatible or the reason. */
static int name_w(int w)
{
	return w > 80 ? 20 + (w - 80) / 2 : 20;
}

static void draw_rank(struct ident *v, struct mp_canvas *c, int y,
		      const struct line *l, struct mp_style st)
{
	int nw = name_w(c->w), xa = 4 + nw + 1, xf = xa + 13;
	if (l->kind == L_COLS) {
		mp_canvas_printf(c, 0, y, c->w, mp_style_head,
				 "%3s %-*s %-12s %6s %7s %5s %s", "#", nw, "name",
				 "architecture", "final", "pearson", "cover",
				 "compatible");
		return;
	}
	const struct mp_ident_score *s = &v->id->result->scores[l->idx];
	char b[3][16];
	mp_canvas_printf(c, 0, y, 4, st, "%3zu", l->idx + 1);
	mp_canvas_fit_middle(c, 4, y, nw, st, &v->base.app->caps, l->text);
	mp_canvas_fit_middle(c, xa, y, 12, st, &v->base.app->caps,
			     s->arch ? s->arch : "-");
	mp_canvas_printf(c, xf, y, c->w - xf, st, "%6s %7s %4s%s",
			 num(s->compatible ? s->final : NAN, b[0]), num(s->pearson, b[1]),
			 isnan(s->coverage) ? "-"
					    : (snprintf(b[2], 16, "%.0f",
							100 * s->coverage),
					       b[2]),
			 isnan(s->coverage) ? " " : "%");
	int xs = xf + 6 + 1 + 7 + 1 + 5 + 1;
	mp_canvas_text(c, xs, y, c->w - xs, st,
		       s->compatible ? "yes" : s->why[0] ? s->why : "no");
}

static void draw_bar(struct ident *v, struct mp_canvas *c, int y,
		     const struct line *l, struct mp_style st)
{
	const struct mp_ident_relation *rel = &v->id->result->relation;
	int k = (int)l->idx, area = c->w - BAR_RIGHT;
	double scale = 1;
	for (int i = 0; i < rel->nparents; i++)
		scale = fmax(scale, rel->coef[i]);
	mp_canvas_fit_middle(c, 2, y, BAR_NAME_W, st, &v->base.app->caps,
			     ref_name(v, rel->parents[k]));
	double coef = isfinite(rel->coef[k]) ? fmax(rel->coef[k], 0) : 0;
	long cells = lround(coef / scale * area);
	uint32_t full = v->base.app->caps.unicode ? 0x2588u : '#';
	for (long i = 0; i < cells && i < area; i++)
		mp_canvas_put(c, BAR_X + (int)i, y, full, st);
	mp_canvas_printf(c, BAR_X + (area > 0 ? area : 0) + 1, y, 8, st,
			 "%6.3f", rel->coef[k]);
}

static void draw(struct mp_view *v0, struct mp_canvas *c)
{
	struct ident *v = (struct ident *)v0;
	if (c->w != v->width)
		build(v, c->w);
	v->rows = c->h - 3;
	mp_list_clamp(&v->cur, &v->top, v->nlines, v->rows);
	for (int r = 0; r < v->rows && v->top + (size_t)r < v->nlines; r++) {
		size_t i = v->top + (size_t)r;
		const struct line *l = &v->lines[i];
		int y = 1 + r;
		struct mp_style st = i == v->cur ? mp_style_sel : MP_STYLE_PLAIN;
		if (i == v->cur)
			mp_canvas_fill(c, 0, y, c->w, 1, ' ', st);
		switch (l->kind) {
		case L_COLS:
		case L_RANK: draw_rank(v, c, y, l, st); break;
		case L_BAR: draw_bar(v, c, y, l, st); break;
		case L_HEAD:
			mp_canvas_text(c, 0, y, c->w,
				       i == v->cur ? st : mp_style_head, l->text);
			break;
		default: mp_canvas_text(c, 0, y, c->w, st, l->text); break;
		}
	}
	const struct line *l = v->nlines ? &v->lines[v->cur] : NULL;
	mp_canvas_text(c, 0, c->h - 2, c->w, mp_style_dim,
		       l && l->kind == L_RANK
			       ? "Enter: show or hide this reference's scores  "
				 "Esc: back"
			       : "j/k: move  Enter on a ranking row: its scores"
				 "  Esc: back");
}

/* Show or hide the scores under the ranking row at the cursor. */
static void toggle(struct ident *v)
{
	const struct line *l = &v->lines[v->cur];
	if (l->kind != L_RANK)
		return;
	v->open[l->idx] = !v->open[l->idx];
	size_t before = v->nlines;
	build(v, v->width);
	size_t end = v->cur + (v->nlines > before ? v->nlines - before : 0);
	if (v->rows > 0 && end >= v->top + (size_t)v->rows) /* show them */
		v->top = end - (size_t)v->rows + 1 < v->cur
				 ? end - (size_t)v->rows + 1
				 : v->cur;
}

static bool action(struct mp_view *v0, enum mp_action a)
{
	struct ident *v = (struct ident *)v0;
	if (mp_list_move(&v->cur, &v->top, v->nlines, v->rows, a))
		return true;
	if ((a == MP_ACT_ENTER || a == MP_ACT_RIGHT) && v->nlines) {
		toggle(v);
		return true;
	}
	return false;
}

static void click(struct mp_view *v0, int x, int y)
{
	struct ident *v = (struct ident *)v0;
	if (mp_list_click(&v->cur, v->top, v->nlines, v->rows, 1, y))
		toggle(v);
}

static bool hit(const void *ctx, size_t i, const char *text)
{
	const struct ident *v = ctx;
	return mp_tui_match(v->lines[i].text, text);
}

static bool search(struct mp_view *v0, const char *text, int dir)
{
	struct ident *v = (struct ident *)v0;
	if (!mp_list_search(&v->cur, v->nlines, dir, hit, v, text))
		return false;
	mp_list_clamp(&v->cur, &v->top, v->nlines, v->rows);
	return true;
}

static void free_view(struct mp_view *v0)
{
	struct ident *v = (struct ident *)v0;
	if (!v)
		return;
	mp_tui_ident_free(v->id);
	free(v->open);
	free(v->lines);
	free(v);
}

static const struct mp_view_ops ops = {"identify", draw, action, click,
				       search, NULL, free_view};

struct mp_view *mp_view_identify_new(struct mp_tui *t, struct mp_tui_ident *id)
{
	struct ident *v = calloc(1, sizeof *v);
	size_t n = id && id->result ? id->result->nscores : 0;
	if (!v || !id || !id->result ||
	    !(v->open = calloc(n ? n : 1, sizeof *v->open))) {
		free(v);
		mp_tui_ident_free(id);
		return NULL;
	}
	v->base.ops = &ops;
	v->base.app = t;
	v->base.pos_cur = &v->cur;
	v->base.pos_n = &v->nlines;
	v->id = id;
	v->rows = t->h - 3;
	build(v, t->w);
	return &v->base;
}

/* Push the view of id unless st says it failed. */
static mp_status open_ident(struct mp_tui *t, mp_status st,
			    struct mp_tui_ident *id, struct mp_error *err)
{
	if (st != MP_OK)
		return st;
	struct mp_view *v = mp_view_identify_new(t, id);
	if (!v)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	mp_tui_push(t, v);
	return MP_OK;
}

bool mp_tui_identify_model(struct mp_tui *t, size_t mi)
{
	struct mp_tui_ident *id;
	struct mp_error err;
	mp_tui_busy(t, "identifying");
	mp_status st = mp_tui_ident_model(t->data, mi, NULL, &id, &err);
	if (open_ident(t, st, id, &err) != MP_OK) {
		mp_tui_message(t, "%s", err.msg);
		return false;
	}
	return true;
}

mp_status mp_tui_identify_file(struct mp_tui *t, const char *path,
			       struct mp_error *err)
{
	struct mp_tui_ident *id;
	mp_tui_busy(t, "fingerprinting and identifying");
	mp_status st = mp_tui_ident_file(t->data, path, NULL, &id, err);
	return open_ident(t, st, id, err);
}
