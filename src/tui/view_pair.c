/* view_pair.c — two models side by side: who they are, their sizes and
 * dtypes, the tensors they share by name and shape, and their score in
 * the current matrix. */
#include "metric.h"
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pair {
	struct mp_view base;
	size_t a, b; /* model indices */
	long ntensors[2];
	long common; /* tensors matched by name and shape, -1 unknown */
};

static void row(struct mp_canvas *c, const struct mp_caps *caps, int y,
		int half, const char *label, const char *l, const char *r)
{
	mp_canvas_text(c, 0, y, 12, mp_style_head, label);
	mp_canvas_fit_middle(c, 13, y, half - 1, MP_STYLE_PLAIN, caps, l);
	mp_canvas_fit_middle(c, 13 + half, y, c->w - 13 - half, MP_STYLE_PLAIN,
			     caps, r);
}

static void draw(struct mp_view *v, struct mp_canvas *c)
{
	struct pair *p = (struct pair *)v;
	const struct mp_tui_data *d = v->app->data;
	const struct mp_tui_model *m[2] = {&d->models[p->a], &d->models[p->b]};
	int half = (c->w - 13) / 2;
	char buf[2][64];
	const struct mp_caps *caps = &v->app->caps;
	row(c, caps, 1, half, "", "model A", "model B");
	mp_canvas_attr(c, 13, 1, c->w - 13, MP_ATTR_BOLD);
	row(c, caps, 2, half, "id", m[0]->id, m[1]->id);
	row(c, caps, 3, half, "name", m[0]->name, m[1]->name);
	row(c, caps, 4, half, "family", m[0]->family, m[1]->family);
	row(c, caps, 5, half, "type", m[0]->type, m[1]->type);
	row(c, caps, 6, half, "format", m[0]->format, m[1]->format);
	for (int k = 0; k < 2; k++)
		if (m[k]->has_fp)
			mp_tui_fmt_count(m[k]->params, buf[k]);
		else
			snprintf(buf[k], sizeof buf[k], "-");
	row(c, caps, 7, half, "parameters", buf[0], buf[1]);
	row(c, caps, 8, half, "dtypes", m[0]->dtypes, m[1]->dtypes);
	for (int k = 0; k < 2; k++)
		snprintf(buf[k], sizeof buf[k], p->ntensors[k] < 0 ? "-" : "%ld",
			 p->ntensors[k]);
	row(c, caps, 9, half, "tensors", buf[0], buf[1]);
	if (p->common >= 0)
		mp_canvas_printf(c, 0, 11, c->w, MP_STYLE_PLAIN,
				 "%ld tensors in common (same name and shape)",
				 p->common);
	const struct mp_simmatrix *mx = d->m;
	long i = mp_tui_data_row(d, p->a), j = mp_tui_data_row(d, p->b);
	if (!mx || i < 0 || j < 0) {
		mp_canvas_text(c, 0, 12, c->w, MP_STYLE_PLAIN,
			       "not both in the current matrix");
		return;
	}
	double val = mx->value[(size_t)i * mx->n + (size_t)j];
	const char *why = mx->reason ? mx->reason[(size_t)i * mx->n + (size_t)j] : NULL;
	if (isnan(val))
		mp_canvas_printf(c, 0, 12, c->w, mp_style_head, "%s/%s: null (%s)",
				 mx->method, mx->metric, why ? why : "undefined");
	else
		mp_canvas_printf(c, 0, 12, c->w, mp_style_head,
				 "%s/%s: " MP_SCORE_FMT " (%s is more alike)", mx->method,
				 mx->metric, val,
				 mx->higher_is_more_alike ? "higher" : "lower");
	char est[96];
	mp_canvas_text(c, 0, 13, c->w, MP_STYLE_PLAIN,
		       mp_simmatrix_estimate_phrase(mx, est, sizeof est));
	mp_canvas_text(c, 0, c->h - 2, c->w, mp_style_dim,
		       "m: next matrix  Esc: back");
}

static bool action(struct mp_view *v, enum mp_action a)
{
	return false;
}

static void free_view(struct mp_view *v)
{
	free(v);
}

static const struct mp_view_ops ops = {"pair", draw, action, NULL, NULL,
				       NULL, free_view};

static void count_one(const struct mp_tensor_fp *ta,
		      const struct mp_tensor_fp *tb, void *ctx)
{
}

struct mp_view *mp_view_pair_new(struct mp_tui *t, size_t a, size_t b)
{
	struct pair *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->base.ops = &ops;
	p->base.app = t;
	p->a = a;
	p->b = b;
	p->common = -1;
	struct mp_fingerprint *fp[2] = {NULL, NULL};
	size_t ids[2] = {a, b};
	mp_tui_busy(t, "reading fingerprints");
	for (int k = 0; k < 2; k++) {
		char why[MP_ERRMSG_MAX];
		p->ntensors[k] = -1;
		if (mp_tui_data_fp(t->data, ids[k], "tensors", &fp[k], why) ==
		    MP_OK)
			p->ntensors[k] = (long)fp[k]->ntensors;
	}
	if (fp[0] && fp[1])
		p->common = (long)mp_metric_match(fp[0], fp[1], count_one, NULL);
	mp_fp_free(fp[0]);
	mp_fp_free(fp[1]);
	return &p->base;
}
