/* report_text.c — summary tables and consolidated pair reports. */
#include "report_text.h"
#include "atomic_write.h"
#include "escape.h"
#include "metric.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable text buffer that can spill into a file: when fp is set,
 * anything past FLUSH_AT bytes is written out. */
#define FLUSH_AT (1 << 20)
struct out {
	char *s;
	size_t len, cap;
	FILE *fp;
	bool failed; /* out of memory or write error */
};

static void flush(struct out *o)
{
	if (o->fp && o->len && !o->failed) {
		if (fwrite(o->s, 1, o->len, o->fp) != o->len)
			o->failed = true;
		o->len = 0;
	}
}

static void put(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t nc = o->cap ? o->cap : 4096;
		while (o->len + n + 1 > nc)
			nc *= 2;
		char *b = realloc(o->s, nc);
		if (!b) {
			o->failed = true;
			return;
		}
		o->s = b;
		o->cap = nc;
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
	if (o->fp && o->len >= FLUSH_AT)
		flush(o);
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void printf_(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void printf_(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof buf) {
		put(o, buf, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		o->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	put(o, big, (size_t)n);
	free(big);
}

/* A name from a file as mp_escape_term shows it (the reports are read
 * with cat in a terminal; one pair stays one line); returns the columns
 * it takes, one per character. */
static size_t name(struct out *o, const char *s)
{
	char small[256];
	size_t need = mp_escape_term(s, NULL, 0) + 1;
	char *e = need <= sizeof small ? small : malloc(need);
	if (!e) {
		o->failed = true;
		return 0;
	}
	mp_escape_term(s, e, need);
	size_t cols = 0;
	for (const char *p = e; *p; p++)
		cols += ((unsigned char)*p & 0xc0) != 0x80;
	puts_(o, e);
	if (e != small)
		free(e);
	return cols;
}

/* Columns name() takes for s. */
static size_t name_cols(const char *s)
{
	struct out tmp = {0};
	size_t c = name(&tmp, s);
	free(tmp.s);
	return c;
}

static const char *noun(const struct mp_analysis *a)
{
	return a->m->higher_is_more_alike ? "similarity" : "divergence";
}

static const char *order_words(const struct mp_analysis *a)
{
	return a->m->higher_is_more_alike ? "most similar first"
					  : "least divergent first";
}

static void ids_line(struct out *o, const char *what, char *const *ids,
		     size_t n, size_t max)
{
	if (n == 0)
		return;
	printf_(o, "%s (%zu):", what, n);
	size_t show = max && n > max ? max : n;
	for (size_t i = 0; i < show; i++) {
		puts_(o, i ? ", " : " ");
		name(o, ids[i]);
	}
	if (show < n)
		printf_(o, ", ... (%zu more; all in analysis.json)", n - show);
	puts_(o, "\n");
}

static void upper(struct out *o, const char *s)
{
	for (; *s; s++) {
		char c = *s >= 'a' && *s <= 'z' ? (char)(*s - 32) : *s;
		put(o, &c, 1);
	}
}

static void table(struct out *o, const struct mp_analysis *a, const char *title,
		  const char *col, int width, const struct mp_group_stats *g,
		  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = name_cols(g[i].label);
		if (len > (size_t)width)
			width = len > 60 ? 60 : (int)len;
	}
	puts_(o, "\n");
	upper(o, title);
	puts_(o, " ");
	upper(o, noun(a));
	printf_(o, " (sorted by mean %s, %s):\n", noun(a), order_words(a));
	printf_(o, "%-*s %-12s %-12s %-12s %-12s %-10s %s\n", width, col, "Min",
		"Max", "Mean", "Variance", "# Pairs", "# Null");
	int rule = width + 4 * 13 + 11 + 6;
	for (int i = 0; i < rule; i++)
		put(o, "-", 1);
	puts_(o, "\n");
	if (n == 0)
		puts_(o, "(no groups)\n");
	for (size_t i = 0; i < n; i++) {
		int used = (int)name(o, g[i].label);
		printf_(o, "%*s", used < width ? width - used : 0, "");
		/* longer than 60: the columns shift for this row only */
		if (g[i].n_pairs)
			printf_(o, " %-12.6g %-12.6g %-12.6g %-12.6g", g[i].min,
				g[i].max, g[i].mean, g[i].variance);
		else
			printf_(o, " %-12s %-12s %-12s %-12s", "-", "-", "-", "-");
		printf_(o, " %-10zu %zu\n", g[i].n_pairs, g[i].n_null);
	}
}

/* "; 1752 the method does not apply to a model of the pair, 3 ..." : the
 * reasons of the null pairs (i < j), most frequent first (ties in the
 * order first met), at most MAX_REASONS of them. */
#define MAX_REASONS 3
static void null_reasons(struct out *o, const struct mp_simmatrix *m)
{
	const char *r[MAX_REASONS + 1];
	size_t cnt[MAX_REASONS + 1], nr = 0, other = 0;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = i + 1; j < m->n; j++) {
			if (!isnan(m->value[i * m->n + j]))
				continue;
			const char *why = m->reason[i * m->n + j];
			why = why ? why : "undefined";
			size_t k = 0;
			while (k < nr && strcmp(r[k], why) != 0)
				k++;
			if (k == nr && nr == MAX_REASONS + 1) {
				other++;
				continue;
			}
			if (k == nr) {
				r[nr] = why;
				cnt[nr++] = 0;
			}
			cnt[k]++;
		}
	for (size_t a = 1; a < nr; a++) /* stable insertion sort, desc */
		for (size_t b = a; b > 0 && cnt[b] > cnt[b - 1]; b--) {
			size_t c = cnt[b];
			const char *t = r[b];
			cnt[b] = cnt[b - 1];
			r[b] = r[b - 1];
			cnt[b - 1] = c;
			r[b - 1] = t;
		}
	for (size_t k = 0; k < nr && k < MAX_REASONS; k++) {
		printf_(o, "%s%zu ", k ? ", " : "; ", cnt[k]);
		name(o, r[k]);
	}
	for (size_t k = MAX_REASONS; k < nr; k++)
		other += cnt[k];
	if (other)
		printf_(o, ", %zu for other reasons", other);
}

static void summary(struct out *o, const struct mp_analysis *a, size_t max_ids)
{
	puts_(o, "method ");
	name(o, a->m->method);
	puts_(o, ", metric ");
	name(o, a->m->metric);
	printf_(o, " (%s is more alike)\n",
		a->m->higher_is_more_alike ? "higher" : "lower");
	char est[160];
	name(o, mp_simmatrix_estimate_text(a->m, est, sizeof est));
	puts_(o, "\n");
	printf_(o, "%zu models, %zu pairs, %zu with a null score (left out of "
		   "every statistic",
		a->n, a->npairs, a->n_null);
	null_reasons(o, a->m);
	puts_(o, ")\n");
	ids_line(o, "in the results but not in the model info",
		 a->missing_in_info, a->n_missing_in_info, max_ids);
	ids_line(o, "in the model info but not in the results",
		 a->missing_in_results, a->n_missing_in_results, max_ids);
	table(o, a, "intrafamily", "Family", 20, a->intra, a->n_intra);
	table(o, a, "interfamily", "Family Pair", 28, a->inter, a->n_inter);
	table(o, a, "type pair", "Type Pair", 38, a->typepair, a->n_typepair);
}

char *mp_report_summary(const struct mp_analysis *a, size_t max_ids)
{
	struct out o = {0};
	summary(&o, a, max_ids);
	if (o.failed) {
		free(o.s);
		return NULL;
	}
	return o.s;
}

static void who(struct out *o, const struct mp_analysis *a, size_t i)
{
	name(o, a->name[i]);
	puts_(o, " (");
	name(o, *a->family[i] ? a->family[i] : "?");
	puts_(o, "/");
	name(o, *a->type[i] ? a->type[i] : "?");
	puts_(o, ")");
}

/* "name (Family/Type)" of every model, formatted once: the pair reports
 * of 2,000 models have 2 million lines. */
struct labels {
	char *text;   /* all labels, each NUL-terminated */
	size_t *off;  /* [n] start of label i */
	size_t *len;  /* [n] */
};

static bool labels_make(struct labels *l, const struct mp_analysis *a)
{
	struct out o = {0};
	l->off = malloc((a->n ? a->n : 1) * sizeof *l->off);
	l->len = malloc((a->n ? a->n : 1) * sizeof *l->len);
	for (size_t i = 0; i < a->n && l->off && l->len; i++) {
		l->off[i] = o.len;
		who(&o, a, i);
		l->len[i] = o.len - l->off[i];
		put(&o, "", 1); /* keep the NUL between labels */
	}
	l->text = o.s;
	return !o.failed && l->off && l->len && (a->n == 0 || l->text);
}

static void labels_done(struct labels *l)
{
	free(l->text);
	free(l->off);
	free(l->len);
}

/* ": 0.123457\n" as printf's ": " MP_SCORE_FMT "\n" would write it. The
 * pair reports of 2,000 models have 2 million lines, so the usual scores,
 * 0.1 <= |v| < 1 (six decimals, trailing zeros dropped), are written
 * here: their rounding of v * 1e6 is certain unless it lies within 1e-6
 * of a half or reaches 1, and then printf decides. */
static void value6(struct out *o, double v)
{
	double r = v * 1e6, a = fabs(v);
	unsigned long long u =
		a >= 0.1 && a < 1 ? (unsigned long long)llround(fabs(r)) : 0;
	if (u < 100000 || u > 999999 ||
	    fabs(fabs(r - floor(r)) - 0.5) < 1e-6) {
		printf_(o, ": " MP_SCORE_FMT "\n", v);
		return;
	}
	char buf[16], *p = buf + 5, *e = p + 6; /* ": -0." + 6 digits + "\n" */
	for (char *d = e; d > p; u /= 10)
		*--d = (char)('0' + u % 10);
	while (e[-1] == '0')
		e--;
	*e++ = '\n';
	*--p = '.';
	*--p = '0';
	if (v < 0)
		*--p = '-';
	*--p = ' ';
	*--p = ':';
	put(o, p, (size_t)(e - p));
}

static void pair_line(struct out *o, const struct mp_analysis *a,
		      const struct labels *l, size_t k)
{
	const struct mp_pair *p = &a->pairs[k];
	put(o, l->text + l->off[p->i], l->len[p->i]);
	put(o, " <-> ", 5);
	put(o, l->text + l->off[p->j], l->len[p->j]);
	if (p->defined) {
		value6(o, p->value);
	} else {
		puts_(o, ": null (");
		name(o, p->reason ? p->reason : "undefined");
		puts_(o, ")\n");
	}
}

static void section(struct out *o, const struct mp_analysis *a,
		    const struct labels *l, const struct mp_group_stats *g)
{
	puts_(o, "\n=== ");
	name(o, g->label);
	printf_(o, " (%zu pairs, %zu null)", g->n_pairs, g->n_null);
	if (g->n_pairs)
		printf_(o, ": min %.6g, max %.6g, mean %.6g, variance %.6g, "
			   "quartiles %.6g %.6g %.6g",
			g->min, g->max, g->mean, g->variance, g->q25, g->median,
			g->q75);
	puts_(o, " ===\n");
	size_t n = g->n_pairs + g->n_null;
	for (size_t k = 0; k < n; k++) {
		/* the group's pairs are scattered over a->pairs: fetch ahead */
		if (k + 16 < n)
			__builtin_prefetch(&a->pairs[g->pairs[k + 16]]);
		pair_line(o, a, l, g->pairs[k]);
	}
}

/* Write one file atomically (atomic_write.h); body 0 = summary, else the
 * pair report of groups g[0..n). */
static mp_status write_report(const struct mp_analysis *a, const char *dir,
			      const char *file, const char *title,
			      const struct mp_group_stats *g, size_t n,
			      struct mp_error *err)
{
	char *path = mp_path_join(dir, file);
	if (!path)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	struct mp_atomic aw;
	mp_status st = mp_atomic_open(&aw, path, err);
	if (st != MP_OK) {
		free(path);
		return st;
	}
	struct out o = {.fp = aw.fp};
	if (!title) {
		summary(&o, a, 0);
	} else {
		upper(&o, title);
		puts_(&o, ": method ");
		name(&o, a->m->method);
		puts_(&o, ", metric ");
		name(&o, a->m->metric);
		printf_(&o, ", every pair sorted by %s, %s; null pairs last\n",
			noun(a), order_words(a));
		char est[160];
		name(&o, mp_simmatrix_estimate_text(a->m, est, sizeof est));
		puts_(&o, "\n");
		struct labels l = {0};
		if (!labels_make(&l, a))
			o.failed = true;
		for (size_t i = 0; i < n && !o.failed; i++)
			section(&o, a, &l, &g[i]);
		labels_done(&l);
	}
	flush(&o);
	free(o.s);
	if (o.failed) {
		st = mp_error_set(err, MP_EIO, "%s: cannot write: %s", path,
				  errno ? strerror(errno) : "out of memory");
		mp_atomic_abort(&aw);
	} else {
		st = mp_atomic_commit(&aw, err);
	}
	free(path);
	return st;
}

mp_status mp_report_text_write(const struct mp_analysis *a, const char *dir,
			       struct mp_error *err)
{
	mp_status st = write_report(a, dir, MP_REPORT_SUMMARY, NULL, NULL, 0,
				    err);
	if (st == MP_OK)
		st = write_report(a, dir, MP_REPORT_INTRA,
				  "intrafamily pairs",
				  a->intra, a->n_intra, err);
	if (st == MP_OK)
		st = write_report(a, dir, MP_REPORT_INTER,
				  "interfamily pairs",
				  a->inter, a->n_inter, err);
	if (st == MP_OK)
		st = write_report(a, dir, MP_REPORT_TYPEPAIR,
				  "type pairs",
				  a->typepair, a->n_typepair, err);
	return st;
}
