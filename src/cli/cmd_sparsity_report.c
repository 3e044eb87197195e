/* cmd_sparsity_report.c — `modelprint sparsity report --results-dir DIR
 * [--label FILE=METHOD/PROJ ...] [--json]`: the comparative table of
 * `sparsity multi` results and the insights by projection and by method
 * (the loading and statistics are in core/sparsity_report.c). */
#include "cli.h"
#include "sparsity_report.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABELS 256

static void groups_json(mp_json *doc, const char *key,
			const struct mp_spr_group *g, size_t n,
			const char *insight)
{
	mp_json *a = mp_json_add_arr(doc, key);
	for (size_t i = 0; i < n; i++) {
		mp_json *e = mp_json_object();
		mp_json_add_str(e, "name", g[i].name);
		mp_json_add_num(e, "matrices", (double)g[i].n);
		mp_json_add_num(e, "separation_ratio", g[i].ratio);
		mp_json_add_num(e, "within", g[i].within);
		mp_json_add_num(e, "between", g[i].between);
		mp_json_push(a, e);
	}
	mp_json_push_str(mp_json_get(doc, "insights"), insight);
}

static void groups_text(const char *title, const struct mp_spr_group *g,
			size_t n, const char *insight)
{
	printf("\nby %s:\n", title);
	for (size_t i = 0; i < n; i++)
		printf("  %s %3zu matrices  ratio %10.4f  within %10.4f  "
		       "between %10.4f\n",
		       cli_cell(g[i].name, 20, 0), g[i].n, g[i].ratio,
		       g[i].within, g[i].between);
	printf("  %s\n", cli_esc(insight));
}

/* "mean+-std" of metric k of e, into buf. */
static const char *pm(const struct mp_spr_entry *e, int k, char *buf,
		      size_t len)
{
	if (isnan(e->mean[k]))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.4f+-%.4f", e->mean[k],
			 isnan(e->std[k]) ? 0 : e->std[k]);
	return buf;
}

static void table(const struct mp_spr *r)
{
	printf("%-12s %-12s %-11s %19s %19s %19s %19s %9s %9s %9s %7s\n",
	       "METHOD", "PROJECTION", "SHAPE", "SEPARATION", "WITHIN",
	       "BETWEEN", "INERTIA", "HAM MIN", "HAM MAX", "RANGE", "BALANCE");
	for (size_t i = 0; i < r->n; i++) {
		const struct mp_spr_entry *e = &r->e[i];
		char shape[48], b[4][48];
		snprintf(shape, sizeof shape, "%llux%llu",
			 (unsigned long long)e->rows,
			 (unsigned long long)e->cols);
		printf("%s %s %-11s %19s %19s %19s %19s %9.1f %9.1f %9.1f "
		       "%7.4f\n",
		       cli_cell(e->method, 12, 0), cli_cell(e->proj, 12, 0),
		       shape, pm(e, 0, b[0], 48), pm(e, 1, b[1], 48),
		       pm(e, 2, b[2], 48), pm(e, 3, b[3], 48), e->mean[4],
		       e->mean[5], e->mean[6], e->mean[7]);
	}
}

static mp_json *entries_json(const struct mp_spr *r)
{
	mp_json *a = mp_json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct mp_spr_entry *e = &r->e[i];
		mp_json *o = mp_json_object();
		mp_json_add_str(o, "file", e->file);
		mp_json_add_str(o, "method", e->method);
		mp_json_add_str(o, "projection", e->proj);
		mp_json_add_str(o, "tensor", e->tensor);
		mp_json_add_str(o, "path", e->path);
		mp_json *mx = mp_json_add_arr(o, "matrix");
		mp_json_push_num(mx, (double)e->rows);
		mp_json_push_num(mx, (double)e->cols);
		mp_json *ms = mp_json_add_obj(o, "metrics");
		for (int k = 0; k < MP_SPR_NMETRIC; k++) {
			mp_json *m = mp_json_add_obj(ms, mp_spr_keys[k]);
			mp_json_add_num(m, "mean", e->mean[k]);
			mp_json_add_num(m, "std", e->std[k]);
		}
		mp_json_push(a, o);
	}
	return a;
}

static int run(const char *dir, const char *const *labels, size_t nl,
	       bool json)
{
	struct mp_spr r;
	struct mp_error err;
	if (mp_spr_load(dir, labels, nl, &r, &err) != MP_OK)
		return cli_fail(&err);
	struct mp_spr_group *gp = NULL, *gm = NULL;
	size_t np = 0, nm = 0;
	int rc = CLI_EXIT_OK;
	if (mp_spr_group(&r, false, &gp, &np, &err) != MP_OK ||
	    mp_spr_group(&r, true, &gm, &nm, &err) != MP_OK) {
		rc = cli_fail(&err);
		goto out;
	}
	char ip[320], im[320];
	mp_spr_insight(gp, np, "projection", ip, sizeof ip);
	mp_spr_insight(gm, nm, "method", im, sizeof im);
	for (size_t i = 0; i < r.nskip; i++)
		fprintf(stderr, "modelprint: note: %s: not a .json file, "
				"skipped\n",
			cli_esc(r.skip[i]));
	if (json) {
		mp_json *doc = mp_json_object();
		mp_json_add_str(doc, "results_dir", dir);
		mp_json_set(doc, "matrices", entries_json(&r));
		mp_json *sk = mp_json_add_arr(doc, "skipped");
		for (size_t i = 0; i < r.nskip; i++)
			mp_json_push_str(sk, r.skip[i]);
		mp_json_add_arr(doc, "insights");
		groups_json(doc, "by_projection", gp, np, ip);
		groups_json(doc, "by_method", gm, nm, im);
		cli_print_json(doc);
		mp_json_free(doc);
	} else {
		printf("%s: %zu matrices\n", cli_esc(dir), r.n);
		table(&r);
		groups_text("projection", gp, np, ip);
		groups_text("pruning method", gm, nm, im);
	}
out:
	mp_spr_groups_free(gp, np);
	mp_spr_groups_free(gm, nm);
	mp_spr_done(&r);
	return rc;
}

int cli_sparsity_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"results-dir", required_argument, NULL, 'd'},
		{"label", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *dir = NULL;
	const char *labels[MAX_LABELS];
	size_t nl = 0;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'l':
			if (nl == MAX_LABELS)
				return cli_usage_error("sparsity",
						       "more than %d --label",
						       MAX_LABELS);
			if (!mp_spr_label_ok(optarg))
				return cli_usage_error(
				    "sparsity", "--label '%s': give "
						"FILE=METHOD/PROJ (e.g. "
						"a.json=wanda/down_proj)",
				    optarg);
			labels[nl++] = optarg;
			break;
		case 'j': json = true; break;
		case 'h':
			printf("usage: modelprint sparsity report --results-dir "
			       "DIR [--label FILE=METHOD/PROJ ...] [--json]\n");
			return CLI_EXIT_OK;
		default: return cli_bad_option("sparsity", argv, opts);
		}
	}
	if (optind < argc)
		return cli_usage_error("sparsity", "unexpected argument '%s'",
				       argv[optind]);
	if (!dir)
		return cli_usage_error("sparsity",
				       "report needs --results-dir DIR");
	return run(dir, labels, nl, json);
}
