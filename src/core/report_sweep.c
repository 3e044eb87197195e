/* report_sweep.c — sweep.html: the matrices, accuracies and correlations
 * of a sweep as the data object of a page in the frame of report_html.c,
 * drawn by report_sweep.js. */
#include "report_sweep.h"
#include "report_html_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void num_array(struct mp_hbuf *b, const double *v, size_t n)
{
	mp_hbuf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			mp_hbuf_puts(b, ",");
		mp_hbuf_num(b, v[i]);
	}
	mp_hbuf_puts(b, "]");
}

/* An n x n row-major matrix as an array of rows. */
static void matrix(struct mp_hbuf *b, const double *v, size_t n)
{
	mp_hbuf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		mp_hbuf_puts(b, i ? ",\n" : "\n");
		num_array(b, v + i * n, n);
	}
	mp_hbuf_puts(b, "]");
}

mp_status mp_report_sweep_html(const char *path, const struct mp_sweep *s,
			       const struct mp_sweep_result *r,
			       const double *pearson, struct mp_error *err)
{
	static const char *const name[3] = {"tn", "logit_cosine", "freq_js"};
	static const char *const label[3] = {"TN similarity",
					     "logit cosine similarity",
					     "frequency JS divergence"};
	const double *v[3] = {r->tn, r->logit, r->js};
	size_t n = s->n;
	struct mp_hbuf b = {0};
	struct mp_hbuf_locale loc;
	mp_hbuf_locale_enter(&loc);
	char sub[128];
	snprintf(sub, sizeof sub, "%zu models, P = %u", n, s->P);
	size_t tl = strlen(s->name) + 32;
	char *title = malloc(tl);
	if (!title) {
		mp_hbuf_locale_leave(&loc);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	snprintf(title, tl, "modelprint sweep: %s", s->name);
	mp_hbuf_page_begin(&b, title, sub); /* escapes the name */
	free(title);
	mp_hbuf_puts(&b, "kind:\"sweep\",\nname:");
	mp_hbuf_jstr(&b, s->name);
	mp_hbuf_puts(&b, ",P:");
	mp_hbuf_num(&b, s->P);
	mp_hbuf_puts(&b, ",\nd:[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			mp_hbuf_puts(&b, ",");
		mp_hbuf_num(&b, s->m[i].d);
	}
	mp_hbuf_puts(&b, "],\nacc:");
	num_array(&b, r->acc, n);
	mp_hbuf_puts(&b, ",\nmetrics:[");
	for (int t = 0; t < 3; t++) {
		mp_hbuf_puts(&b, t ? ",\n{name:" : "\n{name:");
		mp_hbuf_jstr(&b, name[t]);
		mp_hbuf_puts(&b, ",label:");
		mp_hbuf_jstr(&b, label[t]);
		mp_hbuf_puts(&b, t == 2 ? ",higher:false,values:"
					: ",higher:true,values:");
		matrix(&b, v[t], n);
		mp_hbuf_puts(&b, "}");
	}
	mp_hbuf_puts(&b, "],\npearson:");
	if (pearson)
		num_array(&b, pearson, 9);
	else
		mp_hbuf_puts(&b, "null");
	mp_hbuf_page_end(&b, mp_report_sweep_js);
	mp_hbuf_locale_leave(&loc);
	return mp_hbuf_finish(&b, path, err);
}
