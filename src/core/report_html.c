/* report_html.c — the HTML dashboard and correlation page: a growing text
 * buffer, escaping for HTML and JS string contexts, numbers and base64
 * written by hand (cJSON would be far too slow at 4 million cells). */
#include "report_html.h"
#include "report_html_int.h"
#include "atomic_write.h"
#include "escape.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static bool reserve(struct mp_hbuf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1 << 16;
	while (cap < b->len + more + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void put(struct mp_hbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct mp_hbuf *b, const char *s) { put(b, s, strlen(s)); }

static void putc_(struct mp_hbuf *b, char c) { put(b, &c, 1); }

/* Numbers: shortest round-trip form up to 17 digits, C locale; null for
 * NaN and infinities (JSON/JS literal context). */
static void put_num(struct mp_hbuf *b, double v)
{
	char s[40];
	if (!isfinite(v)) {
		puts_(b, "null");
		return;
	}
	for (int prec = 9; prec <= 17; prec += 8) {
		snprintf(s, sizeof s, "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	puts_(b, s);
}

static void put_uint(struct mp_hbuf *b, size_t v)
{
	char s[24];
	int i = 23;
	s[i] = '\0';
	do {
		s[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_(b, s + i);
}

/* Decode one UTF-8 code point at s (len bytes left); invalid sequences
 * give U+FFFD and consume one byte. */
static unsigned utf8_next(const unsigned char *s, size_t len, size_t *used)
{
	unsigned c = s[0];
	size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
			     : (c >> 3) == 30  ? 4 : 0;
	*used = 1;
	if (n == 1)
		return c;
	if (n == 0 || n > len)
		return 0xFFFD;
	unsigned cp = c & (0x7F >> n);
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0xFFFD;
		cp = cp << 6 | (s[k] & 0x3F);
	}
	static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0xFFFD;
	*used = n;
	return cp;
}

/* s as a double-quoted JS string literal made of printable ASCII only:
 * quotes, backslashes, '<', '>', '&', control characters and every
 * non-ASCII code point as a \u escape (surrogate pairs above U+FFFF).
 * Safe inside a <script> element and inside an HTML attribute. */
static void put_jstr(struct mp_hbuf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t len = strlen((const char *)s);
	putc_(b, '"');
	for (size_t i = 0; i < len;) {
		size_t used;
		unsigned cp = utf8_next(s + i, len - i, &used);
		i += used;
		if (cp >= 0x20 && cp < 0x7F && !strchr("\"\\<>&'", (int)cp)) {
			putc_(b, (char)cp);
			continue;
		}
		char e[16];
		if (cp > 0xFFFF) {
			cp -= 0x10000;
			snprintf(e, sizeof e, "\\u%04x\\u%04x", 0xD800 + (cp >> 10),
				 0xDC00 + (cp & 0x3FF));
		} else {
			snprintf(e, sizeof e, "\\u%04x", cp);
		}
		puts_(b, e);
	}
	putc_(b, '"');
}

/* s escaped for HTML text and attribute values: first shown as on a
 * terminal (mp_escape_term: valid UTF-8, control characters and bidi
 * overrides as \x1b, \u202e), then &, <, >, " and ' as entities. */
static void put_html(struct mp_hbuf *b, const char *str)
{
	size_t need = mp_escape_term(str ? str : "", NULL, 0) + 1;
	char *e = malloc(need);
	if (!e) {
		b->oom = true;
		return;
	}
	mp_escape_term(str ? str : "", e, need);
	for (const char *s = e; *s; s++) {
		switch (*s) {
		case '&': puts_(b, "&amp;"); break;
		case '<': puts_(b, "&lt;"); break;
		case '>': puts_(b, "&gt;"); break;
		case '"': puts_(b, "&quot;"); break;
		case '\'': puts_(b, "&#39;"); break;
		default: putc_(b, *s);
		}
	}
	free(e);
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Streaming base64 of little-endian words: feed bytes, flush at the end. */
struct b64w {
	struct mp_hbuf *b;
	unsigned char q[3];
	int nq;
};

static void b64_byte(struct b64w *w, unsigned char c)
{
	w->q[w->nq++] = c;
	if (w->nq < 3)
		return;
	char o[4];
	unsigned v = (unsigned)w->q[0] << 16 | (unsigned)w->q[1] << 8 | w->q[2];
	o[0] = b64[v >> 18];
	o[1] = b64[(v >> 12) & 63];
	o[2] = b64[(v >> 6) & 63];
	o[3] = b64[v & 63];
	put(w->b, o, 4);
	w->nq = 0;
}

static void b64_u32(struct b64w *w, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		b64_byte(w, (unsigned char)(v >> (8 * k)));
}

static void b64_u16(struct b64w *w, uint32_t v)
{
	b64_byte(w, (unsigned char)v);
	b64_byte(w, (unsigned char)(v >> 8));
}

static void b64_f32(struct b64w *w, double x)
{
	float f = isfinite(x) ? (float)x : NAN;
	uint32_t u;
	memcpy(&u, &f, 4);
	b64_u32(w, u);
}

static void b64_flush(struct b64w *w)
{
	if (w->nq == 0)
		return;
	int n = w->nq;
	while (w->nq < 3)
		w->q[w->nq++] = 0;
	unsigned v = (unsigned)w->q[0] << 16 | (unsigned)w->q[1] << 8 | w->q[2];
	char o[4] = {b64[v >> 18], b64[(v >> 12) & 63],
		     n > 1 ? b64[(v >> 6) & 63] : '=', '='};
	put(w->b, o, 4);
	w->nq = 0;
}

/* ---- page frame ----------------------------------------------------------- */

/* The error recorder runs before anything else so that the browser test
 * sees every uncaught error and console.error call. */
static const char head_script[] =
	"window.mpErrors=[];window.addEventListener('error',function(e){"
	"mpErrors.push(String(e.message||e.type));});"
	"(function(){var ce=console.error;console.error=function(){"
	"mpErrors.push(Array.prototype.join.call(arguments,' '));"
	"return ce.apply(console,arguments);};})();";

/* The page up to the data: title, subtitle and one line per note. */
static void page_begin(struct mp_hbuf *b, const char *title, const char *sub,
		       const char *const *notes, size_t nnotes)
{
	puts_(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		 "<meta charset=\"utf-8\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width\">\n"
		 "<title>");
	put_html(b, title);
	puts_(b, "</title>\n<script>");
	puts_(b, head_script);
	puts_(b, "</script>\n<style>\n");
	puts_(b, mp_report_html_css);
	puts_(b, "</style>\n</head>\n<body>\n<header><h1>");
	put_html(b, title);
	puts_(b, "</h1><p class=\"sub\">");
	put_html(b, sub);
	puts_(b, "</p>");
	for (size_t i = 0; i < nnotes; i++) {
		puts_(b, "<p class=\"sub\">");
		put_html(b, notes[i]);
		puts_(b, "</p>");
	}
	puts_(b, "</header>\n<main id=\"app\"></main>\n"
		 "<div id=\"tip\" class=\"tip\" hidden></div>\n"
		 "<pre id=\"mp-selftest\" hidden></pre>\n<script>\nwindow.MP={");
}

void mp_hbuf_page_end(struct mp_hbuf *b, const char *js)
{
	puts_(b, "};\n</script>\n<script>\n");
	puts_(b, js);
	puts_(b, "</script>\n</body>\n</html>\n");
}

static void page_end(struct mp_hbuf *b)
{
	mp_hbuf_page_end(b, mp_report_html_js);
}

void mp_hbuf_page_begin(struct mp_hbuf *b, const char *title, const char *sub)
{
	page_begin(b, title, sub, NULL, 0);
}

void mp_hbuf_puts(struct mp_hbuf *b, const char *s) { puts_(b, s); }

void mp_hbuf_num(struct mp_hbuf *b, double v) { put_num(b, v); }

void mp_hbuf_jstr(struct mp_hbuf *b, const char *s) { put_jstr(b, s); }

static void key(struct mp_hbuf *b, const char *k)
{
	putc_(b, '\n');
	puts_(b, k);
	putc_(b, ':');
}

static void str_array(struct mp_hbuf *b, const char *k, const char *const *v,
		      size_t n)
{
	key(b, k);
	putc_(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			putc_(b, ',');
		put_jstr(b, v[i]);
	}
	puts_(b, "],");
}

mp_status mp_hbuf_finish(struct mp_hbuf *b, const char *path,
			 struct mp_error *err)
{
	mp_status st = b->oom ? mp_error_set(err, MP_ENOMEM,
					     "%s: out of memory building the page",
					     path)
			      : mp_atomic_write(path, b->p, err);
	free(b->p);
	return st;
}

/* Numbers are formatted in the C locale whatever the caller's. */
void mp_hbuf_locale_enter(struct mp_hbuf_locale *l)
{
	l->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	l->old = l->c ? uselocale(l->c) : (locale_t)0;
}

void mp_hbuf_locale_leave(struct mp_hbuf_locale *l)
{
	if (l->c) {
		uselocale(l->old);
		freelocale(l->c);
	}
}

/* ---- dashboard ------------------------------------------------------------ */

static void groups_js(struct mp_hbuf *b, const char *k,
		      const struct mp_group_stats *g, size_t n)
{
	key(b, k);
	putc_(b, '[');
	for (size_t i = 0; i < n; i++) {
		const struct mp_group_stats *s = &g[i];
		puts_(b, i ? ",\n{label:" : "\n{label:");
		put_jstr(b, s->label);
		puts_(b, ",k0:");
		put_jstr(b, s->key[0]);
		puts_(b, ",k1:");
		put_jstr(b, s->key[1]);
		puts_(b, ",n:");
		put_uint(b, s->n_pairs);
		puts_(b, ",nnull:");
		put_uint(b, s->n_null);
		const double v[7] = {s->min,  s->q25, s->median, s->q75,
				     s->max,  s->mean, s->variance};
		static const char *const names[7] = {
			",min:", ",q25:", ",median:", ",q75:",
			",max:", ",mean:", ",variance:"};
		for (int t = 0; t < 7; t++) {
			puts_(b, names[t]);
			put_num(b, v[t]);
		}
		putc_(b, '}');
	}
	puts_(b, "],");
}

/* Distinct reason strings of the null cells, and (cell, reason) couples. */
static void nulls_js(struct mp_hbuf *b, const struct mp_simmatrix *m)
{
	const char **seen = NULL;
	size_t nseen = 0, cap = 0;
	struct mp_hbuf cells = {0};
	size_t nn = m->n * m->n;
	for (size_t c = 0; c < nn && !b->oom; c++) {
		if (isfinite(m->value[c]))
			continue;
		const char *r = m->reason && m->reason[c] ? m->reason[c]
							  : "undefined";
		size_t k = 0;
		while (k < nseen && strcmp(seen[k], r) != 0)
			k++;
		if (k == nseen) {
			if (nseen == cap) {
				cap = cap ? cap * 2 : 8;
				const char **s = realloc(seen, cap * sizeof *s);
				if (!s) {
					b->oom = true;
					break;
				}
				seen = s;
			}
			seen[nseen++] = r;
		}
		if (cells.len)
			putc_(&cells, ',');
		put_uint(&cells, c);
		putc_(&cells, ',');
		put_uint(&cells, k);
	}
	if (cells.oom)
		b->oom = true;
	str_array(b, "reasons", seen, nseen);
	key(b, "nullCells");
	putc_(b, '[');
	if (cells.p)
		put(b, cells.p, cells.len);
	puts_(b, "],");
	free(seen);
	free(cells.p);
}

/* The clusters at the cut: rows of members and of disagreeing members,
 * "f1 2, f2 1" for families and types. */
static void counts_js(struct mp_hbuf *b, const char *k,
		      const struct mp_cluster_count *v, size_t n)
{
	struct mp_hbuf t = {0};
	for (size_t i = 0; i < n; i++) {
		char num[32];
		snprintf(num, sizeof num, " %zu%s", v[i].count,
			 i + 1 < n ? ", " : "");
		puts_(&t, v[i].name);
		puts_(&t, num);
	}
	putc_(&t, '\0');
	puts_(b, k);
	put_jstr(b, t.oom ? "" : t.p);
	b->oom |= t.oom;
	free(t.p);
}

static void clusters_js(struct mp_hbuf *b, const struct mp_cluster_cut *c)
{
	key(b, "cut");
	put_num(b, c ? c->cut : NAN);
	putc_(b, ',');
	key(b, "clusters");
	putc_(b, '[');
	for (size_t k = 0; c && k < c->n; k++) {
		const struct mp_cluster *cl = &c->v[k];
		puts_(b, k ? ",\n{m:[" : "\n{m:[");
		for (size_t i = 0; i < cl->size; i++) {
			if (i)
				putc_(b, ',');
			put_uint(b, cl->member[i]);
		}
		puts_(b, "],dis:[");
		for (size_t i = 0, d = 0; i < cl->size; i++)
			if (c->disagrees[cl->member[i]]) {
				if (d++)
					putc_(b, ',');
				put_uint(b, cl->member[i]);
			}
		puts_(b, "],score:");
		put_num(b, cl->score);
		puts_(b, ",purity:");
		put_num(b, cl->purity);
		puts_(b, ",major:");
		put_jstr(b, cl->majority ? cl->majority : "");
		counts_js(b, ",fam:", cl->families, cl->n_families);
		counts_js(b, ",types:", cl->types, cl->n_types);
		putc_(b, '}');
	}
	puts_(b, "],");
}

mp_status mp_report_html_dashboard(const char *path,
				   const struct mp_analysis *a,
				   struct mp_error *err)
{
	return mp_report_html_dashboard_clusters(path, a, NULL, err);
}

mp_status mp_report_html_dashboard_clusters(const char *path,
					    const struct mp_analysis *a,
					    const struct mp_cluster_cut *cut,
					    struct mp_error *err)
{
	const struct mp_simmatrix *m = a->m;
	size_t n = a->n;
	uint64_t cells;
	if (!mp_mul_u64(n, n, &cells) || cells > SIZE_MAX / 8)
		return mp_error_set(err, MP_ENOMEM, "%s: %zu models is too many",
				    path, n);
	struct mp_hbuf b = {0};
	struct mp_hbuf_locale loc;
	mp_hbuf_locale_enter(&loc);
	char title[256];
	snprintf(title, sizeof title, "modelprint analysis: %s / %s",
		 m->method, m->metric);
	char sub[160];
	snprintf(sub, sizeof sub, "%zu models, %zu pairs (%zu null); %s",
		 n, a->npairs, a->n_null,
		 m->higher_is_more_alike ? "similarity: higher is more alike"
					 : "divergence: lower is more alike");
	char est[160];
	const char *note = mp_simmatrix_estimate_text(m, est, sizeof est);
	page_begin(&b, title, sub, &note, 1);
	puts_(&b, "kind:\"dashboard\",");
	key(&b, "estimate");
	put_jstr(&b, note);
	putc_(&b, ',');
	key(&b, "method");
	put_jstr(&b, m->method);
	puts_(&b, ",metric:");
	put_jstr(&b, m->metric);
	puts_(&b, m->higher_is_more_alike ? ",higher:true," : ",higher:false,");
	key(&b, "n");
	put_uint(&b, n);
	puts_(&b, ",npairs:");
	put_uint(&b, a->npairs);
	puts_(&b, ",nNull:");
	put_uint(&b, a->n_null);
	putc_(&b, ',');
	str_array(&b, "ids", (const char *const *)m->ids, n);
	str_array(&b, "names", a->name, n);
	str_array(&b, "family", a->family, n);
	str_array(&b, "type", a->type, n);
	key(&b, "order");
	putc_(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			putc_(&b, ',');
		put_uint(&b, a->order[i]);
	}
	puts_(&b, "],");
	str_array(&b, "missingInInfo", (const char *const *)a->missing_in_info,
		  a->n_missing_in_info);
	str_array(&b, "missingInResults",
		  (const char *const *)a->missing_in_results,
		  a->n_missing_in_results);
	groups_js(&b, "intra", a->intra, a->n_intra);
	groups_js(&b, "inter", a->inter, a->n_inter);
	groups_js(&b, "typepair", a->typepair, a->n_typepair);
	nulls_js(&b, m);
	clusters_js(&b, cut);
	key(&b, "matrix");
	putc_(&b, '"');
	struct b64w w = {.b = &b};
	for (size_t c = 0; c < (size_t)cells && !b.oom; c++)
		b64_f32(&w, m->value[c]);
	b64_flush(&w);
	puts_(&b, "\",");
	/* pairs as (i, j) couples in a->pairs order: 16-bit when n fits */
	bool wide = n > 65535;
	key(&b, "pairWidth");
	puts_(&b, wide ? "4," : "2,");
	key(&b, "pairs");
	putc_(&b, '"');
	for (size_t p = 0; p < a->npairs && !b.oom; p++) {
		if (wide) {
			b64_u32(&w, (uint32_t)a->pairs[p].i);
			b64_u32(&w, (uint32_t)a->pairs[p].j);
		} else {
			b64_u16(&w, (uint32_t)a->pairs[p].i);
			b64_u16(&w, (uint32_t)a->pairs[p].j);
		}
	}
	b64_flush(&w);
	puts_(&b, "\"");
	page_end(&b);
	mp_hbuf_locale_leave(&loc);
	return mp_hbuf_finish(&b, path, err);
}

/* ---- correlation ---------------------------------------------------------- */

mp_status mp_report_html_correlation(const char *path,
				     const struct mp_correlation *c,
				     const struct mp_model_info_set *info,
				     struct mp_error *err)
{
	size_t n = c->n, k = c->k;
	uint64_t tri;
	if (!mp_mul_u64(n, n, &tri) || tri > SIZE_MAX / 8 / (k ? k : 1))
		return mp_error_set(err, MP_ENOMEM, "%s: %zu models is too many",
				    path, n);
	const char **name = calloc(n ? 3 * n : 1, sizeof *name);
	const char **metric = calloc(k ? k : 1, sizeof *metric);
	if (!name || !metric) {
		free(name);
		free(metric);
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	const char **family = name + n, **type = name + 2 * n;
	const char **ids = calloc(n ? n : 1, sizeof *ids);
	for (size_t t = 0; ids && t < n; t++) {
		ids[t] = c->m[0]->ids[c->row[0][t]];
		const struct mp_model_info *mi = mp_model_info_find(info, ids[t]);
		name[t] = mi ? mi->name : ids[t];
		family[t] = mi ? mi->family : "";
		type[t] = mi ? mi->type : "";
	}
	/* metrics of several methods are named method/metric */
	bool mixed = false;
	for (size_t i = 1; i < k; i++)
		mixed |= strcmp(c->m[i]->method, c->m[0]->method) != 0;
	char **label = calloc(k ? k : 1, sizeof *label);
	for (size_t i = 0; label && i < k; i++) {
		const struct mp_simmatrix *m = c->m[i];
		size_t len = strlen(m->method) + strlen(m->metric) + 2;
		if ((label[i] = malloc(len)))
			snprintf(label[i], len, "%s/%s", m->method, m->metric);
		metric[i] = mixed && label[i] ? label[i] : m->metric;
	}

	struct mp_hbuf b = {.oom = !ids || !label};
	struct mp_hbuf_locale loc;
	mp_hbuf_locale_enter(&loc);
	char title[256];
	snprintf(title, sizeof title, "modelprint correlation: %s",
		 mixed ? "several methods" : c->m[0]->method);
	char sub[160];
	snprintf(sub, sizeof sub,
		 "%zu metrics, %zu models, %zu pairs used, %zu left out for a null",
		 k, n, c->npairs, c->n_excluded);
	char (*est)[160] = calloc(k ? k : 1, sizeof *est);
	const char **note = calloc(k ? k : 1, sizeof *note);
	for (size_t i = 0; est && note && i < k; i++)
		note[i] = mp_simmatrix_estimate_text(c->m[i], est[i],
						     sizeof est[i]);
	if (!est || !note)
		b.oom = true;
	page_begin(&b, title, sub, note, est && note ? k : 0);
	puts_(&b, "kind:\"correlation\",");
	str_array(&b, "estimate", note, est && note ? k : 0);
	key(&b, "method");
	put_jstr(&b, c->m[0]->method);
	putc_(&b, ',');
	str_array(&b, "metrics", metric, k);
	key(&b, "higher");
	putc_(&b, '[');
	for (size_t i = 0; i < k; i++)
		puts_(&b, i ? (c->m[i]->higher_is_more_alike ? ",true" : ",false")
			    : (c->m[i]->higher_is_more_alike ? "true" : "false"));
	puts_(&b, "],");
	key(&b, "n");
	put_uint(&b, n);
	puts_(&b, ",npairs:");
	put_uint(&b, c->npairs);
	puts_(&b, ",nExcluded:");
	put_uint(&b, c->n_excluded);
	putc_(&b, ',');
	str_array(&b, "ids", ids, ids ? n : 0);
	str_array(&b, "names", name, ids ? n : 0);
	str_array(&b, "family", family, ids ? n : 0);
	str_array(&b, "type", type, ids ? n : 0);
	key(&b, "r");
	putc_(&b, '[');
	for (size_t i = 0; i < k * k; i++) {
		if (i)
			putc_(&b, ',');
		put_num(&b, c->r[i]);
	}
	puts_(&b, "],");
	key(&b, "summary");
	putc_(&b, '[');
	for (size_t i = 0; i < k; i++) {
		const struct mp_metric_summary *s = &c->summary[i];
		puts_(&b, i ? ",{mean:" : "{mean:");
		put_num(&b, s->mean);
		puts_(&b, ",std:");
		put_num(&b, s->std);
		puts_(&b, ",min:");
		put_num(&b, s->min);
		puts_(&b, ",max:");
		put_num(&b, s->max);
		putc_(&b, '}');
	}
	puts_(&b, "],");
	/* upper triangle (t < u, row-major) of each metric over common models */
	key(&b, "tri");
	putc_(&b, '[');
	for (size_t i = 0; i < k && !b.oom && ids; i++) {
		const struct mp_simmatrix *m = c->m[i];
		const size_t *row = c->row[i];
		puts_(&b, i ? ",\n\"" : "\"");
		struct b64w w = {.b = &b};
		for (size_t t = 0; t < n && !b.oom; t++)
			for (size_t u = t + 1; u < n; u++)
				b64_f32(&w, m->value[row[t] * m->n + row[u]]);
		b64_flush(&w);
		putc_(&b, '"');
	}
	puts_(&b, "]");
	page_end(&b);
	mp_hbuf_locale_leave(&loc);
	for (size_t i = 0; label && i < k; i++)
		free(label[i]);
	free(label);
	free(name);
	free(metric);
	free(ids);
	free(est);
	free(note);
	return mp_hbuf_finish(&b, path, err);
}
